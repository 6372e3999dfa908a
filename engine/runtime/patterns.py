"""The pattern step of a tick: read the estate's log after the cursor, match, commit.

Each batch of log entries is matched in memory (:class:`~engine.patterns.PatternMatcher`)
and then committed in ONE store transaction: the cursor advanced past the batch (with an
optimistic check), a ``pattern_matches`` row per match naming its entries and cases, and
the matches' actions — cases opened, outbox rows, links, fields set. A worker killed
between matching and that commit leaves the cursor where it was: the next tick matches the
same entries again and commits them once. A worker that loses the race for the cursor
(another committed the batch first) throws its in-memory windows away and rebuilds them,
as a restarted worker does, from the log: the entries inside the open windows, minus
those the recorded matches used up, and the open cases of the ``with_open`` patterns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import PatternDef, localized
from engine.model.actions import Notify, Open, SetFields
from engine.model.patterns import Link, PatternAction
from engine.model.process import SYSTEM_ROLE
from engine.patterns import PatternHit, PatternMatcher, lookback
from engine.runtime.actor import SYSTEM_ACTOR
from engine.runtime.change import CaseChange, Effects
from engine.runtime.definitions import Definitions
from engine.runtime.links import LinkedTransaction, new_case, resolve_data
from engine.store import LinkRecord, OutboxItem, Store, VersionConflict
from engine.store.linked import links_of
from engine.store.patterns import (
    CursorMoved,
    MatchRecord,
    PatternEntry,
    add_links,
    advance_cursor,
    consumed_since,
    entries_after,
    entries_since,
    entry_at,
    open_cases_at,
    read_cursor,
    record_matches,
    settle_for,
)
from engine.time import WorkingCalendar

#: The log entry a pattern's ``set`` writes is ``pattern:ID``.
PATTERN_ENTRY = "pattern"

#: Log entries matched and committed per transaction.
PATTERN_BATCH = 500

#: Matches written by patterns, each with its estate.
log = logging.getLogger("propflow.patterns")


@dataclass
class _Batch:
    """What one batch's matches write, gathered before the transaction."""

    now: datetime
    linked: LinkedTransaction | None = None
    #: Links the matches add between existing cases (those to new cases go with them).
    links: list[LinkRecord] = field(default_factory=list)
    opened_links: list[LinkRecord] = field(default_factory=list)
    outbox: list[OutboxItem] = field(default_factory=list)
    changed: dict[str, CaseChange] = field(default_factory=dict)
    matches: list[MatchRecord] = field(default_factory=list)


