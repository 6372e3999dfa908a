"""Evaluating condition trees against a case (each tree compiled once into closures).

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
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

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


class EvalContext(NamedTuple):
    """Everything a condition can read: the case data, who acts, the event payload, the state.

    A named tuple: immutable, and built for every guard and every limit a moment starts,
    where a frozen dataclass's field-by-field ``__init__`` cost more than the evaluation."""

    data: Mapping[str, object]
    actor_id: str | None = None
    actor_role: str | None = None
    actor_roles: frozenset[str] = frozenset()
    payload: Mapping[str, object] = MappingProxyType({})
    state: str | None = None
    #: The case's child cases, each ``{"state": str, "final": bool, "data": Mapping}``.
    children: Sequence[Mapping[str, object]] = ()
    #: The child an ``all(...)``/``any(...)`` body is being tested on.
    child: Mapping[str, object] | None = None


def evaluate(cond: Condition, ctx: EvalContext) -> bool:
    """Whether the condition holds for the context. Never raises on any data."""
    return cond.compiled(ctx)


def compile_condition(cond: Condition) -> Callable[[EvalContext], bool]:
    """The condition as one function of a context (see :attr:`Condition.compiled`, which
    keeps it): the tree is walked once, here, and each node becomes a closure with its
    operator, names and literals already looked up, so that an evaluation is a few calls
    rather than a visit of every node (conditions run for every event, and most are a
    comparison or two of a field with a literal)."""
    return _as_test(cond.expr)


#: What a compiled node gives: the value of the expression for a context.
_Node = Callable[[EvalContext], object]
#: What a compiled test gives: whether it holds.
_Test = Callable[[EvalContext], bool]


def _as_test(expr: Expr) -> _Test:
    """``expr`` compiled as a yes-or-no question (comparisons and ``and``/``or``/``not``
    answer with booleans already; any other value counts by its truthiness)."""
    if isinstance(expr, (Compare, BoolOp, Not, Quantified)):
        return _compiled(expr)  # type: ignore[return-value]
    node = _compiled(expr)

    def test(ctx: EvalContext) -> bool:
        return _truthy(node(ctx))

    return test


def _constant(expr: Expr) -> tuple[bool, object]:
    """Whether ``expr`` is a constant, and its value if it is."""
    if isinstance(expr, Literal):
        return True, expr.value
    if isinstance(expr, ListLiteral):
        return True, tuple(item.value for item in expr.items)
    return False, None


def _field_of(expr: Expr) -> str | None:
    """The case field a name reads, if ``expr`` is such a name (``urgency``)."""
    if isinstance(expr, Name) and len(expr.path) == 1 and expr.path[0] not in _NOT_FIELDS:
        return expr.path[0]
    return None


#: Single names that are not case fields (see :func:`resolve_name`).
_NOT_FIELDS = frozenset(("state", "actor", "payload"))


def _compiled(expr: Expr) -> _Node:
    if isinstance(expr, Compare):
        return _compare(expr)
    is_constant, value = _constant(expr)
    if is_constant:
        return lambda _ctx: value
    if isinstance(expr, Name):
        name = _field_of(expr)
        if name is not None:
            return lambda ctx: ctx.data.get(name)
        path = expr.path
        return lambda ctx: resolve_name(path, ctx)
    if isinstance(expr, BoolOp):
        return _bool_op(expr)
    if isinstance(expr, Not):
        operand = _as_test(expr.operand)
        return lambda ctx: not operand(ctx)
    assert isinstance(expr, Quantified)
    body = _as_test(expr.body)
    every = expr.quantifier == "all"

    def quantified(ctx: EvalContext) -> bool:
        tests = (body(ctx._replace(child=child)) for child in ctx.children)
        return all(tests) if every else any(tests)

    return quantified


def _bool_op(expr: BoolOp) -> _Test:
    operands = tuple(_as_test(operand) for operand in expr.operands)
    wanted = expr.op == "or"

    def bool_op(ctx: EvalContext) -> bool:
        # A loop rather than all()/any() over a generator: no generator to make and resume.
        for operand in operands:
            if operand(ctx) is wanted:
                return wanted
        return not wanted

    return bool_op


def _compare(expr: Compare) -> _Test:
    """A comparison; a case field against a literal (most of them) reads the field itself
    and compares texts directly, the language's equality agreeing with Python's there."""
    name = _field_of(expr.left)
    is_constant, constant = _constant(expr.right)
    op = expr.op
    if name is not None and is_constant and op in ("==", "!=") and type(constant) is str:
        text = constant
        if op == "==":

            def field_is(ctx: EvalContext) -> bool:
                value = ctx.data.get(name)
                return value == text if type(value) is str else values_equal(value, text)

            return field_is

        def field_is_not(ctx: EvalContext) -> bool:
            value = ctx.data.get(name)
            return value != text if type(value) is str else not values_equal(value, text)

        return field_is_not
    if name is not None and is_constant and op in ("==", "!=") and type(constant) is bool:
        # A flag equals only the same flag, and ``True``/``False`` are the only ones.
        flag = constant
        if op == "==":
            return lambda ctx: ctx.data.get(name) is flag
        return lambda ctx: ctx.data.get(name) is not flag
    if (
        name is not None
        and op in ("in", "not in")
        and type(constant) is tuple
        and all(type(item) is str for item in constant)
    ):
        return _field_among(name, constant, op == "in")
    left, right = _compiled(expr.left), _compiled(expr.right)
    if op == "==":
        return lambda ctx: values_equal(left(ctx), right(ctx))
    if op == "!=":
        return lambda ctx: not values_equal(left(ctx), right(ctx))
    if op in ("in", "not in"):
        wanted = op == "in"

        def member(ctx: EvalContext) -> bool:
            found, within = left(ctx), right(ctx)
            return (
                _is_collection(within) and found is not None and _contains(within, found) is wanted
            )

        return member
    return lambda ctx: _ordered(op, left(ctx), right(ctx))


def _field_among(name: str, texts: tuple[str, ...], wanted: bool) -> _Test:
    """``field in ['a', 'b']`` (``wanted``) or ``not in``: a text value is looked up among
    the texts, any other value compared with each as the language compares (a date with ISO
    text)."""
    among = frozenset(texts)

    def field_among(ctx: EvalContext) -> bool:
        value = ctx.data.get(name)
        if type(value) is str:
            return (value in among) is wanted
        return value is not None and _contains(texts, value) is wanted

    return field_among


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
