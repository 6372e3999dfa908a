"""The records of a time limit's clock: its row, its plan and its timers.

Plain values with no database in them: the planner computes them and the store persists
them, so they sit below both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


class TimerKind(StrEnum):
    """What a clock's timer does when it fires (also the kind of the plan item it was made
    from, and the first part of the log entry's event, ``breach:repair-24h``)."""

    WARNING = "warning"
    BREACH = "breach"
    TIER = "tier"
    #: A recurring limit's next reminder.
    DUE = "due"


@dataclass(frozen=True, slots=True)
class PlanItem:
    """Something a clock has yet to do: its ``index``-th warning or tier, its breach (index
    0) or its ``index``-th reminder, due at ``due``."""

    kind: TimerKind
    index: int
    due: datetime

    def to_json(self) -> dict[str, Any]:
        """The item as the ``sla_clocks.plan`` column keeps it."""
        return {"kind": self.kind.value, "index": self.index, "due": self.due.isoformat()}

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> PlanItem:
        """An item as :meth:`to_json` wrote it."""
        return cls(TimerKind(item["kind"]), int(item["index"]), datetime.fromisoformat(item["due"]))


@dataclass(frozen=True)
class ClockRecord:
    """An ``sla_clocks`` row: one time limit's clock on one case.

    ``status`` is ``running``, ``paused`` or ``stopped``; a breach does not stop a clock
    (``breached_at`` records it), so the eventual stop still says how late the work was.
    """

    case_id: str
    limit_id: str
    status: str
    started_at: datetime
    deadline: datetime | None
    paused_at: datetime | None = None
    breached_at: datetime | None = None
    stopped_at: datetime | None = None
    tier: int = 0
    warnings_sent: tuple[str, ...] = ()
    extensions: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    #: The stretches the clock stood still, ``(paused, resumed)``: the time it ran excludes
    #: them.
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    #: What the clock has yet to do, kept while it is paused (when it has no timers) so
    #: resuming can shift each item by the time it stood still.
    plan: tuple[PlanItem, ...] = ()


@dataclass(frozen=True)
class TimerRecord:
    """A ``timers`` row: something due at a moment (a breach, a warning, a tier, a reminder).

    ``kind`` is a :class:`TimerKind`'s value (the store reads it back as text).
    """

    case_id: str
    kind: str
    name: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    fired_at: datetime | None = None


class ClockChange(NamedTuple):
    """A clock's new row (or ``None`` to keep it) and the timers that replace its pending ones.

    ``timers=None`` leaves the pending timers alone; a tuple (possibly empty) replaces them.
    A named tuple: most events make several.
    """

    case_id: str
    limit_id: str
    clock: ClockRecord | None
    timers: tuple[TimerRecord, ...] | None
