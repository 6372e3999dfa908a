"""Delivering the outbox: claiming rows with a lease, settling attempts, reading by cursor.

A row is delivered at least once, even when the delivering process is killed: a deliverer
first *claims* rows (sets ``lease_owner`` and ``lease_until`` in a transaction of its own),
then sends them, then *settles* each one — delivered, or failed with the time of its next
attempt, or dead after its last. A row whose lease ran out unsettled (its deliverer died)
is claimed again. On PostgreSQL several deliverers claim at once without waiting for each
other (``FOR UPDATE SKIP LOCKED``, as the timers are claimed); SQLite has one writer at a
time, and the claim is its transaction.

Apps that poll read an estate's waiting rows after a cursor (the last row id they saw) and
acknowledge the ones they handled, which marks them delivered.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update

from engine.store.records import OutboxItem
from engine.store.schema import outbox
from engine.store.store import Store, records_of


@dataclass(frozen=True)
class Route:
    """Which rows a deliverer takes: an estate's, of these kinds (``None``: of every kind)."""

    estate: str
    kinds: frozenset[str] | None = None


_WAITING = and_(outbox.c.delivered_at.is_(None), outbox.c.dead_at.is_(None))


def _routed(routes: Sequence[Route]) -> ColumnElement[bool]:
    clauses = [
        outbox.c.estate == route.estate
        if route.kinds is None
        else and_(outbox.c.estate == route.estate, outbox.c.kind.in_(sorted(route.kinds)))
        for route in routes
    ]
    return or_(*clauses) if clauses else false()


def claim(
    store: Store,
    routes: Sequence[Route],
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[OutboxItem]:
    """Lease up to ``limit`` waiting rows of ``routes`` to ``owner`` until ``lease_until``,
    oldest first: rows due for an attempt by ``now`` that nobody holds (or whose holder's
    lease ran out). The lease is committed before this returns, so the rows are the
    caller's until then whatever other deliverers do."""
    query = (
        select(outbox)
        .where(
            _WAITING,
            _routed(routes),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            or_(outbox.c.lease_until.is_(None), outbox.c.lease_until <= now),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with store.transaction() as tx:
        rows = tx.execute(query).mappings().all()
        ids = [row["id"] for row in rows]
        if ids:
            tx.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(lease_owner=owner, lease_until=lease_until)
            )
    return records_of(OutboxItem, rows)


def settle_delivered(store: Store, item_id: int, now: datetime) -> None:
    """Mark a row delivered (once: a row delivered twice, by a deliverer whose lease ran
    out and the one that claimed it next, keeps the first time)."""
    with store.transaction() as tx:
        tx.execute(
            update(outbox)
            .where(outbox.c.id == item_id, outbox.c.delivered_at.is_(None))
            .values(delivered_at=now, lease_owner=None, lease_until=None, last_error=None)
        )


def settle_failed(
    store: Store,
    item: OutboxItem,
    *,
    owner: str,
    error: str,
    retry_at: datetime | None,
    now: datetime,
) -> None:
    """Record a failed attempt of a row ``owner`` holds: the next attempt at ``retry_at``,
    or, with ``None``, the row is dead (kept, listed, never tried again). A row whose lease
    another deliverer has taken since is theirs to settle: left alone."""
    assert item.id is not None
    with store.transaction() as tx:
        tx.execute(
            update(outbox)
            .where(outbox.c.id == item.id, outbox.c.lease_owner == owner, _WAITING)
            .values(
                attempts=item.attempts + 1,
                next_attempt_at=retry_at,
                last_error=error,
                dead_at=now if retry_at is None else None,
                lease_owner=None,
                lease_until=None,
            )
        )


def waiting(
    store: Store,
    estate: str | None = None,
    *,
    after: int = 0,
    limit: int = 100,
    ids: Collection[int] | None = None,
) -> list[OutboxItem]:
    """Rows not yet delivered nor dead, oldest first, with ids after ``after`` (of one
    estate, and among ``ids``, if given)."""
    query = select(outbox).where(_WAITING, outbox.c.id > after)
    if estate is not None:
        query = query.where(outbox.c.estate == estate)
    if ids is not None:
        query = query.where(outbox.c.id.in_(sorted(ids)))
    rows = store.rows(query.order_by(outbox.c.id).limit(limit))
    return records_of(OutboxItem, rows)


def backlog(store: Store, estate: str | None = None) -> int:
    """How many rows wait for delivery (of one estate, if given)."""
    query = select(func.count().label("waiting")).select_from(outbox).where(_WAITING)
    if estate is not None:
        query = query.where(outbox.c.estate == estate)
    return int(store.rows(query)[0]["waiting"])


def dead(
    store: Store, estate: str | None = None, *, after: int = 0, limit: int = 100
) -> list[OutboxItem]:
    """Rows given up on after their last failed attempt, oldest first, with ids after
    ``after`` (of one estate, if given)."""
    query = select(outbox).where(
        outbox.c.dead_at.is_not(None), outbox.c.delivered_at.is_(None), outbox.c.id > after
    )
    if estate is not None:
        query = query.where(outbox.c.estate == estate)
    rows = store.rows(query.order_by(outbox.c.id).limit(limit))
    return records_of(OutboxItem, rows)


def acknowledge(store: Store, estate: str, ids: Collection[int], now: datetime) -> list[int]:
    """Mark rows of ``estate`` delivered; the ids this call marked (others were already
    delivered, or are not the estate's: an estate can never acknowledge another's rows)."""
    if not ids:
        return []
    condition = and_(outbox.c.id.in_(sorted(ids)), outbox.c.estate == estate, _WAITING)
    with store.transaction() as tx:
        marked = [row[0] for row in tx.execute(select(outbox.c.id).where(condition))]
        if marked:
            tx.execute(
                update(outbox)
                .where(outbox.c.id.in_(marked))
                .values(delivered_at=now, lease_owner=None, lease_until=None)
            )
    return sorted(marked)
