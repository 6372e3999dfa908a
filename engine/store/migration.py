"""What moving running cases to new definitions needs from the store: the processes an
estate has open cases of, the open cases of a process page by page, and a case's definition
version moved on with its change.

A case's row is otherwise written only by its events, which never change the version it
runs on; a move to new definitions does, in the transaction (and after the version check)
of the move's own change, so a case is on one version or the other, never half-way.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from engine.store.records import CaseRecord
from engine.store.schema import cases
from engine.store.store import Store, VersionConflict, records_of


def open_cases_page(
    store: Store, estate: str, process: str, after: str, limit: int, tx: Connection
) -> list[CaseRecord]:
    """Up to ``limit`` open cases of an estate's process whose ids sort after ``after``, in
    id order, read in ``tx``: a keyset page, so a rerun or the next batch starts where the
    last one ended, whatever changed in between."""
    statement = (
        select(cases)
        .where(
            cases.c.estate == estate,
            cases.c.process == process,
            cases.c.closed_at.is_(None),
            cases.c.id > after,
        )
        .order_by(cases.c.id)
        .limit(limit)
    )
    return records_of(CaseRecord, store.rows(statement, tx=tx))


def open_processes(store: Store, estate: str) -> list[str]:
    """The processes an estate has open cases of, sorted (those the current definitions no
    longer have included: their cases cannot move, and are reported)."""
    statement = (
        select(cases.c.process)
        .where(cases.c.estate == estate, cases.c.closed_at.is_(None))
        .distinct()
        .order_by(cases.c.process)
    )
    return [row["process"] for row in store.rows(statement)]


def move_definition_version(
    tx: Connection, case_id: str, definition_version: str, case_version: int
) -> None:
    """Set the definition version of a case written at ``case_version`` in ``tx`` (the
    move's change was just written), else :class:`VersionConflict`."""
    result = tx.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.version == case_version)
        .values(definition_version=definition_version)
    )
    if result.rowcount != 1:
        raise VersionConflict(case_id)
