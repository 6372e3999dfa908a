"""Working calendars and deadlines, around real dates of the mainland statutory calendar.

The 2026 arrangement (chinese_calendar's data): Spring Festival 15–23 Feb off, Saturdays 14
and 28 Feb worked; Mid-Autumn 25–27 Sep off; National Day 1–7 Oct off, Sunday 20 Sep and
Saturday 10 Oct worked. ``office`` is Monday to Friday 08:30–12:00 and 13:30–17:30.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from engine.io.loading import load_library
from engine.model import CalendarDef
from engine.model.durations import parse_anchored, parse_duration
from engine.time import CalendarError, WorkingCalendar, cn_holidays
from engine.time.hours import ALWAYS, parse_weekdays
from tests.conftest import ROOT, run_cli

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST_YEAR = cn_holidays().last_year
FUTURE = LAST_YEAR + 1  # the first year without statutory data, whatever the package holds


def shipped() -> dict[str, WorkingCalendar]:
    loaded = load_library([ROOT / "rules"])
    assert not loaded.diagnostics
    return {
        c.definition.id: WorkingCalendar.from_definition(c.definition)
        for c in loaded.library.calendars
    }


CALENDARS = shipped()


def calendar(raw: Mapping[str, Any], **extra: Any) -> WorkingCalendar:
    return WorkingCalendar.from_definition(
        CalendarDef.model_validate({"id": "test", **raw}), **extra
    )


def at(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """An aware time: `2026-02-13T10:00` in Shanghai unless the text has an offset."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=tz)


OFFICE_HOURS = {"mon-fri": ["08:30-12:00", "13:30-17:30"]}


# -- the data these tests rely on -----------------------------------------------------------


def test_coverage_is_read_from_the_package() -> None:
    data = cn_holidays()
    assert data.last_year == max(chinese_calendar.holidays).year
    assert data.first_year == min(chinese_calendar.holidays).year
    assert LAST_YEAR >= 2026  # the dated tests below need the 2026 arrangement


