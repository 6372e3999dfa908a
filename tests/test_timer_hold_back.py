"""No timer is retired because the worker that found it lacks its time limit.

A timer fires on its case's definition version, which the store keeps with the case's time
limits: a worker whose library lacks the limit (here: the processes without their rules, so
no process has a time limit) still fires it from there, exactly once. Where the version does
not say — one stored by the previous release, whose rows hold the process only — or names a
calendar the worker's library lacks, such a worker must leave a due timer pending, say so
with its case and timer id, and count it; a worker on the right library then fires it,
exactly once.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, null, select, update

from engine.checks.validation import validate_library
from engine.runtime import Actor, Engine, ManualClock
from engine.store import Store
from engine.store.schema import cases, definitions
from tests.conftest import ROOT, run_cli, validated_library
from tests.migration_library import write_library

RECEPTIONIST = Actor("li", {"receptionist"})
OPENING = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
FORM = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}
LIMIT = "repair-general"


def recorded_repair(engine: Engine, clock: ManualClock) -> str:
    """A general repair recorded now: its 3-day limit's breach timer is pending."""
    case = engine.open_case("repair", OPENING, RECEPTIONIST).id
    clock.advance(timedelta(minutes=1))
    engine.fire(case, "record", RECEPTIONIST, FORM)
    return case


def as_stored_by_the_release(store: Store, case: str) -> None:
    """The case's definition version as the previous release stored it: once upgraded, its
    row holds the process only (the revision that keeps the time limits adds them empty)."""
    with store.transaction() as tx:
        version = tx.execute(
            select(cases.c.definition_version).where(cases.c.id == case)
        ).scalar_one()
        tx.execute(
            update(definitions).where(definitions.c.version == version).values(time_limits=null())
        )


def breaches(engine: Engine, case: str) -> list[str]:
    return [e.event for e in engine.history(case) if e.event == f"breach:{LIMIT}"]


