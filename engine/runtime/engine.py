"""The engine: open cases, fire events, and answer what may be done next.

An application embeds one :class:`Engine` per library and store; engines share no state, so
two of them in one process never see each other's cases. Every accepted event goes through
the same steps — the case's definition version, the state, the actor's role, the payload's
types, the guard, the required fields, the machine, the actions — and is written in one
transaction; every refusal is a typed :class:`~engine.runtime.errors.EventRefused` raised
before anything is written.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from engine.checks.validation import validate_library
from engine.diagnostics import suggest
from engine.diagnostics.catalogue import say
from engine.diagnostics.positions import has_lone_surrogate
from engine.io.library import ValidatedLibrary
from engine.io.loading import UsageError
from engine.model import ProcessDef, TimeLimitDef, localized
from engine.model.process import SYSTEM_ROLE
from engine.runtime.actor import SYSTEM_ACTOR, Actor
from engine.runtime.calendar_jobs import CalendarJobs, build_calendars
from engine.runtime.case import Case, EventOption, replay
from engine.runtime.change import CaseChange, Effects, acting_role, apply_actions, check_event
from engine.runtime.clock import Clock, SystemClock
from engine.runtime.definitions import Definitions
from engine.runtime.errors import (
    ConflictError,
    EventNotAllowed,
    EventRefused,
    ExtensionRefused,
    FieldError,
    GuardRefused,
    IdempotencyConflict,
    InvalidArgument,
    LibraryError,
    RoleRefused,
    UnknownCase,
)
from engine.runtime.forms import MAX_TEXT_CHARS, Form
from engine.runtime.links import Link, LinkedTransaction, children_view, links, remembered, settled
from engine.runtime.machine import CompiledProcess
from engine.runtime.messages import LimitMoment, warning_message
from engine.runtime.parties import posts_held, roles_on_case
from engine.runtime.patterns import PatternStep
from engine.sla import (
    RUNNING,
    ClockStatus,
    ExtensionDenied,
    ExtensionRequest,
    TimerKind,
    clock_status,
    grant_extension,
)
from engine.store import (
    CaseQuery,
    CaseRecord,
    CaseWrite,
    ClockChange,
    ClockRecord,
    DuplicateRequest,
    LogEntry,
    OutboxItem,
    Store,
    StoreConflict,
    TimerRecord,
    TimerTaken,
    VersionConflict,
    typed_failure,
)
from engine.time import CalendarError

DEFAULT_ESTATE = "standard"

#: Timers fired, retired and held back, each with its case, kind, limit and estate.
log = logging.getLogger("propflow.timers")

#: Timers fired per transaction by :meth:`Engine.tick`: one commit (one fsync) per batch
#: instead of per timer, while a batch holds the write lock (SQLite) or its cases' rows
#: (PostgreSQL) for a short while only.
TICK_BATCH = 200

#: The longest idempotency key the store keeps (``case_log.idempotency_key``).
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class CaseView:
    """A case with its clocks, links and audit trail, as of one moment
    (:meth:`Engine.case_view`)."""

    case: Case
    clocks: list[ClockStatus]
    links: list[Link]
    history: list[LogEntry]


@dataclass(frozen=True)
class TickResult:
    """What one :meth:`Engine.tick` did: timers fired, and timers left for a later tick."""

    fired: int
    skipped: int
    #: Cases opened by schedules (see :mod:`engine.runtime.calendar_jobs`).
    opened: int = 0
    #: Quota warnings and breaches written to the outbox.
    quota_notices: int = 0
    #: Due timers left pending because neither their case's definition version nor this
    #: engine's library gives their time limit on a calendar it has (a worker on the wrong
    #: library, for a case stored by an earlier release): a worker that has fires them.
    held: int = 0
    #: Matches of the library's patterns committed (see :mod:`engine.runtime.patterns`).
    matched: int = 0


class Engine:
    """Runs the processes of a validated library against a store.

    ``library`` is a :class:`~engine.io.library.ValidatedLibrary` (from
    :func:`~engine.checks.validation.validate_paths` or
    :func:`~engine.checks.validation.validate_estate`),
    which several engines may share; or, for convenience, a directory (or several) of
    process and rules files to validate here, by default the shipped standard library, with
    ``estate`` an estate directory customising it. With an estate, the cases record the
    estate's id and its calendar and own days apply. ``store`` is a database URL or a SQLite
    file path. ``clock`` gives "now" (inject a :class:`~engine.runtime.clock.ManualClock` in
    tests).
    """

    def __init__(
        self,
        library: ValidatedLibrary | str | Path | Sequence[str | Path] | None = None,
        store: str | Store = "sqlite:///cases.db",
        clock: Clock | None = None,
        estate: str | Path | None = None,
    ) -> None:
        if not isinstance(store, (str, Store)):
            raise InvalidArgument(f"store is a database URL or a Store, not {store!r:.60}")
        if isinstance(library, ValidatedLibrary):
            if estate is not None:
                raise InvalidArgument("estate is given with library paths, not a validated library")
            validated = library
        else:
            validated = _validate(library, estate)
        errors = validated.errors
        if errors:
            first = errors[0]
            raise LibraryError(
                say(
                    "refusal.library",
                    count=len(errors),
                    where=f"{first.span.file}:{first.span.line}:{first.span.column}",
                    code=first.code,
                    message=first.message,
                ),
                list(validated.diagnostics),
            )
        loaded, estate_def = validated.library, validated.estate
        self._processes: dict[str, ProcessDef] = {
            located.definition.id: located.definition for located in loaded.processes
        }
        try:
            calendars, fallback = build_calendars(loaded, estate_def)
        except CalendarError as error:
            raise LibraryError(say("refusal.calendar", error=error), []) from None
        self._limits: dict[str, list[TimeLimitDef]] = defaultdict(list)
        for located in loaded.time_limits:
            self._limits[located.definition.process].append(located.definition)
        #: Ids of the due timers held back at the last tick (each is logged once).
        self._held: frozenset[int] = frozenset()
        self.store = Store(store) if isinstance(store, str) else store
        #: The versions new cases open on and those stored cases run on: each a process with
        #: its time limits' planners.
        self.definitions = Definitions(
            self._processes, self._limits, calendars, fallback, self.store
        )
        self.clock: Clock = clock or SystemClock()
        #: The library the engine runs: its processes, time limits and indicators.
        self.library = loaded
        #: The estate's definition, when the engine runs one.
        self.estate_definition = estate_def
        #: The id recorded on every case this engine opens.
        self.estate = estate_def.id if estate_def is not None else DEFAULT_ESTATE
        #: Schedules and quotas of the library, fired by :meth:`tick`.
        self.calendar_jobs = CalendarJobs(
            self.definitions, self.store, self.estate, loaded, calendars, fallback
        )
        #: The library's patterns over the estate's log, run by :meth:`tick`.
        self.pattern_step = PatternStep(
            self.definitions, self.store, self.estate, loaded, calendars, fallback
        )

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    @property
    def held_back(self) -> int:
        """Due timers the last :meth:`tick` left pending for want of their time limit."""
        return len(self._held)

    @property
    def processes(self) -> list[str]:
        """Ids of the processes this engine can open."""
        return self.definitions.ids

    def definition(self, process: str) -> ProcessDef:
        """The current definition of a process."""
        return self.definitions.current(process)

    def definition_version(self, process: str) -> str:
        """The definition version new cases of a process open on (and record): its current
        definition with its time limits."""
        return self.definitions.latest(process).id

    def case_definition(self, case_id: str) -> ProcessDef:
        """The definition version a case runs on (the one it was opened on)."""
        return self.definitions.of_case(self._record(case_id)).process

    # Opening -------------------------------------------------------------------------------

    def open_case(self, process: str, data: Mapping[str, Any] | None, actor: Actor) -> Case:
        """Open a case of ``process`` with the form's initial ``data``, as ``actor``."""
        _check_actor(actor)
        version = self.definitions.latest(process)
        definition = version.process
        compiled = self.definitions.compile(definition)
        now = self.clock.now()
        case_id = str(uuid.uuid4())
        if SYSTEM_ROLE in actor.roles:
            raise RoleRefused("(new)", "-", "open", say("refusal.system", system=SYSTEM_ROLE))
        data = {} if data is None else data
        # A post the actor holds first: only someone with none opens as a party.
        role = acting_role(posts_held(actor, definition), definition.roles) or acting_role(
            actor.roles, definition.roles
        )
        if role is None:
            raise RoleRefused(
                "(new)",
                "-",
                "open",
                say(
                    "refusal.open_role",
                    actor=actor.id,
                    process=process,
                    roles=", ".join(definition.roles),
                ),
            )
        if role in definition.parties:
            data = _opened_by_party(data, actor, role, definition.parties[role])
        values, problems = compiled.form.validate(data)
        initial = {**compiled.form.defaults(), **values}
        required = [fid for fid, f in definition.fields.items() if f.required]
        problems += [
            say("refusal.missing", field=name) for name in compiled.form.missing(initial, required)
        ]
        if problems:
            raise FieldError("(new)", compiled.initial, "open", problems)
        blank = CaseRecord.blank(case_id, self.estate, process, version.id, compiled.initial, now)
        change = self._change(compiled, blank, {}, now)
        effects = apply_actions(compiled, case_id, compiled.enter_initial(), None, now)
        changes = {**initial, **effects.changes}
        change.record_entry(
            "open", actor.id, role, compiled.initial, values, changes, effects, opening=True
        )
        for follow in effects.follow_ups:  # 'fire' actions on entering the initial state
            try:
                change.fire(follow, SYSTEM_ACTOR, {})
            except EventRefused as refusal:
                change.entries[-1].actions.append({"fire": follow, "skipped": refusal.reason})
        self.definitions.save(version, now)
        self._commit(None, change)
        return Case.from_record(change.result())

    # Firing --------------------------------------------------------------------------------

    def fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        expected_version: int | None = None,
    ) -> Case:
        """Fire ``event`` on a case as ``actor`` with ``payload``; return the updated case.

        With an ``idempotency_key`` a retried request (the same event, actor and payload)
        returns the first result and writes nothing; another request with the key is refused
        (:class:`IdempotencyConflict`). With ``expected_version`` the event is refused
        (:class:`ConflictError`) if the case moved on since the caller read it.

        The case and its clocks are read in the transaction that writes the event: one
        connection and one commit per event (on SQLite shared with the events other threads
        fire at the same moment: :meth:`Store.transaction`), and on SQLite (which then holds
        the write lock from the read on) nobody can change the case in between. The version
        check stays: PostgreSQL reads without locking. An event whose actions open or signal
        other cases is written with them in a transaction of their own after this one ends,
        the version check of each case deciding there; actions that reach no case leave the
        event to be written in its own transaction as any other.
        """
        _check_actor(actor)
        earlier: LogEntry | None = None
        linked: LinkedTransaction | None = None
        try:
            with self.store.transaction() as tx:
                record, clocks = self._record_and_clocks(case_id, tx)
                # The engine's own events (timers, 'fire' actions) never come through here,
                # so no caller may act as the system, not even with SYSTEM_ACTOR itself.
                if SYSTEM_ROLE in actor.roles:
                    raise RoleRefused(
                        case_id,
                        record.state,
                        event,
                        say("refusal.system", system=SYSTEM_ROLE),
                    )
                _check_key(idempotency_key)
                if idempotency_key is not None:
                    earlier = self.store.find_entry(case_id, idempotency_key, tx)
                if earlier is None:
                    change, linked = self._fired(
                        tx,
                        record,
                        clocks,
                        event,
                        actor,
                        payload,
                        idempotency_key,
                        expected_version,
                    )
            if earlier is not None:  # replayed outside the transaction: it reads the log
                return self._result_of(record, earlier, event, actor, payload)
            if linked is not None:
                linked.commit()
        except DuplicateRequest:
            assert idempotency_key is not None
            earlier = self.store.find_entry(case_id, idempotency_key)
            assert earlier is not None
            return self._result_of(self._record(case_id), earlier, event, actor, payload)
        except (VersionConflict, StoreConflict):
            # A concurrent retry of this very request may have won: then its result is ours.
            # The database breaking a deadlock with another process's writers is such a race.
            earlier = self.store.find_entry(case_id, idempotency_key) if idempotency_key else None
            if earlier is not None:
                return self._result_of(self._record(case_id), earlier, event, actor, payload)
            raise ConflictError(
                case_id,
                record.state,
                event,
                say("refusal.concurrent"),
            ) from None
        return Case.from_record(change.result())

    def _fired(
        self,
        tx: Connection,
        record: CaseRecord,
        clocks: Mapping[str, ClockRecord],
        event: str,
        actor: Actor,
        payload: Mapping[str, Any] | None,
        idempotency_key: str | None,
        expected_version: int | None,
    ) -> tuple[CaseChange, LinkedTransaction | None]:
        """The case changed by the event, written in ``tx`` unless its actions reach other
        cases: then the cases to write with it, which ``tx`` does not hold."""
        if expected_version is not None and (
            not isinstance(expected_version, int) or isinstance(expected_version, bool)
        ):
            raise FieldError(
                record.id,
                record.state,
                event,
                [say("refusal.expected_version", value=f"{expected_version!r:.40}")],
            )
        if expected_version is not None and expected_version != record.version:
            raise ConflictError(
                record.id,
                record.state,
                event,
                say("refusal.stale", version=record.version, expected=expected_version),
            )
        compiled = self.definitions.of_case(record, tx)
        change = self._change(compiled, record, clocks, self.clock.now(), tx)
        change.fire(event, actor, payload or {})
        change.keyed(idempotency_key)
        if change.pending:
            linked = self._settle(change, record.version, tx=tx)
            if not linked.alone:
                return change, linked
        self.store.commit([change.write(record.version)], at=change.now, tx=tx)
        return change, None

    # Time limits ---------------------------------------------------------------------------

    def tick(self, now: datetime | None = None, limit: int = 1000) -> TickResult:
        """Fire every timer due by ``now`` (default: the clock's now), at most ``limit``.

        A timer's effects and its being marked fired commit together, and only if no other
        worker fired it first, so a timer fires exactly once even across crashes and
        concurrent workers. Timers are fired in batches of :data:`TICK_BATCH`, one
        transaction per batch and a savepoint per timer: a timer whose case changed at the
        same moment (or that another worker took) is undone alone and left for the next
        tick; a crash before the commit leaves the whole batch unfired, to fire again.
        """
        moment = now or self.clock.now()
        due, unknown = self.store.due_timers_of(moment, limit, self.estate, self.definitions.fires)
        fired = skipped = 0
        for start in range(0, len(due), TICK_BATCH):
            batch_fired, batch_skipped = self._fire_batch(due[start : start + TICK_BATCH], moment)
            fired += batch_fired
            skipped += batch_skipped
        held = self._hold_back(unknown)
        # Schedules open their due periods' cases; quotas warn and report breaches.
        opened, notices = self.calendar_jobs.tick(moment, limit)
        matched = self.pattern_step.tick(moment, limit)
        return TickResult(fired, skipped, opened, notices, held, matched)

    def due_timers(self, now: datetime, limit: int) -> list[TimerRecord]:
        """The timers due by ``now`` that this engine can fire, soonest first: of its
        estate's cases, and of the time limits their definition versions have (on calendars
        its library has)."""
        return self.store.due_timers_of(now, limit, self.estate, self.definitions.fires)[0]

    def _hold_back(self, unknown: Sequence[TimerRecord]) -> int:
        """Count (and log once each) the due timers this engine must not fire.

        A timer is fired on its case's definition version, stored with the case: a library
        that changed or dropped the limit since still fires it as the version says. One this
        engine cannot fire — the version has the limit on a calendar this library lacks, or
        the version was stored without its limits (by an earlier release) and this library
        has no such limit for the process, as for a worker started on the wrong library — is
        left pending, never retired: a worker that has them fires it later.
        """
        held = frozenset(timer.id for timer in unknown if timer.id is not None)
        for timer in unknown:
            if timer.id not in self._held:
                log.warning(
                    "held back timer %s (%s of time limit '%s') on case %s of estate %s: "
                    "neither the case's definition version nor this library gives the time "
                    "limit on a calendar this library has; it stays pending for a worker "
                    "that has them",
                    timer.id,
                    timer.kind,
                    timer.name,
                    timer.case_id,
                    self.estate,
                )
        self._held = held
        return len(unknown)

    def _fire_batch(self, batch: Sequence[TimerRecord], now: datetime) -> tuple[int, int]:
        """Fire a batch of timers in one transaction; how many fired and how many skipped.

        Set-based: the batch's cases, their clocks and its timers still waiting are read
        (and on PostgreSQL locked) in three queries, each timer's change is worked out in
        memory, and the changes are written together (:class:`_Batch`), a statement for each
        kind of row. A case a timer changed is kept up to date for its next timer in the
        batch; a case whose timers another worker holds is skipped, for a later tick.
        """
        skipped = 0
        # The timers fired, with their case's process and whether they were only retired.
        done: list[tuple[TimerRecord, str, bool]] = []
        failure: Exception | None = None
        with self.store.transaction() as tx:
            records, clocks, waiting = self.store.lock_due(batch, tx)
            pending = _Batch(self.store, now, tx)
            for timer in batch:
                record = records.get(timer.case_id)
                if record is None or timer.id not in waiting:  # held by another worker
                    skipped += 1
                    continue
                try:
                    change, retired = self._fire_timer(timer, record, clocks[record.id], now)
                    if change.pending:  # 'open'/'signal' actions: other cases in the write
                        skipped += pending.write()
                        reached = self._commit_linked(change, record, timer, tx)
                        if reached is None:
                            skipped += 1
                            del records[record.id]
                            continue
                        for case_id in reached:  # read again on a later tick
                            records.pop(case_id, None)
                        done.append((timer, record.process, retired))
                    else:
                        if record.id in pending.cases:  # a case is written once per commit
                            skipped += pending.write()
                        pending.add(change.write(record.version), timer, record.process, retired)
                except Exception as error:  # commit what fired before it, then raise
                    failure = error
                    break
                records[record.id] = change.result()
                clocks[record.id] = dict(change.clocks)
            skipped += pending.write()
            done.extend(pending.done)
        # Said once committed, and outside the transaction: a slow log never holds the lock.
        for timer, process, retired in done:
            log.info(
                "%s %s of time limit '%s' on case %s (%s, estate %s)%s",
                "retired" if retired else "fired",
                timer.kind,
                timer.name,
                timer.case_id,
                process,
                self.estate,
                ": the clock no longer runs" if retired else "",
            )
        if failure is not None:
            typed = typed_failure(failure)  # a database's error leaves as a StoreError
            if typed is failure:
                raise failure
            raise typed from failure
        return len(done), skipped

    def _commit_linked(
        self, change: CaseChange, record: CaseRecord, timer: TimerRecord, tx: Connection
    ) -> list[str] | None:
        """Write a timer's change whose actions reach other cases, with them and the timer
        fired, in a savepoint of ``tx``: the ids of the cases written, or ``None`` if one of
        them moved on (the timer then fires on a later tick)."""
        assert timer.id is not None
        try:
            with tx.begin_nested():
                linked = self._settle(change, record.version, lenient=True, tx=tx)
                linked.commit(tx=tx, fired_timers=(timer.id,))
        except (TimerTaken, VersionConflict, DuplicateRequest):
            return None
        return list(linked.changes)

    def _fire_timer(
        self,
        timer: TimerRecord,
        record: CaseRecord,
        clocks: Mapping[str, ClockRecord],
        now: datetime,
    ) -> tuple[CaseChange, bool]:
        """A timer fired on its case, not yet written: the change, and whether the timer
        was only retired (its clock had stopped)."""
        compiled = self.definitions.of_case(record)
        clock = clocks.get(timer.name)
        # The due timers this engine reads are of limits their case's version has (see
        # due_timers); a move to a version without the limit withdraws its timers.
        planner = self.definitions.planner_of(record).limits[timer.name]
        change = self._change(compiled, record, clocks, now)
        if clock is None or clock.status != RUNNING:
            # The clock stopped without withdrawing this timer: retire it with a note in
            # the log rather than act on a clock that no longer runs.
            change.record_entry(
                f"{timer.kind}:{timer.name}",
                SYSTEM_ACTOR.id,
                SYSTEM_ROLE,
                change.state,
                {},
                {},
                Effects(
                    assignee=change.assignee, records=[{"retired": "the clock no longer runs"}]
                ),
            )
            return change, True
        index = int(timer.payload.get("index", 0))
        limit = planner.limit
        actions = {
            "breach": limit.on_breach,
            "due": limit.on_due,
            "tier": limit.tiers[index].actions if index < len(limit.tiers) else (),
            "warning": (),
        }.get(timer.kind, ())
        when = timer.due_at if timer.kind == "due" else clock.deadline
        moment = LimitMoment(
            limit, timer.kind, when.astimezone(planner.calendar.tz) if when else None, index
        )
        effects = apply_actions(
            compiled,
            record.id,
            [(timer.kind, a) for a in actions],
            change.assignee,
            now,
            moment,
        )
        if timer.kind == "warning":
            effects.outbox.append(
                OutboxItem(
                    case_id=record.id,
                    kind="warning",
                    role=change.assignee,
                    message=warning_message(compiled.process, record.id, moment, change.assignee),
                    payload={
                        "process": record.process,
                        "hook": "warning",
                        "limit": limit.id,
                        "deadline": moment.deadline_iso,
                    },
                    created_at=now,
                )
            )
        updated = planner.fired(clock, TimerKind(timer.kind), index, now)
        timers = planner.timers(updated) if timer.kind == "due" else None
        change.change_clocks([ClockChange(record.id, timer.name, updated, timers)])
        change.record_entry(
            f"{timer.kind}:{timer.name}",
            SYSTEM_ACTOR.id,
            SYSTEM_ROLE,
            change.state,
            {},
            dict(effects.changes),
            effects,
        )
        for follow in effects.follow_ups:
            try:
                change.fire(follow, SYSTEM_ACTOR, {})
            except EventRefused as refusal:
                change.entries[-1].actions.append({"fire": follow, "skipped": refusal.reason})
        return change, False

    def extend(
        self,
        case_id: str,
        limit_id: str,
        actor: Actor,
        *,
        reason: str,
        by: str | None = None,
        until: datetime | None = None,
        consents: Iterable[str] = (),
    ) -> ClockStatus:
        """Move a running clock's deadline: ``by`` a duration (on its calendar) or ``until``,
        as its rule's ``extend:`` allows (:mod:`engine.sla.extension`). The extension is
        written to the audit log.
        """
        _check_actor(actor)
        consenting = _check_extension(reason, by, until, consents)
        record = self._record(case_id)
        event = f"extend:{limit_id}"
        limits = self.definitions.planner_of(record).limits
        planner = limits.get(limit_id) if isinstance(limit_id, str) else None
        clocks = self._clocks(record)
        if planner is None:
            raise ExtensionRefused(
                case_id,
                record.state,
                event,
                say(
                    "refusal.no_limit",
                    process=record.process,
                    limit=limit_id,
                    hint=suggest(limit_id, limits),
                ),
            )
        now = self.clock.now()
        held = roles_on_case(actor, self.definitions.of_case(record).process, record.data)
        request = ExtensionRequest(actor.id, held, reason, by, until, consenting)
        try:
            granted = grant_extension(planner, clocks.get(limit_id), request, now)
        except ExtensionDenied as denied:
            raise ExtensionRefused(case_id, record.state, event, denied.reason) from None
        change = self._change(self.definitions.of_case(record), record, clocks, now)
        change.change_clocks([ClockChange(case_id, limit_id, granted.clock, granted.timers)])
        change.record_entry(
            event,
            actor.id,
            granted.role,
            change.state,
            granted.entry,
            {},
            Effects(assignee=change.assignee),
        )
        try:
            self._commit(record, change)
        except VersionConflict:
            raise ConflictError(case_id, record.state, event, say("refusal.concurrent")) from None
        return clock_status(granted.clock, planner.limit, planner.calendar, now)

    def sla_status(self, case_id: str, now: datetime | None = None) -> list[ClockStatus]:
        """Every clock of the case: deadline, working time used and left, warnings, breaches."""
        _check_moment(now, "now")
        record = self._record(case_id)
        return self._statuses(record, self.store.clocks(case_id), now or self.clock.now())

    def case_view(self, case_id: str, now: datetime | None = None) -> CaseView:
        """A case with its clocks (as of ``now``, default the clock's now), links and audit
        trail, read in one transaction: the parts agree with each other (the trail ends at
        the case's version) even while others write to the case."""
        _check_moment(now, "now")
        with self.store.reading() as tx:
            record = self._record(case_id, tx)
            clocks = self.store.clocks(case_id, tx)
            found = links(self.store, case_id, tx)
            history = self.store.history(case_id, tx=tx)
        statuses = self._statuses(record, clocks, now or self.clock.now())
        return CaseView(Case.from_record(record), statuses, found, history)

    def _statuses(
        self, record: CaseRecord, clocks: Sequence[ClockRecord], moment: datetime
    ) -> list[ClockStatus]:
        """The status at ``moment`` of the case's clocks whose time limit its version has."""
        planners = self.definitions.planner_of(record).limits
        return [
            clock_status(
                clock, planners[clock.limit_id].limit, planners[clock.limit_id].calendar, moment
            )
            for clock in clocks
            if clock.limit_id in planners
        ]

    def time_limits(self, process: str) -> list[TimeLimitDef]:
        """The time limits that apply to a process's cases."""
        return list(self._limits.get(process, ()))

    def _change(
        self,
        compiled: CompiledProcess,
        record: CaseRecord,
        clocks: Mapping[str, Any],
        now: datetime,
        tx: Connection | None = None,
    ) -> CaseChange:
        planner = self.definitions.planner_of(record, tx)
        change = CaseChange(compiled, record, clocks, planner, now)
        # Guards that read the case's child cases load them from the store when evaluated.
        change.children = children_view(self.store, self.definitions, record.id, tx)
        return change

    def _clocks(self, record: CaseRecord, tx: Connection | None = None) -> dict[str, ClockRecord]:
        return {clock.limit_id: clock for clock in self.store.clocks(record.id, tx)}

    def _commit(self, record: CaseRecord | None, change: CaseChange) -> None:
        """Write a change of ``record`` (``None``: of a new case), with the cases its link
        actions reach, in one commit."""
        expected = None if record is None else record.version
        if change.pending:  # 'open'/'signal' actions: several cases in one transaction
            self._settle(change, expected).commit()
            return
        self.store.commit([change.write(expected)], at=change.now)

    def _settle(
        self,
        change: CaseChange,
        expected: int | None,
        *,
        lenient: bool = False,
        tx: Connection | None = None,
    ) -> LinkedTransaction:
        """The change's link actions carried out (see :func:`engine.runtime.links.settled`)."""
        return settled(
            self.definitions, self.store, self.estate, change, expected, lenient=lenient, tx=tx
        )

    # Reading -------------------------------------------------------------------------------

    def links(self, case_id: str) -> list[Link]:
        """The case's parent, child and related cases (opened by ``open`` actions), with
        their process and current state: parent first, then children, then related."""
        self._record(case_id)
        return links(self.store, case_id)

    def get_case(self, case_id: str) -> Case:
        """A case by id (:class:`UnknownCase` if there is none)."""
        return Case.from_record(self._record(case_id))

    def query_cases(
        self,
        *,
        estate: str | None = None,
        process: str | None = None,
        state: str | None = None,
        assignee: str | None = None,
        opened_from: datetime | None = None,
        opened_to: datetime | None = None,
        limit: int = 100,
    ) -> list[Case]:
        """Cases matching every given filter, newest first (``opened_to`` excluded)."""
        _check_moment(opened_from, "opened_from")
        _check_moment(opened_to, "opened_to")
        unstorable = False  # text no database can store is the value of no case
        for name, value in (
            ("estate", estate),
            ("process", process),
            ("state", state),
            ("assignee", assignee),
        ):
            if value is not None and not isinstance(value, str):
                raise InvalidArgument(f"{name} is text, not {value!r:.60}")
            unstorable = unstorable or (value is not None and has_lone_surrogate(value))
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise InvalidArgument(f"limit is a whole number above 0, not {limit!r:.60}")
        if unstorable:
            return []
        query = CaseQuery(estate, process, state, assignee, opened_from, opened_to, limit)
        return [Case.from_record(r) for r in self.store.query_cases(query)]

    def history(self, case_id: str) -> list[LogEntry]:
        """The case's audit trail, oldest first."""
        self._record(case_id)
        return self.store.history(case_id)

    def outbox(self, case_id: str | None = None) -> list[OutboxItem]:
        """Notifications written by events (of one case, or all), oldest first."""
        return self.store.outbox_items(case_id)

    def available_events(self, case_id: str, actor: Actor) -> list[EventOption]:
        """Every event of the case's process, whether ``actor`` may fire it now, and why not.

        The guard is evaluated on the case's current data; an event whose guard depends on
        the payload may still be accepted with the right payload. ``needs`` lists the
        required fields the payload must still fill in.
        """
        _check_actor(actor)
        record = self._record(case_id)
        compiled = self.definitions.of_case(record)
        options = []
        children = remembered(children_view(self.store, self.definitions, case_id))
        for eid, event_def in compiled.process.events.items():
            reason: str | None = None
            try:
                check_event(
                    compiled,
                    case_id,
                    record.state,
                    record.data,
                    eid,
                    actor,
                    {},
                    check_required=False,
                    children=children,
                )
            except (EventNotAllowed, RoleRefused, GuardRefused, FieldError) as refusal:
                reason = refusal.reason
            merged = {**record.data, **dict(event_def.assigns)}
            options.append(
                EventOption(
                    event=eid,
                    label=localized(event_def.label, eid),
                    allowed=reason is None,
                    reason=reason,
                    target=event_def.target,
                    needs=tuple(compiled.form.missing(merged, list(event_def.requires))),
                )
            )
        return options

    # Internals -----------------------------------------------------------------------------

    def _record(self, case_id: str, tx: Connection | None = None) -> CaseRecord:
        """A case of this engine's estate: another estate's cases run on its own rules (read
        in ``tx`` if given)."""
        _check_case_id(case_id)
        return self._of_estate(case_id, self.store.get_case(case_id, tx))

    def _record_and_clocks(
        self, case_id: str, tx: Connection
    ) -> tuple[CaseRecord, dict[str, ClockRecord]]:
        """A case of this engine's estate (see :meth:`_record`) with its clocks, read in
        ``tx`` together."""
        _check_case_id(case_id)
        found = self.store.case_and_clocks(case_id, tx)
        record = self._of_estate(case_id, None if found is None else found[0])
        assert found is not None
        return record, found[1]

    def _of_estate(self, case_id: str, record: CaseRecord | None) -> CaseRecord:
        """The case read, if there is one and it is of this engine's estate."""
        if record is None:
            raise UnknownCase(case_id)
        if record.estate != self.estate:
            raise UnknownCase(
                case_id, say("refusal.other_estate", estate=record.estate, here=self.estate)
            )
        return record

    def _result_of(
        self,
        record: CaseRecord,
        entry: LogEntry,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any] | None,
    ) -> Case:
        """The case as the first request with this idempotency key left it, if this request
        is that one again (same event, actor and payload); else :class:`IdempotencyConflict`."""
        history = self.store.history(record.id, up_to_version=entry.version)
        compiled = self.definitions.of_case(record)
        different = _differs(_requested_entry(history), event, actor, payload, compiled.form)
        if different is not None:
            raise IdempotencyConflict(
                record.id,
                record.state,
                event,
                say("refusal.idempotency", key=entry.idempotency_key, used=different),
            )
        state, data, assignee = replay(history)
        states = compiled.process.states
        closed_at = next(
            (e.at for e in history if e.to_state in states and states[e.to_state].final), None
        )
        return replace(
            Case.from_record(record),
            state=state,
            data=data,
            assignee=assignee,
            version=history[-1].version,
            updated_at=history[-1].at,
            closed_at=closed_at,
        )


