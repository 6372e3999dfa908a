"""Durable timers fire exactly once: across a killed worker, and with two workers at once.

Every test runs on SQLite (one file) and on a real PostgreSQL server (``store_url``). The
cases are opened here, in the test process, on a manual clock set a day in the past, so each
one holds due breach timers; the workers are separate processes — ``propflow worker`` itself,
or a few lines of Python around ``engine.tick()`` — that fire them on the real clock.

A timer's effects are a log entry ``breach:<limit>`` and an outbox row (``notify head``),
and they commit in one transaction with the timer's ``fired_at`` (the engine fires a batch
of timers per transaction, a savepoint each). So after any crash, for every timer: fired
exactly when its log entry and outbox row exist, and each exists at most once. After a
restart: all fired, each effect exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.engine import TICK_BATCH
from engine.store import Store
from engine.store.schema import case_log, outbox, timers

#: Workers run as subprocesses, and are killed: run by .ci/run's second pass.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

#: Time limits per case: each case opens with this many breach timers.
LIMITS = 5

JOB = """\
process: job
title: {zh-CN: 工单, en: Job}
roles:
  clerk: {label: {zh-CN: 接待员, en: Clerk}}
  head: {label: {zh-CN: 负责人, en: Head}}
fields:
  unit: {type: text, label: {zh-CN: 房号, en: Unit}}
states:
  new: {initial: true, label: {zh-CN: 新建, en: New}}
  working: {label: {zh-CN: 处理中, en: Working}}
  done: {final: true, label: {zh-CN: 完成, en: Done}}
events:
  begin: {from: new, to: working, roles: [clerk], label: {zh-CN: 开始, en: Begin}}
  finish: {from: working, to: done, roles: [clerk], label: {zh-CN: 完成, en: Finish}}
"""


def rules(limits: int) -> str:
    """``limits`` limits on the job (1, 2, 3 ... minutes), each breach notifying the head.

    The cases are opened at one moment, so the timers fall due limit by limit: the first
    timer of every case, then the second of every case ... and a batch holds many cases,
    each more than once (which is how two workers could lock cases in opposite orders)."""
    text = [
        "calendars:",
        "  24x7: {label: {zh-CN: 全天候, en: Always}, hours: always, holidays: none}",
        "time_limits:",
    ]
    for n in range(limits):
        text += [
            f"  limit-{n}:",
            f"    label: {{zh-CN: 时限{n}, en: Limit {n}}}",
            "    process: job",
            "    calendar: 24x7",
            "    start: {enter: working}",
            "    stop: {enter: done}",
            f"    limit: {n + 1}m",
            f"    on_breach: [{{notify: head, message: {{zh-CN: 超时{n}}}}}]",
        ]
    return "\n".join(text) + "\n"


CLERK = Actor("li.jiedai", {"clerk"})


@dataclass
class Setup:
    """A store holding ``cases`` cases with ``LIMITS`` due breach timers each."""

    url: str
    library: Path
    case_ids: list[str]

    @property
    def timers(self) -> int:
        return len(self.case_ids) * LIMITS


def make_cases(url: str, directory: Path, cases: int) -> Setup:
    """The job library in ``directory`` and ``cases`` cases whose timers are all due."""
    setup = Setup(url, write_library(directory), [])
    open_cases(setup, cases)
    return setup


def write_library(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "job.yaml").write_text(JOB, encoding="utf-8")
    (directory / "rules.yaml").write_text(rules(LIMITS), encoding="utf-8")
    return directory


def open_cases(setup: Setup, cases: int) -> None:
    """Open and begin ``cases`` jobs a day ago (on a manual clock): their timers are due."""
    clock = ManualClock(datetime.now(UTC) - timedelta(days=1))
    engine = Engine(setup.library, store=setup.url, clock=clock)
    try:
        for n in range(cases):
            case = engine.open_case("job", {"unit": f"{n}"}, CLERK)
            engine.fire(case.id, "begin", CLERK)
            setup.case_ids.append(case.id)
    finally:
        engine.close()


def fired_count(store: Store) -> int:
    with store.engine.connect() as connection:
        value = connection.execute(
            select(func.count()).select_from(timers).where(timers.c.fired_at.is_not(None))
        ).scalar_one()
    return int(value)


@dataclass(frozen=True)
class Effects:
    """Per (case, limit): how many breach log entries and outbox rows, and fired or not."""

    entries: Counter[tuple[str, str]]
    rows: Counter[tuple[str, str]]
    fired: dict[tuple[str, str], bool]


def effects(url: str) -> Effects:
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            entries = Counter(
                (row.case_id, row.event.split(":", 1)[1])
                for row in connection.execute(
                    select(case_log.c.case_id, case_log.c.event).where(
                        case_log.c.event.like("breach:%")
                    )
                )
            )
            # A breach's row names its time limit in its payload.
            rows = Counter(
                (row.case_id, row.payload["limit"])
                for row in connection.execute(
                    select(outbox.c.case_id, outbox.c.payload).where(
                        outbox.c.role == "head", outbox.c.kind == "notify"
                    )
                )
            )
            fired = {
                (row.case_id, row.name): row.fired_at is not None
                for row in connection.execute(
                    select(timers.c.case_id, timers.c.name, timers.c.fired_at)
                )
            }
    finally:
        store.close()
    return Effects(entries, rows, fired)


def assert_consistent(setup: Setup, *, complete: bool) -> int:
    """Each timer's effects exist exactly when it fired, never twice; return how many fired."""
    found = effects(setup.url)
    assert len(found.fired) == setup.timers
    for key, fired in found.fired.items():
        expected = 1 if fired else 0
        assert (found.entries[key], found.rows[key]) == (expected, expected), key
    assert set(found.entries) <= set(found.fired)
    assert set(found.rows) <= set(found.fired)
    count = sum(found.fired.values())
    if complete:
        assert count == setup.timers
    return count


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PROPFLOW_DB", None)
    return env


