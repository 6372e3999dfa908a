"""Bad field value (PF113): a default or ``set`` value does not fit the field's type.

An enum field's default, or a value an event or action sets, must be one of the field's
values; a bool field takes ``true``/``false``; an int field a whole number. A wrong value
would put every case into a state the form cannot display or the guards never match.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.checks.base import Finding, process_actions
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import FieldDef, SetFields

CODE = "PF113"
NAME = "field-value"
SEVERITY = Severity.ERROR


def problem(field: FieldDef, value: Any) -> str | None:
    """Why ``value`` cannot be stored in ``field``, or ``None`` if it can."""
    if value is None:
        return None
    if field.type == "enum":
        if not isinstance(value, str) or value not in field.values:
            return say(
                "PF113.enum",
                value=value,
                field=field.id,
                values=", ".join(field.values),
                hint=suggest(str(value), field.values, list_all=False),
            )
    elif field.type == "bool" and not isinstance(value, bool):
        return say("PF113.bool", field=field.id, value=value)
    elif field.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return say("PF113.int", field=field.id, value=value)
    return None


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        for fid, field in process.fields.items():
            message = problem(field, field.default)
            if message:
                yield Finding(located.at("fields", fid, "default"), message)
        for eid, event in process.events.items():
            for name, value in event.assigns.items():
                if name in process.fields and (message := problem(process.fields[name], value)):
                    yield Finding(located.at("events", eid, "set", name), message)
        for path, action in process_actions(process):
            if isinstance(action, SetFields):
                for name, value in action.values.items():
                    if name in process.fields and (message := problem(process.fields[name], value)):
                        yield Finding(located.at(*path, "set", name), message)
