"""The transition graph of a process, shared by the reachability checks."""

from __future__ import annotations

from collections import deque

from engine.model import ProcessDef


def exits(process: ProcessDef, state: str) -> list[str]:
    """Events that take a case out of ``state`` to another state."""
    return [
        eid
        for eid, event in process.events.items()
        if state in event.sources and event.target is not None and event.target != state
    ]


def reachable(process: ProcessDef) -> set[str]:
    """States a case can reach from the initial state(s) by any sequence of events."""
    seen = set(process.initial_states)
    queue = deque(seen)
    while queue:
        state = queue.popleft()
        for event in process.events.values():
            target = event.target
            if state in event.sources and target in process.states and target not in seen:
                assert target is not None
                seen.add(target)
                queue.append(target)
    return seen