def test_a_worker_whose_library_lacks_the_limit_fires_it_from_the_cases_version(
    store_url: str,
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = Store(store_url)
    right = Engine(validated_library(), store, clock)
    without = Engine(validate_library([ROOT / "processes"]), store, clock)
    case = recorded_repair(right, clock)
    clock.advance(timedelta(days=4))

    first = without.tick()
    assert (first.fired >= 1, first.held) == (True, 0)
    without.tick()
    assert right.tick().fired == 0
    assert breaches(right, case) == [f"breach:{LIMIT}"]
    assert right.get_case(case).assignee == "head"
    assert not any("retired" in str(e.actions) for e in right.history(case))
    store.close()


def test_a_worker_on_the_wrong_library_holds_a_due_timer_and_the_right_one_fires_it_once(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = Store(store_url)
    case = recorded_repair(Engine(validated_library(), store, clock), clock)
    as_stored_by_the_release(store, case)
    right = Engine(validated_library(), store, clock)  # one that has not met the version
    wrong = Engine(validate_library([ROOT / "processes"]), store, clock)
    pending = {t.id: t for t in store.pending_timers(case) if t.name == LIMIT}
    assert pending
    clock.advance(timedelta(days=4))

    with caplog.at_level(logging.WARNING, logger="propflow.timers"):
        first = wrong.tick()
        again = wrong.tick()
    due = [t for t in store.pending_timers(case) if t.due_at <= clock.now()]
    assert (first.fired, first.held) == (0, len(due))
    assert again.held == first.held == wrong.held_back
    assert {t.id for t in store.pending_timers(case)} >= set(pending)
    assert not any("retired" in str(e.actions) for e in right.history(case))
    held_lines = [r.getMessage() for r in caplog.records if "held back" in r.getMessage()]
    assert len(held_lines) == first.held  # once per timer, not once per tick
    timer_id = next(iter(pending))
    assert any(f"timer {timer_id} " in line and case in line for line in held_lines)

    assert right.tick().fired >= 1
    right.tick()
    assert breaches(right, case) == [f"breach:{LIMIT}"]
    assert right.get_case(case).assignee == "head"
    store.close()


def test_propflow_worker_on_the_wrong_library_retires_nothing(tmp_path: Path) -> None:
    """The issue's report, as a new user tries it on a case of the previous release:
    ``worker --library processes`` once, then ``case history --json`` shows no retired
    timer, and the right worker escalates."""
    db = str(tmp_path / "cases.db")
    clock = ManualClock(datetime.now(UTC) - timedelta(days=5))
    engine = Engine(validated_library(), db, clock)
    case = recorded_repair(engine, clock)
    as_stored_by_the_release(engine.store, case)
    engine.close()

    wrong = run_cli(["worker", "--once", "--db", db, "--library", str(ROOT / "processes")])
    assert wrong.exit_code == 0, wrong.output
    assert "fired 0" in wrong.output and "held back" in wrong.output
    assert f"on case {case}" in wrong.output
    history = run_cli(["case", "history", "--json", "--db", db, case])
    assert "retired" not in history.output

    right = run_cli(["worker", "--once", "--db", db])
    assert right.exit_code == 0, right.output
    assert f"fired breach of time limit '{LIMIT}' on case {case} (repair, estate standard)" in (
        right.output
    )
    events = [
        entry["event"]
        for entry in json.loads(run_cli(["case", "history", "--json", "--db", db, case]).output)
    ]
    assert events.count(f"breach:{LIMIT}") == 1


def test_due_timers_come_split_by_known_time_limit_page_by_page(store_url: str) -> None:
    """Each list holds the first ``limit`` due timers of its kind, soonest first, however
    the two kinds interleave: the pages go on past a full page of the other kind."""
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = Store(store_url)
    engine = Engine(validated_library(), store, clock)
    for _ in range(3):
        recorded_repair(engine, clock)
    clock.advance(timedelta(days=30))
    now = clock.now()
    nothing, due = store.due_timers_of(now, 1000, engine.estate, lambda _version, _name: False)
    assert nothing == [] and len(due) >= 6
    known = {(engine.definition_version("repair"), due[-1].name)}

    def fires(version: str, name: str) -> bool:
        return (version, name) in known

    for limit in (1, 2, 3, len(due)):
        firing, held = store.due_timers_of(now, limit, engine.estate, fires)
        assert [t.id for t in firing] == [t.id for t in due if t.name == due[-1].name][:limit]
        assert [t.id for t in held] == [t.id for t in due if t.name != due[-1].name][:limit]
    store.close()


def test_an_idle_tick_asks_for_due_timers_once(store_url: str) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = Store(store_url)
    engine = Engine(validated_library(), store, clock)
    recorded_repair(engine, clock)
    engine.tick()
    asked: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "FROM timers" in statement:
            asked.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    assert engine.tick().fired == 0
    assert len(asked) == 1
    store.close()


def test_a_limit_whose_calendar_the_library_lacks_is_held_back(
    tmp_path: Path, store_url: str
) -> None:
    """A case's version names the calendar each of its limits counts on, and the calendar's
    days come from the library: an engine whose library has no calendar of that name holds
    the limit's timers back rather than count on another one; one that has fires them."""
    library = write_library(tmp_path / "with-desk")
    rules = library / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("24x7", "desk"), encoding="utf-8")
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(library / "job.yaml", bare / "job.yaml")
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    store = Store(store_url)
    right = Engine([library], store, clock)
    clerk = Actor("li", {"clerk"})
    case = right.open_case("job", {}, clerk).id
    right.fire(case, "start", clerk)
    clock.advance(timedelta(hours=25))

    wrong = Engine([bare], store, clock)
    held = wrong.tick()
    assert (held.fired, held.held) == (0, len(store.pending_timers(case)))
    assert held.held >= 1
    assert right.tick().fired == held.held
    assert [e.event for e in right.history(case)].count("breach:job-urgent") == 1
    store.close()