def test_2026_arrangement() -> None:
    office = CALENDARS["office"]
    assert office.is_working_day(date(2026, 2, 14))  # Saturday, make-up day
    assert not any(office.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert office.is_working_day(date(2026, 9, 20))  # Sunday, make-up day
    assert not any(office.is_working_day(date(2026, 9, d)) for d in (25, 26, 27))
    assert not any(office.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert office.is_working_day(date(2026, 10, 10))  # Saturday, make-up day
    assert not office.is_working_day(date(2026, 3, 7))  # an ordinary Saturday


def test_periods_are_aware_and_local() -> None:
    office = CALENDARS["office"]
    assert office.periods(date(2026, 2, 14)) == [
        (at("2026-02-14T08:30"), at("2026-02-14T12:00")),
        (at("2026-02-14T13:30"), at("2026-02-14T17:30")),
    ]
    assert office.periods(date(2026, 2, 16)) == []
    start, end = office.periods(date(2026, 3, 9))[0]
    assert start.tzinfo == SHANGHAI and end.isoformat() == "2026-03-09T12:00:00+08:00"
    assert CALENDARS["workday_24h"].periods(date(2026, 3, 9)) == [
        (at("2026-03-09T00:00"), at("2026-03-10T00:00"))
    ]
    assert CALENDARS["24x7"].periods(date(2026, 2, 16)) == [
        (at("2026-02-16T00:00"), at("2026-02-17T00:00"))
    ]


# -- deadlines ------------------------------------------------------------------------------

DEADLINES = [
    # Spring Festival 2026
    ("office", "2026-02-13T10:00", "3 workdays", "2026-02-25T10:00"),
    ("office", "2026-02-13T10:00", "1 workday", "2026-02-14T10:00"),  # make-up Saturday
    ("office", "2026-02-14T16:00", "1 workday", "2026-02-24T16:00"),
    ("office", "2026-02-14T16:00", "4 workhours", "2026-02-24T11:00"),
    ("office", "2026-02-18T10:00", "1 workday", "2026-02-25T08:30"),  # start on a holiday
    ("office", "2026-02-18T10:00", "2 workhours", "2026-02-24T10:30"),
    ("office", "2026-02-27T10:00", "1 workday", "2026-02-28T10:00"),  # make-up Saturday
    ("office", "2026-02-27T10:00", "2 workdays", "2026-03-02T10:00"),
    ("office", "2026-02-13T18:00", "72h", "2026-02-16T18:00"),  # wall clock ignores holidays
    # Mid-Autumn and National Day 2026
    ("office", "2026-09-30T10:00", "3 workdays", "2026-10-10T10:00"),  # make-up Saturday
    ("office", "2026-09-30T10:00", "1 workday", "2026-10-08T10:00"),
    ("office", "2026-09-30T17:30", "1 workday", "2026-10-09T08:30"),
    ("office", "2026-09-18T10:00", "1 workday", "2026-09-20T10:00"),  # make-up Sunday
    ("office", "2026-09-24T15:00", "8 workhours", "2026-09-28T15:30"),
    ("office", "2026-10-09T16:00", "4 workhours", "2026-10-10T11:00"),
    # weekends
    ("office", "2026-03-06T10:00", "1 workday", "2026-03-09T10:00"),
    ("office", "2026-03-06T16:00", "4 workhours", "2026-03-09T11:00"),
    ("office", "2026-03-07T10:00", "1 workday", "2026-03-10T08:30"),  # start on a Saturday
    ("office", "2026-03-07T10:00", "1 workhour", "2026-03-09T09:30"),
    # the edges of working hours and the lunch break
    ("office", "2026-03-10T17:30", "1 workday", "2026-03-12T08:30"),
    ("office", "2026-03-10T17:30", "1 workhour", "2026-03-11T09:30"),
    ("office", "2026-03-10T08:30", "1 workday", "2026-03-11T08:30"),
    ("office", "2026-03-10T08:30", "7 workhours", "2026-03-10T17:00"),
    ("office", "2026-03-10T10:00", "2 workhours", "2026-03-10T12:00"),  # ends at the break
    ("office", "2026-03-10T10:00", "6 workhours", "2026-03-10T17:30"),  # not 08:30 next day
    ("office", "2026-03-10T12:00", "1 workhour", "2026-03-10T14:30"),
    ("office", "2026-03-10T12:00", "1 workday", "2026-03-11T13:30"),
    ("office", "2026-03-10T12:45", "1 workhour", "2026-03-10T14:30"),
    ("office", "2026-03-10T11:30", "1 workhour", "2026-03-10T14:00"),
    ("office", "2026-03-10T07:00", "1 workhour", "2026-03-10T09:30"),
    ("office", "2026-03-10T20:00", "1 workday", "2026-03-12T08:30"),
    ("office", "2026-03-10T10:00", "24h", "2026-03-11T10:00"),
    ("office", "2026-03-10T10:00", "PT24H", "2026-03-11T10:00"),
    # round the clock, and working days all day
    ("24x7", "2026-02-13T10:00", "3 workdays", "2026-02-16T10:00"),
    ("24x7", "2026-02-15T22:00", "4 workhours", "2026-02-16T02:00"),
    ("24x7", "2026-02-13T10:00", "24h", "2026-02-14T10:00"),
    ("workday_24h", "2026-02-13T20:00", "24 workhours", "2026-02-14T20:00"),
    ("workday_24h", "2026-02-14T12:00", "24 workhours", "2026-02-24T12:00"),
    ("workday_24h", "2026-03-07T12:00", "1 workday", "2026-03-10T00:00"),
    ("workday_24h", "2026-03-10T00:00", "1 workday", "2026-03-11T00:00"),
]


@pytest.mark.parametrize(("name", "start", "limit", "expected"), DEADLINES)
def test_deadline(name: str, start: str, limit: str, expected: str) -> None:
    result = CALENDARS[name].add(at(start), parse_duration(limit))
    assert result.at == at(expected)
    assert result.at.tzinfo == SHANGHAI
    assert result.warnings == ()


def test_spring_festival_counted_periods() -> None:
    result = CALENDARS["office"].add(at("2026-02-13T10:00+08:00"), parse_duration("3 workdays"))
    assert result.at.isoformat() == "2026-02-25T10:00:00+08:00"
    assert result.counted == (
        (at("2026-02-13T10:00"), at("2026-02-13T12:00")),
        (at("2026-02-13T13:30"), at("2026-02-13T17:30")),
        (at("2026-02-14T08:30"), at("2026-02-14T12:00")),
        (at("2026-02-14T13:30"), at("2026-02-14T17:30")),
        (at("2026-02-24T08:30"), at("2026-02-24T12:00")),
        (at("2026-02-24T13:30"), at("2026-02-24T17:30")),
        (at("2026-02-25T08:30"), at("2026-02-25T10:00")),
    )
    assert result.working_time == timedelta(hours=22, minutes=30)


def test_start_with_another_offset_answers_in_the_calendar_timezone() -> None:
    result = CALENDARS["office"].add(at("2026-02-13T02:00+00:00"), parse_duration("3 workdays"))
    assert result.at.isoformat() == "2026-02-25T10:00:00+08:00"


def test_wall_clock_counts_the_whole_stretch() -> None:
    result = CALENDARS["office"].add(at("2026-02-13T18:00"), parse_duration("72h"))
    assert result.counted == ((at("2026-02-13T18:00"), at("2026-02-16T18:00")),)


def test_wall_clock_is_elapsed_time_across_daylight_saving() -> None:
    london = ZoneInfo("Europe/London")
    always = calendar({"timezone": "Europe/London", "hours": "always"})
    start = at("2026-03-28T12:00", london)  # GMT; BST starts at 01:00 UTC on the 29th
    assert always.add(start, parse_duration("24h")).at.isoformat() == "2026-03-29T13:00:00+01:00"
    assert always.add(start, parse_duration("1 workday")).at.isoformat() == (
        "2026-03-29T12:00:00+01:00"
    )
    assert always.working_time_between(start, at("2026-03-29T12:00", london)) == timedelta(hours=23)


def test_shorter_day_takes_its_last_working_moment() -> None:
    half_saturday = calendar({"hours": {**OFFICE_HOURS, "sat": "09:00-12:00"}, "holidays": "cn"})
    result = half_saturday.add(at("2026-03-06T15:00"), parse_duration("1 workday"))
    assert result.at == at("2026-03-07T12:00")
    # A make-up Saturday is a full working day: the normal weekday hours, not Saturday's.
    assert half_saturday.periods(date(2026, 2, 14)) == CALENDARS["office"].periods(
        date(2026, 2, 14)
    )


# -- the estate's own days ------------------------------------------------------------------

ESTATE = {"hours": OFFICE_HOURS, "holidays": "cn", "closed": ["2026-03-11"], "open": ["2026-03-14"]}


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-03-10T10:00", "1 workday", "2026-03-12T10:00"),  # Wed 11 closed
        ("2026-03-10T10:00", "3 workdays", "2026-03-14T10:00"),  # Sat 14 open
        ("2026-03-10T16:00", "4 workhours", "2026-03-12T11:00"),
        ("2026-03-13T16:00", "4 workhours", "2026-03-14T11:00"),
    ],
)
def test_closed_and_open_days(start: str, limit: str, expected: str) -> None:
    assert calendar(ESTATE).add(at(start), parse_duration(limit)).at == at(expected)


