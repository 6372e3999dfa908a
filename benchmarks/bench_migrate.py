"""How long ``propflow migrate`` takes to move running urgent repairs from a 24 h to a 12 h
limit, at two sizes, to show its cost is linear in the cases moved.

The open cases are written in bulk with SQLAlchemy Core, not through the engine (setting up
100,000 cases through it would take far longer than moving them): urgent repair cases of the
shipped library in ``reported``, each with its running ``repair-urgent`` clock (24 h on the
24x7 calendar, a warning at 80 %) started up to 10 hours ago, and that clock's two timers.
The estate then shortens the limit to 12 h, and the migration moves every case: its clock's
deadline and warning worked out again from its start, the two timers replaced, one audit
entry, one commit per page of 500.

The baseline does the same writes with nothing else: SQLAlchemy Core with its statements
built once, one ``executemany`` per statement and page (the case's version, the log entry,
the clock's deadline and plan, the pending timers withdrawn and the new ones), the new
deadlines computed in Python from each clock's start. It is what a hand-written SQL
migration of exactly this change would cost; the engine's side pays for planning each case
from its definitions, which is what lets it handle any change (mappings, pauses, fields,
clocks started and stopped). The two run on fresh copies of one database, interleaved.

    python benchmarks/bench_migrate.py                          # 10,000 and 100,000, SQLite
    python benchmarks/bench_migrate.py --db sqlite postgresql   # also on a throwaway server
    python benchmarks/bench_migrate.py --sizes 2000 20000       # other sizes

Exits 1 if a case was not moved, or if the engine's time per case, measured against the
baseline's at the same size, grows more than 1.5 times from the smallest size to the largest
(the cost is not linear). Against the baseline, not alone: on a shared machine the load moves
both sides of one size alike, while it can differ between the sizes by more than that.
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

from sqlalchemy import and_, bindparam, delete, func, insert, select, update

from benchmarks.bench_tick import Databases
from engine.runtime import Engine, ManualClock
from engine.runtime.migration import BATCH, EVENT, migrate_cases
from engine.store import Store
from engine.store.schema import case_log, cases, sla_clocks, timers

DEFAULT_SIZES = (10_000, 100_000)
#: The largest allowed growth of the engine's time over the baseline's, from the smallest
#: size to the largest.
LINEARITY = 1.5
CHUNK = 20_000
ESTATE = "bench"
NOW = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)
LIMIT_ID = "repair-urgent"
OLD, NEW = timedelta(hours=24), timedelta(hours=12)


@dataclass(frozen=True)
class Timing:
    backend: str
    cases: int
    engine_seconds: float
    baseline_seconds: float

    def per_case_ms(self, seconds: float) -> float:
        return seconds * 1000 / self.cases

    @property
    def ratio(self) -> float:
        """The engine's time over the baseline's."""
        return self.engine_seconds / self.baseline_seconds


def estate_dirs(root: Path) -> tuple[Path, Path]:
    """The estate before and after its rules shorten the urgent limit to 12 hours: the cases
    are opened on the first one's version, and moved to the second's."""
    before, after = root / "before", root / "after"
    for directory in (before, after):
        (directory / "rules").mkdir(parents=True, exist_ok=True)
        (directory / "estate.yaml").write_text(f"estate: {ESTATE}\nextends: standard\n")
    (after / "rules" / "urgent.yaml").write_text(
        f"time_limits:\n  {LIMIT_ID}:\n    limit: 12h\n", encoding="utf-8"
    )
    return before, after


def _rows(
    n: int, start: int, version: str, rng: random.Random
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    for index in range(start, start + n):
        case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        started = NOW - timedelta(seconds=rng.randrange(0, 10 * 3600))
        data = {
            "scope": "in_unit",
            "unit": f"{index % 30 + 1}-{index % 28 + 1:02d}01",
            "owner_name": f"业主{index}",
            "phone": "13800138000",
            "content": "水管爆裂",
            "location": "厨房",
            "category": "plumbing",
            "urgency": "urgent",
        }
        case = {
            "id": case_id,
            "estate": ESTATE,
            "process": "repair",
            "definition_version": version,
            "state": "reported",
            "data": data,
            "assignee": "supervisor",
            "version": 2,
            "opened_at": started - timedelta(minutes=1),
            "updated_at": started,
            "closed_at": None,
        }
        deadline, warning = started + OLD, started + OLD * 80 / 100
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
            "warnings_sent": [],
            "extensions": [],
            "notes": [],
            "plan": _plan(deadline, warning),
            "pauses": [],
            "estate": ESTATE,
        }
        timer_rows = [
            _timer(case_id, "breach", deadline, started),
            _timer(case_id, "warning", warning, started),
        ]
        yield case, clock, timer_rows


def _plan(deadline: datetime, warning: datetime) -> list[dict[str, Any]]:
    return [
        {"kind": "breach", "index": 0, "due": deadline.isoformat()},
        {"kind": "warning", "index": 0, "due": warning.isoformat()},
    ]


def _timer(case_id: str, kind: str, due: datetime, created: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "kind": kind,
        "name": LIMIT_ID,
        "due_at": due,
        "payload": {"index": 0},
        "created_at": created,
        "fired_at": None,
        "estate": ESTATE,
    }


def populate(engine: Engine, size: int, seed: int = 16) -> str:
    """Write ``size`` urgent repair cases with their clocks and timers, in bulk, on the
    engine's current version of the repair (returned)."""
    version = engine.definitions.latest("repair")
    engine.definitions.save(version, NOW)
    rng = random.Random(seed)
    for start in range(0, size, CHUNK):
        rows = list(_rows(min(CHUNK, size - start), start, version.id, rng))
        with engine.store.transaction() as tx:
            tx.execute(insert(cases), [case for case, _, _ in rows])
            tx.execute(insert(sla_clocks), [clock for _, clock, _ in rows])
            tx.execute(insert(timers), [t for _, _, timer_rows in rows for t in timer_rows])
    return version.id


