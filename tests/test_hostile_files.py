"""Hostile files: links out of an estate, devices, FIFOs, loops, unbounded reads, lone
surrogates and text that would forge or misplace a diagnostic. Each is a positioned
diagnostic with a stable code, never a traceback, a hang or an endless read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.io import yamlsource
from engine.io.yamlsource import read_regular_file
from tests.conftest import ROOT, run_cli

LEAK = ROOT / "tests" / "fixtures" / "valid" / "leak.yaml"
SECRET = "top-secret-first-line"


def _diagnostics(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = run_cli(["validate", "--format", "json", *args])
    return result.exit_code, json.loads(result.output)["diagnostics"]


def _codes(*args: str) -> list[tuple[object, ...]]:
    _, found = _diagnostics(*args)
    return [(d["code"], Path(str(d["file"])).name, d["line"], d["column"]) for d in found]


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """An estate of its own over the standard library, in a directory of estates."""
    directory = tmp_path / "estates" / "hostile"
    (directory / "processes").mkdir(parents=True)
    (directory / "estate.yaml").write_text(
        "estate: hostile\ntitle: {zh-CN: 测试, en: Hostile}\nextends: standard\n"
        "timezone: Asia/Shanghai\n",
        encoding="utf-8",
    )
    return directory


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the estate holding YAML an estate must never read."""
    directory = tmp_path / "elsewhere"
    directory.mkdir()
    (directory / "estate.yaml").write_text(
        f"estate: hostile\ntitle: {{zh-CN: {SECRET}, en: {SECRET}}}\nextends: standard\n",
        encoding="utf-8",
    )
    (directory / "patch.yaml").write_text(f"# {SECRET}\nprocess: repair\n", encoding="utf-8")
    return directory


def test_a_linked_estate_file_leading_out_is_refused(estate: Path, outside: Path) -> None:
    (estate / "estate.yaml").unlink()
    (estate / "estate.yaml").symlink_to(outside / "estate.yaml")
    result = run_cli(["validate", str(estate)])
    assert result.exit_code == 1
    assert "PF403" in result.output and "estate.yaml" in result.output
    assert SECRET not in result.output


def test_a_linked_patch_leading_out_is_refused(estate: Path, outside: Path) -> None:
    (estate / "processes" / "repair.yaml").symlink_to(outside / "patch.yaml")
    assert _codes(str(estate)) == [("PF403", "repair.yaml", 1, 1)]


def test_a_linked_directory_leading_out_is_reported(estate: Path, outside: Path) -> None:
    (estate / "rules").symlink_to(outside, target_is_directory=True)
    found = _codes(str(estate))
    assert found == [("PF403", "rules", 1, 1)]


def test_a_link_inside_the_estate_is_followed(estate: Path) -> None:
    (estate / "drafts").mkdir()
    (estate / "drafts" / "repair.yaml").write_text("process: repair\nowner: facilities\n")
    (estate / "processes" / "repair.yaml").symlink_to(estate / "drafts" / "repair.yaml")
    code, found = _diagnostics(str(estate))
    assert not [d for d in found if d["code"] == "PF403"], found
    assert code == 1 or code == 0


def test_a_linked_scenario_leading_out_is_refused(estate: Path, outside: Path) -> None:
    (estate / "scenarios").mkdir()
    (estate / "scenarios" / "story.yaml").symlink_to(outside / "patch.yaml")
    result = run_cli(["test", str(estate)])
    assert result.exit_code == 1
    assert "PF403" in result.output
    assert SECRET not in result.output


def test_a_patch_linked_to_a_device_is_never_read(estate: Path) -> None:
    (estate / "processes" / "z.yaml").symlink_to("/dev/zero")
    assert _codes(str(estate)) == [("PF403", "z.yaml", 1, 1)]


def test_a_device_named_on_the_command_line_is_not_opened(tmp_path: Path) -> None:
    (tmp_path / "z.yaml").symlink_to("/dev/zero")
    code, found = _diagnostics(str(tmp_path / "z.yaml"))
    assert code == 1
    assert [(d["code"], d["line"], d["column"]) for d in found] == [("PF001", 1, 1)]
    assert "character device" in str(found[0]["message"])


