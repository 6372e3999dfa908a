"""``propflow db upgrade | current | history``: the store's schema revisions.

A store never upgrades its database by itself (it refuses one of an older schema and names
this command): an upgrade is run once, deliberately, by whoever looks after the database.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Connection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from engine.cli.options import db_option
from engine.diagnostics.catalogue import say
from engine.store import migrations
from engine.store.store import database_engine, normalise_url, schema_transaction, sqlite_file


@contextmanager
def _schema(db: str) -> Iterator[Connection]:
    """The database's schema, in one transaction; a database that cannot be reached or a
    bad URL is reported and exits 1."""
    url = normalise_url(db)
    try:
        engine = database_engine(url)
    except ArgumentError as exc:
        click.echo(say("db_cli.not_a_url", url=repr(url), error=exc), err=True)
        sys.exit(1)
    try:
        with schema_transaction(engine) as tx:
            yield tx
    except SQLAlchemyError as exc:
        click.echo(say("db_cli.unusable", url=repr(url), error=exc), err=True)
        sys.exit(1)
    finally:
        engine.dispose()


def _missing_file(db: str) -> str | None:
    """The path of the SQLite file ``db`` names, if it names one that does not exist."""
    try:
        path = sqlite_file(normalise_url(db))
    except ArgumentError:
        return None  # not a URL: reported by :func:`_schema`
    return None if path is None or Path(path).exists() else path


@click.group()
def db() -> None:
    """The store's schema: upgrade a database made by an older PropFlow."""


@db.command()
@db_option()
def upgrade(db: str) -> None:
    """Carry the database to this PropFlow's schema (a new one is created at it)."""
    with _schema(db) as tx:
        found = migrations.state(tx)
        if found.standing is migrations.Standing.UNKNOWN:
            click.echo(
                say("db_cli.newer", revision=repr(found.revision), head=found.head), err=True
            )
            sys.exit(1)
        if found.standing is migrations.Standing.CURRENT:
            click.echo(say("db_cli.already", head=found.head))
            return
        migrations.upgrade(tx)
    before = found.revision or say("db_cli.empty_revision")
    click.echo(say("db_cli.upgraded", revision=before, head=found.head))


@db.command()
@db_option()
def current(db: str) -> None:
    """Print the database's schema revision and whether it needs an upgrade."""
    missing = _missing_file(db)
    if missing is not None:  # looking must not leave an empty database behind
        click.echo(say("db_cli.no_database", path=missing), err=True)
        sys.exit(1)
    with _schema(db) as tx:
        found = migrations.state(tx)
    words = {
        migrations.Standing.EMPTY: "db_cli.empty",
        migrations.Standing.CURRENT: "db_cli.current",
        migrations.Standing.BEHIND: "db_cli.behind",
        migrations.Standing.UNKNOWN: "db_cli.unknown",
    }
    click.echo(f"{found.revision or '-'}: {say(words[found.standing], head=found.head)}")


@db.command()
def history() -> None:
    """List the schema revisions, oldest first."""
    newest = migrations.head()
    for script in migrations.history():
        mark = say("db_cli.newest") if script.revision == newest else ""
        click.echo(f"{script.revision}  {script.doc}{mark}")