# The baseline's statements, built once.
_PAGE = (
    select(cases.c.id, cases.c.version, sla_clocks.c.started_at)
    .join(sla_clocks, and_(sla_clocks.c.case_id == cases.c.id, sla_clocks.c.limit_id == LIMIT_ID))
    .where(cases.c.estate == ESTATE, cases.c.closed_at.is_(None), cases.c.id > bindparam("after"))
    .order_by(cases.c.id)
    .limit(BATCH)
)
_BUMP = (
    update(cases)
    .where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_version"))
    .values(version=bindparam("b_new"), updated_at=bindparam("b_at"))
)
_LOG = insert(case_log)
_CLOCK = (
    update(sla_clocks)
    .where(sla_clocks.c.case_id == bindparam("b_id"), sla_clocks.c.limit_id == LIMIT_ID)
    .values(deadline=bindparam("b_deadline"), plan=bindparam("b_plan"))
)
_WITHDRAW = delete(timers).where(
    timers.c.case_id == bindparam("b_id"), timers.c.name == LIMIT_ID, timers.c.fired_at.is_(None)
)
_TIMERS = insert(timers)


def baseline(store: Store) -> int:
    """The same writes as the migration's, with nothing else; how many cases it moved."""
    moved, after = 0, ""
    while True:
        with store.transaction() as tx:
            page = tx.execute(_PAGE, {"after": after}).all()
            if not page:
                return moved
            bumps, logs, clocks, withdrawn, new_timers = [], [], [], [], []
            for case_id, version, started in page:
                deadline, warning = started + NEW, started + NEW * 80 / 100
                bumps.append({"b_id": case_id, "b_version": version, "b_new": version + 1})
                bumps[-1]["b_at"] = NOW
                logs.append(
                    {
                        "case_id": case_id,
                        "estate": ESTATE,
                        "version": version + 1,
                        "event": EVENT,
                        "actor_id": "propflow",
                        "role": "system",
                        "at": NOW,
                        "from_state": "reported",
                        "to_state": "reported",
                        "payload": {},
                        "changes": {},
                        "assignee": "supervisor",
                        "actions": [{EVENT: {"limit": LIMIT_ID, "deadline": deadline.isoformat()}}],
                    }
                )
                clocks.append(
                    {"b_id": case_id, "b_deadline": deadline, "b_plan": _plan(deadline, warning)}
                )
                withdrawn.append({"b_id": case_id})
                new_timers += [
                    _timer(case_id, "breach", deadline, NOW),
                    _timer(case_id, "warning", warning, NOW),
                ]
            tx.execute(_BUMP, bumps)
            tx.execute(_LOG, logs)
            tx.execute(_CLOCK, clocks)
            tx.execute(_WITHDRAW, withdrawn)
            tx.execute(_TIMERS, new_timers)
            moved += len(page)
            after = page[-1][0]


