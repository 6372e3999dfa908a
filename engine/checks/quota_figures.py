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
            yield Finding(located.at("count"), f"count {quota.count} must be at least 1")
        if quota.warn is None:
            continue
        try:
            warn = parse_duration(quota.warn)
        except DurationError as error:
            span = located.source_map.locate_in_text((*located.base, "warn"), error.offset)
            yield Finding(span, f"bad duration '{quota.warn}': {error.message}")
            continue
        if warn.working:
            yield Finding(
                located.at("warn"),
                f"warn '{quota.warn}' must be wall-clock time (like 5d), not working time",
            )
        elif warn.as_timedelta() >= SHORTEST[quota.period]:
            yield Finding(
                located.at("warn"),
                f"warn '{quota.warn}' is not shorter than a {quota.period} "
                f"({SHORTEST[quota.period].days} days at the shortest), so it would come "
                "before the period starts",
            )
