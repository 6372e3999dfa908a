"""The condition checks' shared work: every condition in the library with its scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.conditions import ConditionScope, FieldInfo
from engine.loading import Library, Located
from engine.model import ProcessDef
from engine.yamlsource import JsonPath


@dataclass(frozen=True)
class ConditionSite:
    """One ``if:`` in the library: its text, where it is, and the names it may use."""

    text: str
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
    """Every condition of every event and time limit whose process is known."""
    for located in library.processes:
        process = located.definition
        scope = scope_of(process)
        for eid, event in process.events.items():
            if event.condition is not None:
                yield ConditionSite(event.condition, located, ("events", eid, "if"), scope)
    for located_limit in library.time_limits:
        limit = located_limit.definition
        limit_process = library.process(limit.process)
        if limit.condition is not None and limit_process is not None:
            yield ConditionSite(limit.condition, located_limit, ("if",), scope_of(limit_process))
