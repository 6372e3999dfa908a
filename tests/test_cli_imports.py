"""``propflow`` imports a command's module only when that command runs, so that validating
files (what CI and the pre-commit hook do most) does not load the runtime and the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Run ``propflow`` in a fresh interpreter and print the modules it loaded, whatever it exits.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
from engine.cli import main
main(prog_name="propflow", args=sys.argv[1:])
"""


def loaded_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_validate_does_not_import_the_runtime_or_the_store() -> None:
    modules = loaded_modules("validate", "processes", "rules")
    assert "engine.checks.validation" in modules, "the probe did not run the command"
    for heavy in ("sqlalchemy", "durable", "engine.runtime", "engine.store"):
        assert heavy not in modules, f"propflow validate imported {heavy}"


def test_help_lists_every_command_with_its_help() -> None:
    from click.testing import CliRunner

    from engine.cli import COMMANDS, main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1]
    for name in COMMANDS:
        line = next(line for line in listed.splitlines() if line.split()[:1] == [name])
        assert len(line.split()) > 1, f"{name} is listed without its help"
