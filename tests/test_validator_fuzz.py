"""Fuzzing the validator: whatever a file holds, the answer is diagnostics, never a traceback.

Each example takes one real file (the shipped library or a valid fixture), mutates it the way
people and tools break YAML — a key deleted, duplicated, renamed to a near miss or given a
value of the wrong type, an event sent to another state, the text cut short, stray bytes
(tabs, NUL, invalid UTF-8) typed in — and validates the result, alone or with the files it
refers to. Every diagnostic must carry a ``PFnnn`` code and a position on a line of its file.
The same mutated files check that the JSON Schemas and the pydantic models agree on them.

``PROPFLOW_FUZZ_EXAMPLES`` raises the number of examples for a long local run.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.checks.validation import validate_paths
from engine.diagnostics import Diagnostic, Span
from engine.io.library import Library
from engine.io.loading import add_definitions
from engine.io.schemas import detect_kind, validate_structure
from engine.io.yamlsource import JsonPath, parse_text
from tests.conftest import ROOT, run_cli

CODE = re.compile(r"PF\d{3}")
EXAMPLES = int(os.environ.get("PROPFLOW_FUZZ_EXAMPLES", "300"))


@dataclass(frozen=True)
class Seed:
    """A valid file to mutate: its text, its data, and the files it is validated with."""

    source: Path
    text: str
    data: dict[str, Any]
    companions: tuple[Path, ...]


def _references(data: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """(processes and indicators defined, processes and indicators referred to, calendars
    defined) by one file's data; indicators as ``kpi:ID``."""
    defined = {data["process"]} if isinstance(data.get("process"), str) else set()
    defined |= {f"kpi:{kpi}" for kpi in data.get("kpis") or {}}
    items = [
        item
        for key in ("time_limits", "schedules", "quotas", "kpis")
        for item in (data.get(key) or {}).values()
    ]
    referred = {item.get("process") for item in items if isinstance(item, dict)}
    # A schedule's 'figures' name the indicators that count them.
    referred |= {
        f"kpi:{figure.get('kpi')}"
        for item in items
        if isinstance(item, dict) and isinstance(item.get("figures"), dict)
        for figure in item["figures"].values()
        if isinstance(figure, dict)
    }
    # A pattern names the process it counts and the one whose open cases it looks for.
    referred |= {
        part.get("process")
        for pattern in (data.get("patterns") or {}).values()
        if isinstance(pattern, dict)
        for part in (pattern.get("match"), pattern.get("with_open"))
        if isinstance(part, dict)
    }
    # A schedule's 'while' names the process whose cases it counts.
    referred |= {
        item["while"].get("process")
        for item in items
        if isinstance(item, dict) and isinstance(item.get("while"), dict)
    }
    # Linked cases: a process's 'open' actions name the processes they open.
    stack: list[Any] = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            opened = node.get("open")
            if isinstance(opened, dict):
                referred.add(opened.get("process"))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    calendars = set(data.get("calendars") or {})
    return defined, {r for r in referred if isinstance(r, str)}, calendars


def _seeds() -> list[Seed]:
    groups = [
        sorted((ROOT / "processes").glob("*.yaml")) + sorted((ROOT / "rules").glob("*.yaml")),
        sorted((ROOT / "tests" / "fixtures" / "valid").glob("*.yaml")),
    ]
    seeds: list[Seed] = []
    for group in groups:
        loaded: dict[Path, tuple[str, dict[str, Any]]] = {}
        for path in group:
            text = path.read_text(encoding="utf-8")
            document, problems = parse_text(text, str(path))
            assert document is not None and not problems, path
            loaded[path] = (text, document.data)
        refs = {path: _references(data) for path, (_, data) in loaded.items()}
        for path, (text, data) in loaded.items():
            # The files this one needs to validate clean, and those they need in turn.
            needed = {path}
            while True:
                defined = set().union(*(refs[p][0] for p in needed))
                referred = set().union(*(refs[p][1] for p in needed))
                more = {
                    other
                    for other, (o_defined, o_referred, o_calendars) in refs.items()
                    if o_calendars or o_defined & referred or o_referred & defined
                } - needed
                if not more:
                    break
                needed |= more
            companions = tuple(p for p in group if p in needed and p != path)
            seeds.append(Seed(path, text, data, companions))
    return seeds


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


