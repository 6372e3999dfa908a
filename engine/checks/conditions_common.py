"""The condition checks' shared work: every condition in the library with its scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from engine.checks.base import processes_by_id
from engine.checks.links_common import children_scope, link_graph
from engine.conditions import Condition, ConditionScope, FieldInfo, uses_linked_cases
from engine.io.library import Library, Located
from engine.io.yamlsource import JsonPath
from engine.model import ProcessDef


@dataclass(frozen=True)
class ConditionSite:
    """One ``if:`` in the library: its text, where it is, and the names it may use.

    ``guard`` is the condition as parsed when the definition was built, ``None`` if its
    text does not parse (PF110 parses it again for the error).
    """

    text: str
    guard: Condition | None
    located: Located[Any]
    path: JsonPath
    scope: ConditionScope


def scope_of(process: ProcessDef) -> ConditionScope:
    """The names a condition of this process may use: its fields, roles and states."""
    return ConditionScope(
        fields={
            fid: FieldInfo(type=f.type, values=tuple(f.values)) for fid, f in process.fields.items()
        },
        roles=process.role_ids,
        states=frozenset(process.states),
    )


def condition_sites(library: Library) -> Iterator[ConditionSite]:
    """Every condition of every event, time limit, schedule and indicator whose process is
    known.

    An event's condition may also read the child cases (``children.*``, ``all(...)``) of the
    processes its process opens as children; a time limit's may not. A condition that reads
    child cases of a process too broken to load is left out: what it may name is unknown,
    and the broken file's own errors are what to fix first.
    """
    graph = link_graph(library)
    processes = processes_by_id(library)
    for located in library.processes:
        process = located.definition
        scope = replace(scope_of(process), children=children_scope(process, graph, processes))
        broken_children = bool(graph.children.get(process.id, set()) & library.broken_processes)
        for eid, event in process.events.items():
            if broken_children and event.guard is not None and uses_linked_cases(event.guard):
                continue
            if event.condition is not None:
                yield ConditionSite(
                    event.condition, event.guard, located, ("events", eid, "if"), scope
                )
    scopes: dict[str, ConditionScope] = {}
    for located_limit in library.time_limits:
        limit = located_limit.definition
        limit_process = processes.get(limit.process)
        if limit.condition is not None and limit_process is not None:
            if limit.process not in scopes:
                scopes[limit.process] = scope_of(limit_process)
            yield ConditionSite(
                limit.condition, limit.guard, located_limit, ("if",), scopes[limit.process]
            )
    for located_schedule in library.schedules:
        watched = located_schedule.definition.while_in_estate
        watched_process = processes.get(watched.process) if watched is not None else None
        if watched is not None and watched.condition is not None and watched_process:
            # Judged on each open case with no one acting: no actor role can match.
            scope = replace(scope_of(watched_process), roles=frozenset())
            yield ConditionSite(
                watched.condition, watched.guard, located_schedule, ("while", "if"), scope
            )
    for located_kpi in library.kpis:
        kpi = located_kpi.definition
        kpi_process = processes.get(kpi.process)
        if kpi_process is None:
            continue
        # Counted by a query, with no one acting: no actor role can match (PF530 refuses
        # the names a query cannot read).
        scope = replace(scope_of(kpi_process), roles=frozenset())
        for path, (text, guard) in kpi.conditions().items():
            yield ConditionSite(text, guard, located_kpi, path, scope)
    for located_pattern in library.patterns:
        match = located_pattern.definition.match
        pattern_process = processes.get(match.process)
        if match.condition is not None and pattern_process is not None:
            # Judged on the case's data at the entry, with no one acting (PF540).
            scope = replace(scope_of(pattern_process), roles=frozenset())
            yield ConditionSite(
                match.condition, match.guard, located_pattern, ("match", "if"), scope
            )
