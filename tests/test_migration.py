"""Moving running cases to new definitions: the dry run, a shorter limit keeping the time a
clock ran, a renamed state mapped, a vanished state refused, a case fired at during its
move, and a migration killed at random points and run again.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.checks.validation import validate_library
from engine.diagnostics.catalogue import say
from engine.runtime import Actor, ConflictError, Engine, ManualClock, replay
from engine.runtime.migration import EVENT, Migration, migrate_cases
from engine.store import VersionConflict
from tests.conftest import ROOT, run_cli
from tests.migration_library import write_library

CLERK = Actor("li", {"clerk"})
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _engine(library: Path, url: str, clock: ManualClock) -> Engine:
    return Engine(library=[library], store=url, clock=clock)


def _started(engine: Engine, count: int = 1) -> list[str]:
    """``count`` urgent jobs, started (their 24h clock running)."""
    ids = []
    for _ in range(count):
        case = engine.open_case("job", {}, CLERK)
        ids.append(engine.fire(case.id, "start", CLERK).id)
    return ids


def _clock(engine: Engine, case_id: str) -> tuple[str, datetime | None, timedelta]:
    (status,) = [s for s in engine.sla_status(case_id) if s.limit == "job-urgent"]
    return status.status, status.deadline, status.elapsed


def _pending(engine: Engine, case_id: str) -> list[tuple[str, datetime]]:
    return [(t.kind, t.due_at) for t in engine.store.pending_timers(case_id)]


def _migrations(engine: Engine, case_id: str) -> list[dict[str, object]]:
    return [e.actions[0][EVENT] for e in engine.history(case_id) if e.event == EVENT]


def test_a_shorter_limit_keeps_the_working_time_run(
    tmp_path: Path, make_store_url: Callable[[], str]
) -> None:
    """24h -> 12h: the clock keeps its start and its pause, so the deadline is 12h of
    running after the start plus the 3h it stood still; the timers follow; a rerun moves
    nothing; the breach fires at the new deadline."""
    url = make_store_url()
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), url, clock)
    paused, plain = _started(old, 2)
    clock.advance(timedelta(hours=2))
    old.fire(paused, "wait", CLERK)
    clock.advance(timedelta(hours=3))
    old.fire(paused, "resume", CLERK)
    clock.advance(timedelta(hours=1))
    assert _clock(old, paused)[1] == START + timedelta(hours=27)
    old.close()

    new = _engine(write_library(tmp_path / "v2", limit="12h"), url, clock)
    result = migrate_cases(new)
    assert (result.moved, result.refused, result.skipped) == (2, [], [])
    status, deadline, elapsed = _clock(new, paused)
    assert (status, deadline, elapsed) == (
        "running",
        START + timedelta(hours=15),
        timedelta(hours=3),
    )
    assert _clock(new, plain)[1:] == (START + timedelta(hours=12), timedelta(hours=6))
    # The breach at the new deadline; the 80% warning (at 9.6h of running) still ahead.
    assert sorted(_pending(new, plain)) == [
        ("breach", START + timedelta(hours=12)),
        ("warning", START + timedelta(hours=9, minutes=36)),
    ]
    (entry,) = _migrations(new, plain)
    (moved,) = entry["clocks"]  # type: ignore[misc]
    assert (moved["limit"], moved["action"], moved["ran_seconds"]) == (
        "job-urgent",
        "kept",
        6 * 3600,
    )
    assert datetime.fromisoformat(moved["deadline_before"]) == START + timedelta(hours=24)
    assert datetime.fromisoformat(moved["deadline_after"]) == START + timedelta(hours=12)
    again = migrate_cases(new)
    assert (again.moved, again.unchanged) == (0, 2)
    clock.set(START + timedelta(hours=12))
    assert new.tick().fired >= 1
    assert [e.event for e in new.history(plain)][-1] == "breach:job-urgent"
    for case_id in (paused, plain):
        assert replay(new.history(case_id))[0] == new.get_case(case_id).state
    new.close()


def test_dry_run_prints_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    """The dry run names the state, the field added with its default and the clock, per
    group and with --each per case; nothing is written."""
    db = tmp_path / "cases.db"
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), f"sqlite:///{db}", clock)
    (case_id,) = _started(old)
    old.close()
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "estate.yaml").write_text("estate: standard\nextends: standard\n")
    library = write_library(tmp_path / "v2", limit="12h", note=True)
    args = ["--lang", "en", "migrate", "--estate", str(estate), "--library", str(library)]
    args += ["--db", str(db), "--dry-run"]
    result = run_cli(args)
    assert result.exit_code == 0, result.output
    assert "job " in result.output and "1 case(s) would move" in result.output
    assert "state 'doing' kept" in result.output
    assert "field 'note' added, default \"-\"" in result.output
    assert "clock 'job-urgent' kept" in result.output
    assert "dry run: 1 would move, 0 cannot move" in result.output
    chinese = run_cli(["--lang", "zh-CN", *args[2:]])
    assert "1 件案件将迁移" in chinese.output and "时限“job-urgent”保留" in chinese.output
    each = run_cli([*args, "--each"])
    assert f"case {case_id}: state 'doing' kept" in each.output
    # On the calendar's timezone (the estate's default, Asia/Shanghai).
    assert "deadline 2026-12-02T09:00+08:00 -> 2026-12-01T21:00+08:00" in each.output
    check = _engine(library, f"sqlite:///{db}", clock)
    assert _migrations(check, case_id) == []
    assert check.get_case(case_id).definition_version != check.definition_version("job")
    check.close()


def test_a_renamed_state_is_mapped_and_a_vanished_one_refused(tmp_path: Path) -> None:
    """doing -> working with a mapping: the case moves there, with its clock; without the
    mapping the case is refused, never guessed, and left as it was."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), url, clock)
    (case_id,) = _started(old)
    before = old.get_case(case_id)
    old.close()
    clock.advance(timedelta(hours=1))

    unmapped = _engine(write_library(tmp_path / "v2", doing="working"), url, clock)
    refused = migrate_cases(unmapped)
    assert refused.moved == 0
    assert [move.case_id for move in refused.refused] == [case_id]
    assert refused.refused[0].refused == say("migrate.no_mapping", state="doing", process="job")
    assert unmapped.get_case(case_id) == before
    unmapped.close()

    library = write_library(tmp_path / "v3", doing="working", mappings={"doing": "working"})
    mapped = _engine(library, url, clock)
    result = migrate_cases(mapped)
    assert result.moved == 1
    case = mapped.get_case(case_id)
    assert (case.state, case.version) == ("working", before.version + 1)
    assert case.definition_version == mapped.definition_version("job")
    (entry,) = _migrations(mapped, case_id)
    assert entry["state"] == {"from": "doing", "to": "working"}
    assert entry["from"] == before.definition_version
    assert _clock(mapped, case_id)[1] == START + timedelta(hours=24)  # same limit: kept
    mapped.close()

    # A library without the process: its cases are reported, none is touched.
    other = write_library(tmp_path / "v4")
    for name in ("job.yaml", "rules.yaml"):
        text = (other / name).read_text(encoding="utf-8")
        (other / name).write_text(text.replace("process: job", "process: task"), "utf-8")
    without = _engine(other, url, clock)
    gone = migrate_cases(without)
    assert [(m.case_id, m.refused) for m in gone.refused] == [
        (case_id, say("migrate.no_process", process="job"))
    ]
    without.close()

    # The case runs on in its new definition.
    mapped = _engine(library, url, clock)
    assert mapped.fire(case_id, "finish", CLERK).state == "done"
    mapped.close()


