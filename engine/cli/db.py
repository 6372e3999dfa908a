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
        click.echo(f"error: {url!r} is not a database URL: {exc}", err=True)
        sys.exit(1)
    try:
        with schema_transaction(engine) as tx:
            yield tx
    except SQLAlchemyError as exc:
        click.echo(f"error: the database at {url!r} cannot be used: {exc}", err=True)
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
                f"error: the database has schema revision {found.revision!r}, unknown to "
                f"this PropFlow (newest {found.head}): it was upgraded by a newer PropFlow",
                err=True,
            )
            sys.exit(1)
        if found.standing is migrations.Standing.CURRENT:
            click.echo(f"already at revision {found.head}")
            return
        migrations.upgrade(tx)
    click.echo(f"upgraded from {found.revision or '(empty)'} to revision {found.head}")


@db.command()
@db_option()
def current(db: str) -> None:
    """Print the database's schema revision and whether it needs an upgrade."""
    missing = _missing_file(db)
    if missing is not None:  # looking must not leave an empty database behind
        click.echo(f"error: there is no database at {missing}", err=True)
        sys.exit(1)
    with _schema(db) as tx:
        found = migrations.state(tx)
    words = {
        migrations.Standing.EMPTY: "no tables yet (a store or 'propflow db upgrade' makes them)",
        migrations.Standing.CURRENT: "the newest",
        migrations.Standing.BEHIND: f"behind {found.head}: run 'propflow db upgrade'",
        migrations.Standing.UNKNOWN: f"unknown here (newest {found.head}): a newer PropFlow's",
    }
    click.echo(f"{found.revision or '-'}: {words[found.standing]}")


@db.command()
def history() -> None:
    """List the schema revisions, oldest first."""
    newest = migrations.head()
    for script in migrations.history():
        mark = " (newest)" if script.revision == newest else ""
        click.echo(f"{script.revision}  {script.doc}{mark}")
