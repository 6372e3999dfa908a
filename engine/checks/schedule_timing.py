"""Schedule timing (PF511): a schedule's weekday, day, time, dates or grace cannot be used.

``every: weekly`` needs exactly one weekday in ``on`` (``mon`` … ``sun``); ``every: daily``
may list the weekdays it runs on. ``monthly``, ``quarterly``, ``half_yearly`` and ``yearly``
need a ``day``: ``1`` to
``31``, ``last`` or ``last_workday``; a day past a short month's end means that month's last
day (``day: 31`` is the last day of every month, ``day: 30`` is 28 February), so only days
outside 1–31 are refused. ``month`` (the period's month: not for monthly ones) is 1–3 of a
quarter, 1–6 of a half-year, 1–12 of a year; ``minus`` (working days back) is
zero or more. ``at`` is a time of day ``HH:MM`` from 00:00 to 23:59. ``between`` holds two
real dates, the first not after the second: 2026-02-31 does not exist. ``grace`` is a
wall-clock duration (``1h``, ``2d``). Keys that do not apply to the schedule's ``every``
(a ``day`` on a weekly schedule) are refused rather than silently ignored.
"""

from __future__ import annotations

import calendar as months
from collections.abc import Iterator
from typing import Any

from engine.checks.base import Finding
from engine.diagnostics import Severity, suggest
from engine.io.library import Library, Located
from engine.model import ScheduleDef
from engine.model.durations import DurationError, parse_duration
from engine.model.schedules import (
    DAY_OF_MONTH,
    DAY_WORDS,
    MONTHS_IN_PERIOD,
    WEEKDAYS,
    parse_date,
    parse_time_of_day,
)

CODE = "PF511"
NAME = "schedule-timing"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.schedules:
        yield from _weekdays(located)
        yield from _days(located)
        yield from _time_and_dates(located)


def _raw(located: Located[ScheduleDef]) -> dict[str, Any]:
    return located.raw if isinstance(located.raw, dict) else {}


def _weekdays(located: Located[ScheduleDef]) -> Iterator[Finding]:
    schedule = located.definition
    raw_on = _raw(located).get("on")
    if isinstance(raw_on, list):
        for index, day in enumerate(raw_on):
            if day not in WEEKDAYS:
                yield Finding(located.at("on", index), _bad_weekday(day))
    elif raw_on is not None and raw_on not in WEEKDAYS:
        yield Finding(located.at("on"), _bad_weekday(raw_on))
    if schedule.every == "weekly" and len(schedule.on) != 1:
        where = located.at("on") if schedule.on else located.at("every")
        yield Finding(
            where,
            "a weekly schedule needs exactly one weekday in 'on', like on: mon"
            + (f" (it has {len(schedule.on)})" if schedule.on else ""),
        )
    if schedule.every in DAY_OF_MONTH and schedule.on:
        yield Finding(
            located.at("on", key=True),
            f"'on' (a weekday) does not apply to a {schedule.every} schedule; use 'day'",
        )


_PERIOD_NAMES = {"quarterly": "quarter", "half_yearly": "half-year", "yearly": "year"}


def _bad_weekday(day: Any) -> str:
    return (
        f"'{day}' is not a weekday; write one of {', '.join(WEEKDAYS)}"
        f"{suggest(str(day).lower(), WEEKDAYS, list_all=False)}"
    )


def _days(located: Located[ScheduleDef]) -> Iterator[Finding]:
    schedule = located.definition
    monthly = schedule.every in DAY_OF_MONTH
    day = schedule.day
    if monthly:
        if day is None:
            yield Finding(
                located.at("every"),
                f"a {schedule.every} schedule needs a 'day': 1 to 31, last or last_workday",
            )
        elif isinstance(day, bool) or (isinstance(day, int) and not 1 <= day <= 31):
            yield Finding(
                located.at("day"),
                f"day {day} does not exist in any month; write 1 to 31 (a day past a "
                "month's end means its last day), last or last_workday",
            )
        elif isinstance(day, str) and day not in DAY_WORDS:
            yield Finding(
                located.at("day"),
                f"'{day}' is not a day; write 1 to 31, last or last_workday"
                f"{suggest(day, DAY_WORDS, list_all=False)}",
            )
    elif day is not None:
        yield Finding(
            located.at("day", key=True),
            f"'day' does not apply to a {schedule.every} schedule"
            + (": use 'on' for the weekday" if schedule.every == "weekly" else ""),
        )
    if schedule.month is not None:
        months_long = MONTHS_IN_PERIOD.get(schedule.every)
        if months_long is None:
            yield Finding(
                located.at("month", key=True),
                f"'month' (of a quarter, half-year or year) does not apply to a "
                f"{schedule.every} schedule",
            )
        elif isinstance(schedule.month, bool) or not 1 <= schedule.month <= months_long:
            yield Finding(
                located.at("month"),
                f"month {schedule.month} of the {_PERIOD_NAMES[schedule.every]} does not "
                f"exist; write 1 to {months_long}",
            )
    if schedule.minus < 0:
        yield Finding(located.at("minus"), "'minus' counts working days back: 0 or more")


def _time_and_dates(located: Located[ScheduleDef]) -> Iterator[Finding]:
    schedule = located.definition
    if parse_time_of_day(schedule.at) is None:
        yield Finding(
            located.at("at"),
            f"'{schedule.at}' is not a time of day; write HH:MM from 00:00 to 23:59, "
            'in quotes, like at: "09:00"',
        )
    dates = []
    for index, text in enumerate(schedule.between):
        day = parse_date(text)
        if day is None:
            yield Finding(located.at("between", index), _bad_date(text))
        dates.append(day)
    if len(dates) == 2 and dates[0] is not None and dates[1] is not None and dates[0] > dates[1]:
        yield Finding(
            located.at("between", 1),
            f"the last date {schedule.between[1]} is before the first {schedule.between[0]}",
        )
    try:
        grace = parse_duration(schedule.grace)
    except DurationError as error:
        yield Finding(located.at("grace"), f"bad duration '{schedule.grace}': {error.message}")
    else:
        if grace.working:
            yield Finding(
                located.at("grace"),
                f"grace '{schedule.grace}' must be wall-clock time (like 1h or 2d), not "
                "working time",
            )


def _bad_date(text: str) -> str:
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        year, month, _ = (int(p) for p in parts)
        if 1 <= month <= 12 and year >= 1:
            length = months.monthrange(year, month)[1]
            return f"{text} is not a date: {months.month_name[month]} {year} has {length} days"
    return f"'{text}' is not a date; write YYYY-MM-DD"
