"""docs/checks.md is generated from the code catalogue and cannot go stale."""

from __future__ import annotations

from engine.checks import CHECKS, codes
from tests.conftest import ROOT, run_cli

CHECKS_MD = ROOT / "docs" / "checks.md"


def test_checks_md_is_the_generated_catalogue() -> None:
    assert CHECKS_MD.read_text(encoding="utf-8") == codes.markdown(), (
        "docs/checks.md is stale: regenerate it with "
        "`propflow codes --format markdown > docs/checks.md`"
    )


def test_the_cli_prints_the_same_catalogue() -> None:
    result = run_cli(["codes", "--format", "markdown"])
    assert result.exit_code == 0
    assert result.output == codes.markdown()


def test_every_check_has_a_summary_and_an_explanation() -> None:
    documented = {doc.code: doc for doc in codes.all_codes()}
    for module in CHECKS:
        doc = documented[module.CODE]
        assert doc.summary.strip(), f"{module.__name__} has no summary"
        assert doc.explanation.strip(), f"{module.__name__} has no explanation"
        assert f"## {doc.code} {doc.name}" in codes.markdown()


def test_codes_are_unique_and_well_formed() -> None:
    all_codes = [doc.code for doc in codes.all_codes()]
    assert len(all_codes) == len(set(all_codes))
    assert all(code.startswith("PF") and code[2:].isdigit() and len(code) == 5
               for code in all_codes)  # fmt: skip
