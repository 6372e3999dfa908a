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
from engine.diagnostics.catalogue import say
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
            say("PF511.weekly", count=len(schedule.on))
            if schedule.on
            else say("PF511.weekly_none"),
        )
    if schedule.every in DAY_OF_MONTH and schedule.on:
        yield Finding(located.at("on", key=True), say("PF511.on_not_here", every=schedule.every))


def _bad_weekday(day: Any) -> str:
    return say(
        "PF511.weekday",
        day=day,
        days=", ".join(WEEKDAYS),
        hint=suggest(str(day).lower(), WEEKDAYS, list_all=False),
    )


def _days(located: Located[ScheduleDef]) -> Iterator[Finding]:
    schedule = located.definition
    monthly = schedule.every in DAY_OF_MONTH
    day = schedule.day
    if monthly:
        if day is None:
            yield Finding(located.at("every"), say("PF511.needs_day", every=schedule.every))
        elif isinstance(day, bool) or (isinstance(day, int) and not 1 <= day <= 31):
            yield Finding(located.at("day"), say("PF511.no_such_day", day=day))
        elif isinstance(day, str) and day not in DAY_WORDS:
            yield Finding(
                located.at("day"),
                say("PF511.not_a_day", day=day, hint=suggest(day, DAY_WORDS, list_all=False)),
            )
    elif day is not None:
        yield Finding(
            located.at("day", key=True),
            say(
                "PF511.day_weekly" if schedule.every == "weekly" else "PF511.day_not_here",
                every=schedule.every,
            ),
        )
    if schedule.month is not None:
        months_long = MONTHS_IN_PERIOD.get(schedule.every)
        if months_long is None:
            yield Finding(
                located.at("month", key=True), say("PF511.month_not_here", every=schedule.every)
            )
        elif isinstance(schedule.month, bool) or not 1 <= schedule.month <= months_long:
            yield Finding(
                located.at("month"),
                say(
                    "PF511.no_such_month",
                    month=schedule.month,
                    period=say(f"PF511.{schedule.every}"),
                    last=months_long,
                ),
            )
    if schedule.minus < 0:
        yield Finding(located.at("minus"), say("PF511.minus"))


def _time_and_dates(located: Located[ScheduleDef]) -> Iterator[Finding]:
    schedule = located.definition
    if parse_time_of_day(schedule.at) is None:
        yield Finding(located.at("at"), say("PF511.time", at=schedule.at))
    dates = []
    for index, text in enumerate(schedule.between):
        day = parse_date(text)
        if day is None:
            yield Finding(located.at("between", index), _bad_date(text))
        dates.append(day)
    if len(dates) == 2 and dates[0] is not None and dates[1] is not None and dates[0] > dates[1]:
        yield Finding(
            located.at("between", 1),
            say("PF511.between", last=schedule.between[1], first=schedule.between[0]),
        )
    try:
        grace = parse_duration(schedule.grace)
    except DurationError as error:
        yield Finding(
            located.at("grace"), say("PF120.bad", text=schedule.grace, detail=error.message)
        )
    else:
        if grace.working:
            yield Finding(located.at("grace"), say("PF511.grace", grace=schedule.grace))


def _bad_date(text: str) -> str:
    parts = text.split("-") if isinstance(text, str) else []
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        year, month, _ = (int(p) for p in parts)
        if 1 <= month <= 12 and year >= 1:
            length = months.monthrange(year, month)[1]
            month_name = say(f"PF511.month_name.{month}")
            return say("PF511.short_month", date=text, year=year, month=month_name, days=length)
    return say("PF511.not_a_date", date=text)
