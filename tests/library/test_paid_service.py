"""有偿服务 (processes/paid_service.yaml, rules/paid_service.yaml) and its monthly ledger
(processes/paid_service_ledger.yaml): registered and priced at the desk, approved by the head,
paid before the work (or after, on the head's approval or where the estate collects after the
work), the signed order back the same day, the follow-up only once paid, and the ledger
reported each month."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import EventNotAllowed, FieldError, GuardRefused
from tests.library.conftest import Walk

OPEN = {"unit": "2-1103", "phone": "13600136000", "service": "installation"}
ORDER = {"content": "安装浴霸", "fee": "150.00", "materials": "浴霸（住户自购）"}


def approved(open_case: Any, **extra: Any) -> Walk:
    walk: Walk = open_case("paid_service", {**OPEN, **extra}, "receptionist")
    walk.refused("approve", "head", FieldError, {"content": "安装浴霸"})
    walk.step("approve", "head", ORDER, to="approved", wrong=["receptionist", "technician"])
    assert (walk.data["approved"], walk.assignee) == (True, "receptionist")
    return walk


def done(walk: Walk) -> None:
    walk.step(
        "book",
        "receptionist",
        {"appointment_at": "2026-03-02T14:00:00+08:00"},
        to="scheduled",
        wrong=["technician"],
    )
    walk.refused("complete", "technician", FieldError, {"work_done": "已安装"})
    walk.step(
        "complete",
        "technician",
        {"work_done": "已安装并调试，向住户讲解使用", "work_date": "2026-03-02"},
        to="completed",
        wrong=["receptionist", "owner"],
    )
    assert walk.data["owner_signed"] is True
    walk.step("return_order", "technician", to="filed", wrong=["owner"])


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def test_paid_first_approved_done_returned_and_followed_up(open_case: Any) -> None:
    walk = approved(open_case)
    # Pay first: the visit waits for the receipt.
    walk.refused("book", "receptionist", EventNotAllowed, {"appointment_at": "2026-03-02T14:00"})
    walk.refused("book_after_work_payment", "receptionist", GuardRefused)
    walk.refused("pay", "receptionist", FieldError)
    walk.step(
        "pay", "receptionist", {"receipt_no": "YC-0001"}, to="scheduled", wrong=["technician"]
    )
    done(walk)
    order = clock_of(walk, "paid-order-return")
    assert (order.status, order.breached) == ("stopped", False)
    walk.refused("settle", "receptionist", GuardRefused, {"receipt_no": "YC-0002"})
    walk.step(
        "follow_up",
        "receptionist",
        {"visit_result": "电话询问：使用正常，住户满意"},
        to="closed",
        wrong=["technician"],
    )


def test_pay_after_needs_the_heads_approval(open_case: Any) -> None:
    walk = approved(open_case)
    walk.refused("approve_pay_after", "head", FieldError)
    walk.step(
        "approve_pay_after",
        "head",
        {"pay_after_reason": "住户出差，完工后由家人结清"},
        to="scheduled",
        wrong=["receptionist"],
    )
    done(walk)
    # Not followed up (closed) before the charge is settled.
    walk.refused("follow_up", "receptionist", GuardRefused, {"visit_result": "满意"})
    walk.step("settle", "receptionist", {"receipt_no": "YC-0003"}, to="filed")
    walk.step("follow_up", "receptionist", {"visit_result": "满意"}, to="closed")


def test_an_estate_that_collects_after_the_work_books_at_once(open_case: Any) -> None:
    walk = approved(open_case, payment_rule="pay_after")
    walk.refused("approve_pay_after", "head", GuardRefused, {"pay_after_reason": "x"})
    walk.step("book_after_work_payment", "receptionist", to="scheduled", wrong=["technician"])
    done(walk)
    walk.step("settle", "receptionist", {"receipt_no": "YC-0004"}, to="filed")
    walk.step("follow_up", "receptionist", {"visit_result": "满意"}, to="closed")


def test_the_head_may_refuse_an_order(open_case: Any) -> None:
    walk: Walk = open_case("paid_service", OPEN, "receptionist")
    walk.refused("refuse", "head", FieldError)
    walk.step("refuse", "head", {"refusal_reason": "不属服务范围"}, to="refused", wrong=["owner"])
    assert walk.notified() == [("notify", "receptionist")]


def test_an_order_not_returned_the_same_day_breaches(open_case: Any) -> None:
    walk = approved(open_case)
    walk.step("pay", "receptionist", {"receipt_no": "YC-0005"}, to="scheduled")
    walk.step(
        "complete",
        "technician",
        {"work_done": "已安装", "work_date": "2026-03-02"},
        to="completed",
    )
    order = clock_of(walk, "paid-order-return")
    assert order.deadline.isoformat() == "2026-03-03T00:00:00+08:00"
    walk.clock.advance(timedelta(days=1))
    walk.engine.tick()
    assert clock_of(walk, "paid-order-return").breached is True
    assert {("notify", "receptionist"), ("notify", "head")} <= set(walk.notified())


def test_the_required_completion_time_is_the_deadline(open_case: Any) -> None:
    walk = approved(open_case, due_by="2026-03-03T18:00:00+08:00")
    walk.step("pay", "receptionist", {"receipt_no": "YC-0006"}, to="scheduled")
    due = clock_of(walk, "paid-service-due")
    assert due.deadline.isoformat() == "2026-03-03T18:00:00+08:00"
    walk.clock.advance(timedelta(days=2))
    walk.engine.tick()
    assert clock_of(walk, "paid-service-due").breached is True


def test_the_monthly_ledger_is_opened_reviewed_and_sent_back(
    open_case: Any, engine: Any, clock: Any
) -> None:
    engine.tick()  # Monday 2 March 2026, 09:00: March's first working day, for February
    clock.advance(timedelta(days=30))  # Wednesday 1 April, 09:00: for March
    engine.tick()
    ledgers = sorted(
        engine.query_cases(process="paid_service_ledger"), key=lambda c: c.data["month"]
    )
    assert [(c.data["month"], c.assignee) for c in ledgers] == [
        ("2026-02", "receptionist"),
        ("2026-03", "receptionist"),
    ]
    ledger = ledgers[-1]
    walk = Walk(engine, clock, ledger)
    walk.refused("submit", "receptionist", FieldError, {"services": 12})
    walk.step("submit", "receptionist", {"services": 12, "amount": "1860.00"}, to="submitted")
    walk.step(
        "send_back",
        "head",
        {"review_comment": "与收据存根差80元"},
        to="compiling",
        wrong=["receptionist"],
    )
    walk.step(
        "submit",
        "receptionist",
        {"amount": "1940.00", "discrepancies": "漏记一笔换锁收费80元"},
        to="submitted",
    )
    walk.step("accept", "head", to="accepted")
