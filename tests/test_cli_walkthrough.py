"""A new consultant's and a new operator's first hour, as they would type it: ``init`` an
estate and uncomment its examples, run the demo, read a case, list what is late, read and
acknowledge the notifications."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.model.words import display_width
from engine.runtime import Actor, Engine, ManualClock
from engine.scenarios.demo import walks
from tests.conftest import ROOT, run_cli

EXAMPLE = "# Example (uncomment the lines below to apply it):"
SHANGHAI = ZoneInfo("Asia/Shanghai")


# ---------------------------------------------------------------------------------- init


def uncomment_examples(estate: Path) -> int:
    """Uncomment the example block of every file that has one, as an editor's toggle does;
    how many files had one."""
    changed = 0
    for path in estate.rglob("*.yaml"):
        lines = path.read_text(encoding="utf-8").splitlines()
        if EXAMPLE not in lines:
            continue
        start = lines.index(EXAMPLE) + 1
        lines[start:] = [line.removeprefix("# ") for line in lines[start:]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        changed += 1
    return changed


def test_init_makes_an_estate_that_validates_strictly_and_tests_green(tmp_path: Path) -> None:
    estate = tmp_path / "binjiang"
    made = run_cli(["init", str(estate), "--title", "滨江花园"])
    assert made.exit_code == 0, made.output
    assert 'title: {zh-CN: "滨江花园"' in (estate / "estate.yaml").read_text(encoding="utf-8")
    checked = run_cli(["validate", "--strict", str(estate)])
    assert checked.exit_code == 0, checked.output
    assert "0 errors, 0 warnings" in checked.output
    tested = run_cli(["test", str(estate)])
    assert tested.exit_code == 0, tested.output
    assert "1 passed, 0 failed" in tested.output


def test_the_examples_of_init_work_once_uncommented(tmp_path: Path) -> None:
    estate = tmp_path / "binjiang"
    assert run_cli(["init", str(estate), "--title", "滨江花园"]).exit_code == 0
    assert uncomment_examples(estate) == 2
    checked = run_cli(["validate", "--strict", str(estate)])
    assert checked.exit_code == 0, checked.output
    assert "0 errors, 0 warnings" in checked.output
    tested = run_cli(["test", str(estate)])
    assert tested.exit_code == 0, tested.output
    diff = run_cli(["diff", "--estate", str(estate)]).output
    assert 'time limit repair-general limit: "3d" -> "3 workdays"' in diff
    assert "deleted  time limit repair-emergency-report" in diff
    assert 'states.reported.label.zh-CN: "已登记" -> "已受理待派工"' in diff


def test_every_file_init_writes_names_an_existing_schema(tmp_path: Path) -> None:
    estate = tmp_path / "binjiang"
    assert run_cli(["init", str(estate), "--title", "滨江花园"]).exit_code == 0
    files = sorted(estate.rglob("*.yaml"))
    assert len(files) == 4
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        named = first.removeprefix("# yaml-language-server: $schema=")
        assert named != first, path
        assert (path.parent / named).resolve().is_file(), (path, named)
    assert "patch" in (estate / "processes" / "repair.yaml").read_text().splitlines()[0]


def test_init_asks_for_the_title_on_a_terminal(tmp_path: Path) -> None:
    estate = tmp_path / "lvcheng"
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", "from engine.cli import main; main(prog_name='propflow')",
             "init", str(estate)],
            cwd=ROOT, stdin=follower, stdout=follower, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while b"[lvcheng]" not in shown:
            shown += os.read(leader, 1024)
        os.write(leader, "绿城花园\n".encode())
        assert process.wait(timeout=120) == 0
    finally:
        os.close(leader)
    assert "项目名称" in shown.decode("utf-8", "replace")
    assert '"绿城花园"' in (estate / "estate.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------- demo


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A store the demo ran on, and what the demo printed."""
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    result = run_cli(["demo", "--db", db])
    assert result.exit_code == 0, result.output
    return db, result.output


def test_demo_marks_its_refusals_as_expected(demo_db: tuple[str, str]) -> None:
    _, output = demo_db
    provoked = sum(step.refusal is not None for walk in walks() for step in walk.steps)
    assert output.count("refused as expected") == provoked
    assert not re.search(r"refused(?! as expected)", output)
    assert f"{provoked} refusals provoked on purpose, each as expected" in output


def test_demo_tables_have_headers_and_align_chinese_text(demo_db: tuple[str, str]) -> None:
    _, output = demo_db
    tables = output.split("\n== ")[1:]
    assert len(tables) == len(walks())
    for table in tables:
        lines = table.splitlines()
        header = next(line for line in lines if line.strip().startswith("time"))
        rows = [row for row in lines[lines.index(header) + 2 :] if row.startswith("   ")]
        assert rows, table
        # Every row's outcome column starts at the header's, in terminal columns.
        column = display_width(header[: header.index("outcome")])
        for row in rows:
            cell = next(m for m in ("linked", "refused", "opened", "moved") if m in row)
            assert display_width(row[: row.index(cell)]) == column, (header, row)


