"""The demo: a few cases of each shipped process, walked on a simulated clock.

It is the README's "main job": a new user sees the engine open cases, refuse what the
procedure forbids and keep an audit trail, in a SQLite file they can then inspect with
``propflow case list``. The walks are scenario files (``demo_walks/`` beside this module,
shipped with the package), so each reads like the procedure it shows and ``propflow test``
checks that they still walk, refusals included; the demo runs their steps on the user's store
instead of a throwaway one, and prints each step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.diagnostics import Severity
from engine.diagnostics.language import current_language
from engine.model import localized
from engine.runtime import Actor, Case, Engine, EventRefused, ManualClock
from engine.scenarios import Scenario, load_scenario
from engine.scenarios.model import FireEvent, OpenCase

#: The demo's scenario files, run in the order of their names.
WALKS_DIR = Path(__file__).with_name("demo_walks")

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Sunday evening 8 February 2026 in Shanghai; the first walk starts on Monday morning, the
#: week before the Spring Festival.
DEMO_START = datetime(2026, 2, 8, 18, 0, tzinfo=SHANGHAI)


def walks() -> list[Scenario]:
    """Every demo walk, in the order they are shown.

    A walk that does not read as a scenario is a bug in the package, so it raises.
    """
    loaded: list[Scenario] = []
    for path in sorted(WALKS_DIR.glob("*.yaml")):
        scenario, diagnostics = load_scenario(path)
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        if scenario is None or errors:
            raise RuntimeError(f"demo walk {path.name} is broken: {errors}")
        loaded.append(scenario)
    return loaded


class Outcome(StrEnum):
    """What became of one step of a walk (its words are the catalogue's ``demo.VALUE``)."""

    OPENED = "opened"
    MOVED = "moved"
    #: A refusal the walk provokes on purpose, to show what the procedure forbids.
    REFUSED_AS_EXPECTED = "refused_as_expected"
    #: A case the step opened by a link (a defect sent to warranty repair, say).
    LINKED = "linked"


@dataclass(frozen=True)
class DemoStep:
    """One line of a walk: when, which event, by whom, what came of it and the state (or
    the refusal's reason, or the linked case) it led to."""

    at: datetime
    event: str
    actor: str
    outcome: Outcome
    text: str


@dataclass
class DemoWalk:
    """One walk as it ran: its case and every step."""

    title: str
    process: str
    process_label: str
    case_id: str
    steps: list[DemoStep] = field(default_factory=list)


def run_demo(engine: Engine, clock: ManualClock) -> Iterator[DemoWalk]:
    """Walk every demo case on ``engine``; yield each walk once it has run."""
    for walk in walks():
        shown: DemoWalk | None = None
        cases: dict[str, Case] = {}
        for step in walk.steps:
            clock.set(step.at)
            action = step.action
            if not isinstance(action, OpenCase | FireEvent):
                raise RuntimeError(f"demo walk {walk.file}: the demo only opens and fires")
            actor = Actor(action.actor, set(walk.actors[action.actor]))
            if isinstance(action, OpenCase):
                case = engine.open_case(action.process, dict(action.data), actor)
                cases[action.alias] = case
                lang = current_language()
                label = localized(engine.definition(case.process).title, case.process, lang)
                shown = DemoWalk(localized(walk.title, walk.id, lang), case.process, label, case.id)
                shown.steps.append(
                    DemoStep(clock.now(), "open", actor.id, Outcome.OPENED, _state(engine, case))
                )
                continue
            assert shown is not None, f"demo walk {walk.file} fires before it opens"
            linked = {link.case_id for link in engine.links(cases[action.alias].id)}
            try:
                case = engine.fire(
                    cases[action.alias].id, action.event, actor, dict(action.payload)
                )
            except EventRefused as refusal:
                if step.refusal is None:
                    raise
                refused = Outcome.REFUSED_AS_EXPECTED
                shown.steps.append(
                    DemoStep(clock.now(), action.event, actor.id, refused, refusal.reason)
                )
                continue
            cases[action.alias] = case
            shown.steps.append(
                DemoStep(clock.now(), action.event, actor.id, Outcome.MOVED, _state(engine, case))
            )
            for link in engine.links(case.id):
                if link.case_id not in linked:
                    text = f"{link.process} {link.case_id} ({link.kind})"
                    shown.steps.append(
                        DemoStep(clock.now(), action.event, actor.id, Outcome.LINKED, text)
                    )
        if shown is not None:
            yield shown


def _state(engine: Engine, case: Case) -> str:
    definition = engine.definition(case.process)
    return localized(definition.states[case.state].label, case.state, current_language())
