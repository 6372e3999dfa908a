"""Alembic's entry point for the store's revisions: run them on the connection handed over.

Nothing here opens a database: :mod:`engine.store.migrations` passes the connection (inside
the transaction it holds) in the configuration's attributes, so an upgrade commits or rolls
back as one, and uses the same SQLite settings and PostgreSQL lock as the store.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from engine.store.schema import metadata

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection), "the store's migrations run on a given connection"
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters a column by copying its table: Alembic's batch mode does that.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
