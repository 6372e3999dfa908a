"""Duplicate id (PF301): two files define a process, calendar, time limit, schedule, quota
or estate with the same id.

Ids are global within a library: a case names its process by id, a time limit names its
calendar. Two definitions with one id would make the second silently replace the first (or be
ignored), so both places are reported. To change a standard definition for one estate, use
an estate patch instead of a copy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located

CODE = "PF301"
NAME = "duplicate-id"
SEVERITY = Severity.ERROR


def _duplicates(
    kind: str, items: Sequence[Located[Any]], key: tuple[str, ...]
) -> Iterator[Finding]:
    first: dict[str, Located[Any]] = {}
    for located in items:
        ident = located.definition.id
        if ident in first:
            earlier = first[ident]
            yield Finding(
                located.at(*key, key=True),
                say(
                    "PF301.twice",
                    kind=say(f"kinds.{kind}"),
                    id=ident,
                    file=earlier.at(*key, key=True).file,
                ),
                also=((say("PF301.first"), earlier.at(*key, key=True)),),
            )
        else:
            first[ident] = located


def check(library: Library) -> Iterator[Finding]:
    yield from _duplicates("process", library.processes, ("process",))
    yield from _duplicates("estate", library.estates, ("estate",))
    yield from _duplicates("calendar", library.calendars, ())
    yield from _duplicates("time_limit", library.time_limits, ())
    yield from _duplicates("schedule", library.schedules, ())
    yield from _duplicates("quota", library.quotas, ())
    yield from _duplicates("kpi", library.kpis, ())
