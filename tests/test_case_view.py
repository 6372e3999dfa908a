"""A case read whole (``Engine.case_view``, the service's ``GET /cases/{id}``): its row,
clocks, links and audit trail from one transaction, so the parts agree even while another
writer commits between the reads; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import Actor, Engine, ManualClock
from engine.store import ClockRecord, Store
from tests.conftest import validated_library

START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RECEPTIONIST = Actor("li.jiedai", {"receptionist"})
SUPERVISOR = Actor("chen.zhuguan", {"supervisor"})
IN_UNIT = {"scope": "in_unit", "unit": "3-1201"}
FORM = {
    "owner_name": "王先生",
    "phone": "13800138000",
    "content": "厨房下水道堵塞",
    "location": "厨房",
    "category": "drain",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(store_url: str, clock: ManualClock) -> Iterator[Engine]:
    built = Engine(validated_library(), store=store_url, clock=clock)
    yield built
    built.close()


def recorded(engine: Engine, clock: ManualClock) -> str:
    """A repair case opened and recorded (its clocks running); its id."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    clock.advance(timedelta(minutes=20))
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    return case.id


def test_the_view_is_the_case_its_clocks_links_and_trail(
    engine: Engine, clock: ManualClock
) -> None:
    case_id = recorded(engine, clock)
    clock.advance(timedelta(hours=2))
    view = engine.case_view(case_id)
    assert view.case == engine.get_case(case_id)
    assert view.clocks == engine.sla_status(case_id)
    assert view.clocks, "a recorded repair has running clocks"
    assert view.links == engine.links(case_id)
    assert view.history == engine.history(case_id)
    assert [entry.version for entry in view.history] == list(range(1, view.case.version + 1))


def test_the_view_reads_one_moment_while_another_writer_commits(
    engine: Engine, clock: ManualClock, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event committed by another engine between the view's reads of the case and of
    its trail is in neither: the trail ends at the case's version."""
    case_id = recorded(engine, clock)
    other = Engine(validated_library(), store=store_url, clock=clock)
    read_clocks = Store.clocks
    fired: list[int] = []

    def clocks_then_an_event(store: Store, *args: Any, **kwargs: Any) -> list[ClockRecord]:
        found = read_clocks(store, *args, **kwargs)
        if not fired:  # once, between the view's reads
            clock.advance(timedelta(minutes=5))
            moved = other.fire(case_id, "dispatch", SUPERVISOR, {"technician": "liu.jigong"})
            fired.append(moved.version)
        return found

    monkeypatch.setattr(Store, "clocks", clocks_then_an_event)
    try:
        view = engine.case_view(case_id)
    finally:
        other.close()
    monkeypatch.undo()
    assert fired == [view.case.version + 1], "the event committed while the view was read"
    assert view.case.state == "reported"
    assert len(view.history) == view.case.version
    assert view.history[-1].event == "record"
    after = engine.case_view(case_id)
    assert (after.case.state, after.history[-1].event) == ("dispatched", "dispatch")
    assert len(after.history) == after.case.version == view.case.version + 1
