"""Estates: a client estate's customisation of the standard library, merged and explained.

An estate directory holds ``estate.yaml`` (name, timezone, default calendar, own closed and
working days, what it ``extends``) and patch files. A process file whose ``process:`` names a
process of the library being extended is a JSON Merge Patch over it; one naming a new
process adds it whole. A rules file's calendars and time limits patch, add or (with
``null``) delete by id. Estates may extend other estates; the chain is applied base first.

Everything an estate loads must stay inside it: a file reached through a symbolic link
pointing outside, or an ``extends`` that leaves the directory holding the estates, is refused
(PF403), and so is a circular ``extends`` (PF404). The merged library is then validated like
any other, with every position pointing at the file and line that gave the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located, ValidatedLibrary
from engine.io.loading import add_document, classify, display_path, load_library, yaml_files
from engine.io.merge import PatchProblem, merge_patch, rebase
from engine.io.paths import is_inside, linked_directories_outside, real_path
from engine.io.resources import standard_library_dirs
from engine.io.schemas import FileKind
from engine.io.yamlsource import JsonPath, SourceDocument, SourceMap, load_document
from engine.model import EstateDef

ESTATE_FILE = "estate.yaml"
STANDARD = "standard"
#: The estate's scenario files (``propflow test``): not patches, so never merged.
SCENARIOS_DIR = "scenarios"

#: Item kinds an estate can customise, with the top-level key of their collection.
COLLECTIONS = {
    "calendar": "calendars",
    "time_limit": "time_limits",
    "schedule": "schedules",
    "quota": "quotas",
    "kpi": "kpis",
    "pattern": "patterns",
    "migration": "migrations",
}


@dataclass
class Item:
    """One definition being merged: its raw data and where each part of it came from."""

    raw: Any
    source_map: SourceMap


@dataclass(frozen=True)
class Change:
    """One thing an estate changes: for ``propflow diff``."""

    kind: str
    item: str
    path: JsonPath
    action: str
    span: Span
    old: Any = None
    new: Any = None


@dataclass
class EstateLoad:
    """A merged estate library, the estate itself, what it changed, and what went wrong."""

    library: Library
    diagnostics: list[Diagnostic]
    estate: EstateDef | None = None
    directory: Path | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def validated(self) -> ValidatedLibrary:
        """The merged library, what was found in it and the estate, to run an engine on
        once :func:`engine.checks.validation.validate_estate` has checked it."""
        return ValidatedLibrary(self.library, self.diagnostics, self.estate)


def is_estate_dir(path: Path) -> bool:
    """Whether ``path`` is an estate directory (it holds ``estate.yaml``)."""
    return path.is_dir() and (path / ESTATE_FILE).is_file()


def _error(code: str, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span)


@dataclass
class _Layer:
    directory: Path
    estate: EstateDef
    document: SourceDocument


def _chain(estate_dir: Path, diagnostics: list[Diagnostic]) -> list[_Layer]:
    """The estates from the one extending the standard library down to ``estate_dir``."""
    layers: list[_Layer] = []
    seen: list[Path] = []
    current = estate_dir
    real = real_path(estate_dir)
    if real is None:
        diagnostics.append(
            _error(
                "PF001",
                say("PF001.estate_loop"),
                Span(str(estate_dir), 1, 1),
            )
        )
        return []
    root = real.parent
    while True:
        file = current / ESTATE_FILE
        shown = display_path(file) if file.is_absolute() else str(file)
        if not is_inside(file, current) and real_path(file) is not None:
            diagnostics.append(_outside(ESTATE_FILE, current, Span(shown, 1, 1)))
            return []
        document, problems = load_document(file, shown)
        diagnostics.extend(problems)
        if document is None:
            return []
        holder = Library()
        structural = add_document(document, FileKind.ESTATE, holder)
        diagnostics.extend(structural)
        if structural or not holder.estates:
            return []
        estate = holder.estates[0].definition
        layers.append(_Layer(current, estate, document))
        seen.append(current.resolve())  # inside root, which resolved: no loop
        if estate.extends == STANDARD:
            return list(reversed(layers))
        span = document.source_map.locate(("extends",))
        parent = (current / estate.extends) if "/" in estate.extends else (root / estate.extends)
        if not is_inside(parent, root):
            diagnostics.append(
                _error(
                    "PF403",
                    say("PF403.extends_out", extends=estate.extends, root=root.name),
                    span,
                )
            )
            return []
        if parent.resolve() in seen:
            names = " → ".join(p.name for p in [*seen, parent.resolve()])
            diagnostics.append(_error("PF404", say("PF404.circle", names=names), span))
            return []
        if not is_estate_dir(parent):
            diagnostics.append(
                _error(
                    "PF403",
                    say(
                        "PF403.no_estate",
                        extends=estate.extends,
                        file=ESTATE_FILE,
                        directory=parent.name,
                    ),
                    span,
                )
            )
            return []
        current = parent


def _patch_files(layer: _Layer, diagnostics: list[Diagnostic]) -> list[Path]:
    """The layer's YAML files other than ``estate.yaml`` and its scenarios, refusing any that
    lead outside."""
    files = []
    for link in linked_directories_outside(layer.directory, layer.directory):
        diagnostics.append(
            _error(
                "PF403",
                say(
                    "PF403.directory_link",
                    link=link.relative_to(layer.directory),
                    estate=layer.directory.name,
                ),
                Span(str(link), 1, 1),
            )
        )
    for path in yaml_files(layer.directory):
        relative = path.relative_to(layer.directory)
        if path.name == ESTATE_FILE or relative.parts[0] == SCENARIOS_DIR:
            continue
        # A loop of links leads nowhere: the reader reports it without opening anything.
        if real_path(path) is not None and not is_inside(path, layer.directory):
            diagnostics.append(_outside(str(relative), layer.directory, Span(str(path), 1, 1)))
            continue
        files.append(path)
    return files


def _outside(relative: str, directory: Path, span: Span) -> Diagnostic:
    """PF403 for a file of an estate that is a link leading out of it."""
    return _error(
        "PF403",
        say("PF403.file_link", link=relative, estate=directory.name),
        span,
    )


class _Merger:
    """Applies estate layers to the items of a base library."""

    def __init__(self, base: Library) -> None:
        self.items: dict[tuple[str, str], Item] = {}
        self.order: list[tuple[str, str]] = []
        self.shadowed: dict[Span, Span] = dict(base.shadowed)
        self.changes: list[Change] = []
        self.diagnostics: list[Diagnostic] = []
        for located in base.processes:
            self._add(("process", located.definition.id), Item(located.raw, located.source_map))
        for kind, collection in COLLECTIONS.items():
            for located in getattr(base, f"{collection}"):
                key = (kind, located.definition.id)
                self._add(key, Item(located.raw, rebase(located.source_map, located.base, ())))

    def _add(self, key: tuple[str, str], item: Item) -> None:
        if key not in self.items:
            self.order.append(key)
        self.items[key] = item

    def apply(self, document: SourceDocument, kind: FileKind, file: str) -> None:
        if kind is FileKind.PROCESS:
            name = str(document.data.get("process"))
            self._patch(("process", name), document.data, document.source_map, file)
            return
        if kind is FileKind.ESTATE:
            self.diagnostics.append(
                _error(
                    "PF008",
                    say("PF008.estate_in_patch", file=ESTATE_FILE),
                    document.source_map.locate(()),
                )
            )
            return
        for item_kind, collection in COLLECTIONS.items():
            for item_id, value in (document.data.get(collection) or {}).items():
                key = (item_kind, str(item_id))
                path = (collection, item_id)
                if value is None:
                    self._delete(key, document.source_map.locate(path, key=True), file)
                    continue
                self._patch(key, value, rebase(document.source_map, path, ()), file)

    def _delete(self, key: tuple[str, str], span: Span, file: str) -> None:
        if key not in self.items:
            self.diagnostics.append(
                _error(
                    "PF401",
                    say("PF401.no_item", kind=say(f"kinds.{key[0]}"), id=key[1]),
                    span,
                )
            )
            return
        del self.items[key]
        self.order.remove(key)
        self.changes.append(Change(key[0], key[1], (), "deleted", span))

    def _patch(self, key: tuple[str, str], patch: Any, patch_map: SourceMap, file: str) -> None:
        existing = self.items.get(key)
        if existing is None:
            self._add(key, Item(patch, patch_map))
            self.changes.append(Change(key[0], key[1], (), "added", patch_map.locate(())))
            return
        result = merge_patch(existing.raw, existing.source_map, patch, patch_map)
        for problem in result.problems:
            self.diagnostics.append(_problem(problem))
        self.shadowed.update(result.shadowed)
        self.changes.extend(_changes(key, existing.raw, patch, patch_map, ()))
        self.items[key] = Item(result.value, result.source_map)

    def library(self) -> Library:
        """The merged items as a library, each checked against its schema."""
        library = Library(shadowed=self.shadowed)
        for key in self.order:
            item = self.items[key]
            if key[0] == "process":
                document = SourceDocument(
                    item.source_map.locate(()).file, item.raw, item.source_map
                )
                self.diagnostics.extend(
                    self._unsaid(add_document(document, FileKind.PROCESS, library))
                )
            else:
                collection = COLLECTIONS[key[0]]
                path: JsonPath = (collection, key[1])
                document = SourceDocument(
                    item.source_map.locate(()).file,
                    {collection: {key[1]: item.raw}},
                    rebase(item.source_map, (), path),
                )
                self.diagnostics.extend(
                    self._unsaid(add_document(document, FileKind.RULES, library))
                )
        return library

    def _unsaid(self, found: list[Diagnostic]) -> list[Diagnostic]:
        """A merged item's schema errors, less those at a value a patch gave the wrong type:
        PF402 already reports it there, and says that the patch changed the type."""
        retyped = {d.span for d in self.diagnostics if d.code == "PF402"}
        return [d for d in found if not (d.code == "PF050" and d.span in retyped)]


def _problem(problem: PatchProblem) -> Diagnostic:
    code = "PF401" if problem.kind == "missing-delete" else "PF402"
    also = ((say("PF402.library_value"), problem.base),) if problem.base is not None else ()
    return Diagnostic(code, Severity.ERROR, problem.message, problem.span, also)


def _changes(
    key: tuple[str, str], base: Any, patch: Any, patch_map: SourceMap, path: JsonPath
) -> list[Change]:
    """What a merge patch changes, leaf by leaf, for ``propflow diff``."""
    if isinstance(patch, dict) and isinstance(base, dict):
        found: list[Change] = []
        for name, value in patch.items():
            child = (*path, name)
            if value is None:
                if name in base:
                    found.append(
                        Change(
                            key[0],
                            key[1],
                            child,
                            "deleted",
                            patch_map.locate(child, key=True),
                            old=base[name],
                        )
                    )
            elif name not in base:
                found.append(
                    Change(key[0], key[1], child, "added", patch_map.locate(child), new=value)
                )
            else:
                found.extend(_changes(key, base[name], value, patch_map, child))
        return found
    if base == patch:
        return []
    return [Change(key[0], key[1], path, "changed", patch_map.locate(path), old=base, new=patch)]


def load_estate(estate_dir: Path, standard: Sequence[Path] | None = None) -> EstateLoad:
    """Merge an estate (and the estates it extends) over the standard library."""
    diagnostics: list[Diagnostic] = []
    layers = _chain(estate_dir, diagnostics)
    if not layers:
        return EstateLoad(Library(), diagnostics, directory=estate_dir)
    base = load_library(standard if standard is not None else standard_library_dirs())
    merger = _Merger(base.library)
    files: list[str] = list(base.library.files)
    for layer in layers:
        for path in _patch_files(layer, diagnostics):
            display = display_path(path) if path.is_absolute() else str(path)
            files.append(display)
            document, problems = load_document(path, display)
            diagnostics.extend(problems)
            if document is None:
                continue
            kind, problem = classify(document)
            if kind is None:
                assert problem is not None
                diagnostics.append(problem)
                continue
            merger.apply(document, kind, str(path))
    library = merger.library()
    library.files = files
    estate = layers[-1]
    library.estates.append(
        Located(estate.estate, estate.document.source_map, (), estate.document.data)
    )
    diagnostics = base.diagnostics + diagnostics + merger.diagnostics
    return EstateLoad(library, diagnostics, estate.estate, estate.directory, merger.changes)
