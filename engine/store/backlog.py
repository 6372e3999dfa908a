"""What is waiting in the store: timers not yet fired and notifications not yet delivered.

Read by the service's metrics at each scrape, so an operator sees a worker falling behind
(due timers piling up, the oldest one's lag growing) before anyone's deadline is missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.store.schema import outbox, timers
from engine.store.store import Store


@dataclass(frozen=True)
class Backlog:
    """Counts of pending work at one moment."""

    #: Timers not yet fired, due or not.
    pending_timers: int
    #: Of those, the ones already due.
    due_timers: int
    #: When the oldest due timer fell due (``None``: none is due).
    oldest_due: datetime | None
    #: Outbox rows not yet delivered.
    outbox_pending: int


def backlog(store: Store, now: datetime) -> Backlog:
    """The store's pending timers and undelivered outbox rows at ``now``."""
    unfired = timers.c.fired_at.is_(None)
    due = unfired & (timers.c.due_at <= now)
    counts = store.rows(
        select(
            select(func.count()).where(unfired).scalar_subquery().label("pending"),
            select(func.count()).where(due).scalar_subquery().label("due"),
            select(func.min(timers.c.due_at)).where(due).scalar_subquery().label("oldest"),
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.delivered_at.is_(None))
            .scalar_subquery()
            .label("outbox"),
        )
    )[0]
    return Backlog(counts["pending"], counts["due"], counts["oldest"], counts["outbox"])
