"""Holiday coverage (PF203): a closed or open day lies beyond the statutory holiday data.

A calendar with `holidays: cn` skips the mainland statutory holidays and works the make-up
days, read from the `chinese_calendar` package, whose data ends with the last year the State
Council has published (the warning names it). Listing an estate's own closed or open day in a
later year is fine in itself, but it shows the calendar is being planned for a year whose
holidays are not yet known: until the package is updated, deadlines in that year count every
weekday as working and every weekend as off, and each such deadline carries a warning. Update
`chinese-calendar` once the year's arrangement is published, or list that year's holidays
under `closed` and its make-up days under `open`. The horizon is not reported for every
calendar on every run (that would be noise for a library that plans nothing beyond it);
`propflow deadline` and the runtime warn whenever a computation actually reaches past it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.time import HolidayData, cn_holidays

CODE = "PF203"
NAME = "holiday-coverage"
SEVERITY = Severity.WARNING


def check(library: Library) -> Iterator[Finding]:
    cn_calendars = {c.definition.id for c in library.calendars if c.definition.holidays == "cn"}
    if not cn_calendars:
        return
    data = cn_holidays()
    for located in library.calendars:
        if located.definition.id in cn_calendars:
            yield from _beyond(located, data, say("PF203.calendar", name=located.definition.id))
    for estate in library.estates:
        named = estate.definition.calendar
        # An estate's days apply to the calendar it names, or to every calendar if none.
        if named is None or named in cn_calendars:
            yield from _beyond(estate, data, say("PF203.estate", name=estate.definition.id))


def _beyond(located: Located[Any], data: HolidayData, owner: str) -> Iterator[Finding]:
    for key in ("closed", "open"):
        for index, text in enumerate(getattr(located.definition, key)):
            try:
                day = date.fromisoformat(text)
            except (TypeError, ValueError):
                continue  # not a date: the schema reports it
            if not data.covers(day):
                yield Finding(
                    located.at(key, index),
                    say(
                        "PF203.beyond",
                        owner=owner,
                        kind=say(f"PF203.{key}"),
                        day=text,
                        source=data.source,
                        coverage=data.coverage(),
                        year=day.year,
                    ),
                )
