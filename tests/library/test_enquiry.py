"""咨询服务 (processes/enquiry.yaml, rules/enquiry.yaml) and the desk-log reviews
(processes/desk_log_review.yaml): answered at once, or by a reply time agreed at run time and
timed against it; important enquiries reported to the customer-service head before any answer;
referrals to a department; questions beyond the estate answered on the manager's instruction;
the supervisor's daily and the manager's weekly review of the desk log, opened by schedules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine.runtime import EventNotAllowed, FieldError, GuardRefused
from tests.library.conftest import SHANGHAI, START, Walk

OPEN = {"enquirer": "李女士", "unit": "5-302", "phone": "13700137000"}
CONTENT = {"content": "小区宽带报装电话是多少"}


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def test_answered_at_once(open_case: Any) -> None:
    walk: Walk = open_case("enquiry", OPEN, "receptionist")
    walk.refused("answer_now", "receptionist", FieldError, CONTENT)
    walk.step(
        "answer_now",
        "receptionist",
        {**CONTENT, "answer": "电信营业厅 10000"},
        to="answered",
        wrong=["owner", "manager"],
    )
    assert walk.trail() == [
        ("open", "receptionist", None, "received"),
        ("answer_now", "receptionist", "received", "answered"),
    ]
    assert walk.engine.sla_status(walk.id) == []


def test_a_reply_time_agreed_at_run_time_is_the_deadline(open_case: Any) -> None:
    walk: Walk = open_case("enquiry", OPEN, "receptionist")
    reply_by = START + timedelta(days=1, hours=2)
    walk.refused("agree_reply_time", "receptionist", FieldError, CONTENT)
    walk.step(
        "agree_reply_time",
        "receptionist",
        {**CONTENT, "reply_by": reply_by.isoformat()},
        to="awaiting_reply",
        wrong=["owner"],
    )
    assert clock_of(walk, "enquiry-reply").deadline == reply_by
    walk.refused("refer_to_department", "receptionist", FieldError)
    walk.step(
        "refer_to_department",
        "receptionist",
        {"referred_department": "工程部"},
        to="awaiting_reply",
        wrong=["dept_head"],
    )
    assert walk.notified()[-1] == ("notify", "dept_head")
    walk.step(
        "reply",
        "dept_head",
        {"answer": "宽带由电信统一报装，电话10000"},
        to="answered",
        wrong=["owner"],
    )
    clock = clock_of(walk, "enquiry-reply")
    assert (clock.status, clock.breached) == ("stopped", False)


def test_no_reply_by_the_agreed_time_escalates_to_the_head(open_case: Any) -> None:
    walk: Walk = open_case("enquiry", OPEN, "receptionist")
    reply_by = datetime(2026, 3, 2, 16, 0, tzinfo=SHANGHAI)
    walk.step(
        "agree_reply_time",
        "receptionist",
        {**CONTENT, "reply_by": reply_by.isoformat()},
        to="awaiting_reply",
    )
    walk.clock.advance(timedelta(hours=8))
    walk.engine.tick()
    clock = clock_of(walk, "enquiry-reply")
    assert (clock.breached, clock.warnings_sent != ()) == (True, True)
    assert walk.engine.get_case(walk.id).assignee == "cs_supervisor"
    assert ("notify", "receptionist") in walk.notified()


def test_an_important_enquiry_is_reported_before_it_is_answered(open_case: Any) -> None:
    walk: Walk = open_case("enquiry", {**OPEN, "important": True}, "receptionist")
    walk.refused("answer_now", "receptionist", GuardRefused, {**CONTENT, "answer": "稍后答复"})
    walk.step("report_important", "receptionist", to="received", wrong=["owner"])
    assert walk.notified() == [("notify", "cs_supervisor")]
    # Reported once: a second report is refused.
    walk.refused("report_important", "receptionist", GuardRefused)
    walk.step("answer_now", "receptionist", {**CONTENT, "answer": "已答复"}, to="answered")


def test_a_question_beyond_the_estate_needs_the_managers_instruction(open_case: Any) -> None:
    walk: Walk = open_case("enquiry", {**OPEN, "topic": "outside"}, "receptionist")
    walk.step(
        "agree_reply_time",
        "receptionist",
        {"content": "房产证何时发放", "reply_by": (START + timedelta(days=2)).isoformat()},
        to="awaiting_reply",
    )
    walk.refused("reply", "receptionist", GuardRefused, {"answer": "不清楚"})
    walk.step(
        "consult_manager",
        "manager",
        {"manager_instruction": "指引业主向开发商销售部查询"},
        to="awaiting_reply",
        wrong=["receptionist", "cs_supervisor"],
    )
    walk.step("reply", "receptionist", {"answer": "请向开发商销售部查询"}, to="answered")
    walk.refused("reply", "receptionist", EventNotAllowed, {"answer": "x"})


def test_desk_log_reviews_are_opened_daily_and_weekly(engine: Any, clock: Any) -> None:
    engine.tick()  # the schedules start from the first tick: Monday 2 March, 09:00
    for _ in range(5):  # each working day at 18:00, Monday to Friday
        clock.advance(timedelta(hours=9))
        engine.tick()
        clock.advance(timedelta(hours=15))
    reviews = engine.query_cases(process="desk_log_review")
    cycles = sorted((str(c.data["review_date"]), c.data["cycle"]) for c in reviews)
    assert cycles == [
        ("2026-03-02", "daily"),
        ("2026-03-03", "daily"),
        ("2026-03-04", "daily"),
        ("2026-03-05", "daily"),
        ("2026-03-06", "daily"),
        ("2026-03-06", "weekly"),
    ]
    assert {c.data["cycle"]: c.assignee for c in reviews} == {
        "daily": "supervisor",
        "weekly": "manager",
    }


def test_each_review_is_made_by_its_own_level(open_case: Any) -> None:
    daily: Walk = open_case(
        "desk_log_review", {"review_date": "2026-03-02", "cycle": "daily"}, "supervisor"
    )
    daily.step(
        "report_up",
        "supervisor",
        {"important_items": "5-302业主咨询房产证发放"},
        to="due",
        wrong=["manager"],
    )
    assert daily.notified()[-1] == ("notify", "manager")
    daily.refused("review", "manager", GuardRefused, {"follow_up": "x"})
    daily.refused("review", "supervisor", FieldError)
    daily.step("review", "supervisor", {"follow_up": "督促工程部明日答复"}, to="reviewed")
    weekly: Walk = open_case(
        "desk_log_review", {"review_date": "2026-03-06", "cycle": "weekly"}, "manager"
    )
    weekly.refused("review", "supervisor", GuardRefused, {"follow_up": "x"})
    weekly.step("review", "manager", {"follow_up": "本周咨询均按时答复"}, to="reviewed")
