"""Initial state (PF101): a process needs exactly one state marked ``initial: true``.

A case is opened in the initial state. With none, no case could ever be opened; with
several, the engine would have to guess where a new case starts. Mark one state
``initial: true`` and remove the mark from the others.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF101"
NAME = "initial-state"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        initial = process.initial_states
        if not initial:
            yield Finding(
                located.at("states", key=True),
                say("PF101.none", process=process.id),
            )
        for extra in initial[1:]:
            yield Finding(
                located.at("states", extra, "initial", key=True),
                say("PF101.several", process=process.id, first=initial[0], other=extra),
                also=((say("PF101.first"), located.at("states", initial[0], key=True)),),
            )
