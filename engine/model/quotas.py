"""Quota definitions: how many times a role must do something per period.

The director (主任) visits 10 homes a month and each area manager 15 (seed 001 第5篇 §8（二）):
a quota counts the events fired by people acting in a role during each period, from the
cases' audit log, warns ``warn`` before the period ends while the count is short, and runs
its ``on_breach`` actions (notifications, to the outbox) when the period ended short.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import model_validator

from engine.model.actions import ActionList, parse_actions
from engine.model.common import Definition, Label, as_tuple
from engine.model.durations import Duration, parse_duration
from engine.model.rules import IdLists, try_parse

Period = Literal["week", "month", "quarter"]


class QuotaCounts(IdLists):
    """What counts towards a quota: the events (by id) fired in the quota's role."""

    event: tuple[str, ...]


class QuotaDef(Definition):
    """``count`` events per ``period`` by each person acting in ``role`` (or by the role as a
    whole, ``per: role``), on the cases of ``process`` (any process when left out)."""

    id: str
    label: Label | None = None
    description: Label | None = None
    source: str | None = None
    process: str | None = None
    role: str
    count: int
    period: Period
    counts: QuotaCounts
    per: Literal["actor", "role"] = "actor"
    actors: tuple[str, ...] = ()
    calendar: str | None = None
    warn: str | None = None
    warn_duration: Duration | None = None
    on_breach: ActionList = ()

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = dict(raw)
        raw["actors"] = as_tuple(raw.get("actors"))
        raw["warn_duration"] = try_parse(parse_duration, raw.get("warn"))
        raw["on_breach"] = parse_actions(raw.get("on_breach"))
        return raw
