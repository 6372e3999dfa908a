"""Linked cases: ``open`` and ``signal`` actions, carried out in the event's own transaction.

An event's actions may open cases of other processes (``{open: {process: repair, each:
defects, data: {unit: =unit, content: =item}}}``) and fire events on linked cases
(``{signal: {event: reopen, to: parent}}``). :class:`LinkedTransaction` starts from the change
of the case the event was fired on, carries out its pending link actions, then those of every
case they opened or signalled, and hands the lot to the store in one commit
(:meth:`engine.store.Store.commit`), every existing case with its own optimistic check: if
any of them changed meanwhile, nothing is written. Actions that reach no case (a ``signal``
to a parent the case does not have) leave the event's case alone: the caller writes it as
any other event.

- An opened case is opened by the engine (actor ``propflow``, role ``system``) on the current
  version of its process, with the mapped data; a link row ties it to the case whose action
  opened it. Data that does not fit its form refuses the whole event (:class:`LinkRefused`)
  — or, for an action run by a timer, is recorded on the timer's log entry as skipped.
- A signalled event is fired as ``system`` on each linked case; a refusal (wrong state,
  guard false ...) is recorded as skipped on the signalling entry, as a refused ``fire``
  action's is, and does not stop the event.
- A chain deeper than :data:`MAX_LINK_DEPTH` (a case opened by a case opened by ..., or
  signals bouncing between cases), or more than :data:`MAX_LINKED_CASES` cases in one
  transaction, refuses the event with :class:`LinkRefused` and writes nothing. The validator
  reports the chains it can see (PF504, PF506); this bound stops the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.diagnostics.catalogue import say
from engine.model import Open, Signal, reference
from engine.model.process import SYSTEM_ROLE
from engine.runtime.actor import SYSTEM_ACTOR
from engine.runtime.change import CaseChange, Children, PendingLink, apply_actions
from engine.runtime.definitions import Definitions, Version
from engine.runtime.errors import EventRefused, LinkRefused
from engine.store import CaseRecord, CaseWrite, LinkRecord, OutboxItem, ScheduleClaim, Store
from engine.store.linked import linked_cases, links_of

#: The deepest chain of links one event may set off: a case opened by a case opened by ...,
#: or signals passed on from case to case.
MAX_LINK_DEPTH = 10

#: The most cases one transaction may open or change through links.
MAX_LINKED_CASES = 10_000


@dataclass(frozen=True)
class Link:
    """A case linked to another: its ``parent`` (the case that opened it as a child), one of
    its ``child`` cases, or a ``related`` case; with where that case stands now."""

    kind: str
    case_id: str
    process: str
    state: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "case": self.case_id,
            "process": self.process,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
        }


def links(store: Store, case_id: str, tx: Connection | None = None) -> list[Link]:
    """The case's parent, children and related cases, oldest link first (read in ``tx`` if
    given)."""
    found: list[Link] = []
    for row in links_of(store, case_id, tx):
        if row.kind == "child":
            kind, other = (
                ("child", row.child_id) if row.parent_id == case_id else ("parent", row.parent_id)
            )
        else:
            kind, other = "related", row.child_id if row.parent_id == case_id else row.parent_id
        record = store.get_case(other, tx)
        if record is not None:
            found.append(Link(kind, other, record.process, record.state, row.created_at))
    return sorted(
        found, key=lambda link: ({"parent": 0, "child": 1}.get(link.kind, 2), link.created_at)
    )


def children_view(
    store: Store, definitions: Definitions, case_id: str, tx: Connection | None = None
) -> Children:
    """What guards read as the case's children: state, whether final, and typed data."""

    def load() -> list[Mapping[str, object]]:
        return [
            _child(definitions, record, tx)
            for record in linked_cases(store, case_id, "children", tx)
        ]

    return load


def remembered(children: Children) -> Children:
    """``children`` loaded at most once (for several guards read at one moment)."""
    loaded: list[Sequence[Mapping[str, object]]] = []

    def load() -> Sequence[Mapping[str, object]]:
        if not loaded:
            loaded.append(children())
        return loaded[0]

    return load


