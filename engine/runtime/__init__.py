"""The case runtime: an embeddable engine that runs process definitions against a store.

from engine.runtime import Actor, Engine
engine = Engine(store="sqlite:///cases.db")
case = engine.open_case("repair", {...}, Actor("li", {"receptionist"}))
"""

from engine.runtime.actor import SYSTEM_ACTOR, Actor
from engine.runtime.case import Case, EventOption, replay
from engine.runtime.clock import Clock, ManualClock, SystemClock
from engine.runtime.engine import CaseView, Engine, TickResult
from engine.runtime.errors import (
    ConflictError,
    EventNotAllowed,
    EventRefused,
    ExtensionRefused,
    FieldError,
    GuardRefused,
    IdempotencyConflict,
    InvalidArgument,
    LibraryError,
    LinkRefused,
    PropflowError,
    RoleRefused,
    UnknownCase,
    UnknownEstate,
    UnknownEvent,
    UnknownProcess,
)
from engine.runtime.host import Host
from engine.runtime.links import Link

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Case",
    "CaseView",
    "Clock",
    "ConflictError",
    "Engine",
    "EventNotAllowed",
    "EventOption",
    "EventRefused",
    "ExtensionRefused",
    "FieldError",
    "GuardRefused",
    "Host",
    "IdempotencyConflict",
    "InvalidArgument",
    "LibraryError",
    "Link",
    "LinkRefused",
    "ManualClock",
    "PropflowError",
    "RoleRefused",
    "SystemClock",
    "TickResult",
    "UnknownCase",
    "UnknownEstate",
    "UnknownEvent",
    "UnknownProcess",
    "replay",
]
