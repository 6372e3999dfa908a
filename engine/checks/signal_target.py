"""Signal reaches no event (PF505): a ``signal`` action's event is not an event of the cases
it can reach, or the engine may not fire it.

``{signal: {event: reopen, to: parent}}`` fires ``reopen`` on the case that opened this one
as a child; ``to: children`` on the cases this one opened as children; ``to: related`` on
related cases. The validator follows the ``open`` actions of the library to know which
processes those cases can be of: the event must be one of theirs, and it must list the
built-in ``system`` role (a signalled event is fired by the engine itself), or every signal
would be refused and only recorded as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, processes_by_id
from engine.checks.links_common import link_graph, link_sites, signal_targets
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Signal
from engine.model.process import SYSTEM_ROLE

CODE = "PF505"
NAME = "signal-target"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    graph = link_graph(library)
    for site in link_sites(library):
        action = site.action
        if not isinstance(action, Signal):
            continue
        reached = signal_targets(site, graph, processes)
        if graph.linked(site.source.id, action.to) & library.broken_processes:
            continue  # it reaches cases of a process too broken to load: nothing to check
        if not reached and action.to != "children" and library.broken_processes:
            continue  # a process too broken to load may be the one that links them
        if not reached:
            # At 'to' when it was written (else the nearest part: the signal itself).
            yield Finding(
                site.at("signal", "to"), say(f"PF505.no_{action.to}", process=site.source.id)
            )
            continue
        having = [p for p in reached if action.event in p.events]
        if not having:
            names = sorted({e for p in reached for e in p.events})
            yield Finding(
                site.at("signal", "event"),
                say(
                    "PF505.no_event",
                    event=action.event,
                    processes=", ".join(repr(p.id) for p in reached),
                    hint=suggest(action.event, names),
                ),
            )
            continue
        for process in having:
            if SYSTEM_ROLE not in process.events[action.event].roles:
                yield Finding(
                    site.at("signal", "event"),
                    say(
                        "PF505.not_system",
                        event=action.event,
                        process=process.id,
                        system=SYSTEM_ROLE,
                    ),
                )
