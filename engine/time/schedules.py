"""When schedules and quota periods fall: pure calendar arithmetic, no store.

A schedule divides time into periods — days, ISO weeks (Monday to Sunday), months, quarters,
half-years, years — and has at most one occurrence in each: the moment its case is due.
:class:`Timetable` lists a schedule's occurrences in order; the runtime
(:mod:`engine.runtime.calendar_jobs`) decides which of the due ones to open. Periods have keys
that sort in time order within a kind: ``2026-03-02``, ``2026-W10``, ``2026-03``, ``2026-Q1``,
``2026-H1``, ``2026``.

The rules, in the order they apply to a period:

- the nominal day: the period's day (daily), its ``on`` weekday (weekly), or ``day`` of the
  month (monthly) or of the period's ``month`` (quarterly, half-yearly, yearly), where a day
  past the month's end is its last day, ``last`` the last day and ``last_workday`` the last
  working day;
- ``minus``: that many working days earlier (all but daily and weekly);
- ``workdays_only``: a day that is not a working day moves to the next working day of the
  same period (a daily schedule has none, so the day is skipped); a period without one left
  has no occurrence;
- ``on`` (daily): days on other weekdays are skipped;
- ``between``: occurrences on other dates are skipped;
- the time: ``at`` on that day, in the calendar's timezone.
"""

from __future__ import annotations

import calendar as months
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.model import ScheduleDef
from engine.time import WorkingCalendar

#: A schedule that goes this many periods without an occurrence is taken to have none left
#: (a weekday filter that never meets a working day, say), rather than searched for ever.
MAX_EMPTY_PERIODS = 3660


@dataclass(frozen=True)
class Occurrence:
    """One period's occurrence: the period's key, the previous period's, and when it is due."""

    period: str
    previous: str
    due: datetime


