"""Condition syntax (PF110): an ``if:`` condition is not a valid expression.

Conditions use one small language: comparisons (``==``, ``!=``, ``<`` ...), ``in`` and
``not in``, ``and``/``or``/``not``, parentheses, quoted text, numbers, ``true``/``false``/
``null`` and lists. There are no function calls and no attribute access beyond ``actor.``
and ``payload.``: the language cannot run code. The caret points at the first character
the parser could not accept.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.conditions_common import condition_sites
from engine.conditions import ConditionSyntaxError, parse_condition
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import say
from engine.io.library import Library

CODE = "PF110"
NAME = "condition-syntax"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    if not _any_unparsed(library):
        return  # every condition parsed when its definition was built
    for site in condition_sites(library):
        if site.guard is not None:
            continue  # it parsed when the definition was built
        try:
            parse_condition(site.text)
        except ConditionSyntaxError as error:
            span = site.located.source_map.locate_in_text(
                (*site.located.base, *site.path), error.offset
            )
            yield Finding(span, say("PF110.bad", detail=error.message))


def _any_unparsed(library: Library) -> bool:
    """Whether any condition of the library failed to parse (its guard is missing)."""
    for located in library.processes:
        for event in located.definition.events.values():
            if event.condition is not None and event.guard is None:
                return True
    if any(
        located.definition.condition is not None and located.definition.guard is None
        for located in library.time_limits
    ):
        return True
    if any(
        (watched := located.definition.while_in_estate) is not None
        and watched.condition is not None
        and watched.guard is None
        for located in library.schedules
    ):
        return True
    return any(
        guard is None
        for located in library.kpis
        for _text, guard in located.definition.conditions().values()
    )
