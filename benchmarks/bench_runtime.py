"""Benchmark the case runtime against the bare tools it is built on, side by side.

Four figures, each measured in one run on this machine:

1. **Persisted fire** on a SQLite file with the durable settings (WAL, synchronous FULL):
   ``Engine.fire`` events per second on the repair walk, against two bare sides with the
   same durability, each transaction updating the case row with its version check and
   inserting one log row: raw ``sqlite3`` (the floor any Python writer pays) and SQLAlchemy
   Core with its statements built once (what the store is written in). Targets: >= 0.5x raw
   ``sqlite3``, >= 1.0x SQLAlchemy. The engine's statements per event are counted too.
2. **In-memory engine overhead**: the engine's interpretation of an event without the store
   (``CaseChange.fire``: role, payload types, guard, requires, the transitions machine,
   actions, the SLA clocks' reaction) against raw ``transitions`` doing the same transitions
   (one shared machine, ``add_model``/``trigger``/``remove_model``). Target: >= 0.55x.
   With both, the Python function calls per event of each side (``cProfile``, one walk of
   a round's cases outside the timed rounds): a count that does not move with the load of
   a shared machine, where the rates do.
3. **Memory with the number of cases**: RSS after opening and closing 10,000 and then
   100,000 cases in one store (default sizes; ``--cases`` changes them). Target: flat.

The sides of 1 and 2 take turns within each round (the order alternating from round to
round) and each figure is the median of the rounds: a burst of another process's work on a
shared machine then slows every side alike, where one run after the other would compare two
moments.

Run: ``python -m benchmarks.bench_runtime`` (``--quick`` for a smoke run); the figures are in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import logging
import pstats
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.engine import Engine as SqlEngine
from transitions import Machine

from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.change import CaseChange
from engine.store import Store, driver
from engine.store.schema import case_log, cases

START = datetime(2026, 2, 9, 1, 0, tzinfo=UTC)
DESK = Actor("li", {"receptionist"})
SUPERVISOR = Actor("wang", {"supervisor"})
FORM = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生", "owner_account": "chen"}
RECORD = {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"}

#: The repair walk each benchmark repeats: event, actor, payload.
WALK: list[tuple[str, Actor, dict[str, Any]]] = [
    ("record", DESK, RECORD),
    ("dispatch", SUPERVISOR, {"technician": "赵师傅"}),
    ("confirm_on_site", Actor("zhao", {"technician"}), {"actual_situation": "接头松动"}),
    ("finish_work", Actor("zhao", {"technician"}), {"work_done": "更换接头", "hours": 1}),
    ("owner_accept", Actor("chen", {"owner"}), {}),
    ("supervisor_sign", SUPERVISOR, {}),
    (
        "return_visit",
        DESK,
        {"visit_method": "phone", "visit_result": "满意", "satisfaction": "satisfied"},
    ),
]


def rss_mib() -> float:
    """Resident memory of this process (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def in_turns(rounds: int, *works: Callable[[int], float]) -> list[float]:
    """The median timing (seconds) of each of ``works`` over ``rounds`` rounds in which they
    take turns, the order reversed every other round (so no side always runs right after
    another's disk writes). Each work is given the round's number and times itself."""
    timings: list[list[float]] = [[] for _ in works]
    order = list(range(len(works)))
    for number in range(rounds):
        for index in order if number % 2 == 0 else order[::-1]:
            timings[index].append(works[index](number))
    return [statistics.median(found) for found in timings]


@contextmanager
def sent(engine: SqlEngine) -> Iterator[list[str]]:
    """The statements ``engine``'s connections send to the database while the block runs,
    in order: those SQLAlchemy executes (seen by its ``before_cursor_execute`` event: a
    transaction's ``BEGIN`` and the store's other statements) and those the store sends on
    the driver's cursor itself (logged by :mod:`engine.store.driver`). A commit, the
    driver's own call, is in neither."""
    statements: list[str] = []

    def executed(*args: Any) -> None:
        statements.append(str(args[2]))

    class Logged(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if getattr(record, "engine", None) is engine:
                statements.append(record.getMessage())

    handler, level = Logged(), driver.log.level
    event.listen(engine, "before_cursor_execute", executed)
    driver.log.addHandler(handler)
    driver.log.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        driver.log.setLevel(level)
        driver.log.removeHandler(handler)
        event.remove(engine, "before_cursor_execute", executed)


def calls_per_event(work: Callable[[], object], events: int) -> float:
    """Python function calls ``work`` makes per event, counted by ``cProfile``."""
    profile = cProfile.Profile()
    profile.runcall(work)
    total: int = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return total / events


@dataclass(frozen=True)
class Persisted:
    """Persisted-fire figures: events (or transactions) per second, medians of the rounds."""

    engine: float
    raw_sqlite: float
    sqlalchemy: float
    #: Statements the engine sent per event (``BEGIN`` included; the commit is no statement).
    statements: float
    #: The same count for the SQLAlchemy side (``BEGIN``, update, insert).
    bare_statements: float
    #: Python function calls per event of the engine, and per transaction of the SQLAlchemy
    #: side (see :func:`calls_per_event`).
    calls: float
    bare_calls: float


#: Cases each side handles per turn in :func:`persisted_fire` (7 events or transactions each).
PERSISTED_TURN = 10

#: The bare sides' statements: what a hand-written writer of the same rows would send.
_RAW_UPDATE = "UPDATE cases SET state=?, data=?, version=?, updated_at=? WHERE id=? AND version=?"
_RAW_INSERT = (
    "INSERT INTO case_log (case_id, version, event, actor_id, role, at, from_state, "
    "to_state, payload, changes, assignee, actions, estate) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def raw_walk(raw: sqlite3.Connection, case_ids: Sequence[str]) -> None:
    """The bare ``sqlite3`` side: for each case, one transaction an event of the walk, each
    updating the case row with its version check and inserting one log row."""
    for case_id in case_ids:
        for step in range(len(WALK)):
            at = (START + timedelta(minutes=step)).strftime("%Y-%m-%d %H:%M:%S.%f")
            raw.execute("BEGIN IMMEDIATE")
            found = raw.execute(
                _RAW_UPDATE,
                (f"s{step}", json.dumps({"step": step}), step + 2, at, case_id, step + 1),
            )
            assert found.rowcount == 1
            raw.execute(
                _RAW_INSERT,
                (case_id, step + 2, f"e{step}", "li", "receptionist", at, "a", "b", "{}",
                 json.dumps({"step": step}), None, "[]", "standard"),
            )  # fmt: skip
            raw.execute("COMMIT")


_CORE_UPDATE = update(cases).where(
    cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_expected")
)
_CORE_INSERT = insert(case_log)


def _cases_of(directory: Path, name: str, count: int) -> list[str]:
    """A store at ``name`` in ``directory`` with ``count`` repair cases opened; their ids."""
    writer = Engine(store=f"sqlite:///{directory / name}", clock=ManualClock(START))
    ids = [writer.open_case("repair", FORM, DESK).id for _ in range(count)]
    writer.close()
    return ids


def persisted_fire(rounds: int, directory: Path) -> Persisted:
    """Persisted fire against raw ``sqlite3`` and SQLAlchemy Core, on durable SQLite files.

    Each round, every side walks :data:`PERSISTED_TURN` fresh cases through the repair walk
    (7 events, or 7 transactions, a case); each side has a database file of its own, made by
    the store (same tables and indexes).
    """
    cases_count = (rounds + 1) * PERSISTED_TURN  # and a turn to count the calls of
    clock = ManualClock(START)
    engine = Engine(store=f"sqlite:///{directory / 'engine.db'}", clock=clock)
    opened = [engine.open_case("repair", FORM, DESK).id for _ in range(cases_count)]
    raw_ids = _cases_of(directory, "raw.db", cases_count)
    core_ids = _cases_of(directory, "core.db", cases_count)

    raw = sqlite3.connect(directory / "raw.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        raw.execute(f"PRAGMA {pragma}")
    core = Store(f"sqlite:///{directory / 'core.db'}")
    engine_statements: list[int] = []
    core_statements: list[int] = []

    def turn_of(ids: list[str], number: int) -> list[str]:
        return ids[number * PERSISTED_TURN : (number + 1) * PERSISTED_TURN]

    # The walks, timed; their turns count the statements too (the calls are counted of a
    # walk alone, without the counting's).
    def engine_walk(number: int) -> float:
        began = time.perf_counter()
        for case_id in turn_of(opened, number):
            for name, actor, payload in WALK:
                clock.advance(timedelta(minutes=1))
                engine.fire(case_id, name, actor, payload)
        return time.perf_counter() - began

    def engine_turn(number: int) -> float:
        with sent(engine.store.engine) as statements:
            seconds = engine_walk(number)
        engine_statements.append(len(statements))
        return seconds

    def raw_turn(number: int) -> float:
        began = time.perf_counter()
        raw_walk(raw, turn_of(raw_ids, number))
        return time.perf_counter() - began

    def core_walk(number: int) -> float:
        began = time.perf_counter()
        for case_id in turn_of(core_ids, number):
            for step in range(len(WALK)):
                at = START + timedelta(minutes=step)
                with core.transaction() as tx:
                    result = tx.execute(
                        _CORE_UPDATE,
                        {
                            "b_id": case_id,
                            "b_expected": step + 1,
                            "state": f"s{step}",
                            "data": {"step": step},
                            "version": step + 2,
                            "updated_at": at,
                        },
                    )
                    assert result.rowcount == 1
                    tx.execute(
                        _CORE_INSERT,
                        {
                            "case_id": case_id,
                            "version": step + 2,
                            "event": f"e{step}",
                            "actor_id": "li",
                            "role": "receptionist",
                            "at": at,
                            "from_state": "a",
                            "to_state": "b",
                            "payload": {},
                            "changes": {"step": step},
                            "assignee": None,
                            "actions": [],
                            "estate": "standard",
                        },
                    )
        return time.perf_counter() - began

    def core_turn(number: int) -> float:
        with sent(core.engine) as statements:
            seconds = core_walk(number)
        core_statements.append(len(statements))
        return seconds

    engine_s, raw_s, core_s = in_turns(rounds, engine_turn, raw_turn, core_turn)
    events = PERSISTED_TURN * len(WALK)
    calls = calls_per_event(lambda: engine_walk(rounds), events)
    bare_calls = calls_per_event(lambda: core_walk(rounds), events)
    engine.close()
    core.close()
    raw.close()
    return Persisted(
        rate(events, engine_s),
        rate(events, raw_s),
        rate(events, core_s),
        sum(engine_statements) / (events * rounds),
        sum(core_statements) / (events * rounds),
        calls,
        bare_calls,
    )


@dataclass(frozen=True)
class InMemory:
    """In-memory figures: events per second (medians of the rounds) and Python function
    calls per event (see :func:`calls_per_event`), of the engine and of raw ``transitions``."""

    engine: float
    raw: float
    calls: float
    raw_calls: float


def in_memory(cases_count: int, rounds: int) -> InMemory:
    """The engine's interpretation without the store against raw ``transitions``, each
    rate the median of ``rounds`` rounds of ``cases_count`` walks."""
    clock = ManualClock(START)
    engine = Engine(store="sqlite://", clock=clock)
    case = engine.open_case("repair", FORM, DESK)
    record = engine.store.get_case(case.id)
    assert record is not None
    compiled = engine.definitions.of_case(record)  # the engine's own compiled definition
    planner = engine.definitions.planner_of(record)

    def engine_walks(_number: int) -> float:
        began = time.perf_counter()
        for _ in range(cases_count):
            change = CaseChange(compiled, record, {}, planner, START)
            for name, actor, payload in WALK:
                change.fire(name, actor, payload)
        return time.perf_counter() - began

    states = list(compiled.process.states)
    transitions = [
        {"trigger": eid, "source": list(e.sources), "dest": e.target}
        for eid, e in compiled.process.events.items()
    ]
    machine = Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial="received",
        auto_transitions=False,
    )

    class Model:
        state = "received"

    def raw_walks(_number: int) -> float:
        began = time.perf_counter()
        for _ in range(cases_count):
            model = Model()
            machine.add_model(model, initial="received")
            for name, _actor, _payload in WALK:
                model.trigger(name)  # type: ignore[attr-defined]
            machine.remove_model(model)
        return time.perf_counter() - began

    events = cases_count * len(WALK)
    engine_median, raw_median = in_turns(rounds, engine_walks, raw_walks)
    calls = calls_per_event(lambda: engine_walks(rounds), events)
    raw_calls = calls_per_event(lambda: raw_walks(rounds), events)
    engine.close()
    return InMemory(rate(events, engine_median), rate(events, raw_median), calls, raw_calls)


def memory(sizes: list[int], directory: Path) -> list[tuple[int, float]]:
    """RSS after opening and closing each cumulative number of cases in one store."""
    clock = ManualClock(START)
    engine = Engine(store=f"sqlite:///{directory / 'memory.db'}", clock=clock)
    done = 0
    figures = []
    for size in sizes:
        while done < size:
            case = engine.open_case("repair", {**FORM, "scope": "public"}, DESK)
            clock.advance(timedelta(seconds=1))
            engine.fire(case.id, "record", DESK, RECORD)
            engine.fire(case.id, "withdraw", DESK, {})
            engine.fire(case.id, "confirm_cancel", SUPERVISOR, {"cancel_reason": "不需要了"})
            done += 1
        gc.collect()
        figures.append((done, rss_mib()))
    engine.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run.")
    parser.add_argument("--cases", type=int, nargs="+", help="Memory sizes (cumulative).")
    parser.add_argument(
        "--dir",
        type=Path,
        help="Where the memory run's database goes (a tmpfs such as /dev/shm makes it fast "
        "without changing what it measures: the engine's memory, not the disk's speed). The "
        "persisted-fire figures always use a file on disk.",
    )
    args = parser.parse_args()
    persisted_rounds, memory_cases, sizes = (
        (5, 200, [200, 2_000]) if args.quick else (20, 2_000, [10_000, 100_000])
    )
    sizes = args.cases or sizes
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory(dir=args.dir) as memory_folder,
    ):
        directory = Path(folder)
        found = persisted_fire(persisted_rounds, directory)
        print(
            f"persisted fire (SQLite file, WAL, synchronous FULL), medians of "
            f"{persisted_rounds} rounds: engine {found.engine:,.0f} events/s, "
            f"{found.statements:.1f} statements an event; raw sqlite3 "
            f"{found.raw_sqlite:,.0f} tx/s, ratio {found.engine / found.raw_sqlite:.2f} "
            f"(target >= 0.5); SQLAlchemy Core, statements built once, "
            f"{found.sqlalchemy:,.0f} tx/s ({found.bare_statements:.1f} statements), ratio "
            f"{found.engine / found.sqlalchemy:.2f} (target >= 1.0); Python calls an event: "
            f"engine {found.calls:,.0f}, SQLAlchemy side {found.bare_calls:,.0f}"
        )
        mem = in_memory(memory_cases, 5)
        print(
            f"in-memory interpretation, medians of 5 rounds: engine {mem.engine:,.0f} "
            f"events/s, raw transitions {mem.raw:,.0f} events/s, ratio "
            f"{mem.engine / mem.raw:.2f} (target >= 0.55); Python calls an event: engine "
            f"{mem.calls:,.0f}, raw transitions {mem.raw_calls:,.0f}"
        )
        for done, mib in memory(sizes, Path(memory_folder)):
            print(f"memory after {done:,} cases opened and closed: {mib:.1f} MiB RSS")


if __name__ == "__main__":
    main()
