"""How an event reaches the store: one transaction, and no statement that changes nothing.

``Engine.fire`` reads the case and its clocks in the transaction that writes the event (one
connection, one BEGIN, one COMMIT), and the store folds several changes of one clock into
the last of each and writes only what differs from the clocks as read. Each test runs on
SQLite and on a real PostgreSQL server (``store_url``): the same code path serves both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from benchmarks.bench_runtime import sent
from engine.runtime import Actor, Engine, ManualClock
from engine.store import CaseRecord, CaseWrite, ClockChange, ClockRecord, TimerRecord
from engine.store.schema import sla_clocks
from tests.conftest import validated_library

START = datetime(2026, 2, 9, 1, 0, tzinfo=UTC)
RECEPTIONIST = Actor("li", {"receptionist"})
SUPERVISOR = Actor("wang", {"supervisor"})
IN_UNIT = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生", "owner_account": "chen"}
FORM = {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"}


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    made = Engine(validated_library(), store=store_url, clock=ManualClock(START))
    yield made
    made.close()


class Statements:
    """The statements the store's connections send while the test runs from here on (see
    :func:`benchmarks.bench_runtime.sent`), by their first words, and the transactions they
    begin."""

    def __init__(self, made: Engine, request: pytest.FixtureRequest) -> None:
        self.transactions = 0
        watching = ExitStack()
        self._sent = watching.enter_context(sent(made.store.engine))
        request.addfinalizer(watching.close)
        event.listen(made.store.engine, "begin", self._begin)

    @property
    def seen(self) -> Counter[str]:
        found: Counter[str] = Counter()
        for statement in self._sent:
            words = statement.split()
            if words[0] in ("INSERT", "DELETE"):  # INSERT INTO table, DELETE FROM table
                del words[1]
            found[" ".join(words[:2])] += 1
        return found

    def clear(self) -> None:
        self._sent.clear()

    def _begin(self, *_args: Any) -> None:
        self.transactions += 1


def test_an_event_without_links_is_one_transaction(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    statements = Statements(engine, request)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    assert statements.transactions == 1
    assert statements.seen["UPDATE cases"] == 1
    assert statements.seen["INSERT case_log"] == 1
    if engine.store.dialect == "sqlite":  # the write lock is taken before the case is read
        assert statements.seen["BEGIN IMMEDIATE"] == 1
        assert statements.seen["BEGIN"] == 0


def test_a_signal_to_a_parent_the_case_does_not_have_is_written_in_one_transaction(
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    """Closing a repair signals its parent (the handover it came from, if any): on a repair
    that has none, the signal reaches nothing and the event is written as any other."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    walk = [
        ("record", RECEPTIONIST, FORM),
        ("dispatch", SUPERVISOR, {"technician": "赵师傅"}),
        ("confirm_on_site", Actor("zhao", {"technician"}), {"actual_situation": "接头松动"}),
        ("finish_work", Actor("zhao", {"technician"}), {"work_done": "更换接头", "hours": 1}),
        ("owner_accept", Actor("chen", {"owner"}), {}),
        ("supervisor_sign", SUPERVISOR, {}),
    ]
    for event_id, actor, payload in walk:
        engine.fire(case.id, event_id, actor, payload)
    statements = Statements(engine, request)
    visit = {"visit_method": "phone", "visit_result": "满意", "satisfaction": "satisfied"}
    closed = engine.fire(case.id, "return_visit", RECEPTIONIST, visit)
    assert closed.state == "closed"
    assert statements.transactions == 1
    assert statements.seen["UPDATE cases"] == 1
    assert statements.seen["INSERT case_log"] == 1
    (action,) = engine.history(case.id)[-1].actions
    assert (action["kind"], action["event"], action["to"]) == ("signal", "repair_closed", "parent")