def period_start(kind: str, day: date) -> date:
    """The first day of the period of ``kind`` (``daily``/``day``, ``weekly``/``week``,
    ``monthly``/``month``, ``quarterly``/``quarter``, ``half_yearly``/``half``,
    ``yearly``/``year``) that holds ``day``."""
    kind = _KINDS[kind]
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    months_long = MONTHS_LONG[kind]
    return date(day.year, months_long * ((day.month - 1) // months_long) + 1, 1)


def next_period_start(kind: str, start: date) -> date:
    """The first day of the period after the one starting on ``start``."""
    kind = _KINDS[kind]
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    month = start.month - 1 + MONTHS_LONG[kind]
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_period_start(kind: str, start: date) -> date:
    """The first day of the period before the one starting on ``start``."""
    return period_start(kind, start - timedelta(days=1))


def period_key(kind: str, start: date) -> str:
    """The key of the period starting on ``start``: ``2026-03-02``, ``2026-W10``, ``2026-03``,
    ``2026-Q1``, ``2026-H1`` or ``2026``."""
    kind = _KINDS[kind]
    if kind == "day":
        return start.isoformat()
    if kind == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{start.year}-{start.month:02d}"
    if kind == "year":
        return str(start.year)
    if kind == "half":
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def key_start(kind: str, key: str) -> date:
    """The first day of the period with this key (the inverse of :func:`period_key`)."""
    kind = _KINDS[kind]
    if kind == "day":
        return date.fromisoformat(key)
    year, _, rest = key.partition("-")
    if kind == "year":
        return date(int(year), 1, 1)
    if kind == "week":
        return date.fromisocalendar(int(year), int(rest.lstrip("W")), 1)
    if kind == "month":
        return date(int(year), int(rest), 1)
    return date(int(year), MONTHS_LONG[kind] * (int(rest[1:]) - 1) + 1, 1)


_KINDS = {
    "daily": "day",
    "day": "day",
    "weekly": "week",
    "week": "week",
    "monthly": "month",
    "month": "month",
    "quarterly": "quarter",
    "quarter": "quarter",
    "half_yearly": "half",
    "half": "half",
    "yearly": "year",
    "year": "year",
}

#: How many months long a period of each kind longer than a week is.
MONTHS_LONG = {"month": 1, "quarter": 3, "half": 6, "year": 12}


class Timetable:
    """A schedule's occurrences on its calendar (the schedule must be ``usable``)."""

    def __init__(self, schedule: ScheduleDef, calendar: WorkingCalendar) -> None:
        if not schedule.usable:
            raise ValueError(f"schedule '{schedule.id}' has parts that cannot be read")
        self.schedule = schedule
        self.calendar = calendar
        self.kind = schedule.every

    def occurrence(self, start: date) -> Occurrence | None:
        """The occurrence of the period starting on ``start``, or ``None`` if it has none."""
        schedule = self.schedule
        end = next_period_start(self.kind, start) - timedelta(days=1)
        day = self._nominal(start)
        if day is None:
            return None
        if schedule.workdays_only:
            day = self._next_working(day, end)
            if day is None:
                return None
        if self.kind == "daily" and schedule.weekdays and day.weekday() not in schedule.weekdays:
            return None
        if schedule.first_date is not None and day < schedule.first_date:
            return None
        if schedule.last_date is not None and day > schedule.last_date:
            return None
        assert schedule.time_of_day is not None
        due = datetime.combine(day, schedule.time_of_day, tzinfo=self.calendar.tz)
        previous = period_key(self.kind, previous_period_start(self.kind, start))
        return Occurrence(period_key(self.kind, start), previous, due)

    def _nominal(self, start: date) -> date | None:
        schedule = self.schedule
        if self.kind == "daily":
            return start
        if self.kind == "weekly":
            return start + timedelta(days=schedule.weekdays[0])
        month_start = start
        if self.kind != "monthly":
            offset = (schedule.month or 1) - 1
            month_start = date(start.year, start.month + offset, 1)
        last = months.monthrange(month_start.year, month_start.month)[1]
        if schedule.day == "last":
            day = month_start.replace(day=last)
        elif schedule.day == "last_workday":
            found = self._previous_working(month_start.replace(day=last), month_start)
            if found is None:
                return None
            day = found
        else:
            assert isinstance(schedule.day, int)
            day = month_start.replace(day=min(schedule.day, last))
        for _ in range(schedule.minus):
            found = self._previous_working(day - timedelta(days=1), None)
            if found is None:
                return None
            day = found
        return day

    def _next_working(self, day: date, end: date) -> date | None:
        while day <= end:
            if self.calendar.is_working_day(day):
                return day
            day += timedelta(days=1)
        return None

    def _previous_working(self, day: date, stop: date | None) -> date | None:
        limit = stop or day - timedelta(days=366)
        while day >= limit:
            if self.calendar.is_working_day(day):
                return day
            day -= timedelta(days=1)
        return None

    def occurrences(
        self, *, after_period: str | None = None, from_due: datetime | None = None
    ) -> Iterator[Occurrence]:
        """The occurrences, in order: of the periods after ``after_period``, or those due at
        or after ``from_due``. Ends with the ``between`` range, or when none comes for
        :data:`MAX_EMPTY_PERIODS` periods."""
        if after_period is not None:
            start = next_period_start(self.kind, key_start(self.kind, after_period))
        else:
            assert from_due is not None
            local = from_due.astimezone(self.calendar.tz).date()
            # One period back: 'minus' may bring a period's occurrence into the one before.
            start = previous_period_start(self.kind, period_start(self.kind, local))
        last = self.schedule.last_date
        empty = 0
        while empty < MAX_EMPTY_PERIODS and (last is None or start <= last + timedelta(days=1)):
            found = self.occurrence(start)
            start = next_period_start(self.kind, start)
            if found is None or (from_due is not None and found.due < from_due):
                empty += 1
                continue
            empty = 0
            yield found
