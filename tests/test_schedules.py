"""Schedules: cases opened on a calendar, exactly once per period, whatever the downtime.

A year of weekly meetings on a simulated clock with the worker down for two and a half weeks
in June opens 52, 50 or 49 meetings by the catch-up policy (all, once, skip) and never one
period twice, also when two workers tick the same store at the same moment. The date rules
(last working day minus two, day 31 in a 30-day month, quarters, holidays, timezones,
``between``) are checked on the pure timetable, the shipped monthly report and weekly
meeting on the real calendar, and every mistake in a schedule is reported at its place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import engine.runtime.calendar_jobs as jobs_module
from engine.checks.validation import validate_paths
from engine.model import CalendarDef, ScheduleDef
from engine.runtime import Actor, Engine, ManualClock
from engine.time import WorkingCalendar
from engine.time.schedules import Timetable, key_start, period_key
from tests.conftest import validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent

OFFICE = WorkingCalendar.from_definition(
    CalendarDef(id="office", hours={"mon-fri": ("08:30-17:30",)}, holidays="cn")
)
ALWAYS = WorkingCalendar.from_definition(CalendarDef(id="24x7", hours="always"))


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


def timetable(calendar: WorkingCalendar = ALWAYS, **spec: Any) -> Timetable:
    return Timetable(ScheduleDef.model_validate({"id": "s", "process": "p", **spec}), calendar)


def dues(table: Timetable, start: datetime, count: int) -> list[datetime]:
    found = table.occurrences(from_due=start)
    return [next(found).due for _ in range(count)]


# The timetable ---------------------------------------------------------------------------------


def test_period_keys_round_trip() -> None:
    for kind, day, key in [
        ("daily", date(2026, 3, 2), "2026-03-02"),
        ("weekly", date(2026, 3, 2), "2026-W10"),
        ("weekly", date(2027, 1, 4), "2027-W01"),
        ("monthly", date(2026, 3, 1), "2026-03"),
        ("quarterly", date(2026, 10, 1), "2026-Q4"),
        ("half_yearly", date(2026, 7, 1), "2026-H2"),
        ("yearly", date(2026, 1, 1), "2026"),
    ]:
        assert period_key(kind, day) == key
        assert key_start(kind, key) == day


def test_weekly_on_monday_at_nine_local_time() -> None:
    table = timetable(every="weekly", on="mon", at="09:00")
    assert dues(table, at(2026, 3, 4), 2) == [at(2026, 3, 9, 9), at(2026, 3, 16, 9)]
    utc = Timetable(table.schedule, WorkingCalendar.from_definition(
        CalendarDef(id="utc", hours="always", timezone="UTC")))  # fmt: skip
    assert dues(utc, at(2026, 3, 4), 1)[0] == at(2026, 3, 9, 17)  # 09:00 UTC


def test_monthly_two_working_days_before_the_last_working_day() -> None:
    table = timetable(OFFICE, every="monthly", day="last_workday", minus=2, at="17:00")
    # March 2026 ends on a Tuesday (31st): last working day 31, two before: Friday 27th.
    # April ends Thursday 30th → Tuesday 28th. September 30 is a Wednesday → Monday 28th.
    assert dues(table, at(2026, 3, 1), 3) == [
        at(2026, 3, 27, 17), at(2026, 4, 28, 17), at(2026, 5, 27, 17)
    ]  # fmt: skip
    assert dues(table, at(2026, 9, 1), 1) == [at(2026, 9, 28, 17)]


def test_day_31_is_the_last_day_of_shorter_months() -> None:
    table = timetable(every="monthly", day=31)
    assert [d.date() for d in dues(table, at(2026, 1, 1), 4)] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)
    ]  # fmt: skip


def test_quarterly_on_the_first_of_january_april_july_october() -> None:
    table = timetable(every="quarterly", day=1, at="09:00")
    assert [d.date() for d in dues(table, at(2026, 2, 1), 4)] == [
        date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1), date(2027, 1, 1)
    ]  # fmt: skip
    end = timetable(every="quarterly", day="last", month=3)
    assert dues(end, at(2026, 1, 1), 1)[0].date() == date(2026, 3, 31)


def test_half_yearly_and_yearly_fall_in_the_periods_month() -> None:
    half = timetable(every="half_yearly", day=10, at="09:00")
    occurrences = half.occurrences(from_due=at(2026, 2, 1))
    first, second = next(occurrences), next(occurrences)
    assert (first.period, first.previous, first.due) == ("2026-H2", "2026-H1", at(2026, 7, 10, 9))
    assert (second.period, second.due) == ("2027-H1", at(2027, 1, 10, 9))
    june = timetable(every="half_yearly", day="last", month=6)
    assert [d.date() for d in dues(june, at(2026, 1, 1), 2)] == [
        date(2026, 6, 30), date(2026, 12, 31)
    ]  # fmt: skip
    yearly = timetable(every="yearly", month=2, day=31)
    found = yearly.occurrences(from_due=at(2026, 1, 1))
    assert [(o.period, o.due.date()) for o in (next(found), next(found))] == [
        ("2026", date(2026, 2, 28)), ("2027", date(2027, 2, 28))
    ]  # fmt: skip


def test_working_days_only_moves_within_the_period_or_skips_it() -> None:
    weekly = timetable(OFFICE, every="weekly", on="mon", at="09:00", workdays_only=True)
    # Spring Festival 2026: 15–23 February are off. The week of the 16th has no working day
    # (no meeting); Monday the 23rd is off, so that week meets on Tuesday the 24th.
    assert dues(weekly, at(2026, 2, 10), 3) == [
        at(2026, 2, 24, 9), at(2026, 3, 2, 9), at(2026, 3, 9, 9)
    ]  # fmt: skip
    monthly = timetable(OFFICE, every="monthly", day=1, at="09:00", workdays_only=True)
    # 1 January is a holiday; 4 January 2026 (a Sunday) is a make-up working day.
    assert dues(monthly, at(2025, 12, 2), 3) == [
        at(2026, 1, 4, 9), at(2026, 2, 2, 9), at(2026, 3, 2, 9)
    ]  # fmt: skip
    daily = timetable(OFFICE, every="daily", at="09:00", workdays_only=True)
    assert [d.date() for d in dues(daily, at(2026, 2, 13), 3)] == [
        date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 24)
    ]  # fmt: skip


def test_daily_between_dates_on_some_weekdays() -> None:
    table = timetable(every="daily", at="08:00", on=["tue", "wed", "thu", "fri", "sat", "sun"],
                      between=["2026-03-01", "2026-03-08"])  # fmt: skip
    got = [o.due.date() for o in table.occurrences(from_due=at(2026, 2, 1))]
    assert got == [date(2026, 3, 1), *(date(2026, 3, d) for d in range(3, 9))]


# A year on a simulated clock -------------------------------------------------------------------

MEET = """\
process: meet
title: {zh-CN: 例会}
roles: {assistant: {label: {zh-CN: 经理助理}}}
fields:
  meeting_at: {type: datetime, required: true, label: {zh-CN: 会议时间}}
  week: {type: text, label: {zh-CN: 周次}}
