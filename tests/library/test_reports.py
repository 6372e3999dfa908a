"""The scheduled reports: 报修单周汇总 (processes/repair_summary.yaml), 协议服务月末回单
(processes/agreement_forms.yaml) and 季度公开管理报告 (processes/public_report.yaml) — every
branch, with the wrong roles refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import FieldError, GuardRefused


def test_weekly_repair_summary_returned_once_then_filed(open_case: Any) -> None:
    walk = open_case("repair_summary", {"week": "2026-W07"}, "receptionist")
    assert walk.state == "collecting"
    walk.refused("submit", "receptionist", FieldError, {"repairs": 42})
    walk.step(
        "submit",
        "receptionist",
        {"repairs": 42, "overdue": 1, "reworked": 2, "analysis": "漏水类报修集中在3号楼"},
        to="submitted",
        wrong=["manager"],
    )
    assert walk.assignee == "manager"
    walk.refused("return_summary", "manager", FieldError)
    walk.step(
        "return_summary",
        "manager",
        {"review_comment": "补充超时原因"},
        to="collecting",
        wrong=["receptionist"],
    )
    assert walk.assignee == "receptionist"
    walk.step(
        "submit", "receptionist", {"repairs": 42, "analysis": "超时一单因等配件"}, to="submitted"
    )
    walk.step("approve", "manager", {"review_comment": "同意"}, to="filed", wrong=["receptionist"])
    assert [entry[0] for entry in walk.trail()][-2:] == ["submit", "approve"]


def test_agreement_forms_returned_by_the_department_and_filed(open_case: Any) -> None:
    walk = open_case("agreement_forms", {"month": "2026-03"}, "dept_head")
    assert walk.state == "due"
    walk.refused("return_forms", "dept_head", FieldError, {"forms": 3})
    walk.step(
        "return_forms",
        "dept_head",
        {"forms": 3, "completion": "均已完成", "workers": "赵师傅", "department_head": "韩主管"},
        to="returned",
        wrong=["receptionist"],
    )
    assert walk.assignee == "receptionist"
    walk.step("file_forms", "receptionist", to="filed", wrong=["dept_head"])


REPORT = {"report_summary": "上季度报修412单，及时率98.5%", "published_where": "小区公告栏、业主群"}


def test_public_report_week_without_questions_files_itself(open_case: Any) -> None:
    walk = open_case("public_report", {"quarter": "2026-Q1"}, "manager")
    assert walk.state == "drafting"
    walk.refused("publish", "manager", FieldError, {"report_summary": "摘要"})
    walk.step("publish", "manager", REPORT, to="questions", wrong=["receptionist", "owner"])
    # Six days and 23 hours on, the week is not over; at seven days the report files itself.
    walk.clock.advance(timedelta(days=6, hours=23))
    walk.engine.tick()
    assert walk.engine.get_case(walk.id).state == "questions"
    walk.clock.advance(timedelta(hours=1))
    walk.engine.tick()
    assert walk.engine.get_case(walk.id).state == "filed"
    assert [e.event for e in walk.engine.history(walk.id)][-2:] == [
        "breach:public-report-questions",
        "end_questions",
    ]


def test_public_report_questions_answered_before_it_is_filed(open_case: Any) -> None:
    walk = open_case("public_report", {"quarter": "2026-Q1"}, "manager")
    walk.step("publish", "manager", REPORT, to="questions")
    # Nothing to answer yet. (The guard reads the case before the event's own `set:`.)
    walk.refused("answer_question", "manager", GuardRefused, {"answer": "无质询"})
    walk.step(
        "raise_question",
        "owner",
        {"question": "电梯维保费用为何上涨", "asked_by": "3-1201 王先生"},
        to="questions",
        wrong=["manager"],
    )
    assert walk.assignee == "manager" and walk.data["questions_open"] is True
    walk.step(
        "answer_question",
        "manager",
        {"answer": "维保合同续签，费用已在公告栏公示"},
        to="questions",
        wrong=["receptionist", "owner"],
    )
    walk.step(
        "raise_question",
        "receptionist",
        {"question": "绿化补种何时完成", "asked_by": "5-0302 李女士（来电）"},
        to="questions",
    )
    # The week ends with that question unanswered: the report is not filed, the director
    # is told, and may not file it either until the answer is given.
    walk.clock.advance(timedelta(days=8))
    walk.engine.tick()
    walk.case = walk.engine.get_case(walk.id)
    assert walk.state == "questions"
    assert ("notify", "manager") in [(o.kind, o.role) for o in walk.engine.outbox(walk.id)]
    walk.refused("end_questions", "manager", GuardRefused)
    walk.step("answer_question", "manager", {"answer": "本月底前完成"}, to="questions")
    walk.step("end_questions", "manager", to="filed", wrong=["owner", "receptionist"])
