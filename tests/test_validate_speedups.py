"""The shortcuts that make ``propflow validate`` fast give the answers of the long way round.

Each test pins one shortcut against what it replaces: parsed conditions kept by text against
parsing afresh, and the checks' shared surveys of a library against a library that has changed
since.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.bench_validate import generate
from engine.checks import run_checks
from engine.checks.base import once_per_library
from engine.conditions import ConditionSyntaxError, parse_condition
from engine.io.library import Library
from engine.io.loading import load_library


def test_a_condition_is_parsed_once_and_a_broken_one_every_time() -> None:
    text = "urgency == 'urgent' and fee > 0"
    assert parse_condition(text) is parse_condition(text)
    spaced = parse_condition(text.replace(" and", "  and"))
    assert spaced is not parse_condition(text)
    assert spaced.expr == parse_condition(text).expr  # only the offsets differ
    broken = "urgency = 'urgent'"
    errors = []
    for _ in range(2):
        with pytest.raises(ConditionSyntaxError) as caught:
            parse_condition(broken)
        errors.append(caught.value)
    assert errors[0] is not errors[1]
    assert (errors[0].message, errors[0].offset) == (errors[1].message, errors[1].offset)


def test_a_survey_is_shared_only_while_the_library_holds_the_same_definitions(
    tmp_path: Path,
) -> None:
    runs: list[int] = []

    @once_per_library
    def survey(library: Library) -> int:
        runs.append(len(library.processes))
        return len(runs)

    generate(tmp_path, 3)
    library = load_library([tmp_path]).library
    assert survey(library) == survey(library) == 1
    removed = library.processes.pop()
    assert survey(library) == 2
    library.processes.append(removed)
    assert survey(library) == 3
    again = load_library([tmp_path]).library
    assert survey(again) == 4  # equal definitions, but another library
    assert survey(library) == 5
    assert runs == [3, 2, 3, 3, 3]


def test_checking_a_changed_library_again_reports_the_change(tmp_path: Path) -> None:
    """The condition and link checks share surveys: checking a library, changing it and
    checking it again must not report the first library's findings."""
    generate(tmp_path, 2)
    text = (tmp_path / "processes" / "procedure_0000.yaml").read_text(encoding="utf-8")
    loaded = load_library([tmp_path / "processes"]).library
    assert run_checks(loaded) == []
    (tmp_path / "processes" / "procedure_0000.yaml").write_text(
        text.replace("urgency == 'urgent'", "urgncy == 'urgent'", 1), encoding="utf-8"
    )
    changed = load_library([tmp_path / "processes"]).library
    loaded.processes[0] = changed.processes[0]
    assert [d.code for d in run_checks(loaded)] == ["PF111"]