def propflow_worker(setup: Setup, *options: str) -> subprocess.Popen[str]:
    """``propflow worker`` on the setup's store, as a separate process."""
    command = [
        sys.executable,
        "-c",
        "import sys; from engine.cli import main; sys.exit(main(prog_name='propflow'))",
        "worker",
        "--db",
        setup.url,
        "--library",
        str(setup.library),
        *options,
    ]
    worker = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The worker logs a line per timer: read its stderr as it comes, or a full pipe would
    # block it (holding nothing, but firing nothing either) until the test reads.
    assert worker.stderr is not None
    stream, lines = worker.stderr, []

    def drain() -> None:
        for line in stream:
            lines.append(line)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    STDERR[worker.pid] = (lines, reader)
    return worker


#: Each worker's stderr lines read so far, and the thread reading them, by process id.
STDERR: dict[int, tuple[list[str], threading.Thread]] = {}


#: A worker that SIGKILLs itself inside its Nth transaction: after the effects and the
#: ``fired_at`` of a batch of timers are written, before COMMIT reaches the database.
DYING_WORKER = """
import os, signal, sys
from sqlalchemy import event
from engine.runtime import Engine

url, library, die_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
engine = Engine(library, store=url)
commits = 0

@event.listens_for(engine.store.engine, "commit")
def die_before_commit(connection):
    global commits
    commits += 1
    if commits == die_at:
        print(f"killed in commit {commits}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

while engine.tick(limit=1000).fired:
    pass
"""


def run_dying_worker(setup: Setup, die_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DYING_WORKER, setup.url, str(setup.library), str(die_at)],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def wait_started(worker: subprocess.Popen[str], timeout: float = 120) -> None:
    """Wait for the worker's first line, ``worker started on ...`` (its signal handlers are
    installed by then)."""
    lines, _ = STDERR[worker.pid]
    deadline = time.monotonic() + timeout
    while not lines and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines and lines[0].startswith("worker started on"), (lines, worker.poll())


def stop(worker: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str]:
    """SIGTERM the worker; its exit code and stderr."""
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=timeout)
    lines, reader = STDERR.pop(worker.pid)
    reader.join(timeout)  # to the end of the stream, now that the worker has exited
    return worker.returncode, "".join(lines)


