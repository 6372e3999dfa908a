"""Indicators computed by aggregate queries in the store: counts, never loaded cases.

Each indicator becomes one ``SELECT`` of what it counts (cases, clocks or log entries of
one estate's cases of its process, placed in the period), with the numerator as a
``CASE`` inside ``SUM`` and the optional breakdown as ``GROUP BY``; a second query lists
the cases that missed. Placing things in a period:

- a case by its first entry into a state or first firing of an event: an entry in the
  period and none before it (a complaint closed in March and, reopened, again in April
  counts in March only);
- a clock when it was decided: its breach if it breached (an extension granted in time
  leaves none), otherwise its stop; a paused clock is decided by the same two moments, the
  pause having moved its deadline; a clock still running unbreached is not decided yet;
- a log entry when it was recorded.

A case is counted under the definition version it was opened on, since the indicator reads
only what the store recorded (states, events, fields), which every version shares by id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)

from engine.model import FieldDef, KpiDef, ProcessDef, Target
from engine.reports.conditions import condition_sql
from engine.reports.periods import Period
from engine.store import Store
from engine.store.schema import case_log, cases, sla_clocks

GroupBy = Literal["process", "role", "assignee", "category"]
GROUP_BY: tuple[GroupBy, ...] = ("process", "role", "assignee", "category")

#: The most missed case ids a result lists (the counts are always complete).
MISSED_LIMIT = 500


@dataclass(frozen=True)
class Counts:
    """A numerator over a denominator, and the value in percent (``None``: nothing to count)."""

    numerator: int
    denominator: int

    @property
    def percent(self) -> Decimal | None:
        if self.denominator == 0:
            return None
        value = Decimal(self.numerator) * 100 / Decimal(self.denominator)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator over one period: its counts, whether the target was met, and the cases
    that missed (those outside the numerator for a ``>=`` target, inside it for ``<``)."""

    kpi: KpiDef
    period: Period
    counts: Counts
    missed: tuple[str, ...]
    groups: Mapping[str, Counts] = field(default_factory=dict)

    @property
    def target(self) -> Target:
        assert self.kpi.goal is not None, "a validated indicator has a readable target"
        return self.kpi.goal

    @property
    def missed_count(self) -> int:
        """How many counted items missed: outside the numerator for a ``>=`` target, inside
        it for ``<`` (the ids listed in :attr:`missed` stop at :data:`MISSED_LIMIT`)."""
        if self.target.higher_is_better:
            return self.counts.denominator - self.counts.numerator
        return self.counts.numerator

    @property
    def met(self) -> bool | None:
        """Whether the value meets the target; ``None`` when there was nothing to count."""
        percent = self.counts.percent
        return None if percent is None else self.target.met(percent)


@dataclass(frozen=True)
class _Counted:
    """The query parts of one indicator: what is counted, its numerator, its case id, and
    the columns a breakdown reads."""

    query: Select[Any]
    numerator: ColumnElement[bool]
    case_id: ColumnElement[Any]
    role: ColumnElement[Any]
    actor: ColumnElement[Any]


def compute(
    store: Store,
    estate: str,
    kpi: KpiDef,
    process: ProcessDef,
    period: Period,
    by: GroupBy | None = None,
) -> IndicatorResult:
    """``kpi`` for ``estate``'s cases over ``period``, broken down ``by`` if given."""
    counted = _counted(estate, kpi, process, period)
    numerator = func.coalesce(func.sum(case((counted.numerator, 1), else_=0)), 0)
    totals = counted.query.with_only_columns(func.count().label("n"), numerator.label("k"))
    row = store.rows(totals)[0]
    counts = Counts(int(row["k"]), int(row["n"]))
    missing = counted.numerator if not _higher_is_better(kpi) else ~counted.numerator
    missed_query = (
        counted.query.with_only_columns(counted.case_id.label("id"))
        .where(missing)
        .distinct()
        .order_by(counted.case_id)
        .limit(MISSED_LIMIT)
    )
    missed = tuple(str(r["id"]) for r in store.rows(missed_query))
    groups: dict[str, Counts] = {}
    if by is not None:
        key = _group_key(by, counted, process).label("key")
        grouped = (
            counted.query.with_only_columns(key, func.count().label("n"), numerator.label("k"))
            .group_by(key)
            .order_by(key)
        )
        for r in store.rows(grouped):
            groups[str(r["key"]) if r["key"] is not None else "—"] = Counts(
                int(r["k"]), int(r["n"])
            )
    return IndicatorResult(kpi, period, counts, missed, groups)


