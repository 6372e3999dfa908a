"""The scheduled reports: 报修单周汇总 (processes/repair_summary.yaml) and 协议服务月末回单
(processes/agreement_forms.yaml) — every branch, with the wrong roles refused."""

from __future__ import annotations

from typing import Any

from engine.runtime import FieldError


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
