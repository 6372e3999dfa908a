"""Diagnostics: what every user-caused error becomes.

A consultant who mistypes a state name must get ``path:line:col: error PF102 ...`` and never a
traceback, so every problem the loader or a check finds is a :class:`Diagnostic` value with a
stable code and a source position, and is only turned into text at the edge (the CLI).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class PropflowError(Exception):
    """Base of every error PropFlow raises for a caller's or a user's mistake, or for a
    fault of its store: code embedding the engine catches this one class.

    Defined with the diagnostics, the lowest layer, so that the calendar's, the store's and
    the runtime's errors can all derive from it.
    """


class Severity(StrEnum):
    """How bad a finding is: errors fail validation, warnings only under ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


class TextError(ValueError):
    """Text of one of the small languages (a condition, a duration) that cannot be read.

    `offset` is the 0-based character offset of the offending part of the text, which the
    validator turns into file:line:column; `message` is one line of plain English. A
    ValueError, so that validators built on pydantic report it as an ordinary validation
    error.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return f"{self.message} (at character {self.offset + 1})"


@dataclass(frozen=True, order=True)
class Span:
    """A position in a source file: 1-based line and column, as editors count them."""

    file: str
    line: int
    column: int


@dataclass(frozen=True)
class Diagnostic:
    """One finding, with where it is and, optionally, a related place (``also``).

    ``also`` points at a second location that explains the first, such as the first
    definition of a duplicated id or the standard-library line a patch met.
    """

    code: str
    severity: Severity
    message: str
    span: Span
    also: tuple[tuple[str, Span], ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        """Order by file, position, then code, so output is stable across runs."""
        return (self.span.file, self.span.line, self.span.column, self.code)


#: Up to this many names, a near miss is looked for among all of them. Beyond it, only among
#: the names one typing slip away (see :func:`_near_names`): comparing every miss with every
#: name would cost time in the square of the input, and hostile input can hold thousands.
EXHAUSTIVE_SUGGESTIONS = 500


def suggest(name: str, candidates: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidate, or an empty string.

    A near miss is the commonest consultant error (``dispached``), and naming the intended
    id turns a puzzle into a one-character fix.
    """
    if not isinstance(name, str):  # a caller's value of another kind is like no name
        return ""
    names = tuple(candidates)
    if len(names) > EXHAUSTIVE_SUGGESTIONS:
        names = tuple(_near_names(names, name))
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _deletions(word: str) -> set[str]:
    """``word`` and every text made by deleting one of its characters."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


@functools.lru_cache(maxsize=16)
def _deletion_index(names: tuple[str, ...]) -> dict[str, list[str]]:
    """Each one-character deletion of each name (and each name), with the names it comes
    from: built once per collection of names, however many misses are looked up in it."""
    index: dict[str, list[str]] = {}
    for candidate in names:
        for variant in _deletions(candidate):
            index.setdefault(variant, []).append(candidate)
    return index


def _near_names(names: tuple[str, ...], name: str) -> set[str]:
    """The names one typing slip from ``name`` (a character added, left out, changed, or
    two swapped): those sharing a one-character deletion with it."""
    index = _deletion_index(names)
    return {found for variant in _deletions(name) for found in index.get(variant, ())}
