"""The demo: a few cases of each shipped process, walked on a simulated clock.

It is the README's "main job": a new user sees the engine open cases, refuse what the
procedure forbids and keep an audit trail, in a SQLite file they can then inspect with
``propflow case list``. The walks are data, so each reads like the procedure it shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.model import localized
from engine.runtime import Actor, Engine, EventRefused, ManualClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Sunday evening 8 February 2026 in Shanghai; the first walk starts on Monday morning, the
#: week before the Spring Festival.
DEMO_START = datetime(2026, 2, 8, 18, 0, tzinfo=SHANGHAI)

PEOPLE = {
    "receptionist": "前台-李",
    "supervisor": "主管-王",
    "cs_supervisor": "客服主管-周",
    "technician": "技工-赵",
    "owner": "业主-陈",
    "head": "中心负责人-孙",
    "manager": "主任-钱",
    "area_manager": "片区经理-吴",
    "clerk": "客服-郑",
    "engineering": "工程部-冯",
    "inspector": "验房员-何",
    "assistant": "经理助理-许",
    "dept_head": "部门主管-韩",
    "attendant": "会务员-杨",
}


@dataclass(frozen=True)
class Step:
    """One event in a walk: who fires it, after how long, with what payload."""

    event: str
    role: str
    payload: dict[str, Any] = field(default_factory=dict)
    after: timedelta = timedelta(minutes=20)
    #: A step that is expected to be refused (to show the engine saying no).
    refused: bool = False


@dataclass(frozen=True)
class Walk:
    """A case to open and the steps to walk it through."""

    title: str
    process: str
    data: dict[str, Any]
    opener: str
    steps: tuple[Step, ...]


def _repair_walks() -> list[Walk]:
    recorded = {
        "phone": "13800138000",
        "content": "厨房水管漏水",
        "location": "厨房",
        "category": "leak",
    }
    return [
        Walk(
            "In-unit leak, general repair, signed off and visited",
            "repair",
            {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"},
            "receptionist",
            (
                Step("record", "receptionist", recorded, timedelta(minutes=1)),
                Step("dispatch", "receptionist", {"technician": "赵师傅"}, refused=True),
                Step("dispatch", "supervisor", {"technician": "赵师傅"}),
                Step(
                    "confirm_on_site",
                    "technician",
                    {"actual_situation": "水管接头松动"},
                    timedelta(hours=1),
                ),
                Step(
                    "finish_work",
                    "technician",
                    {"work_done": "更换接头", "hours": 1},
                    timedelta(hours=1),
                ),
                Step("owner_accept", "owner"),
                Step("supervisor_sign", "supervisor", after=timedelta(hours=2)),
                Step(
                    "return_visit",
                    "receptionist",
                    {"visit_method": "phone", "visit_result": "已修复，满意"},
                    timedelta(days=1),
                ),
            ),
        ),
        Walk(
            "Urgent public repair dispatched directly by the desk",
            "repair",
            {"scope": "public", "unit": "2号楼大堂", "urgency": "urgent"},
            "receptionist",
            (
                Step(
                    "record",
                    "receptionist",
                    {
                        **recorded,
                        "content": "大堂照明全部熄灭",
                        "location": "大堂",
                        "category": "electrical",
                    },
                ),
                Step("dispatch", "receptionist", {"technician": "赵师傅"}),
                Step("confirm_on_site", "technician", {"actual_situation": "总开关跳闸"}),
                Step("finish_work", "technician", {"work_done": "复位并更换开关", "hours": 2}),
                Step("supervisor_sign", "supervisor"),
                Step("archive", "supervisor"),
            ),
        ),
        Walk(
            "Owner withdraws the request (注销)",
            "repair",
            {"scope": "in_unit", "unit": "5-0802", "owner_name": "林女士"},
            "receptionist",
            (
                Step(
                    "record",
                    "receptionist",
                    {**recorded, "content": "门锁损坏", "location": "入户门", "category": "lock"},
                ),
                Step("withdraw", "owner"),
                Step("confirm_cancel", "supervisor", {"cancel_reason": "业主自行更换门锁"}),
            ),
        ),
    ]


def _other_walks() -> list[Walk]:
    return [
        Walk(
            "Important complaint decided by the estate manager",
            "complaint",
            {"complainant": "陈先生", "complaint_date": "2026-02-09"},
            "receptionist",
            (
                Step(
                    "record",
                    "receptionist",
                    {
                        "phone": "13800138000",
                        "address": "3-1201",
                        "content": "楼上装修噪音影响休息",
                    },
                ),
                Step("hand_over", "receptionist", {"responsible": "客服主管"}, refused=True),
                Step("confirm_record", "owner"),
                Step("hand_over", "receptionist", {"responsible": "客服主管"}),
                Step(
                    "record_finding",
                    "supervisor",
                    {
                        "investigation": "现场核实属实",
                        "validity": "valid",
                        "importance": "important",
                        "handling_proposal": "约谈装修户",
                    },
                    timedelta(hours=3),
                ),
                Step("refer_to_manager", "supervisor", {"written_report": "书面报告已提交"}),
                Step(
                    "decide",
                    "manager",
                    {"decision": "限定施工时间", "assigned_department": "客服部"},
                ),
                Step(
                    "finish_handling",
                    "supervisor",
                    {"handling_result": "已与装修户签订施工时间承诺"},
                    timedelta(days=1),
                ),
                Step("send_reply", "supervisor", {"reply": "书面答复已送达"}),
                Step(
                    "return_visit",
                    "receptionist",
                    {"visit_method": "phone", "visit_result": "业主满意"},
                    timedelta(days=2),
                ),
            ),
        ),
        Walk(
            "Unit handover with defects sent to warranty repair",
            "handover",
            {"unit": "3-1201", "owner_name": "陈先生", "handover_date": "2026-03-01"},
            "clerk",
            (
                Step("receive_keys", "engineering", {"keys_received_count": 3}),
                Step(
                    "start_handover", "clerk", {"admission_notice_no": "RZ-2026-0318"}, refused=True
                ),
                Step(
                    "start_handover",
                    "clerk",
                    {"admission_notice": True, "admission_notice_no": "RZ-2026-0318"},
                ),
                Step(
                    "hand_over_keys",
                    "clerk",
                    {
                        "id_checked": True,
                        "resident_file_done": True,
                        "covenant_signed": True,
                        "bank_account_registered": True,
                        "keys_count": 3,
                    },
                ),
                Step(
                    "sign_with_defects",
                    "inspector",
                    {
                        "has_defects": True,
                        "defects": ["卫生间墙面渗水"],
                        "water_meter_reading": "00012",
                        "electricity_meter_reading": "00040",
                        "inspector_name": "何工",
                    },
                ),
                Step(
                    "warranty_done",
                    "engineering",
                    {"warranty_result": "防水层已修补"},
                    timedelta(days=5),
                ),
            ),
        ),
        Walk(
            "Weekly management meeting, minutes returned once",
            "meeting",
            {"meeting_at": "2026-02-10T09:00:00+08:00"},
            "assistant",
            (
                Step(
                    "convene",
                    "assistant",
                    {
                        "attendees": ["各部门主管"],
                        "agenda": ["上周决议落实情况", "各部门工作汇报", "存在问题", "下阶段工作"],
                    },
                ),
                Step("open_meeting", "manager", {"chair": "钱主任"}, timedelta(hours=24)),
                Step("end_meeting", "assistant", after=timedelta(hours=1)),
                Step(
                    "submit_minutes",
                    "assistant",
                    {
                        "minutes_no": "2026-006",
                        "minutes": "会议纪要正文",
                        "action_items": ["整改2号楼照明"],
                        "responsible_departments": ["工程部"],
                        "next_meeting_at": "2026-02-17T09:00:00+08:00",
                    },
                ),
                Step("return_minutes", "manager", {"approval_comment": "补充整改期限"}),
                Step("submit_minutes", "assistant"),
                Step("approve_minutes", "manager"),
                Step("distribute", "assistant", {"distributed_to": ["各部门"]}),
                Step("close", "manager", refused=True),
                Step(
                    "report_status", "assistant", {"status_report": "整改已完成"}, timedelta(days=6)
                ),
                Step("close", "manager"),
            ),
        ),
        Walk(
            "Meeting-room service",
            "meeting_service",
            {"host": "开发公司", "meeting_at": "2026-02-11T14:00:00+08:00"},
            "supervisor",
            (
                Step(
                    "start_preparation", "supervisor", {"attendees_count": 30, "room": "二楼会议室"}
                ),
                Step("confirm_ready", "attendant", refused=True),
                Step(
                    "record_preparation",
                    "attendant",
                    {
                        "banner_hung": True,
                        "seating_arranged": True,
                        "sign_in_desk_ready": True,
                        "equipment_checked": True,
                        "supplies_ready": True,
                    },
                ),
                Step("confirm_ready", "attendant"),
                Step("start_session", "attendant", after=timedelta(hours=2)),
                Step("refill_tea", "attendant", after=timedelta(minutes=15)),
                Step("end_session", "attendant", after=timedelta(hours=1)),
                Step(
                    "record_clearing",
                    "attendant",
                    {
                        "guests_seen_off": True,
                        "left_items_checked": True,
                        "equipment_ok": True,
                        "cleaned": True,
                        "locked": True,
                    },
                ),
                Step("record_service", "attendant", {"service_record": "会议顺利，无遗留物品"}),
            ),
        ),
    ]


def walks() -> list[Walk]:
    """Every demo walk, in the order they are shown."""
    return _repair_walks() + _other_walks()


def _actor(role: str) -> Actor:
    return Actor(PEOPLE.get(role, role), {role})


def run_demo(engine: Engine, clock: ManualClock, say: Callable[[str], None]) -> Iterator[str]:
    """Walk every demo case, reporting each step through ``say``; yield the case ids."""
    for walk in walks():
        definition = engine.definition(walk.process)
        clock.set(_next_morning(clock.now()))
        case = engine.open_case(walk.process, walk.data, _actor(walk.opener))
        say("")
        say(f"== {localized(definition.title, walk.process)} {walk.process}: {walk.title}")
        say(f"   case {case.id}")
        say(
            _line(
                clock,
                "open",
                walk.opener,
                "",
                localized(definition.states[case.state].label, case.state),
            )
        )
        for step in walk.steps:
            clock.advance(step.after)
            try:
                case = engine.fire(case.id, step.event, _actor(step.role), step.payload)
            except EventRefused as refusal:
                if not step.refused:
                    raise
                say(_line(clock, step.event, step.role, "refused", refusal.reason))
                continue
            label = localized(definition.states[case.state].label, case.state)
            say(_line(clock, step.event, step.role, "->", label))
        yield case.id


def _next_morning(moment: datetime) -> datetime:
    """09:00 Shanghai time on the day after ``moment``: each walk starts on a fresh day."""
    local = moment.astimezone(SHANGHAI)
    return (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def _line(clock: ManualClock, event: str, role: str, arrow: str, text: str) -> str:
    at = clock.now().astimezone(SHANGHAI).strftime("%m-%d %H:%M")
    return f"   {at}  {event:<18} {PEOPLE.get(role, role):<10} {arrow:>7} {text}"
