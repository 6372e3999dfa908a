"""Statements that write many rows of one kind at once: the store's case updates, log
entries, outbox rows, clocks and timers, each kind one statement whatever the number of rows.

A statement is written once, in terms of its values by name, and sent in the way each
database takes many rows best. SQLite gets one value per name and row (the driver's
``executemany``, whose loop over the rows runs in C inside the process). PostgreSQL, which
executes an ``executemany`` row by row, each row a statement of its own on the server, gets
one array per name: the statement reads its rows from ``unnest`` of the arrays, and the
server writes all of them in one execution (an update or delete joins the arrays' rows, an
insert selects them). Either way the statement's count of rows is the rows it matched.
Both forms are :class:`~engine.store.driver.Sent` statements, compiled once per dialect.

A JSON value goes in its array as its text (:func:`json_text`), cast back in the statement:
the driver's arrays of JSON values lose the quoting of a ``{}`` among them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Executable,
    Select,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from engine.store.driver import Sent

#: What a statement's values are read from: a value's name gives the expression for it.
Values = Callable[[str], ColumnElement[Any]]


class RowsStatement:
    """A statement over rows of values: ``build(values, dialect name)`` makes it, taking
    each value by name from ``values`` (a parameter on SQLite, a column of the arrays'
    rows on PostgreSQL); ``types`` gives each value's type (its column's)."""

    def __init__(
        self,
        types: Mapping[str, TypeEngine[Any]],
        build: Callable[[Values, str], Executable],
    ) -> None:
        self._names = tuple(types)
        self._json = frozenset(name for name, kind in types.items() if isinstance(kind, JSON))
        single = build(lambda name: bindparam(name, type_=types[name]), "sqlite")
        self._single = Sent(single, self._names)
        in_array = {name: Text() if name in self._json else types[name] for name in types}
        arrays = (
            func.unnest(
                *(bindparam(name, type_=postgresql.ARRAY(in_array[name])) for name in self._names)
            )
            .table_valued(*(column(name, in_array[name]) for name in self._names))
            .render_derived(name="batch")
        )

        def value(name: str) -> ColumnElement[Any]:
            found = arrays.c[name]
            return cast(found, types[name]) if name in self._json else found

        self._arrays = Sent(build(value, "postgresql"))

    def run(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Write ``rows`` (each giving every value by name) in ``tx``; the rows matched."""
        if tx.dialect.name == "postgresql":
            arrays = {
                name: [json_text(row[name]) for row in rows]
                if name in self._json
                else [row[name] for row in rows]
                for name in self._names
            }
            return self._arrays.count(tx, [arrays])
        return self._single.count(tx, rows)


class ListStatement:
    """A statement over a list of values sent as ONE value, read as a one-column subquery:
    ``build(values)`` makes the statement from that subquery (``column.in_(values)``).

    A batch of a tick reads its cases and timers by their ids: with SQLAlchemy's
    expanding ``IN``, each batch's statement is rendered anew and sent through its
    execution, whose work per row read was much of the batch's reads. A list sent as one
    value makes one text for every batch, sent on the driver's cursor
    (:class:`~engine.store.driver.Sent`): SQLite reads it from its JSON text
    (``json_each``), PostgreSQL from an array (``unnest``)."""

    def __init__(self, kind: TypeEngine[Any], build: Callable[[Select[Any]], Executable]) -> None:
        listed = bindparam("b_list", type_=Text())
        self._single = Sent(
            build(select(column("value", kind)).select_from(func.json_each(listed)))
        )
        array = bindparam("b_list", type_=postgresql.ARRAY(kind))
        self._arrays = Sent(build(select(func.unnest(array))))

    def rows(self, tx: Connection, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows the statement selects with the list ``values``, as the driver reads them."""
        if tx.dialect.name == "postgresql":
            return self._arrays.rows(tx, {"b_list": list(values)})
        return self._single.rows(tx, {"b_list": json_text(list(values))})


def column_types(table: Table, names: Sequence[str]) -> dict[str, TypeEngine[Any]]:
    """The types of ``table``'s columns ``names``, by name."""
    return {name: table.c[name].type for name in names}


def json_text(value: Any) -> str:
    """A JSON column's text, as the store writes it (the engine's serializer too).

    orjson rather than the standard library's encoder: every event and every fired timer
    writes its case's data and its clocks' lists, and the standard encoder's work on them
    was a tenth of a tick. Keys that are not text are written as text, as the standard
    encoder writes them; the values are those forms accept (integers within 64 bits).
    """
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def json_value(text: str | bytes) -> Any:
    """A JSON column's value, read by the same library that wrote it."""
    return orjson.loads(text)
