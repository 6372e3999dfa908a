"""The typed, immutable definitions that YAML files load into.

Data flows one way — files, then these definitions, then the runtime — so nothing after the
loader ever looks at raw YAML again.
"""

from engine.model.actions import (
    Action,
    Assign,
    Escalate,
    Fire,
    Notify,
    Open,
    SetFields,
    Signal,
    reference,
)
from engine.model.common import Label, localized
from engine.model.estate import DocumentDef, EstateDef, RevisionDef
from engine.model.kpis import KpiDef, Target
from engine.model.migrations import MigrationDef
from engine.model.patterns import PatternDef
from engine.model.process import EventDef, FieldDef, ProcessDef, RoleDef, StateDef
from engine.model.quotas import QuotaDef
from engine.model.rules import CalendarDef, Extension, Tier, TimeLimitDef, Trigger
from engine.model.schedules import ScheduleDef, ScheduleFigure

__all__ = [
    "Action",
    "Assign",
    "CalendarDef",
    "DocumentDef",
    "Escalate",
    "EstateDef",
    "EventDef",
    "Extension",
    "FieldDef",
    "Fire",
    "KpiDef",
    "Label",
    "MigrationDef",
    "Notify",
    "Open",
    "PatternDef",
    "ProcessDef",
    "QuotaDef",
    "RevisionDef",
    "RoleDef",
    "ScheduleDef",
    "ScheduleFigure",
    "SetFields",
    "Signal",
    "StateDef",
    "Target",
    "Tier",
    "TimeLimitDef",
    "Trigger",
    "localized",
    "reference",
]