def _child(
    definitions: Definitions, record: CaseRecord, tx: Connection | None
) -> Mapping[str, object]:
    compiled = definitions.of_case(record, tx)
    state = compiled.process.states.get(record.state)
    return {
        "state": record.state,
        "final": bool(state is not None and state.final),
        "data": compiled.form.typed(record.data),
    }


def resolve_data(
    mapping: Mapping[str, Any], data: Mapping[str, Any], item: Any = None
) -> dict[str, Any]:
    """The values of a link's ``data``: ``=FIELD`` from ``data``, ``=item``, or literals."""
    values: dict[str, Any] = {}
    for key, value in mapping.items():
        name = reference(value)
        if name is None:
            values[key] = value
        elif name == "item":
            values[key] = item
        else:
            values[key] = data.get(name)
    return values


def new_case(
    definitions: Definitions,
    estate: str,
    version: Version,
    data: Mapping[str, Any],
    now: datetime,
    *,
    assignee: str | None = None,
    note: Mapping[str, Any] | None = None,
) -> tuple[CaseChange | None, list[str]]:
    """A new case of the estate opened by the engine (``system``) on ``version``, or
    ``None`` and why its data does not fit its form. ``note`` is added to the opening
    entry's actions (who opened it). Its guards see its children once a
    :class:`LinkedTransaction` holds it."""
    definition = version.process
    compiled = definitions.compile(definition)
    values, problems = compiled.form.validate(data)
    initial = {**compiled.form.defaults(), **values}
    required = [fid for fid, f in definition.fields.items() if f.required]
    problems += [
        say("refusal.required", field=name) for name in compiled.form.missing(initial, required)
    ]
    if problems:
        return None, problems
    blank = CaseRecord.blank(
        str(uuid.uuid4()), estate, definition.id, version.id, compiled.initial, now
    )
    change = CaseChange(compiled, blank, {}, version.planner, now)
    effects = apply_actions(compiled, blank.id, compiled.enter_initial(), assignee, now)
    if note:
        effects.records.insert(0, dict(note))
    changes = {**initial, **effects.changes}
    change.record_entry(
        "open",
        SYSTEM_ACTOR.id,
        SYSTEM_ROLE,
        compiled.initial,
        values,
        changes,
        effects,
        opening=True,
    )
    return change, []


