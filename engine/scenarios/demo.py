"""The demo: a few cases of each shipped process, walked on a simulated clock.

It is the README's "main job": a new user sees the engine open cases, refuse what the
procedure forbids and keep an audit trail, in a SQLite file they can then inspect with
``propflow case list``. The walks are scenario files (``demo_walks/`` beside this module,
shipped with the package), so each reads like the procedure it shows and ``propflow test``
checks that they still walk, refusals included; the demo runs their steps on the user's store
instead of a throwaway one, and prints each step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.diagnostics import Severity
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


def run_demo(engine: Engine, clock: ManualClock, say: Callable[[str], None]) -> Iterator[str]:
    """Walk every demo case, reporting each step through ``say``; yield the case ids."""
    for walk in walks():
        title = localized(walk.title, walk.id, "en")
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
                label = localized(engine.definition(case.process).title, case.process)
                say("")
                say(f"== {label} {case.process}: {title}")
                say(f"   case {case.id}")
                say(_line(clock, "open", actor, "", _state(engine, case)))
                yield case.id
            else:
                try:
                    case = engine.fire(
                        cases[action.alias].id, action.event, actor, dict(action.payload)
                    )
                except EventRefused as refusal:
                    if step.refusal is None:
                        raise
                    say(_line(clock, action.event, actor, "refused", refusal.reason))
                    continue
                cases[action.alias] = case
                say(_line(clock, action.event, actor, "->", _state(engine, case)))


def _state(engine: Engine, case: Case) -> str:
    definition = engine.definition(case.process)
    return localized(definition.states[case.state].label, case.state)


def _line(clock: ManualClock, event: str, actor: Actor, arrow: str, text: str) -> str:
    at = clock.now().astimezone(SHANGHAI).strftime("%m-%d %H:%M")
    return f"   {at}  {event:<18} {actor.id:<10} {arrow:>7} {text}"
