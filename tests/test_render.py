"""Diagrams and the procedure manual: golden manuals, real parsers, a real browser.

- The Markdown manual of the shipped library, in zh-CN and en, is compared with
  ``tests/golden/manual.*.md``; a difference fails with a unified diff. After an intended
  change (to the library or the renderer) regenerate them with
  ``PROPFLOW_UPDATE_GOLDEN=1 python -m pytest tests/test_render.py -k golden``.
- Every shipped process's Mermaid is checked by a strict structural validator (always) and by
  the real Mermaid parser in Node (``tests/mermaid_check.mjs``), which also reports the
  states, transitions and notes it understood so their texts are compared with the diagram
  model: escaping that parses but garbles a label fails too.
- Every shipped process's DOT is laid out by the real Graphviz, and the texts in the SVG are
  compared with the model.
- The HTML manual is opened in headless Chromium: every diagram is an SVG in the DOM with a
  real size, and there is no error text.

Graphviz, Node with mermaid and jsdom, and Chromium are system tools: each test that needs
one skips with a loud reason when it is missing, except under CI (``CI=true``), where
``.ci/run`` installs them and a skip would hide an untested renderer: there it fails.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from click.testing import CliRunner

from engine.cli import main
from engine.conditions import parse_condition
from engine.io.library import Library
from engine.io.loading import load_library
from engine.io.resources import standard_library_dirs
from engine.model import ProcessDef
from engine.model.common import localized
from engine.model.words import condition_words, duration_words, wrap
from engine.render import (
    MISSING,
    GraphvizMissing,
    build_diagram,
    build_manual,
    dot_to_svg,
    render_dot,
    render_html,
    render_markdown,
    render_mermaid,
)
from engine.render.diagram import Diagram, ascii_ids, edge_lines, note_lines, state_order
from engine.render.manual import Figure, Heading, prose
from engine.render.mermaid import escape as mermaid_escape
from engine.render.pdf import find_browser, html_to_pdf
from engine.render.split import MAX_STATES, main_line, reading_order, split_diagram
from engine.render.svg import RenderError, inline_svg
from tests.conftest import ROOT, run_cli

GOLDEN = Path(__file__).parent / "golden"
MERMAID_CHECK = Path(__file__).parent / "mermaid_check.mjs"
LANGS = ("zh-CN", "en")

# A label with everything that can break a diagram syntax or a Markdown table.
NASTY = (
    "引号\"双引号\" '单' 冒号: 分号; 井号#35; #quot; [方括号] {花括号} (圆括号) <b>粗</b> "
    "& 百分比%% 反引号` 反斜杠\\N \\l end note | 竖线 *星号* _下划线_ --> [*]"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip loudly; under CI, where .ci/run installs every tool, fail instead."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def library() -> Library:
    loaded = load_library(standard_library_dirs())
    assert not [d for d in loaded.diagnostics if d.severity.value == "error"]
    return loaded.library


def _diagrams(library: Library, limits: bool = True) -> Iterator[tuple[str, Diagram]]:
    limits_defs = [t.definition for t in library.time_limits]
    for located in library.processes:
        for lang in LANGS:
            process = located.definition
            yield f"{process.id}.{lang}", build_diagram(process, limits_defs, lang, limits)


def _adversarial_process(tmp_path: Path) -> Path:
    """A process whose labels and ids are as hostile to the diagram syntaxes as the schema
    allows: state ids that are Mermaid keywords, labels full of syntax characters."""
    document = {
        "process": "nasty",
        "title": {"zh-CN": "恶意" + NASTY, "en": "Nasty " + NASTY},
        "record": {"zh-CN": "表*单|", "en": "Form"},
        "roles": {
            "clerk": {"label": {"zh-CN": "文员" + NASTY, "en": "Clerk"}, "duties": {"zh-CN": NASTY}}
        },
        "fields": {
            "kind": {
                "type": "enum",
                "values": ["a", "b"],
                "label": {"zh-CN": "类别|*", "en": "Kind"},
                "value_labels": {"a": {"zh-CN": "甲" + NASTY}, "b": {"zh-CN": "乙"}},
            },
        },
        "states": {
            "state": {"initial": True, "label": {"zh-CN": "状态" + NASTY}},
            "note": {"label": {"zh-CN": "注" + NASTY}},
            "end": {"final": True, "label": {"zh-CN": "完" + NASTY}},
            "root_start": {"final": True, "label": {"zh-CN": "假起点"}},
        },
        "events": {
            "go": {
                "from": "state",
                "to": "note",
                "roles": ["clerk"],
                "if": "kind == 'a'",
                "label": {"zh-CN": "走" + NASTY},
            },
            "stay": {"from": "note", "roles": ["clerk"], "label": {"zh-CN": "留" + NASTY}},
            "finish": {"from": ["state", "note"], "to": "end", "roles": ["clerk"]},
            "odd": {"from": "note", "to": "root_start", "roles": ["clerk"]},
        },
    }
    rules = {
        "time_limits": {
            "nasty-limit": {
                "label": {"zh-CN": "时限" + NASTY},
                "process": "nasty",
                "start": {"enter": "state"},
                "stop": {"event": "stay"},
                "pause": {"in": ["note"]},
                "limit": "1h",
            }
        }
    }
    directory = tmp_path / "nasty"
    directory.mkdir()
    for name, data in (("nasty.yaml", document), ("nasty-rules.yaml", rules)):
        (directory / name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8"
        )
    return directory


@pytest.fixture
def nasty(tmp_path: Path) -> tuple[Path, ProcessDef, Library]:
    directory = _adversarial_process(tmp_path)
    loaded = load_library([directory])
    assert not loaded.diagnostics, loaded.diagnostics
    process = loaded.library.process("nasty")
    assert process is not None
    return directory, process, loaded.library


# --- the golden manuals -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_golden_markdown_manual(lang: str) -> None:
    result = CliRunner().invoke(main, ["manual", "--lang", lang, "--format", "md"])
    assert result.exit_code == 0, result.output
    path = GOLDEN / f"manual.{lang}.md"
    if os.environ.get("PROPFLOW_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(result.stdout, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if result.stdout != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                result.stdout.splitlines(keepends=True),
                f"tests/golden/{path.name}",
                "propflow manual (now)",
            )
        )
        pytest.fail(
            f"the {lang} manual differs from its golden file:\n{diff}\nIf the change is "
            "intended, regenerate: PROPFLOW_UPDATE_GOLDEN=1 python -m pytest "
            "tests/test_render.py -k golden",
            pytrace=False,
        )


@pytest.mark.parametrize("lang", LANGS)
def test_manual_has_every_process_in_the_manuals_structure(library: Library, lang: str) -> None:
    manual = build_manual(library, lang)  # type: ignore[arg-type]
    # Every process once, in the catalogue's presentation order (repair first).
    shown = [s.process_id for s in manual.sections]
    assert sorted(shown) == sorted(library.process_ids)
    assert shown[:2] == ["repair", "complaint"]
    assert {"repair", "complaint", "handover", "meeting", "meeting_service"} <= set(
        library.process_ids
    )
    words = (
        [
            "目的",
            "适用范围",
            "职责",
            "操作规程",
            "时限",
            "质量标准与考核指标",
            "相关记录",
            "相关文件",
        ]
        if lang == "zh-CN"
        else [
            "Purpose",
            "Scope",
            "Responsibilities",
            "Procedure",
            "Time limits",
            "Quality standards and indicators",
            "Records",
            "Related documents",
        ]
    )
    numbers = "一二三四五六七八"
    with_indicators = {located.definition.process for located in library.kpis}
    for section in manual.sections:
        process = library.process(section.process_id)
        assert process is not None
        # The indicators' section only where the process has some; every shipped process
        # has a form or a source, so each names its related documents.
        shown_words = [w for i, w in enumerate(words) if i != 5 or process.id in with_indicators]
        expected = [
            f"{numbers[i]}、{w}" if lang == "zh-CN" else f"{i + 1}. {w}"
            for i, w in enumerate(shown_words)
        ]
        headings = [b.text for b in section.blocks if isinstance(b, Heading) and b.level == 3]
        assert headings == expected
        stages = [b for b in section.blocks if isinstance(b, Heading) and b.level == 4]
        order = state_order(process)
        limits = [t for t in library.time_limits if t.definition.process == process.id]
        assert len(stages) == len(order) + len(limits)
        assert stages[0].text.startswith("1. ") and order[0] in process.initial_states
        # One figure, or a large process's main line and exceptions (split below).
        figures = [b for b in section.blocks if isinstance(b, Figure)]
        assert (len(figures) == 1) == (len(process.states) <= MAX_STATES)


def test_a_large_diagram_is_split_into_its_main_line_and_exceptions(library: Library) -> None:
    """The 15-state repair: the main line through to 已关闭 (the paid branch included, the
    withdrawal, the return and the developer's part not), then each exception with the
    main-line states it leaves from; every state drawn in full and every transition drawn
    exactly once across the parts."""
    repair = library.process("repair")
    assert repair is not None
    whole = build_diagram(repair, [t.definition for t in library.time_limits], "zh-CN")
    parts = split_diagram(whole, "closed")
    main, *exceptions = parts
    assert main.main and not any(part.main for part in exceptions)
    line = main_line(whole, "closed")
    assert line == [
        "received", "reported", "quoted", "awaiting_payment", "dispatched", "in_progress",
        "awaiting_signoff", "signed_off", "closed",
    ]  # fmt: skip
    assert {s.id for s in main.diagram.states} == set(line)
    assert [part.about for part in exceptions] == [
        ("先作业待补单",),
        ("业主撤销待注销", "已注销"),
        ("已转开发公司建设部",),
        ("退单待签字", "已退单"),
    ]
    drawn = [t for part in parts for t in part.diagram.transitions]
    assert sorted(map(repr, drawn)) == sorted(map(repr, whole.transitions))
    full = [s for part in parts for s in part.diagram.states if s in whole.states]
    assert sorted(s.id for s in full) == sorted(s.id for s in whole.states)
    for part in exceptions:  # the main-line states are drawn plain there, for orientation
        for state in part.diagram.states:
            if state.id in line:
                assert (state.internal, state.limits, state.initial) == ((), (), False)
    assert len({part.diagram.part for part in parts}) == len(parts)  # ids unique in the HTML
    small = library.process("complaint")
    assert small is not None and len(small.states) <= MAX_STATES
    assert [p.main for p in split_diagram(build_diagram(small))] == [True]


def test_manual_describes_the_main_line_first_then_the_exceptions(library: Library) -> None:
    """The repair's stages: its main line from 受理中 to 已关闭 numbered 1–9, then each
    exception's states in the order of their diagrams; an event fired from several stages is
    described once and referred to at the others."""
    repair = library.process("repair")
    assert repair is not None
    whole = build_diagram(repair, [t.definition for t in library.time_limits], "zh-CN")
    order = reading_order(whole, "closed")
    assert order[: len(main_line(whole, "closed"))] == main_line(whole, "closed")
    assert order[9:] == [
        "working_paperwork_pending", "cancel_pending", "cancelled",
        "with_developer", "return_pending", "returned",
    ]  # fmt: skip
    assert sorted(order) == sorted(repair.states)
    text = render_markdown(build_manual(library, "zh-CN"))
    section = text[text.index("## 报修处理") :]
    stages = re.findall(r"^#### (\d+)\. (.+)$", section, re.MULTILINE)[: len(order)]
    labels = [localized(repair.states[sid].label, sid, "zh-CN") for sid in order]
    assert [name.split("（")[0] for _, name in stages] == labels
    assert [int(n) for n, _ in stages] == list(range(1, len(order) + 1))
    # 'withdraw' can be fired from five stages: described once, referred to four times.
    assert text.count("**业主撤销报修**") == 4
    assert re.search(r"\*\*业主撤销报修\*\* → \d+\. 业主撤销待注销（见 \d+\.\d+）", text)


def test_manual_says_time_limits_in_words(library: Library) -> None:
    zh = render_markdown(build_manual(library, "zh-CN"))
    assert "- **时限**：24小时" in zh
    assert "- **延期**：可由物业服务中心负责人批准延期，须取得业主/住户同意" in zh
    assert "- **逐级升级**：自开始计时起2周：可由管理处主任批准延期、升级至管理处主任" in zh
    assert "- **日历**：办公时间" in zh and "- **预警**：用时达时限的80%时" in zh
    assert "- **周期**：每15分钟（处于“会中服务”时）" in zh
    en = render_markdown(build_manual(library, "en"))
    assert (
        "- **Extensions**: approved by Service-centre head, with consent of Owner / resident" in en
    )
    assert "- **Deadline**: 20 days before Handover date" in en
    assert "## Appendix: calendars" in en and "Mon–Fri 08:30–12:00, 13:30–17:30" in en


def test_manual_escapes_markdown_in_labels(nasty: tuple[Path, ProcessDef, Library]) -> None:
    _, _, library = nasty
    text = render_markdown(build_manual(library, "zh-CN"))
    assert "| 类别\\|\\* |" in text  # a label in a table cell cannot open a cell or emphasis
    assert "\\<b\\>粗\\</b\\>" in text and "<b>" not in text.split("```mermaid")[0]
    assert "**《表\\*单\\|》**" in text


# --- plain words ------------------------------------------------------------------------


def test_conditions_in_plain_words(library: Library) -> None:
    repair = library.process("repair")
    assert repair is not None

    def words(text: str, lang: str = "zh-CN") -> str | None:
        return condition_words(parse_condition(text), repair, lang)  # type: ignore[arg-type]

    assert words("urgency == 'urgent' or actor.role == 'supervisor'") == (
        "“急修/一般”为“急修项目”，或办理人角色为“维修主管（保障组主管）”"
    )
    assert words("(paid == true or fee > 100) and owner_name != null") == (
        "（“已结清费用”为是，或“收费金额”大于100），且“住户名称”已填写"
    )
    assert words("category not in ['drain', 'leak']", "en") == (
        "Category is none of “Blocked drain or toilet”, “Leaking pipe”"
    )
    assert words("not (chargeable or 'head' in actor.roles)", "en") == (
        "not (Chargeable is yes, or the actor holds the role “Service-centre head”)"
    )
    assert words("state == 'closed' and payload.fee <= 0", "en") == (
        "the current stage is “Closed”, and the submitted Fee is at most 0"
    )
    assert condition_words(None, repair, "zh-CN") is None


def test_durations_in_words() -> None:
    from engine.model.durations import parse_duration

    cases = {
        "24h": ("24小时", "24 hours"),
        "3d": ("3天", "3 days"),
        "2w": ("2周", "2 weeks"),
        "1m": ("1分钟", "1 minute"),
        "90s": ("90秒", "90 seconds"),
        "3 workdays": ("3个工作日", "3 working days"),
        "1 workhour": ("1个工作小时", "1 working hour"),
    }
    for text, (zh, en) in cases.items():
        assert duration_words(parse_duration(text), "zh-CN") == zh
        assert duration_words(parse_duration(text), "en") == en


def test_wrap_breaks_at_punctuation_only() -> None:
    assert wrap("甲乙丙", 4) == ["甲乙丙"]
    lines = wrap("“有偿服务”为否，或“已结清费用”为是，或“已批准先服务后收费”为是", 24)
    assert lines == ["“有偿服务”为否，", "或“已结清费用”为是，", "或“已批准先服务后收费”为是"]
    assert wrap("维修主管（保障组主管）、接待员、客服主管", 10) == [
        "维修主管（保障组主管）、接待员、客服主管"
    ]
    assert prose("业主满意。 规范报修 seed 001 第5篇", "en") == "业主满意。规范报修 seed 001 第5篇"
    # In zh-CN a source manual is cited by its title.
    assert prose("规范报修（seed 001 第5篇）", "zh-CN") == "规范报修（《怎样管理服务15篇》第5篇）"


# --- Mermaid -------------------------------------------------------------------------------

_ENTITY = re.compile(r"#(?:[a-z]+|\d+);")
_STATE = re.compile(r'^    state "([^"\n]*)" as (s_\w+)$')
_EDGE = re.compile(r"^    (\[\*\]|s_\w+) --> (\[\*\]|s_\w+)(?: : (.+))?$")


def assert_valid_mermaid(text: str, diagram: Diagram) -> None:
    """A strict structural check of our Mermaid subset (runs without Node): every line is a
    statement we mean to write, every id is declared, and no text holds a character the
    grammar could read as syntax outside an entity code."""
    lines = text.splitlines()
    if lines[0] == "---":
        assert lines[2] == "---" and lines[1].startswith("title: ")
        json.loads(lines[1][len("title: ") :])
        lines = lines[3:]
    assert lines[0] == "stateDiagram-v2"
    declared: set[str] = set()
    in_note = False
    for line in lines[1:]:
        if in_note:
            if line == "    end note":
                in_note = False
                continue
            body = line.strip()
            assert line.startswith("        ") and body, line
            assert not re.search(r"\bend\s+note\b", body, re.I), line
            assert not re.search(r'[#;"<>&%`]', _ENTITY.sub("", body)), line
            continue
        if match := _STATE.match(line):
            assert not re.search(r'[#;"<>&%`]', _ENTITY.sub("", match.group(1))), line
            assert match.group(2) not in declared
            declared.add(match.group(2))
            continue
        if match := _EDGE.match(line):
            source, target, label = match.groups()
            assert source == "[*]" or source in declared, line
            assert target == "[*]" or target in declared, line
            if label is not None:
                bare = _ENTITY.sub("", label.replace("<br/>", ""))
                assert not re.search(r'[#;"<>&%`]', bare), line
            continue
        if match := re.match(r"^    note right of (s_\w+)$", line):
            assert match.group(1) in declared
            in_note = True
            continue
        raise AssertionError(f"unexpected Mermaid line: {line!r}")
    assert not in_note
    ids = ascii_ids(diagram)
    assert declared == set(ids.values())


def _expected_mermaid(diagram: Diagram) -> dict[str, Any]:
    ids = ascii_ids(diagram)
    states = {
        ids[s.id]: {
            "descriptions": [s.label],
            "note": "\n".join(line.strip() for line in note_lines(s, diagram.lang)) or None,
        }
        for s in diagram.states
    }
    relations = [("root_start", ids[s.id], "") for s in diagram.states if s.initial]
    drawn: set[str] = set()
    for event in diagram.transitions:
        assert event.target is not None
        lines = edge_lines(event, diagram.lang, brief=event.id in drawn)
        drawn.add(event.id)
        relations.append((ids[event.source], ids[event.target], "\n".join(lines)))
    relations += [(ids[s.id], "root_end", "") for s in diagram.states if s.final]
    return {"states": states, "relations": sorted(relations)}


def _mermaid_modules() -> Path:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js not found; the real Mermaid parser runs in Node")
    candidates = []
    if os.environ.get("PROPFLOW_MERMAID_MODULES"):
        candidates.append(Path(os.environ["PROPFLOW_MERMAID_MODULES"]))
    candidates.append(ROOT / ".venv" / "mermaid" / "node_modules")
    for candidate in candidates:
        if (candidate / "mermaid").is_dir() and (candidate / "jsdom").is_dir():
            return candidate
    skip_or_fail(
        "mermaid and jsdom not installed for Node; .ci/run installs them with "
        "npm install --prefix .venv/mermaid mermaid jsdom (or set PROPFLOW_MERMAID_MODULES)"
    )


def parse_with_mermaid(sources: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The real Mermaid parser's view of each source (tests/mermaid_check.mjs)."""
    modules = _mermaid_modules()
    completed = subprocess.run(
        ["node", str(MERMAID_CHECK)],
        input=json.dumps([{"name": k, "source": v} for k, v in sources.items()]),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PROPFLOW_MERMAID_MODULES": str(modules)},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return {item["name"]: item for item in json.loads(completed.stdout)}


def _compare_with_parser(parsed: dict[str, Any], diagram: Diagram) -> None:
    assert parsed["ok"] and parsed["error"] is None, parsed["error"]
    assert parsed["type"] == "stateDiagram"
    expected = _expected_mermaid(diagram)
    states = {k: v for k, v in parsed["states"].items() if k not in ("root_start", "root_end")}
    assert states == expected["states"]
    relations = sorted((r["from"], r["to"], r["label"]) for r in parsed["relations"])
    assert relations == expected["relations"]


def test_mermaid_of_every_shipped_process_is_well_formed(library: Library) -> None:
    for _name, diagram in _diagrams(library):
        assert_valid_mermaid(render_mermaid(diagram), diagram)


def test_mermaid_of_every_shipped_process_in_the_real_parser(library: Library) -> None:
    diagrams = dict(_diagrams(library))
    parsed = parse_with_mermaid({name: render_mermaid(d) for name, d in diagrams.items()})
    for name, diagram in diagrams.items():
        _compare_with_parser(parsed[name], diagram)


def test_mermaid_is_well_formed_with_hostile_labels(
    nasty: tuple[Path, ProcessDef, Library],
) -> None:
    _, process, library = nasty
    diagram = build_diagram(process, [t.definition for t in library.time_limits], "zh-CN")
    text = render_mermaid(diagram)
    assert_valid_mermaid(text, diagram)
    assert "s_state" in text and "s_end" in text and "s_root_start" in text
    assert diagram.state("note").limits and diagram.state("note").internal


def test_mermaid_parser_reads_hostile_labels(nasty: tuple[Path, ProcessDef, Library]) -> None:
    _, process, library = nasty
    diagram = build_diagram(process, [t.definition for t in library.time_limits], "zh-CN")
    text = render_mermaid(diagram)
    parsed = parse_with_mermaid({"nasty": text})["nasty"]
    _compare_with_parser(parsed, diagram)
    # and the texts really came through: the parser saw the hostile label unchanged
    assert parsed["states"]["s_note"]["descriptions"] == ["注" + NASTY]


def test_mermaid_escape_keeps_one_line() -> None:
    assert mermaid_escape("a\nb\tc") == "a b c"
    assert mermaid_escape('#;"') == "#35;#59;#quot;"


# --- DOT and Graphviz ------------------------------------------------------------------------


def _require_dot() -> None:
    if shutil.which("dot") is None:
        skip_or_fail("Graphviz's dot not found; install Debian's graphviz package (.ci/run does)")


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        "".join(node.itertext())
        for node in root.iter()
        if node.tag.endswith("}text") or node.tag == "text"
    ]


def _assert_svg_shows(svg: str, diagram: Diagram) -> None:
    texts = [t.strip() for t in _svg_texts(svg)]
    for state in diagram.states:
        assert state.label in texts, state.label
        for line in note_lines(state, diagram.lang):
            assert line.strip() in texts, line
    for event in diagram.transitions:
        assert event.label in texts, event.label
        for line in edge_lines(event, diagram.lang):
            assert line.strip() in texts or line.strip() == "", line
    root = ET.fromstring(svg)
    edges = [g for g in root.iter() if g.get("class") == "edge"]
    assert len(edges) == len(diagram.transitions) + len(diagram.initial)
    finals = [
        g for g in root.iter() if g.get("class") == "node" and len(g.findall("{*}ellipse")) == 2
    ]
    assert len(finals) == len(diagram.finals)


def test_dot_of_every_shipped_process_parses_in_graphviz(library: Library) -> None:
    _require_dot()
    for _name, diagram in _diagrams(library):
        svg = dot_to_svg(render_dot(diagram))
        _assert_svg_shows(svg, diagram)


def test_dot_survives_hostile_labels(nasty: tuple[Path, ProcessDef, Library]) -> None:
    _require_dot()
    _, process, library = nasty
    diagram = build_diagram(process, [t.definition for t in library.time_limits], "zh-CN")
    source = render_dot(diagram)
    assert "label=<" in source and "<b>" not in source
    svg = dot_to_svg(source)
    _assert_svg_shows(svg, diagram)
    assert "状态" + NASTY in [t.strip() for t in _svg_texts(svg)]


def test_svg_needs_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_cli(["diagram", "repair", "--format", "svg"])
    assert result.exit_code == 1
    assert MISSING in result.output
    assert MISSING == (
        "SVG needs Graphviz's `dot`; install the graphviz package, or use --format mermaid/dot"
    )
    with pytest.raises(GraphvizMissing):
        dot_to_svg("digraph {}", dot=str(tmp_path / "no-such-dot"))


def test_inline_svg_prefixes_ids() -> None:
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<!-- made -->\n<svg width="10pt" height="10pt">'
        '<g id="graph0"><a xlink:href="#node1"/><path fill="url(#grad)"/>'
        '<a href="https://example.invalid/"/></g></svg>'
    )
    inlined = inline_svg(svg, "d-x", 'A "title"')
    assert inlined.startswith('<svg class="diagram" role="img" aria-label="A &quot;title&quot;"')
    assert 'id="d-x-graph0"' in inlined and 'xlink:href="#d-x-node1"' in inlined
    assert "url(#d-x-grad)" in inlined and 'href="https://example.invalid/"' in inlined
    assert "<?xml" not in inlined and "<!--" not in inlined and "DOCTYPE" not in inlined


