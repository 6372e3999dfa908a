"""报修处理 (processes/repair.yaml): every branch of the repair procedure, walked through the
runtime — public vs in-unit, chargeable work quoted and paid before dispatch or pay-after
approved by the head, urgent direct dispatch, on-site confirmation, owner-supplied materials,
withdrawal (注销), warranty transfer, return of unfixable items (退单), emergencies worked
first (先作业后补单), three signatures, the return visit and rework."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.runtime import EventNotAllowed, EventRefused, FieldError, GuardRefused
from tests.library.conftest import START

IN_UNIT = {"scope": "in_unit", "unit": "3-1201"}
PUBLIC = {"scope": "public", "unit": "3号楼大堂"}

FORM = {
    "owner_name": "王先生",
    "phone": "13800138000",
    "content": "厨房下水道堵塞",
    "location": "厨房",
    "category": "drain",
}


def record(walk: Any, **extra: Any) -> None:
    """The receptionist fills in the repair form: received → reported, to the supervisor."""
    walk.step("record", "receptionist", {**FORM, **extra}, to="reported", wrong=["technician"])
    assert walk.assignee == "supervisor"


def on_site(walk: Any) -> None:
    """The technician calls the owner, confirms the item on site and plans the work."""
    walk.step("contact_owner", "technician", to="dispatched", wrong=["receptionist"])
    assert walk.data["owner_contacted"] is True
    walk.step(
        "confirm_on_site",
        "technician",
        {"actual_situation": "存水弯堵塞", "differences": "报修为下水道，实为洗菜盆存水弯"},
        to="in_progress",
        wrong=["supervisor", "owner"],
    )
    walk.step("record_plan", "technician", {"work_plan": "拆洗存水弯"}, to="in_progress")


def finish(walk: Any) -> None:
    """The technician finishes and signs: in_progress → awaiting_signoff."""
    walk.step(
        "finish_work",
        "technician",
        {"work_done": "疏通并更换存水弯", "materials_used": ["存水弯 1个"], "hours": 1},
        to="awaiting_signoff",
        wrong=["owner", "supervisor"],
    )
    assert walk.data["technician_signed"] is True


def sign_off(walk: Any) -> None:
    """Owner and supervisor sign: awaiting_signoff → signed_off, back to the desk."""
    walk.step("owner_accept", "owner", to="awaiting_signoff", wrong=["receptionist"])
    walk.step("supervisor_sign", "supervisor", to="signed_off", wrong=["technician", "head"])
    assert walk.assignee == "receptionist"
    assert (
        walk.data["owner_signed"],
        walk.data["technician_signed"],
        walk.data["supervisor_signed"],
    ) == (True, True, True)


def return_visit(walk: Any) -> None:
    walk.step(
        "return_visit",
        "receptionist",
        {"visit_method": "phone", "visit_result": "已修复，业主满意", "satisfaction": "satisfied"},
        to="closed",
        wrong=["technician", "cs_supervisor"],
    )
    assert walk.engine.get_case(walk.id).closed_at == walk.clock.now()


# --- in-unit, public --------------------------------------------------------------------------


def test_in_unit_general_repair_from_report_to_closed(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    assert walk.state == "received"
    # An in-unit request needs the resident's name on the form.
    walk.refused("record", "receptionist", GuardRefused, {**FORM, "owner_name": None})
    walk.refused("record", "receptionist", FieldError, {"owner_name": "王先生"})
    record(walk)
    # A general item is dispatched by the maintenance supervisor only.
    walk.refused("dispatch", "receptionist", GuardRefused, {"technician": "刘师傅"})
    walk.refused("dispatch", "supervisor", FieldError)
    walk.step(
        "dispatch",
        "supervisor",
        {"technician": "刘师傅"},
        to="dispatched",
        wrong=["technician", "owner", "head"],
    )
    assert walk.assignee == "technician"
    on_site(walk)
    walk.step(
        "report_status",
        "supervisor",
        {"status_note": "已到场处理"},
        to="in_progress",
        wrong=["technician"],
    )
    finish(walk)
    # In-unit work: the supervisor signs only after the owner has.
    walk.refused("supervisor_sign", "supervisor", GuardRefused)
    sign_off(walk)
    # Common-facility filing is not for in-unit work.
    walk.refused("archive", "supervisor", GuardRefused)
    # The owner's satisfaction is a required answer of the return visit, from its list only.
    visit = {"visit_method": "phone", "visit_result": "已修复"}
    walk.refused("return_visit", "receptionist", FieldError, visit)
    walk.refused("return_visit", "receptionist", FieldError, {**visit, "satisfaction": "ok"})
    return_visit(walk)
    walk.refused("rework", "receptionist", EventNotAllowed, {"visit_result": "x"})
    assert walk.trail() == [
        ("open", "receptionist", None, "received"),
        ("record", "receptionist", "received", "reported"),
        ("dispatch", "supervisor", "reported", "dispatched"),
        ("contact_owner", "technician", "dispatched", "dispatched"),
        ("confirm_on_site", "technician", "dispatched", "in_progress"),
        ("record_plan", "technician", "in_progress", "in_progress"),
        ("report_status", "supervisor", "in_progress", "in_progress"),
        ("finish_work", "technician", "in_progress", "awaiting_signoff"),
        ("owner_accept", "owner", "awaiting_signoff", "awaiting_signoff"),
        ("supervisor_sign", "supervisor", "awaiting_signoff", "signed_off"),
        ("return_visit", "receptionist", "signed_off", "closed"),
    ]
    assert walk.data["differences"] == "报修为下水道，实为洗菜盆存水弯"


def test_public_facility_repair_is_signed_and_filed_by_the_supervisor(open_case: Any) -> None:
    walk = open_case("repair", PUBLIC, "receptionist")
    # Common facilities need no resident's name.
    record(walk, owner_name=None, category="electrical", content="大堂灯不亮", location="大堂")
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    walk.step("confirm_on_site", "technician", {"actual_situation": "镇流器损坏"}, to="in_progress")
    # Owner-supplied materials only arise inside a unit.
    walk.refused(
        "verify_owner_materials", "technician", GuardRefused, {"material_verdict": "passed"}
    )
    walk.step(
        "finish_work",
        "technician",
        {"work_done": "更换镇流器", "hours": 1},
        to="awaiting_signoff",
    )
    # No owner signs for common facilities: the supervisor signs and keeps the form.
    walk.step("supervisor_sign", "supervisor", to="signed_off", wrong=["owner"])
    assert walk.data["owner_signed"] is False
    walk.step("archive", "supervisor", to="closed", wrong=["receptionist", "technician"])
    assert [row[0] for row in walk.trail()] == [
        "open",
        "record",
        "dispatch",
        "confirm_on_site",
        "finish_work",
        "supervisor_sign",
        "archive",
    ]


# --- chargeable work --------------------------------------------------------------------------


def test_chargeable_work_is_quoted_and_paid_before_dispatch(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    # The desk told the owner it is chargeable: no dispatch before the quote and payment.
    record(walk, chargeable=True)
    walk.refused("dispatch", "supervisor", GuardRefused, {"technician": "刘师傅"})
    walk.refused("quote", "receptionist", FieldError)
    walk.step("quote", "receptionist", {"fee": "80.00"}, to="quoted", wrong=["owner", "head"])
    assert walk.data["fee"] == "80.00"
    walk.refused("dispatch", "supervisor", EventNotAllowed, {"technician": "刘师傅"})
    walk.step("accept_quote", "owner", to="awaiting_payment", wrong=["technician"])
    assert walk.data["quote_accepted"] is True
    # Accepted but not paid: still no dispatch.
    walk.refused("dispatch", "supervisor", GuardRefused, {"technician": "刘师傅"})
    walk.refused("pay", "receptionist", FieldError)
    walk.step(
        "pay",
        "receptionist",
        {"receipt_no": "SF-2026-0031"},
        to="awaiting_payment",
        wrong=["owner", "technician", "supervisor"],
    )
    assert walk.data["paid"] is True
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    return_visit(walk)
    assert [row[0] for row in walk.trail()][:7] == [
        "open",
        "record",
        "quote",
        "accept_quote",
        "pay",
        "dispatch",
        "contact_owner",
    ]


def test_technician_quotes_on_arrival_and_work_waits_for_payment(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    # Found to be chargeable before work starts: quoted on the spot.
    walk.step("quote", "technician", {"fee": "150.00"}, to="quoted")
    assert walk.data["chargeable"] is True
    walk.step("accept_quote", "receptionist", to="awaiting_payment")
    walk.refused("dispatch", "supervisor", GuardRefused)
    walk.step("pay", "receptionist", {"receipt_no": "SF-2026-0032"}, to="awaiting_payment")
    walk.step("dispatch", "supervisor", to="dispatched")
    on_site(walk)


def test_pay_after_the_work_needs_the_heads_approval(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("quote", "receptionist", {"fee": "200.00"}, to="quoted")
    walk.step("accept_quote", "owner", to="awaiting_payment")
    walk.refused("dispatch", "supervisor", GuardRefused, {"technician": "刘师傅"})
    walk.refused("approve_pay_after", "head", FieldError)
    walk.step(
        "approve_pay_after",
        "head",
        {"pay_after_reason": "业主外出未带现金，完工后结清"},
        to="awaiting_payment",
        wrong=["receptionist", "supervisor", "manager"],
    )
    assert walk.data["pay_after_approved"] is True
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    # Unpaid chargeable work is not closed by the return visit.
    walk.refused(
        "return_visit",
        "receptionist",
        GuardRefused,
        {"visit_method": "phone", "visit_result": "已修复", "satisfaction": "satisfied"},
    )
    walk.step(
        "pay",
        "receptionist",
        {"receipt_no": "SF-2026-0040"},
        to="signed_off",
        wrong=["owner", "head"],
    )
    return_visit(walk)
    assert ("approve_pay_after", "head", "awaiting_payment", "awaiting_payment") in walk.trail()


def test_free_work_cannot_be_charged(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    walk.refused("pay", "receptionist", GuardRefused, {"fee": "10.00", "receipt_no": "X1"})


# --- urgent items -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["receptionist", "cs_supervisor", "supervisor"])
def test_urgent_item_may_be_dispatched_directly(open_case: Any, role: str) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk, urgency="urgent", category="leak", content="水管爆裂漏水")
    walk.step(
        "dispatch",
        role,
        {"technician": "刘师傅"},
        to="dispatched",
        wrong=["technician", "owner", "head"],
    )
    assert walk.assignee == "technician"


@pytest.mark.parametrize("role", ["receptionist", "cs_supervisor"])
def test_general_item_is_refused_to_the_desk(open_case: Any, role: str) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    refusal = walk.refused("dispatch", role, GuardRefused, {"technician": "刘师傅"})
    assert "urgency == 'urgent'" in refusal.reason
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")


# --- owner-supplied materials -----------------------------------------------------------------


@pytest.mark.parametrize("verdict", ["failed", "poor"])
def test_unsuitable_owner_materials_need_the_owner_to_insist(open_case: Any, verdict: str) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    walk.refused("verify_owner_materials", "technician", FieldError)
    walk.step(
        "verify_owner_materials",
        "technician",
        {"material_verdict": verdict},
        to="in_progress",
        wrong=["owner", "supervisor"],
    )
    assert walk.data["owner_materials"] is True
    walk.refused("finish_work", "technician", GuardRefused, {"work_done": "安装", "hours": 1})
    walk.step("owner_insists", "owner", to="in_progress", wrong=["receptionist", "supervisor"])
    assert walk.data["owner_insisted"] is True
    finish(walk)
    sign_off(walk)
    return_visit(walk)


def test_owner_materials_that_pass_need_no_insisting(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    walk.step(
        "verify_owner_materials", "technician", {"material_verdict": "passed"}, to="in_progress"
    )
    walk.refused("owner_insists", "owner", GuardRefused)
    finish(walk)


# --- withdrawal, warranty, return -------------------------------------------------------------


@pytest.mark.parametrize("stage", ["reported", "quoted", "dispatched", "in_progress"])
def test_owner_withdraws_and_the_request_is_voided(open_case: Any, stage: str) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    if stage == "quoted":
        walk.step("quote", "receptionist", {"fee": "80.00"}, to="quoted")
    if stage in ("dispatched", "in_progress"):
        walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    if stage == "in_progress":
        walk.step("confirm_on_site", "technician", {"actual_situation": "堵塞"}, to="in_progress")
    assert walk.state == stage
    walk.step("withdraw", "owner", to="cancel_pending", wrong=["head", "manager"])
    assert walk.assignee == "supervisor"
    # The supervisor notes the reason and signs before the desk voids it.
    walk.refused("confirm_cancel", "supervisor", FieldError)
    walk.step(
        "confirm_cancel",
        "supervisor",
        {"cancel_reason": "业主对收费有异议，自行处理"},
        to="cancelled",
        wrong=["receptionist", "owner", "technician"],
    )
    assert ("notify", "receptionist") in walk.notified()
    walk.refused("dispatch", "supervisor", EventNotAllowed, {"technician": "刘师傅"})
    assert walk.trail()[-2:] == [
        ("withdraw", "owner", stage, "cancel_pending"),
        ("confirm_cancel", "supervisor", "cancel_pending", "cancelled"),
    ]


def test_warranty_item_goes_to_the_developer(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk, category="civil", content="外墙渗水", location="卧室外墙")
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    walk.step(
        "transfer_to_developer",
        "supervisor",
        to="with_developer",
        wrong=["receptionist", "technician", "owner"],
    )
    assert walk.data["in_warranty"] is True
    walk.refused("developer_done", "supervisor", FieldError)
    walk.step(
        "developer_done",
        "supervisor",
        {"developer_result": "建设部已安排施工单位修补外墙"},
        to="signed_off",
        wrong=["technician", "owner"],
    )
    assert walk.assignee == "receptionist"
    return_visit(walk)
    assert [row[0] for row in walk.trail()] == [
        "open",
        "record",
        "dispatch",
        "transfer_to_developer",
        "developer_done",
        "return_visit",
    ]


def test_unfixable_item_is_returned_with_the_department_heads_signature(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    walk.step("confirm_on_site", "technician", {"actual_situation": "主管道堵塞"}, to="in_progress")
    walk.refused("propose_return", "technician", FieldError)
    walk.step(
        "propose_return",
        "technician",
        {"return_reason": "需市政疏通主管道，超出维修范围"},
        to="return_pending",
        wrong=["receptionist", "owner"],
    )
    # Seed 001 §5.2.4: the responsible department head signs the return, not the
    # service-centre head.
    assert walk.assignee == "dept_head"
    walk.refused("approve_return", "dept_head", FieldError)
    walk.step(
        "approve_return",
        "dept_head",
        {"explanation": "已向业主说明需联系市政部门"},
        to="returned",
        wrong=["head", "supervisor", "receptionist", "manager"],
    )
    assert ("notify", "receptionist") in walk.notified()
    assert walk.trail()[-2:] == [
        ("propose_return", "technician", "in_progress", "return_pending"),
        ("approve_return", "dept_head", "return_pending", "returned"),
    ]


def test_department_head_may_refuse_the_return_and_the_repair_continues(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    walk.step("propose_return", "supervisor", {"return_reason": "缺少配件"}, to="return_pending")
    walk.step("reject_return", "dept_head", to="dispatched", wrong=["supervisor", "head"])
    assert ("notify", "supervisor") in walk.notified()
    on_site(walk)


# --- emergencies ------------------------------------------------------------------------------


def test_emergency_is_worked_first_and_the_paperwork_completed_after(open_case: Any) -> None:
    walk = open_case("repair", {"scope": "public", "unit": "5号楼"}, "receptionist")
    walk.refused("start_emergency_work", "receptionist", FieldError)
    walk.step(
        "start_emergency_work",
        "receptionist",
        {"emergency_type": "flooding"},
        to="working_paperwork_pending",
        wrong=["technician", "owner", "head"],
    )
    assert (walk.data["emergency"], walk.data["urgency"]) == (True, "urgent")
    assert walk.notified() == [("notify", "supervisor"), ("notify", "head")]
    # The work is under way; the form is completed afterwards.
    walk.refused("complete_paperwork", "supervisor", FieldError, {"content": "5号楼地下室跑水"})
    walk.step(
        "complete_paperwork",
        "supervisor",
        {
            "content": "5号楼地下室跑水",
            "location": "地下室水泵房",
            "category": "plumbing",
            "technician": "刘师傅",
            "actual_situation": "水泵房进水阀爆裂，已关闭总阀",
        },
        to="in_progress",
        wrong=["technician", "owner"],
    )
    assert walk.data["paperwork_completed"] is True
    walk.step(
        "finish_work", "technician", {"work_done": "更换进水阀", "hours": 3}, to="awaiting_signoff"
    )
    walk.step("supervisor_sign", "supervisor", to="signed_off")
    walk.step("archive", "supervisor", to="closed")
    assert walk.trail() == [
        ("open", "receptionist", None, "received"),
        ("start_emergency_work", "receptionist", "received", "working_paperwork_pending"),
        ("complete_paperwork", "supervisor", "working_paperwork_pending", "in_progress"),
        ("finish_work", "technician", "in_progress", "awaiting_signoff"),
        ("supervisor_sign", "supervisor", "awaiting_signoff", "signed_off"),
        ("archive", "supervisor", "signed_off", "closed"),
    ]


# --- sign-off, return visit and rework --------------------------------------------------------


def test_failed_acceptance_goes_back_for_a_second_handling(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    walk.refused("owner_reject", "owner", FieldError)
    walk.step(
        "owner_reject",
        "owner",
        {"rejection_reason": "仍有渗水"},
        to="in_progress",
        wrong=["supervisor", "receptionist"],
    )
    finish(walk)
    sign_off(walk)
    return_visit(walk)


def test_rework_after_a_failed_return_visit(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    walk.refused("rework", "receptionist", FieldError)
    walk.step(
        "rework",
        "receptionist",
        {"visit_result": "回访时业主反映仍然堵塞", "satisfaction": "dissatisfied"},
        to="dispatched",
        wrong=["technician", "owner"],
    )
    assert ("notify", "supervisor") in walk.notified()
    # The signatures of the first round no longer count.
    assert (
        walk.data["owner_signed"],
        walk.data["technician_signed"],
        walk.data["supervisor_signed"],
    ) == (False, False, False)
    on_site(walk)
    finish(walk)
    sign_off(walk)
    return_visit(walk)
    events = [row[0] for row in walk.trail()]
    assert events.count("finish_work") == 2
    assert events[-1] == "return_visit"
    assert ("rework", "receptionist", "signed_off", "dispatched") in walk.trail()


def test_cs_supervisor_may_send_work_back_after_a_sample_visit(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    walk.step("rework", "cs_supervisor", {"visit_result": "抽样回访未修好"}, to="dispatched")


# --- fields an event may fill in ------------------------------------------------------------


def test_payment_flags_cannot_be_written_by_an_unrelated_event(open_case: Any, people: Any) -> None:
    """An event may fill in only the fields it requires or accepts: the desk cannot mark paid."""
    walk = open_case("repair", IN_UNIT, "receptionist")
    with pytest.raises(EventRefused):
        walk.engine.fire(
            walk.id,
            "record",
            people["receptionist"],
            {**FORM, "chargeable": True, "paid": True},
        )


# --- time limits the defects list named ------------------------------------------------------


def clock_of(walk: Any, limit: str) -> Any:
    """The case's clock of time limit ``limit``."""
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def test_rework_after_a_failed_return_visit_is_timed_again(open_case: Any) -> None:
    walk = open_case("repair", {**IN_UNIT, "category": "civil"}, "receptionist")
    record(walk, category="civil", content="卫生间墙面空鼓", location="卫生间")
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    assert clock_of(walk, "repair-general").status == "stopped"
    walk.step("rework", "receptionist", {"visit_result": "墙面仍空鼓"}, to="dispatched")
    rework = clock_of(walk, "repair-general")
    # A fresh 3-day clock from the send-back, not the first round's.
    assert (rework.status, rework.started_at) == ("running", walk.clock.now())
    assert rework.deadline == walk.clock.now() + timedelta(days=3)
    walk.clock.advance(timedelta(days=10))
    walk.engine.tick()
    assert clock_of(walk, "repair-general").breached is True
    assert ("escalate", "head") in walk.notified()