def test_a_mapping_is_checked_where_it_is_written(tmp_path: Path) -> None:
    """PF550 at the mapping's place: a state the process still has, a target it lacks, a
    process that does not exist; in both languages."""
    library = write_library(tmp_path / "lib", mappings={"doing": "done", "gone": "nowhere"})
    with (library / "rules.yaml").open("a", encoding="utf-8") as rules:
        rules.write("  jobb:\n    states: {}\n")
    found = [d for d in validate_library([library]).diagnostics if d.code == "PF550"]
    places = {(d.span.line, d.span.column): d.message for d in found}
    lines = (library / "rules.yaml").read_text(encoding="utf-8").splitlines()
    mapping_line = next(n for n, line in enumerate(lines, 1) if "states: {doing" in line)
    assert places == {
        (mapping_line, lines[mapping_line - 1].index("doing") + 1): say(
            "PF550.kept", state="doing", process="job"
        ),
        (mapping_line, lines[mapping_line - 1].index("nowhere") + 1): say(
            "PF550.target",
            state="nowhere",
            process="job",
            hint=" (defined: new, doing, waiting, done)",
        ),
        (len(lines) - 1, 3): say("PF550.process", process="jobb", hint=" (did you mean 'job'?)"),
    }
    result = run_cli(["--lang", "zh-CN", "validate", str(library)])
    assert result.exit_code == 1
    assert "PF550" in result.output and "仍是流程“job”的状态" in result.output


