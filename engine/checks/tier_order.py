"""Escalation tiers out of order (PF206): a tier falls before (or with) the breach, or not
after the tier before it.

Tiers are the later steps of a time limit, each measured from the clock's start: the first
after the limit itself, each one after the last (`limit: 5 workdays`, tiers `after: 2w`,
`after: 4w`). A tier at or before the deadline escalates before the case is even late, and
two tiers at the same moment, or in the wrong order, escalate at once or backwards. Only
lengths in the same unit are compared (working days with working days, wall-clock time
with wall-clock time): their order does not depend on a calendar.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.durations import Duration

CODE = "PF206"
NAME = "tier-order"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.time_limits:
        limit = located.definition
        previous: tuple[str, Duration] | None = None
        if limit.limit_duration is not None and limit.limit is not None:
            previous = (say("PF206.the_limit", limit=limit.limit), limit.limit_duration)
        for index, tier in enumerate(limit.tiers):
            after = tier.after_duration
            if after is None:
                continue  # an unreadable duration is PF120's
            if previous is not None and _not_after(after, previous[1]):
                earlier, length = previous
                when = "PF206.same" if after.amount == length.amount else "PF206.before"
                yield Finding(
                    located.at("tiers", index, "after"),
                    say(when, tier=index + 1, limit=limit.id, after=tier.after, earlier=earlier),
                )
            previous = (say("PF206.the_tier", tier=index + 1, after=tier.after), after)


def _not_after(later: Duration, earlier: Duration) -> bool:
    """Whether ``later`` is no longer than ``earlier``, when both are in one unit."""
    return later.unit == earlier.unit and later.amount <= earlier.amount
