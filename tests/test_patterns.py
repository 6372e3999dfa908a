"""Patterns across cases (rules files' ``patterns:``), through the real engine and store on
SQLite and PostgreSQL: windows on the wall clock and in working time, the boundaries, a
restart in the middle of a window, two workers, and the shipped library's three patterns."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.checks.validation import validate_library
from engine.io.library import ValidatedLibrary
from engine.model import CalendarDef
from engine.model.durations import parse_duration
from engine.runtime import Actor, Engine, ManualClock
from engine.store import Store
from engine.store.patterns import POSTGRESQL_SETTLE, matches_of
from engine.time import WorkingCalendar
from tests.conftest import ROOT, validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Monday with no holiday near it.
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
DESK = Actor("desk", "receptionist")
FORM = {"owner_name": "王先生", "phone": "13800138000", "content": "漏水", "location": "厨房"}
SECOND = timedelta(seconds=1)


@functools.cache
def workdays_library() -> ValidatedLibrary:
    """The shipped library plus a pattern with a working-time window."""
    return validate_library(
        [ROOT / "processes", ROOT / "rules", ROOT / "tests" / "fixtures" / "patterns"]
    )


def engine_on(store: Store, clock: ManualClock, library: ValidatedLibrary | None = None) -> Engine:
    return Engine(library or validated_library(), store, clock)


def tick(engine: Engine, clock: ManualClock) -> int:
    """Tick late enough that PostgreSQL's settling time has passed; the matches committed."""
    return engine.tick(clock.now() + POSTGRESQL_SETTLE + SECOND).matched


def repair(engine: Engine, unit: str = "3-1201", category: str = "leak", **data: Any) -> str:
    """An in-unit repair of ``unit`` recorded now; its id."""
    case = engine.open_case("repair", {"scope": "in_unit", "unit": unit, **data}, DESK)
    engine.fire(case.id, "record", DESK, {**FORM, "category": category})
    return case.id


def investigations(engine: Engine) -> list[Any]:
    return engine.query_cases(process="defect_investigation", limit=10_000)


def test_third_repair_within_30_days_opens_one_investigation(store_url: str) -> None:
    clock = ManualClock(START)
    engine = engine_on(Store(store_url), clock)
    first = repair(engine)
    clock.advance(timedelta(days=10))
    second = repair(engine)
    repair(engine, category="drain")  # another category: not correlated
    repair(engine, unit="3-1202")  # another unit
    assert tick(engine, clock) == 0
    clock.set(START + timedelta(days=30) - SECOND)
    third = repair(engine)
    assert tick(engine, clock) == 1
    [investigation] = investigations(engine)
    assert investigation.data["unit"] == "3-1201" and investigation.data["category"] == "leak"
    related = {link.case_id for link in engine.links(investigation.id)}
    assert related == {first, second, third}
    [match] = matches_of(engine.store, engine.estate, "recurring-defect")
    assert match.cases == [first, second, third]
    assert {"open": "defect_investigation", "case": investigation.id} in match.actions
    notices = [item for item in engine.outbox(third) if item.payload.get("pattern")]
    assert [item.role for item in notices] == ["supervisor"]
    assert investigation.assignee == "eng_supervisor"
    assert [item.role for item in engine.outbox(investigation.id)] == ["eng_supervisor"]
    # The engineering supervisor investigates and concludes; the head is told.
    engineer = Actor("gong", "eng_supervisor")
    engine.fire(investigation.id, "start", engineer)
    done = engine.fire(
        investigation.id, "conclude", engineer, {"cause": "立管老化", "measures": "更换立管"}
    )
    assert done.state == "concluded"
    assert engine.outbox(investigation.id)[-1].role == "head"
    # The three are used up: a fourth within the window is not a second match.
    repair(engine)
    assert tick(engine, clock) == 0
    assert len(investigations(engine)) == 1


def test_third_repair_one_second_after_the_window_matches_nothing(store_url: str) -> None:
    clock = ManualClock(START)
    engine = engine_on(Store(store_url), clock)
    repair(engine)
    clock.advance(timedelta(days=1))
    second = repair(engine)
    clock.set(START + timedelta(days=30) + SECOND)
    third = repair(engine)
    assert tick(engine, clock) == 0
    assert investigations(engine) == []
    # The first fell out of the window; the second, the third and a fourth make a match.
    clock.advance(SECOND)
    fourth = repair(engine)
    assert tick(engine, clock) == 1
    [match] = matches_of(engine.store, engine.estate)
    assert match.cases == [second, third, fourth]


def _window_end(start: datetime, window: str) -> datetime:
    calendar = next(
        located.definition
        for located in workdays_library().library.calendars
        if located.definition.id == "office"
    )
    assert isinstance(calendar, CalendarDef)
    return WorkingCalendar.from_definition(calendar).add(start, parse_duration(window)).at


def test_working_time_window_boundary_on_the_office_calendar(store_url: str) -> None:
    thursday = START + timedelta(days=3)
    clock = ManualClock(thursday)
    engine = engine_on(Store(store_url), clock, workdays_library())
    end = _window_end(thursday, "3 workdays")
    assert end - thursday == timedelta(days=5)  # the weekend does not count
    repair(engine, unit="A")
    repair(engine, unit="B")
    clock.advance(timedelta(hours=1))
    repair(engine, unit="A")
    repair(engine, unit="B")
    clock.set(end - SECOND)
    repair(engine, unit="A")  # one second inside the window
    clock.set(end + SECOND)
    repair(engine, unit="B")  # one second outside it
    tick(engine, clock)
    found = matches_of(engine.store, engine.estate, "recurring-defect-workdays")
    units = [engine.get_case(match.cases[0]).data["unit"] for match in found]
    assert units == ["A"]


