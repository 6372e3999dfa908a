"""Weekly working hours: `hours: always` or `{mon-fri: ["08:30-12:00", "13:30-17:30"]}`.

The result is seven tuples of periods, Monday first, each period a pair of minutes since
local midnight (`end` may be 1440, written `24:00`). A lunch break is simply the gap between
two periods. A weekday spec is a comma-separated list of days and ranges: `mon-fri`, `sat`,
`mon,wed`, `mon-wed, fri`; a range may wrap past Sunday (`fri-mon` is Friday to Monday).
Periods must not cross midnight (write `22:00-24:00` and, on the next day, `00:00-06:00`),
must not overlap, and each weekday gets its hours from one key only: a day named by two keys
is refused rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import pairwise

from engine.time.errors import CalendarError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in `datetime.date.weekday()` order."""

MINUTES_PER_DAY = 1440

Period = tuple[int, int]
"""A working period of a day: (start, end) in minutes since local midnight, end <= 1440."""

WeeklyHours = tuple[tuple[Period, ...], ...]
"""Seven tuples of periods, Monday first; an empty tuple is a day off."""

ALWAYS: WeeklyHours = tuple(((0, MINUTES_PER_DAY),) for _ in WEEKDAYS)

_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_hours(hours: str | Mapping[str, Sequence[str] | str], calendar: str) -> WeeklyHours:
    """The weekly hours of `hours` (`always` or weekday spec -> periods).

    `calendar` is the calendar's id, for messages. Raises CalendarError."""
    if isinstance(hours, str):
        if hours.strip() == "always":
            return ALWAYS
        raise CalendarError(
            f"calendar '{calendar}': hours must be 'always' or a mapping of weekdays to "
            f"periods like {{mon-fri: [\"08:30-12:00\"]}}, not '{hours}'"
        )
    days: list[tuple[Period, ...] | None] = [None] * len(WEEKDAYS)
    named_by: list[str] = [""] * len(WEEKDAYS)
    for spec, ranges in hours.items():
        periods = _periods(ranges, spec, calendar)
        for day in parse_weekdays(spec, calendar):
            if days[day] is not None:
                raise CalendarError(
                    f"calendar '{calendar}': {WEEKDAYS[day]} gets hours from both "
                    f"'{named_by[day]}' and '{spec}'; give each weekday its hours once"
                )
            days[day], named_by[day] = periods, spec
    return tuple(periods or () for periods in days)


def parse_weekdays(spec: str, calendar: str) -> list[int]:
    """The weekdays (0 = Monday) named by `mon-fri`, `sat`, `mon,wed`, `fri-mon`."""
    result: list[int] = []
    for part in spec.split(","):
        names = [name.strip().lower() for name in part.split("-")]
        if len(names) > 2 or any(name not in WEEKDAYS for name in names):
            raise CalendarError(
                f"calendar '{calendar}': '{spec}' is not a weekday spec; use mon, tue, wed, "
                "thu, fri, sat, sun, ranges like mon-fri and lists like mon,wed"
            )
        first = WEEKDAYS.index(names[0])
        last = WEEKDAYS.index(names[-1])
        span = (last - first) % len(WEEKDAYS)
        for step in range(span + 1):
            day = (first + step) % len(WEEKDAYS)
            if day not in result:
                result.append(day)
    return sorted(result)


def _periods(ranges: Sequence[str] | str, spec: str, calendar: str) -> tuple[Period, ...]:
    texts = (ranges,) if isinstance(ranges, str) else tuple(ranges)
    if not texts:
        raise CalendarError(f"calendar '{calendar}': '{spec}' has no working periods")
    periods = sorted(_period(text, spec, calendar) for text in texts)
    for (_, end), (start, _) in pairwise(periods):
        if start < end:
            raise CalendarError(
                f"calendar '{calendar}': the periods of '{spec}' overlap "
                f"({', '.join(texts)}); list each stretch of time once"
            )
    return tuple(periods)


def _period(text: str, spec: str, calendar: str) -> Period:
    match = _RANGE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise CalendarError(
            f"calendar '{calendar}': '{text}' under '{spec}' is not a period like 08:30-12:00"
        )
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start_h > 23 or start_m > 59 or end_m > 59 or end > MINUTES_PER_DAY:
        raise CalendarError(
            f"calendar '{calendar}': '{text}' under '{spec}' is not a time of day (00:00 to 24:00)"
        )
    if start >= end:
        raise CalendarError(
            f"calendar '{calendar}': '{text}' under '{spec}' ends before it starts; a period "
            "cannot cross midnight: split it into 22:00-24:00 and, on the next day, 00:00-06:00"
        )
    return start, end
