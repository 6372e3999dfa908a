"""Actions: what an event, a state entry or a breached time limit makes the engine do.

In YAML an action is a one-key mapping (``{notify: manager}``); here each kind is its own
model so the runtime can match on the type instead of on strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from engine.model.common import Definition, Label


class Notify(Definition):
    """Put a notification for a role into the outbox."""

    kind: Literal["notify"] = "notify"
    role: str
    message: Label | None = None


class Assign(Definition):
    """Make a role the case's assignee."""

    kind: Literal["assign"] = "assign"
    role: str


class Escalate(Definition):
    """Assign the case to a role and notify it: the usual breach action."""

    kind: Literal["escalate"] = "escalate"
    role: str
    message: Label | None = None


class SetFields(Definition):
    """Assign case fields."""

    kind: Literal["set"] = "set"
    values: Mapping[str, Any]


class Fire(Definition):
    """Fire an event of the same case (as the built-in ``system`` role)."""

    kind: Literal["fire"] = "fire"
    event: str


class Open(Definition):
    """Open a case of another process as the built-in ``system`` role, linked to this one.

    ``data`` maps the new case's fields to literals or ``=name`` references to this case's
    fields; with ``each`` (a list field of this case) one case is opened per item, and
    ``=item`` is the item. ``link`` is ``child`` (this case is the new one's parent) or
    ``related``.
    """

    kind: Literal["open"] = "open"
    process: str
    data: Mapping[str, Any] = Field(default_factory=dict)
    each: str | None = None
    link: Literal["child", "related"] = "child"


class Signal(Definition):
    """Fire an event on linked cases (``parent``, ``children`` or ``related``) as ``system``."""

    kind: Literal["signal"] = "signal"
    event: str
    to: Literal["parent", "children", "related"] = "parent"
    data: Mapping[str, Any] = Field(default_factory=dict)


Action = Annotated[
    Notify | Assign | Escalate | SetFields | Fire | Open | Signal, Field(discriminator="kind")
]

ActionList = tuple[Action, ...]


def parse_action(raw: Any) -> Any:
    """Turn the YAML form (``{notify: head, message: ...}``) into keyword form for a model."""
    if not isinstance(raw, Mapping):
        return raw
    if "notify" in raw:
        return {"kind": "notify", "role": raw["notify"], "message": raw.get("message")}
    if "escalate" in raw:
        return {"kind": "escalate", "role": raw["escalate"], "message": raw.get("message")}
    if "assign" in raw:
        return {"kind": "assign", "role": raw["assign"]}
    if "set" in raw:
        return {"kind": "set", "values": raw["set"]}
    if "fire" in raw:
        return {"kind": "fire", "event": raw["fire"]}
    for kind in ("open", "signal"):
        if kind in raw and isinstance(raw[kind], Mapping):
            return {"kind": kind, **raw[kind]}
    return raw


def reference(value: Any) -> str | None:
    """The field name a data value refers to (``=unit`` → ``unit``), or ``None`` for a literal."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "=":
        name = value[1:]
        if (
            name[0].isascii()
            and name[0].islower()
            and all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in name)
        ):
            return name
    return None


def parse_actions(raw: Any, item: Callable[[Any], Any] = parse_action) -> Any:
    """Parse a YAML list of actions (``None`` is no actions), each with ``item`` (a pattern's
    actions take one more form than the others)."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(item(action) for action in raw)
    return raw