states:
  scheduled: {initial: true, label: {zh-CN: 待召开}}
  closed: {final: true, label: {zh-CN: 已结束}}
events:
  close: {from: scheduled, to: closed, roles: [assistant], label: {zh-CN: 结束}}
"""

RULES = """\
calendars:
  24x7: {{hours: always, timezone: Asia/Shanghai}}
schedules:
  weekly:
    process: meet
    every: weekly
    on: mon
    at: "09:00"
    catch_up: {policy}
    actor_role: assistant
    data: {{meeting_at: =due, week: =period}}
"""


def library(tmp_path: Path, policy: str) -> Path:
    directory = tmp_path / f"lib-{policy}"
    directory.mkdir()
    (directory / "meet.yaml").write_text(MEET, encoding="utf-8")
    (directory / "rules.yaml").write_text(RULES.format(policy=policy), encoding="utf-8")
    return directory


#: The worker is down from Monday 1 June, 08:00 to Wednesday 17 June, 12:00: the meetings of
#: 1, 8 and 15 June come due while nothing ticks.
DOWN = (at(2026, 6, 1, 8), at(2026, 6, 17, 12))
MONDAYS = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(52)]


def run_year(engine: Engine, clock: ManualClock) -> int:
    opened = 0
    while clock.now() < at(2027, 1, 1):
        if not DOWN[0] <= clock.now() < DOWN[1]:
            opened += engine.tick().opened
        clock.advance(timedelta(hours=3))
    return opened


@pytest.mark.parametrize(
    ("policy", "missing"),
    [("all", set()), ("once", {date(2026, 6, 1), date(2026, 6, 8)}),
     ("skip", {date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 15)})],
)  # fmt: skip
def test_a_year_of_weekly_meetings_with_downtime(
    tmp_path: Path, policy: str, missing: set[date]
) -> None:
    clock = ManualClock(at(2026, 1, 1))
    engine = Engine(library=library(tmp_path, policy), store="sqlite://", clock=clock)
    opened = run_year(engine, clock)
    cases = engine.query_cases(process="meet", limit=1000)
    assert opened == len(cases) == 52 - len(missing)
    meetings = sorted(datetime.fromisoformat(c.data["meeting_at"]) for c in cases)
    assert len(set(meetings)) == len(meetings)  # never a period twice
    assert [m.date() for m in meetings] == [d for d in MONDAYS if d not in missing]
    assert {(m.hour, m.minute, m.utcoffset()) for m in meetings} == {(9, 0, timedelta(hours=8))}
    weeks = [c.data["week"] for c in cases]
    assert len(set(weeks)) == len(weeks)
    # Opened on time when the worker ran; the caught-up ones when it came back.
    late = [c for c in cases if c.opened_at - datetime.fromisoformat(c.data["meeting_at"])
            > timedelta(hours=3)]  # fmt: skip
    assert {c.opened_at for c in late} <= {DOWN[1]}
    assert len(late) == {"all": 3, "once": 1, "skip": 0}[policy]
    for case in cases:
        (opening,) = engine.history(case.id)
        assert (opening.actor_id, opening.role) == ("propflow", "system")
        assert {"schedule": "weekly", "period": case.data["week"]} in opening.actions
        assert case.assignee == "assistant"
    engine.close()


def test_two_workers_never_open_a_period_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    clock = ManualClock(at(2026, 3, 1))
    lib = library(tmp_path, "all")
    first, second = (Engine(library=lib, store=db, clock=clock) for _ in range(2))
    first.tick(), second.tick()  # both plan; nothing is due yet
    clock.set(at(2026, 3, 30, 10))  # five Mondays due (all are opened)
    real = jobs_module.due_schedules
    raced: list[int] = []

    def racing(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        if not raced:  # the other worker takes the same rows between our read and our write
            raced.append(-1)
            raced[0] = second.tick().opened
        return rows

    monkeypatch.setattr(jobs_module, "due_schedules", racing)
    assert first.tick().opened == 0
    assert raced == [5]
    monkeypatch.setattr(jobs_module, "due_schedules", real)
    # And truly concurrent ticks, from threads, over the next weeks.
    totals: list[int] = []
    for week in range(1, 5):
        clock.set(at(2026, 3, 30, 10) + timedelta(weeks=week))
        threads = [threading.Thread(target=lambda e=e: totals.append(e.tick().opened))
                   for e in (first, second)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(totals) == 4
    cases = first.query_cases(process="meet", limit=100)
    assert len(cases) == 9 == len({c.data["week"] for c in cases})
    first.close(), second.close()


# The shipped library -----------------------------------------------------------------------------


#: The maintenance cycles and inspections of rules/equipment_check.yaml.
EQUIPMENT_SCHEDULES = (
    "lift-maintenance-monthly",
    "power-maintenance-monthly",
    "escalator-maintenance-monthly",
    "lighting-maintenance-monthly",
    "building-automation-test-monthly",
    "water-supply-maintenance-quarterly",
    "aircon-maintenance-quarterly",
    "stairs-handrails-maintenance-quarterly",
    "lift-full-inspection-quarterly",
    "daily-self-check",
    "specialist-check-first-half",
    "specialist-check-second-half",
    "monthly-overall-evaluation",
    "quality-check-quarterly",
    "fire-systems-maintenance-half-yearly",
    "heating-maintenance-yearly",
)


@pytest.fixture
def shipped() -> Iterator[tuple[Engine, ManualClock]]:
    clock = ManualClock(at(2025, 12, 15))
    engine = Engine(validated_library(), store="sqlite://", clock=clock)
    yield engine, clock
    engine.close()


def test_monthly_report_on_the_first_working_day_for_the_month_before(
    shipped: tuple[Engine, ManualClock],
) -> None:
    engine, clock = shipped
    engine.tick()
    for day in (date(2026, 1, 3), date(2026, 1, 4), date(2026, 2, 2), date(2026, 3, 2)):
        clock.set(datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=9))
        engine.tick()
    reports = sorted(engine.query_cases(process="monthly_report"), key=lambda c: c.opened_at)
    assert [(r.data["month"], r.opened_at.astimezone(SHANGHAI)) for r in reports] == [
        ("2025-12", at(2026, 1, 4, 9)), ("2026-01", at(2026, 2, 2, 9)),
        ("2026-02", at(2026, 3, 2, 9)),
    ]  # fmt: skip
    assert all(r.assignee == "receptionist" and r.state == "compiling" for r in reports)
    notices = [(o.kind, o.role) for r in reports for o in engine.outbox(r.id)]
    assert notices == [("notify", "receptionist")] * 3


def test_weekly_meeting_skips_the_spring_festival_week(
    shipped: tuple[Engine, ManualClock],
) -> None:
    engine, clock = shipped
    clock.set(at(2026, 2, 1))
    engine.tick()
    while clock.now() < at(2026, 3, 3):
        clock.advance(timedelta(hours=1))
        engine.tick()
    meetings = sorted(datetime.fromisoformat(c.data["meeting_at"])
                      for c in engine.query_cases(process="meeting"))  # fmt: skip
    assert meetings == [at(2026, 2, 2, 9), at(2026, 2, 9, 9), at(2026, 2, 24, 9), at(2026, 3, 2, 9)]
    case = engine.query_cases(process="meeting")[0]
    assert (case.state, case.assignee, case.data["period"]) == ("scheduled", "assistant", "weekly")


def test_an_estate_adds_daily_meetings_during_its_move_in_peak(tmp_path: Path) -> None:
    estate = tmp_path / "estates" / "jinbi"
    (estate / "rules").mkdir(parents=True)
    (estate / "estate.yaml").write_text(
        "estate: jinbi\ntitle: {zh-CN: 金碧花园}\ncalendar: office\n", encoding="utf-8"
    )
    (estate / "rules" / "meeting-peak.yaml").write_text(PEAK, encoding="utf-8")
    assert validate_paths([estate]).errors == 0
    clock = ManualClock(at(2026, 2, 28))
    engine = Engine(store="sqlite://", clock=clock, estate=estate)
    engine.tick()
    while clock.now() < at(2026, 3, 16):
        clock.advance(timedelta(hours=2))
        engine.tick()
    days = sorted(datetime.fromisoformat(c.data["meeting_at"]).date()
                  for c in engine.query_cases(process="meeting", limit=100))  # fmt: skip
    # Weekly on Mondays (2 and 9 March, and 16 March once it comes), daily Tuesday to
    # Sunday from 1 to 10 March.
    assert days == [date(2026, 3, d) for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)]
    daily = [c for c in engine.query_cases(process="meeting", limit=100)
             if c.data["period"] == "daily"]  # fmt: skip
    assert len(daily) == 8 and all(c.estate == "jinbi" for c in daily)
    engine.close()


PEAK = """\
schedules:
  meeting-daily-move-in:
    label: {zh-CN: 入伙期间每天召开例会, en: Daily meeting during the move-in}
    process: meeting
    every: daily
    on: [tue, wed, thu, fri, sat, sun]
    between: [2026-03-01, 2026-03-10]
    at: "08:00"
    calendar: 24x7
    catch_up: skip
    actor_role: assistant
    data: {meeting_at: =due, period: daily}
