"""Unknown name in a condition (PF111): a condition uses a name that is not declared.

A condition may use the process's fields (``urgency``), ``payload.FIELD`` (the event's
payload), ``actor.id``, ``actor.role``, ``actor.roles`` and ``state``. Any other name is a
typo or a field that was never declared, and the guard would never behave as intended. The
message names the nearest names, and all of them when there are few.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding, once_per_library
from engine.checks.conditions_common import ConditionSite, condition_sites
from engine.conditions import ConditionProblem as Problem
from engine.conditions import check_condition
from engine.diagnostics import Severity
from engine.io.library import Library

CODE = "PF111"
NAME = "condition-name"
SEVERITY = Severity.ERROR

#: The problem kinds this check reports; PF112 reports the others.
KINDS = frozenset({"unknown-name"})


def check(library: Library) -> Iterator[Finding]:
    yield from problems(library, KINDS)


def problems(library: Library, kinds: frozenset[str]) -> Iterator[Finding]:
    """Findings of the condition checker restricted to ``kinds`` (shared with PF112)."""
    for site, problem in _checked(library):
        if problem.kind in kinds:
            span = site.located.source_map.locate_in_text(
                (*site.located.base, *site.path), problem.offset
            )
            yield Finding(span, problem.message)


@once_per_library
def _checked(library: Library) -> list[tuple[ConditionSite, Problem]]:
    """Every problem of every parsed condition of ``library``, with its site (PF111 and
    PF112 report different kinds of them, from one run of the checker)."""
    return [
        (site, problem)
        for site in condition_sites(library)
        if site.guard is not None  # PF110 reports the others
        for problem in check_condition(site.guard, site.scope)
    ]
