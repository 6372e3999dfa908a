"""设施设备维护保养与检查 (processes/equipment_check.yaml, rules/equipment_check.yaml): the
maintenance cycles of seed 003 and the inspections of seed 000 open cases on their schedules;
each fault a check finds opens a common-facility repair; a check closes only once its faults
are reported; the documented default limits."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from engine.runtime import FieldError, GuardRefused
from tests.library.conftest import Walk

OPEN = {"kind": "maintenance", "system": "lifts", "period": "2026-03"}


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def test_a_check_without_faults_is_filed(open_case: Any) -> None:
    walk: Walk = open_case("equipment_check", OPEN, "engineering")
    walk.step("start", "technician", to="checking")
    walk.refused("complete", "engineering", FieldError, {"result": "normal"})
    walk.step(
        "complete",
        "engineering",
        {"items_checked": "曳引机、制动器、门系统、安全回路均正常", "result": "normal"},
        to="closed",
        wrong=["technician"],
    )
    assert clock_of(walk, "equipment-check-done").breached is False


def test_each_fault_found_opens_a_repair_before_the_check_closes(open_case: Any) -> None:
    walk: Walk = open_case("equipment_check", OPEN, "engineering")
    walk.step("start", "technician", to="checking")
    found = {"items_checked": "3号梯层门门锁异响", "result": "faults_found"}
    walk.refused("complete", "engineering", GuardRefused, found)
    walk.step(
        "report_faults",
        "technician",
        {"faults": ["3号梯层门门锁异响", "3号梯轿厢照明不亮"], "location": "3号楼电梯"},
        to="checking",
    )
    repairs = [link for link in walk.engine.links(walk.id) if link.kind == "child"]
    assert [link.process for link in repairs] == ["repair", "repair"]
    contents = sorted(walk.engine.get_case(link.case_id).data["content"] for link in repairs)
    assert contents == ["3号梯层门门锁异响", "3号梯轿厢照明不亮"]
    assert {walk.engine.get_case(link.case_id).data["scope"] for link in repairs} == {"public"}
    walk.step("complete", "engineering", found, to="closed")


def test_a_check_left_open_breaches_after_three_working_days(open_case: Any) -> None:
    walk: Walk = open_case("equipment_check", OPEN, "engineering")
    walk.clock.advance(timedelta(days=4))  # Monday 09:00 → Friday 09:00: 3 working days passed
    walk.engine.tick()
    assert clock_of(walk, "equipment-check-done").breached is True
    assert {("notify", "engineering"), ("notify", "manager")} <= set(walk.notified())


def test_the_daily_self_check_is_due_by_half_past_five(open_case: Any) -> None:
    walk: Walk = open_case(
        "equipment_check",
        {
            "kind": "self_check",
            "system": "whole_service",
            "period": "2026-03-02",
            "due_at": "2026-03-02T08:30:00+08:00",
        },
        "technician",
    )
    due = clock_of(walk, "equipment-self-check-same-day")
    assert due.deadline.isoformat() == "2026-03-02T17:30:00+08:00"
    assert "equipment-check-done" not in {c.limit for c in walk.engine.sla_status(walk.id)}


def test_the_schedules_open_the_cycles_of_a_month(engine: Any, clock: Any) -> None:
    engine.tick()  # Monday 2 March 2026, 09:00: the schedules start here
    for _ in range(31):  # every day of March at 09:00, and on 1 April
        clock.advance(timedelta(days=1))
        engine.tick()
    cases = engine.query_cases(process="equipment_check")
    opened = Counter((c.data["kind"], c.data["system"]) for c in cases)
    # A self-check each working day from 2 March to 1 April (22 in March, 1 in April) …
    assert opened[("self_check", "whole_service")] == 23
    # … monthly cycles on the 5th (and 1 April's are not due until the 5th) …
    for system in ("lifts", "power", "escalators", "lighting", "building_automation"):
        assert opened[("maintenance", system)] == 1, system
    # … specialist checks on 2 March (1 March is a Sunday), the 16th and 1 April, the
    # evaluation on 31 March …
    assert opened[("specialist_check", "whole_service")] == 3
    assert opened[("overall_evaluation", "whole_service")] == 1
    # … and the quarter's cycles from 1 April are not due before the 10th and 15th.
    assert opened[("maintenance", "water_supply")] == 0
    assert {c.assignee for c in cases if c.data["kind"] == "overall_evaluation"} == {"manager"}
