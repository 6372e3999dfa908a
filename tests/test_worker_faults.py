"""The worker rides out its store's faults: a disk that fills up (a small tmpfs) and a
PostgreSQL server that goes away. Real faults, no mocks: the worker logs, backs off, keeps
running, and once the fault clears fires every due timer exactly once.

The worker runs in a thread on a manual clock, so the test decides when timers fall due:
after the fault has begun.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy

from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.worker import Worker
from engine.store import Store
from tests.conftest import validated_library
from tests.postgres import start_server

RECEPTIONIST = Actor("li", {"receptionist"})
OPENING = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
FORM = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CASES = 5


def open_cases(engine: Engine) -> list[str]:
    cases = []
    for _ in range(CASES):
        case = engine.open_case("repair", OPENING, RECEPTIONIST).id
        engine.fire(case, "record", RECEPTIONIST, FORM)
        cases.append(case)
    return cases


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@contextlib.contextmanager
def running(worker: Worker) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        yield thread
    finally:
        worker.stop()
        thread.join(timeout=60)


def check_fired_once(engine: Engine, cases: list[str]) -> None:
    for case in cases:
        breaches = [e for e in engine.history(case) if e.event == "breach:repair-general"]
        assert len(breaches) == 1, case
        assert engine.get_case(case).assignee == "head"
    assert engine.due_timers(engine.clock.now(), 1000) == []


@contextlib.contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skipped where mounting is not allowed)."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no room left; the file."""
    filler = disk / "filler"
    block = b"\0" * 65536
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(block)
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0")
    return filler


@pytest.mark.slow
def test_the_worker_keeps_running_through_a_full_disk_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        db = disk / "cases.db"
        clock = ManualClock(T0)
        engine = Engine(validated_library(), f"sqlite:///{db}", clock)
        cases = open_cases(engine)
        worker = Worker(engine, interval=0.02, max_backoff=0.2)
        with running(worker) as thread:
            # Empty the write-ahead log, so that the next write needs new room on the disk.
            with contextlib.closing(sqlite3.connect(db)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = fill(disk)
            clock.set(T0 + timedelta(days=4))  # the breaches fall due on a full disk
            wait_for(lambda: worker.faults >= 3)
            assert thread.is_alive()
            assert all(
                not [e for e in engine.history(c) if e.event.startswith("breach:repair-general")]
                for c in cases
            ), "nothing was written while the disk was full"
            filler.unlink()
            wait_for(lambda: all(engine.get_case(c).assignee == "head" for c in cases))
            assert thread.is_alive()
        check_fired_once(engine, cases)
        logged = caplog.text
        assert "the store failed (StoreFull" in logged and "full" in logged
        assert "the store works again" in logged
        engine.close()


@pytest.mark.slow
def test_the_worker_keeps_running_while_postgresql_is_down_and_resumes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = start_server()  # its own server: this test stops it
    try:
        clock = ManualClock(T0)
        store = Store(server.create_database())
        engine = Engine(validated_library(), store, clock)
        cases = open_cases(engine)
        worker = Worker(engine, interval=0.02, max_backoff=0.2)
        with running(worker) as thread:
            server.halt()
            clock.set(T0 + timedelta(days=4))
            wait_for(lambda: worker.faults >= 3)
            assert thread.is_alive()
            server.resume()
            wait_for(lambda: all(engine.get_case(c).assignee == "head" for c in cases))
            assert thread.is_alive()
        check_fired_once(engine, cases)
        assert "the store failed (StoreUnavailable" in caplog.text
        assert "the store works again" in caplog.text
        engine.close()
    finally:
        server.stop()


def test_the_worker_keeps_running_on_a_read_only_database_and_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite's own read-only mode (``query_only``, what a database opened read-only gives:
    "attempt to write a readonly database") on every connection while the fault lasts."""
    clock = ManualClock(T0)
    engine = Engine(validated_library(), f"sqlite:///{tmp_path / 'cases.db'}", clock)
    cases = open_cases(engine)
    read_only = threading.Event()

    def connect(connection: sqlite3.Connection, _record: object) -> None:
        if read_only.is_set():
            connection.execute("PRAGMA query_only=ON")

    sqlalchemy.event.listen(engine.store.engine, "connect", connect)
    read_only.set()
    engine.store.engine.dispose()
    worker = Worker(engine, interval=0.02, max_backoff=0.2)
    with running(worker) as thread:
        clock.set(T0 + timedelta(days=4))  # the breaches fall due on a read-only database
        wait_for(lambda: worker.faults >= 3)
        assert thread.is_alive()
        read_only.clear()
        engine.store.engine.dispose()
        wait_for(lambda: all(engine.get_case(c).assignee == "head" for c in cases))
        assert thread.is_alive()
    check_fired_once(engine, cases)
    assert "readonly" in caplog.text and "the store works again" in caplog.text
    engine.close()
