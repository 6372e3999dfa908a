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
    python benchmarks/bench_reports.py --per-month 280                  # 1,008,000 cases at 10×
    python benchmarks/bench_reports.py --per-month 280 --db postgresql

Exits 1 if the report's counts differ from the counts the generator knows it wrote, if the
larger store costs more than 1.3 times the time, or if a report takes more than 2 s.
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
#: The issue's bound on one report, in seconds.
LIMIT_S = 2.0
#: SQLite's default page cache (in KiB, negative), restored after the fill.
SQLITE_CACHE = -2000

CASE_COLUMNS = ("id", "estate", "process", "definition_version", "state", "data", "assignee",
                "version", "opened_at", "updated_at", "closed_at")  # fmt: skip
LOG_COLUMNS = ("case_id", "version", "event", "actor_id", "role", "at", "from_state",
               "to_state", "payload", "changes", "assignee", "actions", "idempotency_key",
               "estate")  # fmt: skip
CLOCK_COLUMNS = ("case_id", "limit_id", "status", "started_at", "deadline", "paused_at",
                 "breached_at", "stopped_at", "tier", "warnings_sent", "extensions", "notes",
                 "plan", "pauses", "estate")  # fmt: skip
#: The report's period in UTC without a zone, as the generator's moments are.
_, _MARCH = parse_period(PERIOD, "Asia/Shanghai")
MARCH = (_MARCH.start.astimezone(UTC).replace(tzinfo=None),
         _MARCH.end.astimezone(UTC).replace(tzinfo=None))  # fmt: skip


class Moments:
    """Moments as the text each database reads for a ``UTCDateTime`` column: SQLite's stored
    text (UTC, no zone), PostgreSQL's ``timestamptz`` input (the same with ``+00``)."""

    def __init__(self, dialect: str) -> None:
        self.suffix = "+00" if dialect == "postgresql" else ""

    def __call__(self, moment: datetime | None) -> str | None:
        return None if moment is None else moment.isoformat(" ", "microseconds") + self.suffix


def _clock(estate: str, case_id: str, limit: str, start: datetime, deadline: datetime,
           stop: datetime, breached: bool, at: Moments) -> tuple[Any, ...]:  # fmt: skip
    return (case_id, limit, "stopped", at(start), at(deadline), None,
            at(deadline) if breached else None, at(stop), 0, "[]", "[]", "[]", "[]", "[]",
            estate)  # fmt: skip


#: The log of a repair as generated: event, from state, to state.
STEPS = (
    ("open", None, "received"),
    ("record", "received", "reported"),
    ("dispatch", "reported", "dispatched"),
    ("finish_work", "in_progress", "awaiting_signoff"),
)
REJECTED = (
    ("owner_reject", "awaiting_signoff", "in_progress"),
    ("finish_work", "in_progress", "awaiting_signoff"),
)
CLOSING = (("supervisor_sign", "awaiting_signoff", "signed_off"),
           ("return_visit", "signed_off", "closed"))  # fmt: skip


