"""The store's hot statements, sent on the driver's cursor, store and read what SQLAlchemy's
own execution of the same rows stores and reads, and are refused with its errors.

Two cases alike but for their ids: one written by the store (its update, log entry, outbox
row, clock and timers sent by :mod:`engine.store.driver`), the other with plain SQLAlchemy
inserts of the same values. Every column of every row is compared as the database holds it
(cast to text), and both cases read back the same through the store's joined read (sent on
the driver) and through SQLAlchemy's reads. Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, Table, Text, cast, insert, select
from sqlalchemy.exc import IntegrityError

from engine.sla.clocks import PlanItem, TimerKind
from engine.store import (
    CaseRecord,
    CaseWrite,
    ClockChange,
    ClockRecord,
    DefinitionRecord,
    LogEntry,
    OutboxItem,
    Store,
    TimerRecord,
)
from engine.store.driver import Sent
from engine.store.rows import ListStatement
from engine.store.schema import case_log, cases, definitions, outbox, sla_clocks, timers
from engine.store.store import row_values

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
#: A moment given in another zone than UTC: stored as the same instant in UTC.
EAST = datetime(2026, 3, 2, 17, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
#: Values with text that quoting or JSON encoding must get right, empty JSON values, a null.
AWKWARD: dict[str, Any] = {
    "text": '报修 {1,2} "quoted" \\ ,NULL',
    "empty": {},
    "list": [[]],
    "none": None,
}


def stored(tx: Connection, table: Table, case_id: str, leave_out: set[str]) -> list[tuple[Any]]:
    """A case's rows of ``table`` as the database holds them, every column as its text,
    without the columns that differ between the two cases (ids and keys)."""
    columns = [column for column in table.c if column.name not in leave_out]
    key = table.c.case_id if "case_id" in table.c else table.c.id
    rows = tx.execute(select(*(cast(column, Text) for column in columns)).where(key == case_id))
    return sorted(tuple(row) for row in rows)


def records(case_id: str) -> tuple[CaseRecord, LogEntry, OutboxItem, ClockRecord, TimerRecord]:
    """The rows of one event of case ``case_id``, with awkward text, empty JSON values,
    missing moments and a moment given outside UTC."""
    case = CaseRecord(case_id, "e", "p", "v1", "t", AWKWARD, "李", 2, START, EAST)
    entry = LogEntry(
        case_id, 2, "go", "a", "r", EAST, "s", "t", AWKWARD, {"data": AWKWARD}, "李", [AWKWARD]
    )
    item = OutboxItem(case_id, "notify", "r", "报修 {}", AWKWARD, EAST)
    clock = ClockRecord(
        case_id,
        "lim",
        "running",
        START,
        EAST,
        warnings_sent=("w", "{}"),
        notes=('"n"',),
        plan=(PlanItem(TimerKind.WARNING, 1, EAST),),
        pauses=((START, EAST),),
    )
    timer = TimerRecord(case_id, "warning", "lim", EAST, AWKWARD)
    return case, entry, item, clock, timer


@pytest.mark.parametrize("sent_first", [True, False])
def test_rows_sent_on_the_driver_are_stored_and_read_as_sqlalchemy_does(
    store_url: str, sent_first: bool
) -> None:
    store = Store(store_url)
    store.save_definition(DefinitionRecord("v1", "p", {}), START)
    opened = CaseRecord("sent", "e", "p", "v1", "s", {}, None, 1, START, START)
    store.commit([CaseWrite(opened, None)], at=START)
    case, entry, item, clock, timer = records("sent")
    write = CaseWrite(case, 1, (entry,), (item,), (ClockChange("sent", "lim", clock, (timer,)),))
    plain = records("plain")
    with store.transaction() as tx:
        if sent_first:
            store.commit([write], at=EAST, tx=tx)
        tx.execute(insert(cases), row_values(plain[0], cases))
        tx.execute(insert(case_log), {**row_values(plain[1], case_log, ("seq",)), "estate": "e"})
        seq = tx.execute(select(case_log.c.seq).where(case_log.c.case_id == "plain")).scalar()
        given = ("id", "log_seq", "estate")
        tx.execute(
            insert(outbox),
            {**row_values(plain[2], outbox, given), "log_seq": seq, "estate": "e"},
        )
        tx.execute(insert(sla_clocks), {**clock_row(plain[3]), "estate": "e"})
        tx.execute(
            insert(timers),
            {**row_values(plain[4], timers, ("id",)), "created_at": EAST, "estate": "e"},
        )
        if not sent_first:
            store.commit([write], at=EAST, tx=tx)

    with store.engine.connect() as tx:
        for table, leave_out in (
            (cases, {"id"}),
            (case_log, {"seq", "case_id"}),
            (outbox, {"id", "case_id", "log_seq"}),
            (sla_clocks, {"case_id"}),
            (timers, {"id", "case_id"}),
        ):
            assert stored(tx, table, "sent", leave_out) == stored(tx, table, "plain", leave_out)
    with store.transaction() as tx:
        joined = {name: store.case_and_clocks(name, tx) for name in ("sent", "plain")}
    assert joined["sent"] == (case, {"lim": clock})
    assert joined["plain"] == (plain[0], {"lim": plain[3]})
    for name, (written, logged, queued, kept, due) in (
        ("sent", (case, entry, item, clock, timer)),
        ("plain", plain),
    ):
        assert store.get_case(name) == written
        assert replace(store.history(name)[-1], seq=None) == logged
        (found,) = store.outbox_items(name)
        assert replace(found, id=None, log_seq=None) == replace(queued, estate="e")
        assert store.clocks(name) == [kept]
        assert [replace(t, id=None) for t in store.pending_timers(name)] == [due]
    store.close()


def clock_row(clock: ClockRecord) -> dict[str, Any]:
    """A clock's row as plain SQLAlchemy takes it: the tuples as JSON lists."""
    return {
        **row_values(clock, sla_clocks),
        "warnings_sent": list(clock.warnings_sent),
        "extensions": list(clock.extensions),
        "notes": list(clock.notes),
        "plan": [item.to_json() for item in clock.plan],
        "pauses": [[since.isoformat(), to.isoformat()] for since, to in clock.pauses],
    }


