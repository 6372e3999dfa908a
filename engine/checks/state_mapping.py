"""State mapping (PF550): a state mapping names a process or a state that does not exist,
or maps a state the process still has.

``migrations:`` in a rules file says, per process, where the running cases of a state that
was renamed or removed continue when ``propflow migrate`` moves them to the current
definition. A mapping of a process that does not exist, or to a state the current
definition lacks, would refuse those cases at the move, long after the edit; a mapping of a
state the process still has would never apply (its cases keep their state), which is
almost always a mapping written the wrong way round. Each is reported at its place, with
the nearest existing name.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, processes_by_id
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF550"
NAME = "state-mapping"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    processes = processes_by_id(library)
    for located in library.migrations:
        mapping = located.definition
        process = processes.get(mapping.id)
        if process is None:
            yield Finding(
                located.at(key=True),
                say("PF550.process", process=mapping.id, hint=suggest(mapping.id, processes)),
            )
            continue
        states = list(process.states)
        for old, new in mapping.states.items():
            if old in process.states:
                yield Finding(
                    located.at("states", old, key=True),
                    say("PF550.kept", state=old, process=process.id),
                )
            if new not in process.states:
                yield Finding(
                    located.at("states", old),
                    say("PF550.target", state=new, process=process.id, hint=suggest(new, states)),
                )
