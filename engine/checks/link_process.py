"""Linked process not defined (PF501): an ``open`` action names a process that is not loaded.

``{open: {process: repair, ...}}`` opens a case of another process in the same transaction
as the event. If that process is not among the files being validated (a typo, or its file
was left out of the command), every event with the action would fail. Validate processes
together (``propflow validate processes rules``). A process whose file has errors of its own
is not reported again here.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, undefined_process
from engine.checks.links_common import link_sites
from engine.diagnostics import Severity
from engine.io.library import Library
from engine.model import Open

CODE = "PF501"
NAME = "link-process"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    known = library.process_ids
    for site in link_sites(library):
        action = site.action
        if not isinstance(action, Open):
            continue
        if action.process not in known and action.process not in library.broken_processes:
            yield Finding(
                site.at("open", "process"),
                undefined_process(action.process, known),
            )
