"""Quotas: the director's 10 home visits a month and each area manager's 15 (seed 001).

Counted from the audit log (events recorded in the role), warned 5 days before the month
ends while short, reported at the month's end when missed, each exactly once — also after
downtime and with two workers — and every mistake in a quota reported at its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.checks.validation import validate_paths
from engine.runtime import Actor, Engine, ManualClock
from engine.store import OutboxItem
from tests.conftest import validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


DIRECTOR = Actor("zhou.zhuren", {"manager"})
WU = Actor("wu.quyu", {"area_manager"})
ZHAO = Actor("zhao.quyu", {"area_manager"})


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(2026, 3, 1, 8))


@pytest.fixture
def engine(clock: ManualClock, store_url: str) -> Iterator[Engine]:
    eng = Engine(validated_library(), store=store_url, clock=clock)
    eng.tick()  # plans the quotas' first period
    yield eng
    eng.close()


def visit(engine: Engine, clock: ManualClock, who: Actor, count: int = 1) -> None:
    for _ in range(count):
        clock.advance(timedelta(minutes=30))
        case = engine.open_case("home_visit", {"unit": "1-101"}, who)
        engine.fire(case.id, "record_visit", who, {"visit_result": "业主满意"})


def notices(engine: Engine) -> list[OutboxItem]:
    return [item for item in engine.outbox() if item.case_id is None]


def summary(items: list[OutboxItem]) -> list[tuple[str, str | None, str, int]]:
    return [
        (item.kind, item.role, str(item.payload["actor"]), int(item.payload["done"]))
        for item in items
    ]


def test_the_director_is_warned_then_reported_short(engine: Engine, clock: ManualClock) -> None:
    visit(engine, clock, DIRECTOR, 8)
    clock.set(at(2026, 3, 26, 23))
    engine.tick()
    assert notices(engine) == []  # the warning is due 5 days before the end: 27 March 00:00
    clock.set(at(2026, 3, 27, 0))
    assert engine.tick().quota_notices == 1
    (warning,) = notices(engine)
    assert summary([warning]) == [("quota_warning", "manager", "*", 8)]
    assert warning.payload["period"] == "2026-03" and warning.payload["count"] == 10
    assert warning.message == "主任每月登门回访业主10家: manager 8/10 (2026-03)"
    visit(engine, clock, DIRECTOR)
    assert engine.calendar_jobs.quota_status("director-visits", clock.now()) == {"*": 9}
    clock.set(at(2026, 4, 1, 0))
    engine.tick()
    assert summary(notices(engine)[1:]) == [("quota_breach", "manager", "*", 9)]
    # April: ten visits, no warning, no breach.
    visit(engine, clock, DIRECTOR, 10)
    for day in (27, 28, 30):
        clock.set(at(2026, 4, day, 12))
        engine.tick()
    clock.set(at(2026, 5, 1, 0, 1))
    engine.tick()
    engine.tick()
    assert len(notices(engine)) == 2


def test_each_area_manager_is_counted_alone(engine: Engine, clock: ManualClock) -> None:
    visit(engine, clock, WU, 15)
    visit(engine, clock, ZHAO, 12)
    # A visit the director makes does not count for the area managers, nor theirs for him.
    visit(engine, clock, DIRECTOR, 10)
    clock.set(at(2026, 3, 27, 9))
    engine.tick()
    assert summary(notices(engine)) == [("quota_warning", "area_manager", "zhao.quyu", 12)]
    clock.set(at(2026, 4, 1, 0))
    engine.tick()
    breach = notices(engine)[1:]
    assert summary(breach) == [
        ("quota_breach", "area_manager", "zhao.quyu", 12),
        ("notify", "manager", "zhao.quyu", 12),
    ]
    assert breach[1].message == "区域管理员本月回访未达15家"
    # Next month zhao does nothing at all in the role: he is no longer seen by the log, so
    # only an estate's 'actors' list would hold him to it (see the next test).
    clock.set(at(2026, 5, 1, 0))
    engine.tick()
    assert len(notices(engine)) == 4  # the director's April breach (0 visits) only
    assert summary(notices(engine)[3:]) == [("quota_breach", "manager", "*", 0)]


def test_listed_actors_are_held_to_the_quota_even_when_idle(
    tmp_path: Path, clock: ManualClock
) -> None:
    estate = tmp_path / "estates" / "jinbi"
    (estate / "rules").mkdir(parents=True)
    (estate / "estate.yaml").write_text("estate: jinbi\ntitle: {zh-CN: 金碧花园}\n", "utf-8")
    (estate / "rules" / "quotas.yaml").write_text(
        "quotas:\n  area-manager-visits:\n    actors: [wu.quyu, zhao.quyu]\n", "utf-8"
    )
    engine = Engine(store="sqlite://", clock=clock, estate=estate)
    engine.tick()
    visit(engine, clock, WU, 15)
    clock.set(at(2026, 4, 1))
    engine.tick()
    assert [(n.kind, n.payload["actor"]) for n in notices(engine) if n.role == "area_manager"] == [
        ("quota_breach", "zhao.quyu")
    ]
    engine.close()


def test_after_downtime_each_period_ends_once(
    engine: Engine, clock: ManualClock, store_url: str
) -> None:
    visit(engine, clock, DIRECTOR, 3)
    # Down from 10 March to 15 May: March's and April's warnings are too late to send;
    # each month's end is reported once, at the first tick back.
    clock.set(at(2026, 5, 15, 9))
    other = Engine(validated_library(), store=store_url, clock=clock)
    assert engine.tick().quota_notices + other.tick().quota_notices == 2
    assert engine.tick().quota_notices == other.tick().quota_notices == 0
    assert [(n.kind, n.payload["period"], n.payload["done"]) for n in notices(engine)] == [
        ("quota_breach", "2026-03", 3),
        ("quota_breach", "2026-04", 0),
    ]
    # May's warning comes on 27 May.
    clock.set(at(2026, 5, 27, 0))
    engine.tick()
    assert notices(engine)[-1].kind == "quota_warning"
    assert notices(engine)[-1].payload["period"] == "2026-05"
    other.close()


BAD = """\
quotas:
  q1:
    process: home_visti
    role: manager
    count: 10
    period: month
    counts: {event: record_visit}
  q2:
    process: home_visit
    role: managr
    count: 0
    period: month
    counts: {event: record_visit}
  q3:
    process: home_visit
    role: receptionist
    count: 5
    period: week
    counts: {event: [record_vist, record_visit]}
    calendar: ofice
    warn: 7d
    on_breach:
      - {escalate: manager}
      - {notify: head}
