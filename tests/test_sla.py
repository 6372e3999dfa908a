"""Time limits on cases: SLA clocks, warnings, breaches, tiers, extensions and reminders.

Most tests run a small process (``job``) with the one time limit under test, written into
``tmp_path``, so every figure is exact and nothing else fires; the tests of the shipped rules
(repair, handover, meeting service) open real cases on the standard library. The clock is a
:class:`ManualClock` and timers fire only when a test calls ``engine.tick()``, so days of a
case's life run in milliseconds.

The working calendar is ``office``: Monday to Friday 08:30-12:00 and 13:30-17:30 in Shanghai,
with the statutory holidays. In 2026 the Spring Festival holiday runs from Sunday 15 to Monday
23 February, and Saturday 14 February is a make-up working day.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.model import TimeLimitDef
from engine.runtime import Actor, Engine, ExtensionRefused, ManualClock
from engine.sla import (
    ClockStatus,
    ExtensionDenied,
    ExtensionRequest,
    GrantedExtension,
    LimitPlanner,
    Moment,
    grant_extension,
)
from engine.store import TimerRecord
from engine.time import WorkingCalendar
from engine.time.hours import ALWAYS
from tests.conftest import validated_library

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    """A moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


#: Monday 2 March 2026, 09:00: an ordinary working morning.
MONDAY = at(3, 2, 9)

CLERK = Actor("li.jiedai", {"clerk"})
HEAD = Actor("sun.fuzeren", {"head"})
MANAGER = Actor("zhou.zhuren", {"manager"})
OWNER = Actor("wang.yezhu", {"owner"})

JOB = """\
process: job
title: {zh-CN: 工单, en: Job}
roles:
  clerk: {label: {zh-CN: 接待员, en: Clerk}}
  head: {label: {zh-CN: 负责人, en: Head}}
  manager: {label: {zh-CN: 主任, en: Manager}}
  owner: {label: {zh-CN: 业主, en: Owner}}
fields:
  unit: {type: text, label: {zh-CN: 房号, en: Unit}}
  priority:
    type: enum
    values: [high, normal]
    default: normal
    label: {zh-CN: 优先级, en: Priority}
  fee: {type: money, label: {zh-CN: 费用, en: Fee}}
  handover_date: {type: date, label: {zh-CN: 交楼日期, en: Handover date}}
  overdue: {type: bool, default: false, label: {zh-CN: 已超时, en: Overdue}}
states:
  new: {initial: true, label: {zh-CN: 新建, en: New}}
  working: {label: {zh-CN: 处理中, en: Working}}
  waiting: {label: {zh-CN: 等待业主, en: Waiting for the owner}}
  review: {label: {zh-CN: 复核, en: Review}}
  session: {label: {zh-CN: 会议中, en: In session}}
  escalated: {label: {zh-CN: 已升级, en: Escalated}}
  done: {final: true, label: {zh-CN: 完成, en: Done}}
events:
  begin: {from: new, to: working, roles: [clerk], label: {zh-CN: 开始, en: Begin}}
  wait: {from: working, to: waiting, roles: [clerk], label: {zh-CN: 等待业主, en: Wait}}
  resume: {from: waiting, to: working, roles: [clerk, owner], label: {zh-CN: 继续, en: Resume}}
  submit: {from: working, to: review, roles: [clerk], label: {zh-CN: 提交, en: Submit}}
  reopen: {from: review, to: working, roles: [head], label: {zh-CN: 重开, en: Reopen}}
  ping:
    from: [new, working, waiting, review]
    roles: [clerk]
    accepts: [unit, priority, fee, handover_date]
    label: {zh-CN: 备注, en: Note}
  start_session:
    from: [new, working]
    to: session
    roles: [clerk]
    label: {zh-CN: 开会, en: Start session}
  end_session: {from: session, to: working, roles: [clerk], label: {zh-CN: 散会, en: End session}}
  escalate_job:
    from: [working, waiting]
    to: escalated
    roles: [system]
    label: {zh-CN: 升级, en: Escalate}
  finish:
    from: [new, working, waiting, review, session, escalated]
    to: done
    roles: [clerk, head]
    label: {zh-CN: 完成, en: Finish}
"""

CALENDARS = """\
calendars:
  office:
    label: {zh-CN: 办公时间, en: Office hours}
    timezone: Asia/Shanghai
    hours: {mon-fri: ["08:30-12:00", "13:30-17:30"]}
    holidays: cn
  24x7:
    label: {zh-CN: 全天候, en: Around the clock}
    timezone: Asia/Shanghai
    hours: always
    holidays: none
"""


def write_library(directory: Path, limits: str) -> Path:
    """The job process and a rules file with ``limits`` (YAML under ``time_limits:``)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "job.yaml").write_text(JOB, encoding="utf-8")
    body = textwrap.indent(textwrap.dedent(limits).strip("\n"), "  ")
    (directory / "rules.yaml").write_text(f"{CALENDARS}time_limits:\n{body}\n", encoding="utf-8")
    return directory


@dataclass
class Job:
    """An engine on the job library, its manual clock, and helpers to drive one case."""

    engine: Engine
    clock: ManualClock

    def open(self, data: Mapping[str, Any] | None = None) -> str:
        return self.engine.open_case("job", dict(data or {}), CLERK).id

    def fire(
        self,
        case_id: str,
        event: str,
        when: datetime | None = None,
        actor: Actor = CLERK,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        if when is not None:
            self.clock.set(when)
        self.engine.fire(case_id, event, actor, dict(payload or {}))

    def tick(self, when: datetime) -> int:
        self.clock.set(when)
        return self.engine.tick().fired

    def status(self, case_id: str, limit: str | None = None) -> ClockStatus:
        clocks = self.engine.sla_status(case_id)
        if limit is None:
            assert len(clocks) == 1, clocks
            return clocks[0]
        return next(clock for clock in clocks if clock.limit == limit)

    def timers(self, case_id: str) -> list[tuple[str, str, datetime]]:
        """Pending timers as (kind, limit, due in Shanghai), soonest first."""
        return [_timer(t) for t in self.engine.store.pending_timers(case_id)]

    def log(self, case_id: str) -> list[str]:
        return [entry.event for entry in self.engine.history(case_id)]

    def outbox(self, case_id: str) -> list[tuple[str, str | None]]:
        return [(item.kind, item.role) for item in self.engine.outbox(case_id)]


def _timer(timer: TimerRecord) -> tuple[str, str, datetime]:
    return timer.kind, timer.name, timer.due_at.astimezone(SH)


MakeJob = Callable[..., Job]


@pytest.fixture
def make_job(tmp_path: Path) -> Iterator[MakeJob]:
    """``make_job(limits, start=..., store=...)``: an engine on the job library with these
    time limits, on an in-memory store unless ``store`` is given."""
    engines: list[Engine] = []
    counter = iter(range(1000))

    def make(limits: str, start: datetime = MONDAY, store: str = "sqlite://") -> Job:
        library = write_library(tmp_path / f"library-{next(counter)}", limits)
        clock = ManualClock(start)
        engine = Engine(library, store=store, clock=clock)
        engines.append(engine)
        return Job(engine, clock)

    yield make
    for engine in engines:
        engine.close()


# Starting, stopping, pausing, resetting ----------------------------------------------------


def test_a_clock_starts_on_entering_a_state_and_stops_on_entering_another(
    make_job: MakeJob,
) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: [review, done]}
          limit: 2h
          on_breach: [{notify: head}]
        """
    )
    case = job.open()
    assert job.engine.sla_status(case) == []
    assert job.timers(case) == []
    job.fire(case, "begin", at(3, 2, 9, 10))
    clock = job.status(case)
    assert (clock.status, clock.started_at, clock.deadline) == (
        "running",
        at(3, 2, 9, 10),
        at(3, 2, 11, 10),
    )
    assert job.timers(case) == [("breach", "job-limit", at(3, 2, 11, 10))]
    job.fire(case, "submit", at(3, 2, 10, 40))
    clock = job.status(case)
    assert (clock.status, clock.stopped_at, clock.breached) == ("stopped", at(3, 2, 10, 40), False)
    assert clock.elapsed == timedelta(minutes=90)
    assert job.timers(case) == []
    assert job.tick(at(3, 2, 12)) == 0


