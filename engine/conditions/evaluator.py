"""Interpreter of condition trees against a case.

A guard runs on live case data that may be incomplete or oddly typed (a field never filled in,
a date stored as text). A guard must answer yes or no, never crash the event, so:

- a missing field reads as null (None);
- `==` / `!=` are total: null equals only null, true/false equal only booleans (true is not 1),
  integers and decimals compare by value, lists compare item by item;
- ordering (`<`, `<=`, `>`, `>=`) is defined for two numbers, two texts, two dates or two
  datetimes; anything else (null, booleans, lists, mixed types) is simply false;
- a date or datetime compared with text reads the text as ISO 8601 (`'2026-01-31'`), because
  the language has no date literals; text without a UTC offset takes the datetime's own
  timezone; text that is not a date makes the comparison false;
- `in` / `not in` need a value on the left and a list on the right; a missing value is neither
  in nor not in a list (test `x == null` for that), and a non-list on the right is false;
- `and` / `or` short-circuit and give booleans; a bare value used as a condition (`chargeable`)
  counts by Python truthiness;
- `children.count` is the number of child cases and `children.open` the number not in a final
  state; `all(...)` is true when its body holds for every child (so for none), `any(...)`
  when it holds for at least one; inside them `children.state` and `children.FIELD` read the
  child being tested (null elsewhere).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .ast import (
    CHILDREN,
    BoolOp,
    Compare,
    Condition,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
    Quantified,
)

# What comparing two values can raise on odd data (signalling Decimal NaN, naive vs aware
# datetimes, a foreign object's __eq__); any of them means "false", never a failed event.
_COMPARE_ERRORS = (TypeError, ValueError, ArithmeticError)


@dataclass(frozen=True)
class EvalContext:
    """Everything a condition can read: the case data, who acts, the event payload, the state."""

    data: Mapping[str, object]
    actor_id: str | None = None
    actor_role: str | None = None
    actor_roles: frozenset[str] = frozenset()
    payload: Mapping[str, object] = field(default_factory=dict)
    state: str | None = None
    #: The case's child cases, each ``{"state": str, "final": bool, "data": Mapping}``.
    children: Sequence[Mapping[str, object]] = ()
    #: The child an ``all(...)``/``any(...)`` body is being tested on.
    child: Mapping[str, object] | None = None


def evaluate(cond: Condition, ctx: EvalContext) -> bool:
    """Whether the condition holds for the context. Never raises on any data."""
    return _truthy(_eval(cond.expr, ctx))


def resolve_name(path: tuple[str, ...], ctx: EvalContext) -> object:
    """The value a name reads; unknown names read as None (the checker reports them)."""
    if path == ("state",):
        return ctx.state
    if len(path) == 1 and path[0] not in ("actor", "payload"):
        return ctx.data.get(path[0])
    if path == ("actor", "id"):
        return ctx.actor_id
    if path == ("actor", "role"):
        return ctx.actor_role
    if path == ("actor", "roles"):
        return ctx.actor_roles
    if len(path) == 2 and path[0] == "payload":
        return ctx.payload.get(path[1])
    if len(path) == 2 and path[0] == CHILDREN:
        return _child_name(path[1], ctx)
    return None


def _child_name(part: str, ctx: EvalContext) -> object:
    """``children.count``, ``children.open``, or the tested child's ``state`` or field."""
    if part == "count":
        return len(ctx.children)
    if part == "open":
        return sum(1 for child in ctx.children if not child.get("final"))
    if ctx.child is None:
        return None
    if part == "state":
        return ctx.child.get("state")
    data = ctx.child.get("data")
    return data.get(part) if isinstance(data, Mapping) else None


