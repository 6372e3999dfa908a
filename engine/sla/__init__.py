"""SLA clocks: time limits running on cases (start, stop, pause, warn, breach, extend)."""

from engine.sla.clocks import (
    PAUSED,
    RUNNING,
    STOPPED,
    ClockChange,
    ClockRecord,
    PlanItem,
    TimerKind,
    TimerRecord,
)
from engine.sla.extension import (
    ExtensionDenied,
    ExtensionRequest,
    GrantedExtension,
    grant_extension,
)
from engine.sla.planner import LimitPlanner, Moment, SlaPlanner, hits, stopped
from engine.sla.status import ClockStatus, clock_status

__all__ = [
    "PAUSED",
    "RUNNING",
    "STOPPED",
    "ClockChange",
    "ClockRecord",
    "ClockStatus",
    "ExtensionDenied",
    "ExtensionRequest",
    "GrantedExtension",
    "LimitPlanner",
    "Moment",
    "PlanItem",
    "SlaPlanner",
    "TimerKind",
    "TimerRecord",
    "clock_status",
    "grant_extension",
    "hits",
    "stopped",
]