def test_a_clock_starts_on_an_event_and_stops_on_leaving_a_state(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {event: begin}
          stop: {exit: working}
          limit: 1h
        """
    )
    case = job.open()
    job.fire(case, "ping", at(3, 2, 9, 5))  # in 'new': not the start event
    assert job.engine.sla_status(case) == []
    job.fire(case, "begin", at(3, 2, 9, 10))
    job.fire(case, "ping", at(3, 2, 9, 20))  # stays in 'working': the clock runs on
    assert job.status(case).status == "running"
    job.fire(case, "wait", at(3, 2, 9, 30))
    assert (job.status(case).status, job.status(case).stopped_at) == ("stopped", at(3, 2, 9, 30))
    job.fire(case, "resume", at(3, 2, 9, 40))  # enters 'working' again, but the start is 'begin'
    assert job.status(case).status == "stopped"


def test_a_stopped_clock_starts_afresh_on_a_later_start(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: review}
          limit: 2h
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "submit", at(3, 2, 10))
    job.fire(case, "reopen", at(3, 2, 14), HEAD)
    clock = job.status(case)
    assert (clock.status, clock.started_at, clock.deadline) == (
        "running",
        at(3, 2, 14),
        at(3, 2, 16),
    )
    assert clock.elapsed == timedelta(0)
    assert job.timers(case) == [("breach", "job-limit", at(3, 2, 16))]


def test_a_reset_restarts_the_clock_from_zero_and_replaces_its_timers(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          reset: {event: ping}
          limit: 2h
          warn: [50%]
          on_breach: [{notify: head}]
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    assert job.timers(case) == [
        ("warning", "job-limit", at(3, 2, 10)),
        ("breach", "job-limit", at(3, 2, 11)),
    ]
    job.fire(case, "ping", at(3, 2, 10, 30))  # after the warning was due, before the breach
    clock = job.status(case)
    assert (clock.started_at, clock.deadline, clock.warnings_sent) == (
        at(3, 2, 10, 30),
        at(3, 2, 12, 30),
        (),
    )
    assert job.timers(case) == [
        ("warning", "job-limit", at(3, 2, 11, 30)),
        ("breach", "job-limit", at(3, 2, 12, 30)),
    ]
    assert job.tick(at(3, 2, 11, 0)) == 0  # the old timers are gone
    assert job.tick(at(3, 2, 12, 30)) == 2
    assert job.log(case)[-2:] == ["warning:job-limit", "breach:job-limit"]


def test_a_reset_stops_the_clock_when_its_condition_no_longer_holds(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          if: "priority == 'high'"
          calendar: 24x7
          start: {enter: working}
          reset: {event: ping}
          limit: 2h
        """
    )
    case = job.open({"priority": "high"})
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "ping", at(3, 2, 10), payload={"priority": "normal"})
    clock = job.status(case)
    assert (clock.status, clock.stopped_at) == ("stopped", at(3, 2, 10))
    assert job.timers(case) == []


def test_pause_and_resume_move_the_deadline_by_the_time_stood_still(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          pause: {in: [waiting]}
          limit: 2h
          on_breach: [{notify: head}]
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "wait", at(3, 2, 9, 30))
    assert job.timers(case) == []  # a paused clock has no timers
    assert job.tick(at(3, 2, 12)) == 0  # so nothing breaches while it stands still
    paused = job.status(case)
    assert (paused.status, paused.paused, paused.elapsed, paused.remaining) == (
        "paused",
        True,
        timedelta(minutes=30),
        timedelta(minutes=90),
    )
    job.fire(case, "resume", at(3, 2, 13, 30), OWNER)
    assert job.timers(case) == [("breach", "job-limit", at(3, 2, 15))]
    job.clock.set(at(3, 2, 14))
    running = job.status(case)
    assert (running.status, running.deadline) == ("running", at(3, 2, 15))
    # 09:00-09:30 and 13:30-14:00: the four hours in 'waiting' did not count.
    assert (running.elapsed, running.remaining) == (timedelta(hours=1), timedelta(hours=1))
    assert job.tick(at(3, 2, 14, 59)) == 0
    assert job.tick(at(3, 2, 15)) == 1


def test_a_clock_started_in_a_pause_state_waits_for_the_resume(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {event: wait}
          stop: {enter: done}
          pause: {in: [waiting]}
          limit: 1h
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "wait", at(3, 2, 9, 30))  # starts straight into a pause state
    clock = job.status(case)
    assert (clock.status, clock.started_at, clock.elapsed) == (
        "paused",
        at(3, 2, 9, 30),
        timedelta(0),
    )
    assert job.timers(case) == []
    job.fire(case, "resume", at(3, 2, 11), OWNER)
    assert job.timers(case) == [("breach", "job-limit", at(3, 2, 12))]
    job.clock.set(at(3, 2, 11, 15))
    assert (job.status(case).elapsed, job.status(case).remaining) == (
        timedelta(minutes=15),
        timedelta(minutes=45),
    )


