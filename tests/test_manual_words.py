"""The zh-CN manual is the document a client signs: no code or English may leak into it.

The manual of the standard library and of every estate under ``estates/`` is rendered as a
user would (``propflow manual``); outside its diagram sources and Markdown link targets, every
run of ASCII letters must be a form code or a figure — it holds a digit (``QP-10-01``,
``2022-002``, ``A/1``) or is an upper-case code pattern (``YYYY-NNN``, ``ISO``). A field id,
a condition, ``3 workdays``, ``Asia/Shanghai`` or a ``seed 004`` reference fails, naming the
line it is on. The document control an estate declares is on the cover."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
ESTATES = sorted(path.parent for path in (ROOT / "estates").glob("*/estate.yaml"))

_DIAGRAM = re.compile(r"^```.*?^```", re.S | re.M)
_MARKUP = re.compile(r'<a id="[^"]*"></a>|\]\(#[^)]*\)')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_./\-]*")
_CODE = re.compile(r"[A-Z][A-Z0-9/\-]*")


def leaks(text: str) -> list[tuple[int, str]]:
    """(line, word) of each ASCII word that is neither a code nor a figure."""
    found: list[tuple[int, str]] = []
    blanked = _DIAGRAM.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for number, line in enumerate(blanked.splitlines(), start=1):
        for word in _WORD.findall(_MARKUP.sub("", line)):
            if not any(char.isdigit() for char in word) and not _CODE.fullmatch(word):
                found.append((number, word))
    return found


def manual(*args: str) -> str:
    result = run_cli(["manual", "--lang", "zh-CN", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_scan_catches_what_leaks() -> None:
    text = (
        "依据：seed 004\n```mermaid\nstate s_closed\n```\n条件：children.count大于0，3 workdays\n"
    )
    assert leaks(text) == [(1, "seed"), (5, "children.count"), (5, "workdays")]
    assert leaks("编号QP-10-01-F001，格式YYYY-NNN，版本A/1，[报修处理](#p-repair)") == []


@pytest.mark.parametrize("estate", [None, *ESTATES], ids=lambda e: e.name if e else "standard")
def test_the_zh_cn_manual_has_no_code_or_english(estate: Path | None) -> None:
    text = manual(*(["--estate", str(estate)] if estate else []))
    assert leaks(text) == []


def test_the_estate_manual_carries_its_document_control() -> None:
    text = manual("--estate", str(ROOT / "estates" / "lakeside"))
    cover = text[: text.index("## 目录")]
    for expected in ("湖畔花园", "HP-QP-01", "A/1", "品质管理部", "物业服务中心主任", "2026-04-01"):
        assert expected in cover, expected
    assert "## 修订记录" in cover and "投诉一律报主任决定" in cover
    # The declared order: repair, complaint, renovation first; the catalogue order after.
    contents = re.findall(r"^\d+\. \[(.+?)\]", text, re.M)
    assert contents[:5] == ["报修处理", "投诉处理", "二次装修管理", "保修钥匙管理", "咨询服务"]


def section_of(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_each_procedure_states_its_targets_and_its_related_documents() -> None:
    library = section_of(manual(), "报修处理")
    estate = section_of(manual("--estate", str(ROOT / "estates" / "lakeside")), "报修处理")
    # The estate's own target (seed 002's 95%) replaces the library's stricter 98%.
    assert "### 六、质量标准与考核指标" in library
    assert "| 维修及时率 | 不低于98% | 每月 |" in library
    assert "| 维修及时率 | 不低于95% | 每月 |" in estate
    assert "| 维修回访率 | 100% | 每月 |" in library
    assert "### 八、相关文件" in library
    assert "- **本程序记录**：《报修单》" in library
    assert "《回访记录》（业主回访（登门回访））" in library  # the case a return visit opens
    assert "《物业客户中心接待服务程序》" in library.split("相关文件")[1]
    # A procedure without indicators has no such section; the numbering closes up.
    keys = section_of(manual("--estate", str(ROOT / "estates" / "lakeside")), "保修钥匙管理")
    assert "质量标准" not in keys
    assert "### 七、相关文件" in keys and "《保修钥匙签收本》" in keys


def test_the_library_manual_follows_the_catalogue_order() -> None:
    contents = re.findall(r"^\d+\. \[(.+?)\]", manual(), re.M)
    assert contents[:3] == ["报修处理", "投诉处理", "信息处理（首接负责制）"]
    assert "文件控制" not in manual()
