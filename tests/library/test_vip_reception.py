"""重点宾客接待 (processes/vip_reception.yaml, rules/vip_reception.yaml): approved by the general
manager, prepared to the lead times of seed 004 篇2 counted back from the arrival (keys the day
before, room 3 h, meal 2 h, greeters 10 min), received, seen off with the send-off party in the
lobby 10 minutes before departure, archived; or declined."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.runtime import FieldError, GuardRefused
from tests.library.conftest import START, Walk

ARRIVAL = START + timedelta(days=2)  # Wednesday 4 March, 09:00
OPEN = {"guest": "集团考察团", "arrival_at": ARRIVAL.isoformat(), "level": "一级"}


def clock_of(walk: Walk, limit: str) -> Any:
    return next(c for c in walk.engine.sla_status(walk.id) if c.limit == limit)


def approved(open_case: Any) -> Walk:
    walk: Walk = open_case("vip_reception", OPEN, "pr_manager")
    walk.step("approve", "manager", {"approval_note": "同意"}, to="preparing", wrong=["pr_manager"])
    assert walk.assignee == "pr_manager"
    assert walk.notified() == [("notify", "receptionist")]
    return walk


def test_the_lead_times_count_back_from_the_arrival(open_case: Any) -> None:
    walk = approved(open_case)
    deadlines = {
        limit: clock_of(walk, limit).deadline
        for limit in ("vip-keys-day-before", "vip-room-check", "vip-meal", "vip-greeters")
    }
    assert deadlines == {
        "vip-keys-day-before": ARRIVAL - timedelta(days=1),
        "vip-room-check": ARRIVAL - timedelta(hours=3),
        "vip-meal": ARRIVAL - timedelta(hours=2),
        "vip-greeters": ARRIVAL - timedelta(minutes=10),
    }


def test_prepared_received_seen_off_and_archived(open_case: Any) -> None:
    walk = approved(open_case)
    walk.step("prepare_keys", "receptionist", to="preparing", wrong=["pr_manager"])
    walk.refused("arrive", "receptionist", GuardRefused)
    walk.clock.advance(timedelta(days=1, hours=19))  # Wednesday 05:00
    walk.step("check_room", "pr_manager", to="preparing", wrong=["receptionist"])
    walk.refused("arrange_pickup", "pr_manager", FieldError)
    walk.step("arrange_pickup", "pr_manager", {"transport": "G1234 08:20到站"}, to="preparing")
    walk.step("arrange_meal", "pr_manager", to="preparing", wrong=["manager"])
    walk.clock.advance(timedelta(hours=3, minutes=45))  # 08:48
    walk.step("greeters_at_door", "receptionist", to="preparing")
    walk.step("arrive", "pr_manager", to="in_house", after=timedelta(minutes=11))
    for limit in ("vip-keys-day-before", "vip-room-check", "vip-meal", "vip-greeters"):
        assert clock_of(walk, limit).breached is False, limit
    walk.step("plan_next_day", "pr_manager", {"next_day_plan": "上午参观，午餐会所"}, to="in_house")
    departure = ARRIVAL + timedelta(days=1, hours=5)
    walk.step(
        "confirm_departure",
        "pr_manager",
        {"departure_at": departure.isoformat()},
        to="in_house",
        wrong=["receptionist"],
    )
    assert clock_of(walk, "vip-send-off").deadline == departure - timedelta(minutes=10)
    walk.refused("see_off", "pr_manager", GuardRefused)
    walk.step("send_off_party_ready", "receptionist", to="in_house")
    walk.step("see_off", "pr_manager", to="departed")
    walk.step("archive", "pr_manager", {"archive_note": "照片及资料已归档"}, to="closed")


def test_late_preparation_breaches_and_reminds(open_case: Any) -> None:
    walk = approved(open_case)
    walk.clock.advance(timedelta(days=1, hours=23))  # Wednesday 08:00, an hour before arrival
    walk.engine.tick()
    for limit in ("vip-keys-day-before", "vip-room-check", "vip-meal"):
        assert clock_of(walk, limit).breached is True, limit
    assert clock_of(walk, "vip-greeters").breached is False
    assert ("notify", "pr_manager") in walk.notified()


def test_the_general_manager_may_decline(open_case: Any) -> None:
    walk: Walk = open_case("vip_reception", OPEN, "pr_manager")
    walk.refused("decline", "manager", FieldError)
    walk.step("decline", "manager", {"approval_note": "规格不符"}, to="declined")