def test_the_if_condition_is_checked_when_the_clock_would_start(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-fee:
          process: job
          if: "fee > 100 and priority == 'high'"
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          limit: 2h
        """
    )
    # The condition compares money as a number (stored as text "150.00").
    costly = job.open({"fee": 150, "priority": "high"})
    job.fire(costly, "begin", at(3, 2, 9))
    assert job.status(costly).status == "running"
    cheap = job.open({"fee": 50, "priority": "high"})
    job.fire(cheap, "begin", at(3, 2, 9))
    assert job.engine.sla_status(cheap) == []
    # Becoming costly later does not start it: the start trigger has passed ...
    job.fire(cheap, "ping", at(3, 2, 9, 30), payload={"fee": 500})
    assert job.engine.sla_status(cheap) == []
    # ... until the case enters 'working' again, when the condition holds.
    job.fire(cheap, "wait", at(3, 2, 10))
    job.fire(cheap, "resume", at(3, 2, 10, 15))
    clock = job.status(cheap)
    assert (clock.status, clock.started_at) == ("running", at(3, 2, 10, 15))
    # A clock that runs keeps running when the condition stops holding.
    job.fire(costly, "ping", at(3, 2, 10, 30), payload={"fee": 0})
    assert job.status(costly).status == "running"


def test_reaching_a_final_state_stops_every_clock(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-running:
          process: job
          calendar: 24x7
          start: {enter: working}
          limit: 2h
        job-paused:
          process: job
          calendar: office
          start: {event: begin}
          pause: {in: [waiting]}
          limit: 3 workdays
          warn: [50%]
        job-anchored:
          process: job
          calendar: 24x7
          start: {event: begin}
          deadline: "20d before handover_date"
        job-reminder:
          process: job
          calendar: 24x7
          every: 15m
          while: {in: [working, waiting]}
          on_due: [{notify: clerk}]
        job-after:
          process: job
          calendar: 24x7
          start: {enter: done}
          limit: 1h
        """
    )
    case = job.open({"handover_date": "2026-06-30"})
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "wait", at(3, 2, 9, 5))
    assert {c.limit: c.status for c in job.engine.sla_status(case)} == {
        "job-anchored": "running",
        "job-paused": "paused",
        "job-reminder": "running",
        "job-running": "running",
    }
    assert len(job.timers(case)) == 3  # anchored breach, the 2h breach, the next reminder
    job.fire(case, "finish", at(3, 2, 9, 10))
    clocks = job.engine.sla_status(case)
    assert {c.limit: (c.status, c.stopped_at) for c in clocks} == {
        name: ("stopped", at(3, 2, 9, 10))
        for name in ("job-anchored", "job-paused", "job-reminder", "job-running")
    }
    # The paused clock ran 09:00-09:05 only; no clock starts on entering a final state.
    assert job.status(case, "job-paused").elapsed == timedelta(minutes=5)
    assert job.timers(case) == []
    assert job.tick(at(3, 30)) == 0


# Working calendars ------------------------------------------------------------------------


OFFICE_LIMIT = """
job-office:
  process: job
  calendar: office
  start: {enter: working}
  stop: {enter: done}
  pause: {in: [waiting]}
  limit: 16 workhours
  warn: [50%, 2 workhours]
  on_breach: [{escalate: head}]
"""


def test_working_hours_skip_lunch_nights_and_the_spring_festival_and_count_the_make_up_day(
    make_job: MakeJob,
) -> None:
    job = make_job(
        """
        job-hours:
          process: job
          calendar: office
          start: {enter: working}
          limit: 8 workhours
        job-days:
          process: job
          calendar: office
          start: {enter: working}
          limit: 3 workdays
          warn: [80%]
        """,
        start=at(2, 13, 9),
    )
    case = job.open()
    job.fire(case, "begin", at(2, 13, 16))  # Friday before the Spring Festival
    # 1.5 h on Friday, then the make-up Saturday 14 Feb: 08:30-12:00 and 13:30-16:30.
    assert job.status(case, "job-hours").deadline == at(2, 14, 16, 30)
    days = job.status(case, "job-days")
    # Day 1 is Saturday 14 (make-up), 15-23 are the holiday: Tue 24 is day 2, Wed 25 day 3.
    assert days.deadline == at(2, 25, 16)
    assert days.remaining == timedelta(hours=1.5 + 7.5 + 7.5 + 6)
    # 80% of the 22.5 working hours is 18 h: Fri 1.5 + Sat 7.5 + Tue 7.5 + Wed 1.5 (08:30-10:00).
    # Not 80% of the 12 calendar days, which would fall on a holiday.
    assert ("warning", "job-days", at(2, 25, 10)) in job.timers(case)


def test_pause_and_resume_on_office_hours_across_a_weekend_and_the_spring_festival(
    make_job: MakeJob, store_url: str
) -> None:
    job = make_job(OFFICE_LIMIT, start=at(2, 12, 9), store=store_url)
    case = job.open()
    job.fire(case, "begin", at(2, 12, 10))  # Thursday 12 February, 10:00
    # Thu 10:00-12:00, 13:30-17:30 (6 h), Fri 7.5 h, make-up Sat 14 Feb 08:30-11:00 (2.5 h).
    assert job.status(case).deadline == at(2, 14, 11)
    assert job.timers(case) == [
        ("warning", "job-office", at(2, 13, 10, 30)),  # 50%: 8 h = Thu 6 h + Fri 2 h
        ("warning", "job-office", at(2, 14, 9)),  # 2 working hours before Sat 11:00
        ("breach", "job-office", at(2, 14, 11)),
    ]
    job.fire(case, "wait", at(2, 13, 9, 30))  # Friday 09:30: 7 h used, 9 h left
    assert job.timers(case) == []
    for moment in (at(2, 13, 9, 30), at(2, 14, 12), at(2, 23, 12)):
        job.clock.set(moment)
        paused = job.status(case)
        assert (paused.paused, paused.elapsed, paused.remaining) == (
            True,
            timedelta(hours=7),
            timedelta(hours=9),
        )
        assert job.engine.tick().fired == 0
    job.fire(case, "resume", at(2, 24, 14), OWNER)  # Tuesday after the holiday, 14:00
    # 9 h from Tue 14:00: Tue 3.5 h, Wed 08:30-12:00 3.5 h, 13:30-15:30 2 h.
    assert job.status(case).deadline == at(2, 25, 15, 30)
    assert job.timers(case) == [
        ("warning", "job-office", at(2, 24, 15)),  # 1 h of work was left before the 50%
        ("warning", "job-office", at(2, 25, 12)),  # 2 working hours before Wed 15:30
        ("breach", "job-office", at(2, 25, 15, 30)),
    ]
    assert job.tick(at(2, 24, 14, 59)) == 0
    assert job.tick(at(2, 24, 15)) == 1
    job.clock.set(at(2, 25, 10))
    running = job.status(case)
    # Thu 6 + Fri 1 (to 09:30) + Tue 3.5 (from 14:00) + Wed 1.5 (to 10:00) = 12 h; 4 h left.
    assert (running.paused, running.elapsed, running.remaining, running.breached) == (
        False,
        timedelta(hours=12),
        timedelta(hours=4),
        False,
    )
    assert job.tick(at(2, 25, 12)) == 1
    assert job.status(case).warnings_sent == ("warning:0", "warning:1")
    assert job.tick(at(2, 25, 15, 29)) == 0
    assert job.tick(at(2, 25, 15, 30)) == 1
    breached = job.status(case)
    assert (breached.breached, breached.breached_at) == (True, at(2, 25, 15, 30))
    assert job.log(case)[-3:] == ["warning:job-office", "warning:job-office", "breach:job-office"]
    assert job.engine.get_case(case).assignee == "head"


