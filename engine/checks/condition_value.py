"""Impossible comparison in a condition (PF112): a comparison can never be true as written.

Comparing an enum field to a value it cannot hold (``urgency == 'urgnt'`` when the values
are ``urgent`` and ``general``), a role or state that does not exist, or ordering text and
true/false values (``scope < 3``) makes the condition constant, which is never what the
author meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.condition_name import problems
from engine.diagnostics import Severity
from engine.io.library import Library

CODE = "PF112"
NAME = "condition-value"
SEVERITY = Severity.ERROR

KINDS = frozenset({"impossible-value", "type-mismatch"})


def check(library: Library) -> Iterator[Finding]:
    yield from problems(library, KINDS)
