"""Schedule reference (PF510): a schedule names a process, calendar or role that does not
exist, or its ``data`` does not fit the process's form.

A ``while`` names the process whose open cases it counts; its ``if`` is checked against that
process's fields and states by the condition checks (PF110–PF112).

A schedule opens a case of its ``process`` each period, on its ``calendar``, for its
``actor_role`` (a role of that process, which is assigned the case and notified). Its
``data`` fills in the new case's form: keys are fields of the process, values literals
suited to each field or ``=due`` (the occurrence's date and time), ``=date`` (its date),
``=period`` / ``=previous_period`` (the period's key as text, such as ``2026-03``). Every
required field of the process without a default must be given, or no case could be opened.
Its ``figures`` fill whole-number fields of the process from indicators declared under
``kpis:``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.checks.base import Finding, processes_by_id
from engine.checks.links_common import data_problems, missing_required
from engine.diagnostics import Severity, suggest
from engine.io.library import Library, Located
from engine.model import ProcessDef, ScheduleDef

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
    kpi_ids = [located.definition.id for located in library.kpis]
    for located in library.schedules:
        schedule = located.definition
        if schedule.calendar is not None and schedule.calendar not in calendars:
            yield Finding(
                located.at("calendar"),
                f"calendar '{schedule.calendar}' is not defined"
                f"{suggest(schedule.calendar, calendars)}",
            )
        watched = schedule.while_in_estate
        if watched is not None and (problem := _undefined(watched.process, processes, library)):
            yield Finding(located.at("while", "process"), problem)
        process = processes.get(schedule.process)
        if process is None:
            if problem := _undefined(schedule.process, processes, library):
                yield Finding(located.at("process"), problem)
            continue
        if schedule.actor_role is not None and schedule.actor_role not in process.roles:
            yield Finding(
                located.at("actor_role"),
                f"role '{schedule.actor_role}' is not defined in process '{process.id}'"
                f"{suggest(schedule.actor_role, list(process.roles))}",
            )
        for path, on_key, message in data_problems(schedule.data, process, SCHEDULE_REFS):
            yield Finding(located.at("data", *path, key=on_key), message)
        yield from _figures(located, process, kpi_ids)
        for name in missing_required(schedule.data, process):
            yield Finding(
                located.at("process"),
                f"a '{process.id}' case needs its required field '{name}', which the "
                "schedule's 'data' does not give",
            )


def _figures(
    located: Located[ScheduleDef], process: ProcessDef, kpi_ids: list[str]
) -> Iterator[Finding]:
    for name, figure in located.definition.figures.items():
        field = process.fields.get(name)
        if field is None:
            yield Finding(
                located.at("figures", name, key=True),
                f"field '{name}' is not defined in process '{process.id}'"
                f"{suggest(name, list(process.fields))}",
            )
        elif field.type != "int":
            yield Finding(
                located.at("figures", name, key=True),
                f"field '{name}' is of type {field.type}; a figure is a count, so it fills "
                "an int field",
            )
        if figure.kpi not in kpi_ids:
            yield Finding(
                located.at("figures", name, "kpi"),
                f"indicator '{figure.kpi}' is not defined{suggest(figure.kpi, kpi_ids)}",
            )


def _undefined(process: str, processes: Mapping[str, ProcessDef], library: Library) -> str | None:
    """Why ``process`` cannot be opened or watched, ``None`` if it is defined (or defined
    in a file too broken to load, whose own errors are reported)."""
    if process in processes or process in library.broken_processes:
        return None
    return (
        f"process '{process}' is not defined in the files being checked"
        f"{suggest(process, list(processes))}"
    )
