"""Undefined role (PF104): an event, action or extension names a role the process lacks.

Roles decide who may fire each event, who is notified and who may approve an extension. A
misspelt role would lock everyone out of a step or send a notification to nobody. Declare the
role under ``roles:`` (the built-in ``system`` role, the engine itself, needs no
declaration).
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
from engine.model import Assign, Escalate, Notify, ProcessDef

CODE = "PF104"
NAME = "undefined-role"
SEVERITY = Severity.ERROR


def _message(name: str, process: ProcessDef) -> str:
    return say("PF104.role", name=name, process=process.id, hint=suggest(name, list(process.roles)))


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        roles = process.role_ids  # built anew at each use: once per process here
        for eid, event in process.events.items():
            for index, role in enumerate(event.roles):
                if role not in roles:
                    yield Finding(
                        located.at("events", eid, "roles", index), _message(role, process)
                    )
        for path, action in process_actions(process):
            if isinstance(action, (Notify, Assign, Escalate)) and action.role not in roles:
                yield Finding(located.at(*path, action.kind), _message(action.role, process))
    for rule, process in time_limits_with_process(library):
        roles = process.role_ids
        limit = rule.definition
        for path, action in time_limit_actions(limit):
            if isinstance(action, (Notify, Assign, Escalate)) and action.role not in roles:
                yield Finding(rule.at(*path, action.kind), _message(action.role, process))
        if limit.extend is not None:
            for index, role in enumerate(limit.extend.by):
                if role not in roles:
                    yield Finding(rule.at("extend", "by", index), _message(role, process))
        for tier_index, tier in enumerate(limit.tiers):
            for index, role in enumerate(tier.extend_by):
                if role not in roles:
                    yield Finding(
                        rule.at("tiers", tier_index, "extend_by", index),
                        _message(role, process),
                    )
