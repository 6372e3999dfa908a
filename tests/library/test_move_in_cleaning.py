"""入住前清洁 (processes/move_in_cleaning.yaml, rules/move_in_cleaning.yaml): done the same day,
or by the time agreed with the owner, and the order returned to the desk."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import EventNotAllowed, FieldError
from tests.library.conftest import START, Walk

OPEN = {"unit": "6-0801", "owner_name": "赵女士", "request_date": "2026-03-02"}
DONE = {"work_done": "全屋开荒保洁，玻璃、地面、厨卫", "hours": 6, "worker": "保洁一组"}


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def test_same_day_cleaning_and_the_order_returned(open_case: Any) -> None:
    walk: Walk = open_case("move_in_cleaning", OPEN, "receptionist")
    same_day = clock_of(walk, "move-in-cleaning-same-day")
    assert same_day.deadline.isoformat() == "2026-03-03T00:00:00+08:00"
    walk.refused("finish", "dept_head", FieldError, {"work_done": "已完成"})
    walk.step("finish", "dept_head", DONE, to="done", wrong=["receptionist", "owner"])
    assert walk.assignee == "receptionist"
    walk.step("return_order", "receptionist", to="closed", wrong=["dept_head"])
    assert clock_of(walk, "move-in-cleaning-same-day").breached is False


def test_a_time_agreed_with_the_owner_replaces_the_same_day(open_case: Any) -> None:
    walk: Walk = open_case("move_in_cleaning", OPEN, "receptionist")
    agreed = START + timedelta(days=2, hours=8)  # Wednesday 17:00
    walk.refused("agree_time", "dept_head", FieldError)
    walk.step(
        "agree_time",
        "dept_head",
        {"agreed_by": agreed.isoformat(), "requirements": "业主周三下午在场验收"},
        to="requested",
        wrong=["owner"],
    )
    assert clock_of(walk, "move-in-cleaning-same-day").status == "stopped"
    assert clock_of(walk, "move-in-cleaning-agreed").deadline == agreed
    walk.clock.advance(timedelta(days=3))
    walk.engine.tick()
    assert clock_of(walk, "move-in-cleaning-agreed").breached is True
    assert {("notify", "dept_head"), ("notify", "receptionist")} <= set(walk.notified())
    walk.step("finish", "dept_head", DONE, to="done")
    walk.refused("agree_time", "dept_head", EventNotAllowed, {"agreed_by": agreed.isoformat()})
