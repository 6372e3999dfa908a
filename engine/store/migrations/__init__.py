"""Revisions of the store's schema (Alembic): where a database stands, and upgrading it.

Alembic is configured here, in code, so no ``alembic.ini`` is needed: the revisions are the
modules in ``versions/`` beside this one (shipped in the package), and every function runs
on a connection the caller holds, inside its transaction (see ``env.py``).

A database made before the schema had revisions (PropFlow 0.1.0) has the tables but no
``alembic_version`` table; it stands at :data:`BASELINE`, whose revision creates exactly
those tables, and :func:`upgrade` stamps it there before carrying it on.

Every store checks its database's revision when it opens, which needs only the revision
ids: they are read from the revision files' ``revision``/``down_revision`` lines, and Alembic
(a third of an application's import time) is imported only to make, upgrade or write a
revision. A test holds :func:`revisions` to Alembic's own reading.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, String, column, create_engine, inspect, select, table

from engine.store.schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory

#: The revision of a database made by PropFlow 0.1.0: the tables as they were then.
BASELINE = "0001"

#: A table every database of PropFlow has had since 0.1.0: present means "not empty".
_FIRST_TABLE = "cases"


class Standing(Enum):
    """Where a database's schema stands against the revisions this PropFlow has."""

    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SchemaState:
    """A database's revision (``None``: no tables yet), the newest one, and the standing."""

    revision: str | None
    head: str
    standing: Standing


#: Where the revisions are (``env.py``, ``versions/``): beside this module.
SCRIPT_LOCATION = Path(__file__).parent


#: Alembic's table of a database's revision (its default name).
_VERSION_TABLE = table("alembic_version", column("version_num", String))

#: A revision file's ``revision = "0005"`` or ``down_revision = "0004"`` line (annotated or not).
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


def config(connection: Connection | None = None, location: Path = SCRIPT_LOCATION) -> Config:
    """Alembic's configuration for the store's revisions, on ``connection`` if given."""
    from alembic.config import Config

    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(location))
    alembic_config.attributes["connection"] = connection
    return alembic_config


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions as Alembic reads them (once: upgrading walks them)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config())


@functools.cache
def revisions(location: Path = SCRIPT_LOCATION) -> tuple[str, ...]:
    """The revision ids, oldest first, from the revision files' own lines (one chain: each
    revision names the one before it)."""
    after: dict[str | None, str] = {}
    for path in sorted((location / "versions").glob("*.py")):
        found = dict(
            (name, ast.literal_eval(value))
            for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        )
        if "revision" in found:
            after[found.get("down_revision")] = found["revision"]
    chain: list[str] = []
    step = after.get(None)
    while step is not None:
        chain.append(step)
        step = after.get(step)
    assert chain, "the store has at least one revision"
    return tuple(chain)


def head() -> str:
    """The newest revision: the schema of ``engine/store/schema.py``."""
    return revisions()[-1]


def revision_of(connection: Connection) -> str | None:
    """The revision a database is at: its stamp, :data:`BASELINE` for a database of 0.1.0
    (tables, no stamp), ``None`` for one without tables."""
    tables = inspect(connection)
    if tables.has_table(_VERSION_TABLE.name):
        stamped = connection.execute(select(_VERSION_TABLE.c.version_num)).scalar()
        if stamped is not None:
            return str(stamped)
    return BASELINE if tables.has_table(_FIRST_TABLE) else None


def state(connection: Connection) -> SchemaState:
    """Where the database on ``connection`` stands."""
    revision, newest = revision_of(connection), head()
    if revision is None:
        standing = Standing.EMPTY
    elif revision == newest:
        standing = Standing.CURRENT
    elif revision in revisions():
        standing = Standing.BEHIND
    else:
        standing = Standing.UNKNOWN
    return SchemaState(revision, newest, standing)


def create_at_head(connection: Connection) -> None:
    """Make the tables of a database without any, at the newest revision.

    The tables of ``schema.py`` created at once and stamped, rather than every revision run
    in turn: the same schema (a test compares the two on both databases), made faster —
    tests and in-memory stores make thousands.
    """
    from alembic.runtime.migration import MigrationContext

    metadata.create_all(connection)
    MigrationContext.configure(connection).stamp(scripts(), "head")


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Carry the database on ``connection`` to ``revision`` (a 0.1.0 database is stamped at
    :data:`BASELINE` first; an empty one runs every revision)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection)
    if context.get_current_revision() is None and revision_of(connection) == BASELINE:
        context.stamp(scripts(), BASELINE)
    command.upgrade(config(connection), revision)


def history() -> list[Script]:
    """The revisions, oldest first."""
    return list(reversed(list(scripts().walk_revisions())))


def write_revision(message: str, location: Path = SCRIPT_LOCATION) -> Path:
    """Write the next revision: what ``schema.py`` has that the newest revision does not.

    For PropFlow's own development, in a source checkout: Alembic compares a scratch SQLite
    database upgraded to the newest revision with ``schema.py`` and writes the operations
    it finds into ``versions/r<NNNN>_<message>.py``, to be read, completed (data to fill
    in, PostgreSQL-only details), formatted and committed with the change to ``schema.py``.
    ``location`` is a copy of this directory to write into instead.
    """
    from alembic import command
    from alembic.script import Script

    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            upgrade(connection)
            generating = config(connection, location)
            generating.set_main_option("file_template", "r%%(rev)s_%%(slug)s")
            written = command.revision(
                generating, message, autogenerate=True, rev_id=f"{int(head()) + 1:04d}"
            )
    finally:
        scratch.dispose()
    assert isinstance(written, Script), "one revision is written"
    scripts.cache_clear()
    revisions.cache_clear()
    return Path(written.path)
