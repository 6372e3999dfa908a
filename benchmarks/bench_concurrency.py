"""Concurrent writers: threads of one process firing on different cases, and two processes
on one SQLite file.

1. **Threads**: 16 threads of one process each walk repair cases of their own through the
   repair walk with ``Engine.fire`` on a SQLite file (WAL, synchronous FULL). Reported:
   events per second and each event's latency (p50, p99), against the single-transaction
   bare rate measured in the same run, in turns: raw ``sqlite3``, one caller, one
   transaction per event (``BEGIN IMMEDIATE``, update the case row with its version check,
   insert a log row, ``COMMIT``: the floor of any Python writer that commits each event on
   its own). The engine with one caller is measured in the same turns. Target (issue:
   concurrency): the 16 threads >= 1.0x the bare rate.
2. **Two processes** on one SQLite file, each firing its own cases from ``--process-threads``
   threads: each event's wait for the write lock (from the call of ``fire`` to the end of
   its ``BEGIN IMMEDIATE``, or for an event that joins a group open in its process, to its
   savepoint) and its whole latency; p50, p99 and max over both processes. Target: no
   event waits longer than 100 ms.

Run: ``python -m benchmarks.bench_concurrency`` (``--quick`` for a smoke run); the figures
are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from benchmarks.bench_runtime import DESK, FORM, START, WALK, in_turns, rate, raw_walk
from engine.runtime import Engine, ManualClock

#: Threads firing at once in the threads benchmark.
THREADS = 16


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _open_cases(engine: Engine, count: int) -> list[str]:
    return [engine.open_case("repair", FORM, DESK).id for _ in range(count)]


def _walk(engine: Engine, case_ids: list[str], latencies: list[float]) -> None:
    """Walk the cases through the repair walk, keeping each event's latency (seconds)."""
    for case_id in case_ids:
        for name, actor, payload in WALK:
            began = time.perf_counter()
            engine.fire(case_id, name, actor, payload)
            latencies.append(time.perf_counter() - began)


