"""Safe, position-keeping YAML loading.

Every later error must point at a file:line:column, so the loader keeps the position of
every key and value of a document in a :class:`SourceMap` beside the plain data. It reads
with PyYAML's safe composer only, resolves scalars by the YAML 1.2 core schema (so ``no``,
``on`` and ``08:30`` stay text instead of becoming ``False`` or a sexagesimal number), turns
duplicate keys into errors instead of silent overwrites, and bounds what a hostile file can
cost: its size, its nesting and the expansion of aliases ("billion laughs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.diagnostics import Diagnostic, Severity, Span

JsonPath = tuple[str | int, ...]

#: Files larger than this are refused before parsing; a process file is a few kilobytes.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Nodes a document may expand to once aliases are followed.
MAX_NODES = 200_000
#: Nesting depth of collections; PyYAML's composer is recursive.
MAX_DEPTH = 64

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _CoreSchemaLoader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit types only."""


_CoreSchemaLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
):
    _CoreSchemaLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


@dataclass(frozen=True)
class SourceMap:
    """Where each key and value of a document came from, by JSON path.

    A merged estate definition combines several files, so each entry is a full :class:`Span`
    (file included) rather than a bare line and column.
    """

    values: dict[JsonPath, Span] = field(default_factory=dict)
    keys: dict[JsonPath, Span] = field(default_factory=dict)
    #: Where the text of single-line scalars begins (after an opening quote), so that an
    #: error at a character offset inside a condition can point at that character.
    text_starts: dict[JsonPath, Span] = field(default_factory=dict)

    def locate_in_text(self, path: JsonPath, offset: int) -> Span:
        """The span of character ``offset`` of the scalar at ``path`` (its start if unknown)."""
        start = self.text_starts.get(path)
        if start is None:
            return self.locate(path)
        return Span(start.file, start.line, start.column + offset)

    def locate(self, path: JsonPath, *, key: bool = False) -> Span:
        """The span of ``path`` (its key if ``key``), else of its nearest recorded ancestor."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for depth in range(len(path) - 1, -1, -1):
            parent = path[:depth]
            for candidate in (self.values, self.keys):
                if parent in candidate:
                    return candidate[parent]
        return next(iter(self.values.values()))


@dataclass(frozen=True)
class SourceDocument:
    """One YAML file: its plain data and where every part of it came from."""

    file: str
    data: Any
    source_map: SourceMap


class _Refused(Exception):
    """Raised inside conversion when the document breaks a hard limit."""

    def __init__(self, code: str, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.mark = mark


def _span(file: str, mark: yaml.Mark | None) -> Span:
    if mark is None:
        return Span(file, 1, 1)
    return Span(file, mark.line + 1, mark.column + 1)


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve a scalar by its tag, never constructing anything but plain values."""
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() == "true"
    if tag == _INT:
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if tag == _FLOAT:
        lowered = text.lower()
        if lowered.endswith("inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered == ".nan":
            return float("nan")
        return float(text)
    raise _Refused(
        "PF010", f"the tag '{tag}' is not allowed; write plain YAML values", node.start_mark
    )


class _Converter:
    """Turns a composed node graph into plain data and a source map, within the limits."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.source_map = SourceMap()
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def convert(self, node: yaml.Node, path: JsonPath, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(
                "PF005",
                f"the document expands to more than {MAX_NODES:,} values "
                "(an alias bomb, or far too large for a process file)",
                node.start_mark,
            )
        if depth > MAX_DEPTH:
            raise _Refused("PF005", f"nesting deeper than {MAX_DEPTH} levels", node.start_mark)
        self.source_map.values.setdefault(path, _span(self.file, node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            if node.start_mark.line == node.end_mark.line and node.style in (None, "'", '"'):
                quoted = 1 if node.style else 0
                start = _span(self.file, node.start_mark)
                self.source_map.text_starts[path] = Span(
                    start.file, start.line, start.column + quoted
                )
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise _Refused("PF010", f"the tag '{node.tag}' is not allowed", node.start_mark)
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise _Refused("PF010", f"the tag '{node.tag}' is not allowed", node.start_mark)
            return self._mapping(node, path, depth)
        raise _Refused("PF010", "unsupported YAML node", node.start_mark)  # pragma: no cover

    def _mapping(self, node: yaml.MappingNode, path: JsonPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Span] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(
                    "PF010", "a key must be plain text, not a list or mapping", key_node.start_mark
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(
                    "PF010",
                    "merge keys ('<<') are not supported; repeat the values, "
                    "or customise with an estate patch",
                    key_node.start_mark,
                )
            key = key_node.value
            key_span = _span(self.file, key_node.start_mark)
            if key in first_seen:
                earlier = first_seen[key]
                self.diagnostics.append(
                    Diagnostic(
                        "PF004",
                        Severity.ERROR,
                        f"key '{key}' appears twice in this mapping "
                        f"(first at line {earlier.line}); the second would silently win",
                        key_span,
                        also=(("first defined here", earlier),),
                    )
                )
                continue
            first_seen[key] = key_span
            child = (*path, key)
            self.source_map.keys[child] = key_span
            result[key] = self.convert(value_node, child, depth + 1)
        return result


def _decode(file: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    """Decode UTF-8 text, refusing binary content with the position of the first bad byte."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        return None, _byte_diagnostic(
            file, raw, nul, "PF002", "this is a binary file, not YAML text (NUL byte)"
        )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, _byte_diagnostic(
            file,
            raw,
            exc.start,
            "PF002",
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
        )


