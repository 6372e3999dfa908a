"""Benchmark the case runtime against the bare tools it is built on, side by side.

Three figures, each measured in one run on this machine:

1. **Persisted fire** on a SQLite file with the durable settings (WAL, synchronous FULL):
   ``Engine.fire`` events per second, against a bare SQLAlchemy transaction doing the same
   writes (update one case row with a version check, insert one log row). Target: >= 0.5x.
2. **In-memory engine overhead**: the engine's interpretation of an event without the store
   (``CaseChange.fire``: role, payload types, guard, requires, the transitions machine,
   actions, the SLA clocks' reaction) against raw ``transitions`` doing the same transitions
   (one shared machine, ``add_model``/``trigger``/``remove_model``). Target: >= 0.3x.
3. **Memory with the number of cases**: RSS after opening and closing 10,000 and then
   100,000 cases in one store (default sizes; ``--cases`` changes them). Target: flat.

Run: ``python -m benchmarks.bench_runtime`` (``--quick`` for a smoke run); the figures are in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from transitions import Machine

from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.change import CaseChange
from engine.store import Store
from engine.store.schema import case_log, cases

START = datetime(2026, 2, 9, 1, 0, tzinfo=UTC)
DESK = Actor("li", {"receptionist"})
SUPERVISOR = Actor("wang", {"supervisor"})
FORM = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
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


def side_by_side(rounds: int, *works: Callable[[], float]) -> list[float]:
    """The best timing (seconds) of each of ``works``, which time themselves, over ``rounds``
    rounds in which they take turns: each sees the same load from other processes on a
    shared machine, where timing one after the other would compare different moments."""
    best = [float("inf")] * len(works)
    for _ in range(rounds):
        for index, work in enumerate(works):
            best[index] = min(best[index], work())
    return best


#: Cases each side handles per turn in :func:`persisted_fire` (7 events or transactions each).
PERSISTED_TURN = 10


def persisted_fire(cases_count: int, directory: Path) -> tuple[float, float]:
    """(engine events/s, bare SQLAlchemy transactions/s) on durable SQLite files.

    The two sides take turns, :data:`PERSISTED_TURN` cases each, and each side's rate is
    over the sum of its turns: a burst of another process's disk writes (every commit
    waits for the disk) then slows both sides alike, where one run after the other would
    compare two moments of a shared disk.
    """
    clock = ManualClock(START)
    engine = Engine(store=f"sqlite:///{directory / 'engine.db'}", clock=clock)
    opened = [engine.open_case("repair", FORM, DESK).id for _ in range(cases_count)]
    store = Store(f"sqlite:///{directory / 'bare.db'}")
    raw = Engine(store=store, clock=ManualClock(START))
    ids = [raw.open_case("repair", FORM, DESK).id for _ in range(cases_count)]
    raw.close()
    bare = Store(f"sqlite:///{directory / 'bare.db'}")

    def engine_turn(turn: list[str]) -> float:
        began = time.perf_counter()
        for case_id in turn:
            for event, actor, payload in WALK:
                clock.advance(timedelta(minutes=1))
                engine.fire(case_id, event, actor, payload)
        return time.perf_counter() - began

    def bare_turn(turn: list[str]) -> float:
        began = time.perf_counter()
        version = 1
        for step in range(len(WALK)):
            for case_id in turn:
                with bare.transaction() as tx:
                    result = tx.execute(
                        update(cases)
                        .where(cases.c.id == case_id, cases.c.version == version)
                        .values(
                            state=f"s{step}",
                            data={"step": step},
                            version=version + 1,
                            updated_at=START,
                        )
                    )
                    assert result.rowcount == 1
                    tx.execute(
                        insert(case_log).values(
                            case_id=case_id, version=version + 1, event=f"e{step}",
                            actor_id="li", role="receptionist", at=START, from_state="a",
                            to_state="b", payload={}, changes={"step": step}, assignee=None,
                            actions=[], estate="standard",
                        )
                    )
            version += 1
        return time.perf_counter() - began

    engine_seconds = bare_seconds = 0.0
    for start in range(0, cases_count, PERSISTED_TURN):
        engine_seconds += engine_turn(opened[start : start + PERSISTED_TURN])
        bare_seconds += bare_turn(ids[start : start + PERSISTED_TURN])
    engine.close()
    bare.close()
    events = cases_count * len(WALK)
    return rate(events, engine_seconds), rate(events, bare_seconds)


def in_memory(cases_count: int) -> tuple[float, float]:
    """(engine interpretation events/s without the store, raw transitions events/s)."""
    clock = ManualClock(START)
    engine = Engine(store="sqlite://", clock=clock)
    case = engine.open_case("repair", FORM, DESK)
    record = engine.store.get_case(case.id)
    assert record is not None
    compiled = engine.definitions.of_case(record)  # the engine's own compiled definition
    planner = engine.definitions.planner(record.process)

    def engine_walks() -> float:
        began = time.perf_counter()
        for _ in range(cases_count):
            change = CaseChange(compiled, record, {}, planner, START)
            for event, actor, payload in WALK:
                change.fire(event, actor, payload)
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

    def raw_walks() -> float:
        began = time.perf_counter()
        for _ in range(cases_count):
            model = Model()
            machine.add_model(model, initial="received")
            for event, _actor, _payload in WALK:
                model.trigger(event)  # type: ignore[attr-defined]
            machine.remove_model(model)
        return time.perf_counter() - began

    events = cases_count * len(WALK)
    engine_best, raw_best = side_by_side(5, engine_walks, raw_walks)
    engine.close()
    return rate(events, engine_best), rate(events, raw_best)


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
    persisted_cases, memory_cases, sizes = (
        (20, 200, [200, 2_000]) if args.quick else (200, 2_000, [10_000, 100_000])
    )
    sizes = args.cases or sizes
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory(dir=args.dir) as memory_folder,
    ):
        directory = Path(folder)
        engine_rate, bare_rate = persisted_fire(persisted_cases, directory)
        print(
            f"persisted fire (SQLite file, WAL, synchronous FULL): engine {engine_rate:,.0f} "
            f"events/s, bare SQLAlchemy {bare_rate:,.0f} tx/s, "
            f"ratio {engine_rate / bare_rate:.2f} (target >= 0.5)"
        )
        engine_mem, raw_rate = in_memory(memory_cases)
        print(
            f"in-memory interpretation: engine {engine_mem:,.0f} events/s, raw transitions "
            f"{raw_rate:,.0f} events/s, ratio {engine_mem / raw_rate:.2f} (target >= 0.3)"
        )
        for done, mib in memory(sizes, Path(memory_folder)):
            print(f"memory after {done:,} cases opened and closed: {mib:.1f} MiB RSS")


if __name__ == "__main__":
    main()
