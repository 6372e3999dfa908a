"""Hostile and broken input: every case is a positioned diagnostic, never a traceback or hang."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.io.yamlsource import parse_text
from tests.conftest import run_cli


def _codes(path: Path) -> list[tuple[str, int, int]]:
    result = run_cli(["validate", "--format", "json", str(path)])
    assert result.exit_code == 1, result.output
    return [(d["code"], d["line"], d["column"]) for d in json.loads(result.output)["diagnostics"]]


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# only a comment\n")
    assert _codes(tmp_path / "empty.yaml") == [("PF006", 1, 1)]


@pytest.mark.parametrize(
    ("text", "position"),
    [("- a\n- b\n", (1, 1)), ("just text\n", (1, 1)), ("\n\n42\n", (3, 1))],
)
def test_top_level_not_a_mapping(tmp_path: Path, text: str, position: tuple[int, int]) -> None:
    (tmp_path / "f.yaml").write_text(text)
    assert _codes(tmp_path / "f.yaml") == [("PF007", *position)]


def test_binary_bytes(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_bytes(b"process: x\n\x00\x01\x02")
    assert _codes(tmp_path / "b.yaml") == [("PF002", 2, 1)]


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "gbk.yaml").write_bytes("process: repair\ntitle: 报修\n".encode("gbk"))
    assert _codes(tmp_path / "gbk.yaml") == [("PF002", 2, 8)]


def test_tabs(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text("process: x\nstates:\n\treported: {}\n")
    codes = _codes(tmp_path / "t.yaml")
    assert codes == [("PF003", 3, 1)]
    text = run_cli(["validate", str(tmp_path / "t.yaml")]).output
    assert "tabs" in text


def test_a_tab_inside_a_value_is_text_as_yaml_1_2_says() -> None:
    """A tab within a line is white space or text in YAML 1.2, only not indentation: the
    parser keeps it, where PyYAML's Python port refused the whole file."""
    document, diagnostics = parse_text("title: Monday to Fri\tday\nlabel: {en: x}\t\n", "t.yaml")
    assert diagnostics == []
    assert document is not None
    assert document.data == {"title": "Monday to Fri\tday", "label": {"en": "x"}}


def test_a_syntax_error_names_what_was_expected_and_found() -> None:
    _, diagnostics = parse_text("a:\n  b: 1\n c: 2\n", "t.yaml")
    assert [(d.code, d.span.line, d.span.column) for d in diagnostics] == [("PF003", 3, 2)]
    assert diagnostics[0].message == "expected <block end>, but found '<block mapping start>'"


def test_ten_megabyte_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("process: x\nfields:\n" + "  # padding\n" * 1_000_000)
    assert big.stat().st_size > 10_000_000
    assert _codes(big) == [("PF005", 1, 1)]


def test_billion_laughs(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n")
    codes = _codes(tmp_path / "bomb.yaml")
    assert [c[0] for c in codes] == ["PF005"]


def test_python_tag_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("process: !!python/object/apply:os.system ['true']\n")
    assert _codes(tmp_path / "x.yaml") == [("PF010", 1, 10)]


def test_directory_without_yaml(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    assert _codes(tmp_path) == [("PF009", 1, 1)]


def test_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert _codes(fifo) == [("PF001", 1, 1)]


def test_broken_symlink_in_directory(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "missing.yaml")
    assert _codes(tmp_path) == [("PF001", 1, 1)]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file whatever its mode")
def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("process: x\n")
    locked.chmod(0)
    assert _codes(locked) == [("PF001", 1, 1)]


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    assert run_cli(["validate", "--frmat", "json"]).exit_code == 2


def test_duplicate_key(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("process: x\nprocess: y\n")
    codes = _codes(tmp_path / "d.yaml")
    assert ("PF004", 2, 1) in codes


@pytest.mark.parametrize(
    "number", ["9" * 5000, "0x" + "f" * 5000, "-" + "1" * 1001], ids=["decimal", "hex", "negative"]
)
def test_huge_integer(tmp_path: Path, number: str) -> None:
    """Found by the fuzz: Python refuses to convert integers of more than 4,300 digits, which
    crashed the loader with a ValueError; such a number is now refused at its position."""
    (tmp_path / "n.yaml").write_text(f"process: x\ntitle: {{en: {number}}}\n")
    assert _codes(tmp_path / "n.yaml") == [("PF005", 2, 13)]


def test_long_integer_below_the_limit_is_a_value(tmp_path: Path) -> None:
    (tmp_path / "n.yaml").write_text(f"process: x\ntitle: {{en: {'9' * 1000}}}\n")
    codes = _codes(tmp_path / "n.yaml")
    assert "PF005" not in [code for code, _, _ in codes]


def test_unclosed_quote_at_the_end_points_at_a_real_line(tmp_path: Path) -> None:
    """PyYAML reports the end of the stream after the final newline; the diagnostic must
    point at the last line the file has (found by the fuzz test)."""
    (tmp_path / "q.yaml").write_text('process: x\ntitle: "unfinished\nstates: {}\n')
    assert _codes(tmp_path / "q.yaml") == [("PF003", 3, 11)]
