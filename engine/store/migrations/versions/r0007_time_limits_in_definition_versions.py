"""A definition version's time limits, stored with its process.

The version a case runs on now covers its time limits as well as its process, so an engine
whose library changed a limit since (or dropped it) still plans and fires the case's clocks
as they were when it opened, until ``propflow migrate`` moves it. The limits are kept as
written, each with the name of the calendar it counts on; the calendars themselves (the
year's holidays, an estate's closed days) stay live and are not kept.

A version stored before this revision has ``NULL`` here: its limits were not kept, and its
cases go on with the limits of the library loaded, as they did before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("definitions", sa.Column("time_limits", sa.JSON(), nullable=True))