class LinkedTransaction:
    """The cases one event changes through its links, written together or not at all."""

    def __init__(
        self,
        definitions: Definitions,
        store: Store,
        estate: str,
        first: CaseChange,
        expected: int | None,
        *,
        lenient: bool = False,
        tx: Connection | None = None,
    ) -> None:
        self.definitions = definitions
        self.store = store
        self.estate = estate
        #: Where the cases and links are read (the caller's transaction, if any).
        self.tx = tx
        self.lenient = lenient
        self.now = first.now
        self.changes: dict[str, CaseChange] = {}
        self.expected: dict[str, int | None] = {}
        self.depth: dict[str, int] = {}
        self.links: list[LinkRecord] = []
        #: The definition versions of the new cases, to store before them.
        self.versions: dict[str, Version] = {}
        self._add(first, expected, 0)

    def add_root(self, change: CaseChange) -> None:
        """Another new case written in this transaction (a schedule opens several)."""
        self._add(change, None, 0)

    def _add(self, change: CaseChange, expected: int | None, depth: int) -> None:
        case_id = change.record.id
        if len(self.changes) >= MAX_LINKED_CASES:
            raise self._refused(change, say("refusal.too_many_links", limit=MAX_LINKED_CASES))
        self.changes[case_id] = change
        self.expected[case_id] = expected
        if expected is None:  # a new case: its definition version must be stored
            version_id = change.record.definition_version
            self.versions[version_id] = self.definitions.version(version_id)
        self.depth[case_id] = depth
        change.children = self._children(case_id)

    # -- carrying out the links ----------------------------------------------------------------

    def settle(self) -> None:
        """Carry out every pending link action, and those of the cases they reach."""
        while True:
            found = next(
                (
                    (change, change.pending.pop(0))
                    for change in list(self.changes.values())
                    if change.pending
                ),
                None,
            )
            if found is None:
                return
            change, pending = found
            if isinstance(pending.action, Open):
                self._open(change, pending, pending.action)
            else:
                self._signal(change, pending, pending.action)

    def _deeper(self, source: CaseChange, what: str) -> int:
        depth = self.depth[source.record.id] + 1
        if depth > MAX_LINK_DEPTH:
            raise self._refused(
                source,
                say("refusal.too_deep", what=what, limit=MAX_LINK_DEPTH),
            )
        return depth

    def _open(self, source: CaseChange, pending: PendingLink, action: Open) -> None:
        depth = self._deeper(source, say("refusal.opening", process=action.process))
        version = self.definitions.latest(action.process)
        items: Sequence[Any] = [None]
        if action.each is not None:
            listed = pending.data.get(action.each)
            items = listed if isinstance(listed, list) else []
        entry = source.entries[pending.entry]
        for item in items:
            data = resolve_data(action.data, pending.data, item)
            note = {"opened_by": source.record.id, "link": action.link}
            child, problems = new_case(
                self.definitions, self.estate, version, data, self.now, note=note
            )
            if child is None:
                reason = say(
                    "refusal.could_not_open",
                    process=action.process,
                    problems=say("words.semicolon").join(problems),
                )
                if not self.lenient:
                    raise self._refused(source, reason)
                entry.actions.append({"open": action.process, "skipped": reason})
                continue
            self._add(child, None, depth)
            self.links.append(LinkRecord(source.record.id, child.record.id, action.link, self.now))
            entry.actions.append({"open": action.process, "case": child.record.id})

    def _signal(self, source: CaseChange, pending: PendingLink, action: Signal) -> None:
        depth = self._deeper(source, say("refusal.signalling", event=action.event))
        entry = source.entries[pending.entry]
        payload = resolve_data(action.data, pending.data)
        for case_id in self._targets(source.record.id, action.to):
            target = self.changes.get(case_id)
            loaded = target is None
            if target is None:
                target = self._load(case_id)
                if target is None:
                    continue
            before = len(target.entries)
            try:
                target.fire(action.event, SYSTEM_ACTOR, payload)
            except EventRefused as refusal:
                entry.actions.append(
                    {"signal": action.event, "case": case_id, "skipped": refusal.reason}
                )
                continue
            target.entries[before].actions.append({"signalled_by": source.record.id})
            entry.actions.append({"signal": action.event, "case": case_id})
            if loaded:
                self._add(target, target.record.version, depth)
            else:  # signalled again: a loop between cases must reach the depth limit
                self.depth[case_id] = max(self.depth[case_id], depth)

    def _targets(self, case_id: str, to: str) -> list[str]:
        """Ids of the linked cases a signal reaches: stored links and this transaction's."""
        found = [record.id for record in linked_cases(self.store, case_id, to, self.tx)]
        for link in self.links:
            if to == "children" and link.kind == "child" and link.parent_id == case_id:
                found.append(link.child_id)
            elif to == "parent" and link.kind == "child" and link.child_id == case_id:
                found.append(link.parent_id)
            elif (
                to == "related"
                and link.kind == "related"
                and case_id
                in (
                    link.parent_id,
                    link.child_id,
                )
            ):
                found.append(link.child_id if link.parent_id == case_id else link.parent_id)
        return list(dict.fromkeys(found))

    def _load(self, case_id: str) -> CaseChange | None:
        record = self.store.get_case(case_id, self.tx)
        if record is None or record.estate != self.estate:
            return None
        clocks = {clock.limit_id: clock for clock in self.store.clocks(case_id, self.tx)}
        compiled = self.definitions.of_case(record, self.tx)
        planner = self.definitions.planner_of(record, self.tx)
        change = CaseChange(compiled, record, clocks, planner, self.now)
        change.children = self._children(case_id)
        return change

    def _children(self, case_id: str) -> Children:
        """The case's children as guards see them: as stored, with this transaction's
        changes and new children on top."""

        def load() -> list[Mapping[str, object]]:
            stored = {
                record.id: record
                for record in linked_cases(self.store, case_id, "children", self.tx)
            }
            ids = list(stored)
            ids += [
                link.child_id
                for link in self.links
                if link.kind == "child" and link.parent_id == case_id
            ]
            view: list[Mapping[str, object]] = []
            for child_id in dict.fromkeys(ids):
                change = self.changes.get(child_id)
                if change is not None:
                    state = change.compiled.process.states[change.state]
                    view.append(
                        {
                            "state": change.state,
                            "final": state.final,
                            "data": change.compiled.form.typed(change.data),
                        }
                    )
                elif child_id in stored:
                    view.append(_child(self.definitions, stored[child_id], self.tx))
            return view

        return load

    def _refused(self, change: CaseChange, reason: str) -> LinkRefused:
        event = change.entries[-1].event if change.entries else "open"
        return LinkRefused(change.record.id, change.record.state, event, reason)

    # -- writing -------------------------------------------------------------------------------

    @property
    def alone(self) -> bool:
        """Whether the link actions reached no other case: only the first case is written."""
        return len(self.changes) == 1 and not self.links

    def writes(self) -> list[CaseWrite]:
        return [
            change.write(self.expected[case_id])
            for case_id, change in self.changes.items()
            if change.entries
        ]

    def commit(
        self,
        *,
        tx: Connection | None = None,
        fired_timers: Collection[int] = (),
        schedules: Sequence[ScheduleClaim] = (),
        outbox: Sequence[OutboxItem] = (),
    ) -> None:
        """Write every case of the transaction (and their links) in one commit: in ``tx`` if
        given, else in a transaction of its own (see :meth:`Store.commit`)."""
        for version in self.versions.values():
            self.definitions.save(version, self.now, tx)
        self.store.commit(
            self.writes(),
            at=self.now,
            links=self.links,
            outbox=outbox,
            fired_timers=fired_timers,
            schedules=schedules,
            tx=tx,
        )


