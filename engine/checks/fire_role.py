"""Fired event the system may not fire (PF115): a ``fire`` action names an event whose
``roles`` leave out ``system``.

Actions fire events as the engine's own ``system`` role. An event that only people may
fire is refused every time the action runs, and the refusal is only recorded as skipped on
the case's log, so the process never moves on by itself as written. Add ``system`` to the
event's ``roles``, or fire another event meant for the engine.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import (
    Finding,
    process_actions,
    processes_by_id,
    time_limit_actions,
)
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Fire, ProcessDef
from engine.model.process import SYSTEM_ROLE

CODE = "PF115"
NAME = "fire-role"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        for path, action in process_actions(process):
            message = _refused(action, process)
            if message:
                yield Finding(located.at(*path, "fire"), message)
    processes = processes_by_id(library)
    for rule in library.time_limits:
        target = processes.get(rule.definition.process)
        if target is None:
            continue
        for path, action in time_limit_actions(rule.definition):
            message = _refused(action, target)
            if message:
                yield Finding(rule.at(*path, "fire"), message)


def _refused(action: object, process: ProcessDef) -> str | None:
    if not isinstance(action, Fire):
        return None
    event = process.events.get(action.event)
    if event is None or SYSTEM_ROLE in event.roles:
        return None  # an unknown event is PF103's
    return say(
        "PF115.refused", event=action.event, system=SYSTEM_ROLE, roles=", ".join(event.roles)
    )