def test_estate_days_override_the_calendar() -> None:
    estate = calendar(ESTATE, extra_closed=[date(2026, 3, 12)], extra_open=["2026-03-11"])
    assert estate.is_working_day(date(2026, 3, 11))
    assert not estate.is_working_day(date(2026, 3, 12))
    result = estate.add(at("2026-03-10T10:00"), parse_duration("2 workdays"))
    assert result.at == at("2026-03-13T10:00")


def test_open_on_a_statutory_holiday() -> None:
    opened = calendar({"hours": OFFICE_HOURS, "holidays": "cn", "open": ["2026-02-16"]})
    assert opened.add(at("2026-02-13T10:00"), parse_duration("2 workdays")).at == at(
        "2026-02-16T10:00"
    )


# -- anchored times and spans ---------------------------------------------------------------

ANCHORED = [
    ("20d before handover_date", date(2026, 3, 31), "2026-03-11T00:00"),
    ("1 workday before handover_date", date(2026, 3, 11), "2026-03-09T17:30"),
    ("1 workday before handover_date", date(2026, 2, 24), "2026-02-13T17:30"),
    ("2 workhours before handover_date", date(2026, 2, 24), "2026-02-14T15:30"),
    ("1 workday after handover_date", date(2026, 3, 11), "2026-03-12T08:30"),
    ("8h before meeting_at", at("2026-03-10T14:00+08:00"), "2026-03-10T06:00"),
    ("1 workday before meeting_at", at("2026-03-10T14:00+08:00"), "2026-03-09T14:00"),
    ("2 workhours after meeting_at", at("2026-03-07T09:00+08:00"), "2026-03-09T10:30"),
    ("0h after meeting_at", at("2026-03-07T09:00+08:00"), "2026-03-07T09:00"),
]


