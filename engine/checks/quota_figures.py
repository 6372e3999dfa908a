"""Quota figures (PF521): a quota's count is below 1, or its warning cannot be used.

``count`` is how many events each person (or the role, ``per: role``) must reach per period:
at least 1. ``warn`` is a wall-clock duration before the period's end (``5d``), shorter than
the shortest period of its kind — 7 days for a week, 28 for a month, 90 for a quarter — or
the warning would come before the period starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.durations import DurationError, parse_duration

CODE = "PF521"
NAME = "quota-figures"
SEVERITY = Severity.ERROR

#: The shortest length of each kind of period.
SHORTEST = {"week": timedelta(days=7), "month": timedelta(days=28), "quarter": timedelta(days=90)}


def check(library: Library) -> Iterator[Finding]:
    for located in library.quotas:
        quota = located.definition
        if isinstance(quota.count, bool) or quota.count < 1:
            yield Finding(located.at("count"), say("PF521.count", count=quota.count))
        if quota.warn is None:
            continue
        try:
            warn = parse_duration(quota.warn)
        except DurationError as error:
            span = located.source_map.locate_in_text((*located.base, "warn"), error.offset)
            yield Finding(span, say("PF120.bad", text=quota.warn, detail=error.message))
            continue
        if warn.working:
            yield Finding(
                located.at("warn"),
                say("PF521.working", warn=quota.warn),
            )
        elif warn.as_timedelta() >= SHORTEST[quota.period]:
            yield Finding(
                located.at("warn"),
                say(
                    "PF521.too_long",
                    warn=quota.warn,
                    period=say(f"PF521.{quota.period}"),
                    days=SHORTEST[quota.period].days,
                ),
            )
