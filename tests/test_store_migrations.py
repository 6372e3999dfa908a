"""Schema revisions: a database of the previous release upgrades and its cases run on.

Every test runs on SQLite and on a real PostgreSQL server. The previous release's databases
are the dumps recorded from its code (:mod:`tests.release_fixture`): its tables exactly, and
cases of two estates with clocks running, stopped and breached, timers fired and pending,
and outbox rows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, create_engine, select
from sqlalchemy.engine import make_url

from engine.runtime import Engine, ManualClock
from engine.runtime.migration import migrate_cases
from engine.store import SchemaOutOfDate, SchemaTooNew, Store, migrations
from engine.store.schema import metadata
from engine.store.store import database_engine, schema_transaction
from tests.conftest import run_cli
from tests.release_fixture import (
    CLERK,
    EAST,
    JOB,
    OPENED,
    SCHEMA,
    describe_schema,
    load_postgres,
    load_sqlite,
)

#: The tables of rows that belong to a case, and the column naming the case.
CASE_ROWS = {
    "case_log": "case_id",
    "sla_clocks": "case_id",
    "timers": "case_id",
    "outbox": "case_id",
    "case_links": "parent_id",
}

#: The newest revision, and what upgrading a database of the release to it prints.
HEAD = migrations.head()
UPGRADED = f"upgraded from {migrations.BASELINE} to revision {HEAD}\n"


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A plain connection to a database, whatever its schema (no store opened on it)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.fixture
def release_url(store_backend: str, make_store_url: Callable[[], str]) -> str:
    """A database as the previous release left it, with its recorded cases."""
    url = make_store_url()
    if store_backend == "sqlite":
        database = make_url(url).database
        assert database is not None
        load_sqlite(Path(database))
    else:
        load_postgres(url)
    return url


def rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the revision stamp, by table, in key order."""
    found: dict[str, list[dict[str, Any]]] = {}
    with connected(url) as connection:
        reflected = MetaData()
        reflected.reflect(connection)
        for name, table in reflected.tables.items():
            if name == "alembic_version":
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            found[name] = [
                dict(row) for row in connection.execute(select(table).order_by(*order)).mappings()
            ]
    return found


def as_released(
    tables: dict[str, list[dict[str, Any]]], release: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``tables`` with only the columns the release's rows had (the columns
    revisions added are left out), for comparing with the release's rows."""
    projected: dict[str, list[dict[str, Any]]] = {}
    for name, released in release.items():
        columns = list(released[0]) if released else []
        projected[name] = [{column: row[column] for column in columns} for row in tables[name]]
    return projected


def differences(url: str) -> list[Any]:
    """What ``alembic check`` would report: the database's schema against ``schema.py``."""
    with connected(url) as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def schema_of(url: str, *, ordered: bool = False) -> dict[str, Any]:
    """The database's tables (:func:`describe_schema`); their columns in name order unless
    ``ordered``: a revision adds a column at the end, ``schema.py`` may have it anywhere."""
    with connected(url) as connection:
        tables = describe_schema(connection)
    if not ordered:
        for table in tables.values():
            table["columns"].sort()
    return tables


def upgrade(url: str, revision: str = "head") -> None:
    engine = database_engine(url)
    try:
        with schema_transaction(engine) as tx:
            migrations.upgrade(tx, revision)
    finally:
        engine.dispose()


# The revisions -------------------------------------------------------------------------------


def test_the_first_revision_makes_the_release_tables(store_backend: str, store_url: str) -> None:
    upgrade(store_url, migrations.BASELINE)
    recorded = json.loads(SCHEMA.read_text(encoding="utf-8"))[store_backend]
    assert schema_of(store_url, ordered=True) == recorded


def test_a_new_store_is_what_the_revisions_make(make_store_url: Callable[[], str]) -> None:
    """A store made at once (tables created, stamped) and one upgraded revision by revision
    have the same schema, and it is ``schema.py``'s: a column added there without its
    revision fails here."""
    created, upgraded = make_store_url(), make_store_url()
    Store(created).close()
    upgrade(upgraded)
    assert schema_of(created) == schema_of(upgraded)
    assert differences(upgraded) == []
    assert differences(created) == []
    for url in (created, upgraded):
        with connected(url) as connection:
            assert migrations.state(connection).standing is migrations.Standing.CURRENT


