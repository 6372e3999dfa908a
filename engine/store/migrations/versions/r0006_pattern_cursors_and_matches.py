"""Patterns: each estate's log cursor, the audit trail of matches, the log by estate.

The index on the log's ``(estate, seq)`` is how patterns read an estate's entries after their
cursor without scanning every other estate's.

Both tables are new and start empty: a database upgraded to this revision has its patterns
start reading the audit log from its first entry on the first tick, as a new one does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pattern_cursors",
        sa.Column("estate", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("estate"),
    )
    op.create_table(
        "pattern_matches",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("estate", sa.String(length=128), nullable=False),
        sa.Column("pattern", sa.String(length=128), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("seqs", sa.JSON(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("estate", "pattern", "last_seq", name="uq_pattern_matches_last"),
    )
    op.create_index("ix_pattern_matches_seq", "pattern_matches", ["estate", "last_seq"])
    op.create_index("ix_case_log_estate_seq", "case_log", ["estate", "seq"])