def test_a_case_fired_at_during_its_move_is_not_half_moved(
    tmp_path: Path, make_store_url: Callable[[], str]
) -> None:
    """A case that changes between its move's read and write is refused by its version:
    nothing of the move is written; the migration reads it again and moves it."""
    url = make_store_url()
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), url, clock)
    (case_id,) = _started(old)
    old.close()
    new = _engine(write_library(tmp_path / "v2", limit="12h", note=True), url, clock)
    migration = Migration.of(new)
    with new.store.transaction() as tx:
        found = new.store.case_and_clocks(case_id, tx)
        assert found is not None
        plan = migration.plan(found[0], found[1], clock.now(), tx)
    assert plan is not None
    new.fire(case_id, "wait", CLERK)  # someone else, between the read and the write
    with pytest.raises(VersionConflict), new.store.transaction() as tx:
        migration.write(plan, clock.now(), tx)
    case = new.get_case(case_id)
    assert (case.state, _migrations(new, case_id)) == ("waiting", [])
    assert case.definition_version != new.definition_version("job")
    assert _clock(new, case_id)[:2] == ("paused", START + timedelta(hours=24))
    result = migration.run()
    assert result.moved == 1
    assert _clock(new, case_id)[:2] == ("paused", START + timedelta(hours=12))
    new.close()


def test_events_racing_a_migration_leave_every_case_whole(
    tmp_path: Path, make_store_url: Callable[[], str]
) -> None:
    """Events fired from another thread while pages of cases move: every case ends on the
    new version with one move in its log (or is reported skipped), its row equal to its
    log replayed."""
    url = make_store_url()
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), url, clock)
    ids = _started(old, 30)
    old.close()
    new = _engine(write_library(tmp_path / "v2", limit="12h", note=True), url, clock)
    firer = _engine(write_library(tmp_path / "v1b"), url, clock)
    stop = threading.Event()

    def fire() -> None:
        turn = 0
        while not stop.is_set():
            case_id = ids[turn % len(ids)]
            state = firer.get_case(case_id).state
            with contextlib.suppress(ConflictError):  # the migration was first: the next
                firer.fire(case_id, "wait" if state == "doing" else "resume", CLERK)
            turn += 1

    racer = threading.Thread(target=fire)
    racer.start()
    try:
        result = migrate_cases(new, batch=3)
    finally:
        stop.set()
        racer.join()
    rest = migrate_cases(new)
    assert result.moved + rest.moved == len(ids)
    for case_id in ids:
        case = new.get_case(case_id)
        assert case.definition_version == new.definition_version("job")
        assert len(_migrations(new, case_id)) == 1
        state, data, _ = replay(new.history(case_id))
        assert (state, data) == (case.state, case.data)
    new.close()
    firer.close()


# Killed and run again ------------------------------------------------------------------

WORKER = Path(__file__).with_name("migration_worker.py")


