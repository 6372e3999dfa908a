"""Duration expressions: wall-clock, working time, ISO 8601, anchored times, warnings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.diagnostics.language import speaking
from engine.model.durations import (
    MAX_SECONDS,
    MAX_WORKDAYS,
    MAX_WORKHOURS,
    Anchored,
    Duration,
    DurationError,
    Percent,
    parse_anchored,
    parse_duration,
    parse_warning,
)

MINUTE, HOUR, DAY, WEEK = 60, 3600, 86400, 604800


def duration_error(parse: object, text: object) -> DurationError:
    assert callable(parse)
    with pytest.raises(DurationError) as info:
        parse(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("30m", 30 * MINUTE, "seconds"),
        ("24h", 24 * HOUR, "seconds"),
        ("3d", 3 * DAY, "seconds"),
        ("2w", 2 * WEEK, "seconds"),
        ("90s", 90, "seconds"),
        ("24 h", 24 * HOUR, "seconds"),
        ("  24h  ", 24 * HOUR, "seconds"),
        ("24\th", 24 * HOUR, "seconds"),
        ("24h\n", 24 * HOUR, "seconds"),
        ("24H", 24 * HOUR, "seconds"),
        ("24 hours", 24 * HOUR, "seconds"),
        ("1 hour", HOUR, "seconds"),
        ("15 min", 15 * MINUTE, "seconds"),
        ("3 days", 3 * DAY, "seconds"),
        ("1 week", WEEK, "seconds"),
        ("007h", 7 * HOUR, "seconds"),
        ("PT24H", 24 * HOUR, "seconds"),
        ("P3D", 3 * DAY, "seconds"),
        ("P1DT12H", 36 * HOUR, "seconds"),
        ("PT30M", 30 * MINUTE, "seconds"),
        ("P2W", 2 * WEEK, "seconds"),
        ("PT90S", 90, "seconds"),
        ("PT1H30M", 90 * MINUTE, "seconds"),
        ("P1W2DT3H4M5S", WEEK + 2 * DAY + 3 * HOUR + 4 * MINUTE + 5, "seconds"),
        ("pt24h", 24 * HOUR, "seconds"),
        ("P0DT1H", HOUR, "seconds"),
        ("3 workdays", 3, "workdays"),
        ("1 workday", 1, "workdays"),
        ("3workdays", 3, "workdays"),
        ("4 workhours", 4, "workhours"),
        ("1 workhour", 1, "workhours"),
        ("3 Workdays", 3, "workdays"),
        ("3651d", 3651 * DAY, "seconds"),
        (f"{MAX_WORKDAYS} workdays", MAX_WORKDAYS, "workdays"),
        (f"{MAX_WORKHOURS} workhours", MAX_WORKHOURS, "workhours"),
        (f"{MAX_SECONDS}s", MAX_SECONDS, "seconds"),
    ],
)
def test_parse_duration(text: str, amount: int, unit: str) -> None:
    duration = parse_duration(text)
    assert (duration.amount, duration.unit) == (amount, unit)
    assert duration.working is (unit != "seconds")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("24h", "24h"),
        ("PT24H", "24h"),
        ("1d", "24h"),
        ("P1D", "24h"),
        ("48h", "2d"),
        ("3d", "3d"),
        ("7d", "7d"),
        ("1w", "7d"),
        ("14d", "2w"),
        ("P1DT12H", "36h"),
        ("60m", "1h"),
        ("90m", "90m"),
        ("3600s", "1h"),
        ("90s", "90s"),
        ("PT1H30M5S", "5405s"),
        ("1 workday", "1 workday"),
        ("3 workdays", "3 workdays"),
        ("1 workhour", "1 workhour"),
        ("4 workhours", "4 workhours"),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    duration = parse_duration(text)
    assert str(duration) == canonical
    assert parse_duration(canonical) == duration


def test_equal_lengths_are_equal_durations() -> None:
    assert parse_duration("24h") == parse_duration("1d") == parse_duration("PT24H")
    assert parse_duration("1d") != parse_duration("1 workday")
    assert parse_duration("8h") != parse_duration("8 workhours")


def test_as_timedelta() -> None:
    assert parse_duration("P1DT12H").as_timedelta() == timedelta(hours=36)
    assert parse_duration("90s").as_timedelta() == timedelta(seconds=90)
    with pytest.raises(ValueError, match="working time"):
        parse_duration("3 workdays").as_timedelta()
    with pytest.raises(ValueError, match="working time"):
        parse_duration("4 workhours").as_timedelta()


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("", 0, "the text is empty; expected a duration, like 24h or 3 workdays"),
        ("   ", 0, "the text is empty"),
        ("0h", 0, "a duration must be longer than zero"),
        ("  0 workdays", 2, "a duration must be longer than zero"),
        ("PT0S", 0, "a duration must be longer than zero"),
        ("P0D", 0, "a duration must be longer than zero"),
        ("-3h", 0, "a duration cannot be negative"),
        (" -3h", 1, "a duration cannot be negative"),
        ("+3h", 0, "write the number without '+'"),
        ("3 dayz", 2, "unknown unit 'dayz' (did you mean 'd' or 'workdays'?)"),
        ("3 hourz", 2, "unknown unit 'hourz' (did you mean 'h' or 'workhours'?)"),
        ("3 minuts", 2, "unknown unit 'minuts' (did you mean 'm'?)"),
        ("3 xyz", 2, "unknown unit 'xyz'; use s, m, h, d, w, workdays or workhours"),
        ("3 working days", 2, "unknown unit 'working days' (did you mean 'workdays'?)"),
        ("3 business hours", 2, "(did you mean 'workhours'?)"),
        ("3天", 1, "unknown unit '天' (did you mean 'd'?)"),
        ("3 个工作日", 2, "(did you mean 'workdays'?)"),
        ("2 months", 2, "months and years are not allowed because their length varies"),
        ("1y", 1, "months and years are not allowed"),
        ("1 year", 2, "months and years are not allowed"),
        ("3M", 1, "'M' is ambiguous: write m for minutes (months are not allowed)"),
        ("P1M", 2, "months and years are not allowed"),
        ("P1Y2D", 2, "months and years are not allowed"),
        ("1.5h", 0, "use a whole number, with a smaller unit if needed: 90m rather than 1.5h"),
        ("1,5h", 0, "use a whole number"),
        ("24", 2, "24 needs a unit, like 24h, 24d or 24 workdays"),
        ("h", 0, "a duration starts with a number"),
        ("about 3h", 0, "a duration starts with a number"),
        ("1d12h", 2, "write one number and one unit, like 36h, or use ISO 8601, like P1DT12H"),
        ("1d 12h", 2, "write one number and one unit"),
        ("3 workdays 2h", 10, "write one number and one unit"),
        ("3h!", 1, "unknown unit 'h!' (did you mean 'h' or 'workhours'?)"),
        ("3 h\x00", 2, "unknown unit 'h\\u0000'"),
        ("P", 0, "'P' must be followed by an amount, like P3D or PT24H"),
        ("PT", 1, "'T' must be followed by hours, minutes or seconds, like PT30M"),
        ("P1DT", 3, "'T' must be followed by hours, minutes or seconds"),
        ("P1", 2, "the number needs a unit letter after it"),
        ("P1H", 2, "'H' is not allowed here; use W or D before 'T', like P1DT12H"),
        ("PT1D", 3, "'D' is not allowed here; use H, M or S after 'T'"),
        ("PT1H1H", 5, "'H' is repeated or out of order"),
        ("PT1M1H", 5, "'H' is repeated or out of order"),
        ("P1D2W", 4, "'W' is repeated or out of order"),
        ("PT1HT1M", 4, "'T' can appear only once"),
        ("P1.5D", 1, "use whole numbers in ISO durations: PT90M rather than PT1.5H"),
        ("P-1D", 1, "expected a number at '-' in the ISO duration"),
        ("PTXH", 2, "expected a number at 'X'"),
        ("3654d", 0, "that is more than 10 years; a time limit that long is a mistake"),
        ("P3654D", 1, "that is more than 10 years"),
        ("PT87673H", 2, "that is more than 10 years"),
        ("P3000DT1000000M", 0, "that is more than 10 years"),
        (f"{MAX_WORKDAYS + 1} workdays", 0, "that is more than 10 years"),
        (f"{MAX_WORKHOURS + 1} workhours", 0, "that is more than 10 years"),
        ("9" * 100 + "h", 0, "that is more than 10 years"),
        ("1" * 201, 200, "the text is too long (201 characters)"),
    ],
)
def test_duration_errors(text: str, offset: int, message: str) -> None:
    error = duration_error(parse_duration, text)
    assert error.offset == offset
    assert message in error.message
    assert len(error.message.splitlines()) == 1
    assert str(error) == f"{error.message} (at character {offset + 1})"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (24, "24 needs a unit: expected a duration"),
        (None, "expected a duration, like 24h or 3 workdays, not NoneType"),
        (True, "not bool"),
        (1.5, "not float"),
    ],
)
def test_non_text_input(value: object, message: str) -> None:
    error = duration_error(parse_duration, value)
    assert message in error.message
    assert error.offset == 0


def test_duration_error_is_a_value_error() -> None:
    # So that pydantic validators turn it into an ordinary validation error.
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("amount", "unit"),
    [(-1, "seconds"), (1.5, "seconds"), (True, "workdays"), (1, "months")],
)
def test_duration_rejects_bad_construction(amount: object, unit: object) -> None:
    with pytest.raises(ValueError):
        Duration(amount, unit)  # type: ignore[arg-type]


# -- anchored -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        (
            "8h before meeting_at",
            Anchored(Duration(8 * HOUR, "seconds"), "before", "meeting_at"),
            "8h before meeting_at",
        ),
        (
            "20d before handover_date",
            Anchored(Duration(20 * DAY, "seconds"), "before", "handover_date"),
            "20d before handover_date",
        ),
        (
            "1 workday before next_meeting_at",
            Anchored(Duration(1, "workdays"), "before", "next_meeting_at"),
            "1 workday before next_meeting_at",
        ),
        (
            "0h after handover_date",
            Anchored(Duration(0, "seconds"), "after", "handover_date"),
            "0h after handover_date",
        ),
        (
            "  24 h   after\tdue_at ",
            Anchored(Duration(24 * HOUR, "seconds"), "after", "due_at"),
            "24h after due_at",
        ),
        (
            "P1DT12H before x2",
            Anchored(Duration(36 * HOUR, "seconds"), "before", "x2"),
            "36h before x2",
        ),
    ],
)
def test_parse_anchored(text: str, expected: Anchored, canonical: str) -> None:
    anchored = parse_anchored(text)
    assert anchored == expected
    assert str(anchored) == canonical
    assert parse_anchored(canonical) == anchored


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("", 0, "the text is empty; expected an anchored time, like 8h before meeting_at"),
        ("8h", 2, "expected 'DURATION before FIELD' or 'DURATION after FIELD'"),
        ("8h until meeting_at", 19, "expected 'DURATION before FIELD'"),
        ("before meeting_at", 0, "a duration is missing before 'before', like 8h"),
        ("8h before", 9, "a field name is missing after 'before', like meeting_at"),
        ("8h before meeting_at today", 21, "unexpected 'today' after the field name"),
        ("8h Before meeting_at", 3, "write 'before' in lower case"),
        ("8h AFTER meeting_at", 3, "write 'after' in lower case"),
        ("8h before Meeting-At", 10, "'Meeting-At' is not a field name"),
        ("8h before 2nd_date", 10, "'2nd_date' is not a field name"),
        ("8h before before", 10, "'before' is not a field name"),
        ("-8h before meeting_at", 0, "a duration cannot be negative; write '8h after meeting_at'"),
        ("8 dayz before x", 2, "unknown unit 'dayz'"),
        ("  8 dayz before x", 4, "unknown unit 'dayz'"),
        ("P1M before x", 2, "months and years are not allowed"),
        ("0 before x", 1, "0 needs a unit"),
    ],
)
def test_anchored_errors(text: str, offset: int, message: str) -> None:
    error = duration_error(parse_anchored, text)
    assert error.offset == offset
    assert message in error.message


# -- warnings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80%", Percent(80)),
        ("1%", Percent(1)),
        ("100%", Percent(100)),
        (" 50 % ", Percent(50)),
        ("2h", Duration(2 * HOUR, "seconds")),
        ("PT30M", Duration(30 * MINUTE, "seconds")),
        ("1 workday", Duration(1, "workdays")),
    ],
)
def test_parse_warning(text: str, expected: Percent | Duration) -> None:
    warning = parse_warning(text)
    assert warning == expected
    assert parse_warning(str(warning)) == warning


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("0%", 0, "0% is not a percentage from 1 to 100"),
        ("101%", 0, "101% is not a percentage from 1 to 100"),
        ("100000000000000000000%", 0, "is not a percentage from 1 to 100"),
        ("80.5%", 0, "a percentage is a whole number from 1 to 100, like 80%"),
        ("-5%", 0, "a percentage is a whole number"),
        ("%", 0, "a number is missing before '%', like 80%"),
        (" %", 1, "a number is missing before '%'"),
        ("0h", 0, "a duration must be longer than zero"),
        ("", 0, "expected a percentage like 80% or a duration like 2h"),
    ],
)
def test_warning_errors(text: str, offset: int, message: str) -> None:
    error = duration_error(parse_warning, text)
    assert error.offset == offset
    assert message in error.message


@pytest.mark.parametrize("value", [0, 101, -1, True, 50.0])
def test_percent_rejects_bad_construction(value: object) -> None:
    with pytest.raises(ValueError):
        Percent(value)  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------------------------

_PARSERS = (parse_duration, parse_anchored, parse_warning)


def _only_duration_errors(text: str) -> None:
    for parse in _PARSERS:
        try:
            parse(text)
        except DurationError as error:
            assert 0 <= error.offset <= len(text)
            assert len(error.message.splitlines()) == 1


@given(st.text(max_size=60))
@settings(max_examples=1000)
def test_arbitrary_text_raises_only_duration_errors(text: str) -> None:
    _only_duration_errors(text)


_PIECES = ["0", "1", "24", "3", "999999", " ", "h", "d", "m", "M", "s", "w", "P", "T", "H", "D",
           "W", "Y", "S", "%", ".", "-", "+", "workday", "workdays", "workhours", "before",
           "after", "x_at", "\t", "天", "dayz"]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=8).map("".join))
@settings(max_examples=2000)
def test_piece_soup_raises_only_duration_errors(text: str) -> None:
    _only_duration_errors(text)


DURATIONS = st.one_of(
    st.builds(Duration, st.integers(1, MAX_SECONDS), st.just("seconds")),
    st.builds(Duration, st.integers(1, MAX_WORKDAYS), st.just("workdays")),
    st.builds(Duration, st.integers(1, MAX_WORKHOURS), st.just("workhours")),
)


@given(DURATIONS)
def test_canonical_text_round_trips(duration: Duration) -> None:
    assert parse_duration(str(duration)) == duration


@given(
    st.integers(1, 500),
    st.sampled_from([("s", 1), ("m", MINUTE), ("h", HOUR), ("d", DAY), ("w", WEEK)]),
    st.sampled_from(["", " ", "  "]),
)
def test_compact_form_multiplies_out(number: int, unit: tuple[str, int], space: str) -> None:
    suffix, size = unit
    assert parse_duration(f"{number}{space}{suffix}").amount == number * size


@given(DURATIONS, st.sampled_from(["before", "after"]), st.sampled_from(["due_at", "d2"]))
def test_anchored_round_trips(duration: Duration, direction: str, field: str) -> None:
    text = f"{duration} {direction} {field}"
    anchored = parse_anchored(text)
    assert (anchored.offset, anchored.direction, anchored.field) == (duration, direction, field)
    assert str(anchored) == text


def test_the_position_of_a_duration_error_is_said_in_the_language_spoken() -> None:
    with speaking("zh-CN"):
        error = duration_error(parse_duration, "3x")
        assert str(error) == f"{error.message}（第 2 个字符处）"
        assert "未知的单位" in error.message
    assert str(duration_error(parse_duration, "3x")).endswith(" (at character 2)")
