"""Who may call: every endpoint of a real server called with no credential, an unknown,
expired and revoked token, a token of another estate and one with the wrong role, and
JWTs signed by the deployment's key. The actor and roles always come from the credential."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from engine.store import Store
from engine.store.tokens import create_token, revoke_token
from tests.service_harness import ESTATES, FORM, RECORD, LiveServer, bearer, running_server

SECRET = "a-shared-secret-of-the-company-login-service"


@pytest.fixture(scope="module")
def server(workdir: Path, store: Store) -> Iterator[LiveServer]:
    (workdir / "login.key").write_text(SECRET, encoding="utf-8")
    (workdir / "propflow.yaml").write_text(
        "deployment: auth_test\n"
        "store: cases.db\n"
        f"estates: [{ESTATES / 'lakeside'}, {ESTATES / 'tingtao'}]\n"
        "tokens:\n"
        "  jwt: {algorithm: HS256, key_file: login.key, audience: propflow,\n"
        "        claims: {actor: sub, roles: roles, estates: estates}}\n",
        encoding="utf-8",
    )
    # no --config: the server finds propflow.yaml in its working directory
    with running_server(["--no-timers"], workdir / "serve.log", cwd=workdir) as live:
        yield live


@pytest.fixture(scope="module")
def case_id(client: httpx.Client, store: Store) -> str:
    desk = bearer(store, "lakeside", "li", "receptionist")
    opened = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=desk
    )
    assert opened.status_code == 201, opened.text
    case: str = opened.json()["id"]
    fired = client.post(
        f"/estates/lakeside/cases/{case}/events",
        json={"event": "record", "payload": {**RECORD, "category": "civil"}},
        headers=desk,
    )
    assert fired.status_code == 200, fired.text
    return case


def endpoints(case: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every endpoint under /estates/lakeside, with a body that would be accepted."""
    base = "/estates/lakeside"
    return [
        ("GET", base, None),
        ("GET", f"{base}/processes", None),
        ("GET", f"{base}/processes/repair", None),
        ("GET", f"{base}/processes/repair/diagram", None),
        ("POST", f"{base}/cases", {"process": "repair", "data": FORM}),
        ("GET", f"{base}/cases", None),
        ("GET", f"{base}/cases/{case}", None),
        ("GET", f"{base}/cases/{case}/events", None),
        (
            "POST",
            f"{base}/cases/{case}/events",
            {"event": "dispatch", "payload": {"technician": "x"}},
        ),
        (
            "POST",
            f"{base}/cases/{case}/limits/repair-general/extensions",
            {"reason": "配件待到货", "by": "1 workday"},
        ),
        ("GET", f"{base}/notifications", None),
        ("POST", f"{base}/notifications/ack", {"ids": [1]}),
        ("GET", f"{base}/board", None),
        ("GET", f"{base}/report", None),
        ("POST", f"{base}/migrate", {"dry_run": True}),
    ]


def call(
    client: httpx.Client, method: str, url: str, body: dict[str, Any] | None, headers: Any
) -> httpx.Response:
    return client.request(method, url, json=body, headers=headers)


