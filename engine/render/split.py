"""A large diagram split for the page: the main line, then each exception on its own.

A 15-state procedure drawn whole fits an A4 page only with its labels too small to read. The
manuals it replaces draw the main line first and the exceptions after it, and so does the
manual here: above :data:`MAX_STATES` states a diagram becomes

- the main line: the states on the longest walk without repeats from the initial state to
  the procedure's proper end (the procedure carried through every step, not cut short by a
  withdrawal or a refusal), with every transition among them — loops back included;
- one exception diagram per group of the other states (states joined by transitions among
  themselves are one group): the group, the main-line states it leaves from or returns to —
  drawn plain, for orientation —, and the transitions that touch the group.

Every state and every transition of the whole diagram is in exactly one of the parts (a test
holds them to it), so nothing is lost in the split.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from engine.render.diagram import Diagram, DiagramEvent, DiagramState

#: A diagram with more states than this is split (ten fit a page with readable labels).
MAX_STATES = 10

#: How many transitions the search for the main line may follow: enough for any procedure a
#: person reads, and a bound on a generated one with thousands of paths.
SEARCH_BUDGET = 100_000


@dataclass(frozen=True)
class DiagramPart:
    """One part of a split diagram: ``main`` the main line, else an exception, with the
    labels of the states it is about (for its caption)."""

    diagram: Diagram
    main: bool
    about: tuple[str, ...] = ()


def split_diagram(
    diagram: Diagram, ending: str | None = None, max_states: int = MAX_STATES
) -> list[DiagramPart]:
    """``diagram`` whole when it has at most ``max_states`` states, else its main line (to
    ``ending``, see :func:`main_line`) and its exceptions."""
    line = main_line(diagram, ending)
    if len(diagram.states) <= max_states or len(line) == len(diagram.states):
        return [DiagramPart(diagram, main=True)]
    on_line = set(line)
    parts = [
        DiagramPart(
            _restricted(diagram, on_line, set(), "main", _inside(diagram, on_line)),
            main=True,
        )
    ]
    for number, group in enumerate(_groups(diagram, on_line), start=1):
        touching = tuple(t for t in diagram.transitions if t.source in group or t.target in group)
        context = {t.source for t in touching} | {t.target or t.source for t in touching}
        context -= group
        about = tuple(s.label for s in diagram.states if s.id in group)
        parts.append(
            DiagramPart(
                _restricted(diagram, group, context, f"exception-{number}", touching),
                main=False,
                about=about,
            )
        )
    return parts


def main_line(diagram: Diagram, ending: str | None = None) -> list[str]:
    """The longest walk without repeats from the first initial state to ``ending`` (the
    procedure's proper end: the manual passes the final state its definition lists first),
    or to any final state — the procedure carried through every step, not cut short — the
    first found when several are as long (transitions in diagram order, so the file's order
    decides). Past :data:`SEARCH_BUDGET` steps of the search the longest found so far is
    kept; the initial state alone when the end is not reached."""
    if not diagram.initial:
        return []
    finals = {ending} if ending is not None else set(diagram.finals)
    outgoing: dict[str, list[str]] = {}
    for transition in diagram.transitions:
        if transition.target is not None:
            outgoing.setdefault(transition.source, []).append(transition.target)
    best: list[str] = [diagram.initial[0]]
    path: list[str] = [diagram.initial[0]]
    budget = SEARCH_BUDGET

    def walk(state: str) -> None:
        nonlocal best, budget
        if state in finals:
            if len(path) > len(best) or best[-1] not in finals:
                best = list(path)
            return
        for target in outgoing.get(state, ()):
            if budget <= 0:
                return
            budget -= 1
            if target in path:
                continue
            path.append(target)
            walk(target)
            path.pop()

    walk(path[0])
    return best if best[-1] in finals else best[:1]


def reading_order(diagram: Diagram, ending: str | None = None) -> list[str]:
    """The states in the order the manual describes them: the main line from the initial
    state to ``ending`` (see :func:`main_line`), then the exceptions group by group, as their
    diagrams follow the main line's — so a reader follows the procedure carried through
    before the ways it is cut short."""
    line = main_line(diagram, ending)
    groups = _groups(diagram, set(line))
    return line + [s.id for group in groups for s in diagram.states if s.id in group]


def _inside(diagram: Diagram, states: set[str]) -> tuple[DiagramEvent, ...]:
    return tuple(
        t for t in diagram.transitions if t.source in states and (t.target or "") in states
    )


def _groups(diagram: Diagram, on_line: set[str]) -> list[set[str]]:
    """The states off the main line, grouped by the transitions among them, in state order."""
    off = [s.id for s in diagram.states if s.id not in on_line]
    neighbours: dict[str, set[str]] = {sid: set() for sid in off}
    for transition in diagram.transitions:
        source, target = transition.source, transition.target
        if source in neighbours and target in neighbours:
            neighbours[source].add(target)
            neighbours[target].add(source)
    groups: list[set[str]] = []
    seen: set[str] = set()
    for sid in off:
        if sid in seen:
            continue
        group, queue = {sid}, deque([sid])
        while queue:
            for other in neighbours[queue.popleft()] - group:
                group.add(other)
                queue.append(other)
        seen |= group
        groups.append(group)
    return groups


def _restricted(
    diagram: Diagram,
    states: set[str],
    context: set[str],
    part: str,
    transitions: tuple[DiagramEvent, ...],
) -> Diagram:
    """The diagram of ``states`` (drawn in full) and ``context`` (drawn plain: no start mark,
    notes or clocks) with ``transitions``."""
    kept: list[DiagramState] = []
    for state in diagram.states:
        if state.id in states:
            kept.append(state)
        elif state.id in context:
            kept.append(DiagramState(state.id, state.label, final=state.final))
    return replace(diagram, states=tuple(kept), transitions=transitions, part=part)
