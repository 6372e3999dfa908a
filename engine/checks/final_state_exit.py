"""Final state with a way out (PF108): an event leaves a state marked ``final: true``.

A final state means the procedure is over (closed, cancelled, returned); reports count the
case as finished. An event that moves a case out of it contradicts that. To reopen cases,
make the state non-final, or leave ``to`` out of the event to record something without
leaving the state.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.graph import exits
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF108"
NAME = "final-state-exit"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        leaving = exits(process)
        for sid, state in process.states.items():
            if not state.final:
                continue
            for eid in leaving.get(sid, ()):
                yield Finding(
                    located.at("events", eid, "from", key=True),
                    say("PF108.leaves", event=eid, state=sid),
                    also=((say("PF108.final_state"), located.at("states", sid, key=True)),),
                )