@pytest.mark.parametrize(("text", "value", "expected"), ANCHORED)
def test_anchored(text: str, value: date | datetime, expected: str) -> None:
    result = CALENDARS["office"].anchored(value, parse_anchored(text))
    assert result.at == at(expected)
    assert result.at.tzinfo == SHANGHAI


def test_anchored_on_a_whole_day_calendar() -> None:
    result = CALENDARS["workday_24h"].anchored(
        date(2026, 3, 11), parse_anchored("1 workday before handover_date")
    )
    assert result.at == at("2026-03-10T00:00")
    assert result.counted == ((at("2026-03-10T00:00"), at("2026-03-11T00:00")),)


def test_working_time_between() -> None:
    office = CALENDARS["office"]
    assert office.working_time_between(at("2026-02-13T10:00"), at("2026-02-25T10:00")) == (
        timedelta(hours=22, minutes=30)
    )
    assert office.working_time_between(at("2026-03-06T16:00"), at("2026-03-09T11:00")) == (
        timedelta(hours=4)
    )
    assert office.working_time_between(at("2026-03-09T11:00"), at("2026-03-06T16:00")) == (
        timedelta(0)
    )
    span = office.working_periods_between(at("2026-03-10T11:00"), at("2026-03-10T14:00"))
    assert span.periods == (
        (at("2026-03-10T11:00"), at("2026-03-10T12:00")),
        (at("2026-03-10T13:30"), at("2026-03-10T14:00")),
    )
    assert span.total == timedelta(hours=1, minutes=30) and span.warnings == ()


# -- coverage -------------------------------------------------------------------------------


def _first_monday(year: int) -> date:
    day = date(year, 3, 2)
    return day + timedelta(days=-day.weekday() % 7)


def test_beyond_coverage_warns_and_counts_ordinary_weeks() -> None:
    monday = _first_monday(FUTURE)
    office = CALENDARS["office"]
    result = office.add(at(f"{monday}T10:00"), parse_duration("5 workdays"))
    assert result.at == at(f"{monday + timedelta(days=7)}T10:00")
    assert len(result.warnings) == 1
    assert f"no statutory holiday data for {FUTURE}" in result.warnings[0]
    assert f"covers {cn_holidays().first_year}–{LAST_YEAR}" in result.warnings[0]
    assert not office.covers(monday)
    span = office.working_periods_between(at(f"{monday}T10:00"), at(f"{monday}T11:00"))
    assert span.total == timedelta(hours=1) and len(span.warnings) == 1


def test_crossing_into_an_uncovered_year_warns() -> None:
    result = CALENDARS["office"].add(at(f"{LAST_YEAR}-12-28T10:00"), parse_duration("10 workdays"))
    assert [w.split(" (")[0] for w in result.warnings] == [
        f"no statutory holiday data for {FUTURE}"
    ]


