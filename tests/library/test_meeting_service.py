"""会议接待服务 (processes/meeting_service.yaml): notice → preparation (each checklist item
ticked before the room is ready) → in session (tea, ashtrays) → clearing up (each item ticked
before the service is recorded)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.runtime import EventNotAllowed, FieldError, GuardRefused

OPEN = {
    "host": "业主委员会",
    "meeting_at": "2026-03-03T14:00:00+08:00",
    "contact": "张主任",
    "contact_phone": "13900139000",
    "guest_profile": "业委会委员及街道办领导",
    "needs": "投影仪一台",
    "important": True,
}

PREPARATION = [
    "banner_hung",
    "seating_arranged",
    "sign_in_desk_ready",
    "equipment_checked",
    "supplies_ready",
]
CLEARING = ["guests_seen_off", "left_items_checked", "equipment_ok", "cleaned", "locked"]


def test_meeting_service_from_notice_to_record(open_case: Any) -> None:
    walk = open_case("meeting_service", OPEN, "supervisor")
    assert walk.state == "notified"
    walk.refused("start_preparation", "supervisor", FieldError, {"room": "会所二楼会议室"})
    walk.step(
        "start_preparation",
        "supervisor",
        {"attendees_count": 20, "room": "会所二楼会议室"},
        to="preparing",
        wrong=["attendant"],
    )
    assert walk.assignee == "attendant"
    # The room is not ready until every preparation item is ticked.
    for done, item in enumerate(PREPARATION):
        walk.refused("confirm_ready", "supervisor", GuardRefused)
        walk.step(
            "record_preparation",
            "attendant" if done % 2 == 0 else "supervisor",
            {item: True},
            to="preparing",
        )
    walk.refused("start_session", "attendant", EventNotAllowed)
    walk.step("confirm_ready", "supervisor", to="ready")
    walk.step("start_session", "attendant", to="in_session", wrong=["supervisor"])
    walk.step("refill_tea", "attendant", to="in_session", wrong=["supervisor"])
    walk.step("refill_tea", "attendant", to="in_session")
    walk.step("change_ashtrays", "attendant", to="in_session", wrong=["supervisor"])
    walk.step("end_session", "attendant", to="after", wrong=["supervisor"])
    walk.refused("refill_tea", "attendant", EventNotAllowed)
    # Not recorded until every clearing-up item is ticked.
    for item in CLEARING:
        walk.refused("record_service", "attendant", GuardRefused, {"service_record": "正常"})
        walk.step("record_clearing", "attendant", {item: True}, to="after", wrong=["supervisor"])
    walk.refused("record_service", "attendant", FieldError)
    walk.step(
        "record_service",
        "supervisor",
        {"service_record": "会议正常结束，无遗留物品", "left_items": "无"},
        to="closed",
    )
    assert all(walk.data[item] is True for item in PREPARATION + CLEARING)
    assert [row[0] for row in walk.trail()] == [
        "open",
        "start_preparation",
        *["record_preparation"] * 5,
        "confirm_ready",
        "start_session",
        "refill_tea",
        "refill_tea",
        "change_ashtrays",
        "end_session",
        *["record_clearing"] * 5,
        "record_service",
    ]
    assert walk.trail()[-1] == ("record_service", "supervisor", "after", "closed")


@pytest.mark.parametrize("missing", PREPARATION)
def test_each_preparation_item_is_needed(open_case: Any, missing: str) -> None:
    walk = open_case("meeting_service", OPEN, "supervisor")
    walk.step(
        "start_preparation",
        "supervisor",
        {"attendees_count": 8, "room": "小会议室"},
        to="preparing",
    )
    ticks = {item: True for item in PREPARATION if item != missing}
    walk.step("record_preparation", "attendant", ticks, to="preparing")
    walk.refused("confirm_ready", "attendant", GuardRefused)
    walk.step("confirm_ready", "attendant", {missing: True}, to="ready")


@pytest.mark.parametrize("missing", CLEARING)
def test_each_clearing_item_is_needed(open_case: Any, missing: str) -> None:
    walk = open_case("meeting_service", {**OPEN, "important": False}, "supervisor")
    walk.step(
        "start_preparation",
        "supervisor",
        {"attendees_count": 8, "room": "小会议室"},
        to="preparing",
    )
    walk.step("confirm_ready", "supervisor", dict.fromkeys(PREPARATION, True), to="ready")
    walk.step("start_session", "attendant", to="in_session")
    walk.step("end_session", "attendant", to="after")
    walk.step(
        "record_clearing",
        "attendant",
        {item: True for item in CLEARING if item != missing},
        to="after",
    )
    walk.refused("record_service", "attendant", GuardRefused, {"service_record": "正常"})
    walk.step("record_service", "attendant", {missing: True, "service_record": "正常"}, to="closed")


def test_damaged_equipment_is_recorded_reported_and_the_service_still_closes(
    open_case: Any,
) -> None:
    walk = open_case("meeting_service", {**OPEN, "important": False}, "supervisor")
    walk.step(
        "start_preparation",
        "supervisor",
        {"attendees_count": 8, "room": "小会议室"},
        to="preparing",
    )
    walk.step("confirm_ready", "supervisor", dict.fromkeys(PREPARATION, True), to="ready")
    walk.step("start_session", "attendant", to="in_session")
    walk.refused("report_damage", "attendant", EventNotAllowed, {"equipment_damage": "x"})
    walk.step("end_session", "attendant", to="after")
    others = {item: True for item in CLEARING if item != "equipment_ok"}
    walk.step("record_clearing", "attendant", others, to="after")
    # Equipment neither intact nor its damage reported: the service cannot be recorded.
    walk.refused("record_service", "attendant", GuardRefused, {"service_record": "投影仪损坏"})
    walk.refused("report_damage", "attendant", FieldError)
    walk.step(
        "report_damage",
        "attendant",
        {"equipment_damage": "投影仪灯泡烧坏，无法开机"},
        to="after",
    )
    assert (walk.data["equipment_ok"], walk.data["damage_reported"]) == (False, True)
    assert walk.notified()[-1] == ("notify", "supervisor")
    walk.step(
        "record_service",
        "supervisor",
        {"service_record": "会议正常结束；投影仪损坏已登记上报"},
        to="closed",
    )
    assert walk.trail()[-2:] == [
        ("report_damage", "attendant", "after", "after"),
        ("record_service", "supervisor", "after", "closed"),
    ]