def test_the_revisions_read_from_their_files_are_alembics(tmp_path: Path) -> None:
    """A store checks its revision from the revision files' own lines, without Alembic:
    the same chain as Alembic's, in a copy with a revision added (as ``write_revision``
    writes it) too."""
    assert list(migrations.revisions()) == [script.revision for script in migrations.history()]
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, copy, ignore=shutil.ignore_patterns("__py*"))
    written = migrations.write_revision("nothing new", copy)
    alembic_chain = ScriptDirectory.from_config(migrations.config(location=copy))
    expected = [script.revision for script in reversed(list(alembic_chain.walk_revisions()))]
    assert (
        list(migrations.revisions(copy)) == expected == [*migrations.revisions(), written.name[1:5]]
    )


def test_opening_an_existing_store_does_not_import_alembic(tmp_path: Path) -> None:
    """Alembic is a third of an application's import time; checking a store's revision
    needs none of it."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    Store(url).close()
    code = (
        "import sys; from engine.store import Store; Store(sys.argv[1]).close(); "
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"


def test_a_database_of_an_unknown_revision_is_refused(store_url: str) -> None:
    Store(store_url).close()
    with connected(store_url) as connection, connection.begin():
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaTooNew, match="9999"):
        Store(store_url)
    result = run_cli(["db", "upgrade", "--db", store_url])
    assert result.exit_code == 1
    assert "newer PropFlow" in result.output


def test_db_commands_report_and_upgrade(store_backend: str, store_url: str) -> None:
    if store_backend == "sqlite":  # an empty file is an empty database
        Path(str(make_url(store_url).database)).touch()
    assert run_cli(["db", "current", "--db", store_url]).output.startswith("-: no tables yet")
    assert run_cli(["db", "upgrade", "--db", "mysql+nosuchdriver://x/y"]).exit_code == 1
    upgrade(store_url, migrations.BASELINE)
    behind = run_cli(["db", "current", "--db", store_url])
    assert (behind.exit_code, behind.output) == (
        0,
        f"0001: behind {HEAD}: run 'propflow db upgrade'\n",
    )
    done = run_cli(["db", "upgrade", "--db", store_url])
    assert (done.exit_code, done.output) == (0, UPGRADED)
    again = run_cli(["db", "upgrade", "--db", store_url])
    assert again.output == f"already at revision {HEAD}\n"
    assert run_cli(["db", "current", "--db", store_url]).output == f"{HEAD}: the newest\n"
    chinese = run_cli(["db", "current", "--db", store_url, "--lang", "zh-CN"])
    assert chinese.output == f"{HEAD}: 最新\n"
    assert run_cli(["db", "upgrade", "--db", store_url, "--lang", "zh-CN"]).output == (
        f"已是版本 {HEAD}\n"
    )
    history = run_cli(["db", "history"]).output.splitlines()
    assert [line.split()[0] for line in history] == [f"{n:04d}" for n in range(1, int(HEAD) + 1)]
    assert history[-1].endswith("(newest)")


def test_a_revision_is_written_for_what_schema_py_adds(tmp_path: Path) -> None:
    """Generating the next revision (here into a copy of the revisions): numbered after the
    newest, upgrading from it, and empty while ``schema.py`` has nothing new."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.SCRIPT_LOCATION, copy, ignore=shutil.ignore_patterns("__py*"))
    written = migrations.write_revision("outbox delivery attempts", copy)
    following = f"{int(HEAD) + 1:04d}"
    assert written == copy / "versions" / f"r{following}_outbox_delivery_attempts.py"
    text = written.read_text(encoding="utf-8")
    assert f"revision = '{following}'" in text
    assert f"down_revision = '{HEAD}'" in text
    body = text.split("def upgrade() -> None:", 1)[1]
    assert "pass" in body and "op." not in body
    assert migrations.head() == HEAD  # the package's own revisions are untouched


def test_looking_at_a_missing_file_makes_no_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    result = run_cli(["db", "current", "--db", str(missing)])
    assert (result.exit_code, result.output) == (1, f"error: there is no database at {missing}\n")
    assert not missing.exists()


