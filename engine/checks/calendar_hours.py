"""Unusable working hours (PF205): a calendar's ``hours`` cannot be counted, or give no
working time at all.

The shape of ``hours`` is checked by the schema; what it means is checked here, as the
engine will read it: each period starts before it ends and does not cross midnight
(`00:00-00:00` is no time at all), the periods of a day do not overlap, each weekday gets
its hours from one key only, and some weekday has working time. A calendar that breaks one
of these would stop the engine when it starts, or the first case whose clock uses it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.checks.base import Finding
from engine.diagnostics import Severity, Span
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.model import CalendarDef
from engine.time import CalendarError
from engine.time.hours import parse_hours

CODE = "PF205"
NAME = "calendar-hours"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.calendars:
        calendar = located.definition
        try:
            weekly = parse_hours(calendar.hours, calendar.id)
        except CalendarError as error:
            yield Finding(_where(located), str(error))
            continue
        if not any(weekly):
            yield Finding(
                located.at("hours"),
                say("PF205.no_hours", calendar=calendar.id),
            )


def _where(located: Located[CalendarDef]) -> Span:
    """The weekday spec whose periods are wrong, if one alone is; else the whole ``hours``."""
    hours = located.definition.hours
    if isinstance(hours, Mapping):
        for spec, ranges in hours.items():
            try:
                parse_hours({spec: ranges}, located.definition.id)
            except CalendarError:
                return located.at("hours", spec)
    return located.at("hours")
