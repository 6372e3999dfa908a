"""The store's faults, typed: what a caller can tell apart and what a worker can wait out.

SQLAlchemy raises the driver's errors wrapped in its own classes, whose words differ between
SQLite and PostgreSQL. Every one that leaves the store is turned into a :class:`StoreError`
here, by kind, so that code embedding the engine catches PropFlow's errors only and a
worker can tell a fault that clears (a full disk, a lost connection) from one that does not.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError

from engine.diagnostics import PropflowError


class StoreError(PropflowError):
    """The store cannot be opened or used (bad URL, unreachable server, a refused write)."""


class StoreReadOnly(StoreError):
    """The database accepts reads only (a read-only file, disk or server)."""


class StoreFull(StoreError):
    """The database's disk (or its size limit) is full: nothing more can be written."""


class StoreUnavailable(StoreError):
    """The connection to the database was lost or cannot be made; it may come back."""


class StoreConflict(StoreError):
    """The database undid a statement to break a deadlock (or a serialization failure)
    with another writer: a race like a version conflict, which a retry may win."""


class StoreSchemaMismatch(StoreError):
    """The database's tables are not those of this version of PropFlow (made by an older
    or a newer one)."""


#: PostgreSQL SQLSTATE codes (and classes, by their first two characters) by kind.
_SQLSTATES: tuple[tuple[str, type[StoreError]], ...] = (
    ("25006", StoreReadOnly),  # read_only_sql_transaction
    ("40001", StoreConflict),  # serialization_failure
    ("40P01", StoreConflict),  # deadlock_detected
    ("53100", StoreFull),  # disk_full
    ("53", StoreFull),  # insufficient resources
    ("08", StoreUnavailable),  # connection exceptions
    ("57P", StoreUnavailable),  # the server shutting down
    ("42703", StoreSchemaMismatch),  # undefined_column
    ("42P01", StoreSchemaMismatch),  # undefined_table
)

#: SQLite's, the operating system's and the PostgreSQL drivers' words, lower-cased, by kind.
_WORDS: tuple[tuple[str, type[StoreError]], ...] = (
    ("readonly database", StoreReadOnly),
    ("read-only", StoreReadOnly),
    ("disk is full", StoreFull),
    ("no space left", StoreFull),
    ("disk i/o error", StoreUnavailable),
    ("unable to open database", StoreUnavailable),
    # PostgreSQL's drivers give no SQLSTATE when a connection cannot be made at all.
    ("connection failed", StoreUnavailable),
    ("could not connect", StoreUnavailable),
    ("connection refused", StoreUnavailable),
    ("server closed the connection", StoreUnavailable),
    ("the database system is", StoreUnavailable),
    ("no such column", StoreSchemaMismatch),
    ("no such table", StoreSchemaMismatch),
    ("has no column named", StoreSchemaMismatch),
)


def store_failure(error: SQLAlchemyError) -> StoreError:
    """The typed :class:`StoreError` for a database error, with the database's words."""
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip()
    kind: type[StoreError] = StoreError
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(error, DisconnectionError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        kind = StoreUnavailable
    elif isinstance(state, str):
        kind = next((found for prefix, found in _SQLSTATES if state.startswith(prefix)), kind)
    if kind is StoreError:
        lowered = text.lower()
        kind = next((found for words, found in _WORDS if words in lowered), kind)
    return kind(f"the database refused: {text.splitlines()[0] if text else type(error).__name__}")


def typed_failure(error: Exception) -> Exception:
    """``error`` as its typed :class:`StoreError` when the database raised it, else itself:
    for a failure caught while other work went on, and raised once that work is saved."""
    return store_failure(error) if isinstance(error, SQLAlchemyError) else error