def test_demo_summary_matches_the_store(demo_db: tuple[str, str]) -> None:
    db, output = demo_db
    listed = json.loads(run_cli(["case", "list", "--db", db, "--json"]).output)
    summary = next(line for line in output.splitlines() if "cases walked" in line)
    assert f"{len(listed)} cases written to the store ({len(listed)} in it)" in summary
    assert f"{len(walks())} cases walked, {len(listed) - len(walks())} more opened" in summary


# ---------------------------------------------------------------------------------- cases


def test_case_show_speaks_the_estates_time_and_labels(demo_db: tuple[str, str]) -> None:
    db, _ = demo_db
    listed = json.loads(run_cli(["case", "list", "--db", db, "--json"]).output)
    first = min(listed, key=lambda case: case["opened_at"])
    shown = run_cli(["case", "show", "--db", db, first["id"]]).output
    assert "(times in Asia/Shanghai)" in shown
    assert "opened    2026-02-09 09:00 CST" in shown
    assert re.search(r"急修/一般\s+一般项目 \(general\)", shown), shown
    assert "+00:00" not in shown and "UTC" not in shown
    waiting = next(case for case in listed if case["state"] == "received")
    late = run_cli(["case", "show", "--db", db, waiting["id"]]).output
    assert "overdue " in late and "left -" not in late and "-0m" not in late


def test_case_commands_speak_chinese_when_asked(demo_db: tuple[str, str]) -> None:
    db, _ = demo_db
    listed = json.loads(run_cli(["case", "list", "--db", db, "--json"]).output)
    waiting = next(case for case in listed if case["state"] == "received")
    shown = run_cli(["case", "show", "--db", db, "--lang", "zh-CN", waiting["id"]]).output
    assert f"案件 {waiting['id']}（时间为 Asia/Shanghai 时间）" in shown
    assert re.search(r"^  开立时间  2026-\d\d-\d\d \d\d:\d\d CST$", shown, re.M), shown
    assert "  时限\n" in shown
    # The clock's status and how late it is, in Chinese words and units.
    assert re.search(r"计时中, 已超时, 逾期 \d+天\d+小时, 已用 ", shown), shown
    assert not re.search(r"\b(running|overdue|used|left|time limits)\b", shown), shown
    table = run_cli(["case", "list", "--db", db, "--lang", "zh-CN", "--limit", "2"]).output
    header, rule = table.splitlines()[:2]
    assert header.split() == ["案件", "流程", "状态", "处理角色", "版本", "开立时间"]
    # Columns line up by display width: each heading starts where its rule starts.
    starts = [display_width(header[: header.index(word)]) for word in header.split()]
    assert starts == [m.start() for m in re.finditer(r"-+", rule)]
    assert table.splitlines()[-1] == "共 2 个案件，时间为 Asia/Shanghai 时间"


def test_case_list_breached_and_due_before(tmp_path: Path) -> None:
    db = str(tmp_path / "cases.db")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    desk = Actor("li", {"receptionist"})
    with_engine = Engine(store=db, clock=clock)
    try:
        form = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
        late = with_engine.open_case("repair", form, desk)
        record = {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"}
        with_engine.fire(late.id, "record", desk, record)
        clock.advance(timedelta(days=3))
        with_engine.tick()
        fresh = with_engine.open_case("repair", form, desk)
    finally:
        with_engine.close()
    breached = json.loads(run_cli(["case", "list", "--db", db, "--breached", "--json"]).output)
    assert [case["id"] for case in breached] == [late.id]
    assert breached[0]["next_deadline"] is not None
    soon = run_cli(["case", "list", "--db", db, "--due-before", "2026-03-05T09:03"]).output
    assert late.id in soon and "next deadline" in soon
    later = json.loads(
        run_cli(["case", "list", "--db", db, "--due-before", "2026-03-06", "--json"]).output
    )
    assert {case["id"] for case in later} == {late.id, fresh.id}
    early = json.loads(
        run_cli(["case", "list", "--db", db, "--due-before", "2026-03-02T09:00", "--json"]).output
    )
    assert early == []


def test_read_and_acknowledge_notifications(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    assert run_cli(["demo", "--db", db]).exit_code == 0
    read = json.loads(run_cli(["case", "notifications", "--db", db, "--json"]).output)
    waiting = read["notifications"]
    assert waiting and read["next"] == waiting[-1]["id"]
    desk = [n for n in waiting if n["role"] == "receptionist"]
    others = [n for n in waiting if n["role"] not in (None, "receptionist")]
    assert desk and others
    mine = run_cli(["case", "notifications", "--db", db, "--role", "receptionist"]).output
    assert all(f"\n{n['id']} " in "\n" + mine for n in desk)
    assert not any(n["message"] in mine for n in others)
    target = desk[0]["id"]
    acked = run_cli(["case", "acknowledge", "--db", db, str(target)])
    assert acked.exit_code == 0 and f"acknowledged 1: {target}" in acked.output
    after = json.loads(run_cli(["case", "notifications", "--db", db, "--json"]).output)
    assert target not in [n["id"] for n in after["notifications"]]
    assert run_cli(["case", "acknowledge", "--db", db, str(target)]).exit_code == 1
