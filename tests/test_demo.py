"""The demo's walks are scenario files shipped in the package: each still walks as written
(every refusal it shows is the refusal it expects), and the wheel carries them, not the
benchmarks."""

from __future__ import annotations

import itertools
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from engine.diagnostics.catalogue import MESSAGES_DIR as CATALOGUE_DIR
from engine.scenarios.demo import WALKS_DIR, walks
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_every_walk_passes_as_a_scenario() -> None:
    files = sorted(str(path) for path in WALKS_DIR.glob("*.yaml"))
    result = run_cli(["test", *files])
    assert result.exit_code == 0, result.output
    assert f"{len(files)} passed, 0 failed" in result.output


def test_the_walks_cover_every_procedure_of_the_library_and_show_refusals() -> None:
    shown = walks()
    processes = {process for walk in shown for process in walk.cases.values()}
    library = {path.stem for path in (ROOT / "processes").glob("*.yaml")}
    assert processes == library
    assert sum(step.refusal is not None for walk in shown for step in walk.steps) >= 4
    for before, after in itertools.pairwise(shown):
        assert before.steps[-1].at < after.start, f"{after.file} starts before {before.file} ends"


def test_the_wheel_ships_the_walks_and_not_the_benchmarks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["engine"]
    assert WALKS_DIR.resolve().is_relative_to(ROOT / "engine")


@pytest.mark.slow
def test_the_built_wheel_holds_the_catalogues_and_the_walks(tmp_path: Path) -> None:
    """The words PropFlow says and the demo's walks are package data: a wheel built from
    the checkout holds every one of them (an install without them could not say a word)."""
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(tmp_path), "--no-deps", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("propflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        path.relative_to(ROOT).as_posix()
        for directory in (CATALOGUE_DIR, WALKS_DIR)
        for path in directory.glob("*.yaml")
    }
    assert len(wanted) > 2 and wanted <= names, sorted(wanted - names)
    assert not any(name.startswith("benchmarks/") for name in names)


def test_the_demo_speaks_the_chosen_language(tmp_path: Path) -> None:
    """In Chinese every walk has its own title, the columns and outcomes are Chinese and the
    states are their Chinese labels; in English the same walk in English."""
    chinese = run_cli(["--lang", "zh-CN", "demo", "--db", str(tmp_path / "zh.db")])
    assert chinese.exit_code == 0, chinese.output
    assert "== 报修处理 repair: 户内漏水，一般维修，验收签字并回访" in chinese.output
    assert "时间" in chinese.output and "按预期被拒绝" in chinese.output
    assert "refused as expected" not in chinese.output
    assert all(walk.title and "zh-CN" in walk.title for walk in walks())
    english = run_cli(["--lang", "en", "demo", "--db", str(tmp_path / "en.db")])
    assert english.exit_code == 0, english.output
    assert "In-unit leak, general repair, signed off and visited" in english.output
    assert "refused as expected" in english.output and "按预期被拒绝" not in english.output
