"""Undefined calendar (PF201): a time limit or estate names a calendar that is not defined.

Working-time limits (``3 workdays``) are counted on a calendar of working hours and
holidays. A misspelt calendar would leave the engine no way to compute the deadline. Define
it under ``calendars:`` in a rules file, or use one of the shipped calendars (``office``,
``24x7``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.checks.base import Finding, undefined_calendar
from engine.diagnostics import Severity
from engine.io.library import Library, Located

CODE = "PF201"
NAME = "undefined-calendar"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    known = library.calendar_ids
    sites: list[tuple[Located[Any], str | None]] = [
        (located, located.definition.calendar) for located in library.time_limits
    ]
    sites += [(located, located.definition.calendar) for located in library.estates]
    for located, calendar in sites:
        if calendar is not None and calendar not in known:
            yield Finding(located.at("calendar"), undefined_calendar(calendar, known))
