"""The store's side of linked cases, schedules and quotas.

One event may now change several cases: the case it was fired on, the cases its ``open``
actions create and the linked cases its ``signal`` actions fire events on. All of them are
written by :func:`commit_cases` in one transaction, each existing case only if it is still at
the version it was read at, so a conflict on any of them writes nothing at all. The same
transaction claims the timer that fired (exactly once, as
:meth:`~engine.store.store.Store.commit_event` does) or advances the schedules whose cases it
opens, with an optimistic check on each schedule's last period: two workers can never open a
period twice.

Every read takes an optional ``tx``: inside a transaction the engine holds (a batch of
timers), reads must go through it.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.store.records import (
    CaseRecord,
    CaseWrite,
    LinkRecord,
    OutboxItem,
    QuotaRow,
    ScheduleRow,
)
from engine.store.schema import (
    case_links,
    case_log,
    cases,
    definitions,
    quota_periods,
    schedules,
)
from engine.store.store import (
    Store,
    _update_case,
    record_of,
    row_values,
    write_refused,
)


class ScheduleTaken(Exception):
    """Another worker opened this schedule's period first (or the schedule was re-planned)."""


class QuotaTaken(Exception):
    """Another worker handled this quota's period first."""


@dataclass(frozen=True)
class ScheduleClaim:
    """Advance a schedule row from ``expected`` (its last period as read) to a new plan."""

    estate: str
    id: str
    expected: str | None
    spec: str
    last_period: str | None
    next_due: datetime | None


# Writing --------------------------------------------------------------------------------------


def commit_cases(
    store: Store,
    writes: Sequence[CaseWrite],
    links: Sequence[LinkRecord] = (),
    *,
    at: datetime,
    fired_timer: int | None = None,
    claims: Sequence[ScheduleClaim] = (),
    tx: Connection | None = None,
) -> None:
    """Write several cases (new ones and changed ones), their links, and the timer or
    schedules that caused them, all or nothing.

    Raises :class:`~engine.store.VersionConflict` when any existing case moved on since it
    was read, :class:`~engine.store.TimerTaken` / :class:`ScheduleTaken` when another worker
    was first, :class:`~engine.store.DuplicateRequest` for a concurrent request with the same
    idempotency key. With ``tx`` the writes go into the caller's transaction, in a savepoint.
    """
    try:
        if tx is None:
            with store.transaction() as connection:
                _write(store, connection, writes, links, at, fired_timer, claims)
        else:
            with tx.begin_nested():
                _write(store, tx, writes, links, at, fired_timer, claims)
    except IntegrityError as exc:
        raise write_refused(exc, writes[0].case.id if writes else "?") from exc


def _write(
    store: Store,
    tx: Connection,
    writes: Sequence[CaseWrite],
    links: Sequence[LinkRecord],
    at: datetime,
    fired_timer: int | None,
    claims: Sequence[ScheduleClaim],
) -> None:
    if fired_timer is not None:
        # The timer's own case comes first: claimed as commit_event claims it.
        first = writes[0]
        assert first.expected_version is not None
        store._claim(tx, first.case.id, first.expected_version, fired_timer, at)
    for claim in claims:
        _claim_schedule(tx, claim, at)
    new = [write.case for write in writes if write.expected_version is None]
    if new:
        tx.execute(insert(cases), [row_values(case, cases) for case in new])
    for write in writes:
        if write.expected_version is not None:
            _update_case(tx, write.case, write.expected_version)
    for write in writes:
        store._append(tx, write.entries, write.items)
        store._apply_clocks(tx, write.clocks, write.case.updated_at)
    if links:
        tx.execute(
            insert(case_links),
            [
                {
                    "parent_id": link.parent_id,
                    "child_id": link.child_id,
                    "kind": link.kind,
                    "created_at": link.created_at,
                    "seq": seq,
                }
                for seq, link in enumerate(links)
            ],
        )


def _claim_schedule(tx: Connection, claim: ScheduleClaim, at: datetime) -> None:
    statement = _CLAIM_FIRST if claim.expected is None else _CLAIM_NEXT
    result = tx.execute(
        statement,
        {
            "b_estate": claim.estate,
            "b_id": claim.id,
            "b_spec": claim.spec,
            "b_expected": claim.expected,
            "next_due": claim.next_due,
            "last_period": claim.last_period,
            "updated_at": at,
        },
    )
    if result.rowcount != 1:
        raise ScheduleTaken(claim.id)


