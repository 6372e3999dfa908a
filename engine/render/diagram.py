"""The diagram of a process: states, transitions and where its time limits run.

One model, built once from a :class:`~engine.model.ProcessDef` and its time limits, with every
text already in the chosen language; :mod:`engine.render.mermaid` and :mod:`engine.render.dot`
only spell it in their syntax. So both formats always show the same thing:

- states in walking order (breadth-first from the initial state, then any unreachable ones in
  file order), marked initial or final, with their labels;
- transitions, one per (source state, event), labelled with the event, the roles that may fire
  it and its condition in plain words;
- internal events (no ``to``: they record something without leaving the state) listed on
  their state rather than drawn as loops;
- for each state, the time limits that start, stop, pause, restart or repeat there. A clock
  started or stopped by an event is shown on the state the case is in after the event. Stops
  on final states are left out: reaching a final state stops every clock anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from engine.model import EventDef, ProcessDef, TimeLimitDef, Trigger, localized
from engine.model.words import (
    Lang,
    condition_words,
    duration_words,
    event_name,
    parenthesized,
    roles_text,
    word,
    wrap,
)

MarkKind = Literal["starts", "stops", "pauses", "resets", "repeats"]
MARK_ORDER: tuple[MarkKind, ...] = ("starts", "stops", "pauses", "resets", "repeats")


@dataclass(frozen=True)
class LimitMark:
    """A time limit's clock doing something at a state."""

    limit_id: str
    kind: MarkKind
    label: str
    #: How, when not simply by being in the state: `（离开时）`, `（“登记报修单”后）` ...
    how: str = ""

    def text(self, lang: Lang) -> str:
        return f"{word(self.kind, lang)}{':' if lang == 'en' else '：'}{self.label}{self.how}"


@dataclass(frozen=True)
class DiagramEvent:
    """An event: a transition (``target`` set) or an internal event (``target`` ``None``)."""

    id: str
    label: str
    source: str
    target: str | None
    roles: str
    #: The condition in plain words, if the event has one.
    condition: str | None = None
    #: The condition as canonical condition text, for readers who want the exact rule.
    guard: str | None = None

    @property
    def internal(self) -> bool:
        return self.target is None


@dataclass(frozen=True)
class DiagramState:
    id: str
    label: str
    initial: bool = False
    final: bool = False
    internal: tuple[DiagramEvent, ...] = ()
    limits: tuple[LimitMark, ...] = ()


@dataclass(frozen=True)
class Diagram:
    process_id: str
    title: str
    lang: Lang
    states: tuple[DiagramState, ...]
    transitions: tuple[DiagramEvent, ...] = field(default=())
    #: Which part of a split diagram this is (:mod:`engine.render.split`); empty when whole.
    part: str = ""

    @property
    def initial(self) -> list[str]:
        return [state.id for state in self.states if state.initial]

    @property
    def finals(self) -> list[str]:
        return [state.id for state in self.states if state.final]

    def state(self, state_id: str) -> DiagramState:
        for state in self.states:
            if state.id == state_id:
                return state
        raise KeyError(state_id)


# --- walking order --------------------------------------------------------------------------


def state_order(process: ProcessDef) -> list[str]:
    """States breadth-first from the initial one(s), following events in file order; states
    no event reaches come last, in file order."""
    seen: dict[str, None] = {}
    queue = deque(sid for sid in process.initial_states if sid in process.states)
    for sid in queue:
        seen[sid] = None
    while queue:
        current = queue.popleft()
        for event in process.events.values():
            target = event.target
            if target is None or target not in process.states or target in seen:
                continue
            if current in event.sources:
                seen[target] = None
                queue.append(target)
    for sid in process.states:
        seen.setdefault(sid, None)
    return list(seen)


def events_from(process: ProcessDef, state_id: str) -> list[EventDef]:
    """The events that may be fired in a state, in file order."""
    return [event for event in process.events.values() if state_id in event.sources]


# --- building -------------------------------------------------------------------------------


def build_diagram(
    process: ProcessDef,
    time_limits: Iterable[TimeLimitDef] = (),
    lang: Lang = "zh-CN",
    limits: bool = True,
) -> Diagram:
    """The diagram of ``process`` with the marks of those ``time_limits`` that belong to it
    (none when ``limits`` is false: the manual lists them in its text instead)."""
    own = [t for t in time_limits if t.process == process.id] if limits else []
    marks = limit_marks(process, own, lang)
    order = state_order(process)
    states = []
    for sid in order:
        definition = process.states[sid]
        internal = tuple(
            _event(process, event, sid, lang)
            for event in events_from(process, sid)
            if event.internal
        )
        found = marks.get(sid, [])
        if definition.final:
            found = [mark for mark in found if mark.kind != "stops"]
        states.append(
            DiagramState(
                id=sid,
                label=localized(definition.label, sid, lang),
                initial=definition.initial,
                final=definition.final,
                internal=internal,
                limits=tuple(sorted(found, key=lambda m: MARK_ORDER.index(m.kind))),
            )
        )
    transitions = tuple(
        _event(process, event, source, lang)
        for source in order
        for event in events_from(process, source)
        if not event.internal and event.target in process.states
    )
    return Diagram(
        process_id=process.id,
        title=localized(process.title, process.id, lang),
        lang=lang,
        states=tuple(states),
        transitions=transitions,
    )


