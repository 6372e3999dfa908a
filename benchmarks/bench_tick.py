"""How long one ``engine.tick()`` takes to fire 10,000 due timers among many open cases.

The cost of a tick must depend on how many timers are due, not on how many cases are open:
the store finds due timers through a partial index on the unfired timers' ``(estate,
due_at)``, and loads only the cases those timers belong to. So the same 10,000 due timers
are fired once among 100,000 open cases and once among 1,000,000, and the two times are
shown side by side.

The open cases are written in bulk with SQLAlchemy Core, not through the engine, so that the
setup of a million cases takes minutes rather than hours; but the rows are the engine's own:
repair cases of the shipped library (``reported``, a general civil-works repair with its form
filled in), each with its running ``repair-general`` clock (3 days, a warning at 80%, the
2-week tier) and that clock's three timers. Every case is one the engine can load and fire
on. The 10,000 cases whose 3 days ran out an hour ago have their warning fired and their
breach due; every other case is younger than its warning.

    python benchmarks/bench_tick.py                       # 100,000 and 1,000,000, SQLite
    python benchmarks/bench_tick.py --open 20000 200000   # other sizes
    python benchmarks/bench_tick.py --db sqlite postgresql  # also on a throwaway PostgreSQL
    python benchmarks/bench_tick.py --month               # time tests/test_sla.py's 30 days

Each size is written once; then each of ``--repeat`` ticks (default 3) runs on a fresh copy
of that database (after a WAL checkpoint on SQLite, ``VACUUM ANALYZE`` on PostgreSQL), and
the best time counts: this machine is shared, and the slower runs measure the neighbours.
The statements the best tick sent are counted too (per timer fired): a set-based tick's
follow the kinds of rows it writes per batch, not the timers.
Exits 1 if the best tick at the largest size takes more than 1.5 times as long as at the
smallest, or if any due timer was left unfired.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from benchmarks.bench_runtime import sent
from engine.runtime import Engine, ManualClock
from engine.store import Store
from engine.store.schema import case_log, cases, outbox, sla_clocks, timers

DEFAULT_SIZES = (100_000, 1_000_000)
DUE = 10_000
#: The largest allowed ratio of the tick's time at the largest size to that at the smallest.
FLATNESS = 1.5
#: Rows written per INSERT batch while setting up.
CHUNK = 20_000

#: "Now" of the benchmark: a Wednesday morning; every due breach fell due an hour before.
NOW = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)
LIMIT_ID = "repair-general"
LIMIT = timedelta(days=3)
WARNING_AT = LIMIT * 80 / 100
TIER_AFTER = timedelta(weeks=2)

CATEGORIES = ("civil", "electrical", "plumbing", "aircon", "other")
ROOMS = ("客厅", "厨房", "卫生间", "主卧", "阳台", "楼道")


@dataclass(frozen=True)
class Timing:
    backend: str
    open_cases: int
    due: int
    setup_seconds: float
    #: One tick per fresh copy of the populated database; the best counts.
    tick_seconds: tuple[float, ...]
    fired: int
    skipped: int
    left: int
    #: Statements the best tick sent to the database (``BEGIN`` and savepoints included).
    statements: int

    @property
    def best(self) -> float:
        return min(self.tick_seconds)

    @property
    def per_timer_ms(self) -> float:
        return self.best * 1000 / max(self.fired, 1)


class Databases:
    """Where a size's cases are written once, and fresh copies of them for each tick."""

    def __init__(self, backend: str, workdir: Path, server: Any = None) -> None:
        self.backend = backend
        self.workdir = workdir
        self.server = server
        self.copies = 0

    def base(self, size: int) -> str:
        if self.server is None:
            return f"sqlite:///{self.workdir / f'base-{size}.db'}"
        url: str = self.server.create_database()
        return url

    def settle(self, url: str) -> None:
        """After the bulk writes: checkpoint SQLite's WAL into the file, or gather
        PostgreSQL's planner statistics, as a long-running database would have."""
        store = Store(url)
        try:
            with store.engine.connect() as connection:
                if self.backend == "sqlite":
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                else:
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                    connection.exec_driver_sql("VACUUM ANALYZE")
        finally:
            store.close()

    def copy(self, base: str) -> str:
        self.copies += 1
        if self.server is None:
            source = Path(base.removeprefix("sqlite:///"))
            target = self.workdir / f"run-{self.copies}.db"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        name = f"run_{self.copies}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {base.rsplit('/', 1)[1]}")
        return f"{base.rsplit('/', 1)[0]}/{name}"

    def drop(self, url: str) -> None:
        if self.server is None:
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            self.server.drop_database(url)

    def _admin(self, sql: str) -> None:
        import psycopg2

        connection = psycopg2.connect(
            host="127.0.0.1", port=self.server.port, user=self.server.user, dbname="postgres"
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()


def _case_rows(
    n: int, start: int, version: str, rng: random.Random, due: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """The rows of cases ``start`` to ``start + n``: the first ``due`` cases overall are due."""
    for index in range(start, start + n):
        case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if index < due:
            started = NOW - LIMIT - timedelta(hours=1, seconds=index % 3600)
        else:
            started = NOW - timedelta(seconds=rng.randrange(0, 48 * 3600))
        opened = started - timedelta(minutes=1)
        unit = f"{index % 30 + 1}-{index % 28 + 1:02d}{index % 4 + 1:02d}"
        data = {
            "scope": "in_unit",
            "unit": unit,
            "owner_name": f"业主{index}",
            "phone": f"138{index:08d}"[:11],
            "content": "墙面开裂，需修补",
            "location": ROOMS[index % len(ROOMS)],
            "category": CATEGORIES[index % len(CATEGORIES)],
            "urgency": "general",
            "major": False,
            "emergency": False,
            "chargeable": False,
            "quote_accepted": False,
            "paid": False,
            "pay_after_approved": False,
            "owner_contacted": False,
            "owner_materials": False,
            "owner_insisted": False,
            "technician_signed": False,
            "owner_signed": False,
            "supervisor_signed": False,
            "in_warranty": False,
            "paperwork_completed": False,
        }
        case = {
            "id": case_id,
            "estate": "standard",
            "process": "repair",
            "definition_version": version,
            "state": "reported",
            "data": data,
            "assignee": "supervisor",
            "version": 2,
            "opened_at": opened,
            "updated_at": started,
            "closed_at": None,
        }
        deadline = started + LIMIT
        warning = started + WARNING_AT
        tier = started + TIER_AFTER
        warned = index < due
        plan = [
            {"kind": "breach", "index": 0, "due": deadline.isoformat()},
            {"kind": "tier", "index": 0, "due": tier.isoformat()},
        ]
        if not warned:
            plan.insert(1, {"kind": "warning", "index": 0, "due": warning.isoformat()})
        clock = {
            "case_id": case_id,
            "limit_id": LIMIT_ID,
            "status": "running",
            "started_at": started,
            "deadline": deadline,
            "paused_at": None,
            "breached_at": None,
            "stopped_at": None,
            "tier": 0,
            "warnings_sent": ["warning:0"] if warned else [],
            "extensions": [],
            "notes": [],
            "plan": plan,
            "pauses": [],
            "estate": "standard",
        }
        timer_rows = [
            {
                "case_id": case_id,
                "kind": kind,
                "name": LIMIT_ID,
                "due_at": due_at,
                "payload": {"index": 0},
                "created_at": started,
                "fired_at": warning if kind == "warning" and warned else None,
                "estate": "standard",
            }
            for kind, due_at in (("breach", deadline), ("warning", warning), ("tier", tier))
        ]
        yield case, clock, timer_rows


def populate(store: Store, engine: Engine, open_cases: int, due: int, seed: int = 7) -> None:
    """Write ``open_cases`` repair cases with their clocks and timers, in bulk."""
    version = engine.definitions.latest("repair")
    engine.definitions.save(version, NOW)
    rng = random.Random(seed)
    for start in range(0, open_cases, CHUNK):
        rows = list(_case_rows(min(CHUNK, open_cases - start), start, version.id, rng, due))
        with store.transaction() as tx:
            tx.execute(insert(cases), [case for case, _, _ in rows])
            tx.execute(insert(sla_clocks), [clock for _, clock, _ in rows])
            tx.execute(insert(timers), [t for _, _, timer_rows in rows for t in timer_rows])


def count(store: Store, table: Any, *where: Any) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def measure(databases: Databases, open_cases: int, due: int, repeat: int) -> Timing:
    """Populate a database once, then tick ``repeat`` fresh copies of it."""
    base = databases.base(open_cases)
    engine = Engine(store=base, clock=ManualClock(NOW))
    try:
        began = time.perf_counter()
        populate(engine.store, engine, open_cases, due)
        setup = time.perf_counter() - began
    finally:
        engine.close()
    databases.settle(base)
    seconds: list[float] = []
    statements: list[int] = []
    try:
        for _ in range(repeat):
            url = databases.copy(base)
            engine = Engine(store=url, clock=ManualClock(NOW))
            try:
                pending = (timers.c.fired_at.is_(None), timers.c.due_at <= NOW)
                assert count(engine.store, timers, *pending) == due
                with sent(engine.store.engine) as statements_sent:
                    began = time.perf_counter()
                    result = engine.tick(limit=due)
                    seconds.append(time.perf_counter() - began)
                statements.append(len(statements_sent))
                left = count(engine.store, timers, *pending)
                breaches = count(engine.store, case_log, case_log.c.event == f"breach:{LIMIT_ID}")
                escalations = count(engine.store, outbox, outbox.c.kind == "escalate")
                assert breaches == escalations == result.fired, (breaches, escalations, result)
            finally:
                engine.close()
                databases.drop(url)
    finally:
        databases.drop(base)
    return Timing(
        databases.backend,
        open_cases,
        due,
        setup,
        tuple(seconds),
        result.fired,
        result.skipped,
        left,
        statements[seconds.index(min(seconds))],
    )


def month() -> None:
    """Time the 30-day simulation that tests/test_sla.py asserts on (20 cases, 4,321 ticks)."""
    from tests.test_sla import MONTH_LIMITS, at, run_month, write_library

    with tempfile.TemporaryDirectory() as directory:
        library = write_library(Path(directory) / "library", MONTH_LIMITS)
        best = float("inf")
        for _ in range(3):
            clock = ManualClock(at(3, 2, 8))
            engine = Engine(library, store="sqlite://", clock=clock)
            began = time.perf_counter()
            result = run_month(engine, clock)
            best = min(best, time.perf_counter() - began)
            engine.close()
    print(
        f"30 simulated days, {result.ticks:,} ticks, {result.fired} timers fired: "
        f"{best:.2f} s (best of 3, in-memory SQLite)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--open",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help="numbers of open cases (default: 100000 1000000)",
    )
    parser.add_argument("--due", type=int, default=DUE, help="due timers (default: 10000)")
    parser.add_argument(
        "--db",
        nargs="+",
        choices=("sqlite", "postgresql"),
        default=["sqlite"],
        help="databases to run on (default: sqlite); postgresql starts a throwaway server",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="ticks per size, each on a fresh copy (default 3)"
    )
    parser.add_argument("--month", action="store_true", help="time the 30-day simulation")
    args = parser.parse_args(argv)
    if args.month:
        month()
        return 0
    sizes = sorted(set(args.open))
    if any(size < args.due for size in sizes) or args.due < 1 or args.repeat < 1:
        parser.error("every --open size must be at least --due; --due and --repeat positive")

    # SIGTERM unwinds like Ctrl-C, so the databases and the PostgreSQL server are cleaned up.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="propflow-bench-tick-"))
    backends: list[Databases] = []
    server = None
    if "sqlite" in args.db:
        backends.append(Databases("sqlite", workdir))
    if "postgresql" in args.db:
        from tests.postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            parser.error("--db postgresql: the PostgreSQL server binaries are not installed")
        server = PostgresServer(bin_dir)
        server.start()
        backends.append(Databases("postgresql", workdir, server))

    print(
        f"| database | open cases | due timers | setup s | tick s (best of {args.repeat}) "
        "| all ticks s | ms per timer | fired | statements per timer |"
    )
    print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
    timings: list[Timing] = []
    try:
        for databases in backends:
            for size in sizes:
                timing = measure(databases, size, args.due, args.repeat)
                timings.append(timing)
                print(
                    f"| {timing.backend} | {size:,} | {args.due:,} | {timing.setup_seconds:.0f} "
                    f"| {timing.best:.2f} | {', '.join(f'{t:.1f}' for t in timing.tick_seconds)} "
                    f"| {timing.per_timer_ms:.2f} | {timing.fired:,} "
                    f"| {timing.statements / max(timing.fired, 1):.2f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if server is not None:
            server.stop()

    status = 0
    for backend in (databases.backend for databases in backends):
        runs = [t for t in timings if t.backend == backend]
        if any(t.left or t.fired != t.due for t in runs):
            print(f"{backend}: some due timers were not fired: FAILED")
            status = 1
        if len(runs) > 1:
            ratio = runs[-1].best / runs[0].best
            flat = ratio <= FLATNESS
            print(
                f"{backend}: the tick among {runs[-1].open_cases:,} open cases took "
                f"{ratio:.2f}x as long as among {runs[0].open_cases:,} (limit {FLATNESS}x): "
                f"{'ok' if flat else 'FAILED'}"
            )
            status = status or (0 if flat else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
