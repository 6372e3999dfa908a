"""The estate of its case on every row of a case: log entries, clocks, timers, outbox, links.

So every query and transaction can stay inside one estate, and the tables can be distributed
by estate on a distributed PostgreSQL. Existing rows take their case's estate (a link its
parent's); outbox rows of no case (a quota's notices) written before this keep a null
estate. The partial index of unfired timers leads with the estate: a tick looks for one
estate's due timers, and reads no other estate's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Each table that holds rows of a case, and its column naming the case.
_CASE_ROWS = {
    "case_log": "case_id",
    "sla_clocks": "case_id",
    "timers": "case_id",
    "outbox": "case_id",
    "case_links": "parent_id",
}


def upgrade() -> None:
    cases = sa.table("cases", sa.column("id"), sa.column("estate"))
    for name, key in _CASE_ROWS.items():
        op.add_column(name, sa.Column("estate", sa.String(128), nullable=True))
        rows = sa.table(name, sa.column(key), sa.column("estate"))
        estate = sa.select(cases.c.estate).where(cases.c.id == rows.c[key]).scalar_subquery()
        op.execute(rows.update().values(estate=estate))
        if name != "outbox":
            with op.batch_alter_table(name) as batch:
                batch.alter_column("estate", existing_type=sa.String(128), nullable=False)
    unfired = sa.text("fired_at IS NULL")
    op.drop_index("ix_timers_due", "timers")
    op.create_index(
        "ix_timers_due",
        "timers",
        ["estate", "due_at"],
        sqlite_where=unfired,
        postgresql_where=unfired,
    )
