"""Unknown timezone (PF204): a calendar's or an estate's ``timezone`` is not a zone of the
IANA database.

Deadlines are counted in local time, so the zone must be one the system knows by its IANA
name (`Asia/Shanghai`, `Asia/Hong_Kong`), not an abbreviation (`CST`, which names several
zones) or a misspelling. An unknown zone would stop the engine when it starts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located

CODE = "PF204"
NAME = "unknown-timezone"
SEVERITY = Severity.ERROR


@functools.cache
def known(zone: str) -> bool:
    """Whether ``zone`` names a timezone of the system's IANA database."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check(library: Library) -> Iterator[Finding]:
    owners: list[tuple[str, Located[Any]]] = [
        *(("PF204.calendar", located) for located in library.calendars),
        *(("PF204.estate", located) for located in library.estates),
    ]
    for owner, located in owners:
        zone = located.definition.timezone
        if not known(zone):
            yield Finding(
                located.at("timezone"),
                say("PF204.unknown", owner=say(owner, name=located.definition.id), zone=zone),
            )
