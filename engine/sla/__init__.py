"""SLA clocks: time limits running on cases (start, stop, pause, warn, breach, extend)."""

from engine.sla.planner import (
    PAUSED,
    RUNNING,
    STOPPED,
    LimitPlanner,
    Moment,
    SlaPlanner,
    hits,
)
from engine.sla.status import ClockStatus, clock_status

__all__ = [
    "PAUSED",
    "RUNNING",
    "STOPPED",
    "ClockStatus",
    "LimitPlanner",
    "Moment",
    "SlaPlanner",
    "clock_status",
    "hits",
]
