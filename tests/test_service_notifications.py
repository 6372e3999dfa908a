"""The outbox of a real ``propflow serve``: pushed by its timer loop to the webhooks of its
deployment file (real signature-checking receivers on 127.0.0.1), and read and
acknowledged over HTTP by an app that polls, each caller seeing only its roles' rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.store import OutboxItem, Store
from engine.store import outbox as stored
from tests.service_harness import (
    ESTATES,
    FORM,
    RECORD,
    LiveServer,
    bearer,
    make_due,
    serving,
    wait_for,
)
from tests.webhook_receiver import Receiver

SECRET = "the-estate-office-webhook-secret"
NOTIFICATIONS = "/estates/lakeside/notifications"


@pytest.fixture(scope="module")
def escalations() -> Iterator[Receiver]:
    """Takes lakeside's escalations."""
    with Receiver(SECRET) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def broken() -> Iterator[Receiver]:
    """Takes lakeside's 'notify' rows and fails every one: they stay waiting, for polling."""
    with Receiver("another-secret", status=500) as receiver:
        yield receiver


@pytest.fixture(scope="module")
def server(
    workdir: Path, store: Store, escalations: Receiver, broken: Receiver
) -> Iterator[LiveServer]:
    deployment = (
        f"deployment: pushing\nstore: cases.db\nestates: {ESTATES}\n"
        "webhooks:\n"
        f"  - {{url: '{escalations.url}', secret: {SECRET}, kinds: [escalate],"
        " estates: [lakeside]}\n"
        f"  - {{url: '{broken.url}', secret: another-secret, kinds: [notify],"
        " estates: [lakeside]}\n"
    )
    with serving(workdir, deployment) as live:
        yield live


@pytest.fixture(scope="module")
def breached_case(client: httpx.Client, store: Store, broken: Receiver) -> str:
    """A recorded repair whose time limits the server's timer loop has run out: its
    warnings and notices wait in the outbox, its escalation was pushed."""
    desk = bearer(store, "lakeside", "li", "receptionist")
    opened = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=desk
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["id"]
    fired = client.post(
        f"/estates/lakeside/cases/{case_id}/events",
        json={"event": "record", "payload": RECORD},
        headers=desk,
    )
    assert fired.status_code == 200, fired.text
    assert make_due(store, case_id) > 0
    wait_for(lambda: failures(client) > 0, 60, "the timer loop to try the failing webhook")
    return case_id


def failures(client: httpx.Client) -> float:
    found = re.search(r"^propflow_deliveries_failed_total (\S+)$", metrics(client), re.M)
    return float(found.group(1)) if found else 0.0


def metrics(client: httpx.Client) -> str:
    return client.get("/metrics").text


