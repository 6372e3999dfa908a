"""Loading: files and directories → typed definitions with their source positions.

The pipeline for each file is read → parse (positions kept) → tell its kind → check its
structure against the kind's JSON Schema → build the pydantic definitions. A file that fails a
step is reported and left out of later steps, so one broken file never hides the problems of
the others and never produces a cascade of follow-on errors.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pydantic import ValidationError

from engine.diagnostics import Diagnostic, Severity, Span
from engine.model import CalendarDef, EstateDef, ProcessDef, QuotaDef, ScheduleDef, TimeLimitDef
from engine.model.common import keyed
from engine.model.process import VERSION, process_version
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

    def extend(self, other: Library) -> None:
        """Add ``other``'s definitions after this library's, as if its files came next."""
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, list):
                mine.extend(theirs)
            else:  # the mapping of shadowed spans, the set of broken processes
                mine.update(theirs)

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

    At the end, what the batch made is handed to the collector's oldest generation
    (``freeze`` then ``unfreeze``) rather than left in the youngest: the first collection
    after the batch would otherwise go over every one of those objects once more (0.17 s
    after loading the benchmark's 2,001 files) only to find them alive and promote them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def load_library(paths: Iterable[Path]) -> LoadResult:
    """Load every PropFlow file under ``paths`` into one :class:`Library`.

    A large set of files is loaded on every core, in parts (see :func:`_load_parts`)
    joined in the order of the files, so the library and the diagnostics are the same
    however the files were loaded.
    """
    files, diagnostics = discover(paths)
    library = Library()
    with gc_paused():
        for part in _load_parts(files):
            library.extend(part.library)
            diagnostics.extend(part.diagnostics)
    return LoadResult(library, diagnostics)


def display_path(path: Path) -> str:
    """How a file is named in diagnostics: relative to the current directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class PreparedFile:
    """One file read, parsed, told its kind and checked against its schema.

    This is the part of loading that needs nothing but the file itself, and the costly
    part; it pickles, so a worker process can do it (see :func:`_load_parts`).
    ``document`` and ``kind`` are ``None`` when the file got no further than
    ``diagnostics``; ``structural`` are its schema problems, which keep it out of the
    library.
    """

    display: str
    document: SourceDocument | None
    kind: FileKind | None
    diagnostics: list[Diagnostic]
    structural: list[Diagnostic] = field(default_factory=list)
    #: A sound process file's ``version`` (:func:`~engine.model.process.process_version`),
    #: hashed here so that a worker does it.
    version: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with the document's data marshalled: the loader makes it of plain
        dictionaries, lists, text, numbers, booleans and nulls only, which :mod:`marshal`
        writes many times faster than pickle, and a worker sends back every file it read."""
        document = self.document
        packed = (
            None
            if document is None
            else (document.file, marshal.dumps(document.data), document.source_map)
        )
        return (
            _unpickle_prepared,
            (self.display, packed, self.kind, self.diagnostics, self.structural, self.version),
        )


def _unpickle_prepared(
    display: str,
    packed: tuple[str, bytes, SourceMap] | None,
    kind: FileKind | None,
    diagnostics: list[Diagnostic],
    structural: list[Diagnostic],
    version: str | None,
) -> PreparedFile:
    """A :class:`PreparedFile` pickled by its ``__reduce__``."""
    document = None
    if packed is not None:
        file, data, source_map = packed
        document = SourceDocument(file, marshal.loads(data), source_map)
    return PreparedFile(display, document, kind, diagnostics, structural, version)


def prepare_file(path: Path) -> PreparedFile:
    """Read, parse, classify and structure-check one file, touching no library."""
    display = str(path)
    document, diagnostics = load_document(path, display)
    if document is None:
        return PreparedFile(display, None, None, diagnostics)
    kind, problem = classify(document)
    if kind is None:
        assert problem is not None
        return PreparedFile(display, None, None, [*diagnostics, problem])
    structural = validate_structure(document, kind)
    version = (
        process_version(document.data) if kind is FileKind.PROCESS and not structural else None
    )
    return PreparedFile(display, document, kind, diagnostics, structural, version)


def add_prepared(prepared: PreparedFile, library: Library) -> list[Diagnostic]:
    """Add a prepared file's definitions to ``library``; return what was wrong with it."""
    library.files.append(prepared.display)
    if prepared.document is None or prepared.kind is None:
        return prepared.diagnostics
    return prepared.diagnostics + _add_checked(
        prepared.document, prepared.kind, prepared.structural, library, prepared.version
    )


