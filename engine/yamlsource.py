"""Safe, position-keeping YAML loading.

Every later error must point at a file:line:column, so the loader keeps the position of
every key and value of a document in a :class:`SourceMap` beside the plain data. It reads
with PyYAML's safe composer only, resolves scalars by the YAML 1.2 core schema (so ``no``,
``on`` and ``08:30`` stay text instead of becoming ``False`` or a sexagesimal number), turns
duplicate keys into errors instead of silent overwrites, and bounds what a hostile file can
cost: its size, its nesting and the expansion of aliases ("billion laughs").

PyYAML's pure-Python parser is the reference. libyaml (PyYAML's C parser, in PyYAML's wheels)
parses first where the two agree, and its result is kept for files that parse cleanly; any
file with something to report is parsed again by the Python parser, so every diagnostic and
position is the same with or without libyaml (see :func:`parse_text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
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
#: Scalar styles that keep the text on the line as written: plain (None from the Python
#: parser, "" from libyaml) and single- or double-quoted.
_INLINE_STYLES = frozenset({None, "", "'", '"'})
_QUOTES = frozenset({"'", '"'})


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

_FastLoader: type[yaml.CSafeLoader] | None = None
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
if getattr(yaml, "__with_libyaml__", False):
    #: The core-schema resolvers by the first character of a plain scalar ("" for empty).
    _RESOLVERS: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
        first: tuple(resolvers)
        for first, resolvers in _CoreSchemaLoader.yaml_implicit_resolvers.items()
    }

    class _CoreSchemaCLoader(yaml.CSafeLoader):
        """libyaml's parser with the same core-schema scalar resolution: the fast path.

        libyaml calls the resolver for every node; these overrides do what PyYAML's
        ``Resolver`` does with the core-schema table and no path resolvers, without its
        general machinery.
        """

        def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
            # Called for every node of every file: no attribute lookups, no empty loops.
            if kind is _ScalarNode:
                if implicit[0]:
                    resolvers = _RESOLVERS.get(value[:1])
                    if resolvers is not None:
                        for tag, pattern in resolvers:
                            if pattern.match(value):
                                return tag
                return _STR
            return _SEQ if kind is _SequenceNode else _MAP

        def descend_resolver(self, current_node: yaml.Node | None, current_index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

    _CoreSchemaCLoader.yaml_implicit_resolvers = _CoreSchemaLoader.yaml_implicit_resolvers
    _FastLoader = _CoreSchemaCLoader

#: Where a key or value is: file, 1-based line and 1-based column. Kept as a plain tuple
#: (one per node of a file) and turned into a :class:`Span` only when reported.
Location = tuple[str, int, int]
Tables = tuple[dict[JsonPath, Location], dict[JsonPath, Location], dict[JsonPath, Location]]


class SourceMap:
    """Where each key and value of a document came from, by JSON path.

    A merged estate definition combines several files, so each entry is a full
    :data:`Location` (file included) rather than a bare line and column.

    The map of a loaded file is built on first use: most files of a library have nothing to
    report, and recording a position for every node of every file cost more than parsing.
    The file is then composed again from the text it was read from, so the positions are
    exactly those of the data.
    """

    __slots__ = ("_build", "_tables")

    def __init__(
        self,
        values: dict[JsonPath, Location] | None = None,
        keys: dict[JsonPath, Location] | None = None,
        text_starts: dict[JsonPath, Location] | None = None,
    ) -> None:
        self._tables: Tables | None = (
            values if values is not None else {},
            keys if keys is not None else {},
            text_starts if text_starts is not None else {},
        )
        self._build: Callable[[], Tables] | None = None

    @classmethod
    def deferred(cls, build: Callable[[], Tables]) -> SourceMap:
        """A map whose tables ``build`` makes when they are first needed."""
        source_map = cls()
        source_map._tables, source_map._build = None, build
        return source_map

    def _load(self) -> Tables:
        tables = self._tables
        if tables is None:
            assert self._build is not None
            tables = self._tables = self._build()
            self._build = None
        return tables

    @property
    def values(self) -> dict[JsonPath, Location]:
        """Where each value starts."""
        return self._load()[0]

    @property
    def keys(self) -> dict[JsonPath, Location]:
        """Where the key of each mapping member is."""
        return self._load()[1]

    @property
    def text_starts(self) -> dict[JsonPath, Location]:
        """Where the text of single-line scalars begins (after an opening quote), so that an
        error at a character offset inside a condition can point at that character."""
        return self._load()[2]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceMap):
            return NotImplemented
        return self._load() == other._load()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dictionaries it holds

    def __repr__(self) -> str:
        state = f"{len(self.values)} values" if self._tables is not None else "not built yet"
        return f"SourceMap({state})"

    def locate_in_text(self, path: JsonPath, offset: int) -> Span:
        """The span of character ``offset`` of the scalar at ``path`` (its start if unknown)."""
        start = self.text_starts.get(path)
        if start is None:
            return self.locate(path)
        file, line, column = start
        return Span(file, line, column + offset)

    def locate(self, path: JsonPath, *, key: bool = False) -> Span:
        """The span of ``path`` (its key if ``key``), else of its nearest recorded ancestor."""
        values, keys, _ = self._load()
        found = (keys if key else values).get(path)
        if found is None:
            found = self._ancestor(path)
        return Span(*found)

    def _ancestor(self, path: JsonPath) -> Location:
        values, keys, _ = self._load()
        for depth in range(len(path) - 1, -1, -1):
            parent = path[:depth]
            for candidate in (values, keys):
                if parent in candidate:
                    return candidate[parent]
        return next(iter(values.values()))


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
    """Turns a composed node graph into plain data, within the limits.

    :meth:`data` makes the data only; :meth:`convert` also records every position in a
    :class:`SourceMap`. Both visit the nodes in the same order and refuse the same things.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.source_map = SourceMap()
        self.values, self.keys, self.text_starts = self.source_map._load()
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def _count(self, node: yaml.Node, depth: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self._refuse(node, depth)

    def _refuse(self, node: yaml.Node, depth: int) -> None:
        """Refuse a node beyond the limits (the node count already includes it)."""
        if self.nodes > MAX_NODES:
            raise _Refused(
                "PF005",
                f"the document expands to more than {MAX_NODES:,} values "
                "(an alias bomb, or far too large for a process file)",
                node.start_mark,
            )
        raise _Refused("PF005", f"nesting deeper than {MAX_DEPTH} levels", node.start_mark)

    def data(self, node: yaml.Node, depth: int) -> Any:
        """The plain value of ``node``; the fast path, visiting every node of every file, so
        the usual cases (text, a plain key) are tested first and inline."""
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self._refuse(node, depth)
        if isinstance(node, _ScalarNode):
            return node.value if node.tag == _STR else _scalar(node)
        if isinstance(node, _SequenceNode):
            _check_tag(node, _SEQ)
            deeper, data = depth + 1, self.data
            return [data(item, deeper) for item in node.value]
        if isinstance(node, _MappingNode):
            _check_tag(node, _MAP)
            result: dict[str, Any] = {}
            deeper, data = depth + 1, self.data
            for key_node, value_node in node.value:
                key = (
                    key_node.value
                    if type(key_node) is _ScalarNode and key_node.tag == _STR
                    else _key(key_node)
                )
                if key in result:
                    self._duplicate(node, key_node)
                    continue
                result[key] = data(value_node, deeper)
            return result
        raise _Refused("PF010", "unsupported YAML node", node.start_mark)  # pragma: no cover

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


#: Text where libyaml and PyYAML's parser are known to disagree (found by differential
#: fuzzing, see tests/test_validator_fuzz.py): libyaml takes tabs as separators and a BOM
#: inside the text, lets '?' into plain text in flow collections and '#' straight after a
#: block scalar header, and counts NEL, LS and PS as line breaks differently. Such text is
#: rare in a process file and is parsed by the Python parser alone.
_DISAGREEMENT = (
    re.compile("[\t\ufeff?\x85\u2028\u2029]"),
    re.compile("[|>][-+0-9]*#"),  # apart: one pattern of the two alternatives is slower
)


def parse_text(
    text: str, file: str, *, libyaml: bool = True
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Parse YAML text already in memory; see :func:`load_document`.

    PyYAML's pure-Python parser is the reference: every diagnostic and every position
    comes from it. libyaml, many times faster, parses a file first when it is installed and
    the text has none of the constructs on which the two disagree; its result is used when
    the file parses cleanly, which is the usual case. ``libyaml=False`` uses the Python
    parser only (the tests compare the two).
    """
    if (
        libyaml
        and _FastLoader is not None
        and not any(pattern.search(text) for pattern in _DISAGREEMENT)
    ):
        try:
            root = yaml.compose(text, Loader=_FastLoader)
        except (yaml.YAMLError, RecursionError):
            root = None
        if root is not None:
            document, diagnostics = _convert(root, _Positions(text, file, reference=False))
            if document is not None and not diagnostics:
                return document, diagnostics
    try:
        root = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "\t" in problem or "found character '\\t'" in problem:
            problem += " (YAML does not allow tabs for indentation; use spaces)"
        span = _within(text, _span(file, mark))
        return None, [Diagnostic("PF003", Severity.ERROR, problem, span)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic("PF003", Severity.ERROR, str(exc), Span(file, 1, 1))]
    except RecursionError:
        return None, [
            Diagnostic(
                "PF005", Severity.ERROR, "the document is nested too deeply", Span(file, 1, 1)
            )
        ]
    return _convert(root, _Positions(text, file, reference=True))


@dataclass(frozen=True)
class _Positions:
    """Builds the deferred source map of a parsed text by composing it again.

    A plain object rather than a closure so that a document, its source map still
    unbuilt, can be pickled: :mod:`engine.loading` loads large libraries in worker
    processes.
    """

    text: str
    file: str
    #: Whether the Python parser produced the document; else libyaml did, and the Python
    #: parser still gives the positions (libyaml places empty values differently).
    reference: bool

    def __call__(self) -> Tables:
        recorder = _Converter(self.file)
        root = self._compose()
        assert root is not None
        recorder.convert(root, (), 0)
        return recorder.source_map._load()

    def _compose(self) -> yaml.Node | None:
        try:
            return yaml.compose(self.text, Loader=_CoreSchemaLoader)
        except (yaml.YAMLError, RecursionError):  # pragma: no cover - a disagreement not yet known
            if self.reference or _FastLoader is None:
                raise
            return yaml.compose(self.text, Loader=_FastLoader)


def _convert(
    root: yaml.Node | None, positions: _Positions
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Turn a composed document into a :class:`SourceDocument`, within the limits.

    The source map is deferred: ``positions`` builds it when it is first needed.
    """
    file = positions.file
    if root is None:
        return None, [
            Diagnostic(
                "PF006", Severity.ERROR, "the file is empty; nothing to check", Span(file, 1, 1)
            )
        ]
    converter = _Converter(file)
    try:
        data = converter.data(root, 0)
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

    return SourceDocument(file, data, SourceMap.deferred(positions)), converter.diagnostics
