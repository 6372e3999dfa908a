"""The durable store: cases, the audit log, timers and the outbox, on SQLite or PostgreSQL.

Everything the engine writes goes through one method, :meth:`Store.commit`: an accepted
event updates the case row, appends its log entries and writes its outbox rows and clocks
together, so a crash leaves either all of it or none; the cases its links reach, the timer
that fired it, the schedule or quota rows it advances go in the same commit. Concurrent
writers are kept apart by optimistic locking: the case row is updated only if its version is
still the one the writer read, and ``(case_id, version)`` is unique in the log as a second
line of defence.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import fields
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Executable,
    Insert,
    RootTransaction,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, RowMapping, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Update
from sqlalchemy.types import NullType

from engine.sla.clocks import RUNNING, PlanItem
from engine.store import migrations
from engine.store.driver import Sent
from engine.store.errors import StoreError, StoreSchemaMismatch, store_failure
from engine.store.groups import FileLock, WriterGroups
from engine.store.records import (
    CaseQuery,
    CaseRecord,
    CaseWrite,
    ClockRecord,
    DefinitionRecord,
    LinkRecord,
    LogEntry,
    OutboxItem,
    QuotaClaim,
    ScheduleClaim,
    TimerRecord,
)
from engine.store.rows import (
    ListStatement,
    RowsStatement,
    Values,
    column_types,
    json_text,
    json_value,
)
from engine.store.schema import (
    UTCDateTime,
    case_links,
    case_log,
    cases,
    definitions,
    outbox,
    quota_periods,
    schedules,
    sla_clocks,
    timers,
)

_Record = TypeVar("_Record")


class SchemaOutOfDate(StoreSchemaMismatch):
    """The database was made by an older PropFlow: ``propflow db upgrade`` carries it on.

    Never upgraded silently when a store opens: an upgrade may take long on a big database,
    and should be run, once, by whoever looks after it (after a backup).
    """

    def __init__(self, url: str, revision: str, head: str) -> None:
        super().__init__(
            f"the database at {url!r} has the schema of an older PropFlow (revision "
            f"{revision}; this one needs {head}): run 'propflow db upgrade --db URL' on it"
        )
        self.revision = revision
        self.head = head


class SchemaTooNew(StoreSchemaMismatch):
    """The database was upgraded by a newer PropFlow, whose schema this one cannot know."""

    def __init__(self, url: str, revision: str, head: str) -> None:
        super().__init__(
            f"the database at {url!r} has schema revision {revision!r}, unknown to this "
            f"PropFlow (whose newest is {head}): it was upgraded by a newer PropFlow; run "
            "that version"
        )
        self.revision = revision
        self.head = head


class VersionConflict(Exception):
    """Another writer changed the case first; the caller re-reads and decides."""


class TimerTaken(Exception):
    """Another worker fired (or the case's change cancelled) this timer first."""


class DuplicateRequest(Exception):
    """An entry with this idempotency key was committed by a concurrent request."""


class ScheduleTaken(Exception):
    """Another worker opened this schedule's period first (or the schedule was re-planned)."""


class QuotaTaken(Exception):
    """Another worker handled this quota's period first."""


def write_refused(error: IntegrityError, case_id: str) -> Exception:
    """The typed error for writes of ``case_id`` that the database refused.

    Two constraints stand for a concurrent writer: a log entry with the same idempotency
    key (:class:`DuplicateRequest`) and one with the same version (:class:`VersionConflict`:
    another writer appended that version first). Any other refusal (a missing row, a value
    the schema forbids) is not a race, and retrying would not help: :class:`StoreError`
    with the database's own words.
    """
    text = str(error.orig)
    if "idempotency" in text:
        return DuplicateRequest(case_id)
    # PostgreSQL names the constraint; SQLite names its columns.
    if "uq_case_log_version" in text or "case_log.case_id, case_log.version" in text:
        return VersionConflict(case_id)
    return StoreError(f"the database refused the writes of case {case_id}: {text}")


#: How long a SQLite writer waits for another's lock before "database is locked", in seconds.
_BUSY_TIMEOUT_S = 30

#: Execution option marking a connection that will write (see :func:`_sqlite_engine`).
_WRITE = "propflow_write"

#: Key of the PostgreSQL advisory lock that serialises creating and upgrading the tables.
_SCHEMA_LOCK = 0x70726F70666C6F77  # "propflow"


#: Connections a store keeps open for the threads that use it at once: the service answers
#: requests on a pool of threads, each reading the caller's token and then firing, and with
#: SQLAlchemy's default of five a busier moment opened and closed a connection (on SQLite
#: with its pragmas, on PostgreSQL a server process) every few requests. On PostgreSQL it
#: is also the most a process holds, so that a few service and worker processes stay well
#: within the server's ``max_connections`` (100 by default); a thread beyond it waits.
POOL_SIZE = 20


def _sqlite_engine(url: str) -> Engine:
    """SQLite tuned for durability: WAL, synchronous FULL, and writers that wait their turn.

    pysqlite's own transaction handling begins lazily, so a transaction that reads and then
    writes can fail at once with "database is locked" instead of waiting. Taking the write
    lock up front (``BEGIN IMMEDIATE``) makes concurrent writers wait on the busy timeout
    (the store's own writers queue before that: :meth:`Store.transaction`). Only writes do
    (:meth:`Store.transaction` marks them): reads begin a plain deferred transaction, so in
    WAL mode they never wait for a writer nor hold one up.
    """
    memory = sqlite_file(url) is None
    engine = create_engine(
        url,
        connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False},
        json_serializer=json_text,
        json_deserializer=json_value,
        # One connection shared by every thread in memory (a second would be another
        # database); for a file, as many kept as threads use at once, the rest closed.
        **({"poolclass": StaticPool} if memory else {"pool_size": POOL_SIZE, "max_overflow": -1}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def _use_wal(cursor: Any) -> None:
    """Switch the database to WAL, waiting while another connection holds it.

    Switching needs the database to itself, and SQLite answers "database is locked" at once
    (the busy timeout does not apply) when another process is opening or converting the same
    new file: workers started together on a new database would fail. So: retry, backing
    off, for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


#: PostgreSQL drivers SQLAlchemy knows, preferred first: psycopg 3, then psycopg2.
_POSTGRES_DRIVERS = (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2"))


def normalise_url(target: str) -> str:
    """Accept a database URL or a plain SQLite file path (``cases.db``).

    ``postgresql://user@host/db`` (and ``postgres://``), which names no driver, is given the
    installed one, psycopg 3 first: SQLAlchemy alone would pick psycopg2, which an install
    with only psycopg 3 lacks. A URL naming its driver is kept as it is.
    """
    if "://" not in target:
        return f"sqlite:///{target}"
    scheme, rest = target.split("://", 1)
    if scheme not in ("postgresql", "postgres"):
        return target
    for module, driver in _POSTGRES_DRIVERS:
        if importlib.util.find_spec(module) is not None:
            return f"{driver}://{rest}"
    return f"postgresql://{rest}"


def sqlite_file(url: str) -> str | None:
    """The file a SQLite database URL names; ``None`` for an in-memory SQLite database or
    a database of another kind (an invalid URL raises SQLAlchemy's ``ArgumentError``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def database_engine(url: str) -> Engine:
    """The SQLAlchemy engine of a store's database (SQLite tuned as the store needs it)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=0,
        json_serializer=json_text,
        json_deserializer=json_value,
    )
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _binary_arrays)
    return engine


def _binary_arrays(dbapi_connection: Any, _record: Any) -> None:
    """Send lists (the arrays of :class:`~engine.store.rows.RowsStatement`) in psycopg's
    binary format: its text format quotes each element in Python, character by character,
    which for a batch's case data cost more than the server's work on the batch."""
    from psycopg.types.array import ListBinaryDumper

    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """A writing transaction for reading or changing the schema, one process at a time.

    Processes opening (or upgrading) a database at once take turns: SQLite by its write
    lock, PostgreSQL by an advisory lock (else two would create the same table and one
    would fail on the catalog's unique index).
    """
    with _writing(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
        yield connection


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """One writing transaction (on SQLite it takes the write lock as it begins)."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection


class Store:
    """One database of cases. Instances share nothing, so two stores never see each other.

    A database without tables is made at the newest schema revision; one at an older or an
    unknown revision is refused (:class:`SchemaOutOfDate`, :class:`SchemaTooNew`).
    """

    def __init__(self, url: str = "sqlite:///cases.db") -> None:
        url = normalise_url(url)
        try:
            self.engine = database_engine(url)
            # SQLite takes one writer at a time: the threads of a process writing at once
            # share a transaction and its commit. PostgreSQL runs them concurrently, each on a
            # connection of its own, and already shares one WAL flush among the commits that
            # arrive together: grouping its writers would only stop their work overlapping.
            file = sqlite_file(url)
            self._file_lock = FileLock(f"{file}-writer") if file is not None else None
            self._groups = (
                WriterGroups(self._begin_writing, self._file_lock)
                if self.dialect == "sqlite"
                else None
            )
            self._open_schema(url)
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            kind = type(store_failure(exc))
            raise kind(f"cannot open the store at {url!r}: {exc}") from exc
        except Exception as exc:  # the driver's errors vary; the user needs the URL and why
            raise StoreError(f"cannot open the store at {url!r}: {exc}") from exc
        self.url = url

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connection pool (and the writers' lock file)."""
        self.engine.dispose()
        if self._file_lock is not None:
            self._file_lock.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One writing transaction: its work committed on success (returning once it is
        durable), undone on any exception.

        On SQLite, threads of this process writing at the same time share one database
        transaction and one commit (:mod:`engine.store.groups`), each in a savepoint of its
        own: a refused one leaves the others' work committed, a failed commit fails them
        all. On PostgreSQL each is a transaction of its own, on its own connection. The
        database's errors leave typed (a :class:`StoreError` of their kind), except a
        refused constraint, which the caller types (a concurrent writer, a retried request).
        """
        try:
            with (
                _writing(self.engine) if self._groups is None else self._groups.transaction()
            ) as connection:
                yield connection
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise store_failure(exc) from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """One reading transaction: every query in it sees the database as of one moment
        (a case read in parts, its row, clocks, links and log, agrees with itself though
        writers commit meanwhile). SQLite's deferred transaction in WAL reads one snapshot
        without taking the write lock; PostgreSQL's needs ``REPEATABLE READ`` for it."""
        try:
            with self.engine.connect() as connection:
                if self.dialect == "postgresql":
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
        except SQLAlchemyError as exc:
            raise store_failure(exc) from exc

    def _begin_writing(self) -> tuple[Connection, RootTransaction]:
        """A connection that will write, its transaction begun (on SQLite holding the write
        lock from here: see :func:`_sqlite_engine`)."""
        connection = self.engine.connect()
        try:
            connection.execution_options(**{_WRITE: True})
            return connection, connection.begin()
        except BaseException:
            connection.close()
            raise

    def _open_schema(self, url: str) -> None:
        """Make the tables of a new database, or check an existing one's revision."""
        with schema_transaction(self.engine) as tx:
            found = migrations.state(tx)
            if found.standing is migrations.Standing.EMPTY:
                migrations.create_at_head(tx)
            elif found.standing is migrations.Standing.BEHIND:
                raise SchemaOutOfDate(url, str(found.revision), found.head)
            elif found.standing is migrations.Standing.UNKNOWN:
                raise SchemaTooNew(url, str(found.revision), found.head)

    # Definitions -------------------------------------------------------------------------

    def save_definition(
        self, definition: DefinitionRecord, at: datetime, tx: Connection | None = None
    ) -> None:
        """Keep a definition version (once; versions are content hashes), in ``tx`` if
        given."""
        if tx is not None:
            _insert_definition(tx, definition, at)
            return
        try:
            with self.transaction() as connection:
                _insert_definition(connection, definition, at)
        except IntegrityError:
            # Another process stored the same version between our check and our insert.
            if self.load_definition(definition.version) is None:
                raise

    def load_definition(
        self, version: str, tx: Connection | None = None
    ) -> DefinitionRecord | None:
        """A definition version, if stored (read in ``tx`` if given)."""
        query = select(definitions).where(definitions.c.version == version)
        rows = self.rows(query, tx=tx)
        if not rows:
            return None
        row = rows[0]
        limits = row["time_limits"]
        return DefinitionRecord(
            row["version"],
            row["process"],
            dict(row["content"]),
            None if limits is None else [dict(limit) for limit in limits],
        )

    # Cases and events --------------------------------------------------------------------

    def commit(
        self,
        writes: Sequence[CaseWrite],
        *,
        at: datetime,
        links: Sequence[LinkRecord] = (),
        outbox: Sequence[OutboxItem] = (),
        fired_timers: Collection[int] = (),
        schedules: Sequence[ScheduleClaim] = (),
        quota: QuotaClaim | None = None,
        tx: Connection | None = None,
    ) -> None:
        """Write cases (new ones and changed ones) with their log entries, outbox rows and
        clocks, the links between them and outbox rows of no case, all or nothing.

        Each existing case is written only if it is still at the version it was read at;
        a case is written once per commit. ``fired_timers`` (timers whose rows the caller
        holds, see :meth:`lock_due`) are marked fired in the same commit, and only if no
        other worker fired them first: the effects of a timer and its being fired commit
        together, which is what makes firing exactly-once. ``schedules`` and ``quota``
        advance the rows of the schedules whose cases are opened, or of the quota whose
        notices are written, each only from the period the caller read, so two workers
        never handle a period twice.

        The rows of every kind go in one statement per kind whatever the number of cases
        (a batch of timers fired is a handful of statements, not a handful per timer).

        Without ``tx`` the commit is a :meth:`transaction` of its own. With ``tx`` (one the
        caller holds) the writes go into it, and nothing is durable before it commits; a
        refusal leaves ``tx`` to the caller, who rolls it back or, to undo this commit's
        writes alone, wraps the call in a savepoint.

        Raises :class:`VersionConflict` when a case moved on since it was read,
        :class:`TimerTaken`, :class:`ScheduleTaken` or :class:`QuotaTaken` when another
        worker was first, and :class:`DuplicateRequest` when a concurrent request with the
        same idempotency key won the race.
        """
        try:
            with self.transaction() if tx is None else nullcontext(tx) as connection:
                self._write(connection, writes, at, links, outbox, fired_timers, schedules, quota)
        except IntegrityError as exc:
            raise write_refused(exc, writes[0].case.id if writes else "?") from exc

    def _write(
        self,
        tx: Connection,
        writes: Sequence[CaseWrite],
        at: datetime,
        links: Sequence[LinkRecord],
        outbox: Sequence[OutboxItem],
        fired_timers: Collection[int],
        schedules: Sequence[ScheduleClaim],
        quota: QuotaClaim | None,
    ) -> None:
        assert len({write.case.id for write in writes}) == len(writes), "a case written twice"
        if fired_timers:
            marked = [{"b_id": timer_id, "fired_at": at} for timer_id in fired_timers]
            if _MARK_FIRED.run(tx, marked) != len(marked):
                raise TimerTaken(next(iter(fired_timers)))
        if schedules:
            _advance(tx, schedules, at)
        if quota is not None:
            _advance_quota(tx, quota, at)
        new = [row_values(write.case, cases) for write in writes if write.expected_version is None]
        if new:
            tx.execute(_INSERT_CASE, new if len(new) > 1 else new[0])
        _update_cases(tx, [write for write in writes if write.expected_version is not None])
        self._append(tx, writes, outbox)
        self._apply_clocks(tx, writes)
        if links:
            # A link is written with the case it opened, in the estate of both.
            estates = {write.case.id: write.case.estate for write in writes}
            tx.execute(
                _INSERT_LINK,
                [
                    {
                        "parent_id": link.parent_id,
                        "child_id": link.child_id,
                        "kind": link.kind,
                        "created_at": link.created_at,
                        "seq": seq,
                        "estate": estates[link.child_id],
                    }
                    for seq, link in enumerate(links)
                ],
            )

    def _append(
        self, tx: Connection, writes: Sequence[CaseWrite], of_no_case: Sequence[OutboxItem]
    ) -> None:
        """Append the cases' log entries and outbox rows, and the outbox rows of no case
        (which carry their own estate): one statement for all the entries, one for all the
        rows. An outbox row points to the log entry it came from (see :func:`_log_version`),
        whose key the insert looks up itself: no entry's key comes back to be sent again."""
        entries = [
            {**row_values(entry, case_log, ("seq",)), "estate": write.case.estate}
            for write in writes
            for entry in write.entries
        ]
        if entries:
            _INSERT_LOG.run(tx, entries)
        rows = [
            {
                **row_values(item, outbox, _OUTBOX_SET_BY_DB),
                "b_log_case": write.case.id,
                "b_log_version": _log_version(write, item),
                "estate": write.case.estate,
            }
            for write in writes
            for item in write.items
        ]
        rows.extend(
            {
                **row_values(item, outbox, _OUTBOX_SET_BY_DB),
                "b_log_case": None,
                "b_log_version": None,
                "estate": _estate_of(item),
            }
            for item in of_no_case
        )
        if rows:
            _INSERT_OUTBOX.run(tx, rows)

    def lock_due(
        self, due: Sequence[TimerRecord], tx: Connection
    ) -> tuple[dict[str, CaseRecord], dict[str, dict[str, ClockRecord]], frozenset[int]]:
        """The cases of a batch of due timers, their clocks, and the ids of the timers still
        waiting, read (and on PostgreSQL locked) in ``tx``: two queries for the batch.

        On PostgreSQL a worker never waits for a lock, so it can never deadlock: it locks
        the cases first and then their timers, as every writer of a case does (the case row
        first), skipping the cases another transaction holds (their timers fire on a later
        tick) and the timers another worker is firing. A worker's transaction holds a whole
        batch of cases; waiting there for another worker's batch could wait in a circle.
        SQLite has one writer at a time, which the transaction is: nothing to skip.
        """
        rows = _LOCK_CASES.rows(tx, list(dict.fromkeys(timer.case_id for timer in due)))
        moment = _moment_reader(tx.dialect)
        records: dict[str, CaseRecord] = {}
        clocks: dict[str, dict[str, ClockRecord]] = {}
        for case_id, of_case in groupby(rows, key=_JOINED_ID):
            records[case_id], clocks[case_id] = _joined(list(of_case), moment)
        waiting = [timer.id for timer in due if timer.case_id in records]
        pending = frozenset(row[0] for row in _LOCK_TIMERS.rows(tx, waiting))
        return records, clocks, pending

    def _apply_clocks(self, tx: Connection, writes: Sequence[CaseWrite]) -> None:
        """Write the cases' clock changes: each clock's row, and its timers in place of its
        pending ones.

        Several changes of one clock (an event, and the events its actions fire) come to
        their last row and their last timers, which replace the pending ones: the earlier
        ones would be written only to be overwritten or deleted in the same transaction.
        With a write's ``clocks_read`` (the case's clocks as read with it, by time limit) a
        row identical to the stored one is not written, and the pending timers of a clock
        that can have none are not deleted: a clock the case did not have, and one that was
        not running or had nothing left in its plan (a clock's pending timers are its plan's
        items while it runs, withdrawn when it pauses or stops). The rows of all the clocks
        of all the cases, new or changed, go in one upsert on the clock's key; the
        withdrawals of pending timers and the new timers in one statement each: each
        statement is a round trip, and SQLAlchemy's work per statement outweighs SQLite's.

        The clocks as read are still what the database holds once the case's version check
        has passed, even on PostgreSQL where another writer may commit between the read and
        the write, and even when the read was in an earlier transaction: every write of a
        clock updates its case's row with a version check, the case's row first.
        """
        rows: list[dict[str, Any]] = []
        new_timers: list[dict[str, Any]] = []
        withdrawn: list[dict[str, str]] = []
        for write in writes:
            estate, stored = write.case.estate, write.clocks_read
            final: dict[str, tuple[ClockRecord | None, tuple[TimerRecord, ...] | None]] = {}
            for change in write.clocks:
                clock, timers = final.get(change.limit_id, (None, None))
                final[change.limit_id] = (
                    clock if change.clock is None else change.clock,
                    timers if change.timers is None else change.timers,
                )
            for limit_id, (clock, timers) in final.items():
                before = None if stored is None else stored.get(limit_id)
                if clock is not None and clock != before:
                    rows.append({**_clock_values(clock), "estate": estate})
                if timers is not None:
                    if stored is None or (
                        before is not None and before.status == RUNNING and before.plan
                    ):
                        withdrawn.append({"b_case": write.case.id, "b_limit": limit_id})
                    new_timers.extend(
                        {
                            "case_id": timer.case_id,
                            "kind": timer.kind,
                            "name": timer.name,
                            "due_at": timer.due_at,
                            "payload": timer.payload,
                            "created_at": write.case.updated_at,
                            "estate": estate,
                        }
                        for timer in timers
                    )
        if rows:
            _UPSERT_CLOCK.run(tx, rows)
        if withdrawn:
            _DELETE_PENDING_TIMERS.run(tx, withdrawn)
        if new_timers:
            _INSERT_TIMER.run(tx, new_timers)

    def clocks_by_case(
        self, case_ids: Collection[str], tx: Connection
    ) -> dict[str, dict[str, ClockRecord]]:
        """The SLA clocks of these cases by case and time limit, read in ``tx``."""
        found: dict[str, dict[str, ClockRecord]] = {case_id: {} for case_id in case_ids}
        rows = self.rows(
            select(*_clock_columns(""))
            .where(sla_clocks.c.case_id.in_(list(case_ids)))
            .order_by(sla_clocks.c.case_id, sla_clocks.c.limit_id),
            tx=tx,
        )
        for row in rows:
            found.setdefault(row["case_id"], {})[row["limit_id"]] = _clock_record(row, tx.dialect)
        return found

    def clocks(self, case_id: str, tx: Connection | None = None) -> list[ClockRecord]:
        """A case's SLA clocks, in time-limit id order (read in ``tx`` if given)."""
        rows = self.rows(_CLOCKS_OF_CASE, {"b_case": case_id}, tx=tx)
        return [_clock_record(row, self.engine.dialect) for row in rows]

    def pending_timers(self, case_id: str) -> list[TimerRecord]:
        """A case's timers that have not fired, soonest first."""
        rows = self.rows(
            select(timers)
            .where(timers.c.case_id == case_id, timers.c.fired_at.is_(None))
            .order_by(timers.c.due_at, timers.c.id)
        )
        return records_of(TimerRecord, rows)

    def due_timers_of(
        self, now: datetime, limit: int, estate: str, known: Callable[[str, str], bool]
    ) -> tuple[list[TimerRecord], list[TimerRecord]]:
        """An estate's timers due by ``now``, soonest first, in two lists of at most
        ``limit`` each: those for which ``known(definition version, time limit)`` holds of
        their case's version, and the others (which a worker must leave pending for one
        that knows their limit).

        The partial index on unfired timers' ``(estate, due_at)`` makes this cost depend on
        how many of the estate's timers are due, not on how many cases or timers the store
        holds, nor on other estates: each timer carries its case's estate. One query a page
        of ``limit`` due timers, each with its case's definition version (read by the case's
        primary key, per due timer: a join would let the database start from the estate's
        open cases), the pages following each other until both lists are full or no timer
        is left: an idle tick is one query that finds nothing.
        """
        firing: list[TimerRecord] = []
        held: list[TimerRecord] = []
        keys: dict[str, Any] = {"b_now": now, "b_limit": limit, "b_estate": estate}
        query = _DUE_WITH_VERSION
        while True:
            rows = self.rows(query, keys)
            for row, timer in zip(rows, records_of(TimerRecord, rows), strict=True):
                found = firing if known(row["definition_version"], timer.name) else held
                if len(found) < limit:
                    found.append(timer)
            if len(rows) < limit or (len(firing) >= limit and len(held) >= limit):
                return firing, held
            query = _DUE_AFTER
            keys.update(b_after_due=rows[-1]["due_at"], b_after_id=rows[-1]["id"])

    def get_case(self, case_id: str, tx: Connection | None = None) -> CaseRecord | None:
        """A case by id, or ``None`` (read in ``tx`` if given)."""
        rows = self.rows(_CASE, {"b_id": case_id}, tx=tx)
        return record_of(CaseRecord, rows[0]) if rows else None

    def case_and_clocks(
        self, case_id: str, tx: Connection
    ) -> tuple[CaseRecord, dict[str, ClockRecord]] | None:
        """A case with its SLA clocks by time limit, or ``None``, read in ``tx`` in one
        query (what every event reads first: one statement fewer than :meth:`get_case` and
        :meth:`clocks`, for the case's columns repeated on each clock's row)."""
        rows = _SENT_CASE_AND_CLOCKS.rows(tx, {"b_id": case_id})
        return _joined(rows, _moment_reader(tx.dialect)) if rows else None

    def find_entry(
        self, case_id: str, idempotency_key: str, tx: Connection | None = None
    ) -> LogEntry | None:
        """The log entry a request with this idempotency key produced, if any (read in
        ``tx`` if given)."""
        rows = self.rows(_ENTRY_BY_KEY, {"b_case": case_id, "b_key": idempotency_key}, tx=tx)
        return record_of(LogEntry, rows[0]) if rows else None

    def history(
        self,
        case_id: str,
        up_to_version: int | None = None,
        *,
        after_version: int = 0,
        tx: Connection | None = None,
    ) -> list[LogEntry]:
        """A case's log entries in order (up to a version, for replaying an earlier result;
        after one, for a reader following the log as it grows; read in ``tx`` if given)."""
        query = select(case_log).where(case_log.c.case_id == case_id)
        if up_to_version is not None:
            query = query.where(case_log.c.version <= up_to_version)
        if after_version:
            query = query.where(case_log.c.version > after_version)
        rows = self.rows(query.order_by(case_log.c.version), tx=tx)
        return records_of(LogEntry, rows)

    def query_cases(self, query: CaseQuery) -> list[CaseRecord]:
        """Cases matching every given filter, newest first."""
        statement = select(cases)
        filters = {
            cases.c.estate: query.estate,
            cases.c.process: query.process,
            cases.c.state: query.state,
            cases.c.assignee: query.assignee,
        }
        for column, value in filters.items():
            if value is not None:
                statement = statement.where(column == value)
        if query.opened_from is not None:
            statement = statement.where(cases.c.opened_at >= query.opened_from)
        if query.opened_to is not None:
            statement = statement.where(cases.c.opened_at < query.opened_to)
        statement = statement.order_by(cases.c.opened_at.desc(), cases.c.id).limit(query.limit)
        return records_of(CaseRecord, self.rows(statement))

    def outbox_items(
        self, case_id: str | None = None, pending_only: bool = False, *, after_id: int = 0
    ) -> list[OutboxItem]:
        """Outbox rows, oldest first (of one case, only undelivered ones, only those after
        row ``after_id``, if asked)."""
        statement = select(outbox)
        if after_id:
            statement = statement.where(outbox.c.id > after_id)
        if case_id is not None:
            statement = statement.where(outbox.c.case_id == case_id)
        if pending_only:
            statement = statement.where(outbox.c.delivered_at.is_(None))
        rows = self.rows(statement.order_by(outbox.c.id))
        return records_of(OutboxItem, rows)

    def rows(
        self,
        query: Executable,
        params: Mapping[str, Any] | None = None,
        *,
        tx: Connection | None = None,
    ) -> Sequence[RowMapping]:
        """The rows of a query of the store's tables, by column name: read in ``tx`` if
        given (inside a transaction the caller holds, reads must go through it), else on a
        connection of its own."""
        if tx is not None:
            return tx.execute(query, params).mappings().all()
        try:
            with self.engine.connect() as connection:
                return connection.execute(query, params).mappings().all()
        except SQLAlchemyError as exc:
            raise store_failure(exc) from exc


#: A clock's JSON columns, read as their text: see :func:`_clock_record`.
_CLOCK_JSON = frozenset(("warnings_sent", "extensions", "notes", "plan", "pauses"))


def _clock_columns(prefix: str) -> list[ColumnElement[Any]]:
    """The columns of ``sla_clocks`` to select, named ``<prefix><column>``, the JSON ones as
    their text (``CAST`` on every database: PostgreSQL's drivers would decode them) and the
    moments as the driver gives them (see :func:`_as_stored`)."""
    return [
        (
            cast(column, Text)
            if column.name in _CLOCK_JSON
            else _as_stored(column)
            if isinstance(column.type, UTCDateTime)
            else column
        ).label(f"{prefix}{column.name}")
        for column in sla_clocks.c
    ]


def _as_stored(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A moment column read without its type's conversion (SQLite's text, the datetime of a
    PostgreSQL driver), which :func:`_moment_reader` does where it is needed: once for the
    case of a joined read, whose columns come again on each clock's row, and for a clock
    only when its row is not one read before (see :func:`_decoded_clock`)."""
    return type_coerce(column, NullType())


#: :func:`_moment_reader`'s conversions, by dialect and driver.
_MOMENT_READERS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def _moment_reader(dialect: Dialect) -> Callable[[Any], Any]:
    """What turns a moment read with :func:`_as_stored` into the aware UTC datetime its
    column's type would have given: that type's own result conversion on ``dialect``."""
    key = (dialect.name, dialect.driver)
    found = _MOMENT_READERS.get(key)
    if found is None:
        converted = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
        found = _MOMENT_READERS[key] = converted if converted is not None else _unchanged
    return found


def _unchanged(value: Any) -> Any:
    return value


# Statements of the hot paths (an event, a timer firing), built once. Parameter names start
# with ``b_`` where a column of the same name is also set.
_INSERT_CASE = insert(cases)
_INSERT_LINK = insert(case_links)


def _into(table: Table, row: Mapping[str, ColumnElement[Any]], dialect: str) -> Insert:
    """An insert of ``table``'s rows, each of its columns ``row`` names from its values: on
    PostgreSQL a select from the arrays' rows; on SQLite a row of values, the columns
    given by the parameters' names as SQLAlchemy takes them (SQLite's loop runs an
    ``INSERT ... SELECT`` slower, and parameters named in the statement cost SQLAlchemy
    more work per row), ``row``'s other columns set as it says."""
    if dialect == "sqlite":
        return insert(table).values(
            {name: value for name, value in row.items() if not isinstance(value, BindParameter)}
        )
    return insert(table).from_select(list(row), select(*row.values()))


def _set(statement: Update, row: Mapping[str, ColumnElement[Any]], dialect: str) -> Update:
    """An update setting columns from the values ``row`` names (on SQLite from the
    parameters' names: see :func:`_into`)."""
    return statement if dialect == "sqlite" else statement.values(dict(row))


def _inserted(table: Table, names: Sequence[str]) -> RowsStatement:
    """An insert of ``table``'s rows, with the values of columns ``names``."""
    return RowsStatement(
        column_types(table, names),
        lambda values, dialect: _into(table, {name: values(name) for name in names}, dialect),
    )


_INSERT_LOG = _inserted(case_log, [column.name for column in case_log.c if column.name != "seq"])
_MUTABLE = ("state", "data", "assignee", "version", "updated_at", "closed_at")
#: Outbox columns a new row leaves to the database (its key) or to delivery.
_OUTBOX_SET_BY_DB = (
    "id",
    "log_seq",
    "estate",
    "delivered_at",
    "attempts",
    "next_attempt_at",
    "last_error",
    "dead_at",
)
_OUTBOX_GIVEN = [
    *(
        field.name
        for field in fields(OutboxItem)
        if field.name in outbox.c and field.name not in _OUTBOX_SET_BY_DB
    ),
    "estate",
]
#: An outbox row's log entry is found by its case and version (unique in the log), in the
#: insert (no entry's key comes back to be sent again).
_INSERT_OUTBOX = RowsStatement(
    {
        **column_types(outbox, _OUTBOX_GIVEN),
        "b_log_case": case_log.c.case_id.type,
        "b_log_version": case_log.c.version.type,
    },
    lambda values, dialect: _into(
        outbox,
        {
            **{name: values(name) for name in _OUTBOX_GIVEN},
            "log_seq": select(case_log.c.seq)
            .where(
                case_log.c.case_id == values("b_log_case"),
                case_log.c.version == values("b_log_version"),
            )
            .scalar_subquery(),
        },
        dialect,
    ),
)
_INSERT_TIMER = _inserted(
    timers, ["case_id", "kind", "name", "due_at", "payload", "created_at", "estate"]
)
_UPDATE_CASE = RowsStatement(
    {
        "b_id": cases.c.id.type,
        "b_expected": cases.c.version.type,
        **column_types(cases, _MUTABLE),
    },
    lambda values, dialect: _set(
        update(cases).where(cases.c.id == values("b_id"), cases.c.version == values("b_expected")),
        {name: values(name) for name in _MUTABLE},
        dialect,
    ),
)
_MARK_FIRED = RowsStatement(
    {"b_id": timers.c.id.type, "fired_at": timers.c.fired_at.type},
    lambda values, dialect: _set(
        update(timers).where(timers.c.id == values("b_id"), timers.c.fired_at.is_(None)),
        {"fired_at": values("fired_at")},
        dialect,
    ),
)
_CASE = select(cases).where(cases.c.id == bindparam("b_id"))
#: The clock columns of :data:`_CASE_AND_CLOCKS` are named ``clock_<column>``.
#: The case's data is read as its text and its moments as stored, decoded once: the case's
#: columns come again on every clock's row, and their types would decode each copy.
_CASES_AND_CLOCKS = select(
    *(
        cast(column, Text).label("data")
        if column.name == "data"
        else _as_stored(column).label(column.name)
        if isinstance(column.type, UTCDateTime)
        else column
        for column in cases.c
    ),
    *_clock_columns("clock_"),
).outerjoin(sla_clocks, sla_clocks.c.case_id == cases.c.id)
_CASE_AND_CLOCKS = _CASES_AND_CLOCKS.where(cases.c.id == bindparam("b_id")).order_by(
    sla_clocks.c.limit_id
)
#: The cases of a batch of due timers with their clocks, the cases locked on PostgreSQL
#: (see :meth:`Store.lock_due`); a case's rows follow each other.
_LOCK_CASES = ListStatement(
    cases.c.id.type,
    lambda ids: (
        _CASES_AND_CLOCKS.where(cases.c.id.in_(ids))
        .order_by(cases.c.id, sla_clocks.c.limit_id)
        .with_for_update(of=cases, skip_locked=True)
    ),
)
_LOCK_TIMERS = ListStatement(
    timers.c.id.type,
    lambda ids: (
        select(timers.c.id)
        .where(timers.c.id.in_(ids), timers.c.fired_at.is_(None))
        .with_for_update(skip_locked=True)
    ),
)
#: What every event reads first, sent on the driver's cursor (see :mod:`engine.store.driver`).
_SENT_CASE_AND_CLOCKS = Sent(_CASE_AND_CLOCKS)
_JOINED = list(_CASE_AND_CLOCKS.selected_columns.keys())
_CASE_FIELDS = tuple(field.name for field in fields(CaseRecord))
#: What picks the case's values (in :data:`_CASE_FIELDS` order) and a clock's (in
#: :data:`_CLOCK_FIELDS` order) out of a row of :data:`_CASE_AND_CLOCKS`.
_JOINED_CASE = itemgetter(*(_JOINED.index(name) for name in _CASE_FIELDS))
_CASE_MOMENTS = tuple(column.name for column in cases.c if isinstance(column.type, UTCDateTime))
_CLOCKS_OF_CASE = (
    select(*_clock_columns(""))
    .where(sla_clocks.c.case_id == bindparam("b_case"))
    .order_by(sla_clocks.c.limit_id)
)
_ENTRY_BY_KEY = select(case_log).where(
    case_log.c.case_id == bindparam("b_case"), case_log.c.idempotency_key == bindparam("b_key")
)
_DUE_WHERE = (
    (timers.c.estate == bindparam("b_estate"))
    & timers.c.fired_at.is_(None)
    & (timers.c.due_at <= bindparam("b_now", type_=UTCDateTime))
)
_DUE_WITH_VERSION = (
    select(
        timers,
        select(cases.c.definition_version)
        .where(cases.c.id == timers.c.case_id)
        .scalar_subquery()
        .label("definition_version"),
    )
    .where(_DUE_WHERE)
    .order_by(timers.c.due_at, timers.c.id)
    .limit(bindparam("b_limit"))
)
#: The next page of :data:`_DUE_WITH_VERSION`: after the last timer of the one before.
_DUE_AFTER = _DUE_WITH_VERSION.where(
    (timers.c.due_at > bindparam("b_after_due", type_=UTCDateTime))
    | (
        (timers.c.due_at == bindparam("b_after_due", type_=UTCDateTime))
        & (timers.c.id > bindparam("b_after_id"))
    )
)


def _upsert(table: Table) -> RowsStatement:
    """An insert of ``table``'s rows that updates the row with the same key instead (both
    databases say it ``INSERT ... ON CONFLICT (key) DO UPDATE``; SQLAlchemy builds it per
    dialect). The row's estate is its case's and never changes."""
    names = [column.name for column in table.c]
    keys = [column.name for column in table.primary_key]
    updated = [name for name in names if name not in keys and name != "estate"]

    def build(values: Values, dialect: str) -> Executable:
        if dialect == "sqlite":
            lite = sqlite.insert(table)  # the columns by the parameters' names: see _into
            return lite.on_conflict_do_update(
                index_elements=keys, set_={name: lite.excluded[name] for name in updated}
            )
        rows = select(*(values(name) for name in names))
        pg = postgresql.insert(table).from_select(names, rows)
        return pg.on_conflict_do_update(
            index_elements=keys, set_={name: pg.excluded[name] for name in updated}
        )

    return RowsStatement(column_types(table, names), build)


#: A clock's row, new or changed (see :meth:`Store._apply_clocks`).
_UPSERT_CLOCK = _upsert(sla_clocks)
_DELETE_PENDING_TIMERS = RowsStatement(
    {"b_case": timers.c.case_id.type, "b_limit": timers.c.name.type},
    lambda values, _dialect: delete(timers).where(
        timers.c.case_id == values("b_case"),
        timers.c.name == values("b_limit"),
        timers.c.fired_at.is_(None),
    ),
)


def _claim(first: bool) -> RowsStatement:
    """The move of schedule rows on from their first period (``first``) or from the one
    the caller read."""
    given = ("next_due", "last_period", "updated_at")
    types = {
        "b_estate": schedules.c.estate.type,
        "b_id": schedules.c.id.type,
        "b_spec": schedules.c.spec.type,
        **({} if first else {"b_expected": schedules.c.last_period.type}),
        **column_types(schedules, given),
    }

    def build(values: Values, dialect: str) -> Executable:
        period = (
            schedules.c.last_period.is_(None)
            if first
            else schedules.c.last_period == values("b_expected")
        )
        return _set(
            update(schedules).where(
                schedules.c.estate == values("b_estate"),
                schedules.c.id == values("b_id"),
                schedules.c.spec == values("b_spec"),
                period,
            ),
            {name: values(name) for name in given},
            dialect,
        )

    return RowsStatement(types, build)


_CLAIM_FIRST = _claim(True)
_CLAIM_NEXT = _claim(False)
_ADVANCE_QUOTA = update(quota_periods).where(
    quota_periods.c.estate == bindparam("b_estate"),
    quota_periods.c.id == bindparam("b_id"),
    quota_periods.c.period == bindparam("b_period"),
    quota_periods.c.stage == bindparam("b_stage"),
    quota_periods.c.spec == bindparam("b_spec"),
)


def _insert_definition(tx: Connection, definition: DefinitionRecord, at: datetime) -> None:
    version = definition.version
    found = tx.execute(select(definitions.c.version).where(definitions.c.version == version))
    if found.first() is None:
        tx.execute(
            insert(definitions).values(
                version=version,
                process=definition.process,
                content=dict(definition.content),
                time_limits=definition.time_limits,
                created_at=at,
            )
        )


def _advance(tx: Connection, claims: Sequence[ScheduleClaim], at: datetime) -> None:
    """Move schedule rows on from the last period the caller read (one statement for the
    first periods, one for the others), else :class:`ScheduleTaken`."""
    for statement, first in ((_CLAIM_FIRST, True), (_CLAIM_NEXT, False)):
        group = [claim for claim in claims if (claim.expected is None) is first]
        rows = [
            {
                "b_estate": claim.estate,
                "b_id": claim.id,
                "b_spec": claim.spec,
                "b_expected": claim.expected,
                "next_due": claim.next_due,
                "last_period": claim.last_period,
                "updated_at": at,
            }
            for claim in group
        ]
        if rows and statement.run(tx, rows) != len(rows):
            raise ScheduleTaken(group[0].id if len(group) == 1 else "of a batch")


def _advance_quota(tx: Connection, claim: QuotaClaim, at: datetime) -> None:
    """Move a quota row on from the period and stage the caller read, else
    :class:`QuotaTaken`."""
    old, new = claim.old, claim.new
    result = tx.execute(
        _ADVANCE_QUOTA,
        {
            "b_estate": old.estate,
            "b_id": old.id,
            "b_period": old.period,
            "b_stage": old.stage,
            "b_spec": old.spec,
            "period": new.period,
            "stage": new.stage,
            "next_due": new.next_due,
            "updated_at": at,
        },
    )
    if result.rowcount != 1:
        raise QuotaTaken(old.id)


def _estate_of(item: OutboxItem) -> str:
    """The estate an outbox row of no case is written for: the one it names."""
    if item.estate is None:
        raise StoreError(f"an outbox row of no case must name its estate: {item.kind}")
    return item.estate


def _update_cases(tx: Connection, writes: Sequence[CaseWrite]) -> None:
    """Write the cases' new rows if each is still at its ``expected_version``, else
    :class:`VersionConflict`.

    Only the columns an event can change: setting the others (even to the same value) would
    rewrite their index entries too (estate, process, opened_at) on every event.
    """
    rows = [
        {
            "b_id": write.case.id,
            "b_expected": write.expected_version,
            **{name: getattr(write.case, name) for name in _MUTABLE},
        }
        for write in writes
    ]
    if rows and _UPDATE_CASE.run(tx, rows) != len(rows):
        raise VersionConflict(writes[0].case.id if len(writes) == 1 else "of a batch")


def _log_version(write: CaseWrite, item: OutboxItem) -> int | None:
    """The version of the log entry an outbox row of ``write`` points to: its
    ``log_version`` if the write appends that entry, else the write's last (``None`` if it
    appends none)."""
    versions = [entry.version for entry in write.entries]
    if item.log_version is not None and item.log_version in versions:
        return item.log_version
    return versions[-1] if versions else None


def _clock_values(clock: ClockRecord) -> dict[str, Any]:
    """A clock's whole row, for its upsert: the tuples as JSON lists, each plan item and
    pause as its JSON (spelled out: every changed clock of every event comes here)."""
    return {
        "case_id": clock.case_id,
        "limit_id": clock.limit_id,
        "status": clock.status,
        "started_at": clock.started_at,
        "deadline": clock.deadline,
        "paused_at": clock.paused_at,
        "breached_at": clock.breached_at,
        "stopped_at": clock.stopped_at,
        "tier": clock.tier,
        "warnings_sent": list(clock.warnings_sent),
        "extensions": list(clock.extensions),
        "notes": list(clock.notes),
        "plan": [item.to_json() for item in clock.plan],
        "pauses": [[since.isoformat(), to.isoformat()] for since, to in clock.pauses],
    }


#: The columns :func:`_clock_record` reads, in the order :func:`_decoded_clock` takes them
#: (the key, the plain columns, the JSON ones: the order of :func:`_clock_values` too).
_CLOCK_FIELDS = (
    "case_id",
    "limit_id",
    "status",
    "started_at",
    "deadline",
    "paused_at",
    "breached_at",
    "stopped_at",
    "tier",
    "warnings_sent",
    "extensions",
    "notes",
    "plan",
    "pauses",
)


#: What picks a clock's values out of a row selected with :func:`_clock_columns` (no
#: prefix) in :data:`_CLOCK_FIELDS` order, in one call: every event reads all its case's
#: clocks.
_CLOCK_VALUES = itemgetter(*_CLOCK_FIELDS)
_JOINED_CLOCK = itemgetter(*(_JOINED.index(f"clock_{name}") for name in _CLOCK_FIELDS))
_JOINED_ID = itemgetter(_JOINED.index("id"))


def _joined(
    rows: Sequence[Any], moment: Callable[[Any], Any]
) -> tuple[CaseRecord, dict[str, ClockRecord]]:
    """A case and its clocks by time limit from its rows of :data:`_CASES_AND_CLOCKS`, read
    by position, not by name: the case's columns come again on each clock's row and are
    decoded once."""
    clocks: dict[str, ClockRecord] = {}
    for row in rows:
        values = _JOINED_CLOCK(row)
        if values[1] is not None:  # the clock's time limit: none when it has no clocks
            clocks[values[1]] = _decoded_clock(values, moment)
    case = dict(zip(_CASE_FIELDS, _JOINED_CASE(rows[0]), strict=True))
    case["data"] = json_value(case["data"])
    for name in _CASE_MOMENTS:
        case[name] = moment(case[name])
    return CaseRecord(**case), clocks


def _clock_record(row: Any, dialect: Dialect) -> ClockRecord:
    """The clock of a row selected with :func:`_clock_columns` (no prefix) on ``dialect``."""
    return _decoded_clock(_CLOCK_VALUES(row), _moment_reader(dialect))


@lru_cache(maxsize=4096)
def _decoded_clock(values: tuple[Any, ...], moment: Callable[[Any], Any]) -> ClockRecord:
    """A clock from its row's values, the JSON columns still text and the moments as stored
    (``moment`` converts one, see :func:`_moment_reader`).

    Kept for rows read again unchanged: every event reads all its case's clocks, most of
    which it leaves as they are (stopped, or running undisturbed), and decoding their
    moments, plans, pauses and notes again was most of what reading a case cost. The records
    are frozen, so sharing one between reads is safe; the cache is bounded, so memory stays
    flat.
    """
    (case_id, limit_id, status, started_at, deadline, paused_at, breached_at, stopped_at, tier) = (
        values[:9]
    )
    warnings_sent, extensions, notes, plan, pauses = (json_value(text) for text in values[9:])
    return ClockRecord(
        case_id=case_id,
        limit_id=limit_id,
        status=status,
        started_at=moment(started_at),
        deadline=moment(deadline),
        paused_at=moment(paused_at),
        breached_at=moment(breached_at),
        stopped_at=moment(stopped_at),
        tier=tier,
        warnings_sent=tuple(warnings_sent),
        extensions=tuple(extensions),
        notes=tuple(notes),
        plan=tuple(PlanItem.from_json(item) for item in plan),
        pauses=tuple(
            (datetime.fromisoformat(since), datetime.fromisoformat(to)) for since, to in pauses
        ),
    )


def row_values(record: object, table: Table, without: Collection[str] = ()) -> dict[str, Any]:
    """A record's values by column of its table, for an insert or update.

    The record classes (:mod:`engine.store.records`) name their fields after the columns,
    so one mapping serves every table; fields that are not columns are left out.
    """
    return {
        name: getattr(record, name) for name in _names(type(record), table) if name not in without
    }


def record_of(kind: type[_Record], row: Any) -> _Record:
    """A record from a row of its table (the fields the row has columns for)."""
    return records_of(kind, [row])[0]


def records_of(kind: type[_Record], rows: Sequence[Any]) -> list[_Record]:
    """The records of the rows of one query: the fields it has columns for are looked up
    once, not per row (a tick reads thousands of rows of each query)."""
    if not rows:
        return []
    names = [name for name in _names(kind, None) if name in rows[0]]
    return [kind(**{name: row[name] for name in names}) for row in rows]


#: Per record class and table name, the record's fields that are columns of the table
#: (every field with no table): worked out once, as these run for every row.
_NAMES: dict[tuple[type, str | None], tuple[str, ...]] = {}


def _names(kind: type, table: Table | None) -> tuple[str, ...]:
    key = (kind, table.name if table is not None else None)
    found = _NAMES.get(key)
    if found is None:
        columns = table.c if table is not None else None
        found = tuple(
            field.name for field in fields(kind) if columns is None or field.name in columns
        )
        _NAMES[key] = found
    return found