# --- the CLI ---------------------------------------------------------------------------------


def test_diagram_cli_formats(tmp_path: Path) -> None:
    result = run_cli(["diagram", "meeting_service"])
    assert result.exit_code == 0 and "stateDiagram-v2" in result.output
    result = run_cli(["diagram", "meeting_service", "--format", "dot", "--lang", "en"])
    assert result.exit_code == 0 and result.output.startswith('digraph "meeting_service" {')
    assert "Meeting-room service" in result.output
    out = tmp_path / "ms.dot"
    assert run_cli(["diagram", "meeting_service", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("digraph")
    no_limits = run_cli(["diagram", "repair", "--no-limits"]).output
    chinese = run_cli(["diagram", "repair", "--lang", "zh-CN"]).output
    assert "开始计时" not in no_limits and "开始计时" in chinese


def test_diagram_cli_unknown_process() -> None:
    result = run_cli(["diagram", "repiar"])
    assert result.exit_code == 1
    assert "unknown process 'repiar' (did you mean 'repair'?)" in result.output


def test_render_refuses_a_library_with_errors(tmp_path: Path) -> None:
    broken = ROOT / "tests" / "fixtures" / "broken" / "pf102_undefined_state.yaml"
    for args in (["diagram", "repair"], ["manual"]):
        result = run_cli([*args, "--library", str(broken)])
        assert result.exit_code == 1
        assert "PF102" in result.output and "cannot render" in result.output


def test_manual_cli_infers_the_format_from_the_file_name(tmp_path: Path) -> None:
    html = tmp_path / "manual.html"
    result = run_cli(["manual", "--lang", "zh-CN", "-o", str(html)])
    assert result.exit_code == 0, result.output
    text = html.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in text
    for title in ("报修处理", "投诉处理", "交楼（业主收楼）", "管理例会", "会议接待服务"):
        assert f">{title}</h2>" in text
    # self-contained: nothing to fetch
    assert not re.search(r"""(src|href)=["'](?!#)""", text)
    assert "@import" not in text and "url(http" not in text
    md = tmp_path / "manual.md"
    assert run_cli(["manual", "--lang", "en", "-o", str(md)]).exit_code == 0
    assert md.read_text(encoding="utf-8").startswith("# Property-management procedure manual")


def figure_count(library: Library) -> int:
    """How many diagrams the manual draws: one a process, more where one is split."""
    manual = build_manual(library, "en")
    return sum(isinstance(b, Figure) for section in manual.sections for b in section.blocks)


def test_html_without_graphviz_shows_mermaid_source(library: Library) -> None:
    def missing(_diagram: Diagram) -> str:
        raise GraphvizMissing()

    text = render_html(build_manual(library, "en"), svg=missing)
    assert text.count('<pre class="mermaid-source">') == figure_count(library)
    assert "needs Graphviz" in text and "<svg" not in text


# --- PF302 for what the manual shows -------------------------------------------------------


def test_pf302_time_limit_calendar_and_record_labels(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "process: p\n"
        "title: {zh-CN: 流程}\n"
        "record: {en: Form}\n"
        "roles: {clerk: {label: {zh-CN: 文员}}}\n"
        "fields: {}\n"
        "states:\n"
        "  a: {initial: true, label: {zh-CN: 甲}}\n"
        "  b: {final: true, label: {zh-CN: 乙}}\n"
        "events:\n"
        "  go: {from: a, to: b, roles: [clerk], label: {zh-CN: 走}}\n",
        encoding="utf-8",
    )
    (tmp_path / "r.yaml").write_text(
        "calendars:\n"
        "  used: {label: {en: Used}, hours: always}\n"
        "  unused: {hours: always}\n"
        "time_limits:\n"
        "  quick:\n"
        "    label: {en: Quick}\n"
        "    process: p\n"
        "    calendar: used\n"
        "    start: {enter: a}\n"
        "    stop: {enter: b}\n"
        "    limit: 1h\n",
        encoding="utf-8",
    )
    result = run_cli(["validate", "--format", "json", str(tmp_path)])
    found = [
        (d["code"], Path(d["file"]).name, d["line"], d["column"], d["message"])
        for d in json.loads(result.output)["diagnostics"]
    ]
    assert found == [
        ("PF302", "p.yaml", 3, 9, "the record (form) of process 'p' has no zh-CN name"),
        ("PF302", "r.yaml", 2, 3, "calendar 'used' (used by a time limit) has no zh-CN label"),
        ("PF302", "r.yaml", 5, 3, "time limit 'quick' has no zh-CN label"),
    ]
    assert result.exit_code == 0
    assert run_cli(["validate", "--strict", str(tmp_path)]).exit_code == 1


# --- the HTML manual in a real browser --------------------------------------------------------


def test_html_manual_renders_in_chromium(library: Library, tmp_path: Path) -> None:
    _require_dot()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        skip_or_fail("Chromium not found; install Debian's chromium package (.ci/run does)")
    page = render_html(build_manual(library, "zh-CN"))
    assert page.count('<svg class="diagram"') == figure_count(library)
    probe = (
        "<script>document.body.setAttribute('data-probe', JSON.stringify("
        "[...document.querySelectorAll('svg.diagram')].map(s => {"
        "const r = s.getBoundingClientRect(); return [r.width, r.height, "
        "s.querySelectorAll('g.node').length]; })));</script></body>"
    )
    path = tmp_path / "manual.html"
    path.write_text(page.replace("</body>", probe), encoding="utf-8")
    completed = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    dom = completed.stdout
    match = re.search(r'data-probe="([^"]*)"', dom)
    assert match, "the probe script did not run"
    sizes = json.loads(match.group(1).replace("&quot;", '"'))
    assert len(sizes) == figure_count(library)
    for width, height, nodes in sizes:
        # Drawn, not an empty box: at least two stages (an exception's part may have no
        # start marker: it begins at a main-line stage).
        assert width > 100 and height > 100 and nodes >= 2
    body = dom.split("</head>", 1)[1]
    for bad in ('class="diagram-missing"', 'class="mermaid-source"', "parsererror", "Error"):
        assert bad not in body, bad


def test_diagram_and_manual_of_an_estates_customised_processes(tmp_path: Path) -> None:
    """--estate renders the estate's merged procedures, including its own new ones."""
    estate = ROOT / "estates" / "lakeside"
    diagram_result = run_cli(["diagram", "warranty_keys", "--estate", str(estate)])
    assert diagram_result.exit_code == 0, diagram_result.output
    assert "stateDiagram-v2" in diagram_result.output
    assert run_cli(["diagram", "warranty_keys"]).exit_code == 1  # not in the standard library
    target = tmp_path / "manual.md"
    manual_result = run_cli(
        ["manual", "--estate", str(estate), "--lang", "zh-CN", "-o", str(target)]
    )
    assert manual_result.exit_code == 0, manual_result.output
    text = target.read_text(encoding="utf-8")
    assert "保修钥匙管理" in text and "装修押金" in text and "报修处理" in text


# --- the PDF ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lakeside_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Lakeside manual printed as a PDF by headless Chromium (made once per module)."""
    if find_browser() is None:
        skip_or_fail("Chromium not installed (.ci/run installs it)")
    target = tmp_path_factory.mktemp("pdf") / "manual.pdf"
    result = run_cli(
        ["manual", "--estate", "estates/lakeside", "--lang", "zh-CN", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    return target


def test_manual_as_pdf_embeds_its_cjk_font(lakeside_pdf: Path) -> None:
    """``--format pdf`` prints the HTML manual with headless Chromium: a PDF whose Chinese text
    is set in an embedded CJK font subset (not boxes from a missing font), over many pages."""
    pdf = lakeside_pdf.read_bytes()
    assert pdf.startswith(b"%PDF-")
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", pdf))
    assert b"WenQuanYiMicroHei" in fonts, fonts
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) > 10


def gray_pixels(pgm: Path) -> tuple[int, int, bytes]:
    """Width, height and the pixels of a binary PGM (``P5``) as pdftoppm writes it."""
    data = pgm.read_bytes()
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert (magic, depth) == (b"P5", b"255")
    return int(width), int(height), pixels


def test_the_pdfs_first_pages_render_with_their_chinese_text(
    lakeside_pdf: Path, tmp_path: Path
) -> None:
    """The first pages, rendered to images by poppler (another reader than the one that wrote
    the PDF): A4 portrait pages — the cover, the contents, a process's first page, its main
    line's diagram —, each inked like text (not blank, not black), and the Chinese text
    extracted from the cover as a reader who copies it gets it."""
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        skip_or_fail("poppler-utils (pdftoppm, pdftotext) not installed (.ci/run installs it)")
    first_pages = ["-f", "1", "-l", "4", str(lakeside_pdf)]
    png, gray = str(tmp_path / "page"), str(tmp_path / "gray")
    subprocess.run(["pdftoppm", "-png", "-r", "72", *first_pages, png], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == 4
    subprocess.run(["pdftoppm", "-gray", "-r", "36", *first_pages, gray], check=True)
    shapes = []
    for pgm in sorted(tmp_path.glob("gray-*.pgm")):
        width, height, pixels = gray_pixels(pgm)
        shapes.append("portrait" if height > width else "landscape")
        ink = sum(1 for value in pixels if value < 128) / len(pixels)
        assert 0.0003 < ink < 0.3, (pgm.name, ink)
    cover = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(lakeside_pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert "物业服务程序手册" in cover and "湖畔花园" in cover
    text = subprocess.run(
        ["pdftotext", *first_pages, "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    pages = text.split("\f")
    # The repair's main line fits a portrait page with its caption, the diagram not cut off.
    main = next(i for i, page in enumerate(pages) if "流程图（主流程）" in page)
    assert shapes == ["portrait"] * 4 and main >= 2, (shapes, main)


def test_pdf_with_a_browser_that_cannot_run_is_a_render_error(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot run"):
        html_to_pdf("<html></html>", browser=str(tmp_path / "no-such-chromium"))
