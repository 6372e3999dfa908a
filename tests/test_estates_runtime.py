"""Two estates in one store: each engine runs its own estate's rules and calendars only."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import Actor, Engine, ManualClock, UnknownCase
from tests.conftest import validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = Actor("li", {"receptionist"})
FORM = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
RECORD = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}


def _engine(estate: str, db: Path, clock: ManualClock) -> Engine:
    return Engine(validated_library(estate), store=f"sqlite:///{db}", clock=clock)


def test_two_estates_share_a_store_but_not_their_rules(tmp_path: Path) -> None:
    # Friday 13 Feb 2026, 10:00: the Spring Festival holiday starts on Sunday the 15th.
    clock = ManualClock(datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI))
    db = tmp_path / "cases.db"
    lakeside, tingtao = _engine("lakeside", db, clock), _engine("tingtao", db, clock)
    try:
        assert (lakeside.estate, tingtao.estate) == ("lakeside", "tingtao")
        ours = lakeside.open_case("repair", FORM, DESK)
        theirs = tingtao.open_case("repair", FORM, DESK)
        assert (ours.estate, theirs.estate) == ("lakeside", "tingtao")
        lakeside.fire(ours.id, "record", DESK, RECORD)
        tingtao.fire(theirs.id, "record", DESK, RECORD)

        def general(engine: Engine, case_id: str) -> datetime:
            clocks = {s.limit: s for s in engine.sla_status(case_id)}
            deadline = clocks["repair-general"].deadline
            assert deadline is not None
            return deadline

        # lakeside counts 3 working days on its office calendar across the holiday
        # (Sat 14 Feb is a make-up working day; 15-23 Feb are off): Wed 25 Feb, 10:00.
        assert general(lakeside, ours.id) == datetime(2026, 2, 25, 10, 0, tzinfo=SHANGHAI)
        # tingtao, a serviced apartment, runs round the clock: its deadline is earlier.
        assert general(tingtao, theirs.id) < datetime(2026, 2, 20, tzinfo=SHANGHAI)

        # Neither engine will act on, or even show, the other estate's case.
        with pytest.raises(UnknownCase, match="belongs to estate 'tingtao'"):
            lakeside.get_case(theirs.id)
        with pytest.raises(UnknownCase, match="belongs to estate 'lakeside'"):
            tingtao.fire(ours.id, "withdraw", DESK)

        # A tick fires only the ticking estate's timers.
        clock.advance(timedelta(days=30))
        tingtao.tick()
        assert any(e.event.startswith("breach:") for e in tingtao.history(theirs.id))
        assert not any(e.event.startswith("breach:") for e in lakeside.history(ours.id))
        lakeside.tick()
        assert any(e.event.startswith("breach:") for e in lakeside.history(ours.id))
    finally:
        lakeside.close()
        tingtao.close()


PLAN = {
    "phone": "13611112222",
    "contractor": "美居装饰工程有限公司",
    "contractor_licence": "D233100158",
    "plan_summary": "厨房、卫生间翻新",
    "works": ["厨房翻新"],
    "utilities_change": False,
    "planned_start": "2026-03-09",
    "planned_end": "2026-04-10",
}


def test_lakeside_meets_daily_while_ten_units_are_under_works(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))  # Monday 2 March
    engine = _engine("lakeside", tmp_path / "cases.db", clock)
    roles = ("receptionist", "engineer", "manager", "finance", "security")
    desk, engineer, manager, finance, security = (Actor(role, {role}) for role in roles)

    def under_works(unit: int) -> str:
        owner = Actor(f"owner-{unit}", {"owner"})
        case = engine.open_case(
            "renovation",
            {"unit": f"5-1-{unit}", "owner_name": "吴先生", "owner_account": owner.id},
            desk,
        )
        for event, actor, payload in [
            ("submit", desk, PLAN),
            ("pass_review", engineer, {"review_opinion": "符合要求"}),
            ("approve", manager, {"approval_opinion": "同意"}),
            ("sign_agreement", owner, {}),
            ("pay_deposit", finance, {"deposit": 2000, "deposit_receipt": f"SJ-{unit}"}),
            ("issue_permit", desk, {"permit_no": f"ZX-{unit}"}),
        ]:
            case = engine.fire(case.id, event, actor, payload)
        assert case.state == "in_works"
        return case.id

    def daily_meetings() -> list[int]:
        return sorted(datetime.fromisoformat(c.data["meeting_at"]).day
                      for c in engine.query_cases(process="meeting", limit=100)
                      if c.data["period"] == "daily")  # fmt: skip

    def run_until(moment: datetime) -> None:
        while clock.now() < moment:
            clock.advance(timedelta(hours=1))
            engine.tick()

    try:
        engine.tick()
        units = [under_works(1201 + n) for n in range(9)]
        run_until(datetime(2026, 3, 4, 10, tzinfo=SHANGHAI))
        assert daily_meetings() == []  # nine units: not a peak
        units.append(under_works(1210))
        run_until(datetime(2026, 3, 10, 10, tzinfo=SHANGHAI))
        # Thursday 5, Friday 6, Tuesday 10 (weekends are not working days; Monday has the
        # weekly meeting).
        assert daily_meetings() == [5, 6, 10]
        engine.fire(units[0], "record_violation", security, {"violation": "楼道堆放垃圾"})
        run_until(datetime(2026, 3, 12, 10, tzinfo=SHANGHAI))
        assert daily_meetings() == [5, 6, 10]  # one suspended: nine under works again
        assert {c.estate for c in engine.query_cases(process="meeting", limit=100)} == {"lakeside"}
    finally:
        engine.close()
