"""How far away a moment is, in the words of the language spoken: ``2d 5h``, ``3h 05m``,
``12m`` (``2天5小时``, ``3小时05分``, ``12分钟``).

A deadline two days off is read to the hour, one this afternoon to the minute: every
command and page that says how long is left, used or overdue says it this one way, so a
supervisor comparing the board with a case's page reads the same figure.
"""

from __future__ import annotations

from datetime import timedelta

from engine.diagnostics.catalogue import say


def span(delta: timedelta) -> str:
    """``delta`` to the precision that matters at its distance, never negative (the
    caller says whether it is left, used or past)."""
    days, rest = divmod(abs(int(delta.total_seconds() // 60)), 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return say("span.days", days=days, hours=hours)
    if hours:
        return say("span.hours", hours=hours, minutes=minutes)
    return say("span.minutes", minutes=minutes)
