"""Lines as editors count them, and text made safe to print on a terminal.

Python's ``str.splitlines`` and YAML 1.1 (PyYAML) also break lines at U+0085, U+2028,
U+2029 and other separators that editors show inside a line; a position or a caret counted
that way points at the wrong line. Only LF, CR LF and a lone CR end a line here.

A diagnostic line is ``file:line:col: severity CODE message``: a file name or a message
(which quotes the user's keys and values) holding a newline or an escape sequence could
print what looks like another diagnostic, or drive the terminal. :func:`printable` writes
such characters as visible escapes instead.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: Characters that move the cursor, end a line on some terminal, or reorder text (the
#: "Trojan source" bidirectional controls), and lone surrogates (a file name's undecodable
#: bytes), which cannot be written out at all: never printed as they are.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
#: Whether YAML 1.1 may have counted lines differently from an editor in this text.
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")


def editor_lines(text: str) -> list[str]:
    """The lines of ``text`` as an editor numbers them (without their line ends)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    return lines


def counts_lines_differently(text: str) -> bool:
    """Whether ``text`` holds a character YAML 1.1 takes for a line break and editors don't."""
    return _OTHER_BREAKS.search(text) is not None


class LineIndex:
    """Turns a character offset into an editor's 1-based line and column."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def position(self, offset: int) -> tuple[int, int]:
        """The line and column of character ``offset``."""
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control, line-separator and bidirectional characters escaped
    (``\\n``, ``\\x1b``, ``\\u2028``); tabs are kept."""
    return _UNPRINTABLE.sub(_escape, text)


def _picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ␛ for ESC, one cell wide
    return "\u2421" if code == 0x7F else "\ufffd"


def printable_source(line: str) -> str:
    """A source line shown under a diagnostic, each unprintable character (except tabs)
    replaced by one visible character so the caret below still lines up."""
    return _UNPRINTABLE.sub(lambda match: _picture(match.group()), line)


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a code point of the UTF-16 surrogate range (``"\\ud800"``):
    not a character, it cannot be encoded as UTF-8, so nothing could write it out.

    ASCII text (every field name, most values) holds none, and a string knows it is ASCII
    without being read: the search is left to the others."""
    return not text.isascii() and _SURROGATE.search(text) is not None


#: The widest source line shown under a diagnostic, in terminal cells: a line of a minified
#: or generated file can be megabytes long, and a terminal shows a screenful at best.
SOURCE_WIDTH = 100
_ELLIPSIS = "…"


def cells(char: str) -> int:
    """The terminal cells ``char`` takes: two for a wide CJK character, one otherwise."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


@dataclass(frozen=True)
class Excerpt:
    """The part of a source line shown under a diagnostic, and the 1-based column of the
    diagnostic's character within it."""

    text: str
    column: int


def excerpt(line: str, column: int, width: int = SOURCE_WIDTH) -> Excerpt:
    """``line`` cut to at most ``width`` cells around ``column`` (1-based), with ``…`` where
    text was cut off, so that the offending character is in view on any line."""
    if sum(map(cells, line)) <= width:
        return Excerpt(line, column)
    at = min(max(column - 1, 0), len(line))
    start = end = at
    used = cells(line[at]) if at < len(line) else 1
    end = at + 1
    budget = width - 2  # room for an ellipsis at each end
    while used < budget and (start > 0 or end < len(line)):
        if start > 0 and (at - start <= end - at or end >= len(line)):
            start -= 1
            used += cells(line[start])
        elif end < len(line):
            used += cells(line[end])
            end += 1
    if used > budget:  # the last character taken was a wide one too many
        if end - at > at - start and end > at + 1:
            end -= 1
        elif start < at:
            start += 1
    head = _ELLIPSIS if start > 0 else ""
    tail = _ELLIPSIS if end < len(line) else ""
    return Excerpt(head + line[start:end] + tail, column - start + len(head))
