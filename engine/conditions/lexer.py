"""Tokenizer for the condition language.

The lexer is a hand-written character loop rather than a regular expression so that every
error can point at the exact character a consultant typed wrong, and so that the set of
accepted characters is spelled out here instead of hidden in a pattern. Tokens keep their
0-based character offset; the validator turns offsets into file:line:column positions.

Only ASCII letters, digits and punctuation form tokens. Text inside quotes may hold anything
(Chinese labels included). Common slips get a hint instead of a bare "unexpected character":
`&&`, `||`, `!`, a single `=`, `<>`, upper-case keywords, and full-width punctuation typed with
a Chinese input method.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from engine.diagnostics import TextError
from engine.diagnostics.catalogue import say

MAX_LENGTH = 2000
"""Longest condition text accepted; longer text is a syntax error, never a slow parse."""

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
"""Words that are operators or literals and so can never be field names."""

TokenKind = Literal["string", "number", "name", "keyword", "op", "(", ")", "[", "]", ",", "eof"]

COMPARISON_OPS = ("==", "!=", "<=", ">=", "<", ">")

# Sets, not strings: `"" in "abc"` is True, and "" is what peeking past the end returns.
_SPACES = frozenset(" \t\r\n")
_QUOTES = frozenset("'\"")
_ORDER_OPS = frozenset("<>")

_PUNCTUATION: dict[str, TokenKind] = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ","}

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}

_HEX_ESCAPES = {"u": 4, "U": 8}
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_MAX_CODE_POINT = 0x10FFFF

_FULL_WIDTH = {
    "（": "(",
    "）": ")",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "，": ",",
    "＝": "=",
    "！": "!",
    "＜": "<",
    "＞": ">",
    "【": "[",
    "】": "]",
    "［": "[",
    "］": "]",
    "\u3000": " ",
}


class ConditionSyntaxError(TextError):
    """A condition that cannot be parsed (at ``offset`` into its text)."""


@dataclass(frozen=True)
class Token:
    """One token. `value` is the decoded value: str for strings and operators, int/Decimal for
    numbers, a tuple of path parts for names, the word itself for keywords."""

    kind: TokenKind
    value: object
    offset: int
    end: int


def _is_ascii_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch == "_"


def _is_ascii_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _is_name_char(ch: str) -> bool:
    return _is_ascii_letter(ch) or _is_ascii_digit(ch)


def _is_space(ch: str) -> bool:
    return ch in _SPACES


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []

    def peek(self, ahead: int = 0) -> str:
        index = self.pos + ahead
        return self.text[index] if index < len(self.text) else ""

    def run(self) -> list[Token]:
        while True:
            while _is_space(self.peek()):
                self.pos += 1
            if self.pos >= len(self.text):
                self.tokens.append(Token("eof", None, self.pos, self.pos))
                return self.tokens
            self.tokens.append(self.next_token())

    def next_token(self) -> Token:
        ch = self.peek()
        start = self.pos
        if ch in _QUOTES:
            return self.string()
        if _is_ascii_digit(ch) or (ch == "-" and _is_ascii_digit(self.peek(1))):
            return self.number()
        if _is_ascii_letter(ch):
            return self.word()
        two = ch + self.peek(1)
        if two in ("==", "!=", "<=", ">="):
            self.pos += 2
            return Token("op", two, start, self.pos)
        if two == "<>":
            raise ConditionSyntaxError(say("syntax.not_equal"), start)
        if two == "&&":
            raise ConditionSyntaxError(say("syntax.instead", word="and", symbol="&&"), start)
        if two == "||":
            raise ConditionSyntaxError(say("syntax.instead", word="or", symbol="||"), start)
        if ch in _ORDER_OPS:
            self.pos += 1
            return Token("op", ch, start, self.pos)
        if ch in _PUNCTUATION:
            self.pos += 1
            return Token(_PUNCTUATION[ch], ch, start, self.pos)
        if ch == "=":
            raise ConditionSyntaxError(say("syntax.single_equals"), start)
        if ch == "!":
            raise ConditionSyntaxError(say("syntax.instead", word="not", symbol="!"), start)
        if ch in _FULL_WIDTH:
            raise ConditionSyntaxError(say("syntax.full_width", char=ch, hint=_hint(ch)), start)
        raise ConditionSyntaxError(say("syntax.unexpected_character", char=_show(ch)), start)

    def string(self) -> Token:
        quote = self.peek()
        start = self.pos
        self.pos += 1
        parts: list[str] = []
        while True:
            ch = self.peek()
            if ch == "":
                raise ConditionSyntaxError(say("syntax.no_closing_quote", quote=quote), start)
            if ch == quote:
                self.pos += 1
                return Token("string", "".join(parts), start, self.pos)
            if ch == "\\":
                parts.append(self.escape())
                continue
            parts.append(ch)
            self.pos += 1

    def escape(self) -> str:
        r"""Decode the escape at the current backslash: \\ \' \" \n \t \r, or \uXXXX and
        \UXXXXXXXX for characters that cannot be typed or seen (the canonical rendering writes
        invisible characters that way so that a label stays one visible line)."""
        start = self.pos
        escaped = self.peek(1)
        if escaped in _ESCAPES:
            self.pos += 2
            return _ESCAPES[escaped]
        if escaped in _HEX_ESCAPES:
            width = _HEX_ESCAPES[escaped]
            digits = self.text[start + 2 : start + 2 + width]
            if len(digits) != width or not all(c in _HEX_DIGITS for c in digits):
                raise ConditionSyntaxError(
                    say("syntax.hex_digits", escape=f"\\{escaped}", width=width), start
                )
            code = int(digits, 16)
            if code > _MAX_CODE_POINT:
                raise ConditionSyntaxError(
                    say("syntax.not_a_character", escape=f"\\{escaped}{digits}"), start
                )
            self.pos += 2 + width
            return chr(code)
        shown = _show(escaped) if escaped else say("syntax.the_end")
        raise ConditionSyntaxError(say("syntax.backslash", found=shown), start)

    def number(self) -> Token:
        start = self.pos
        if self.peek() == "-":
            self.pos += 1
        while _is_ascii_digit(self.peek()):
            self.pos += 1
        is_decimal = False
        if self.peek() == ".":
            if not _is_ascii_digit(self.peek(1)):
                raise ConditionSyntaxError(say("syntax.decimal"), self.pos)
            is_decimal = True
            self.pos += 1
            while _is_ascii_digit(self.peek()):
                self.pos += 1
        if _is_name_char(self.peek()) or self.peek() == ".":
            raise ConditionSyntaxError(say("syntax.number_letters"), start)
        literal = self.text[start : self.pos]
        value: int | Decimal = Decimal(literal) if is_decimal else int(literal)
        return Token("number", value, start, self.pos)

    def word(self) -> Token:
        start = self.pos
        parts: list[str] = []
        while True:
            part_start = self.pos
            while _is_name_char(self.peek()):
                self.pos += 1
            parts.append(self.text[part_start : self.pos])
            if self.peek() != ".":
                break
            if not _is_ascii_letter(self.peek(1)):
                raise ConditionSyntaxError(say("syntax.name_part"), self.pos + 1)
            self.pos += 1
        if len(parts) == 1:
            word = parts[0]
            if word in KEYWORDS:
                return Token("keyword", word, start, self.pos)
            if word.lower() in KEYWORDS:
                raise ConditionSyntaxError(
                    say("syntax.lower_case", word=word.lower(), written=word), start
                )
        return Token("name", tuple(parts), start, self.pos)


def _show(ch: str) -> str:
    if ch.isprintable():
        return f"'{ch}'"
    return f"U+{ord(ch):04X}"


def _hint(ch: str) -> str:
    replacement = _FULL_WIDTH[ch]
    return say("syntax.a_space") if replacement == " " else f"'{replacement}'"


def tokenize(text: str) -> list[Token]:
    """Split condition text into tokens, ending with an `eof` token.

    Raises ConditionSyntaxError for text longer than MAX_LENGTH and for any character that
    cannot start a token.
    """
    if len(text) > MAX_LENGTH:
        raise ConditionSyntaxError(
            say("syntax.too_long", length=len(text), limit=MAX_LENGTH), MAX_LENGTH
        )
    return _Lexer(text).run()
