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

from engine.checks.base import Finding, processes_by_id, undefined_calendar, undefined_process
from engine.checks.links_common import data_problems, missing_required
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.model import ProcessDef, ScheduleDef

CODE = "PF510"
NAME = "schedule-reference"
SEVERITY = Severity.ERROR

#: What ``=NAME`` may name in a schedule's data: name → (type, item type, description).
SCHEDULE_REFS: dict[str, tuple[str, str, str]] = {
    "due": ("datetime", "text", "PF510.due"),
    "date": ("date", "text", "PF510.date"),
    "period": ("text", "text", "PF510.period"),
    "previous_period": ("text", "text", "PF510.previous_period"),
}


def _schedule_refs() -> dict[str, tuple[str, str, str]]:
    """:data:`SCHEDULE_REFS` with their descriptions in the language spoken."""
    return {name: (kind, items, say(key)) for name, (kind, items, key) in SCHEDULE_REFS.items()}


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    calendars = library.calendar_ids
    kpi_ids = [located.definition.id for located in library.kpis]
    refs = _schedule_refs()
    for located in library.schedules:
        schedule = located.definition
        if schedule.calendar is not None and schedule.calendar not in calendars:
            yield Finding(located.at("calendar"), undefined_calendar(schedule.calendar, calendars))
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
                say(
                    "PF104.role",
                    name=schedule.actor_role,
                    process=process.id,
                    hint=suggest(schedule.actor_role, list(process.roles)),
                ),
            )
        for path, on_key, message in data_problems(schedule.data, process, refs):
            yield Finding(located.at("data", *path, key=on_key), message)
        yield from _figures(located, process, kpi_ids)
        for name in missing_required(schedule.data, process):
            yield Finding(
                located.at("process"),
                say("PF510.required", process=process.id, field=name),
            )


def _figures(
    located: Located[ScheduleDef], process: ProcessDef, kpi_ids: list[str]
) -> Iterator[Finding]:
    for name, figure in located.definition.figures.items():
        field = process.fields.get(name)
        if field is None:
            yield Finding(
                located.at("figures", name, key=True),
                say(
                    "PF105.field",
                    name=name,
                    process=process.id,
                    hint=suggest(name, list(process.fields)),
                ),
            )
        elif field.type != "int":
            yield Finding(
                located.at("figures", name, key=True),
                say("PF510.figure_type", field=name, type=field.type),
            )
        if figure.kpi not in kpi_ids:
            yield Finding(
                located.at("figures", name, "kpi"),
                say("PF510.no_kpi", kpi=figure.kpi, hint=suggest(figure.kpi, kpi_ids)),
            )


def _undefined(process: str, processes: Mapping[str, ProcessDef], library: Library) -> str | None:
    """Why ``process`` cannot be opened or watched, ``None`` if it is defined (or defined
    in a file too broken to load, whose own errors are reported)."""
    if process in processes or process in library.broken_processes:
        return None
    return undefined_process(process, list(processes))