def test_a_fifo_on_the_command_line_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "validate", "--format", "json", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    assert [d["code"] for d in found] == ["PF001"]
    assert "FIFO" in found[0]["message"]


def test_a_fifo_in_an_estate_is_reported(estate: Path) -> None:
    os.mkfifo(estate / "processes" / "pipe.yaml")
    assert _codes(str(estate)) == [("PF001", "pipe.yaml", 1, 1)]


def test_a_directory_named_like_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").mkdir()
    found = _codes(str(LEAK), str(tmp_path / "a.yaml"))
    assert found == [("PF009", "a.yaml", 1, 1)]


def test_symlink_loops_are_diagnostics(tmp_path: Path, estate: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    code, found = _diagnostics(str(tmp_path / "a.yaml"))
    assert code == 1
    assert [d["code"] for d in found] == ["PF001"]
    assert "loop" in str(found[0]["message"])
    (estate / "processes" / "x.yaml").symlink_to(estate / "processes" / "y.yaml")
    (estate / "processes" / "y.yaml").symlink_to(estate / "processes" / "x.yaml")
    assert sorted(_codes(str(estate))) == [
        ("PF001", "x.yaml", 1, 1),
        ("PF001", "y.yaml", 1, 1),
    ]


def test_an_estate_directory_in_a_loop_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    result = run_cli(["validate", str(tmp_path / "loop")])
    assert result.exit_code == 1
    assert "PF001" in result.output and "Traceback" not in result.output


def test_the_size_limit_holds_while_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc files are regular files whose size says 0: only the read can tell."""
    maps = Path("/proc/self/maps")
    if not maps.is_file():
        pytest.skip("no /proc on this system")
    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 64)
    raw, problem = read_regular_file(maps, "maps")
    assert raw is None and problem is not None
    assert problem.code == "PF005" and "over" in problem.message


def test_a_large_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(yamlsource.MAX_FILE_BYTES + 1)
    assert _codes(str(big)) == [("PF005", "big.yaml", 1, 1)]


# Lone surrogates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        # At the escape's digits, where the parser stops.
        ('process: x\ntitle: {en: "a\\ud800b", zh-CN: t}\n', (2, 17)),
        ('process: x\n"\\udfff": 1\n', (2, 4)),
        ('process: x\nlist:\n  - ok\n  - "\\U0000DC80"\n', (4, 8)),
    ],
)
def test_lone_surrogates_are_refused_where_they_enter(
    tmp_path: Path, text: str, position: tuple[int, int]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    assert _codes(str(path)) == [("PF011", "s.yaml", *position)]


@pytest.mark.parametrize("command", [["manual"], ["diagram"]])
def test_render_commands_refuse_a_lone_surrogate(tmp_path: Path, command: list[str]) -> None:
    source = LEAK.read_text(encoding="utf-8")
    path = tmp_path / "leak.yaml"
    path.write_text(source.replace("title:", 'title: {en: "\\ud800", zh-CN: x}\nold_title:', 1))
    arguments = ["leak"] if command == ["diagram"] else []
    result = run_cli([*command, *arguments, "--library", str(path)])
    assert result.exit_code == 1
    assert "PF011" in result.output


# Output that cannot be forged, positions as editors count them -------------------------------


def test_a_newline_in_a_file_name_cannot_forge_a_diagnostic(tmp_path: Path) -> None:
    name = "a.yaml\nrepair.yaml:1:1: error PF999 forged"
    (tmp_path / name).write_text("- a list\n")
    result = run_cli(["validate", str(tmp_path / name)], env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert not [line for line in result.output.splitlines() if line.startswith("repair.yaml")]
    assert "\\nrepair.yaml:1:1: error PF999 forged" in result.output


def test_a_quoted_key_cannot_forge_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    path.write_text(
        'process: x\n"a\\nforged.yaml:9:9: error PF102 fake\\x1b[2J": 1\n'
        '"a\\nforged.yaml:9:9: error PF102 fake\\x1b[2J": 2\n'
    )
    result = run_cli(["validate", str(path)], env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("forged.yaml")]
    assert "\x1b" not in result.output
    assert "\\x1b[2J" in result.output


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_unicode_separators_are_not_line_breaks_in_positions(
    tmp_path: Path, separator: str
) -> None:
    path = tmp_path / "u.yaml"
    path.write_text(f"process: x\ntitle: 'a{separator}b'\nbad: [\n", "utf-8")
    found = _codes(str(path))
    assert [(code, line) for code, _, line, _ in found] == [("PF003", 3)]
    path.write_text(
        f"process: x\ntitle: {{en: 'a{separator}b', zh-CN: t}}\ntitle: again\n", "utf-8"
    )
    assert ("PF004", "u.yaml", 3, 1) in _codes(str(path))


def test_an_escape_character_is_reported_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("process: x\ntitle: ab\x1bc\n", "utf-8")
    found = _codes(str(path))
    assert found == [("PF003", "e.yaml", 2, 10)]
    result = run_cli(["validate", str(path)], env={"NO_COLOR": "1"})
    assert "\x1b" not in result.output
    assert "\u241b" in result.output  # the source line shows the ESC as a picture


def test_an_unreadable_copy_leaves_no_partial_state(tmp_path: Path) -> None:
    """A library copied with a device among its files still validates the rest."""
    library = tmp_path / "lib"
    shutil.copytree(ROOT / "tests" / "fixtures" / "valid", library)
    (library / "zero.yaml").symlink_to("/dev/zero")
    found = _codes(str(library))
    assert found == [("PF001", "zero.yaml", 1, 1)]


def test_show_labels_a_value_from_a_sibling_estate_with_that_estate(tmp_path: Path) -> None:
    estates = tmp_path / "estates"
    shutil.copytree(ROOT / "estates" / "lakeside", estates / "lakeside")
    child = estates / "lakeside_east"
    (child / "processes").mkdir(parents=True)
    (child / "estate.yaml").write_text(
        "estate: lakeside_east\ntitle: {zh-CN: 东区, en: East}\nextends: lakeside\n",
        encoding="utf-8",
    )
    (child / "processes" / "repair.yaml").write_text(
        "process: repair\nroles:\n  manager:\n    label: {zh-CN: 东区主任, en: East director}\n",
        encoding="utf-8",
    )
    result = run_cli(["show", "--estate", str(child), "repair"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    own = next(line for line in lines if "东区主任" in line)
    assert "# estate " in own and "lakeside_east/processes/repair.yaml" in own
    sibling = next(line for line in lines if "客服主任" in line)
    assert "# estate lakeside " in sibling, sibling
    assert "lakeside/processes/repair.yaml" in sibling
    title = next(line for line in lines if "报修处理" in line)
    assert "# standard " in title


def test_a_scenario_in_a_symlink_loop_is_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    result = run_cli(["test", str(tmp_path / "a.yaml")])
    assert result.exit_code == 1
    assert "PF001" in result.output and "loop" in result.output


def test_a_scenario_value_cannot_forge_output_lines(tmp_path: Path) -> None:
    story = tmp_path / "story.yaml"
    story.write_text(
        "scenario: forged\n"
        'title: {zh-CN: "story\\nPASSED: all good\\e[2J", en: "story\\nPASSED: all good\\e[2J"}\n'
        "start: 2026-03-02T09:00+08:00\nactors: {li: [receptionist]}\n"
        "steps:\n  - open:\n      process: repair\n      as: r\n      actor: li\n"
        '      data: {scope: in_unit, unit: "1\\nPASSED: all good\\e[2J", owner_name: x}\n'
        "  - expect: {case: r, data: {unit: other}}\n",
        encoding="utf-8",
    )
    result = run_cli(["simulate", str(story)], env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert not [line for line in result.output.splitlines() if line.startswith("PASSED")]
    assert "\x1b" not in result.output
    assert "story\\nPASSED: all good\\x1b[2J" in result.output
