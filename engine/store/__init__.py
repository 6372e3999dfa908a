"""Durable storage of cases, their audit log, timers and outbox (SQLAlchemy Core)."""

from engine.store.records import CaseQuery, CaseRecord, LogEntry, OutboxItem
from engine.store.store import (
    DuplicateRequest,
    Store,
    StoreError,
    VersionConflict,
    normalise_url,
)

__all__ = [
    "CaseQuery",
    "CaseRecord",
    "DuplicateRequest",
    "LogEntry",
    "OutboxItem",
    "Store",
    "StoreError",
    "VersionConflict",
    "normalise_url",
]
