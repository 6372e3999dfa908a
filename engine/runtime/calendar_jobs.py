"""Schedules and quotas on the clock: what :meth:`Engine.tick` does besides firing timers.

**Schedules.** Each schedule has a row in the store (``schedules``: when its next case is
due, and the last period it opened cases for). The first tick of an engine plans the rows of
schedules it does not know yet (from their first occurrence at or after that moment: a new
schedule does not open the periods before it existed) and re-plans those whose timing
changed. A tick then takes every row due, lists the periods that came due since its last
period, and opens cases by the schedule's ``catch_up``:

- ``all``: one case per due period;
- ``once``: one case, for the latest due period;
- ``skip``: one case for each due period less than ``grace`` late, none for the others.

A schedule with a ``while`` (the move-in peak's daily meeting) opens them only if its
condition holds among the estate's open cases when the tick runs; otherwise the periods pass
with nothing opened (the tick cannot know how busy the estate was while no worker ran, so
missed periods are judged by the estate as it is now).

The cases (opened by the engine, ``system``; assigned to ``actor_role`` and notified) and
the schedule row's new last period commit in one transaction, with an optimistic check on
the last period the tick read: two workers ticking together never open a period twice, and
a crash leaves the period to open again. Cases of many schedules share a transaction (up to
:data:`SCHEDULE_BATCH` schedules); if another worker was first for any of them, each is
retried alone.

**Quotas.** Each quota has a row (``quota_periods``: the period being counted, what is due
next in it — the warning or the end — and when). At the warning, people in the role still
short of the count get a ``quota_warning`` outbox row; at the period's end, each one short
gets a ``quota_breach`` row and the quota's ``on_breach`` notifications. Counts come from the
audit log: entries of the counted events recorded under the role during the period. Periods
that ended while no worker ran are reported at the next tick, each once; their warnings,
late by then, are not sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from engine.conditions import EvalContext, evaluate
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import speaking
from engine.io.library import Library
from engine.model import (
    CalendarDef,
    EstateDef,
    Notify,
    QuotaDef,
    ScheduleDef,
    localized,
    reference,
)
from engine.model.rules import DEFAULT_TIMEZONE
from engine.model.schedules import ScheduleWhile
from engine.reports import compute, indicators_of, opened, period_of
from engine.runtime.definitions import Definitions
from engine.runtime.links import LinkedTransaction, new_case
from engine.store import (
    OutboxItem,
    QuotaClaim,
    QuotaRow,
    QuotaTaken,
    ScheduleClaim,
    ScheduleRow,
    ScheduleTaken,
    Store,
)
from engine.store.linked import (
    add_schedules,
    count_events,
    due_schedules,
    open_cases,
    plan_quota,
    plan_schedule,
    quota_rows,
    schedule_rows,
)
from engine.time import WorkingCalendar
from engine.time.schedules import (
    Occurrence,
    Timetable,
    key_start,
    next_period_start,
    period_key,
    period_start,
)

#: Schedules whose cases share one transaction (one commit, one fsync).
SCHEDULE_BATCH = 200

#: The calendar of time limits, schedules and quotas that name none, in an estate without
#: one: plain elapsed time.
AROUND_THE_CLOCK = CalendarDef(
    id="24x7", hours="always", holidays="none", timezone=DEFAULT_TIMEZONE
)

#: Cases opened by schedules and quota notices written, each with its estate.
log = logging.getLogger("propflow.calendar")


def build_calendars(
    library: Library, estate: EstateDef | None
) -> tuple[dict[str, WorkingCalendar], WorkingCalendar]:
    """The library's calendars with the estate's own days (as the time limits get them), and
    the default: the estate's calendar, else around the clock."""
    closed = estate.closed if estate is not None else ()
    opened = estate.open if estate is not None else ()
    calendars = {
        located.definition.id: WorkingCalendar.from_definition(
            located.definition,
            closed if located.definition.holidays != "none" else (),
            opened if located.definition.holidays != "none" else (),
        )
        for located in library.calendars
    }
    fallback = calendars.get("24x7") or WorkingCalendar.from_definition(AROUND_THE_CLOCK)
    if estate is not None and estate.calendar is not None:
        fallback = calendars.get(estate.calendar, fallback)
    return calendars, fallback


