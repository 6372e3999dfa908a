"""交楼（业主收楼） (processes/handover.yaml): preparation, the admission notice (no notice, no
handover), documents (a proxy needs a power of attorney), keys, the joint inspection with
meter readings, defects to warranty repair, acceptance; and the rejection path — keys
returned, the manager confirms, no management fee meanwhile, repairs chased, a second
inspection, accepted."""

from __future__ import annotations

from typing import Any

import pytest

from engine.runtime import EventNotAllowed, FieldError, GuardRefused

OPEN = {"unit": "3-1201", "owner_name": "王先生", "handover_date": "2026-03-20"}

DOCUMENTS = {
    "id_checked": True,
    "resident_file_done": True,
    "covenant_signed": True,
    "bank_account_registered": True,
}

METERS = {"water_meter_reading": "00012", "electricity_meter_reading": "00345.6"}


def prepare(walk: Any, *, keys: bool = True) -> None:
    """Before the owner comes: early intervention, the handover plan, keys to the centre."""
    walk.step(
        "takeover_inspection",
        "engineering",
        {"takeover_issues": ["卫生间防水层未闭水试验"]},
        to="awaiting_owner",
        wrong=["clerk", "owner"],
    )
    walk.step("issue_plan", "manager", to="awaiting_owner", wrong=["engineering", "owner"])
    if keys:
        walk.step(
            "receive_keys",
            "engineering",
            {"keys_received_count": 3, "keys_match": True},
            to="awaiting_owner",
            wrong=["inspector", "owner"],
        )
    assert walk.data["early_intervention_done"] and walk.data["handover_plan_issued"]


def admit(walk: Any) -> None:
    """The owner presents the admission notice (入住通知书); without it, nothing happens."""
    walk.refused("start_handover", "clerk", GuardRefused, {"admission_notice_no": "RZ-0301"})
    walk.refused("start_handover", "clerk", FieldError, {"admission_notice": True})
    walk.step(
        "start_handover",
        "clerk",
        {"admission_notice": True, "admission_notice_no": "RZ-0301"},
        to="checking_documents",
        wrong=["inspector", "owner", "engineering"],
    )


def keys_and_inspect(walk: Any, **documents: Any) -> None:
    walk.step(
        "hand_over_keys",
        "clerk",
        {**DOCUMENTS, **documents, "keys_count": 3},
        to="inspecting",
        wrong=["owner", "inspector"],
    )
    assert walk.data["keys_signed"] is True
    assert walk.assignee == "inspector"
    walk.refused("record_inspection", "inspector", FieldError, {"water_meter_reading": "00012"})
    walk.step(
        "record_inspection",
        "inspector",
        {**METERS, "defects": ["主卧墙面裂缝", "厨房水龙头滴水"], "has_defects": True},
        to="inspecting",
        wrong=["clerk", "owner"],
    )


def test_handover_with_defects_goes_through_warranty_repair(open_case: Any) -> None:
    walk = open_case("handover", OPEN, "clerk")
    assert walk.state == "awaiting_owner"
    prepare(walk)
    admit(walk)
    # Documents incomplete: no keys.
    walk.refused(
        "hand_over_keys", "clerk", GuardRefused, {**DOCUMENTS, "id_checked": False, "keys_count": 3}
    )
    walk.refused("hand_over_keys", "clerk", FieldError, DOCUMENTS)
    keys_and_inspect(walk)
    walk.refused("accept", "inspector", GuardRefused, {"inspector_name": "冯工"})
    walk.refused("sign_with_defects", "inspector", FieldError)
    walk.step(
        "sign_with_defects",
        "inspector",
        {"inspector_name": "冯工", "warranty_key_left": True},
        to="warranty_repair",
        wrong=["clerk", "engineering", "owner"],
    )
    assert (walk.data["owner_signed"], walk.data["inspector_signed"]) == (True, True)
    assert walk.data["management_fee_suspended"] is False
    assert ("notify", "engineering") in walk.notified()
    walk.refused("warranty_done", "engineering", FieldError)
    walk.step(
        "warranty_done",
        "engineering",
        {"warranty_result": "墙面已修补，水龙头已更换"},
        to="accepted",
        wrong=["owner", "inspector", "manager"],
    )
    walk.refused("refuse", "owner", EventNotAllowed, {"refusal_reason": "x"})
    assert walk.trail() == [
        ("open", "clerk", None, "awaiting_owner"),
        ("takeover_inspection", "engineering", "awaiting_owner", "awaiting_owner"),
        ("issue_plan", "manager", "awaiting_owner", "awaiting_owner"),
        ("receive_keys", "engineering", "awaiting_owner", "awaiting_owner"),
        ("start_handover", "clerk", "awaiting_owner", "checking_documents"),
        ("hand_over_keys", "clerk", "checking_documents", "inspecting"),
        ("record_inspection", "inspector", "inspecting", "inspecting"),
        ("sign_with_defects", "inspector", "inspecting", "warranty_repair"),
        ("warranty_done", "engineering", "warranty_repair", "accepted"),
    ]


