"""Shared test helpers: run the real CLI in-process and read its exit code and output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    output: str


def run_cli(args: Sequence[str], env: dict[str, str] | None = None) -> CliResult:
    """Invoke ``propflow ARGS`` in-process, as a user would from a shell."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return CliResult(result.exit_code, result.output)


@pytest.fixture
def cli() -> object:
    return run_cli
