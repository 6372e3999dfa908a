"""Indicator definitions (考核指标, KPIs): the figures the manuals hold an estate to.

Every procedure manual ends in rates — repair timeliness 98%, valid complaints under 2%,
satisfaction above 98% — that an audit checks. An indicator says what it counts (``unit``):

- ``cases``: cases of ``process``, each placed in the period of a moment of its life
  (``when``: opened, by default; the first time it entered one of some states; the first
  time one of some events was fired);
- ``clocks``: the clocks of some time limits (``limits``) on cases of ``process``, each
  placed in the period it was decided — breached, or stopped without a breach;
- ``events``: entries of some events (``events``) in the cases' audit log.

``where`` (a condition on the case's fields and ``state``) narrows what is counted: that is
the denominator. ``counts`` says which of them make the numerator: a condition (on the case,
or for ``events`` on the answers recorded with the event), events the case has had, events it
has not had; a clock counts when it was on time. The value is numerator / denominator, per
``period`` (week, month, quarter, year) in the estate's timezone, held against ``target``
(``">= 98%"``, ``"< 2%"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator

from engine.conditions import Condition
from engine.model.common import Definition, Label, as_tuple
from engine.model.process import GuardedIds, parse_guard
from engine.model.rules import IdLists

KpiPeriod = Literal["week", "month", "quarter", "year"]
KpiUnit = Literal["cases", "clocks", "events"]
TargetOp = Literal[">=", ">", "<=", "<"]

_TARGET = re.compile(r"^\s*(>=|>|<=|<|≥|≤)\s*(\d+(?:\.\d+)?)\s*%\s*$")
_SIGNS: dict[str, TargetOp] = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "≥": ">=", "≤": "<="}


@dataclass(frozen=True)
class Target:
    """A target with its direction: ``>= 98%`` is met by 98% and more, ``< 2%`` below 2%."""

    op: TargetOp
    percent: Decimal

    @property
    def higher_is_better(self) -> bool:
        """Whether the counted items are the good ones (``>=``, ``>``): then the items that
        missed are those outside the numerator; otherwise those inside it."""
        return self.op in (">=", ">")

    def met(self, percent: Decimal) -> bool:
        """Whether a value (in percent) meets the target."""
        if self.op == ">=":
            return percent >= self.percent
        if self.op == ">":
            return percent > self.percent
        if self.op == "<=":
            return percent <= self.percent
        return percent < self.percent

    def __str__(self) -> str:
        return f"{self.op} {self.percent.normalize():f}%"


def parse_target(text: str) -> Target | None:
    """``">= 98%"`` (or ``"≥ 98%"``) as a :class:`Target`; ``None`` if it is not one (the
    schema's pattern reports it)."""
    match = _TARGET.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return Target(_SIGNS[match.group(1)], Decimal(match.group(2)))


class KpiWhen(IdLists):
    """The moment that places a case in a period: the first entry into one of ``enter``'s
    states, or the first firing of one of ``event``'s events (opened, when neither)."""

    enter: tuple[str, ...] = ()
    event: tuple[str, ...] = ()


class KpiCounts(GuardedIds):
    """What puts a counted item in the numerator; every part given must hold."""

    ID_LISTS = ("event", "no_event")

    event: tuple[str, ...] = ()
    no_event: tuple[str, ...] = ()


class KpiDef(Definition):
    """An indicator: what is counted, the denominator, the period and the target."""

    id: str
    label: Label | None = None
    description: Label | None = None
    source: str | None = None
    process: str
    unit: KpiUnit = "cases"
    when: KpiWhen | None = None
    limits: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    condition: str | None = Field(default=None, alias="where")
    guard: Condition | None = None
    counts: KpiCounts = KpiCounts()
    period: KpiPeriod = "month"
    target: str
    goal: Target | None = None

    model_config = Definition.model_config | {"populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = dict(raw)
        raw["guard"] = parse_guard(raw.get("where"))
        raw["limits"] = as_tuple(raw.get("limits"))
        raw["events"] = as_tuple(raw.get("events"))
        raw["goal"] = parse_target(raw.get("target", ""))
        if raw.get("counts") is None:
            raw.pop("counts", None)
        return raw

    def conditions(self) -> dict[tuple[str, ...], tuple[str, Condition | None]]:
        """The indicator's conditions by their path in the file: text and parsed form."""
        found: dict[tuple[str, ...], tuple[str, Condition | None]] = {}
        if self.condition is not None:
            found[("where",)] = (self.condition, self.guard)
        if self.counts.condition is not None:
            found[("counts", "if")] = (self.counts.condition, self.counts.guard)
        return found
