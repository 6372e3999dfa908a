"""Linked cases: ``open`` and ``signal`` actions, conditions about child cases, the checks.

The whole handover runs on the shipped library: a project opens its units, a unit's defects
become warranty repairs, a closed repair moves its unit on, a settled unit tells the project,
and the project closes only when every unit is accepted or its rejection confirmed. The cross-
case reopen (a home visit finds a repair unfixed) writes both cases in one transaction, or
neither when the repair changed meanwhile. Loops of links are refused with nothing written,
and every mistake in a link is reported at its place in the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.checks.validation import validate_paths
from engine.runtime import (
    Actor,
    Case,
    ConflictError,
    Engine,
    GuardRefused,
    LinkRefused,
    ManualClock,
)
from tests.conftest import validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
LIBRARY = Path(__file__).resolve().parent.parent


def person(role: str) -> Actor:
    return Actor(f"{role}.zhang", {role})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(clock: ManualClock, store_url: str) -> Iterator[Engine]:
    """The shipped library on a fresh store (SQLite and PostgreSQL)."""
    eng = Engine(validated_library(), store=store_url, clock=clock)
    yield eng
    eng.close()


def fire(engine: Engine, case_id: str, event: str, role: str, **payload: Any) -> Case:
    return engine.fire(case_id, event, person(role), payload)


def children(engine: Engine, case_id: str) -> list[Case]:
    return [engine.get_case(link.case_id) for link in engine.links(case_id) if link.kind == "child"]


def actions(engine: Engine, case_id: str, version: int | None = None) -> list[dict[str, Any]]:
    """The action records of a case's last entry (or of the entry at ``version``)."""
    history = engine.history(case_id)
    entry = history[-1] if version is None else next(e for e in history if e.version == version)
    return entry.actions


# The handover, end to end ----------------------------------------------------------------------

UNITS = ["3-101", "3-102", "3-103"]
DOCUMENTS = {
    "id_checked": True,
    "resident_file_done": True,
    "covenant_signed": True,
    "bank_account_registered": True,
    "keys_count": 2,
}
METERS = {"water_meter_reading": "00012", "electricity_meter_reading": "00345"}
SETTLED = ["accepted", "rejected_repairing", "awaiting_second_inspection"]


def admit_and_inspect(engine: Engine, unit: str, defects: list[str]) -> None:
    fire(engine, unit, "start_handover", "clerk", admission_notice=True,
         admission_notice_no="RZ-01", owner_name="王先生", owner_account=person("owner").id,
         phone="13800138000")  # fmt: skip
    fire(engine, unit, "hand_over_keys", "clerk", **DOCUMENTS)
    fire(engine, unit, "record_inspection", "inspector", **METERS, defects=defects,
         has_defects=bool(defects))  # fmt: skip


def close_repair(engine: Engine, repair: str) -> Case:
    """Walk a warranty repair from 'received' to 'closed'."""
    fire(engine, repair, "record", "receptionist", phone="13800138000", location="卫生间",
         category="civil")  # fmt: skip
    fire(engine, repair, "dispatch", "supervisor", technician="赵师傅")
    fire(engine, repair, "confirm_on_site", "technician", actual_situation="墙面裂缝")
    fire(engine, repair, "finish_work", "technician", work_done="修补粉刷", hours=2)
    fire(engine, repair, "owner_accept", "owner")
    fire(engine, repair, "supervisor_sign", "supervisor")
    return fire(engine, repair, "return_visit", "receptionist", visit_method="phone",
                visit_result="已修复", satisfaction="satisfied")  # fmt: skip


