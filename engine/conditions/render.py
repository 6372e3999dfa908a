"""Canonical text of a condition tree.

Used for diagram edge labels and manuals, where the consultant's spacing and redundant
parentheses should not show, and as the other half of a round-trip property: parsing
`to_text(expr)` gives back a tree equal to `expr`. Parentheses are written only where the
grammar needs them, and a nested chain of the same operator keeps its parentheses because the
parser would otherwise flatten it into a different (if equivalent) tree.
"""

from __future__ import annotations

from decimal import Decimal

from .ast import BoolOp, Compare, Expr, ListLiteral, Literal, LiteralValue, Name, Not, Quantified

# Binding strength, loosest first; an operand binding less tightly than its context needs
# parentheses.
_OR, _AND, _NOT, _COMPARE, _ATOM = 1, 2, 3, 4, 5

_STRING_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def to_text(expr: Expr) -> str:
    """Render a condition tree as canonical condition text."""
    return _render(expr)


def literal_text(value: LiteralValue) -> str:
    """Condition-language spelling of a literal value: 'text', 42, 1.50, true, false, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + "".join(_escaped(ch) for ch in value) + "'"
    if isinstance(value, Decimal):
        # 'f' keeps plain notation: str(Decimal('0.0000001')) would give '1E-7', which the
        # lexer does not accept.
        return format(value, "f")
    return str(value)


def _escaped(ch: str) -> str:
    """One character of a quoted text: invisible characters (controls, line separators,
    formatting marks) are escaped so the rendering is one visible line."""
    if ch in _STRING_ESCAPES:
        return _STRING_ESCAPES[ch]
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _strength(expr: Expr) -> int:
    if isinstance(expr, BoolOp):
        return _OR if expr.op == "or" else _AND
    if isinstance(expr, Not):
        return _NOT
    if isinstance(expr, Compare):
        return _COMPARE
    return _ATOM


def _wrapped(expr: Expr, needs_parentheses: bool) -> str:
    text = _render(expr)
    return f"({text})" if needs_parentheses else text


def _render(expr: Expr) -> str:
    if isinstance(expr, Literal):
        return literal_text(expr.value)
    if isinstance(expr, ListLiteral):
        return "[" + ", ".join(literal_text(item.value) for item in expr.items) + "]"
    if isinstance(expr, Name):
        return expr.dotted
    if isinstance(expr, Quantified):
        return f"{expr.quantifier}({_render(expr.body)})"
    if isinstance(expr, Not):
        return "not " + _wrapped(expr.operand, _strength(expr.operand) < _NOT)
    if isinstance(expr, Compare):
        left = _wrapped(expr.left, _strength(expr.left) <= _COMPARE)
        right = _wrapped(expr.right, _strength(expr.right) <= _COMPARE)
        return f"{left} {expr.op} {right}"
    own = _strength(expr)
    return f" {expr.op} ".join(
        _wrapped(operand, _strength(operand) <= own) for operand in expr.operands
    )
