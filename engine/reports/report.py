"""A report: every indicator of an estate over a period, with what the HTML charts draw.

The indicators, each with its history over the last 12 of its own periods (for the chart of
value against target), the breaches decided in the period by time limit and tier, and the
per-person table (each indicator's counts by the person who last acted on the case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from engine.io.library import Library
from engine.model import KpiDef, ProcessDef
from engine.reports.indicators import Counts, GroupBy, IndicatorResult, compute
from engine.reports.periods import Period, periods_up_to
from engine.store import Store
from engine.store.schema import cases, sla_clocks

#: How many periods the history of each indicator covers.
HISTORY = 12


@dataclass(frozen=True)
class Report:
    """Everything ``propflow report`` prints for one estate and period."""

    estate: str
    period: Period
    results: tuple[IndicatorResult, ...]
    by: GroupBy | None = None
    history: dict[str, tuple[tuple[str, Counts], ...]] | None = None
    breaches: tuple[tuple[str, int, int], ...] = ()
    people: dict[str, dict[str, Counts]] | None = None


def indicators_of(library: Library) -> list[tuple[KpiDef, ProcessDef]]:
    """The library's indicators whose process it has, in load order."""
    found: list[tuple[KpiDef, ProcessDef]] = []
    for located in library.kpis:
        process = library.process(located.definition.process)
        if process is not None:
            found.append((located.definition, process))
    return found


def build_report(
    store: Store,
    library: Library,
    estate: str,
    timezone: str,
    period: Period,
    by: GroupBy | None = None,
    *,
    charts: bool = False,
) -> Report:
    """Compute every indicator of ``library`` for ``estate`` over ``period``; with
    ``charts``, also the history, the breaches and the per-person table the HTML draws."""
    indicators = indicators_of(library)
    results = tuple(compute(store, estate, kpi, process, period, by) for kpi, process in indicators)
    if not charts:
        return Report(estate, period, results, by)
    history: dict[str, tuple[tuple[str, Counts], ...]] = {}
    people: dict[str, dict[str, Counts]] = {}
    for kpi, process in indicators:
        periods = periods_up_to(kpi.period, period, HISTORY, timezone)
        history[kpi.id] = tuple(
            (each.name, compute(store, estate, kpi, process, each).counts) for each in periods
        )
        people[kpi.id] = dict(compute(store, estate, kpi, process, period, "assignee").groups)
    return Report(estate, period, results, by, history, breaches(store, estate, period), people)


def breaches(store: Store, estate: str, period: Period) -> tuple[tuple[str, int, int], ...]:
    """(time limit, tier reached, clocks) for the clocks of ``estate`` that breached in
    ``period``."""
    clock = sla_clocks.c
    query: Any = (
        select(clock.limit_id, clock.tier, func.count().label("n"))
        .select_from(sla_clocks.join(cases, cases.c.id == clock.case_id))
        .where(
            cases.c.estate == estate,
            and_(clock.breached_at >= period.start, clock.breached_at < period.end),
        )
        .group_by(clock.limit_id, clock.tier)
        .order_by(clock.limit_id, clock.tier)
    )
    return tuple((r["limit_id"], int(r["tier"]), int(r["n"])) for r in store.rows(query))