def opened(store: Store, estate: str, kpi: KpiDef, process: ProcessDef, period: Period) -> int:
    """How many of ``kpi``'s cases (its process, narrowed by its ``where``) ``estate`` opened
    in ``period``: what a summary reports as received, whatever moment the indicator places
    its cases by."""
    where = and_(
        cases.c.estate == estate, cases.c.process == kpi.process, _in(cases.c.opened_at, period)
    )
    if kpi.guard is not None:
        where = and_(where, condition_sql(kpi.guard, cases.c.data, cases.c.state, process.fields))
    query = select(func.count().label("n")).select_from(cases).where(where)
    return int(store.rows(query)[0]["n"])


def _higher_is_better(kpi: KpiDef) -> bool:
    return kpi.goal is None or kpi.goal.higher_is_better


def _group_key(by: GroupBy, counted: _Counted, process: ProcessDef) -> ColumnElement[Any]:
    if by == "process":
        return cases.c.process
    if by == "role":
        return counted.role
    if by == "assignee":
        return counted.actor
    if "category" in process.fields:
        category: ColumnElement[Any] = cases.c.data["category"].as_string()
        return category
    return literal(None)


def _in(column: ColumnElement[Any], period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _last_actor() -> ColumnElement[Any]:
    """The person who last acted on the case (not the engine itself)."""
    return (
        select(case_log.c.actor_id)
        .where(case_log.c.case_id == cases.c.id, case_log.c.role != "system")
        .order_by(case_log.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def _moment(kpi: KpiDef) -> ColumnElement[bool]:
    """Log entries that place a case (``kpi.when``), correlated to the case."""
    assert kpi.when is not None
    entry = case_log.c
    parts: list[ColumnElement[bool]] = []
    if kpi.when.enter:
        parts.append(
            and_(
                entry.to_state.in_(kpi.when.enter),
                or_(entry.from_state.is_(None), entry.from_state.not_in(kpi.when.enter)),
            )
        )
    if kpi.when.event:
        parts.append(entry.event.in_(kpi.when.event))
    return or_(*parts)


def _has_event(events: Sequence[str]) -> ColumnElement[bool]:
    return exists().where(case_log.c.case_id == cases.c.id, case_log.c.event.in_(events))


def _counted(estate: str, kpi: KpiDef, process: ProcessDef, period: Period) -> _Counted:
    fields: Mapping[str, FieldDef] = process.fields
    # Whatever places an item in the period also updated its case then (an event, a clock's
    # breach or stop): the estate's cases updated since the period began are the candidates,
    # so the cost follows the estate's recent cases, not the size of the store.
    of_estate = and_(
        cases.c.estate == estate,
        cases.c.process == kpi.process,
        cases.c.updated_at >= period.start,
    )
    if kpi.guard is not None:
        of_estate = and_(of_estate, condition_sql(kpi.guard, cases.c.data, cases.c.state, fields))
    numerator: ColumnElement[bool] = true()
    if kpi.counts.event:
        numerator = and_(numerator, _has_event(kpi.counts.event))
    if kpi.counts.no_event:
        numerator = and_(numerator, ~_has_event(kpi.counts.no_event))
    if kpi.unit == "clocks":
        clock = sla_clocks.c
        decided = or_(
            _in(clock.breached_at, period),
            and_(clock.breached_at.is_(None), _in(clock.stopped_at, period)),
        )
        query = (
            select(clock.case_id)
            .select_from(sla_clocks.join(cases, cases.c.id == clock.case_id))
            .where(clock.limit_id.in_(kpi.limits), decided, of_estate)
        )
        numerator = and_(numerator, clock.breached_at.is_(None))
        if kpi.counts.guard is not None:
            numerator = and_(
                numerator, condition_sql(kpi.counts.guard, cases.c.data, cases.c.state, fields)
            )
        return _Counted(query, numerator, clock.case_id, cases.c.assignee, _last_actor())
    if kpi.unit == "events":
        entry = case_log.c
        query = (
            select(entry.seq)
            .select_from(case_log.join(cases, cases.c.id == entry.case_id))
            .where(entry.event.in_(kpi.events), _in(entry.at, period), of_estate)
        )
        if kpi.counts.guard is not None:
            numerator = and_(
                numerator, condition_sql(kpi.counts.guard, entry.payload, cases.c.state, fields)
            )
        return _Counted(query, numerator, entry.case_id, entry.role, entry.actor_id)
    if kpi.when is None:
        placed = _in(cases.c.opened_at, period)
    else:
        moment = _moment(kpi)
        in_period = exists().where(
            case_log.c.case_id == cases.c.id, moment, _in(case_log.c.at, period)
        )
        earlier = exists().where(
            case_log.c.case_id == cases.c.id, moment, case_log.c.at < period.start
        )
        placed = and_(in_period, ~earlier)
    query = select(cases.c.id).where(of_estate, placed)
    if kpi.counts.guard is not None:
        numerator = and_(
            numerator, condition_sql(kpi.counts.guard, cases.c.data, cases.c.state, fields)
        )
    return _Counted(query, numerator, cases.c.id, cases.c.assignee, _last_actor())
