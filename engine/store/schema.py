"""The store's tables, in one place, for SQLite and PostgreSQL alike.

SQLAlchemy Core with one code path: every query in :mod:`engine.store.store` is written once
against these tables. Times are stored in UTC by :class:`UTCDateTime`, because SQLite has no
timezone-aware type and a case's deadlines must mean the same instant on both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


def _utc(value: datetime | None) -> datetime | None:
    """An aware moment in UTC (a naive one is refused: it could mean any instant)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; the engine's clock must be aware")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """A moment as SQLite's ``DATETIME`` text in UTC (``2026-02-09 01:00:00.000000``)."""
    if value is None:  # most of a clock's moments: no conversion to call
        return None
    utc = value if value.tzinfo is UTC else _utc(value)
    assert utc is not None
    return utc.isoformat(" ", "microseconds")[:-6]  # no "+00:00"


def _sqlite_moment(value: str | None) -> datetime | None:
    """The aware UTC moment of SQLite's ``DATETIME`` text (see :func:`_sqlite_text`)."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


_SQLITE_DATETIME = sqlite.DATETIME()  # type: ignore[no-untyped-call]


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC and read back as aware UTC on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLITE_DATETIME)
        return dialect.type_descriptor(self.impl)

    # On SQLite a moment is converted in one step, with the C-coded ISO functions, to and from
    # the same text SQLAlchemy's ``DATETIME`` stores (which formats with ``%`` and parses with
    # a regular expression): every event reads and writes dozens of moments.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_moment
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return _utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: An auto-incrementing key: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
AutoKey = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _estate() -> Column[str]:
    """The estate of the case a row belongs to, on every row of a case (the last column:
    revision 0002 added it), so every query and transaction can stay inside one estate and
    the tables can be distributed by estate."""
    return Column("estate", String(128), nullable=False)


