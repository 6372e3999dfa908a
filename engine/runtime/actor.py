"""Who fires an event: an id and the roles they hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.diagnostics.positions import has_lone_surrogate
from engine.runtime.errors import InvalidArgument

#: The longest actor id the store keeps (``case_log.actor_id``); checked here so that both
#: databases refuse the same ids, and at once instead of when the event is written.
MAX_ACTOR_ID = 128
#: The most roles one actor may hold.
MAX_ROLES = 100


@dataclass(frozen=True)
class Actor:
    """A person (or the engine) acting on a case: ``Actor("zhang", {"receptionist"})``.

    A single role may be given as text: ``Actor("zhang", "receptionist")``.
    """

    id: str
    roles: frozenset[str]

    def __init__(
        self, id: str, roles: str | frozenset[str] | set[str] | list[str] | tuple[str, ...]
    ) -> None:
        if not _is_name(id, MAX_ACTOR_ID):
            raise InvalidArgument(
                f"an actor id is 1 to {MAX_ACTOR_ID} characters of text without NUL, not {id!r:.60}"
            )
        object.__setattr__(self, "id", id)
        # frozenset("owner") would be the set of its letters.
        listed = [roles] if isinstance(roles, str) else roles
        if not isinstance(listed, Iterable) or isinstance(listed, (bytes, dict)):
            raise InvalidArgument(f"an actor's roles are text or a set of texts, not {roles!r:.60}")
        held = list(listed)
        bad = next((role for role in held if not _is_name(role, MAX_ACTOR_ID)), None)
        if bad is not None or len(held) > MAX_ROLES:
            raise InvalidArgument(
                f"a role is 1 to {MAX_ACTOR_ID} characters of text without NUL, and an actor "
                f"holds at most {MAX_ROLES} roles, not {bad if bad is not None else roles!r:.60}"
            )
        object.__setattr__(self, "roles", frozenset(held))


def _is_name(value: object, longest: int) -> bool:
    """Whether ``value`` is text the store can keep as an id: 1 to ``longest`` characters,
    no NUL, no lone surrogate."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= longest
        and "\x00" not in value
        and not has_lone_surrogate(value)
    )


#: The engine itself: timers, breach actions and linked cases act as this actor.
SYSTEM_ACTOR = Actor("propflow", {"system"})
