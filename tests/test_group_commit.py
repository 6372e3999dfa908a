"""Group commit on SQLite: writers of one process that arrive together share one transaction
and one commit, each atomic on its own and acknowledged only once the commit succeeded.

Real SQLite files, and a real PostgreSQL server where the behaviour seen by callers is the
same (there each writer has a transaction of its own). To make a group form, a holder
takes the writer role first (a writing transaction that waits), the writers start and queue
behind it, and the holder lets go: the writers then run one after another in the group the
holder's transaction opened (up to its bound), each in a savepoint.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from engine.runtime import Actor, ConflictError, Engine, ManualClock, RoleRefused
from engine.store import Store, StoreConflict, StoreError
from engine.store.schema import case_log, cases, definitions, outbox, sla_clocks, timers
from tests.conftest import validated_library

START = datetime(2026, 2, 9, 1, 0, tzinfo=UTC)
DESK = Actor("li", {"receptionist"})
SUPERVISOR = Actor("wang", {"supervisor"})
OWNER = Actor("chen", {"owner"})
IN_UNIT = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
RECORD = {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"}
DISPATCH = {"technician": "赵师傅"}

#: Writers started behind a holder in each test.
WRITERS = 16


def _engine(url: str) -> Engine:
    return Engine(validated_library(), store=url, clock=ManualClock(START))


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    made = _engine(store_url)
    yield made
    made.close()


class Transactions:
    """The database transactions begun and the savepoints taken on a store's connections."""

    def __init__(self, store: Store) -> None:
        self.begun = 0
        self.savepoints = 0
        event.listen(store.engine, "begin", self._begin)
        event.listen(store.engine, "before_cursor_execute", self._statement)

    def _begin(self, *_args: Any) -> None:
        self.begun += 1

    def _statement(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SAVEPOINT"):
            self.savepoints += 1


class Queue:
    """Writers started with :meth:`start` queue behind a holder of the writer role."""

    def __init__(self, start: Callable[[Callable[[], object]], None]) -> None:
        self.start = start
        #: What the holder's own transaction raised (it is a member of the first group).
        self.holder_error: Exception | None = None


@contextmanager
def queued_behind_a_holder(store: Store) -> Iterator[Queue]:
    """A holder takes the writer role; on leaving the block it lets go of it and every
    writer started in the block is waited for. The order in which the writers reach the
    queue is theirs: only that they are all in it is known."""
    holding, letting_go = threading.Event(), threading.Event()
    writers: list[threading.Thread] = []

    def start(work: Callable[[], object]) -> None:
        writer = threading.Thread(target=work)
        writer.start()
        writers.append(writer)

    queue = Queue(start)

    def hold() -> None:
        try:
            with store.transaction():
                holding.set()
                letting_go.wait()
        except StoreError as error:
            queue.holder_error = error

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait()
    try:
        yield queue
        time.sleep(0.3)  # let every writer reach the queue behind the holder
    finally:
        letting_go.set()
        holder.join()
        for writer in writers:
            writer.join()


def _fire_each(
    engine: Engine,
    outcomes: dict[str, object],
    step: tuple[str, Actor, dict[str, Any]] = ("record", DESK, RECORD),
) -> Callable[[str], Callable[[], None]]:
    """What fires ``step`` on a case, keeping the version it reached or its error."""

    def work_of(case_id: str) -> Callable[[], None]:
        def work() -> None:
            try:
                outcomes[case_id] = engine.fire(case_id, *step).version
            except Exception as error:  # collected for the test to look at
                outcomes[case_id] = error

        return work

    return work_of


def _versions_on_disk(url: str, case_ids: list[str]) -> dict[str, list[int]]:
    """Each case's log versions, read by a store of its own (what is durable)."""
    store = Store(url)
    try:
        rows = store.rows(
            select(case_log.c.case_id, case_log.c.version)
            .where(case_log.c.case_id.in_(case_ids))
            .order_by(case_log.c.case_id, case_log.c.version)
        )
    finally:
        store.close()
    found: dict[str, list[int]] = {case_id: [] for case_id in case_ids}
    for row in rows:
        found[row["case_id"]].append(row["version"])
    return found


def test_sixteen_threads_on_different_cases_are_all_acknowledged_and_on_disk(
    engine: Engine, store_url: str
) -> None:
    ids = [engine.open_case("repair", IN_UNIT, DESK).id for _ in range(WRITERS)]
    outcomes: dict[str, object] = {}
    seen = Transactions(engine.store)
    with queued_behind_a_holder(engine.store) as queue:
        work_of = _fire_each(engine, outcomes)
        for case_id in ids:
            queue.start(work_of(case_id))
    assert outcomes == {case_id: 2 for case_id in ids}
    assert _versions_on_disk(store_url, ids) == {case_id: [1, 2] for case_id in ids}
    if engine.store.dialect != "sqlite":
        return
    # The holder's transaction and the sixteen events: fewer transactions than writers.
    assert seen.begun < WRITERS
    assert seen.savepoints >= WRITERS - seen.begun


def test_free_running_threads_are_all_acknowledged_and_on_disk(
    engine: Engine, store_url: str
) -> None:
    ids = [engine.open_case("repair", IN_UNIT, DESK).id for _ in range(WRITERS)]

    def walk(case_id: str) -> None:
        engine.fire(case_id, "record", DESK, RECORD)
        engine.fire(case_id, "dispatch", SUPERVISOR, DISPATCH)

    threads = [threading.Thread(target=walk, args=(case_id,)) for case_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _versions_on_disk(store_url, ids) == {case_id: [1, 2, 3] for case_id in ids}


def test_a_lone_writer_takes_no_savepoint(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, DESK)
    seen = Transactions(engine.store)
    engine.fire(case.id, "record", DESK, RECORD)
    assert (seen.begun, seen.savepoints) == (1, 0)


def test_refused_members_leave_the_others_committed(engine: Engine, store_url: str) -> None:
    ids = [engine.open_case("repair", IN_UNIT, DESK).id for _ in range(6)]
    accepted, role, stale, constraint = ids[:3], ids[3], ids[4], ids[5]
    outcomes: dict[str, object] = {}

    def refused_by_role() -> None:
        try:
            engine.fire(role, "record", OWNER, RECORD)
        except RoleRefused as refusal:
            outcomes[role] = refusal

    def stale_version() -> None:
        try:
            engine.fire(stale, "record", DESK, RECORD, expected_version=7)
        except ConflictError as refusal:
            outcomes[stale] = refusal

    def constraint_after_writes() -> None:
        # Writes a row, then one the database refuses: its savepoint undoes both.
        row = {"version": "v-group", "process": "x", "content": {}, "created_at": START}
        try:
            with engine.store.transaction() as tx:
                tx.execute(insert(definitions).values(**row))
                tx.execute(insert(definitions).values(**row))
        except Exception as refusal:  # IntegrityError, typed by the caller as it sees fit
            outcomes[constraint] = refusal

    with queued_behind_a_holder(engine.store) as queue:
        work_of = _fire_each(engine, outcomes)
        for index, case_id in enumerate(accepted):
            queue.start(work_of(case_id))
            queue.start((refused_by_role, stale_version, constraint_after_writes)[index])

    assert [outcomes[case_id] for case_id in accepted] == [2, 2, 2]
    assert isinstance(outcomes[role], RoleRefused)
    assert isinstance(outcomes[stale], ConflictError)
    assert "unique" in str(outcomes[constraint]).lower()
    on_disk = _versions_on_disk(store_url, ids)
    assert {case_id: on_disk[case_id] for case_id in accepted} == {c: [1, 2] for c in accepted}
    assert on_disk[role] == on_disk[stale] == [1]
    written = engine.store.rows(select(definitions).where(definitions.c.version == "v-group"))
    assert written == []


def _deferred_violation(tx: Any) -> None:
    """Work the database accepts statement by statement and refuses at the commit: a
    foreign key checked only when the transaction commits."""
    tx.execute(text("CREATE TEMP TABLE parent_k (id INTEGER PRIMARY KEY)"))
    tx.execute(
        text(
            "CREATE TEMP TABLE child_k (parent INTEGER REFERENCES parent_k (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
    )
    tx.execute(text("INSERT INTO child_k VALUES (7)"))


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_failed_commit_acknowledges_no_member(engine: Engine, store_url: str) -> None:
    ids = [engine.open_case("repair", IN_UNIT, DESK).id for _ in range(4)]
    outcomes: dict[str, object] = {}

    def refused_at_commit() -> None:
        try:
            with engine.store.transaction() as tx:
                _deferred_violation(tx)
        except StoreError as error:
            outcomes["deferred"] = error

    with queued_behind_a_holder(engine.store) as queue:
        work_of = _fire_each(engine, outcomes)
        for case_id in ids[:2]:
            queue.start(work_of(case_id))
        queue.start(refused_at_commit)
        for case_id in ids[2:]:
            queue.start(work_of(case_id))

    assert all(isinstance(outcomes[case_id], StoreError) for case_id in ids), outcomes
    assert isinstance(outcomes["deferred"], StoreError)
    assert isinstance(queue.holder_error, StoreError)
    assert _versions_on_disk(store_url, ids) == {case_id: [1] for case_id in ids}
    # The store goes on: the next event commits.
    assert engine.fire(ids[0], "record", DESK, RECORD).version == 2


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_writing_transaction_inside_another_of_the_same_thread_is_refused(
    engine: Engine,
) -> None:
    with (
        pytest.raises(RuntimeError, match="inside another"),
        engine.store.transaction(),
        engine.store.transaction(),
    ):
        pass


#: Per table, the columns that depend on the order of the writes (keys the database hands
#: out), left out when comparing.
_ORDERED = {"case_log": {"seq"}, "timers": {"id"}, "outbox": {"id", "log_seq"}}


def _rows_by_case(store: Store, case_ids: list[str]) -> list[dict[str, list[dict[str, Any]]]]:
    """Every row of each case (in the order of ``case_ids``), its case id left out."""
    found = []
    for case_id in case_ids:
        of_case: dict[str, list[dict[str, Any]]] = {}
        for table, key in (
            (cases, cases.c.id),
            (case_log, case_log.c.case_id),
            (sla_clocks, sla_clocks.c.case_id),
            (timers, timers.c.case_id),
            (outbox, outbox.c.case_id),
        ):
            rows = store.rows(select(table).where(key == case_id))
            skip = {"id", "case_id", *_ORDERED.get(table.name, ())}
            of_case[table.name] = sorted(
                ({k: v for k, v in row.items() if k not in skip} for row in rows), key=repr
            )
        found.append(of_case)
    return found


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_the_grouped_and_the_lone_path_write_the_same_rows(make_store_url: Any) -> None:
    lone, grouped = _engine(make_store_url()), _engine(make_store_url())
    try:
        lone_ids = [lone.open_case("repair", IN_UNIT, DESK).id for _ in range(6)]
        grouped_ids = [grouped.open_case("repair", IN_UNIT, DESK).id for _ in range(6)]
        for case_id in lone_ids:
            lone.fire(case_id, "record", DESK, RECORD)
            lone.fire(case_id, "dispatch", SUPERVISOR, DISPATCH)
        outcomes: dict[str, object] = {}
        for step in (("record", DESK, RECORD), ("dispatch", SUPERVISOR, DISPATCH)):
            seen = Transactions(grouped.store)
            with queued_behind_a_holder(grouped.store) as queue:
                work_of = _fire_each(grouped, outcomes, step)
                for case_id in grouped_ids:
                    queue.start(work_of(case_id))
            assert seen.savepoints > 0  # the events were written in a group
        assert _rows_by_case(lone.store, lone_ids) == _rows_by_case(grouped.store, grouped_ids)
    finally:
        lone.close()
        grouped.close()


@pytest.mark.parametrize("store_backend", ["postgresql"])
def test_a_transaction_the_database_undoes_to_break_a_deadlock_is_a_conflict(
    store_url: str,
) -> None:
    """Two processes' transactions waiting on each other's rows: PostgreSQL undoes the one
    that waited first, which leaves as :class:`StoreConflict` (a race, as a version conflict
    is: ``Engine.fire`` refuses its event with a ``ConflictError``), never as a failure of
    the store; the other commits."""
    one, other = Store(store_url), Store(store_url)  # two processes' stores
    engine = _engine(store_url)
    first = engine.open_case("repair", IN_UNIT, DESK).id
    second = engine.open_case("repair", IN_UNIT, DESK).id
    touch = text("UPDATE cases SET assignee = :who WHERE id = :id")
    both_hold = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def writer(store: Store, name: str, rows: tuple[str, str], pause: float) -> None:
        try:
            with store.transaction() as tx:
                tx.execute(touch, {"who": name, "id": rows[0]})
                both_hold.wait()
                time.sleep(pause)  # the first to wait is the one undone
                tx.execute(touch, {"who": name, "id": rows[1]})
            outcomes[name] = "committed"
        except StoreError as error:
            outcomes[name] = error

    threads = [
        threading.Thread(target=writer, args=(one, "one", (first, second), 0.0)),
        threading.Thread(target=writer, args=(other, "other", (second, first), 0.3)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in (one, other):
        store.close()
    assert isinstance(outcomes["one"], StoreConflict), outcomes
    assert outcomes["other"] == "committed"
    assert {engine.get_case(first).assignee, engine.get_case(second).assignee} == {"other"}
    engine.close()


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_sqlite_writer_waits_for_the_lock_of_another_process_on_the_file(
    engine: Engine, store_url: str
) -> None:
    """Processes writing one SQLite file queue on an OS lock beside it, woken the moment it
    is let go (SQLite's own busy handler would have them poll in growing sleeps)."""
    case = engine.open_case("repair", IN_UNIT, DESK)
    path = store_url.removeprefix("sqlite:///") + "-writer"
    done = threading.Event()

    def event() -> None:
        engine.fire(case.id, "record", DESK, RECORD)
        done.set()

    with open(path, "a+b") as other_process:  # an open file of its own: another process's
        fcntl.flock(other_process, fcntl.LOCK_EX)
        writer = threading.Thread(target=event)
        writer.start()
        assert not done.wait(0.5)  # waiting for the other process
        fcntl.flock(other_process, fcntl.LOCK_UN)
        writer.join()
    assert done.is_set()
    assert engine.get_case(case.id).version == 2