@pytest.mark.slow
def test_a_migration_killed_at_random_points_is_finished_by_a_rerun(tmp_path: Path) -> None:
    """Kill the migration (a subprocess) at random points of its progress, again and again,
    then let one finish: after every kill each case is wholly on one version — the old with its 24h
    deadline and no move in its log, or the new with its 12h deadline, one move and one
    pending breach at that deadline — and in the end every case is on the new one."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = ManualClock(START)
    old = _engine(write_library(tmp_path / "v1"), url, clock)
    ids = _started(old, 400)
    old_version = old.definition_version("job")
    old.close()
    library = write_library(tmp_path / "v2", limit="12h", note=True)
    chance = random.Random(int(os.environ.get("PROPFLOW_SEED", "16")))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    partial = 0  # kills that left some cases moved and some not
    moved = 0
    watcher = sqlite3.connect(tmp_path / "cases.db")
    for _ in range(5):
        worker = subprocess.Popen(
            [sys.executable, str(WORKER), str(library), url, START.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None and worker.stdout.readline() == "moving\n"
        # Killed once a random share of the cases left has moved (read as the audit entries
        # committed so far), at any point of a page: a sleep of a chosen length would miss
        # the whole run on a machine fast enough to finish before it ends.
        target = moved + max(1, int((len(ids) - moved) * chance.uniform(0.05, 0.8)))
        while _moves_committed(watcher) < target and worker.poll() is None:
            time.sleep(chance.uniform(0.0, 0.0005))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        moved = _check_whole(library, url, clock, ids, old_version, finished=False)
        partial += 0 < moved < len(ids)
    done = subprocess.run(
        [sys.executable, str(WORKER), str(library), url, START.isoformat()],
        env=env,
        check=False,
    )
    assert done.returncode == 0
    assert _check_whole(library, url, clock, ids, old_version, finished=True) == len(ids)
    watcher.close()
    assert partial, "no kill landed in the middle of the migration"


def _moves_committed(database: sqlite3.Connection) -> int:
    """The migration's audit entries committed so far, read beside the writer (SQLite's WAL
    lets a reader in while the migration writes; a plain connection, to look often)."""
    found = database.execute("SELECT count(*) FROM case_log WHERE event = ?", (EVENT,))
    return int(found.fetchone()[0])


def _check_whole(
    library: Path,
    url: str,
    clock: ManualClock,
    ids: list[str],
    old_version: str,
    *,
    finished: bool,
) -> int:
    """Check every case is wholly on one version; how many are on the new one."""
    engine = _engine(library, url, clock)
    moved = 0
    new_version = engine.definition_version("job")
    try:
        for case_id in ids:
            case = engine.get_case(case_id)
            moves = _migrations(engine, case_id)
            breaches = [due for kind, due in _pending(engine, case_id) if kind == "breach"]
            deadline = _clock(engine, case_id)[1]
            if case.definition_version == old_version and not finished:
                assert (moves, deadline) == ([], START + timedelta(hours=24))
                assert breaches == [START + timedelta(hours=24)]
                continue
            assert case.definition_version == new_version
            assert len(moves) == 1 and case.data["note"] == "-"
            assert deadline == breaches[0] == START + timedelta(hours=12)
            assert len(breaches) == 1
            moved += 1
    finally:
        engine.close()
    return moved


# A scenario testing a migration ---------------------------------------------------------

SCENARIO = """\
scenario: urgent_limit_shortened
estate: ..
title: {zh-CN: 急修时限缩短为12小时, en: The urgent limit shortened to 12 hours}
start: 2026-03-10T14:00+08:00
actors:
  xiaoli: [receptionist]
steps:
  - open:
      process: repair
      as: pipe
      actor: xiaoli
      data: {scope: in_unit, unit: B-0902, owner_name: 林先生, urgency: urgent}
  - fire:
      event: record
      actor: xiaoli
      payload: {phone: "13700137000", content: 水管爆裂, location: 厨房, category: leak}
  - expect:
      sla:
        repair-urgent: {status: running, deadline: 2026-03-11T14:00+08:00}
  - after: 5h
    migrate: {estate: ../../shortened}
  - expect:
      sla:
        repair-urgent: {status: running, deadline: 2026-03-11T02:00+08:00}
      history: [open, record, migrate]
"""


def test_a_scenario_opens_on_the_old_files_migrates_and_expects(tmp_path: Path) -> None:
    """A scenario's ``migrate`` step moves its cases to an edited copy of its estate; the
    later steps see the new deadlines (and a wrong expectation after it fails)."""
    from engine.scenarios.runner import run_file

    for name in ("current", "shortened"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "estate.yaml").write_text("estate: mig\nextends: standard\n")
    rules = tmp_path / "shortened" / "rules"
    rules.mkdir()
    (rules / "urgent.yaml").write_text("time_limits:\n  repair-urgent:\n    limit: 12h\n")
    scenarios = tmp_path / "current" / "scenarios"
    scenarios.mkdir()
    (scenarios / "urgent.yaml").write_text(SCENARIO, encoding="utf-8")
    result = run_file(scenarios / "urgent.yaml")
    assert result.passed, (result.diagnostics, result.difference, result.crash)
    (scenarios / "urgent.yaml").write_text(
        SCENARIO.replace("2026-03-11T02:00", "2026-03-11T14:00"), encoding="utf-8"
    )
    failed = run_file(scenarios / "urgent.yaml")
    assert not failed.passed and failed.difference is not None
    assert failed.difference.step.verb == "expect"