def test_an_emergency_not_reported_within_90_seconds_breaches(open_case: Any) -> None:
    walk = open_case(
        "repair", {**PUBLIC, "emergency": True, "emergency_type": "flooding"}, "receptionist"
    )
    assert clock_of(walk, "repair-emergency-report").status == "running"
    walk.clock.advance(timedelta(minutes=5))
    walk.engine.tick()
    breach = clock_of(walk, "repair-emergency-report")
    assert (breach.breached, breach.deadline) == (True, START + timedelta(seconds=90))
    assert ("notify", "head") in walk.notified()


def test_an_emergency_reported_up_in_time_does_not_breach(open_case: Any) -> None:
    walk = open_case(
        "repair", {**PUBLIC, "emergency": True, "emergency_type": "lift"}, "receptionist"
    )
    walk.refused("report_emergency", "receptionist", FieldError, {"emergency_type": None})
    walk.step(
        "report_emergency",
        "receptionist",
        {"emergency_type": "lift"},
        to="received",
        wrong=["technician", "owner"],
        after=timedelta(seconds=60),
    )
    assert walk.notified()[-2:] == [("notify", "supervisor"), ("notify", "head")]
    walk.clock.advance(timedelta(minutes=5))
    walk.engine.tick()
    report = clock_of(walk, "repair-emergency-report")
    assert (report.status, report.breached) == ("stopped", False)


