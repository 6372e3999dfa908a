"""How long a month's report for one estate takes, and how that grows with the store.

The store is filled directly (bulk inserts, not the engine: opening a million cases through
the engine would take hours) with what the engine writes for a repair that went the whole
way: the case row, its log (open, record, dispatch, finish, sign-off, return visit, and a
failed acceptance for some), and its clocks (the 24-hour completion limit, recording and
routing), a few percent of them breached. Every estate gets ``--per-month`` repairs a month
for ``--years`` years. The report is timed for one estate and the last month, on a store of
``--estates`` estates and again on one of ten times as many (the measured estate's own cases
the same), so the second figure shows what the size of the store costs.

    python benchmarks/bench_reports.py                                  # SQLite files
    python benchmarks/bench_reports.py --estates 10 --per-month 280     # 1,000,000 cases at 10×
    python benchmarks/bench_reports.py --db postgresql

Exits 1 if the report's counts differ from the counts the generator knows it wrote, or if the
larger store costs more than 1.3 times the time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from engine.checks.validation import validate_paths
from engine.io.library import Library
from engine.io.resources import standard_library_dirs
from engine.reports import build_report, parse_period
from engine.store import Store
from engine.store.schema import case_log, cases, definitions, sla_clocks

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEASURED = "estate-000"
#: The month reported: the last of the generated history.
PERIOD = "2026-03"
END = datetime(2026, 4, 1, tzinfo=SHANGHAI)
BATCH = 20_000

#: A log entry as generated: event, from state, to state, payload.
Step = tuple[str, str | None, str, dict[str, str]]


def _clock(case_id: str, limit: str, start: datetime, deadline: datetime, stop: datetime,
           breached: bool) -> dict[str, Any]:  # fmt: skip
    return {
        "case_id": case_id, "limit_id": limit, "status": "stopped", "started_at": start,
        "deadline": deadline, "paused_at": None, "breached_at": deadline if breached else None,
        "stopped_at": stop, "tier": 0, "warnings_sent": [], "extensions": [], "notes": [],
        "plan": [], "pauses": [],
    }  # fmt: skip


def repairs(estate: str, months: int, per_month: int, rng: random.Random) -> Iterator[
    tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], dict[str, bool]]
]:  # fmt: skip
    """Each repair's case row, log rows and clock rows, with what the report should count."""
    first = END - timedelta(days=30.44 * months)
    span = (END - first).total_seconds()
    for _ in range(months * per_month):
        opened = first + timedelta(seconds=rng.random() * (span - 3 * 86_400))
        case_id = str(uuid.uuid4())
        late = rng.random() < 0.03
        rejected = rng.random() < 0.02
        satisfied = rng.random() < 0.97
        recorded = opened + timedelta(seconds=30)
        dispatched = recorded + timedelta(minutes=1)
        finished = dispatched + timedelta(hours=30 if late else 3)
        signed = finished + timedelta(minutes=30)
        visited = signed + timedelta(hours=2)
        steps: list[Step] = [("open", None, "received", {}),
                             ("record", "received", "reported", {}),
                             ("dispatch", "reported", "dispatched", {}),
                             ("finish_work", "in_progress", "awaiting_signoff", {})]  # fmt: skip
        if rejected:
            steps += [("owner_reject", "awaiting_signoff", "in_progress", {}),
                      ("finish_work", "in_progress", "awaiting_signoff", {})]  # fmt: skip
        answer = "satisfied" if satisfied else "dissatisfied"
        steps += [("supervisor_sign", "awaiting_signoff", "signed_off", {}),
                  ("return_visit", "signed_off", "closed", {"satisfaction": answer})]  # fmt: skip
        times = [opened, recorded, dispatched, finished]
        times += [finished + timedelta(minutes=10), finished + timedelta(minutes=20)] * rejected
        times += [signed, visited]
        log: list[dict[str, Any]] = [
            {"case_id": case_id, "version": n + 1, "event": event, "actor_id": "p", "role": "r",
             "at": at, "from_state": src, "to_state": dst, "payload": payload, "changes": {},
             "assignee": None, "actions": [], "idempotency_key": None}
            for n, ((event, src, dst, payload), at) in enumerate(zip(steps, times, strict=True))
        ]  # fmt: skip
        row = {
            "id": case_id, "estate": estate, "process": "repair", "definition_version": "v1",
            "state": "closed", "assignee": "receptionist", "version": len(log),
            "data": {"scope": "in_unit", "urgency": "urgent", "category": "electrical",
                     "satisfaction": answer},
            "opened_at": opened, "updated_at": visited, "closed_at": visited,
        }  # fmt: skip
        clocks = [
            _clock(case_id, "repair-urgent", recorded, recorded + timedelta(hours=24), signed,
                   late),
            _clock(case_id, "repair-record", opened, opened + timedelta(minutes=1), recorded,
                   False),
            _clock(case_id, "repair-route", recorded, recorded + timedelta(minutes=2),
                   dispatched, False),
        ]  # fmt: skip
        in_period = {
            "signed": END - timedelta(days=31) <= signed < END,
            "late": late,
            "visited": END - timedelta(days=31) <= visited < END,
            "satisfied": satisfied,
            "passed": not rejected,
        }
        yield row, log, clocks, in_period


