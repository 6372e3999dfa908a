"""Statutory holidays: which dates the law takes off or puts on, and for which years we know.

`holidays: cn` reads the mainland arrangement from the `chinese_calendar` package: rest days
(法定节假日, including the weekend days inside a holiday stretch) and make-up working days
(调休上班, usually a Saturday or Sunday). The State Council publishes each year's arrangement
in the previous November or December, so the data always ends at some year; that coverage is
read from the package itself (the earliest and latest years of its holiday table), never
assumed. A date outside the coverage has no known arrangement: the calendar counts it as an
ordinary week and says so in a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import metadata


@dataclass(frozen=True)
class HolidayData:
    """One country's statutory arrangement and the years it covers (inclusive)."""

    name: str
    source: str
    first_year: int
    last_year: int
    rest_days: frozenset[date]
    makeup_days: frozenset[date]

    def covers(self, day: date) -> bool:
        """Whether `day` falls in a year whose arrangement is known."""
        return self.first_year <= day.year <= self.last_year

    def coverage(self) -> str:
        """`2004–2026`, for messages."""
        return f"{self.first_year}–{self.last_year}"

    def uncovered_message(self, year: int) -> str:
        """The warning for a computation that touched `year`, outside the coverage."""
        return (
            f"no statutory holiday data for {year} ({self.source} covers {self.coverage()}): "
            f"dates in {year} were counted as ordinary weeks, without holidays or make-up "
            "working days; update the package, or list that year's days under closed/open"
        )


HOLIDAY_SOURCES = ("cn", "none")
"""The values of a calendar's `holidays`."""


@cache
def cn_holidays() -> HolidayData:
    """Mainland China's statutory holidays and make-up working days, from chinese_calendar."""
    import chinese_calendar

    rest_days = frozenset(chinese_calendar.holidays)
    makeup_days = frozenset(chinese_calendar.workdays)
    # The package's own range check uses the years of its holiday table; so do we.
    years = [day.year for day in rest_days]
    try:
        version = metadata.version("chinese_calendar")
    except metadata.PackageNotFoundError:  # pragma: no cover - vendored copies
        version = getattr(chinese_calendar, "__version__", "unknown")
    return HolidayData(
        name="cn",
        source=f"chinese_calendar {version}",
        first_year=min(years),
        last_year=max(years),
        rest_days=rest_days,
        makeup_days=makeup_days,
    )


def holiday_data(name: str) -> HolidayData | None:
    """The data for a calendar's `holidays` value: `cn` or `none` (None). KeyError otherwise."""
    if name == "cn":
        return cn_holidays()
    if name == "none":
        return None
    raise KeyError(name)
