"""Scenarios: an estate's configuration tested as stories in simulated time.

A scenario file (``estates/<name>/scenarios/*.yaml``) tells what people do to cases and when,
and what must be true at each moment: the state, field values, the assignee, time-limit
clocks, notifications and the audit trail. ``propflow test`` runs them on an in-memory store
with a manual clock, so days of deadlines, warnings, breaches and escalations pass in
milliseconds; ``propflow simulate`` prints everything that happened on the way.
"""

from engine.scenarios.checker import check_scenario
from engine.scenarios.loader import enclosing_estate, find_scenarios, load_scenario
from engine.scenarios.model import Scenario, Step
from engine.scenarios.runner import (
    Difference,
    EstateCache,
    Happening,
    ScenarioResult,
    run_file,
    show_time,
)

__all__ = [
    "Difference",
    "EstateCache",
    "Happening",
    "Scenario",
    "ScenarioResult",
    "Step",
    "check_scenario",
    "enclosing_estate",
    "find_scenarios",
    "load_scenario",
    "run_file",
    "show_time",
]