def test_a_wall_clock_limit_on_a_working_calendar_pauses_in_elapsed_time(
    make_job: MakeJob,
) -> None:
    job = make_job(
        """
        job-elapsed:
          process: job
          calendar: office
          start: {enter: working}
          pause: {in: [waiting]}
          limit: 24h
          warn: [50%]
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 6, 17))  # Friday 17:00
    # Wall-clock hours ignore the calendar: 24 h later, on Saturday, and 50% at 05:00.
    assert job.timers(case) == [
        ("warning", "job-elapsed", at(3, 7, 5)),
        ("breach", "job-elapsed", at(3, 7, 17)),
    ]
    job.fire(case, "wait", at(3, 6, 18))  # 1 h used, 23 h left
    job.fire(case, "resume", at(3, 9, 9), OWNER)  # Monday 09:00
    assert job.timers(case) == [
        ("warning", "job-elapsed", at(3, 9, 20)),
        ("breach", "job-elapsed", at(3, 10, 8)),
    ]


# Warnings, breaches, tiers ----------------------------------------------------------------


def test_warnings_at_a_percentage_and_at_an_offset_before_the_deadline(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          label: {zh-CN: 十小时内完成, en: Done within 10 hours}
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          limit: 10h
          warn: [50%, 1h]
        """,
        start=at(3, 2, 7),
    )
    case = job.open()
    start = at(3, 2, 8, 2)
    job.fire(case, "begin", start)
    assert job.timers(case) == [
        ("warning", "job-limit", start + timedelta(hours=5)),
        ("warning", "job-limit", start + timedelta(hours=9)),
        ("breach", "job-limit", start + timedelta(hours=10)),
    ]
    assert job.tick(start + timedelta(hours=4, minutes=59)) == 0
    assert job.tick(start + timedelta(hours=5)) == 1
    assert job.status(case).warnings_sent == ("warning:0",)
    assert job.tick(start + timedelta(hours=9)) == 1
    assert job.status(case).warnings_sent == ("warning:0", "warning:1")
    warnings = [item for item in job.engine.outbox(case) if item.kind == "warning"]
    assert [(w.role, w.payload) for w in warnings] == [
        (
            None,
            {
                "process": "job",
                "hook": "warning",
                "limit": "job-limit",
                "deadline": "2026-03-02T18:02+08:00",
            },
        ),
    ] * 2
    words = f"工单 {case}：十小时内完成即将到期，截止 2026-03-02 18:02，提醒经办人"
    assert warnings[0].message == words
    job.fire(case, "finish", start + timedelta(hours=9, minutes=30))
    assert job.tick(start + timedelta(hours=11)) == 0
    assert not job.status(case).breached


