"""A tick fires a batch of timers set-based, and the batch changes nothing a timer does.

The statements a tick sends follow the kinds of rows it writes, not the timers it fires;
a case with several timers due fires them all in one tick, each after the one before it,
with the same log, clocks and assignee as the case's timers fired on a store of their own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from benchmarks.bench_runtime import sent
from engine.runtime import Actor, Engine, ManualClock
from engine.store import (
    CaseRecord,
    CaseWrite,
    ClockChange,
    ClockRecord,
    DefinitionRecord,
    LogEntry,
    OutboxItem,
    Store,
    TimerRecord,
    TimerTaken,
    VersionConflict,
)
from tests.conftest import validated_library

RECEPTIONIST = Actor("li", {"receptionist"})
OPENING = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
FORM = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def recorded(engine: Engine, clock: ManualClock, count: int) -> list[str]:
    """``count`` general repairs recorded at the same moment (their clocks run alike)."""
    ids = [
        engine.open_case("repair", {**OPENING, "unit": f"3-{1201 + index}"}, RECEPTIONIST).id
        for index in range(count)
    ]
    clock.advance(timedelta(minutes=1))
    for case in ids:
        engine.fire(case, "record", RECEPTIONIST, FORM)
    return ids


def ticked(engine: Engine) -> tuple[int, int]:
    """One tick: the timers it fired and the statements it sent."""
    with sent(engine.store.engine) as statements:
        fired = engine.tick().fired
    return fired, len(statements)


def story(engine: Engine, case: str) -> list[tuple[str, str | None, str]]:
    """What the case's log says happened after it was recorded: event, assignee, state."""
    return [(e.event, e.assignee, e.to_state) for e in engine.history(case)[2:]]


def test_a_tick_sends_as_many_statements_for_many_timers_as_for_few() -> None:
    """Two stores alike but for the number of cases (each in a unit of its own, so no
    pattern matches more in one than in the other), ticked at the same moment."""
    counts = []
    for number in (2, 20):
        clock = ManualClock(START)
        engine = Engine(validated_library(), "sqlite://", clock)
        recorded(engine, clock, number)
        clock.advance(timedelta(days=4))
        counts.append(ticked(engine))
        engine.close()
    (few, few_statements), (many, many_statements) = counts
    assert few >= 2 and many == 10 * few
    assert many_statements == few_statements


def test_timers_fired_in_one_batch_leave_each_case_as_fired_alone(store_url: str) -> None:
    clock = ManualClock(START)
    store = Store(store_url)
    engine = Engine(validated_library(), store, clock)
    cases = recorded(engine, clock, 5)
    clock.advance(timedelta(days=30))  # warnings, breaches and tiers all due at once
    fired, _ = ticked(engine)

    alone_clock = ManualClock(START)
    alone = Engine(validated_library(), "sqlite://", alone_clock)
    (single,) = recorded(alone, alone_clock, 1)
    alone_clock.advance(timedelta(days=30))
    fired_alone, _ = ticked(alone)

    assert fired_alone >= 2 and fired == 5 * fired_alone
    expected = story(alone, single)
    assert any(event.startswith("breach:") for event, _, _ in expected)
    for case in cases:
        assert story(engine, case) == expected
        assert [c.status for c in store.clocks(case)] == [
            c.status for c in alone.store.clocks(single)
        ]
        assert not [t for t in store.pending_timers(case) if t.due_at <= clock.now()]
    assert ticked(engine)[0] == 0  # nothing fires twice
    store.close()
    alone.close()


#: Text that an array literal or a JSON encoder must quote: braces, quotes, backslashes.
AWKWARD = ("{}", '{"a": [1, {}]}', 'say "hi" \\ {x}', "报修 {1,2} ,NULL")


def test_the_rows_of_one_commit_come_back_as_written(store_url: str) -> None:
    """The store writes each kind of row of a commit in one statement (on PostgreSQL from
    arrays): the rows of many cases come back as given, awkward text, empty JSON values and
    missing moments included, and a timer fired once is refused a second time."""
    store = Store(store_url)
    store.save_definition(DefinitionRecord("v1", "p", {}), START)
    later = START + timedelta(hours=1)
    opened = [
        CaseRecord(f"c{i}", "e", "p", "v1", "s", {"text": text}, None, 1, START, START)
        for i, text in enumerate(AWKWARD)
    ]
    first = [
        CaseWrite(
            case,
            None,
            clocks=(
                ClockChange(
                    case.id,
                    "lim",
                    ClockRecord(case.id, "lim", "running", START, later),
                    (TimerRecord(case.id, "warning", "lim", later, {"index": 0}),),
                ),
            ),
        )
        for case in opened
    ]
    store.commit(first, at=START)
    due = [timer.id for case in opened for timer in store.pending_timers(case.id)]
    assert len(due) == len(AWKWARD)

    writes = []
    for i, (case, text) in enumerate(zip(opened, AWKWARD, strict=True)):
        moved = replace(
            case,
            state="t",
            data={**case.data, "empty": {} if i % 2 else [[]]},
            assignee=text if i else None,
            version=2,
            updated_at=later,
        )
        entry = LogEntry(
            case.id, 2, "go", "a", "r", later, "s", "t", {}, {"text": text}, moved.assignee,
            [{"hook": text}],
        )  # fmt: skip
        item = OutboxItem(case.id, "notify", None, text if i else None, {"text": text}, later)
        clock = ClockRecord(
            case.id,
            "lim",
            "running",
            START,
            None if i == 0 else later,
            breached_at=later if i % 2 else None,
            warnings_sent=(text,),
            notes=() if i % 2 else (text,),
        )
        timer = TimerRecord(case.id, "breach", "lim", later, {"text": text})
        change = ClockChange(case.id, "lim", clock, (timer,))
        writes.append(CaseWrite(moved, 1, (entry,), (item,), (change,)))
    store.commit(writes, at=later, fired_timers=due)

    for write in writes:
        case = write.case
        assert store.get_case(case.id) == case
        (entry,) = [e for e in store.history(case.id) if e.version == 2]
        assert replace(entry, seq=None) == write.entries[0]
        (item,) = store.outbox_items(case.id)
        given = write.items[0]
        assert item.log_seq == entry.seq
        assert (item.kind, item.role, item.message, item.payload, item.created_at) == (
            given.kind,
            given.role,
            given.message,
            given.payload,
            given.created_at,
        )
        assert store.clocks(case.id) == [write.clocks[0].clock]
        assert [(t.kind, t.payload) for t in store.pending_timers(case.id)] == [
            ("breach", write.clocks[0].timers[0].payload)  # type: ignore[index]
        ]
    with pytest.raises(TimerTaken):
        store.commit([], at=later, fired_timers=due[:1])
    stale = [replace(write, expected_version=2) for write in writes[:2]] + writes[2:3]
    with pytest.raises(VersionConflict):
        store.commit([replace(w, case=replace(w.case, version=3)) for w in stale], at=later)
    assert [store.get_case(write.case.id) for write in writes] == [w.case for w in writes]
    store.close()
