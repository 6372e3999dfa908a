"""What a consultant reads: names near a miss, source lines cut to a readable width, and
every diagnostic in Chinese or English at the same place."""

from __future__ import annotations

import json
from pathlib import Path

from engine.checks.validation import validate_paths
from engine.diagnostics import suggest
from engine.diagnostics.language import speaking
from engine.diagnostics.positions import SOURCE_WIDTH, cells, excerpt
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
CONDITIONS = FIXTURES / "broken" / "pf110_pf111_pf112_conditions.yaml"


def test_an_unknown_name_in_a_condition_lists_the_names_there_are() -> None:
    report = validate_paths([CONDITIONS])
    (message,) = [d.message for d in report.diagnostics if d.code == "PF111"]
    assert message == (
        "field 'knid' is not defined (did you mean 'kind'? defined: kind, note, state)"
    )
    result = run_cli(["validate", str(CONDITIONS)], env={"NO_COLOR": "1"})
    assert message in result.output


def test_nothing_near_still_lists_the_few_names() -> None:
    assert suggest("colour", ["urgency", "chargeable"]) == " (defined: urgency, chargeable)"


def test_many_names_give_only_the_nearest() -> None:
    names = [f"state_{n}" for n in range(20)]
    assert suggest("state_7x", names) == " (did you mean 'state_7'?)"
    assert suggest("zzz", names) == ""


def test_a_name_that_exists_is_not_listed_again() -> None:
    assert suggest("kind", ["kind"]) == " (did you mean 'kind'?)"


def _long_line_file(tmp_path: Path) -> tuple[Path, str]:
    padding = ", ".join(f"f{n}: {{type: text}}" for n in range(300))
    text = (
        "process: wide\ntitle: {zh-CN: 宽, en: Wide}\nroles: {clerk: {}}\n"
        f"fields: {{{padding}, oops: {{type: txt}}, {padding.replace('f', 'g')}}}\n"
        "states: {a: {initial: true}, b: {final: true}}\n"
        "events: {go: {from: a, to: b, roles: [clerk]}}\n"
    )
    path = tmp_path / "wide.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def test_a_long_source_line_is_cut_around_the_column(tmp_path: Path) -> None:
    path, text = _long_line_file(tmp_path)
    result = run_cli(["validate", str(path)], env={"NO_COLOR": "1"})
    lines = result.output.splitlines()
    head = next(i for i, line in enumerate(lines) if " PF050 " in line and "'txt'" in line)
    source, caret = lines[head + 1], lines[head + 2]
    assert len(source) <= SOURCE_WIDTH + 2 < len(text.splitlines()[3])
    assert source.strip().startswith("…") and source.endswith("…")
    assert source[caret.index("^") :].startswith("txt")


def test_an_excerpt_counts_wide_characters_as_two_cells() -> None:
    line = "备注" * 200 + "错" + "备注" * 200
    shown = excerpt(line, 401)
    assert sum(map(cells, shown.text)) <= SOURCE_WIDTH
    assert shown.text[shown.column - 1] == "错"
    assert excerpt("short line", 3) == excerpt("short line", 3, width=80)
    assert excerpt("short line", 3).text == "short line"


BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))


def _json(args: list[str], language: str) -> list[dict[str, object]]:
    result = run_cli(["validate", "--format", "json", *args], env={"PROPFLOW_LANG": language})
    diagnostics: list[dict[str, object]] = json.loads(result.output)["diagnostics"]
    return diagnostics


def test_chinese_diagnostics_keep_their_codes_and_positions() -> None:
    args = [str(path) for path in BROKEN]
    english, chinese = _json(args, "en"), _json(args, "zh-CN")
    where = ("file", "line", "column", "severity", "code")
    assert [[d[k] for k in where] for d in chinese] == [[d[k] for k in where] for d in english]
    said = {str(d["message"]) for d in chinese}
    assert (
        "流程“typo_state”中未定义状态“dispached”（是否应为 'dispatched'？已定义：reported, "
        "dispatched, done）" in said
    )
    assert (
        "states.open 中有未知的键“lable”（是否应为 'label'？已定义：label, description, "
        "initial, final, on_enter, on_exit）" in said
    )


def test_the_language_is_chosen_through_the_python_api_too() -> None:
    path = FIXTURES / "broken" / "pf102_undefined_state.yaml"
    with speaking("zh-CN"):
        chinese = [d.message for d in validate_paths([path]).diagnostics if d.code == "PF102"]
    english = [d.message for d in validate_paths([path]).diagnostics if d.code == "PF102"]
    assert chinese[0].startswith("流程“typo_state”中未定义状态“dispached”")
    assert english[0].startswith("state 'dispached' is not defined in process 'typo_state'")
