"""The engine: open cases, fire events, and answer what may be done next.

An application embeds one :class:`Engine` per library and store; engines share no state, so
two of them in one process never see each other's cases. Every accepted event goes through
the same steps — the case's definition version, the state, the actor's role, the payload's
types, the guard, the required fields, the machine, the actions — and is written in one
transaction; every refusal is a typed :class:`~engine.runtime.errors.EventRefused` raised
before anything is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.conditions import EvalContext, evaluate
from engine.diagnostics import suggest
from engine.model import Action, Assign, Escalate, Fire, Notify, ProcessDef, SetFields, localized
from engine.model.process import SYSTEM_ROLE
from engine.resources import standard_library_dirs
from engine.runtime.actor import SYSTEM_ACTOR, Actor
from engine.runtime.case import Case, EventOption, replay
from engine.runtime.clock import Clock, SystemClock
from engine.runtime.errors import (
    ConflictError,
    EventNotAllowed,
    FieldError,
    GuardRefused,
    LibraryError,
    RoleRefused,
    UnknownCase,
    UnknownEvent,
    UnknownProcess,
)
from engine.runtime.machine import CompiledProcess
from engine.store import (
    CaseQuery,
    CaseRecord,
    DuplicateRequest,
    LogEntry,
    OutboxItem,
    Store,
    VersionConflict,
)
from engine.validation import validate_paths

#: Events fired by ``fire`` actions may fire further events; a chain longer than this is a
#: loop in the definition, stopped with a clear error instead of running for ever.
MAX_CHAINED_EVENTS = 20

DEFAULT_ESTATE = "standard"


@dataclass
class _Effects:
    """What one event does beyond moving the state: field changes, assignee, outbox, log."""

    changes: dict[str, Any] = field(default_factory=dict)
    assignee: str | None = None
    outbox: list[OutboxItem] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)


class Engine:
    """Runs the processes of a library against a store.

    ``library`` is a directory (or several) of process and rules files; by default the
    shipped standard library. ``store`` is a database URL or a SQLite file path. ``clock``
    gives "now" (inject a :class:`~engine.runtime.clock.ManualClock` in tests).
    """

    def __init__(
        self,
        library: str | Path | Sequence[str | Path] | None = None,
        store: str | Store = "sqlite:///cases.db",
        clock: Clock | None = None,
        estate: str = DEFAULT_ESTATE,
    ) -> None:
        paths = _library_paths(library)
        report = validate_paths(paths)
        if report.errors:
            first = report.diagnostics[0]
            raise LibraryError(
                f"the library has {report.errors} validation error(s); first: "
                f"{first.span.file}:{first.span.line}:{first.span.column}: {first.code} "
                f"{first.message}",
                list(report.diagnostics),
            )
        self._processes: dict[str, ProcessDef] = {
            located.definition.id: located.definition for located in report.library.processes
        }
        self._compiled: dict[str, CompiledProcess] = {}
        self._saved_versions: set[str] = set()
        self.store = Store(store) if isinstance(store, str) else store
        self.clock: Clock = clock or SystemClock()
        self.estate = estate

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    @property
    def processes(self) -> list[str]:
        """Ids of the processes this engine can open."""
        return list(self._processes)

    def definition(self, process: str) -> ProcessDef:
        """The current definition of a process."""
        try:
            return self._processes[process]
        except KeyError:
            raise UnknownProcess(process, suggest(process, self._processes)) from None

    # Opening -------------------------------------------------------------------------------

    def open_case(self, process: str, data: Mapping[str, Any] | None, actor: Actor) -> Case:
        """Open a case of ``process`` with the form's initial ``data``, as ``actor``."""
        definition = self.definition(process)
        compiled = self._compile(definition)
        now = self.clock.now()
        case_id = str(uuid.uuid4())
        role = _acting_role(actor, [r for r in definition.roles if r != SYSTEM_ROLE])
        if role is None:
            raise RoleRefused(
                "(new)",
                "-",
                "open",
                f"actor '{actor.id}' holds none of the roles of process '{process}' "
                f"({', '.join(definition.roles)})",
            )
        values, problems = compiled.form.validate(data or {})
        initial = {**compiled.form.defaults(), **values}
        required = [fid for fid, f in definition.fields.items() if f.required]
        problems += [
            f"required field '{name}' is missing"
            for name in compiled.form.missing(initial, required)
        ]
        if problems:
            raise FieldError("(new)", compiled.initial, "open", problems)
        effects = self._apply(compiled, case_id, compiled.enter_initial(), initial, None, now)
        data_after = {**initial, **effects.changes}
        entry = LogEntry(
            case_id=case_id,
            version=1,
            event="open",
            actor_id=actor.id,
            role=role,
            at=now,
            from_state=None,
            to_state=compiled.initial,
            payload=values,
            changes=data_after,
            assignee=effects.assignee,
            actions=effects.records,
        )
        record = CaseRecord(
            id=case_id,
            estate=self.estate,
            process=process,
            definition_version=definition.version,
            state=compiled.initial,
            data=data_after,
            assignee=effects.assignee,
            version=1,
            opened_at=now,
            updated_at=now,
        )
        self._save_definition(definition, now)
        self.store.create_case(record, [entry], effects.outbox)
        return Case.from_record(record)

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

        With an ``idempotency_key`` a retried request returns the first result and writes
        nothing. With ``expected_version`` the event is refused (:class:`ConflictError`) if
        the case moved on since the caller read it.
        """
        if SYSTEM_ROLE in actor.roles and actor is not SYSTEM_ACTOR:
            record = self._record(case_id)
            raise RoleRefused(
                case_id, record.state, event, "the 'system' role is reserved for the engine itself"
            )
        return self._fire(case_id, event, actor, payload or {}, idempotency_key, expected_version)

    def _fire(
        self,
        case_id: str,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any],
        idempotency_key: str | None,
        expected_version: int | None,
    ) -> Case:
        record = self._record(case_id)
        if idempotency_key is not None:
            earlier = self.store.find_entry(case_id, idempotency_key)
            if earlier is not None:
                return self._result_of(record, earlier, event)
        if expected_version is not None and expected_version != record.version:
            raise ConflictError(
                case_id,
                record.state,
                event,
                f"the case is at version {record.version}, not {expected_version}; "
                "someone changed it since you read it",
            )
        compiled = self._compiled_for(record)
        entries, effects_all, state, data, assignee = self._advance(
            compiled, record, event, actor, payload, idempotency_key
        )
        now = entries[-1].at
        final = compiled.process.states[state].final
        updated = CaseRecord(
            id=record.id,
            estate=record.estate,
            process=record.process,
            definition_version=record.definition_version,
            state=state,
            data=data,
            assignee=assignee,
            version=record.version + len(entries),
            opened_at=record.opened_at,
            updated_at=now,
            closed_at=now if final and record.closed_at is None else record.closed_at,
        )
        try:
            self.store.commit_event(updated, record.version, entries, effects_all)
        except DuplicateRequest:
            assert idempotency_key is not None
            earlier = self.store.find_entry(case_id, idempotency_key)
            assert earlier is not None
            return self._result_of(self._record(case_id), earlier, event)
        except VersionConflict:
            raise ConflictError(
                case_id,
                record.state,
                event,
                "another event changed the case at the same moment; re-read it and retry",
            ) from None
        return Case.from_record(updated)

    def _advance(
        self,
        compiled: CompiledProcess,
        record: CaseRecord,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any],
        idempotency_key: str | None,
    ) -> tuple[list[LogEntry], list[OutboxItem], str, dict[str, Any], str | None]:
        """Check and apply ``event`` and any events its actions fire, in memory."""
        state, data, assignee = record.state, dict(record.data), record.assignee
        now = self.clock.now()
        entries: list[LogEntry] = []
        outbox: list[OutboxItem] = []
        queue: list[tuple[str, Actor, Mapping[str, Any]]] = [(event, actor, payload)]
        while queue:
            if len(entries) >= MAX_CHAINED_EVENTS:
                raise EventNotAllowed(
                    record.id,
                    state,
                    queue[0][0],
                    f"more than {MAX_CHAINED_EVENTS} events fired each other in a chain; "
                    "the process definition has a loop of 'fire' actions",
                )
            name, who, values_in = queue.pop(0)
            chained = bool(entries)
            try:
                role, values = self._check(compiled, record.id, state, data, name, who, values_in)
            except (EventNotAllowed, GuardRefused) as refusal:
                if not chained:
                    raise
                entries[-1].actions.append({"fire": name, "skipped": refusal.reason})
                continue
            event_def = compiled.process.events[name]
            changes = {**values, **dict(event_def.assigns)}
            merged = {**data, **changes}
            moved = compiled.step(state, name)
            actions: list[tuple[str, Action]] = [("event", a) for a in event_def.actions]
            actions += moved.actions
            effects = self._apply(compiled, record.id, actions, merged, assignee, now)
            changes.update(effects.changes)
            data = {**data, **changes}
            assignee = effects.assignee
            entries.append(
                LogEntry(
                    case_id=record.id,
                    version=record.version + len(entries) + 1,
                    event=name,
                    actor_id=who.id,
                    role=role,
                    at=now,
                    from_state=state,
                    to_state=moved.state,
                    payload=values,
                    changes=changes,
                    assignee=assignee,
                    actions=effects.records,
                )
            )
            state = moved.state
            outbox.extend(effects.outbox)
            queue.extend((follow, SYSTEM_ACTOR, {}) for follow in effects.follow_ups)
        # The key goes on the request's last entry, so that replaying the log up to it gives
        # exactly the result the first request returned (chained events included).
        entries[-1] = replace(entries[-1], idempotency_key=idempotency_key)
        return entries, outbox, state, data, assignee

    def _check(
        self,
        compiled: CompiledProcess,
        case_id: str,
        state: str,
        data: Mapping[str, Any],
        event: str,
        actor: Actor,
        payload: Mapping[str, Any],
        *,
        check_required: bool = True,
    ) -> tuple[str, dict[str, Any]]:
        """Every reason to refuse, in order; return the acting role and the payload in JSON form.

        ``check_required=False`` skips the required-fields step, for listing the events a
        form could still fire once its fields are filled in.
        """
        process = compiled.process
        event_def = process.events.get(event)
        if event_def is None:
            raise UnknownEvent(
                case_id,
                state,
                event,
                f"process '{process.id}' has no such event{suggest(event, process.events)}",
            )
        if state not in event_def.sources:
            raise EventNotAllowed(
                case_id,
                state,
                event,
                f"not allowed in state '{state}' (allowed in: {', '.join(event_def.sources)})",
            )
        role = _acting_role(actor, event_def.roles)
        if role is None:
            raise RoleRefused(
                case_id,
                state,
                event,
                f"actor '{actor.id}' has roles ({', '.join(sorted(actor.roles)) or 'none'}) "
                f"but the event needs one of: {', '.join(event_def.roles)}",
            )
        values, problems = compiled.form.validate(payload)
        if problems:
            raise FieldError(case_id, state, event, problems)
        merged = {**data, **values, **dict(event_def.assigns)}
        if event_def.guard is not None:
            context = EvalContext(
                data=compiled.form.typed(merged),
                actor_id=actor.id,
                actor_role=role,
                actor_roles=actor.roles,
                payload=compiled.form.typed(values),
                state=state,
            )
            if not evaluate(event_def.guard, context):
                raise GuardRefused(
                    case_id, state, event, f"condition not met: {event_def.condition}"
                )
        missing = compiled.form.missing(merged, list(event_def.requires))
        if missing and check_required:
            raise FieldError(
                case_id, state, event, [f"required field '{name}' has no value" for name in missing]
            )
        return role, values

    def _apply(
        self,
        compiled: CompiledProcess,
        case_id: str,
        actions: Iterable[tuple[str, Action]],
        data: Mapping[str, Any],
        assignee: str | None,
        now: datetime,
    ) -> _Effects:
        """Apply actions to a copy of the case; collect the outbox rows and the log record."""
        effects = _Effects(assignee=assignee)
        for hook, action in actions:
            effects.records.append(
                {"hook": hook, **action.model_dump(mode="json", exclude_none=True)}
            )
            if isinstance(action, SetFields):
                effects.changes.update(action.values)
            elif isinstance(action, (Assign, Escalate)):
                effects.assignee = action.role
            elif isinstance(action, Fire):
                effects.follow_ups.append(action.event)
            if isinstance(action, (Notify, Escalate)):
                label = compiled.process.title
                text = localized(action.message, f"{localized(label, compiled.process.id)}")
                effects.outbox.append(
                    OutboxItem(
                        case_id=case_id,
                        kind=action.kind,
                        role=action.role,
                        message=text,
                        payload={"process": compiled.process.id, "hook": hook},
                        created_at=now,
                    )
                )
        return effects

    # Reading -------------------------------------------------------------------------------

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
        """Cases matching every given filter, newest first."""
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
        record = self._record(case_id)
        compiled = self._compiled_for(record)
        options = []
        for eid, event_def in compiled.process.events.items():
            reason: str | None = None
            try:
                self._check(
                    compiled,
                    case_id,
                    record.state,
                    record.data,
                    eid,
                    actor,
                    {},
                    check_required=False,
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

    def _record(self, case_id: str) -> CaseRecord:
        record = self.store.get_case(case_id)
        if record is None:
            raise UnknownCase(case_id)
        return record

    def _result_of(self, record: CaseRecord, entry: LogEntry, event: str) -> Case:
        """The case as the first request with this idempotency key left it."""
        if entry.event != event:
            raise ConflictError(
                record.id,
                record.state,
                event,
                f"idempotency key '{entry.idempotency_key}' was already used for "
                f"event '{entry.event}'",
            )
        history = self.store.history(record.id, up_to_version=entry.version)
        state, data, assignee = replay(history)
        return Case(
            id=record.id,
            estate=record.estate,
            process=record.process,
            definition_version=record.definition_version,
            state=state,
            data=data,
            assignee=assignee,
            version=history[-1].version,
            opened_at=record.opened_at,
            updated_at=history[-1].at,
            closed_at=None,
        )

    def _compile(self, definition: ProcessDef) -> CompiledProcess:
        compiled = self._compiled.get(definition.version)
        if compiled is None:
            compiled = self._compiled[definition.version] = CompiledProcess(definition)
        return compiled

    def _compiled_for(self, record: CaseRecord) -> CompiledProcess:
        """The definition version the case was opened on, even if the library changed since."""
        if record.definition_version in self._compiled:
            return self._compiled[record.definition_version]
        current = self._processes.get(record.process)
        if current is not None and current.version == record.definition_version:
            return self._compile(current)
        source = self.store.load_definition(record.definition_version)
        if source is None:
            raise UnknownProcess(f"{record.process}@{record.definition_version}")
        return self._compile(ProcessDef.model_validate(source))

    def _save_definition(self, definition: ProcessDef, now: datetime) -> None:
        if definition.version not in self._saved_versions:
            self.store.save_definition(
                definition.version, definition.id, dict(definition.source_data), now
            )
            self._saved_versions.add(definition.version)


def _library_paths(library: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if library is None:
        return standard_library_dirs()
    if isinstance(library, (str, Path)):
        return [Path(library)]
    return [Path(p) for p in library]


def _acting_role(actor: Actor, allowed: Iterable[str]) -> str | None:
    """The first of ``allowed`` that the actor holds: the role the event is recorded under."""
    for role in allowed:
        if role in actor.roles:
            return role
    return None
