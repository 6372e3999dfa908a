"""Undefined state (PF102): an event or a time limit names a state the process lacks.

Events move a case ``from`` some states ``to`` one; time limits start, stop and pause on
states. A name that matches no state of the process is almost always a typo, and the
transition or clock would silently never happen, so it is an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, time_limits_with_process
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF102"
NAME = "undefined-state"
SEVERITY = Severity.ERROR


def _message(name: str, process_id: str, states: list[str]) -> str:
    return say("PF102.state", name=name, process=process_id, hint=suggest(name, states))


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        states = list(process.states)
        for eid, event in process.events.items():
            for index, source in enumerate(event.sources):
                if source not in process.states:
                    yield Finding(
                        located.at("events", eid, "from", index),
                        _message(source, process.id, states),
                    )
            if event.target is not None and event.target not in process.states:
                yield Finding(
                    located.at("events", eid, "to"), _message(event.target, process.id, states)
                )
    for rule, process in time_limits_with_process(library):
        states = list(process.states)
        for name, trigger in rule.definition.triggers().items():
            for kind in ("enter", "exit", "in"):
                values = getattr(trigger, "states" if kind == "in" else kind)
                for index, state in enumerate(values):
                    if state not in process.states:
                        yield Finding(
                            rule.at(name, kind, index),
                            _message(state, process.id, states),
                        )