def test_a_new_clock_is_inserted_without_an_update_or_a_timers_delete(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    before = {clock.limit_id for clock in engine.store.clocks(case.id)}
    statements = Statements(engine, request)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    after = engine.store.clocks(case.id)
    started = [clock for clock in after if clock.limit_id not in before]
    assert started, "the walk's second event starts some clock"
    changed = statements.seen["UPDATE sla_clocks"]
    # One multi-row insert for the new clocks; updates only for clocks the case had.
    assert statements.seen["INSERT sla_clocks"] == 1
    assert changed <= len(before)
    assert statements.seen["DELETE timers"] <= len(before)


def test_several_changes_of_one_clock_come_to_the_last_row_and_timers(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    record = engine.store.get_case(case.id)
    assert record is not None
    first = ClockRecord(case.id, "probe", "running", START, START + timedelta(hours=4))
    last = replace(first, deadline=START + timedelta(hours=8), notes=("moved",))

    def timer(hours: int) -> TimerRecord:
        return TimerRecord(case.id, "breach", "probe", START + timedelta(hours=hours))

    changes = (
        ClockChange(case.id, "probe", first, (timer(4),)),
        ClockChange(case.id, "probe", None, (timer(5), timer(6))),
        ClockChange(case.id, "probe", last, None),
    )
    moved = replace(record, version=record.version + 1, updated_at=START)
    engine.store.commit([CaseWrite(moved, record.version, clocks=changes)], at=START)
    stored = {clock.limit_id: clock for clock in engine.store.clocks(case.id)}
    assert stored["probe"] == last
    pending = [(t.name, t.due_at) for t in engine.store.pending_timers(case.id)]
    assert [due for name, due in pending if name == "probe"] == [
        START + timedelta(hours=5),
        START + timedelta(hours=6),
    ]
    # An empty set of timers from a later event deletes the pending ones.
    again = replace(moved, version=moved.version + 1)
    stop = (ClockChange(case.id, "probe", None, ()),)
    engine.store.commit([CaseWrite(again, moved.version, clocks=stop)], at=START)
    assert [t for t in engine.store.pending_timers(case.id) if t.name == "probe"] == []


def test_a_clock_as_stored_is_not_written_again(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    record = engine.store.get_case(case.id)
    assert record is not None
    clocks = {clock.limit_id: clock for clock in engine.store.clocks(case.id)}
    statements = Statements(engine, request)
    same = tuple(ClockChange(case.id, limit, clock, None) for limit, clock in clocks.items())
    moved: CaseRecord = replace(record, version=record.version + 1)
    write = CaseWrite(moved, record.version, clocks=same, clocks_read=clocks)
    with engine.store.transaction() as tx:
        engine.store.commit([write], at=moved.updated_at, tx=tx)
    assert statements.seen["UPDATE sla_clocks"] == 0
    assert statements.seen["INSERT sla_clocks"] == 0
    assert engine.store.clocks(case.id) == list(clocks.values())


def test_an_event_reads_its_case_and_clocks_in_one_query_as_read_apart(engine: Engine) -> None:
    """The one query an event reads with gives the case and clocks that reading them apart
    gives: a case with no clock, one with several."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "赵师傅"})
    store = engine.store
    with store.transaction() as tx:
        found = store.case_and_clocks(case.id, tx)
        bare = store.case_and_clocks("no-such-case", tx)
    assert bare is None
    assert found is not None
    record, clocks = found
    assert record == store.get_case(case.id)
    assert list(clocks.values()) == store.clocks(case.id) and len(clocks) >= 2
    assert all(limit == clock.limit_id for limit, clock in clocks.items())
    with store.transaction() as tx:
        tx.execute(sla_clocks.delete().where(sla_clocks.c.case_id == case.id))
        without = store.case_and_clocks(case.id, tx)
    assert without == (store.get_case(case.id), {})


def test_an_event_runs_one_select_for_its_case_and_clocks(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    statements = Statements(engine, request)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    assert statements.seen["SELECT cases.id,"] == 1
    assert sum(count for words, count in statements.seen.items() if words.startswith("SELECT")) == 1


def test_a_clock_that_cannot_have_pending_timers_is_written_without_a_timers_delete(
    engine: Engine,
    request: pytest.FixtureRequest,
) -> None:
    """A paused clock has no pending timers (pausing withdrew them): stopping it writes its
    row, and deletes no timers, while a running clock's stop withdraws its own."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    walk = [
        ("record", RECEPTIONIST, FORM),
        ("dispatch", SUPERVISOR, {"technician": "赵师傅"}),
        ("confirm_on_site", Actor("zhao", {"technician"}), {"actual_situation": "接头松动"}),
        ("finish_work", Actor("zhao", {"technician"}), {"work_done": "更换接头", "hours": 1}),
        ("owner_accept", Actor("chen", {"owner"}), {}),
    ]
    for event_id, actor, payload in walk:
        engine.fire(case.id, event_id, actor, payload)
    before = {clock.limit_id: clock for clock in engine.store.clocks(case.id)}
    assert before["repair-drain-leak"].status == "paused"
    assert not [t for t in engine.store.pending_timers(case.id) if t.name == "repair-drain-leak"]
    statements = Statements(engine, request)
    engine.fire(case.id, "supervisor_sign", SUPERVISOR, {})
    after = {clock.limit_id: clock for clock in engine.store.clocks(case.id)}
    assert after["repair-drain-leak"].status == "stopped"
    assert statements.seen["DELETE timers"] == 0
    assert statements.seen["INSERT sla_clocks"] == 1  # the stop and the new clock, one upsert
    running = {t.name for t in engine.store.pending_timers(case.id)}
    assert "repair-return-visit" in running
    visit = {"visit_method": "phone", "visit_result": "满意", "satisfaction": "satisfied"}
    statements.clear()
    engine.fire(case.id, "return_visit", RECEPTIONIST, visit)
    assert statements.seen["DELETE timers"] == 1
    assert engine.store.pending_timers(case.id) == []


def test_a_clock_not_read_with_its_case_is_updated_in_place(engine: Engine) -> None:
    """Without the clocks as read, a change of a clock the case has updates its row (and
    withdraws its pending timers) rather than adding one."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    record = engine.store.get_case(case.id)
    assert record is not None
    (running, *_) = [c for c in engine.store.clocks(case.id) if c.status == "running" and c.plan]
    stopped = replace(running, status="stopped", stopped_at=START, plan=())
    moved = replace(record, version=record.version + 1)
    change = (ClockChange(case.id, running.limit_id, stopped, ()),)
    engine.store.commit([CaseWrite(moved, record.version, clocks=change)], at=START)
    stored = [c for c in engine.store.clocks(case.id) if c.limit_id == running.limit_id]
    assert stored == [stopped]
    assert [t for t in engine.store.pending_timers(case.id) if t.name == running.limit_id] == []
