"""Durable storage of cases, their audit log, timers and outbox (SQLAlchemy Core)."""

from engine.store.linked import QuotaTaken, ScheduleTaken
from engine.store.records import (
    CaseQuery,
    CaseRecord,
    CaseWrite,
    ClockChange,
    ClockRecord,
    LinkRecord,
    LogEntry,
    OutboxItem,
    QuotaRow,
    ScheduleRow,
    TimerRecord,
)
from engine.store.store import (
    DuplicateRequest,
    Store,
    StoreError,
    TimerTaken,
    VersionConflict,
    normalise_url,
)

__all__ = [
    "CaseQuery",
    "CaseRecord",
    "CaseWrite",
    "ClockChange",
    "ClockRecord",
    "DuplicateRequest",
    "LinkRecord",
    "LogEntry",
    "OutboxItem",
    "QuotaRow",
    "QuotaTaken",
    "ScheduleRow",
    "ScheduleTaken",
    "Store",
    "StoreError",
    "TimerRecord",
    "TimerTaken",
    "VersionConflict",
    "normalise_url",
]