# Constant statements with parameters: compiled once and cached by SQLAlchemy.
_SCHEDULE_ROW = (
    (schedules.c.estate == bindparam("b_estate"))
    & (schedules.c.id == bindparam("b_id"))
    & (schedules.c.spec == bindparam("b_spec"))
)
_CLAIM_FIRST = update(schedules).where(_SCHEDULE_ROW, schedules.c.last_period.is_(None))
_CLAIM_NEXT = update(schedules).where(
    _SCHEDULE_ROW, schedules.c.last_period == bindparam("b_expected")
)


def save_definition_in(
    tx: Connection, version: str, process: str, content: Mapping[str, Any], at: datetime
) -> None:
    """Keep a definition's source by version, inside the caller's transaction (once)."""
    found = tx.execute(select(definitions.c.version).where(definitions.c.version == version))
    if found.first() is None:
        tx.execute(
            insert(definitions).values(
                version=version, process=process, content=dict(content), created_at=at
            )
        )


def commit_outbox(
    store: Store,
    items: Sequence[OutboxItem],
    quota: tuple[QuotaRow, QuotaRow],
    at: datetime,
) -> None:
    """Write a quota's outbox rows and advance its row from ``quota[0]`` to ``quota[1]``,
    only if no other worker advanced it first (else :class:`QuotaTaken`)."""
    old, new = quota
    with store.transaction() as tx:
        row = quota_periods.c
        result = tx.execute(
            update(quota_periods)
            .where(
                row.estate == old.estate,
                row.id == old.id,
                row.period == old.period,
                row.stage == old.stage,
                row.spec == old.spec,
            )
            .values(period=new.period, stage=new.stage, next_due=new.next_due, updated_at=at)
        )
        if result.rowcount != 1:
            raise QuotaTaken(old.id)
        store._append(tx, (), items)


# Reading --------------------------------------------------------------------------------------


def links_of(store: Store, case_id: str, tx: Connection | None = None) -> list[LinkRecord]:
    """Every link with this case at either end, oldest first."""
    link = case_links.c
    found = store._rows(
        select(case_links)
        .where(or_(link.parent_id == case_id, link.child_id == case_id))
        .order_by(link.created_at, link.seq),
        tx,
    )
    return [LinkRecord(row.parent_id, row.child_id, row.kind, row.created_at) for row in found]


def linked_cases(
    store: Store, case_id: str, to: str, tx: Connection | None = None
) -> list[CaseRecord]:
    """The case's ``parent`` (a list of at most one), ``children`` or ``related`` cases,
    oldest link first."""
    query = _LINKED.get(to, _LINKED["related"])
    rows = store._rows(query, tx, {"b_case": case_id})
    return [record_of(CaseRecord, row._mapping) for row in rows]


def _linked_query(to: str) -> Select[Any]:
    """The cases linked to case ``b_case`` as ``to`` says (see :func:`linked_cases`)."""
    link = case_links.c
    case_id = bindparam("b_case", type_=String)
    other: Any
    if to == "children":
        condition = (link.parent_id == case_id) & (link.kind == "child")
        other = link.child_id
    elif to == "parent":
        condition = (link.child_id == case_id) & (link.kind == "child")
        other = link.parent_id
    else:
        condition = (link.kind == "related") & (
            (link.parent_id == case_id) | (link.child_id == case_id)
        )
        other = func.coalesce(
            func.nullif(link.parent_id, case_id), func.nullif(link.child_id, case_id)
        )
    return (
        select(cases)
        .join(case_links, cases.c.id == other)
        .where(condition)
        .order_by(link.created_at, link.seq)
    )


#: The queries of :func:`linked_cases`, built once.
_LINKED = {to: _linked_query(to) for to in ("children", "parent", "related")}


# Schedules ------------------------------------------------------------------------------------


def schedule_rows(store: Store, estate: str) -> dict[str, ScheduleRow]:
    """Every schedule row of an estate, by schedule id."""
    found = store._rows(select(schedules).where(schedules.c.estate == estate))
    return {row.id: _schedule_row(row) for row in found}


#: Rows :func:`open_cases` fetches at a time.
_OPEN_CASES_CHUNK = 200


def open_cases(store: Store, estate: str, process: str) -> Generator[CaseRecord, None, None]:
    """The estate's open cases of ``process``, read in chunks (a schedule's ``while`` stops
    as soon as it has seen enough, so a busy estate's cases are not all loaded)."""
    query = (
        select(cases)
        .where(cases.c.estate == estate, cases.c.process == process, cases.c.closed_at.is_(None))
        .order_by(cases.c.opened_at, cases.c.id)
        .execution_options(yield_per=_OPEN_CASES_CHUNK)
    )
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            yield record_of(CaseRecord, row._mapping)


