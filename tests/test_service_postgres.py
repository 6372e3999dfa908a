"""Two ``propflow serve`` processes against one real PostgreSQL: every timer fires exactly
once between them, and every event either is acknowledged and kept or refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import ColumnElement, Table, func, select, update

from engine.store import Store
from engine.store.schema import case_log, timers
from tests.postgres import PostgresServer, start_server
from tests.service_harness import (
    ESTATES,
    FORM,
    RECORD,
    LiveServer,
    bearer,
    running_server,
    wait_for,
)

CASES_PER_ESTATE = 12
TIMER_EVENT = r"^(warning|breach|tier|due):"


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def servers(database: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    options = ["--db", database, "--estates", str(ESTATES), "--interval", "0.02"]
    with (
        running_server(options, tmp_path / "a.log") as first,
        running_server(options, tmp_path / "b.log") as second,
    ):
        yield [first, second]


def count(store: Store, table: Table, *where: ColumnElement[bool]) -> int:
    rows = store.rows(select(func.count().label("n")).select_from(table).where(*where))
    number: int = rows[0]["n"]
    return number


def fired_by(server: LiveServer) -> float:
    text = httpx.get(f"{server.url}/metrics").text
    match = re.search(r"^propflow_timers_fired_total (\S+)$", text, re.M)
    assert match is not None, text
    return float(match.group(1))


@pytest.mark.slow
def test_two_servers_on_one_postgresql_share_timers_exactly_once(
    servers: list[LiveServer], database: str
) -> None:
    store = Store(database)
    try:
        tokens = {
            estate: bearer(store, estate, "li", "receptionist")
            for estate in ("lakeside", "tingtao")
        }
        opened: list[tuple[str, str]] = []
        for index in range(CASES_PER_ESTATE):
            for estate, token in tokens.items():
                server = servers[index % 2]
                response = httpx.post(
                    f"{server.url}/estates/{estate}/cases",
                    json={"process": "repair", "data": FORM},
                    headers=token,
                )
                assert response.status_code == 201, response.text
                opened.append((estate, response.json()["id"]))

        # every case's 'record' sent twice at once, once to each server: one is kept
        def record(job: tuple[int, tuple[str, str]]) -> int:
            index, (estate, case_id) = job
            response = httpx.post(
                f"{servers[index % 2].url}/estates/{estate}/cases/{case_id}/events",
                json={"event": "record", "payload": RECORD},
                headers=tokens[estate],
                timeout=60,
            )
            return response.status_code

        jobs = list(enumerate(opened * 2))
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(record, jobs))
        assert statuses.count(200) == len(opened), statuses
        assert set(statuses) <= {200, 409}, statuses
        recorded = count(store, case_log, case_log.c.event == "record")
        assert recorded == len(opened)

        # all their timers due at once: both servers' timer loops race for them
        with store.transaction() as tx:
            tx.execute(
                update(timers)
                .where(timers.c.fired_at.is_(None))
                .values(due_at=datetime.now(UTC) - timedelta(minutes=1))
            )

        def settled() -> bool:
            now = datetime.now(UTC)
            return count(store, timers, timers.c.fired_at.is_(None), timers.c.due_at <= now) == 0

        wait_for(settled, 120, "both servers to fire every due timer")
        fired = count(store, timers, timers.c.fired_at.isnot(None))
        entries = count(
            store,
            case_log,
            case_log.c.actor_id == "propflow",
            case_log.c.event.regexp_match(TIMER_EVENT),
        )
        assert fired >= len(opened)  # at least each case's response limit breached
        assert entries == fired, "a timer fired twice, or fired without its log entry"
        counted = sum(fired_by(server) for server in servers)
        assert counted == fired, (counted, fired)
        for server in servers:
            assert server.stop() == 0, server.output()
    finally:
        store.close()


@pytest.mark.slow
def test_a_store_that_stops_answering_is_a_503_not_a_500(tmp_path: Path) -> None:
    """Its own PostgreSQL server, stopped under a running service: readiness and requests
    say 503 (retry later) while it is away."""
    own = start_server()
    try:
        url = own.create_database()
        store = Store(url)
        token = bearer(store, "lakeside", "li", "receptionist")
        store.close()
        options = ["--db", url, "--estates", str(ESTATES), "--no-timers"]
        with running_server(options, tmp_path / "serve.log") as live:
            assert httpx.get(f"{live.url}/readyz").status_code == 200
            own.stop()
            ready = httpx.get(f"{live.url}/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            listed = httpx.get(f"{live.url}/estates/lakeside/cases", headers=token)
            assert listed.status_code == 503, listed.text
            assert listed.json()["title"] == "StoreUnavailable"
            assert listed.headers["Retry-After"] == "5"
            assert live.stop() == 0, live.output()
    finally:
        own.stop()
