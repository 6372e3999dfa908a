"""Undefined process (PF202): a time limit names a process that is not loaded.

A time limit applies to the cases of one process. If that process is not among the files
being validated (a typo, or the process file was left out of the command), the limit would
never run. Validate the rules together with their processes (``propflow validate processes
rules``). A process whose file has errors of its own is not reported again here.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, undefined_process
from engine.diagnostics import Severity
from engine.io.library import Library

CODE = "PF202"
NAME = "undefined-process"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    known = library.process_ids
    for located in library.time_limits:
        name = located.definition.process
        if name not in known and name not in library.broken_processes:
            yield Finding(located.at("process"), undefined_process(name, known))