def test_a_whole_handover_project_with_three_units(engine: Engine, clock: ManualClock) -> None:
    project = engine.open_case(
        "handover_project",
        {"project_name": "金碧花园3栋", "handover_date": "2026-04-20"},
        person("manager"),
    )
    # The project times the milestones before D; nothing is opened before the site opens.
    limits = {status.limit for status in engine.sla_status(project.id)}
    assert {"handover-project-plan", "handover-project-keys"} <= limits
    with pytest.raises(GuardRefused):
        fire(engine, project.id, "start_handover", "manager", units=UNITS)
    fire(engine, project.id, "takeover_inspection", "engineering", takeover_issues=["防水"])
    fire(engine, project.id, "issue_plan", "clerk")
    fire(engine, project.id, "receive_keys", "engineering", keys_received_count=6)

    # Opening the handover opens one unit case per unit, in the same transaction.
    before = engine.history(project.id)
    project = fire(engine, project.id, "start_handover", "manager", units=UNITS)
    assert project.state == "handing_over"
    units = children(engine, project.id)
    assert [u.data["unit"] for u in units] == UNITS
    for unit in units:
        assert (unit.process, unit.state, unit.version) == ("handover", "awaiting_owner", 1)
        assert unit.data["in_project"] is True and unit.data["keys_received"] is True
        assert unit.data["handover_date"] == "2026-04-20"
        assert engine.sla_status(unit.id) == []  # the project times the milestones
        assert [(link.kind, link.case_id) for link in engine.links(unit.id)] == [
            ("parent", project.id)
        ]
        opening = engine.history(unit.id)[0]
        assert (opening.actor_id, opening.role, opening.at) == ("propflow", "system", clock.now())
        assert {"opened_by": project.id, "link": "child"} in opening.actions
    assert len(engine.history(project.id)) == len(before) + 1
    assert [a["case"] for a in actions(engine, project.id) if "case" in a] == [u.id for u in units]
    a, b, c = (unit.id for unit in units)

    # Unit A: no defects, accepted. It tells the project, whose guard says "not all yet".
    admit_and_inspect(engine, a, [])
    fire(engine, a, "accept", "inspector", inspector_name="冯工")
    note = next(x for x in actions(engine, a) if x.get("signal") == "unit_settled")
    assert note["case"] == project.id and note["skipped"].startswith("condition not met")
    with pytest.raises(GuardRefused):
        fire(engine, project.id, "close", "manager")

    # Unit B: two defects become two warranty repairs, children of the unit.
    clock.advance(timedelta(hours=1))
    admit_and_inspect(engine, b, ["卫生间墙面裂缝", "厨房水龙头滴水"])
    unit_b = fire(engine, b, "sign_with_defects", "inspector", inspector_name="冯工")
    assert unit_b.state == "warranty_repair"
    repairs = children(engine, b)
    assert [(r.process, r.state, r.data["content"], r.data["unit"]) for r in repairs] == [
        ("repair", "received", "卫生间墙面裂缝", "3-102"),
        ("repair", "received", "厨房水龙头滴水", "3-102"),
    ]
    assert all(r.data["in_warranty"] and r.data["owner_name"] == "王先生" for r in repairs)
    # The first repair closes: the unit hears of it, but one repair is still open.
    close_repair(engine, repairs[0].id)
    assert engine.get_case(b).state == "warranty_repair"
    last = engine.history(b)[-1]
    assert (last.event, last.role, last.to_state) == ("repair_closed", "system", "warranty_repair")
    assert {"signalled_by": repairs[0].id} in last.actions
    # The second is withdrawn and voided: the last open child closes, the unit is accepted
    # and tells the project, all in the repair's transaction.
    fire(engine, repairs[1].id, "record", "receptionist", phone="13800138000", location="厨房",
         category="plumbing")  # fmt: skip
    fire(engine, repairs[1].id, "withdraw", "owner")
    version = engine.get_case(b).version
    fire(engine, repairs[1].id, "confirm_cancel", "supervisor", cancel_reason="业主自行处理")
    unit_b = engine.get_case(b)
    assert (unit_b.state, unit_b.version) == ("accepted", version + 2)
    assert unit_b.data["warranty_result"] == "保修报修单已全部关闭"
    assert [e.event for e in engine.history(b)[-2:]] == ["repair_closed", "warranty_complete"]

    # Unit C: refused. Not settled until the manager confirms the rejection.
    admit_and_inspect(engine, c, ["客厅地面空鼓"])
    fire(engine, c, "refuse", "owner", refusal_reason="地面空鼓，拒绝收楼")
    with pytest.raises(GuardRefused):
        fire(engine, project.id, "close", "manager")
    fire(engine, c, "confirm_rejection", "manager")
    # Formally rejected: the project hears every unit is settled and tells the manager.
    assert engine.history(project.id)[-1].event == "unit_settled"
    assert ("notify", "manager") in [(o.kind, o.role) for o in engine.outbox(project.id)]
    close_option = next(o for o in engine.available_events(project.id, person("manager"))
                        if o.event == "close")  # fmt: skip
    assert close_option.allowed
    # The rejected unit's defect is a warranty repair too; once it closes, the owner is
    # invited to the second inspection, which the project waits for here.
    (repair_c,) = children(engine, c)
    assert repair_c.data["content"] == "客厅地面空鼓"
    close_repair(engine, repair_c.id)
    assert engine.get_case(c).state == "awaiting_second_inspection"
    fire(engine, c, "second_inspection", "clerk", keys_count=2)
    with pytest.raises(GuardRefused):  # re-inspection under way: not settled
        fire(engine, project.id, "close", "manager")
    fire(engine, c, "record_inspection", "inspector", **METERS, defects=[], has_defects=False)
    fire(engine, c, "accept", "inspector", inspector_name="冯工")

    project = fire(engine, project.id, "close", "manager", closing_notes="全部办结")
    assert project.state == "closed"
    assert [u.state for u in children(engine, project.id)] == ["accepted"] * 3
    assert sum(1 for e in engine.history(project.id) if e.event == "unit_settled") >= 2


