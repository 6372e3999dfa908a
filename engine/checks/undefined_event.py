"""Undefined event (PF103): a time limit or a ``fire`` action names an event the process lacks.

Time limits can start, stop or reset on an event, and breach actions can fire one. An event
name that matches nothing would never trigger, so the clock would run forever or the
escalation would do nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import (
    Finding,
    process_actions,
    time_limit_actions,
    time_limits_with_process,
)
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Fire, ProcessDef

CODE = "PF103"
NAME = "undefined-event"
SEVERITY = Severity.ERROR


def _message(name: str, process: ProcessDef) -> str:
    return say(
        "PF103.event", name=name, process=process.id, hint=suggest(name, list(process.events))
    )


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        for path, action in process_actions(process):
            if isinstance(action, Fire) and action.event not in process.events:
                yield Finding(located.at(*path, "fire"), _message(action.event, process))
    for rule, process in time_limits_with_process(library):
        limit = rule.definition
        for name, trigger in limit.triggers().items():
            for index, event in enumerate(trigger.event):
                if event not in process.events:
                    yield Finding(rule.at(name, "event", index), _message(event, process))
        for path, action in time_limit_actions(limit):
            if isinstance(action, Fire) and action.event not in process.events:
                yield Finding(rule.at(*path, "fire"), _message(action.event, process))
