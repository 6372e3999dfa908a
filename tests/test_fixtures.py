"""The broken-file fixtures: each code at its exact line and column, in all three formats.

Each file in ``fixtures/broken`` ends with ``# expect: CODE LINE:COL`` comments (comments
after the YAML, so they do not move any position). A fixture is validated together with the
valid ``leak`` process, which rules fixtures refer to.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from benchmarks.bench_validate import generate
from engine.checks.validation import validate_paths
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))
LEAK = FIXTURES / "valid" / "leak.yaml"
EXPECT = re.compile(r"^# expect: (PF\d{3}) (\d+):(\d+)$", re.MULTILINE)


def _expected(path: Path) -> list[tuple[str, int, int]]:
    return [(c, int(line), int(col)) for c, line, col in EXPECT.findall(path.read_text())]


def test_every_fixture_declares_expectations() -> None:
    assert len(BROKEN) >= 12
    for path in BROKEN:
        assert _expected(path), f"{path.name} has no '# expect:' line"


def test_valid_fixtures_are_clean() -> None:
    result = run_cli(["validate", "--strict", str(FIXTURES / "valid")])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_json_positions(path: Path) -> None:
    result = run_cli(["validate", "--format", "json", str(LEAK), str(path)])
    found = [(d["code"], d["line"], d["column"]) for d in json.loads(result.output)["diagnostics"]]
    assert found == _expected(path)
    errors = [code for code, _, _ in found if code != "PF302"]
    assert result.exit_code == (1 if errors else 0)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_human_positions(path: Path) -> None:
    result = run_cli(["validate", str(LEAK), str(path)], env={"NO_COLOR": "1"})
    for code, line, col in _expected(path):
        assert re.search(
            rf"^{re.escape(str(path))}:{line}:{col}: (error|warning) {code} ", result.output, re.M
        )
    assert "\x1b[" not in result.output


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_github_annotations(path: Path) -> None:
    result = run_cli(["validate", "--format", "github", str(LEAK), str(path)])
    lines = result.output.splitlines()
    assert len(lines) == len(_expected(path))
    for (code, line, col), text in zip(_expected(path), lines, strict=True):
        assert text.startswith(("::error ", "::warning "))
        assert f"line={line},col={col},title={code}::" in text


def test_caret_points_at_the_column() -> None:
    path = FIXTURES / "broken" / "pf102_undefined_state.yaml"
    result = run_cli(["validate", str(path)], env={"NO_COLOR": "1"})
    lines = result.output.splitlines()
    head = next(i for i, text in enumerate(lines) if " PF102 " in text)
    assert "(did you mean 'dispatched'? defined: reported, dispatched, done)" in lines[head]
    source, caret = lines[head + 1], lines[head + 2]
    assert source.strip() == "to: dispached"
    assert caret.index("^") == source.index("dispached")


def test_warnings_fail_only_with_strict() -> None:
    path = FIXTURES / "broken" / "pf302_missing_label.yaml"
    assert run_cli(["validate", str(path)]).exit_code == 0
    assert run_cli(["validate", "--strict", str(path)]).exit_code == 1


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_large_set_broken_in_every_way_reports_every_kind_of_mistake(tmp_path: Path) -> None:
    """A generated set of 86 files, some broken in every way the loader and the checks can tell
    (reading, parsing, the schema, the checks that look across files), plus files that are
    not PropFlow files at all: each mistake is reported, none hides another."""
    generate(tmp_path, 40)
    processes, rules = tmp_path / "processes", tmp_path / "rules"
    _replace(processes / "procedure_0001.yaml", "urgency == 'urgent'", "urgncy == 'urgent'")
    _replace(processes / "procedure_0003.yaml", "title:", "titel:")
    _replace(processes / "procedure_0005.yaml", "states:", "states: [unclosed\n  oops:")
    _replace(processes / "procedure_0007.yaml", "source: benchmark", "source: benchmark\nsource: x")
    _replace(processes / "procedure_0009.yaml", "fields:", "fields:\n\t\n")
    _replace(processes / "procedure_0011.yaml", "'urgent'", "'urgnet'")
    _replace(rules / "procedure_0013.yaml", "calendar: office", "calendar: offfice")
    _replace(rules / "procedure_0015.yaml", "process: procedure_0015", "process: procedure_9999")
    shutil.copy(processes / "procedure_0002.yaml", processes / "procedure_0002_copy.yaml")
    (processes / "empty.yaml").write_text("", encoding="utf-8")
    (processes / "binary.yaml").write_bytes(b"process: x\n\x00\x01")
    (rules / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    (rules / "unknown.yaml").write_text("flows: {}\n", encoding="utf-8")
    report = validate_paths([processes, rules])
    codes = "PF002 PF003 PF004 PF006 PF007 PF008 PF050 PF111 PF112 PF201 PF202 PF301"
    assert {diagnostic.code for diagnostic in report.diagnostics} == set(codes.split())
    assert report.summary()["files"] == 86