class _Batch:
    """Timers' changes waiting to be written together in a batch's transaction, each case
    once (:meth:`Store.commit` writes a case once per commit)."""

    def __init__(self, store: Store, now: datetime, tx: Connection) -> None:
        self.store = store
        self.now = now
        self.tx = tx
        #: The cases written by :meth:`write`, and the timers fired with them.
        self.done: list[tuple[TimerRecord, str, bool]] = []
        self.cases: set[str] = set()
        self._writes: list[CaseWrite] = []
        self._timers: list[tuple[TimerRecord, str, bool]] = []

    def add(self, write: CaseWrite, timer: TimerRecord, process: str, retired: bool) -> None:
        self._writes.append(write)
        self._timers.append((timer, process, retired))
        self.cases.add(write.case.id)

    def write(self) -> int:
        """Write the changes waiting, with their timers fired, in a savepoint; the number of
        timers skipped (all of them if a case moved on or a timer was taken: the savepoint
        is undone and they fire on a later tick, which the locks of :meth:`Store.lock_due`
        make a case that does not arise)."""
        writes, timers = self._writes, self._timers
        self._writes, self._timers, self.cases = [], [], set()
        if not writes:
            return 0
        fired = [timer.id for timer, _, _ in timers if timer.id is not None]
        try:
            with self.tx.begin_nested():
                self.store.commit(writes, at=self.now, fired_timers=fired, tx=self.tx)
        except (TimerTaken, VersionConflict):
            return len(timers)
        self.done.extend(timers)
        return 0


