"""The one error of calendar arithmetic: a calendar that cannot be used as written.

Bad weekday specs, overlapping periods, an unknown timezone, a date that is both closed and
open, or a calendar with no working time at all: each is a :class:`CalendarError` with one
line of plain English naming the calendar. It is a ValueError, so callers that already treat
bad configuration as a ValueError need nothing new.
"""

from __future__ import annotations


class CalendarError(ValueError):
    """A calendar definition that cannot be used, or a computation it cannot finish."""
