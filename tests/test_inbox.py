"""The inbox query (engine/store/inbox.py) on SQLite and PostgreSQL: filters done in SQL,
nearest deadline first, and a keyset cursor that pages without repeats or gaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import Actor, Engine, ManualClock
from engine.store.inbox import InboxCursor, InboxQuery, InboxRow, inbox
from tests.conftest import validated_library
from tests.service_harness import FORM, RECORD

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
DESK = Actor("li", {"receptionist"})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(store_url: str, clock: ManualClock) -> Iterator[Engine]:
    made = Engine(validated_library("tingtao"), store=store_url, clock=clock)
    yield made
    made.close()


def every_page(engine: Engine, **filters: Any) -> list[InboxRow]:
    rows: list[InboxRow] = []
    after: InboxCursor | None = None
    while True:
        page = inbox(engine.store, InboxQuery(engine.estate, after=after, limit=2, **filters))
        rows.extend(page)
        if len(page) < 2:
            return rows
        after = InboxCursor(page[-1].next_deadline, page[-1].case.id)


def test_the_inbox_filters_and_orders_in_the_store(engine: Engine, clock: ManualClock) -> None:
    opened = []
    for n in range(5):
        # Units of their own: three leaks of one unit would open an investigation too.
        opened.append(engine.open_case("repair", {**FORM, "unit": f"3-120{n}"}, DESK).id)
        clock.advance(timedelta(minutes=3))
    for case_id in opened[:3]:
        engine.fire(case_id, "record", DESK, RECORD)
    engine.fire(opened[4], "record", DESK, RECORD)
    engine.fire(opened[4], "withdraw", DESK, {})
    engine.fire(
        opened[4], "confirm_cancel", Actor("wang", {"supervisor"}), {"cancel_reason": "不需要了"}
    )
    clock.advance(timedelta(minutes=25))  # past the first cases' 30-minute response limits
    engine.tick()

    rows = every_page(engine)
    ids = [row.case.id for row in rows]
    assert sorted(ids) == sorted(opened) and len(set(ids)) == len(ids)
    keys = [(row.next_deadline is None, row.next_deadline or START, row.case.id) for row in rows]
    assert keys == sorted(keys)
    statuses = {case_id: engine.sla_status(case_id) for case_id in opened}
    breached = {
        c
        for c, clocks in statuses.items()
        if any(s.breached and s.status != "stopped" for s in clocks)
    }
    warned = {
        c
        for c, clocks in statuses.items()
        if any(s.warnings_sent and s.status != "stopped" for s in clocks)
    }
    assert breached and breached != set(opened) and warned
    assert {r.case.id for r in every_page(engine, breached=True)} == breached
    assert {r.case.id for r in every_page(engine, breached=False)} == set(opened) - breached
    assert {r.case.id for r in every_page(engine, warned=True)} == warned
    assert {r.case.id for r in every_page(engine, state="reported")} == {
        c for c in opened if engine.get_case(c).state == "reported"
    }
    assert {r.case.id for r in every_page(engine, processes=("complaint",))} == set()
    moment = sorted(r.next_deadline for r in rows if r.next_deadline)[1]
    assert {r.case.id for r in every_page(engine, due_before=moment)} == {
        r.case.id for r in rows if r.next_deadline is not None and r.next_deadline < moment
    }
    assigned = {c for c in opened if engine.get_case(c).assignee == "supervisor"}
    assert {r.case.id for r in every_page(engine, assignee="supervisor")} == assigned
    closed = {c for c in opened if engine.get_case(c).closed_at is not None}
    assert closed == {opened[4]}
    assert {r.case.id for r in every_page(engine, closed=True)} == closed
    assert {r.case.id for r in every_page(engine, closed=False)} == set(opened) - closed
    # another estate's inbox holds none of them
    assert inbox(engine.store, InboxQuery("lakeside")) == []


def test_the_inbox_finds_unassigned_and_paused_cases_in_the_store(engine: Engine) -> None:
    fresh = engine.open_case("repair", FORM, DESK).id
    quoted = engine.open_case("repair", {**FORM, "unit": "3-1202"}, DESK).id
    engine.fire(quoted, "record", DESK, RECORD)
    engine.fire(quoted, "quote", DESK, {"fee": "80.00"})  # waits for the owner: clocks pause

    rows = {row.case.id: row for row in every_page(engine)}
    assert rows[quoted].paused and not rows[fresh].paused
    assert rows[quoted].next_deadline is None and rows[fresh].next_deadline is not None
    assert any(s.paused for s in engine.sla_status(quoted))
    assert {r.case.id for r in every_page(engine, unassigned=True)} == {fresh}
    with pytest.raises(ValueError, match="unassigned"):
        InboxQuery(engine.estate, assignee="supervisor", unassigned=True)


def test_the_inbox_finds_a_partys_own_cases_in_the_store(engine: Engine) -> None:
    chen = engine.open_case("repair", {**FORM, "owner_account": "chen"}, DESK).id
    engine.open_case("repair", {**FORM, "unit": "3-1202", "owner_account": "zhou"}, DESK)
    engine.open_case("repair", {**FORM, "unit": "3-1203"}, DESK)  # bound to no one
    by_chen = engine.open_case("repair", {**FORM, "unit": "3-1204"}, Actor("chen", "owner")).id
    own = {"parties": (("repair", "owner_account"),), "party": "chen", "processes": ()}
    assert {r.case.id for r in every_page(engine, **own)} == {chen, by_chen}
    # the posts' processes still list every case of theirs beside the party's own
    both = every_page(engine, **{**own, "processes": ("complaint",)})
    assert {r.case.id for r in both} == {chen, by_chen}
    assert len(every_page(engine, processes=("repair",))) == 4


@pytest.mark.parametrize(
    "text", ["", "garbage", "W251bGwsIDFd", "WyIyMDI2LTAxLTAxVDAwOjAwIiwgIngiXQ"]
)
def test_a_cursor_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        InboxCursor.decode(text)


def test_a_cursor_survives_its_text_form() -> None:
    cursor = InboxCursor(START, "a-case")
    assert InboxCursor.decode(cursor.encode()) == cursor
    assert InboxCursor.decode(InboxCursor(None, "b").encode()) == InboxCursor(None, "b")