def reported_fired(stderr: str) -> int:
    last = [line for line in stderr.splitlines() if line.startswith("worker stopped;")]
    assert last, stderr
    return int(last[-1].split()[2])


@pytest.fixture
def reader(store_url: str) -> Iterator[Store]:
    """The store, opened in the test process to watch it while workers run."""
    store = Store(store_url)
    yield store
    store.close()


# Tests --------------------------------------------------------------------------------------


def test_a_worker_killed_between_firing_and_committing_fires_nothing_twice(
    store_url: str, tmp_path: Path
) -> None:
    cases = (TICK_BATCH * 5 // 2) // LIMITS  # two and a half batches of timers
    setup = make_cases(store_url, tmp_path / "library", cases=cases)
    result = run_dying_worker(setup, die_at=2)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "killed in commit 2" in result.stdout
    # The first batch committed; the second, killed inside its transaction, left nothing.
    assert assert_consistent(setup, complete=False) == TICK_BATCH
    result = run_dying_worker(setup, die_at=10_000)  # a second worker finishes the job
    assert result.returncode == 0, result.stderr
    assert assert_consistent(setup, complete=True) == setup.timers


def test_propflow_worker_killed_mid_batch_then_restarted_fires_each_timer_once(
    store_url: str, tmp_path: Path, reader: Store
) -> None:
    setup = make_cases(store_url, tmp_path / "library", cases=400)  # 2,000 timers
    worker = propflow_worker(setup, "--batch", "1000", "--interval", "0.05")
    try:
        wait_until(lambda: fired_count(reader) >= setup.timers // 5, 120, "a fifth fired")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
        STDERR.pop(worker.pid, None)
    assert worker.returncode == -signal.SIGKILL
    fired = assert_consistent(setup, complete=False)
    assert 0 < fired < setup.timers, "the worker was not killed mid-batch"
    worker = propflow_worker(setup, "--interval", "0.05")
    try:
        wait_until(lambda: fired_count(reader) == setup.timers, 120, "every timer fired")
    finally:
        code, err = stop(worker)
    assert code == 0, err
    assert reported_fired(err) == setup.timers - fired
    assert assert_consistent(setup, complete=True) == setup.timers


def test_two_workers_at_once_fire_every_timer_exactly_once(
    store_url: str, tmp_path: Path, reader: Store
) -> None:
    setup = Setup(store_url, write_library(tmp_path / "library"), [])
    workers = [propflow_worker(setup, "--batch", "400", "--interval", "0.05") for _ in range(2)]
    results = []
    try:
        for worker in workers:
            wait_started(worker)
        # Both run before anything is due; the timers fall due as the cases are opened.
        open_cases(setup, 160)
        wait_until(lambda: fired_count(reader) == setup.timers, 180, "every timer fired")
    finally:
        results = [stop(worker) for worker in workers]
    assert [code for code, _ in results] == [0, 0], [err for _, err in results]
    # Each timer was fired by one of them (on SQLite, which has one writer at a time, the
    # first to take the lock may well fire them all).
    counts = [reported_fired(err) for _, err in results]
    assert sum(counts) == setup.timers, counts
    assert assert_consistent(setup, complete=True) == setup.timers


def test_propflow_worker_exits_0_on_sigterm_after_finishing_its_tick(
    store_url: str, tmp_path: Path, reader: Store
) -> None:
    setup = make_cases(store_url, tmp_path / "library", cases=200)  # 1,000 timers
    worker = propflow_worker(setup, "--batch", "100", "--interval", "0.05")
    try:
        wait_until(lambda: fired_count(reader) >= 1, 120, "the first timer fired")
        code, err = stop(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 0, err
    fired = fired_count(reader)
    # Whole ticks only: the tick under way when SIGTERM came was finished, no other began.
    assert fired % 100 == 0 and 100 <= fired < setup.timers, fired
    assert reported_fired(err) == fired
    assert "worker stopped" in err
    assert assert_consistent(setup, complete=False) == fired
