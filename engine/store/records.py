"""Plain records the store reads and writes; the runtime turns them into public types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    """An ``outbox`` row: a notification (or other side effect) waiting for delivery."""

    case_id: str
    kind: str
    role: str | None
    message: str | None
    payload: dict[str, Any]
    created_at: datetime
    id: int | None = None
    log_seq: int | None = None
    delivered_at: datetime | None = None


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
