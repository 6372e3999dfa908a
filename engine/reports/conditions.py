"""Conditions as SQL: an indicator's ``where`` and ``counts.if`` run inside the query.

The same meaning as :mod:`engine.conditions.evaluator`, so a report counts what a guard
would accept: a missing field reads as null, equality and ordering with null are false
(``!=`` a value is true for null), ``in``/``not in`` are false for null, and every
comparison is a plain true or false (never SQL's unknown), so ``not`` behaves. Fields are
read from a JSON column with the SQL type of their declared type, on SQLite and PostgreSQL
alike. Names a query cannot read (``actor.*``, ``payload.*``, child cases) are refused by
check PF530 before a report runs; meeting one here is a programming error.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, not_, or_, true

from engine.conditions import (
    BoolOp,
    Compare,
    Condition,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
)
from engine.model import FieldDef

_NUMBER_TYPES = frozenset({"money"})


def condition_sql(
    condition: Condition,
    data: ColumnElement[Any],
    state: ColumnElement[Any],
    fields: Mapping[str, FieldDef],
) -> ColumnElement[bool]:
    """``condition`` as a boolean SQL expression over the JSON column ``data`` (the case's
    data, or an event's payload) and the ``state`` column."""
    return _Compiler(data, state, fields).truth(condition.expr)


class _Compiler:
    def __init__(
        self, data: ColumnElement[Any], state: ColumnElement[Any], fields: Mapping[str, FieldDef]
    ) -> None:
        self.data = data
        self.state = state
        self.fields = fields

    def truth(self, node: Expr) -> ColumnElement[bool]:
        if isinstance(node, BoolOp):
            parts = [self.truth(operand) for operand in node.operands]
            return and_(*parts) if node.op == "and" else or_(*parts)
        if isinstance(node, Not):
            return not_(self.truth(node.operand))
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Name):
            value = self.value(node)
            if self.field_type(node) == "bool":
                return func.coalesce(value, false()) == true()
            return value.is_not(None)
        if isinstance(node, Literal):
            return true() if node.value else false()
        raise TypeError(f"an indicator's condition cannot use {type(node).__name__}")

    def field_type(self, name: Name) -> str | None:
        field = self.fields.get(name.path[0]) if len(name.path) == 1 else None
        return field.type if field is not None else None

    def value(self, node: Expr) -> ColumnElement[Any]:
        if isinstance(node, Name):
            if node.path == ("state",):
                return self.state
            kind = self.field_type(node)
            if kind is None:
                raise TypeError(f"an indicator's condition cannot read '{node.dotted}'")
            item = self.data[node.path[0]]
            typed: ColumnElement[Any]
            if kind == "bool":
                typed = item.as_boolean()
            elif kind == "int":
                typed = item.as_integer()
            elif kind in _NUMBER_TYPES:
                typed = item.as_float()
            else:
                typed = item.as_string()
            return typed
        if isinstance(node, Literal):
            return literal(_plain(node.value))
        raise TypeError(f"an indicator's condition cannot compare {type(node).__name__}")

    def compare(self, node: Compare) -> ColumnElement[bool]:
        left, right = node.left, node.right
        if node.op in ("in", "not in"):
            if not isinstance(right, ListLiteral):
                return false()
            subject = self.value(left)
            values = [_plain(item.value) for item in right.items]
            if node.op == "in":
                return func.coalesce(subject.in_(values), false())
            return and_(subject.is_not(None), subject.not_in(values))
        for one, other in ((left, right), (right, left)):
            if isinstance(other, Literal) and other.value is None:
                subject = self.value(one)
                if node.op == "==":
                    return subject.is_(None)
                if node.op == "!=":
                    return subject.is_not(None)
                return false()
        a, b = self.value(left), self.value(right)
        if node.op == "==":
            return func.coalesce(a == b, false())
        if node.op == "!=":
            return not_(func.coalesce(a == b, false()))
        operators = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
        return func.coalesce(operators[node.op], false())


def _plain(value: object) -> Any:
    """A literal as a driver parameter (decimals as floats, like the numbers read back)."""
    return float(value) if isinstance(value, Decimal) else value
