"""Loading: files and directories → typed definitions with their source positions.

The pipeline for each file is read → parse (positions kept) → tell its kind → check its
structure against the kind's JSON Schema → build the pydantic definitions. A file that fails a
step is reported and left out of later steps, so one broken file never hides the problems of
the others and never produces a cascade of follow-on errors.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.io.paths import real_path
from engine.io.recovery import salvage
from engine.io.schemas import (
    SCHEMA_CODE,
    FileKind,
    detect_kind,
    positioned,
    structural_problems,
    validate_structure,
)
from engine.io.yamlsource import JsonPath, SourceDocument, SourceMap, load_document
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
from engine.model.common import keyed

_Model = TypeVar("_Model", bound=BaseModel)

YAML_SUFFIXES = (".yaml", ".yml")
#: The top-level key of a scenario file (``propflow test`` runs it; validating checks its shape).
SCENARIO_KEY = "scenario"


class UsageError(Exception):
    """A mistake in how the command was called (a path that does not exist): exit code 2."""


@dataclass
class LoadResult:
    """A library and every diagnostic found while loading it."""

    library: Library
    diagnostics: list[Diagnostic]


def yaml_files(directory: Path) -> list[Path]:
    """Every YAML file (``*.yaml``, ``*.yml``) below ``directory``, sorted by path.

    Hidden files and directories (``.git``) are skipped. Symbolic links (even broken ones),
    FIFOs and devices are listed, so that the reader can refuse them; callers that only want
    regular files (or only some of them) filter this list: it is the one place YAML files
    are looked for.
    """
    return sorted(
        path
        for path in directory.rglob("*")
        if path.suffix in YAML_SUFFIXES
        and (path.is_symlink() or not path.is_dir())
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def check_exists(path: Path) -> None:
    """Raise :class:`UsageError` for a path given on the command line that is not there."""
    if not (path.exists() or path.is_symlink()):
        raise UsageError(say("usage.no_such_path", path=path))


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The YAML files named by ``paths``: files as given, directories searched recursively.

    A path that does not exist is a usage error; a directory without YAML is a diagnostic,
    since it is usually a wrong path in a CI job.
    """
    files: list[Path] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = yaml_files(path)
            if not found:
                diagnostics.append(
                    Diagnostic(
                        "PF009",
                        Severity.ERROR,
                        say("PF009.none"),
                        Span(str(path), 1, 1),
                    )
                )
            files.extend(found)
        else:
            check_exists(path)
            files.append(path)
    return list(dict.fromkeys(files)), diagnostics