def repairs(estate: str, months: int, per_month: int, rng: random.Random, at: Moments,
            expected: dict[str, int] | None) -> Iterator[
    tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]
]:  # fmt: skip
    """Each repair's case row, log rows and clock rows, as tuples in the columns' order; what
    the report should count of them is added to ``expected`` when given."""
    end = END.astimezone(UTC).replace(tzinfo=None)
    first = end - timedelta(days=30.44 * months)
    span = (end - first).total_seconds() - 3 * 86_400
    for _ in range(months * per_month):
        opened = first + timedelta(seconds=rng.random() * span)
        case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        late = rng.random() < 0.03
        rejected = rng.random() < 0.02
        satisfied = rng.random() < 0.97
        recorded = opened + timedelta(seconds=30)
        dispatched = recorded + timedelta(minutes=1)
        finished = dispatched + timedelta(hours=30 if late else 3)
        signed = finished + timedelta(minutes=30)
        visited = signed + timedelta(hours=2)
        steps = STEPS + REJECTED * rejected + CLOSING
        times = [opened, recorded, dispatched, finished]
        times += [finished + timedelta(minutes=10), finished + timedelta(minutes=20)] * rejected
        times += [signed, visited]
        answer = "satisfied" if satisfied else "dissatisfied"
        payloads = ["{}"] * (len(steps) - 1) + [f'{{"satisfaction": "{answer}"}}']
        log = [
            (case_id, n + 1, event, "p", "r", at(moment), src, dst, payload, "{}", None, "[]",
             None, estate)
            for n, ((event, src, dst), moment, payload)
            in enumerate(zip(steps, times, payloads, strict=True))
        ]  # fmt: skip
        data = ('{"scope": "in_unit", "urgency": "urgent", "category": "electrical", '
                f'"satisfaction": "{answer}"}}')  # fmt: skip
        row = (case_id, estate, "repair", "v1", "closed", data, "receptionist", len(log),
               at(opened), at(visited), at(visited))  # fmt: skip
        clocks = [
            _clock(estate, case_id, "repair-urgent", recorded, recorded + timedelta(hours=24),
                   signed, late, at),
            _clock(estate, case_id, "repair-record", opened, opened + timedelta(minutes=1),
                   recorded, False, at),
            _clock(estate, case_id, "repair-route", recorded, recorded + timedelta(minutes=2),
                   dispatched, False, at),
        ]  # fmt: skip
        if expected is not None:
            decided = recorded + timedelta(hours=24) if late else signed
            if MARCH[0] <= decided < MARCH[1]:
                expected["decided"] += 1
                expected["on_time"] += not late
            if MARCH[0] <= visited < MARCH[1]:
                expected["visits"] += 1
                expected["satisfied"] += satisfied
                expected["closed"] += 1
                expected["passed"] += not rejected
        yield row, log, clocks


def fill(store: Store, estates: int, months: int, per_month: int) -> dict[str, int]:
    """Write the history of ``estates`` estates; return what the measured estate should show.

    Bulk-loaded the way a database is: the tables' secondary indexes are dropped first and
    built once at the end, and the rows go in by the driver's own bulk path (``executemany``
    for SQLite, ``COPY`` for PostgreSQL), each estate in one transaction.
    """
    rng = random.Random(7)
    at = Moments(store.dialect)
    expected = {"decided": 0, "on_time": 0, "visits": 0, "satisfied": 0, "closed": 0,
                "passed": 0}  # fmt: skip
    indexes = [index for table in (cases, case_log, sla_clocks) for index in table.indexes]
    with store.transaction() as tx:
        tx.execute(insert(definitions), [{"version": "v1", "process": "repair", "content": {},
                                          "created_at": datetime.now(UTC)}])  # fmt: skip
        for index in indexes:
            index.drop(tx)
        if store.dialect == "sqlite":  # the unique keys' random inserts want a big cache
            tx.exec_driver_sql("PRAGMA cache_size=-2000000")
    for number in range(estates):
        estate = f"estate-{number:03d}"
        rows: list[tuple[Any, ...]] = []
        logs: list[tuple[Any, ...]] = []
        clocks: list[tuple[Any, ...]] = []
        counted = expected if estate == MEASURED else None
        for row, log, clock_rows in repairs(estate, months, per_month, rng, at, counted):
            rows.append(row)
            logs.extend(log)
            clocks.extend(clock_rows)
        with store.transaction() as tx:
            write = _copy if store.dialect == "postgresql" else _executemany
            cursor = tx.connection.driver_connection.cursor()  # type: ignore[union-attr]
            write(cursor, "cases", CASE_COLUMNS, rows)
            write(cursor, "case_log", LOG_COLUMNS, logs)
            write(cursor, "sla_clocks", CLOCK_COLUMNS, clocks)
    with store.transaction() as tx:
        for index in indexes:
            index.create(tx)
        # PostgreSQL's autovacuum would analyse the new rows soon; SQLite's store never does.
        if store.dialect == "postgresql":
            tx.exec_driver_sql("ANALYZE")
        else:
            tx.exec_driver_sql(f"PRAGMA cache_size={SQLITE_CACHE}")
    return expected


def _executemany(cursor: Any, table: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    marks = ", ".join("?" * len(columns))
    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: list[Any]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


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
    fast = all(min(each["times"]) <= LIMIT_S for each in stores)
    print(f"counts {'right' if correct else 'WRONG'}; 10x the store: {ratio:.2f}x the time; "
          f"{'within' if fast else 'OVER'} {LIMIT_S:.0f} s")  # fmt: skip
    return 0 if correct and ratio <= 1.3 and fast else 1


if __name__ == "__main__":
    raise SystemExit(main())
