"""The store's side of patterns: reading an estate's audit log in order, each entry with its
case's data at that moment, and the cursor and match rows written with a match's actions.

Patterns need no columns on the case rows: the data a case had at an entry is the fold of
its log entries' ``changes`` up to that entry (the opening entry holds the whole form), so
the log alone says what the case was when each entry was written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.store.records import LinkRecord
from engine.store.schema import case_links, case_log, cases, pattern_cursors, pattern_matches
from engine.store.store import Store

#: On PostgreSQL a log entry's ``seq`` is drawn when it is inserted and becomes visible when
#: its transaction commits, so a later ``seq`` can be seen before an earlier one. A cursor
#: that passed the earlier one would never see it: entries are read only once they are this
#: much older than the reading tick, the longest a writing transaction is expected to take
#: from reading the clock to its commit. SQLite writes one transaction at a time: none.
POSTGRESQL_SETTLE = timedelta(seconds=30)


class CursorMoved(Exception):
    """Another worker advanced the estate's pattern cursor first: its matches stand."""


@dataclass(frozen=True)
class PatternEntry:
    """A log entry as patterns see it: where it is in the log, its case and the case's
    process, what happened, and the case's data just after it."""

    seq: int
    case_id: str
    process: str
    event: str
    to_state: str
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class MatchRecord:
    """A ``pattern_matches`` row: a pattern matched these log entries of these cases."""

    pattern: str
    last_seq: int
    seqs: list[int]
    cases: list[str]
    actions: list[dict[str, Any]]
    at: datetime
    estate: str = ""
    id: int | None = None


def settle_for(store: Store) -> timedelta:
    """How old an entry must be before patterns read it on this store's database."""
    return POSTGRESQL_SETTLE if store.dialect == "postgresql" else timedelta(0)


def read_cursor(store: Store, estate: str, tx: Connection | None = None) -> int:
    """The last log ``seq`` the estate's patterns have read (0 before the first tick)."""
    rows = store.rows(
        select(pattern_cursors.c.seq).where(pattern_cursors.c.estate == estate), tx=tx
    )
    return int(rows[0]["seq"]) if rows else 0


def advance_cursor(tx: Connection, estate: str, expected: int, seq: int, at: datetime) -> None:
    """Move the estate's cursor from ``expected`` to ``seq`` in ``tx``; :class:`CursorMoved`
    if another worker moved it first (its transaction then holds the matches)."""
    if seq == expected:
        return
    if expected == 0:
        exists = tx.execute(
            select(pattern_cursors.c.seq).where(pattern_cursors.c.estate == estate)
        ).first()
        if exists is None:
            try:
                with tx.begin_nested():
                    tx.execute(
                        insert(pattern_cursors).values(estate=estate, seq=seq, updated_at=at)
                    )
            except IntegrityError:
                raise CursorMoved(estate) from None
            return
    moved = tx.execute(
        update(pattern_cursors)
        .where(and_(pattern_cursors.c.estate == estate, pattern_cursors.c.seq == expected))
        .values(seq=seq, updated_at=at)
    )
    if moved.rowcount != 1:
        raise CursorMoved(estate)


def record_matches(tx: Connection, estate: str, matches: Sequence[MatchRecord]) -> None:
    """Write the audit rows of matches in ``tx`` (the transaction of their actions)."""
    if not matches:
        return
    try:
        with tx.begin_nested():
            tx.execute(
                insert(pattern_matches),
                [
                    {
                        "estate": estate,
                        "pattern": match.pattern,
                        "last_seq": match.last_seq,
                        "seqs": match.seqs,
                        "cases": match.cases,
                        "actions": match.actions,
                        "at": match.at,
                    }
                    for match in matches
                ],
            )
    except IntegrityError:  # the same match, written by a worker that got there first
        raise CursorMoved(estate) from None


def entries_after(
    store: Store, estate: str, after: int, until: datetime, limit: int
) -> list[PatternEntry]:
    """The estate's log entries after ``seq`` ``after`` written by ``until``, oldest first, at
    most ``limit``, each with its case's data at that moment."""
    query = (
        _ENTRY.where(
            and_(case_log.c.estate == estate, case_log.c.seq > after, case_log.c.at <= until)
        )
        .order_by(case_log.c.seq)
        .limit(limit)
    )
    return _with_data(store, store.rows(query))


def entries_since(
    store: Store, estate: str, since: datetime, upto: int, processes: Iterable[str]
) -> list[PatternEntry]:
    """The estate's log entries of cases of ``processes`` written from ``since`` up to
    ``seq`` ``upto``, oldest first: what the open windows held when the cursor stopped."""
    query = _ENTRY.where(
        and_(
            case_log.c.estate == estate,
            case_log.c.seq <= upto,
            case_log.c.at >= since,
            cases.c.process.in_(sorted(set(processes))),
        )
    ).order_by(case_log.c.seq)
    return _with_data(store, store.rows(query))


