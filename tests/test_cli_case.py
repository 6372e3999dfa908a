"""The case commands and the demo, run as a user would, against a SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

from engine.scenarios.demo import walks
from tests.conftest import ROOT, run_cli


def _open(db: Path) -> str:
    result = run_cli(
        [
            "case",
            "open",
            "repair",
            "--db",
            str(db),
            "--json",
            "--role",
            "receptionist",
            "--actor",
            "li",
            "--set",
            "scope=in_unit",
            "--set",
            "unit=3-1201",
            "--set",
            "owner_name=陈先生",
            "--set",
            "owner_account=cli",
        ]
    )
    assert result.exit_code == 0, result.output
    case = json.loads(result.output)
    assert case["state"] == "received" and case["version"] == 1
    return str(case["id"])


def _fire(db: Path, case_id: str, event: str, role: str, **data: object) -> tuple[int, str]:
    result = run_cli(
        [
            "case",
            "fire",
            case_id,
            event,
            "--db",
            str(db),
            "--json",
            "--role",
            role,
            "--data",
            json.dumps(data, ensure_ascii=False),
        ]
    )
    return result.exit_code, result.output


def test_walk_a_repair_from_reported_to_closed(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    case_id = _open(db)
    steps = [
        (
            "record",
            "receptionist",
            {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"},
            "reported",
        ),
        ("dispatch", "supervisor", {"technician": "赵师傅"}, "dispatched"),
        ("confirm_on_site", "technician", {"actual_situation": "接头松动"}, "in_progress"),
        ("finish_work", "technician", {"work_done": "更换接头", "hours": 1}, "awaiting_signoff"),
        ("owner_accept", "owner", {}, "awaiting_signoff"),
        ("supervisor_sign", "supervisor", {}, "signed_off"),
        (
            "return_visit",
            "receptionist",
            {"visit_method": "phone", "visit_result": "满意", "satisfaction": "satisfied"},
            "closed",
        ),
    ]
    for event, role, data, state in steps:
        code, output = _fire(db, case_id, event, role, **data)
        assert code == 0, output
        assert json.loads(output)["state"] == state
    history = run_cli(["case", "history", case_id, "--db", str(db), "--json"])
    entries = json.loads(history.output)
    assert [e["event"] for e in entries] == ["open"] + [s[0] for s in steps]
    assert entries[2]["role"] == "supervisor" and entries[2]["from"] == "reported"
    listed = run_cli(["case", "list", "--db", str(db), "--state", "closed", "--json"])
    assert [c["id"] for c in json.loads(listed.output)] == [case_id]


def test_refusal_is_a_message_and_exit_1_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    case_id = _open(db)
    code, output = _fire(db, case_id, "dispatch", "receptionist", technician="x")
    assert code == 1
    assert f"case {case_id} (state 'received'): event 'dispatch' refused: not allowed" in output
    shown = json.loads(run_cli(["case", "show", case_id, "--db", str(db), "--json"]).output)
    assert shown["version"] == 1


def test_events_lists_reasons(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    case_id = _open(db)
    result = run_cli(
        ["case", "events", case_id, "--db", str(db), "--role", "receptionist", "--json"]
    )
    options = {o["event"]: o for o in json.loads(result.output)}
    assert options["record"]["allowed"] is True  # allowed once the form is filled in
    assert options["record"]["needs"] == ["phone", "content", "location", "category"]
    assert options["dispatch"]["reason"].startswith("not allowed in state 'received'")


def test_bad_payload_json_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(
        [
            "case",
            "open",
            "repair",
            "--db",
            str(tmp_path / "c.db"),
            "--role",
            "receptionist",
            "--data",
            "{not json",
        ]
    )
    assert result.exit_code == 2


def test_unknown_case_and_process(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    assert run_cli(["case", "show", "nope", "--db", db]).exit_code == 1
    result = run_cli(["case", "open", "repiar", "--db", db, "--role", "receptionist"])
    assert result.exit_code == 1
    assert "did you mean 'repair'" in result.output


def test_demo_walks_every_process(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = run_cli(["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    library = sorted(path.stem for path in (ROOT / "processes").glob("*.yaml"))
    for process in library:
        assert f" {process}: " in result.output
    assert "refused" in result.output
    listed = json.loads(run_cli(["case", "list", "--db", str(db), "--json"]).output)
    # One walked case a procedure, and those their links opened: the warranty repair of the
    # handover's defect and the repair the home visit referred (both left at the desk), and
    # the unit handovers of the handover project (left with their owners).
    assert sorted({case["process"] for case in listed}) == library
    walked = len(walks())
    assert f"{walked} cases walked, 4 more opened by their links: " in result.output
    assert len(listed) == walked + 4

    at_desk = sorted(case["data"]["content"] for case in listed if case["state"] == "received")
    assert at_desk == sorted(["卫生间墙面渗水", "5栋8楼楼道灯不亮，转工程部"])
    units = [case for case in listed if case["state"] == "awaiting_owner"]
    assert sorted(case["data"]["unit"] for case in units) == ["1-101", "1-102"]