def read(client: httpx.Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(NOTIFICATIONS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def of_case(page: dict[str, Any], case_id: str) -> list[dict[str, Any]]:
    return [n for n in page["notifications"] if n["case_id"] == case_id]


def test_an_escalation_reaches_the_deployments_webhook_signed(
    client: httpx.Client, store: Store, escalations: Receiver, breached_case: str
) -> None:
    arrival = wait_for(
        lambda: [a for a in escalations.arrivals if a.body["case_id"] == breached_case],
        60,
        "the escalation to reach the webhook",
    )[0]
    assert arrival.signed and arrival.kind == "escalate"
    assert (arrival.body["estate"], arrival.body["role"]) == ("lakeside", "head")
    # pushed means delivered: the escalation no longer waits to be polled
    head = bearer(store, "lakeside", "zhou", "head")
    assert not [n for n in of_case(read(client, head), breached_case) if n["kind"] == "escalate"]


def test_a_poller_reads_its_roles_rows_after_a_cursor_and_acknowledges_them(
    client: httpx.Client, store: Store, breached_case: str
) -> None:
    supervisor = bearer(store, "lakeside", "wang", "supervisor")
    waiting = of_case(read(client, supervisor), breached_case)
    # the warning no webhook takes, and the notice whose push failed, both wait
    assert {n["kind"] for n in waiting} == {"notify", "warning"}, waiting
    assert {n["role"] for n in waiting} == {"supervisor"}  # not cs_supervisor's, not head's
    ids = [n["id"] for n in waiting]
    assert ids == sorted(ids)

    # after a cursor: only what came later, a page at a time
    later = of_case(read(client, supervisor, after=ids[0]), breached_case)
    assert [n["id"] for n in later] == ids[1:]
    first = read(client, supervisor, after=ids[0] - 1, limit=1)
    assert [n["id"] for n in first["notifications"]] == [ids[0]] and first["next"] == ids[0]

    # another role of the estate can neither see nor acknowledge them
    technician = bearer(store, "lakeside", "zhao", "technician")
    assert of_case(read(client, technician), breached_case) == []
    refused = client.post(f"{NOTIFICATIONS}/ack", json={"ids": ids}, headers=technician)
    assert refused.status_code == 200 and refused.json() == {"acknowledged": []}
    assert [n["id"] for n in of_case(read(client, supervisor), breached_case)] == ids

    acked = client.post(f"{NOTIFICATIONS}/ack", json={"ids": ids[:1]}, headers=supervisor)
    assert acked.status_code == 200, acked.text
    assert acked.json() == {"acknowledged": ids[:1]}
    assert [n["id"] for n in of_case(read(client, supervisor), breached_case)] == ids[1:]
    again = client.post(f"{NOTIFICATIONS}/ack", json={"ids": ids[:1]}, headers=supervisor)
    assert again.json() == {"acknowledged": []}  # twice is harmless


def test_a_notification_for_no_role_is_read_by_the_roles_of_its_case_or_estate(
    client: httpx.Client, store: Store, breached_case: str
) -> None:
    now = datetime.now(UTC)
    store.commit(
        (),
        at=now,
        outbox=[
            OutboxItem(breached_case, "warning", None, "无人指派", {}, now, estate="lakeside"),
            OutboxItem(None, "warning", None, "排程未能开单", {}, now, estate="lakeside"),
        ],
    )
    for_case, for_estate = [i.id for i in stored.waiting(store, "lakeside", limit=1000)][-2:]

    def seen(*roles: str) -> set[int]:
        page = read(client, bearer(store, "lakeside", "x", *roles), after=for_case - 1)
        return {n["id"] for n in page["notifications"]}

    assert seen("technician") == {for_case, for_estate}  # a role of the repair, of the estate
    assert seen("security") == {for_estate}  # the estate's (renovation), not the repair's
    assert seen("gardener") == set()  # no role of any process


def test_another_estates_token_gets_404_for_the_notifications(
    client: httpx.Client, store: Store, breached_case: str
) -> None:
    supervisor = bearer(store, "lakeside", "wang", "supervisor")
    ids = [n["id"] for n in of_case(read(client, supervisor), breached_case)]
    assert ids
    other = bearer(store, "tingtao", "wang", "supervisor")
    for method, url, body in (
        ("GET", NOTIFICATIONS, None),
        ("POST", f"{NOTIFICATIONS}/ack", {"ids": ids}),
    ):
        response = client.request(method, url, json=body, headers=other)
        assert response.status_code == 404, response.text
        assert response.json()["title"] == "UnknownEstate"
    assert [n["id"] for n in of_case(read(client, supervisor), breached_case)] == ids
    own = client.get("/estates/tingtao/notifications", headers=other).json()
    assert breached_case not in {n["case_id"] for n in own["notifications"]}


@pytest.mark.parametrize(
    ("method", "params", "body"),
    [
        ("GET", {"after": -1}, None),
        ("GET", {"after": 2**63}, None),
        ("GET", {"after": "first"}, None),
        ("GET", {"limit": 0}, None),
        ("GET", {"limit": 201}, None),
        ("POST", {}, {"ids": []}),
        ("POST", {}, {"ids": [0]}),
        ("POST", {}, {"ids": [2**63]}),
        ("POST", {}, {"ids": list(range(1, 1002))}),
        ("POST", {}, {"ids": ["1"], "actor": "boss"}),
        ("POST", {}, None),
    ],
)  # fmt: skip
def test_parameters_out_of_bounds_are_problem_details(
    client: httpx.Client,
    store: Store,
    method: str,
    params: dict[str, Any],
    body: dict[str, Any] | None,
) -> None:
    supervisor = bearer(store, "lakeside", "wang", "supervisor")
    url = NOTIFICATIONS if method == "GET" else f"{NOTIFICATIONS}/ack"
    response = client.request(method, url, params=params, json=body, headers=supervisor)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")


def test_the_metrics_count_deliveries_failures_and_faults(
    client: httpx.Client, escalations: Receiver, breached_case: str
) -> None:
    wait_for(lambda: escalations.arrivals, 60, "an escalation to be pushed")
    text = metrics(client)
    counts = {
        name: float(value) for name, value in re.findall(r"^(propflow_[a-z_]+) (\S+)$", text, re.M)
    }
    assert counts["propflow_deliveries_delivered_total"] >= 1
    assert counts["propflow_deliveries_failed_total"] >= 1  # the broken receiver's
    assert counts["propflow_deliveries_dead_total"] == 0  # eight attempts, minutes apart
    assert counts["propflow_worker_store_faults_total"] == 0
    assert counts["propflow_timers_held_back"] == 0
