"""The validation benchmark's input stays valid: five generated processes validate clean.

benchmarks/bench_validate.py times ``validate_paths`` on generated libraries; if the
generator drifted from the file formats, the benchmark would time error reporting instead
of validation. This runs the generator small and checks its output, without timing anything.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.bench_large_process import process_text
from benchmarks.bench_validate import generate
from engine.checks.validation import validate_paths


def test_generated_library_validates_with_no_diagnostics(tmp_path: Path) -> None:
    files = generate(tmp_path, 5)
    report = validate_paths([tmp_path / "processes", tmp_path / "rules"])
    assert report.diagnostics == []
    summary = report.summary()
    assert summary["files"] == files == 11
    assert summary["processes"] == 5
    assert 10 <= len(report.library.time_limits) <= 15  # two or three per process
    for located in report.library.processes:
        process = located.definition
        assert len(process.states) == 10
        assert len(process.events) == 12
        assert len(process.fields) >= 8
        assert sum(event.condition is not None for event in process.events.values()) >= 3


def test_generated_library_is_deterministic(tmp_path: Path) -> None:
    generate(tmp_path / "a", 3)
    generate(tmp_path / "b", 3)
    for path in sorted((tmp_path / "a").rglob("*.yaml")):
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.read_text(encoding="utf-8") == twin.read_text(encoding="utf-8")


def test_the_large_process_benchmark_times_what_it_says(tmp_path: Path) -> None:
    """Its clean process validates clean; its broken twin gives a misspelt state (with a
    suggestion) and a duplicate key for every event."""
    clean, broken = tmp_path / "clean.yaml", tmp_path / "broken.yaml"
    clean.write_text(process_text(40), encoding="utf-8")
    broken.write_text(process_text(40, broken=True), encoding="utf-8")
    assert validate_paths([clean]).diagnostics == []
    found = validate_paths([broken]).diagnostics
    assert sum(d.code == "PF004" for d in found) == 39
    misses = [d for d in found if d.code == "PF102"]
    assert len(misses) == 39 and all("did you mean 's" in d.message for d in misses)


def test_the_patterns_benchmark_runs_small_and_agrees_with_its_baseline() -> None:
    """A quick simulated year: durable-rules finds the baseline's matches, memory stays flat
    and the store's pattern step commits what it matched."""
    from benchmarks.bench_patterns import main

    assert main(["--quick"]) == 0


def test_the_reports_benchmark_fills_what_the_report_counts(tmp_path: Path) -> None:
    """The reports benchmark's bulk fill writes rows the store accepts and the report counts
    as the generator says: a benchmark timing a report over wrong rows would time nothing."""
    from benchmarks.bench_reports import filled, report_counts, right
    from engine.io.resources import standard_library_dirs

    library = validate_paths(standard_library_dirs()).validated.library
    store = filled(f"sqlite:///{tmp_path / 'cases.db'}", 2, 3, 20)
    try:
        _, counts = report_counts(store["store"], library)
    finally:
        store["store"].close()
    assert store["expected"]["decided"] > 10 and store["expected"]["visits"] > 10
    assert right(counts, store["expected"]), (counts, store["expected"])
