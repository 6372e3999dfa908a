"""The shortcuts that make interpreting an event cheap give the answers of the long way round.

Interpreting an event skips work whose result is known (benchmarks/bench_runtime.py, the
in-memory figure): the SLA planner asks only the time limits a moment may start or change,
and typing a case's data for conditions skips the fields stored as they are typed. Each test
here compares a shortcut with the plain computation it replaces, on the shipped library or on
every kind of field value.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from engine.conditions import Compare, EvalContext, ListLiteral, Literal, evaluate, parse_condition
from engine.conditions.evaluator import values_equal
from engine.model import TimeLimitDef
from engine.runtime import Engine, ManualClock
from engine.runtime.forms import Form
from engine.runtime.machine import CompiledProcess
from engine.sla import Moment, SlaPlanner, hits
from engine.store import ClockChange, ClockRecord
from tests.conftest import validated_library

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

#: Values of every shape a case's data or a payload may hold, valid for some field kinds and
#: not for others (typing keeps a value its field's type refuses).
ODD_VALUES: list[Any] = [
    None,
    "",
    "text",
    "urgent",
    "13800138000",
    "12.50",
    "2026-03-02",
    "2026-03-02T09:00+08:00",
    "2026-03-02T09:00",
    0,
    7,
    -3,
    10**20,
    1.5,
    True,
    False,
    Decimal("3.10"),
    ["a", "b"],
    [],
    ["12.50"],
    {"a": 1},
    ("a",),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(validated_library(), store="sqlite://", clock=ManualClock(START))


def typed_field_by_field(form: Form, data: Mapping[str, Any]) -> dict[str, Any]:
    """Typing as defined: each value through its field's validator, kept when refused."""
    result: dict[str, Any] = {}
    for name, value in data.items():
        adapter = form._adapters.get(name)
        if adapter is None or value is None:
            result[name] = value
            continue
        try:
            result[name] = adapter.validate_python(value)
        except ValidationError:
            result[name] = value
    return result


def test_typing_case_data_equals_validating_every_field(engine: Engine) -> None:
    checked: set[str] = set()
    for process_id in engine.processes:
        process = engine.definition(process_id)
        form = Form(process)
        for value in ODD_VALUES:
            data = {name: value for name in process.fields} | {"not_a_field": value}
            typed = form.typed(data)
            assert typed == typed_field_by_field(form, data)
            assert list(typed) == list(data)
            assert [type(v) for v in typed.values()] == [
                type(v) for v in typed_field_by_field(form, data).values()
            ]
        checked |= {field.type for field in process.fields.values()}
    assert checked >= {"text", "enum", "bool", "int", "money", "date", "datetime", "phone"}


def react_every_limit(
    planner: SlaPlanner, clocks: Mapping[str, ClockRecord], moment: Moment
) -> list[ClockChange]:
    """Every limit asked, each evaluating its own condition: what SlaPlanner.react stands for."""
    changes = []
    for limit_id, limit in planner.limits.items():
        change = limit.react("c1", clocks.get(limit_id), moment)
        if change is not None:
            changes.append(change)
    return changes


def triggers_hit(limit: TimeLimitDef, moment: Moment) -> tuple[bool, bool, bool]:
    """LimitPlanner.triggered as its docstring defines it, worked out afresh."""
    if limit.every is not None:
        assert limit.while_in is not None
        starts = moment.to_state in limit.while_in.states
    else:
        starts = hits(limit.start, moment) or (limit.start is None and moment.event == "open")
    return starts, hits(limit.stop, moment), hits(limit.reset, moment)


def random_data(engine: Engine, process_id: str, rnd: random.Random) -> dict[str, Any]:
    process = engine.definition(process_id)
    data: dict[str, Any] = {}
    for name, field in process.fields.items():
        if rnd.random() < 0.3:
            continue
        if field.type == "enum":
            data[name] = rnd.choice([*field.values, None])
        elif field.type == "bool":
            data[name] = rnd.choice([True, False])
        elif field.type in ("int", "money"):
            data[name] = rnd.choice([0, 5, 150, 2000])
        elif field.type == "date":
            data[name] = (START + timedelta(days=rnd.randint(-5, 60))).date()
        elif field.type == "datetime":
            data[name] = START + timedelta(hours=rnd.randint(-50, 900))
        else:
            data[name] = rnd.choice(["leak", "drain", "light", "x", ""])
    return data


