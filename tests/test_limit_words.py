"""PF208: a time limit's words that contradict its figure, as an estate's patch leaves them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.checks.limit_words import lengths_said
from engine.checks.validation import validate_estate
from engine.diagnostics.language import speaking
from engine.model.durations import Duration
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_RULES = ROOT / "rules" / "repair.yaml"
LIBRARY_PATTERNS = ROOT / "rules" / "patterns.yaml"


def _estate(tmp_path: Path, patch: str, name: str = "repair.yaml") -> Path:
    directory = tmp_path / "hillside"
    (directory / "rules").mkdir(parents=True)
    (directory / "estate.yaml").write_text(
        "estate: hillside\ntitle: {zh-CN: 山景苑, en: Hillside}\nextends: standard\n"
        "timezone: Asia/Shanghai\n",
        encoding="utf-8",
    )
    (directory / "rules" / name).write_text(patch, encoding="utf-8")
    return directory


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_patched_figure_with_the_old_words_is_a_warning(tmp_path: Path) -> None:
    estate = _estate(tmp_path, "time_limits:\n  repair-urgent:\n    limit: 12h\n")
    result = run_cli(["validate", "--format", "json", str(estate)])
    assert result.exit_code == 0, result.output  # a warning
    found = [d for d in json.loads(result.output)["diagnostics"] if d["code"] == "PF208"]
    label = _line_of(LIBRARY_RULES, "label: {zh-CN: 急修项目24小时内解决")
    breach = _line_of(LIBRARY_RULES, "急修项目超过24小时未解决")
    assert [(Path(d["file"]).name, d["line"]) for d in found] == [("repair.yaml", label)] * 2 + [
        ("repair.yaml", breach)
    ] * 2
    assert found[0]["message"] == (
        "the label of time limit 'repair-urgent' says 24小时, but its limit is 12h: "
        "update the words or the figure"
    )
    assert run_cli(["validate", "--strict", str(estate)]).exit_code == 1


def test_the_warning_in_chinese_at_the_same_places(tmp_path: Path) -> None:
    estate = _estate(tmp_path, "time_limits:\n  repair-urgent:\n    limit: 12h\n")
    english = [d for d in validate_estate(estate).diagnostics if d.code == "PF208"]
    with speaking("zh-CN"):
        chinese = [d for d in validate_estate(estate).diagnostics if d.code == "PF208"]
    assert [d.span for d in chinese] == [d.span for d in english]
    assert chinese[0].message == (
        "时限“repair-urgent”的名称写的是“24小时”，但其时限为 12h：请改正文字或时限"
    )


def test_a_patterns_patched_window_with_the_old_words_is_a_warning(tmp_path: Path) -> None:
    """The window patched to 60 days: the library's description and notice still say 30, in
    both languages; given again with 60 they are fine."""
    old = _estate(tmp_path / "old", "patterns:\n  recurring-defect:\n    within: 60d\n", "p.yaml")
    found = [d for d in validate_estate(old).diagnostics if d.code == "PF208"]
    description = _line_of(LIBRARY_PATTERNS, "zh-CN: 同一房屋同一类别的室内报修在30天内")
    notice = _line_of(LIBRARY_PATTERNS, "同一房屋同类报修30天内第三次")
    assert [(d.span.file.endswith("patterns.yaml"), d.span.line) for d in found] == [
        (True, description),
        (True, description + 1),
        (True, notice),
        (True, notice),
    ]
    assert found[2].message == (
        "the notice of pattern 'recurring-defect' says 30天, but its window is 60d: "
        "update the words or the figure"
    )
    with speaking("zh-CN"):
        chinese = [d for d in validate_estate(old).diagnostics if d.code == "PF208"]
    assert chinese[0].message == (
        "跨案件规则“recurring-defect”的说明写的是“30天”，但其时间窗为 60d：请改正文字或时间窗"
    )
    lakeside = ROOT / "estates" / "lakeside"
    assert not [d for d in validate_estate(lakeside).diagnostics if d.code == "PF208"]


def test_words_that_match_the_figure_are_fine(tmp_path: Path) -> None:
    patch = (
        "time_limits:\n  repair-urgent:\n    limit: 12h\n"
        "    label: {zh-CN: 急修项目十二小时内解决, en: Urgent repair within 12 hours}\n"
        "    on_breach:\n"
        "      - {notify: manager, message: {zh-CN: 急修超过12小时, en: Not done in 12 hours}}\n"
    )
    diagnostics = validate_estate(_estate(tmp_path, patch)).diagnostics
    assert not [d for d in diagnostics if d.code == "PF208"], diagnostics


@pytest.mark.parametrize(
    ("text", "lengths"),
    [
        ("24小时", [Duration(86400, "seconds"), Duration(24, "workhours")]),
        ("3个工作日内", [Duration(3, "workdays")]),
        ("三个工作日", [Duration(3, "workdays")]),
        ("2天", [Duration(172800, "seconds"), Duration(2, "workdays")]),
        ("二十四小时", [Duration(86400, "seconds"), Duration(24, "workhours")]),
        ("30分钟", [Duration(1800, "seconds")]),
        ("十五分钟", [Duration(900, "seconds")]),
        ("within 24 hours", [Duration(86400, "seconds"), Duration(24, "workhours")]),
        ("3 working days", [Duration(3, "workdays")]),
        ("two weeks", []),
        ("no length here", []),
    ],
)
def test_lengths_are_read_in_chinese_and_english(text: str, lengths: list[Duration]) -> None:
    said = lengths_said(text)
    assert [list(s.lengths) for s in said] == ([lengths] if lengths else [])
