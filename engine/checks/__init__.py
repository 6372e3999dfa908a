"""The validator's semantic checks, one module per check with a stable code.

Each module (modelled on yamllint's rules) has ``CODE``, ``NAME``, ``SEVERITY``, a docstring
whose first paragraph is the one-line summary and the rest the explanation published in
``docs/checks.md``, and a ``check(library)`` generator. The list below is explicit so the
order of output, and the set of codes, never depends on the file system.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable
from types import ModuleType

from engine.checks import (
    anchor_field,
    bad_duration,
    condition_name,
    condition_syntax,
    condition_value,
    dead_end_state,
    duplicate_id,
    field_value,
    final_state_exit,
    holiday_coverage,
    initial_state,
    link_cycle,
    link_data,
    link_each,
    link_process,
    missing_label,
    quota_figures,
    quota_reference,
    schedule_reference,
    schedule_timing,
    signal_target,
    undefined_calendar,
    undefined_event,
    undefined_field,
    undefined_process,
    undefined_role,
    undefined_state,
    unreachable_state,
)
from engine.diagnostics import Diagnostic
from engine.loading import PARALLEL_MIN_FILES, Library, forked, gc_paused

CHECKS: tuple[ModuleType, ...] = (
    initial_state,
    undefined_state,
    undefined_event,
    undefined_role,
    undefined_field,
    unreachable_state,
    dead_end_state,
    final_state_exit,
    condition_syntax,
    condition_name,
    condition_value,
    field_value,
    bad_duration,
    anchor_field,
    undefined_calendar,
    holiday_coverage,
    undefined_process,
    duplicate_id,
    missing_label,
    link_process,
    link_data,
    link_each,
    link_cycle,
    signal_target,
    schedule_reference,
    schedule_timing,
    quota_reference,
    quota_figures,
)


#: Checks run in a forked process beside the others on a large library (see
#: :func:`run_checks`): the condition checks, which share one survey of every condition, and
#: two more, so that the two halves cost about the same (measured on the benchmark set).
FORKED: frozenset[ModuleType] = frozenset(
    {condition_syntax, condition_name, condition_value, field_value, missing_label}
)


def run_checks(library: Library) -> list[Diagnostic]:
    """Every finding of every check on ``library``, as diagnostics, in the order of
    :data:`CHECKS`.

    A library of :data:`~engine.loading.PARALLEL_MIN_FILES` files or more is checked on two
    cores: a forked process runs the :data:`FORKED` checks while this one runs the others.
    """
    with gc_paused():
        if len(library.files) < PARALLEL_MIN_FILES:
            return list(itertools.chain.from_iterable(_run(CHECKS, library)))
        aside = forked(functools.partial(_run, [m for m in CHECKS if m in FORKED], library))
        here = iter(_run([m for m in CHECKS if m not in FORKED], library))
        there = iter(aside())
    return [d for module in CHECKS for d in next(there if module in FORKED else here)]


def _run(modules: Iterable[ModuleType], library: Library) -> list[list[Diagnostic]]:
    """The diagnostics of each of ``modules`` on ``library``, check by check."""
    return [
        [
            Diagnostic(module.CODE, module.SEVERITY, finding.message, finding.span, finding.also)
            for finding in module.check(library)
        ]
        for module in modules
    ]
