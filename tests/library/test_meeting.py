"""管理例会 (processes/meeting.yaml): convened by the assistant, held under the manager's chair,
minutes drafted, sent back and re-approved by the chair, distributed, action items tracked
and reported, and an absence approved with a delegate."""

from __future__ import annotations

from typing import Any

from engine.runtime import EventNotAllowed, FieldError, GuardRefused

OPEN = {"meeting_at": "2026-03-09T09:00:00+08:00", "period": "weekly"}

CONVENE = {
    "attendees": ["客服部", "工程部", "保安部", "环卫部"],
    "agenda": [
        "宣布公司重要决定",
        "检查上次例会布置工作的完成情况",
        "各部门工作评定",
        "布置下期工作",
    ],
}

MINUTES = {
    "minutes_no": "2026-010",
    "minutes": "一、入伙准备……二、装修管理……",
    "action_items": ["3月15日前完成3号楼钥匙抽查—客服部", "更换2号楼电梯钢丝绳—工程部"],
    "responsible_departments": ["客服部", "工程部"],
    "next_meeting_at": "2026-03-16T09:00:00+08:00",
}


def hold(walk: Any) -> None:
    walk.step("open_meeting", "manager", {"chair": "周经理"}, to="in_session", wrong=["assistant"])
    walk.step("end_meeting", "assistant", to="drafting", wrong=["dept_head"])


def test_meeting_minutes_sent_back_then_approved_distributed_and_tracked(
    open_case: Any,
) -> None:
    walk = open_case("meeting", OPEN, "assistant")
    assert walk.state == "scheduled"
    walk.refused("convene", "assistant", FieldError, {"attendees": CONVENE["attendees"]})
    walk.step("convene", "assistant", CONVENE, to="convened", wrong=["manager", "dept_head"])
    walk.refused("open_meeting", "manager", FieldError)
    hold(walk)
    walk.refused("submit_minutes", "assistant", FieldError, {"minutes": "草稿"})
    walk.step(
        "submit_minutes",
        "assistant",
        MINUTES,
        to="pending_approval",
        wrong=["manager", "dept_head"],
    )
    assert walk.assignee == "manager"
    # The chair sends the draft back with a comment.
    walk.refused("return_minutes", "manager", FieldError)
    walk.step(
        "return_minutes",
        "manager",
        {"approval_comment": "第二项决议须写明完成日期"},
        to="drafting",
        wrong=["assistant", "dept_head"],
    )
    assert walk.assignee == "assistant"
    walk.refused("distribute", "assistant", EventNotAllowed, {"distributed_to": ["客服部"]})
    walk.step(
        "submit_minutes",
        "assistant",
        {"action_items": [MINUTES["action_items"][0], "3月20日前更换2号楼电梯钢丝绳—工程部"]},
        to="pending_approval",
    )
    walk.step("approve_minutes", "manager", to="approved", wrong=["assistant", "dept_head"])
    walk.step(
        "distribute",
        "assistant",
        {"distributed_to": ["客服部", "工程部", "保安部", "环卫部"]},
        to="tracking",
        wrong=["manager", "dept_head"],
    )
    assert ("notify", "dept_head") in walk.notified()
    walk.step("submit_plans", "dept_head", to="tracking", wrong=["assistant", "manager"])
    assert walk.data["plans_submitted"] is True
    # Not closed before the assistant has reported the status to the chair.
    walk.refused("close", "manager", GuardRefused)
    walk.step(
        "report_status",
        "assistant",
        {"status_report": "钥匙抽查已完成；钢丝绳待货，预计3月18日到"},
        to="tracking",
        wrong=["dept_head", "manager"],
    )
    walk.step("close", "manager", to="closed", wrong=["dept_head"])
    assert walk.data["minutes_no"] == "2026-010"
    assert walk.trail() == [
        ("open", "assistant", None, "scheduled"),
        ("convene", "assistant", "scheduled", "convened"),
        ("open_meeting", "manager", "convened", "in_session"),
        ("end_meeting", "assistant", "in_session", "drafting"),
        ("submit_minutes", "assistant", "drafting", "pending_approval"),
        ("return_minutes", "manager", "pending_approval", "drafting"),
        ("submit_minutes", "assistant", "drafting", "pending_approval"),
        ("approve_minutes", "manager", "pending_approval", "approved"),
        ("distribute", "assistant", "approved", "tracking"),
        ("submit_plans", "dept_head", "tracking", "tracking"),
        ("report_status", "assistant", "tracking", "tracking"),
        ("close", "manager", "tracking", "closed"),
    ]


def test_absence_needs_the_chairs_approval_and_a_delegate(open_case: Any) -> None:
    walk = open_case("meeting", OPEN, "assistant")
    walk.step("convene", "assistant", CONVENE, to="convened")
    walk.refused("request_absence", "dept_head", FieldError, {"absence_reason": "外出培训"})
    walk.step(
        "request_absence",
        "dept_head",
        {"absence_reason": "外出培训", "delegate": "工程部副主管"},
        to="convened",
        wrong=["assistant", "manager"],
    )
    walk.step(
        "approve_absence",
        "manager",
        to="convened",
        wrong=["dept_head", "assistant"],
    )
    assert walk.data["absence_approved"] is True
    assert walk.data["delegate"] == "工程部副主管"
    assert ("notify", "assistant") in walk.notified()
    hold(walk)
    walk.refused("request_absence", "dept_head", EventNotAllowed, {"absence_reason": "x"})
    assert walk.trail()[2:4] == [
        ("request_absence", "dept_head", "convened", "convened"),
        ("approve_absence", "manager", "convened", "convened"),
    ]


def test_absence_is_not_approved_without_a_request(open_case: Any) -> None:
    walk = open_case("meeting", OPEN, "assistant")
    walk.refused("approve_absence", "manager", FieldError)
    # A delegate alone is not a leave request: the reason comes from the absentee.
    walk.refused("approve_absence", "manager", FieldError, {"delegate": "客服部领班"})
    walk.step(
        "request_absence",
        "dept_head",
        {"absence_reason": "休年假", "delegate": "客服部领班"},
        to="scheduled",
    )
    walk.step("approve_absence", "manager", to="scheduled")


def test_daily_meeting_in_a_busy_period(open_case: Any) -> None:
    walk = open_case("meeting", {**OPEN, "period": "daily"}, "assistant")
    walk.step("convene", "assistant", CONVENE, to="convened")
    hold(walk)
    walk.step("submit_minutes", "assistant", MINUTES, to="pending_approval")
    walk.step("approve_minutes", "manager", to="approved")
    walk.step("distribute", "assistant", {"distributed_to": ["客服部"]}, to="tracking")
    walk.step("report_status", "assistant", {"status_report": "均已落实"}, to="tracking")
    walk.step("close", "assistant", to="closed")
    assert walk.data["period"] == "daily"
