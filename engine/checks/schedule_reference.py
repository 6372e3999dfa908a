"""Schedule reference (PF510): a schedule names a process, calendar or role that does not
exist, or its ``data`` does not fit the process's form.

A schedule opens a case of its ``process`` each period, on its ``calendar``, for its
``actor_role`` (a role of that process, which is assigned the case and notified). Its
``data`` fills in the new case's form: keys are fields of the process, values literals
suited to each field or ``=due`` (the occurrence's date and time), ``=date`` (its date),
``=period`` / ``=previous_period`` (the period's key as text, such as ``2026-03``). Every
required field of the process without a default must be given, or no case could be opened.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, processes_by_id
from engine.checks.links_common import data_problems, missing_required
from engine.diagnostics import Severity, suggest
from engine.loading import Library

CODE = "PF510"
NAME = "schedule-reference"
SEVERITY = Severity.ERROR

#: What ``=NAME`` may name in a schedule's data: name → (type, item type, description).
SCHEDULE_REFS: dict[str, tuple[str, str, str]] = {
    "due": ("datetime", "text", "'=due', the occurrence's date and time"),
    "date": ("date", "text", "'=date', the occurrence's date"),
    "period": ("text", "text", "'=period', the period's key"),
    "previous_period": ("text", "text", "'=previous_period', the previous period's key"),
}


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    calendars = library.calendar_ids
    for located in library.schedules:
        schedule = located.definition
        if schedule.calendar is not None and schedule.calendar not in calendars:
            yield Finding(
                located.at("calendar"),
                f"calendar '{schedule.calendar}' is not defined"
                f"{suggest(schedule.calendar, calendars)}",
            )
        process = processes.get(schedule.process)
        if process is None:
            if schedule.process not in library.broken_processes:
                yield Finding(
                    located.at("process"),
                    f"process '{schedule.process}' is not defined in the files being checked"
                    f"{suggest(schedule.process, list(processes))}",
                )
            continue
        if schedule.actor_role is not None and schedule.actor_role not in process.roles:
            yield Finding(
                located.at("actor_role"),
                f"role '{schedule.actor_role}' is not defined in process '{process.id}'"
                f"{suggest(schedule.actor_role, list(process.roles))}",
            )
        for path, on_key, message in data_problems(schedule.data, process, SCHEDULE_REFS):
            yield Finding(located.at("data", *path, key=on_key), message)
        for name in missing_required(schedule.data, process):
            yield Finding(
                located.at("process"),
                f"a '{process.id}' case needs its required field '{name}', which the "
                "schedule's 'data' does not give",
            )
