"""Working calendars and deadline arithmetic: when is working time, and when is a limit due.

A :class:`WorkingCalendar` is built from a rules-file ``CalendarDef``. Which days are worked,
in order of precedence:

1. a ``closed`` date is never worked;
2. an ``open`` date is worked with the *normal weekday hours*;
3. with ``holidays: cn``, a statutory make-up working day (调休, e.g. Saturday 2026-02-14) is
   worked with the normal weekday hours, and a statutory rest day (e.g. 2026-02-15 to 02-23)
   is not worked;
4. any other day is worked with the hours its weekday has under ``hours`` (none: a day off).

The *normal weekday hours* are the periods of the first weekday, Monday to Sunday, that has
hours (Monday's for ``mon-fri``). Which weekday a make-up day stands in for is not recorded
in the statutory notice, and by law it is a full working day, so it gets the full hours of an
ordinary weekday even on a calendar that also works half Saturdays.

An estate's own days (``WorkingCalendar.from_definition(defn, extra_closed, extra_open)``)
take precedence over the calendar's ``closed``/``open``; a date listed both closed and open at
the same level is refused.

Durations, all measured from an aware ``start`` (results are in the calendar's timezone):

- **Wall clock** (``24h``, ``3d``, ``PT24H``): elapsed time, a plain timedelta added in UTC,
  whatever the calendar says; ``24h`` is 24 hours even across a weekend (or a daylight-saving
  change). The holiday data is not consulted, so no coverage warning can arise.
- **workhours**: working time is counted period by period from ``start``. A deadline that
  falls exactly at the end of a period is that end (Friday 17:30), not the start of the next.
- **workdays**: N whole working days. The *anchor* is ``start`` itself when it lies inside a
  working period, else the start of the next working period (a start at 17:30 Friday, on a
  Sunday or on a holiday moves to 08:30 on the next working day; a start at 12:00 moves to
  13:30). The deadline is the anchor's clock time on the Nth working day after the anchor's
  day. Example on ``office``: Fri 2026-02-13 10:00 + 3 workdays: Sat 14 Feb (a make-up day) is
  day 1, 15–23 Feb are the Spring Festival holiday, Tue 24 Feb is day 2, Wed 25 Feb day 3,
  so the deadline is Wed 2026-02-25 10:00. When that day's hours do not include the clock time
  (a day with shorter hours), the deadline is that day's last working moment before the clock
  time, or its first working moment if all its hours are later.
- Zero (only possible in anchored times, ``0h after handover_date``) is the moment itself.

Anchored times (``20d before handover_date``) add or subtract the offset from the field's
value. A ``date`` value means 00:00 local time (calendar timezone) of that date, so
``1 workday before handover_date`` with a Wednesday handover is Monday 17:30 on ``office``:
one whole working day (Tuesday) lies between it and the start of Wednesday. Subtraction
mirrors addition: the anchor is the last working moment at or before the value, and a
deadline on a day with other hours is its first working moment at or after the clock time.

Coverage: the statutory data ends at some year (see engine.time.holidays). A computation that
has to know whether a date outside that coverage is worked treats it as an ordinary week and
returns a warning per uncovered year in ``Deadline.warnings`` / ``WorkingSpan.warnings``:
never an exception, never a silent guess. A date listed under ``closed``/``open`` is known
and needs no warning.

Guards: a calendar without any weekday hours is a :class:`CalendarError` when it is built,
and so is a search that finds no working time in 20 years (all days closed) or runs past
the year 9999. Naive datetimes are refused (ValueError): the engine only handles aware times.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.model.durations import Anchored, Duration
from engine.model.rules import CalendarDef
from engine.time.errors import CalendarError
from engine.time.holidays import HOLIDAY_SOURCES, HolidayData, holiday_data
from engine.time.hours import MINUTES_PER_DAY, WEEKDAYS, Period, WeeklyHours, parse_hours

MAX_IDLE_DAYS = 20 * 366
"""The longest run of days without working time searched before giving up (20 years)."""

Interval = tuple[datetime, datetime]
"""A stretch of time: (start, end), aware datetimes, start < end."""

_ONE_DAY = timedelta(days=1)

_Result = TypeVar("_Result")


def _within_time(method: Callable[..., _Result]) -> Callable[..., _Result]:
    """``method`` with an ``OverflowError`` (a moment past year 9999, or before year 1, that
    :mod:`datetime` cannot hold) turned into a :class:`CalendarError`."""

    @functools.wraps(method)
    def bounded(*args: Any, **kwargs: Any) -> _Result:
        try:
            return method(*args, **kwargs)
        except OverflowError:
            raise CalendarError(
                "the time falls outside the dates a calendar can count (years 1 to 9999)"
            ) from None

    return bounded


#: How many days' periods a calendar keeps (see ``WorkingCalendar._day``): some 27 years.
_DAYS_KEPT = 10_000


class Deadline(NamedTuple):
    """When a duration from a start runs out, and what it counted to get there.

    ``warnings`` say which dates were counted without statutory holiday data. What was
    counted is found only when asked for (:attr:`counted`): the SLA clocks plan every
    deadline and need only ``at``, and finding the periods again would walk the days the
    deadline was counted on a second time."""

    at: datetime
    warnings: tuple[str, ...] = ()
    #: The stretch the duration covers, (start, deadline) or, for a subtraction, (deadline,
    #: end), in UTC; ``None`` for a zero duration.
    stretch: Interval | None = None
    #: The calendar whose working periods in ``stretch`` were counted; ``None`` for
    #: elapsed time, which counts the whole stretch.
    calendar: WorkingCalendar | None = None

    @property
    def counted(self) -> tuple[Interval, ...]:
        """The periods counted, in the timezone of ``at`` (the calendar's), clipped to the
        start and the deadline (for a wall-clock duration, the one stretch from start to
        deadline)."""
        if self.stretch is None:
            return ()
        if self.calendar is None:
            return _in_zone((self.stretch,), self.at.tzinfo)
        return self.calendar.working_periods_between(*self.stretch).periods

    @property
    def spans(self) -> tuple[Interval, ...]:
        """``counted`` in UTC."""
        return _in_zone(self.counted, UTC)

    @property
    def working_time(self) -> timedelta:
        """The total length of ``counted``."""
        return _total(self.counted)


@dataclass(frozen=True)
class WorkingSpan:
    """The working periods between two moments, with coverage warnings."""

    periods: tuple[Interval, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> timedelta:
        """The working time between the two moments."""
        return _total(self.periods)


class WorkingCalendar:
    """A calendar's working time: which days are worked, in which periods, and arithmetic."""

    def __init__(
        self,
        calendar_id: str,
        timezone: tzinfo,
        weekly: WeeklyHours,
        holidays: HolidayData | None = None,
        closed: Iterable[date] = (),
        open_days: Iterable[date] = (),
    ) -> None:
        if len(weekly) != len(WEEKDAYS):
            raise CalendarError(f"calendar '{calendar_id}': expected hours for seven weekdays")
        normal = next((periods for periods in weekly if periods), None)
        if normal is None:
            raise CalendarError(
                f"calendar '{calendar_id}' has no working hours on any weekday, so no deadline "
                'can ever be reached; give it hours such as {mon-fri: ["08:30-17:30"]}'
            )
        self.id = calendar_id
        self.tz = timezone
        self.weekly = weekly
        self.normal_hours: tuple[Period, ...] = normal
        self.holidays = holidays
        self.closed = frozenset(closed)
        self.open = frozenset(open_days)
        self._days_seen: dict[date, tuple[tuple[Interval, ...], bool]] = {}
        #: Every moment is working time (``hours: always``, no holidays, no closed days).
        self.continuous = (
            holidays is None
            and not self.closed
            and all(periods == ((0, MINUTES_PER_DAY),) for periods in weekly)
        )
        both = self.closed & self.open
        if both:
            raise CalendarError(
                f"calendar '{calendar_id}': {min(both).isoformat()} is listed as both closed "
                "and open"
            )

    @classmethod
    def from_definition(
        cls,
        defn: CalendarDef,
        extra_closed: Iterable[date | str] = (),
        extra_open: Iterable[date | str] = (),
    ) -> WorkingCalendar:
        """The calendar of a rules-file definition, plus an estate's own closed/open days.

        The estate's days override the calendar's: an estate may open a day the calendar
        closes, and close one it opens. Raises CalendarError for an unusable definition."""
        try:
            timezone: tzinfo = ZoneInfo(defn.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(
                f"calendar '{defn.id}': unknown timezone '{defn.timezone}'; use an IANA name "
                "such as Asia/Shanghai"
            ) from exc
        if defn.holidays not in HOLIDAY_SOURCES:
            raise CalendarError(
                f"calendar '{defn.id}': holidays must be one of {', '.join(HOLIDAY_SOURCES)}, "
                f"not '{defn.holidays}'"
            )
        own_closed = _dates(defn.closed, defn.id, "closed")
        own_open = _dates(defn.open, defn.id, "open")
        if own_closed & own_open:
            raise CalendarError(
                f"calendar '{defn.id}': {min(own_closed & own_open).isoformat()} is listed as "
                "both closed and open"
            )
        estate_closed = _dates(extra_closed, defn.id, "closed")
        estate_open = _dates(extra_open, defn.id, "open")
        if estate_closed & estate_open:
            raise CalendarError(
                f"calendar '{defn.id}': the estate lists "
                f"{min(estate_closed & estate_open).isoformat()} as both closed and open"
            )
        return cls(
            defn.id,
            timezone,
            parse_hours(defn.hours, defn.id),
            holiday_data(defn.holidays),
            (own_closed - estate_open) | estate_closed,
            (own_open - estate_closed) | estate_open,
        )

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.id!r}, {self.tz})"

    # -- days ---------------------------------------------------------------------------------

    def covers(self, day: date) -> bool:
        """Whether the working status of ``day`` is known without guessing."""
        return (
            self.holidays is None
            or day in self.closed
            or day in self.open
            or self.holidays.covers(day)
        )

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` has working time (see :meth:`covers` for dates past the data)."""
        return bool(self._hours(day, set()))

    @_within_time
    def periods(self, day: date) -> list[Interval]:
        """The working periods of ``day`` as aware datetimes in the calendar's timezone."""
        return [(s.astimezone(self.tz), e.astimezone(self.tz)) for s, e in self._day(day, set())]

    @_within_time
    def localize(self, value: date | datetime) -> datetime:
        """An aware datetime for an anchor value: a date is 00:00 of that date, local time."""
        if isinstance(value, datetime):
            return _aware(value, "the anchor")
        return datetime.combine(value, time(), tzinfo=self.tz)

    # -- spans --------------------------------------------------------------------------------

    @_within_time
    def working_periods_between(self, start: datetime, end: datetime) -> WorkingSpan:
        """The working periods between ``start`` and ``end``, clipped to them."""
        uncovered: set[int] = set()
        found = self._collect(_utc(start, "start"), _utc(end, "end"), uncovered)
        return WorkingSpan(_in_zone(found, self.tz), self._warnings(uncovered))

    @_within_time
    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time between ``start`` and ``end`` (zero if ``end`` is not later).

        For elapsed and remaining SLA figures. It carries no warnings: call
        :meth:`working_periods_between` when the coverage warnings are wanted too."""
        if self.continuous:  # every moment is working time: no need to walk the days
            return max(_utc(end, "end") - _utc(start, "start"), timedelta(0))
        return _total(self._collect(_utc(start, "start"), _utc(end, "end"), set()))

    # -- deadlines ----------------------------------------------------------------------------

    @_within_time
    def add(self, start: datetime, duration: Duration) -> Deadline:
        """When ``duration`` from ``start`` runs out (see the module docstring)."""
        begin = _utc(start, "start")
        uncovered: set[int] = set()
        if duration.amount == 0:
            return Deadline(begin.astimezone(self.tz))
        if duration.unit == "seconds":
            at = _shift(begin, duration.as_timedelta())
            return Deadline(at.astimezone(self.tz), (), (begin, at))
        if duration.unit == "workhours":
            at = self._count_forward(begin, timedelta(hours=duration.amount), uncovered)
        else:
            at = self._workdays_forward(begin, duration.amount, uncovered)
        return Deadline(at.astimezone(self.tz), self._warnings(uncovered), (begin, at), self)

    @_within_time
    def add_working_time(self, start: datetime, working: timedelta) -> Deadline:
        """When ``working`` time on this calendar has passed after ``start``.

        The SLA clocks use it to resume a paused clock: what was left of the limit is
        working time, which must be counted again from the moment work resumes.
        """
        begin = _utc(start, "start")
        if working <= timedelta(0):
            return Deadline(begin.astimezone(self.tz))
        if self.continuous:
            at = _shift(begin, working)
            return Deadline(at.astimezone(self.tz), (), (begin, at))
        uncovered: set[int] = set()
        at = self._count_forward(begin, working, uncovered)
        return Deadline(at.astimezone(self.tz), self._warnings(uncovered), (begin, at), self)

    @_within_time
    def subtract(self, end: datetime, duration: Duration) -> Deadline:
        """The moment ``duration`` before ``end``: addition mirrored (see the module docstring)."""
        finish = _utc(end, "end")
        uncovered: set[int] = set()
        if duration.amount == 0:
            return Deadline(finish.astimezone(self.tz))
        if duration.unit == "seconds":
            at = _shift(finish, -duration.as_timedelta())
            return Deadline(at.astimezone(self.tz), (), (at, finish))
        if duration.unit == "workhours":
            at = self._count_backward(finish, timedelta(hours=duration.amount), uncovered)
        else:
            at = self._workdays_backward(finish, duration.amount, uncovered)
        return Deadline(at.astimezone(self.tz), self._warnings(uncovered), (at, finish), self)

    @_within_time
    def anchored(self, anchor_value: date | datetime, anchored: Anchored) -> Deadline:
        """The moment of ``8h before meeting_at`` given the field's value.

        A date value means 00:00 local time of that date. Returns a :class:`Deadline` (not a
        bare datetime) so that coverage warnings and the counted periods travel with it."""
        anchor = self.localize(anchor_value)
        if anchored.direction == "after":
            return self.add(anchor, anchored.offset)
        return self.subtract(anchor, anchored.offset)

    # -- internals: days ----------------------------------------------------------------------

    def _hours(self, day: date, uncovered: set[int]) -> tuple[Period, ...]:
        """The periods of ``day`` in minutes, noting its year if it was a guess."""
        if day in self.closed:
            return ()
        if day in self.open:
            return self.normal_hours
        if self.holidays is not None:
            if not self.holidays.covers(day):
                uncovered.add(day.year)
            elif day in self.holidays.makeup_days:
                return self.normal_hours
            elif day in self.holidays.rest_days:
                return ()
        return self.weekly[day.weekday()]

    def _day(self, day: date, uncovered: set[int]) -> tuple[Interval, ...]:
        """The periods of ``day`` as UTC datetimes (empty ones, from a DST gap, dropped).

        Kept per day (a calendar never changes once built): deadline arithmetic walks the
        same few days again and again, and building timezone-aware moments is its cost."""
        known = self._days_seen.get(day)
        if known is None:
            guessed: set[int] = set()
            result: list[Interval] = []
            for start, end in self._hours(day, guessed):
                begin = self._at(day, timedelta(minutes=start))
                finish = self._at(day, timedelta(minutes=end))
                if begin < finish:
                    result.append((begin, finish))
            if len(self._days_seen) >= _DAYS_KEPT:
                self._days_seen.clear()
            known = self._days_seen[day] = (tuple(result), bool(guessed))
        if known[1]:
            uncovered.add(day.year)
        return known[0]

    def _at(self, day: date, clock: timedelta) -> datetime:
        """The UTC moment of local clock time ``clock`` (may be 24:00) on ``day``."""
        return (datetime.combine(day, time()) + clock).replace(tzinfo=self.tz).astimezone(UTC)

    def _clock(self, day: date, moment: datetime) -> timedelta:
        """The local clock time of ``moment`` counted from the start of ``day``."""
        local = moment.astimezone(self.tz).replace(tzinfo=None)
        return local - datetime.combine(day, time())

    def _days(self, day: date, step: int) -> Iterator[date]:
        """``day``, then the days after it (step 1) or before it (step -1)."""
        try:
            while True:
                yield day
                day += step * _ONE_DAY
        except OverflowError:
            raise CalendarError(
                f"calendar '{self.id}': the computation runs past the limits of the "
                "calendar (year 1 to 9999)"
            ) from None

    def _forward(
        self, start: datetime, uncovered: set[int]
    ) -> Iterator[tuple[date, datetime, datetime]]:
        """Working periods ending after ``start``, in order, clipped to begin at ``start``."""
        idle = 0
        for day in self._days(start.astimezone(self.tz).date(), 1):
            periods = [(s, e) for s, e in self._day(day, uncovered) if e > start]
            for begin, finish in periods:
                yield day, max(begin, start), finish
            idle = 0 if periods else idle + 1
            if idle > MAX_IDLE_DAYS:
                raise self._no_working_time(day, "after")

    def _backward(
        self, end: datetime, uncovered: set[int]
    ) -> Iterator[tuple[date, datetime, datetime]]:
        """Working periods beginning before ``end``, latest first, clipped to ``end``."""
        idle = 0
        for day in self._days(end.astimezone(self.tz).date(), -1):
            periods = [(s, e) for s, e in self._day(day, uncovered) if s < end]
            for begin, finish in reversed(periods):
                yield day, begin, min(finish, end)
            idle = 0 if periods else idle + 1
            if idle > MAX_IDLE_DAYS:
                raise self._no_working_time(day, "before")

    def _no_working_time(self, day: date, direction: str) -> CalendarError:
        return CalendarError(
            f"calendar '{self.id}' has no working time in the 20 years {direction} "
            f"{day.isoformat()}; check its closed days"
        )

    def _nth_working_day(self, day: date, count: int, step: int, uncovered: set[int]) -> date:
        """The ``count``-th working day after (step 1) or before (step -1) ``day``."""
        idle = 0
        days = self._days(day, step)
        next(days)
        for candidate in days:
            if self._hours(candidate, uncovered):
                count -= 1
                idle = 0
                if count == 0:
                    return candidate
            else:
                idle += 1
                if idle > MAX_IDLE_DAYS:
                    raise self._no_working_time(candidate, "after" if step > 0 else "before")
        raise AssertionError("unreachable: _days is endless")  # pragma: no cover

    # -- internals: counting ------------------------------------------------------------------

    def _count_forward(self, start: datetime, amount: timedelta, uncovered: set[int]) -> datetime:
        for _, begin, finish in self._forward(start, uncovered):
            if finish - begin >= amount:
                return begin + amount
            amount -= finish - begin
        raise AssertionError("unreachable: _forward is endless")  # pragma: no cover

    def _count_backward(self, end: datetime, amount: timedelta, uncovered: set[int]) -> datetime:
        for _, begin, finish in self._backward(end, uncovered):
            if finish - begin >= amount:
                return finish - amount
            amount -= finish - begin
        raise AssertionError("unreachable: _backward is endless")  # pragma: no cover

    def _workdays_forward(self, start: datetime, count: int, uncovered: set[int]) -> datetime:
        day0, anchor, _ = next(self._forward(start, uncovered))
        clock = self._clock(day0, anchor)
        day = self._nth_working_day(day0, count, 1, uncovered)
        target = self._at(day, clock)
        periods = self._day(day, uncovered)
        # The last working moment of that day at or before the clock time, else its first.
        before = [min(finish, target) for begin, finish in periods if begin <= target]
        return max(before) if before else (periods[0][0] if periods else target)

    def _workdays_backward(self, end: datetime, count: int, uncovered: set[int]) -> datetime:
        day0, _, anchor = next(self._backward(end, uncovered))
        clock = self._clock(day0, anchor)
        day = self._nth_working_day(day0, count, -1, uncovered)
        target = self._at(day, clock)
        periods = self._day(day, uncovered)
        # The first working moment of that day at or after the clock time, else its last.
        after = [max(begin, target) for begin, finish in periods if finish >= target]
        return min(after) if after else (periods[-1][1] if periods else target)

    def _collect(self, start: datetime, end: datetime, uncovered: set[int]) -> list[Interval]:
        found: list[Interval] = []
        if start < end:
            for _, begin, finish in self._forward(start, uncovered):
                if begin >= end:
                    break
                found.append((begin, min(finish, end)))
        return found

    # -- internals: output --------------------------------------------------------------------

    def _warnings(self, uncovered: set[int]) -> tuple[str, ...]:
        if self.holidays is None:
            return ()
        return tuple(self.holidays.uncovered_message(year) for year in sorted(uncovered))


def _in_zone(intervals: Iterable[Interval], zone: tzinfo | None) -> tuple[Interval, ...]:
    """The intervals as local times of ``zone`` (computed in UTC, shown in the calendar's)."""
    return tuple((start.astimezone(zone), end.astimezone(zone)) for start, end in intervals)


def _total(intervals: Iterable[Interval]) -> timedelta:
    # In UTC: subtracting two datetimes of one zone would ignore a daylight-saving change.
    return sum(
        (end.astimezone(UTC) - start.astimezone(UTC) for start, end in intervals), timedelta()
    )


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} {value.isoformat()} has no timezone; give an aware datetime")
    return value


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is UTC:  # the engine's own moments: already what astimezone would give
        return value
    return _aware(value, what).astimezone(UTC)


def _shift(moment: datetime, delta: timedelta) -> datetime:
    try:
        return moment + delta
    except OverflowError:
        raise CalendarError("the deadline falls outside the years 1 to 9999") from None


def _dates(values: Iterable[date | str], calendar: str, kind: str) -> frozenset[date]:
    result: set[date] = set()
    for value in values:
        if isinstance(value, datetime):
            raise CalendarError(f"calendar '{calendar}': {kind} days are dates, not {value}")
        if isinstance(value, date):
            result.add(value)
            continue
        try:
            result.add(date.fromisoformat(value))
        except (TypeError, ValueError):
            raise CalendarError(
                f"calendar '{calendar}': {kind} day '{value}' is not a date like 2026-12-31"
            ) from None
    return frozenset(result)
