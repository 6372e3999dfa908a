"""A process definition compiled for running: one ``transitions`` machine per definition.

The machine is built once per definition version and shared by every case of it: an event is
run for a light model holding the case's state, never attached to the machine, which is what
keeps memory flat however many cases the store holds (building a machine per case is five
times slower). Entry and exit callbacks collect the states' actions so the engine can record
and apply them in the event's transaction. What the machine makes of an event depends only on
the state it starts from (no conditions, and the callbacks collect fixed actions), so it is
run once per state and event and its answer kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from transitions import EventData, Machine, Transition

from engine.model import Action, ProcessDef
from engine.runtime.forms import Form


@dataclass
class CaseModel:
    """What ``transitions`` moves: a case's state, plus the actions its callbacks collect."""

    state: str
    actions: list[tuple[str, Action]] = field(default_factory=list)


class Move(NamedTuple):
    """Where an event takes a case, and the states' actions on the way (exit, then enter)."""

    state: str
    actions: tuple[tuple[str, Action], ...]


class CompiledProcess:
    """A definition ready to run: its machine, its form and lookups the engine needs."""

    def __init__(self, process: ProcessDef) -> None:
        self.process = process
        self.form = Form(process)
        initial = process.initial_states[0]
        # A state without actions gets no callback: transitions resolves and calls each one on
        # every transition, and most states have none.
        states = [
            {
                "name": sid,
                "on_enter": [self._collector("enter", state.on_enter)] if state.on_enter else [],
                "on_exit": [self._collector("exit", state.on_exit)] if state.on_exit else [],
            }
            for sid, state in process.states.items()
        ]
        transitions = [
            {"trigger": eid, "source": list(event.sources), "dest": event.target}
            for eid, event in process.events.items()
        ]
        self.machine = Machine(
            model=None,
            states=states,
            transitions=transitions,
            initial=initial,
            auto_transitions=False,
            send_event=True,
        )
        self.initial = initial
        #: The machine's transition of each (state, event): the one a trigger would find.
        self._transitions: dict[tuple[str, str], Transition] = {
            (source, eid): found[0]
            for eid, machine_event in self.machine.events.items()
            for source, found in machine_event.transitions.items()
        }
        #: :meth:`step`'s answers, by (state, event), as cases come to them.
        self._moves: dict[tuple[str, str], Move] = {}
        #: :meth:`recorded`'s answers, by the action's identity (the action kept with its
        #: answer, so that its identity is never another's).
        self._recorded: dict[int, tuple[Action, Mapping[str, Any]]] = {}

    @staticmethod
    def _collector(hook: str, actions: tuple[Action, ...]) -> Any:
        def collect(event_data: Any) -> None:
            model: CaseModel = event_data.model
            model.actions.extend((hook, action) for action in actions)

        return collect

    def step(self, state: str, event: str) -> Move:
        """Where ``event`` takes a case in ``state`` (the caller checked it is allowed),
        worked out by the machine the first time a case of this definition meets the pair
        and kept: see the module docstring."""
        found = self._moves.get((state, event))
        if found is None:
            model = self._run(state, event)
            found = self._moves[state, event] = Move(model.state, tuple(model.actions))
        return found

    def _run(self, state: str, event: str) -> CaseModel:
        """Run ``event`` from ``state`` through the machine.

        The event's transition from ``state`` is executed on the shared machine for a model
        that is never attached: ``add_model`` would bind a method per event to every model,
        and nothing here needs those methods. The transition is executed as
        ``Event.trigger`` would after finding it; what the trigger does around that (the
        machine's event queue, its prepare and finalize callbacks, looking the transition up
        among the event's) serves nothing this machine has: it is built without a queue,
        machine callbacks or conditions.
        """
        model = CaseModel(state=state)
        machine = self.machine
        machine_event = machine.events[event]
        event_data = EventData(machine.get_state(state), machine_event, machine, model, (), {})
        transition = self._transitions[state, event]
        event_data.transition = transition
        transition.execute(event_data)
        return model

    def recorded(self, action: Action) -> Mapping[str, Any]:
        """``action`` as the log records it (its JSON form, unset options left out). An
        action is immutable and runs again on every case that comes its way: its form is
        worked out once, and shared (read only: a log record copies it into its own)."""
        found = self._recorded.get(id(action))
        if found is None:
            found = self._recorded[id(action)] = (
                action,
                action.model_dump(mode="json", exclude_none=True),
            )
        return found[1]

    def enter_initial(self) -> list[tuple[str, Action]]:
        """The initial state's entry actions, run when a case is opened."""
        state = self.process.states[self.initial]
        return [("enter", action) for action in state.on_enter]