"""


# While the estate is busy ------------------------------------------------------------------------

BUSY_LIBRARY = {
    "project.yaml": """\
process: project
title: {zh-CN: 项目}
roles: {manager: {label: {zh-CN: 经理}}}
fields:
  units: {type: int, label: {zh-CN: 户数}}
states:
  preparing: {initial: true, label: {zh-CN: 筹备中}}
  busy: {label: {zh-CN: 进行中}}
  done: {final: true, label: {zh-CN: 已结束}}
events:
  start: {from: preparing, to: busy, roles: [manager], label: {zh-CN: 开始}}
  finish: {from: busy, to: done, roles: [manager], label: {zh-CN: 结束}}
""",
    "meet.yaml": MEET,
    "rules.yaml": """\
calendars:
  24x7: {hours: always, timezone: Asia/Shanghai}
schedules:
  while-busy:
    process: meet
    every: daily
    at: "08:00"
    while: {process: project, if: "state == 'busy' and units >= 100"}
    catch_up: once
    data: {meeting_at: =due, week: busy}
  while-two-open:
    process: meet
    every: daily
    at: "08:00"
    while: {process: project, at_least: 2}
    catch_up: all
    data: {meeting_at: =due, week: two}
""",
}


def busy_library(tmp_path: Path) -> Path:
    directory = tmp_path / "busy"
    directory.mkdir()
    for name, text in BUSY_LIBRARY.items():
        (directory / name).write_text(text, encoding="utf-8")
    assert validate_paths([directory]).errors == 0
    return directory


def test_a_daily_schedule_opens_cases_only_while_its_condition_holds(tmp_path: Path) -> None:
    clock = ManualClock(at(2026, 3, 1))
    engine = Engine(library=busy_library(tmp_path), store="sqlite://", clock=clock)
    manager = Actor(id="zhou", roles=frozenset({"manager"}))
    # Day by day in March, ticking every two hours, the worker down from 14 March 06:00 to
    # 16 March 10:00. Project A (120 units) is busy from 10 March 12:00 to 20 March 12:00;
    # project B (80 units: too few for the first schedule) is open from 18 to 25 March.
    plan = {
        at(2026, 3, 5, 12): lambda: engine.open_case("project", {"units": 120}, manager).id,
        at(2026, 3, 10, 12): lambda: engine.fire(ids["A"], "start", manager),
        at(2026, 3, 18, 12): lambda: engine.open_case("project", {"units": 80}, manager).id,
        at(2026, 3, 19, 12): lambda: engine.fire(ids["B"], "start", manager),
        at(2026, 3, 20, 12): lambda: engine.fire(ids["A"], "finish", manager),
        at(2026, 3, 25, 12): lambda: engine.fire(ids["B"], "finish", manager),
    }
    names = iter("A_B___")
    ids: dict[str, str] = {}
    down = (at(2026, 3, 14, 6), at(2026, 3, 16, 10))
    while clock.now() < at(2026, 4, 1):
        if clock.now() in plan:
            result = plan[clock.now()]()
            name = next(names)
            if name != "_":
                assert isinstance(result, str)
                ids[name] = result
        if not down[0] <= clock.now() < down[1]:
            engine.tick()
        clock.advance(timedelta(hours=2))
    meetings = engine.query_cases(process="meet", limit=100)
    by_kind = {
        kind: sorted(datetime.fromisoformat(c.data["meeting_at"]).day for c in meetings
                     if c.data["week"] == kind)
        for kind in ("busy", "two")
    }  # fmt: skip
    # 10 March 08:00 came before the start; 14 and 15 March fell in the downtime and only
    # the latest due period (16 March) is opened then; 20 March 08:00 is before the finish.
    assert by_kind["busy"] == [11, 12, 13, 16, 17, 18, 19, 20]
    # Two projects are open (whatever their state) on 19 and 20 March at 08:00 only.
    assert by_kind["two"] == [19, 20]
    assert all(c.estate == engine.estate for c in meetings)
    engine.close()


def test_the_move_in_peak_opens_a_meeting_every_day_but_monday(
    shipped: tuple[Engine, ManualClock],
) -> None:
    engine, clock = shipped
    clock.set(at(2026, 3, 2, 9, 30))  # Monday 2 March: the schedules start after 09:00
    engine.tick()
    manager, clerk, engineering = (
        Actor(id=role, roles=frozenset({role})) for role in ("manager", "clerk", "engineering")
    )
    project = engine.open_case(
        "handover_project", {"project_name": "金碧花园3栋", "handover_date": "2026-04-20"}, manager
    )
    engine.fire(project.id, "takeover_inspection", engineering, {"takeover_issues": ["防水"]})
    engine.fire(project.id, "issue_plan", clerk)
    engine.fire(project.id, "receive_keys", engineering, {"keys_received_count": 2})

    def daily_meetings() -> list[int]:
        return sorted(datetime.fromisoformat(c.data["meeting_at"]).day
                      for c in engine.query_cases(process="meeting", limit=100)
                      if c.data["period"] == "daily")  # fmt: skip

    clock.set(at(2026, 3, 4, 10))  # Tuesday and Wednesday pass while still preparing
    engine.tick()
    assert daily_meetings() == []
    engine.fire(project.id, "start_handover", manager, {"units": ["3-101", "3-102"]})
    while clock.now() < at(2026, 3, 10, 10):
        clock.advance(timedelta(hours=1))
        engine.tick()
    # Thursday 5 to Sunday 8, then Tuesday 10; Monday 9 has the weekly meeting.
    assert daily_meetings() == [5, 6, 7, 8, 10]
    weekly = [c for c in engine.query_cases(process="meeting", limit=100)
              if c.data["period"] == "weekly"]  # fmt: skip
    assert [datetime.fromisoformat(c.data["meeting_at"]).day for c in weekly] == [9]
    assert {c.assignee for c in engine.query_cases(process="meeting", limit=100)} == {"assistant"}


# Mistakes ----------------------------------------------------------------------------------------

BAD = """\
schedules:
  s1:
    process: meetign
    every: weekly
    on: mondy
    at: "25:00"
    calendar: ofice
  s2:
    process: meeting
    every: monthly
    day: 32
    between: [2026-02-31, 2026-01-01]
    actor_role: asistant
    data: {meeting_at: =due, chiar: x, period: =date}
  s3:
    process: meeting
    every: quarterly
    day: last
    month: 4
    grace: 1 workday
    data: {period: weekly}
  s4:
    process: meeting
    every: weekly
    day: 3
    data: {meeting_at: =due}
  s5:
    process: meeting
    every: daily
    while: {process: handover_projct}
    data: {meeting_at: =due}
  s6:
    process: meeting
    every: daily
    while: {process: handover_project, if: "state == 'handingover' or actor.role == 'head'"}
    data: {meeting_at: =due}
  s7:
    process: meeting
    every: daily
    while: {process: handover_project, if: "state =="}
    data: {meeting_at: =due}
  s8:
    process: meeting
    every: half_yearly
    day: 1
    month: 7
    data: {meeting_at: =due}
  s9:
    process: meeting
    every: monthly
    day: 1
    month: 2
    data: {meeting_at: =due}
