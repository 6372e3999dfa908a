"""Actions: what an event, a state entry or a breached time limit makes the engine do.

In YAML an action is a one-key mapping (``{notify: manager}``); here each kind is its own
model so the runtime can match on the type instead of on strings.
"""

from __future__ import annotations

from collections.abc import Mapping
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


Action = Annotated[Notify | Assign | Escalate | SetFields | Fire, Field(discriminator="kind")]

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
    return raw


def parse_actions(raw: Any) -> Any:
    """Parse a YAML list of actions (``None`` is no actions)."""
    if raw is None:
        return ()
    if isinstance(raw, list):
        return tuple(parse_action(item) for item in raw)
    return raw
