"""Loading: files and directories → typed definitions with their source positions.

The pipeline for each file is read → parse (positions kept) → tell its kind → check its
structure against the kind's JSON Schema → build the pydantic definitions. A file that fails a
step is reported and left out of later steps, so one broken file never hides the problems of
the others and never produces a cascade of follow-on errors.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from engine.diagnostics import Diagnostic, Severity, Span
from engine.model import CalendarDef, EstateDef, ProcessDef, QuotaDef, ScheduleDef, TimeLimitDef
from engine.model.common import keyed
from engine.schemas import SCHEMA_CODE, FileKind, detect_kind, validate_structure
from engine.yamlsource import JsonPath, SourceDocument, SourceMap, load_document

YAML_SUFFIXES = (".yaml", ".yml")

T = TypeVar("T")


class UsageError(Exception):
    """A mistake in how the command was called (a path that does not exist): exit code 2."""


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
    files: list[str] = field(default_factory=list)
    #: For values an estate patch overrode: the patch's span → the library span it replaced.
    shadowed: dict[Span, Span] = field(default_factory=dict)
    #: Ids of processes whose files are broken: their rules are not reported as orphans.
    broken_processes: set[str] = field(default_factory=set)

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


@dataclass
class LoadResult:
    """A library and every diagnostic found while loading it."""

    library: Library
    diagnostics: list[Diagnostic]


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The YAML files named by ``paths``: files as given, directories searched recursively.

    Hidden directories (``.git``) are skipped. A path that does not exist is a usage error; a
    directory without YAML is a diagnostic, since it is usually a wrong path in a CI job.
    """
    files: list[Path] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in YAML_SUFFIXES
                and (p.is_file() or p.is_symlink())
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                diagnostics.append(
                    Diagnostic(
                        "PF009",
                        Severity.ERROR,
                        "no YAML files (*.yaml, *.yml) in this directory",
                        Span(str(path), 1, 1),
                    )
                )
            files.extend(found)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise UsageError(f"no such file or directory: {path}")
    unique = list(dict.fromkeys(files))
    return unique, diagnostics


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a batch of work that makes no garbage cycles.

    Loading keeps a position for every value of every file; with the collector running, its
    repeated passes over those millions of live objects took more time than the loading
    itself. Reference counting still frees everything as usual meanwhile.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_library(paths: Iterable[Path]) -> LoadResult:
    """Load every PropFlow file under ``paths`` into one :class:`Library`."""
    files, diagnostics = discover(paths)
    library = Library()
    with gc_paused():
        for path in files:
            diagnostics.extend(load_file(path, library))
    return LoadResult(library, diagnostics)


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_file(path: Path, library: Library) -> list[Diagnostic]:
    """Load one file into ``library``; return what was wrong with it."""
    display = str(path)
    document, diagnostics = load_document(path, display)
    library.files.append(display)
    if document is None:
        return diagnostics
    kind, problem = classify(document)
    if kind is None:
        assert problem is not None
        return [*diagnostics, problem]
    return diagnostics + add_document(document, kind, library)


def classify(document: SourceDocument) -> tuple[FileKind | None, Diagnostic | None]:
    """The kind of a parsed document, or the diagnostic saying it has none."""
    kind = detect_kind(document.data)
    if kind is not None:
        return kind, None
    keys = ", ".join(f"'{k}'" for k in list(document.data)[:3]) or "nothing"
    return None, Diagnostic(
        "PF008",
        Severity.ERROR,
        f"cannot tell what kind of PropFlow file this is (it starts with {keys}); "
        "expected 'process:', 'estate:', 'calendars:', 'time_limits:', 'schedules:' or "
        "'quotas:'",
        document.source_map.locate(()),
    )


def add_document(document: SourceDocument, kind: FileKind, library: Library) -> list[Diagnostic]:
    """Check a parsed document's structure and add its definitions to ``library``."""
    structural = validate_structure(document, kind)
    if structural:
        if kind is FileKind.PROCESS and isinstance(document.data.get("process"), str):
            library.broken_processes.add(document.data["process"])
        return structural
    return _build(document, kind, library)


def _build(document: SourceDocument, kind: FileKind, library: Library) -> list[Diagnostic]:
    """Build definitions from a structurally valid document."""
    data, source_map = document.data, document.source_map
    try:
        if kind is FileKind.PROCESS:
            library.processes.append(Located(ProcessDef.model_validate(data), source_map, (), data))
        elif kind is FileKind.ESTATE:
            library.estates.append(Located(EstateDef.model_validate(data), source_map, (), data))
        else:
            for base, item in _items(data, "calendars"):
                library.calendars.append(
                    Located(CalendarDef.model_validate(item), source_map, base, _raw(data, base))
                )
            for base, item in _items(data, "time_limits"):
                library.time_limits.append(
                    Located(TimeLimitDef.model_validate(item), source_map, base, _raw(data, base))
                )
            for base, item in _items(data, "schedules"):
                library.schedules.append(
                    Located(ScheduleDef.model_validate(item), source_map, base, _raw(data, base))
                )
            for base, item in _items(data, "quotas"):
                library.quotas.append(
                    Located(QuotaDef.model_validate(item), source_map, base, _raw(data, base))
                )
    except ValidationError as exc:
        return [_model_error(document, error) for error in exc.errors()]
    return []


def _raw(data: dict[str, Any], base: JsonPath) -> Any:
    collection, item_id = base
    return data[str(collection)][item_id]


def _items(data: dict[str, Any], collection: str) -> Iterator[tuple[JsonPath, Any]]:
    for item_id, item in keyed(data.get(collection) or {}).items():
        yield (collection, item_id), item


def _model_error(document: SourceDocument, error: Any) -> Diagnostic:
    """A pydantic error, for the rare shape the schema let through; still positioned."""
    path = tuple(part for part in error.get("loc", ()) if isinstance(part, (str, int)))
    where = ".".join(str(p) for p in path) or "the top level"
    return Diagnostic(
        SCHEMA_CODE,
        Severity.ERROR,
        f"{where}: {error.get('msg', 'invalid value')}",
        document.source_map.locate(path),
    )
