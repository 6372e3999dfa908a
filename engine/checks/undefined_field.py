"""Undefined field (PF105): an event, action or time limit names a field the form lacks.

Events list the fields they require and the values they ``set``; a deadline is anchored on a
date field; a party role is bound to the field that holds its person's account. A field
missing from ``fields:`` could never be filled in on the form, so the event could never be
fired, the deadline never computed, or the party never reach their case.
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
from engine.model import ProcessDef, SetFields

CODE = "PF105"
NAME = "undefined-field"
SEVERITY = Severity.ERROR


def _message(name: str, process: ProcessDef) -> str:
    return say(
        "PF105.field", name=name, process=process.id, hint=suggest(name, list(process.fields))
    )


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        for rid, role in process.roles.items():
            if role.bound_to is not None and role.bound_to not in process.fields:
                where = located.at("roles", rid, "bound_to")
                yield Finding(where, _message(role.bound_to, process))
        for eid, event in process.events.items():
            for index, name in enumerate(event.accepts):
                if name not in process.fields:
                    yield Finding(
                        located.at("events", eid, "accepts", index), _message(name, process)
                    )
            for index, name in enumerate(event.requires):
                if name not in process.fields:
                    yield Finding(
                        located.at("events", eid, "requires", index), _message(name, process)
                    )
            for name in event.assigns:
                if name not in process.fields:
                    yield Finding(
                        located.at("events", eid, "set", name, key=True), _message(name, process)
                    )
        for path, action in process_actions(process):
            if isinstance(action, SetFields):
                for name in action.values:
                    if name not in process.fields:
                        yield Finding(
                            located.at(*path, "set", name, key=True), _message(name, process)
                        )
    for rule, process in time_limits_with_process(library):
        limit = rule.definition
        anchor = limit.deadline_anchor
        if anchor is not None and anchor.field not in process.fields:
            yield Finding(rule.at("deadline"), _message(anchor.field, process))
        for path, action in time_limit_actions(limit):
            if isinstance(action, SetFields):
                for name in action.values:
                    if name not in process.fields:
                        yield Finding(
                            rule.at(*path, "set", name, key=True), _message(name, process)
                        )
