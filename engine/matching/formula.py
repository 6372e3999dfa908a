"""Boolean formulas over encoded names, and their lowering to durable-rules expressions.

A condition compiles to a formula whose leaves are:

- `Table(name, forms)`: one test of one name, written per kind: `forms[k]` is what must hold
  of the name's properties when the name has kind `KINDS[k]` (True, False, or a formula of
  `Cmp`/`Items` on that kind's properties). `urgency == 'urgent'` is the table
  {s: s == 'urgent', every other kind: False}.
- `PCmp`: a property of one name compared with a property of another (`fee < payload.fee`).

Every name has exactly one kind in a fact and a kind's properties exist exactly when the name
has it, so negation is exact without ever testing for a missing property: a table is negated
kind by kind (`not (urgency == 'urgent')` is {s: s != 'urgent', every other kind: True}), and
inside a kind the properties exist, so `not (p < v)` is `p >= v`. And/or are negated with De
Morgan. Tables of the same name are merged under and/or, which keeps the lowered expression
small: durable-rules allows about fifteen and/or connectives in one rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from durable.lang import item, m

from .values import KINDS, PRIMARY, PROP_KINDS

NEGATED_OP = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
MIRRORED_OP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

MAX_SEQUENCE_ENTRIES = 31
"""durable-rules records two entries per and/or of a rule, and refuses a rule at 32 (error 113,
ERR_EXPRESSION_LIMIT_EXCEEDED): at most fifteen and/or. (Measured: comparisons of two
properties, though they also go into that sequence in durable-rules' source, do not count.)"""


@dataclass(frozen=True)
class Cmp:
    """Inside a kind: the name's property `prop` (a suffix such as 'n') `op` a constant."""

    prop: str
    op: str
    value: int | str


@dataclass(frozen=True)
class Items:
    """Inside the list (or set) kind: some item is `value`; negated: no item is (an empty
    collection included, which durable-rules' allItems does not match)."""

    prop: str  # "l" (list items) or "m" (set items)
    empty: str  # "q" or "e": the collection's canonical text, "[]" when empty
    value: str
    negated: bool = False


@dataclass(frozen=True)
class Table:
    """A test of one name: for each kind (aligned with KINDS), what must hold."""

    name: int
    forms: tuple[Form, ...]


@dataclass(frozen=True)
class PCmp:
    """`left.left_prop op right.right_prop`; false when either property is missing.

    Lowered with an existence test of the right-hand property when it can be missing:
    durable-rules 2.0.28 lets `$gt: {a: {$m: b}}` with `b` missing match once another rule
    of the ruleset matched the same fact."""

    left: int
    left_prop: str
    op: str
    right: int
    right_prop: str


@dataclass(frozen=True)
class And:
    items: tuple[Form, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Form, ...]


Form: TypeAlias = bool | Cmp | Items | Table | PCmp | And | Or


def table(name: int, forms: Mapping[str, Form]) -> Form:
    """A table from {kind: form}; kinds not given are False. A constant table is a bool."""
    values = tuple(forms.get(kind, False) for kind in KINDS)
    return _simplified_table(name, values)


def kinds_table(name: int, kinds: Iterable[str]) -> Form:
    """The name has one of these kinds."""
    return table(name, dict.fromkeys(kinds, True))


def _simplified_table(name: int, forms: tuple[Form, ...]) -> Form:
    if all(form is True for form in forms):
        return True
    if all(form is False for form in forms):
        return False
    return Table(name, forms)


def conj(items: Iterable[Form]) -> Form:
    return _combine(items, is_and=True)


def disj(items: Iterable[Form]) -> Form:
    return _combine(items, is_and=False)


def _combine(items: Iterable[Form], *, is_and: bool) -> Form:
    node = And if is_and else Or
    absorbing = not is_and  # False absorbs an and, True absorbs an or
    slots: list[Form | _TableSlot] = []
    tables: dict[int, Form] = {}  # the merged table of each name, or a bool once constant
    stack = list(items)
    stack.reverse()
    while stack:
        current = stack.pop()
        if isinstance(current, node):
            stack.extend(reversed(current.items))
        elif isinstance(current, bool):
            if current is absorbing:
                return absorbing
        elif isinstance(current, Table):
            previous = tables.get(current.name)
            if previous is None:
                slots.append(_TableSlot(current.name))
                tables[current.name] = current
                continue
            if isinstance(previous, bool):  # merged into the identity earlier
                tables[current.name] = current
                continue
            assert isinstance(previous, Table)
            merged = _simplified_table(
                current.name,
                tuple(
                    _combine((a, b), is_and=is_and)
                    for a, b in zip(previous.forms, current.forms, strict=True)
                ),
            )
            if merged is absorbing:
                return absorbing
            tables[current.name] = merged
        else:
            slots.append(current)
    out: list[Form] = []
    seen: set[Form] = set()
    for slot in slots:
        form = tables[slot.name] if isinstance(slot, _TableSlot) else slot
        if isinstance(form, bool):  # a merged table that became the identity
            continue
        if form not in seen:
            seen.add(form)
            out.append(form)
    if not out:
        return not absorbing
    if len(out) == 1:
        return out[0]
    return node(tuple(out))


@dataclass(frozen=True)
class _TableSlot:
    """Where the merged table of a name goes in a combined formula."""

    name: int


def negate(form: Form) -> Form:
    """The exact complement (see the module docstring)."""
    if isinstance(form, bool):
        return not form
    if isinstance(form, Cmp):
        return Cmp(form.prop, NEGATED_OP[form.op], form.value)
    if isinstance(form, Items):
        return replace(form, negated=not form.negated)
    if isinstance(form, Table):
        return _simplified_table(form.name, tuple(negate(f) for f in form.forms))
    if isinstance(form, PCmp):
        return disj(
            (
                PCmp(form.left, form.left_prop, NEGATED_OP[form.op], form.right, form.right_prop),
                _not_kinds(form.left, PROP_KINDS[form.left_prop]),
                _not_kinds(form.right, PROP_KINDS[form.right_prop]),
            )
        )
    if isinstance(form, And):
        return disj(negate(f) for f in form.items)
    return conj(negate(f) for f in form.items)


def _not_kinds(name: int, kinds: frozenset[str]) -> Form:
    return kinds_table(name, (k for k in KINDS if k not in kinds))


def names_of(form: Form) -> set[int]:
    """The names a formula reads."""
    if isinstance(form, Table):
        return {form.name}
    if isinstance(form, PCmp):
        return {form.left, form.right}
    if isinstance(form, (And, Or)):
        out: set[int] = set()
        for f in form.items:
            out |= names_of(f)
        return out
    return set()


# Lowering ---------------------------------------------------------------------------------

PropName = Callable[[int, str], str]
"""(name index, suffix) → the fact's property name."""

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


_ALL_KINDS = frozenset(KINDS)


@dataclass(frozen=True)
class Lowered:
    """A durable-rules condition on one message (`m`): its JSON definition and the number of
    expression-sequence entries durable-rules will count for it (see MAX_SEQUENCE_ENTRIES)."""

    definition: dict[str, Any]
    entries: int


def lower(form: Form, prop: PropName) -> Lowered:
    """The durable-rules expression of a non-constant formula, built with durable.lang's
    message expressions (`m.v0s == 'urgent'`, `+m.v0z`, `m.v1l.anyItem(item == 's:x')`);
    and/or become `$and`/`$or` lists, what `&`/`|` of durable.lang produce when they chain."""
    assert not isinstance(form, bool)
    if isinstance(form, Table):
        parts: list[Lowered] = []
        for kind, kform in zip(KINDS, form.forms, strict=True):
            if kform is True:
                parts.append(Lowered((+getattr(m, prop(form.name, PRIMARY[kind]))).define(), 0))
            elif kform is not False:
                parts.append(_lower_in_kind(kform, form.name, prop))
        return _connect("$or", parts)
    if isinstance(form, PCmp):
        left = getattr(m, prop(form.left, form.left_prop))
        right_name = prop(form.right, form.right_prop)
        compared = Lowered(_COMPARE[form.op](left, getattr(m, right_name)).define(), 0)
        if PROP_KINDS[form.right_prop] == _ALL_KINDS:
            return compared
        return _connect("$and", [Lowered((+getattr(m, right_name)).define(), 0), compared])
    if isinstance(form, (And, Or)):
        return _connect(
            "$and" if isinstance(form, And) else "$or", [lower(f, prop) for f in form.items]
        )
    raise TypeError(f"{form!r} is only meaningful inside a table")


def _lower_in_kind(form: Form, name: int, prop: PropName) -> Lowered:
    if isinstance(form, Cmp):
        return Lowered(_COMPARE[form.op](getattr(m, prop(name, form.prop)), form.value).define(), 0)
    if isinstance(form, Items):
        items = getattr(m, prop(name, form.prop))
        if not form.negated:
            return Lowered(items.anyItem(item == form.value).define(), 0)
        none_is = Lowered(items.allItems(item != form.value).define(), 0)
        empty = Lowered((getattr(m, prop(name, form.empty)) == "[]").define(), 0)
        return _connect("$or", [none_is, empty])
    if isinstance(form, (And, Or)):
        return _connect(
            "$and" if isinstance(form, And) else "$or",
            [_lower_in_kind(f, name, prop) for f in form.items],
        )
    raise TypeError(f"unexpected {form!r} inside a table")


def _connect(op: str, parts: list[Lowered]) -> Lowered:
    assert parts
    if len(parts) == 1:
        return parts[0]
    flat: list[dict[str, Any]] = []
    entries = 2
    for part in parts:
        entries += part.entries
        if set(part.definition) == {op}:  # (a or b) or c: one list, as durable.lang chains
            flat.extend(part.definition[op])
            entries -= 2
        else:
            flat.append(part.definition)
    return Lowered({op: flat}, entries)


def split_or(form: Form) -> list[Form]:
    """The operands of a top-level or (each can be a rule of its own), else [form]."""
    if isinstance(form, Or):
        return list(form.items)
    if isinstance(form, Table):
        # A table is an or over kinds: split it into one table per kind.
        parts: list[Form] = []
        for index, kform in enumerate(form.forms):
            if kform is not False:
                forms: list[Form] = [False] * len(KINDS)
                forms[index] = kform
                parts.append(Table(form.name, tuple(forms)))
        return parts
    return [form]
