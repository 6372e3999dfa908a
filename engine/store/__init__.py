"""Durable storage of cases, their audit log, timers and outbox (SQLAlchemy Core)."""

from engine.store.records import (
    CaseQuery,
    CaseRecord,
    ClockChange,
    ClockRecord,
    LogEntry,
    OutboxItem,
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
    "ClockChange",
    "ClockRecord",
    "DuplicateRequest",
    "LogEntry",
    "OutboxItem",
    "Store",
    "StoreError",
    "TimerRecord",
    "TimerTaken",
    "VersionConflict",
    "normalise_url",
]
