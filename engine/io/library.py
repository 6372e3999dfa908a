"""The library: every definition read from a set of files, and the same once validated.

A :class:`Library` is what loading builds and the checks inspect; a
:class:`ValidatedLibrary` is a library together with everything validation found in it, the
value an :class:`~engine.runtime.Engine` runs. Validating once and handing the value on is
what lets several engines (or a scenario run and its checks) share one validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from engine.diagnostics import Diagnostic, Severity, Span
from engine.io.yamlsource import JsonPath, SourceMap
from engine.model import (
    CalendarDef,
    EstateDef,
    KpiDef,
    MigrationDef,
    PatternDef,
    ProcessDef,
    QuotaDef,
    ScheduleDef,
    TimeLimitDef,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Located(Generic[T]):
    """A definition with the source map of the file it came from and its path inside it."""

    definition: T
    source_map: SourceMap
    base: JsonPath = ()
    #: The definition as written (after any estate patches), for customisation and display.
    raw: Any = None

    def at(self, *path: str | int, key: bool = False) -> Span:
        """The span of ``path`` below this definition (its key if ``key``)."""
        return self.source_map.locate((*self.base, *path), key=key)


@dataclass
class Library:
    """Every definition loaded from a set of files, in load order, duplicates included.

    Duplicates are kept (and reported by a check) rather than dropped, so the report can
    name both places; lookups by id return the first definition.
    """

    processes: list[Located[ProcessDef]] = field(default_factory=list)
    calendars: list[Located[CalendarDef]] = field(default_factory=list)
    time_limits: list[Located[TimeLimitDef]] = field(default_factory=list)
    estates: list[Located[EstateDef]] = field(default_factory=list)
    schedules: list[Located[ScheduleDef]] = field(default_factory=list)
    quotas: list[Located[QuotaDef]] = field(default_factory=list)
    kpis: list[Located[KpiDef]] = field(default_factory=list)
    patterns: list[Located[PatternDef]] = field(default_factory=list)
    migrations: list[Located[MigrationDef]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    #: For values an estate patch overrode: the patch's span → the library span it replaced.
    shadowed: dict[Span, Span] = field(default_factory=dict)
    #: Ids of processes whose files are broken: their rules are not reported as orphans.
    broken_processes: set[str] = field(default_factory=set)
    #: Files with structural errors whose remainder was loaded (engine/io/recovery.py), with
    #: the sections that lost items doing so.
    incomplete: dict[str, frozenset[str]] = field(default_factory=dict)

    def process(self, process_id: str) -> ProcessDef | None:
        """The first process with this id, if any."""
        for located in self.processes:
            if located.definition.id == process_id:
                return located.definition
        return None

    @property
    def process_ids(self) -> list[str]:
        """Ids of all loaded processes, in load order."""
        return [p.definition.id for p in self.processes]

    @property
    def calendar_ids(self) -> list[str]:
        """Ids of all loaded calendars, in load order."""
        return [c.definition.id for c in self.calendars]


@dataclass(frozen=True)
class ValidatedLibrary:
    """A library after validation: its definitions, every diagnostic found, and the estate
    it was merged for (``None`` for a plain set of files).

    Only an error-free value (:attr:`ok`) can be run; one with errors is still useful to
    report them.
    """

    library: Library
    diagnostics: list[Diagnostic]
    estate: EstateDef | None = None

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that are errors, in report order."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def ok(self) -> bool:
        """Whether validation found no error."""
        return not self.errors
