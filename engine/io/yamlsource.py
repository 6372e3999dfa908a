"""Safe, position-keeping YAML loading.

Every later error must point at a file:line:column, so the loader keeps the position of
every key and value of a document in a :class:`SourceMap` beside the plain data. It reads
with PyYAML's safe composer only, resolves scalars by the YAML 1.2 core schema (so ``no``,
``on`` and ``08:30`` stay text instead of becoming ``False`` or a sexagesimal number), turns
duplicate keys into errors instead of silent overwrites, and bounds what a hostile file can
cost: its size, its nesting and the expansion of aliases ("billion laughs").
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.diagnostics.positions import (
    LineIndex,
    counts_lines_differently,
    editor_lines,
    has_lone_surrogate,
)

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

    The composer asks :meth:`resolve` for the tag of every node; these overrides answer
    from the core-schema table by the scalar's first character, without the general
    resolver's path machinery (PropFlow declares no path resolvers).
    """

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, pattern in _RESOLVERS.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: yaml.Node | None, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


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
#: The core-schema resolvers by the first character of a plain scalar ("" for empty).
_RESOLVERS: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(resolvers)
    for first, resolvers in _CoreSchemaLoader.yaml_implicit_resolvers.items()
}

#: libyaml's refusal of collections nested more than a thousand deep.
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"
#: libyaml's refusal of an escape that names no character: a lone surrogate (``"\\ud800"``)
#: or a number past U+10FFFF.
_LIBYAML_BAD_ESCAPE = "found invalid Unicode character escape code"

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
                say("PF005.number", digits=f"{len(text):,}", limit=f"{MAX_NUMBER_CHARS:,}"),
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
    raise _Refused("PF010", say("PF010.tag_plain", tag=tag), node.start_mark)


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
                say("PF005.nodes", limit=f"{MAX_NODES:,}"),
                node.start_mark,
            )
        if depth > MAX_DEPTH:
            raise _Refused("PF005", say("PF005.depth", limit=MAX_DEPTH), node.start_mark)

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
                child = (*path, key)
                if key in result:
                    self._duplicate(self.keys[child], key_node)
                    continue
                self.keys[child] = _location(self.file, key_node.start_mark)
                result[key] = self.convert(value_node, child, depth + 1)
            return result
        raise _Refused("PF010", say("PF010.node"), node.start_mark)  # pragma: no cover

    def _duplicate(self, first: Location, again: yaml.ScalarNode) -> None:
        """Report a key seen before in its mapping, pointing at its first occurrence (where
        it was recorded: no search through the mapping, whose keys may be many)."""
        earlier = Span(*first)
        self.diagnostics.append(
            Diagnostic(
                "PF004",
                Severity.ERROR,
                say("PF004.twice", key=again.value, line=earlier.line),
                Span(*_location(self.file, again.start_mark)),
                also=((say("PF004.first"), earlier),),
            )
        )


def _location(file: str, mark: yaml.Mark) -> Location:
    return (file, mark.line + 1, mark.column + 1)


def _check_tag(node: yaml.Node, tag: str) -> None:
    if node.tag != tag:
        raise _Refused("PF010", say("PF010.tag", tag=node.tag), node.start_mark)


def _key(node: yaml.Node) -> str:
    """The text of a mapping key, which must be a plain scalar."""
    if not isinstance(node, yaml.ScalarNode):
        raise _Refused("PF010", say("PF010.key"), node.start_mark)
    if node.tag == _MERGE:
        raise _Refused(
            "PF010",
            say("PF010.merge"),
            node.start_mark,
        )
    value: str = node.value
    return value


#: Line breaks as YAML 1.1 (PyYAML) counts them.
_YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _within(text: str, span: Span) -> Span:
    """``span``, moved back onto the last line when it points past the end of the text.

    PyYAML reports "unexpected end of stream" after the final newline, on a line the file
    does not have; an editor (and the caret) needs a real line.
    """
    lines = editor_lines(text) or [""]
    if span.line <= len(lines):
        return span
    return Span(span.file, len(lines), len(lines[-1]) + 1)


