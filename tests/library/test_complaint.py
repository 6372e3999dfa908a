"""投诉处理 (processes/complaint.yaml): record and owner confirmation, same-day investigation,
valid/invalid finding, general vs important (the estate manager decides and assigns), invalid
explained, written reply, return visit by visit (owner's signature) / phone / letter, and
reopening when the return visit contradicts the department."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import EventNotAllowed, FieldError, GuardRefused, RoleRefused

SHANGHAI = ZoneInfo("Asia/Shanghai")

OPEN = {"complainant": "王先生", "complaint_date": "2026-03-02", "channel": "visit"}

FORM = {
    "phone": "13800138000",
    "address": "3-1201",
    "content": "楼上装修噪音，晚上十点后仍在施工",
    "complained_at": "2026-03-02T09:05:00+08:00",
}


def receive(walk: Any) -> None:
    """Record the form, the owner confirms it, and it goes to the responsible person."""
    walk.refused("record", "receptionist", FieldError)
    walk.step("record", "receptionist", FORM, to="recorded", wrong=["supervisor", "owner"])
    # Not handed on before the owner has confirmed the record.
    walk.refused("hand_over", "receptionist", GuardRefused, {"responsible": "陈主管"})
    walk.step("confirm_record", "owner", to="recorded", wrong=["supervisor"])
    assert walk.data["owner_confirmed"] is True
    walk.step(
        "hand_over",
        "receptionist",
        {"responsible": "陈主管"},
        to="investigating",
        wrong=["owner", "supervisor"],
    )
    assert walk.assignee == "supervisor"


def finding(
    walk: Any, validity: str, importance: str = "general", role: str = "supervisor"
) -> None:
    walk.step(
        "record_finding",
        role,
        {
            "investigation": "现场核实：1502室晚间施工属实",
            "validity": validity,
            "importance": importance,
            "handling_proposal": "责令装修户遵守施工时间",
        },
        to="investigating",
        wrong=["receptionist", "owner"],
    )


def reply(walk: Any) -> None:
    walk.refused("send_reply", "supervisor", FieldError)
    walk.step(
        "send_reply",
        "supervisor",
        {"reply": "书面答复：已责令1502室晚八点后停止施工"},
        to="awaiting_return_visit",
        wrong=["owner", "manager"],
    )
    assert walk.assignee == "receptionist"


def investigation_clock(walk: Any) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == "complaint-investigation")


def test_general_valid_complaint_handled_at_once(open_case: Any) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    assert walk.state == "received"
    receive(walk)
    # The same-day investigation clock runs until midnight of the complaint date.
    clock = investigation_clock(walk)
    assert (clock.status, clock.deadline) == ("running", datetime(2026, 3, 3, tzinfo=SHANGHAI))
    # Nothing is handled before the finding records validity and importance.
    walk.refused("handle", "supervisor", GuardRefused)
    walk.refused("record_finding", "supervisor", FieldError, {"validity": "valid"})
    finding(walk, "valid")
    # The same day: the finding is on the complaint date, and it stops the clock in time.
    assert walk.engine.history(walk.id)[-1].at.date().isoformat() == OPEN["complaint_date"]
    clock = investigation_clock(walk)
    assert (clock.status, clock.breached) == ("stopped", False)
    walk.refused("refer_to_manager", "supervisor", GuardRefused, {"written_report": "x"})
    walk.refused("explain_invalid", "supervisor", GuardRefused, {"explanation": "x"})
    walk.step("handle", "supervisor", to="handling", wrong=["receptionist", "manager"])
    walk.refused("finish_handling", "supervisor", FieldError)
    walk.step(
        "finish_handling",
        "supervisor",
        {"handling_result": "装修户已承诺晚八点后停工"},
        to="replying",
        wrong=["receptionist"],
    )
    reply(walk)
    # The owner's satisfaction is a required answer of the return visit.
    walk.refused(
        "return_visit", "receptionist", FieldError, {"visit_method": "phone", "visit_result": "好"}
    )
    walk.step(
        "return_visit",
        "receptionist",
        {
            "visit_method": "phone",
            "visit_result": "业主确认已无夜间施工",
            "satisfaction": "satisfied",
        },
        to="closed",
        wrong=["supervisor", "owner", "area_manager"],
    )
    assert walk.trail() == [
        ("open", "receptionist", None, "received"),
        ("record", "receptionist", "received", "recorded"),
        ("confirm_record", "owner", "recorded", "recorded"),
        ("hand_over", "receptionist", "recorded", "investigating"),
        ("record_finding", "supervisor", "investigating", "investigating"),
        ("handle", "supervisor", "investigating", "handling"),
        ("finish_handling", "supervisor", "handling", "replying"),
        ("send_reply", "supervisor", "replying", "awaiting_return_visit"),
        ("return_visit", "receptionist", "awaiting_return_visit", "closed"),
    ]


def test_important_complaint_goes_to_the_manager_who_decides_and_assigns(
    open_case: Any,
) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    receive(walk)
    finding(walk, "valid", "important")
    # An important complaint is not handled at once by the supervisor.
    walk.refused("handle", "supervisor", GuardRefused)
    walk.refused("refer_to_manager", "supervisor", FieldError)
    walk.step(
        "refer_to_manager",
        "supervisor",
        {"written_report": "关于3-1201投诉装修噪音的书面报告"},
        to="awaiting_decision",
        wrong=["receptionist", "area_manager"],
    )
    assert walk.assignee == "manager"
    walk.refused("decide", "manager", FieldError, {"decision": "约谈装修户"})
    walk.step(
        "decide",
        "manager",
        {"decision": "约谈装修户并暂停其装修许可三天", "assigned_department": "客服部"},
        to="handling",
        wrong=["supervisor", "receptionist", "owner"],
    )
    assert walk.assignee == "supervisor"
    walk.step("finish_handling", "supervisor", {"handling_result": "已约谈"}, to="replying")
    reply(walk)
    walk.step(
        "return_visit",
        "receptionist",
        {
            "visit_method": "letter",
            "visit_result": "信函回访，业主回函表示满意",
            "satisfaction": "satisfied",
        },
        to="closed",
    )
    assert [row[:2] for row in walk.trail()][4:8] == [
        ("record_finding", "supervisor"),
        ("refer_to_manager", "supervisor"),
        ("decide", "manager"),
        ("finish_handling", "supervisor"),
    ]


@pytest.mark.parametrize("importance", ["general", "important"])
def test_invalid_complaint_is_explained_and_replied(open_case: Any, importance: str) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    receive(walk)
    finding(walk, "invalid", importance)
    walk.refused("handle", "supervisor", GuardRefused)
    walk.refused("refer_to_manager", "supervisor", GuardRefused, {"written_report": "x"})
    walk.refused("explain_invalid", "supervisor", FieldError)
    walk.step(
        "explain_invalid",
        "supervisor",
        {"explanation": "施工时间在规定范围内，已向业主说明"},
        to="replying",
        wrong=["receptionist", "owner"],
    )
    reply(walk)
    walk.step(
        "return_visit",
        "receptionist",
        {
            "visit_method": "phone",
            "visit_result": "业主表示理解",
            "satisfaction": "basically_satisfied",
        },
        to="closed",
    )
    assert ("explain_invalid", "supervisor", "investigating", "replying") in walk.trail()


def test_return_visit_in_person_needs_the_owners_signature(open_case: Any) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    receive(walk)
    finding(walk, "valid")
    walk.step("handle", "supervisor", to="handling")
    walk.step("finish_handling", "supervisor", {"handling_result": "已处理"}, to="replying")
    reply(walk)
    visit = {
        "visit_method": "visit",
        "visit_result": "上门回访，业主满意",
        "satisfaction": "satisfied",
    }
    walk.refused("return_visit", "receptionist", GuardRefused, visit)
    walk.refused("return_visit", "receptionist", FieldError, {"owner_signed": True})
    walk.step(
        "return_visit",
        "receptionist",
        {**visit, "owner_signed": True},
        to="closed",
        wrong=["owner"],
    )
    assert walk.data["owner_signed"] is True
    walk.refused("reopen", "receptionist", EventNotAllowed, {"discrepancy": "x"})


def test_contradicting_return_visit_reopens_the_complaint(open_case: Any, clock: Any) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    receive(walk)
    finding(walk, "valid")
    walk.step("handle", "supervisor", to="handling")
    walk.step("finish_handling", "supervisor", {"handling_result": "已处理"}, to="replying")
    reply(walk)
    clock.advance(timedelta(days=2))
    walk.refused("reopen", "receptionist", FieldError)
    walk.step(
        "reopen",
        "receptionist",
        {"discrepancy": "业主称夜间施工仍在继续，与部门回复不符"},
        to="investigating",
        wrong=["supervisor", "owner", "area_manager"],
    )
    assert walk.data["reopened"] is True
    assert walk.assignee == "area_manager"
    assert ("notify", "area_manager") in walk.notified()
    # The first round's finding, result and reply no longer count (they stay in the history).
    assert (walk.data["validity"], walk.data["handling_result"], walk.data["reply"]) == (
        None,
        None,
        None,
    )
    walk.refused("handle", "supervisor", GuardRefused)
    # The area manager goes on site and records what is really happening.
    finding(walk, "valid", role="area_manager")
    walk.step("handle", "supervisor", to="handling", wrong=["area_manager"])
    walk.step(
        "finish_handling", "supervisor", {"handling_result": "已没收夜间施工工具"}, to="replying"
    )
    reply(walk)
    walk.step(
        "return_visit",
        "receptionist",
        {"visit_method": "phone", "visit_result": "业主确认已停工", "satisfaction": "satisfied"},
        to="closed",
    )
    events = [row[0] for row in walk.trail()]
    assert events.count("record_finding") == 2
    assert events.count("send_reply") == 2
    assert ("reopen", "receptionist", "awaiting_return_visit", "investigating") in walk.trail()
    assert ("record_finding", "area_manager", "investigating", "investigating") in walk.trail()
    replies = [
        e.changes.get("reply") for e in walk.engine.history(walk.id) if e.event == "send_reply"
    ]
    assert all(replies) and len(replies) == 2  # each round wrote its own reply


def test_second_visit_after_reopening_needs_a_new_signature(open_case: Any) -> None:
    walk = open_case("complaint", OPEN, "receptionist")
    receive(walk)
    finding(walk, "valid")
    walk.step("handle", "supervisor", to="handling")
    walk.step("finish_handling", "supervisor", {"handling_result": "已处理"}, to="replying")
    reply(walk)
    # The visit found a different story; reopening cannot carry a signature over.
    walk.refused(
        "reopen",
        "receptionist",
        FieldError,
        {"discrepancy": "业主称问题依旧", "visit_method": "visit", "owner_signed": True},
    )
    walk.step(
        "reopen",
        "receptionist",
        {"discrepancy": "业主称问题依旧", "visit_method": "visit"},
        to="investigating",
    )
    assert walk.data["owner_signed"] is False
    finding(walk, "valid", role="area_manager")
    walk.step("handle", "supervisor", to="handling")
    walk.step("finish_handling", "supervisor", {"handling_result": "已彻底处理"}, to="replying")
    reply(walk)
    visit = {
        "visit_method": "visit",
        "visit_result": "第二次上门回访，业主满意",
        "satisfaction": "satisfied",
    }
    walk.refused("return_visit", "receptionist", GuardRefused, visit)
    walk.step("return_visit", "receptionist", {**visit, "owner_signed": True}, to="closed")


def test_open_needs_complainant_and_date(engine: Any, people: Any) -> None:
    with pytest.raises(FieldError):
        engine.open_case("complaint", {"complainant": "王先生"}, people["receptionist"])
    with pytest.raises(RoleRefused):
        engine.open_case("complaint", OPEN, people["technician"])