SEEDS = {_name(seed.source): seed for seed in _seeds()}


# --- mutations of the data (the file is then written back as YAML) ------------------------


def _paths(node: Any, path: JsonPath = ()) -> list[JsonPath]:
    """Every path below ``node`` (not ``node`` itself)."""
    found: list[JsonPath] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        found.append((*path, key))
        found.extend(_paths(child, (*path, key)))
    return found


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _near_miss(draw: st.DrawFn, name: str) -> str:
    """A typo of ``name``: a letter dropped, doubled, swapped or changed, case, or '-'."""
    if not name:
        return "x"
    at = draw(st.integers(0, len(name) - 1))
    kind = draw(st.sampled_from(["drop", "double", "swap", "change", "upper", "dash", "plural"]))
    if kind == "drop" and len(name) > 1:
        return name[:at] + name[at + 1 :]
    if kind == "double":
        return name[:at] + name[at] + name[at:]
    if kind == "swap" and at + 1 < len(name):
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if kind == "change":
        return name[:at] + draw(st.sampled_from("aeiouxz_")) + name[at + 1 :]
    if kind == "upper":
        return name.upper()
    if kind == "dash":
        return name.replace("_", "-") if "_" in name else f"{name}-x"
    return f"{name}s"


def _retyped(draw: st.DrawFn, value: Any) -> Any:
    """``value`` as another type: text as a number, a mapping as a list, a list as one value."""
    options: list[Any] = [None, 42, -1, 3.5, True, "", "x", [], {}]
    if isinstance(value, str):
        options += [len(value), [value], {value: value}]
    elif isinstance(value, dict):
        options += [list(value.values()), list(value), str(value)]
    elif isinstance(value, list):
        options += [value[0] if value else "x", {str(i): v for i, v in enumerate(value)}]
    else:
        options += [str(value), [value], {"value": value}]
    return draw(st.sampled_from(options))


def _delete_key(draw: st.DrawFn, data: dict[str, Any]) -> None:
    paths = _paths(data)
    path = draw(st.sampled_from(paths))
    del _get(data, path[:-1])[path[-1]]


def _retype_value(draw: st.DrawFn, data: dict[str, Any]) -> None:
    path = draw(st.sampled_from(_paths(data)))
    parent = _get(data, path[:-1])
    parent[path[-1]] = _retyped(draw, parent[path[-1]])


def _rename_key(draw: st.DrawFn, data: dict[str, Any]) -> None:
    paths = [p for p in _paths(data) if isinstance(p[-1], str)]
    path = draw(st.sampled_from(paths))
    parent = _get(data, path[:-1])
    old = str(path[-1])
    new = _near_miss(draw, old)
    renamed = {(new if key == old else key): value for key, value in parent.items()}
    parent.clear()
    parent.update(renamed)