def test_warnings_name_only_the_years_counted() -> None:
    # A deadline on the last working day of the data, in its last period, needs no day of
    # the next year: finding it does not look past it, so there is nothing to warn about.
    office = CALENDARS["office"]
    last = date(LAST_YEAR, 12, 31)
    while not office.is_working_day(last):
        last -= timedelta(days=1)
    before = last - timedelta(days=1)
    while not office.is_working_day(before):
        before -= timedelta(days=1)
    for result in (
        office.add(at(f"{before}T14:00"), parse_duration("1 workday")),
        office.add(at(f"{before}T17:00"), parse_duration("8 workhours")),
        office.subtract(at(f"{last}T19:00"), parse_duration("1 workday")),
    ):
        assert result.at.date() <= last
        assert result.warnings == ()


def test_counted_periods_are_the_working_time_to_the_deadline() -> None:
    office = CALENDARS["office"]
    start = at(f"{LAST_YEAR}-01-01T09:00")
    for hour in range(0, 24 * 366, 37):
        begin = start + timedelta(hours=hour)
        for text in ("1 workday", "3 workdays", "7 workhours", "30 workhours"):
            duration = parse_duration(text)
            ahead = office.add(begin, duration)
            assert ahead.counted == office.working_periods_between(begin, ahead.at).periods
            behind = office.subtract(begin, duration)
            assert behind.counted == office.working_periods_between(behind.at, begin).periods
            if duration.unit == "workhours":
                assert ahead.working_time == behind.working_time == timedelta(hours=duration.amount)


def test_before_coverage_warns_too() -> None:
    early = cn_holidays().first_year - 1
    result = CALENDARS["office"].add(at(f"{early}-06-02T10:00"), parse_duration("1 workday"))
    assert result.warnings and str(early) in result.warnings[0]


def test_no_warning_without_a_guess() -> None:
    monday = _first_monday(FUTURE)
    office, always = CALENDARS["office"], CALENDARS["24x7"]
    assert office.add(at(f"{monday}T10:00"), parse_duration("72h")).warnings == ()
    assert always.add(at(f"{monday}T10:00"), parse_duration("3 workdays")).warnings == ()
    known = calendar({"hours": OFFICE_HOURS, "holidays": "cn", "closed": [str(monday)]})
    assert known.covers(monday)
    assert not known.is_working_day(monday)
    assert known.add(at(f"{LAST_YEAR}-03-02T10:00"), parse_duration("1 workday")).warnings == ()


