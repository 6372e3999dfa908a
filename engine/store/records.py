"""Plain records the store reads and writes; the runtime turns them into public types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The clock records belong to the time limits, which compute them; the store persists them.
from engine.sla.clocks import ClockChange as ClockChange
from engine.sla.clocks import ClockRecord as ClockRecord
from engine.sla.clocks import TimerRecord as TimerRecord


@dataclass(frozen=True)
class DefinitionRecord:
    """A ``definitions`` row: a definition version's process as written and its time limits
    (``None``: a version stored before they were kept with it)."""

    version: str
    process: str
    content: dict[str, Any]
    time_limits: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class CaseRecord:
    """A ``cases`` row."""

    id: str
    estate: str
    process: str
    definition_version: str
    state: str
    data: dict[str, Any]
    assignee: str | None
    version: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    @classmethod
    def blank(
        cls, case_id: str, estate: str, process: str, version: str, state: str, now: datetime
    ) -> CaseRecord:
        """A case about to be opened: in its initial ``state``, at version 0, no data yet
        (the opening event fills the form in)."""
        return cls(case_id, estate, process, version, state, {}, None, 0, now, now)


@dataclass(frozen=True)
class LogEntry:
    """A ``case_log`` row: one accepted event, with everything needed to replay it."""

    case_id: str
    version: int
    event: str
    actor_id: str
    role: str
    at: datetime
    from_state: str | None
    to_state: str
    payload: dict[str, Any]
    changes: dict[str, Any]
    assignee: str | None
    actions: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None
    seq: int | None = None


@dataclass(frozen=True)
class OutboxItem:
    """An ``outbox`` row: a notification (or other side effect) waiting for delivery.

    ``case_id`` is ``None`` for a row that belongs to no case (a quota's warning or breach).
    ``estate`` is the estate of the row's case, filled in by the store when the row is
    written with its case; a row of no case names it.
    """

    case_id: str | None
    kind: str
    role: str | None
    message: str | None
    payload: dict[str, Any]
    created_at: datetime
    id: int | None = None
    log_seq: int | None = None
    delivered_at: datetime | None = None
    #: The version of the log entry (of the same commit) whose action wrote the row; the
    #: store turns it into ``log_seq``. ``None``: the commit's last entry.
    log_version: int | None = None
    #: The estate of a row of no case (a case's rows are in its case's estate).
    estate: str | None = None
    #: Failed delivery attempts so far, and when the next may be made.
    attempts: int = 0
    next_attempt_at: datetime | None = None
    #: Why the last attempt failed.
    last_error: str | None = None
    #: When the row was given up on after its last failed attempt.
    dead_at: datetime | None = None


@dataclass(frozen=True)
class CaseQuery:
    """Filters for listing cases; ``None`` means any."""

    estate: str | None = None
    process: str | None = None
    state: str | None = None
    assignee: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    limit: int = 100


@dataclass(frozen=True)
class LinkRecord:
    """A ``case_links`` row: ``kind`` is ``child`` (parent → child) or ``related``."""

    parent_id: str
    child_id: str
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class CaseWrite:
    """One case's part of a :meth:`~engine.store.Store.commit`.

    ``expected_version`` is the version the case had when read (optimistic lock), or
    ``None`` for a case the commit creates. ``clocks_read`` is the case's clocks as they
    were read with the case, by time limit (empty for a new case), or ``None`` if not known:
    knowing them, the store writes only the clocks that changed and inserts new ones without
    trying an update first.
    """

    case: CaseRecord
    expected_version: int | None
    entries: tuple[LogEntry, ...] = ()
    items: tuple[OutboxItem, ...] = ()
    clocks: tuple[ClockChange, ...] = ()
    clocks_read: Mapping[str, ClockRecord] | None = None


@dataclass(frozen=True)
class ScheduleRow:
    """A ``schedules`` row: ``next_due`` is ``None`` once the schedule has ended."""

    estate: str
    id: str
    next_due: datetime | None
    last_period: str | None
    spec: str


@dataclass(frozen=True)
class QuotaRow:
    """A ``quota_periods`` row."""

    estate: str
    id: str
    period: str
    stage: str
    next_due: datetime
    spec: str


@dataclass(frozen=True)
class ScheduleClaim:
    """Advance a schedule row from ``expected`` (its last period as read) to a new plan."""

    estate: str
    id: str
    expected: str | None
    spec: str
    last_period: str | None
    next_due: datetime | None


@dataclass(frozen=True)
class QuotaClaim:
    """Advance a quota row from ``old`` (as read) to ``new``."""

    old: QuotaRow
    new: QuotaRow
