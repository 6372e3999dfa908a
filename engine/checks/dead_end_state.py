"""Dead-end state (PF107): a state that is not final but has no event leading out of it.

A case that enters such a state is stuck for ever: nobody can move it on and it never
counts as finished. Add an event from this state, or mark it ``final: true`` if the
procedure really ends there.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.graph import exits
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF107"
NAME = "dead-end-state"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        leaving = exits(process)
        for sid, state in process.states.items():
            if not state.final and sid not in leaving:
                yield Finding(
                    located.at("states", sid, key=True),
                    say("PF107.dead_end", state=sid),
                )
