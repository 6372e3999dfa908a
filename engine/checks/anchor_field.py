"""Anchor is not a date (PF121): a ``deadline`` is anchored on a field that holds no date.

``20d before handover_date`` counts back from the value of ``handover_date``, so the field
must be of type ``date`` or ``datetime``. Anchoring on text or a number would leave the
deadline undefined for every case.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, time_limits_with_process
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF121"
NAME = "anchor-field"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located, process in time_limits_with_process(library):
        anchor = located.definition.deadline_anchor
        if anchor is None or anchor.field not in process.fields:
            continue  # PF120 / PF105 report those
        field = process.fields[anchor.field]
        if field.type not in ("date", "datetime"):
            yield Finding(
                located.at("deadline"),
                say("PF121.anchor", field=anchor.field, type=field.type),
            )
