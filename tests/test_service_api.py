"""The HTTP API against a real ``propflow serve`` on 127.0.0.1: cases opened, fired, read
and queried over HTTP, refusals as problem details, bounds on what a request may send."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.store import Store
from tests.service_harness import (
    ESTATES,
    FORM,
    RECORD,
    LiveServer,
    bearer,
    make_due,
    running_server,
    serving,
    wait_for,
)

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(workdir: Path, store: Store) -> Iterator[LiveServer]:
    with serving(workdir, f"deployment: test\nstore: cases.db\nestates: {ESTATES}\n") as live:
        yield live


@pytest.fixture(scope="module")
def desk(store: Store) -> dict[str, str]:
    return bearer(store, "lakeside", "li", "receptionist")


@pytest.fixture(scope="module")
def supervisor(store: Store) -> dict[str, str]:
    return bearer(store, "lakeside", "wang", "supervisor")


def open_repair(client: httpx.Client, desk: dict[str, str], **data: Any) -> dict[str, Any]:
    response = client.post(
        "/estates/lakeside/cases",
        json={"process": "repair", "data": {**FORM, **data}},
        headers=desk,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def fire(
    client: httpx.Client,
    headers: dict[str, str],
    case_id: str,
    event: str,
    payload: Any = None,
    **extra: str,
) -> httpx.Response:
    return client.post(
        f"/estates/lakeside/cases/{case_id}/events",
        json={"event": event, "payload": payload or {}},
        headers={**headers, **extra},
    )  # fmt: skip


def problem(response: httpx.Response, status: int, refusal: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] == refusal
    assert body["type"].startswith("https://propflow.dev/problems/")
    return body


def test_a_repair_is_opened_fired_and_read_over_http(
    client: httpx.Client, desk: dict[str, str], supervisor: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    assert case["state"] == "received" and case["version"] == 1 and case["estate"] == "lakeside"
    recorded = fire(client, desk, case["id"], "record", RECORD, **{"If-Match": '"1"'})
    assert recorded.status_code == 200, recorded.text
    assert recorded.headers["ETag"] == '"2"'
    assert recorded.json()["state"] == "reported"
    dispatched = fire(client, supervisor, case["id"], "dispatch", {"technician": "赵师傅"})
    assert dispatched.json()["state"] == "dispatched"

    detail = client.get(f"/estates/lakeside/cases/{case['id']}", headers=desk)
    assert detail.status_code == 200 and detail.headers["ETag"] == '"3"'
    body = detail.json()
    assert [e["event"] for e in body["history"]] == ["open", "record", "dispatch"]
    # the actor is the token's, whatever the request said
    assert [e["actor"] for e in body["history"]] == ["li", "li", "wang"]
    assert {c["limit"] for c in body["clocks"]} >= {"repair-response"}
    assert all(c["deadline"] for c in body["clocks"] if c["status"] == "running")
    assert body["links"] == []


def test_the_events_the_caller_may_fire_and_why_not(
    client: httpx.Client, desk: dict[str, str], supervisor: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    fire(client, desk, case["id"], "record", RECORD)
    as_desk = client.get(f"/estates/lakeside/cases/{case['id']}/events", headers=desk).json()
    as_supervisor = client.get(
        f"/estates/lakeside/cases/{case['id']}/events", headers=supervisor
    ).json()
    desk_dispatch = next(o for o in as_desk if o["event"] == "dispatch")
    assert not desk_dispatch["allowed"] and "condition not met" in desk_dispatch["reason"]
    assert next(o for o in as_supervisor if o["event"] == "dispatch")["allowed"]
    record = next(o for o in as_desk if o["event"] == "record")
    assert not record["allowed"] and "not allowed in state 'reported'" in record["reason"]


def test_refusals_are_problem_details_with_their_type_and_reason(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    case = open_repair(client, desk)
    # a guard: only a supervisor dispatches a general repair
    fire(client, desk, case["id"], "record", RECORD)
    guard = problem(
        fire(client, desk, case["id"], "dispatch", {"technician": "x"}), 422, "GuardRefused"
    )
    assert guard["refusal"] == "GuardRefused" and "condition not met" in guard["reason"]
    assert guard["case_id"] == case["id"] and guard["state"] == "reported"
    # a role the token does not hold
    owner = bearer(store, "lakeside", "chen", "owner")
    refused = problem(
        fire(client, owner, case["id"], "dispatch", {"technician": "x"}), 403, "RoleRefused"
    )
    assert refused["event"] == "dispatch"
    # a field of the wrong type
    other = open_repair(client, desk)
    field = problem(
        fire(client, desk, other["id"], "record", {**RECORD, "phone": 12}), 422, "FieldError"
    )
    assert "phone" in field["reason"]
    # an event of another state
    problem(fire(client, desk, case["id"], "record", RECORD), 409, "EventNotAllowed")
    # an unknown case, an unknown process, an unknown event
    problem(fire(client, desk, "no-such-case", "record", RECORD), 404, "UnknownCase")
    response = client.post(
        "/estates/lakeside/cases", json={"process": "no_such", "data": {}}, headers=desk
    )
    problem(response, 404, "UnknownProcess")
    problem(fire(client, desk, case["id"], "fly_away", {}), 422, "UnknownEvent")


def test_if_match_refuses_a_stale_version_with_412(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    fire(client, desk, case["id"], "record", RECORD)
    stale = fire(client, desk, case["id"], "withdraw", {}, **{"If-Match": '"1"'})
    body = problem(stale, 412, "PreconditionFailed")
    assert "version 2, not 1" in body["detail"]
    problem(
        fire(client, desk, case["id"], "withdraw", {}, **{"If-Match": "soon"}), 400, "BadRequest"
    )


def test_a_race_on_one_version_lets_exactly_one_event_through(
    client: httpx.Client, desk: dict[str, str], supervisor: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    fire(client, desk, case["id"], "record", RECORD)

    def dispatch(technician: str) -> int:
        response = fire(
            client, supervisor, case["id"], "dispatch", {"technician": technician},
            **{"If-Match": '"2"'},
        )  # fmt: skip
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(dispatch, [f"t{i}" for i in range(8)]))
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 412}, statuses
    history = client.get(f"/estates/lakeside/cases/{case['id']}", headers=desk).json()["history"]
    assert [e["event"] for e in history].count("dispatch") == 1


def test_an_idempotency_key_replays_the_first_result(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    key = {"Idempotency-Key": f"record-{case['id']}"}
    first = fire(client, desk, case["id"], "record", RECORD, **key)
    again = fire(client, desk, case["id"], "record", RECORD, **key, **{"If-Match": '"1"'})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    history = client.get(f"/estates/lakeside/cases/{case['id']}", headers=desk).json()["history"]
    assert [e["event"] for e in history] == ["open", "record"]
    reused = fire(client, desk, case["id"], "withdraw", {}, **key)
    assert problem(reused, 409, "IdempotencyConflict")["reason"].startswith("idempotency key")


def test_malformed_and_oversized_requests_are_refused_before_the_engine(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    url = f"/estates/lakeside/cases/{case['id']}/events"
    not_json = client.post(
        url, content=b"{not json", headers={**desk, "content-type": "application/json"}
    )
    problem(not_json, 400, "MalformedRequest")
    problem(
        client.post(url, json={"event": "record", "actor": "boss"}, headers=desk),
        400,
        "MalformedRequest",
    )
    deep: Any = "x"
    for _ in range(20):
        deep = {"a": deep}
    problem(
        client.post(url, json={"event": "record", "payload": {"content": deep}}, headers=desk),
        400,
        "MalformedRequest",
    )
    long_text = {"event": "record", "payload": {"content": "长" * 5000}}
    problem(client.post(url, json=long_text, headers=desk), 400, "MalformedRequest")
    huge = json.dumps({"event": "record", "payload": {f"k{i}": "v" * 100 for i in range(1000)}})
    too_large = client.post(
        url, content=huge.encode(), headers={**desk, "content-type": "application/json"}
    )
    assert too_large.status_code == 413 and too_large.headers["content-type"].startswith(PROBLEM)
    long_query = client.get("/estates/lakeside/cases", params={"state": "x" * 3000}, headers=desk)
    assert long_query.status_code == 414
    # a case id is data, never SQL
    sql = client.get("/estates/lakeside/cases/' OR '1'='1", headers=desk)
    problem(sql, 404, "UnknownCase")
    # the case was never touched
    detail = client.get(f"/estates/lakeside/cases/{case['id']}", headers=desk).json()
    assert detail["case"]["version"] == 1


def test_a_time_limit_is_extended_over_http(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    case = open_repair(client, desk)
    fire(client, desk, case["id"], "record", {**RECORD, "category": "civil"})
    clocks = client.get(f"/estates/lakeside/cases/{case['id']}", headers=desk).json()["clocks"]
    general = next(c for c in clocks if c["limit"] == "repair-general")
    head = bearer(store, "lakeside", "zhou", "head")
    url = f"/estates/lakeside/cases/{case['id']}/limits/repair-general/extensions"
    extended = client.post(url, json={"reason": "配件待到货", "by": "1 workday"}, headers=head)
    assert extended.status_code == 200, extended.text
    assert extended.json()["deadline"] > general["deadline"]
    assert len(extended.json()["extensions"]) == 1
    refused = client.post(url, json={"reason": "配件待到货", "by": "1 workday"}, headers=desk)
    assert refused.status_code in (403, 422) and refused.json()["refusal"] in (
        "RoleRefused", "ExtensionRefused",
    )  # fmt: skip
    problem(
        client.post(url, json={"reason": "x", "by": "soon"}, headers=head), 422, "ExtensionRefused"
    )
    naive = client.post(
        url,
        json={"reason": "x", "until": "2026-03-20T18:00"},
        headers={**head, "Accept-Language": "zh-CN"},
    )
    [error] = problem(naive, 400, "MalformedRequest")["errors"]
    assert error == {
        "loc": ["body", "until"],
        "msg": "'2026-03-20T18:00' 没有时区，请写成 2026-03-31T09:00+08:00 这样的格式",
    }


def _inbox(client: httpx.Client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every page of the inbox, following the cursor."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        response = client.get("/estates/lakeside/cases", params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        after = page["next"]
        if after is None:
            return items


def test_the_inbox_pages_by_nearest_deadline_and_filters_in_the_store(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    unit = f"inbox-{datetime.now(UTC).timestamp()}"
    opened = [open_repair(client, desk, unit=unit)["id"] for _ in range(5)]
    for case_id in opened[:3]:
        fire(client, desk, case_id, "record", RECORD)
    late = opened[0]
    assert make_due(store, late) > 0
    wait_for(
        lambda: any(
            c["breached"]
            for c in client.get(f"/estates/lakeside/cases/{late}", headers=desk).json()["clocks"]
        ),
        60,
        "the server's timer loop to breach the case",
    )
    everything = _inbox(client, desk, limit=2)
    ids = [item["case"]["id"] for item in everything]
    assert len(ids) == len(set(ids)), "a case appeared on two pages"
    assert set(opened) <= set(ids)
    keys = [
        (i["next_deadline"] is None, i["next_deadline"] or "", i["case"]["id"]) for i in everything
    ]
    assert keys == sorted(keys), "not nearest deadline first"

    breached = {i["case"]["id"] for i in _inbox(client, desk, breached="true")}
    assert late in breached and not breached & set(opened[1:])
    assert late in {i["case"]["id"] for i in _inbox(client, desk, warned="true")}
    not_breached = {i["case"]["id"] for i in _inbox(client, desk, breached="false")}
    assert late not in not_breached and set(opened[1:]) <= not_breached
    reported = {i["case"]["id"] for i in _inbox(client, desk, state="reported")}
    assert set(opened[:3]) <= reported and not reported & set(opened[3:])
    deadlines = {
        i["case"]["id"]: datetime.fromisoformat(i["next_deadline"])
        for i in everything
        if i["next_deadline"] is not None
    }
    threshold = sorted(deadlines[case_id] for case_id in opened)[2]
    due = {i["case"]["id"] for i in _inbox(client, desk, due_before=threshold.isoformat())}
    assert due == {case_id for case_id, moment in deadlines.items() if moment < threshold}
    assert len(due & set(opened)) == 2
    assigned = {i["case"]["id"] for i in _inbox(client, desk, assignee="supervisor")}
    assert assigned == {
        i["case"]["id"] for i in everything if i["case"]["assignee"] == "supervisor"
    }
    assert set(opened[1:3]) <= assigned and not assigned & set(opened[3:])
    repairs = _inbox(client, desk, process="repair")
    assert set(opened) <= {i["case"]["id"] for i in repairs}
    assert {i["case"]["process"] for i in repairs} == {"repair"}
    complaints = {i["case"]["id"] for i in _inbox(client, desk, process="complaint")}
    assert not complaints & set(opened)
    problem(
        client.get("/estates/lakeside/cases", params={"after": "garbage"}, headers=desk),
        400,
        "BadRequest",
    )
    naive = client.get(
        "/estates/lakeside/cases", params={"due_before": "2026-01-01T00:00"}, headers=desk
    )
    problem(naive, 400, "MalformedRequest")


def test_the_board_lists_what_is_due_for_the_callers_roles(
    client: httpx.Client, desk: dict[str, str], supervisor: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    assert fire(client, desk, case["id"], "record", RECORD).status_code == 200
    board = client.get("/estates/lakeside/board", params={"within": "30d"}, headers=supervisor)
    assert board.status_code == 200, board.text
    mine = [e for e in board.json()["roles"]["supervisor"] if e["case"] == case["id"]]
    assert {e["limit"] for e in mine} >= {"repair-response"}  # the dispatch is the head's
    deadlines = [e["deadline"] for e in board.json()["roles"]["supervisor"]]
    assert deadlines == sorted(deadlines)  # nearest first
    # the receptionist holds no role the case waits on: the same board shows it nothing
    theirs = client.get("/estates/lakeside/board", params={"within": "30d"}, headers=desk)
    assert theirs.status_code == 200 and "supervisor" not in theirs.json()["roles"]
    problem(
        client.get("/estates/lakeside/board", params={"within": "soon"}, headers=supervisor),
        400,
        "BadRequest",
    )


def test_the_report_gives_every_indicator_of_the_estate(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    report = client.get("/estates/lakeside/report", params={"period": "2026-03"}, headers=desk)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["estate"] == "lakeside" and body["period"] == "2026-03"
    timeliness = next(i for i in body["indicators"] if i["id"] == "repair-timeliness")
    assert timeliness["target"] == ">= 95%"  # lakeside's own target over the library's 98%
    assert timeliness["label"] == "维修及时率"
    assert client.get("/estates/lakeside/report", headers=desk).status_code == 200
    problem(
        client.get("/estates/lakeside/report", params={"period": "2026-13"}, headers=desk),
        400,
        "BadRequest",
    )


def test_an_owners_token_reaches_their_own_cases_and_no_neighbours(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    chen = bearer(store, "lakeside", "chen", "owner")
    zhou = bearer(store, "lakeside", "zhou", "owner")
    theirs = open_repair(client, desk, owner_account="chen")
    neighbours = open_repair(client, desk, owner_account="zhou", owner_name="周女士")
    # the owner opens one of their own: the account is the token's
    own = client.post(
        "/estates/lakeside/cases", json={"process": "repair", "data": FORM}, headers=chen
    )
    assert own.status_code == 201 and own.json()["data"]["owner_account"] == "chen"
    problem(
        client.post(
            "/estates/lakeside/cases",
            json={"process": "repair", "data": {**FORM, "owner_account": "zhou"}},
            headers=chen,
        ),
        403,
        "RoleRefused",
    )
    assert client.get(f"/estates/lakeside/cases/{theirs['id']}", headers=chen).status_code == 200
    for path in ("", "/events"):
        refused = problem(
            client.get(f"/estates/lakeside/cases/{neighbours['id']}{path}", headers=chen),
            403,
            "RoleRefused",
        )
        assert "only their own cases" in refused["reason"]
    assert fire(client, desk, neighbours["id"], "record", RECORD).status_code == 200
    problem(fire(client, chen, neighbours["id"], "withdraw", {}), 403, "RoleRefused")
    listed = client.get("/estates/lakeside/cases", params={"limit": 200}, headers=chen).json()
    ids = {item["case"]["id"] for item in listed["items"]}
    assert {theirs["id"], own.json()["id"]} <= ids and neighbours["id"] not in ids
    assert all(item["case"]["data"]["owner_account"] == "chen" for item in listed["items"])
    zhous = client.get("/estates/lakeside/cases", params={"limit": 200}, headers=zhou).json()
    assert {item["case"]["id"] for item in zhous["items"]} == {neighbours["id"]}
    # the desk's view of the estate is not an owner's
    problem(client.get("/estates/lakeside/report", headers=chen), 403, "RoleRefused")
    board = client.get("/estates/lakeside/board", params={"within": "30d"}, headers=chen).json()
    assert board["roles"] == {} and board["unassigned"] == []


def test_estates_processes_definitions_and_diagrams(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    estates = client.get("/estates", headers=desk).json()
    assert [e["id"] for e in estates] == ["lakeside"]
    assert "renovation" in estates[0]["processes"]  # lakeside adds its own process
    processes = client.get("/estates/lakeside/processes", headers=desk).json()
    repair = next(p for p in processes if p["id"] == "repair")
    definition = client.get("/estates/lakeside/processes/repair", headers=desk).json()
    assert definition["version"] == repair["version"]
    assert definition["definition"]["process"] == "repair"
    assert "received" in definition["definition"]["states"]
    diagram = client.get(
        "/estates/lakeside/processes/repair/diagram", params={"lang": "en"}, headers=desk
    )
    assert diagram.json()["mermaid"].lstrip("-\n").count("stateDiagram-v2") == 1
    problem(client.get("/estates/lakeside/processes/nothing", headers=desk), 404, "UnknownProcess")


def test_operations_endpoints(client: httpx.Client, desk: dict[str, str]) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready == {"status": "ok", "estates": ["lakeside", "tingtao"], "detail": None}
    open_repair(client, desk)
    metrics = client.get("/metrics").text
    assert (
        'propflow_events_total{estate="lakeside",event="open",outcome="accepted",process="repair"}'
        in metrics
    )
    assert "propflow_request_seconds_bucket" in metrics
    for gauge in ("propflow_timers_pending", "propflow_timers_due", "propflow_timer_lag_seconds",
                  "propflow_outbox_backlog"):  # fmt: skip
        assert f"\n{gauge} " in metrics, gauge
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert {
        "/estates", "/estates/{estate}", "/estates/{estate}/processes",
        "/estates/{estate}/processes/{process}", "/estates/{estate}/processes/{process}/diagram",
        "/estates/{estate}/cases", "/estates/{estate}/cases/{case_id}",
        "/estates/{estate}/cases/{case_id}/events",
        "/estates/{estate}/cases/{case_id}/limits/{limit}/extensions",
    } <= set(spec["paths"])  # fmt: skip


def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(workdir: Path) -> None:
    database = workdir / "drain.db"
    options = ["--db", str(database), "--estates", str(ESTATES), "--no-timers"]
    with running_server(options, workdir / "drain.log") as live:
        store = Store(f"sqlite:///{database}")
        desk = bearer(store, "lakeside", "li", "receptionist")
        store.close()
        with httpx.Client(base_url=live.url, timeout=60) as http:
            case = open_repair(http, desk)
            # hold SQLite's write lock, so the next event waits inside the server
            blocker = sqlite3.connect(database, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(fire, http, desk, case["id"], "record", RECORD)
                time.sleep(1.0)
                assert not pending.done()
                live.process.send_signal(signal.SIGTERM)
                time.sleep(1.0)
                assert live.process.poll() is None, "exited with a request in flight"
                blocker.execute("ROLLBACK")
                blocker.close()
                response = pending.result(timeout=60)
        assert response.status_code == 200, response.text
        assert live.process.wait(60) == 0, live.output()
    store = Store(f"sqlite:///{database}")
    assert [e.event for e in store.history(case["id"])] == ["open", "record"]
    store.close()


def test_a_refusal_is_worded_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    case = open_repair(client, desk)
    fire(client, desk, case["id"], "record", RECORD)
    chinese = {**desk, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    guard = problem(
        fire(client, chinese, case["id"], "dispatch", {"technician": "x"}), 422, "GuardRefused"
    )
    assert guard["reason"].startswith("条件不满足："), guard
    assert "（if: " in guard["reason"] and "案件" in guard["detail"]
    english = problem(
        fire(client, desk, case["id"], "dispatch", {"technician": "x"}), 422, "GuardRefused"
    )
    assert english["reason"].startswith("condition not met: ")
    # the refusal's type and its fields are the same in both languages
    assert {k: v for k, v in guard.items() if k not in ("reason", "detail")} == {
        k: v for k, v in english.items() if k not in ("reason", "detail")
    }


def test_credential_and_extension_refusals_are_worded_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    """What a WeChat back end shows its user: a missing or unknown token, a malformed body and
    an extension refused, each in Chinese when the request asks for it and in English else."""
    zh = {"Accept-Language": "zh-CN"}
    missing = problem(client.get("/estates/lakeside/cases", headers=zh), 401, "Unauthenticated")
    assert missing["detail"] == "此请求需要持有令牌（Authorization: Bearer ...）"
    unknown = client.get("/estates/lakeside/cases", headers={**zh, "Authorization": "Bearer x"})
    assert problem(unknown, 401, "Unauthenticated")["detail"] == "令牌无法识别"
    english = client.get("/estates/lakeside/cases", headers={"Authorization": "Bearer x"})
    assert problem(english, 401, "Unauthenticated")["detail"] == "the bearer token is not known"
    body = client.post(
        "/estates/lakeside/cases", headers={**desk, **zh}, content=b'{"process": ', timeout=30
    )
    assert problem(body, 400, "MalformedRequest")["detail"] == "请求与接口不符"
    case = open_repair(client, desk)
    refused = client.post(
        f"/estates/lakeside/cases/{case['id']}/limits/repair-general/extensions",
        headers={**desk, **zh},
        json={"reason": "等配件"},
    )
    assert problem(refused, 422, "ExtensionRefused")["reason"] == (
        "本案件的时限“repair-general”没有在计时"
    )


# Every answer in the request's language ------------------------------------------------------

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def test_role_refusals_of_the_report_and_the_migration_are_worded_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str], store: Store
) -> None:
    gardener = bearer(store, "lakeside", "sun", "gardener")
    zh = problem(
        client.get("/estates/lakeside/report", headers={**gardener, **ZH}), 403, "RoleRefused"
    )
    assert zh["reason"] == "办理人“sun”不担任本项目任何流程的岗位"
    assert zh["detail"] == "案件 -（状态“-”）：事件“report”被拒绝：" + zh["reason"]
    en = problem(
        client.get("/estates/lakeside/report", headers={**gardener, **EN}), 403, "RoleRefused"
    )
    assert en["reason"] == "actor 'sun' holds no role of this estate's processes"
    assert en["detail"] == "case - (state '-'): event 'report' refused: " + en["reason"]

    def migrate(language: dict[str, str]) -> dict[str, Any]:
        answer = client.post("/estates/lakeside/migrate", json={}, headers={**desk, **language})
        return problem(answer, 403, "RoleRefused")

    assert migrate(ZH)["reason"] == "办理人“li”没有迁移案件所需的“admin”岗位"
    assert migrate(EN)["reason"] == (
        "actor 'li' does not hold the 'admin' role that moving cases needs"
    )


def test_the_request_limits_are_worded_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    url = "/estates/lakeside/cases"
    huge = json.dumps({"process": "repair", "data": {"content": "v" * 70_000}}).encode()

    def too_large(language: dict[str, str], streamed: bool) -> str:
        """The detail of a body over the limit, declared (Content-Length) or streamed
        (chunked: only counting what arrives finds it)."""
        content: Any = iter([huge[:40_000], huge[40_000:]]) if streamed else huge
        headers = {**desk, **language, "content-type": "application/json"}
        answer = client.post(url, content=content, headers=headers)
        assert answer.status_code == 413 and answer.headers["content-type"].startswith(PROBLEM)
        body = answer.json()
        assert body["title"] == "BodyTooLarge" and body["status"] == 413
        detail: str = body["detail"]
        return detail

    for streamed in (False, True):
        assert too_large(ZH, streamed) == "超过 65536 字节的请求体不予受理"
        assert too_large(EN, streamed) == "request bodies over 65536 bytes are refused"

    def too_long(language: dict[str, str]) -> str:
        answer = client.get(url, params={"state": "x" * 3000}, headers={**desk, **language})
        assert answer.status_code == 414 and answer.json()["title"] == "QueryTooLong"
        detail: str = answer.json()["detail"]
        return detail

    assert too_long(ZH) == "超过 2048 字节的查询字符串不予受理"
    assert too_long(EN) == "query strings over 2048 bytes are refused"


def _malformed(response: httpx.Response) -> list[tuple[list[str], str]]:
    body = problem(response, 400, "MalformedRequest")
    return [(error["loc"], error["msg"]) for error in body["errors"]]


def test_a_body_that_does_not_fit_is_explained_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    deep: Any = "x"
    for _ in range(10):
        deep = {"a": deep}
    body = {"process": "Repair", "data": deep, "actor": "boss"}

    def said(language: dict[str, str], sent: Any) -> list[tuple[list[str], str]]:
        return _malformed(
            client.post("/estates/lakeside/cases", json=sent, headers={**desk, **language})
        )

    assert said(ZH, body) == [
        (["body", "process"], "'Repair' 不符合格式 ^[a-z][a-z0-9_-]*$"),
        (["body", "data"], "嵌套超过 6 层"),
        (["body", "actor"], "接口不接受此字段"),
    ]
    assert said(EN, body) == [
        (["body", "process"], "'Repair' should match the pattern ^[a-z][a-z0-9_-]*$"),
        (["body", "data"], "nested deeper than 6 levels"),
        (["body", "actor"], "the API takes no such field"),
    ]
    # each bound of free-form JSON, and a field missing
    bounds = [
        ({"data": {"note": "长" * 4001}}, "文本超过 4000 个字符",
         "text longer than 4000 characters"),
        ({"data": {"note": "a\x00b"}}, "文本含有 NUL 字符（\\u0000），存储无法保存",
         "text holding NUL (\\u0000), which no store keeps"),
        ({"data": {f"k{i}": 1 for i in range(201)}}, "一个对象中的条目超过 200 个",
         "more than 200 entries in one object"),
        ({"data": {"parts": list(range(201))}}, "一个列表中的条目超过 200 个",
         "more than 200 entries in one list"),
    ]  # fmt: skip
    for data, zh, en in bounds:
        assert said(ZH, {"process": "repair", **data}) == [(["body", "data"], zh)]
        assert said(EN, {"process": "repair", **data}) == [(["body", "data"], en)]
    assert said(ZH, {"data": {}}) == [(["body", "process"], "缺少必填的值")]
    assert said(EN, {"data": {}}) == [(["body", "process"], "a value is required")]


def test_query_and_header_values_that_do_not_fit_are_explained_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str]
) -> None:
    def said(language: dict[str, str], url: str, **params: str) -> list[tuple[list[str], str]]:
        return _malformed(client.get(url, params=params, headers={**desk, **language}))

    cases = "/estates/lakeside/cases"
    assert said(ZH, cases, limit="0", breached="maybe", due_before="2026-01-01T00:00") == [
        (["query", "breached"], "'maybe' 应是 true 或 false"),
        (["query", "due_before"],
         "'2026-01-01T00:00' 没有时区，请写成 2026-03-31T09:00+08:00 这样的格式"),
        (["query", "limit"], "'0' 应不小于 1"),
    ]  # fmt: skip
    assert said(EN, cases, limit="0", breached="maybe", due_before="2026-01-01T00:00") == [
        (["query", "breached"], "'maybe' should be true or false"),
        (["query", "due_before"],
         "'2026-01-01T00:00' has no time zone: write it as 2026-03-31T09:00+08:00"),
        (["query", "limit"], "'0' should be at least 1"),
    ]  # fmt: skip
    key = "k" * 201  # one character over the limit; named by its first 60 characters
    too_long = client.post(
        f"/estates/lakeside/cases/{open_repair(client, desk)['id']}/events",
        json={"event": "withdraw", "payload": {}},
        headers={**desk, **ZH, "Idempotency-Key": key},
    )
    assert _malformed(too_long) == [
        (["header", "Idempotency-Key"], f"'{key[:59]} 最多只能有 200 个字符")
    ]
    manual = "/estates/lakeside/processes/repair/manual"
    assert said(ZH, manual, lang="fr") == [
        (["query", "lang"], "'fr' 应是以下取值之一：'zh-CN'、'en'")
    ]
    assert said(EN, manual, lang="fr") == [
        (["query", "lang"], "'fr' should be one of 'zh-CN', 'en'")
    ]


def test_bad_request_values_are_explained_in_the_requests_language(
    client: httpx.Client, desk: dict[str, str], supervisor: dict[str, str]
) -> None:
    def detail(response: httpx.Response) -> str:
        text: str = problem(response, 400, "BadRequest")["detail"]
        return text

    def board(language: dict[str, str], within: str) -> str:
        return detail(
            client.get(
                "/estates/lakeside/board",
                params={"within": within},
                headers={**supervisor, **language},
            )
        )

    assert (
        board(ZH, "soon") == "within：时长以数字开头，如 24h、3 workdays 或 PT24H（第 1 个字符处）"
    )
    assert board(EN, "soon") == (
        "within: a duration starts with a number, like 24h, 3 workdays or PT24H (at character 1)"
    )
    assert board(ZH, "2 workdays") == (
        "within：'2 workdays' 是工作时间，其长度取决于日历；请给出自然时间，如 4h 或 1d"
    )
    assert board(EN, "2 workdays") == (
        "within: '2 workdays' is working time, whose length depends on a calendar; give "
        "wall-clock time such as 4h or 1d"
    )
    case = open_repair(client, desk)

    def if_match(language: dict[str, str]) -> str:
        return detail(fire(client, {**desk, **language}, case["id"], "record", RECORD,
                           **{"If-Match": "soon"}))  # fmt: skip

    assert if_match(ZH) == "If-Match 须是案件的版本号，如 \"3\"，而不是 'soon'"
    assert if_match(EN) == "If-Match must be a case version such as \"3\", not 'soon'"

    def inbox(language: dict[str, str], **params: str) -> str:
        url = "/estates/lakeside/cases"
        return detail(client.get(url, params=params, headers={**desk, **language}))

    assert inbox(ZH, after="nonsense") == "不是此收件箱的翻页游标：'nonsense'"
    assert inbox(EN, after="nonsense") == "not a cursor of this inbox: 'nonsense'"
    both = {"unassigned": "true", "assignee": "supervisor"}
    assert inbox(ZH, **both) == "案件要么尚未指派，要么已指派给某个岗位，不能同时按两者查询"
    assert inbox(EN, **both) == "a case is either unassigned or assigned to a role, not both"

    def report(language: dict[str, str], period: str) -> str:
        url = "/estates/lakeside/report"
        return detail(client.get(url, params={"period": period}, headers={**desk, **language}))

    assert report(ZH, "2026-13") == "“2026-13”不是有效的月份：日历上没有这个月份"
    assert report(EN, "2026-13") == "'2026-13' is not a month: the calendar has no such month"
    assert report(ZH, "March") == (
        "“March”不是期间；请写月份（2026-03）、周（2026-W10）、季度（2026-Q1）或年份（2026）"
    )


def test_an_unknown_address_and_method_are_answered_in_the_requests_language(
    client: httpx.Client,
) -> None:
    def detail(response: httpx.Response, status: int, title: str) -> str:
        text: str = problem(response, status, title)["detail"]
        return text

    assert detail(client.get("/nowhere", headers=ZH), 404, "NotFound") == "此地址下没有内容"
    assert detail(client.get("/nowhere", headers=EN), 404, "NotFound") == (
        "there is nothing at this address"
    )
    assert detail(client.delete("/estates", headers=ZH), 405, "MethodNotAllowed") == (
        "此地址不接受 DELETE 请求"
    )
    assert detail(client.delete("/estates", headers=EN), 405, "MethodNotAllowed") == (
        "this address does not take DELETE requests"
    )


def test_a_server_without_graphviz_says_so_in_the_requests_language(workdir: Path) -> None:
    """A server whose PATH holds no Graphviz answers the SVG diagram with 503, and points
    to the Mermaid diagram, which needs none."""
    database = workdir / "no-graphviz.db"
    nothing = workdir / "no-tools"
    nothing.mkdir()
    options = ["--db", str(database), "--estates", str(ESTATES), "--no-timers"]
    log = workdir / "no-graphviz.log"
    with running_server(options, log, environment={"PATH": str(nothing)}) as live:
        store = Store(f"sqlite:///{database}")
        desk = bearer(store, "lakeside", "li", "receptionist")
        store.close()
        url = f"{live.url}/estates/lakeside/processes/repair/diagram.svg"
        zh = problem(httpx.get(url, headers={**desk, **ZH}), 503, "DiagramUnavailable")
        en = problem(httpx.get(url, headers={**desk, **EN}), 503, "DiagramUnavailable")
    assert zh["detail"] == (
        "服务器无法绘制 SVG：服务器上未安装 Graphviz；Mermaid 格式的流程图（.../diagram）"
        "不需要 Graphviz"
    )
    assert en["detail"] == (
        "the server cannot draw SVG: Graphviz is not installed on it; the Mermaid diagram "
        "(.../diagram) needs no Graphviz"
    )