def test_handover_without_defects_is_accepted_at_once(open_case: Any) -> None:
    walk = open_case("handover", OPEN, "clerk")
    prepare(walk)
    admit(walk)
    walk.step("hand_over_keys", "clerk", {**DOCUMENTS, "keys_count": 2}, to="inspecting")
    walk.refused("accept", "inspector", FieldError, {"inspector_name": "冯工"})
    walk.step("record_inspection", "inspector", METERS, to="inspecting")
    walk.refused("sign_with_defects", "inspector", GuardRefused, {"inspector_name": "冯工"})
    walk.step(
        "accept",
        "inspector",
        {"inspector_name": "冯工"},
        to="accepted",
        wrong=["clerk", "owner"],
    )
    assert (walk.data["owner_signed"], walk.data["inspector_signed"]) == (True, True)
    assert walk.data["water_meter_reading"] == "00012"


def test_proxy_needs_a_power_of_attorney(open_case: Any) -> None:
    walk = open_case("handover", OPEN, "clerk")
    prepare(walk)
    admit(walk)
    walk.refused(
        "hand_over_keys", "clerk", GuardRefused, {**DOCUMENTS, "by_proxy": True, "keys_count": 3}
    )
    keys_and_inspect(walk, by_proxy=True, power_of_attorney=True)
    assert (walk.data["by_proxy"], walk.data["power_of_attorney"]) == (True, True)


def test_no_keys_for_the_owner_before_the_centre_has_received_them(open_case: Any) -> None:
    walk = open_case("handover", OPEN, "clerk")
    prepare(walk, keys=False)
    admit(walk)
    walk.refused("hand_over_keys", "clerk", GuardRefused, {**DOCUMENTS, "keys_count": 3})
    walk.refused("receive_keys", "clerk", EventNotAllowed, {"keys_received_count": 3})


@pytest.mark.parametrize("who", ["owner", "inspector"])
def test_rejected_unit_fee_suspended_repaired_and_inspected_again(open_case: Any, who: str) -> None:
    walk = open_case("handover", OPEN, "clerk")
    prepare(walk)
    admit(walk)
    keys_and_inspect(walk)
    walk.refused("refuse", who, FieldError)
    walk.step(
        "refuse",
        who,
        {"refusal_reason": "墙面裂缝严重，拒绝收楼"},
        to="rejected",
        wrong=["clerk", "engineering"],
    )
    assert walk.data["keys_returned"] is True
    assert walk.data["keys_signed"] is False
    assert walk.data["on_rejected_list"] is True
    assert walk.assignee == "manager"
    walk.step(
        "confirm_rejection",
        "manager",
        to="rejected_repairing",
        wrong=["clerk", "inspector", "owner"],
    )
    assert walk.data["management_fee_suspended"] is True
    assert walk.assignee == "clerk"
    walk.step("chase_repairs", "clerk", to="rejected_repairing", wrong=["owner", "manager"])
    walk.refused("second_inspection", "clerk", EventNotAllowed, {"keys_count": 3})
    walk.refused("repairs_done", "engineering", FieldError)
    walk.step(
        "repairs_done",
        "engineering",
        {"warranty_result": "裂缝已修补并重新粉刷"},
        to="awaiting_second_inspection",
        wrong=["clerk", "owner"],
    )
    assert ("notify", "clerk") in walk.notified()
    walk.step(
        "second_inspection",
        "clerk",
        {"keys_count": 3},
        to="inspecting",
        wrong=["owner", "manager"],
    )
    assert walk.data["second_inspection"] is True
    assert (walk.data["keys_signed"], walk.data["keys_returned"]) == (True, False)
    walk.step(
        "record_inspection",
        "inspector",
        {**METERS, "defects": [], "has_defects": False},
        to="inspecting",
    )
    walk.step("accept", "inspector", {"inspector_name": "冯工"}, to="accepted")
    # Acceptance starts the management fee again.
    assert walk.data["management_fee_suspended"] is False
    assert [(e, r) for e, r, _, _ in walk.trail()][6:] == [
        ("record_inspection", "inspector"),
        ("refuse", who),
        ("confirm_rejection", "manager"),
        ("chase_repairs", "clerk"),
        ("repairs_done", "engineering"),
        ("second_inspection", "clerk"),
        ("record_inspection", "inspector"),
        ("accept", "inspector"),
    ]
