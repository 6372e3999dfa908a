"""Process definitions: the state machine of one procedure and the form it fills in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from engine.conditions import Condition, ConditionSyntaxError, parse_condition
from engine.model.actions import ActionList, parse_actions
from engine.model.common import Definition, Label, as_tuple, keyed

FieldType = Literal["text", "enum", "bool", "int", "money", "date", "datetime", "phone", "list"]

#: The engine's own role: timers, breach actions and linked cases act as it.
SYSTEM_ROLE = "system"


class RoleDef(Definition):
    """A role that people act in (接待员, 维修主管 ...), with its duties for the manual."""

    id: str
    label: Label | None = None
    duties: Label | None = None
    description: Label | None = None
    #: A party to the case rather than a post (the owner who reported a repair): the field
    #: that holds the account of the person in this role on each case. Holding the role
    #: then reaches only the cases whose field names the actor, so one owner's token can
    #: neither read nor act on a neighbour's repair.
    bound_to: str | None = None


class FieldDef(Definition):
    """A field of the case's form (《报修单》 ...), typed so payloads can be checked."""

    id: str
    type: FieldType
    label: Label | None = None
    description: Label | None = None
    required: bool = False
    default: Any = None
    values: tuple[str, ...] = ()
    value_labels: Mapping[str, Label] | None = None
    min: float | None = None
    max: float | None = None
    items: FieldType = "text"


class StateDef(Definition):
    """A state of the procedure, with the actions run on entering and leaving it."""

    id: str
    label: Label | None = None
    description: Label | None = None
    initial: bool = False
    final: bool = False
    on_enter: ActionList = ()
    on_exit: ActionList = ()

    @field_validator("on_enter", "on_exit", mode="before")
    @classmethod
    def _actions(cls, raw: Any) -> Any:
        return parse_actions(raw)


def parse_guard(text: Any) -> Condition | None:
    """Parse a condition, or ``None`` when it is absent or broken.

    A broken condition is reported by the condition checks with its position; the
    definition must still load so that every other problem is reported in the same run.
    """
    if not isinstance(text, str):
        return None
    try:
        return parse_condition(text)
    except ConditionSyntaxError:
        return None


class GuardedIds(Definition):
    """A definition narrowed by an ``if`` condition, whose keys named in ``ID_LISTS`` hold
    ids written as one id or a list (``event: rework`` or ``event: [rework, reopen]``).

    The condition is parsed into ``guard`` once, at load time (``None`` when absent or
    broken: the condition checks report it), and the id lists become tuples, so what
    counts entries — indicators, patterns — sees one shape.
    """

    ID_LISTS: ClassVar[tuple[str, ...]] = ()

    condition: str | None = Field(default=None, alias="if")
    guard: Condition | None = None

    model_config = Definition.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = dict(raw)
        for key in cls.ID_LISTS:
            raw[key] = as_tuple(raw.get(key))
        raw["guard"] = parse_guard(raw.get("if"))
        return raw


class EventDef(Definition):
    """An event: a transition from some states to one, guarded by roles and a condition."""

    id: str
    label: Label | None = None
    description: Label | None = None
    sources: tuple[str, ...] = Field(alias="from")
    target: str | None = Field(default=None, alias="to")
    roles: tuple[str, ...]
    condition: str | None = Field(default=None, alias="if")
    guard: Condition | None = None
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    assigns: Mapping[str, Any] = Field(default_factory=dict, alias="set")
    actions: ActionList = ()

    model_config = Definition.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            raw = dict(raw)
            raw["from"] = as_tuple(raw.get("from"))
            raw["roles"] = as_tuple(raw.get("roles"))
            raw["actions"] = parse_actions(raw.get("actions"))
            raw["guard"] = parse_guard(raw.get("if"))
        return raw

    @cached_property
    def writable(self) -> frozenset[str]:
        """The fields this event's payload may fill in: what it requires or accepts (kept:
        every event checks its payload against it)."""
        return frozenset(self.requires) | frozenset(self.accepts)

    @property
    def internal(self) -> bool:
        """An event without ``to`` records something without leaving the state."""
        return self.target is None


def _roles_by_id(roles: Any) -> Any:
    """``roles:`` as a mapping: the short form ``[receptionist, supervisor]`` (as an event's
    roles are written) declares each role with no more than its id."""
    if isinstance(roles, list) and all(isinstance(role, str) for role in roles):
        return {role: {} for role in roles}
    return roles


def _as_written(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The definition without what :class:`ProcessDef` derives from it."""
    return {k: v for k, v in raw.items() if k not in ("version", "source_data")}


def content_hash(source: Mapping[str, Any]) -> str:
    """A stable hash of a definition's content; stored cases refer to its value."""
    return hashlib.sha256(
        json.dumps(source, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()[:16]


class ProcessDef(Definition):
    """One procedure: roles, form fields, states and events.

    ``version`` is a content hash of the process as written, which caches what is built from
    it (the compiled machine, the form). The version a case records when opened, and keeps
    running on after the YAML changes, covers the process together with its time limits
    (see :mod:`engine.runtime.definitions`).
    """

    id: str = Field(alias="process")
    title: Label
    description: Label | None = None
    scope: Label | None = None
    source: str | None = None
    record: Label | None = None
    roles: Mapping[str, RoleDef]
    fields: Mapping[str, FieldDef]
    states: Mapping[str, StateDef]
    events: Mapping[str, EventDef]
    version: str = ""
    #: The definition as written (JSON-compatible), kept so the store can rebuild exactly this
    #: version for the cases opened on it.
    source_data: Mapping[str, Any] = Field(default_factory=dict, repr=False)

    model_config = Definition.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            source = _as_written(raw)
            version = content_hash(source)
            raw = dict(source)
            raw["roles"] = _roles_by_id(raw.get("roles"))
            for key in ("roles", "fields", "states", "events"):
                raw[key] = keyed(raw.get(key) or {})
            raw["version"] = version
            raw["source_data"] = source
        return raw

    @property
    def initial_states(self) -> list[str]:
        """Ids of states marked initial (a valid process has exactly one)."""
        return [sid for sid, state in self.states.items() if state.initial]

    @property
    def role_ids(self) -> frozenset[str]:
        """Declared roles plus the built-in ``system`` role."""
        return frozenset(self.roles) | {SYSTEM_ROLE}

    @cached_property
    def parties(self) -> Mapping[str, str]:
        """The party roles (``bound_to``), each with the field that binds a case to its
        person (kept: every event asks it, and most processes have none)."""
        return {rid: role.bound_to for rid, role in self.roles.items() if role.bound_to}
