"""Warning before the clock starts (PF207): a warning given as a length before the deadline
is as long as the limit itself, or longer.

`warn: [2 workdays]` on a `limit: 1 workday` asks for a warning a day before the clock
started: it can never be sent, and is silently dropped at run time. Give a shorter length,
or a share of the limit (`80%`). Only lengths in the limit's unit are compared.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.durations import Duration, parse_warning
from engine.model.rules import try_parse

CODE = "PF207"
NAME = "warning-before-start"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for located in library.time_limits:
        limit = located.definition
        length = limit.limit_duration
        if length is None or limit.limit is None:
            continue
        for index, text in enumerate(limit.warn):
            warning = try_parse(parse_warning, text)
            if (
                isinstance(warning, Duration)
                and warning.unit == length.unit
                and warning.amount >= length.amount
            ):
                yield Finding(
                    located.at("warn", index),
                    say("PF207.too_early", warning=warning, limit=limit.id, length=limit.limit),
                )
