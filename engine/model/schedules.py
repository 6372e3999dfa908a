"""Schedule definitions: cases opened on a calendar (the weekly meeting, the monthly report).

A schedule says which process to open, how often (``daily``, ``weekly``, ``monthly``,
``quarterly``, ``half_yearly``, ``yearly``), on which day and at what time on which calendar,
what to put on the new case's form, and what to do about periods missed while no worker ran. The
texts (weekdays, times, dates) are kept as written and parsed here; what cannot be parsed
becomes ``None`` (or is left out) and the schedule checks (PF511) report it with its position.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Any, Literal

from pydantic import Field, model_validator

from engine.conditions import Condition
from engine.model.common import Definition, Label, as_tuple
from engine.model.durations import Duration, parse_duration
from engine.model.process import parse_guard
from engine.model.rules import try_parse

#: Weekday names as schedules write them, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: ``day`` words: the month's (or the period's month's) last day, and its last working day.
DAY_WORDS = ("last", "last_workday")

Every = Literal["daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly"]

#: Periods of several months, with how many: their ``month`` says in which one the day falls.
MONTHS_IN_PERIOD = {"quarterly": 3, "half_yearly": 6, "yearly": 12}

#: Periods whose occurrence is a ``day`` of a month (the others take weekdays in ``on``).
DAY_OF_MONTH = ("monthly", *MONTHS_IN_PERIOD)
CatchUp = Literal["once", "all", "skip"]


def parse_time_of_day(text: Any) -> time | None:
    """``"09:00"`` → 09:00; ``None`` unless it is ``H:MM`` or ``HH:MM`` from 00:00 to 23:59."""
    if not isinstance(text, str):
        return None
    hours, sep, minutes = text.partition(":")
    if not sep or not (1 <= len(hours) <= 2) or len(minutes) != 2:
        return None
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()):
        return None
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


def parse_date(text: Any) -> date | None:
    """``"2026-03-01"`` → a date; ``None`` for a date that does not exist (31 February)."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_grace(text: Any) -> Duration | None:
    """The catch-up grace as a wall-clock duration (``1h``), ``None`` when it cannot be read."""
    parsed: Duration | None = try_parse(parse_duration, text)
    return parsed


class ScheduleWhile(Definition):
    """What must hold in the estate for a schedule's period to open a case.

    At least ``at_least`` open cases of ``process`` in the estate for which ``if`` holds
    (any open case when there is no ``if``): the daily meeting of the move-in peak runs
    while a handover project is in ``handing_over``; the renovation peak's, while ten units
    are being renovated. The condition reads each case's fields and ``state``, as a time
    limit's would; it is judged when a tick opens the period.
    """

    process: str
    condition: str | None = Field(default=None, alias="if")
    guard: Condition | None = None
    at_least: int = 1

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        return {**raw, "guard": parse_guard(raw.get("if"))}


FigureCount = Literal["numerator", "denominator", "missed", "opened"]


class ScheduleFigure(Definition):
    """A figure a schedule's case opens with, counted by an indicator over the period the
    case is about (the previous period: last week's summary, last month's report).

    ``opened`` counts the indicator's cases (its process, narrowed by its ``where``) opened
    in the period, whatever moment the indicator itself places them by: a summary's "forms
    received" is that, while its rates place a repair by its close or its clocks.
    """

    kpi: str
    count: FigureCount


class ScheduleDef(Definition):
    """A schedule that opens a case of ``process`` once per period.

    ``on`` names the weekday of a weekly schedule (or limits a daily one to some weekdays);
    ``day`` is the day of the month (1–31, ``last`` or ``last_workday``) of a monthly
    schedule and of the period's ``month`` (default 1: 1–3 of a quarter, 1–6 of a half-year,
    1–12 of a year) of the longer ones, moved back
    ``minus`` working days; ``at`` is the local time on ``calendar``. ``between`` bounds the
    dates it runs on; ``workdays_only`` moves a due day that is not a working day to the next
    working day of the same period (a daily schedule skips it). ``catch_up`` decides what a
    tick does about periods that came due while no worker ran: ``once`` opens one case for
    the latest, ``all`` one per period, ``skip`` only those less than ``grace`` late.
    ``figures`` fills fields of the new case from indicators over the previous period, so
    staff review the counts instead of counting.
    """

    id: str
    label: Label | None = None
    description: Label | None = None
    source: str | None = None
    process: str
    every: Every
    on: tuple[str, ...] = ()
    day: int | str | None = None
    month: int | None = None
    minus: int = 0
    at: str = "00:00"
    calendar: str | None = None
    workdays_only: bool = False
    between: tuple[str, ...] = ()
    catch_up: CatchUp = "once"
    grace: str = "1h"
    data: Mapping[str, Any] = Field(default_factory=dict)
    figures: Mapping[str, ScheduleFigure] = Field(default_factory=dict)
    actor_role: str | None = None
    while_in_estate: ScheduleWhile | None = Field(default=None, alias="while")
    #: Parsed forms (``None`` or left out when the text is wrong; PF511 says why).
    weekdays: tuple[int, ...] = ()
    time_of_day: time | None = None
    first_date: date | None = None
    last_date: date | None = None
    grace_duration: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, raw: Any) -> Any:
        if not isinstance(raw, Mapping):
            return raw
        raw = dict(raw)
        raw["on"] = as_tuple(raw.get("on"))
        raw["between"] = tuple(raw.get("between") or ())
        raw["weekdays"] = tuple(
            WEEKDAYS.index(day) for day in raw["on"] if isinstance(day, str) and day in WEEKDAYS
        )
        raw["time_of_day"] = parse_time_of_day(raw.get("at", "00:00"))
        between = raw["between"]
        if len(between) == 2:
            raw["first_date"] = parse_date(between[0])
            raw["last_date"] = parse_date(between[1])
        raw["grace_duration"] = parse_grace(raw.get("grace", "1h"))
        return raw

    @property
    def usable(self) -> bool:
        """Whether every part needed to compute its dates parsed (else PF511 reports it)."""
        if self.time_of_day is None or self.grace_duration is None:
            return False
        if len(self.weekdays) != len(self.on):
            return False
        if self.between and (self.first_date is None or self.last_date is None):
            return False
        if self.every == "weekly" and len(self.weekdays) != 1:
            return False
        if self.every in DAY_OF_MONTH:
            numbered = isinstance(self.day, int) and not isinstance(self.day, bool)
            if not ((numbered and 1 <= int(self.day or 0) <= 31) or self.day in DAY_WORDS):
                return False
        return self.minus >= 0
