"""SLA status: where each of a case's clocks stands, for the API and ``propflow case show``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.model import TimeLimitDef, localized
from engine.sla.clocks import PAUSED, STOPPED, ClockRecord
from engine.time import WorkingCalendar


@dataclass(frozen=True)
class ClockStatus:
    """One clock: its deadline, the working time used and left, and what happened to it."""

    limit: str
    label: str
    calendar: str
    status: str
    started_at: datetime
    deadline: datetime | None
    elapsed: timedelta
    remaining: timedelta | None
    paused: bool
    breached: bool
    breached_at: datetime | None
    stopped_at: datetime | None
    warnings_sent: tuple[str, ...]
    extensions: tuple[dict[str, Any], ...]
    tier: int
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "limit": self.limit,
            "label": self.label,
            "calendar": self.calendar,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "elapsed_seconds": int(self.elapsed.total_seconds()),
            "remaining_seconds": (
                int(self.remaining.total_seconds()) if self.remaining is not None else None
            ),
            "paused": self.paused,
            "breached": self.breached,
            "breached_at": self.breached_at.isoformat() if self.breached_at else None,
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "warnings_sent": list(self.warnings_sent),
            "extensions": list(self.extensions),
            "tier": self.tier,
            "notes": list(self.notes),
        }


def clock_status(
    clock: ClockRecord, limit: TimeLimitDef, calendar: WorkingCalendar, now: datetime
) -> ClockStatus:
    """The status of ``clock`` at ``now``; times are working time on the limit's calendar.

    Elapsed time runs from the start to now (or to the stop, or to the pause), less the
    stretches the clock stood still; remaining is the working time from then to the deadline,
    negative when the deadline has passed.
    """
    until = clock.stopped_at or clock.paused_at or now
    span = calendar.working_periods_between(clock.started_at, until)
    elapsed = span.total - sum(
        (calendar.working_time_between(since, min(to, until)) for since, to in clock.pauses),
        timedelta(0),
    )
    notes = tuple(dict.fromkeys((*clock.notes, *span.warnings)))
    remaining: timedelta | None = None
    if clock.deadline is not None:
        if clock.deadline >= until:
            ahead = calendar.working_periods_between(until, clock.deadline)
            remaining = ahead.total
            notes = tuple(dict.fromkeys((*notes, *ahead.warnings)))
        else:
            remaining = -calendar.working_time_between(clock.deadline, until)
    breached = clock.breached_at is not None or (
        clock.deadline is not None and clock.deadline < until
    )
    return ClockStatus(
        limit=limit.id,
        label=localized(limit.label, limit.id),
        calendar=calendar.id,
        status=clock.status,
        started_at=clock.started_at.astimezone(calendar.tz),
        deadline=clock.deadline.astimezone(calendar.tz) if clock.deadline else None,
        elapsed=max(elapsed, timedelta(0)),
        remaining=remaining,
        paused=clock.status == PAUSED,
        breached=breached,
        breached_at=clock.breached_at,
        stopped_at=clock.stopped_at if clock.status == STOPPED else None,
        warnings_sent=clock.warnings_sent,
        extensions=clock.extensions,
        tier=clock.tier,
        notes=notes,
    )
