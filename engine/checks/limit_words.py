"""Words that contradict the figure (PF208, warning): a time limit's label or breach
message names a length other than its ``limit``, or a pattern's label, description or notice
one other than its window (``within``).

The figure is what the engine enforces; the words are what staff read on the manual, the
board and the breach notice. When an estate's patch changes ``repair-urgent`` to `12h` and
leaves the label and the breach message saying 24小时, everyone is told a limit the engine
does not keep; a pattern whose window is patched from 30 to 60 days while its notice still
says 30天 misleads the same way. Lengths are read in the texts in Chinese and English
(24小时, 3个工作日, 三天, 30分钟, 24 hours, 3 working days); a text that names no length, or
names the figure (24小时 for `24h` or `1d`), is fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Escalate, Notify
from engine.model.durations import Duration, DurationUnit

CODE = "PF208"
NAME = "limit-words"
SEVERITY = Severity.WARNING

_MINUTE, _HOUR, _DAY, _WEEK = 60, 3600, 86400, 604800
#: Each unit's words, with the length of one in its kind of time.
_UNITS: tuple[tuple[str, DurationUnit, int], ...] = (
    (r"个?工作日|working\s+days?|work\s?days?|business\s+days?", "workdays", 1),
    (r"个?工作小时|working\s+hours?|work\s?hours?", "workhours", 1),
    (r"分钟|minutes?|mins?\b", "seconds", _MINUTE),
    (r"个?小时|个?钟头|hours?|hrs?\b", "seconds", _HOUR),
    (r"天|日|days?", "seconds", _DAY),
    (r"个?星期|周|weeks?", "seconds", _WEEK),
)
#: Hours and days in words may be working ones: the calendar says which.
_WORKING: dict[int, DurationUnit] = {_HOUR: "workhours", _DAY: "workdays"}
_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")} | {"两": 2}
_NUMBER = rf"\d+|[{''.join(_DIGITS)}十百]+"
_LENGTH = re.compile(
    rf"({_NUMBER})\s*({'|'.join(f'(?:{words})' for words, _, _ in _UNITS)})", re.IGNORECASE
)


@dataclass(frozen=True)
class Said:
    """A length named in a text: as written, and the figures it may stand for (24小时 is
    `24h`, or 24 working hours on a calendar; 3天 is `3d` or 3 working days)."""

    text: str
    lengths: tuple[Duration, ...]


def _chinese_number(text: str) -> int | None:
    """三 → 3, 十二 → 12, 二十四 → 24, 一百 → 100; ``None`` for what is not one."""
    total, digit = 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char == "十":
            total += (digit if digit is not None else 1) * 10
            digit = None
        elif char == "百":
            total += (digit if digit is not None else 1) * 100
            digit = None
        else:
            return None
    return total + (digit or 0)


def lengths_said(text: str) -> list[Said]:
    """Every length of time named in ``text``, in order."""
    found = []
    for match in _LENGTH.finditer(text):
        number, unit = match.groups()
        amount = int(number) if number.isdigit() else _chinese_number(number)
        if not amount:
            continue
        for words, kind, size in _UNITS:
            if re.fullmatch(words, unit, re.IGNORECASE):
                lengths = [Duration(amount * size, kind)]
                if size in _WORKING:
                    lengths.append(Duration(amount, _WORKING[size]))
                found.append(Said(match.group(), tuple(lengths)))
                break
    return found


def _texts(
    label: object, description: object, actions: object, actions_key: str
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for key, texts in (("label", label), ("description", description)):
        if isinstance(texts, dict):
            for lang, text in texts.items():
                yield (key, lang), text
    for index, action in enumerate(actions if isinstance(actions, tuple) else ()):
        if isinstance(action, Notify | Escalate) and action.message:
            for lang, text in action.message.items():
                yield (actions_key, index, "message", lang), text


def _contradiction(figure: Duration, text: str) -> str | None:
    """The first length ``text`` names when none of those it names is ``figure``."""
    said = lengths_said(text)
    return said[0].text if said and not any(figure in s.lengths for s in said) else None


def check(library: Library) -> Iterator[Finding]:
    for located in library.time_limits:
        limit = located.definition
        figure = limit.limit_duration
        if figure is None:
            continue
        label = dict(limit.label) if limit.label else None
        for path, text in _texts(label, None, limit.on_breach, "on_breach"):
            said = _contradiction(figure, text)
            if said is not None:
                yield Finding(
                    located.at(*path),
                    say(
                        "PF208.contradicts",
                        where=say(f"PF208.{'label' if path[0] == 'label' else 'breach_message'}"),
                        limit=limit.id,
                        said=said,
                        figure=limit.limit or str(figure),
                    ),
                )
    for found in library.patterns:
        pattern = found.definition
        if pattern.window is None:
            continue
        label = dict(pattern.label) if pattern.label else None
        description = dict(pattern.description) if pattern.description else None
        for path, text in _texts(label, description, pattern.actions, "actions"):
            said = _contradiction(pattern.window, text)
            if said is not None:
                yield Finding(
                    found.at(*path),
                    say(
                        "PF208.pattern",
                        where=say(f"PF208.{'notice' if path[0] == 'actions' else path[0]}"),
                        pattern=pattern.id,
                        said=said,
                        figure=pattern.within or str(pattern.window),
                    ),
                )
