"""Linked-case data (PF502): the ``data`` of an ``open`` or ``signal`` action does not fit.

The keys of ``data`` are fields of the other process (the one opened or signalled); each
value is a literal suited to that field's type, ``=FIELD`` naming a field of this process
whose type the other field can hold, or ``=item`` inside ``each``. An ``open`` must also give
every required field of the new case that has no default, or the case could never be opened;
a ``signal``'s data must be fields its event may fill in (``requires``/``accepts``), or the
signalled event would be refused every time.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, processes_by_id
from engine.checks.links_common import (
    LinkSite,
    data_problems,
    link_graph,
    link_sites,
    missing_required,
    signal_targets,
)
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Open, ProcessDef

CODE = "PF502"
NAME = "link-data"
SEVERITY = Severity.ERROR


def source_refs(source: ProcessDef, each: str | None) -> dict[str, tuple[str, str, str]]:
    """What ``=NAME`` may name in a link's data: the source's fields, and ``item``."""
    refs: dict[str, tuple[str, str, str]] = {
        fid: (f.type, f.items, say("PF502.source_field", field=fid, process=source.id))
        for fid, f in source.fields.items()
    }
    if each is not None and each in source.fields and source.fields[each].type == "list":
        items = source.fields[each].items
        refs["item"] = (items, "text", say("PF502.item", field=each, items=items))
    return refs


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    graph = link_graph(library)
    for site in link_sites(library):
        action = site.action
        if isinstance(action, Open):
            target = processes.get(action.process)
            if target is None:
                continue  # PF501
            refs = source_refs(site.source, action.each)
            for path, on_key, message in data_problems(action.data, target, refs):
                yield Finding(site.at("open", "data", *path, key=on_key), message)
            for name in missing_required(action.data, target):
                yield Finding(
                    site.at("open", key=True),
                    say("PF502.required", process=target.id, field=name),
                )
        else:
            yield from _signal(site, signal_targets(site, graph, processes))


def _signal(site: LinkSite, reached: list[ProcessDef]) -> Iterator[Finding]:
    action = site.action
    if not reached or isinstance(action, Open):
        return
    refs = source_refs(site.source, None)
    for key in action.data:
        events = [p.events[action.event] for p in reached if action.event in p.events]
        if events and not any(key in event.writable for event in events):
            yield Finding(
                site.at("signal", "data", key, key=True),
                say("PF502.not_taken", event=action.event, field=key),
            )
    for target in reached:
        if action.event not in target.events:
            continue
        for path, on_key, message in data_problems(action.data, target, refs):
            yield Finding(site.at("signal", "data", *path, key=on_key), message)
        break
