"""Party field not text (PF116): a role's ``bound_to`` names a field that cannot hold an
account.

A party role (the owner who reported a repair) reaches only the cases whose ``bound_to``
field holds the acting person's id, as text. A field of another type (a date, a number, a
list) never equals an id, so nobody could ever act or read in that role: bind it to a
``text`` field that records the person's account.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF116"
NAME = "party-field"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        for rid, role in process.roles.items():
            field = process.fields.get(role.bound_to) if role.bound_to is not None else None
            if field is not None and field.type != "text":
                yield Finding(
                    located.at("roles", rid, "bound_to"),
                    say("PF116.type", role=rid, field=field.id, type=field.type),
                )