def _moved_deadlines(store: Store) -> int:
    """How many urgent clocks run on the 12 h deadline (for the check that all moved)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(sla_clocks.c.started_at, sla_clocks.c.deadline).where(
                sla_clocks.c.limit_id == LIMIT_ID
            )
        ).all()
    return sum(deadline - started == NEW for started, deadline in rows)


def measure(databases: Databases, estates: tuple[Path, Path], size: int) -> Timing:
    """Populate once on the estate before its edit; migrate one fresh copy with the engine on
    the edited estate and another with the baseline."""
    before, estate = estates
    base = databases.base(size)
    engine = Engine(store=base, estate=before, clock=ManualClock(NOW))
    try:
        old_version = populate(engine, size)
    finally:
        engine.close()
    databases.settle(base)
    seconds: dict[str, float] = {}
    try:
        for side in ("engine", "baseline"):
            url = databases.copy(base)
            engine = Engine(store=url, estate=estate, clock=ManualClock(NOW))
            try:
                began = time.perf_counter()
                if side == "engine":
                    result = migrate_cases(engine, "repair")
                    done = result.moved
                else:
                    done = baseline(engine.store)
                seconds[side] = time.perf_counter() - began
                moved = _moved_deadlines(engine.store)
                if done != size or moved != size:
                    raise SystemExit(f"{side}: {done} cases moved, {moved} on 12 h, of {size}")
                if side == "engine":
                    audit = select(func.count().label("n")).where(case_log.c.event == EVENT)
                    assert engine.store.rows(audit)[0]["n"] == size
                    # A limit-only edit is a new version: every case moved onto it.
                    new_version = engine.definition_version("repair")
                    assert new_version != old_version
                    on_new = select(func.count().label("n")).where(
                        cases.c.definition_version == new_version
                    )
                    assert engine.store.rows(on_new)[0]["n"] == size
            finally:
                engine.close()
                databases.drop(url)
    finally:
        databases.drop(base)
    return Timing(databases.backend, size, seconds["engine"], seconds["baseline"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"],
        help="databases to run on (default: sqlite); postgresql starts a throwaway server",
    )  # fmt: skip
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    workdir = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    server = None
    failed = False
    try:
        estates = estate_dirs(workdir)
        backends = [Databases("sqlite", workdir)] if "sqlite" in args.db else []
        if "postgresql" in args.db:
            from tests.postgres import PostgresServer, find_bin_dir

            bin_dir = find_bin_dir()
            if bin_dir is None:
                parser.error("--db postgresql: the PostgreSQL server binaries are not installed")
            server = PostgresServer(bin_dir)
            server.start()
            backends.append(Databases("postgresql", workdir, server))
        print("| database | cases | engine s | ms/case | baseline s | ms/case | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for databases in backends:
            timings = []
            for size in sorted(args.sizes):  # each row as soon as it is measured
                t = measure(databases, estates, size)
                timings.append(t)
                print(
                    f"| {t.backend} | {t.cases:,} | {t.engine_seconds:.1f} | "
                    f"{t.per_case_ms(t.engine_seconds):.3f} | {t.baseline_seconds:.1f} | "
                    f"{t.per_case_ms(t.baseline_seconds):.3f} | "
                    f"{t.ratio:.1f} |",
                    flush=True,
                )
            small, large = timings[0], timings[-1]
            alone = large.per_case_ms(large.engine_seconds) / small.per_case_ms(
                small.engine_seconds
            )
            growth = large.ratio / small.ratio
            print(
                f"{databases.backend}: from the smallest size to the largest, the time per case "
                f"grows {alone:.2f}x, its ratio to the baseline's {growth:.2f}x"
            )
            failed |= growth > LINEARITY
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
