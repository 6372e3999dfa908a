"""Validation: load files, run every check, and summarise what was found.

The one entry point shared by ``propflow validate``, the pre-commit hook and the tests, so
all three see exactly the same diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine.checks import run_checks
from engine.diagnostics import Diagnostic, Severity
from engine.loading import Library, load_library


@dataclass(frozen=True)
class ValidationReport:
    """What validating a set of files found."""

    library: Library
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def failed(self, strict: bool) -> bool:
        """Errors fail; warnings fail too under ``--strict``."""
        return self.errors > 0 or (strict and self.warnings > 0)

    def summary(self) -> dict[str, object]:
        """Counts for the closing line and the JSON output."""
        lib = self.library
        return {
            "files": len(lib.files),
            "processes": len(lib.processes),
            "calendars": len(lib.calendars),
            "time_limits": len(lib.time_limits),
            "estates": len(lib.estates),
            "errors": self.errors,
            "warnings": self.warnings,
        }


def validate_paths(paths: Iterable[Path]) -> ValidationReport:
    """Validate the files under ``paths``; raises :class:`engine.loading.UsageError` only for
    paths that do not exist."""
    result = load_library(paths)
    diagnostics = result.diagnostics + run_checks(result.library)
    diagnostics.sort(key=Diagnostic.sort_key)
    return ValidationReport(result.library, diagnostics)
