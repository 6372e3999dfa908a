"""One change to a case, built in memory and then committed in a single transaction.

An accepted event, a fired timer and an approved extension all change a case the same way:
checks first (nothing is written if any fails), then the state machine, the actions, the
SLA clocks, and log entries for the audit trail. :class:`CaseChange` accumulates all of it;
the engine hands the result to the store, which writes it atomically or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from engine.conditions import EvalContext, evaluate, uses_linked_cases
from engine.diagnostics import suggest
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import current_language
from engine.model import (
    Action,
    Assign,
    Escalate,
    Fire,
    Notify,
    Open,
    SetFields,
    Signal,
)
from engine.model.words import Lang, condition_words
from engine.runtime.actor import SYSTEM_ACTOR, Actor
from engine.runtime.errors import (
    EventNotAllowed,
    FieldError,
    GuardRefused,
    RoleRefused,
    UnknownEvent,
)
from engine.runtime.machine import CompiledProcess
from engine.runtime.messages import LimitMoment, action_message
from engine.runtime.parties import roles_on_case
from engine.sla import Moment, SlaPlanner
from engine.store import CaseRecord, CaseWrite, ClockChange, ClockRecord, LogEntry, OutboxItem

#: Events fired by ``fire`` actions may fire further events; a chain longer than this is a
#: loop in the definition, stopped with a clear error instead of running for ever.
MAX_CHAINED_EVENTS = 20


@dataclass
class Effects:
    """What actions do beyond moving the state: field changes, assignee, outbox, follow-ups."""

    changes: dict[str, Any] = field(default_factory=dict)
    assignee: str | None = None
    outbox: list[OutboxItem] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    #: ``open`` and ``signal`` actions: carried out on other cases, in the same transaction.
    links: list[Open | Signal] = field(default_factory=list)


#: The case's child cases as conditions read them (``{"state", "final", "data"}`` each),
#: loaded only when a guard reads them.
Children = Callable[[], Sequence[Mapping[str, object]]]


@dataclass(frozen=True)
class PendingLink:
    """An ``open`` or ``signal`` action still to carry out: the log entry whose actions it
    belongs to (by index in the change) and the case's data when it ran."""

    entry: int
    action: Open | Signal
    data: Mapping[str, Any]


def acting_role(held: AbstractSet[str], allowed: Iterable[str]) -> str | None:
    """The first of ``allowed`` among the roles ``held`` on the case: the role the event is
    recorded under."""
    for role in allowed:
        if role in held:
            return role
    return None


def apply_actions(
    compiled: CompiledProcess,
    case_id: str,
    actions: Iterable[tuple[str, Action]],
    assignee: str | None,
    now: datetime,
    moment: LimitMoment | None = None,
) -> Effects:
    """Apply actions to a copy of the case; collect the outbox rows and the log record.
    ``moment`` is the time limit whose timer runs them, which their messages name."""
    effects = Effects(assignee=assignee)
    for hook, action in actions:
        effects.records.append({"hook": hook, **compiled.recorded(action)})
        if isinstance(action, SetFields):
            effects.changes.update(action.values)
        elif isinstance(action, (Assign, Escalate)):
            effects.assignee = action.role
        elif isinstance(action, Fire):
            effects.follow_ups.append(action.event)
        elif isinstance(action, (Open, Signal)):
            effects.links.append(action)
        if isinstance(action, (Notify, Escalate)):
            payload: dict[str, Any] = {"process": compiled.process.id, "hook": hook}
            if moment is not None:
                payload.update(limit=moment.limit.id, deadline=moment.deadline_iso)
            effects.outbox.append(
                OutboxItem(
                    case_id=case_id,
                    kind=action.kind,
                    role=action.role,
                    message=action_message(compiled.process, case_id, action, moment),
                    payload=payload,
                    created_at=now,
                )
            )
    return effects


