"""Rules definitions: calendars and time limits (the SLA clocks of the procedures)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from engine.conditions import Condition
from engine.model.actions import ActionList, parse_actions
from engine.model.common import Definition, Label, as_tuple
from engine.model.durations import (
    Anchored,
    Duration,
    DurationError,
    Percent,
    parse_anchored,
    parse_duration,
    parse_warning,
)
from engine.model.process import parse_guard

DEFAULT_TIMEZONE = "Asia/Shanghai"


class CalendarDef(Definition):
    """When working time runs: timezone, weekday hours, holidays and the estate's own days."""

    id: str
    label: Label | None = None
    description: Label | None = None
    timezone: str = DEFAULT_TIMEZONE
    hours: str | Mapping[str, tuple[str, ...]] = "always"
    holidays: str = "none"
    closed: tuple[str, ...] = ()
    open: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and isinstance(raw.get("hours"), Mapping):
            raw = dict(raw)
            raw["hours"] = {day: as_tuple(spans) for day, spans in raw["hours"].items()}
        return raw


class IdLists(Definition):
    """A definition whose every key holds ids, written as one id or a list of them.

    YAML authors write `enter: received` as readily as `enter: [received, recorded]`; both
    become tuples here, so the rest of the engine sees one shape.
    """

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            return {key: as_tuple(value) for key, value in raw.items()}
        return raw


class Trigger(IdLists):
    """A moment or a stretch of a case's life.

    ``enter``, ``exit`` and ``event`` are moments (start, stop, reset); ``in`` is a stretch
    (pause while in these states, recur while in them).
    """

    enter: tuple[str, ...] = ()
    exit: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    states: tuple[str, ...] = Field(default=(), alias="in")

    model_config = Definition.model_config | {"populate_by_name": True}


class Extension(IdLists):
    """Who may approve moving a deadline, and which consents the request must carry."""

    by: tuple[str, ...]
    needs: tuple[str, ...] = ()


class Tier(Definition):
    """A later escalation step, measured from the clock's start (2 weeks → the manager)."""

    after: str
    after_duration: Duration | None = None
    extend_by: tuple[str, ...] = ()
    actions: ActionList = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            raw = dict(raw)
            raw["after_duration"] = try_parse(parse_duration, raw.get("after"))
            raw["extend_by"] = as_tuple(raw.get("extend_by"))
            raw["actions"] = parse_actions(raw.get("actions"))
        return raw


def try_parse(parser: Any, text: Any) -> Any:
    """Parse a duration-like value, or ``None`` when absent or broken (a check reports it)."""
    if not isinstance(text, str):
        return None
    try:
        return parser(text)
    except DurationError:
        return None


#: What :class:`TimeLimitDef` works out from the limit as written (never part of its source).
_DERIVED = frozenset(
    {"guard", "limit_duration", "deadline_anchor", "every_duration", "warnings", "source_data"}
)


class TimeLimitDef(Definition):
    """A time limit: when its clock runs for a case, how long it has, and what a breach does.

    Exactly one of ``limit`` (a duration from ``start``), ``deadline`` (anchored on a date
    field) or ``every`` (recurring while in states) is set; the schema enforces it.
    """

    id: str
    label: Label | None = None
    description: Label | None = None
    source: str | None = None
    process: str
    condition: str | None = Field(default=None, alias="if")
    guard: Condition | None = None
    calendar: str | None = None
    start: Trigger | None = None
    stop: Trigger | None = None
    pause: Trigger | None = None
    reset: Trigger | None = None
    limit: str | None = None
    limit_duration: Duration | None = None
    deadline: str | None = None
    deadline_anchor: Anchored | None = None
    every: str | None = None
    every_duration: Duration | None = None
    while_in: Trigger | None = Field(default=None, alias="while")
    warn: tuple[str, ...] = ()
    warnings: tuple[Percent | Duration, ...] = ()
    extend: Extension | None = None
    on_breach: ActionList = ()
    on_due: ActionList = ()
    tiers: tuple[Tier, ...] = ()
    #: The limit as written (JSON-compatible, after any estate patches), kept with the
    #: definition version of the cases it applies to, so the store can rebuild it for them.
    source_data: Mapping[str, Any] = Field(default_factory=dict, repr=False)

    model_config = Definition.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = {key: value for key, value in raw.items() if key not in _DERIVED}
        raw["source_data"] = dict(raw)
        raw["guard"] = parse_guard(raw.get("if"))
        raw["limit_duration"] = try_parse(parse_duration, raw.get("limit"))
        raw["deadline_anchor"] = try_parse(parse_anchored, raw.get("deadline"))
        raw["every_duration"] = try_parse(parse_duration, raw.get("every"))
        raw["warn"] = as_tuple(raw.get("warn"))
        parsed = [try_parse(parse_warning, text) for text in raw["warn"]]
        raw["warnings"] = tuple(item for item in parsed if item is not None)
        raw["on_breach"] = parse_actions(raw.get("on_breach"))
        raw["on_due"] = parse_actions(raw.get("on_due"))
        raw["tiers"] = raw.get("tiers") or ()
        return raw

    def triggers(self) -> dict[str, Trigger]:
        """The named triggers that are set, for checks that resolve their states and events."""
        named = {
            "start": self.start,
            "stop": self.stop,
            "pause": self.pause,
            "reset": self.reset,
            "while": self.while_in,
        }
        return {name: trigger for name, trigger in named.items() if trigger is not None}
