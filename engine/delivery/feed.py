"""Pull: an estate's notifications for apps that poll, read after a cursor and acknowledged.

An app keeps the cursor of its last batch and asks for what came after it; what it handled
it acknowledges, which marks those rows delivered (so no webhook pushes them later, and
they leave the waiting list). Reading does not lock anything: two pollers with the same
cursor see the same rows, and acknowledging twice is harmless.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.delivery.notification import Notification
from engine.store import Store
from engine.store import outbox as stored

#: The most rows one read returns.
MAX_BATCH = 1000


@dataclass(frozen=True)
class NotificationBatch:
    """Waiting notifications in order, and the cursor to read after next time (the last
    one's id, or the cursor given when there are none)."""

    notifications: tuple[Notification, ...]
    cursor: int


class NotificationFeed:
    """The notifications of one estate waiting for delivery, oldest first."""

    def __init__(self, store: Store, estate: str) -> None:
        self.store = store
        self.estate = estate

    def read(self, after: int = 0, limit: int = 100) -> NotificationBatch:
        """Up to ``limit`` (1 to :data:`MAX_BATCH`) waiting notifications with ids after
        ``after`` (0: from the oldest)."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"a cursor is a whole number from 0, not {after!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} notifications, not {limit!r}")
        items = stored.waiting(self.store, self.estate, after=after, limit=limit)
        notifications = tuple(Notification.of(item) for item in items)
        return NotificationBatch(notifications, notifications[-1].id if notifications else after)

    def waiting(self, ids: Collection[int]) -> tuple[Notification, ...]:
        """Those of these notifications of the estate that still wait, oldest first."""
        if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise ValueError("notification ids are whole numbers")
        items = stored.waiting(self.store, self.estate, ids=ids, limit=len(ids))
        return tuple(Notification.of(item) for item in items)

    def acknowledge(self, ids: Collection[int], now: datetime | None = None) -> list[int]:
        """Mark these notifications of the estate delivered; the ids this call marked
        (an id already acknowledged, or of another estate, is left out)."""
        if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
            raise ValueError("notification ids are whole numbers")
        return stored.acknowledge(self.store, self.estate, ids, now or datetime.now(UTC))