def _swap_target(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Send an event somewhere else: another state, a near miss, nowhere, or several places."""
    events = data.get("events")
    states = data.get("states")
    if not isinstance(events, dict) or not events or not isinstance(states, dict) or not states:
        _retype_value(draw, data)
        return
    event = events[draw(st.sampled_from(sorted(events)))]
    if not isinstance(event, dict):
        return
    state = draw(st.sampled_from(sorted(states)))
    event["to"] = draw(
        st.sampled_from([state, _near_miss(draw, state), "nowhere", [state], None, 7])
    )
    if draw(st.booleans()):
        event["from"] = draw(st.sampled_from([state, [state, "nowhere"], []]))


def _swap_text(draw: st.DrawFn, data: dict[str, Any]) -> None:
    """Replace a text value (an id, a condition, a duration) by a typo of it or another one."""
    texts = [p for p in _paths(data) if isinstance(_get(data, p), str)]
    if not texts:
        return
    path = draw(st.sampled_from(texts))
    parent = _get(data, path[:-1])
    other = _get(data, draw(st.sampled_from(texts)))
    parent[path[-1]] = draw(st.sampled_from([_near_miss(draw, parent[path[-1]]), other]))


DATA_MUTATIONS: list[Callable[[st.DrawFn, dict[str, Any]], None]] = [
    _delete_key,
    _retype_value,
    _rename_key,
    _swap_target,
    _swap_text,
    _swap_text,
]


# --- mutations of the text and bytes ------------------------------------------------------

KEY_LINE = re.compile(r"^(\s*)(- )?([^\s#:\-\[\]{}][^:#]*):(\s|$)")
FLOW_PAIR = re.compile(r"([{,]\s*)([\w-]+: [^,{}\[\]]*)([,}])")
SPECIAL_BYTES = [
    b"\t", b"\x00", b"\xff", b"\xc3", b"\xe6\x8a", b"\r", b"\r\n", b"\n", b"\n  ", b"\n\t",
    "\u2028".encode(), "\ufeff".encode(), "\x85".encode(), b"\x0c", b"\x1b", b"\x7f",
    b": ", b"- ", b"{", b"}", b"[", b"]", b",", b"&a ", b"*a", b"*nowhere", b"&a [*a, *a] ",
    b"!!python/object/apply:os.system ['true'] ", b"!x ", b"!!str ", b"<<: ", b"<<: *a",
    b"'", b'"', b"#", b"%YAML 1.1\n", b"---\n", b"...\n", b"? ", b"? [a]\n: b\n", b"|",
    b">", b"\\", b"@", b"`", b"%", b"1e999", b"0x", b"0o8", b".nan", b"~", b"null",
    "报修".encode(), "\U0001f6b0".encode(), b"\xed\xa0\x80", b" " + b"9" * 4400 + b"\n",
]  # fmt: skip


def _duplicate_key(draw: st.DrawFn, text: str) -> str:
    """Repeat a key: a block-mapping line, or a pair inside a flow mapping ``{a: 1, a: 1}``."""
    lines = text.splitlines(keepends=True)
    block = [i for i, line in enumerate(lines) if KEY_LINE.match(line)]
    flow = list(FLOW_PAIR.finditer(text))
    if flow and (not block or draw(st.booleans())):
        pair = draw(st.sampled_from(flow))
        return text[: pair.end(2)] + ", " + pair.group(2) + text[pair.end(2) :]
    if not block:
        return text
    index = draw(st.sampled_from(block))
    line = lines[index]
    match = KEY_LINE.match(line)
    assert match is not None
    indent = match.group(1) + ("  " if match.group(2) else "")
    copy_line = indent + line[match.start(3) :]
    if not copy_line.endswith("\n"):
        copy_line += "\n"
    return "".join(lines[: index + 1]) + copy_line + "".join(lines[index + 1 :])


def _huge_number(draw: st.DrawFn, text: str) -> str:
    """Give a key a number too long for Python to print (over 4,300 digits)."""
    lines = text.splitlines(keepends=True)
    block = [i for i, line in enumerate(lines) if KEY_LINE.match(line)]
    if not block:
        return text
    index = draw(st.sampled_from(block))
    match = KEY_LINE.match(lines[index])
    assert match is not None
    digits = draw(st.sampled_from(["9" * 4400, "0x" + "f" * 4000, "-" + "1" * 1001]))
    lines[index] = lines[index][: match.end(3) + 1] + " " + digits + "\n"
    return "".join(lines)


def _truncate(draw: st.DrawFn, raw: bytes) -> bytes:
    return raw[: draw(st.integers(0, len(raw)))]


def _insert(draw: st.DrawFn, raw: bytes) -> bytes:
    at = draw(st.integers(0, len(raw)))
    junk = draw(
        st.one_of(
            st.sampled_from(SPECIAL_BYTES),
            st.binary(min_size=1, max_size=6),
            st.text(min_size=1, max_size=4).map(lambda s: s.encode("utf-8", "surrogatepass")),
        )
    )
    return raw[:at] + junk + raw[at:]


def _dump(draw: st.DrawFn, data: dict[str, Any]) -> str:
    return yaml.safe_dump(
        data,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=draw(st.sampled_from([False, None])),
        width=draw(st.sampled_from([80, 10_000])),
    )


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    """A seed file's name and mutated bytes of it, with the names of the mutations applied."""
    seed = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    applied: list[str] = []
    data_steps = draw(st.integers(0, 3))
    text = seed.text
    if data_steps:
        data = copy.deepcopy(seed.data)
        for _ in range(data_steps):
            if not data:
                break
            mutation = draw(st.sampled_from(DATA_MUTATIONS))
            mutation(draw, data)
            applied.append(mutation.__name__)
        text = _dump(draw, data)
    for text_mutation, one_in in ((_duplicate_key, 2), (_huge_number, 12)):
        if draw(st.integers(1, one_in)) == 1:
            text = text_mutation(draw, text)
            applied.append(text_mutation.__name__)
    raw = text.encode("utf-8")
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3] if applied else [1, 1, 2, 3]))):
        byte_mutation = draw(st.sampled_from([_truncate, _insert, _insert]))
        raw = byte_mutation(draw, raw)
        applied.append(byte_mutation.__name__)
    return _name(seed.source), raw, applied


