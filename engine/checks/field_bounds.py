"""Impossible field bounds (PF114): a field's ``min`` is above its ``max``, or its default
lies outside them.

A number field with ``min: 10`` and ``max: 5`` accepts no value at all, so every form that
fills it in is refused; a default outside the bounds is refused when a case opens with it.
Both are typing slips (the bounds swapped, a default from before the bounds changed): give
the bounds in order and a default between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import FieldDef

CODE = "PF114"
NAME = "field-bounds"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        for fid, field in located.definition.fields.items():
            if field.min is not None and field.max is not None and field.min > field.max:
                yield Finding(
                    located.at("fields", fid, "min"),
                    say("PF114.crossed", field=fid, min=_shown(field.min), max=_shown(field.max)),
                )
                continue
            outside = _outside(field)
            if outside is not None:
                yield Finding(
                    located.at("fields", fid, "default"),
                    say("PF114.default", default=outside, field=fid, bounds=_bounds(field)),
                )


def _number(value: Any) -> Decimal | None:
    """A default (or one of a list default's items) as a number, if it is one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _outside(field: FieldDef) -> str | None:
    """The default's value (or item) that breaks the bounds, as written, if any."""
    if field.default is None or (field.min is None and field.max is None):
        return None
    values = field.default if isinstance(field.default, list) else [field.default]
    for value in values:
        number = _number(value)
        if number is None:
            continue  # not a number: PF113 or the schema reports it
        if (field.min is not None and number < Decimal(str(field.min))) or (
            field.max is not None and number > Decimal(str(field.max))
        ):
            return str(value)
    return None


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _bounds(field: FieldDef) -> str:
    parts = []
    if field.min is not None:
        parts.append(say("PF114.min", bound=_shown(field.min)))
    if field.max is not None:
        parts.append(say("PF114.max", bound=_shown(field.max)))
    return say("PF114.and").join(parts)