def fill(store: Store, estates: int, months: int, per_month: int) -> dict[str, int]:
    """Write the history of ``estates`` estates; return what the measured estate should show."""
    rng = random.Random(7)
    expected = {"decided": 0, "on_time": 0, "visits": 0, "satisfied": 0, "closed": 0,
                "passed": 0}  # fmt: skip
    _, march = parse_period(PERIOD, "Asia/Shanghai")
    with store.transaction() as tx:
        tx.execute(insert(definitions), [{"version": "v1", "process": "repair", "content": {},
                                          "created_at": datetime.now(UTC)}])  # fmt: skip
    for number in range(estates):
        estate = f"estate-{number:03d}"
        rows: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        for row, log, clock_rows, flags in repairs(estate, months, per_month, rng):
            rows.append(row)
            logs.extend(log)
            clocks.extend(clock_rows)
            if estate == MEASURED:
                urgent = clock_rows[0]
                decided = urgent["breached_at"] or urgent["stopped_at"]
                if march.start <= decided < march.end:
                    expected["decided"] += 1
                    expected["on_time"] += not flags["late"]
                visit = log[-1]["at"]
                if march.start <= visit < march.end:
                    expected["visits"] += 1
                    expected["satisfied"] += flags["satisfied"]
                    expected["closed"] += 1
                    expected["passed"] += flags["passed"]
            if len(logs) >= BATCH:
                _write(store, rows, logs, clocks)
                rows, logs, clocks = [], [], []
        _write(store, rows, logs, clocks)
    return expected


def _write(store: Store, rows: list[Any], logs: list[Any], clocks: list[Any]) -> None:
    if not rows:
        return
    with store.transaction() as tx:
        tx.execute(insert(cases), rows)
        tx.execute(insert(case_log), logs)
        tx.execute(insert(sla_clocks), clocks)


def report_counts(store: Store, library: Library) -> tuple[float, dict[str, tuple[int, int]]]:
    """One report of the measured estate for the month: its time and counts by indicator."""
    _, period = parse_period(PERIOD, "Asia/Shanghai")
    started = time.perf_counter()
    report = build_report(store, library, MEASURED, "Asia/Shanghai", period)
    seconds = time.perf_counter() - started
    return seconds, {r.kpi.id: (r.counts.numerator, r.counts.denominator) for r in report.results}


def filled(url: str, estates: int, months: int, per_month: int) -> dict[str, Any]:
    """A store of ``estates`` estates, with the fill time and the measured estate's counts."""
    store = Store(url)
    started = time.perf_counter()
    expected = fill(store, estates, months, per_month)
    seconds = time.perf_counter() - started
    if store.dialect == "postgresql":
        with store.transaction() as tx:
            tx.exec_driver_sql("ANALYZE")
    return {"store": store, "cases": estates * months * per_month, "fill": seconds,
            "expected": expected, "times": []}  # fmt: skip


def right(counts: dict[str, tuple[int, int]], expected: dict[str, int]) -> bool:
    """Whether the report counted what the generator wrote."""
    return (
        counts["repair-timeliness"] == (expected["on_time"], expected["decided"])
        and counts["repair-satisfaction"] == (expected["satisfied"], expected["visits"])
        and counts["repair-pass-rate"] == (expected["passed"], expected["closed"])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--estates", type=int, default=10, help="estates in the smaller store")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--per-month", type=int, default=30, help="repairs per estate a month")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=20, help="reports timed on each store")
    args = parser.parse_args(argv)
    months = 12 * args.years
    library = validate_paths(standard_library_dirs()).validated.library
    sizes = (args.estates, 10 * args.estates)
    with tempfile.TemporaryDirectory() as temp:
        server = None
        if args.db == "postgresql":
            from tests.postgres import start_server

            server = start_server()
        stores = []
        try:
            for index, estates in enumerate(sizes):
                url = (
                    f"sqlite:///{Path(temp) / f'cases-{index}.db'}"
                    if server is None
                    else server.create_database()
                )
                stores.append(filled(url, estates, months, args.per_month))
            # Alternate the two stores so that the load of a shared machine falls on both.
            correct = True
            for _ in range(args.runs):
                for each in stores:
                    seconds, counts = report_counts(each["store"], library)
                    each["times"].append(seconds)
                    correct = correct and right(counts, each["expected"])
        finally:
            for each in stores:
                each["store"].close()
            if server is not None:
                server.stop()
    for estates, each in zip(sizes, stores, strict=True):
        print(f"{args.db}: {estates} estates, {each['cases']:,} cases (filled in "
              f"{each['fill']:.0f} s): a month's report of one estate ({args.per_month} repairs "
              f"a month) in {min(each['times']) * 1000:.0f} ms best, "
              f"{statistics.median(each['times']) * 1000:.0f} ms median of "
              f"{args.runs}")  # fmt: skip
    ratio = min(stores[1]["times"]) / min(stores[0]["times"])
    print(f"counts {'right' if correct else 'WRONG'}; 10x the store: {ratio:.2f}x the time")
    return 0 if correct and ratio <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
