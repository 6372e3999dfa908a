"""Condition trees → formulas (engine.matching.formula) with the evaluator's exact semantics.

Each comparison of a name with a literal becomes a table over the name's kinds, following
engine.conditions.evaluator case by case: `x == null` holds for null (missing) only; `x == 5`
for numbers equal to 5 (5.00 too, never true); `x == '2026-01-31'` for that text, and also
for the date 2026-01-31 and the datetime 2026-01-31T00:00 (the evaluator reads text as ISO
8601 next to a date); `x < 5` never holds for null; `x in [...]` needs a value that is not null;
`not` is exact (formula.negate). A literal operand that contains no name is folded with the
evaluator itself, so folding cannot disagree with it.

What durable-rules cannot express raises Unsupported, and the rule is then answered by the
evaluator (see engine.matching's docstring for the list).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from engine.conditions import (
    BoolOp,
    Compare,
    Condition,
    EvalContext,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
    evaluate,
)
from engine.conditions.ast import iter_nodes

from .formula import (
    MIRRORED_OP,
    Cmp,
    Form,
    Items,
    PCmp,
    conj,
    disj,
    kinds_table,
    negate,
    table,
)
from .values import (
    KINDS,
    LIMIT,
    canonical_list,
    canonical_literal_item,
    canonical_set,
    day_number,
    literal_fraction,
    parse_date,
    parse_datetime,
    plain_text,
    utc_micros,
    wall_micros,
)

_EMPTY = EvalContext(data={})
_ORDERING = frozenset({"<", "<=", ">", ">="})


class Unsupported(Exception):
    """This condition cannot be matched faithfully by durable-rules."""


@dataclass(frozen=True)
class PairGuard:
    """A comparison of two names whose outcome depends on a run-time step durable-rules cannot
    take for some pairs of kinds (reading text as a date, list against set, datetimes that
    share one zone with daylight saving); those events go to the evaluator."""

    left: int
    right: int
    equality: bool


@dataclass
class NameTable:
    """Names read by compiled conditions, numbered in order of first use, and what each needs
    in a fact."""

    paths: list[tuple[str, ...]] = field(default_factory=list)
    index: dict[tuple[str, ...], int] = field(default_factory=dict)
    ordered: set[int] = field(default_factory=set)
    """Compared with <, <=, > or >= (their text must be plain)."""
    keyed: set[int] = field(default_factory=set)
    """Compared with another name by == or != (they need the k property)."""
    typed: set[int] = field(default_factory=set)
    """Ordered against another name (they need the y and o properties)."""

    def get(self, path: tuple[str, ...]) -> int:
        number = self.index.get(path)
        if number is None:
            number = len(self.paths)
            self.paths.append(path)
            self.index[path] = number
        return number

    def copy(self) -> NameTable:
        return NameTable(
            list(self.paths),
            dict(self.index),
            set(self.ordered),
            set(self.keyed),
            set(self.typed),
        )

    def fact_size(self) -> int:
        """The most properties a fact can need for these names."""
        return sum(2 + (n in self.keyed) + 2 * (n in self.typed) for n in range(len(self.paths)))


@dataclass(frozen=True)
class Compiled:
    form: Form
    names: frozenset[int]
    guards: tuple[PairGuard, ...]


def compile_condition(cond: Condition, names: NameTable) -> Compiled:
    """Compile one condition, adding the names it reads to `names`; raises Unsupported."""
    compiler = _Compiler(names)
    form = compiler.condition(cond.expr)
    return Compiled(form=form, names=frozenset(compiler.used), guards=tuple(compiler.guards))


@dataclass(frozen=True)
class _Const:
    value: object


@dataclass(frozen=True)
class _Ref:
    name: int


@dataclass(frozen=True)
class _Bool:
    """A comparison, and/or or not used as an operand: its value is a boolean."""

    form: Form


_Operand = _Const | _Ref | _Bool


class _Compiler:
    def __init__(self, names: NameTable) -> None:
        self.names = names
        self.used: set[int] = set()
        self.guards: list[PairGuard] = []

    # Conditions (truth values) -------------------------------------------------------

    def condition(self, expr: Expr) -> Form:
        if not _is_dynamic(expr):
            return evaluate(Condition("", expr), _EMPTY)
        if isinstance(expr, Name):
            return self.truthy(self.ref(expr))
        if isinstance(expr, Not):
            return negate(self.condition(expr.operand))
        if isinstance(expr, BoolOp):
            parts = (self.condition(operand) for operand in expr.operands)
            return conj(parts) if expr.op == "and" else disj(parts)
        if isinstance(expr, Compare):
            return self.compare(expr.op, self.operand(expr.left), self.operand(expr.right))
        raise Unsupported(
            f"{type(expr).__name__} (such as all(...)/any(...) over child cases): one fact "
            "per event does not hold the child cases"
        )

    def ref(self, name: Name) -> int:
        number = self.names.get(name.path)
        self.used.add(number)
        return number

    def operand(self, expr: Expr) -> _Operand:
        if not _is_dynamic(expr):
            return _Const(_constant(expr))
        if isinstance(expr, Name):
            return _Ref(self.ref(expr))
        form = self.condition(expr)
        return _Const(form) if isinstance(form, bool) else _Bool(form)

    def truthy(self, name: int) -> Form:
        """A name used as a condition on its own: Python truthiness of its value."""
        return table(
            name,
            {
                "b": Cmp("b", "==", 1),
                "n": Cmp("n", "!=", 0),
                "s": Cmp("s", "!=", ""),
                "d": True,
                "u": True,
                "t": True,
                "q": Cmp("q", "!=", "[]"),
                "e": Cmp("e", "!=", "[]"),
            },
        )

    # Comparisons ---------------------------------------------------------------------

    def compare(self, op: str, left: _Operand, right: _Operand) -> Form:
        if isinstance(left, _Const) and isinstance(right, _Const):
            return _fold(op, left.value, right.value)
        if op in _ORDERING:
            if isinstance(left, _Bool) or isinstance(right, _Bool):
                return False  # booleans are never ordered
            if isinstance(left, _Ref) and isinstance(right, _Const):
                return self.order_const(left.name, op, right.value)
            if isinstance(left, _Const) and isinstance(right, _Ref):
                return self.order_const(right.name, MIRRORED_OP[op], left.value)
            assert isinstance(left, _Ref) and isinstance(right, _Ref)
            return self.order_names(left.name, op, right.name)
        if op == "==":
            return self.equal(left, right)
        if op == "!=":
            return negate(self.equal(left, right))
        return self.member(left, right, negated=op == "not in")

    def equal(self, left: _Operand, right: _Operand) -> Form:
        if isinstance(right, _Ref) and not isinstance(left, _Ref):
            left, right = right, left
        if isinstance(left, _Ref):
            if isinstance(right, _Const):
                return self.equal_const(left.name, right.value)
            if isinstance(right, _Ref):
                return self.equal_names(left.name, right.name)
            return _equal_bool_name(right.form, left.name)
        if isinstance(right, _Bool) and not isinstance(left, _Bool):
            left, right = right, left
        assert isinstance(left, _Bool)
        if isinstance(right, _Const):
            if isinstance(right.value, bool):
                return left.form if right.value else negate(left.form)
            return False
        assert isinstance(right, _Bool)
        return disj(
            (
                conj((left.form, right.form)),
                conj((negate(left.form), negate(right.form))),
            )
        )

    def equal_const(self, name: int, value: object) -> Form:
        if value is None:
            return kinds_table(name, ("z",))
        if isinstance(value, bool):
            return table(name, {"b": Cmp("b", "==", int(value))})
        if isinstance(value, (int, Decimal, float)):
            scaled = literal_fraction(value)
            if scaled.denominator != 1 or not -LIMIT < scaled < LIMIT:
                return False  # no encodable number equals it; others are opaque
            return table(name, {"n": Cmp("n", "==", int(scaled))})
        if isinstance(value, str):
            return table(name, {"s": Cmp("s", "==", value), **_date_forms(value, "==")})
        if isinstance(value, tuple):
            items = [canonical_literal_item(v) for v in value]
            return table(
                name,
                {
                    "q": Cmp("q", "==", canonical_list(items)),
                    "e": Cmp("e", "==", canonical_set(items)),
                },
            )
        return False

    def order_const(self, name: int, op: str, value: object) -> Form:
        if value is None or isinstance(value, (bool, tuple)):
            return False
        if isinstance(value, (int, Decimal, float)):
            return table(name, {"n": _order_number(op, literal_fraction(value))})
        if isinstance(value, str):
            if not plain_text(value):
                raise Unsupported(
                    "ordering text that contains a quote, a backslash or a control character "
                    "(durable-rules compares text with its JSON escapes)"
                )
            self.names.ordered.add(name)
            return table(name, {"s": Cmp("s", op, value), **_date_forms(value, op)})
        return False

    def equal_names(self, left: int, right: int) -> Form:
        self.guards.append(PairGuard(left, right, equality=True))
        self.names.keyed.update((left, right))
        return PCmp(left, "k", "==", right, "k")

    def order_names(self, left: int, op: str, right: int) -> Form:
        self.guards.append(PairGuard(left, right, equality=False))
        self.names.ordered.update((left, right))
        self.names.typed.update((left, right))
        # Same kind (so the o values have one JSON type), and ordered.
        return conj((PCmp(left, "y", "==", right, "y"), PCmp(left, "o", op, right, "o")))

    # Membership ----------------------------------------------------------------------

    def member(self, left: _Operand, right: _Operand, *, negated: bool) -> Form:
        if isinstance(right, _Bool):
            return False  # a boolean is not a list
        if isinstance(right, _Const):
            if not isinstance(right.value, tuple):
                return False
            values = right.value
            if isinstance(left, _Ref):
                return self.in_list(left.name, values, negated=negated)
            assert isinstance(left, _Bool)
            inside = disj(
                (
                    conj((left.form, any(v is True for v in values))),
                    conj((negate(left.form), any(v is False for v in values))),
                )
            )
            return negate(inside) if negated else inside
        collection = right.name
        if isinstance(left, _Ref):
            raise Unsupported(
                "'in' between two names (durable-rules cannot compare a list's items with "
                "another property)"
            )
        if isinstance(left, _Const):
            if left.value is None:
                return False
            if isinstance(left.value, tuple):  # a list is never an item of an encoded list
                return kinds_table(collection, ("q", "e")) if negated else False
            inside = self.contains(collection, canonical_literal_item(left.value))
        else:
            inside = disj(
                (
                    conj((left.form, self.contains(collection, "b:1"))),
                    conj((negate(left.form), self.contains(collection, "b:0"))),
                )
            )
        if negated:
            return conj((kinds_table(collection, ("q", "e")), negate(inside)))
        return inside

    def contains(self, collection: int, item: str) -> Form:
        return table(
            collection,
            {"q": Items("l", "q", item), "e": Items("m", "e", item)},
        )

    def in_list(self, name: int, values: tuple[object, ...], *, negated: bool) -> Form:
        inside = disj(self.equal_const(name, v) for v in values if v is not None)
        if not negated:
            return inside
        not_null = kinds_table(name, (k for k in KINDS if k != "z"))
        return conj((not_null, negate(inside)))


def _equal_bool_name(form: Form, name: int) -> Form:
    """`(a < b) == flag`: the comparison's truth equals a boolean name."""
    return disj(
        (
            conj((form, table(name, {"b": Cmp("b", "==", 1)}))),
            conj((negate(form), table(name, {"b": Cmp("b", "==", 0)}))),
        )
    )


