"""The definitions an engine runs cases on: processes by id and by version, and their time
limits.

A case runs on the definition version it was opened on, which may no longer be the
library's: versions are content hashes, and the store keeps the source of every version a
case was opened on. Each version is compiled once (its machine and form) and shared by all
its cases. The engine, linked cases and calendar jobs all open and change cases, so they
share one :class:`Definitions` rather than reach into each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from engine.diagnostics import suggest
from engine.model import ProcessDef
from engine.runtime.errors import UnknownProcess
from engine.runtime.machine import CompiledProcess
from engine.sla import SlaPlanner
from engine.store import CaseRecord, Store


class Definitions:
    """The library's current processes, the versions stored cases run on, and the planners
    of each process's time limits.

    ``planners`` gives every process a planner (a ``defaultdict``: one without time limits
    gets an empty one).
    """

    def __init__(
        self, processes: Mapping[str, ProcessDef], planners: Mapping[str, SlaPlanner], store: Store
    ) -> None:
        self._processes = dict(processes)
        self._planners = planners
        self._store = store
        self._compiled: dict[str, CompiledProcess] = {}
        self._saved: set[str] = set()

    @property
    def ids(self) -> list[str]:
        """The ids of the current processes."""
        return list(self._processes)

    def current(self, process: str) -> ProcessDef:
        """The library's definition of a process (:class:`UnknownProcess` if it has none)."""
        found = self._processes.get(process) if isinstance(process, str) else None
        if found is None:
            raise UnknownProcess(str(process), suggest(str(process), self._processes))
        return found

    def compile(self, definition: ProcessDef) -> CompiledProcess:
        """The definition ready to run, compiled on first use."""
        compiled = self._compiled.get(definition.version)
        if compiled is None:
            compiled = self._compiled[definition.version] = CompiledProcess(definition)
        return compiled

    def of_case(self, record: CaseRecord, tx: Connection | None = None) -> CompiledProcess:
        """The definition version the case was opened on, even if the library changed since
        (loaded from the store in ``tx`` if given)."""
        compiled = self._compiled.get(record.definition_version)
        if compiled is not None:
            return compiled
        current = self._processes.get(record.process)
        if current is not None and current.version == record.definition_version:
            return self.compile(current)
        source = self._store.load_definition(record.definition_version, tx)
        if source is None:
            raise UnknownProcess(f"{record.process}@{record.definition_version}")
        return self.compile(ProcessDef.model_validate(source))

    def planner(self, process: str) -> SlaPlanner:
        """The planner of a process's time limits."""
        return self._planners[process]

    def save(self, definition: ProcessDef, now: datetime, tx: Connection | None = None) -> None:
        """Store a version's source before a case is opened on it (in ``tx`` if given).

        Saved outside a transaction, a version is remembered and not looked up again; in the
        caller's transaction it may yet be rolled back, so it is written (once) each time.
        """
        if definition.version in self._saved:
            return
        source = definition.source_data
        self._store.save_definition(definition.version, definition.id, source, now, tx)
        if tx is None:
            self._saved.add(definition.version)
