"""Who fires an event: an id and the roles they hold."""

from __future__ import annotations

from dataclasses import dataclass

#: The longest actor id the store keeps (``case_log.actor_id``); checked here so that both
#: databases refuse the same ids, and at once instead of when the event is written.
MAX_ACTOR_ID = 128


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
        if not isinstance(id, str) or not id or len(id) > MAX_ACTOR_ID or "\x00" in id:
            raise ValueError(
                f"an actor id is 1 to {MAX_ACTOR_ID} characters of text without NUL, not {id!r:.60}"
            )
        object.__setattr__(self, "id", id)
        # frozenset("owner") would be the set of its letters.
        object.__setattr__(self, "roles", frozenset([roles] if isinstance(roles, str) else roles))


#: The engine itself: timers, breach actions and linked cases act as this actor.
SYSTEM_ACTOR = Actor("propflow", {"system"})
