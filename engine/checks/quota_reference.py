"""Quota reference (PF520): a quota names a process, role, event or calendar that does not
exist, or has actions a quota cannot run.

A quota counts the events in ``counts`` fired by people acting in ``role`` on cases of
``process`` (any process when left out). The role must be a role of that process (of some
process when none is named), each counted event must be one of its events that the role may
fire, or the count would stay at zero for ever. A quota belongs to no case, so its
``on_breach`` actions can only ``notify`` (to the outbox), and the roles notified must exist.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, processes_by_id, undefined_calendar, undefined_process
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Notify, ProcessDef

CODE = "PF520"
NAME = "quota-reference"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    calendars = library.calendar_ids
    all_roles = sorted({role for p in processes.values() for role in p.roles})
    for located in library.quotas:
        quota = located.definition
        if quota.calendar is not None and quota.calendar not in calendars:
            yield Finding(located.at("calendar"), undefined_calendar(quota.calendar, calendars))
        scope: list[ProcessDef]
        if quota.process is not None:
            process = processes.get(quota.process)
            if process is None:
                if quota.process not in library.broken_processes:
                    yield Finding(
                        located.at("process"), undefined_process(quota.process, list(processes))
                    )
                continue
            scope = [process]
            roles = sorted(process.roles)
            where = say("PF520.process", process=process.id)
        else:
            scope = [p for p in processes.values() if quota.role in p.roles]
            roles = all_roles
            where = say("PF520.any_process")
        if quota.role not in roles:
            yield Finding(
                located.at("role"),
                say("PF520.role", role=quota.role, where=where, hint=suggest(quota.role, roles)),
            )
            continue
        single = not isinstance((located.raw or {}).get("counts", {}).get("event"), list)
        for index, event in enumerate(quota.counts.event):
            path = ("counts", "event") if single else ("counts", "event", index)
            having = [p for p in scope if event in p.events]
            if not having:
                names = sorted({e for p in scope for e in p.events})
                yield Finding(
                    located.at(*path),
                    say("PF520.event", event=event, where=where, hint=suggest(event, names)),
                )
            elif not any(quota.role in p.events[event].roles for p in having):
                yield Finding(
                    located.at(*path),
                    say(
                        "PF520.may_not_fire",
                        role=quota.role,
                        event=event,
                        roles=", ".join(having[0].events[event].roles),
                    ),
                )
        for index, action in enumerate(quota.on_breach):
            if not isinstance(action, Notify):
                yield Finding(
                    located.at("on_breach", index, action.kind, key=True),
                    say("PF520.only_notify", kind=action.kind),
                )
            elif action.role not in roles:
                yield Finding(
                    located.at("on_breach", index, "notify"),
                    say(
                        "PF520.role",
                        role=action.role,
                        where=where,
                        hint=suggest(action.role, roles),
                    ),
                )
