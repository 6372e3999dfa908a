"""Pattern window (PF541): a pattern's count, window and correlation do not fit together.

A pattern counting more than one entry needs a window (``within``: a wall-clock duration
such as ``30d`` or working time such as ``5 workdays``), or it would count a unit's repairs
over all its years; one counting a single entry has no window to speak of. ``within`` is a
length, not a moment (``8h before``… belongs to time limits). A ``with_open`` pattern
matches one entry against the open cases, so it takes neither ``count``, ``within`` nor
``same`` of its own; ``{link: related}`` needs more than one case to link — a count above
one or ``with_open``. Without these checks a pattern would load and then never match, or
match on every entry.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.durations import DurationError, parse_duration
from engine.model.patterns import Link

CODE = "PF541"
NAME = "pattern-window"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.patterns:
        pattern = located.definition
        raw = located.raw if isinstance(located.raw, dict) else {}
        if pattern.within is not None:
            try:
                parse_duration(pattern.within)
            except DurationError as error:
                yield Finding(located.at("within"), say("PF541.within", detail=error))
        if pattern.with_open is not None:
            for key in ("count", "within", "same"):
                if key in raw:
                    yield Finding(
                        located.at(key, key=True),
                        say("PF541.with_open", key=key),
                    )
        elif pattern.count > 1 and pattern.within is None:
            yield Finding(
                located.at("count"),
                say("PF541.needs_within", count=pattern.count),
            )
        elif pattern.count == 1 and "within" in raw:
            yield Finding(
                located.at("within", key=True),
                say("PF541.one_entry"),
            )
        if pattern.calendar is not None and (pattern.window is None or not pattern.window.working):
            yield Finding(
                located.at("calendar", key=True),
                say("PF541.calendar"),
            )
        for index, action in enumerate(pattern.actions):
            if isinstance(action, Link) and pattern.with_open is None and pattern.count == 1:
                yield Finding(
                    located.at("actions", index),
                    say("PF541.link"),
                )