# -- unusable calendars ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"hours": {"mon-fri": ["08:30-12:00", "11:00-17:30"]}}, "overlap"),
        ({"hours": {"mon-fri": "08:30-12:00", "fri": "13:00-17:00"}}, "fri gets hours"),
        ({"hours": {"mon-fry": "08:30-12:00"}}, "not a weekday spec"),
        ({"hours": {"mon": "22:00-06:00"}}, "cannot cross midnight"),
        ({"hours": {"mon": "08:30-24:30"}}, "not a time of day"),
        ({"hours": "sometimes"}, "'always'"),
        ({"hours": "always", "timezone": "Asia/Beijing"}, "unknown timezone"),
        ({"hours": "always", "holidays": "us"}, "holidays must be"),
        ({"hours": "always", "closed": ["2026-03-11"], "open": ["2026-03-11"]}, "both"),
        ({"hours": "always", "closed": ["2026-02-30"]}, "not a date"),
    ],
)
def test_unusable_calendar(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        calendar(raw)


def test_no_working_time_at_all() -> None:
    with pytest.raises(CalendarError, match="no working hours on any weekday"):
        WorkingCalendar("nothing", SHANGHAI, ((),) * 7)
    closed = [date(2026, 1, 1) + timedelta(days=n) for n in range(21 * 366)]
    shut = WorkingCalendar("shut", SHANGHAI, ALWAYS, closed=closed)
    with pytest.raises(CalendarError, match="no working time in the 20 years"):
        shut.add(at("2026-01-01T10:00"), parse_duration("1 workday"))
    with pytest.raises(CalendarError, match="no working time in the 20 years"):
        shut.add(at("2026-01-01T10:00"), parse_duration("1 workhour"))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        CALENDARS["office"].add(datetime(2026, 3, 10, 10), parse_duration("1 workday"))


def test_weekday_specs() -> None:
    assert parse_weekdays("mon-fri", "c") == [0, 1, 2, 3, 4]
    assert parse_weekdays("mon,wed", "c") == [0, 2]
    assert parse_weekdays("mon-wed, fri", "c") == [0, 1, 2, 4]
    assert parse_weekdays("fri-mon", "c") == [0, 4, 5, 6]


# -- the command ----------------------------------------------------------------------------

SPRING_FESTIVAL_OUTPUT = """\
deadline: 2026-02-25T10:00:00+08:00 (Wed, Asia/Shanghai)
calendar: office (Office hours); start 2026-02-13T10:00:00+08:00; limit 3 workdays
counted 22h30m in 7 periods:
  2026-02-13 Fri 10:00–12:00
  2026-02-13 Fri 13:30–17:30
  2026-02-14 Sat 08:30–12:00
  2026-02-14 Sat 13:30–17:30
  2026-02-24 Tue 08:30–12:00
  2026-02-24 Tue 13:30–17:30
  2026-02-25 Wed 08:30–10:00
"""


@pytest.mark.parametrize(
    "start", ["2026-02-13T10:00+08:00", "2026-02-13T10:00", "2026-02-13T02:00Z"]
)
def test_cli_spring_festival(start: str) -> None:
    result = run_cli(
        ["deadline", "--calendar", "office", "--start", start, "--limit", "3 workdays"]
    )
    assert result.exit_code == 0, result.output
    assert result.output == SPRING_FESTIVAL_OUTPUT


def test_cli_national_day_json() -> None:
    result = run_cli(
        ["deadline", "--start", "2026-09-30T10:00+08:00", "--limit", "3 workdays", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["deadline"] == "2026-10-10T10:00:00+08:00"
    assert answer["counted"][0] == {
        "start": "2026-09-30T10:00:00+08:00",
        "end": "2026-09-30T12:00:00+08:00",
    }
    assert answer["counted"][-1]["start"] == "2026-10-10T08:30:00+08:00"
    assert answer["counted_seconds"] == 3 * 27000
    assert answer["warnings"] == []


SPRING_FESTIVAL_ZH = """\
截止时间：2026-02-25T10:00:00+08:00（周三，Asia/Shanghai）
日历：office（办公时间）；开始 2026-02-13T10:00:00+08:00；时限 3个工作日
共计22小时30分钟，在以下 7 个时段内：
  2026-02-13 周五 10:00–12:00
  2026-02-13 周五 13:30–17:30
  2026-02-14 周六 08:30–12:00
  2026-02-14 周六 13:30–17:30
  2026-02-24 周二 08:30–12:00
  2026-02-24 周二 13:30–17:30
  2026-02-25 周三 08:30–10:00
"""


def test_cli_answers_a_chinese_consultant_in_chinese() -> None:
    args = ["deadline", "--start", "2026-02-13T10:00", "--limit", "3 workdays"]
    result = run_cli([*args, "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert result.output == SPRING_FESTIVAL_ZH
    unknown = run_cli([*args, "--calendar", "offce", "--lang", "zh-CN"])
    assert unknown.exit_code == 2
    assert "未知的日历“offce”" in unknown.output and "已定义：24x7, office" in unknown.output


def test_cli_wall_clock_on_24x7() -> None:
    result = run_cli(
        ["deadline", "--calendar", "24x7", "--start", "2026-02-13T10:00", "--limit", "24h"]
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[0] == "deadline: 2026-02-14T10:00:00+08:00 (Sat, Asia/Shanghai)"
    )
    assert result.output.splitlines()[-1] == "  2026-02-13 Fri 10:00 – 2026-02-14 Sat 10:00"


def test_cli_coverage_warning() -> None:
    result = run_cli(["deadline", "--start", f"{LAST_YEAR}-12-28T10:00", "--limit", "10 workdays"])
    assert result.exit_code == 0, result.output
    assert f"warning: no statutory holiday data for {FUTURE}" in result.output


def test_cli_unknown_calendar() -> None:
    result = run_cli(["deadline", "--calendar", "ofice", "--limit", "3 workdays"])
    assert result.exit_code == 2  # a usage error, like any other bad option value
    assert "unknown calendar 'ofice' (did you mean 'office'?)" in result.output


def test_cli_bad_duration() -> None:
    result = run_cli(["deadline", "--start", "2026-02-13T10:00", "--limit", "3 wrkdays"])
    assert result.exit_code == 2
    assert "unknown unit 'wrkdays'" in result.output


def test_cli_bad_start() -> None:
    result = run_cli(["deadline", "--start", "13/02/2026", "--limit", "3 workdays"])
    assert result.exit_code == 2
    assert "not an ISO 8601 time" in result.output


def test_cli_own_rules(tmp_path: Path) -> None:
    rules = tmp_path / "calendars.yaml"
    rules.write_text(
        "calendars:\n"
        "  estate_office:\n"
        '    hours: {mon-fri: ["09:00-18:00"]}\n'
        "    holidays: cn\n"
        "    closed: [2026-03-11]\n",
        encoding="utf-8",
    )
    args = ["deadline", "--library", str(rules), "--calendar", "estate_office"]
    result = run_cli([*args, "--start", "2026-03-10T17:00", "--limit", "2 workhours"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deadline: 2026-03-12T10:00:00+08:00 (Thu, Asia/Shanghai)")
    missing = run_cli(["deadline", "--library", str(tmp_path / "nope"), "--limit", "1h"])
    assert missing.exit_code == 2


def test_cli_unusable_calendar(tmp_path: Path) -> None:
    rules = tmp_path / "calendars.yaml"
    rules.write_text(
        'calendars:\n  bad:\n    hours: {mon-fri: ["08:00-12:00", "11:00-17:00"]}\n',
        encoding="utf-8",
    )
    result = run_cli(["deadline", "--library", str(rules), "--calendar", "bad", "--limit", "1h"])
    assert result.exit_code == 1
    assert "overlap" in result.output


# -- PF203 ----------------------------------------------------------------------------------


def test_pf203_dates_beyond_the_holiday_data(tmp_path: Path) -> None:
    rules = tmp_path / "calendars.yaml"
    rules.write_text(
        "calendars:\n"
        "  estate_office:\n"
        '    hours: {mon-fri: ["09:00-18:00"]}\n'
        "    holidays: cn\n"
        f"    closed: [{LAST_YEAR}-12-31, {FUTURE}-01-01]\n"
        f"    open: [{FUTURE}-01-09]\n"
        "  plain:\n"
        "    hours: always\n"
        "    holidays: none\n"
        f"    closed: [{FUTURE}-01-01]\n",
        encoding="utf-8",
    )
    result = run_cli(["validate", "--format", "json", str(rules)])
    assert result.exit_code == 0, result.output
    found = [
        (d["code"], d["severity"], d["line"], d["column"], d["message"])
        for d in json.loads(result.output)["diagnostics"]
    ]
    assert [f[:4] for f in found] == [
        ("PF203", "warning", 5, 26),
        ("PF203", "warning", 6, 12),
    ]
    assert f"closed day {FUTURE}-01-01" in found[0][4]
    assert f"covers only {cn_holidays().first_year}–{LAST_YEAR}" in found[0][4]
    strict = run_cli(["validate", "--strict", str(rules)])
    assert strict.exit_code == 1


def test_pf203_quiet_on_the_shipped_library() -> None:
    result = run_cli(["validate", "--strict", str(ROOT / "processes"), str(ROOT / "rules")])
    assert result.exit_code == 0, result.output
    assert "PF203" not in result.output
