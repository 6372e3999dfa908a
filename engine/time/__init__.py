"""Working calendars and deadline arithmetic, for time limits and the tools that show them.

``WorkingCalendar.from_definition(calendar_def)`` turns a rules-file calendar into working
periods (weekday hours, statutory holidays and make-up days, an estate's own days);
``calendar.add(start, duration)`` gives a :class:`Deadline` with the periods it counted and any
warning about dates beyond the statutory holiday data. The semantics are documented in
:mod:`engine.time.calendar`.
"""

from __future__ import annotations

from engine.time.calendar import Deadline, Interval, WorkingCalendar, WorkingSpan
from engine.time.errors import CalendarError
from engine.time.holidays import HolidayData, cn_holidays

__all__ = [
    "CalendarError",
    "Deadline",
    "HolidayData",
    "Interval",
    "WorkingCalendar",
    "WorkingSpan",
    "cn_holidays",
]