def _check_case_id(case_id: object) -> None:
    """Refuse a case id no case can have (not text, or text no database can store)."""
    if not isinstance(case_id, str) or has_lone_surrogate(case_id):
        raise UnknownCase(repr(case_id)[:80])


def _opened_by_party(
    data: Mapping[str, Any], actor: Actor, role: str, field: str
) -> Mapping[str, Any]:
    """The form of a case a party opens for themselves: its party ``field`` is theirs
    (filled in when left out), never someone else's."""
    if data.get(field, actor.id) != actor.id:
        raise RoleRefused(
            "(new)", "-", "open", say("refusal.party_open", actor=actor.id, role=role, field=field)
        )
    return {**data, field: actor.id}


def _check_actor(actor: Actor) -> None:
    """Refuse anything but an :class:`Actor` as the one acting."""
    if not isinstance(actor, Actor):
        raise InvalidArgument(f"the actor is an Actor(id, roles), not {actor!r:.60}")


def _check_extension(
    reason: str, by: str | None, until: datetime | None, consents: Iterable[str]
) -> tuple[str, ...]:
    """The roles consenting, refusing an extension request whose parts are not of their
    kinds."""
    if not isinstance(reason, str) or len(reason) > MAX_TEXT_CHARS or has_lone_surrogate(reason):
        raise InvalidArgument(
            f"the reason is text of at most {MAX_TEXT_CHARS:,} characters, not {reason!r:.60}"
        )
    if by is not None and (not isinstance(by, str) or len(by) > 100):
        raise InvalidArgument(f"by is a duration such as '3 workdays', not {by!r:.60}")
    _check_moment(until, "until")
    refusal = InvalidArgument(f"consents are a list of role names, not {consents!r:.60}")
    if isinstance(consents, (str, bytes)) or not isinstance(consents, Iterable):
        raise refusal
    given = tuple(consents)
    if not all(isinstance(role, str) for role in given):
        raise refusal
    return given


