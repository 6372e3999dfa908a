"""Fixtures for walking the standard library's processes through the runtime.

Every test opens a real case on the shipped library (validated once per session) in an
in-memory SQLite store with a manual clock, fires each event as a named person holding one
role, and checks after every step the state and the audit trail entry the engine wrote
(event, role, from, to). ``walk.step(..., wrong=[...])`` first proves that each listed role
is refused with :class:`RoleRefused` and that a refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import Actor, Case, Engine, EventRefused, ManualClock, RoleRefused
from tests.conftest import validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Monday 2 March 2026, 09:00 in Shanghai: an ordinary working morning.
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)

#: One named person per role id used anywhere in the standard library. The same role id
#: means the same kind of person in every process (``supervisor`` is the maintenance
#: supervisor in repair, the responsible supervisor in complaint, the service lead in
#: meeting_service), so one person per id is enough for these walks.
PEOPLE: dict[str, str] = {
    "owner": "wang.yezhu",
    "receptionist": "li.jiedai",
    "cs_supervisor": "zhao.kefu",
    "supervisor": "chen.zhuguan",
    "technician": "liu.jigong",
    "head": "sun.fuzeren",
    "manager": "zhou.zhuren",
    "area_manager": "wu.quyu",
    "clerk": "zheng.zhuli",
    "inspector": "feng.yanlou",
    "engineering": "he.gongcheng",
    "assistant": "xu.jingli",
    "dept_head": "lin.bumen",
    "attendant": "tang.fuwu",
    "specialist": "qian.zhuanye",
    "pr_manager": "gao.gongguan",
    "engineer": "ma.gongchengbu",
    "security": "yang.baoan",
}

Trail = list[tuple[str, str, str | None, str]]


class Walk:
    """One case being walked: fire events as roles and check what the engine recorded."""

    def __init__(self, engine: Engine, clock: ManualClock, case: Case) -> None:
        self.engine = engine
        self.clock = clock
        self.case = case

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def state(self) -> str:
        return self.case.state

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data

    @property
    def assignee(self) -> str | None:
        return self.case.assignee

    def step(
        self,
        event: str,
        role: str,
        payload: Mapping[str, Any] | None = None,
        *,
        to: str,
        wrong: Sequence[str] = (),
        after: timedelta = timedelta(minutes=1),
    ) -> Case:
        """Fire ``event`` as the person holding ``role``; assert the new state is ``to`` and
        the last history entry is (event, role, from, to). Each role in ``wrong`` is first
        refused with RoleRefused, writing nothing."""
        for other in wrong:
            self.refused(event, other, RoleRefused, payload)
        self.clock.advance(after)
        before = self.engine.history(self.id)
        from_state = self.case.state
        self.case = self.engine.fire(self.id, event, person(role), payload or {})
        assert self.case.state == to, f"{event}: expected state {to}, got {self.case.state}"
        history = self.engine.history(self.id)
        assert len(history) == len(before) + 1
        last = history[-1]
        assert (last.event, last.role, last.from_state, last.to_state) == (
            event,
            role,
            from_state,
            to,
        )
        assert last.actor_id == PEOPLE[role]
        assert last.at == self.clock.now()
        assert last.version == self.case.version
        return self.case

    def refused(
        self,
        event: str,
        role: str,
        error: type[EventRefused],
        payload: Mapping[str, Any] | None = None,
    ) -> EventRefused:
        """Assert that firing ``event`` as ``role`` raises exactly ``error`` and changes
        nothing: same state, same version, same history."""
        before = self.engine.history(self.id)
        with pytest.raises(EventRefused) as caught:
            self.engine.fire(self.id, event, person(role), payload or {})
        assert type(caught.value) is error, f"{event} as {role}: {caught.value!r}"
        assert caught.value.event == event
        assert caught.value.state == self.case.state
        after = self.engine.get_case(self.id)
        assert (after.state, after.version, after.data) == (
            self.case.state,
            self.case.version,
            self.case.data,
        )
        assert self.engine.history(self.id) == before
        return caught.value

    def trail(self) -> Trail:
        """The audit trail as (event, role, from, to), oldest first, including ``open``."""
        return [(e.event, e.role, e.from_state, e.to_state) for e in self.engine.history(self.id)]

    def notified(self) -> list[tuple[str, str | None]]:
        """The outbox rows of this case as (kind, role), oldest first."""
        return [(item.kind, item.role) for item in self.engine.outbox(self.id)]


def person(role: str) -> Actor:
    """The named person who holds ``role`` (and only that role)."""
    return Actor(PEOPLE[role], {role})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(clock: ManualClock) -> Iterator[Engine]:
    """The shipped standard library on an in-memory store, with the manual clock."""
    eng = Engine(validated_library(), store="sqlite://", clock=clock)
    yield eng
    eng.close()


@pytest.fixture
def people() -> dict[str, Actor]:
    """Role id → the named person acting in it."""
    return {role: person(role) for role in PEOPLE}


@pytest.fixture
def open_case(engine: Engine, clock: ManualClock) -> Callable[..., Walk]:
    """``open_case(process, data, role)``: open a case as ``role`` and return its Walk. The
    case is the named owner's (its party field names them) unless ``data`` says whose."""

    def _open(process: str, data: Mapping[str, Any], role: str) -> Walk:
        owner = engine.definition(process).roles.get("owner")
        bound = {owner.bound_to: PEOPLE["owner"]} if owner and owner.bound_to else {}
        case = engine.open_case(process, {**bound, **data}, person(role))
        walk = Walk(engine, clock, case)
        assert walk.trail() == [("open", role, None, case.state)]
        return walk

    return _open