def _event(process: ProcessDef, event: EventDef, source: str, lang: Lang) -> DiagramEvent:
    return DiagramEvent(
        id=event.id,
        label=localized(event.label, event.id, lang),
        source=source,
        target=event.target,
        roles=roles_text(process, event.roles, lang),
        condition=condition_words(event.guard, process, lang),
        guard=event.condition,
    )


def limit_marks(
    process: ProcessDef, limits: Sequence[TimeLimitDef], lang: Lang
) -> dict[str, list[LimitMark]]:
    """For each state, the marks of the time limits that act there (deduplicated)."""
    marks: dict[str, list[LimitMark]] = {}

    def add(state: str, limit: TimeLimitDef, kind: MarkKind, how: str = "") -> None:
        if state not in process.states:
            return
        existing = marks.setdefault(state, [])
        if any(m.limit_id == limit.id and m.kind == kind for m in existing):
            return
        label = localized(limit.label, limit.id, lang)
        existing.append(LimitMark(limit.id, kind, label, how))

    for limit in limits:
        if limit.every is not None:
            every = (
                duration_words(limit.every_duration, lang) if limit.every_duration else limit.every
            )
            how = parenthesized(("每" if lang == "zh-CN" else "every ") + every, lang)
            for state in limit.while_in.states if limit.while_in else ():
                add(state, limit, "repeats", how)
            continue
        if limit.start is None:
            for state in process.initial_states:
                add(state, limit, "starts", parenthesized(word("when_opened", lang), lang))
        triggers: tuple[tuple[MarkKind, Trigger | None], ...] = (
            ("starts", limit.start),
            ("stops", limit.stop),
            ("resets", limit.reset),
        )
        for kind, trigger in triggers:
            for state, how in _moments(process, trigger, lang):
                add(state, limit, kind, how)
        for state in limit.pause.states if limit.pause else ():
            add(state, limit, "pauses")
    return marks


def _moments(process: ProcessDef, trigger: Trigger | None, lang: Lang) -> list[tuple[str, str]]:
    """(state, how) for each moment a trigger names: entering a state, leaving it (shown on
    that state), or an event (shown on the state the case is in after it)."""
    if trigger is None:
        return []
    found = [(state, "") for state in trigger.enter]
    found += [(state, parenthesized(word("when_exiting", lang), lang)) for state in trigger.exit]
    for event_id in trigger.event:
        event = process.events.get(event_id)
        if event is None:
            continue
        name = event_name(process, event_id, lang)
        how = parenthesized(f"“{name}”后" if lang == "zh-CN" else f"after “{name}”", lang)
        after = (event.target,) if event.target is not None else event.sources
        found += [(state, how) for state in after]
    return found


def ascii_id(raw: str) -> str:
    """``s_`` and the id with anything but ASCII letters, digits and ``_`` spelt as its code
    point: safe as an identifier in any diagram syntax, and never a keyword of one."""
    safe = "".join(
        ch if (ch.isascii() and (ch.isalnum() or ch == "_")) else f"_{ord(ch):x}_" for ch in raw
    )
    return f"s_{safe}"


def ascii_ids(diagram: Diagram) -> dict[str, str]:
    """:func:`ascii_id` for every state, made unique should two ids spell the same."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for state in diagram.states:
        candidate = base = ascii_id(state.id)
        counter = 2
        while candidate in used:
            candidate, counter = f"{base}_{counter}", counter + 1
        ids[state.id] = candidate
        used.add(candidate)
    return ids


# --- text lines shared by the renderers ----------------------------------------------------

EDGE_WIDTH = 40
NOTE_WIDTH = 48


def edge_lines(
    event: DiagramEvent, lang: Lang, width: int = EDGE_WIDTH, brief: bool = False
) -> list[str]:
    """The label of a transition: the event, who may fire it, and its condition; only the
    event when ``brief`` (an event drawn from several states has its details on the first)."""
    lines = [event.label]
    if brief:
        return lines
    if event.roles:
        lines += wrap(f"〔{event.roles}〕" if lang == "zh-CN" else f"[{event.roles}]", width)
    if event.condition:
        prefix = word("if", lang) + ("：" if lang == "zh-CN" else ": ")
        lines += wrap(prefix + event.condition, width)
    return lines


def note_lines(state: DiagramState, lang: Lang, width: int = NOTE_WIDTH) -> list[str]:
    """What is listed on a state: its internal events, then its time-limit marks grouped by
    what the clock does there — a heading line (`开始计时：`) and one bulleted line per limit."""
    sep = "：" if lang == "zh-CN" else ":"
    lines: list[str] = []
    for event in state.internal:
        who = f"〔{event.roles}〕" if lang == "zh-CN" else f" [{event.roles}]"
        space = " " if lang == "en" else ""
        lines += wrap(f"{word('also_here', lang)}{sep}{space}{event.label}{who}", width)
    groups: dict[tuple[MarkKind, str], list[str]] = {}
    for mark in state.limits:
        groups.setdefault((mark.kind, mark.how), []).append(mark.label)
    for (kind, how), labels in groups.items():
        lines.append(f"{word(kind, lang)}{how}{sep}")
        for text in labels:
            wrapped = wrap(text, width - 2)
            lines += [f"{'· ' if index == 0 else '  '}{line}" for index, line in enumerate(wrapped)]
    return lines
