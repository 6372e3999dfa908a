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
from engine.loading import Library

CODE = "PF110"
NAME = "condition-syntax"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for site in condition_sites(library):
        try:
            parse_condition(site.text)
        except ConditionSyntaxError as error:
            span = site.located.source_map.locate_in_text(
                (*site.located.base, *site.path), error.offset
            )
            yield Finding(span, f"bad condition: {error.message}")
