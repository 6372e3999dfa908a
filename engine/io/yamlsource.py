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
#: Characters of an integer literal. Python refuses to print integers of more than 4,300
#: digits, and no PropFlow value comes near this.
MAX_NUMBER_CHARS = 1000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
#: Scalar styles that keep the text on the line as written: plain and single- or double-quoted.
#: The Python parser gives a plain scalar the style None, libyaml "".
_INLINE_STYLES = frozenset({None, "", "'", '"'})
_QUOTES = frozenset({"'", '"'})


class _CoreSchemaLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe composer with the YAML 1.2 core schema's implicit types only.

    libyaml (in PyYAML's wheels) reads a file many times faster than PyYAML's Python port of
    it, and follows YAML 1.2 where the port does not: a tab inside a value or after a
    flow mapping, a '?' inside a plain word in a flow collection. PyYAML built without libyaml
    falls back to the port, which refuses those.
    """


class _WordingLoader(yaml.SafeLoader):
    """PyYAML's Python parser, used only to word an error libyaml found.

    libyaml's messages say "did not find expected key"; the Python port says what it
    expected and what it found instead ("expected <block end>, but found '-'"), which a
    consultant can act on. Its resolvers do not matter: it never builds a document.
    """


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

#: libyaml's refusal of collections nested more than a thousand deep.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"

#: Where a key or value is: file, 1-based line and 1-based column. Kept as a plain tuple
#: (one per node of a file) and turned into a :class:`Span` only when reported.
Location = tuple[str, int, int]


@dataclass
class SourceMap:
    """Where each key and value of a document came from, by JSON path.

    A merged estate definition combines several files, so each entry is a full
    :data:`Location` (file included) rather than a bare line and column.
    """

    #: Where each value starts.
    values: dict[JsonPath, Location] = field(default_factory=dict)
    #: Where the key of each mapping member is.
    keys: dict[JsonPath, Location] = field(default_factory=dict)
    #: Where the text of single-line scalars begins (after an opening quote), so that an
    #: error at a character offset inside a condition can point at that character.
    text_starts: dict[JsonPath, Location] = field(default_factory=dict)

    def locate_in_text(self, path: JsonPath, offset: int) -> Span:
        """The span of character ``offset`` of the scalar at ``path`` (its start if unknown)."""
        start = self.text_starts.get(path)
        if start is None:
            return self.locate(path)
        file, line, column = start
        return Span(file, line, column + offset)

    def locate(self, path: JsonPath, *, key: bool = False) -> Span:
        """The span of ``path`` (its key if ``key``), else of its nearest recorded ancestor."""
        found = (self.keys if key else self.values).get(path)
        if found is None:
            found = self._ancestor(path)
        return Span(*found)

    def _ancestor(self, path: JsonPath) -> Location:
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
        if len(text) > MAX_NUMBER_CHARS:
            raise _Refused(
                "PF005",
                f"a number of {len(text):,} digits; numbers longer than "
                f"{MAX_NUMBER_CHARS:,} characters are refused",
                node.start_mark,
            )
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
    """Turns a composed node graph into plain data within the limits, recording where every
    key and value is in a :class:`SourceMap`."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.source_map = SourceMap()
        # The tables, held directly: they are written once per node.
        self.values = self.source_map.values
        self.keys = self.source_map.keys
        self.text_starts = self.source_map.text_starts
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def _count(self, node: yaml.Node, depth: int) -> None:
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

    def convert(self, node: yaml.Node, path: JsonPath, depth: int) -> Any:
        """The plain value of ``node``, recording where it and everything in it is."""
        self._count(node, depth)
        mark = node.start_mark
        line = mark.line + 1
        self.values.setdefault(path, (self.file, line, mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            style = node.style
            if style in _INLINE_STYLES and mark.line == node.end_mark.line:
                quoted = 2 if style in _QUOTES else 1
                self.text_starts[path] = (self.file, line, mark.column + quoted)
            return _scalar(node)
        if isinstance(node, yaml.SequenceNode):
            _check_tag(node, _SEQ)
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            _check_tag(node, _MAP)
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = _key(key_node)
                if key in result:
                    self._duplicate(node, key_node)
                    continue
                child = (*path, key)
                self.keys[child] = _location(self.file, key_node.start_mark)
                result[key] = self.convert(value_node, child, depth + 1)
            return result
        raise _Refused("PF010", "unsupported YAML node", node.start_mark)  # pragma: no cover

    def _duplicate(self, mapping: yaml.MappingNode, again: yaml.ScalarNode) -> None:
        """Report a key seen before in ``mapping``, pointing at its first occurrence."""
        first = next(k for k, _ in mapping.value if k.value == again.value)
        earlier = Span(*_location(self.file, first.start_mark))
        self.diagnostics.append(
            Diagnostic(
                "PF004",
                Severity.ERROR,
                f"key '{again.value}' appears twice in this mapping "
                f"(first at line {earlier.line}); the second would silently win",
                Span(*_location(self.file, again.start_mark)),
                also=(("first defined here", earlier),),
            )
        )


def _location(file: str, mark: yaml.Mark) -> Location:
    return (file, mark.line + 1, mark.column + 1)


def _check_tag(node: yaml.Node, tag: str) -> None:
    if node.tag != tag:
        raise _Refused("PF010", f"the tag '{node.tag}' is not allowed", node.start_mark)


def _key(node: yaml.Node) -> str:
    """The text of a mapping key, which must be a plain scalar."""
    if not isinstance(node, yaml.ScalarNode):
        raise _Refused("PF010", "a key must be plain text, not a list or mapping", node.start_mark)
    if node.tag == _MERGE:
        raise _Refused(
            "PF010",
            "merge keys ('<<') are not supported; repeat the values, "
            "or customise with an estate patch",
            node.start_mark,
        )
    value: str = node.value
    return value


def _within(text: str, span: Span) -> Span:
    """``span``, moved back onto the last line when it points past the end of the text.

    PyYAML reports "unexpected end of stream" after the final newline, on a line the file
    does not have; an editor (and the caret) needs a real line.
    """
    lines = text.splitlines() or [""]
    if span.line <= len(lines):
        return span
    return Span(span.file, len(lines), len(lines[-1]) + 1)


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
    """Parse YAML text already in memory; see :func:`load_document`.

    libyaml composes the document; only when it refuses the text does the Python parser
    read it again, to word the error (see :class:`_WordingLoader`).
    """
    too_deep = Diagnostic(
        "PF005", Severity.ERROR, "the document is nested too deeply", Span(file, 1, 1)
    )
    try:
        root = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as exc:
        if exc.problem == _LIBYAML_TOO_DEEP:
            return None, [too_deep]
        return None, [_syntax_error(text, file, _worded(text, exc))]
    except yaml.YAMLError as exc:
        return None, [Diagnostic("PF003", Severity.ERROR, str(exc), Span(file, 1, 1))]
    except RecursionError:
        return None, [too_deep]
    return _convert(root, text, file)


def _worded(text: str, found: yaml.MarkedYAMLError) -> yaml.MarkedYAMLError:
    """The Python parser's account of a syntax error libyaml ``found``.

    libyaml's own account stands when the Python parser reads the text without error, or
    stops earlier on something libyaml takes as valid YAML 1.2 (a tab inside a value).
    """
    try:
        yaml.compose(text, Loader=_WordingLoader)
    except yaml.MarkedYAMLError as exc:
        if _offset(exc) >= _offset(found):
            return exc
    except (yaml.YAMLError, RecursionError):
        pass
    return found


def _offset(exc: yaml.MarkedYAMLError) -> int:
    """Where in the text (in characters, as both parsers count) an error was found."""
    mark = exc.problem_mark or exc.context_mark
    return mark.index if mark is not None else 0


def _syntax_error(text: str, file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """PF003 for a text that is not YAML, at the problem's position."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if "\t" in problem or "found character '\\t'" in problem:
        problem += " (YAML does not allow tabs for indentation; use spaces)"
    return Diagnostic("PF003", Severity.ERROR, problem, _within(text, _span(file, mark)))


def _convert(
    root: yaml.Node | None, text: str, file: str
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Turn a composed document into a :class:`SourceDocument`, within the limits."""
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
            Diagnostic(
                refused.code,
                Severity.ERROR,
                refused.message,
                _within(text, _span(file, refused.mark)),
            )
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            Diagnostic(
                "PF007",
                Severity.ERROR,
                f"the file holds {kind}; a PropFlow file is a mapping "
                "(it starts with 'process:', 'estate:', 'calendars:' or 'time_limits:')",
                _within(text, _span(file, root.start_mark)),
            )
        ]

    return SourceDocument(file, data, converter.source_map), converter.diagnostics
