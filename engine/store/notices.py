"""What was said to a person lately: an estate's outbox rows for roles they hold, newest first.

The delivery feed (:mod:`engine.store.outbox`) hands an app what still waits for delivery,
and an app's acknowledgement takes a row off that list for good. A person at the console
asks something else — what was I told lately? — whether a webhook has delivered it yet or
not, and reading it must take nothing away from any app. So this reads every row of one
estate, delivered or waiting (not the dead ones, which nobody was told), newest first and
paged by row id, never marking anything. Rows are picked in SQL by their role — one of the
given roles, or none — so a page is not filled with what other roles were told; which
role-less rows a caller may see is the service's rule, applied to what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from engine.store.records import OutboxItem
from engine.store.schema import outbox
from engine.store.store import Store, records_of

#: The most rows one read returns.
MAX_NOTICES = 200


@dataclass(frozen=True)
class NoticeQuery:
    """Rows of ``estate`` for one of ``roles`` or for no role, with ids below ``before``
    (``None``: from the newest), at most ``limit`` of them."""

    estate: str
    roles: frozenset[str]
    before: int | None = None
    limit: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_NOTICES:
            raise ValueError(f"a read returns 1 to {MAX_NOTICES} rows, not {self.limit}")


def notices(store: Store, query: NoticeQuery) -> list[OutboxItem]:
    """The rows of the query, newest first."""
    statement = select(outbox).where(
        outbox.c.estate == query.estate,
        outbox.c.dead_at.is_(None),
        or_(outbox.c.role.in_(sorted(query.roles)), outbox.c.role.is_(None)),
    )
    if query.before is not None:
        statement = statement.where(outbox.c.id < query.before)
    rows = store.rows(statement.order_by(outbox.c.id.desc()).limit(query.limit))
    return records_of(OutboxItem, rows)
