"""The store's tables as PropFlow 0.1.0 created them, before the schema had revisions.

Written out here rather than taken from ``engine/store/schema.py``, which moves on with each
revision: a database made by 0.1.0 is stamped at this revision by ``propflow db upgrade``
and carried on from it, so this must stay exactly what 0.1.0 created (a test compares it
with the recorded 0.1.0 schema on SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: 0.1.0's auto-incrementing key: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("process", sa.String(128), nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("estate", sa.String(128), nullable=False),
        sa.Column("process", sa.String(128), nullable=False),
        sa.Column("definition_version", sa.String(64), nullable=False),
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME),
        sa.ForeignKeyConstraint(["definition_version"], ["definitions.version"]),
    )
    op.create_index("ix_cases_lookup", "cases", ["estate", "process", "state"])
    op.create_index("ix_cases_assignee", "cases", ["assignee"])
    op.create_index("ix_cases_opened", "cases", ["opened_at"])
    op.create_table(
        "case_log",
        sa.Column("seq", _KEY, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event", sa.String(128), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("from_state", sa.String(128)),
        sa.Column("to_state", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.UniqueConstraint("case_id", "version", name="uq_case_log_version"),
        sa.UniqueConstraint("case_id", "idempotency_key", name="uq_case_log_idempotency"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_table(
        "timers",
        sa.Column("id", _KEY, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("fired_at", _TIME),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    unfired = sa.text("fired_at IS NULL")
    op.create_index(
        "ix_timers_due", "timers", ["due_at"], sqlite_where=unfired, postgresql_where=unfired
    )
    op.create_index("ix_timers_case", "timers", ["case_id"])
    op.create_table(
        "sla_clocks",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("limit_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("deadline", _TIME),
        sa.Column("paused_at", _TIME),
        sa.Column("breached_at", _TIME),
        sa.Column("stopped_at", _TIME),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("warnings_sent", sa.JSON, nullable=False),
        sa.Column("extensions", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("plan", sa.JSON, nullable=False),
        sa.Column("pauses", sa.JSON, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _KEY, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("log_seq", _KEY),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("role", sa.String(128)),
        sa.Column("message", sa.Text),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
    )
    op.create_index("ix_outbox_case", "outbox", ["case_id"])
    op.create_table(
        "case_links",
        sa.Column("parent_id", sa.String(36), primary_key=True),
        sa.Column("child_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["cases.id"]),
    )
    op.create_index("ix_case_links_child", "case_links", ["child_id"])
    op.create_table(
        "schedules",
        sa.Column("estate", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("next_due", _TIME),
        sa.Column("last_period", sa.String(32)),
        sa.Column("spec", sa.String(64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_schedules_due", "schedules", ["estate", "next_due"])
    op.create_table(
        "quota_periods",
        sa.Column("estate", sa.String(128), primary_key=True),
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(8), nullable=False),
        sa.Column("next_due", _TIME, nullable=False),
        sa.Column("spec", sa.String(64), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_quota_periods_due", "quota_periods", ["estate", "next_due"])