class PatternStep:
    """The patterns of one estate's library, run by its engine's tick."""

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
        self.patterns: list[PatternDef] = [located.definition for located in library.patterns]
        self.calendars = calendars
        self.fallback = fallback
        self.matcher: PatternMatcher | None = None
        self.cursor = 0

    def close(self) -> None:
        if self.matcher is not None:
            self.matcher.close()
            self.matcher = None

    # -- the tick ------------------------------------------------------------------------------

    def tick(self, now: datetime, limit: int) -> int:
        """Match the log entries written since the last tick (at most ``limit`` batches'
        worth); how many matches were committed."""
        if not self.patterns:
            return 0
        matcher = self.matcher or self._start()
        until = now - settle_for(self.store)
        committed = 0
        for _ in range(max(limit // PATTERN_BATCH, 1) + 1):
            entries = entries_after(self.store, self.estate, self.cursor, until, PATTERN_BATCH)
            if not entries:
                break
            try:
                hits = [hit for entry in entries for hit in matcher.feed(entry)]
                self._commit(hits, entries[-1].seq, now)
            except (CursorMoved, VersionConflict):
                # Another worker committed these entries (or changed a case a match sets):
                # its windows are the truth now.
                self.close()
                self._start()
                break
            except BaseException:
                # The windows have moved past a cursor that did not: rebuilt on the next tick.
                self.close()
                raise
            self.cursor = entries[-1].seq
            committed += len(hits)
            if len(entries) < PATTERN_BATCH:
                break
        return committed

    def _start(self) -> PatternMatcher:
        """A matcher with the windows as they stood at the stored cursor."""
        final = {
            process: frozenset(
                s for s, state in self.definitions.current(process).states.items() if state.final
            )
            for process in {p.match.process for p in self.patterns}
            | {p.with_open.process for p in self.patterns if p.with_open}
        }
        matcher = PatternMatcher(
            self.estate, self.patterns, final, self._typed, self.calendars, self.fallback
        )
        self.cursor = read_cursor(self.store, self.estate)
        if self.cursor:
            opened = [
                entry
                for process in sorted({p.with_open.process for p in self.patterns if p.with_open})
                for entry in open_cases_at(self.store, self.estate, process, self.cursor)
            ]
            reach = max((lookback(p) for p in self.patterns), default=timedelta(0))
            window: list[PatternEntry] = []
            if reach:
                since = entry_at(self.store, self.cursor) - reach
                window = entries_since(
                    self.store, self.estate, since, self.cursor, matcher.processes
                )
            since_seq = window[0].seq - 1 if window else self.cursor
            matcher.rebuild(opened, window, consumed_since(self.store, self.estate, since_seq))
        self.matcher = matcher
        return matcher

    def _typed(self, process: str, data: Mapping[str, Any]) -> Mapping[str, object]:
        form = self.definitions.compile(self.definitions.current(process)).form
        typed: Mapping[str, object] = form.typed(dict(data))
        return typed

    # -- committing ----------------------------------------------------------------------------

    def _commit(self, hits: Sequence[PatternHit], last_seq: int, now: datetime) -> None:
        with self.store.transaction() as tx:
            advance_cursor(tx, self.estate, self.cursor, last_seq, now)
            batch = _Batch(now)
            for hit in hits:
                done = [
                    outcome
                    for action in hit.pattern.actions
                    for outcome in self._act(batch, hit, action, tx)
                ]
                batch.matches.append(
                    MatchRecord(
                        pattern=hit.pattern.id,
                        last_seq=hit.last.seq,
                        seqs=[entry.seq for entry in hit.entries],
                        cases=hit.cases,
                        actions=done,
                        at=now,
                    )
                )
            record_matches(tx, self.estate, batch.matches)
            writes = [change.write(change.record.version) for change in batch.changed.values()]
            if batch.linked is not None:
                batch.linked.settle()
                batch.linked.links.extend(batch.opened_links)
                for version in batch.linked.versions.values():
                    self.definitions.save(version, now, tx)
                self.store.commit(
                    [*batch.linked.writes(), *writes],
                    at=now,
                    links=batch.linked.links,
                    outbox=batch.outbox,
                    tx=tx,
                )
            elif writes or batch.outbox:
                self.store.commit(writes, at=now, outbox=batch.outbox, tx=tx)
            add_links(tx, self.estate, batch.links)
        for match in batch.matches:
            log.info(
                "pattern '%s' matched cases %s (estate %s)",
                match.pattern,
                ", ".join(match.cases),
                self.estate,
            )

    def _act(
        self, batch: _Batch, hit: PatternHit, action: PatternAction, tx: Connection
    ) -> list[dict[str, Any]]:
        """Carry out one action of a match into ``batch``; what it did, for the audit row."""
        pattern, last = hit.pattern, hit.last
        if isinstance(action, Notify):
            label = localized(pattern.label, pattern.id)
            message = localized(action.message, label) if action.message else label
            batch.outbox.append(
                OutboxItem(
                    case_id=last.case_id,
                    kind="notify",
                    role=action.role,
                    message=message,
                    payload={"pattern": pattern.id, "cases": hit.cases},
                    created_at=batch.now,
                    estate=self.estate,
                )
            )
            return [{"notify": action.role}]
        if isinstance(action, Link):
            known = {
                frozenset((link.parent_id, link.child_id))
                for link in links_of(self.store, last.case_id, tx)
            } | {frozenset((link.parent_id, link.child_id)) for link in batch.links}
            others = [case for case in hit.cases if case != last.case_id]
            fresh = [case for case in others if frozenset((last.case_id, case)) not in known]
            batch.links.extend(
                LinkRecord(last.case_id, case, "related", batch.now) for case in fresh
            )
            return [{"link": fresh}]
        if isinstance(action, SetFields):
            change = batch.changed.get(last.case_id) or self._load(last.case_id, batch.now, tx)
            if change is None:
                return [{"set": dict(action.values), "skipped": "the case is gone"}]
            batch.changed[last.case_id] = change
            change.record_entry(
                f"{PATTERN_ENTRY}:{pattern.id}",
                SYSTEM_ACTOR.id,
                SYSTEM_ROLE,
                change.state,
                {},
                dict(action.values),
                Effects(
                    assignee=change.assignee, records=[{"pattern": pattern.id, "cases": hit.cases}]
                ),
            )
            return [{"set": dict(action.values), "case": last.case_id}]
        assert isinstance(action, Open)
        version = self.definitions.latest(action.process)
        data = resolve_data(action.data, last.data)
        note = {"pattern": pattern.id, "cases": hit.cases}
        opened, problems = new_case(
            self.definitions, self.estate, version, data, batch.now, note=note
        )
        if opened is None:
            reason = say(
                "refusal.could_not_open",
                process=action.process,
                problems=say("words.semicolon").join(problems),
            )
            log.warning("pattern '%s': %s (estate %s)", pattern.id, reason, self.estate)
            return [{"open": action.process, "skipped": reason}]
        if batch.linked is None:
            batch.linked = LinkedTransaction(
                self.definitions, self.store, self.estate, opened, None, lenient=True, tx=tx
            )
        else:
            batch.linked.add_root(opened)
        batch.opened_links.extend(
            LinkRecord(case, opened.record.id, "related", batch.now) for case in hit.cases
        )
        return [{"open": action.process, "case": opened.record.id}]

    def _load(self, case_id: str, now: datetime, tx: Connection) -> CaseChange | None:
        record = self.store.get_case(case_id, tx)
        if record is None or record.estate != self.estate:
            return None
        clocks = {clock.limit_id: clock for clock in self.store.clocks(case_id, tx)}
        compiled = self.definitions.of_case(record, tx)
        planner = self.definitions.planner_of(record, tx)
        return CaseChange(compiled, record, clocks, planner, now)
