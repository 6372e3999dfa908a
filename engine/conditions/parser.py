"""Recursive-descent parser for the condition language.

Grammar, loosest binding first (the same order as Python, so conditions read as expected):

    condition  := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [compare_op operand]      -- no chaining
    compare_op := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
    operand    := literal | NAME | list | "(" or_expr ")" | quantified
    quantified := ("all" | "any") "(" or_expr ")"   -- over the child cases; no nesting
    list       := "[" [literal ("," literal)*] "]"
    literal    := STRING | NUMBER | "true" | "false" | "null"

Nesting (parentheses, `not`, lists) deeper than MAX_DEPTH is a syntax error, and the text
length is capped by the lexer, so a hostile or mistaken condition can cost neither a
RecursionError nor unbounded time.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from engine.diagnostics.catalogue import say

from .ast import (
    BoolOp,
    BoolOpKind,
    Compare,
    CompareOp,
    Condition,
    Expr,
    ListLiteral,
    Literal,
    LiteralValue,
    Name,
    Not,
    Quantified,
)
from .lexer import ConditionSyntaxError, Token, tokenize
from .render import literal_text

MAX_DEPTH = 50
"""Deepest nesting of parentheses, `not` and lists accepted."""

_LITERAL_KEYWORDS: dict[str, LiteralValue] = {"true": True, "false": False, "null": None}


#: Parsed conditions kept by text. A library repeats the same few conditions in many places
#: (``urgency == 'urgent'`` in most processes and their time limits), and a parsed condition
#: is immutable, so one tree serves them all.
CACHED_CONDITIONS = 4096


def parse_condition(text: str) -> Condition:
    """Parse condition text into a Condition. Raises ConditionSyntaxError (and nothing else).

    Equal texts give the same (immutable) :class:`Condition`; a text that does not parse is
    parsed again each time, so every caller gets its own error.
    """
    if not isinstance(text, str):
        raise ConditionSyntaxError(say("syntax.not_text", type=type(text).__name__), 0)
    return _parse_text(text)


@lru_cache(maxsize=CACHED_CONDITIONS)
def _parse_text(text: str) -> Condition:
    tokens = tokenize(text)
    if tokens[0].kind == "eof":
        raise ConditionSyntaxError(say("syntax.empty"), 0)
    parser = _Parser(tokens)
    expr = parser.or_expr()
    parser.expect_end()
    return Condition(text=text, expr=expr)


def _describe(token: Token) -> str:
    if token.kind == "eof":
        return say("syntax.the_end")
    if token.kind == "string" and isinstance(token.value, str):
        return say("condition.the_text", value=literal_text(token.value))
    if token.kind == "number" and isinstance(token.value, (int, Decimal)):
        return say("condition.the_number", value=literal_text(token.value))
    if token.kind == "name":
        assert isinstance(token.value, tuple)
        return say("syntax.the_name", name=".".join(token.value))
    return f"'{token.value}'"


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.in_quantifier = False

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def at_keyword(self, word: str) -> bool:
        return self.current.kind == "keyword" and self.current.value == word

    def enter(self, token: Token) -> None:
        """Count one level of nesting; refuse to go deeper than MAX_DEPTH."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ConditionSyntaxError(say("syntax.too_deep", limit=MAX_DEPTH), token.offset)

    def leave(self) -> None:
        self.depth -= 1

    def expect_end(self) -> None:
        token = self.current
        if token.kind != "eof":
            raise self.unexpected(token, say("syntax.after_complete"))

    def unexpected(self, token: Token, where: str) -> ConditionSyntaxError:
        """The error for a token that cannot continue what came before, with a hint for the
        usual slips."""
        if token.kind == ")":
            return ConditionSyntaxError(say("syntax.unmatched_close"), token.offset)
        if token.kind == "name" and token.value == ("is",):
            return ConditionSyntaxError(say("syntax.is"), token.offset)
        return ConditionSyntaxError(
            say("syntax.not_expected", found=_describe(token), where=where), token.offset
        )

    def or_expr(self) -> Expr:
        return self.bool_chain("or")

    def and_expr(self) -> Expr:
        return self.bool_chain("and")

    def bool_chain(self, op: BoolOpKind) -> Expr:
        parse_operand = self.and_expr if op == "or" else self.not_expr
        first = parse_operand()
        if not self.at_keyword(op):
            return first
        operands = [first]
        while self.at_keyword(op):
            self.advance()
            operands.append(parse_operand())
        return BoolOp(op, tuple(operands), offset=first.offset)

    def not_expr(self) -> Expr:
        if self.at_keyword("not"):
            token = self.advance()
            self.enter(token)
            operand = self.not_expr()
            self.leave()
            return Not(operand, offset=token.offset)
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.operand()
        token = self.current
        op: CompareOp
        if token.kind == "op":
            assert isinstance(token.value, str)
            op = _compare_op(token.value)
            self.advance()
        elif token.kind == "keyword" and token.value == "in":
            op = "in"
            self.advance()
        elif token.kind == "keyword" and token.value == "not":
            self.advance()
            if not self.at_keyword("in"):
                raise ConditionSyntaxError(
                    say("syntax.not_in", found=_describe(self.current)), self.current.offset
                )
            self.advance()
            op = "not in"
        else:
            return left
        right = self.operand(after=op)
        follower = self.current
        if follower.kind == "op" or (
            follower.kind == "keyword" and follower.value in ("in", "not")
        ):
            raise ConditionSyntaxError(say("syntax.chained"), follower.offset)
        return Compare(op, left, right, offset=token.offset)

    def operand(self, after: str | None = None) -> Expr:
        token = self.current
        if token.kind in ("string", "number") or (
            token.kind == "keyword" and token.value in _LITERAL_KEYWORDS
        ):
            return self.literal()
        if token.kind == "name":
            self.advance()
            assert isinstance(token.value, tuple)
            if token.value in (("all",), ("any",)) and self.current.kind == "(":
                return self.quantified(token)
            return Name(token.value, offset=token.offset)
        if token.kind == "(":
            self.advance()
            self.enter(token)
            inner = self.or_expr()
            self.leave()
            if self.current.kind != ")":
                if self.current.kind == "eof":
                    raise ConditionSyntaxError(
                        say("syntax.never_closed", bracket="("), token.offset
                    )
                raise self.unexpected(self.current, say("syntax.inside_parentheses"))
            self.advance()
            return inner
        if token.kind == "[":
            return self.list_literal()
        raise self.expected_value(token, after)

    def quantified(self, name: Token) -> Quantified:
        """`all(...)` / `any(...)`: the name was read, the current token is the '('."""
        assert isinstance(name.value, tuple)
        word = name.value[0]
        if self.in_quantifier:
            raise ConditionSyntaxError(say("syntax.nested_quantifier", word=word), name.offset)
        opening = self.advance()
        self.enter(opening)
        self.in_quantifier = True
        if self.current.kind == ")":
            raise ConditionSyntaxError(
                say("syntax.empty_quantifier", word=word), self.current.offset
            )
        body = self.or_expr()
        self.in_quantifier = False
        self.leave()
        closing = self.tokens[self.index]
        if closing.kind != ")":
            if closing.kind == "eof":
                raise ConditionSyntaxError(say("syntax.never_closed", bracket="("), opening.offset)
            raise self.unexpected(closing, say("syntax.inside_quantifier", word=word))
        self.advance()
        return Quantified("all" if word == "all" else "any", body, offset=name.offset)

    def expected_value(self, token: Token, after: str | None) -> ConditionSyntaxError:
        if token.kind == "eof":
            where = say("syntax.after_operator", op=after) if after is not None else ""
            return ConditionSyntaxError(say("syntax.ends_early", where=where), token.offset)
        return ConditionSyntaxError(
            say("syntax.expected_value", found=_describe(token)), token.offset
        )

    def literal(self) -> Literal:
        token = self.advance()
        value = token.value
        if token.kind == "keyword" and isinstance(value, str):
            return Literal(_LITERAL_KEYWORDS[value], offset=token.offset)
        if isinstance(value, (str, int, Decimal)):
            return Literal(value, offset=token.offset)
        raise AssertionError(f"not a literal token: {token}")

    def list_literal(self) -> ListLiteral:
        opening = self.advance()
        self.enter(opening)
        items: list[Literal] = []
        while self.current.kind != "]":
            items.append(self.list_item(opening))
            separator = self.current
            if separator.kind == ",":
                self.advance()
                after_comma = self.current
                if after_comma.kind == "]":
                    raise ConditionSyntaxError(say("syntax.missing_item"), after_comma.offset)
            elif separator.kind == "eof":
                raise ConditionSyntaxError(say("syntax.never_closed", bracket="["), opening.offset)
            elif separator.kind != "]":
                raise ConditionSyntaxError(
                    say("syntax.list_separator", found=_describe(separator)), separator.offset
                )
        self.advance()
        self.leave()
        return ListLiteral(tuple(items), offset=opening.offset)

    def list_item(self, opening: Token) -> Literal:
        token = self.current
        if token.kind in ("string", "number") or (
            token.kind == "keyword" and token.value in _LITERAL_KEYWORDS
        ):
            return self.literal()
        if token.kind == "name":
            assert isinstance(token.value, tuple)
            dotted = ".".join(token.value)
            raise ConditionSyntaxError(say("syntax.name_in_list", name=dotted), token.offset)
        if token.kind == "]":
            raise ConditionSyntaxError(say("syntax.missing_item"), token.offset)
        if token.kind == "eof":
            raise ConditionSyntaxError(say("syntax.never_closed", bracket="["), opening.offset)
        raise ConditionSyntaxError(say("syntax.list_item", found=_describe(token)), token.offset)


def _compare_op(symbol: str) -> CompareOp:
    if symbol == "==":
        return "=="
    if symbol == "!=":
        return "!="
    if symbol == "<":
        return "<"
    if symbol == "<=":
        return "<="
    if symbol == ">":
        return ">"
    if symbol == ">=":
        return ">="
    raise AssertionError(f"not a comparison operator: {symbol}")
