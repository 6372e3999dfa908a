"""Report periods: a week, month, quarter or year in the estate's timezone, as UTC bounds.

Indicators are counted over half-open ranges ``[start, end)`` of instants; the store keeps
UTC, so a month in Shanghai starts at 16:00 UTC on the last day of the month before. The
period arithmetic and keys (``2026-W10``, ``2026-03``, ``2026-Q1``, ``2026``) are those of
schedules and quotas (:mod:`engine.time.schedules`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from engine.diagnostics.catalogue import say
from engine.model.kpis import KpiPeriod
from engine.time.schedules import (
    key_start,
    next_period_start,
    period_key,
    period_start,
    previous_period_start,
)


class PeriodError(ValueError):
    """A period that cannot be read (``2026-13``, ``March``), said in the language spoken:
    the report's command and the HTTP API both show it to the person who wrote it."""


@dataclass(frozen=True)
class Period:
    """A named range of time: ``name`` as written (``2026-03``), ``[start, end)`` in UTC."""

    name: str
    start: datetime
    end: datetime


_PATTERNS: tuple[tuple[KpiPeriod, re.Pattern[str]], ...] = (
    ("week", re.compile(r"^\d{4}-W\d{2}$")),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("month", re.compile(r"^\d{4}-\d{2}$")),
    ("year", re.compile(r"^\d{4}$")),
)


def _instant(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _period(kind: KpiPeriod, first: date, zone: ZoneInfo) -> Period:
    end = next_period_start(kind, first)
    return Period(period_key(kind, first), _instant(first, zone), _instant(end, zone))


def parse_period(text: str, timezone: str) -> tuple[KpiPeriod, Period]:
    """``2026-03`` (a month), ``2026-W10`` (an ISO week), ``2026-Q1`` or ``2026``, in
    ``timezone``; :class:`PeriodError` for anything else."""
    key = text.strip()
    for kind, pattern in _PATTERNS:
        if pattern.match(key) is None:
            continue
        try:
            first = key_start(kind, key)
        except ValueError:  # Python's words (month must be in 1..12): said anew
            raise PeriodError(
                say("period.no_such", text=text, kind=say(f"period.kinds.{kind}"))
            ) from None
        return kind, _period(kind, first, ZoneInfo(timezone))
    raise PeriodError(say("period.unknown", text=text))


def period_of(kind: str, key: str, zone: tzinfo) -> Period:
    """The period with ``key`` (as :func:`engine.time.schedules.period_key` writes it) of
    ``kind`` (``weekly``/``week``, ``monthly``/``month``...), in ``zone``."""
    first = key_start(kind, key)
    end = next_period_start(kind, first)
    return Period(key, _instant(first, zone), _instant(end, zone))


def period_containing(kind: KpiPeriod, moment: datetime, timezone: str) -> Period:
    """The period of ``kind`` that contains ``moment``."""
    zone = ZoneInfo(timezone)
    return _period(kind, period_start(kind, moment.astimezone(zone).date()), zone)


def month_before(moment: datetime, timezone: str) -> Period:
    """The last whole month before ``moment``: what a report covers when none is named."""
    this_month = period_containing("month", moment, timezone)
    return period_containing("month", this_month.start - timedelta(seconds=1), timezone)


def periods_up_to(kind: KpiPeriod, last: Period, count: int, timezone: str) -> list[Period]:
    """``count`` consecutive periods of ``kind`` ending with the one that holds ``last``'s
    start, oldest first (the history a chart draws)."""
    zone = ZoneInfo(timezone)
    first = period_start(kind, last.start.astimezone(zone).date())
    starts = [first]
    while len(starts) < count:
        starts.append(previous_period_start(kind, starts[-1]))
    return [_period(kind, start, zone) for start in reversed(starts)]


def day_range(start: date, end: date, timezone: str) -> Period:
    """The days ``start`` to ``end`` inclusive, in ``timezone``."""
    zone = ZoneInfo(timezone)
    if end < start:
        raise PeriodError(say("period.backwards", start=start, end=end))
    return Period(f"{start}..{end}", _instant(start, zone), _instant(end + timedelta(days=1), zone))