#: Fewer files than this are loaded in this process alone: starting a worker would cost
#: more than it saves.
PARALLEL_MIN_FILES = 64
#: Files per part: few enough that the workers and this process finish close together,
#: enough that handing parts out costs little.
CHUNK_FILES = 16
#: Seconds to wait for the lock on the shared chunk indexes before taking its holder for dead.
CLAIM_TIMEOUT_S = 5.0


def _load_parts(files: Sequence[Path]) -> list[LoadResult]:
    """``files`` loaded in parts, in order: on several cores when there are many.

    With :data:`PARALLEL_MIN_FILES` files or more and more than one core, forked worker
    processes prepare parts from the front of the list (:class:`PreparedFile` needs nothing
    else) and send each back as soon as it is done; this process builds the definitions of
    each part that has come back and, while none has, prepares a part from the back of the
    list itself. Each side claims its next part from two indexes in shared memory, so the
    two ends meet wherever the cores' speeds (and the other work on the machine) put them,
    and no thread of this process has to take the interpreter's lock to hand out work.
    Whoever prepared a file, its definitions and diagnostics are the same. Where workers
    cannot be used (see :func:`_workers`), or if one dies, the files are prepared here.
    """
    workers = _workers() if len(files) >= PARALLEL_MIN_FILES else 0
    if not workers:
        return [_load_prepared(map(prepare_file, files))]
    chunks = [files[start : start + CHUNK_FILES] for start in range(0, len(files), CHUNK_FILES)]
    #: [front, back]: chunks[front:back] are not claimed yet.
    bounds = multiprocessing.get_context("fork").Array("l", [0, len(chunks)])
    started = [_fork(_prepare_front, chunks, bounds) for _ in range(workers)]
    children = [child for child in started if child is not None]
    parts: dict[int, LoadResult] = {}
    receiving = [receiver for _, receiver in children]
    try:
        while receiving:
            ready = _ready(receiving, 0)
            if not ready:
                index = _claim(bounds, front=False)
                if index is None:  # nothing left to prepare: wait for the workers' parts
                    ready = _ready(receiving, None)
                else:
                    parts[index] = _load_prepared(_prepare_chunk(chunks[index]))
            for receiver in ready:
                try:
                    index, prepared = receiver.recv()
                except EOFError:  # the worker is done, or died
                    receiving.remove(receiver)
                else:
                    parts[index] = _load_prepared(prepared)
    finally:
        for process, receiver in children:
            receiver.close()
            process.join()
    # The parts a dead worker claimed but never sent, and all of them if none started.
    return [
        parts[index] if index in parts else _load_prepared(_prepare_chunk(chunk))
        for index, chunk in enumerate(chunks)
    ]


def _ready(receivers: list[Connection], timeout: float | None) -> list[Connection]:
    """Those of ``receivers`` with something to receive (or closed), waiting at most
    ``timeout`` seconds (``None``: until one has)."""
    return cast(list[Connection], wait(receivers, timeout))


def _claim(bounds: Any, *, front: bool) -> int | None:
    """Claim the next unclaimed chunk from the front or the back, if any is left.

    ``None`` too when the lock cannot be had within :data:`CLAIM_TIMEOUT_S`: it is only
    ever held for a few instructions, so a process must have died holding it. The claimer
    then claims nothing more, and what nobody sent back is prepared at the end (see
    :func:`_load_parts`): a killed worker can slow validation down, never hang it.
    """
    lock = bounds.get_lock()
    if not lock.acquire(timeout=CLAIM_TIMEOUT_S):
        return None
    try:
        first, end = bounds[0], bounds[1]
        if first >= end:
            return None
        if front:
            bounds[0] = first + 1
            return int(first)
        bounds[1] = end - 1
        return int(end - 1)
    finally:
        lock.release()