# --- the property -------------------------------------------------------------------------


def _line_count(file: str, cache: dict[str, int]) -> int:
    """Lines of a file as an editor and the caret display count them (at least 1)."""
    if file not in cache:
        text = Path(file).read_bytes().decode("utf-8", errors="replace")
        cache[file] = max(len(text.splitlines()), 1)
    return cache[file]


def _assert_positioned(diagnostic: Diagnostic, lines: dict[str, int]) -> None:
    assert CODE.fullmatch(diagnostic.code), diagnostic
    spans: list[Span] = [diagnostic.span, *(span for _, span in diagnostic.also)]
    for span in spans:
        assert span.line >= 1 and span.column >= 1, diagnostic
        assert span.line <= _line_count(span.file, lines), diagnostic


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=mutated_files(), with_companions=st.booleans(), via_cli=st.integers(0, 9))
def test_mutated_files_never_crash_the_validator(
    case: tuple[str, bytes, list[str]], with_companions: bool, via_cli: int
) -> None:
    name, raw, applied = case
    seed = SEEDS[name]
    event("mutations: " + " ".join(sorted(set(applied))))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / seed.source.name
        path.write_bytes(raw)
        paths = [path, *(seed.companions if with_companions else ())]
        report = validate_paths(paths)
        lines: dict[str, int] = {}
        for diagnostic in report.diagnostics:
            _assert_positioned(diagnostic, lines)
        event("codes: " + " ".join(sorted({d.code for d in report.diagnostics})))
        if via_cli == 0:
            result = run_cli(["validate", "--format", "json", *map(str, paths)])
            assert result.exit_code in (0, 1), result.output
            found = json.loads(result.output)["diagnostics"]
            assert len(found) == len(report.diagnostics)
            for item in found:
                assert CODE.fullmatch(item["code"]) and item["line"] >= 1 and item["column"] >= 1


def test_seeds_are_valid_and_cover_every_kind() -> None:
    """The fuzz starts from files that validate clean, so every diagnostic is the mutation's."""
    names = {seed.source.name for seed in SEEDS.values()}
    assert names >= {"repair.yaml", "calendars.yaml", "leak.yaml", "leak-rules.yaml"}
    for seed in SEEDS.values():
        report = validate_paths([seed.source, *seed.companions])
        assert report.diagnostics == [], (seed.source, report.diagnostics[:3])


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated_files())
def test_the_schema_and_the_models_agree_on_mutated_files(
    case: tuple[str, bytes, list[str]],
) -> None:
    """Whatever a mutation did, a file that passes its JSON Schema builds its pydantic
    definitions: the models never refuse a shape the schema (which editors use too) allows.
    The models may be laxer (a ``null`` list is an empty one), as the schema decides first."""
    try:
        text = case[1].decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    document = parse_text(text, "f.yaml")[0] if "\x00" not in text else None
    kind = detect_kind(document.data) if document is not None else None
    if document is None or kind is None:
        return
    schema_valid = not validate_structure(document, kind)
    event(f"schema-valid: {schema_valid}")
    if schema_valid:
        assert add_definitions(document, kind, Library()) == []
