"""How long one ``engine.tick()`` takes to open 10,000 scheduled cases.

The realistic way 10,000 cases come due in one tick is many schedules due together, not one
schedule catching up 10,000 periods (a daily schedule would need 27 years of downtime): an
estate group that plans each lift, pump and switchboard's monthly maintenance (DOMAIN §5,
seed 003) as its own schedule, all on the first of the month at 09:00. So the benchmark
generates a library of one small process (``maintenance``) and N monthly schedules, one per
piece of equipment, plans them with a first tick on 31 March, then times the single tick at
09:00 on 1 April that opens every one of them — each case on its own row, with its opening
log entry, its notification, its time-limit clock and timer, and each schedule's row advanced
with its optimistic check, in transactions of 200 schedules.

    python benchmarks/bench_schedules.py                  # 10,000 schedules, SQLite file
    python benchmarks/bench_schedules.py --schedules 2000 --db postgresql

Exits 1 if any schedule was left unopened or any period was opened twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from engine.runtime import Engine, ManualClock
from engine.store.schema import cases, outbox, schedules, timers

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLANNED = datetime(2026, 3, 31, 12, 0, tzinfo=SHANGHAI)
DUE = datetime(2026, 4, 1, 9, 0, tzinfo=SHANGHAI)

PROCESS = """\
process: maintenance
title: {zh-CN: 设备月度保养, en: Monthly equipment maintenance}
roles:
  engineer: {label: {zh-CN: 工程人员, en: Engineer}}
fields:
  equipment: {type: text, required: true, label: {zh-CN: 设备编号, en: Equipment}}
  month: {type: text, label: {zh-CN: 保养月份, en: Month}}
  result: {type: text, label: {zh-CN: 保养记录, en: Result}}
states:
  due: {initial: true, label: {zh-CN: 待保养, en: Due}}
  done: {final: true, label: {zh-CN: 已保养, en: Done}}
events:
  record:
    {from: due, to: done, roles: [engineer], requires: [result], label: {zh-CN: 记录, en: Record}}
"""

RULES_HEAD = """\
calendars:
  24x7: {hours: always, timezone: Asia/Shanghai, label: {zh-CN: 全天候}}
time_limits:
  maintenance-week:
    process: maintenance
    calendar: 24x7
    start: {enter: due}
    stop: {enter: done}
    limit: 7d
    on_breach: [{notify: engineer}]
schedules:
"""

SCHEDULE = """\
  eq-{n:05d}:
    process: maintenance
    every: monthly
    day: 1
    at: "09:00"
    calendar: 24x7
    actor_role: engineer
    data: {{equipment: EQ-{n:05d}, month: =period}}
"""


def write_library(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "maintenance.yaml").write_text(PROCESS, encoding="utf-8")
    body = "".join(SCHEDULE.format(n=n) for n in range(count))
    (directory / "schedules.yaml").write_text(RULES_HEAD + body, encoding="utf-8")
    return directory


def run(count: int, url: str, workdir: Path) -> dict[str, float | int]:
    library = write_library(workdir / "library", count)
    clock = ManualClock(PLANNED)
    started = time.perf_counter()
    engine = Engine(library=library, store=url, clock=clock)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    engine.tick()  # plans every schedule's row; nothing is due yet
    planned = time.perf_counter() - started
    clock.set(DUE)
    started = time.perf_counter()
    result = engine.tick(limit=count)
    seconds = time.perf_counter() - started
    with engine.store.engine.connect() as connection:
        opened = connection.execute(select(func.count()).select_from(cases)).scalar_one()
        distinct = connection.execute(
            select(func.count(func.distinct(cases.c.data["equipment"].as_string())))
        ).scalar_one()
        notes = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
        waiting = connection.execute(select(func.count()).select_from(timers)).scalar_one()
        advanced = connection.execute(
            select(func.count()).select_from(schedules).where(schedules.c.last_period == "2026-04")
        ).scalar_one()
    again = engine.tick(limit=count).opened  # nothing more is due: no period twice
    engine.close()
    return {
        "schedules": count,
        "load_seconds": loaded,
        "plan_seconds": planned,
        "tick_seconds": seconds,
        "opened": result.opened,
        "cases": opened,
        "distinct": distinct,
        "notifications": notes,
        "timers": waiting,
        "advanced": advanced,
        "again": again,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        workdir = Path(temp)
        if args.db == "sqlite":
            url = f"sqlite:///{workdir / 'cases.db'}"
            figures = run(args.schedules, url, workdir)
        else:
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from tests.postgres import start_server

            server = start_server()
            try:
                figures = run(args.schedules, server.create_database(), workdir)
            finally:
                server.stop()
    count = figures["schedules"]
    print(f"{count} schedules on {args.db}: library loaded and validated in "
          f"{figures['load_seconds']:.1f} s, planned in "
          f"{figures['plan_seconds']:.1f} s")  # fmt: skip
    print(f"one tick opened {figures['opened']} cases in {figures['tick_seconds']:.1f} s "
          f"({figures['tick_seconds'] * 1000 / max(int(figures['opened']), 1):.2f} ms a case, "
          f"{int(figures['opened']) / figures['tick_seconds']:.0f} cases/s)")  # fmt: skip
    print(f"cases {figures['cases']} (distinct equipment {figures['distinct']}), "
          f"notifications {figures['notifications']}, clock timers {figures['timers']}, "
          f"schedules advanced {figures['advanced']}, "
          f"opened by a second tick {figures['again']}")  # fmt: skip
    complete = figures["opened"] == figures["cases"] == figures["distinct"] == count
    once = figures["advanced"] == count and figures["again"] == 0
    return 0 if complete and once else 1


if __name__ == "__main__":
    raise SystemExit(main())