"""


def test_quota_mistakes_are_reported_at_their_place(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    report = validate_paths([ROOT / "processes", ROOT / "rules", tmp_path / "bad.yaml"])
    found = {(d.span.line, d.span.column, d.code, d.message) for d in report.diagnostics
             if d.span.file.endswith("bad.yaml")}  # fmt: skip
    expected = [
        (3, 14, "PF520", "process 'home_visti' is not defined in the files being checked "
         "(did you mean 'home_visit'?"),
        (10, 11, "PF520", "role 'managr' is not defined in process 'home_visit' "
         "(did you mean 'manager'?"),
        (11, 12, "PF521", "count 0 must be at least 1"),
        (19, 22, "PF520", "event 'record_vist' is not an event of process 'home_visit' "
         "(did you mean 'record_visit'?"),
        (19, 35, "PF520", "role 'receptionist' may not fire event 'record_visit', so it never "
         "counts"),
        (20, 15, "PF520", "calendar 'ofice' is not defined (did you mean 'office'?"),
        (21, 11, "PF521", "warn '7d' is not shorter than a week"),
        (23, 10, "PF520", "a quota belongs to no case, so its actions can only notify, not "
         "'escalate'"),
        (24, 18, "PF520", "role 'head' is not defined in process 'home_visit'"),
    ]  # fmt: skip
    for line, column, code, text in expected:
        assert any(
            (ln, col, c) == (line, column, code) and text in message
            for ln, col, c, message in found
        ), (line, column, code, text, sorted(found))
    assert len(found) == len(expected)
