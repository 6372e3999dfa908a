"""The definitions an engine runs cases on: the definition versions of its processes, and the
versions stored cases were opened on.

A definition version is a process together with its time limits as merged for the estate
(durations, warnings, tiers, conditions, actions, and the name of the calendar each limit
counts on), named by a content hash of them all. A case records the version it was opened
on and runs on it — its events, the clocks it starts later, its timers — until ``propflow
migrate`` moves it, whatever the library says since. The store keeps every version a case
was opened on, so an engine whose library changed or dropped a limit since rebuilds the
case's version from there.

Calendars are not part of a version: the holidays (the State Council announces the next
year's), an estate's closed and extra working days and its working hours are facts about
the world, not a procedure's rules, and a running case must see them as they are now. A
version names the calendar of each of its limits; the engine's library gives its contents.
A limit whose calendar the library no longer has cannot be planned here: it is left out of
the version as this engine runs it, so its timers are held back for an engine that has the
calendar, never fired on another one.

A version stored before its time limits were kept with it (a database of an earlier release,
upgraded) holds its process only. What its limits were is not known; its cases run on the
time limits of the library loaded, as they did under that release, until they are moved.

Each version is built once (its planner; its process compiled once for all the versions
sharing it) and shared by all its cases. The engine, linked cases, patterns, calendar jobs
and migrations all open and change cases, so they share one :class:`Definitions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.diagnostics import suggest
from engine.model import ProcessDef, TimeLimitDef
from engine.model.process import content_hash
from engine.runtime.errors import UnknownProcess
from engine.runtime.machine import CompiledProcess
from engine.sla import LimitPlanner, SlaPlanner
from engine.store import CaseRecord, DefinitionRecord, Store
from engine.time import WorkingCalendar


@dataclass(frozen=True)
class Version:
    """A definition version: what cases opened on it record (``id``), its process, and the
    planner of its time limits on this engine's calendars.

    ``limits`` are the time limits as stored with the version: each as written
    (``definition``) with the name of the calendar it counts on (``calendar``); ``None`` for
    a version stored without them (see the module docstring).
    """

    id: str
    process: ProcessDef
    planner: SlaPlanner
    limits: tuple[Mapping[str, Any], ...] | None

    def record(self) -> DefinitionRecord:
        """The version as the store keeps it."""
        limits = None if self.limits is None else [dict(limit) for limit in self.limits]
        return DefinitionRecord(self.id, self.process.id, dict(self.process.source_data), limits)


class Definitions:
    """The library's current versions of its processes, and the versions stored cases run
    on.

    ``limits`` are the library's time limits by process (as merged for the estate);
    ``calendars`` its calendars by id and ``fallback`` the calendar of a limit that names
    none (the estate's default calendar, or around the clock).
    """

    def __init__(
        self,
        processes: Mapping[str, ProcessDef],
        limits: Mapping[str, Sequence[TimeLimitDef]],
        calendars: Mapping[str, WorkingCalendar],
        fallback: WorkingCalendar,
        store: Store,
    ) -> None:
        self._processes = dict(processes)
        self._calendars = dict(calendars)
        self._fallback = fallback
        self._store = store
        self._compiled: dict[str, CompiledProcess] = {}
        self._saved: set[str] = set()
        #: Every version met so far by its id: the current ones, and those loaded.
        self._versions: dict[str, Version] = {}
        #: The version new cases of each process open on.
        self._latest: dict[str, Version] = {}
        for process_id, process in self._processes.items():
            named = [(limit, self._named(limit)) for limit in limits.get(process_id, ())]
            stored = tuple(
                {"definition": dict(limit.source_data), "calendar": calendar}
                for limit, calendar in named
            )
            version_id = content_hash(
                {"process": process.source_data, "time_limits": [dict(s) for s in stored]}
            )
            version = Version(version_id, process, self._planner(named), stored)
            self._latest[process_id] = self._versions.setdefault(version_id, version)

    @property
    def ids(self) -> list[str]:
        """The ids of the current processes."""
        return list(self._processes)

    def current(self, process: str) -> ProcessDef:
        """The library's definition of a process (:class:`UnknownProcess` if it has none)."""
        return self.latest(process).process

    def latest(self, process: str) -> Version:
        """The version new cases of a process open on: the library's process with its time
        limits (:class:`UnknownProcess` if it has none)."""
        found = self._latest.get(process) if isinstance(process, str) else None
        if found is None:
            raise UnknownProcess(str(process), suggest(str(process), self._processes))
        return found

    def compile(self, definition: ProcessDef) -> CompiledProcess:
        """The process ready to run, compiled on first use (once for every version with
        this process)."""
        compiled = self._compiled.get(definition.version)
        if compiled is None:
            compiled = self._compiled[definition.version] = CompiledProcess(definition)
        return compiled

    def version(self, version_id: str, process: str = "", tx: Connection | None = None) -> Version:
        """A version by its id, even if the library changed since: loaded from the store (in
        ``tx`` if given) the first time (:class:`UnknownProcess` if it is not stored;
        ``process`` names it in the error)."""
        found = self._versions.get(version_id)
        if found is not None:
            return found
        stored = self._store.load_definition(version_id, tx)
        if stored is None:
            raise UnknownProcess(f"{process}@{version_id}")
        definition = ProcessDef.model_validate(stored.content)
        if stored.time_limits is None:  # stored without its limits: the library's apply
            latest = self._latest.get(stored.process)
            planner = latest.planner if latest is not None else SlaPlanner([])
            found = Version(version_id, definition, planner, None)
        else:
            named = [
                (TimeLimitDef.model_validate(item["definition"]), str(item["calendar"]))
                for item in stored.time_limits
            ]
            found = Version(version_id, definition, self._planner(named), tuple(stored.time_limits))
        return self._versions.setdefault(version_id, found)

    def of_case(self, record: CaseRecord, tx: Connection | None = None) -> CompiledProcess:
        """The process of the version the case runs on, compiled (loaded from the store in
        ``tx`` if given)."""
        return self.compile(self.version(record.definition_version, record.process, tx).process)

    def planner_of(self, record: CaseRecord, tx: Connection | None = None) -> SlaPlanner:
        """The planner of the time limits of the version the case runs on (loaded from the
        store in ``tx`` if given)."""
        return self.version(record.definition_version, record.process, tx).planner

    def fires(self, version_id: str, limit_id: str) -> bool:
        """Whether this engine can fire the timers of a time limit on the cases of a
        version: the version has the limit, on a calendar this library has."""
        try:
            return limit_id in self.version(version_id).planner.limits
        except UnknownProcess:
            return False

    def save(self, version: Version, now: datetime, tx: Connection | None = None) -> None:
        """Store a version before a case is opened on it (in ``tx`` if given).

        Saved outside a transaction, a version is remembered and not looked up again; in the
        caller's transaction it may yet be rolled back, so it is written (once) each time.
        """
        if version.id in self._saved:
            return
        self._store.save_definition(version.record(), now, tx)
        if tx is None:
            self._saved.add(version.id)

    def _named(self, limit: TimeLimitDef) -> str:
        """The name of the calendar a current limit counts on."""
        if limit.calendar is None:
            return self._fallback.id
        return self._calendars.get(limit.calendar, self._fallback).id

    def _planner(self, limits: Iterable[tuple[TimeLimitDef, str]]) -> SlaPlanner:
        """The planner of time limits, each on the calendar of this library it names (a limit
        whose calendar the library has not is left out: see the module docstring)."""
        planners = []
        for limit, name in limits:
            calendar = self._calendars.get(name)
            if calendar is None and name == self._fallback.id:
                calendar = self._fallback
            if calendar is not None:
                planners.append(LimitPlanner(limit, calendar))
        return SlaPlanner(planners)
