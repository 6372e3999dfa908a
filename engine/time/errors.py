"""The one error of calendar arithmetic: a calendar that cannot be used as written.

Bad weekday specs, overlapping periods, an unknown timezone, a date that is both closed and
open, or a calendar with no working time at all: each is a :class:`CalendarError` with one
line of plain English naming the calendar. It is a :class:`PropflowError`, like every error
the engine raises, and a ValueError, so callers that already treat bad configuration as a
ValueError need nothing new.
"""

from __future__ import annotations

from engine.diagnostics import PropflowError


class CalendarError(PropflowError, ValueError):
    """A calendar definition that cannot be used, or a computation it cannot finish."""