# Cross-case events -----------------------------------------------------------------------------


def repair_awaiting_return_visit(engine: Engine) -> str:
    repair = engine.open_case(
        "repair",
        {
            "scope": "in_unit",
            "unit": "5-0802",
            "owner_name": "李女士",
            "owner_account": person("owner").id,
        },
        person("receptionist"),
    )
    fire(engine, repair.id, "record", "receptionist", phone="13800138000", content="阳台漏水",
         location="阳台", category="leak")  # fmt: skip
    fire(engine, repair.id, "dispatch", "supervisor", technician="赵师傅")
    fire(engine, repair.id, "confirm_on_site", "technician", actual_situation="阳台排水管")
    fire(engine, repair.id, "finish_work", "technician", work_done="更换排水管", hours=1)
    fire(engine, repair.id, "owner_accept", "owner")
    fire(engine, repair.id, "supervisor_sign", "supervisor")
    return repair.id


def home_visit_found_unfixed(engine: Engine, repair: str) -> str:
    """The return visit contradicts the department: an area manager checks on site."""
    fire(engine, repair, "visit_on_site", "receptionist", visit_result="业主称仍漏水")
    (visit,) = children(engine, repair)
    assert (visit.process, visit.data["visit_kind"], visit.data["subject"]) == (
        "home_visit", "follow_up", "阳台漏水",
    )  # fmt: skip
    fire(engine, visit.id, "record_visit", "area_manager", visit_result="现场仍渗水", fixed=False)
    return visit.id


def test_a_home_visit_reopens_its_repair_in_the_same_transaction(engine: Engine) -> None:
    repair = repair_awaiting_return_visit(engine)
    visit = home_visit_found_unfixed(engine, repair)
    before = engine.get_case(repair)
    closed = fire(engine, visit, "report_unfixed", "area_manager")
    assert closed.state == "closed"
    reopened = engine.get_case(repair)
    assert (reopened.state, reopened.version) == ("dispatched", before.version + 1)
    assert (reopened.data["owner_signed"], reopened.data["visit_result"]) == (False, "现场仍渗水")
    entry = engine.history(repair)[-1]
    assert (entry.event, entry.actor_id, entry.role) == ("reopen", "propflow", "system")
    assert entry.at == engine.history(visit)[-1].at
    assert {"signalled_by": visit} in entry.actions
    assert {"signal": "reopen", "case": repair} in actions(engine, visit)
    assert ("notify", "supervisor") in [(o.kind, o.role) for o in engine.outbox(repair)][-1:]


