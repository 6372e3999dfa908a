"""Patterns (``patterns:`` in a rules file): rules over the events of many cases of an estate.

A time limit watches one case. A pattern watches an estate's audit log for what only shows
across cases: the third repair of the same category in one unit within 30 days, a repair
reopened after its return visit, a complaint from a unit whose repair is still open.

A pattern says which log entries it counts (``match``: a process and the events fired or
states entered, with an optional condition on the case's data at that moment), how they
correlate (``same``: fields equal across the entries), how many within what window
(``count`` and ``within``, wall-clock or working time on a calendar) — or, instead, that the
entry's case correlates with an open case of another process (``with_open``) — and what
follows: the existing actions (``open`` a case, ``notify`` a role, ``set`` fields of the
matched case) and ``link``, which links the matched cases to each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from engine.model.actions import Notify, Open, SetFields, parse_action, parse_actions
from engine.model.common import Definition, Label, as_tuple
from engine.model.durations import Duration, parse_duration
from engine.model.process import GuardedIds
from engine.model.rules import try_parse

#: The most entries one pattern may count: a window of more is a report, not a pattern.
MAX_COUNT = 100


class PatternMatch(GuardedIds):
    """The log entries a pattern counts: of ``process``, fired ``event`` or entering a state
    of ``enter`` (``open`` is the opening entry), where ``if`` holds on the case's data."""

    ID_LISTS = ("event", "enter")

    process: str
    event: tuple[str, ...] = ()
    enter: tuple[str, ...] = ()


class PatternWithOpen(Definition):
    """The open cases of ``process`` a matched entry correlates with: those whose fields
    equal the entry's case's, ``same`` mapping each field of the entry's case to the open
    case's field (a list when the names are the same)."""

    process: str
    same: Mapping[str, str]

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping) and not isinstance(raw.get("same"), Mapping):
            names = as_tuple(raw.get("same"))
            return {**raw, "same": dict(zip(names, names, strict=True))}
        return raw


class Link(Definition):
    """Link the matched cases to each other (``related``): the last one to each earlier one,
    or to each open case ``with_open`` found."""

    kind: Literal["link"] = "link"
    link: Literal["related"] = "related"


PatternAction = Annotated[Notify | SetFields | Open | Link, Field(discriminator="kind")]


def parse_pattern_action(raw: Any) -> Any:
    """The YAML form of a pattern's action (``{link: related}`` besides the common ones)."""
    if isinstance(raw, Mapping) and "link" in raw:
        return {"kind": "link", "link": raw["link"]}
    return parse_action(raw)


class PatternDef(Definition):
    """A pattern: what it counts, how the entries correlate, how many within what window,
    and what a match does."""

    id: str
    label: Label | None = None
    description: Label | None = None
    source: str | None = None
    match: PatternMatch
    same: tuple[str, ...] = ()
    count: int = Field(default=1, ge=1, le=MAX_COUNT)
    within: str | None = None
    window: Duration | None = None
    calendar: str | None = None
    with_open: PatternWithOpen | None = None
    actions: tuple[PatternAction, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = dict(raw)
        raw["same"] = as_tuple(raw.get("same"))
        raw["window"] = try_parse(parse_duration, raw.get("within"))
        raw["actions"] = parse_actions(raw.get("actions"), parse_pattern_action)
        return raw

    @property
    def counted(self) -> tuple[str, ...]:
        """The log entries' names this pattern counts: its events and ``enter:STATE``."""
        return (*self.match.event, *(f"enter:{state}" for state in self.match.enter))
