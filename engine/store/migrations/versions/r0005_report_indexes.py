"""The indexes the reports and the overdue board read an estate's cases and log by.

A report starts from one estate's cases opened, changed or still open in its period, then
reads their log entries of one event or state: its cost follows the estate's cases in the
period, not the store's size.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_case_log_case_event", "case_log", ["case_id", "event", "at"])
    op.create_index("ix_case_log_case_state", "case_log", ["case_id", "to_state", "at"])
    op.create_index("ix_cases_estate_open", "cases", ["estate", "closed_at"])
    op.create_index("ix_cases_estate_opened", "cases", ["estate", "process", "opened_at"])
    op.create_index("ix_cases_estate_updated", "cases", ["estate", "process", "updated_at"])
