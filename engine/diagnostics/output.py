"""Rendering diagnostics for people (with the source line and a caret), JSON and GitHub.

The human form is ``path:line:col: error CODE message`` followed by the offending line and a
caret, the shape compilers use and editors can jump to. Colour is added only on a terminal
and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence

from engine.diagnostics import Diagnostic, Severity
from engine.diagnostics.positions import cells, editor_lines, excerpt, printable, printable_source

#: Source files larger than this are not read for carets (the reader refuses them anyway).
_MAX_SOURCE_BYTES = 4 * 1024 * 1024


class SourceLines:
    """Reads source lines for carets, each file once.

    Only a regular file of a reasonable size is read, and a symbolic link is not followed:
    a diagnostic may name a FIFO, a link to a device, or a link refused for leading out of
    an estate, which must be reported without being opened or echoed.
    """

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def line(self, file: str, number: int) -> str | None:
        if file not in self._cache:
            text = _small_text(file)
            self._cache[file] = editor_lines(text) if text and "\x00" not in text else []
        lines = self._cache[file]
        return lines[number - 1] if 0 < number <= len(lines) else None


def _small_text(file: str) -> str | None:
    """The text of ``file`` if it is a regular file (not a link) of at most
    :data:`_MAX_SOURCE_BYTES`."""
    try:
        if not stat.S_ISREG(os.lstat(file).st_mode):
            return None
        with open(file, "rb") as handle:
            raw = handle.read(_MAX_SOURCE_BYTES + 1)
    except (OSError, ValueError):
        return None
    return raw.decode("utf-8", errors="replace") if len(raw) <= _MAX_SOURCE_BYTES else None


_COLOURS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m"}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def _caret_line(source: str, column: int) -> str:
    """Spaces up to ``column`` (keeping tabs, and two cells per wide CJK character)."""
    return (
        "".join("\t" if char == "\t" else " " * cells(char) for char in source[: column - 1]) + "^"
    )


def human(diagnostics: Sequence[Diagnostic], colour: bool) -> str:
    """Compiler-style text, one block per diagnostic.

    File names, messages and source lines are printed with their control characters
    escaped, so that no input can make a line that looks like another diagnostic.
    """
    lines = SourceLines()
    out: list[str] = []
    for d in diagnostics:
        severity = d.severity.value
        head = f"{printable(d.span.file)}:{d.span.line}:{d.span.column}: "
        if colour:
            severity = f"{_COLOURS[d.severity]}{_BOLD}{severity}{_RESET}"
            head = f"{_BOLD}{head}{_RESET}"
        out.append(f"{head}{severity} {d.code} {printable(d.message)}")
        source = lines.line(d.span.file, d.span.line)
        if source is not None:
            shown = excerpt(source, d.span.column)
            out.append(f"  {printable_source(shown.text)}")
            out.append(f"  {_caret_line(shown.text, shown.column)}")
        for note, span in d.also:
            where = f"{printable(span.file)}:{span.line}:{span.column}"
            out.append(f"  note: {printable(note)} at {where}")
    return "\n".join(out)


def as_json(diagnostics: Sequence[Diagnostic], summary: dict[str, object]) -> str:
    """A JSON document: the diagnostics and the summary, for tools."""
    items = [
        {
            "file": d.span.file,
            "line": d.span.line,
            "column": d.span.column,
            "severity": d.severity.value,
            "code": d.code,
            "message": d.message,
            "related": [
                {"note": note, "file": s.file, "line": s.line, "column": s.column}
                for note, s in d.also
            ],
        }
        for d in diagnostics
    ]
    return json.dumps({"diagnostics": items, "summary": summary}, ensure_ascii=False, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: Sequence[Diagnostic]) -> str:
    """GitHub Actions workflow commands, which become annotations on the pull request."""
    out = []
    for d in diagnostics:
        command = "error" if d.severity is Severity.ERROR else "warning"
        props = (
            f"file={_escape_property(d.span.file)},line={d.span.line},"
            f"col={d.span.column},title={_escape_property(d.code)}"
        )
        out.append(f"::{command} {props}::{_escape_data(f'{d.code} {d.message}')}")
    return "\n".join(out)
