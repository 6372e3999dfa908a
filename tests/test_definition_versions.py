"""A definition version covers the process and its time limits: a running case keeps the
limits it was opened on until ``propflow migrate`` moves it, while new cases open on the
edited ones, and its timers fire from its stored version even where the library dropped the
limit. Calendars are not part of a version: a running case sees an estate's closed days as
they are now.

Each test runs on a copy of the Lakeside estate, edited as a consultant would (its rules
file), with real engines on one store (SQLite and PostgreSQL).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.migration import EVENT, migrate_cases
from tests.conftest import ROOT, run_cli

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Tuesday 10 March 2026, 14:00 in Shanghai: no holiday near.
START = datetime(2026, 3, 10, 14, 0, tzinfo=SHANGHAI)
DESK = Actor("li", {"receptionist"})
OPENING = {"scope": "in_unit", "unit": "B-0902", "owner_name": "林先生", "urgency": "urgent"}
RECORD = {"phone": "13700137000", "content": "水管爆裂", "location": "厨房", "category": "leak"}
URGENT = "repair-urgent"


def lakeside(tmp_path: Path, name: str, urgent: str | None = None) -> Path:
    """A copy of the Lakeside estate; with ``urgent``, its urgent-repair limit patched to
    that (``"null"`` deletes it)."""
    copy = tmp_path / name
    shutil.copytree(ROOT / "estates" / "lakeside", copy)
    shutil.rmtree(copy / "scenarios")
    if urgent is not None:
        rules = copy / "rules" / "repair.yaml"
        patch = f"  {URGENT}: null\n" if urgent == "null" else f"  {URGENT}:\n    limit: {urgent}\n"
        rules.write_text(rules.read_text(encoding="utf-8") + patch, encoding="utf-8")
    if urgent == "null":  # the timeliness indicator counts the other repair limits only
        kpis = copy / "rules" / "kpis.yaml"
        others = "[repair-general, repair-drain-leak, repair-light-lock, repair-major]"
        text = kpis.read_text(encoding="utf-8")
        assert text.count('    target: ">= 95%"\n') == 1
        text = text.replace(
            '    target: ">= 95%"\n', f'    target: ">= 95%"\n    limits: {others}\n'
        )
        kpis.write_text(text, encoding="utf-8")
    return copy


def _engine(estate: Path, url: str, clock: ManualClock) -> Engine:
    return Engine(estate=estate, store=url, clock=clock)


def _deadline(engine: Engine, case_id: str) -> datetime | None:
    (status,) = [s for s in engine.sla_status(case_id) if s.limit == URGENT]
    return status.deadline


def _breach_due(engine: Engine, case_id: str) -> list[datetime]:
    return [
        t.due_at
        for t in engine.store.pending_timers(case_id)
        if t.name == URGENT and t.kind == "breach"
    ]


def test_a_running_case_keeps_its_limits_and_new_cases_get_the_edited_ones(
    tmp_path: Path, store_url: str
) -> None:
    clock = ManualClock(START)
    old = _engine(lakeside(tmp_path, "before"), store_url, clock)
    waiting = old.open_case("repair", OPENING, DESK).id  # its urgent clock not started yet
    recorded = old.open_case("repair", OPENING, DESK).id
    old.fire(recorded, "record", DESK, RECORD)
    opened_on = old.definition_version("repair")
    old.close()

    clock.advance(timedelta(hours=1))
    new = _engine(lakeside(tmp_path, "after", urgent="12h"), store_url, clock)
    try:
        assert new.definition_version("repair") != opened_on  # only a limit changed
        assert new.definition("repair").version == old.definition("repair").version
        # (a) a clock the running case starts now counts the limit it was opened with
        new.fire(waiting, "record", DESK, RECORD)
        assert _deadline(new, waiting) == clock.now() + timedelta(hours=24)
        assert _breach_due(new, waiting) == [clock.now() + timedelta(hours=24)]
        assert new.get_case(waiting).definition_version == opened_on
        # (b) a new case opens on the edited limit
        fresh = new.open_case("repair", OPENING, DESK).id
        new.fire(fresh, "record", DESK, RECORD)
        assert new.get_case(fresh).definition_version == new.definition_version("repair")
        assert _deadline(new, fresh) == clock.now() + timedelta(hours=12)
    finally:
        new.close()


def test_migrate_moves_a_case_onto_an_edited_limit(tmp_path: Path, store_url: str) -> None:
    clock = ManualClock(START)
    old = _engine(lakeside(tmp_path, "before"), store_url, clock)
    case_id = old.open_case("repair", OPENING, DESK).id
    old.fire(case_id, "record", DESK, RECORD)
    opened_on = old.definition_version("repair")
    old.close()

    clock.advance(timedelta(hours=2))
    new = _engine(lakeside(tmp_path, "after", urgent="12h"), store_url, clock)
    try:
        # (c) the dry run: another version, and the clock's deadline re-planned
        dry = migrate_cases(new, "repair", dry_run=True)
        assert dry.moved == 1
        (move,) = dry.examples.values()
        assert (move.from_version, move.to_version) == (
            opened_on,
            new.definition_version("repair"),
        )
        (clock_move,) = [c for c in move.clocks if c.limit == URGENT]
        assert (clock_move.action, clock_move.ran) == ("kept", timedelta(hours=2))
        assert clock_move.deadline_before == START + timedelta(hours=24)
        assert clock_move.deadline_after == START + timedelta(hours=12)
        assert new.get_case(case_id).definition_version == opened_on  # nothing written
        assert _deadline(new, case_id) == START + timedelta(hours=24)

        # (d) moved: the case runs on the edited limit, and a rerun moves nothing
        result = migrate_cases(new, "repair")
        assert (result.moved, result.refused, result.skipped) == (1, [], [])
        assert new.get_case(case_id).definition_version == new.definition_version("repair")
        assert _deadline(new, case_id) == START + timedelta(hours=12)
        assert _breach_due(new, case_id) == [START + timedelta(hours=12)]
        (entry,) = [e.actions[0][EVENT] for e in new.history(case_id) if e.event == EVENT]
        assert (entry["from"], entry["to"]) == (opened_on, new.definition_version("repair"))
        assert migrate_cases(new, "repair").moved == 0
        clock.set(START + timedelta(hours=12))
        assert new.tick().fired >= 1
        assert f"breach:{URGENT}" in [e.event for e in new.history(case_id)]
    finally:
        new.close()


def test_the_dry_run_command_names_both_versions(tmp_path: Path) -> None:
    """``propflow migrate --dry-run`` after a limit-only edit says from which version to
    which, not "same version → same version"."""
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = ManualClock(datetime.now(SHANGHAI) - timedelta(hours=1))
    old = _engine(lakeside(tmp_path, "before"), db, clock)
    case_id = old.open_case("repair", OPENING, DESK).id
    old.fire(case_id, "record", DESK, RECORD)
    opened_on = old.definition_version("repair")
    old.close()
    edited = lakeside(tmp_path, "after", urgent="12h")
    new = _engine(edited, db, clock)
    moved_to = new.definition_version("repair")
    new.close()

    shown = run_cli(["migrate", "--estate", str(edited), "--db", db, "--dry-run", "--each"])
    assert shown.exit_code == 0, shown.output
    assert opened_on in shown.output and moved_to in shown.output
    assert URGENT in shown.output


def test_a_library_that_dropped_the_limit_still_fires_the_cases_timer(
    tmp_path: Path, store_url: str
) -> None:
    """(e) The timer of a limit the current library no longer has fires from the case's
    stored version, at the deadline it was planned with, once; new cases get no such
    clock."""
    clock = ManualClock(START)
    old = _engine(lakeside(tmp_path, "before"), store_url, clock)
    case_id = old.open_case("repair", OPENING, DESK).id
    old.fire(case_id, "record", DESK, RECORD)
    old.close()

    dropped = _engine(lakeside(tmp_path, "after", urgent="null"), store_url, clock)
    try:
        assert all(limit.id != URGENT for limit in dropped.time_limits("repair"))
        assert _deadline(dropped, case_id) == START + timedelta(hours=24)
        clock.set(START + timedelta(hours=24, minutes=1))
        tick = dropped.tick()
        assert tick.held == 0 and tick.fired >= 1
        dropped.tick()
        events = [e.event for e in dropped.history(case_id)]
        assert events.count(f"breach:{URGENT}") == 1
        fresh = dropped.open_case("repair", OPENING, DESK).id
        dropped.fire(fresh, "record", DESK, RECORD)
        assert all(s.limit != URGENT for s in dropped.sla_status(fresh))
    finally:
        dropped.close()


def test_calendars_stay_live_for_running_cases(
    tmp_path: Path, make_store_url: Callable[[], str]
) -> None:
    """A closed day the estate adds after a case opened is no new version: the general
    repair clock (3 working days on the office calendar) the running case starts afterwards
    skips the day, one working day later than the same clock started before the edit."""
    url = make_store_url()
    clock = ManualClock(START)
    old = _engine(lakeside(tmp_path, "before"), url, clock)
    general = {**OPENING, "urgency": "general"}
    civil = {**RECORD, "category": "civil"}
    earlier, running = (old.open_case("repair", general, DESK).id for _ in range(2))
    old.fire(earlier, "record", DESK, civil)
    opened_on = old.definition_version("repair")
    old.close()

    closed = lakeside(tmp_path, "closed")
    estate = closed / "estate.yaml"
    text = estate.read_text(encoding="utf-8")
    assert "\nclosed: [2026-03-20]" in text
    estate.write_text(text.replace("[2026-03-20]", "[2026-03-11, 2026-03-20]"), encoding="utf-8")
    new = _engine(closed, url, clock)
    try:
        assert new.definition_version("repair") == opened_on
        new.fire(running, "record", DESK, civil)
        before, after = (
            next(s.deadline for s in new.sla_status(case) if s.limit == "repair-general")
            for case in (earlier, running)
        )
        # Tuesday 14:00 + 3 working days: Friday; with Wednesday closed, Monday.
        assert before == datetime(2026, 3, 13, 14, 0, tzinfo=SHANGHAI)
        assert after == datetime(2026, 3, 16, 14, 0, tzinfo=SHANGHAI)
    finally:
        new.close()


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
  - open:
      process: repair
      as: later
      actor: xiaoli
      data: {scope: in_unit, unit: B-0903, owner_name: 王女士, urgency: urgent}
  - fire:
      case: pipe
      event: record
      actor: xiaoli
      payload: {phone: "13700137000", content: 水管爆裂, location: 厨房, category: leak}
  - expect:
      case: pipe
      sla:
        repair-urgent: {status: running, deadline: 2026-03-11T14:00+08:00}
  - after: 5h
    migrate: {estate: ../../after}
  - expect:
      case: pipe
      sla:
        repair-urgent: {status: running, deadline: 2026-03-11T02:00+08:00}
      history: [open, record, migrate]
  - fire:
      case: later
      event: record
      actor: xiaoli
      payload: {phone: "13700137001", content: 水管渗漏, location: 卫生间, category: leak}
  - expect:
      case: later
      sla:
        repair-urgent: {status: running, deadline: 2026-03-11T07:00+08:00}
"""


def test_a_lakeside_scenario_migrates_a_limit_only_edit(tmp_path: Path) -> None:
    """A scenario on Lakeside opens cases on its files, migrates to a copy with the urgent
    limit shortened (the only edit), and the later steps see the new limit: on the clock the
    move re-planned and on the one a moved case starts afterwards."""
    from engine.scenarios.runner import run_file

    before = lakeside(tmp_path, "before")
    lakeside(tmp_path, "after", urgent="12h")
    scenarios = before / "scenarios"
    scenarios.mkdir()
    (scenarios / "urgent.yaml").write_text(SCENARIO, encoding="utf-8")
    result = run_file(scenarios / "urgent.yaml")
    assert result.passed, (result.diagnostics, result.difference, result.crash)
