"""Report periods: a week, month, quarter or year in the estate's timezone, as UTC bounds.

Indicators are counted over half-open ranges ``[start, end)`` of instants; the store keeps
UTC, so a month in Shanghai starts at 16:00 UTC on the last day of the month before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from engine.model.kpis import KpiPeriod


class PeriodError(ValueError):
    """A period that cannot be read (``2026-13``, ``March``)."""


@dataclass(frozen=True)
class Period:
    """A named range of time: ``name`` as written (``2026-03``), ``[start, end)`` in UTC."""

    name: str
    start: datetime
    end: datetime


_PATTERNS: tuple[tuple[KpiPeriod, re.Pattern[str]], ...] = (
    ("week", re.compile(r"^(\d{4})-W(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("year", re.compile(r"^(\d{4})$")),
)


def _first_day(kind: KpiPeriod, year: int, number: int) -> date:
    if kind == "week":
        return date.fromisocalendar(year, number, 1)
    if kind == "quarter":
        return date(year, 3 * number - 2, 1)
    if kind == "month":
        return date(year, number, 1)
    return date(year, 1, 1)


def _next_day(kind: KpiPeriod, first: date) -> date:
    if kind == "week":
        return first + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    month = first.month - 1 + months
    return date(first.year + month // 12, month % 12 + 1, 1)


def _name(kind: KpiPeriod, first: date) -> str:
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "quarter":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    if kind == "month":
        return f"{first.year}-{first.month:02d}"
    return str(first.year)


def _instant(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _period(kind: KpiPeriod, first: date, zone: ZoneInfo) -> Period:
    return Period(_name(kind, first), _instant(first, zone), _instant(_next_day(kind, first), zone))


def parse_period(text: str, timezone: str) -> tuple[KpiPeriod, Period]:
    """``2026-03`` (a month), ``2026-W10`` (an ISO week), ``2026-Q1`` or ``2026``, in
    ``timezone``; :class:`PeriodError` for anything else."""
    for kind, pattern in _PATTERNS:
        match = pattern.match(text.strip())
        if match is None:
            continue
        number = int(match.group(2)) if kind != "year" else 1
        try:
            first = _first_day(kind, int(match.group(1)), number)
        except ValueError as exc:
            raise PeriodError(f"'{text}' is not a {kind}: {exc}") from None
        return kind, _period(kind, first, ZoneInfo(timezone))
    raise PeriodError(
        f"'{text}' is not a period; write a month (2026-03), a week (2026-W10), "
        "a quarter (2026-Q1) or a year (2026)"
    )


def period_containing(kind: KpiPeriod, moment: datetime, timezone: str) -> Period:
    """The period of ``kind`` that contains ``moment``."""
    zone = ZoneInfo(timezone)
    day = moment.astimezone(zone).date()
    if kind == "week":
        first = day - timedelta(days=day.weekday())
    elif kind == "month":
        first = day.replace(day=1)
    elif kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    else:
        first = date(day.year, 1, 1)
    return _period(kind, first, zone)


def periods_up_to(kind: KpiPeriod, last: Period, count: int, timezone: str) -> list[Period]:
    """``count`` consecutive periods of ``kind`` ending with the one that holds ``last``'s
    start, oldest first (the history a chart draws)."""
    found = [period_containing(kind, last.start, timezone)]
    while len(found) < count:
        found.append(period_containing(kind, found[-1].start - timedelta(seconds=1), timezone))
    return found[::-1]


def day_range(start: date, end: date, timezone: str) -> Period:
    """The days ``start`` to ``end`` inclusive, in ``timezone``."""
    zone = ZoneInfo(timezone)
    if end < start:
        raise PeriodError(f"the range ends ({end}) before it starts ({start})")
    return Period(f"{start}..{end}", _instant(start, zone), _instant(end + timedelta(days=1), zone))
