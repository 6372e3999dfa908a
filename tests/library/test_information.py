"""信息处理（首接负责制） (processes/information.yaml, rules/information.yaml): the hub every
request enters — logged, classified into its seven categories and either handled in place by
the responsible specialist (plan agreed, escalation, the managers' meeting, acceptance and a
second handling) or opened as the repair, complaint or enquiry case it becomes; the first
receiver follows it until the customer agrees to close it. Its minute limits, the 90-second
emergency report and the same-day meeting rule are run on the manual clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.runtime import EventNotAllowed, FieldError, GuardRefused
from tests.library.conftest import START, Walk
from tests.library.test_repair import finish, on_site, return_visit, sign_off

OPEN = {"received_date": "2026-03-02", "contact": "王先生", "contact_phone": "13800138000"}
LOG = {"place": "A座1201", "content": "卫生间门锁打不开", "contact": "王先生"}


def logged(open_case: Any, **extra: Any) -> Walk:
    """A request taken and logged by the duty officer."""
    walk: Walk = open_case("information", {**OPEN, **extra}, "receptionist")
    assert walk.state == "received"
    walk.refused("log", "receptionist", FieldError, {"place": "A座1201"})
    walk.step("log", "receptionist", LOG, to="logged", wrong=["specialist", "owner"])
    return walk


def routed(walk: Walk, category: str = "help") -> None:
    walk.refused("route", "receptionist", FieldError, {"category": category})
    walk.step(
        "route",
        "receptionist",
        {"category": category, "specialist": "钱师傅"},
        to="routed",
        wrong=["specialist", "cs_supervisor"],
        after=timedelta(seconds=30),
    )
    assert (walk.assignee, walk.data["read_back"]) == ("specialist", True)


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def child(walk: Walk, process: str) -> Walk:
    """The case this request opened as ``process``."""
    (link,) = [link for link in walk.engine.links(walk.id) if link.kind == "child"]
    assert link.process == process
    return Walk(walk.engine, walk.clock, walk.engine.get_case(link.case_id))


def close(walk: Walk) -> None:
    """The return visit: closed only once the customer agrees."""
    visit = {"visit_method": "phone", "visit_result": "已处理，客户满意，未收费"}
    walk.refused("close", "receptionist", GuardRefused, visit)
    walk.step(
        "close",
        "receptionist",
        {**visit, "owner_agreed_close": True},
        to="closed",
        wrong=["specialist", "owner"],
    )


# --- handled in place -------------------------------------------------------------------------


def test_help_request_handled_in_place_with_escalation_and_a_second_handling(
    open_case: Any,
) -> None:
    walk = logged(open_case)
    routed(walk)
    walk.step(
        "confirm_on_site",
        "specialist",
        {"diagnosis": "锁芯卡死"},
        to="on_site",
        wrong=["receptionist"],
        after=timedelta(minutes=5),
    )
    walk.step("record_plan", "specialist", {"plan": "拆换锁芯，约20分钟，收费80元"}, to="on_site")
    walk.step(
        "agree_plan",
        "receptionist",
        {"fee": "80.00"},
        to="handling",
        wrong=["owner"],
        after=timedelta(seconds=60),
    )
    walk.step(
        "escalate",
        "specialist",
        {"escalation": "无同型号锁芯，需采购"},
        to="handling",
        wrong=["owner"],
    )
    assert walk.notified()[-1] == ("notify", "cs_supervisor")
    walk.refused("customer_accept", "owner", EventNotAllowed, {"customer_opinion": "好"})
    walk.step(
        "finish_handling",
        "specialist",
        {"handling_result": "10:30 钱师傅更换锁芯", "materials": "锁芯1个"},
        to="awaiting_acceptance",
        wrong=["receptionist"],
    )
    # A failed acceptance is handled a second time (二次处理).
    walk.step(
        "customer_reject",
        "owner",
        {"rejection_reason": "钥匙转动不顺"},
        to="handling",
        wrong=["receptionist"],
    )
    walk.step(
        "finish_handling", "specialist", {"handling_result": "调整锁舌"}, to="awaiting_acceptance"
    )
    walk.step(
        "customer_accept",
        "owner",
        {"customer_opinion": "已修好"},
        to="awaiting_close",
        wrong=["receptionist"],
    )
    assert (walk.data["customer_signed"], walk.assignee) == (True, "receptionist")
    close(walk)
    for limit in (
        "information-record",
        "information-route",
        "information-on-site",
        "information-first-plan",
        "information-escalate",
        "information-same-day",
    ):
        status = clock_of(walk, limit)
        assert (status.status, status.breached) == ("stopped", False), limit
    assert [row[0] for row in walk.trail()] == [
        "open",
        "log",
        "route",
        "confirm_on_site",
        "record_plan",
        "agree_plan",
        "escalate",
        "finish_handling",
        "customer_reject",
        "finish_handling",
        "customer_accept",
        "close",
    ]


@pytest.mark.parametrize("category", ["help", "security", "fire", "cleaning"])
def test_in_place_categories_go_to_the_specialist(open_case: Any, category: str) -> None:
    walk = logged(open_case)
    payloads = {
        "route_to_repair": {"category": category, "scope": "public"},
        "route_to_complaint": {"category": category},
        "route_to_enquiry": {"category": category},
    }
    for opener, payload in payloads.items():
        walk.refused(opener, "receptionist", GuardRefused, payload)
    routed(walk, category)


@pytest.mark.parametrize("category", ["complaint", "enquiry", "engineering"])
def test_categories_with_their_own_procedure_are_not_handled_in_place(
    open_case: Any, category: str
) -> None:
    walk = logged(open_case)
    walk.refused("route", "receptionist", GuardRefused, {"category": category, "specialist": "钱"})


def test_customer_who_does_not_agree_gets_a_second_handling(open_case: Any) -> None:
    walk = logged(open_case)
    routed(walk, "cleaning")
    walk.step("confirm_on_site", "specialist", {"diagnosis": "地毯污渍"}, to="on_site")
    walk.step("agree_plan", "specialist", {"plan": "清洗地毯"}, to="handling")
    walk.step(
        "finish_handling", "specialist", {"handling_result": "已清洗"}, to="awaiting_acceptance"
    )
    walk.step("customer_accept", "owner", {"customer_opinion": "可以"}, to="awaiting_close")
    walk.refused("reopen", "receptionist", FieldError)
    walk.step(
        "reopen",
        "receptionist",
        {"visit_result": "回访时客户反映仍有污渍", "specialist": "钱师傅"},
        to="routed",
        wrong=["owner"],
    )
    assert (walk.assignee, walk.data["customer_signed"]) == ("specialist", False)


def test_not_solved_the_same_day_goes_to_the_managers_meeting(open_case: Any) -> None:
    walk = logged(open_case)
    routed(walk, "security")
    walk.step("confirm_on_site", "specialist", {"diagnosis": "门禁故障"}, to="on_site")
    walk.step("agree_plan", "specialist", {"plan": "联系门禁厂家"}, to="handling")
    assert (
        clock_of(walk, "information-same-day").deadline.isoformat() == "2026-03-03T00:00:00+08:00"
    )
    walk.clock.advance(timedelta(hours=16))
    walk.engine.tick()
    walk.case = walk.engine.get_case(walk.id)
    # Midnight passed: the request went to the managers' meeting by itself.
    assert (walk.state, walk.assignee) == ("at_meeting", "manager")
    assert clock_of(walk, "information-same-day").breached is True
    assert ("notify", "manager") in walk.notified()
    walk.refused("meeting_decides", "manager", FieldError)
    walk.step(
        "meeting_decides",
        "manager",
        {"meeting_decision": "更换门禁控制器，工程部次日完成"},
        to="handling",
        wrong=["receptionist", "specialist"],
    )
    assert walk.assignee == "specialist"


def test_the_desk_may_refer_to_the_meeting_before_midnight(open_case: Any) -> None:
    walk = logged(open_case)
    routed(walk, "help")
    walk.step("refer_to_meeting", "cs_supervisor", to="at_meeting", wrong=["owner", "specialist"])
    assert clock_of(walk, "information-same-day").status == "stopped"


def test_no_agreed_plan_five_minutes_after_arrival_goes_to_the_supervisor(
    open_case: Any,
) -> None:
    walk = logged(open_case)
    routed(walk, "help")
    walk.step("confirm_on_site", "specialist", {"diagnosis": "不明"}, to="on_site")
    walk.clock.advance(timedelta(minutes=6))
    walk.engine.tick()
    assert clock_of(walk, "information-first-plan").breached is True
    assert clock_of(walk, "information-escalate").breached is True
    assert walk.engine.get_case(walk.id).assignee == "cs_supervisor"


# --- the limits of the first steps -----------------------------------------------------------


def test_logging_and_routing_late_breach_their_limits(open_case: Any) -> None:
    walk: Walk = open_case("information", OPEN, "receptionist")
    walk.step("log", "receptionist", LOG, to="logged", after=timedelta(minutes=3))
    walk.step(
        "route",
        "receptionist",
        {"category": "help", "specialist": "钱师傅"},
        to="routed",
        after=timedelta(minutes=4),
    )
    walk.clock.advance(timedelta(minutes=20))
    walk.engine.tick()
    for limit in ("information-record", "information-route", "information-on-site"):
        assert clock_of(walk, limit).breached is True, limit


def test_an_appointment_is_timed_from_its_time_not_ten_minutes(open_case: Any) -> None:
    walk = logged(open_case, appointment_at="2026-03-02T14:00:00+08:00")
    routed(walk)
    assert {c.limit for c in walk.engine.sla_status(walk.id)} >= {"information-appointment-arrive"}
    assert "information-on-site" not in {c.limit for c in walk.engine.sla_status(walk.id)}
    arrive = clock_of(walk, "information-appointment-arrive")
    assert arrive.deadline.isoformat() == "2026-03-02T13:57:00+08:00"


def test_an_emergency_not_reported_within_90_seconds_breaches(open_case: Any) -> None:
    walk: Walk = open_case("information", {**OPEN, "emergency": True}, "receptionist")
    walk.clock.advance(timedelta(minutes=5))
    walk.engine.tick()
    breach = clock_of(walk, "information-emergency-report")
    assert (breach.breached, breach.deadline) == (True, START + timedelta(seconds=90))
    assert {("notify", "cs_supervisor"), ("notify", "manager")} <= set(walk.notified())


def test_an_emergency_reported_in_time_does_not_breach(open_case: Any) -> None:
    walk: Walk = open_case("information", {**OPEN, "emergency": True}, "receptionist")
    walk.refused("report_emergency", "receptionist", FieldError)
    walk.step(
        "report_emergency",
        "receptionist",
        {"place": "B座地下车库", "content": "水管爆裂跑水"},
        to="received",
        wrong=["owner"],
        after=timedelta(seconds=45),
    )
    assert walk.notified() == [("notify", "cs_supervisor"), ("notify", "manager")]
    walk.clock.advance(timedelta(minutes=5))
    walk.engine.tick()
    report = clock_of(walk, "information-emergency-report")
    assert (report.status, report.breached) == ("stopped", False)


# --- opened as the case it becomes -------------------------------------------------------------


def test_engineering_opens_a_repair_and_closes_after_it(open_case: Any) -> None:
    walk = logged(open_case)
    walk.refused("route_to_repair", "receptionist", FieldError, {"category": "engineering"})
    walk.step(
        "route_to_repair",
        "receptionist",
        {"category": "engineering", "scope": "in_unit"},
        to="with_case",
        wrong=["specialist"],
    )
    repair = child(walk, "repair")
    assert (repair.state, repair.data["unit"], repair.data["owner_name"]) == (
        "received",
        "A座1201",
        "王先生",
    )
    walk.refused("close", "receptionist", EventNotAllowed, {"owner_agreed_close": True})
    repair.step(
        "record",
        "receptionist",
        {"location": "卫生间", "category": "lock", "phone": "13800138000"},
        to="reported",
    )
    repair.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(repair)
    finish(repair)
    sign_off(repair)
    return_visit(repair)
    # The repair's closing moved the request to its own return visit.
    walk.case = walk.engine.get_case(walk.id)
    assert walk.state == "awaiting_close"
    assert walk.trail()[-1] == ("repair_closed", "system", "with_case", "awaiting_close")
    close(walk)


def test_a_complaint_opens_a_complaint_and_closes_after_it(open_case: Any) -> None:
    walk = logged(open_case)
    walk.step("route_to_complaint", "receptionist", {"category": "complaint"}, to="with_case")
    complaint = child(walk, "complaint")
    assert (complaint.data["complainant"], str(complaint.data["complaint_date"])) == (
        "王先生",
        "2026-03-02",
    )
    complaint.step("record", "receptionist", to="recorded")
    complaint.step("confirm_record", "owner", to="recorded")
    complaint.step("hand_over", "receptionist", {"responsible": "陈主管"}, to="investigating")
    complaint.step(
        "record_finding",
        "supervisor",
        {
            "investigation": "属实",
            "validity": "valid",
            "importance": "general",
            "handling_proposal": "更换门锁",
        },
        to="investigating",
    )
    complaint.step("handle", "supervisor", to="handling")
    complaint.step("finish_handling", "supervisor", {"handling_result": "已更换"}, to="replying")
    complaint.step("send_reply", "supervisor", {"reply": "书面答复"}, to="awaiting_return_visit")
    complaint.step(
        "return_visit",
        "receptionist",
        {"visit_method": "phone", "visit_result": "满意", "satisfaction": "satisfied"},
        to="closed",
    )
    walk.case = walk.engine.get_case(walk.id)
    assert walk.trail()[-1] == ("complaint_closed", "system", "with_case", "awaiting_close")
    close(walk)


def test_an_enquiry_opens_an_enquiry_and_closes_after_its_answer(open_case: Any) -> None:
    walk = logged(open_case)
    walk.step("route_to_enquiry", "receptionist", {"category": "enquiry"}, to="with_case")
    enquiry = child(walk, "enquiry")
    assert (enquiry.data["enquirer"], enquiry.data["content"]) == ("王先生", "卫生间门锁打不开")
    enquiry.step("answer_now", "receptionist", {"answer": "已告知开锁服务电话"}, to="answered")
    walk.case = walk.engine.get_case(walk.id)
    assert walk.trail()[-1] == ("enquiry_closed", "system", "with_case", "awaiting_close")
    close(walk)
