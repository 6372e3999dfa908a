"""Two estates in one store: each engine runs its own estate's rules and calendars only."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.runtime import Actor, Engine, ManualClock, UnknownCase
from tests.conftest import ROOT

SHANGHAI = ZoneInfo("Asia/Shanghai")
DESK = Actor("li", {"receptionist"})
FORM = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
RECORD = {"phone": "13800138000", "content": "墙面开裂", "location": "客厅", "category": "civil"}


def _engine(estate: str, db: Path, clock: ManualClock) -> Engine:
    return Engine(store=f"sqlite:///{db}", clock=clock, estate=ROOT / "estates" / estate)


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
