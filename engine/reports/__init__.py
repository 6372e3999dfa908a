"""Reports from the store: the indicators of ``kpis:`` and the overdue board.

Everything here is an aggregate query in the database (SQLAlchemy Core, SQLite and
PostgreSQL alike); no case is loaded into Python to be counted.
"""

from engine.reports.board import BoardItem, overdue_board
from engine.reports.indicators import (
    GROUP_BY,
    Counts,
    GroupBy,
    IndicatorResult,
    compute,
    opened,
)
from engine.reports.output import (
    FORMATS,
    board_document,
    board_json,
    board_text,
    render,
    report_document,
)
from engine.reports.periods import (
    Period,
    PeriodError,
    day_range,
    month_before,
    parse_period,
    period_containing,
    period_of,
)
from engine.reports.report import Report, build_report, indicators_of

__all__ = [
    "FORMATS",
    "GROUP_BY",
    "BoardItem",
    "Counts",
    "GroupBy",
    "IndicatorResult",
    "Period",
    "PeriodError",
    "Report",
    "board_document",
    "board_json",
    "board_text",
    "build_report",
    "compute",
    "day_range",
    "indicators_of",
    "month_before",
    "opened",
    "overdue_board",
    "parse_period",
    "period_containing",
    "period_of",
    "render",
    "report_document",
]
