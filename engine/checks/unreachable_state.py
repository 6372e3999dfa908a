"""Unreachable state (PF106): no sequence of events leads from the initial state to this one.

A state no case can ever enter is dead weight at best, and usually means an event's ``to`` is
misspelt or an event was deleted. Add an event that leads to the state, or remove it.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.graph import reachable
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF106"
NAME = "unreachable-state"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        initial = process.initial_states  # a property that walks the states: read once
        if len(initial) != 1:
            continue  # PF101 says why; reachability from several starts would mislead
        seen = reachable(process)
        for sid in process.states:
            if sid not in seen:
                yield Finding(
                    located.at("states", sid, key=True),
                    say("PF106.unreachable", state=sid, initial=initial[0]),
                )
