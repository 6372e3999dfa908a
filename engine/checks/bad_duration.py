"""Bad duration (PF120): a time limit's ``limit``, ``deadline``, ``every``, ``warn`` or tier
``after`` cannot be read.

Durations are written ``30m``, ``24h``, ``3d``, ``2w``, ``3 workdays``, ``4 workhours`` or in
ISO 8601 (``PT24H``); anchored deadlines as ``20d before handover_date``; warnings as a
percentage of the limit (``80%``) or a duration before the deadline. Months and years are
refused because their length varies: write days or working days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.io.yamlsource import JsonPath
from engine.model.durations import DurationError, parse_anchored, parse_duration, parse_warning

CODE = "PF120"
NAME = "bad-duration"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.time_limits:
        limit = located.definition
        fields: list[tuple[JsonPath, str | None, Callable[[str], Any]]] = [
            (("limit",), limit.limit, parse_duration),
            (("every",), limit.every, parse_duration),
            (("deadline",), limit.deadline, parse_anchored),
        ]
        fields += [(("warn", i), text, parse_warning) for i, text in enumerate(limit.warn)]
        fields += [
            (("tiers", i, "after"), tier.after, parse_duration)
            for i, tier in enumerate(limit.tiers)
        ]
        for path, text, parser in fields:
            if text is None:
                continue
            try:
                parser(text)
            except DurationError as error:
                span = located.source_map.locate_in_text((*located.base, *path), error.offset)
                yield Finding(span, say("PF120.bad", text=text, detail=error.message))
