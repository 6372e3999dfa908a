"""客户满意度调查 and 应急演练 (processes/satisfaction_survey.yaml, processes/emergency_drill.yaml,
rules/satisfaction_survey.yaml): the quarterly service survey and natural-disaster drill open on
their schedules; a survey is counted, analysed, sent back or approved; a drill is recorded and
reviewed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import FieldError
from tests.library.conftest import Walk


def test_the_survey_and_drill_cycles_open_on_their_days(engine: Any, clock: Any) -> None:
    engine.tick()  # Monday 2 March 2026, 09:00: the schedules start here
    # The Q1 survey is due on the quarter's third month's first working day: 2 March (the 1st
    # is a Sunday); the Q1 drill (15 February) was before the first tick.
    assert [c.data["period"] for c in engine.query_cases(process="satisfaction_survey")] == [
        "2026-Q1"
    ]
    assert engine.query_cases(process="emergency_drill") == []
    # 31 May: Q2's natural-disaster drill (15 May) and the first half-year's equipment-failure
    # drill (15 April) are due; the public-safety drill is yearly, in September.
    clock.advance(timedelta(days=90))
    engine.tick()
    drills = engine.query_cases(process="emergency_drill")
    assert sorted((d.data["risk"], d.data["period"], d.assignee) for d in drills) == [
        ("equipment_failure", "2026-H1", "supervisor"),
        ("natural_disaster", "2026-Q2", "supervisor"),
    ]
    # 1 June 10:00: the quarter's third month, and the half-year's sixth.
    clock.advance(timedelta(days=1, hours=1))
    engine.tick()
    surveys = engine.query_cases(process="satisfaction_survey")
    assert sorted((c.data["topic"], c.data["period"], c.assignee) for c in surveys) == [
        ("service_quality", "2026-Q1", "cs_supervisor"),
        ("service_quality", "2026-Q2", "cs_supervisor"),
        ("staff_attitude", "2026-H1", "cs_supervisor"),
    ]


def test_a_survey_is_analysed_sent_back_and_approved(open_case: Any) -> None:
    walk: Walk = open_case(
        "satisfaction_survey", {"topic": "service_quality", "period": "2026-Q1"}, "cs_supervisor"
    )
    walk.refused("submit", "cs_supervisor", FieldError, {"respondents": 120})
    walk.step(
        "submit",
        "cs_supervisor",
        {"respondents": 120, "satisfaction_rate": 92, "improvements": "加强夜间保洁"},
        to="submitted",
        wrong=["manager"],
    )
    assert walk.assignee == "manager"
    walk.step("send_back", "manager", {"findings": "未分析投诉集中的楼栋"}, to="surveying")
    walk.refused("submit", "cs_supervisor", FieldError, {"satisfaction_rate": 101})
    walk.step("submit", "cs_supervisor", {"satisfaction_rate": 93}, to="submitted")
    walk.step("approve", "manager", to="closed", wrong=["cs_supervisor"])


def test_a_drill_is_recorded_and_reviewed(open_case: Any) -> None:
    walk: Walk = open_case(
        "emergency_drill", {"risk": "natural_disaster", "period": "2026-Q1"}, "supervisor"
    )
    walk.refused("record_drill", "supervisor", FieldError, {"held_on": "2026-02-16"})
    walk.step(
        "record_drill",
        "supervisor",
        {
            "held_on": "2026-02-16",
            "participants": "保安部、工程部、客服部",
            "findings": "疏散广播覆盖不到地下车库",
            "plan_changes": "地下车库增设广播",
        },
        to="held",
        wrong=["manager"],
    )
    walk.step("review", "manager", to="closed", wrong=["supervisor"])
