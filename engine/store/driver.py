"""The store's hot statements, sent on the driver's cursor of SQLAlchemy's connection.

Every event reads its case and clocks and writes a handful of rows (see
:mod:`engine.store.rows`), and every tick does the same for a batch of cases. SQLAlchemy's
work per executed statement (its compiled cache, an execution context, parameters built
and converted, a result set up, events dispatched) cost more than the database's work on
these statements. So a :class:`Sent` statement, written once in SQLAlchemy Core for both
databases, is compiled by SQLAlchemy once per dialect and sent on the DBAPI cursor of the
connection SQLAlchemy holds: the transaction, its savepoints, the pool and the locks stay
SQLAlchemy's. What SQLAlchemy does per statement is done here as it does it: each value
converted by its bind's type's own bind processor (taken at compile time), the values in
the dialect's parameter style (positional for SQLite's ``qmark``, by name for psycopg's
``pyformat``), and the driver's errors raised as SQLAlchemy's (:meth:`DBAPIError.instance`),
a lost connection invalidated and marked so, as SQLAlchemy marks it.

SQLAlchemy's statement events and log do not see these statements: each is logged here
instead, at DEBUG on this module's logger, the record naming the SQLAlchemy ``engine`` and
the number of ``value_sets`` sent (what shows them when debugging, and what the benchmarks
count the statements of an event with).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ClauseElement, Connection, Executable, SelectBase
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import ScalarElementColumnDefault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Form:
    """A statement as one dialect takes it: its text, the values' names in the order of
    its placeholders (with the names the text gives them, ``None`` when positional), the
    conversion of the values that have one (by their place), and the values the statement
    sets itself (a column's default)."""

    sql: str
    names: tuple[str, ...]
    keys: tuple[str, ...] | None
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    fixed: Mapping[str, Any]
    error: type[Any]  # the driver's ``Error``

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for one set of ``values`` (by name)."""
        if self.fixed:
            values = {**values, **self.fixed}
        found = [values[name] for name in self.names]
        for index, process in self.processors:
            found[index] = process(found[index])
        return found if self.keys is None else dict(zip(self.keys, found, strict=True))


def _compiled(statement: Executable, columns: Sequence[str], dialect: Dialect) -> _Form:
    """``statement`` compiled by SQLAlchemy for ``dialect``, its columns set from the values
    named ``columns`` (an insert or update that names none itself)."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=list(columns) or None)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or compiled.binds)
    fixed: dict[str, Any] = {}
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        default = column.default
        if not isinstance(default, ScalarElementColumnDefault):
            raise ValueError(f"{column} has a default only SQLAlchemy's execution can compute")
        fixed[column.key] = default.arg
    processors = []
    for index, name in enumerate(names):
        bind = compiled.binds[name]
        if bind.expanding or bind.literal_execute:
            raise ValueError(f"{name}: a value rendered into the text cannot be sent as given")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((index, process))
    if isinstance(statement, SelectBase):  # its rows are given as the driver reads them
        for selected in statement.selected_columns:
            if selected.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                raise ValueError(f"{selected} is converted as read: select it as stored")
    escaped = compiled.escaped_bind_names
    return _Form(
        compiled.string,
        names,
        None if dialect.positional else tuple(escaped.get(name, name) for name in names),
        tuple(processors),
        fixed,
        dialect.loaded_dbapi.Error,
    )


class Sent:
    """A statement sent on the driver's cursor of the connection of a transaction, compiled
    for each dialect the first time it is sent there. ``columns`` names the values an
    insert or update sets its columns from (SQLAlchemy's ``column_keys``)."""

    def __init__(self, statement: Executable, columns: Sequence[str] = ()) -> None:
        self._statement = statement
        self._columns = tuple(columns)
        # By dialect instance: its bind processors carry the engine's JSON serializer.
        self._forms: weakref.WeakKeyDictionary[Dialect, _Form] = weakref.WeakKeyDictionary()

    def rows(self, tx: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows the statement selects with ``values``, as the driver reads them."""
        rows: list[tuple[Any, ...]] = self._send(tx, [values], lambda cursor: cursor.fetchall())
        return rows

    def count(self, tx: Connection, values: Sequence[Mapping[str, Any]]) -> int:
        """Run the statement once for each set of ``values`` (one ``executemany`` for
        several): the rows it matched in all."""
        return int(self._send(tx, values, lambda cursor: cursor.rowcount))

    def _send(
        self, tx: Connection, values: Sequence[Mapping[str, Any]], result: Callable[[Any], Any]
    ) -> Any:
        """Send the statement in ``tx`` (begun here if it is not yet, as SQLAlchemy's
        execution would) and give ``result`` of the cursor."""
        dialect = tx.dialect
        form = self._forms.get(dialect)
        if form is None:
            form = self._forms[dialect] = _compiled(self._statement, self._columns, dialect)
        if not tx.in_transaction():
            tx.begin()
        connection = tx.connection.dbapi_connection
        assert connection is not None
        many = len(values) > 1
        parameters: Any = (
            [form.parameters(one) for one in values] if many else form.parameters(values[0])
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", form.sql, extra={"engine": tx.engine, "value_sets": len(values)})
        cursor = connection.cursor()
        try:
            if many:
                cursor.executemany(form.sql, parameters)
            else:
                cursor.execute(form.sql, parameters)
            return result(cursor)
        except form.error as exc:
            lost = dialect.is_disconnect(exc, connection, cursor)
            if lost:
                tx.invalidate(exc)
            raise DBAPIError.instance(
                form.sql,
                parameters,
                exc,
                form.error,
                connection_invalidated=lost,
                dialect=dialect,
                ismulti=many,
            ) from exc
        finally:
            cursor.close()