def _prepare_front(chunks: Sequence[Sequence[Path]], bounds: Any, sender: Connection) -> None:
    """A worker's task: prepare chunks from the front and send each back with its index.

    A chunk that raises is not sent: the worker stops, and the validating process prepares
    the chunk again itself and gets the exception (see :func:`_load_parts`).
    """
    with contextlib.suppress(Exception):
        while (index := _claim(bounds, front=True)) is not None:
            sender.send((index, _prepare_chunk(chunks[index])))
    sender.close()


def _load_prepared(prepared: Iterable[PreparedFile]) -> LoadResult:
    """The definitions and diagnostics of some prepared files, as a library of their own."""
    library = Library()
    diagnostics: list[Diagnostic] = []
    for item in prepared:
        diagnostics.extend(add_prepared(item, library))
    return LoadResult(library, diagnostics)


def _prepare_chunk(files: Sequence[Path]) -> list[PreparedFile]:
    """Prepare one part's files, in a worker or in this process."""
    return [prepare_file(path) for path in files]


def _workers() -> int:
    """How many worker processes to load files with: one per core beyond this process's,
    and none where they cannot be used.

    Workers are forked, which starts them in milliseconds with everything already imported.
    That is unsafe or impossible on systems other than Linux (macOS has ``fork``, but its
    system libraries do not survive it), in a daemon process (which may not have children)
    and in a process running other threads, whose locks a child could inherit held.
    """
    if (
        not sys.platform.startswith("linux")
        or multiprocessing.current_process().daemon
        or threading.active_count() > 1
    ):
        return 0
    return max(len(os.sched_getaffinity(0)) - 1, 0)


def forked(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` in a forked process; return what waits for its result.

    For work on a large library already in memory (the checks, see
    :func:`engine.checks.run_checks`): a forked child has it without copying, and sends
    back only the (pickled) result. Where workers cannot be used (see :func:`_workers`),
    or if the child fails or dies, ``work`` runs in this process when its result is asked
    for, so the result (or the exception) is the same either way.
    """
    child = _fork(_send_result, work) if _workers() else None
    if child is None:
        return work
    process, receiver = child

    def result() -> T:
        try:
            ok, value = receiver.recv()
        except EOFError:  # the child died before sending anything
            ok, value = False, None
        finally:
            receiver.close()
            process.join()
        return value if ok else work()

    return result


def _send_result(work: Callable[[], T], sender: Connection) -> None:
    """A forked child's task: send ``(True, work())``, or ``(False, None)`` if it raised, so
    that the parent runs it again and gets the exception itself."""
    try:
        outcome: tuple[bool, T | None] = (True, work())
    except Exception:
        outcome = (False, None)
    sender.send(outcome)
    sender.close()


def _fork(target: Callable[..., None], *args: Any) -> tuple[BaseProcess, Connection] | None:
    """Run ``target(*args, sender)`` in a forked child; return it and the end of the pipe
    it sends on, or ``None`` if it could not be started.

    Forked, the child starts in milliseconds with everything this process holds, and the
    arguments are not pickled. ``_workers`` says where forking is safe.
    """
    context = multiprocessing.get_context("fork")
    try:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=target, args=(*args, sender), daemon=True)
        process.start()
    except OSError:  # fork failed: no memory, too many processes
        return None
    sender.close()
    return process, receiver


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
    return _add_checked(document, kind, validate_structure(document, kind), library)


def _add_checked(
    document: SourceDocument,
    kind: FileKind,
    structural: list[Diagnostic],
    library: Library,
    version: str | None = None,
) -> list[Diagnostic]:
    """Add a document whose structure was checked (``structural``: the problems found);
    ``version`` is a process's, if already computed."""
    if structural:
        if kind is FileKind.PROCESS and isinstance(document.data.get("process"), str):
            library.broken_processes.add(document.data["process"])
        return structural
    return _build(document, kind, library, version)


def _build(
    document: SourceDocument, kind: FileKind, library: Library, version: str | None
) -> list[Diagnostic]:
    """Build definitions from a structurally valid document."""
    data, source_map = document.data, document.source_map
    try:
        if kind is FileKind.PROCESS:
            context = None if version is None else {VERSION: version}
            process = ProcessDef.model_validate(data, context=context)
            library.processes.append(Located(process, source_map, (), data))
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