def test_breach_actions_escalate_notify_set_a_field_and_fire_an_event(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-limit:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          limit: 1h
          on_breach:
            - {escalate: head}
            - {notify: manager, message: {zh-CN: 工单超时, en: Job overdue}}
            - {set: {overdue: true}}
            - {fire: escalate_job}
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    assert job.tick(at(3, 2, 9, 59)) == 0
    assert job.tick(at(3, 2, 10, 30)) == 1
    result = job.engine.get_case(case)
    assert (result.state, result.assignee, result.data["overdue"]) == ("escalated", "head", True)
    history = job.engine.history(case)
    breach, fired = history[-2:]
    assert (breach.event, breach.role, breach.actor_id, breach.at) == (
        "breach:job-limit",
        "system",
        "propflow",
        at(3, 2, 10, 30),
    )
    assert breach.changes == {"overdue": True}
    assert (fired.event, fired.role, fired.from_state, fired.to_state) == (
        "escalate_job",
        "system",
        "working",
        "escalated",
    )
    outbox = job.engine.outbox(case)
    # What happened, to which case, under which limit and by when (not just the title).
    assert [(item.kind, item.role, item.message) for item in outbox] == [
        ("escalate", "head", f"工单 {case}：job-limit已超时，截止 2026-03-02 10:00，升级至负责人"),
        (
            "notify",
            "manager",
            f"工单 {case}：工单超时（job-limit已超时，截止 2026-03-02 10:00），通知主任",
        ),
    ]
    assert outbox[0].payload["deadline"] == "2026-03-02T10:00+08:00"
    clock = job.status(case)
    assert (clock.status, clock.breached, clock.breached_at) == ("running", True, at(3, 2, 10, 30))
    # A breach fires once: later ticks find nothing.
    assert job.tick(at(3, 3)) == 0
    assert job.log(case).count("breach:job-limit") == 1


def test_later_tiers_escalate_again_and_move_the_extension_authority(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-general:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          limit: 3d
          extend: {by: [head]}
          on_breach: [{escalate: head}]
          tiers:
            - {after: 2w, extend_by: [manager], actions: [{escalate: manager}, {notify: head}]}
            - {after: 4w, actions: [{notify: manager}]}
        """
    )
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    assert job.timers(case) == [
        ("breach", "job-general", at(3, 5, 9)),
        ("tier", "job-general", at(3, 16, 9)),
        ("tier", "job-general", at(3, 30, 9)),
    ]
    assert job.tick(at(3, 5, 9)) == 1
    assert job.engine.get_case(case).assignee == "head"
    job.clock.set(at(3, 6, 9))
    with pytest.raises(ExtensionRefused, match="only head may approve"):
        job.engine.extend(case, "job-general", MANAGER, reason="parts on order", by="3d")
    status = job.engine.extend(case, "job-general", HEAD, reason="parts on order", by="5d")
    assert status.deadline == at(3, 11, 9)  # from now: the deadline has passed
    # Extensions do not move the tiers: they are measured from the start.
    assert job.tick(at(3, 11, 9)) == 1  # the extended deadline breaches too
    assert job.tick(at(3, 16, 8, 59)) == 0
    assert job.tick(at(3, 16, 9)) == 1
    assert job.engine.get_case(case).assignee == "manager"
    assert job.outbox(case)[-2:] == [("escalate", "manager"), ("notify", "head")]
    assert job.status(case).tier == 1
    with pytest.raises(ExtensionRefused, match="only manager may approve"):
        job.engine.extend(case, "job-general", HEAD, reason="still waiting", by="1w")
    status = job.engine.extend(case, "job-general", MANAGER, reason="contractor booked", by="1w")
    assert status.deadline == at(3, 23, 9)
    assert [e["approved_by"] for e in status.extensions] == ["sun.fuzeren", "zhou.zhuren"]
    # A later tier that names no authority leaves it with the manager.
    assert job.tick(at(3, 30, 9)) == 2  # the breach of the 23rd (in the past) and the tier
    assert job.status(case).tier == 2
    with pytest.raises(ExtensionRefused, match="only manager may approve"):
        job.engine.extend(case, "job-general", HEAD, reason="again", by="1w")
    job.engine.extend(case, "job-general", MANAGER, reason="again", by="3w")


def test_the_shipped_general_repair_limit_escalates_at_3_days_and_again_at_2_weeks(
    shipped: Callable[[datetime], tuple[Engine, ManualClock]],
) -> None:
    engine, clock = shipped(at(3, 2, 9))
    case = _recorded_repair(engine, clock, {"category": "civil"})
    status = {c.limit: c for c in engine.sla_status(case)}["repair-general"]
    assert status.deadline == at(3, 5, 9, 1)
    clock.set(at(3, 5, 9, 1))
    engine.tick()
    assert engine.get_case(case).assignee == "head"
    assert ("escalate", "head") in [(i.kind, i.role) for i in engine.outbox(case)]
    technician = Actor("liu.jigong", {"technician"})
    with pytest.raises(ExtensionRefused, match="only head may approve"):
        engine.extend(case, "repair-general", technician, reason="parts", by="2d")
    engine.extend(case, "repair-general", Actor("sun", {"head"}), reason="parts", by="4d")
    clock.set(at(3, 16, 9, 1))
    engine.tick()
    assert engine.get_case(case).assignee == "manager"
    with pytest.raises(ExtensionRefused, match="only manager may approve"):
        engine.extend(case, "repair-general", Actor("sun", {"head"}), reason="again", by="2d")
    status = engine.extend(
        case, "repair-general", Actor("zhou", {"manager"}), reason="contractor", by="1w"
    )
    # The head's 4 days ran out on 9 March: the manager's week counts from the signature.
    assert status.deadline == at(3, 23, 9, 1)
    assert [e["role"] for e in status.extensions] == ["head", "manager"]


# Extensions -------------------------------------------------------------------------------


URGENT = """
job-urgent:
  label: {zh-CN: 急修24小时, en: Urgent within 24 hours}
  process: job
  calendar: 24x7
  start: {enter: working}
  stop: {enter: done}
  pause: {in: [waiting]}
  limit: 24h
  warn: [80%]
  extend: {by: [head], needs: [owner_consent]}
  on_breach: [{escalate: head}]
job-plain:
  process: job
  calendar: 24x7
  start: {enter: working}
  limit: 48h
"""


def test_an_extension_needs_the_role_a_reason_and_the_owners_consent(make_job: MakeJob) -> None:
    job = make_job(URGENT)
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    job.clock.set(at(3, 3, 8))
    extend = job.engine.extend
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: extend(case, "job-urgent", CLERK, reason="parts", by="4h"), "only head"),
        (lambda: extend(case, "job-urgent", HEAD, reason="  ", by="4h"), "needs a reason"),
        (lambda: extend(case, "job-urgent", HEAD, reason="parts", by="4h"), "owner_consent"),
        (
            lambda: extend(case, "job-urgent", HEAD, reason="p", consents=["owner_consent"]),
            "either 'by'",
        ),
        (
            lambda: extend(
                case, "job-urgent", HEAD, reason="p", by="4 hourz", consents=["owner_consent"]
            ),
            "bad duration",
        ),
        (
            lambda: extend(
                case,
                "job-urgent",
                HEAD,
                reason="p",
                until=at(3, 3, 8),
                consents=["owner_consent"],
            ),
            "later than the current one",
        ),
        (lambda: extend(case, "job-urgnt", HEAD, reason="p", by="4h"), "did you mean"),
        (lambda: extend(case, "job-plain", HEAD, reason="p", by="4h"), "cannot be extended"),
    ]
    versions = job.engine.get_case(case).version
    for attempt, reason in refusals:
        with pytest.raises(ExtensionRefused, match=reason):
            attempt()
    assert job.engine.get_case(case).version == versions  # refusals write nothing
    assert job.status(case, "job-urgent").extensions == ()

    status = extend(
        case,
        "job-urgent",
        HEAD,
        reason="waiting for a replacement pump",
        by="4h",
        consents=["owner_consent"],
    )
    assert status.deadline == at(3, 3, 13)
    assert ("breach", "job-plain", at(3, 4, 9)) in job.timers(case)  # another limit: unmoved
    urgent = [t for t in job.timers(case) if t[1] == "job-urgent"]
    # 80% of the 28 hours now allowed is 22.4 h after the start: 07:24, already past at 08:00.
    assert urgent == [("breach", "job-urgent", at(3, 3, 13))]
    entry = job.engine.history(case)[-1]
    assert (entry.event, entry.actor_id, entry.role) == (
        "extend:job-urgent",
        "sun.fuzeren",
        "head",
    )
    assert entry.payload["reason"] == "waiting for a replacement pump"
    assert entry.payload["consents"] == ["owner_consent"]
    assert (entry.payload["old_deadline"], entry.payload["new_deadline"]) == (
        at(3, 3, 9).isoformat(),
        at(3, 3, 13).isoformat(),
    )
    shown = job.status(case, "job-urgent")
    assert shown.deadline == at(3, 3, 13)
    assert [(e["approved_by"], e["reason"], e["by"]) for e in shown.extensions] == [
        ("sun.fuzeren", "waiting for a replacement pump", "4h")
    ]
    assert shown.to_json()["extensions"][0]["new_deadline"] == at(3, 3, 13).isoformat()
    assert job.tick(at(3, 3, 9)) == 0  # the old deadline passes quietly
    assert job.tick(at(3, 3, 13)) == 1
    # 'until' sets the moment itself.
    status = extend(
        case,
        "job-urgent",
        HEAD,
        reason="owner away",
        until=at(3, 4, 18),
        consents=["owner_consent", "extra"],
    )
    assert (status.deadline, status.breached, len(status.extensions)) == (at(3, 4, 18), False, 2)


def test_an_extension_signed_after_the_breach_counts_from_now(make_job: MakeJob) -> None:
    job = make_job(URGENT)
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))  # due 3 March 09:00
    assert job.tick(at(3, 3, 12)) == 2  # its warning, and the breach three hours ago
    status = job.engine.extend(
        case, "job-urgent", HEAD, reason="parts came late", by="4h", consents=["owner_consent"]
    )
    # Four hours from now (from the deadline, 13:00, would leave one).
    assert status.deadline == at(3, 3, 16)
    entry = job.engine.history(case)[-1]
    assert entry.payload["counted_from"] == at(3, 3, 12).isoformat()
    assert entry.payload["old_deadline"] == at(3, 3, 9).isoformat()
    # Before the deadline, 'by' still counts from the deadline.
    job.clock.set(at(3, 3, 14))
    status = job.engine.extend(
        case, "job-urgent", HEAD, reason="owner out", by="2h", consents=["owner_consent"]
    )
    assert status.deadline == at(3, 3, 18)
    assert job.engine.history(case)[-1].payload["counted_from"] == at(3, 3, 16).isoformat()


def test_an_extension_while_paused_moves_the_deadline_that_resumes(make_job: MakeJob) -> None:
    job = make_job(URGENT)
    case = job.open()
    job.fire(case, "begin", at(3, 2, 9))
    job.fire(case, "wait", at(3, 2, 15))  # 6 h used, 18 h left
    job.clock.set(at(3, 3, 9))
    job.engine.extend(
        case, "job-urgent", HEAD, reason="owner abroad", by="6h", consents=["owner_consent"]
    )
    assert [t for t in job.timers(case) if t[1] == "job-urgent"] == []  # still paused
    job.fire(case, "resume", at(3, 4, 9), OWNER)
    # 24 h left at the pause; 80% of the 30 h limit is 24 h, 18 h after the resume.
    assert [t for t in job.timers(case) if t[1] == "job-urgent"] == [
        ("warning", "job-urgent", at(3, 5, 3)),
        ("breach", "job-urgent", at(3, 5, 9)),
    ]
    clock = job.status(case, "job-urgent")
    assert (clock.elapsed, clock.remaining) == (timedelta(hours=6), timedelta(hours=24))


# Recurring timers ----------------------------------------------------------------------


def test_a_reminder_recurs_while_in_a_state_and_stops_on_leaving_it(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-tea:
          process: job
          calendar: 24x7
          every: 15m
          while: {in: [session]}
          on_due: [{notify: clerk, message: {zh-CN: 续茶, en: Tea}}]
        """
    )
    case = job.open()
    job.fire(case, "start_session", at(3, 2, 14))
    job.tick(at(3, 2, 14, 21))  # a late tick fires the 14:15 reminder ...
    assert job.timers(case) == [("due", "job-tea", at(3, 2, 14, 30))]  # ... on the beat
    job.tick(at(3, 2, 15, 50))  # after a long gap: missed reminders are not fired in a burst
    assert job.timers(case) == [("due", "job-tea", at(3, 2, 16))]
    assert job.log(case).count("due:job-tea") == 2
    job.fire(case, "end_session", at(3, 2, 15, 55))
    assert job.timers(case) == []
    assert job.tick(at(3, 2, 18)) == 0


def test_tea_every_15_minutes_while_in_session_exactly_4_in_an_hour(
    shipped: Callable[[datetime], tuple[Engine, ManualClock]],
) -> None:
    engine, clock = shipped(at(3, 3, 13))
    supervisor, attendant = Actor("chen", {"supervisor"}), Actor("tang", {"attendant"})
    opening = {"host": "业主委员会", "meeting_at": "2026-03-03T14:00:00+08:00", "important": False}
    case = engine.open_case("meeting_service", opening, supervisor).id
    engine.fire(case, "start_preparation", supervisor, {"attendees_count": 12, "room": "二楼"})
    items = ["banner_hung", "seating_arranged", "sign_in_desk_ready", "equipment_checked"]
    engine.fire(
        case, "record_preparation", attendant, dict.fromkeys([*items, "supplies_ready"], True)
    )
    engine.fire(case, "confirm_ready", supervisor)
    clock.set(at(3, 3, 14))
    engine.fire(case, "start_session", attendant)
    for minute in range(1, 61):  # a tick every minute for an hour
        clock.set(at(3, 3, 14) + timedelta(minutes=minute))
        engine.tick()
    engine.fire(case, "end_session", attendant)
    for minute in range(61, 181):  # and two more hours after the session
        clock.set(at(3, 3, 14) + timedelta(minutes=minute))
        engine.tick()
    reminders = [item.message for item in engine.outbox(case) if item.role == "attendant"]
    # "<title> <case>：<the reminder's own words>（<limit>，提醒时间 …），通知<role>"
    messages = Counter(text.split("：", 1)[1].split("（", 1)[0] for text in reminders if text)
    assert messages == {"请为宾客续茶": 4, "请更换烟缸、香巾": 1}
    assert all(text and "提醒时间" in text for text in reminders)
    tea = [e.at for e in engine.history(case) if e.event == "due:meeting-tea"]
    assert tea == [at(3, 3, 14, 15), at(3, 3, 14, 30), at(3, 3, 14, 45), at(3, 3, 15)]
    assert engine.store.pending_timers(case) == []
    statuses = {c.limit: c.status for c in engine.sla_status(case)}
    assert statuses == {"meeting-ashtrays": "stopped", "meeting-tea": "stopped"}


# Anchored deadlines --------------------------------------------------------------------


def test_an_anchored_deadline_20_days_before_the_handover_date(
    shipped: Callable[[datetime], tuple[Engine, ManualClock]],
) -> None:
    engine, clock = shipped(at(5, 4, 10))
    clerk = Actor("zheng", {"clerk"})
    case = engine.open_case(
        "handover", {"unit": "3-1201", "owner_name": "王先生", "handover_date": "2026-06-30"}, clerk
    ).id
    clocks = {c.limit: c for c in engine.sla_status(case)}
    # A date means 00:00 of that day in Shanghai.
    assert clocks["handover-plan"].deadline == at(6, 10)
    assert clocks["handover-early-intervention"].deadline == at(5, 31)
    assert clocks["handover-keys"].deadline == at(6, 27)
    timers = [_timer(t) for t in engine.store.pending_timers(case)]
    assert ("warning", "handover-plan", at(6, 7)) in timers  # warn: [3d]
    assert ("breach", "handover-plan", at(6, 10)) in timers
    clock.set(at(6, 7))
    engine.tick()
    clock.set(at(6, 10))
    engine.tick()
    events = [e.event for e in engine.history(case)]
    assert events.count("warning:handover-plan") == 1
    assert events.count("breach:handover-plan") == 1
    assert ("notify", "manager") in [(i.kind, i.role) for i in engine.outbox(case)]


def test_an_anchored_deadline_follows_its_field(make_job: MakeJob) -> None:
    job = make_job(
        """
        job-plan:
          process: job
          calendar: 24x7
          start: {enter: working}
          stop: {enter: done}
          deadline: "20d before handover_date"
          warn: [3d]
          on_breach: [{notify: manager}]
        """,
        start=at(5, 1, 9),
    )
    case = job.open()
    job.fire(case, "begin", at(5, 1, 9))
    clock = job.status(case)
    assert clock.deadline is None
    assert clock.notes == ("no deadline yet: field 'handover_date' has no value",)
    assert job.timers(case) == []
    job.fire(case, "ping", at(5, 2, 9), payload={"handover_date": "2026-06-30"})
    assert (job.status(case).deadline, job.status(case).notes) == (at(6, 10), ())
    assert job.timers(case) == [
        ("warning", "job-plan", at(6, 7)),
        ("breach", "job-plan", at(6, 10)),
    ]
    job.fire(case, "ping", at(5, 3, 9), payload={"handover_date": date(2026, 7, 10)})
    assert job.timers(case) == [
        ("warning", "job-plan", at(6, 17)),
        ("breach", "job-plan", at(6, 20)),
    ]
    assert job.tick(at(6, 10)) == 0
    assert job.tick(at(6, 20)) == 2


# The deferred paperwork of emergency work ---------------------------------------------------


def test_emergency_work_first_then_the_paperwork_within_its_time_limit(
    shipped: Callable[[datetime], tuple[Engine, ManualClock]],
) -> None:
    engine = Engine(validated_library(), store="sqlite://")
    limits = {limit.id: limit for limit in engine.time_limits("repair")}
    engine.close()
    paperwork = limits["repair-emergency-paperwork"]
    assert "seed 001" in (paperwork.source or "") and "5.1.3" in (paperwork.source or "")
    engine, clock = shipped(at(3, 7, 2))  # Saturday 02:00: a pipe bursts
    receptionist = Actor("li", {"receptionist"})
    opening = {"scope": "public", "unit": "3栋"}
    case = engine.open_case("repair", opening, receptionist).id
    clock.set(at(3, 7, 2, 5))
    engine.fire(case, "start_emergency_work", receptionist, {"emergency_type": "flooding"})
    status = {c.limit: c for c in engine.sla_status(case)}["repair-emergency-paperwork"]
    # Started outside office hours: one working day from Monday 08:30 is Tuesday 08:30.
    assert (status.status, status.deadline) == ("running", at(3, 10, 8, 30))
    assert {c.limit for c in engine.sla_status(case) if c.status == "running"} >= {
        "repair-urgent",
        "repair-emergency-paperwork",
    }
    clock.set(at(3, 10, 8, 30))
    engine.tick()
    breaches = [e for e in engine.history(case) if e.event == "breach:repair-emergency-paperwork"]
    assert len(breaches) == 1
    notified = [(i.role, i.payload["hook"]) for i in engine.outbox(case) if i.kind == "notify"]
    assert ("supervisor", "breach") in notified and ("head", "breach") in notified
    clock.set(at(3, 10, 9))
    paperwork_done = {
        "content": "水管爆裂",
        "location": "3栋地下室",
        "category": "leak",
        "technician": "liu",
        "actual_situation": "主阀门关闭，已更换水管",
    }
    engine.fire(case, "complete_paperwork", receptionist, paperwork_done)
    status = {c.limit: c for c in engine.sla_status(case)}["repair-emergency-paperwork"]
    assert (status.status, status.stopped_at, status.breached) == ("stopped", at(3, 10, 9), True)
    # Done in time on another case: the clock stops without a breach.
    case = engine.open_case("repair", opening, receptionist).id
    engine.fire(case, "start_emergency_work", receptionist, {"emergency_type": "lift"})
    clock.set(at(3, 10, 15))
    engine.fire(case, "complete_paperwork", receptionist, paperwork_done)
    status = {c.limit: c for c in engine.sla_status(case)}["repair-emergency-paperwork"]
    assert (status.status, status.breached) == ("stopped", False)
    assert status.elapsed == timedelta(hours=4.5)  # 09:00-12:00 and 13:30-15:00 of office time


# Status and coverage --------------------------------------------------------------------


def test_sla_status_figures_and_the_coverage_warning_beyond_the_holiday_data(
    make_job: MakeJob,
) -> None:
    job = make_job(
        """
        job-days:
          label: {zh-CN: 三个工作日内, en: Within 3 working days}
          process: job
          calendar: office
          start: {enter: working}
          stop: {enter: done}
          limit: 3 workdays
        """,
        start=at(12, 31, 9),
    )
    case = job.open()
    job.fire(case, "begin", at(12, 31, 10))  # Thursday 31 December 2026
    job.clock.set(at(12, 31, 15))
    clock = job.status(case)
    # 1 Jan 2027 has no statutory data yet: counted as an ordinary Friday, with a warning.
    assert clock.deadline == at(1, 5, 10, year=2027)
    assert clock.elapsed == timedelta(hours=3.5)  # 10:00-12:00, 13:30-15:00
    assert clock.remaining == timedelta(hours=2.5 + 7.5 + 7.5 + 1.5)
    assert any("no statutory holiday data for 2027" in note for note in clock.notes)
    shown = clock.to_json()
    assert shown["calendar"] == "office"
    assert shown["label"] == "三个工作日内"
    assert shown["deadline"] == "2027-01-05T10:00:00+08:00"
    assert (shown["elapsed_seconds"], shown["remaining_seconds"]) == (3.5 * 3600, 19 * 3600)
    assert (shown["paused"], shown["breached"], shown["warnings_sent"]) == (False, False, [])
    job.clock.set(at(1, 5, 12, year=2027))
    late = job.status(case)
    assert (late.breached, late.remaining) == (True, -timedelta(hours=2))
    job.fire(case, "finish", at(1, 6, 9, year=2027))
    done = job.status(case)
    assert (done.status, done.breached, done.stopped_at) == (
        "stopped",
        True,
        at(1, 6, 9, year=2027),
    )
    assert done.remaining == -timedelta(hours=2 + 4 + 0.5)  # Tue 10:00-17:30, Wed 08:30-09:00


# A month of simulated time -----------------------------------------------------------------


MONTH_LIMITS = """
month-resolve:
  process: job
  calendar: office
  start: {enter: working}
  stop: {enter: [review, done]}
  pause: {in: [waiting]}
  limit: 2 workdays
  warn: [50%]
  extend: {by: [head]}
  on_breach: [{escalate: head}, {set: {overdue: true}}]
  tiers:
    - {after: 1w, extend_by: [manager], actions: [{escalate: manager}]}
month-chase:
  process: job
  calendar: office
  every: 1 workday
  while: {in: [waiting]}
  on_due: [{notify: clerk, message: {zh-CN: 请催问业主, en: Chase the owner}}]
"""


@dataclass(frozen=True)
class MonthResult:
    """What 30 simulated days did to the month scenario's cases."""

    ticks: int
    fired: int
    events: Counter[str]
    overdue: int
    states: Counter[str]


def run_month(engine: Engine, clock: ManualClock, cases: int = 20) -> MonthResult:
    """Thirty days from Monday 2 March 2026, ticking every 10 minutes: ``cases`` jobs opened
    one per working hour, each worked on, some waiting for the owner a while, some finished
    in time, some late. Deterministic, so the totals are exact."""
    start = at(3, 2, 8, 30)
    ids: list[str] = []
    plan: dict[datetime, list[tuple[int, str, Actor]]] = {}
    for n in range(cases):
        opened = start + timedelta(days=n // 8, hours=n % 8)
        plan.setdefault(opened, []).append((n, "begin", CLERK))
        if n % 4 == 1:
            plan.setdefault(opened + timedelta(hours=1), []).append((n, "wait", CLERK))
            plan.setdefault(opened + timedelta(days=3), []).append((n, "resume", OWNER))
        if n % 4 != 3:  # every fourth case is never finished
            plan.setdefault(opened + timedelta(days=5 + n % 3), []).append((n, "finish", CLERK))
    ticks = fired = 0
    now = start
    end = start + timedelta(days=30)
    while now <= end:
        clock.set(now)
        for n, event, actor in plan.get(now, []):
            if event == "begin":
                ids.append(engine.open_case("job", {"unit": f"{n}"}, CLERK).id)
            engine.fire(ids[n], event, actor)
        fired += engine.tick().fired
        ticks += 1
        now += timedelta(minutes=10)
    events: Counter[str] = Counter()
    states: Counter[str] = Counter()
    overdue = 0
    for case_id in ids:
        events.update(e.event for e in engine.history(case_id) if ":" in e.event)
        case = engine.get_case(case_id)
        states[case.state] += 1
        overdue += bool(case.data["overdue"])
    return MonthResult(ticks, fired, events, overdue, states)


def test_a_simulated_month_with_many_ticks(make_job: MakeJob, store_url: str) -> None:
    job = make_job(MONTH_LIMITS, start=at(3, 2, 8), store=store_url)
    result = run_month(job.engine, job.clock)
    assert result.ticks == 30 * 24 * 6 + 1
    assert result.states == {"done": 15, "working": 5}
    # Finishing takes 5 to 7 days and the limit is 2 workdays: every case is warned, and all
    # breach but two of those that waited for the owner, whose pause moved the deadline past
    # their finish (cases 9 and 13: resumed on Friday, finished before the new deadline).
    assert result.events["warning:month-resolve"] == 20
    assert result.events["breach:month-resolve"] == 18
    assert result.overdue == 18
    # The five never finished reach the 1-week tier; the others finish before it (or at the
    # very moment it falls due, before the tick).
    assert result.events["tier:month-resolve"] == 5
    # The five cases that waited for the owner for three days were chased on each of the two
    # working days in between (one day on the beat of the wait, never on a weekend).
    assert result.events["due:month-chase"] == 10
    assert result.fired == sum(result.events.values()) == 53
    # Nothing is left to fire: finished clocks stopped, the others breached and escalated.
    for case in job.engine.query_cases(process="job"):
        assert job.engine.store.pending_timers(case.id) == []


# The shipped library ---------------------------------------------------------------------


@pytest.fixture
def shipped() -> Iterator[Callable[[datetime], tuple[Engine, ManualClock]]]:
    """``shipped(start)``: an engine on the standard library with a manual clock."""
    engines: list[Engine] = []

    def make(start: datetime) -> tuple[Engine, ManualClock]:
        clock = ManualClock(start)
        engine = Engine(validated_library(), store="sqlite://", clock=clock)
        engines.append(engine)
        return engine, clock

    yield make
    for engine in engines:
        engine.close()


def _recorded_repair(engine: Engine, clock: ManualClock, form: Mapping[str, Any]) -> str:
    receptionist = Actor("li", {"receptionist"})
    opening = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
    case = engine.open_case("repair", opening, receptionist).id
    clock.advance(timedelta(minutes=1))
    payload = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", **form}
    engine.fire(case, "record", receptionist, payload)
    return case


def test_the_extension_policy_decides_without_a_case_or_a_store() -> None:
    """engine.sla.extension on a clock alone: what Engine.extend asks before writing."""
    limit = TimeLimitDef.model_validate(
        {"id": "fix", "process": "job", "limit": "24h", "extend": {"by": ["head"]}}
    )
    planner = LimitPlanner(limit, WorkingCalendar("elapsed", UTC, ALWAYS))
    opened = datetime(2026, 3, 2, 1, tzinfo=UTC)
    clock = planner.start("c1", Moment("open", None, "new", opened, {})).clock
    assert clock is not None and clock.deadline == opened + timedelta(hours=24)

    def ask(approver: Actor, by: str, now: datetime) -> GrantedExtension:
        request = ExtensionRequest(approver.id, approver.roles, "parts on order", by=by)
        return grant_extension(planner, clock, request, now)

    early = ask(HEAD, "1d", opened + timedelta(hours=2))  # counted from the deadline
    assert early.clock.deadline == opened + timedelta(hours=48)
    assert early.role == "head"
    assert early.entry["counted_from"] == (opened + timedelta(hours=24)).isoformat()
    assert [(t.kind, t.due_at) for t in early.timers] == [("breach", early.clock.deadline)]
    late = ask(HEAD, "1d", opened + timedelta(hours=30))  # signed after the breach: from now
    assert late.clock.deadline == opened + timedelta(hours=54)
    with pytest.raises(ExtensionDenied, match="only head may approve"):
        ask(CLERK, "1d", opened)
    with pytest.raises(ExtensionDenied, match="not running"):
        grant_extension(planner, None, ExtensionRequest(HEAD.id, HEAD.roles, "x", by="1d"), opened)
