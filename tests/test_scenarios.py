"""Scenarios and estates, run as a consultant and a CI job would: ``propflow test``,
``simulate``, ``validate`` on estates (good and bad), ``init``, ``show`` and ``diff``."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine.checks.validation import validate_paths
from tests.conftest import ROOT, SCENARIO_HEAD, CliResult, run_cli

ESTATES = ROOT / "estates"
FIXTURES = Path("tests") / "fixtures"
SCENARIOS = FIXTURES / "scenarios"
BAD_ESTATES = FIXTURES / "estates"
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the output are relative to where propflow runs: the repository here."""
    monkeypatch.chdir(ROOT)


def position(path: Path, text: str, occurrence: int = 1) -> tuple[int, int]:
    """Line and column (1-based) of the ``occurrence``-th ``text`` in a file."""
    seen = 0
    for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
        column = line.find(text)
        while column >= 0:
            seen += 1
            if seen == occurrence:
                return number, column + 1
            column = line.find(text, column + 1)
    raise AssertionError(f"{text!r} not in {path}")


def summary(result: CliResult) -> tuple[int, int]:
    """The counts of the closing line, which must be the last line, alone."""
    last = result.output.rstrip("\n").splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, f"the last line is not 'N passed, M failed': {last!r}"
    return int(match.group(1)), int(match.group(2))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the examples