def _date_forms(text: str, op: str) -> dict[str, Form]:
    """How text compares with a date or datetime case value (read as ISO 8601)."""
    forms: dict[str, Form] = {}
    day = parse_date(text)
    if day is not None:
        forms["d"] = Cmp("d", op, day_number(day))
    moment = parse_datetime(text)
    if moment is not None:
        if moment.tzinfo is None:
            # Read in the case value's own timezone: compare wall clocks.
            wall = wall_micros(moment)
            forms["u"] = Cmp("w", op, wall)
            forms["t"] = Cmp("t", op, wall)
        else:
            utc = utc_micros(moment)
            if utc is not None:
                forms["u"] = Cmp("u", op, utc)
    return forms


def _order_number(op: str, scaled: Fraction) -> Form:
    """`n op scaled` for every encoded number n (an integer strictly inside ±LIMIT)."""
    if scaled >= LIMIT:
        return op in ("<", "<=")
    if scaled <= -LIMIT:
        return op in (">", ">=")
    if op == "<":
        return Cmp("n", "<", math.ceil(scaled))
    if op == "<=":
        return Cmp("n", "<=", math.floor(scaled))
    if op == ">":
        return Cmp("n", ">", math.floor(scaled))
    return Cmp("n", ">=", math.ceil(scaled))


_STATIC_NODES = (Literal, ListLiteral, Compare, BoolOp, Not)


def _is_dynamic(expr: Expr) -> bool:
    """Whether the value depends on the case: it has a name, or a node this compiler does not
    know (a quantifier over child cases reads them without naming them)."""
    return not all(isinstance(node, _STATIC_NODES) for node in iter_nodes(expr))


def _constant(expr: Expr) -> object:
    """The value of a name-free operand, as the evaluator computes it."""
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, ListLiteral):
        return tuple(item.value for item in expr.items)
    return evaluate(Condition("", expr), _EMPTY)


def _literal(value: object) -> Expr:
    if isinstance(value, tuple):
        return ListLiteral(tuple(_literal_item(v) for v in value))
    return _literal_item(value)


def _literal_item(value: object) -> Literal:
    assert value is None or isinstance(value, (str, int, Decimal, bool))
    return Literal(value)


def _fold(op: str, left: object, right: object) -> bool:
    assert op in _COMPARE_OPS
    expr = Compare(op, _literal(left), _literal(right))  # type: ignore[arg-type]  # op checked
    return evaluate(Condition("", expr), _EMPTY)


_COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
