"""``roles:`` of a process in the short form, a list of role ids, as events write them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.checks.validation import validate_paths
from engine.runtime import Actor, Engine, RoleRefused
from tests.conftest import run_cli

SHORT = """\
process: intake
title: {zh-CN: 受理, en: Intake}
roles: [receptionist, supervisor]
fields: {}
states:
  reported: {initial: true, label: {zh-CN: 已报}}
  done: {final: true, label: {zh-CN: 完成}}
events:
  finish: {from: reported, to: done, roles: [supervisor], label: {zh-CN: 完成}}
"""


def _write(tmp_path: Path, text: str = SHORT) -> Path:
    directory = tmp_path / "lib"
    directory.mkdir()
    (directory / "intake.yaml").write_text(text, encoding="utf-8")
    return directory


def test_the_short_form_validates_and_warns_of_labels_under_strict(tmp_path: Path) -> None:
    directory = _write(tmp_path)
    assert run_cli(["validate", str(directory)]).exit_code == 0
    result = run_cli(["validate", "--strict", "--format", "json", str(directory)])
    assert result.exit_code == 1
    found = [(d["code"], d["line"], d["column"]) for d in json.loads(result.output)["diagnostics"]]
    assert found == [("PF302", 3, 9), ("PF302", 3, 23)]  # at each id in the list


def test_the_short_form_declares_roles_labelled_by_their_ids(tmp_path: Path) -> None:
    report = validate_paths([_write(tmp_path)])
    (process,) = [located.definition for located in report.library.processes]
    assert list(process.roles) == ["receptionist", "supervisor"]
    assert all(role.label is None for role in process.roles.values())


def test_a_role_missing_from_the_short_form_is_undefined(tmp_path: Path) -> None:
    directory = _write(tmp_path, SHORT.replace("roles: [supervisor]", "roles: [supervisr]"))
    report = validate_paths([directory])
    (message,) = [d.message for d in report.diagnostics if d.code == "PF104"]
    assert "did you mean 'supervisor'?" in message


def test_system_in_the_short_form_is_refused(tmp_path: Path) -> None:
    twice = _write(tmp_path, SHORT.replace("[receptionist, supervisor]", "[supervisor, system]"))
    assert {d.code for d in validate_paths([twice]).diagnostics} == {"PF050"}


def test_an_engine_checks_the_roles_of_the_short_form(tmp_path: Path) -> None:
    engine = Engine(library=_write(tmp_path), store="sqlite://")
    case = engine.open_case("intake", {}, Actor("li", "receptionist"))
    with pytest.raises(RoleRefused):
        engine.fire(case.id, "finish", Actor("li", "receptionist"))
    assert engine.fire(case.id, "finish", Actor("wang", "supervisor")).state == "done"
    engine.close()
