"""What the link checks (PF501–PF505) and the condition checks share: every ``open`` and
``signal`` action with its place, the graph of which process opens which, the names a
condition may use about child cases, and the checking of a data mapping against a form."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.checks.base import (
    Finding,
    once_per_library,
    process_actions,
    processes_by_id,
    time_limit_actions,
)
from engine.checks.field_value import problem as value_problem
from engine.conditions import ConditionScope, FieldInfo
from engine.diagnostics import suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.io.yamlsource import JsonPath
from engine.model import FieldDef, Open, ProcessDef, Signal, reference

#: Field types whose values are text: any of them may be copied into a ``text`` field.
TEXT_TYPES = frozenset({"text", "enum", "phone"})


@dataclass(frozen=True)
class LinkSite:
    """One ``open`` or ``signal`` action: the file it is in, its path, the process it runs for.

    ``on_open`` is true for actions in the initial state's ``on_enter``: they run as soon as
    a case of ``source`` is opened, whatever happens next.
    """

    located: Located[Any]
    path: JsonPath
    action: Open | Signal
    source: ProcessDef
    on_open: bool

    def at(self, *more: str | int, key: bool = False) -> Any:
        """The span of a part of the action (``at("open", "process")``)."""
        return self.located.at(*self.path, *more, key=key)


@once_per_library
def link_sites(library: Library) -> list[LinkSite]:
    """Every ``open`` and ``signal`` action of the processes and of their time limits (the
    link checks and the condition checks all need them: found once per library)."""
    return list(_link_sites(library))


def _link_sites(library: Library) -> Iterator[LinkSite]:
    for located in library.processes:
        process = located.definition
        initial = set(process.initial_states)
        for path, action in process_actions(process):
            if isinstance(action, (Open, Signal)):
                on_open = path[0] == "states" and path[1] in initial and path[2] == "on_enter"
                yield LinkSite(located, path, action, process, on_open)
    processes = processes_by_id(library)
    for rule in library.time_limits:
        owner = processes.get(rule.definition.process)
        if owner is None:
            continue
        for path, action in time_limit_actions(rule.definition):
            if isinstance(action, (Open, Signal)):
                yield LinkSite(rule, path, action, owner, False)


@dataclass
class LinkGraph:
    """Which process opens which: as children, and as related cases (either direction)."""

    children: dict[str, set[str]]
    parents: dict[str, set[str]]
    related: dict[str, set[str]]

    def linked(self, source: str, to: str) -> set[str]:
        """The processes a case of ``source`` is linked to as its ``parent``, ``children``
        or ``related`` cases."""
        return {"parent": self.parents, "children": self.children, "related": self.related}[to].get(
            source, set()
        )


def link_graph(library: Library) -> LinkGraph:
    graph = LinkGraph({}, {}, {})
    for site in link_sites(library):
        action = site.action
        if not isinstance(action, Open):
            continue
        source, target = site.source.id, action.process
        if action.link == "child":
            graph.children.setdefault(source, set()).add(target)
            graph.parents.setdefault(target, set()).add(source)
        else:
            graph.related.setdefault(source, set()).add(target)
            graph.related.setdefault(target, set()).add(source)
    return graph


def signal_targets(
    site: LinkSite, graph: LinkGraph, processes: Mapping[str, ProcessDef]
) -> list[ProcessDef]:
    """The processes whose cases a ``signal`` action can reach, by its ``to``."""
    action = site.action
    assert isinstance(action, Signal)
    linked = graph.linked(site.source.id, action.to)
    return [processes[pid] for pid in sorted(linked) if pid in processes]


def scope_of_fields(process: ProcessDef) -> dict[str, FieldInfo]:
    return {
        fid: FieldInfo(type=f.type, values=tuple(f.values)) for fid, f in process.fields.items()
    }


def children_scope(
    process: ProcessDef, graph: LinkGraph, processes: Mapping[str, ProcessDef]
) -> ConditionScope | None:
    """The names of the child cases a process's conditions may use, or ``None`` if it opens
    none: the states and fields of every process it opens with ``link: child`` (a field
    declared by several keeps the first declaration)."""
    opened = [
        processes[pid] for pid in sorted(graph.children.get(process.id, ())) if pid in processes
    ]
    if not opened:
        return None
    fields: dict[str, FieldInfo] = {}
    states: set[str] = set()
    for child in opened:
        for fid, info in scope_of_fields(child).items():
            fields.setdefault(fid, info)
        states |= set(child.states)
    return ConditionScope(fields=fields, roles=frozenset(), states=frozenset(states))


def _fits(source: str, source_items: str, target: FieldDef) -> bool:
    """Whether a value of a field of type ``source`` can be stored in ``target``."""
    if target.type == "list":
        return source == "list" and (source_items == target.items or target.items == "text")
    if source == target.type:
        return True
    return target.type == "text" and source in TEXT_TYPES


def data_problems(
    data: Mapping[str, Any],
    target: ProcessDef,
    refs: Mapping[str, tuple[str, str, str]],
) -> Iterator[tuple[JsonPath, bool, str]]:
    """Problems of a data mapping for a case of ``target``: ``(path, on_key, message)``.

    ``refs`` names what ``=NAME`` may refer to: name → (type, list item type, how to call it
    in a message). Keys must be fields of ``target``; literals must suit their field;
    references must exist and have a type the field can hold.
    """
    for key, value in data.items():
        field = target.fields.get(key)
        if field is None:
            yield (
                (key,),
                True,
                say(
                    "PF502.no_field", process=target.id, field=key, hint=suggest(key, target.fields)
                ),
            )
            continue
        name = reference(value)
        if name is None:
            message = value_problem(field, value)
            if message is not None:
                yield (key,), False, message
            continue
        if name == "item" and name not in refs:
            yield (key,), False, say("PF502.item_without_each")
            continue
        if name not in refs:
            yield (
                (key,),
                False,
                say(
                    "PF502.refers_to_nothing",
                    name=name,
                    names=", ".join("=" + r for r in refs) or say("PF502.no_names"),
                    hint=suggest(name, list(refs)),
                ),
            )
            continue
        kind, items, what = refs[name]
        if not _fits(kind, items, field):
            shown = say("PF502.list_of", items=items) if kind == "list" else kind
            target_shown = (
                say("PF502.list_of", items=field.items) if field.type == "list" else field.type
            )
            yield (
                (key,),
                False,
                say(
                    "PF502.cannot_take",
                    field=key,
                    process=target.id,
                    type=target_shown,
                    what=what,
                    shown=shown,
                ),
            )


def missing_required(data: Mapping[str, Any], target: ProcessDef) -> list[str]:
    """Required fields of ``target`` (without a default) that ``data`` does not give."""
    return [
        fid
        for fid, field in target.fields.items()
        if field.required and field.default is None and fid not in data
    ]


def finding(site_located: Located[Any], path: JsonPath, on_key: bool, message: str) -> Finding:
    return Finding(site_located.at(*path, key=on_key), message)
