"""Indicator reference (PF530): an indicator names a process, state, event or time limit
that does not exist, mixes the parts of different units, or uses a name a report cannot read.

An indicator counts ``cases``, the ``clocks`` of the time limits in ``limits`` or the log
entries of the events in ``events``, all on cases of ``process``: the limits must be limits
of that process, the states of ``when`` and the events of ``when``, ``events`` and
``counts`` its states and events, or the count would stay at zero for ever. ``limits``
belongs to ``unit: clocks`` only, ``events`` to ``unit: events`` and ``when`` to
``unit: cases``. Its conditions are checked like any other (PF110–PF112) and are computed
by a query with no one acting, so they may read the case's fields and ``state`` but not
``actor.*``, ``payload.*`` or the child cases.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, kind_of, processes_by_id, undefined_process, unknown_ids
from engine.conditions import CHILDREN, Name, Quantified
from engine.conditions.ast import iter_nodes
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.model import KpiDef

CODE = "PF530"
NAME = "kpi-reference"
SEVERITY = Severity.ERROR

#: Which unit each unit-specific key belongs to.
_UNIT_OF_KEY = {"limits": "clocks", "events": "events", "when": "cases"}


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    limits_by_process: dict[str, list[str]] = {}
    for located_limit in library.time_limits:
        limit = located_limit.definition
        limits_by_process.setdefault(limit.process, []).append(limit.id)
    for located in library.kpis:
        kpi = located.definition
        process = processes.get(kpi.process)
        if process is None:
            if kpi.process not in library.broken_processes:
                yield Finding(
                    located.at("process"), undefined_process(kpi.process, list(processes))
                )
            continue
        yield from _unit_parts(located)
        limits = limits_by_process.get(process.id, [])
        limit_of = kind_of("time_limit", process)
        state_of, event_of = kind_of("state", process), kind_of("event", process)
        events = list(process.events)
        states = list(process.states)
        yield from unknown_ids(located, ("limits",), kpi.limits, limits, limit_of)
        yield from unknown_ids(located, ("events",), kpi.events, events, event_of)
        if kpi.when is not None:
            yield from unknown_ids(located, ("when", "enter"), kpi.when.enter, states, state_of)
            yield from unknown_ids(located, ("when", "event"), kpi.when.event, events, event_of)
        yield from unknown_ids(located, ("counts", "event"), kpi.counts.event, events, event_of)
        yield from unknown_ids(
            located, ("counts", "no_event"), kpi.counts.no_event, events, event_of
        )
        if kpi.unit == "clocks" and not kpi.limits:
            yield Finding(located.at("unit"), say("PF530.needs", unit="clocks", key="limits"))
        if kpi.unit == "events" and not kpi.events:
            yield Finding(located.at("unit"), say("PF530.needs", unit="events", key="events"))
        yield from _unreadable_names(located)


def _unit_parts(located: Located[KpiDef]) -> Iterator[Finding]:
    raw = located.raw if isinstance(located.raw, dict) else {}
    for key, unit in _UNIT_OF_KEY.items():
        if key in raw and located.definition.unit != unit:
            yield Finding(
                located.at(key, key=True),
                say("PF530.wrong_unit", key=key, unit=unit, this=located.definition.unit),
            )


def _unreadable_names(located: Located[KpiDef]) -> Iterator[Finding]:
    for path, (_text, guard) in located.definition.conditions().items():
        if guard is None:
            continue  # PF110 reports it
        for node in iter_nodes(guard.expr):
            if isinstance(node, Quantified) or (
                isinstance(node, Name) and node.path[0] in ("actor", "payload", CHILDREN)
            ):
                what = node.quantifier + "(...)" if isinstance(node, Quantified) else node.dotted
                span = located.source_map.locate_in_text((*located.base, *path), node.offset)
                yield Finding(
                    span,
                    say("PF530.unreadable", name=what),
                )
