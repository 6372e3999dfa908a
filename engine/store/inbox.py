"""The inbox: an estate's cases filtered the way a front desk asks, most urgent first.

"What must I do next?" — cases by state, process, assigned role (or none yet), whether a
time limit is breached or was warned about, and whether the nearest deadline falls before a
moment, sorted by that nearest deadline (cases with no running clock last), each row saying
whether a clock of the case stands paused (its deadline then means nothing until it
resumes). Everything is one SQL query (a case's nearest deadline is a correlated ``MIN``
over its running clocks, its pause a correlated ``EXISTS``), paged
by a keyset cursor on ``(nearest deadline, case id)``, so a page costs the same at the
first case as at the millionth and a case moving between pages is never shown twice.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from engine.sla.clocks import PAUSED, RUNNING, STOPPED, TimerKind
from engine.store.records import CaseRecord
from engine.store.schema import cases, sla_clocks, timers
from engine.store.store import Store, record_of


@dataclass(frozen=True)
class InboxCursor:
    """Where a page ended: the last case's nearest deadline and id."""

    deadline: datetime | None
    case_id: str

    def encode(self) -> str:
        """The cursor as opaque URL-safe text, for ``?after=``."""
        raw = json.dumps(
            [self.deadline.isoformat() if self.deadline else None, self.case_id]
        ).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> InboxCursor:
        """The cursor :meth:`encode` wrote; ``ValueError`` for any other text."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            deadline, case_id = json.loads(raw)
            moment = datetime.fromisoformat(deadline) if deadline is not None else None
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a cursor of this inbox: {text!r:.60}") from exc
        if not isinstance(case_id, str) or (moment is not None and moment.tzinfo is None):
            raise ValueError(f"not a cursor of this inbox: {text!r:.60}")
        return cls(moment, case_id)


@dataclass(frozen=True)
class InboxQuery:
    """Filters of the inbox; ``None`` means any.

    ``breached``: a clock of the case has breached and not stopped. ``warned``: a warning
    of a clock that has not stopped has been sent. ``due_before``: the nearest deadline of
    a running clock is before this moment. ``closed``: the case reached a final state.
    ``processes``: of these processes only (the ones a caller's roles may read); with
    ``parties``, also the cases of each ``(process, field)`` whose ``field`` is ``party``
    (a party role's own cases: the owner's repairs).
    ``unassigned``: only cases no role holds yet (``assignee`` then must be ``None``).
    """

    estate: str
    process: str | None = None
    state: str | None = None
    assignee: str | None = None
    breached: bool | None = None
    warned: bool | None = None
    due_before: datetime | None = None
    closed: bool | None = None
    after: InboxCursor | None = None
    limit: int = 50
    #: Only cases of these processes (``None``: of any).
    processes: tuple[str, ...] | None = None
    unassigned: bool = False
    parties: tuple[tuple[str, str], ...] = ()
    party: str | None = None

    def __post_init__(self) -> None:
        if self.unassigned and self.assignee is not None:
            raise ValueError("a case is either unassigned or assigned to a role, not both")


@dataclass(frozen=True)
class InboxRow:
    """A case of the inbox, the nearest deadline of its running clocks, and whether a clock
    of it is paused (waiting for the owner, say)."""

    case: CaseRecord
    next_deadline: datetime | None
    paused: bool = False


def inbox(store: Store, query: InboxQuery) -> list[InboxRow]:
    """One page of the inbox, nearest deadline first (then by case id)."""
    nearest = (
        select(func.min(sla_clocks.c.deadline))
        .where(sla_clocks.c.case_id == cases.c.id, sla_clocks.c.status == RUNNING)
        .scalar_subquery()
    )
    paused = exists().where(sla_clocks.c.case_id == cases.c.id, sla_clocks.c.status == PAUSED)
    conditions: list[ColumnElement[bool]] = [cases.c.estate == query.estate]
    equal = {cases.c.process: query.process, cases.c.state: query.state,
             cases.c.assignee: query.assignee}  # fmt: skip
    conditions += [column == value for column, value in equal.items() if value is not None]
    if query.unassigned:
        conditions.append(cases.c.assignee.is_(None))
    if query.processes is not None:
        own = [
            and_(cases.c.process == process, cases.c.data[field].as_string() == query.party)
            for process, field in query.parties
        ]
        conditions.append(or_(cases.c.process.in_(query.processes), *own))
    if query.closed is not None:
        conditions.append(
            cases.c.closed_at.isnot(None) if query.closed else cases.c.closed_at.is_(None)
        )
    if query.breached is not None:
        breached = exists().where(
            sla_clocks.c.case_id == cases.c.id,
            sla_clocks.c.breached_at.isnot(None),
            sla_clocks.c.status != STOPPED,
        )
        conditions.append(breached if query.breached else ~breached)
    if query.warned is not None:
        warned = exists().where(
            timers.c.case_id == cases.c.id,
            timers.c.kind == TimerKind.WARNING.value,
            timers.c.fired_at.isnot(None),
            sla_clocks.c.case_id == timers.c.case_id,
            sla_clocks.c.limit_id == timers.c.name,
            sla_clocks.c.status != STOPPED,
        )
        conditions.append(warned if query.warned else ~warned)
    inner = (
        select(cases, nearest.label("next_deadline"), paused.label("paused"))
        .where(*conditions)
        .subquery()
    )
    deadline = inner.c.next_deadline
    statement = select(inner)
    if query.due_before is not None:
        statement = statement.where(deadline < query.due_before)
    if query.after is not None:
        statement = statement.where(_after(deadline, inner.c.id, query.after))
    statement = statement.order_by(
        case((deadline.is_(None), 1), else_=0), deadline, inner.c.id
    ).limit(query.limit)
    return [
        InboxRow(record_of(CaseRecord, row), row["next_deadline"], bool(row["paused"]))
        for row in store.rows(statement)
    ]


def _after(
    deadline: ColumnElement[datetime], case_id: ColumnElement[str], cursor: InboxCursor
) -> ColumnElement[bool]:
    """Rows after the cursor in (deadline, nulls last; id) order."""
    if cursor.deadline is None:
        return and_(deadline.is_(None), case_id > cursor.case_id)
    return or_(
        deadline.is_(None),
        deadline > cursor.deadline,
        and_(deadline == cursor.deadline, case_id > cursor.case_id),
    )
