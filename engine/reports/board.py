"""The overdue board: what is breached now and what breaches within a few hours.

The list a service-desk supervisor opens every morning: every clock of the estate's open
cases that has not stopped and is breached, or whose deadline falls before ``now + within``,
grouped by the role holding the case, nearest deadline first. Paused clocks are left out
unless already breached: their deadline moves when they resume. One query; no case is
loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from engine.sla.clocks import PAUSED
from engine.store import Store
from engine.store.schema import cases, sla_clocks


@dataclass(frozen=True)
class BoardItem:
    """One clock on the board."""

    case_id: str
    process: str
    state: str
    role: str | None
    limit_id: str
    deadline: datetime
    breached: bool
    tier: int

    def due_in(self, now: datetime) -> timedelta:
        """How long until the deadline (negative: how long overdue)."""
        return self.deadline - now

    def overdue(self, now: datetime) -> bool:
        """Breached, or past its deadline with the breach not yet fired (no worker ran)."""
        return self.breached or self.deadline <= now


def overdue_board(
    store: Store, estate: str, now: datetime, within: timedelta
) -> dict[str, list[BoardItem]]:
    """The board of ``estate`` at ``now``: by role (``"—"`` for an unassigned case), each
    role's clocks nearest deadline first; roles in name order."""
    clock = sla_clocks.c
    query = (
        select(
            clock.case_id,
            cases.c.process,
            cases.c.state,
            cases.c.assignee,
            clock.limit_id,
            clock.deadline,
            clock.breached_at,
            clock.tier,
        )
        .select_from(sla_clocks.join(cases, cases.c.id == clock.case_id))
        .where(
            cases.c.estate == estate,
            cases.c.closed_at.is_(None),
            clock.stopped_at.is_(None),
            clock.deadline.is_not(None),
            or_(
                clock.breached_at.is_not(None),
                and_(clock.status != PAUSED, clock.deadline <= now + within),
            ),
        )
        .order_by(cases.c.assignee, clock.deadline, clock.case_id, clock.limit_id)
    )
    board: dict[str, list[BoardItem]] = {}
    for row in store.rows(query):
        item = BoardItem(
            row["case_id"],
            row["process"],
            row["state"],
            row["assignee"],
            row["limit_id"],
            row["deadline"],
            row["breached_at"] is not None,
            int(row["tier"]),
        )
        board.setdefault(item.role or "—", []).append(item)
    return dict(sorted(board.items()))
