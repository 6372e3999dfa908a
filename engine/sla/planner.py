"""SLA clock planning: what each time limit's clock does when something happens to a case.

Pure functions over records, so the arithmetic can be tested without a database: given a
case's clocks and what just happened (an event moved it from one state to another at some
moment), :class:`SlaPlanner` returns the new clock rows and the timers that replace the
pending ones. The engine writes them in the event's own transaction.

Semantics (DESIGN.md, "Time-limit semantics"):

- A clock **starts** on its ``start`` trigger (entering or leaving a state, or an event; a
  ``deadline`` limit without ``start`` starts when the case is opened), if the limit's ``if``
  condition holds at that moment. A stopped clock starts afresh on a later start trigger.
  A clock never starts on entering a final state.
- It **stops** on its ``stop`` trigger, and **resets** (starts again from zero) on ``reset``
  if the ``if`` condition still holds (else it stops). Reaching a final state stops it.
- It is **paused** while the case is in a ``pause`` state: its timers are withdrawn, and on
  resuming each pending item moves later by the time it stood still. The pauses are kept
  (``ClockRecord.pauses``) so the time the clock ran excludes them.
- What a limit **measures**: working time on its calendar when its duration is working time
  (``3 workdays``, ``24 workhours``, ``1 workday before next_meeting_at``), else elapsed time
  (``24h``, ``3d``), whatever the calendar (see :mod:`engine.time.calendar`). Pauses and
  percentages are counted in what the limit measures.
- Its **plan** is the breach at the deadline, the warnings before it (a percentage of the
  limit's time — ``80%`` warns when 80% of the time from start to deadline, less the pauses,
  has run — or a duration before the deadline) and the later tiers (measured from the start,
  moved by the pauses). Each item becomes a durable timer.
- An **anchored** deadline (``20d before handover_date``) follows its field: when the field
  gets a value or a new one while the clock runs, the deadline and its warnings are planned
  again.
- A **recurring** limit (``every``) runs while the case is in one of its ``while`` states,
  with one timer at a time for the next reminder. Reminders keep their rhythm (each is due
  one period after the previous one was due, not after it fired); reminders missed while no
  worker ran are skipped, not fired in a burst.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from engine.conditions import EvalContext, evaluate
from engine.model import TimeLimitDef, Trigger
from engine.model.durations import Duration, Percent
from engine.sla.clocks import (
    PAUSED,
    RUNNING,
    STOPPED,
    ClockChange,
    ClockRecord,
    PlanItem,
    TimerKind,
    TimerRecord,
)
from engine.time import WorkingCalendar
from engine.time.hours import ALWAYS

_Record = TypeVar("_Record", ClockRecord, TimerRecord)

#: Elapsed time: what a limit in wall-clock units (``24h``, ``3d``) measures.
ELAPSED = WorkingCalendar("elapsed", UTC, ALWAYS)


#: A kind of moment: the event, the state it left (``None`` on opening) and the one it reached.
MomentKind = tuple[str, str | None, str]


class Moment(NamedTuple):
    """What just happened to a case: an event moved it (maybe) to another state.

    A named tuple: immutable, and one is built for every event."""

    event: str
    from_state: str | None
    to_state: str
    at: datetime
    data: Mapping[str, Any]
    #: The case reached a final state: every clock stops, whatever its triggers say.
    final: bool = False
    #: The fields whose values this moment changed (an anchored deadline follows its field).
    changed: frozenset[str] = frozenset()

    @property
    def kind(self) -> MomentKind:
        """What triggers can tell of the moment: the event, the state before and after."""
        return self.event, self.from_state, self.to_state

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
        #: What the limit counts: working time on its calendar, or elapsed time.
        self.measure = calendar if _counts_working_time(limit) else ELAPSED
        #: What every clock of the limit starts from (copied, see :func:`_evolve`, rather
        #: than built field by field: a clock starts on most events).
        self._unstarted = ClockRecord("", limit.id, STOPPED, datetime.min, None)
        #: What the timers of the limit's clocks are copied from, likewise.
        self._timer = TimerRecord("", TimerKind.BREACH, limit.id, datetime.min)
        #: :meth:`triggered` per kind of moment, kept as moments come (a process has few).
        self._triggered: dict[MomentKind, tuple[bool, bool, bool]] = {}

    # -- reacting to a case's events ---------------------------------------------------------

    def triggered(self, moment: Moment) -> tuple[bool, bool, bool]:
        """Whether ``moment`` may start the limit's idle clock, and whether it is its stop and
        its reset trigger.

        It may start a clock on its start trigger (``open`` for a deadline without one), a
        recurring limit's on entering or staying in a ``while`` state. Every event asks this
        of each running clock, and it depends only on the event and the two states: kept.
        """
        kind = moment.kind
        found = self._triggered.get(kind)
        if found is None:
            limit = self.limit
            if limit.every is not None:
                starts = limit.while_in is not None and moment.to_state in limit.while_in.states
            else:
                starts = hits(limit.start, moment) or (
                    limit.start is None and moment.event == "open"
                )
            found = (starts, hits(limit.stop, moment), hits(limit.reset, moment))
            self._triggered[kind] = found
        return found

    def leaves_running(self, moment: Moment) -> bool:
        """Whether a running clock of this limit stays as it is on this kind of moment,
        unless the case ends: it neither stops, resets nor pauses, and it follows no field
        (an anchored deadline) and no stretch of states (a recurring limit)."""
        limit = self.limit
        if limit.every is not None or limit.deadline_anchor is not None:
            return False
        _, stops, resets = self.triggered(moment)
        pauses = limit.pause is not None and moment.to_state in limit.pause.states
        return not (stops or resets or pauses)

    def applies(self, moment: Moment) -> bool:
        """Whether the limit's ``if:`` condition holds for the moment's (typed) case data."""
        guard = self.limit.guard
        return guard is None or evaluate(guard, EvalContext(data=moment.data))

    def react(self, case_id: str, clock: ClockRecord | None, moment: Moment) -> ClockChange | None:
        """The change a moment makes to this limit's clock, or ``None`` for none."""
        limit = self.limit
        active = clock is not None and clock.status != STOPPED
        if limit.every is not None:
            return self._recurring(case_id, clock, moment, active)
        starts, stops, resets = self.triggered(moment)
        if clock is not None and active:
            if stops or moment.final:
                return stopped(clock, moment.at)
            if resets:
                if self.applies(moment):
                    return self.start(case_id, moment)
                return stopped(clock, moment.at)
            anchored = self._reanchored(clock, moment)
            change = self._pause_or_resume(anchored or clock, moment)
            if change is None and anchored is not None:
                timers = self.timers(anchored) if anchored.status == RUNNING else ()
                change = ClockChange(case_id, limit.id, anchored, timers)
            return change
        if starts and not moment.final and self.applies(moment):
            return self.start(case_id, moment)
        return None

    def start(self, case_id: str, moment: Moment) -> ClockChange:
        """A fresh clock from ``moment``, with its plan and timers."""
        deadline, notes = self._deadline(moment)
        paused = self.limit.pause is not None and moment.to_state in self.limit.pause.states
        clock = _evolve(
            self._unstarted,
            case_id=case_id,
            status=PAUSED if paused else RUNNING,
            started_at=moment.at,
            deadline=deadline,
            paused_at=moment.at if paused else None,
            notes=notes,
        )
        clock = _evolve(clock, plan=self._plan(clock, moment.at))
        return ClockChange(case_id, self.limit.id, clock, () if paused else self.timers(clock))

    def _pause_or_resume(self, clock: ClockRecord, moment: Moment) -> ClockChange | None:
        pause = self.limit.pause
        if pause is None:
            return None
        in_pause = moment.to_state in pause.states
        if clock.status == RUNNING and in_pause:
            paused = _evolve(clock, status=PAUSED, paused_at=moment.at)
            return ClockChange(clock.case_id, clock.limit_id, paused, ())
        if clock.status == PAUSED and not in_pause and clock.paused_at is not None:
            resumed = self._shift(clock, clock.paused_at, moment.at)
            return ClockChange(clock.case_id, clock.limit_id, resumed, self.timers(resumed))
        return None

    def _shift(self, clock: ClockRecord, since: datetime, now: datetime) -> ClockRecord:
        """Resume: each pending item moves later by the time (of the limit's measure) it
        stood still: what was left of it at the pause is counted again from ``now``."""

        def moved(due: datetime) -> datetime:
            return self._moved(due, since, now)

        plan = tuple(PlanItem(item.kind, item.index, moved(item.due)) for item in clock.plan)
        deadline = moved(clock.deadline) if clock.deadline is not None else None
        return _evolve(
            clock,
            status=RUNNING,
            paused_at=None,
            pauses=(*clock.pauses, (since, now)),
            deadline=deadline,
            plan=plan,
        )

    def _moved(self, due: datetime, since: datetime, now: datetime) -> datetime:
        """``due`` after the clock stood still from ``since`` to ``now``: what was left of it
        at the pause is counted again from ``now``."""
        remaining = self.measure.working_time_between(since, due)
        return self.measure.add_working_time(now, remaining).at.astimezone(self.calendar.tz)

    def replanned(self, clock: ClockRecord, data: Mapping[str, Any], now: datetime) -> ClockChange:
        """The clock as this limit would have planned it from the clock's own start, for a
        case moved to new definitions (``data`` typed, for an anchored deadline).

        The start and the pauses stay, so the time the clock has run is kept; the deadline
        is worked out afresh from the start and moved by each pause as resuming moved it,
        and its warnings are planned again from ``now`` (those sent stay sent), its tiers
        kept. A breach already recorded stays when the new deadline has passed too, and is
        planned again when the new deadline lies ahead. A recurring limit's clock keeps its
        rhythm.
        """
        if self.limit.every is not None:
            return ClockChange(clock.case_id, clock.limit_id, None, None)
        deadline, notes = self._deadline(Moment("migrate", None, "", clock.started_at, data))
        if deadline is not None:
            for since, to in clock.pauses:
                deadline = self._moved(deadline, since, to)
        still_breached = clock.breached_at is not None and deadline is not None and deadline <= now
        moved = _evolve(
            clock,
            deadline=deadline,
            notes=notes,
            breached_at=clock.breached_at if still_breached else None,
        )
        fresh = tuple(
            item
            for item in self._plan(moved, clock.paused_at or now)
            if item.kind is TimerKind.WARNING
            or (item.kind is TimerKind.BREACH and not still_breached)
        )
        kept = tuple(item for item in clock.plan if item.kind is TimerKind.TIER)
        moved = _evolve(moved, plan=fresh + kept)
        timers = self.timers(moved) if moved.status == RUNNING else ()
        return ClockChange(clock.case_id, clock.limit_id, moved, timers)

    def _reanchored(self, clock: ClockRecord, moment: Moment) -> ClockRecord | None:
        """The clock re-planned on a new value of its anchor field, or ``None``."""
        anchor = self.limit.deadline_anchor
        if anchor is None or anchor.field not in moment.changed:
            return None
        deadline, notes = self._deadline(moment)
        return _evolve(self._replanned(clock, deadline, moment.at), notes=notes)

    def _replanned(
        self, clock: ClockRecord, deadline: datetime | None, now: datetime
    ) -> ClockRecord:
        """The clock with a new deadline: its breach and warnings planned again (warnings
        sent for the old deadline may be sent again before the new one), its tiers kept."""
        moved = _evolve(clock, deadline=deadline, breached_at=None, warnings_sent=())
        kept = tuple(item for item in clock.plan if item.kind is TimerKind.TIER)
        fresh = tuple(
            item
            for item in self._plan(moved, clock.paused_at or now)
            if item.kind is not TimerKind.TIER
        )
        return _evolve(moved, plan=fresh + kept)

    def _recurring(
        self,
        case_id: str,
        clock: ClockRecord | None,
        moment: Moment,
        active: bool,
    ) -> ClockChange | None:
        inside = self.triggered(moment)[0]
        if inside and not active and not moment.final and self.applies(moment):
            fresh = _evolve(
                self._unstarted,
                case_id=case_id,
                status=RUNNING,
                started_at=moment.at,
                plan=(self._next_due(moment.at, 1),),
            )
            return ClockChange(case_id, self.limit.id, fresh, self.timers(fresh))
        if clock is not None and active and (not inside or moment.final):
            return stopped(clock, moment.at)
        return None

    def _next_due(self, after: datetime, index: int) -> PlanItem:
        assert self.limit.every_duration is not None
        due = self.calendar.add(after, self.limit.every_duration).at
        return PlanItem(TimerKind.DUE, index, due)

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

    def _plan(self, clock: ClockRecord, now: datetime) -> tuple[PlanItem, ...]:
        """Breach, warnings and tiers still ahead of ``now`` (the clock runs at ``now``)."""
        items: list[PlanItem] = []
        deadline = clock.deadline
        if deadline is not None:
            items.append(PlanItem(TimerKind.BREACH, 0, deadline))
            # The time used and left (walks over the calendar's days) only when a percentage
            # warning needs them.
            spent: tuple[timedelta, timedelta] | None = None
            for index, warning in enumerate(self.limit.warnings):
                if f"warning:{index}" in clock.warnings_sent:
                    continue
                if spent is None and isinstance(warning, Percent):
                    spent = self.ran(clock, now), self.measure.working_time_between(now, deadline)
                due = self._warning_due(now, deadline, spent, warning)
                if due is not None and due > now:
                    items.append(PlanItem(TimerKind.WARNING, index, due))
        for index, tier in enumerate(self.limit.tiers):
            if index < clock.tier or tier.after_duration is None:
                continue
            due = self.calendar.add(clock.started_at, tier.after_duration).at
            items.append(PlanItem(TimerKind.TIER, index, due))
        return tuple(items)

    def ran(self, clock: ClockRecord, until: datetime) -> timedelta:
        """The time (of the limit's measure) the clock ran from its start to ``until``, less
        its pauses."""
        total = self.measure.working_time_between(clock.started_at, until)
        for since, to in clock.pauses:
            total -= self.measure.working_time_between(since, min(to, until))
        return max(total, timedelta(0))

    def _warning_due(
        self,
        now: datetime,
        deadline: datetime,
        spent: tuple[timedelta, timedelta] | None,
        warning: Percent | Duration,
    ) -> datetime | None:
        """When a warning is due, given the time the clock has used and has left (``spent``,
        given for a percentage)."""
        if isinstance(warning, Percent):
            assert spent is not None
            used, left = spent
            ahead = (used + left) * warning.value / 100 - used
            if ahead < timedelta(0):
                return None
            return self.measure.add_working_time(now, ahead).at.astimezone(self.calendar.tz)
        return self.calendar.subtract(deadline, warning).at

    def timers(self, clock: ClockRecord) -> tuple[TimerRecord, ...]:
        """The durable timers of a running clock's plan."""
        timer = self._timer
        return tuple(
            _evolve(
                timer,
                case_id=clock.case_id,
                kind=item.kind,
                name=clock.limit_id,
                due_at=item.due,
                payload={"index": item.index},
            )
            for item in clock.plan
        )

    # -- timers firing -----------------------------------------------------------------------

    def fired(self, clock: ClockRecord, kind: TimerKind, index: int, now: datetime) -> ClockRecord:
        """The clock after its ``kind`` timer ``index`` fired (the plan item is done)."""
        done = [item for item in clock.plan if (item.kind, item.index) == (kind, index)]
        plan = tuple(item for item in clock.plan if (item.kind, item.index) != (kind, index))
        if kind is TimerKind.BREACH:
            return _evolve(clock, breached_at=now, plan=plan)
        if kind is TimerKind.WARNING:
            return _evolve(
                clock, warnings_sent=(*clock.warnings_sent, f"warning:{index}"), plan=plan
            )
        if kind is TimerKind.TIER:
            return _evolve(clock, tier=max(clock.tier, index + 1), plan=plan)
        return _evolve(clock, plan=(*plan, self._following(done, index + 1, now)))

    def _following(self, done: Sequence[PlanItem], index: int, now: datetime) -> PlanItem:
        """The reminder after the one that was due: one period later, and after ``now``."""
        every = self.limit.every_duration
        assert every is not None
        due = self.calendar.add(done[0].due if done else now, every).at
        if due <= now and not every.working:
            step = every.as_timedelta()
            due += step * ((now - due) // step + 1)
        while due <= now:  # working-time periods differ in length: step one by one
            due = self.calendar.add(due, every).at
        return PlanItem(TimerKind.DUE, index, due)

    def extended(
        self, clock: ClockRecord, new_deadline: datetime, record: dict[str, Any], now: datetime
    ) -> ClockRecord:
        """The clock with its deadline moved by an approved extension."""
        moved = self._replanned(clock, new_deadline, now)
        return _evolve(moved, extensions=(*clock.extensions, record))


def stopped(clock: ClockRecord, at: datetime) -> ClockChange:
    """The clock stopped at ``at`` with its pending timers withdrawn (a pause it stands in
    ends there)."""
    pauses = clock.pauses
    if clock.status == PAUSED and clock.paused_at is not None:
        pauses = (*pauses, (clock.paused_at, at))
    done = _evolve(clock, status=STOPPED, stopped_at=at, paused_at=None, pauses=pauses, plan=())
    return ClockChange(clock.case_id, clock.limit_id, done, ())


def _evolve(record: _Record, **changes: Any) -> _Record:
    """``dataclasses.replace`` for a clock or a timer without its per-field checks and
    without the frozen ``__init__``'s assignment of each field one call at a time, which
    events pay for each time they start, stop or pause a clock: the copy's fields are the
    record's, updated by ``changes`` (names of its fields, which all live in its
    ``__dict__``)."""
    evolved = object.__new__(type(record))
    evolved.__dict__.update(record.__dict__, **changes)
    return evolved


def _counts_working_time(limit: TimeLimitDef) -> bool:
    """Whether the limit is in working time (else it measures elapsed time)."""
    if limit.limit_duration is not None:
        return limit.limit_duration.working
    if limit.deadline_anchor is not None:
        return limit.deadline_anchor.offset.working
    return limit.every_duration is not None and limit.every_duration.working


class SlaPlanner:
    """The time limits of one process, each on its calendar."""

    def __init__(self, limits: Sequence[LimitPlanner]) -> None:
        self.limits = {planner.limit.id: planner for planner in limits}
        #: Per kind of moment, kept as moments come: the limits it may start, those whose
        #: running clock it leaves alone (see LimitPlanner.triggered and .leaves_running),
        #: and the limits to look at, in time-limit order: the others (idle and not started,
        #: or running and left alone, and never paused) are not even visited. A process has
        #: many limits, and an event concerns a few.
        self._asked: dict[
            MomentKind,
            tuple[frozenset[str], frozenset[str], tuple[tuple[str, LimitPlanner], ...]],
        ] = {}

    def react(
        self,
        case_id: str,
        clocks: Mapping[str, ClockRecord],
        moment: Moment,
    ) -> list[ClockChange]:
        """Every clock change ``moment`` makes, in time-limit order.

        Only the limits this moment may start, and those whose clock it may change, are
        asked (every limit when the case ends); a limit evaluates its ``if:`` condition
        only when its clock would start.
        """
        starting, left_alone, concerned = self._asked_at(moment)
        changes = []
        for limit_id, planner in self.limits.items() if moment.final else concerned:
            clock = clocks.get(limit_id)
            if clock is None or clock.status == STOPPED:
                if limit_id not in starting:
                    continue
            elif clock.status == RUNNING and limit_id in left_alone and not moment.final:
                continue
            change = planner.react(case_id, clock, moment)
            if change is not None:
                changes.append(change)
        return changes

    def _asked_at(
        self, moment: Moment
    ) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, LimitPlanner], ...]]:
        """The limits ``moment`` may start (their conditions still to be checked), those
        whose running clock it leaves alone unless the case ends, and the limits a clock of
        which it may concern: one it may start, one whose running clock it does not leave
        alone, or one with pause states (a paused clock is always asked)."""
        kind = moment.kind
        found = self._asked.get(kind)
        if found is None:
            planners = self.limits.items()
            starting = frozenset(lid for lid, planner in planners if planner.triggered(moment)[0])
            left_alone = frozenset(
                lid for lid, planner in planners if planner.leaves_running(moment)
            )
            concerned = tuple(
                (lid, planner)
                for lid, planner in planners
                if lid in starting or lid not in left_alone or planner.limit.pause is not None
            )
            found = starting, left_alone, concerned
            self._asked[kind] = found
        return found