def test_an_emergency_recorded_without_being_reported_still_breaches(open_case: Any) -> None:
    walk = open_case(
        "repair", {**IN_UNIT, "emergency": True, "emergency_type": "outage"}, "receptionist"
    )
    record(walk)
    walk.clock.advance(timedelta(minutes=1))
    walk.engine.tick()
    assert clock_of(walk, "repair-emergency-report").breached is True


def test_return_visit_default_is_one_working_day(open_case: Any) -> None:
    walk = open_case("repair", IN_UNIT, "receptionist")
    record(walk)
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    visit = clock_of(walk, "repair-return-visit")
    # Signed off on Monday morning: due by the same time on Tuesday (office calendar).
    assert visit.deadline == walk.clock.now() + timedelta(days=1)


def test_pay_after_estates_dispatch_chargeable_work_before_payment(open_case: Any) -> None:
    walk = open_case("repair", {**IN_UNIT, "payment_rule": "pay_after"}, "receptionist")
    record(walk, chargeable=True)
    walk.step("quote", "receptionist", {"fee": "80.00"}, to="quoted")
    walk.step("accept_quote", "owner", to="awaiting_payment")
    # No payment and no approval: the estate's rule is pay at the desk after the work.
    walk.step("dispatch", "supervisor", {"technician": "刘师傅"}, to="dispatched")
    on_site(walk)
    finish(walk)
    sign_off(walk)
    # The fee is still settled before the return visit closes the case.
    walk.refused(
        "return_visit",
        "receptionist",
        GuardRefused,
        {"visit_method": "phone", "visit_result": "已修复"},
    )
    walk.step("pay", "receptionist", {"receipt_no": "SF-2026-0032"}, to="signed_off")
    return_visit(walk)


def test_the_library_default_is_pay_first(engine: Any) -> None:
    assert engine.definition("repair").fields["payment_rule"].default == "pay_first"