def _eval(expr: Expr, ctx: EvalContext) -> object:
    # The most frequent nodes are tested first: every guard is mostly comparisons of a name
    # with a literal, and it runs on every event.
    if isinstance(expr, Compare):
        left = _eval(expr.left, ctx)
        right = _eval(expr.right, ctx)
        if expr.op == "==":
            return values_equal(left, right)
        if expr.op == "!=":
            return not values_equal(left, right)
        if expr.op == "in":
            return _is_collection(right) and left is not None and _contains(right, left)
        if expr.op == "not in":
            return _is_collection(right) and left is not None and not _contains(right, left)
        return _ordered(expr.op, left, right)
    if isinstance(expr, Name):
        return resolve_name(expr.path, ctx)
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, BoolOp):
        # Loops rather than all()/any() over a generator: no generator to make and resume.
        wanted = expr.op == "or"
        for operand in expr.operands:
            if _truthy(_eval(operand, ctx)) is wanted:
                return wanted
        return not wanted
    if isinstance(expr, ListLiteral):
        return tuple(item.value for item in expr.items)
    if isinstance(expr, Not):
        return not _truthy(_eval(expr.operand, ctx))
    assert isinstance(expr, Quantified)
    tests = (_truthy(_eval(expr.body, replace(ctx, child=child))) for child in ctx.children)
    return all(tests) if expr.quantifier == "all" else any(tests)


def _truthy(value: object) -> bool:
    if value is True or value is False:  # what comparisons give: no bool() to guard
        return value
    try:
        return bool(value)
    except _COMPARE_ERRORS:
        return False


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _is_collection(value: object) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def _as_date_pair(left: object, right: object) -> tuple[object, object] | None:
    """If one side is a date/datetime and the other text, read the text as ISO 8601.

    Returns the pair to compare, or None when the text is not a date of that kind."""
    for value, other, swap in ((left, right, False), (right, left, True)):
        if isinstance(value, date) and isinstance(other, str):
            parser: Callable[[str], date] = (
                datetime.fromisoformat if isinstance(value, datetime) else date.fromisoformat
            )
            try:
                parsed = parser(other)
            except ValueError:
                return None
            if (
                isinstance(value, datetime)
                and isinstance(parsed, datetime)
                and parsed.tzinfo is None
                and value.tzinfo is not None
            ):
                # '2026-01-31T09:00' means nine o'clock where the case's datetime lives.
                parsed = parsed.replace(tzinfo=value.tzinfo)
            return (parsed, value) if swap else (value, parsed)
    return left, right


def values_equal(left: object, right: object) -> bool:
    """Equality as the condition language defines it (see the module docstring)."""
    if type(left) is str and type(right) is str:  # a text field against a literal, mostly
        return left == right
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_collection(left) or _is_collection(right):
        return _collections_equal(left, right)
    pair = _as_date_pair(left, right)
    if pair is None:
        return False
    left, right = pair
    if _is_number(left) != _is_number(right):
        return False
    if isinstance(left, datetime) != isinstance(right, datetime):
        return False
    try:
        return bool(left == right)
    except _COMPARE_ERRORS:
        return False


def _collections_equal(left: object, right: object) -> bool:
    if not (_is_collection(left) and _is_collection(right)):
        return False
    assert isinstance(left, (list, tuple, set, frozenset))
    assert isinstance(right, (list, tuple, set, frozenset))
    if isinstance(left, (set, frozenset)) or isinstance(right, (set, frozenset)):
        # Sets have no order: equal when each item of one is found in the other.
        return all(_contains(right, item) for item in left) and all(
            _contains(left, item) for item in right
        )
    left_items, right_items = list(left), list(right)
    return len(left_items) == len(right_items) and all(
        values_equal(a, b) for a, b in zip(left_items, right_items, strict=True)
    )


def _contains(container: object, item: object) -> bool:
    assert isinstance(container, (list, tuple, set, frozenset))
    return any(values_equal(item, member) for member in container)


def _ordered(op: str, left: object, right: object) -> bool:
    if left is None or right is None:
        return False
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if _is_collection(left) or _is_collection(right):
        return False
    pair = _as_date_pair(left, right)
    if pair is None:
        return False
    left, right = pair
    comparable = (
        (_is_number(left) and _is_number(right))
        or (isinstance(left, str) and isinstance(right, str))
        or (isinstance(left, datetime) and isinstance(right, datetime))
        or (
            isinstance(left, date)
            and isinstance(right, date)
            and not isinstance(left, datetime)
            and not isinstance(right, datetime)
        )
    )
    if not comparable:
        return False
    try:
        return bool(_ORDERINGS[op](left, right))
    except _COMPARE_ERRORS:
        return False


_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