def test_both_example_estates_pass() -> None:
    result = run_cli(["test", "estates"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for estate in ("tingtao", "lakeside"):
        passed = [line for line in lines if line.startswith(f"estates/{estate}/scenarios/")]
        assert len(passed) >= 3, result.output
        assert all(line.endswith(" PASSED") for line in passed), result.output
    assert summary(result) == (len(lines) - 1, 0)


def test_example_estates_validate_strictly() -> None:
    result = run_cli(["validate", "--strict", "estates"])
    assert result.exit_code == 0, result.output
    assert "2 estates; 0 errors, 0 warnings" in result.output


def test_an_estate_adds_a_whole_process_and_patches_a_library_one() -> None:
    """Lakeside adds warranty keys in YAML alone, and adds its deposit to the library's
    renovation by patch; each change is listed with the file and line it comes from."""
    assert not (ROOT / "processes" / "warranty_keys.yaml").exists()
    assert (ROOT / "processes" / "renovation.yaml").exists()
    result = run_cli(["diff", "--estate", "estates/lakeside"])
    assert "added    process warranty_keys  (estates/lakeside/processes/warranty_keys.yaml:" in (
        result.output
    )
    for change in (
        "added    process renovation states.awaiting_refund  (estates/lakeside/processes/",
        'changed  process renovation events.accept_works.to: "closed" -> "awaiting_refund"',
    ):
        assert change in result.output, result.output
    renovation = [p.name for p in (ESTATES / "lakeside" / "scenarios").glob("renovation_*")]
    assert len(renovation) >= 3


# --------------------------------------------------------------------------- failures


def test_failing_scenario_shows_the_first_difference_at_its_line() -> None:
    path = SCENARIOS / "wrong_state.yaml"
    result = run_cli(["test", str(path)])
    assert result.exit_code == 1, result.output
    line, column = position(path, "state: dispatched")
    column += len("state: ")
    assert f"{path}::wrong_state FAILED" in result.output
    assert f"{path}:{line}:{column}: step 3 (expect at 2026-02-13 12:01+08:00): state of case" in (
        result.output
    )
    assert "expected: 'dispatched'" in result.output
    assert "actual:   'reported'" in result.output
    assert summary(result) == (0, 1)


def test_unknown_event_fails_at_the_steps_line_and_column() -> None:
    path = SCENARIOS / "unknown_event.yaml"
    result = run_cli(["test", str(path)])
    assert result.exit_code == 1, result.output
    line, column = position(path, "recrod")
    assert (
        f"{path}:{line}:{column}: error PF605 event 'recrod' is not defined in process "
        "'repair' (did you mean 'record'?)"
    ) in result.output
    assert summary(result) == (0, 1)


def test_unknown_actor_fails_at_the_steps_line_and_column() -> None:
    path = SCENARIOS / "unknown_actor.yaml"
    result = run_cli(["test", str(path)])
    assert result.exit_code == 1, result.output
    line, column = position(path, "wnag")
    assert (
        f"{path}:{line}:{column}: error PF603 actor 'wnag' is not declared under actors: "
        "(did you mean 'wang'?"
    ) in result.output


def test_junit_xml_is_written_for_ci(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    failing = SCENARIOS / "wrong_state.yaml"
    result = run_cli(["test", "estates/tingtao", str(failing), "--junit-xml", str(report)])
    assert result.exit_code == 1
    passed, failed = summary(result)
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (int(root.get("tests", "")), int(root.get("failures", ""))) == (passed + failed, 1)
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"estates/tingtao", "standard"}
    assert suites["estates/tingtao"].get("failures") == "0"
    cases = list(root.iter("testcase"))
    assert len(cases) == passed + failed
    assert all(float(case.get("time", "")) >= 0 for case in cases)
    failures = [(case, case.find("failure")) for case in cases if case.find("failure") is not None]
    assert len(failures) == 1
    case, failure = failures[0]
    assert failure is not None
    assert case.get("name") == "wrong_state" and case.get("file") == str(failing)
    line, column = position(failing, "state: dispatched")
    assert f"{failing}:{line}:{column + len('state: ')}: step 3" in failure.get("message", "")
    assert "expected: 'dispatched'" in (failure.text or "")


def test_estate_option_runs_scenarios_outside_an_estate_on_it() -> None:
    path = str(SCENARIOS / "desk_dispatch.yaml")
    alone = run_cli(["test", path])
    assert alone.exit_code == 1
    assert "was refused" in alone.output and "GuardRefused: condition not met" in alone.output
    on_tingtao = run_cli(["test", "--estate", "estates/tingtao", path])
    assert on_tingtao.exit_code == 0, on_tingtao.output
    assert summary(on_tingtao) == (1, 0)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli(["test", "no/such/dir"]).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli(["test", str(empty)]).exit_code == 2
    assert run_cli(["test", "--estate", str(empty), "estates"]).exit_code == 2
    assert run_cli(["test", "--junit", "x.xml", "estates"]).exit_code == 2


@pytest.mark.parametrize(
    ("steps", "code", "text", "needle"),
    [
        ("  - at: 2026-02-13T09:00+08:00\n    expect: {state: received}\n",
         "PF602", "is before the previous step", "2026-02-13T09:00"),
        ("  - after: 1 workday\n    expect: {state: received}\n",
         "PF602", "is working time", "1 workday"),
        ("  - after: 3 parsecs\n    expect: {state: received}\n",
         "PF602", "after '3 parsecs'", "parsecs"),
        ("  - fire: {case: pipe, event: record, actor: li}\n",
         "PF604", "case 'pipe' is not opened", "pipe"),
        ("  - open: {process: repair, as: leak, actor: li}\n",
         "PF604", "case 'leak' is already opened", "leak", ),
        ("  - open: {process: repiar, as: other, actor: li}\n",
         "PF605", "did you mean 'repair'", "repiar"),
        ("  - expect: {state: dispached}\n",
         "PF605", "did you mean 'dispatched'", "dispached"),
        ("  - expect: {sla: {repair-urgnt: {breached: false}}}\n",
         "PF605", "did you mean 'repair-urgent'", "repair-urgnt"),
        ("  - expect: {data: {urgency: very}}\n",
         "PF606", "field 'urgency' (enum)", "very"),
        ("  - expect: {history: [open, breech:repair-urgent]}\n",
         "PF605", "did you mean 'breach'", "breech"),
        ("  - expect: {outbox: [{role: boss}]}\n",
         "PF605", "role 'boss' is not a role of process 'repair'", "boss"),
        ("  - expect: {state: received}\n    expect_refusal: {}\n",
         "PF050", "expect_refusal goes with open, fire or extend", "expect_refusal"),
    ],
)  # fmt: skip
def test_scenario_mistakes_are_reported_at_their_place(
    tmp_path: Path, steps: str, code: str, text: str, needle: str
) -> None:
    path = write(tmp_path / "story.yaml", SCENARIO_HEAD + steps)
    result = run_cli(["test", str(path)])
    assert result.exit_code == 1, result.output
    lines = path.read_text(encoding="utf-8").splitlines()
    line = max(i for i, source in enumerate(lines, 1) if needle in source)
    column = lines[line - 1].index(needle) + 1
    assert f"story.yaml:{line}:{column}: error {code} " in result.output, result.output
    assert text in result.output


@pytest.mark.parametrize(
    ("steps", "expected", "actual"),
    [
        ("  - fire: {event: withdraw, actor: li}\n    expect_refusal: {error: RoleRefused}\n",
         "expected: RoleRefused", "actual:   EventNotAllowed: not allowed in state 'received'"),
        ("  - fire: {event: record, actor: li, payload: {phone: '1'}}\n"
         "    expect_refusal: {reason: missing}\n",
         "expected: a reason containing 'missing'", "actual:   FieldError:"),
        ("  - fire: {event: record, actor: li, payload: {phone: '13800138000', content: x,"
         " location: y, category: leak}}\n    expect_refusal: {}\n",
         "expected: a refusal", "actual:   accepted ('received' → 'reported')"),
        ("  - fire: {event: dispatch, actor: li}\n",
         "expected: accepted", "actual:   EventNotAllowed"),
        ("  - after: 2h\n    expect: {sla: {repair-response: {breached: false}}}\n",
         "expected: false", "actual:   true (status running"),
        ("  - expect: {outbox: [{kind: escalate}]}\n",
         "expected: a row with {kind: escalate}", "actual:   no rows"),
        ("  - expect: {history: [record]}\n",
         "expected: 'record'", "actual:   open"),
        ("  - expect: {sla: {repair-urgent: {status: running}}}\n",
         "expected: a clock that is running", "actual:   no clock"),
        ("  - expect: {assignee: supervisor}\n",
         "expected: 'supervisor'", "actual:   null"),
    ],
)  # fmt: skip
def test_differences_say_what_was_expected_and_what_happened(
    tmp_path: Path, steps: str, expected: str, actual: str
) -> None:
    path = write(tmp_path / "story.yaml", SCENARIO_HEAD + steps)
    result = run_cli(["test", str(path)])
    assert result.exit_code == 1, result.output
    assert expected in result.output and actual in result.output, result.output


def test_readme_scenario_example_passes_on_tingtao(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    example = next(block for block in blocks if "scenario.schema.json" in block.splitlines()[0])
    path = write(tmp_path / "example.yaml", example)
    result = run_cli(["test", "--estate", "estates/tingtao", str(path)])
    assert result.exit_code == 0, result.output


def test_junit_xml_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "junit.xml"
    result = run_cli(["test", "--junit-xml", str(target), str(SCENARIOS / "desk_dispatch.yaml")])
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_timers_fire_at_their_own_time_between_steps(tmp_path: Path) -> None:
    """A breach due at 10:30 is recorded at 10:30, though the next step is hours later."""
    path = write(
        tmp_path / "story.yaml",
        SCENARIO_HEAD + "  - at: 2026-02-13T15:00+08:00\n    expect: {outbox: [{kind: notify}]}\n",
    )
    result = run_cli(["simulate", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    breach = next(i for i, line in enumerate(lines) if "breach of repair-response" in line)
    assert lines[breach].startswith("2026-02-13 10:30+08:00")
    assert "PASSED: 2 of 2 steps" in result.output


def test_simulate_prints_steps_timers_states_and_outbox() -> None:
    result = run_cli(["simulate", "estates/tingtao/scenarios/urgent_repair_breach.yaml"])
    assert result.exit_code == 0, result.output
    for text in (
        "estate  estates/tingtao",
        "#1 (line ",
        "pipe: record by xiaoli (receptionist): received → reported; assignee supervisor",
        "timer     pipe: breach of repair-on-site",
        "outbox    pipe: notify → supervisor: 报修处理 ",
        "：维修人员未在10分钟内到场（10分钟内到达现场已超时，截止 2026-03-10 14:11），通知维修主管",
        "timer     pipe: warning of repair-urgent",
        "pipe: breach of repair-urgent; assignee head",
        "outbox    pipe: escalate → head",
        "checked   as expected",
    ):
        assert text in result.output, text
    assert result.output.rstrip().splitlines()[-1].startswith("PASSED: 11 of 11 steps, 3 timers")


def test_simulate_of_a_failing_scenario_exits_1() -> None:
    result = run_cli(["simulate", str(SCENARIOS / "wrong_state.yaml")])
    assert result.exit_code == 1
    assert "expected: 'dispatched'" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("FAILED: 3 of 3 steps")


def test_scenario_schema_is_printed_and_codes_are_listed() -> None:
    schema = json.loads(run_cli(["schema", "scenario"]).output)
    assert schema["title"] == "PropFlow scenario file"
    codes = run_cli(["codes"]).output
    for code in ("PF401", "PF402", "PF403", "PF404", "PF601", "PF602", "PF603", "PF604"):
        assert f"{code} " in codes


# --------------------------------------------------------------------------- bad estates


def _line_of(path: Path, text: str) -> int:
    return position(path, text)[0]


BAD = [
    ("delete_missing", "PF401", BAD_ESTATES / "delete_missing/processes/repair.yaml", "dispached",
     "'states.dispached' cannot be deleted"),
    ("type_change", "PF402", BAD_ESTATES / "type_change/processes/repair.yaml", "supervisor",
     "'events.dispatch.roles' is a list in the library being customised, but the patch gives"),
    ("unreachable", "PF106", Path("processes/repair.yaml"), "return_pending:",
     "state 'return_pending' cannot be reached"),
    ("escape", "PF403", BAD_ESTATES / "escape/estate.yaml", "../../..",
     "extends '../../..' leaves the directory of estates"),
    ("circular_a", "PF404", BAD_ESTATES / "circular_b/estate.yaml", "circular_a",
     "circular extends: circular_a → circular_b → circular_a"),
]  # fmt: skip


@pytest.mark.parametrize(("estate", "code", "file", "needle", "message"), BAD)
def test_bad_estates_are_diagnosed_at_their_place(
    estate: str, code: str, file: Path, needle: str, message: str
) -> None:
    result = run_cli(["validate", str(BAD_ESTATES / estate)])
    assert result.exit_code == 1, result.output
    line, column = position(file, needle)
    assert f"{file}:{line}:{column}: error {code} {message}" in result.output, result.output


def test_a_bad_estate_reports_its_own_mistake_and_nothing_it_causes_elsewhere() -> None:
    """A patch that breaks a process (type_change makes the repair fail its schema) is
    reported once, as PF402: not also as the schema error at the same place, nor as the
    conditions and signals of other processes that link to the repair and now find it
    missing."""
    errors = {"delete_missing": 1, "type_change": 1, "unreachable": 2, "escape": 1,
              "circular_a": 1}  # fmt: skip
    for estate, count in errors.items():
        report = validate_paths([BAD_ESTATES / estate])
        found = [(d.code, d.span.file, d.span.line) for d in report.diagnostics]
        assert report.errors == len(found) == count, (estate, found)


def test_a_finding_in_a_patched_library_process_points_at_the_patch() -> None:
    """PF106 is at the library's state, which the patch did not touch; the note names the
    change that made it unreachable."""
    result = run_cli(["validate", str(BAD_ESTATES / "unreachable")])
    patch = BAD_ESTATES / "unreachable/processes/repair.yaml"
    line, column = position(patch, "in_progress")
    note = f"note: the estate's change to this process at {patch}:{line}:{column}"
    assert result.output.count(note) == 2, result.output


def test_unreachable_state_comes_from_the_patch() -> None:
    """The same state is reachable in the library the patch customises."""
    assert "PF106" not in run_cli(["validate", "processes", "rules"]).output


def _small_estate(root: Path) -> Path:
    estate = root / "estates" / "small"
    write(estate / "estate.yaml", "estate: small\nextends: standard\n")
    write(estate / "rules" / "repair.yaml", "time_limits:\n  repair-major: {limit: 7d}\n")
    return estate


def test_symlink_out_of_the_estate_is_refused(tmp_path: Path) -> None:
    estate = _small_estate(tmp_path)
    outside = write(tmp_path / "outside.yaml", "time_limits:\n  repair-major: null\n")
    link = estate / "rules" / "more.yaml"
    try:
        os.symlink(outside, link)
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not available here")
    result = run_cli(["validate", str(estate)])
    assert result.exit_code == 1, result.output
    assert f"{link}:1:1: error PF403 'rules/more.yaml' is a link to a file outside" in (
        result.output
    )


def test_scenarios_directory_is_not_merged_as_patches(tmp_path: Path) -> None:
    estate = _small_estate(tmp_path)
    write(
        estate / "scenarios" / "a.yaml",
        (ROOT / SCENARIOS / "desk_dispatch.yaml").read_text("utf-8"),
    )
    assert run_cli(["validate", "--strict", str(estate)]).exit_code == 0
    # the same file anywhere else in the estate is a patch, and not one
    write(estate / "more" / "a.yaml", (estate / "scenarios" / "a.yaml").read_text("utf-8"))
    result = run_cli(["validate", str(estate)])
    assert result.exit_code == 1 and "PF008" in result.output
    assert "scenarios/a.yaml" not in result.output


def test_scenarios_of_a_broken_estate_fail_with_its_errors_once(tmp_path: Path) -> None:
    estate = _small_estate(tmp_path)
    write(estate / "rules" / "more.yaml", "time_limits:\n  repair-majr: null\n")
    scenario = (ROOT / SCENARIOS / "desk_dispatch.yaml").read_text("utf-8")
    write(estate / "scenarios" / "one.yaml", scenario)
    write(estate / "scenarios" / "two.yaml", scenario)
    result = run_cli(["test", str(estate)])
    assert result.exit_code == 1
    assert summary(result) == (0, 2)
    assert result.output.count("error PF401 time limit 'repair-majr' cannot be deleted") == 1
    assert result.output.count("does not validate: 1 error(s)") == 2


def test_scenarios_in_an_estate_run_on_it_by_default(tmp_path: Path) -> None:
    estate = shutil.copytree(ESTATES / "tingtao", tmp_path / "estates" / "tingtao")
    shutil.copy(ROOT / SCENARIOS / "desk_dispatch.yaml", estate / "scenarios" / "desk.yaml")
    result = run_cli(["test", str(estate / "scenarios" / "desk.yaml")])
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- init, show, diff


def test_init_scaffolds_an_estate_that_validates_clean(tmp_path: Path) -> None:
    target = tmp_path / "estates" / "riverside"
    result = run_cli(["init", str(target), "--title", "滨江花园"])
    assert result.exit_code == 0, result.output
    for name in ("estate.yaml", "processes/repair.yaml", "rules/repair.yaml"):
        assert (target / name).is_file(), name
    checked = run_cli(["validate", "--strict", str(target)])
    assert checked.exit_code == 0, checked.output
    assert "1 estates; 0 errors, 0 warnings" in checked.output
    assert run_cli(["diff", "--estate", str(target)]).output.splitlines()[-1] == (
        "0 changed, 0 added, 0 deleted"
    )
    assert run_cli(["init", str(target)]).exit_code == 1  # never overwrites
    assert run_cli(["init", str(tmp_path / "Bad-Name")]).exit_code == 2


def test_show_names_the_source_of_every_value() -> None:
    result = run_cli(["show", "--estate", "estates/tingtao", "repair"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# repair as customised by estate estates/tingtao"
    patch = Path("estates/tingtao/processes/repair.yaml")
    standard = Path("processes/repair.yaml")
    condition = next(line for line in lines if line.strip().startswith('if: "chargeable == false'))
    assert condition.endswith(f"# estate {patch}:{_line_of(patch, 'if:')}")
    title = next(line for line in lines if "报修处理" in line)
    assert title.endswith(f"# standard {standard}:{_line_of(standard, 'title:')}")
    label = next(line for line in lines if "呼叫服务中心值班员" in line)
    assert f"# estate {patch}:" in label
    limits = lines.index("time_limits:")
    assert any("15m" in line and "estates/tingtao/rules/repair.yaml" in line
               for line in lines[limits:])  # fmt: skip


def test_diff_lists_what_the_estate_changes_adds_and_deletes() -> None:
    result = run_cli(["diff", "--estate", "estates/lakeside"])
    assert result.exit_code == 0, result.output
    rules = Path("estates/lakeside/rules/repair.yaml")
    assert (
        f'changed  time limit repair-general limit: "3d" -> "3 workdays"  '
        f"({rules}:{_line_of(rules, 'limit: 3 workdays')})"
    ) in result.output
    assert f"deleted  time limit repair-record  ({rules}:{_line_of(rules, 'repair-record')})" in (
        result.output
    )
    assert "added    time limit renovation-refund" in result.output
    counts = re.fullmatch(
        r"(\d+) changed, (\d+) added, (\d+) deleted", result.output.splitlines()[-1]
    )
    # 11 time limits, two complaint events (its director decides every investigated
    # complaint) and one indicator (it counts the deleted call-centre limits).
    assert counts and int(counts.group(3)) == 14
    kpis = Path("estates/lakeside/rules/kpis.yaml")
    assert (
        f'changed  indicator repair-timeliness target: ">= 98%" -> ">= 95%"  '
        f"({kpis}:{_line_of(kpis, 'target:')})"
    ) in result.output
    assert "deleted  process complaint events.handle" in result.output
    chinese = run_cli(["diff", "--estate", "estates/lakeside", "--lang", "zh-CN"]).output
    assert f"删除     时限 repair-record  ({rules}:" in chinese
    assert chinese.splitlines()[-1] == (
        f"修改 {counts.group(1)} 处，新增 {counts.group(2)} 处，删除 {counts.group(3)} 处"
    )
    changes = json.loads(run_cli(["diff", "--estate", "estates/lakeside", "--json"]).output)
    added = {(c["kind"], c["item"]) for c in changes if c["action"] == "added"}
    assert ("process", "renovation") in added
    assert all(c["file"].startswith("estates/lakeside/") for c in changes)


def test_validate_checks_the_scenarios_of_each_estate_as_test_finds_them(tmp_path: Path) -> None:
    """``propflow validate`` of a directory of estates, or of one ``--estate``, reports a
    misspelt event in a scenario of an estate at its line, as ``propflow test`` would
    before running it; the estate's own files are unchanged and still clean."""
    shutil.copytree(ESTATES / "lakeside", tmp_path / "lakeside")
    scenario = tmp_path / "lakeside" / "scenarios" / "complaint_director_decides.yaml"
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("event: record\n", "event: recrod\n", 1), encoding="utf-8")
    line = text[: text.index("event: record\n")].count("\n") + 1
    expected = f"complaint_director_decides.yaml:{line}:"
    for args in (["validate", str(tmp_path)], ["validate", "--estate", str(tmp_path / "lakeside")]):
        result = run_cli([*args, "--format", "json"])
        assert result.exit_code == 1, result.output
        found = json.loads(result.output)["diagnostics"]
        assert [(d["code"], f"{Path(d['file']).name}:{d['line']}:") for d in found] == [
            ("PF605", expected)
        ], found
        assert "'recrod'" in found[0]["message"] and "'record'" in found[0]["message"]
    tested = run_cli(["test", str(tmp_path / "lakeside")])
    assert tested.exit_code == 1 and "PF605" in tested.output


def test_show_and_diff_list_the_patterns_of_a_process() -> None:
    """A pattern that counts a process's entries is shown with that process, its window
    from the estate's patch and the rest from the library; diff lists the patch."""
    shown = run_cli(["show", "--estate", "estates/lakeside", "repair"])
    assert shown.exit_code == 0, shown.output
    patterns = shown.output.split("# patterns\npatterns:\n")[1]
    assert patterns.startswith("  recurring-defect:\n")
    assert 'within: "60d"  # estate estates/lakeside/rules/patterns.yaml:' in patterns
    assert "count: 3  # standard rules/patterns.yaml:" in patterns
    document = json.loads(run_cli(["show", "repair", "--json"]).output)
    assert document["patterns"]["recurring-defect"]["within"] == "30d"
    # the opened process is not the one counted: its own show lists no pattern
    assert json.loads(run_cli(["show", "renovation", "--json"]).output)["patterns"] == {}
    assert "# patterns" not in run_cli(["show", "renovation"]).output

    changes = json.loads(run_cli(["diff", "--estate", "estates/lakeside", "--json"]).output)
    # the window, and the words and notice that name it
    assert [
        (c["action"], c["item"], tuple(c["path"])) for c in changes if c["kind"] == "pattern"
    ] == [
        ("changed", "recurring-defect", ("description", "zh-CN")),
        ("changed", "recurring-defect", ("description", "en")),
        ("changed", "recurring-defect", ("within",)),
        ("changed", "recurring-defect", ("actions",)),
    ]
    within = next(c for c in changes if c["kind"] == "pattern" and c["path"] == ["within"])
    assert (within["old"], within["new"]) == ("30d", "60d")
    assert (
        'changed  pattern recurring-defect within: "30d" -> "60d"'
        in run_cli(["diff", "--estate", "estates/lakeside"]).output
    )
