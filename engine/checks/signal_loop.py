"""Signal loop (PF506): linked cases signal each other in a circle.

A ``signal`` action fires an event on the case's parent, children or related cases, and
that event's own actions may signal back: `ping` on the parent signals `pong` to its
children, whose `pong` signals `ping` to the parent, and so on for ever. Following every
``signal`` (and the ``fire`` actions and state entries on the way) from event to event
along the links that ``open`` actions make, this check finds such circles. At run time an
event whose signals go round is refused and writes nothing; break the circle here, with
an event that does not signal back.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, process_actions
from engine.checks.links_common import link_sites
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.io.yamlsource import JsonPath
from engine.model import Action, Fire, Open, ProcessDef, Signal

CODE = "PF506"
NAME = "signal-loop"
SEVERITY = Severity.ERROR

#: An event of a process: (process id, event id).
Node = tuple[str, str]


def check(library: Library) -> Iterator[Finding]:
    processes = {located.definition.id: located for located in library.processes}
    linked = _linked_processes(library)
    edges: dict[Node, set[Node]] = {}
    #: Where each signal that links two events is: the first one found for the pair.
    signalled: dict[tuple[Node, Node], JsonPath] = {}
    if not any(isinstance(site.action, Signal) for site in link_sites(library)):
        return
    for pid, located in processes.items():
        process = located.definition
        for eid, actions in _actions_by_event(process).items():
            node = (pid, eid)
            for path, action in actions:
                if isinstance(action, Fire) and action.event in process.events:
                    edges.setdefault(node, set()).add((pid, action.event))
                elif isinstance(action, Signal):
                    for other in sorted(linked.get((pid, action.to), ())):
                        target = processes.get(other)  # an undefined one is PF501's
                        if target is not None and action.event in target.definition.events:
                            edges.setdefault(node, set()).add((other, action.event))
                            signalled.setdefault((node, (other, action.event)), path)
    reported: set[frozenset[Node]] = set()
    for (node, _), path in sorted(signalled.items()):
        circle = _circle(edges, node)
        if circle is None or frozenset(circle) in reported:
            continue
        steps = list(zip(circle, [*circle[1:], circle[0]], strict=True))
        if not any(step in signalled for step in steps):
            continue  # events of one case firing each other: the runtime's chain limit
        reported.add(frozenset(circle))
        chain = " → ".join(f"{p}.{e}" for p, e in [*circle, circle[0]])
        yield Finding(
            processes[node[0]].at(*path, "signal"),
            say("PF506.loop", chain=chain),
        )


def _actions_by_event(process: ProcessDef) -> dict[str, list[tuple[JsonPath, Action]]]:
    """For each event, the actions that run when it fires, with their paths: its own, the
    exit actions of the states it leaves and the entry actions of the state it enters."""
    own: dict[str, list[tuple[JsonPath, Action]]] = {}
    hooks: dict[tuple[str, str], list[tuple[JsonPath, Action]]] = {}
    for path, action in process_actions(process):
        if path[0] == "events":
            own.setdefault(str(path[1]), []).append((path, action))
        else:
            hooks.setdefault((str(path[1]), str(path[2])), []).append((path, action))
    found: dict[str, list[tuple[JsonPath, Action]]] = {}
    for eid, event in process.events.items():
        actions = list(own.get(eid, ()))
        for state in dict.fromkeys(event.sources):
            if state != event.target:
                actions += hooks.get((state, "on_exit"), ())
        if event.target is not None:
            actions += hooks.get((event.target, "on_enter"), ())
        found[eid] = actions
    return found


def _linked_processes(library: Library) -> dict[tuple[str, str], set[str]]:
    """For (process, parent|children|related): the processes such a linked case can be of,
    from the ``open`` actions that make the links."""
    linked: dict[tuple[str, str], set[str]] = {}
    for site in link_sites(library):
        if not isinstance(site.action, Open):
            continue
        opener, opened = site.source.id, site.action.process
        if site.action.link == "child":
            linked.setdefault((opener, "children"), set()).add(opened)
            linked.setdefault((opened, "parent"), set()).add(opener)
        else:
            linked.setdefault((opener, "related"), set()).add(opened)
            linked.setdefault((opened, "related"), set()).add(opener)
    return linked


def _circle(edges: dict[Node, set[Node]], start: Node) -> list[Node] | None:
    """A path of events from ``start`` back to it, if there is one (breadth first)."""
    previous: dict[Node, Node] = {}
    queue = [start]
    seen = {start}
    while queue:
        node = queue.pop(0)
        for following in sorted(edges.get(node, ())):
            if following == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path))
            if following not in seen:
                seen.add(following)
                previous[following] = node
                queue.append(following)
    return None
