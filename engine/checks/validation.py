"""Validation: load files and estates, run every check, and summarise what was found.

The one entry point shared by ``propflow validate``, the pre-commit hook, the engine and the
tests, so all of them see exactly the same diagnostics. A directory holding ``estate.yaml`` is
an estate: it is merged over the standard library (see :mod:`engine.io.estates`) and the merged
result is checked; a directory holding several estates is checked estate by estate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.checks import run_checks
from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.io.estates import ESTATE_FILE, EstateLoad, is_estate_dir, load_estate
from engine.io.library import Library, ValidatedLibrary
from engine.io.loading import check_exists, load_library, yaml_files
from engine.io.resources import standard_library_dirs


@dataclass(frozen=True)
class ValidationReport:
    """What validating a set of files found."""

    library: Library
    diagnostics: list[Diagnostic]
    estates: list[EstateLoad] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def failed(self, strict: bool) -> bool:
        """Errors fail; warnings fail too under ``--strict``."""
        return self.errors > 0 or (strict and self.warnings > 0)

    @property
    def validated(self) -> ValidatedLibrary:
        """The library of the plain files with every diagnostic found, to run an engine on."""
        return ValidatedLibrary(self.library, self.diagnostics)

    def summary(self) -> dict[str, object]:
        """Counts for the closing line and the JSON output."""
        libraries = [self.library, *(estate.library for estate in self.estates)]
        return {
            "files": sum(len(lib.files) for lib in libraries),
            "processes": sum(len(lib.processes) for lib in libraries),
            "calendars": sum(len(lib.calendars) for lib in libraries),
            "time_limits": sum(len(lib.time_limits) for lib in libraries),
            "estates": sum(len(lib.estates) for lib in libraries),
            "errors": self.errors,
            "warnings": self.warnings,
        }


def check_library(library: Library, found: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Loader diagnostics plus every check's, sorted; patched values also name what they met."""
    diagnostics = [*found, *run_checks(library)]
    for index, diagnostic in enumerate(diagnostics):
        met = library.shadowed.get(diagnostic.span)
        if met is not None and not diagnostic.also:
            diagnostics[index] = dataclasses.replace(
                diagnostic, also=((say("notes.replaced"), met),)
            )
    return sorted(diagnostics, key=Diagnostic.sort_key)


def validate_estate(directory: Path, standard: Sequence[Path] | None = None) -> EstateLoad:
    """Merge and check one estate; its diagnostics include the checks on the merged library."""
    load = load_estate(directory, standard)
    load.diagnostics = _point_at_patches(load, check_library(load.library, load.diagnostics))
    return load


def _point_at_patches(load: EstateLoad, found: list[Diagnostic]) -> list[Diagnostic]:
    """Findings at a library file of a process the estate patches, with a note at the patch.

    A patch can break what it does not touch (redirect the only event into a state and
    that state becomes unreachable, PF106 at the library's state): the consultant needs to
    see which of their changes to look at.
    """
    patched: dict[str, Span] = {}
    for change in load.changes:
        if change.kind == "process" and change.action == "changed":
            patched.setdefault(change.item, change.span)
    if not patched:
        return found
    roots = {
        located.source_map.locate(()).file: located.definition.id
        for located in load.library.processes
    }
    noted: list[Diagnostic] = []
    for diagnostic in found:
        patch = patched.get(roots.get(diagnostic.span.file, ""))
        if patch is not None and not diagnostic.also and patch.file != diagnostic.span.file:
            diagnostic = dataclasses.replace(
                diagnostic, also=((say("notes.estate_change"), patch),)
            )
        noted.append(diagnostic)
    return noted


def _split(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Plain files and directories, and estate directories, from the paths given."""
    plain: list[Path] = []
    estates: list[Path] = []
    for path in paths:
        if path.is_file() and path.name == ESTATE_FILE:
            estates.append(path.parent)
        elif is_estate_dir(path):
            estates.append(path)
        elif path.is_dir():
            found = yaml_files(path)
            nested = sorted(marker.parent for marker in found if marker.name == ESTATE_FILE)
            if not nested:
                plain.append(path)
                continue
            estates.extend(nested)
            plain.extend(
                candidate
                for candidate in found
                if candidate.is_file() and not any(estate in candidate.parents for estate in nested)
            )
        else:
            check_exists(path)
            plain.append(path)
    return plain, list(dict.fromkeys(estates))


def validate_paths(
    paths: Iterable[Path], on_step: Callable[[Path], None] | None = None
) -> ValidationReport:
    """Validate the files and estates under ``paths``; ``on_step`` is told of each file and
    each estate done (a command's progress line).

    Raises :class:`engine.io.loading.UsageError` only for paths that do not exist.
    """
    plain, estate_dirs = _split(paths)
    library = Library()
    diagnostics: list[Diagnostic] = []
    if plain or not estate_dirs:
        result = load_library(plain, on_step)
        library = result.library
        diagnostics = check_library(library, result.diagnostics)
    estates = []
    for directory in estate_dirs:
        estates.append(validate_estate(directory))
        if on_step is not None:
            on_step(directory)
    for estate in estates:
        diagnostics.extend(estate.diagnostics)
    return ValidationReport(library, diagnostics, estates)


def validate_library(
    paths: Sequence[Path] | None = None, estate: Path | None = None
) -> ValidatedLibrary:
    """The library of ``paths`` (the shipped standard library by default), merged for the
    estate directory ``estate`` if one is given, validated: what an engine runs."""
    if estate is not None:
        return validate_estate(estate, paths).validated
    return validate_paths(paths if paths is not None else standard_library_dirs()).validated
