"""Every mistake in one pass: a file with a structural error still gets its other checks."""

from __future__ import annotations

import json
from pathlib import Path

from engine.checks.validation import validate_paths
from tests.conftest import run_cli

HEAD = """\
process: intake
title: {zh-CN: 受理, en: Intake}
roles:
  clerk: {label: {zh-CN: 文员, en: Clerk}}
"""
FIELDS = """\
fields:
  note: {type: text, label: {zh-CN: 备注, en: Note}}
"""
STATES = """\
states:
  reported: {initial: true, label: {zh-CN: 已报, en: Reported}}
  dispatched: {label: {zh-CN: 已派, en: Dispatched}}
  done: {final: true, label: {zh-CN: 完成, en: Done}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "intake.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _found(path: Path) -> list[tuple[str, int, int]]:
    result = run_cli(["validate", "--format", "json", str(path)])
    assert result.exit_code == 1, result.output
    return [(d["code"], d["line"], d["column"]) for d in json.loads(result.output)["diagnostics"]]


def test_a_misspelt_state_is_reported_beside_a_section_of_the_wrong_shape(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + "fields: [note]\n"
        + STATES
        + "events:\n"
        + "  dispatch: {from: reported, to: dispached, roles: [clerk]}\n"
        + "  finish: {from: dispatched, to: done, roles: [clerk], requires: [note]}\n",
    )
    found = _found(path)
    assert ("PF050", 5, 9) in found and ("PF102", 11, 34) in found, found
    # 'note' of the cut-out fields is not reported as undefined: a follow-on, not a mistake.
    assert not any(code == "PF105" for code, _, _ in found)


def test_one_bad_event_among_twenty_leaves_the_others_checked(tmp_path: Path) -> None:
    events = [
        f"  step{n}: {{from: reported, to: {'dispached' if n == 7 else 'dispatched'}, "
        "roles: [clerk]}\n"
        for n in range(19)
    ]
    bad = "  finish: {from: dispatched, to: done, roles: 3}\n"  # the only way into 'done'
    path = _write(tmp_path, HEAD + FIELDS + STATES + "events:\n" + "".join(events) + bad)
    found = [entry for entry in _found(path) if entry[0] != "PF302"]  # no event labels
    bad_line = 12 + len(events)
    # No PF106 for 'done', which only the cut-out event reached: a follow-on, not a mistake.
    assert found == [("PF102", 19, 31), ("PF050", bad_line, 47)]


def test_the_python_api_reports_the_same(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD.replace("clerk: {label:", "clerk: {lable: x, label:")
        + FIELDS
        + STATES
        + "events:\n  dispatch: {from: reported, to: dispached, roles: [clerk, cleark]}\n",
    )
    report = validate_paths([path])
    codes = sorted(d.code for d in report.diagnostics)
    assert codes[0] == "PF050" and "PF102" in codes and "PF104" in codes, report.diagnostics
    assert not report.validated.ok
