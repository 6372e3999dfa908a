"""docs/checks.md and docs/checks.zh-CN.md are generated from the code catalogue and cannot
go stale."""

from __future__ import annotations

import pytest

from engine.checks import CHECKS, codes
from engine.diagnostics.language import LANGUAGES
from tests.conftest import ROOT, run_cli


@pytest.mark.parametrize("language", LANGUAGES)
def test_checks_md_is_the_generated_catalogue(language: str) -> None:
    name = codes.DOCS_FILES[language]
    assert (ROOT / "docs" / name).read_text(encoding="utf-8") == codes.markdown(language), (
        f"docs/{name} is stale: regenerate it with "
        f"`PROPFLOW_LANG={language} propflow codes --format markdown > docs/{name}`"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cli_prints_the_same_catalogue(language: str) -> None:
    result = run_cli(["codes", "--format", "markdown"], env={"PROPFLOW_LANG": language})
    assert result.exit_code == 0
    assert result.output == codes.markdown(language)
    listed = run_cli(["codes"], env={"PROPFLOW_LANG": language})
    assert listed.output == codes.listing(language)
    assert len(listed.output.splitlines()) == len(codes.all_codes())


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