def test_working_time_window_skips_the_weekend(store_url: str) -> None:
    clock = ManualClock(START + timedelta(days=4))  # Friday 10:00
    engine = engine_on(Store(store_url), clock, workdays_library())
    repair(engine)
    clock.advance(timedelta(days=3, hours=8))  # Monday 18:00: one workday later
    repair(engine)
    clock.advance(timedelta(days=1, hours=16))  # Wednesday 10:00: within 3 workdays
    repair(engine)
    tick(engine, clock)
    assert len(matches_of(engine.store, engine.estate, "recurring-defect-workdays")) == 1
    assert len(matches_of(engine.store, engine.estate, "recurring-defect")) == 1


def test_restart_in_the_middle_of_a_window_keeps_what_was_seen(store_url: str) -> None:
    clock = ManualClock(START)
    store = Store(store_url)
    before = engine_on(store, clock)
    first = repair(before)
    clock.advance(timedelta(days=5))
    second = repair(before)
    assert tick(before, clock) == 0
    before.pattern_step.close()
    # A new worker: its windows are rebuilt from the log behind the stored cursor.
    after = engine_on(store, clock)
    clock.advance(timedelta(days=5))
    third = repair(after)
    assert tick(after, clock) == 1
    [match] = matches_of(store, after.estate)
    assert match.cases == [first, second, third]
    # And entries a match used up stay used up across a restart.
    repair(after)
    after.pattern_step.close()
    again = engine_on(store, clock)
    repair(again)
    assert tick(again, clock) == 0
    assert len(investigations(again)) == 1


def test_two_workers_commit_each_match_once(make_store_url: Any) -> None:
    url = make_store_url()
    clock = ManualClock(START)
    workers = [engine_on(Store(url), clock) for _ in range(2)]
    for unit in range(6):
        for _ in range(3):
            repair(workers[0], unit=f"U{unit}")
    now = clock.now() + POSTGRESQL_SETTLE + SECOND
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda w=w: results.append(w.tick(now).matched)) for w in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 6
    for worker in workers:  # the loser rebuilt its windows: ticking again repeats nothing
        assert worker.tick(now).matched == 0
    assert len(matches_of(workers[0].store, workers[0].estate)) == 6
    assert len(investigations(workers[0])) == 6


def test_complaint_from_a_unit_with_an_open_repair_is_linked(store_url: str) -> None:
    clock = ManualClock(START)
    engine = engine_on(Store(store_url), clock)
    open_repair = repair(engine, unit="5-0301")
    other = repair(engine, unit="5-0302")
    form = {"complainant": "李女士", "complaint_date": "2026-03-02", "phone": "13900139000"}
    complaint = engine.open_case(
        "complaint", {**form, "address": "5-0301", "content": "漏水未修"}, DESK
    )
    engine.fire(complaint.id, "record", DESK, {})
    assert tick(engine, clock) == 1
    related = {link.case_id for link in engine.links(complaint.id)}
    assert related == {open_repair}
    assert other not in related


def test_rework_after_the_return_visit_is_marked_and_counted(store_url: str) -> None:
    clock = ManualClock(START)
    engine = engine_on(Store(store_url), clock)
    case_id = repair(engine, owner_account="o")
    supervisor, technician = Actor("s", "supervisor"), Actor("t", "technician")
    owner = Actor("o", "owner")  # the case is theirs (below)
    engine.fire(case_id, "dispatch", supervisor, {"technician": "张师傅"})
    engine.fire(case_id, "contact_owner", technician)
    engine.fire(case_id, "confirm_on_site", technician, {"actual_situation": "渗漏"})
    engine.fire(
        case_id, "finish_work", technician, {"work_done": "更换", "materials_used": [], "hours": 1}
    )
    engine.fire(case_id, "owner_accept", owner)
    engine.fire(case_id, "supervisor_sign", supervisor)
    engine.fire(case_id, "rework", DESK, {"visit_result": "仍漏水"})
    assert tick(engine, clock) == 1
    case = engine.get_case(case_id)
    assert case.data["reworked"] is True
    assert [e.event for e in engine.history(case_id)][-1] == "pattern:rework-after-return-visit"
    assert any(item.role == "cs_supervisor" for item in engine.outbox(case_id))


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 0.6, 1.0])
def test_a_worker_killed_while_matching_neither_loses_nor_repeats_a_match(
    store_url: str, delay: float
) -> None:
    """A worker process is killed (SIGKILL) part of the way through a backlog of 150
    recurring defects; another worker finishes: each defect is matched and acted on once."""
    clock = ManualClock(START)
    store = Store(store_url)
    writer = engine_on(store, clock)
    units = 150
    for round_ in range(3):
        for unit in range(units):
            repair(writer, unit=f"K{unit}")
        clock.advance(timedelta(hours=round_ + 1))
    now = clock.now() + POSTGRESQL_SETTLE + SECOND
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "pattern_worker.py"), store_url, now.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    time.sleep(delay)
    worker.kill()
    worker.wait()
    survivor = engine_on(store, clock)
    while survivor.tick(now).matched:
        pass
    found = matches_of(store, survivor.estate, "recurring-defect")
    assert len(found) == units
    used = [seq for match in found for seq in match.seqs]
    assert len(used) == len(set(used)) == 3 * units
    opened = investigations(survivor)
    assert len(opened) == units
    assert sorted(case.data["unit"] for case in opened) == sorted(f"K{n}" for n in range(units))
