"""Databases made by the previous release (PropFlow 0.1.0), for the schema upgrade tests.

``tests/fixtures/store/`` holds what 0.1.0 wrote, recorded on its own code so later changes
to ``engine/store/schema.py`` cannot change it:

- ``release-0.1.0.sqlite.sql``: a SQLite database (``sqlite3``'s dump: the tables exactly as
  0.1.0 created them, and their rows);
- ``release-0.1.0.postgresql.sql``: the same cases on PostgreSQL (``pg_dump``);
- ``release-0.1.0.schema.json``: 0.1.0's tables as reflected on each database, which the
  first revision must reproduce.

Each database holds the cases :func:`make_cases` opens with the real engine on the ``job``
library and the ``east`` estate beside the dumps: cases of two estates, running and closed,
clocks running, stopped and breached, timers fired and pending, outbox rows.

To record them again, check out the release, copy this module and ``fixtures/store/`` into
its ``tests/`` and run ``python -m tests.release_fixture`` from its root.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect

from engine.runtime import Actor, Engine, ManualClock

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "store"
JOB = FIXTURES / "job"
EAST = FIXTURES / "east"
SQLITE_DUMP = FIXTURES / "release-0.1.0.sqlite.sql"
POSTGRES_DUMP = FIXTURES / "release-0.1.0.postgresql.sql"
SCHEMA = FIXTURES / "release-0.1.0.schema.json"

#: When the recorded cases were opened (the clock of the upgrade test starts here).
OPENED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLERK = Actor("li.jiedai", {"clerk"})


def make_cases(url: str) -> datetime:
    """Open and walk the recorded cases in the store at ``url``; return the clock's time.

    In each of two estates (``east`` and the default ``standard``): a case left new, one
    begun after its answer warning fired, one begun at once, one finished, one opened later;
    the first case's answer limit is breached. So the store ends with timers fired and
    pending, clocks running, stopped and breached, and notifications in the outbox.
    """
    clock = ManualClock(OPENED)
    engines = [
        Engine(JOB, store=url, clock=clock, estate=EAST),
        Engine(JOB, store=url, clock=clock),
    ]
    try:
        waiting: list[tuple[Engine, str]] = []
        for engine in engines:
            waiting.append((engine, engine.open_case("job", {"unit": "1-101"}, CLERK).id))
            waiting.append((engine, engine.open_case("job", {"unit": "1-102"}, CLERK).id))
            begun = engine.open_case("job", {"unit": "1-103"}, CLERK)
            engine.fire(begun.id, "begin", CLERK)
            done = engine.open_case("job", {"unit": "1-104"}, CLERK)
            engine.fire(done.id, "begin", CLERK)
            engine.fire(done.id, "finish", CLERK)
        clock.advance(timedelta(minutes=45))
        for engine in engines:
            engine.tick()
        for engine, case_id in waiting[1::2]:
            engine.fire(case_id, "begin", CLERK)
        for engine in engines:
            engine.open_case("job", {"unit": "1-105"}, CLERK)
        clock.advance(timedelta(minutes=25))
        for engine in engines:
            engine.tick()
        return clock.now()
    finally:
        for engine in engines:
            engine.close()


def describe_schema(connection: Connection) -> dict[str, Any]:
    """The tables of a database as reflected: columns, keys, indexes and constraints.

    Two databases with equal descriptions have the same schema for everything the store
    relies on, whichever way their tables were created.
    """
    inspector = inspect(connection)
    tables: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if name == "alembic_version":
            continue
        tables[name] = {
            "columns": [
                [column["name"], str(column["type"]), column["nullable"]]
                for column in inspector.get_columns(name)
            ],
            "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
            "foreign_keys": sorted(
                [key["constrained_columns"], key["referred_table"], key["referred_columns"]]
                for key in inspector.get_foreign_keys(name)
            ),
            "indexes": sorted(
                [
                    index["name"],
                    list(index["column_names"]),
                    bool(index["unique"]),
                    {key: str(value) for key, value in index.get("dialect_options", {}).items()},
                ]
                for index in inspector.get_indexes(name)
            ),
            "unique": sorted(
                [unique["name"], unique["column_names"]]
                for unique in inspector.get_unique_constraints(name)
            ),
        }
    return tables


def load_sqlite(path: Path) -> None:
    """A SQLite file holding the recorded 0.1.0 database."""
    with sqlite3.connect(path) as connection:
        connection.executescript(SQLITE_DUMP.read_text(encoding="utf-8"))
    connection.close()


def load_postgres(url: str) -> None:
    """Restore the recorded 0.1.0 database into the empty PostgreSQL database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(POSTGRES_DUMP.read_text(encoding="utf-8"))
    finally:
        engine.dispose()


def _pg_dump(bin_dir: Path, port: int, database: str) -> str:
    """``pg_dump`` of a database: plain SQL, without owners, grants or psql meta-commands."""
    command = [
        str(bin_dir / "pg_dump"),
        "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
        "--no-owner", "--no-privileges", "--inserts", database,
    ]  # fmt: skip
    text = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    lines = [line for line in text.splitlines() if not line.startswith("\\")]
    return "\n".join(lines) + "\n"


def record() -> None:
    """Record the fixtures from the code checked out (run on the release's code)."""
    from tests.postgres import start_server

    schema: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp())
    try:
        sqlite_url = f"sqlite:///{work / 'cases.db'}"
        make_cases(sqlite_url)
        with sqlite3.connect(work / "cases.db") as connection:
            dump = "\n".join(connection.iterdump()) + "\n"
        connection.close()
        SQLITE_DUMP.write_text(dump, encoding="utf-8")
        engine = create_engine(sqlite_url)
        with engine.connect() as connection:
            schema["sqlite"] = describe_schema(connection)
        engine.dispose()
    finally:
        shutil.rmtree(work)
    server = start_server()
    try:
        url = server.create_database()
        make_cases(url)
        POSTGRES_DUMP.write_text(
            _pg_dump(server.bin_dir, server.port, url.rsplit("/", 1)[1]), encoding="utf-8"
        )
        engine = create_engine(url)
        with engine.connect() as connection:
            schema["postgresql"] = describe_schema(connection)
        engine.dispose()
    finally:
        server.stop()
    SCHEMA.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 1:
        sys.exit("usage: python -m tests.release_fixture")
    record()