def check_event(
    compiled: CompiledProcess,
    case_id: str,
    state: str,
    data: Mapping[str, Any],
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    check_required: bool = True,
    children: Children | None = None,
) -> tuple[str, dict[str, Any]]:
    """Every reason to refuse, in order; return the acting role and the payload in JSON form.

    The order is the one a person would ask in: does the event exist, is it possible now,
    may this person do it, is the form right, does the condition hold, is anything missing.
    ``check_required=False`` skips the last step, for listing what a form could still fire.
    ``children`` gives the case's child cases to a guard that reads them.
    """
    process = compiled.process
    event_def = process.events.get(event) if isinstance(event, str) else None
    if event_def is None:
        raise UnknownEvent(
            case_id,
            state,
            event,
            say(
                "refusal.unknown_event",
                process=process.id,
                hint=suggest(str(event), process.events),
            ),
        )
    if state not in event_def.sources:
        raise EventNotAllowed(
            case_id,
            state,
            event,
            say("refusal.not_allowed", state=state, allowed=", ".join(event_def.sources)),
        )
    role = acting_role(roles_on_case(actor, process, data), event_def.roles)
    if role is None:
        party = acting_role(actor.roles, event_def.roles)
        if party is not None:  # held, but a party role of someone else's case
            raise RoleRefused(
                case_id,
                state,
                event,
                say(
                    "refusal.party",
                    actor=actor.id,
                    role=party,
                    field=process.parties[party],
                ),
            )
        raise RoleRefused(
            case_id,
            state,
            event,
            say(
                "refusal.role",
                actor=actor.id,
                roles=", ".join(sorted(actor.roles)) or say("refusal.no_roles"),
                needed=", ".join(event_def.roles),
            ),
        )
    values, problems = compiled.form.validate(payload)
    writable = event_def.writable
    problems += [
        say(
            "refusal.not_writable",
            field=name,
            event=event,
            fields=", ".join(sorted(writable)) or say("refusal.no_fields"),
        )
        for name in values
        if name not in writable
    ]
    if problems:
        raise FieldError(case_id, state, event, problems)
    if event_def.guard is not None:
        # The guard judges the case as it is plus what the actor submits, never the event's
        # own `set:` values: `if: questions_open == true` with `set: {questions_open: false}`
        # asks about the case before the event, as a reader of the YAML expects.
        linked = children is not None and uses_linked_cases(event_def.guard)
        context = EvalContext(
            data=compiled.form.typed({**data, **values}),
            actor_id=actor.id,
            actor_role=role,
            actor_roles=actor.roles,
            payload=compiled.form.typed(values),
            state=state,
            children=children() if linked and children is not None else (),
        )
        if not evaluate(event_def.guard, context):
            lang: Lang = "zh-CN" if current_language() == "zh-CN" else "en"
            words = condition_words(event_def.guard, process, lang)
            reason = say("refusal.guard", words=words, condition=event_def.condition)
            raise GuardRefused(case_id, state, event, reason, event_def.condition or "")
    # A field the event assigns itself counts as given.
    missing = (
        compiled.form.missing({**data, **values, **event_def.assigns}, event_def.requires)
        if event_def.requires
        else []
    )
    if missing and check_required:
        raise FieldError(
            case_id, state, event, [say("refusal.required", field=name) for name in missing]
        )
    return role, values


