"""SLA clock planning: what each time limit's clock does when something happens to a case.

Pure functions over records, so the arithmetic can be tested without a database: given a
case's clocks and what just happened (an event moved it from one state to another at some
moment), :class:`SlaPlanner` returns the new clock rows and the timers that replace the
pending ones. The engine writes them in the event's own transaction.

Semantics (DESIGN.md, "Time-limit semantics"):

- A clock **starts** on its ``start`` trigger (entering or leaving a state, or an event; a
  ``deadline`` limit without ``start`` starts when the case is opened), if the limit's ``if``
  condition holds at that moment. A stopped clock starts afresh on a later start trigger.
- It **stops** on its ``stop`` trigger, and **resets** (starts again from zero) on ``reset``.
- It is **paused** while the case is in a ``pause`` state: its timers are withdrawn, and on
  resuming each pending item moves later by the working time it stood still.
- Its **plan** is the breach at the deadline, the warnings before it (a percentage of the
  span from start to deadline, or a duration before the deadline) and the later tiers
  (measured from the start). Each item becomes a durable timer.
- A **recurring** limit (``every``) runs while the case is in one of its ``while`` states,
  with one timer at a time for the next reminder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from engine.durations import Duration, Percent
from engine.model import TimeLimitDef, Trigger
from engine.store import ClockChange, ClockRecord, TimerRecord
from engine.time import WorkingCalendar

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"


@dataclass(frozen=True)
class Moment:
    """What just happened to a case: an event moved it (maybe) to another state."""

    event: str
    from_state: str | None
    to_state: str
    at: datetime
    data: Mapping[str, Any]
    #: The case reached a final state: every clock stops, whatever its triggers say.
    final: bool = False

    @property
    def entered(self) -> str | None:
        return self.to_state if self.from_state != self.to_state else None

    @property
    def exited(self) -> str | None:
        return self.from_state if self.from_state != self.to_state else None


def hits(trigger: Trigger | None, moment: Moment) -> bool:
    """Whether ``moment`` is one that ``trigger`` names."""
    if trigger is None:
        return False
    return (
        moment.event in trigger.event
        or (moment.entered is not None and moment.entered in trigger.enter)
        or (moment.exited is not None and moment.exited in trigger.exit)
    )


class LimitPlanner:
    """One time limit on its calendar."""

    def __init__(self, limit: TimeLimitDef, calendar: WorkingCalendar) -> None:
        self.limit = limit
        self.calendar = calendar

    # -- reacting to a case's events ---------------------------------------------------------

    def react(
        self, case_id: str, clock: ClockRecord | None, moment: Moment, applies: bool
    ) -> ClockChange | None:
        """The change a moment makes to this limit's clock, or ``None`` for none."""
        limit = self.limit
        active = clock is not None and clock.status != STOPPED
        if limit.every is not None:
            return self._recurring(case_id, clock, moment, applies, active)
        if clock is not None and active:
            if hits(limit.stop, moment) or moment.final:
                return self._stop(clock, moment.at)
            if hits(limit.reset, moment):
                return self.start(case_id, moment)
            return self._pause_or_resume(clock, moment)
        starts = hits(limit.start, moment) or (limit.start is None and moment.event == "open")
        if starts and applies:
            return self.start(case_id, moment)
        return None

    def start(self, case_id: str, moment: Moment) -> ClockChange:
        """A fresh clock from ``moment``, with its plan and timers."""
        deadline, notes = self._deadline(moment)
        clock = ClockRecord(
            case_id=case_id,
            limit_id=self.limit.id,
            status=RUNNING,
            started_at=moment.at,
            deadline=deadline,
            notes=notes,
        )
        clock = replace(clock, plan=self._plan(clock, moment.at))
        paused = self.limit.pause is not None and moment.to_state in self.limit.pause.states
        if paused:
            clock = replace(clock, status=PAUSED, paused_at=moment.at)
        return ClockChange(case_id, self.limit.id, clock, () if paused else self.timers(clock))

    def _stop(self, clock: ClockRecord, at: datetime) -> ClockChange:
        stopped = replace(clock, status=STOPPED, stopped_at=at, paused_at=None, plan=())
        return ClockChange(clock.case_id, clock.limit_id, stopped, ())

    def _pause_or_resume(self, clock: ClockRecord, moment: Moment) -> ClockChange | None:
        pause = self.limit.pause
        if pause is None:
            return None
        in_pause = moment.to_state in pause.states
        if clock.status == RUNNING and in_pause:
            paused = replace(clock, status=PAUSED, paused_at=moment.at)
            return ClockChange(clock.case_id, clock.limit_id, paused, ())
        if clock.status == PAUSED and not in_pause and clock.paused_at is not None:
            resumed = self._shift(clock, clock.paused_at, moment.at)
            return ClockChange(clock.case_id, clock.limit_id, resumed, self.timers(resumed))
        return None

    def _shift(self, clock: ClockRecord, since: datetime, now: datetime) -> ClockRecord:
        """Resume: each pending item moves later by the working time it stood still."""

        def moved(due: datetime) -> datetime:
            remaining = (
                self.calendar.working_time_between(since, due) if due > since else timedelta(0)
            )
            return self.calendar.add_working_time(now, remaining).at

        plan = tuple({**item, "due": moved(_due(item)).isoformat()} for item in clock.plan)
        deadline = moved(clock.deadline) if clock.deadline is not None else None
        return replace(clock, status=RUNNING, paused_at=None, deadline=deadline, plan=plan)

    def _recurring(
        self,
        case_id: str,
        clock: ClockRecord | None,
        moment: Moment,
        applies: bool,
        active: bool,
    ) -> ClockChange | None:
        states = self.limit.while_in.states if self.limit.while_in is not None else ()
        inside = moment.to_state in states
        if inside and not active and applies:
            fresh = ClockRecord(
                case_id=case_id,
                limit_id=self.limit.id,
                status=RUNNING,
                started_at=moment.at,
                deadline=None,
            )
            fresh = replace(fresh, plan=(self._next_due(moment.at, 1),))
            return ClockChange(case_id, self.limit.id, fresh, self.timers(fresh))
        if clock is not None and active and (not inside or moment.final):
            return self._stop(clock, moment.at)
        return None

    def _next_due(self, after: datetime, index: int) -> dict[str, Any]:
        assert self.limit.every_duration is not None
        due = self.calendar.add(after, self.limit.every_duration).at
        return {"kind": "due", "index": index, "due": due.isoformat()}

    # -- planning ----------------------------------------------------------------------------

    def _deadline(self, moment: Moment) -> tuple[datetime | None, tuple[str, ...]]:
        limit = self.limit
        if limit.limit_duration is not None:
            result = self.calendar.add(moment.at, limit.limit_duration)
            return result.at, result.warnings
        anchor = limit.deadline_anchor
        if anchor is not None:
            value = moment.data.get(anchor.field)
            if value is None:
                return None, (f"no deadline yet: field '{anchor.field}' has no value",)
            result = self.calendar.anchored(value, anchor)
            return result.at, result.warnings
        return None, ()

    def _plan(self, clock: ClockRecord, now: datetime) -> tuple[dict[str, Any], ...]:
        """Breach, warnings and tiers still ahead of ``now``."""
        items: list[dict[str, Any]] = []
        deadline = clock.deadline
        if deadline is not None:
            items.append({"kind": "breach", "index": 0, "due": deadline.isoformat()})
            for index, warning in enumerate(self.limit.warnings):
                due = self._warning_due(clock.started_at, deadline, warning)
                if due > now and f"warning:{index}" not in clock.warnings_sent:
                    items.append({"kind": "warning", "index": index, "due": due.isoformat()})
        for index, tier in enumerate(self.limit.tiers):
            if index < clock.tier or tier.after_duration is None:
                continue
            due = self.calendar.add(clock.started_at, tier.after_duration).at
            items.append({"kind": "tier", "index": index, "due": due.isoformat()})
        return tuple(items)

    def _warning_due(
        self, start: datetime, deadline: datetime, warning: Percent | Duration
    ) -> datetime:
        if isinstance(warning, Percent):
            return start + (deadline - start) * warning.value / 100
        return self.calendar.subtract(deadline, warning).at

    def timers(self, clock: ClockRecord) -> tuple[TimerRecord, ...]:
        """The durable timers of a running clock's plan."""
        return tuple(
            TimerRecord(
                case_id=clock.case_id,
                kind=item["kind"],
                name=clock.limit_id,
                due_at=_due(item),
                payload={"index": item["index"]},
            )
            for item in clock.plan
        )

    # -- timers firing -----------------------------------------------------------------------

    def fired(self, clock: ClockRecord, kind: str, index: int, now: datetime) -> ClockRecord:
        """The clock after its ``kind`` timer ``index`` fired (the plan item is done)."""
        plan = tuple(item for item in clock.plan if (item["kind"], item["index"]) != (kind, index))
        if kind == "breach":
            return replace(clock, breached_at=now, plan=plan)
        if kind == "warning":
            return replace(
                clock, warnings_sent=(*clock.warnings_sent, f"warning:{index}"), plan=plan
            )
        if kind == "tier":
            return replace(clock, tier=max(clock.tier, index + 1), plan=plan)
        return replace(clock, plan=(*plan, self._next_due(now, index + 1)))

    def extended(
        self, clock: ClockRecord, new_deadline: datetime, record: dict[str, Any], now: datetime
    ) -> ClockRecord:
        """The clock with its deadline moved by an approved extension."""
        moved = replace(
            clock,
            deadline=new_deadline,
            breached_at=None,
            extensions=(*clock.extensions, record),
            warnings_sent=(),
        )
        kept = tuple(item for item in clock.plan if item["kind"] == "tier")
        fresh = tuple(item for item in self._plan(moved, now) if item["kind"] != "tier")
        return replace(moved, plan=fresh + kept)


def _due(item: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(item["due"]))


class SlaPlanner:
    """The time limits of one process, each on its calendar."""

    def __init__(self, limits: Sequence[LimitPlanner]) -> None:
        self.limits = {planner.limit.id: planner for planner in limits}

    def react(
        self,
        case_id: str,
        clocks: Mapping[str, ClockRecord],
        moment: Moment,
        applicable: frozenset[str],
    ) -> list[ClockChange]:
        """Every clock change ``moment`` makes, in time-limit order."""
        changes = []
        for limit_id, planner in self.limits.items():
            change = planner.react(case_id, clocks.get(limit_id), moment, limit_id in applicable)
            if change is not None:
                changes.append(change)
        return changes