#: The definition versions cases run on, by content hash, so a running case keeps the one it
#: opened on: the process as written (``content``) and its time limits as merged for the
#: estate, each with the calendar it counts on (``time_limits``; revision 0007 added it, and
#: ``NULL`` there is a version stored before, whose time limits were not kept).
definitions = Table(
    "definitions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("process", String(128), nullable=False),
    Column("content", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("time_limits", JSON),
)

#: One row per case: its current state and data; ``version`` is the optimistic lock.
cases = Table(
    "cases",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("estate", String(128), nullable=False),
    Column("process", String(128), nullable=False),
    Column("definition_version", String(64), ForeignKey("definitions.version"), nullable=False),
    Column("state", String(128), nullable=False),
    Column("data", JSON, nullable=False),
    Column("assignee", String(128)),
    Column("version", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Index("ix_cases_lookup", "estate", "process", "state"),
    Index("ix_cases_assignee", "assignee"),
    Index("ix_cases_opened", "opened_at"),
    # Reports: an estate's cases of a process opened, or last changed, since a moment; the
    # overdue board: an estate's open cases.
    Index("ix_cases_estate_opened", "estate", "process", "opened_at"),
    Index("ix_cases_estate_updated", "estate", "process", "updated_at"),
    Index("ix_cases_estate_open", "estate", "closed_at"),
)

#: The append-only audit trail: one row per accepted event, never updated or deleted.
case_log = Table(
    "case_log",
    metadata,
    Column("seq", AutoKey, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event", String(128), nullable=False),
    Column("actor_id", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_state", String(128)),
    Column("to_state", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("assignee", String(128)),
    Column("actions", JSON, nullable=False),
    Column("idempotency_key", String(200)),
    _estate(),
    # Two writers can never both append the same version of a case: the second fails.
    UniqueConstraint("case_id", "version", name="uq_case_log_version"),
    UniqueConstraint("case_id", "idempotency_key", name="uq_case_log_idempotency"),
    # Reports look up a case's entries of an event, or into a state, within a period.
    Index("ix_case_log_case_event", "case_id", "event", "at"),
    Index("ix_case_log_case_state", "case_id", "to_state", "at"),
    # Patterns read an estate's entries after their cursor: a quiet estate must not scan
    # every other estate's entries since its last one.
    Index("ix_case_log_estate_seq", "estate", "seq"),
)

#: Durable timers: deadlines, warnings and recurring reminders, fired by a worker or tick.
timers = Table(
    "timers",
    metadata,
    Column("id", AutoKey, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime),
    _estate(),
    # An estate's due timers, found without reading its cases or another estate's timers.
    Index(
        "ix_timers_due",
        "estate",
        "due_at",
        sqlite_where=Column("fired_at").is_(None),
        postgresql_where=Column("fired_at").is_(None),
    ),
    Index("ix_timers_case", "case_id"),
)

#: One SLA clock per case and time limit: where it stands, so timers can be recomputed.
sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("case_id", String(36), ForeignKey("cases.id"), primary_key=True),
    Column("limit_id", String(128), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime),
    Column("paused_at", UTCDateTime),
    Column("breached_at", UTCDateTime),
    Column("stopped_at", UTCDateTime),
    Column("tier", Integer, nullable=False),
    Column("warnings_sent", JSON, nullable=False),
    Column("extensions", JSON, nullable=False),
    Column("notes", JSON, nullable=False),
    Column("plan", JSON, nullable=False),
    # [[paused, resumed], ...] in ISO 8601: the stretches the clock stood still.
    Column("pauses", JSON, nullable=False),
    _estate(),
)

#: Notifications and other side effects, written in the event's transaction and delivered
#: afterwards, so none is lost when the process dies between the two. Delivery (webhooks or
#: apps polling) claims a row with a lease (``lease_owner`` until ``lease_until``), records
#: each failed attempt and when to try again, and dead-letters the row after the last one.
outbox = Table(
    "outbox",
    metadata,
    Column("id", AutoKey, primary_key=True, autoincrement=True),
    # Null for a row that belongs to no case (a quota's warning or breach).
    Column("case_id", String(36), ForeignKey("cases.id"), nullable=True),
    Column("log_seq", BigInteger().with_variant(Integer(), "sqlite")),
    Column("kind", String(32), nullable=False),
    Column("role", String(128)),
    Column("message", Text),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    # The estate of the row's case, or of the schedule or quota of a row of no case (null
    # only on rows of no case written before revision 0002).
    Column("estate", String(128), nullable=True),
    # Delivery: failed attempts so far and when the next is due, the deliverer holding the
    # row until when, the last failure, and when the row was given up on.
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("dead_at", UTCDateTime),
    Index("ix_outbox_case", "case_id"),
    # What delivery reads: an estate's rows still waiting, oldest first.
    Index(
        "ix_outbox_waiting",
        "estate",
        "id",
        sqlite_where=Column("delivered_at").is_(None) & Column("dead_at").is_(None),
        postgresql_where=Column("delivered_at").is_(None) & Column("dead_at").is_(None),
    ),
)

#: Links between cases, written in the transaction of the event that opened the second case:
#: ``kind='child'`` from a parent to the case it opened as its child, ``kind='related'`` from
#: the case whose action opened the other (related links are read in both directions).
case_links = Table(
    "case_links",
    metadata,
    Column("parent_id", String(36), ForeignKey("cases.id"), primary_key=True),
    Column("child_id", String(36), ForeignKey("cases.id"), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The link's place among those its transaction wrote (the order of an 'each' list).
    Column("seq", Integer, nullable=False),
    _estate(),
    Index("ix_case_links_child", "child_id"),
)

#: Schedules (rules files' ``schedules:``): when each one's next case is due, and the last
#: period it opened cases for. Updated with an optimistic check on ``last_period`` in the
#: transaction that opens the cases, so each period is opened exactly once. ``spec`` is a
#: hash of the definition the row was planned on (a changed schedule is planned again).
schedules = Table(
    "schedules",
    metadata,
    Column("estate", String(128), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("next_due", UTCDateTime),
    Column("last_period", String(32)),
    Column("spec", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_schedules_due", "estate", "next_due"),
)

#: Quotas (rules files' ``quotas:``): the period being counted, what is due next in it
#: (``stage``: ``warn`` or ``end``) and when; advanced with an optimistic check on
#: ``(period, stage)`` in the transaction that writes the warnings or breaches to the outbox.
quota_periods = Table(
    "quota_periods",
    metadata,
    Column("estate", String(128), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("period", String(32), nullable=False),
    Column("stage", String(8), nullable=False),
    Column("next_due", UTCDateTime, nullable=False),
    Column("spec", String(64), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_quota_periods_due", "estate", "next_due"),
)

#: Bearer tokens of the HTTP service (``propflow token create``): who a token acts as, in
#: which estate, until when. Only a SHA-256 hash of the token is kept, so a copy of the
#: database gives no one a working token; ``id`` names a token for listing and revoking.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("estate", String(128), nullable=False),
    Column("actor_id", String(128), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

#: Patterns (rules files' ``patterns:``): how far each estate's audit log has been read by
#: its patterns. Advanced with an optimistic check on ``seq`` in the transaction that writes
#: the matches found up to it, so each entry is matched exactly once across workers.
pattern_cursors = Table(
    "pattern_cursors",
    metadata,
    Column("estate", String(128), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: The audit trail of patterns: one row per match, naming the log entries and the cases it
#: matched and what its actions did, written with the actions. ``last_seq`` is the entry
#: that completed the match; the entries of a match are used up (a window rebuilt after a
#: restart leaves them out).
pattern_matches = Table(
    "pattern_matches",
    metadata,
    Column("id", AutoKey, primary_key=True, autoincrement=True),
    Column("estate", String(128), nullable=False),
    Column("pattern", String(128), nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("seqs", JSON, nullable=False),
    Column("cases", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("estate", "pattern", "last_seq", name="uq_pattern_matches_last"),
    Index("ix_pattern_matches_seq", "estate", "last_seq"),
)