"""


def test_schedule_mistakes_are_reported_at_their_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    report = validate_paths([ROOT / "processes", ROOT / "rules", tmp_path / "bad.yaml"])
    found = {(d.span.line, d.span.column, d.code, d.message) for d in report.diagnostics
             if d.span.file.endswith("bad.yaml")}  # fmt: skip
    expected: list[tuple[int, int, str, str]] = [
        (3, 14, "PF510", "process 'meetign' is not defined in the files being checked "
         "(did you mean 'meeting'?"),
        (5, 9, "PF511", "'mondy' is not a weekday; write one of mon, tue, wed, thu, fri, sat, sun "
         "(did you mean 'mon'?"),
        (6, 9, "PF511", "'25:00' is not a time of day"),
        (7, 15, "PF510", "calendar 'ofice' is not defined (did you mean 'office'?"),
        (11, 10, "PF511", "day 32 does not exist in any month"),
        (12, 15, "PF511", "2026-02-31 is not a date: February 2026 has 28 days"),
        (13, 17, "PF510", "role 'asistant' is not defined in process 'meeting' "
         "(did you mean 'assistant'?"),
        (14, 30, "PF510", "process 'meeting' has no field 'chiar' (did you mean 'chair'?"),
        (14, 48, "PF510", "field 'period' of process 'meeting' is enum, so it cannot take "
         "'=date', the occurrence's date (date)"),
        (19, 12, "PF511", "month 4 of the quarter does not exist"),
        (20, 12, "PF511", "grace '1 workday' must be wall-clock time"),
        (16, 14, "PF510", "a 'meeting' case needs its required field 'meeting_at'"),
        (25, 5, "PF511", "'day' does not apply to a weekly schedule: use 'on' for the weekday"),
        (24, 12, "PF511", "a weekly schedule needs exactly one weekday in 'on'"),
        (30, 22, "PF510", "process 'handover_projct' is not defined in the files being checked "
         "(did you mean 'handover_project'?"),
        (35, 54, "PF112", "'handingover' is not a state of this process (states: closed, "
         "handing_over, preparing)"),
        (35, 85, "PF112", "'head' is not a role of this process"),  # no one acts: no role
        (40, 53, "PF110", "bad condition: the condition ends too early"),
        (46, 12, "PF511", "month 7 of the half-year does not exist; write 1 to 6"),
        (52, 5, "PF511", "'month' (of a quarter, half-year or year) does not apply to a monthly"),
    ]  # fmt: skip
    for line, column, code, text in expected:
        assert any(
            (ln, col, c) == (line, column, code) and text in message
            for ln, col, c, message in found
        ), (line, column, code, text, sorted(found))
    assert report.errors == len(found) == len(expected)


def test_the_shipped_schedules_validate_and_plan(shipped: tuple[Engine, ManualClock]) -> None:
    engine, _ = shipped
    assert set(engine.calendar_jobs.timetables) == {
        "weekly-meeting",
        "monthly-service-report",
        "weekly-repair-summary",
        "agreement-forms-month-end",
        "move-in-daily-meeting",
        "public-report-quarterly",
        "desk-log-daily-review",
        "desk-log-weekly-review",
        "paid-service-ledger-monthly",
        *EQUIPMENT_SCHEDULES,
        "service-survey-quarterly",
        "natural-disaster-drill-quarterly",
        "staff-attitude-survey-half-yearly",
        "management-survey-yearly",
        "equipment-failure-drill-half-yearly",
        "public-safety-drill-yearly",
    }
    engine.tick()
    from engine.store.linked import schedule_rows

    rows: Mapping[str, Any] = schedule_rows(engine.store, "standard")
    assert rows["weekly-meeting"].next_due == at(2025, 12, 15, 9)
    assert rows["monthly-service-report"].next_due == at(2026, 1, 4, 9)
    # 1 January is a holiday; Sunday 4 January a make-up working day: the quarter's first.
    assert rows["public-report-quarterly"].next_due == at(2026, 1, 4, 9)
    assert rows["weekly-repair-summary"].next_due == at(2025, 12, 15, 9)
    # The last working day of December 2025 is Wednesday the 31st; two before it: Monday 29th.
    assert rows["agreement-forms-month-end"].next_due == at(2025, 12, 29, 9)
    assert rows["desk-log-daily-review"].next_due == at(2025, 12, 15, 17)
    assert rows["desk-log-weekly-review"].next_due == at(2025, 12, 19, 16)
    assert rows["paid-service-ledger-monthly"].next_due == at(2026, 1, 4, 9)
    # Half-years and years: the period's month, its day moved to the next working day.
    # 10 January 2026 is a Saturday: Monday the 12th.
    assert rows["fire-systems-maintenance-half-yearly"].next_due == at(2026, 1, 12, 9)
    # 1 December 2025 (the second half-year's 6th month) has passed: 1 June 2026, a Monday.
    assert rows["staff-attitude-survey-half-yearly"].next_due == at(2026, 6, 1, 9)
    # 15 October 2025 has passed: 15 April 2026.
    assert rows["equipment-failure-drill-half-yearly"].next_due == at(2026, 4, 15, 9)
    # 1 November 2026 is a Sunday: Monday the 2nd.
    assert rows["management-survey-yearly"].next_due == at(2026, 11, 2, 9)
    assert rows["public-safety-drill-yearly"].next_due == at(2026, 9, 15, 9)
    # Saturday 10 October 2026 is a make-up working day after the National Day holiday.
    assert rows["heating-maintenance-yearly"].next_due == at(2026, 10, 10, 9)


TALLY_LIBRARY = {
    "visit.yaml": """\