def load_library(
    paths: Iterable[Path], on_file: Callable[[Path], None] | None = None
) -> LoadResult:
    """Load every PropFlow file under ``paths`` into one :class:`Library`, in file order;
    ``on_file`` is told of each file read (a command's progress line)."""
    files, diagnostics = discover(paths)
    library = Library()
    with collector_paused():
        for path in files:
            diagnostics.extend(load_file(path, library))
            if on_file is not None:
                on_file(path)
    return LoadResult(library, diagnostics)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while files are read.

    Reading keeps nearly everything it makes (the definitions, their source maps) and makes
    no cycles, yet each batch of new objects set the collector going over all that the
    library already holds: the more files read, the longer each pass, so loading grew
    faster than the files. What little cyclic garbage reading leaves is collected after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_file(path: Path, library: Library) -> list[Diagnostic]:
    """Read, parse, classify and check one file, add its definitions to ``library``, and
    return what was wrong with it."""
    display = str(path)
    library.files.append(display)
    document, diagnostics = load_document(path, display)
    if document is None:
        return diagnostics
    if SCENARIO_KEY in document.data:  # a test of an estate: checked, not part of a library
        return diagnostics + validate_structure(document, FileKind.SCENARIO)
    kind, problem = classify(document)
    if kind is None:
        assert problem is not None
        return [*diagnostics, problem]
    return diagnostics + add_document(document, kind, library)


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the current directory when inside it."""
    real = real_path(path)
    try:
        return str(real.relative_to(Path.cwd().resolve())) if real is not None else str(path)
    except ValueError:
        return str(path)


def classify(document: SourceDocument) -> tuple[FileKind | None, Diagnostic | None]:
    """The kind of a parsed document, or the diagnostic saying it has none."""
    kind = detect_kind(document.data)
    if kind is not None:
        return kind, None
    keys = ", ".join(f"'{k}'" for k in list(document.data)[:3]) or say("PF008.nothing")
    return None, Diagnostic(
        "PF008",
        Severity.ERROR,
        say("PF008.kind", keys=keys),
        document.source_map.locate(()),
    )


def add_document(document: SourceDocument, kind: FileKind, library: Library) -> list[Diagnostic]:
    """Check a parsed document's structure and add its definitions to ``library``: those
    of what is left once its broken parts are cut out, if it has structural errors (see
    :mod:`engine.io.recovery`), so that its other mistakes are reported in the same run."""
    problems = list(structural_problems(document.data, kind))
    if not problems:
        return add_definitions(document, kind, library)
    if kind is FileKind.PROCESS and isinstance(document.data.get("process"), str):
        library.broken_processes.add(document.data["process"])
    remainder = salvage(document.data, kind, problems)
    if remainder is not None:
        library.incomplete[document.file] = remainder.incomplete
        # The model's objections to a remainder would be follow-ons of the errors reported.
        add_definitions(
            SourceDocument(document.file, remainder.data, document.source_map), kind, library
        )
    return positioned(document, problems)


def add_definitions(document: SourceDocument, kind: FileKind, library: Library) -> list[Diagnostic]:
    """Build the pydantic definitions of a document whose structure is valid and add them to
    ``library``; return the model's objections, positioned (the schema and the models agree
    on shapes, so there should be none: tests/test_schemas.py checks it)."""
    data, source_map = document.data, document.source_map
    try:
        if kind is FileKind.PROCESS:
            process = ProcessDef.model_validate(data)
            locate_short_roles(data, source_map)
            library.processes.append(Located(process, source_map, (), data))
        elif kind is FileKind.ESTATE:
            library.estates.append(Located(EstateDef.model_validate(data), source_map, (), data))
        else:
            _add_items(data, source_map, "calendars", CalendarDef, library.calendars)
            _add_items(data, source_map, "time_limits", TimeLimitDef, library.time_limits)
            _add_items(data, source_map, "schedules", ScheduleDef, library.schedules)
            _add_items(data, source_map, "quotas", QuotaDef, library.quotas)
            _add_items(data, source_map, "kpis", KpiDef, library.kpis)
            _add_items(data, source_map, "patterns", PatternDef, library.patterns)
            _add_items(data, source_map, "migrations", MigrationDef, library.migrations)
    except ValidationError as exc:
        return [model_error(document, error) for error in exc.errors()]
    return []


def locate_short_roles(data: dict[str, Any], source_map: SourceMap) -> None:
    """Give each role of the short form ``roles: [receptionist, ...]`` the place of its id in
    the list, where the checks look for a role's key (``roles.receptionist``)."""
    roles = data.get("roles")
    if not isinstance(roles, list):
        return
    for index, role in enumerate(roles):
        where = source_map.values.get(("roles", index))
        if isinstance(role, str) and where is not None:
            source_map.keys.setdefault(("roles", role), where)
            source_map.values.setdefault(("roles", role), where)


def _add_items(
    data: dict[str, Any],
    source_map: SourceMap,
    collection: str,
    model: type[_Model],
    into: list[Located[_Model]],
) -> None:
    """Build the definitions of one collection of a rules file (``calendars:``...), each
    located at its own key."""
    for base, item in _items(data, collection):
        into.append(Located(model.model_validate(item), source_map, base, _raw(data, base)))


def _raw(data: dict[str, Any], base: JsonPath) -> Any:
    collection, item_id = base
    return data[str(collection)][item_id]


def _items(data: dict[str, Any], collection: str) -> Iterator[tuple[JsonPath, Any]]:
    for item_id, item in keyed(data.get(collection) or {}).items():
        yield (collection, item_id), item


def model_error(document: SourceDocument, error: Any) -> Diagnostic:
    """A pydantic error, for the rare shape the schema let through; still positioned."""
    path = tuple(part for part in error.get("loc", ()) if isinstance(part, (str, int)))
    where = ".".join(str(p) for p in path) or say("PF050.top_level")
    return Diagnostic(
        SCHEMA_CODE,
        Severity.ERROR,
        say("PF050.model", where=where, detail=error.get("msg") or say("PF050.invalid")),
        document.source_map.locate(path),
    )