def open_cases_at(store: Store, estate: str, process: str, upto: int) -> list[PatternEntry]:
    """The cases of ``process`` opened by ``seq`` ``upto`` and not closed by it, each as its
    latest entry up to there: the open cases a rebuilt window correlates with."""
    latest = (
        select(case_log.c.case_id, case_log.c.seq)
        .join(cases, cases.c.id == case_log.c.case_id)
        .where(
            and_(case_log.c.estate == estate, cases.c.process == process, case_log.c.seq <= upto)
        )
        .order_by(case_log.c.case_id, case_log.c.seq.desc())
    )
    last: dict[str, int] = {}
    for row in store.rows(latest):
        last.setdefault(row["case_id"], int(row["seq"]))
    if not last:
        return []
    rows = store.rows(
        _ENTRY.where(case_log.c.seq.in_(sorted(last.values()))).order_by(case_log.c.seq)
    )
    return _with_data(store, rows)


def consumed_since(store: Store, estate: str, after: int) -> dict[str, set[int]]:
    """By pattern, the log entries used up by matches completed after ``seq`` ``after``."""
    found: dict[str, set[int]] = defaultdict(set)
    rows = store.rows(
        select(pattern_matches.c.pattern, pattern_matches.c.seqs).where(
            and_(pattern_matches.c.estate == estate, pattern_matches.c.last_seq > after)
        )
    )
    for row in rows:
        found[row["pattern"]].update(int(seq) for seq in row["seqs"])
    return dict(found)


def matches_of(store: Store, estate: str, pattern: str | None = None) -> list[MatchRecord]:
    """The estate's recorded matches (of one pattern if given), in the order they completed."""
    query = select(pattern_matches).where(pattern_matches.c.estate == estate)
    if pattern is not None:
        query = query.where(pattern_matches.c.pattern == pattern)
    return [
        MatchRecord(
            pattern=row["pattern"],
            last_seq=int(row["last_seq"]),
            seqs=[int(seq) for seq in row["seqs"]],
            cases=list(row["cases"]),
            actions=list(row["actions"]),
            at=row["at"],
            estate=row["estate"],
            id=int(row["id"]),
        )
        for row in store.rows(query.order_by(pattern_matches.c.last_seq, pattern_matches.c.id))
    ]


_ENTRY = select(
    case_log.c.seq,
    case_log.c.case_id,
    case_log.c.version,
    case_log.c.event,
    case_log.c.to_state,
    case_log.c.at,
    cases.c.process,
    cases.c.version.label("case_version"),
    cases.c.data.label("case_data"),
).join(cases, cases.c.id == case_log.c.case_id)


def _with_data(store: Store, rows: Sequence[Any]) -> list[PatternEntry]:
    """The entries of ``rows`` with their cases' data folded from the log up to each.

    An entry that is its case's latest (read with the case's row, in the same query) takes
    the case's data as it stands, which is that fold: a case's row is always its replayed
    log (:func:`engine.runtime.case.replay`, which the crash tests check). Only the cases
    with later entries are folded from their history; a tick's entries are mostly their
    cases' latest.
    """
    if not rows:
        return []
    at_version: dict[tuple[str, int], dict[str, Any]] = {}
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        key = (row["case_id"], int(row["version"]))
        if key[1] == int(row["case_version"]):
            at_version[key] = row["case_data"]
        else:
            wanted[key[0]].add(key[1])
    if wanted:
        history = store.rows(
            select(case_log.c.case_id, case_log.c.version, case_log.c.changes)
            .where(
                and_(
                    case_log.c.case_id.in_(sorted(wanted)),
                    case_log.c.version <= max(max(versions) for versions in wanted.values()),
                )
            )
            .order_by(case_log.c.case_id, case_log.c.version)
        )
        folding: dict[str, dict[str, Any]] = defaultdict(dict)
        for row in history:
            case_id, version = row["case_id"], int(row["version"])
            data = folding[case_id]
            data.update(row["changes"])
            if version in wanted[case_id]:
                at_version[(case_id, version)] = dict(data)
    return [
        PatternEntry(
            seq=int(row["seq"]),
            case_id=row["case_id"],
            process=row["process"],
            event=row["event"],
            to_state=row["to_state"],
            at=row["at"],
            data=at_version.get((row["case_id"], int(row["version"])), {}),
        )
        for row in rows
    ]


def entry_at(store: Store, seq: int) -> datetime:
    """When log entry ``seq`` was written."""
    rows = store.rows(select(case_log.c.at).where(case_log.c.seq == seq))
    at: datetime = rows[0]["at"]
    return at


def add_links(tx: Connection, estate: str, links: Sequence[LinkRecord]) -> None:
    """Write links a match adds between cases already in the store, in ``tx``."""
    if links:
        tx.execute(
            insert(case_links),
            [
                {
                    "parent_id": link.parent_id,
                    "child_id": link.child_id,
                    "kind": link.kind,
                    "created_at": link.created_at,
                    "seq": seq,
                    "estate": estate,
                }
                for seq, link in enumerate(links)
            ],
        )
