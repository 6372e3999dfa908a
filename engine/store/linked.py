"""The store's side of linked cases, schedules and quotas: their reads, and the plans of
schedules and quotas.

Their writes go through :meth:`~engine.store.Store.commit` with the cases they concern: the
links of the cases an event opens, the schedule rows advanced by the cases they open, the
quota rows advanced by the notices they write.

Every read of a case takes an optional ``tx``: inside a transaction the engine holds (an
event, a batch of timers), reads must go through it.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.store.records import CaseRecord, LinkRecord, QuotaRow, ScheduleRow
from engine.store.schema import case_links, case_log, cases, quota_periods, schedules
from engine.store.store import Store, record_of, records_of

# Reading --------------------------------------------------------------------------------------


def links_of(store: Store, case_id: str, tx: Connection | None = None) -> list[LinkRecord]:
    """Every link with this case at either end, oldest first."""
    link = case_links.c
    found = store.rows(
        select(case_links)
        .where(or_(link.parent_id == case_id, link.child_id == case_id))
        .order_by(link.created_at, link.seq),
        tx=tx,
    )
    return records_of(LinkRecord, found)


def linked_cases(
    store: Store, case_id: str, to: str, tx: Connection | None = None
) -> list[CaseRecord]:
    """The case's ``parent`` (a list of at most one), ``children`` or ``related`` cases,
    oldest link first."""
    query = _LINKED.get(to, _LINKED["related"])
    rows = store.rows(query, {"b_case": case_id}, tx=tx)
    return records_of(CaseRecord, rows)


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
    found = store.rows(select(schedules).where(schedules.c.estate == estate))
    return {record.id: record for record in records_of(ScheduleRow, found)}


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
        for row in connection.execute(query).mappings():
            yield record_of(CaseRecord, row)


def due_schedules(store: Store, estate: str, now: datetime, limit: int) -> list[ScheduleRow]:
    """Schedule rows of an estate due by ``now``, soonest first."""
    row = schedules.c
    query = (
        select(schedules)
        .where(row.estate == estate, row.next_due.is_not(None), row.next_due <= now)
        .order_by(row.next_due, row.id)
        .limit(limit)
    )
    return records_of(ScheduleRow, store.rows(query))


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


# Quotas ---------------------------------------------------------------------------------------


def quota_rows(store: Store, estate: str) -> dict[str, QuotaRow]:
    """Every quota row of an estate, by quota id."""
    found = store.rows(select(quota_periods).where(quota_periods.c.estate == estate))
    return {record.id: record for record in records_of(QuotaRow, found)}


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
        select(log.actor_id, func.count().label("count"))
        .join(cases, cases.c.id == log.case_id)
        .where(cases.c.estate == estate, log.role == role, log.at >= start, log.at < end)
        .group_by(log.actor_id)
    )
    if events is not None:
        query = query.where(log.event.in_(list(events)))
    if process is not None:
        query = query.where(cases.c.process == process)
    return {str(row["actor_id"]): int(row["count"]) for row in store.rows(query)}
