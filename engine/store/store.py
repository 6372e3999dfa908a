"""The durable store: cases, the audit log, timers and the outbox, on SQLite or PostgreSQL.

Every accepted event is one transaction that updates the case row, appends its log entries
and writes its outbox rows together, so a crash leaves either all of it or none. Concurrent
writers are kept apart by optimistic locking: the case row is updated only if its version is
still the one the writer read, and ``(case_id, version)`` is unique in the log as a second
line of defence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from engine.store.records import (
    CaseQuery,
    CaseRecord,
    ClockChange,
    ClockRecord,
    LogEntry,
    OutboxItem,
    TimerRecord,
)
from engine.store.schema import case_log, cases, definitions, metadata, outbox, sla_clocks, timers


class StoreError(Exception):
    """The store cannot be opened or used (bad URL, unreachable server)."""


class VersionConflict(Exception):
    """Another writer changed the case first; the caller re-reads and decides."""


class TimerTaken(Exception):
    """Another worker fired (or the case's change cancelled) this timer first."""


class DuplicateRequest(Exception):
    """An entry with this idempotency key was committed by a concurrent request."""


#: Execution option marking a connection that will write (see :func:`_sqlite_engine`).
_WRITE = "propflow_write"

#: Key of the PostgreSQL advisory lock that serialises creating the tables.
_SCHEMA_LOCK = 0x70726F70666C6F77  # "propflow"


def _sqlite_engine(url: str) -> Engine:
    """SQLite tuned for durability: WAL, synchronous FULL, and writers that wait their turn.

    pysqlite's own transaction handling begins lazily, so a transaction that reads and then
    writes can fail at once with "database is locked" instead of waiting. Taking the write
    lock up front (``BEGIN IMMEDIATE``) makes concurrent writers queue on the busy timeout.
    Only writes do (:meth:`Store.transaction` marks them): reads begin a plain deferred
    transaction, so in WAL mode they never wait for a writer nor hold one up.
    """
    memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def normalise_url(target: str) -> str:
    """Accept a database URL or a plain SQLite file path (``cases.db``)."""
    return target if "://" in target else f"sqlite:///{target}"


class Store:
    """One database of cases. Instances share nothing, so two stores never see each other."""

    def __init__(self, url: str = "sqlite:///cases.db") -> None:
        url = normalise_url(url)
        try:
            backend = make_url(url).get_backend_name()
            self.engine = (
                _sqlite_engine(url)
                if backend == "sqlite"
                else create_engine(url, pool_pre_ping=True)
            )
            self._create_tables()
        except Exception as exc:  # the driver's errors vary; the user needs the URL and why
            raise StoreError(f"cannot open the store at {url!r}: {exc}") from exc
        self.url = url

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One writing transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection

    def _create_tables(self) -> None:
        """Create missing tables. Processes opening a new database at once take turns:
        SQLite by its write lock, PostgreSQL by an advisory lock (else both would create
        the same table and one would fail on the catalog's unique index)."""
        with self.transaction() as tx:
            if tx.dialect.name == "postgresql":
                tx.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            metadata.create_all(tx)

    # Definitions -------------------------------------------------------------------------

    def save_definition(
        self, version: str, process: str, content: dict[str, Any], at: datetime
    ) -> None:
        """Keep a definition's source by version (once; versions are content hashes)."""
        try:
            with self.transaction() as tx:
                exists = tx.execute(
                    select(definitions.c.version).where(definitions.c.version == version)
                ).first()
                if exists is None:
                    tx.execute(
                        insert(definitions).values(
                            version=version, process=process, content=content, created_at=at
                        )
                    )
        except IntegrityError:
            # Another process stored the same version between our check and our insert.
            if self.load_definition(version) is None:
                raise

    def load_definition(self, version: str) -> dict[str, Any] | None:
        """The source of a definition version, if stored."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(definitions.c.content).where(definitions.c.version == version)
            ).first()
        return None if row is None else dict(row.content)

    # Cases and events --------------------------------------------------------------------

    def create_case(
        self,
        case: CaseRecord,
        entries: Sequence[LogEntry],
        items: Sequence[OutboxItem],
        clocks: Sequence[ClockChange] = (),
    ) -> None:
        """Insert a new case with its opening log entries, outbox rows and clocks, atomically."""
        with self.transaction() as tx:
            tx.execute(insert(cases).values(**_case_values(case)))
            self._append(tx, entries, items)
            self._apply_clocks(tx, clocks, case.opened_at)

    def commit_event(
        self,
        case: CaseRecord,
        expected_version: int,
        entries: Sequence[LogEntry],
        items: Sequence[OutboxItem],
        clocks: Sequence[ClockChange] = (),
        fired_timer: int | None = None,
    ) -> None:
        """Write a case's new state, log entries, outbox rows and clocks, if nobody wrote first.

        With ``fired_timer`` the timer is marked fired in the same transaction, and only if
        no other worker fired it first (then :class:`TimerTaken`): the effects of a timer and
        its being fired commit together, which is what makes firing exactly-once.

        Raises :class:`VersionConflict` when the case is no longer at ``expected_version``,
        and :class:`DuplicateRequest` when a concurrent request with the same idempotency
        key won the race.
        """
        try:
            with self.transaction() as tx:
                if fired_timer is not None:
                    self._claim(tx, fired_timer, case.updated_at)
                values = _case_values(case)
                del values["id"]
                result = tx.execute(
                    update(cases)
                    .where(cases.c.id == case.id, cases.c.version == expected_version)
                    .values(**values)
                )
                if result.rowcount != 1:
                    raise VersionConflict(case.id)
                self._append(tx, entries, items)
                self._apply_clocks(tx, clocks, case.updated_at)
        except IntegrityError as exc:
            if "idempotency" in str(exc.orig) or "idempotency_key" in str(exc.orig):
                raise DuplicateRequest(case.id) from exc
            raise VersionConflict(case.id) from exc

    def _append(
        self, tx: Connection, entries: Sequence[LogEntry], items: Sequence[OutboxItem]
    ) -> None:
        last_seq: int | None = None
        for entry in entries:
            result = tx.execute(insert(case_log).values(**_entry_values(entry)))
            last_seq = result.inserted_primary_key[0] if result.inserted_primary_key else None
        for item in items:
            tx.execute(insert(outbox).values(**_outbox_values(item, last_seq)))

    def _claim(self, tx: Connection, timer_id: int, at: datetime) -> None:
        """Mark a timer fired, or raise :class:`TimerTaken` if it no longer waits."""
        query = select(timers.c.id).where(timers.c.id == timer_id, timers.c.fired_at.is_(None))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        if tx.execute(query).first() is None:
            raise TimerTaken(timer_id)
        tx.execute(update(timers).where(timers.c.id == timer_id).values(fired_at=at))

    def _apply_clocks(self, tx: Connection, changes: Sequence[ClockChange], at: datetime) -> None:
        for change in changes:
            if change.clock is not None:
                tx.execute(
                    delete(sla_clocks).where(
                        sla_clocks.c.case_id == change.case_id,
                        sla_clocks.c.limit_id == change.limit_id,
                    )
                )
                tx.execute(insert(sla_clocks).values(**_clock_values(change.clock)))
            if change.timers is not None:
                tx.execute(
                    delete(timers).where(
                        timers.c.case_id == change.case_id,
                        timers.c.name == change.limit_id,
                        timers.c.fired_at.is_(None),
                    )
                )
                for timer in change.timers:
                    tx.execute(
                        insert(timers).values(
                            case_id=timer.case_id,
                            kind=timer.kind,
                            name=timer.name,
                            due_at=timer.due_at,
                            payload=timer.payload,
                            created_at=at,
                        )
                    )

    def clocks(self, case_id: str) -> list[ClockRecord]:
        """A case's SLA clocks, in time-limit id order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(sla_clocks)
                .where(sla_clocks.c.case_id == case_id)
                .order_by(sla_clocks.c.limit_id)
            ).all()
        return [_clock_record(row._mapping) for row in rows]

    def pending_timers(self, case_id: str) -> list[TimerRecord]:
        """A case's timers that have not fired, soonest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(timers)
                .where(timers.c.case_id == case_id, timers.c.fired_at.is_(None))
                .order_by(timers.c.due_at, timers.c.id)
            ).all()
        return [_timer_record(row._mapping) for row in rows]

    def due_timers(self, now: datetime, limit: int, estate: str | None = None) -> list[TimerRecord]:
        """Timers due by ``now`` that have not fired, soonest first (of one estate's cases).

        The partial index on unfired timers' ``due_at`` makes this cost depend on how many
        are due, not on how many cases or timers the store holds.
        """
        query = select(timers).where(timers.c.fired_at.is_(None), timers.c.due_at <= now)
        if estate is not None:
            query = query.join(cases, cases.c.id == timers.c.case_id).where(
                cases.c.estate == estate
            )
        with self.engine.connect() as connection:
            rows = connection.execute(
                query.order_by(timers.c.due_at, timers.c.id).limit(limit)
            ).all()
        return [_timer_record(row._mapping) for row in rows]

    def get_case(self, case_id: str) -> CaseRecord | None:
        """A case by id, or ``None``."""
        with self.engine.connect() as connection:
            row = connection.execute(select(cases).where(cases.c.id == case_id)).first()
        return None if row is None else _case_record(row._mapping)

    def find_entry(self, case_id: str, idempotency_key: str) -> LogEntry | None:
        """The log entry a request with this idempotency key produced, if any."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(case_log).where(
                    case_log.c.case_id == case_id, case_log.c.idempotency_key == idempotency_key
                )
            ).first()
        return None if row is None else _log_entry(row._mapping)

    def history(self, case_id: str, up_to_version: int | None = None) -> list[LogEntry]:
        """A case's log entries in order (up to a version, for replaying an earlier result)."""
        query = select(case_log).where(case_log.c.case_id == case_id)
        if up_to_version is not None:
            query = query.where(case_log.c.version <= up_to_version)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(case_log.c.version)).all()
        return [_log_entry(row._mapping) for row in rows]

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
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [_case_record(row._mapping) for row in rows]

    def outbox_items(
        self, case_id: str | None = None, pending_only: bool = False
    ) -> list[OutboxItem]:
        """Outbox rows, oldest first (of one case, and only undelivered ones if asked)."""
        statement = select(outbox)
        if case_id is not None:
            statement = statement.where(outbox.c.case_id == case_id)
        if pending_only:
            statement = statement.where(outbox.c.delivered_at.is_(None))
        with self.engine.connect() as connection:
            rows = connection.execute(statement.order_by(outbox.c.id)).all()
        return [_outbox_item(row._mapping) for row in rows]