class CaseChange:
    """A case being changed: its evolving state, and everything to write when done."""

    def __init__(
        self,
        compiled: CompiledProcess,
        record: CaseRecord,
        clocks: Mapping[str, ClockRecord],
        sla: SlaPlanner,
        now: datetime,
    ) -> None:
        self.compiled = compiled
        self.record = record
        self.state = record.state
        self.data = dict(record.data)
        self.assignee = record.assignee
        self.clocks = dict(clocks)
        #: The clocks as read with the case (the store writes only those that change).
        self.clocks_read = clocks
        self.sla = sla
        self.now = now
        self.entries: list[LogEntry] = []
        self.outbox: list[OutboxItem] = []
        self.clock_changes: list[ClockChange] = []
        #: ``open``/``signal`` actions not carried out yet (see :mod:`engine.runtime.links`).
        self.pending: list[PendingLink] = []
        #: Where guards get the case's child cases from (set by the engine).
        self.children: Children | None = None

    @property
    def version(self) -> int:
        """The case version after the entries so far."""
        return self.record.version + len(self.entries)

    def react(self, moment: Moment) -> None:
        """Let the SLA clocks react to a moment of this case.

        The limits' ``if:`` conditions see the moment's typed data (``Decimal``, ``date``), as
        event guards do, so that ``fee > 100`` compares numbers, not the stored text.
        """
        self.change_clocks(self.sla.react(self.record.id, self.clocks, moment))

    def change_clocks(self, changes: Iterable[ClockChange]) -> None:
        """Record clock changes (later ones for the same clock win, as the store applies them)."""
        for change in changes:
            if change.clock is not None:
                self.clocks[change.limit_id] = change.clock
            self.clock_changes.append(change)

    def fire(self, event: str, actor: Actor, payload: Mapping[str, Any]) -> None:
        """Apply ``event`` and every event its actions fire; refusals of the first propagate."""
        queue: list[tuple[str, Actor, Mapping[str, Any]]] = [(event, actor, payload)]
        first = True
        while queue:
            name, who, values_in = queue.pop(0)
            if len(self.entries) >= MAX_CHAINED_EVENTS:
                raise EventNotAllowed(
                    self.record.id,
                    self.state,
                    name,
                    say("refusal.chain", limit=MAX_CHAINED_EVENTS),
                )
            try:
                role, values = check_event(
                    self.compiled,
                    self.record.id,
                    self.state,
                    self.data,
                    name,
                    who,
                    values_in,
                    children=self.children,
                )
            except (EventNotAllowed, GuardRefused) as refusal:
                if first:
                    raise
                self.entries[-1].actions.append({"fire": name, "skipped": refusal.reason})
                continue
            first = False
            queue.extend(
                (follow, SYSTEM_ACTOR, {}) for follow in self._step(name, who, role, values)
            )

    def _step(self, event: str, actor: Actor, role: str, values: dict[str, Any]) -> list[str]:
        event_def = self.compiled.process.events[event]
        changes = {**values, **dict(event_def.assigns)}
        moved = self.compiled.step(self.state, event)
        actions: list[tuple[str, Action]] = [("event", a) for a in event_def.actions]
        actions += moved.actions
        effects = apply_actions(self.compiled, self.record.id, actions, self.assignee, self.now)
        changes.update(effects.changes)
        self.record_entry(event, actor.id, role, moved.state, values, changes, effects)
        return effects.follow_ups

    def record_entry(
        self,
        event: str,
        actor_id: str,
        role: str,
        to_state: str,
        payload: dict[str, Any],
        changes: dict[str, Any],
        effects: Effects,
        *,
        opening: bool = False,
    ) -> None:
        """Append a log entry, move the case, and let the clocks react.

        ``opening`` records the case's first entry, which comes from no state.
        """
        from_state = None if opening else self.state
        changed = frozenset(key for key, value in changes.items() if self.data.get(key) != value)
        self.data.update(changes)
        self.assignee = effects.assignee
        self.entries.append(
            LogEntry(
                case_id=self.record.id,
                version=self.version + 1,
                event=event,
                actor_id=actor_id,
                role=role,
                at=self.now,
                from_state=from_state,
                to_state=to_state,
                payload=payload,
                changes=changes,
                assignee=self.assignee,
                actions=effects.records,
            )
        )
        self.state = to_state
        version = self.entries[-1].version
        if effects.outbox:
            self.outbox.extend(replace(item, log_version=version) for item in effects.outbox)
        if effects.links:
            self.pending.extend(
                PendingLink(len(self.entries) - 1, action, dict(self.data))
                for action in effects.links
            )
        final = self.compiled.process.states[to_state].final
        typed = self.compiled.form.typed(self.data)
        self.react(Moment(event, from_state, to_state, self.now, typed, final, changed))

    def keyed(self, idempotency_key: str | None) -> None:
        """Put the idempotency key on the last entry: replaying up to it gives this result."""
        if self.entries and self.entries[-1].idempotency_key != idempotency_key:
            self.entries[-1] = replace(self.entries[-1], idempotency_key=idempotency_key)

    def write(self, expected_version: int | None) -> CaseWrite:
        """What the store writes for the change: the case at ``expected_version`` (the
        version it was read at; ``None`` for a new case) moved on by everything recorded."""
        return CaseWrite(
            self.result(),
            expected_version,
            tuple(self.entries),
            tuple(self.outbox),
            tuple(self.clock_changes),
            self.clocks_read,
        )

    def result(self) -> CaseRecord:
        """The case row after the change."""
        record = self.record
        final = self.compiled.process.states[self.state].final
        return CaseRecord(
            id=record.id,
            estate=record.estate,
            process=record.process,
            definition_version=record.definition_version,
            state=self.state,
            data=self.data,
            assignee=self.assignee,
            version=self.version,
            opened_at=record.opened_at,
            updated_at=self.now,
            closed_at=self.now if final and record.closed_at is None else record.closed_at,
        )
