"""Checking a scenario against the definitions it runs on, before anything runs.

A scenario that names an event its case's process lacks, a state, field or time limit that
does not exist, or a role no process declares would otherwise fail halfway through with a
runtime refusal that hides the typo. Each such name is reported here at its own
file:line:column, with the nearest existing name; values of form fields are checked against
their types the way the engine will check them. Payloads of steps that expect a refusal are
left alone: a scenario may send a bad value on purpose to see it refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.checks.base import kind_of, not_a
from engine.diagnostics import Diagnostic, Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.yamlsource import JsonPath
from engine.model import ProcessDef
from engine.model.process import SYSTEM_ROLE
from engine.runtime import Engine
from engine.runtime.forms import Form
from engine.runtime.migration import EVENT
from engine.runtime.patterns import PATTERN_ENTRY
from engine.scenarios.model import (
    Expect,
    ExtendLimit,
    FireEvent,
    MigrateCases,
    OpenCase,
    Scenario,
    Step,
)

REFERENCE = "PF605"
VALUE = "PF606"

#: Audit-trail entries the engine writes itself, as ``kind:time-limit`` (``breach:repair-urgent``).
TIMER_ENTRIES = ("breach", "warning", "tier", "due", "extend")
#: The entry of a case moved to new definitions (engine/runtime/migration.py).
MIGRATE_ENTRY = EVENT


class _Checker:
    def __init__(self, scenario: Scenario, engine: Engine) -> None:
        self.scenario = scenario
        self.engine = engine
        self.diagnostics: list[Diagnostic] = []
        self.forms: dict[str, Form] = {}

    def error(self, code: str, message: str, path: JsonPath, *, key: bool = False) -> None:
        span = self.scenario.span(path, key=key)
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span))

    def process(self, name: str) -> ProcessDef | None:
        return self.engine.definition(name) if name in self.engine.processes else None

    def form(self, process: ProcessDef) -> Form:
        if process.id not in self.forms:
            self.forms[process.id] = Form(process)
        return self.forms[process.id]

    # -- the scenario ------------------------------------------------------------------------

    def run(self) -> list[Diagnostic]:
        roles = {
            role
            for name in self.engine.processes
            for role in self.engine.definition(name).roles
            if role != SYSTEM_ROLE
        }
        for actor, held in self.scenario.actors.items():
            for index, role in enumerate(held):
                if role == SYSTEM_ROLE:
                    self.error(
                        REFERENCE,
                        say("PF605.system", actor=actor, system=SYSTEM_ROLE),
                        ("actors", actor, index),
                    )
                elif role not in roles:
                    self.error(
                        REFERENCE,
                        say(
                            "PF605.role_of_none", role=role, actor=actor, hint=suggest(role, roles)
                        ),
                        ("actors", actor, index),
                    )
        for step in self.scenario.steps:
            self.step(step)
        return self.diagnostics

    def step(self, step: Step) -> None:
        action = step.action
        lenient = step.refusal is not None
        if isinstance(action, MigrateCases):  # its estate is validated when the step runs
            return
        if isinstance(action, OpenCase):
            where: JsonPath = (*step.path, "open")
            process = self.process(action.process)
            if process is None:
                self.error(
                    REFERENCE,
                    say(
                        "PF605.process",
                        process=action.process,
                        hint=suggest(action.process, self.engine.processes),
                    ),
                    (*where, "process"),
                )
                return
            self.values(process, action.data, (*where, "data"), check_values=not lenient)
            return
        process = self.process(self.scenario.cases.get(action.alias or "", ""))
        if process is None:  # its open step was reported already
            return
        if isinstance(action, FireEvent):
            where = (*step.path, "fire")
            if action.event not in process.events:
                self.error(
                    REFERENCE,
                    say(
                        "PF103.event",
                        name=action.event,
                        process=process.id,
                        hint=suggest(action.event, process.events),
                    ),
                    (*where, "event"),
                )
            self.values(process, action.payload, (*where, "payload"), check_values=not lenient)
        elif isinstance(action, ExtendLimit):
            self.limit(process, action.limit, (*step.path, "extend", "limit"))
        elif isinstance(action, Expect):
            self.expect(process, action, (*step.path, "expect"))

    def expect(self, process: ProcessDef, expect: Expect, where: JsonPath) -> None:
        if expect.state is not None and expect.state not in process.states:
            self.error(
                REFERENCE,
                say(
                    "PF102.state",
                    name=expect.state,
                    process=process.id,
                    hint=suggest(expect.state, process.states),
                ),
                (*where, "state"),
            )
        self.values(process, expect.data, (*where, "data"), check_values=True)
        if expect.assignee is not None:
            self.role(process, expect.assignee, (*where, "assignee"))
        for clock in expect.clocks:
            self.limit(process, clock.limit, clock.path, key=True)
        for item in expect.outbox or ():
            if item.role is not None:
                self.role(process, item.role, (*item.path, "role"))
        for index, entry in enumerate(expect.history or ()):
            self.history_entry(process, entry, (*where, "history", index))
        for pattern in expect.patterns or {}:
            self.pattern(pattern, (*where, "patterns", pattern), key=True)

    # -- names -------------------------------------------------------------------------------

    def values(
        self,
        process: ProcessDef,
        values: Mapping[str, Any],
        where: JsonPath,
        *,
        check_values: bool,
    ) -> None:
        form = self.form(process)
        for name, value in values.items():
            if name not in process.fields:
                if check_values:
                    self.error(
                        REFERENCE,
                        say(
                            "PF605.field",
                            field=name,
                            process=process.id,
                            hint=suggest(name, process.fields),
                        ),
                        (*where, name),
                        key=True,
                    )
                continue
            if not check_values:
                continue
            _, problems = form.validate({name: value})
            for problem in problems:
                self.error(VALUE, problem, (*where, name))

    def limit(self, process: ProcessDef, limit: str, where: JsonPath, *, key: bool = False) -> None:
        limits = [t.id for t in self.engine.time_limits(process.id)]
        if limit not in limits:
            self.error(
                REFERENCE,
                say("PF605.limit", limit=limit, process=process.id, hint=suggest(limit, limits)),
                where,
                key=key,
            )

    def role(self, process: ProcessDef, role: str, where: JsonPath) -> None:
        if role not in process.roles:
            self.error(
                REFERENCE,
                say("PF605.role", role=role, process=process.id, hint=suggest(role, process.roles)),
                where,
            )

    def pattern(self, pattern: str, where: JsonPath, *, key: bool = False) -> None:
        known = [located.definition.id for located in self.engine.library.patterns]
        if pattern not in known:
            self.error(
                REFERENCE,
                say("PF605.pattern", pattern=pattern, hint=suggest(pattern, known)),
                where,
                key=key,
            )

    def history_entry(self, process: ProcessDef, entry: str, where: JsonPath) -> None:
        kind, _, limit = entry.partition(":")
        if kind == PATTERN_ENTRY and limit:
            self.pattern(limit, where)
            return
        if limit:
            if kind not in TIMER_ENTRIES:
                self.error(
                    REFERENCE,
                    say(
                        "PF605.timer_entry",
                        entry=entry,
                        entries=", ".join(f"{k}:LIMIT" for k in TIMER_ENTRIES),
                        hint=suggest(kind, TIMER_ENTRIES, list_all=False),
                    ),
                    where,
                )
                return
            self.limit(process, limit, where)
            return
        if entry not in ("open", MIGRATE_ENTRY) and entry not in process.events:
            self.error(
                REFERENCE,
                not_a(entry, kind_of("event", process), [*process.events, "open"]),
                where,
            )


def check_scenario(scenario: Scenario, engine: Engine) -> list[Diagnostic]:
    """Every name the scenario uses that the engine's definitions lack, at its position."""
    return _Checker(scenario, engine).run()
