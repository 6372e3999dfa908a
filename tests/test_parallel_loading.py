"""Loading a large set of files on several cores reports exactly what loading it serially does.

``engine.loading`` prepares the files of a large set (read, parse, schema check) in worker
processes. These tests validate a generated set with mistakes of every kind both ways and
compare the reports, make a worker die half-way, and check where workers are not used: small
sets, other threads running. The checks of a large library are run on two cores too (see
``engine.checks.run_checks``), and are compared the same way. The last test runs the
``propflow`` console script itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from benchmarks.bench_validate import generate
from engine import checks, loading
from engine.diagnostics import Diagnostic
from engine.loading import Library, PreparedFile
from engine.model import ProcessDef
from engine.validation import ValidationReport, validate_paths
from tests.conftest import run_cli

#: Where the wrapped worker task leaves a file named by the id of the process it ran in.
MARKS: Path | None = None
#: The test's own process: a worker is any other.
PARENT = os.getpid()
_PREPARE_CHUNK = loading._prepare_chunk
_RUN_CHECKS = checks._run
#: What the broken set gives: from reading (binary, empty, a list, not PropFlow), parsing
#: (syntax, a tab, a duplicate key), the schema, and the checks that look across files.
EXPECTED_CODES = "PF002 PF003 PF004 PF006 PF007 PF008 PF050 PF111 PF112 PF201 PF202 PF301"


def _marking_prepare(files: Sequence[Path]) -> list[PreparedFile]:
    """``_prepare_chunk``, noting which process ran it."""
    assert MARKS is not None
    (MARKS / str(os.getpid())).touch()
    return _PREPARE_CHUNK(files)


def _dying_prepare(files: Sequence[Path]) -> list[PreparedFile]:
    """``_prepare_chunk``, except that a worker dies instead of running it."""
    if os.getpid() != PARENT:
        os._exit(1)
    return _PREPARE_CHUNK(files)


def _marking_checks(modules: Iterable[ModuleType], library: Library) -> list[list[Diagnostic]]:
    """``engine.checks._run``, noting which process ran it."""
    assert MARKS is not None
    (MARKS / f"checks-{os.getpid()}").touch()
    return _RUN_CHECKS(modules, library)


def _dying_checks(modules: Iterable[ModuleType], library: Library) -> list[list[Diagnostic]]:
    """``engine.checks._run``, except that a forked process dies instead of running it."""
    if os.getpid() != PARENT:
        os._exit(1)
    return _RUN_CHECKS(modules, library)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def broken_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated library of 81 files, some of them broken in every way the loader and the
    checks can tell, plus files that are not PropFlow files at all."""
    root = tmp_path_factory.mktemp("broken-set")
    generate(root, 40)
    processes, rules = root / "processes", root / "rules"
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
    return root


def _validate(root: Path) -> ValidationReport:
    return validate_paths([root / "processes", root / "rules"])


def _serial(root: Path, monkeypatch: pytest.MonkeyPatch) -> ValidationReport:
    with monkeypatch.context() as patch:
        patch.setattr(loading, "_workers", lambda: 0)
        return _validate(root)


def _two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers are used even if this machine has one core."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)


def _same(parallel: ValidationReport, serial: ValidationReport) -> None:
    assert parallel.diagnostics == serial.diagnostics
    assert parallel.summary() == serial.summary()
    assert parallel.library.files == serial.library.files
    assert parallel.library.broken_processes == serial.library.broken_processes
    for collection in ("processes", "calendars", "time_limits"):
        mine, theirs = getattr(parallel.library, collection), getattr(serial.library, collection)
        assert [(item.definition, item.base, item.raw) for item in mine] == [
            (item.definition, item.base, item.raw) for item in theirs
        ], collection


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_workers_report_exactly_what_serial_loading_does(
    broken_set: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    serial = _serial(broken_set, monkeypatch)
    assert {diagnostic.code for diagnostic in serial.diagnostics} == set(EXPECTED_CODES.split())
    _two_cores(monkeypatch)
    monkeypatch.setattr(sys.modules[__name__], "MARKS", tmp_path)
    monkeypatch.setattr(loading, "_prepare_chunk", _marking_prepare)
    monkeypatch.setattr(checks, "_run", _marking_checks)
    monkeypatch.setattr(loading, "CHUNK_FILES", 4)  # many parts: the worker gets some
    parallel = _validate(broken_set)
    _same(parallel, serial)
    marks = {mark.name for mark in tmp_path.iterdir()}
    workers = {int(mark) for mark in marks if mark.isdigit()} - {os.getpid()}
    assert workers, "no part of the set was prepared by a worker"
    forked = {mark for mark in marks if mark.startswith("checks-")} - {f"checks-{os.getpid()}"}
    assert forked, "no check was run in a forked process"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_the_parts_of_a_dead_worker_are_prepared_here(
    broken_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _serial(broken_set, monkeypatch)
    _two_cores(monkeypatch)
    monkeypatch.setattr(loading, "_prepare_chunk", _dying_prepare)
    _same(_validate(broken_set), serial)


def _dying_with_the_lock(chunks: object, bounds: Any, sender: object) -> None:
    """A worker killed while it holds the lock on the shared chunk indexes (long enough
    for the validating process to be waiting for it by then)."""
    bounds.get_lock().acquire()
    time.sleep(0.5)
    os._exit(1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_a_worker_killed_holding_the_lock_slows_validation_but_never_hangs_it(
    broken_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _serial(broken_set, monkeypatch)
    _two_cores(monkeypatch)
    monkeypatch.setattr(loading, "CLAIM_TIMEOUT_S", 0.2)
    monkeypatch.setattr(loading, "_prepare_front", _dying_with_the_lock)
    _same(_validate(broken_set), serial)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_the_checks_of_a_dead_process_are_run_here(
    broken_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _serial(broken_set, monkeypatch)
    _two_cores(monkeypatch)
    monkeypatch.setattr(checks, "_run", _dying_checks)
    _same(_validate(broken_set), serial)


def test_the_version_hashed_by_the_loader_is_the_models(broken_set: Path) -> None:
    """A worker hashes a process file's ``version`` where it parses it; the value is the one
    ``ProcessDef`` computes from the same data (stored cases refer to it)."""
    prepared = loading.prepare_file(broken_set / "processes" / "procedure_0002.yaml")
    assert prepared.document is not None and prepared.version is not None
    assert prepared.version == ProcessDef.model_validate(prepared.document.data).version


def test_small_sets_and_threaded_processes_load_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker was started")

    _two_cores(monkeypatch)
    monkeypatch.setattr(loading, "_fork", no_fork)
    generate(tmp_path, (loading.PARALLEL_MIN_FILES - 1) // 2)  # one file short of workers
    assert _validate(tmp_path).diagnostics == []

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert loading._workers() == 0
    finally:
        stop.set()
        other.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_the_console_script_loads_on_several_cores(
    broken_set: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``propflow validate`` as installed (its ``__main__`` is the entry-point script) gives
    the JSON report of a serial run in this process."""
    script = shutil.which("propflow", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the propflow console script is not installed next to this Python")
    paths = [str(broken_set / "processes"), str(broken_set / "rules")]
    ran = subprocess.run(
        [script, "validate", "--format", "json", *paths],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 1, ran.stderr
    with monkeypatch.context() as patch:
        patch.setattr(loading, "_workers", lambda: 0)
        expected = run_cli(["validate", "--format", "json", *paths])
    assert json.loads(ran.stdout) == json.loads(expected.output)
