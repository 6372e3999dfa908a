"""Moving running cases to the estate's current definitions (``propflow migrate``).

A case runs on the definition version it was opened on — its process and its time limits
(:mod:`engine.runtime.definitions`) — and its clocks keep the deadlines they were planned
with, until it is moved: a limit edited in the library is a new version, and moving a case to
it plans the case's clocks again. A move is planned first, from the case as stored
and the current definitions alone (nothing is guessed): its state is kept, or mapped by the
estate's ``migrations:`` when the current definition no longer has it (a case whose state
vanished without a mapping is refused); fields the current form adds get their defaults;
each time limit's clock is kept with the time it has run and its deadline worked out again
under the current limit, started (a limit whose clock should be running now), or stopped
with its pending timers withdrawn (its limit is gone, no longer applies, or the case reached
a final state). The dry run stops there.

A move is written like any change of a case: one audit entry (from version, to version,
what changed) with the new clocks and timers, in one transaction, after the case's version
check, so a case fired at the same moment is never half-moved; it is read again and moved
afresh, or left for a rerun. Cases go in pages of their ids, one commit per page: a killed
migration leaves every case on one version, and a rerun, which moves only what still
differs from the current definitions, continues where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.diagnostics.catalogue import say
from engine.model import MigrationDef
from engine.model.process import SYSTEM_ROLE
from engine.runtime.actor import SYSTEM_ACTOR
from engine.runtime.change import CaseChange
from engine.runtime.clock import Clock
from engine.runtime.definitions import Definitions
from engine.runtime.errors import InvalidArgument, UnknownProcess
from engine.runtime.machine import CompiledProcess
from engine.sla import STOPPED, LimitPlanner, Moment, SlaPlanner, stopped
from engine.store import CaseRecord, ClockChange, ClockRecord, LogEntry, Store, VersionConflict
from engine.store.migration import move_definition_version, open_cases_page, open_processes

if TYPE_CHECKING:  # the engine hands its parts over; nothing here imports it back
    from engine.runtime.engine import Engine

#: Cases read, planned and written per transaction: one commit per page, and a page holds
#: the write lock (SQLite) or its cases' rows (PostgreSQL) for a short while only.
BATCH = 500

#: Times a case changed by someone else during its move is read again and moved afresh
#: before it is left for a rerun.
ATTEMPTS = 3

#: The log entry's event: what the audit trail calls a move.
EVENT = "migrate"

KEPT, STARTED, STOPPED_CLOCK = "kept", "started", "stopped"


@dataclass(frozen=True)
class ClockMove:
    """What a move does to one time limit's clock: ``kept`` (deadline worked out again under
    the current limit, ``ran`` the time it has run), ``started`` or ``stopped``."""

    limit: str
    action: str
    ran: timedelta | None = None
    deadline_before: datetime | None = None
    deadline_after: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The clock's move as the audit entry records it."""
        return {
            "limit": self.limit,
            "action": self.action,
            "ran_seconds": None if self.ran is None else int(self.ran.total_seconds()),
            "deadline_before": _iso(self.deadline_before),
            "deadline_after": _iso(self.deadline_after),
        }


@dataclass(frozen=True)
class CaseMove:
    """A case's move to the current definition, planned: or, with ``refused``, why it cannot
    move."""

    case_id: str
    process: str
    from_version: str
    to_version: str
    from_state: str
    to_state: str
    #: Fields the current form adds, with their defaults (``None``: none is declared).
    added: Mapping[str, Any] = field(default_factory=dict)
    #: Fields the current form no longer has (their values stay in the case's record).
    dropped: tuple[str, ...] = ()
    clocks: tuple[ClockMove, ...] = ()
    refused: str | None = None

    @property
    def mapped(self) -> bool:
        """Whether the case's state is mapped to another one."""
        return self.from_state != self.to_state

    def to_json(self) -> dict[str, Any]:
        """The move as the audit entry (and ``--json``) records it."""
        return {
            "case": self.case_id,
            "process": self.process,
            "from": self.from_version,
            "to": self.to_version,
            "state": {"from": self.from_state, "to": self.to_state},
            "added": dict(self.added),
            "dropped": list(self.dropped),
            "clocks": [clock.to_json() for clock in self.clocks],
            **({"refused": self.refused} if self.refused is not None else {}),
        }

    @property
    def group(self) -> tuple[Any, ...]:
        """What cases moved alike share: process, versions, states, fields and what happens
        to each clock (the dry run counts cases by it)."""
        return (
            self.process,
            self.from_version,
            self.to_version,
            self.from_state,
            self.to_state,
            tuple(sorted(self.added.items(), key=lambda item: item[0])),
            self.dropped,
            tuple((clock.limit, clock.action) for clock in self.clocks),
        )