def _byte_diagnostic(file: str, raw: bytes, offset: int, code: str, message: str) -> Diagnostic:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Diagnostic(code, Severity.ERROR, message, Span(file, line, column))


def load_document(
    path: Path, display: str | None = None
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read one YAML file into a :class:`SourceDocument`, or explain why it cannot be read.

    Never raises for bad input: every failure is a diagnostic. A document with duplicate
    keys is still returned (with their diagnostics) so later checks can run on it.
    """
    file = display if display is not None else str(path)
    try:
        if not path.is_file():
            return None, [
                Diagnostic(
                    "PF001",
                    Severity.ERROR,
                    "cannot read the file: it is not a regular file"
                    + (
                        " (a broken symbolic link)"
                        if path.is_symlink() and not path.exists()
                        else ""
                    ),
                    Span(file, 1, 1),
                )
            ]
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Diagnostic(
                    "PF005",
                    Severity.ERROR,
                    f"the file is {size / 1_048_576:.1f} MB; process files over "
                    f"{MAX_FILE_BYTES // 1_048_576} MB are refused",
                    Span(file, 1, 1),
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return None, [
            Diagnostic("PF001", Severity.ERROR, f"cannot read the file: {reason}", Span(file, 1, 1))
        ]
    text, problem = _decode(file, raw)
    if text is None:
        assert problem is not None
        return None, [problem]
    return parse_text(text, file)


def parse_text(text: str, file: str) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text already in memory; see :func:`load_document`."""
    try:
        root = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "\t" in problem or "found character '\\t'" in problem:
            problem += " (YAML does not allow tabs for indentation; use spaces)"
        return None, [Diagnostic("PF003", Severity.ERROR, problem, _span(file, mark))]
    except yaml.YAMLError as exc:
        return None, [Diagnostic("PF003", Severity.ERROR, str(exc), Span(file, 1, 1))]
    except RecursionError:
        return None, [
            Diagnostic(
                "PF005", Severity.ERROR, "the document is nested too deeply", Span(file, 1, 1)
            )
        ]
    if root is None:
        return None, [
            Diagnostic(
                "PF006", Severity.ERROR, "the file is empty; nothing to check", Span(file, 1, 1)
            )
        ]
    converter = _Converter(file)
    try:
        data = converter.convert(root, (), 0)
    except _Refused as refused:
        return None, [
            Diagnostic(refused.code, Severity.ERROR, refused.message, _span(file, refused.mark))
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            Diagnostic(
                "PF007",
                Severity.ERROR,
                f"the file holds {kind}; a PropFlow file is a mapping "
                "(it starts with 'process:', 'estate:', 'calendars:' or 'time_limits:')",
                _span(file, root.start_mark),
            )
        ]
    return SourceDocument(file, data, converter.source_map), converter.diagnostics