def _decode(file: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    """Decode UTF-8 text, refusing binary content with the position of the first bad byte."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        return None, _byte_diagnostic(file, raw, nul, "PF002", say("PF002.binary"))
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, _byte_diagnostic(
            file,
            raw,
            exc.start,
            "PF002",
            say("PF002.not_utf8", byte=f"0x{raw[exc.start]:02x}"),
        )


def _byte_diagnostic(file: str, raw: bytes, offset: int, code: str, message: str) -> Diagnostic:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return Diagnostic(code, Severity.ERROR, message, Span(file, line, column))


_FILE_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "character_device"),
    (stat.S_ISBLK, "block_device"),
    (stat.S_ISSOCK, "socket"),
)


def _not_regular(mode: int) -> str:
    """Why a file that is not a regular file cannot be read, in words."""
    kind = next((key for test, key in _FILE_KINDS if test(mode)), "other")
    return say("PF001.not_regular", kind=say(f"PF001.kind.{kind}"))


def _unreadable(file: str, reason: str) -> Diagnostic:
    return Diagnostic(
        "PF001", Severity.ERROR, say("PF001.unreadable", reason=reason), Span(file, 1, 1)
    )


def _too_large(file: str, size: str) -> Diagnostic:
    return Diagnostic(
        "PF005",
        Severity.ERROR,
        say("PF005.file", size=size, limit=MAX_FILE_BYTES // 1_048_576),
        Span(file, 1, 1),
    )


def read_regular_file(path: Path, file: str) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of ``path`` if it is a regular file of at most :data:`MAX_FILE_BYTES`.

    The kind of file is asked before it is opened, so a FIFO never blocks and a device
    such as ``/dev/zero`` is never read; it is asked again of the open file, in case the
    path was swapped in between. The limit holds while reading (one byte more than it is
    read, never the whole file), since a file can grow after its size was taken.
    """
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, _unreadable(file, say("PF001.loop"))
        if exc.errno == errno.ENOENT and path.is_symlink():
            return None, _unreadable(file, say("PF001.broken_link"))
        return None, _unreadable(file, exc.strerror or exc.__class__.__name__)
    if not stat.S_ISREG(info.st_mode):
        return None, _unreadable(file, _not_regular(info.st_mode))
    if info.st_size > MAX_FILE_BYTES:
        return None, _too_large(file, say("PF005.size", size=f"{info.st_size / 1_048_576:.1f}"))
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(descriptor, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                return None, _unreadable(file, _not_regular(mode))
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, _unreadable(file, exc.strerror or exc.__class__.__name__)
    if len(raw) > MAX_FILE_BYTES:
        return None, _too_large(file, say("PF005.over", limit=MAX_FILE_BYTES // 1_048_576))
    return raw, None


def load_document(
    path: Path, display: str | None = None
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Read one YAML file into a :class:`SourceDocument`, or explain why it cannot be read.

    Never raises for bad input: every failure is a diagnostic. A document with duplicate
    keys is still returned (with their diagnostics) so later checks can run on it.
    """
    file = display if display is not None else str(path)
    raw, problem = read_regular_file(path, file)
    if raw is None:
        assert problem is not None
        return None, [problem]
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
    too_deep = Diagnostic("PF005", Severity.ERROR, say("PF005.too_deep"), Span(file, 1, 1))
    try:
        root = yaml.compose(text, Loader=_CoreSchemaLoader)
    except yaml.MarkedYAMLError as exc:
        if exc.problem == _LIBYAML_TOO_DEEP:
            return None, [too_deep]
        if exc.problem == _LIBYAML_BAD_ESCAPE:
            return None, [_surrogate_at(_syntax_error(text, file, exc).span)]
        return None, [_syntax_error(text, file, _worded(text, exc))]
    except yaml.reader.ReaderError as exc:
        return None, [_unacceptable_character(text, file, _read_again(text, exc))]
    except yaml.YAMLError as exc:
        return None, [Diagnostic("PF003", Severity.ERROR, str(exc), Span(file, 1, 1))]
    except RecursionError:
        return None, [too_deep]
    document, diagnostics = _convert(root, text, file)
    if document is not None and counts_lines_differently(text):
        document, diagnostics = _at_editor_lines(text, document, diagnostics)
    # A text decoded from UTF-8 holds no surrogate: only an escape (\\ud800) can make one.
    escaped = "\\u" in text or "\\U" in text
    surrogate = None if document is None or not escaped else _lone_surrogate(document)
    if surrogate is not None:
        return None, [surrogate]
    return document, diagnostics


def _read_again(text: str, found: yaml.reader.ReaderError) -> yaml.reader.ReaderError:
    """The Python reader's account of a character libyaml refused: it counts the position
    in characters of the text, as the editor's columns are counted."""
    try:
        yaml.reader.Reader(text)
    except yaml.reader.ReaderError as exc:
        return exc
    return found


def _unacceptable_character(text: str, file: str, error: yaml.reader.ReaderError) -> Diagnostic:
    """A character YAML does not allow (an escape, a control character), where it is."""
    line, column = LineIndex(text).position(error.position)
    return Diagnostic(
        "PF003",
        Severity.ERROR,
        say("PF003.character", character=f"#x{error.character:04x}"),
        Span(file, line, column),
    )


def _at_editor_lines(
    text: str, document: SourceDocument, diagnostics: list[Diagnostic]
) -> tuple[SourceDocument, list[Diagnostic]]:
    """``document`` and its diagnostics with positions counted in editor lines.

    YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029, which editors show inside a
    line, so each position PyYAML gave (its line and column) is turned back into a
    character offset and counted again.
    """
    yaml_starts = [0, *(match.end() for match in _YAML_LINE_BREAK.finditer(text))]
    editor = LineIndex(text)

    def moved(location: Location) -> Location:
        file, line, column = location
        if line > len(yaml_starts):
            return location
        return (file, *editor.position(yaml_starts[line - 1] + column - 1))

    source_map = document.source_map
    for table in (source_map.values, source_map.keys, source_map.text_starts):
        for path, location in table.items():
            table[path] = moved(location)
    diagnostics = [
        replace(
            d,
            span=Span(*moved((d.span.file, d.span.line, d.span.column))),
            also=tuple((note, Span(*moved((s.file, s.line, s.column)))) for note, s in d.also),
        )
        for d in diagnostics
    ]
    return document, diagnostics


def _lone_surrogate(document: SourceDocument) -> Diagnostic | None:
    """A key or text value holding a lone UTF-16 surrogate (``"\\ud800"``), if any.

    Such text cannot be encoded as UTF-8, so it would crash every later step that writes
    it out (a manual, a diagram, the store); it is refused here, where it enters.
    """
    pending: list[tuple[JsonPath, Any]] = [((), document.data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                return _surrogate_at(document.source_map.locate(path))
        elif isinstance(value, dict):
            for key, item in value.items():
                if has_lone_surrogate(key):
                    return _surrogate_at(document.source_map.locate((*path, key), key=True))
                pending.append(((*path, key), item))
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
    return None


def _surrogate_at(span: Span) -> Diagnostic:
    return Diagnostic(
        "PF011",
        Severity.ERROR,
        say("PF011.surrogate"),
        span,
    )


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
    problem = exc.problem or say("PF003.invalid")
    if "\t" in problem or "found character '\\t'" in problem:
        problem += say("PF003.tabs")
    span = _span(file, mark)
    if mark is not None and counts_lines_differently(text):
        span = Span(file, *LineIndex(text).position(mark.index))
    return Diagnostic("PF003", Severity.ERROR, problem, _within(text, span))


def _convert(
    root: yaml.Node | None, text: str, file: str
) -> tuple[SourceDocument | None, list[Diagnostic]]:
    """Turn a composed document into a :class:`SourceDocument`, within the limits."""
    if root is None:
        return None, [Diagnostic("PF006", Severity.ERROR, say("PF006.empty"), Span(file, 1, 1))]
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
        kind = say("PF007.list") if isinstance(data, list) else say("PF007.value")
        return None, [
            Diagnostic(
                "PF007",
                Severity.ERROR,
                say("PF007.holds", kind=kind),
                _within(text, _span(file, root.start_mark)),
            )
        ]

    return SourceDocument(file, data, converter.source_map), converter.diagnostics