def threads(rounds: int, cases_per_thread: int, directory: Path) -> dict[str, float]:
    """16 threads against one caller and raw ``sqlite3``, medians of ``rounds`` turns."""
    turn_cases = THREADS * cases_per_thread
    engine = Engine(store=f"sqlite:///{directory / 'threads.db'}", clock=ManualClock(START))
    lone = Engine(store=f"sqlite:///{directory / 'lone.db'}", clock=ManualClock(START))
    grouped_ids = _open_cases(engine, rounds * turn_cases)
    lone_ids = _open_cases(lone, rounds * turn_cases)
    raw_ids = _open_cases(lone, rounds * turn_cases)  # same tables; rows of their own
    raw = sqlite3.connect(directory / "lone.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        raw.execute(f"PRAGMA {pragma}")
    latencies: list[float] = []
    lone_latencies: list[float] = []

    def grouped_turn(number: int) -> float:
        ids = grouped_ids[number * turn_cases : (number + 1) * turn_cases]
        workers = [
            threading.Thread(target=_walk, args=(engine, ids[start::THREADS], latencies))
            for start in range(THREADS)
        ]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return time.perf_counter() - began

    def lone_turn(number: int) -> float:
        began = time.perf_counter()
        _walk(lone, lone_ids[number * turn_cases : (number + 1) * turn_cases], lone_latencies)
        return time.perf_counter() - began

    def raw_turn(number: int) -> float:
        began = time.perf_counter()
        raw_walk(raw, raw_ids[number * turn_cases : (number + 1) * turn_cases])
        return time.perf_counter() - began

    grouped_s, lone_s, raw_s = in_turns(rounds, grouped_turn, lone_turn, raw_turn)
    events = turn_cases * len(WALK)
    raw.close()
    engine.close()
    lone.close()
    return {
        "threads": rate(events, grouped_s),
        "lone": rate(events, lone_s),
        "raw": rate(events, raw_s),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "lone_p99": percentile(lone_latencies, 0.99),
    }


# Two processes ---------------------------------------------------------------------------


def worker(db: str, ids_file: Path, start_at: float, thread_count: int) -> None:
    """One process's part of the two-process run: fire the cases listed in ``ids_file``
    from ``thread_count`` threads once ``start_at`` (``time.time()``) comes; print each
    event's wait for the write lock and latency, as JSON."""
    engine = Engine(store=db, clock=ManualClock(START))
    ids: list[str] = json.loads(ids_file.read_text())
    local = threading.local()
    waits: list[float] = []

    def locked(*args: Any) -> None:
        # The end of BEGIN IMMEDIATE (a group's first event), or of SAVEPOINT (one joining).
        words = str(args[2]).split(None, 2)[:2]
        began = getattr(local, "began", None)
        if began is not None and (words == ["BEGIN", "IMMEDIATE"] or words[:1] == ["SAVEPOINT"]):
            waits.append(time.perf_counter() - began)
            local.began = None

    event.listen(engine.store.engine, "after_cursor_execute", locked)
    latencies: list[float] = []

    def run(case_ids: list[str]) -> None:
        for case_id in case_ids:
            for name, actor, payload in WALK:
                local.began = began = time.perf_counter()
                engine.fire(case_id, name, actor, payload)
                latencies.append(time.perf_counter() - began)

    time.sleep(max(0.0, start_at - time.time()))
    workers = [
        threading.Thread(target=run, args=(ids[start::thread_count],))
        for start in range(thread_count)
    ]
    for one in workers:
        one.start()
    for one in workers:
        one.join()
    engine.close()
    print(json.dumps({"waits": waits, "latencies": latencies}))


def two_processes(cases_each: int, thread_count: int, directory: Path) -> dict[str, float]:
    """Two processes firing on one SQLite file at once: waits and latencies."""
    db = f"sqlite:///{directory / 'shared.db'}"
    setup = Engine(store=db, clock=ManualClock(START))
    lists = []
    for index in range(2):
        path = directory / f"ids-{index}.json"
        path.write_text(json.dumps(_open_cases(setup, cases_each)))
        lists.append(path)
    setup.close()
    start_at = time.time() + 3.0  # both imported and connected by then
    command = [sys.executable, "-m", "benchmarks.bench_concurrency", "--worker", db]
    processes = [
        subprocess.Popen(
            [*command, str(path), str(start_at), str(thread_count)],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        for path in lists
    ]
    waits: list[float] = []
    latencies: list[float] = []
    for process in processes:
        out, _ = process.communicate(timeout=1200)
        if process.returncode != 0:
            raise RuntimeError("a worker process failed")
        found = json.loads(out)
        waits.extend(found["waits"])
        latencies.extend(found["latencies"])
    return {
        "threads": thread_count,
        "events": len(latencies),
        "wait_p50": percentile(waits, 0.5),
        "wait_p99": percentile(waits, 0.99),
        "wait_max": max(waits),
        "over_100ms": sum(1 for wait in waits if wait > 0.1),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _print_threads(found: dict[str, float], rounds: int) -> None:
    print(
        f"{THREADS} threads on different cases (SQLite file, WAL, synchronous FULL), "
        f"medians of {rounds} turns: {found['threads']:,.0f} events/s, p50 "
        f"{_ms(found['p50'])}, p99 {_ms(found['p99'])}; one caller "
        f"{found['lone']:,.0f} events/s (p99 {_ms(found['lone_p99'])}); raw sqlite3, one "
        f"transaction an event, {found['raw']:,.0f} tx/s; ratio to raw "
        f"{found['threads'] / found['raw']:.2f} (target >= 1.0), to one caller "
        f"{found['threads'] / found['lone']:.2f}"
    )


def _print_processes(two: dict[str, float]) -> None:
    print(
        f"two processes on one SQLite file, {two['threads']:.0f} thread(s) each, "
        f"{two['events']:,.0f} events: wait for the write lock p50 {_ms(two['wait_p50'])}, "
        f"p99 {_ms(two['wait_p99'])}, max {_ms(two['wait_max'])}, "
        f"{two['over_100ms']:.0f} over 100 ms (target: none); latency p50 "
        f"{_ms(two['p50'])}, p99 {_ms(two['p99'])}, max {_ms(two['max'])}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes, for a smoke run.")
    parser.add_argument("--rounds", type=int, help="Turns of the threads benchmark.")
    parser.add_argument(
        "--process-threads", type=int, default=1, help="Threads of each of the two processes."
    )
    parser.add_argument(
        "--only", choices=("threads", "processes"), help="Run one of the two benchmarks."
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        db, ids_file, start_at, thread_count = args.worker
        worker(db, Path(ids_file), float(start_at), int(thread_count))
        return
    rounds = args.rounds or (3 if args.quick else 7)
    cases_per_thread, cases_each = (1, 10) if args.quick else (2, 40)
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        if args.only != "processes":
            _print_threads(threads(rounds, cases_per_thread, directory), rounds)
        if args.only != "threads":
            _print_processes(two_processes(cases_each, args.process_threads, directory))


if __name__ == "__main__":
    main()
