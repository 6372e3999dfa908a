"""docs/traceability.md is generated from the library and the figure mapping, and stays true:
the file equals the generator's output, every reference in the mapping names something in
the library, and every time limit in rules/ is in the table and traced to a source figure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.io.library import Library
from engine.render.traceability import (
    FIGURES,
    GENERATE_COMMAND,
    SECTIONS,
    Figure,
    TraceabilityError,
    load_library,
    load_mapping,
    markdown,
    unknown_references,
    untraced_time_limits,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "traceability.md"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def generated(library: Library) -> str:
    return markdown(library)


def rules_in_files() -> list[str]:
    """Time-limit ids as written in rules/*.yaml, read without the engine's loader."""
    ids: list[str] = []
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ids += list((data.get("time_limits") or {}).keys())
    return ids


def test_the_document_is_the_generated_text(generated: str) -> None:
    assert DOC.read_text(encoding="utf-8") == generated, (
        f"docs/traceability.md is stale: regenerate it with `{GENERATE_COMMAND}`"
    )


def test_every_rule_id_in_the_mapping_exists(library: Library) -> None:
    defined = {located.definition.id for located in library.time_limits}
    named = {ref.id for f in FIGURES for ref in f.encoded_by if ref.kind == "rule"}
    assert named, "the mapping names no time limit at all"
    assert named - defined == set()


def test_every_process_element_in_the_mapping_exists(library: Library) -> None:
    assert unknown_references(library) == []


def test_every_time_limit_in_rules_is_in_the_table(generated: str) -> None:
    ids = rules_in_files()
    assert len(ids) >= 28
    rows = [line for line in generated.splitlines() if line.startswith("| `")]
    for rule_id in ids:
        assert sum(1 for line in rows if line.startswith(f"| `{rule_id}` |")) == 1, rule_id


def test_every_time_limit_traces_to_a_source_figure(library: Library) -> None:
    assert untraced_time_limits(library) == []


def test_every_figure_is_encoded_or_says_why_not() -> None:
    keys = [f.key for f in FIGURES]
    assert len(keys) == len(set(keys)), "figure keys must be unique"
    for figure in FIGURES:
        assert figure.key.split(".")[0] in SECTIONS, figure.key
        assert figure.item and figure.figure and figure.source, figure.key
        if not figure.encoded:
            assert figure.note, f"{figure.key}: a figure that is not encoded needs a reason"


def test_every_section_of_the_catalogue_is_covered(generated: str) -> None:
    for key, title in SECTIONS.items():
        assert any(f.key.startswith(f"{key}.") for f in FIGURES), key
        assert f"## {title}" in generated


def test_schedules_and_quotas_are_traced(generated: str) -> None:
    weekly = next(f for f in FIGURES if f.item == "repair forms")
    monthly = next(f for f in FIGURES if f.item == "monthly report")
    assert weekly.encoded and monthly.encoded
    assert "| 1.15 | repair forms |" in generated
    assert "| 1.16 | monthly report |" in generated
    assert "schedule `monthly-service-report`" in generated
    assert "schedule `weekly-repair-summary`" in generated
    assert "schedule `agreement-forms-month-end`" in generated
    assert "| quota | `director-visits` | home_visit |" in generated
    assert "schedule `daily-self-check`" in generated
    assert "schedule `lift-maintenance-monthly`" in generated


def test_the_checker_reports_wrong_references(library: Library) -> None:
    bad = [
        Figure.model_validate(
            {
                "key": "9.1",
                "item": "x",
                "figure": "y",
                "source": "z",
                "encoded_by": [
                    {"rule": "repair-urgnet"},
                    {"event": "dispach", "process": "repair"},
                    {"field": "urgency", "process": "repair"},
                    {"state": "closed", "process": "nowhere"},
                ],
            }
        )
    ]
    assert unknown_references(library, bad) == [
        "9.1: no time limit 'repair-urgnet'",
        "9.1: process 'repair' has no event 'dispach'",
        "9.1: no process 'nowhere'",
    ]
    assert set(untraced_time_limits(library, bad)) == set(rules_in_files())


def test_a_bad_mapping_file_says_where_and_what(tmp_path: Path) -> None:
    path = tmp_path / "traceability.yaml"
    path.write_text(
        """
processes: [repair]
sections: {"1": Repair}
reasons: {kpi: a rate}
figures:
  - {key: "1.1", item: a, figure: b, source: c, encoded_by: [{event: dispatch}]}
  - {key: "1.2", item: a, figure: b, source: c, encoded_by: [{rule: x, quota: y}]}
  - {key: "1.3", item: a, figure: b, source: c}
  - {key: 1.4, item: a, figure: b, source: c, reason: kpi}
""",
        encoding="utf-8",
    )
    with pytest.raises(TraceabilityError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert "traceability.yaml: figures.0.encoded_by.0: " in message
    assert "event 'dispatch' needs 'process'" in message
    assert "figures.1.encoded_by.0: " in message and "got rule, quota" in message
    assert "figures.2: " in message and "not encoded needs a reason or a note" in message
    assert "figures.3.key: Input should be a valid string" in message


def test_a_reason_must_be_one_of_the_shared_reasons(tmp_path: Path) -> None:
    path = tmp_path / "traceability.yaml"
    path.write_text(
        'processes: []\nsections: {"1": A}\nreasons: {kpi: a rate}\n'
        'figures: [{key: "1.1", item: a, figure: b, source: c, reason: kpis}]\n',
        encoding="utf-8",
    )
    with pytest.raises(TraceabilityError, match=r"no reason 'kpis' in 'reasons' \(known: kpi\)"):
        load_mapping(path)


def test_the_shared_reason_comes_before_the_row_note(tmp_path: Path) -> None:
    path = tmp_path / "traceability.yaml"
    path.write_text(
        'processes: []\nsections: {"1": A}\nreasons: {kpi: a rate}\n'
        'figures: [{key: "1.1", item: a, figure: b, source: c, reason: kpi, note: see 2}]\n',
        encoding="utf-8",
    )
    (row,) = load_mapping(path).figures
    assert row.note == "a rate; see 2"


def test_no_machine_paths_in_the_document(generated: str) -> None:
    assert str(ROOT) not in generated
    assert str(Path.home()) not in generated