def settled(
    definitions: Definitions,
    store: Store,
    estate: str,
    change: CaseChange,
    expected: int | None,
    *,
    lenient: bool = False,
    tx: Connection | None = None,
) -> LinkedTransaction:
    """Carry out a change's link actions (reading in ``tx`` if given): the cases to write.

    ``lenient`` (for a timer) means a link that cannot be carried out never blocks the
    change: a case whose data does not fit is skipped, and a chain that goes too deep is
    dropped whole, with a note on the change's last entry, so that its own effects are
    written.
    """
    saved = _Snapshot(change) if lenient else None
    linked = LinkedTransaction(definitions, store, estate, change, expected, lenient=lenient, tx=tx)
    try:
        linked.settle()
    except LinkRefused as refusal:
        if saved is None:
            raise
        saved.restore()
        change.pending.clear()
        change.entries[-1].actions.append({"links": "skipped", "reason": refusal.reason})
        linked = LinkedTransaction(
            definitions, store, estate, change, expected, lenient=True, tx=tx
        )
    return linked


class _Snapshot:
    """A change as it was, to go back to when its links are dropped (a signal chain may have
    come back to it and added entries)."""

    def __init__(self, change: CaseChange) -> None:
        self.change = change
        self.state = change.state
        self.data = dict(change.data)
        self.assignee = change.assignee
        self.clocks = dict(change.clocks)
        self.entries = list(change.entries)
        self.actions = [list(entry.actions) for entry in change.entries]
        self.outbox = list(change.outbox)
        self.clock_changes = list(change.clock_changes)

    def restore(self) -> None:
        change = self.change
        change.state, change.assignee = self.state, self.assignee
        change.data, change.clocks = dict(self.data), dict(self.clocks)
        change.entries = list(self.entries)
        for entry, actions in zip(change.entries, self.actions, strict=True):
            entry.actions[:] = actions
        change.outbox, change.clock_changes = list(self.outbox), list(self.clock_changes)
