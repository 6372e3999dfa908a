"""Indicators and the overdue board, from months of activity walked through the real engine.

Repairs and complaints are opened and walked on a manual clock (timers fired by ``tick``),
on SQLite and on PostgreSQL, and every indicator of the library is checked against a count
kept by the test as it walks: what each case did, in which month, counted here in Python
without the store. The walks include a repair that crosses the month boundary, a clock
paused while waiting for signatures, an extension, a failed acceptance, a reopened
complaint and cases opened under an older definition version of the repair process.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import distinct, func, select

from engine.render.pdf import html_to_pdf
from engine.reports import PeriodError, build_report, compute, overdue_board, parse_period, render
from engine.reports.periods import periods_up_to
from engine.runtime import Engine, ManualClock
from engine.store.schema import cases
from tests.conftest import ROOT, run_cli, validated_library
from tests.library.conftest import person

SHANGHAI = ZoneInfo("Asia/Shanghai")
ESTATE = "standard"
FORM = {"owner_name": "王先生", "phone": "13800138000", "content": "插座不通电",
        "location": "客厅", "category": "electrical"}  # fmt: skip
COMPLAINT = {"phone": "13800138000", "address": "3-1201", "content": "夜间施工噪音"}


def month(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


@dataclass
class Ledger:
    """What the walks did, by month: the test's own count of every indicator."""

    items: dict[str, dict[str, list[tuple[str, bool]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    def add(self, kpi: str, moment: datetime, case_id: str, counted: bool) -> None:
        self.items[kpi][month(moment)].append((case_id, counted))

    def expected(self, kpi: str, period: str) -> tuple[int, int]:
        entries = self.items[kpi][period]
        return sum(1 for _, ok in entries if ok), len(entries)


class Simulation:
    """Walks cases through an engine on a manual clock, keeping the ledger."""

    def __init__(self, engine: Engine, clock: ManualClock) -> None:
        self.engine = engine
        self.clock = clock
        self.ledger = Ledger()
        #: When each repair was opened: the summaries' "forms received", counted here.
        self.repairs_opened: list[datetime] = []

    def to(self, moment: datetime) -> None:
        self.clock.advance(moment - self.clock.now())
        self.engine.tick()

    def after(self, delta: timedelta) -> datetime:
        self.to(self.clock.now() + delta)
        return self.clock.now()

    def fire(self, case_id: str, event: str, role: str, **payload: Any) -> None:
        self.engine.fire(case_id, event, person(role), payload)

    def repair(
        self,
        start: datetime,
        *,
        late: bool = False,
        slow_route: bool = False,
        paused_hours: int = 0,
        extended: bool = False,
        rejected: bool = False,
        visit: str | None = "satisfied",
    ) -> str:
        """One urgent in-unit repair (only the 24-hour limit times its completion)."""
        self.to(start)
        case_id = self.engine.open_case(
            "repair",
            {"scope": "in_unit", "unit": "3-1201", "owner_account": person("owner").id},
            person("receptionist"),
        ).id
        opened = self.clock.now()
        self.repairs_opened.append(opened)
        recorded = self.after(timedelta(seconds=30))
        self.fire(case_id, "record", "receptionist", urgency="urgent", **FORM)
        self.ledger.add("repair-information-timeliness", recorded, case_id, True)
        dispatched = self.after(timedelta(minutes=5 if slow_route else 1))
        self.fire(case_id, "dispatch", "supervisor", technician="赵师傅")
        route_breach = recorded + timedelta(minutes=2)
        self.ledger.add("repair-information-timeliness", route_breach if slow_route else dispatched,
                        case_id, not slow_route)  # fmt: skip
        deadline = recorded + timedelta(hours=24)
        if extended:
            self.engine.extend(case_id, "repair-urgent", person("head"), reason="等配件",
                               by="24h", consents=["owner_consent"])  # fmt: skip
            deadline += timedelta(hours=24)
        self.after(timedelta(hours=30 if late or extended else 2))
        self.fire(case_id, "confirm_on_site", "technician", actual_situation="插座烧坏")
        self.fire(case_id, "finish_work", "technician", work_done="更换插座", hours=1)
        if rejected:
            self.after(timedelta(minutes=30))
            self.fire(case_id, "owner_reject", "owner", rejection_reason="仍不通电")
            self.fire(case_id, "finish_work", "technician", work_done="更换线路", hours=2)
        self.after(timedelta(hours=paused_hours or 1))
        self.fire(case_id, "owner_accept", "owner")
        self.fire(case_id, "supervisor_sign", "supervisor")
        signed = self.clock.now()
        on_time = not late
        self.ledger.add("repair-timeliness", signed if on_time else deadline, case_id, on_time)
        self.ledger.add("repair-return-visit-rate", signed, case_id, visit is not None)
        if visit is not None:
            visited = self.after(timedelta(hours=2))
            self.fire(case_id, "return_visit", "receptionist", visit_method="phone",
                      visit_result="已修复", satisfaction=visit)  # fmt: skip
            self.ledger.add("repair-satisfaction", visited, case_id, visit != "dissatisfied")
            self.ledger.add("repair-pass-rate", visited, case_id, not rejected)
            # None of these repairs is sent back after its visit (tests/test_patterns.py
            # walks one that is: the pattern marks it and the rework rate counts it).
            self.ledger.add("repair-rework-rate", visited, case_id, False)
        assert opened <= signed
        return case_id

    def complaint(
        self, start: datetime, *, valid: bool = True, reopened: bool = False, closed: bool = True
    ) -> str:
        self.to(start)
        case_id = self.engine.open_case(
            "complaint",
            {"complainant": "王先生", "complaint_date": month(start) + start.strftime("-%d"),
             "channel": "visit", "owner_account": person("owner").id},
            person("receptionist"),
        ).id  # fmt: skip
        self.ledger.add("complaint-handling-rate", start, case_id, closed)
        self.after(timedelta(seconds=30))
        self.fire(case_id, "record", "receptionist", **COMPLAINT)
        self.fire(case_id, "confirm_record", "owner")
        self.fire(case_id, "hand_over", "receptionist", responsible="陈主管")
        found = self.after(timedelta(hours=1))
        self.finding(case_id, valid, "supervisor")
        # The first finding places the complaint; its current validity decides.
        self.ledger.add("valid-complaints", found, case_id, valid)
        replied = self.handle_and_reply(case_id, valid)
        self.ledger.add("complaint-return-visit-rate", replied, case_id, closed or reopened)
        if reopened:
            self.after(timedelta(hours=3))
            self.fire(case_id, "reopen", "receptionist", discrepancy="业主称仍有施工")
            self.finding(case_id, valid, "area_manager")
            self.handle_and_reply(case_id, valid)
        if closed:
            visited = self.after(timedelta(hours=3))
            self.fire(case_id, "return_visit", "receptionist", visit_method="phone",
                      visit_result="已处理", satisfaction="basically_satisfied")  # fmt: skip
            self.ledger.add("complaint-satisfaction", visited, case_id, True)
        return case_id

    def home_visit(self, start: datetime, *, issues: bool = True, referred: bool = True) -> str:
        """A routine home visit; the problems the owner raises are sent to repair or not."""
        self.to(start)
        case_id = self.engine.open_case("home_visit", {"unit": "5-0801"}, person("manager")).id
        self.after(timedelta(hours=1))
        raised = {"issues": ["门锁松动"]} if issues else {}
        self.fire(case_id, "record_visit", "manager", visit_result="已登门", **raised)
        if referred:
            self.fire(case_id, "refer_issues", "manager")
            # The repair it opens waits at the desk: its 1-minute recording limit breaches.
            (repair,) = [link for link in self.engine.links(case_id) if link.process == "repair"]
            opened = self.clock.now()
            self.repairs_opened.append(opened)
            breach = opened + timedelta(minutes=1)
            self.ledger.add("repair-information-timeliness", breach, repair.case_id, False)
        filed = self.after(timedelta(minutes=30))
        self.fire(case_id, "close", "manager")
        if issues:
            self.ledger.add("home-visit-handling-rate", filed, case_id, referred)
        return case_id

    def information(self, start: datetime, *, late_log: bool = False) -> str:
        """A request taken at the desk (首接), logged and passed to the specialist."""
        self.to(start)
        case_id = self.engine.open_case(
            "information",
            {"received_date": start.date().isoformat(), "contact": "王先生"},
            person("receptionist"),
        ).id
        opened = self.clock.now()
        logged = self.after(timedelta(minutes=2 if late_log else 0, seconds=30))
        self.fire(case_id, "log", "receptionist", place="A座1201", content="门锁打不开",
                  contact="王先生")  # fmt: skip
        decided = opened + timedelta(minutes=1) if late_log else logged
        self.ledger.add("information-timeliness", decided, case_id, not late_log)
        routed = self.after(timedelta(minutes=1))
        self.fire(case_id, "route", "receptionist", category="help", specialist="钱师傅")
        self.ledger.add("information-timeliness", routed, case_id, True)
        return case_id

    def finding(self, case_id: str, valid: bool, role: str) -> None:
        self.fire(case_id, "record_finding", role, investigation="现场核实",
                  validity="valid" if valid else "invalid", importance="general",
                  handling_proposal="责令停工")  # fmt: skip

    def handle_and_reply(self, case_id: str, valid: bool) -> datetime:
        if valid:
            self.fire(case_id, "handle", "supervisor")
            self.fire(case_id, "finish_handling", "supervisor", handling_result="已停工")
        else:
            self.fire(case_id, "explain_invalid", "supervisor", explanation="属正常施工时间")
        replied = self.after(timedelta(hours=2))
        self.fire(case_id, "send_reply", "supervisor", reply="书面答复")
        return replied


def older_library(tmp_path: Path) -> list[Path]:
    """The shipped library with a different repair definition (a new title): a new version."""
    target = tmp_path / "older"
    shutil.copytree(ROOT / "processes", target / "processes")
    shutil.copytree(ROOT / "rules", target / "rules")
    repair = target / "processes" / "repair.yaml"
    text = repair.read_text(encoding="utf-8")
    repair.write_text(text.replace("title: {zh-CN: 报修处理,", "title: {zh-CN: 旧版报修,"), "utf-8")
    return [target / "processes", target / "rules"]


def at(day: int, hour: int, mon: int = 3) -> datetime:
    return datetime(2026, mon, day, hour, 0, tzinfo=SHANGHAI)


def simulate(store_url: str, tmp_path: Path) -> Simulation:
    clock = ManualClock(at(20, 9, 2))
    older = Engine(library=older_library(tmp_path), store=store_url, clock=clock)
    sim = Simulation(older, clock)
    sim.repair(at(23, 9, 2))  # February: must not count in March
    sim.repair(at(2, 9), rejected=True)  # opened on the older version
    sim.repair(at(3, 9), late=True)
    older.close()
    sim.engine = Engine(validated_library(), store=store_url, clock=clock)
    sim.repair(at(5, 9), paused_hours=30)  # waiting for signatures: paused, on time
    sim.repair(at(9, 9), extended=True)  # 30 hours, after a 24-hour extension: on time
    sim.repair(at(11, 9), slow_route=True, visit="dissatisfied")
    sim.repair(at(13, 9), visit="basically_satisfied")
    sim.repair(at(16, 9), visit=None)  # signed off, never visited
    sim.repair(at(18, 9), late=True, visit="dissatisfied")
    sim.complaint(at(21, 9))
    sim.complaint(at(22, 9), valid=False)
    sim.complaint(at(24, 9), reopened=True)
    sim.complaint(at(27, 9), closed=False)
    sim.home_visit(at(28, 14))  # the problem raised is sent to repair
    sim.home_visit(at(29, 14), referred=False)  # filed with its problem never sent on
    sim.home_visit(at(30, 10), issues=False, referred=False)  # nothing raised: not counted
    sim.information(at(30, 15))
    sim.information(at(30, 16), late_log=True)  # logged after 2.5 minutes
    sim.repair(at(31, 22))  # recorded in March, signed and visited in April
    sim.repair(at(3, 9, 4), late=True)
    sim.complaint(at(6, 9, 4), reopened=True, closed=False)
    return sim


@pytest.fixture
def simulation(store_url: str, tmp_path: Path) -> Iterator[Simulation]:
    sim = simulate(store_url, tmp_path)
    yield sim
    sim.engine.close()


def test_every_indicator_matches_the_walks_count(simulation: Simulation) -> None:
    library = validated_library().library
    store = simulation.engine.store
    versions = store.rows(
        select(func.count(distinct(cases.c.definition_version))).where(cases.c.process == "repair")
    )[0]
    assert list(versions.values()) == [2], "cases opened under two versions of repair"
    checked = 0
    for name in ("2026-02", "2026-03", "2026-04"):
        _, period = parse_period(name, "Asia/Shanghai")
        for located in library.kpis:
            kpi = located.definition
            process = library.process(kpi.process)
            assert process is not None
            result = compute(store, ESTATE, kpi, process, period)
            numerator, denominator = simulation.ledger.expected(kpi.id, name)
            assert (result.counts.numerator, result.counts.denominator) == (
                numerator,
                denominator,
            ), f"{kpi.id} in {name}"
            entries = simulation.ledger.items[kpi.id][name]
            bad = {cid for cid, ok in entries if ok != kpi.goal.higher_is_better}  # type: ignore[union-attr]
            assert set(result.missed) == bad, f"{kpi.id} missed in {name}"
            checked += denominator
    assert checked > 40


def test_scheduled_reports_open_with_their_figures_filled_in(simulation: Simulation) -> None:
    rows = simulation.engine.store.rows(
        select(cases.c.process, cases.c.data).where(
            cases.c.process.in_(["repair_summary", "monthly_report"])
        )
    )
    weeks = {r["data"]["week"]: r["data"] for r in rows if r["process"] == "repair_summary"}

    def received(start: datetime, end: datetime) -> int:
        return sum(1 for moment in simulation.repairs_opened if start <= moment < end)

    # The forms received: the repairs opened in the week (Monday to Monday, Shanghai time).
    assert weeks["2026-W10"]["repairs"] == received(at(2, 0), at(9, 0)) == 3
    assert weeks["2026-W12"]["repairs"] == received(at(16, 0), at(23, 0)) == 2
    # W10 (2 to 8 March): the repair of the 3rd breached on the 4th; the repair of the 2nd
    # failed its acceptance and closed on the 2nd; the paused one of the 5th was on time.
    assert (weeks["2026-W10"]["overdue"], weeks["2026-W10"]["reworked"]) == (1, 1)
    # W12 (16 to 22 March): the repair of the 18th breached on the 19th; nothing reworked.
    assert (weeks["2026-W12"]["overdue"], weeks["2026-W12"]["reworked"]) == (1, 0)
    (march,) = [r["data"] for r in rows if r["data"].get("month") == "2026-03"]
    assert march["repairs"] == received(at(1, 0), at(1, 0, 4)) == 10
    assert (
        march["complaints"] == simulation.ledger.expected("complaint-handling-rate", "2026-03")[1]
    )


def test_report_formats_and_breakdown(simulation: Simulation) -> None:
    library = validated_library().library
    store = simulation.engine.store
    _, march = parse_period("2026-03", "Asia/Shanghai")
    report = build_report(store, library, ESTATE, "Asia/Shanghai", march, "role", charts=True)
    timeliness = next(r for r in report.results if r.kpi.id == "repair-timeliness")
    numerator, denominator = simulation.ledger.expected("repair-timeliness", "2026-03")
    assert sum(g.denominator for g in timeliness.groups.values()) == denominator
    assert sum(g.numerator for g in timeliness.groups.values()) == numerator
    assert timeliness.met is False and timeliness.target.percent == 98
    history = dict(report.history["repair-timeliness"])  # type: ignore[index]
    assert len(history) == 12 and history["2026-03"] == timeliness.counts
    assert ("repair-urgent", 0, 2) in report.breaches  # the two late urgent repairs
    html = render(report, "html")
    assert html.startswith('<!DOCTYPE html><html lang="zh-CN">')
    assert "<script" not in html and html.count("<svg") == len(report.results) + 1
    assert "维修及时率" in html and all(cid in html for cid in timeliness.missed)
    # Printed as a browser prints it, without running anything: Chinese in a real CJK font.
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-") and re.findall(rb"/Type\s*/Page\b", pdf)
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z0-9-]+)", pdf))
    assert b"WenQuanYiMicroHei" in fonts, fonts
    csv_lines = render(report, "csv").splitlines()
    assert csv_lines[0].startswith("indicator,group,numerator")
    assert any(line.startswith("repair-timeliness,,") for line in csv_lines)


def test_the_board_lists_breached_and_soon_due_by_role(store_url: str) -> None:
    clock = ManualClock(at(2, 9))
    engine = Engine(validated_library(), store=store_url, clock=clock)
    try:
        sim = Simulation(engine, clock)
        first = engine.open_case("repair", {"scope": "in_unit", "unit": "1-101"},
                                 person("receptionist")).id  # fmt: skip
        sim.fire(first, "record", "receptionist", urgency="urgent", **FORM)
        sim.after(timedelta(hours=21))
        second = engine.open_case("repair", {"scope": "in_unit", "unit": "1-102"},
                                  person("receptionist")).id  # fmt: skip
        sim.fire(second, "record", "receptionist", urgency="urgent", **FORM)
        sim.after(timedelta(hours=4))  # the first breached an hour ago
        board = overdue_board(engine.store, ESTATE, clock.now(), timedelta(hours=4))
        # The breach escalated the first repair to the head: it is on the head's list.
        assert [
            (i.case_id, i.breached) for i in board["head"] if i.limit_id == "repair-urgent"
        ] == [(first, True)]
        for items in board.values():
            deadlines = [item.deadline for item in items]
            assert deadlines == sorted(deadlines)
        assert second not in {
            i.case_id for i in board.get("supervisor", []) if i.limit_id == "repair-urgent"
        }
        later = overdue_board(engine.store, ESTATE, clock.now(), timedelta(hours=24))
        assert (second, False) in [
            (i.case_id, i.breached) for i in later["supervisor"] if i.limit_id == "repair-urgent"
        ]
        assert overdue_board(engine.store, "elsewhere", clock.now(), timedelta(hours=24)) == {}
    finally:
        engine.close()


def test_periods_in_the_estates_timezone() -> None:
    kind, week = parse_period("2026-W01", "Asia/Shanghai")
    assert kind == "week" and week.start == datetime(2025, 12, 29, tzinfo=SHANGHAI)
    _, quarter = parse_period("2026-Q2", "Asia/Shanghai")
    assert (quarter.start, quarter.end) == (at(1, 0, 4), datetime(2026, 7, 1, tzinfo=SHANGHAI))
    _, year = parse_period("2026", "Asia/Shanghai")
    history = periods_up_to(
        "month", parse_period("2026-03", "Asia/Shanghai")[1], 12, "Asia/Shanghai"
    )
    assert [p.name for p in history][:3] == ["2025-04", "2025-05", "2025-06"]
    assert history[-1].name == "2026-03" and history[-1].end <= year.end
    for text in ("2026-13", "2026-W54", "March", "2026-Q5"):
        with pytest.raises(PeriodError):
            parse_period(text, "Asia/Shanghai")


@pytest.mark.parametrize("store_backend", ["sqlite"], indirect=True)
def test_report_and_board_commands(store_url: str, tmp_path: Path) -> None:
    sim = simulate(store_url, tmp_path)
    sim.engine.close()
    estate = tmp_path / "standard-estate"
    estate.mkdir()
    (estate / "estate.yaml").write_text("estate: standard\n", encoding="utf-8")
    result = run_cli(["report", "--estate", str(estate), "--db", store_url, "--period",
                      "2026-03", "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"repair-timeliness"' in result.output
    text = run_cli(["report", "--estate", str(estate), "--db", store_url, "--from",
                    "2026-03-01", "--to", "2026-03-31", "--by", "category"])  # fmt: skip
    assert text.exit_code == 0 and "electrical:" in text.output
    assert "repair-timeliness  Repair timeliness: " in text.output and ", target " in text.output
    chinese = run_cli(["report", "--estate", str(estate), "--db", store_url, "--period",
                       "2026-03", "--lang", "zh-CN"])  # fmt: skip
    assert chinese.output.startswith("项目 standard · 期间 2026-03\n"), chinese.output
    timeliness = next(line for line in chinese.output.splitlines() if "维修及时率" in line)
    shape = r"repair-timeliness  维修及时率：[\d.]+%（\d+/\d+），目标 >= 98%：(未)?达标"
    assert re.fullmatch(shape, timeliness), timeliness
    bad = run_cli(["report", "--estate", str(estate), "--db", store_url, "--period", "2026-13"])
    assert bad.exit_code == 2
    both = run_cli(["report", "--estate", str(estate), "--period", "2026-03",
                    "--from", "2026-03-01", "--to", "2026-03-02"])  # fmt: skip
    assert both.exit_code == 2
    board = run_cli(["board", "--estate", str(estate), "--db", store_url, "--within", "4h",
                     "--at", "2026-04-10T09:00+0800"])  # fmt: skip
    assert board.exit_code == 0, board.output
    # Deadlines in the estate's time, with how long ago: the visit due on 17 March at 13:30.
    receptionist = board.output.split("receptionist:\n", 1)[1].split(":\n", 1)[0]
    assert re.search(r"2026-03-17 13:30 CST  OVERDUE .* repair-return-visit  \(overdue 23d 19h\)",
                     receptionist), board.output  # fmt: skip
    listed = run_cli(["board", "--estate", str(estate), "--db", store_url, "--within", "1d",
                      "--at", "2026-03-01T09:00+0800", "--json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["at"] == "2026-03-01T09:00:00+08:00"
    (estate / "rules").mkdir()
    (estate / "rules" / "kpis.yaml").write_text("kpis:\n  repair-timeliness: {target: often}\n")
    broken = run_cli(["report", "--estate", str(estate), "--db", store_url])
    assert broken.exit_code == 1 and "PF050" in broken.output
