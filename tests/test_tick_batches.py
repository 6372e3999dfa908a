"""A tick fires a batch of timers set-based, and the batch changes nothing a timer does.

The statements a tick sends follow the kinds of rows it writes, not the timers it fires;
a case with several timers due fires them all in one tick, each after the one before it,
with the same log, clocks and assignee as the case's timers fired on a store of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from engine.runtime import Actor, Engine, ManualClock
from engine.store import Store
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
    sent = [0]

    def one_more(*_args: object) -> None:
        sent[0] += 1

    event.listen(engine.store.engine, "before_cursor_execute", one_more)
    try:
        fired = engine.tick().fired
    finally:
        event.remove(engine.store.engine, "before_cursor_execute", one_more)
    return fired, sent[0]


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