# The previous release's database ----------------------------------------------------------


def test_the_worker_refuses_a_database_of_the_release(release_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="propflow db upgrade"):
        Store(release_url)
    result = run_cli(["worker", "--db", release_url, "--once", "--library", str(JOB)])
    assert result.exit_code == 1
    assert "run 'propflow db upgrade --db URL'" in result.output
    assert differences(release_url) != []  # and nothing was upgraded on the way


def test_the_release_database_upgrades_and_its_cases_run_on(
    release_url: str, make_store_url: Callable[[], str]
) -> None:
    before = rows(release_url)
    result = run_cli(["db", "upgrade", "--db", release_url])
    assert (result.exit_code, result.output) == (0, UPGRADED)
    assert differences(release_url) == []
    new = make_store_url()
    Store(new).close()
    assert schema_of(release_url) == schema_of(new)
    after = rows(release_url)
    assert as_released(after, before) == before  # nothing lost, nothing changed
    estates = {case["id"]: case["estate"] for case in after["cases"]}
    assert set(estates.values()) == {"east", "standard"}
    for table, key in CASE_ROWS.items():
        assert all(row["estate"] == estates[row[key]] for row in after[table]), table

    pending = [timer for timer in after["timers"] if timer["fired_at"] is None]
    assert pending and any(timer["fired_at"] for timer in after["timers"])
    assert after["outbox"]
    clock = ManualClock(OPENED + timedelta(days=1))
    engines = [
        Engine(JOB, store=release_url, clock=clock, estate=EAST),
        Engine(JOB, store=release_url, clock=clock),
    ]
    try:
        fired = 0
        for engine in engines:
            while (tick := engine.tick(limit=3)).fired:
                fired += tick.fired
        assert fired == len(pending)
        for engine in engines:
            for case_id, estate in estates.items():
                if estate != engine.estate:
                    continue
                case = engine.get_case(case_id)
                if case.state == "new":
                    case = engine.fire(case_id, "begin", CLERK)
                if case.state == "working":
                    engine.fire(case_id, "finish", CLERK)
        assert engines[0].tick().fired == engines[1].tick().fired == 0
    finally:
        for engine in engines:
            engine.close()

    final = rows(release_url)
    assert as_released(final, before)["definitions"] == before["definitions"]
    assert all(case["state"] == "done" and case["closed_at"] for case in final["cases"])
    assert all(clock_row["status"] != "running" for clock_row in final["sla_clocks"])
    # Every timer fired exactly once: fired, and one log entry of its firing.
    assert all(timer["fired_at"] is not None for timer in final["timers"])
    firings = Counter((entry["case_id"], entry["event"]) for entry in final["case_log"])
    for timer in final["timers"]:
        assert firings[timer["case_id"], f"{timer['kind']}:{timer['name']}"] == 1, timer
    # What the release wrote is still there, unchanged, under the rows written since.
    for table in ("case_log", "outbox"):
        assert as_released(final, before)[table][: len(before[table])] == before[table]
    for table, key in CASE_ROWS.items():
        assert all(row["estate"] == estates[row[key]] for row in final[table]), table


def test_a_version_the_release_stored_runs_on_the_librarys_time_limits(release_url: str) -> None:
    """The release kept a version's process only: upgraded, its row has no time limits, and
    its cases run on those of the library loaded (as they did under the release) until a
    migration moves them onto the library's version, which names its limits."""
    assert run_cli(["db", "upgrade", "--db", release_url]).exit_code == 0
    released = {row["version"] for row in rows(release_url)["definitions"]}
    engine = Engine(JOB, store=release_url, clock=ManualClock(OPENED + timedelta(days=1)))
    try:
        for version in released:
            stored = engine.store.load_definition(version)
            assert stored is not None and stored.time_limits is None
            found = engine.definitions.version(version)
            assert found.limits is None
            assert found.planner is engine.definitions.latest(found.process.id).planner
        plan = migrate_cases(engine, dry_run=True)
        assert plan.moved and not plan.refused
        for move in plan.examples.values():
            assert move.from_version in released
            assert move.to_version == engine.definition_version(move.process)
    finally:
        engine.close()
