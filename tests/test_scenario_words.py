"""``propflow test`` and ``simulate`` in the consultant's language: the frame of a
difference, the verdicts, the closing line and the timeline are Chinese with ``--lang
zh-CN``, with the same ``file:line:col:`` and the same data (states, events, values, times);
in English they are word for word what they always were."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.diagnostics.language import LANGUAGES
from engine.model.words import display_width
from engine.scenarios import runner
from tests.conftest import ROOT, SCENARIO_HEAD, run_cli

WRONG_STATE = Path("tests") / "fixtures" / "scenarios" / "wrong_state.yaml"
BREACH = Path("estates") / "tingtao" / "scenarios" / "urgent_repair_breach.yaml"

#: The frame words of English output, none of which a Chinese run may print.
ENGLISH_FRAME = ("expected:", "actual:", "step 3", "state of case", "PASSED", "FAILED", "passed")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the output are relative to where propflow runs: the repository here."""
    monkeypatch.chdir(ROOT)


def _state_position() -> str:
    """``file:line:col`` of the value of wrong_state's failing ``state:``."""
    lines = (ROOT / WRONG_STATE).read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "state: dispatched" in text)
    column = lines[line - 1].index("dispatched") + 1
    return f"{WRONG_STATE}:{line}:{column}"


def test_a_failing_scenario_is_reported_in_chinese() -> None:
    result = run_cli(["--lang", "zh-CN", "test", str(WRONG_STATE)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{WRONG_STATE}::wrong_state 未通过",
        f"    {_state_position()}: 第 3 步（expect，2026-02-13 12:01+08:00）：案件“leak”的状态",
        "      预期：'dispatched'",
        "      实际：'reported'",
        "通过 0 个，未通过 1 个",
    ]
    assert not [word for word in ENGLISH_FRAME if word in result.output]


def test_the_same_failing_scenario_in_english_is_unchanged() -> None:
    result = run_cli(["--lang", "en", "test", str(WRONG_STATE)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines() == [
        f"{WRONG_STATE}::wrong_state FAILED",
        f"    {_state_position()}: step 3 (expect at 2026-02-13 12:01+08:00): state of case 'leak'",
        "      expected: 'dispatched'",
        "      actual:   'reported'",
        "0 passed, 1 failed",
    ]


def test_the_junit_failure_of_a_chinese_run_is_chinese(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = run_cli(["--lang", "zh-CN", "test", str(WRONG_STATE), "--junit-xml", str(report)])
    assert result.exit_code == 1, result.output
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message", "").startswith(f"{_state_position()}: 第 3 步（expect，")
    assert "预期：'dispatched'" in (failure.text or "")


@pytest.mark.parametrize(
    ("steps", "subject", "expected", "actual"),
    [
        ("  - fire: {event: dispatch, actor: li}\n",
         "li 在案件“leak”上触发事件“dispatch”，被拒绝",
         "预期：被接受", "实际：EventNotAllowed：当前状态“received”下不允许"),
        ("  - fire: {event: record, actor: li, payload: {phone: '13800138000', content: x,"
         " location: y, category: leak}}\n    expect_refusal: {}\n",
         "li 在案件“leak”上触发事件“record”，应被拒绝",
         "预期：被拒绝", "实际：被接受（“received” → “reported”）"),
        ("  - after: 2h\n    expect: {sla: {repair-response: {breached: false}}}\n",
         "案件“leak”的时限“repair-response”的 breached",
         "预期：false", "实际：true（状态 running，截止时间 2026-02-13 10:30+08:00）"),
        ("  - expect: {outbox: [{kind: escalate}]}\n",
         "案件“leak”的通知", "预期：一条符合 {kind: escalate} 的通知", "实际：没有通知"),
        ("  - expect: {history: [open, record]}\n",
         "案件“leak”的办理记录", "预期：“open”之后的“record”", "实际：open"),
    ],
)  # fmt: skip
def test_each_kind_of_difference_is_worded_in_chinese(
    tmp_path: Path, steps: str, subject: str, expected: str, actual: str
) -> None:
    story = tmp_path / "story.yaml"
    story.write_text(SCENARIO_HEAD + steps, encoding="utf-8")
    result = run_cli(["--lang", "zh-CN", "test", str(story)])
    assert result.exit_code == 1, result.output
    frame, said, happened = result.output.splitlines()[1:4]
    assert frame.startswith(f"    {story}:") and frame.endswith(f"）：{subject}"), frame
    assert said.strip() == expected and happened.strip().startswith(actual), result.output


def test_simulate_tells_the_story_in_chinese() -> None:
    result = run_cli(["--lang", "zh-CN", "simulate", str(BREACH)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "场景 urgent_repair_breach：急修超时升级至服务中心经理"
    assert lines[1:4] == [
        f"  文件  {BREACH}",
        "  项目  estates/tingtao",
        "  开始  2026-03-10 14:00+08:00",
    ]
    for text in (
        "#1（第 ",
        "pipe：xiaoli（receptionist）办理 record：received → reported；处理角色 supervisor",
        "pipe：repair-on-site 超时",
        "pipe：repair-urgent 预警",
        "pipe：repair-urgent 超时；处理角色 head",
        "pipe：notify → supervisor：报修处理 ",
        "符合预期：状态 dispatched，时限 repair-on-site，1 条通知",
    ):
        assert text in result.output, text
    # The text starts at the same terminal column, however wide the Chinese kind before it.
    timeline = lines[5 : lines.index("", 5)]
    for line in timeline:
        columns = re.match(r".{26} (\S+)( +)", line)
        assert columns, line
        kind, gap = columns.groups()
        assert display_width(kind) + len(gap) == 9 + 1, line
    assert lines[-1].startswith("通过：执行 11/11 步，触发 3 个定时器，模拟时间 1天")
    assert "timer" not in result.output and "as expected" not in result.output


def test_simulate_of_a_failing_scenario_ends_in_chinese() -> None:
    result = run_cli(["--lang", "zh-CN", "simulate", str(WRONG_STATE)])
    assert result.exit_code == 1, result.output
    assert "不符" in result.output
    assert "  预期：'dispatched'" in result.output and "  实际：'reported'" in result.output
    last = result.output.rstrip().splitlines()[-1]
    assert last.startswith("未通过：执行 3/3 步，触发 "), last
    assert last.endswith(" 个定时器，模拟时间 2小时1分钟"), last
    assert not [word for word in ENGLISH_FRAME if word in result.output]


def test_a_runaway_recurring_limit_is_explained_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """More timers than a scenario may fire is the scenario's (or estate's) mistake, so it
    is said in the language spoken, at the step whose time it never reached."""
    monkeypatch.setattr(runner, "MAX_TIMERS", 1)
    result = run_cli(["--lang", "zh-CN", "test", str(BREACH)])
    assert result.exit_code == 1, result.output
    assert "步之前的时间推进" in result.output
    assert "  预期：至多触发 1 个定时器" in result.output
    assert "个：是否有循环时限永不结束？" in result.output
    assert "内部错误" not in result.output


def test_a_runaway_recurring_limit_fails_the_scenario_at_its_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not an internal error: the scenario fails at the position of the step not reached,
    and the steps before it ran."""
    monkeypatch.setattr(runner, "MAX_TIMERS", 1)
    result = run_cli(["--lang", "en", "test", str(BREACH)])
    assert result.exit_code == 1, result.output
    frame = re.search(
        rf"{re.escape(BREACH.as_posix())}:(\d+):(\d+): step (\d+) \((\w+) at [^)]+\): "
        r"time passing before step (\d+)",
        result.output,
    )
    assert frame is not None, result.output
    line, step, verb, before = int(frame.group(1)), frame.group(3), frame.group(4), frame.group(5)
    assert step == before and int(step) > 1
    assert "  expected: at most 1 timers fired" in result.output
    assert "does a recurring time limit run without end?" in result.output
    assert "internal error" not in result.output
    text = (ROOT / BREACH).read_text(encoding="utf-8").splitlines()
    assert f"{verb}:" in text[line - 1], text[line - 1]


def test_no_scenario_files_is_a_usage_error_in_chinese(tmp_path: Path) -> None:
    result = run_cli(["--lang", "zh-CN", "test", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path} 中没有场景文件" in result.output


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_example_estates_pass_in_every_language(language: str) -> None:
    """Their expected refusal reasons are written in English; a consultant whose desktop
    speaks Chinese runs them as CI does."""
    result = run_cli(["--lang", language, "test", "estates"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("reason", "passes"),
    [
        ("当前状态“received”下不允许", True),
        ("not allowed in state 'received'", True),
        ("当前状态“reported”下不允许", False),
    ],
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_an_expected_reason_matches_in_the_language_it_is_written_in(
    tmp_path: Path, language: str, reason: str, passes: bool
) -> None:
    story = tmp_path / "story.yaml"
    steps = (
        f'  - fire: {{event: dispatch, actor: li}}\n    expect_refusal: {{reason: "{reason}"}}\n'
    )
    story.write_text(SCENARIO_HEAD + steps, encoding="utf-8")
    result = run_cli(["--lang", language, "test", str(story)])
    assert result.exit_code == (0 if passes else 1), result.output