def test_nothing_is_written_when_the_signalled_case_changed_meanwhile(
    engine: Engine, clock: ManualClock, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repair = repair_awaiting_return_visit(engine)
    visit = home_visit_found_unfixed(engine, repair)
    other = Engine(validated_library(), store=store_url, clock=clock)
    real = engine.store.commit

    def concurrent(*args: Any, **kwargs: Any) -> None:
        # Someone else sends the repair back for rework between our read and our write.
        other.fire(repair, "rework", person("receptionist"), {"visit_result": "电话回访未修复"})
        real(*args, **kwargs)

    monkeypatch.setattr(engine.store, "commit", concurrent)
    visit_before, visit_history = engine.get_case(visit), engine.history(visit)
    outbox_before = engine.outbox()
    with pytest.raises(ConflictError):
        fire(engine, visit, "report_unfixed", "area_manager")
    # Nothing of ours was written: the visit is as it was, the repair has only the rework.
    assert engine.get_case(visit) == visit_before
    assert engine.history(visit) == visit_history
    assert [e.event for e in engine.history(repair)][-1] == "rework"
    assert len(engine.outbox()) == len(outbox_before) + 1  # the rework's own notification
    monkeypatch.setattr(engine.store, "commit", real)
    # Retried: the repair is no longer awaiting its return visit, so the signal is skipped
    # (and recorded), and the visit is closed all the same.
    assert fire(engine, visit, "report_unfixed", "area_manager").state == "closed"
    note = next(x for x in actions(engine, visit) if x.get("signal") == "reopen")
    assert note["case"] == repair and "not allowed in state 'dispatched'" in note["skipped"]
    other.close()


def test_a_signal_to_no_linked_case_does_nothing(engine: Engine) -> None:
    repair = engine.open_case("repair", {"scope": "public", "unit": "大堂"}, person("receptionist"))
    fire(engine, repair.id, "record", "receptionist", phone="13800138000", content="灯坏",
         location="大堂", category="light")  # fmt: skip
    fire(engine, repair.id, "withdraw", "receptionist")
    cancelled = fire(engine, repair.id, "confirm_cancel", "supervisor", cancel_reason="重复报修")
    assert cancelled.state == "cancelled"
    assert not any("signal" in a for a in actions(engine, repair.id))


def test_home_visit_issues_become_related_repairs(engine: Engine) -> None:
    visit = engine.open_case("home_visit", {"unit": "2-0301"}, person("manager"))
    fire(engine, visit.id, "record_visit", "manager", visit_result="走访",
         issues=["门禁失灵", "楼道灯坏"])  # fmt: skip
    fire(engine, visit.id, "refer_issues", "receptionist")
    related = [link for link in engine.links(visit.id)]
    assert [(link.kind, link.process) for link in related] == [("related", "repair")] * 2
    repair = engine.get_case(related[0].case_id)
    assert repair.data["content"] == "门禁失灵"
    assert [(link.kind, link.case_id) for link in engine.links(repair.id)] == [
        ("related", visit.id)
    ]
    with pytest.raises(GuardRefused):  # referred once only
        fire(engine, visit.id, "refer_issues", "receptionist")


# Bounds, timers and the command line -----------------------------------------------------------

LOOP = """\
process: {me}
title: {{zh-CN: 循环{me}}}
roles: {{clerk: {{label: {{zh-CN: 职员}}}}}}
fields:
  items: {{type: list, label: {{zh-CN: 项}}}}
  note: {{type: text, label: {{zh-CN: 备注}}}}
states:
  open:
    initial: true
    label: {{zh-CN: 开}}
    on_enter:
      - open: {{process: {other}, each: items, data: {{items: =items}}}}
  done: {{final: true, label: {{zh-CN: 完}}}}
events:
  finish: {{from: open, to: done, roles: [clerk], label: {{zh-CN: 完成}}}}
"""


def write(directory: Path, files: Mapping[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_a_loop_of_links_is_refused_and_writes_nothing(tmp_path: Path, clock: ManualClock) -> None:
    library = write(tmp_path / "lib", {
        "ping.yaml": LOOP.format(me="ping", other="pong"),
        "pong.yaml": LOOP.format(me="pong", other="ping"),
    })  # fmt: skip
    engine = Engine(library=library, store="sqlite://", clock=clock)
    # With an empty list nothing is opened: the validator cannot call this a loop (PF504).
    quiet = engine.open_case("ping", {"items": []}, person("clerk"))
    assert engine.links(quiet.id) == []
    with pytest.raises(LinkRefused) as refused:
        engine.open_case("ping", {"items": ["x"]}, person("clerk"))
    assert "more than 10 links deep" in refused.value.reason
    assert [c.id for c in engine.query_cases()] == [quiet.id]
    engine.close()


BREACH_OPENS = {
    "job.yaml": """\
process: job
title: {zh-CN: 工单}
roles: {clerk: {label: {zh-CN: 职员}}}
fields:
  unit: {type: text, label: {zh-CN: 房号}}
states:
  open: {initial: true, label: {zh-CN: 开}}
  done: {final: true, label: {zh-CN: 完}}
events:
  finish: {from: open, to: done, roles: [clerk], label: {zh-CN: 完成}}
""",
    "chase.yaml": """\
process: chase
title: {zh-CN: 催办}
roles: {clerk: {label: {zh-CN: 职员}}}
fields:
  unit: {type: text, required: true, label: {zh-CN: 房号}}
states:
  open: {initial: true, label: {zh-CN: 开}}
  done: {final: true, label: {zh-CN: 完}}
events:
  finish: {from: open, to: done, roles: [clerk], label: {zh-CN: 完成}}
""",
    "rules.yaml": """\
time_limits:
  job-limit:
    process: job
    start: {enter: open}
    stop: {enter: done}
    limit: 1h
    on_breach:
      - open: {process: chase, data: {unit: =unit}}
""",
}


def test_a_breach_opens_a_linked_case_and_a_bad_one_is_skipped(
    tmp_path: Path, clock: ManualClock, store_url: str
) -> None:
    engine = Engine(library=write(tmp_path / "lib", BREACH_OPENS), store=store_url, clock=clock)
    job = engine.open_case("job", {"unit": "1-101"}, person("clerk"))
    bare = engine.open_case("job", {}, person("clerk"))  # no unit: the chase cannot open
    clock.advance(timedelta(hours=2))
    assert engine.tick().fired == 2
    (chase,) = [engine.get_case(link.case_id) for link in engine.links(job.id)]
    assert (chase.process, chase.data["unit"]) == ("chase", "1-101")
    assert engine.links(bare.id) == []
    note = next(a for a in actions(engine, bare.id) if a.get("open") == "chase")
    assert "required field 'unit' has no value" in note["skipped"]
    assert engine.tick().fired == 0
    engine.close()


def test_case_show_lists_the_links(tmp_path: Path, cli: Callable[..., Any]) -> None:
    db = tmp_path / "cases.db"
    engine = Engine(validated_library(), store=f"sqlite:///{db}", clock=ManualClock(START))
    visit = engine.open_case("home_visit", {"unit": "2-0301"}, person("manager"))
    fire(engine, visit.id, "record_visit", "manager", visit_result="走访", issues=["门禁失灵"])
    fire(engine, visit.id, "refer_issues", "receptionist")
    (repair,) = engine.links(visit.id)
    engine.close()
    shown = cli(["case", "show", "--db", str(db), visit.id])
    assert shown.exit_code == 0, shown.output
    assert "linked cases" in shown.output
    assert f"related  {repair.case_id}  repair (received)" in shown.output
    as_json = json.loads(cli(["case", "show", "--db", str(db), "--json", visit.id]).output)
    assert as_json["links"] == [
        {"kind": "related", "case": repair.case_id, "process": "repair", "state": "received",
         "created_at": repair.created_at.isoformat()}
    ]  # fmt: skip


# Validation ------------------------------------------------------------------------------------

BROKEN = {
    "parent.yaml": """\
process: parent
title: {zh-CN: 父}
roles: {clerk: {label: {zh-CN: 职员}}}
fields:
  unit: {type: text, label: {zh-CN: 房号}}
  count: {type: int, label: {zh-CN: 数}}
  items: {type: list, label: {zh-CN: 项}}
states:
  open: {initial: true, label: {zh-CN: 开}}
  done: {final: true, label: {zh-CN: 完}}
events:
  go:
    from: open
    to: done
    roles: [clerk]
    label: {zh-CN: 走}
    if: "all(children.stat == 'done') and children.count > 0 and children.unit == 'x'"
    actions:
      - open: {process: chld, data: {unit: =unit}}
      - open: {process: child, data: {unti: =unit, unit: =nope, size: =unit}}
      - open: {process: child, each: count, data: {unit: =item, size: 'big'}}
      - open: {process: child, data: {size: 3}}
      - signal: {event: poke, to: children}
      - signal: {event: go, to: parent}
""",
    "child.yaml": """\
process: child
title: {zh-CN: 子}
roles: {clerk: {label: {zh-CN: 职员}}}
fields:
  unit: {type: text, required: true, label: {zh-CN: 房号}}
  size: {type: int, label: {zh-CN: 大小}}
states:
  open: {initial: true, label: {zh-CN: 开}}
  done: {final: true, label: {zh-CN: 完}}
events:
  poke: {from: open, roles: [clerk], label: {zh-CN: 戳}}
""",
    "loop_a.yaml": """\
process: loop_a
title: {zh-CN: 甲}
roles: {clerk: {label: {zh-CN: 职员}}}
fields: {}
states:
  open:
    initial: true
    label: {zh-CN: 开}
    on_enter:
      - open: {process: loop_b}
  done: {final: true, label: {zh-CN: 完}}
events:
  go: {from: open, to: done, roles: [clerk], label: {zh-CN: 走}}
""",
    "loop_b.yaml": """\
process: loop_b
title: {zh-CN: 乙}
roles: {clerk: {label: {zh-CN: 职员}}}
fields: {}
states:
  open:
    initial: true
    label: {zh-CN: 开}
    on_enter:
      - open: {process: loop_a}
  done: {final: true, label: {zh-CN: 完}}
events:
  go: {from: open, to: done, roles: [clerk], label: {zh-CN: 走}}
""",
}


def test_link_mistakes_are_reported_at_their_place(tmp_path: Path) -> None:
    directory = write(tmp_path / "broken", BROKEN)
    report = validate_paths([directory])
    found = {
        (Path(d.span.file).name, d.span.line, d.span.column, d.code, d.message)
        for d in report.diagnostics
    }
    expected = [
        ("parent.yaml", 17, 14, "PF111", "the child cases have no field 'stat' "
         "(did you mean 'children.state'?"),
        ("parent.yaml", 17, 66, "PF111", "'children.unit' differs from child to child"),
        ("parent.yaml", 19, 25, "PF501", "process 'chld' is not defined in the files being "
         "checked (did you mean 'child'?"),
        ("parent.yaml", 20, 39, "PF502", "process 'child' has no field 'unti' (did you mean "
         "'unit'?"),
        ("parent.yaml", 20, 58, "PF502", "'=nope' refers to nothing"),
        ("parent.yaml", 20, 71, "PF502", "field 'size' of process 'child' is int, so it cannot "
         "take field 'unit' of process 'parent' (text)"),
        ("parent.yaml", 21, 38, "PF503", "'each' needs a list field, but 'count' is int "
         "(list fields: items)"),
        ("parent.yaml", 21, 58, "PF502", "'=item' names the current item of 'each'"),
        ("parent.yaml", 21, 71, "PF502", "field 'size' holds a whole number, not 'big'"),
        ("parent.yaml", 22, 9, "PF502", "opening a 'child' case needs its required field 'unit'"),
        ("parent.yaml", 23, 25, "PF505", "event 'poke' of process 'child' cannot be fired by the "
         "engine: add 'system' to its roles"),
        ("parent.yaml", 24, 33, "PF505", "no process opens 'parent' as a child"),
        ("loop_a.yaml", 10, 9, "PF504", "opening a 'loop_a' case opens cases for ever: loop_a → "
         "loop_b → loop_a → ..."),
        ("loop_b.yaml", 10, 9, "PF504", "opening a 'loop_b' case opens cases for ever"),
    ]  # fmt: skip
    for file, line, column, code, text in expected:
        assert any(
            f == file and (ln, col, c) == (line, column, code) and text in message
            for f, ln, col, c, message in found
        ), (file, line, column, code, text, sorted(found))


# The condition language's child-case names ------------------------------------------------------


def test_quantifiers_parse_render_and_evaluate() -> None:
    from engine.conditions import (
        ConditionSyntaxError,
        EvalContext,
        evaluate,
        parse_condition,
        to_text,
        uses_linked_cases,
    )

    text = "children.count > 0 and all(children.state in ['accepted', 'rejected'])"
    cond = parse_condition(text)
    assert to_text(cond.expr) == text and uses_linked_cases(cond)
    assert parse_condition(to_text(cond.expr)).expr == cond.expr
    assert not uses_linked_cases(parse_condition("all == true"))  # a field named 'all'
    kids = [
        {"state": "accepted", "final": True, "data": {"fee": 5}},
        {"state": "inspecting", "final": False, "data": {"fee": None}},
    ]
    cases = {
        "all(children.state == 'accepted')": (False, True),
        "any(children.state == 'accepted')": (True, False),
        "children.open == 1": (True, False),
        "children.count == 2": (True, False),
        "any(children.fee > 3) and not all(children.fee > 3)": (True, False),
        "children.state == 'accepted'": (False, False),  # outside a quantifier: null
    }
    for condition, (with_kids, without) in cases.items():
        parsed = parse_condition(condition)
        assert evaluate(parsed, EvalContext(data={}, children=kids)) is with_kids, condition
        assert evaluate(parsed, EvalContext(data={})) is without, condition
    for bad, message in [
        ("all(any(children.state == 'a'))", "cannot be used inside another"),
        ("any()", "needs a condition about each child case"),
        ("all(children.state == 'a'", "never closed"),
    ]:
        with pytest.raises(ConditionSyntaxError, match=message.replace("(", r"\(")):
            parse_condition(bad)