@dataclass
class MigrationResult:
    """What a migration did (or, in a dry run, would do)."""

    dry_run: bool
    #: Cases moved (planned, in a dry run) by :attr:`CaseMove.group`.
    groups: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    #: One case of each group, as an example of what the group's moves do.
    examples: dict[tuple[Any, ...], CaseMove] = field(default_factory=dict)
    refused: list[CaseMove] = field(default_factory=list)
    #: Cases changed by someone else on every attempt: a rerun moves them.
    skipped: list[str] = field(default_factory=list)
    #: Open cases already on the current definitions.
    unchanged: int = 0

    @property
    def moved(self) -> int:
        """How many cases moved (would move, in a dry run)."""
        return sum(self.groups.values())

    def count(self, move: CaseMove) -> None:
        """Count a case moved (or to be moved)."""
        self.groups[move.group] += 1
        self.examples.setdefault(move.group, move)


@dataclass(frozen=True)
class PlannedMove:
    """A case's move and the writes it makes: the case and clocks as read, and the clock
    changes."""

    move: CaseMove
    record: CaseRecord
    clocks: Mapping[str, ClockRecord]
    changes: tuple[ClockChange, ...]


class Migration:
    """Moves the running cases of ``estate`` to the current ``definitions``, with the
    estate's state mappings by process (its library's ``migrations:``)."""

    def __init__(
        self,
        definitions: Definitions,
        store: Store,
        estate: str,
        clock: Clock,
        mappings: Mapping[str, MigrationDef],
    ) -> None:
        self.definitions = definitions
        self.store = store
        self.estate = estate
        self.clock = clock
        self.mappings = dict(mappings)

    @classmethod
    def of(cls, engine: Engine) -> Migration:
        """The migration of an engine's estate, to its definitions, with its library's
        state mappings."""
        mappings = {item.definition.id: item.definition for item in engine.library.migrations}
        return cls(engine.definitions, engine.store, engine.estate, engine.clock, mappings)

    def run(
        self,
        process: str | None = None,
        *,
        dry_run: bool = False,
        batch: int = BATCH,
        on_case: Callable[[CaseMove], None] | None = None,
    ) -> MigrationResult:
        """Move the open cases of ``process`` (default: every process with open cases) that
        differ from the current definitions; with ``dry_run``, only plan. ``on_case`` is told
        of each case moved, to be moved or refused (the cases of a process the definitions
        no longer have are refused)."""
        if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
            raise InvalidArgument(f"batch is a whole number above 0, not {batch!r:.60}")
        if process is None:
            current = self.definitions.ids
            gone = [p for p in open_processes(self.store, self.estate) if p not in current]
            processes = [*current, *gone]
        else:
            self.definitions.current(process)  # UnknownProcess for a process not defined
            processes = [process]
        result = MigrationResult(dry_run)
        for name in processes:
            self._run_process(name, result, dry_run, batch, on_case)
        return result

    def _run_process(
        self,
        process: str,
        result: MigrationResult,
        dry_run: bool,
        batch: int,
        on_case: Callable[[CaseMove], None] | None,
    ) -> None:
        if not dry_run and process in self.definitions.ids:
            # The cases' rows refer to the version: stored before the first moves.
            self.definitions.save(self.definitions.latest(process), self.clock.now())
        after = ""
        while True:
            retry: list[str] = []
            with self.store.transaction() as tx:
                now = self.clock.now()
                page = open_cases_page(self.store, self.estate, process, after, batch, tx)
                if not page:
                    break
                clocks = self.store.clocks_by_case([record.id for record in page], tx)
                for record in page:
                    plan = self.plan(record, clocks.get(record.id, {}), now, tx)
                    if plan is None:
                        result.unchanged += 1
                        continue
                    if plan.move.refused is None and not dry_run:
                        try:
                            with tx.begin_nested():  # a case changed meanwhile is undone alone
                                self.write(plan, now, tx)
                        except VersionConflict:
                            retry.append(record.id)
                            continue
                    _tell(result, plan.move, on_case)
                after = page[-1].id
            for case_id in retry:
                self._retry(case_id, result, on_case)

    def plan(
        self,
        record: CaseRecord,
        clocks: Mapping[str, ClockRecord],
        now: datetime,
        tx: Connection | None = None,
    ) -> PlannedMove | None:
        """The move of a case read with its clocks (``None``: it is on the current
        definitions already), or its refusal."""
        if record.process not in self.definitions.ids:
            return self._refusal(record, say("migrate.no_process", process=record.process))
        try:
            old = self.definitions.of_case(record, tx)
        except UnknownProcess:
            return self._refusal(
                record, say("migrate.no_version", version=record.definition_version)
            )
        latest = self.definitions.latest(record.process)
        new = self.definitions.compile(latest.process)
        target = self._state(record.state, new)
        if target is None:
            mapped = self._mapped(record.process, record.state)
            reason = (
                say("migrate.no_mapping", state=record.state, process=record.process)
                if mapped is None
                else say("migrate.bad_mapping", state=record.state, target=mapped)
            )
            return self._refusal(record, reason)
        final = new.process.states[target].final
        added = {
            name: definition.default
            for name, definition in new.process.fields.items()
            if name not in old.process.fields and name not in record.data
        }
        dropped = tuple(name for name in old.process.fields if name not in new.process.fields)
        typed = new.form.typed({**record.data, **_values(added)})
        moment = Moment(EVENT, target, target, now, typed, final)
        changes, moves = _clocks(record.id, clocks, latest.planner, moment)
        same = record.definition_version == latest.id and target == record.state
        if same and not changes:
            return None
        move = CaseMove(
            record.id,
            record.process,
            record.definition_version,
            latest.id,
            record.state,
            target,
            added,
            dropped,
            tuple(moves),
        )
        return PlannedMove(move, record, clocks, tuple(changes))

    def _state(self, state: str, new: CompiledProcess) -> str | None:
        """The case's state in the current definition: its own, or where a mapping sends it
        (``None``: neither is a state of it)."""
        if state in new.process.states:
            return state
        target = self._mapped(new.process.id, state)
        return target if target is not None and target in new.process.states else None

    def _mapped(self, process: str, state: str) -> str | None:
        """Where the estate's mapping of ``process`` sends cases in ``state``, if it does."""
        mapping = self.mappings.get(process)
        return None if mapping is None else mapping.states.get(state)

    def _refusal(self, record: CaseRecord, reason: str) -> PlannedMove:
        move = CaseMove(
            record.id,
            record.process,
            record.definition_version,
            self.definitions.latest(record.process).id
            if record.process in self.definitions.ids
            else "-",
            record.state,
            record.state,
            refused=reason,
        )
        return PlannedMove(move, record, {}, ())

    def write(self, plan: PlannedMove, now: datetime, tx: Connection) -> None:
        """Write a planned move in ``tx``: the case's row, its audit entry, its clocks and
        timers and its definition version, or nothing (:class:`VersionConflict`)."""
        record, move = plan.record, plan.move
        latest = self.definitions.latest(record.process)
        change = CaseChange(
            self.definitions.compile(latest.process), record, plan.clocks, latest.planner, now
        )
        values = _values(move.added)
        change.state = move.to_state
        change.data.update(values)
        change.entries.append(
            LogEntry(
                case_id=record.id,
                version=record.version + 1,
                event=EVENT,
                actor_id=SYSTEM_ACTOR.id,
                role=SYSTEM_ROLE,
                at=now,
                from_state=record.state,
                to_state=move.to_state,
                payload={},
                changes=values,
                assignee=record.assignee,
                actions=[{EVENT: move.to_json()}],
            )
        )
        change.change_clocks(plan.changes)
        self.store.commit([change.write(record.version)], at=now, tx=tx)
        if move.to_version != record.definition_version:
            move_definition_version(tx, record.id, move.to_version, record.version + 1)

    def _retry(
        self, case_id: str, result: MigrationResult, on_case: Callable[[CaseMove], None] | None
    ) -> None:
        """Move a case another writer changed during its page's move: read again and moved
        afresh, up to :data:`ATTEMPTS` times, else left for a rerun."""
        for _ in range(ATTEMPTS):
            try:
                with self.store.transaction() as tx:
                    found = self.store.case_and_clocks(case_id, tx)
                    if found is None or found[0].closed_at is not None:
                        return  # closed meanwhile: nothing runs on it any more
                    now = self.clock.now()
                    plan = self.plan(found[0], found[1], now, tx)
                    if plan is None:
                        result.unchanged += 1
                        return
                    if plan.move.refused is None:
                        self.write(plan, now, tx)
            except VersionConflict:
                continue
            _tell(result, plan.move, on_case)
            return
        result.skipped.append(case_id)


