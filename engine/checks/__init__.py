"""The validator's semantic checks, one module per check with a stable code.

Each module (modelled on yamllint's rules) has ``CODE``, ``NAME``, ``SEVERITY``, a docstring
whose first paragraph is the one-line summary and the rest the explanation published in
``docs/checks.md``, and a ``check(library)`` generator. The list below is explicit so the
order of output, and the set of codes, never depends on the file system.
"""

from __future__ import annotations

from types import ModuleType

from engine.checks import (
    anchor_field,
    bad_duration,
    calendar_hours,
    condition_name,
    condition_syntax,
    condition_value,
    dead_end_state,
    duplicate_id,
    field_bounds,
    field_value,
    final_state_exit,
    fire_role,
    holiday_coverage,
    initial_state,
    kpi_reference,
    limit_words,
    link_cycle,
    link_data,
    link_each,
    link_process,
    missing_label,
    party_field,
    pattern_reference,
    pattern_window,
    quota_figures,
    quota_reference,
    schedule_reference,
    schedule_timing,
    signal_loop,
    signal_target,
    state_mapping,
    tier_order,
    undefined_calendar,
    undefined_event,
    undefined_field,
    undefined_process,
    undefined_role,
    undefined_state,
    unknown_timezone,
    unreachable_state,
    warning_before_start,
)
from engine.diagnostics import Diagnostic
from engine.io.library import Library

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
    field_bounds,
    fire_role,
    party_field,
    bad_duration,
    anchor_field,
    undefined_calendar,
    holiday_coverage,
    unknown_timezone,
    calendar_hours,
    tier_order,
    warning_before_start,
    limit_words,
    undefined_process,
    duplicate_id,
    missing_label,
    link_process,
    link_data,
    link_each,
    link_cycle,
    signal_target,
    signal_loop,
    schedule_reference,
    schedule_timing,
    quota_reference,
    quota_figures,
    kpi_reference,
    pattern_reference,
    pattern_window,
    state_mapping,
)


#: The sections of a definition each check's verdicts rest on. In a file whose broken
#: items were cut out (``Library.incomplete``, see engine/io/recovery.py), a check resting on
#: a section that lost items would report follow-on errors (a role "not defined" because
#: ``roles:`` was cut), so it is not reported there.
RELIES_ON: dict[ModuleType, frozenset[str]] = {
    initial_state: frozenset({"states"}),
    undefined_state: frozenset({"states"}),
    undefined_event: frozenset({"events"}),
    undefined_role: frozenset({"roles"}),
    undefined_field: frozenset({"fields"}),
    unreachable_state: frozenset({"states", "events"}),
    dead_end_state: frozenset({"states", "events"}),
    condition_name: frozenset({"fields", "roles", "states"}),
    condition_value: frozenset({"fields", "roles", "states"}),
    fire_role: frozenset({"roles", "events"}),
    party_field: frozenset({"fields"}),
    anchor_field: frozenset({"fields"}),
    link_data: frozenset({"fields"}),
    link_each: frozenset({"fields"}),
    signal_target: frozenset({"events"}),
    undefined_calendar: frozenset({"calendars"}),
}


def run_checks(library: Library) -> list[Diagnostic]:
    """Every finding of every check on ``library``, as diagnostics, in the order of
    :data:`CHECKS`, less the follow-ons of cut-out items (see :data:`RELIES_ON`)."""
    return [
        Diagnostic(module.CODE, module.SEVERITY, finding.message, finding.span, finding.also)
        for module in CHECKS
        for finding in module.check(library)
        if not RELIES_ON.get(module, frozenset())
        & library.incomplete.get(finding.span.file, frozenset())
    ]
