"""Processes that open each other for ever (PF504): opening a case opens a case of a process
that, when opened, opens the first one again.

An ``open`` action in the ``on_enter`` of a process's initial state runs as soon as a case of
it is opened, with no event, guard or list to stop it. If such actions form a cycle
(``a`` opens ``b`` on opening, ``b`` opens ``a``), opening either would never end. Move one of
the ``open`` actions to an event (so a person or a guard decides), or use ``each`` over a
list that can be empty. Chains the validator cannot rule out are stopped at run time: an
event whose links go deeper than the engine's limit is refused and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.links_common import link_sites
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Open

CODE = "PF504"
NAME = "link-cycle"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    edges: dict[str, set[str]] = {}
    sites = [
        site
        for site in link_sites(library)
        if site.on_open and isinstance(site.action, Open) and site.action.each is None
    ]
    for site in sites:
        assert isinstance(site.action, Open)
        edges.setdefault(site.source.id, set()).add(site.action.process)
    for site in sites:
        assert isinstance(site.action, Open)
        path = _path(edges, site.action.process, site.source.id)
        if path is not None:
            chain = " → ".join([site.source.id, *path])
            yield Finding(
                site.at("open", key=True),
                say("PF504.for_ever", process=site.source.id, chain=chain),
            )


def _path(edges: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A path of process ids from ``start`` to ``goal`` along ``edges``, if there is one."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                step = previous[path[-1]]
                assert step is not None
                path.append(step)
            return list(reversed(path))
        for following in sorted(edges.get(node, ())):
            if following not in previous:
                previous[following] = node
                queue.append(following)
    return None