def _spec(values: Mapping[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def schedule_spec(schedule: ScheduleDef, calendar: WorkingCalendar) -> str:
    """A hash of what decides a schedule's dates: a changed one is planned again."""
    timing = schedule.model_dump(
        include={"every", "on", "day", "month", "minus", "at", "workdays_only", "between"}
    )
    return _spec({**timing, "calendar": calendar.id, "tz": str(calendar.tz)})


@dataclass(frozen=True)
class QuotaPeriod:
    key: str
    start: datetime
    end: datetime


class QuotaClock:
    """A quota's periods on its calendar's timezone."""

    def __init__(self, quota: QuotaDef, calendar: WorkingCalendar) -> None:
        self.quota = quota
        self.tz = calendar.tz
        self.spec = _spec(
            {"period": quota.period, "warn": quota.warn, "tz": str(calendar.tz), "cal": calendar.id}
        )

    def _period(self, start: date) -> QuotaPeriod:
        end = next_period_start(self.quota.period, start)
        return QuotaPeriod(
            period_key(self.quota.period, start),
            datetime.combine(start, datetime.min.time(), tzinfo=self.tz),
            datetime.combine(end, datetime.min.time(), tzinfo=self.tz),
        )

    def containing(self, moment: datetime) -> QuotaPeriod:
        return self._period(period_start(self.quota.period, moment.astimezone(self.tz).date()))

    def by_key(self, key: str) -> QuotaPeriod:
        return self._period(key_start(self.quota.period, key))

    def after(self, period: QuotaPeriod) -> QuotaPeriod:
        return self._period(period.end.date())

    def row(self, estate: str, period: QuotaPeriod, now: datetime) -> QuotaRow:
        """The row for ``period`` as seen at ``now``: its warning next, unless the period
        has already ended (a late warning is still sent while the period runs)."""
        warn = self.quota.warn_duration
        if warn is not None and now < period.end:
            return QuotaRow(
                estate,
                self.quota.id,
                period.key,
                "warn",
                period.end - warn.as_timedelta(),
                self.spec,
            )
        return QuotaRow(estate, self.quota.id, period.key, "end", period.end, self.spec)


class CalendarJobs:
    """The schedules and quotas of one engine's library and estate.

    ``estate`` is the id the engine records on its cases; ``calendars`` are the library's
    calendars with the estate's own days (:func:`build_calendars`, made once by the engine
    for its time limits too) and ``fallback`` the one for what names none.
    """

    def __init__(
        self,
        definitions: Definitions,
        store: Store,
        estate: str,
        library: Library,
        calendars: Mapping[str, WorkingCalendar],
        fallback: WorkingCalendar,
    ) -> None:
        self.definitions = definitions
        self.store = store
        self.estate = estate
        self.timetables: dict[str, Timetable] = {}
        for located in library.schedules:
            schedule = located.definition
            if schedule.usable:
                calendar = calendars.get(schedule.calendar or "", fallback)
                self.timetables[schedule.id] = Timetable(schedule, calendar)
        self.kpis = {kpi.id: (kpi, process) for kpi, process in indicators_of(library)}
        self.quotas: dict[str, QuotaClock] = {}
        for located_quota in library.quotas:
            quota = located_quota.definition
            self.quotas[quota.id] = QuotaClock(quota, calendars.get(quota.calendar or "", fallback))
        self._planned = False

    # -- the tick ------------------------------------------------------------------------------

    def tick(self, now: datetime, limit: int) -> tuple[int, int]:
        """Open the due schedules' cases and handle the due quotas; how many cases were
        opened and how many quota notices written."""
        if not self.timetables and not self.quotas:
            return 0, 0
        if not self._planned:
            self.plan(now)
        return self._schedules(now, limit), self._quotas(now)

    def plan(self, now: datetime) -> None:
        """Give each schedule and quota a row (new ones start at ``now``); re-plan changed
        ones."""
        store, estate = self.store, self.estate
        rows = schedule_rows(store, estate)
        new: list[ScheduleRow] = []
        for schedule_id, timetable in self.timetables.items():
            spec = schedule_spec(timetable.schedule, timetable.calendar)
            row = rows.get(schedule_id)
            if row is not None and row.spec == spec:
                continue
            after = row.last_period if row is not None and self._same_kind(row, timetable) else None
            upcoming = (
                timetable.occurrences(after_period=after)
                if after is not None
                else timetable.occurrences(from_due=now)
            )
            first = next((o for o in upcoming if o.due >= now), None)
            planned = ScheduleRow(estate, schedule_id, first.due if first else None, after, spec)
            if row is None:
                new.append(planned)
            else:
                plan_schedule(store, planned, row, now)
        # New schedules in one transaction; if another engine planned some meanwhile, each
        # is tried alone (the first writer's row stands).
        if new and not add_schedules(store, new, now):
            for planned in new:
                plan_schedule(store, planned, None, now)
        existing = quota_rows(store, estate)
        for quota_id, clock in self.quotas.items():
            old = existing.get(quota_id)
            if old is not None and old.spec == clock.spec:
                continue
            plan_quota(store, clock.row(estate, clock.containing(now), now), old, now)
        self._planned = True

    @staticmethod
    def _same_kind(row: ScheduleRow, timetable: Timetable) -> bool:
        """Whether a row's last period is a key of the timetable's kind of period."""
        if row.last_period is None:
            return False
        try:
            start = key_start(timetable.kind, row.last_period)
        except ValueError:
            return False
        return period_key(timetable.kind, start) == row.last_period

    # -- schedules -----------------------------------------------------------------------------

    def _schedules(self, now: datetime, limit: int) -> int:
        store, estate = self.store, self.estate
        due = [row for row in due_schedules(store, estate, now, limit) if row.id in self.timetables]
        opened = 0
        for start in range(0, len(due), SCHEDULE_BATCH):
            batch = due[start : start + SCHEDULE_BATCH]
            try:
                opened += self._open_batch(batch, now)
            except ScheduleTaken:
                # Another worker was first for one of them: take them one by one.
                current = schedule_rows(store, estate)
                for row in batch:
                    fresh = current.get(row.id)
                    if fresh is None or fresh != row:
                        continue
                    try:
                        opened += self._open_batch([row], now)
                    except ScheduleTaken:
                        continue
        return opened

    def _open_batch(self, rows: Sequence[ScheduleRow], now: datetime) -> int:
        """Open the due periods' cases of these schedules in one transaction."""
        linked: LinkedTransaction | None = None
        claims: list[ScheduleClaim] = []
        failures: list[OutboxItem] = []
        opened: list[tuple[str, str, str]] = []  # case, schedule, period
        for row in rows:
            timetable = self.timetables[row.id]
            chosen, last, following = self._periods(row, timetable, now)
            if chosen and not self.busy(timetable.schedule.while_in_estate):
                chosen = []  # a quiet period: it passes with nothing opened
            claims.append(
                ScheduleClaim(
                    row.estate,
                    row.id,
                    row.last_period,
                    row.spec,
                    last or row.last_period,
                    following.due if following else None,
                )
            )
            for occurrence in chosen:
                # Its notice, and why it could not open, in Chinese, as every notice is
                # (engine.runtime.messages).
                with speaking("zh-CN"):
                    change, problems = self._case(timetable, occurrence, now)
                    if change is None:
                        failures.append(self._failure(timetable, occurrence, problems, now))
                        continue
                if linked is None:
                    linked = LinkedTransaction(
                        self.definitions, self.store, self.estate, change, None
                    )
                else:
                    linked.add_root(change)
                opened.append((change.record.id, row.id, occurrence.period))
        if linked is None:  # schedules that open nothing this time (skipped, filtered)
            self.store.commit((), at=now, schedules=claims, outbox=failures)
        else:
            linked.settle()
            linked.commit(schedules=claims, outbox=failures)
        for case_id, schedule_id, period in opened:
            log.info(
                "opened case %s of schedule '%s' for %s (estate %s)",
                case_id,
                schedule_id,
                period,
                self.estate,
            )
        for failure in failures:
            log.warning("%s (estate %s)", failure.message, self.estate)
        return len(opened)

    def busy(self, watched: ScheduleWhile | None) -> bool:
        """Whether a schedule's ``while`` holds in the estate now: at least ``at_least`` of
        its open cases of the process meet the condition (true for a schedule without one)."""
        if watched is None:
            return True
        # The engine's compiled process (kept per definition version) types the stored data.
        form = self.definitions.compile(self.definitions.current(watched.process)).form
        seen = 0
        with closing(open_cases(self.store, self.estate, watched.process)) as found:
            for record in found:
                context = EvalContext(data=form.typed(record.data), state=record.state)
                if watched.guard is None or evaluate(watched.guard, context):
                    seen += 1
                    if seen >= watched.at_least:
                        return True
        return False

    @staticmethod
    def _periods(
        row: ScheduleRow, timetable: Timetable, now: datetime
    ) -> tuple[list[Occurrence], str | None, Occurrence | None]:
        """The due occurrences to open by the catch-up policy, the new last period, and the
        next occurrence (``None`` when the schedule has ended)."""
        assert row.next_due is not None
        upcoming = (
            timetable.occurrences(after_period=row.last_period)
            if row.last_period is not None
            else timetable.occurrences(from_due=row.next_due)
        )
        due: list[Occurrence] = []
        following: Occurrence | None = None
        for occurrence in upcoming:
            if occurrence.due > now:
                following = occurrence
                break
            due.append(occurrence)
        if not due:
            return [], None, following
        policy = timetable.schedule.catch_up
        if policy == "all":
            chosen = due
        elif policy == "once":
            chosen = due[-1:]
        else:
            grace = timetable.schedule.grace_duration
            assert grace is not None
            chosen = [o for o in due if now - o.due <= grace.as_timedelta()]
        return chosen, due[-1].period, following

    def _case(
        self, timetable: Timetable, occurrence: Occurrence, now: datetime
    ) -> tuple[Any, list[str]]:
        schedule = timetable.schedule
        version = self.definitions.latest(schedule.process)
        values = {
            "due": occurrence.due.isoformat(),
            "date": occurrence.due.date().isoformat(),
            "period": occurrence.period,
            "previous_period": occurrence.previous,
        }
        data = {
            key: values.get(name, value) if (name := reference(value)) is not None else value
            for key, value in schedule.data.items()
        }
        data.update(self._figures(timetable, occurrence))
        note = {"schedule": schedule.id, "period": occurrence.period}
        change, problems = new_case(
            self.definitions,
            self.estate,
            version,
            data,
            now,
            assignee=schedule.actor_role,
            note=note,
        )
        if change is not None and schedule.actor_role is not None:
            label = localized(schedule.label, schedule.id)
            change.outbox.append(
                OutboxItem(
                    case_id=change.record.id,
                    kind="notify",
                    role=schedule.actor_role,
                    message=f"{label}: {occurrence.period}",
                    payload={
                        "schedule": schedule.id,
                        "period": occurrence.period,
                        "process": schedule.process,
                    },
                    created_at=now,
                )
            )
        return change, problems

    def _figures(self, timetable: Timetable, occurrence: Occurrence) -> dict[str, int]:
        """The schedule's ``figures``: each indicator's count over the previous period (the
        one the new case reports on), computed in the store."""
        schedule = timetable.schedule
        if not schedule.figures:
            return {}
        period = period_of(schedule.every, occurrence.previous, timetable.calendar.tz)
        found: dict[str, int] = {}
        for name, figure in schedule.figures.items():
            kpi, process = self.kpis[figure.kpi]
            if figure.count == "opened":
                found[name] = opened(self.store, self.estate, kpi, process, period)
                continue
            result = compute(self.store, self.estate, kpi, process, period)
            counts = {
                "numerator": result.counts.numerator,
                "denominator": result.counts.denominator,
                "missed": result.missed_count,
            }
            found[name] = counts[figure.count]
        return found

    def _failure(
        self,
        timetable: Timetable,
        occurrence: Occurrence,
        problems: Sequence[str],
        now: datetime,
    ) -> OutboxItem:
        schedule = timetable.schedule
        return OutboxItem(
            case_id=None,
            kind="schedule_failed",
            role=schedule.actor_role,
            message=say(
                "refusal.schedule_failed",
                schedule=schedule.id,
                period=occurrence.period,
                problems=say("words.semicolon").join(problems),
            ),
            payload={"schedule": schedule.id, "period": occurrence.period},
            created_at=now,
            estate=self.estate,
        )

    # -- quotas --------------------------------------------------------------------------------

    def _quotas(self, now: datetime) -> int:
        store, estate = self.store, self.estate
        notices = 0
        for quota_id, row in quota_rows(store, estate).items():
            clock = self.quotas.get(quota_id)
            if clock is None or row.spec != clock.spec:
                continue
            while row.next_due <= now:
                period = clock.by_key(row.period)
                late = row.stage == "warn" and now >= period.end  # a warning too late to send
                items = [] if late else self._notices(clock, row, period, now)
                if row.stage == "warn":
                    following = QuotaRow(
                        estate, quota_id, row.period, "end", period.end, clock.spec
                    )
                else:
                    following = clock.row(estate, clock.after(period), now)
                try:
                    store.commit((), at=now, outbox=items, quota=QuotaClaim(row, following))
                except QuotaTaken:
                    break
                for item in items:
                    log.info(
                        "%s of quota '%s': %s (estate %s)",
                        item.kind,
                        quota_id,
                        item.message,
                        estate,
                    )
                notices += len(items)
                row = following
        return notices

    def _notices(
        self, clock: QuotaClock, row: QuotaRow, period: QuotaPeriod, now: datetime
    ) -> list[OutboxItem]:
        """The warnings (``stage == 'warn'``) or breaches of a quota's period."""
        quota = clock.quota
        done = self.counts(quota, period.start, period.end)  # so far, at a warning
        label = localized(quota.label, quota.id)
        items: list[OutboxItem] = []
        for actor, count in sorted(done.items()):
            if count >= quota.count:
                continue
            payload = {
                "quota": quota.id,
                "period": period.key,
                "actor": actor,
                "done": count,
                "count": quota.count,
                "ends": period.end.isoformat(),
            }
            who = actor if quota.per == "actor" else quota.role
            text = f"{label}: {who} {count}/{quota.count} ({period.key})"
            kind = "quota_warning" if row.stage == "warn" else "quota_breach"
            items.append(OutboxItem(None, kind, quota.role, text, payload, now, estate=self.estate))
            if row.stage == "end":
                for action in quota.on_breach:
                    if isinstance(action, Notify):
                        message = localized(action.message, text) if action.message else text
                        items.append(
                            OutboxItem(
                                None,
                                "notify",
                                action.role,
                                message,
                                {**payload, "hook": "breach"},
                                now,
                                estate=self.estate,
                            )
                        )
        return items

    def counts(self, quota: QuotaDef, start: datetime, end: datetime) -> dict[str, int]:
        """How many counted events each person (or the role, as ``*``) recorded from ``start``
        to ``end``; everyone held to the quota is listed, at 0 when they recorded none."""
        store, estate = self.store, self.estate
        done = count_events(
            store, estate, quota.role, start, end, events=quota.counts.event, process=quota.process
        )
        if quota.per == "role":
            return {"*": sum(done.values())}
        seen = count_events(store, estate, quota.role, start, end, events=None, process=None)
        for actor in (*quota.actors, *seen):
            done.setdefault(actor, 0)
        return done

    def quota_status(self, quota_id: str, now: datetime) -> dict[str, int]:
        """The counts of a quota's current period so far (for reports and tests)."""
        clock = self.quotas[quota_id]
        period = clock.containing(now)
        return self.counts(clock.quota, period.start, period.end)
