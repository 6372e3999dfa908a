"""The outbox's delivery state, and the index of an estate's rows waiting for delivery.

Attempts, the next attempt's time, the lease, the last error and the dead letter. Existing
rows start with no attempt made; those already delivered stay delivered.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_WAITING = sa.text("delivered_at IS NULL AND dead_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", _TIME, nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_until", _TIME, nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("dead_at", _TIME, nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
    op.create_index(
        "ix_outbox_waiting",
        "outbox",
        ["estate", "id"],
        sqlite_where=_WAITING,
        postgresql_where=_WAITING,
    )
