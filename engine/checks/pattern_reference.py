"""Pattern reference (PF540): a pattern names a process, event, state, field, role or
calendar that does not exist, or a condition reads what a pattern cannot.

A pattern counts log entries of ``match.process`` — its events (``open`` is the opening)
and its states (``enter``) — and correlates them on fields of that process (``same``), or
with open cases of ``with_open.process`` on the fields ``with_open.same`` maps between the
two. Its actions open cases of an existing process with data from fields of the matched
process, notify a role of the matched process and set fields of it; a working-time window
is measured on a declared calendar. A name that does not exist would make the pattern
match nothing, for ever, without a word: each is reported at its place with the nearest
existing name. The ``if`` condition is checked like any other (PF110–PF112) and is judged
on the case's data when the entry was written, with no one acting: ``actor.*``,
``payload.*`` and the child cases cannot be read.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import (
    Finding,
    kind_of,
    not_a,
    processes_by_id,
    undefined_calendar,
    undefined_process,
    unknown_ids,
)
from engine.conditions import CHILDREN, Name, Quantified
from engine.conditions.ast import iter_nodes
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.model import PatternDef, ProcessDef
from engine.model.actions import Notify, Open, SetFields, reference

CODE = "PF540"
NAME = "pattern-reference"
SEVERITY = Severity.ERROR

#: The log entry of a case's opening, counted as the event ``open``.
OPENING = "open"


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    for located in library.patterns:
        pattern = located.definition
        found: dict[str, ProcessDef | None] = {}
        for path, process_id in _processes(pattern):
            found[path[0]] = processes.get(process_id)
            if found[path[0]] is None and process_id not in library.broken_processes:
                yield Finding(located.at(*path), undefined_process(process_id, list(processes)))
        process = found["match"]
        if process is not None:
            events, states = [OPENING, *process.events], list(process.states)
            match = pattern.match
            yield from unknown_ids(
                located, ("match", "event"), match.event, events, kind_of("event", process)
            )
            yield from unknown_ids(
                located, ("match", "enter"), match.enter, states, kind_of("state", process)
            )
            yield from unknown_ids(
                located, ("same",), pattern.same, list(process.fields), kind_of("field", process)
            )
            yield from _actions(located, process, processes)
        if pattern.with_open is not None:
            yield from _with_open(located, process, found.get("with_open"))
        calendars = library.calendar_ids
        if pattern.calendar is not None and pattern.calendar not in calendars:
            yield Finding(located.at("calendar"), undefined_calendar(pattern.calendar, calendars))
        yield from _unreadable_names(located)


def _processes(pattern: PatternDef) -> Iterator[tuple[tuple[str, str], str]]:
    yield ("match", "process"), pattern.match.process
    if pattern.with_open is not None:
        yield ("with_open", "process"), pattern.with_open.process


def _with_open(
    located: Located[PatternDef], mine: ProcessDef | None, other: ProcessDef | None
) -> Iterator[Finding]:
    watched = located.definition.with_open
    assert watched is not None
    for ours, theirs in watched.same.items():
        for process, name in ((mine, ours), (other, theirs)):
            if process is not None and name not in process.fields:
                yield Finding(
                    located.at("with_open", "same"),
                    not_a(name, kind_of("field", process), list(process.fields)),
                )


def _actions(
    located: Located[PatternDef], process: ProcessDef, processes: dict[str, ProcessDef]
) -> Iterator[Finding]:
    fields, roles = list(process.fields), list(process.roles)
    for index, action in enumerate(located.definition.actions):
        if isinstance(action, Notify) and action.role not in roles:
            yield Finding(
                located.at("actions", index, "notify"),
                not_a(action.role, kind_of("role", process), roles),
            )
        elif isinstance(action, SetFields):
            for name in action.values:
                if name not in fields:
                    yield Finding(
                        located.at("actions", index, "set", name, key=True),
                        not_a(name, kind_of("field", process), fields),
                    )
        elif isinstance(action, Open):
            opened = processes.get(action.process)
            if opened is None:
                yield Finding(
                    located.at("actions", index, "open", "process"),
                    undefined_process(action.process, list(processes)),
                )
                continue
            for key, value in action.data.items():
                if key not in opened.fields:
                    yield Finding(
                        located.at("actions", index, "open", "data", key, key=True),
                        not_a(key, kind_of("field", opened), list(opened.fields)),
                    )
                referred = reference(value)
                if referred is not None and referred not in fields:
                    yield Finding(
                        located.at("actions", index, "open", "data", key),
                        say(
                            "PF540.refers_to_no_field",
                            name=referred,
                            process=process.id,
                            hint=suggest(referred, fields),
                        ),
                    )


def _unreadable_names(located: Located[PatternDef]) -> Iterator[Finding]:
    match = located.definition.match
    if match.guard is None:
        return  # no condition, or PF110 reports it
    for node in iter_nodes(match.guard.expr):
        if isinstance(node, Quantified) or (
            isinstance(node, Name) and node.path[0] in ("actor", "payload", CHILDREN)
        ):
            what = node.quantifier + "(...)" if isinstance(node, Quantified) else node.dotted
            span = located.source_map.locate_in_text((*located.base, "match", "if"), node.offset)
            yield Finding(
                span,
                say("PF540.unreadable", name=what),
            )
