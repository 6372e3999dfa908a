"""二次装修管理 (processes/renovation.yaml, rules/renovation.yaml), seed 002 篇一 §4 and 篇二
（一）7: applied at the desk, reviewed by engineering and approved by the estate director (the
two controls), the agreement signed before the permit, patrolled every working day, a
violation stopped until put right, accepted against the plan; refused, withdrawn, or sent back
for a revised plan. The time limits are the library's documented defaults (the seed gives no
figures)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import EventNotAllowed, FieldError, GuardRefused
from tests.library.conftest import Walk

OPEN = {"unit": "5-1-1201", "owner_name": "吴先生"}
SUBMIT = {
    "phone": "13611112222",
    "contractor": "美居装饰工程有限公司",
    "contractor_licence": "D233100158",
    "plan_summary": "厨房、卫生间翻新",
    "planned_start": "2026-03-09",
    "planned_end": "2026-04-10",
}


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def under_review(open_case: Any, **changes: Any) -> Walk:
    walk: Walk = open_case("renovation", OPEN, "receptionist")
    walk.refused("submit", "receptionist", FieldError, {"phone": "13611112222"})
    walk.step("submit", "receptionist", {**SUBMIT, **changes}, to="under_review", wrong=["owner"])
    assert walk.data["documents_complete"] is True
    assert walk.assignee == "engineer"
    return walk


def approved(open_case: Any) -> Walk:
    walk = under_review(open_case)
    walk.step("pass_review", "engineer", {"review_opinion": "符合要求"}, to="awaiting_approval",
              wrong=["receptionist"])  # fmt: skip
    walk.step("approve", "manager", {"approval_opinion": "同意"}, to="approved",
              wrong=["engineer"])  # fmt: skip
    return walk


def test_applied_reviewed_approved_patrolled_and_accepted(open_case: Any) -> None:
    walk = under_review(open_case)
    walk.step("request_revision", "engineer", {"revision_request": "卫生间须做闭水试验"},
              to="revising", wrong=["manager"])  # fmt: skip
    walk.step("resubmit", "owner", {"plan_summary": "卫生间二次防水并做闭水试验"},
              to="under_review")  # fmt: skip
    walk.step("pass_review", "engineer", {"review_opinion": "符合要求"}, to="awaiting_approval")
    walk.step("approve", "manager", {"approval_opinion": "同意"}, to="approved")
    walk.refused("issue_permit", "receptionist", GuardRefused, {"permit_no": "ZX-018"})
    walk.step("sign_agreement", "owner", to="approved", wrong=["engineer"])
    walk.step("issue_permit", "receptionist", {"permit_no": "ZX-018"}, to="in_works")
    assert walk.notified()[-1] == ("notify", "security")
    walk.step("inspect", "security", {"inspection_note": "按方案施工"}, to="in_works")
    walk.step("record_violation", "engineer", {"violation": "楼道堆放装修垃圾"},
              to="suspended", wrong=["owner"])  # fmt: skip
    assert walk.data["had_violation"] is True
    walk.step("confirm_rectified", "engineer", {"rectification_note": "已清运"}, to="in_works",
              wrong=["security"])  # fmt: skip
    walk.step("report_completion", "owner", {"completion_date": "2026-04-10"},
              to="completion_check")  # fmt: skip
    walk.step("fail_acceptance", "engineer", {"acceptance_defects": "插座未装面板"},
              to="in_works")  # fmt: skip
    walk.step("report_completion", "receptionist", {"completion_date": "2026-04-12"},
              to="completion_check")  # fmt: skip
    walk.step("accept_works", "engineer", {"acceptance_note": "验收合格"}, to="closed",
              wrong=["manager"])  # fmt: skip
    assert walk.notified()[-1] == ("notify", "receptionist")


def test_load_bearing_changes_are_refused_not_approved(open_case: Any) -> None:
    walk = under_review(open_case, structural_change=True)
    walk.step("pass_review", "engineer", {"review_opinion": "涉及承重墙"}, to="awaiting_approval")
    walk.refused("approve", "manager", GuardRefused, {"approval_opinion": "同意"})
    walk.refused("reject", "manager", FieldError)
    walk.step("reject", "manager", {"rejection_reason": "拆改承重墙"}, to="rejected",
              wrong=["engineer"])  # fmt: skip


def test_withdrawn_before_the_works(open_case: Any) -> None:
    walk = under_review(open_case)
    walk.step("withdraw", "owner", {"withdraw_reason": "暂缓装修"}, to="withdrawn",
              wrong=["engineer"])  # fmt: skip


def test_the_review_and_the_rectification_are_timed_on_working_days(open_case: Any) -> None:
    walk = under_review(open_case)  # Monday 2 March, 09:02
    review = clock_of(walk, "renovation-review")
    assert review.deadline == walk.clock.now() + timedelta(days=3)  # Thursday, same time
    walk.clock.advance(timedelta(days=5))  # the weekend does not count
    walk.engine.tick()
    assert clock_of(walk, "renovation-review").breached is True
    assert walk.notified()[-1] == ("notify", "manager")


def test_a_patrol_is_due_every_working_day_and_a_violation_left_escalates(
    open_case: Any,
) -> None:
    walk = approved(open_case)
    walk.step("sign_agreement", "receptionist", to="approved")
    walk.step("issue_permit", "receptionist", {"permit_no": "ZX-019"}, to="in_works")
    before = len(walk.notified())
    for _ in range(7 * 24):  # a week, ticked hourly: five working days
        walk.clock.advance(timedelta(hours=1))
        walk.engine.tick()
    reminders = walk.notified()[before:]
    assert reminders == [("notify", "engineer")] * 5
    walk.step("record_violation", "security", {"violation": "擅自改动燃气管线"}, to="suspended")
    assert walk.notified()[-1] == ("notify", "manager")
    walk.clock.advance(timedelta(days=5))
    walk.engine.tick()
    assert clock_of(walk, "renovation-rectification").breached is True
    walk.case = walk.engine.get_case(walk.id)  # the escalation changed the case
    assert walk.assignee == "manager"
    walk.refused("report_completion", "owner", EventNotAllowed, {"completion_date": "2026-03-20"})