def due_schedules(store: Store, estate: str, now: datetime, limit: int) -> list[ScheduleRow]:
    """Schedule rows of an estate due by ``now``, soonest first."""
    row = schedules.c
    query = (
        select(schedules)
        .where(row.estate == estate, row.next_due.is_not(None), row.next_due <= now)
        .order_by(row.next_due, row.id)
        .limit(limit)
    )
    return [_schedule_row(found) for found in store._rows(query)]


def plan_schedule(
    store: Store, planned: ScheduleRow, old: ScheduleRow | None, at: datetime
) -> bool:
    """Insert a schedule's row (``old`` is ``None``) or re-plan it for a changed definition
    (only if it is still ``old``); whether this call wrote it (another engine may have)."""
    values = {
        "next_due": planned.next_due,
        "last_period": planned.last_period,
        "spec": planned.spec,
        "updated_at": at,
    }
    try:
        with store.transaction() as tx:
            if old is None:
                tx.execute(insert(schedules).values(estate=planned.estate, id=planned.id, **values))
                return True
            row = schedules.c
            result = tx.execute(
                update(schedules)
                .where(row.estate == old.estate, row.id == old.id, row.spec == old.spec)
                .values(**values)
            )
            return bool(result.rowcount == 1)
    except IntegrityError:
        return False


def add_schedules(store: Store, rows: Sequence[ScheduleRow], at: datetime) -> bool:
    """Insert the rows of schedules seen for the first time, in one transaction; ``False``
    (nothing written) if another engine inserted one of them first."""
    values = [
        {
            "estate": row.estate,
            "id": row.id,
            "next_due": row.next_due,
            "last_period": row.last_period,
            "spec": row.spec,
            "updated_at": at,
        }
        for row in rows
    ]
    try:
        with store.transaction() as tx:
            tx.execute(insert(schedules), values)
    except IntegrityError:
        return False
    return True


def _schedule_row(row: Any) -> ScheduleRow:
    return ScheduleRow(row.estate, row.id, row.next_due, row.last_period, row.spec)


# Quotas ---------------------------------------------------------------------------------------


def quota_rows(store: Store, estate: str) -> dict[str, QuotaRow]:
    """Every quota row of an estate, by quota id."""
    found = store._rows(select(quota_periods).where(quota_periods.c.estate == estate))
    return {row.id: _quota_row(row) for row in found}


def plan_quota(store: Store, planned: QuotaRow, old: QuotaRow | None, at: datetime) -> bool:
    """Insert a quota's row, or re-plan it for a changed definition (if still ``old``)."""
    values = {
        "period": planned.period,
        "stage": planned.stage,
        "next_due": planned.next_due,
        "spec": planned.spec,
        "updated_at": at,
    }
    try:
        with store.transaction() as tx:
            if old is None:
                tx.execute(
                    insert(quota_periods).values(estate=planned.estate, id=planned.id, **values)
                )
                return True
            row = quota_periods.c
            result = tx.execute(
                update(quota_periods)
                .where(row.estate == old.estate, row.id == old.id, row.spec == old.spec)
                .values(**values)
            )
            return bool(result.rowcount == 1)
    except IntegrityError:
        return False


def count_events(
    store: Store,
    estate: str,
    role: str,
    start: datetime,
    end: datetime,
    *,
    events: Sequence[str] | None,
    process: str | None,
) -> dict[str, int]:
    """Log entries recorded under ``role`` from ``start`` to ``end`` (excluded), per actor:
    only the given ``events`` (all when ``None``), on cases of ``process`` (any when
    ``None``) of the estate."""
    log = case_log.c
    query = (
        select(log.actor_id, func.count())
        .join(cases, cases.c.id == log.case_id)
        .where(cases.c.estate == estate, log.role == role, log.at >= start, log.at < end)
        .group_by(log.actor_id)
    )
    if events is not None:
        query = query.where(log.event.in_(list(events)))
    if process is not None:
        query = query.where(cases.c.process == process)
    return {str(actor): int(count) for actor, count in store._rows(query)}


def _quota_row(row: Any) -> QuotaRow:
    return QuotaRow(row.estate, row.id, row.period, row.stage, row.next_due, row.spec)