def migrate_cases(
    engine: Engine,
    process: str | None = None,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    on_case: Callable[[CaseMove], None] | None = None,
) -> MigrationResult:
    """Move ``engine``'s running cases (of ``process``, default all) to its current
    definitions, with the library's state mappings (see :class:`Migration`)."""
    return Migration.of(engine).run(process, dry_run=dry_run, batch=batch, on_case=on_case)


def _tell(
    result: MigrationResult, move: CaseMove, on_case: Callable[[CaseMove], None] | None
) -> None:
    if move.refused is not None:
        result.refused.append(move)
    else:
        result.count(move)
    if on_case is not None:
        on_case(move)


def _values(added: Mapping[str, Any]) -> dict[str, Any]:
    """The added fields that get a value (those with a default)."""
    return {name: value for name, value in added.items() if value is not None}


def _clocks(
    case_id: str, clocks: Mapping[str, ClockRecord], planner: SlaPlanner, moment: Moment
) -> tuple[list[ClockChange], list[ClockMove]]:
    """The clock changes of a move, and what each does (see the module docstring)."""
    changes: list[ClockChange] = []
    moves: list[ClockMove] = []
    for limit_id, clock in sorted(clocks.items()):
        if clock.status == STOPPED:
            continue
        limit = planner.limits.get(limit_id)
        if limit is None or moment.final or not limit.applies(moment):
            changes.append(stopped(clock, moment.at))
            ran = None if limit is None else limit.ran(clock, moment.at)
            moves.append(ClockMove(limit_id, STOPPED_CLOCK, ran, clock.deadline))
            continue
        change = limit.replanned(clock, moment.data, moment.at)
        after = change.clock
        if after is None or (after.deadline, after.breached_at) == (
            clock.deadline,
            clock.breached_at,
        ):
            continue
        changes.append(change)
        ran = limit.ran(clock, moment.at)
        before = None if clock.deadline is None else clock.deadline.astimezone(limit.calendar.tz)
        moves.append(ClockMove(limit_id, KEPT, ran, before, after.deadline))
    for limit_id, limit in planner.limits.items():
        if limit_id in clocks or moment.final or not _runs_in(limit, moment.to_state):
            continue
        if not limit.applies(moment):
            continue
        change = limit.start(case_id, moment)
        changes.append(change)
        deadline = None if change.clock is None else change.clock.deadline
        moves.append(ClockMove(limit_id, STARTED, timedelta(0), None, deadline))
    return changes, moves


def _runs_in(limit: LimitPlanner, state: str) -> bool:
    """Whether a clock of ``limit`` that a case never had should run while it is in
    ``state``: a recurring limit's in its ``while`` states, a deadline's that starts when
    the case is opened always, another's in a state whose entry starts it. A clock started
    by an event cannot be told from the case as it stands, so it is not started."""
    definition = limit.limit
    if definition.every is not None:
        return definition.while_in is not None and state in definition.while_in.states
    if definition.start is None:
        return True
    return state in definition.start.enter


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