def _case_values(case: CaseRecord) -> dict[str, Any]:
    return {
        "id": case.id,
        "estate": case.estate,
        "process": case.process,
        "definition_version": case.definition_version,
        "state": case.state,
        "data": case.data,
        "assignee": case.assignee,
        "version": case.version,
        "opened_at": case.opened_at,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
    }


def _case_record(row: Any) -> CaseRecord:
    return CaseRecord(
        id=row["id"],
        estate=row["estate"],
        process=row["process"],
        definition_version=row["definition_version"],
        state=row["state"],
        data=dict(row["data"]),
        assignee=row["assignee"],
        version=row["version"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
    )


def _entry_values(entry: LogEntry) -> dict[str, Any]:
    return {
        "case_id": entry.case_id,
        "version": entry.version,
        "event": entry.event,
        "actor_id": entry.actor_id,
        "role": entry.role,
        "at": entry.at,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "payload": entry.payload,
        "changes": entry.changes,
        "assignee": entry.assignee,
        "actions": entry.actions,
        "idempotency_key": entry.idempotency_key,
    }


def _log_entry(row: Any) -> LogEntry:
    return LogEntry(
        seq=row["seq"],
        case_id=row["case_id"],
        version=row["version"],
        event=row["event"],
        actor_id=row["actor_id"],
        role=row["role"],
        at=row["at"],
        from_state=row["from_state"],
        to_state=row["to_state"],
        payload=dict(row["payload"]),
        changes=dict(row["changes"]),
        assignee=row["assignee"],
        actions=list(row["actions"]),
        idempotency_key=row["idempotency_key"],
    )


def _outbox_values(item: OutboxItem, log_seq: int | None) -> dict[str, Any]:
    return {
        "case_id": item.case_id,
        "log_seq": log_seq,
        "kind": item.kind,
        "role": item.role,
        "message": item.message,
        "payload": item.payload,
        "created_at": item.created_at,
    }


def _outbox_item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        case_id=row["case_id"],
        log_seq=row["log_seq"],
        kind=row["kind"],
        role=row["role"],
        message=row["message"],
        payload=dict(row["payload"]),
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


def _clock_values(clock: ClockRecord) -> dict[str, Any]:
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
        "plan": list(clock.plan),
    }


def _clock_record(row: Any) -> ClockRecord:
    return ClockRecord(
        case_id=row["case_id"],
        limit_id=row["limit_id"],
        status=row["status"],
        started_at=row["started_at"],
        deadline=row["deadline"],
        paused_at=row["paused_at"],
        breached_at=row["breached_at"],
        stopped_at=row["stopped_at"],
        tier=row["tier"],
        warnings_sent=tuple(row["warnings_sent"]),
        extensions=tuple(row["extensions"]),
        notes=tuple(row["notes"]),
        plan=tuple(row["plan"]),
    )


def _timer_record(row: Any) -> TimerRecord:
    return TimerRecord(
        id=row["id"],
        case_id=row["case_id"],
        kind=row["kind"],
        name=row["name"],
        due_at=row["due_at"],
        payload=dict(row["payload"]),
        fired_at=row["fired_at"],
    )