def _check_moment(moment: datetime | None, name: str) -> None:
    """Refuse a moment that is not a datetime with its timezone."""
    if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
        raise InvalidArgument(f"{name} is a datetime with a timezone, not {moment!r:.60}")


def _check_key(idempotency_key: str | None) -> None:
    """Refuse a key the store cannot keep, the same way on every database."""
    if idempotency_key is not None and (
        not isinstance(idempotency_key, str)
        or not idempotency_key
        or len(idempotency_key) > MAX_IDEMPOTENCY_KEY
        or "\x00" in idempotency_key
        or has_lone_surrogate(idempotency_key)
    ):
        raise InvalidArgument(
            f"an idempotency key is 1 to {MAX_IDEMPOTENCY_KEY} characters of text without "
            f"NUL, not {idempotency_key!r:.60}"
        )


def _differs(
    first: LogEntry,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any] | None,
    form: Form,
) -> str | None:
    """How a request differs from the first one made with its idempotency key (``None``
    if it is the same request): the event, the actor, or the payload as the form reads it."""
    if first.event != event:
        return f"event '{first.event}'"
    if first.actor_id != actor.id:
        return f"event '{event}' by actor '{first.actor_id}'"
    values, problems = form.validate({} if payload is None else payload)
    if problems or values != first.payload:
        return f"event '{event}' with another payload"
    return None


