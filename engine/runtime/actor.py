"""Who fires an event: an id and the roles they hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A person (or the engine) acting on a case: ``Actor("zhang", {"receptionist"})``."""

    id: str
    roles: frozenset[str]

    def __init__(
        self, id: str, roles: frozenset[str] | set[str] | list[str] | tuple[str, ...]
    ) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", frozenset(roles))


#: The engine itself: timers, breach actions and linked cases act as this actor.
SYSTEM_ACTOR = Actor("propflow", {"system"})
