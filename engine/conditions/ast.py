"""Syntax tree of the condition language.

Nodes are frozen dataclasses so a parsed condition can be shared between cases, threads and
definition versions without anyone mutating it. Every node keeps the character offset where
it starts (operators: where the operator is) for error messages; offsets are excluded from
equality so that two texts that differ only in spacing or parentheses give equal trees.

`and`/`or` chains are flat (`BoolOp('and', (a, b, c))`), which keeps the tree shallow for
long conditions and makes the rendering canonical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, TypeAlias
from typing import Literal as TypingLiteral

if TYPE_CHECKING:
    from .evaluator import EvalContext

LiteralValue: TypeAlias = str | int | Decimal | bool | None
"""What a literal in condition text can be: 'text', 42, 1.5 (a Decimal), true/false, null."""

CompareOp: TypeAlias = TypingLiteral["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
BoolOpKind: TypeAlias = TypingLiteral["and", "or"]

#: The name under which a condition reads the case's child cases: `children.count`,
#: `children.open`, and inside `all(...)`/`any(...)` `children.state` and `children.FIELD`.
CHILDREN = "children"

ORDERING_OPS: frozenset[str] = frozenset({"<", "<=", ">", ">="})
MEMBERSHIP_OPS: frozenset[str] = frozenset({"in", "not in"})


@dataclass(frozen=True)
class Literal:
    """A constant: text, an integer, a decimal, true, false or null."""

    value: LiteralValue
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ListLiteral:
    """A list of constants, `['urgent', 'general']`. Items are literals only: a name inside a
    list is almost always text that lost its quotes, so the parser refuses it."""

    items: tuple[Literal, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """A dotted name such as `urgency`, `actor.role` or `payload.fee`, as a tuple of parts.

    The parser accepts any dotted name; which names exist is the checker's job, because only it
    knows the process's fields."""

    path: tuple[str, ...]
    offset: int = field(default=0, compare=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Compare:
    """`left op right`. Comparisons do not chain: `a < b < c` is a syntax error."""

    op: CompareOp
    left: Expr
    right: Expr
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolOp:
    """`a and b and c` or `a or b`: two or more operands, evaluated left to right with
    short-circuiting."""

    op: BoolOpKind
    operands: tuple[Expr, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: Expr
    offset: int = field(default=0, compare=False)


QuantifierKind: TypeAlias = TypingLiteral["all", "any"]


@dataclass(frozen=True)
class Quantified:
    """`all(body)` or `any(body)`: the body tested for each of the case's child cases (the
    cases it opened with `link: child`), which it reads as `children.state` and
    `children.FIELD`. `all` over no children is true, `any` over none false (test
    `children.count > 0` for "at least one"). Quantifiers do not nest."""

    quantifier: QuantifierKind
    body: Expr
    offset: int = field(default=0, compare=False)


Expr: TypeAlias = Literal | ListLiteral | Name | Compare | BoolOp | Not | Quantified


@dataclass(frozen=True)
class Condition:
    """A parsed condition: the text as written (for messages) and the root of its tree."""

    text: str
    expr: Expr

    @cached_property
    def compiled(self) -> Callable[[EvalContext], bool]:
        """The condition as a function of an evaluation context, compiled on first use and
        kept with the (immutable) condition: see :func:`.evaluator.compile_condition`."""
        from .evaluator import compile_condition  # the evaluator builds on these nodes

        return compile_condition(self)

    @cached_property
    def reads_children(self) -> bool:
        """See :func:`uses_linked_cases` (kept: every guarded event asks it)."""
        return any(
            isinstance(node, Quantified) or (isinstance(node, Name) and node.path[0] == CHILDREN)
            for node in iter_nodes(self.expr)
        )


def iter_nodes(expr: Expr) -> list[Expr]:
    """All nodes of a tree, parents before children, left to right.

    Iterative so that no tree, however it was built, can exhaust the Python stack."""
    out: list[Expr] = []
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        out.append(node)
        children: tuple[Expr, ...]
        if isinstance(node, Compare):
            children = (node.left, node.right)
        elif isinstance(node, BoolOp):
            children = node.operands
        elif isinstance(node, Not):
            children = (node.operand,)
        elif isinstance(node, ListLiteral):
            children = node.items
        elif isinstance(node, Quantified):
            children = (node.body,)
        else:
            children = ()
        stack.extend(reversed(children))
    return out


def uses_linked_cases(cond: Condition) -> bool:
    """Whether the condition reads the case's child cases (`children.*`, `all(...)`,
    `any(...)`), so that the engine loads them only for the conditions that need them."""
    return cond.reads_children


def referenced_names(cond: Condition) -> frozenset[tuple[str, ...]]:
    """Every name the condition reads, e.g. {('urgency',), ('actor', 'role')}.

    Used to know which fields a guard or time-limit rule depends on."""
    return frozenset(node.path for node in iter_nodes(cond.expr) if isinstance(node, Name))
