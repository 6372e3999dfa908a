"""The transition graph of a process, shared by the reachability checks.

Each is built in one pass over the events, so checking a process costs time in proportion
to its states and events, however many of them it has.
"""

from __future__ import annotations

from collections import deque

from engine.model import ProcessDef


def exits(process: ProcessDef) -> dict[str, list[str]]:
    """For each state, the events that take a case out of it to another state (in the
    order of the events); a state without any is left out."""
    found: dict[str, list[str]] = {}
    for eid, event in process.events.items():
        if event.target is None:
            continue
        for state in dict.fromkeys(event.sources):
            if state != event.target:
                found.setdefault(state, []).append(eid)
    return found


def reachable(process: ProcessDef) -> set[str]:
    """States a case can reach from the initial state(s) by any sequence of events."""
    following: dict[str, set[str]] = {}
    for event in process.events.values():
        if event.target in process.states:
            assert event.target is not None
            for state in event.sources:
                following.setdefault(state, set()).add(event.target)
    seen = set(process.initial_states)
    queue = deque(seen)
    while queue:
        for target in following.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