process: visit
title: {zh-CN: 走访}
roles: {clerk: {label: {zh-CN: 文员}}}
fields:
  note: {type: text, label: {zh-CN: 备注}}
states:
  open: {initial: true, label: {zh-CN: 进行中}}
  done: {final: true, label: {zh-CN: 已完成}}
events:
  finish: {from: open, to: done, roles: [clerk], label: {zh-CN: 完成}}
""",
    "tally.yaml": """\
process: tally
title: {zh-CN: 周统计}
roles: {clerk: {label: {zh-CN: 文员}}}
fields:
  week: {type: text, label: {zh-CN: 周次}}
  visits: {type: int, min: 0, max: 1, label: {zh-CN: 走访数}}
states:
  open: {initial: true, label: {zh-CN: 待核对}}
  done: {final: true, label: {zh-CN: 已核对}}
events:
  check: {from: open, to: done, roles: [clerk], label: {zh-CN: 核对}}
""",
    "rules.yaml": """\
calendars:
  24x7: {hours: always, timezone: Asia/Shanghai}
kpis:
  visits-done:
    label: {zh-CN: 走访完成率}
    process: visit
    when: {enter: done}
    counts: {no_event: [finish]}
    period: week
    target: ">= 50%"
schedules:
  weekly-tally:
    process: tally
    every: weekly
    on: mon
    at: "09:00"
    catch_up: once
    actor_role: clerk
    data: {week: =previous_period}
    figures:
      visits: {kpi: visits-done, count: opened}
""",
}


def test_a_schedule_that_cannot_open_its_case_says_why_in_chinese(tmp_path: Path) -> None:
    """A week's figure beyond its field's bound: no case, a notice in Chinese (as every
    notice is), the reason in Chinese too, whatever the worker speaks."""
    directory = tmp_path / "tally"
    directory.mkdir()
    for name, text in TALLY_LIBRARY.items():
        (directory / name).write_text(text, encoding="utf-8")
    assert validate_paths([directory]).errors == 0
    clock = ManualClock(at(2026, 3, 2, 8))
    engine = Engine(library=directory, store="sqlite://", clock=clock)
    clerk = Actor(id="li", roles=frozenset({"clerk"}))
    engine.tick()
    for _ in range(3):
        engine.open_case("visit", {}, clerk)
    clock.advance(timedelta(days=7, hours=2))
    assert engine.tick().opened == 0
    [notice] = [item for item in engine.outbox() if item.kind == "schedule_failed"]
    assert notice.message == (
        "定时任务“weekly-tally”未能为 2026-W11 开立案件：字段“visits”（int）：3 应不大于 1"
    )
    assert notice.payload == {"schedule": "weekly-tally", "period": "2026-W11"}
    assert engine.query_cases(process="tally") == []
    engine.close()
