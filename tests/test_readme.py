"""The README's promises: its Python example runs as written, its commands exist."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    block = re.search(r"```python\n(.*?)```", README, re.S)
    assert block is not None
    script = tmp_path / "example.py"
    script.write_text(block.group(1), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "condition not met" in out
    assert "dispatched technician 3" in out
    assert "3 dispatch wang supervisor reported -> dispatched" in out
    assert (tmp_path / "example.db").exists()


def test_first_two_commands_are_the_setup_and_test_commands() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README, re.S)[:2]
    assert "propflow demo" in commands[0] and "pip install" in commands[0]
    assert "pytest" in commands[1] and ".[test,server]" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci, ".ci/run must call the README's test command verbatim"


def test_documented_commands_exist() -> None:
    for command in ("validate", "schema", "codes", "case", "demo", "deadline", "serve", "token"):
        assert run_cli([command, "--help"]).exit_code == 0, command
