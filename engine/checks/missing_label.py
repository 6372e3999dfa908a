"""Missing Chinese label (PF302, warning): a process, role, field, state, event or time limit
has no ``zh-CN`` label.

Diagrams and the procedure manual are read by Chinese estate staff; without a ``zh-CN``
label they fall back to English and then to the bare id. The manual also shows each time
limit's label, the label of the calendar it counts on and the process's form (``record``),
so those are checked too (a calendar only when a time limit uses it). This is a warning, so it
fails validation only with ``--strict``. Roles written in the short form, ``roles:
[receptionist, supervisor]``, are labelled by their ids and get it too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.common import Label

CODE = "PF302"
NAME = "missing-label"
SEVERITY = Severity.WARNING


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        if not _has_zh(process.title):
            yield Finding(located.at("title"), say("PF302.title", process=process.id))
        collections: Mapping[str, Mapping[str, object]] = {
            "roles": process.roles,
            "fields": process.fields,
            "states": process.states,
            "events": process.events,
        }
        for collection, items in collections.items():
            for item_id, item in items.items():
                if not _has_zh(getattr(item, "label", None)):
                    yield Finding(
                        located.at(collection, item_id, key=True),
                        say(
                            "PF302.item",
                            kind=say(f"PF302.{collection}"),
                            item=item_id,
                            process=process.id,
                        ),
                    )
        if process.record is not None and not _has_zh(process.record):
            yield Finding(
                located.at("record"),
                say("PF302.record", process=process.id),
            )
    used_calendars = {e.definition.calendar for e in library.estates if e.definition.calendar}
    for located_limit in library.time_limits:
        limit = located_limit.definition
        if limit.calendar:
            used_calendars.add(limit.calendar)
        if not _has_zh(limit.label):
            yield Finding(located_limit.at(key=True), say("PF302.limit", limit=limit.id))
    for located_calendar in library.calendars:
        calendar = located_calendar.definition
        if calendar.id in used_calendars and not _has_zh(calendar.label):
            yield Finding(
                located_calendar.at(key=True),
                say("PF302.calendar", calendar=calendar.id),
            )


def _has_zh(label: Label | None) -> bool:
    return bool(label and label.get("zh-CN"))