def sign(claims: dict[str, Any], key: str = SECRET) -> dict[str, str]:
    token = jwt.encode(claims, key, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def jwt_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "sub": "li",
        "roles": ["receptionist"],
        "estates": ["lakeside"],
        "aud": "propflow",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    claims.update(changes)
    return claims


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, (response.request.url, response.text)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["title"] == "Unauthenticated"


def test_every_endpoint_needs_a_valid_credential(
    client: httpx.Client, store: Store, case_id: str
) -> None:
    expired = bearer(store, "lakeside", "li", "receptionist", expires_in=timedelta(seconds=-1))
    issued = create_token(store, "lakeside", "li", ["receptionist"], datetime.now(UTC))
    assert revoke_token(store, issued.record.id, datetime.now(UTC))
    revoked = {"Authorization": f"Bearer {issued.bearer}"}
    unknown = {"Authorization": "Bearer pf_000000000000_not-a-token"}
    credentials: dict[str, dict[str, str]] = {
        "none": {},
        "unknown": unknown,
        "expired": expired,
        "revoked": revoked,
        "basic": {"Authorization": "Basic bGk6cGFzcw=="},
        "jwt expired": sign(jwt_claims(exp=datetime.now(UTC) - timedelta(seconds=5))),
        "jwt wrong key": sign(jwt_claims(), key="another-secret-of-someone-else-entirely"),
        "jwt wrong audience": sign(jwt_claims(aud="other")),
        "jwt without roles": sign({k: v for k, v in jwt_claims().items() if k != "roles"}),
    }
    for name, headers in credentials.items():
        for method, url, body in [("GET", "/estates", None), *endpoints(case_id)]:
            response = call(client, method, url, body, headers)
            assert_unauthenticated(response)
            assert name  # which credential failed is in the assertion's traceback
    detail = call(client, "GET", f"/estates/lakeside/cases/{case_id}", None, revoked).json()
    assert "revoked" in detail["detail"]
    detail = call(client, "GET", f"/estates/lakeside/cases/{case_id}", None, expired).json()
    assert "expired" in detail["detail"]


def test_a_token_revoked_while_the_server_runs_is_refused_from_the_next_request_on(
    client: httpx.Client, store: Store, case_id: str
) -> None:
    issued = create_token(store, "lakeside", "li", ["receptionist"], datetime.now(UTC))
    headers = {"Authorization": f"Bearer {issued.bearer}"}
    assert client.get(f"/estates/lakeside/cases/{case_id}", headers=headers).status_code == 200
    assert revoke_token(store, issued.record.id, datetime.now(UTC))
    for method, url, body in [("GET", "/estates", None), *endpoints(case_id)]:
        assert_unauthenticated(call(client, method, url, body, headers))


def test_another_estates_credential_sees_nothing_of_this_one(
    client: httpx.Client, store: Store, case_id: str
) -> None:
    token = bearer(store, "tingtao", "li", "receptionist")
    signed = sign(jwt_claims(estates=["tingtao"]))
    for headers in (token, signed):
        for method, url, body in endpoints(case_id):
            response = call(client, method, url, body, headers)
            assert response.status_code == 404, (url, response.text)
            assert response.json()["title"] == "UnknownEstate"
        # its own estate answers, but not with this estate's case: 404, not 403
        for url in (
            f"/estates/tingtao/cases/{case_id}",
            f"/estates/tingtao/cases/{case_id}/events",
        ):
            response = client.get(url, headers=headers)
            assert response.status_code == 404 and response.json()["title"] == "UnknownCase"
            assert "lakeside" not in response.text  # not even whose the case is
        fired = client.post(
            f"/estates/tingtao/cases/{case_id}/events",
            json={"event": "withdraw", "payload": {}},
            headers=headers,
        )
        assert fired.status_code == 404 and fired.json()["title"] == "UnknownCase"
        assert "lakeside" not in fired.text
        listed = client.get("/estates", headers=headers).json()
        assert [estate["id"] for estate in listed] == ["tingtao"]
        inbox = client.get("/estates/tingtao/cases", headers=headers).json()["items"]
        assert case_id not in {item["case"]["id"] for item in inbox}


#: What a lakeside token whose role no process has gets from each endpoint: it may see the
#: estate and its processes, and nothing of any case (no notification is for it: it reads
#: none, and acknowledges none; the board has no row for its role; the report is refused).
WRONG_ROLE = [200, 200, 200, 200, 403, 200, 403, 403, 403, 403, 200, 200, 200, 403, 403]


def test_a_role_without_a_part_in_the_process_is_refused(
    client: httpx.Client, store: Store, case_id: str
) -> None:
    gardener = bearer(store, "lakeside", "sun", "gardener")
    statuses = [
        call(client, method, url, body, gardener).status_code
        for method, url, body in endpoints(case_id)
    ]
    assert statuses == WRONG_ROLE
    inbox = client.get("/estates/lakeside/cases", headers=gardener).json()
    assert inbox["items"] == []
    refusal = call(client, *endpoints(case_id)[8], gardener).json()
    assert refusal["refusal"] == "RoleRefused"
    notifications = call(client, *endpoints(case_id)[10], gardener).json()
    assert notifications["notifications"] == []
    assert call(client, *endpoints(case_id)[11], gardener).json() == {"acknowledged": []}


def test_a_role_of_the_process_that_may_not_do_this_is_refused_and_nothing_is_written(
    client: httpx.Client, store: Store, case_id: str
) -> None:
    technician = bearer(store, "lakeside", "zhao", "technician")
    before = client.get(f"/estates/lakeside/cases/{case_id}", headers=technician).json()
    for method, url, body in endpoints(case_id)[8:10]:
        response = call(client, method, url, body, technician)
        assert response.status_code in (403, 422), (url, response.text)
        assert response.json()["refusal"] in ("RoleRefused", "ExtensionRefused")
    after = client.get(f"/estates/lakeside/cases/{case_id}", headers=technician).json()
    assert after["history"] == before["history"]


def test_a_jwt_of_the_company_login_acts_as_its_subject(client: httpx.Client, case_id: str) -> None:
    supervisor = sign(jwt_claims(sub="wang", roles=["supervisor"]))
    fired = client.post(
        f"/estates/lakeside/cases/{case_id}/events",
        # an actor in the body is refused, never used
        json={"event": "dispatch", "payload": {"technician": "赵师傅"}, "actor": "boss"},
        headers=supervisor,
    )
    assert fired.status_code == 400
    fired = client.post(
        f"/estates/lakeside/cases/{case_id}/events",
        json={"event": "dispatch", "payload": {"technician": "赵师傅"}},
        headers=supervisor,
    )
    assert fired.status_code == 200, fired.text
    history = client.get(f"/estates/lakeside/cases/{case_id}", headers=supervisor).json()
    last = history["history"][-1]
    assert (last["event"], last["actor"], last["role"]) == ("dispatch", "wang", "supervisor")