def random_clocks(
    planner: SlaPlanner, moment: Moment, rnd: random.Random
) -> dict[str, ClockRecord]:
    """Each limit's clock idle, stopped, running or paused, with a plan of its own."""
    clocks = {}
    for limit_id, limit in planner.limits.items():
        status = rnd.choice(["none", "stopped", "running", "paused"])
        if status == "none":
            continue
        started = limit.start("c1", moment).clock
        assert started is not None
        if status == "stopped":
            started = ClockRecord("c1", limit_id, "stopped", moment.at, None, stopped_at=moment.at)
        elif status == "paused":
            started = ClockRecord(
                "c1",
                limit_id,
                "paused",
                moment.at,
                started.deadline,
                paused_at=moment.at,
                plan=started.plan,
            )
        else:
            started = ClockRecord(
                "c1", limit_id, "running", moment.at, started.deadline, plan=started.plan
            )
        clocks[limit_id] = started
    return clocks


def test_the_planner_asks_only_the_limits_a_moment_may_start_or_change(engine: Engine) -> None:
    rnd = random.Random(4)
    compared = 0
    for process_id in engine.processes:
        planner = engine.definitions.latest(process_id).planner
        if not planner.limits:
            continue
        process = engine.definition(process_id)
        kinds = [("open", None, process.initial_states[0])] + [
            (event_id, source, event.target or source)
            for event_id, event in process.events.items()
            for source in event.sources
        ]
        for _ in range(5):  # each kind of moment is asked again, from the kept answers
            for event_id, source, target in kinds:
                moment = Moment(
                    event_id,
                    source,
                    target,
                    START + timedelta(hours=rnd.randint(0, 400)),
                    random_data(engine, process_id, rnd),
                    final=process.states[target].final,
                    changed=frozenset(rnd.sample(sorted(process.fields), 2)),
                )
                for limit in planner.limits.values():
                    assert limit.triggered(moment) == triggers_hit(limit.limit, moment)
                clocks = random_clocks(planner, moment, rnd)
                assert planner.react("c1", clocks, moment) == react_every_limit(
                    planner, clocks, moment
                ), (process_id, event_id, source, target)
                compared += 1
    assert compared > 500


@pytest.mark.parametrize(
    "text",
    [
        "f == true",
        "f == false",
        "f != true",
        "f != false",
        "f in ['urgent', 'text', '2026-03-02']",
        "f not in ['urgent', 'text', '2026-03-02']",
        "f in ['12.50']",
        "f not in []",
    ],
)
def test_field_against_a_flag_or_texts_compares_as_the_language_does(text: str) -> None:
    # A field compared with a flag, or looked up among texts, is compiled to an identity
    # check or a set lookup; the language's own equality (values_equal) gives the answer.
    expr = parse_condition(text).expr
    assert isinstance(expr, Compare)
    for value in [*ODD_VALUES, date(2026, 3, 2), datetime(2026, 3, 2, tzinfo=UTC)]:
        right = expr.right
        if isinstance(right, ListLiteral):
            found = any(values_equal(value, item.value) for item in right.items)
            expected = value is not None and found is (expr.op == "in")
        else:
            assert isinstance(right, Literal)
            expected = values_equal(value, right.value) is (expr.op == "==")
        context = EvalContext(data={"f": value})
        assert evaluate(parse_condition(text), context) is expected, value


def test_an_action_is_recorded_as_its_json_form(engine: Engine) -> None:
    # The log's record of an action is worked out once per action and kept.
    seen = 0
    for process_id in engine.processes:
        process = engine.definition(process_id)
        compiled = CompiledProcess(process)
        actions = [action for event in process.events.values() for action in event.actions]
        for state in process.states.values():
            actions += [*state.on_enter, *state.on_exit]
        for action in actions:
            expected = action.model_dump(mode="json", exclude_none=True)
            assert compiled.recorded(action) == expected
            assert compiled.recorded(action) == expected  # kept, and unchanged
            seen += 1
    assert seen > 50
