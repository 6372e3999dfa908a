"""``POST /estates/{estate}/migrate`` on a real server: a dry run and a move of urgent
repairs whose limit the estate shortened from 24 to 12 hours, for an ``admin`` credential
only."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from engine.runtime import Actor, Engine
from engine.store import Store
from tests.service_harness import ESTATES, FORM, RECORD, LiveServer, bearer, running_server

DESK = Actor("li", {"receptionist"})


@pytest.fixture(scope="module")
def opened(workdir: Path) -> list[str]:
    """Urgent repairs opened on the lakeside estate as shipped (a 24h urgent limit)."""
    shutil.copytree(ESTATES / "lakeside", workdir / "lakeside")
    engine = Engine(store=f"sqlite:///{workdir / 'cases.db'}", estate=workdir / "lakeside")
    ids = []
    for _ in range(3):
        case = engine.open_case("repair", FORM, DESK)
        engine.fire(case.id, "record", DESK, {**RECORD, "urgency": "urgent"})
        ids.append(case.id)
    engine.close()
    rules = workdir / "lakeside" / "rules" / "urgent_12h.yaml"
    rules.write_text("time_limits:\n  repair-urgent:\n    limit: 12h\n", encoding="utf-8")
    return ids


@pytest.fixture(scope="module")
def server(workdir: Path, opened: list[str]) -> Iterator[LiveServer]:
    options = ["--no-timers", "--db", str(workdir / "cases.db"), "--estates"]
    with running_server([*options, str(workdir / "lakeside")], workdir / "serve.log") as live:
        yield live


def test_only_an_admin_moves_cases_and_a_dry_run_writes_nothing(
    client: httpx.Client, store: Store, opened: list[str]
) -> None:
    desk = bearer(store, "lakeside", "li", "receptionist")
    refused = client.post("/estates/lakeside/migrate", json={"dry_run": True}, headers=desk)
    assert refused.status_code == 403, refused.text
    admin = bearer(store, "lakeside", "ops", "admin")
    planned = client.post("/estates/lakeside/migrate", headers=admin)  # no body: a dry run
    assert planned.status_code == 200, planned.text
    answer = planned.json()
    assert (answer["dry_run"], answer["moved"], answer["refused"]) == (True, 3, [])
    (group,) = answer["groups"]
    assert (group["process"], group["cases"]) == ("repair", 3)
    assert {"limit": "repair-urgent", "action": "kept"} in group["clocks"]
    before = [c.deadline for c in store.clocks(opened[0]) if c.limit_id == "repair-urgent"]
    moved = client.post("/estates/lakeside/migrate", json={"dry_run": False}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["dry_run"], moved.json()["moved"]) == (False, 3)
    (clock,) = [c for c in store.clocks(opened[0]) if c.limit_id == "repair-urgent"]
    assert before[0] is not None and clock.deadline == before[0] - timedelta(hours=12)
    again = client.post("/estates/lakeside/migrate", json={"dry_run": False}, headers=admin)
    assert again.json()["moved"] == 0
