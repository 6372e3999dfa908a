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
        # Imported here: the catalogue is built on this package's lowest layer.
        from engine.diagnostics.catalogue import say

        return self.message + say("words.at_character", number=self.offset + 1)


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


#: Up to this many names, all are listed after a name that is not one of them: a consultant
#: sees at once what may be written there. Beyond it, only the nearest.
LISTED_NAMES = 8


def suggest(name: str, candidates: Iterable[str], *, list_all: bool = True) -> str:
    """`` (did you mean 'x' or 'y'?; defined: ...)``: the candidates nearest to ``name``, and
    all of them when there are few; an empty string when there is nothing to say.

    A near miss is the commonest consultant error (``dispached``), and naming the intended
    id turns a puzzle into a one-character fix; when nothing is near, the short list of
    what exists says what was meant (``list_all=False`` where the message lists them
    already). Worded in the language spoken (see
    :mod:`engine.diagnostics.language`).
    """
    from engine.diagnostics.catalogue import say  # the catalogue's language needs this module

    if not isinstance(name, str):  # a caller's value of another kind is like no name
        return ""
    names = tuple(dict.fromkeys(c for c in candidates if isinstance(c, str)))
    pool = names if len(names) <= EXHAUSTIVE_SUGGESTIONS else tuple(_near_names(names, name))
    close = _nearest(name, sorted(pool))
    parts = []
    if close:
        quoted = say("words.or").join(f"'{found}'" for found in close)
        parts.append(say("words.did_you_mean", names=quoted))
    if list_all and len(names) <= LISTED_NAMES and set(names) - set(close) and name not in names:
        parts.append(say("words.defined", names=", ".join(names)))
    return say("words.hint", parts=say("words.separator").join(parts)) if parts else ""


#: Names this much less like the miss than the nearest are not offered beside it.
_NEAR_TIE = 0.05


def _nearest(name: str, names: list[str]) -> list[str]:
    """The name most like ``name`` (difflib's ratio of at least 0.6) and any about as like it."""
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    ratios = [difflib.SequenceMatcher(None, name, found).ratio() for found in close]
    return [
        found for found, ratio in zip(close, ratios, strict=True) if ratio >= ratios[0] - _NEAR_TIE
    ]


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
