"""Unknown name in a condition (PF111): a condition uses a name that is not declared.

A condition may use the process's fields (``urgency``), ``payload.FIELD`` (the event's
payload), ``actor.id``, ``actor.role``, ``actor.roles`` and ``state``. Any other name is a
typo or a field that was never declared, and the guard would never behave as intended.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.conditions_common import ConditionSite, condition_sites
from engine.conditions import ConditionProblem as Problem
from engine.conditions import check_condition
from engine.diagnostics import Severity
from engine.loading import Library

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


#: The last library checked, by weak reference, with what identifies its definitions and
#: the checker's problems: PF111 and PF112 run the checker over the same conditions one
#: after the other, and this lets them share one run.
_last: tuple[weakref.ref[Library], tuple[int, ...], list[tuple[ConditionSite, Problem]]] | None
_last = None


def _checked(library: Library) -> list[tuple[ConditionSite, Problem]]:
    """Every problem of every parsed condition of ``library``, with its site."""
    global _last
    # The definitions are immutable, and alive while the library is, so their identities
    # tell whether the library still holds the ones checked last.
    identity = (*map(id, library.processes), *map(id, library.time_limits))
    last = _last
    if last is not None and last[0]() is library and last[1] == identity:
        return last[2]
    found = [
        (site, problem)
        for site in condition_sites(library)
        if site.guard is not None  # PF110 reports the others
        for problem in check_condition(site.guard, site.scope)
    ]
    _last = (weakref.ref(library), identity, found)
    return found