def _requested_entry(history: Sequence[LogEntry]) -> LogEntry:
    """The entry of the event a request asked for, given the log up to the entry holding
    its key.

    The key is on the request's last entry, which is the requested event itself unless its
    actions fired others: those follow it in the same transaction, at the same moment, as
    the system, each named by a ``fire`` action of an entry before it. Walk back over them.
    """
    last = len(history) - 1
    first = last
    while first > 0 and history[first - 1].at == history[last].at:
        first -= 1
    index = last
    while index > first and history[index].role == SYSTEM_ROLE:
        fired = any(
            action.get("kind") == "fire" and action.get("event") == history[index].event
            for earlier in history[first:index]
            for action in earlier.actions
        )
        if not fired:
            break
        index -= 1
    return history[index]


def _validate(
    library: str | Path | Sequence[str | Path] | None, estate: str | Path | None
) -> ValidatedLibrary:
    """The library at ``library`` (the standard library if ``None``), merged for ``estate``
    if one is given, validated."""
    listed = [library] if isinstance(library, (str, Path)) else library
    if (listed is not None and not isinstance(listed, Sequence)) or not all(
        _is_path(path) for path in listed or ()
    ):
        raise InvalidArgument(f"library is a directory or a list of them, not {library!r:.60}")
    if estate is not None and not _is_path(estate):
        raise InvalidArgument(f"estate is a directory, not {estate!r:.60}")
    paths = None if listed is None else [Path(path) for path in listed]
    try:
        return validate_library(paths, Path(estate) if estate is not None else None)
    except UsageError as error:  # a path that does not exist
        raise InvalidArgument(str(error)) from None


def _is_path(value: object) -> bool:
    """Whether ``value`` is a path this system can name (text it can encode as a file name)."""
    if not isinstance(value, (str, Path)):
        return False
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        return False
    return True