def test_a_statement_the_database_refuses_raises_sqlalchemy_s_error(store_url: str) -> None:
    """A refusal reaches the store as SQLAlchemy's exception of its kind, around the
    driver's own error, and the transaction is rolled back as before."""
    store = Store(store_url)
    store.save_definition(DefinitionRecord("v1", "p", {}), START)
    again = Sent(insert(definitions), ("version", "process", "content", "created_at"))
    row = {"version": "v1", "process": "p", "content": {}, "created_at": START}
    with pytest.raises(IntegrityError) as refused, store.transaction() as tx:
        again.count(tx, [row])
    assert isinstance(refused.value.orig, store.engine.dialect.loaded_dbapi.Error)
    assert "definitions" in str(refused.value.statement)
    assert store.load_definition("v1") is not None
    store.close()


def test_a_list_sent_as_one_value_selects_what_an_expanding_in_does(store_url: str) -> None:
    """:class:`~engine.store.rows.ListStatement` (JSON text on SQLite, an array on
    PostgreSQL) selects the rows SQLAlchemy's expanding ``IN`` selects, for text that JSON
    and arrays must quote right, for integers, and for an empty list."""
    store = Store(store_url)
    store.save_definition(DefinitionRecord("v1", "p", {}), START)
    ids = ["plain", '报修 {1,2} "quoted" \\ ,NULL', "it's", "[]"]
    with store.transaction() as tx:
        tx.execute(
            insert(cases),
            [row_values(CaseRecord.blank(i, "e", "p", "v1", "s", START), cases) for i in ids],
        )
    by_id = ListStatement(cases.c.id.type, lambda listed: select(cases.c.id).where(
        cases.c.id.in_(listed)))  # fmt: skip
    by_version = ListStatement(cases.c.version.type, lambda listed: select(cases.c.id).where(
        cases.c.version.in_(listed)))  # fmt: skip
    asked = [ids[1], ids[3], "absent", ids[1]]
    with store.transaction() as tx:
        expanding = select(cases.c.id).where(cases.c.id.in_(asked))
        assert sorted(row[0] for row in by_id.rows(tx, asked)) == sorted(
            row[0] for row in tx.execute(expanding)
        ) == sorted([ids[1], ids[3]])  # fmt: skip
        assert sorted(row[0] for row in by_version.rows(tx, [0, 7])) == sorted(ids)
        assert by_id.rows(tx, []) == []
        assert by_version.rows(tx, []) == []
    store.close()
