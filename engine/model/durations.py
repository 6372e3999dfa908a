"""Duration expressions of time-limit rules: `24h`, `3 workdays`, `PT24H`, `8h before meeting_at`.

Wall-clock durations are normalised to seconds, so `24h`, `1d`, `PT24H` and `P1D` are the same
value. Working time (`workdays`, `workhours`) stays in its own unit because its length depends
on the calendar it is measured on; turning it into a deadline is the calendar's job.

Months and years are refused rather than approximated: "1 month" is 28 to 31 days depending on
when the clock starts, and a time limit must mean the same thing on every case. Values that are
zero, negative or longer than ten years are refused too; they are always typing mistakes.

Parsing is a small hand-written scanner so that every error carries the character offset of
the offending part, which the validator turns into file:line:column for the consultant.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from engine.diagnostics import TextError
from engine.diagnostics.catalogue import say

DurationUnit = Literal["seconds", "workdays", "workhours"]
Direction = Literal["before", "after"]

MAX_TEXT_LENGTH = 200
"""Longest duration text accepted; anything longer is a mistake, not a duration."""

MAX_SECONDS = 3653 * 86400
"""Ten years (with leap days): the longest wall-clock duration accepted."""

MAX_WORKDAYS = 3653
MAX_WORKHOURS = 3653 * 24
"""Working-time limits, counting a workday as a day and a workhour as an hour: a working-time
limit cannot be longer than ten years on a round-the-clock calendar either."""

_MAX_DIGITS = 15  # more digits than this is absurd whatever the unit; never int() a huge string

_MINUTE, _HOUR, _DAY, _WEEK = 60, 3600, 86400, 604800

# Every spelling accepted after a number, mapped to (unit, size in that unit).
_UNIT_WORDS: dict[str, tuple[DurationUnit, int]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("seconds", 1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("seconds", _MINUTE)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("seconds", _HOUR)),
    **dict.fromkeys(("d", "day", "days"), ("seconds", _DAY)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), ("seconds", _WEEK)),
    **dict.fromkeys(("workday", "workdays"), ("workdays", 1)),
    **dict.fromkeys(("workhour", "workhours"), ("workhours", 1)),
}

# Words that are not units but whose meaning is clear: used for suggestions only.
_UNIT_HINTS: dict[str, str] = {
    "working day": "workdays",
    "working days": "workdays",
    "work day": "workdays",
    "work days": "workdays",
    "business day": "workdays",
    "business days": "workdays",
    "working hour": "workhours",
    "working hours": "workhours",
    "work hour": "workhours",
    "work hours": "workhours",
    "business hour": "workhours",
    "business hours": "workhours",
    "秒": "s",
    "分": "m",
    "分钟": "m",
    "小时": "h",
    "时": "h",
    "天": "d",
    "日": "d",
    "周": "w",
    "星期": "w",
    "工作日": "workdays",
    "个工作日": "workdays",
    "工作小时": "workhours",
    "个工作小时": "workhours",
}

_VARYING_UNITS = frozenset(
    {"mo", "mon", "mons", "month", "months", "y", "yr", "yrs", "year", "years", "月", "个月", "年"}
)
#: The catalogue's words for a month or a year, whose length varies.
_VARYING_MESSAGE = "duration.varying"

_SUFFIX = {1: "s", _MINUTE: "m", _HOUR: "h", _DAY: "d", _WEEK: "w"}

_ISO_DATE_PARTS = {"W": _WEEK, "D": _DAY}
_ISO_TIME_PARTS = {"H": _HOUR, "M": _MINUTE, "S": 1}


class DurationError(TextError):
    """A duration, anchored time or percentage that cannot be read (at ``offset``)."""


@dataclass(frozen=True)
class Duration:
    """A length of time: wall-clock seconds, or working days/hours on a calendar."""

    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"a duration amount must be a whole number >= 0, not {self.amount!r}")
        if self.unit not in ("seconds", "workdays", "workhours"):
            raise ValueError(f"unknown duration unit {self.unit!r}")

    @property
    def working(self) -> bool:
        """Whether this is working time, measured on a calendar rather than the wall clock."""
        return self.unit != "seconds"

    def as_timedelta(self) -> timedelta:
        """The wall-clock length. Working time has no fixed length: ask the calendar."""
        if self.working:  # a ValueError: where a person gave it, its words are for them
            raise ValueError(say("duration.no_fixed_length", duration=self))
        return timedelta(seconds=self.amount)

    def __str__(self) -> str:
        """Canonical text: `24h`, `90m`, `3d`, `2w`, `1 workday`, `4 workhours`.

        Wall-clock time is written in the largest unit that divides it exactly, except that
        days and weeks are used from two upward, so the common `24h` stays `24h` and `7d`
        stays `7d` rather than becoming `1d` and `1w`."""
        if self.unit == "workdays":
            return f"{self.amount} workday" + ("" if self.amount == 1 else "s")
        if self.unit == "workhours":
            return f"{self.amount} workhour" + ("" if self.amount == 1 else "s")
        if self.amount == 0:
            return "0h"
        for size, minimum in ((_WEEK, 2), (_DAY, 2), (_HOUR, 1), (_MINUTE, 1)):
            if self.amount % size == 0 and self.amount // size >= minimum:
                return f"{self.amount // size}{_SUFFIX[size]}"
        return f"{self.amount}s"


@dataclass(frozen=True)
class Anchored:
    """A moment relative to a date/datetime field of the case: `20d before handover_date`."""

    offset: Duration
    direction: Direction
    field: str

    def __str__(self) -> str:
        return f"{self.offset} {self.direction} {self.field}"


@dataclass(frozen=True)
class Percent:
    """A share of a time limit, for warnings: `80%` warns when 80% of the limit has passed."""

    value: int

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise ValueError(f"a percentage must be a whole number, not {self.value!r}")
        if not 1 <= self.value <= 100:
            raise ValueError(f"a percentage must be from 1 to 100, not {self.value}")

    def __str__(self) -> str:
        return f"{self.value}%"


def parse_duration(text: str) -> Duration:
    """Parse `30m`, `24h`, `24 h`, `3d`, `2w`, `90s`, `3 workdays`, `PT24H`, `P1DT12H`, ...

    Raises DurationError (and nothing else) for anything else, including zero."""
    stripped, start = _prepare(text, "duration.want_duration")
    return _duration(stripped, start, allow_zero=False)


def parse_anchored(text: str) -> Anchored:
    """Parse `DURATION before FIELD` or `DURATION after FIELD`, e.g. `8h before meeting_at`.

    The duration may be zero (`0h after handover_date`: at the moment itself). Whether FIELD is
    a date/datetime field of the process is the validator's check; here it must only look like
    a field id."""
    stripped, start = _prepare(text, "duration.want_anchored")
    words = _words(stripped, start)
    position = next((i for i, (word, _) in enumerate(words) if word in ("before", "after")), None)
    if position is None:
        for word, at in words:
            if word.lower() in ("before", "after"):
                raise DurationError(say("duration.lower_case", word=word.lower()), at)
        raise DurationError(say("duration.anchored_shape"), start + len(stripped))
    keyword, keyword_at = words[position]
    if position == 0:
        raise DurationError(say("duration.missing_before", keyword=keyword), keyword_at)
    if position == len(words) - 1:
        raise DurationError(say("duration.missing_field", keyword=keyword), start + len(stripped))
    if position < len(words) - 2:
        extra, extra_at = words[position + 2]
        raise DurationError(say("duration.after_field", extra=_quoted(extra)), extra_at)
    field, field_at = words[-1]
    if not _is_field_id(field) or field in ("before", "after"):
        raise DurationError(say("duration.not_field", field=_quoted(field)), field_at)
    first_at = words[0][1]
    duration_text = text[first_at:keyword_at].rstrip()
    if duration_text.startswith("-"):
        other = "after" if keyword == "before" else "before"
        instead = _quoted(duration_text[1:].strip() + " " + other + " " + field)
        raise DurationError(say("duration.negative_anchor", instead=instead), first_at)
    offset = _duration(duration_text, first_at, allow_zero=True)
    direction: Direction = "before" if keyword == "before" else "after"
    return Anchored(offset=offset, direction=direction, field=field)


def parse_warning(text: str) -> Percent | Duration:
    """Parse a `warn` entry: a percentage of the limit (`80%`) or a duration before the
    deadline (`2h`)."""
    stripped, start = _prepare(text, "duration.want_warning")
    if not stripped.endswith("%"):
        return _duration(stripped, start, allow_zero=False)
    number = stripped[:-1].rstrip()
    if not number:
        raise DurationError(say("duration.percent_number"), start)
    if not _is_digits(number):
        raise DurationError(say("duration.percent_whole"), start)
    if len(number) > 3 or not 1 <= int(number) <= 100:
        raise DurationError(say("duration.percent_range", number=number), start)
    return Percent(int(number))


# -- scanning ---------------------------------------------------------------------------------


def _prepare(text: object, wanted_key: str) -> tuple[str, int]:
    """Check the input is usable text; return it without surrounding spaces, and where it
    starts in the original. ``wanted_key`` is the catalogue's words for what is expected,
    worded only for an error (every duration of a library comes through here)."""
    if isinstance(text, bool) or not isinstance(text, str):
        if isinstance(text, int) and not isinstance(text, bool):
            raise DurationError(
                say("duration.needs_unit_want", number=text, wanted=say(wanted_key)), 0
            )
        raise DurationError(
            say("duration.not_text", wanted=say(wanted_key), type=type(text).__name__), 0
        )
    if len(text) > MAX_TEXT_LENGTH:
        raise DurationError(
            say("duration.too_long", length=len(text), wanted=say(wanted_key)), MAX_TEXT_LENGTH
        )
    stripped = text.strip()
    if not stripped:
        raise DurationError(say("duration.empty", wanted=say(wanted_key)), 0)
    return stripped, len(text) - len(text.lstrip())


def _words(text: str, start: int) -> list[tuple[str, int]]:
    """Whitespace-separated words with their offsets in the original text."""
    words: list[tuple[str, int]] = []
    index = 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        end = index
        while end < len(text) and not text[end].isspace():
            end += 1
        words.append((text[index:end], start + index))
        index = end
    return words


def _is_digits(text: str) -> bool:
    return text != "" and all("0" <= ch <= "9" for ch in text)


def _is_field_id(word: str) -> bool:
    return (
        word != ""
        and "a" <= word[0] <= "z"
        and all(("a" <= ch <= "z") or ("0" <= ch <= "9") or ch == "_" for ch in word)
    )


def _leading_digits(text: str, index: int) -> int:
    """Index just past the ASCII digits starting at `index`."""
    while index < len(text) and "0" <= text[index] <= "9":
        index += 1
    return index


def _duration(text: str, start: int, *, allow_zero: bool) -> Duration:
    """Parse a stripped duration text found at offset `start` of the original."""
    if text[0] in ("P", "p"):
        return _iso(text, start, allow_zero=allow_zero)
    if text[0] in ("-", "+"):
        if text[0] == "-":
            raise DurationError(say("duration.negative"), start)
        raise DurationError(say("duration.plus"), start)
    end = _leading_digits(text, 0)
    if end == 0:
        raise DurationError(say("duration.starts_with_number"), start)
    digits = text[:end]
    if end < len(text) and text[end] in (".", ",") and _leading_digits(text, end + 1) > end + 1:
        raise DurationError(say("duration.whole_number"), start)
    unit_at = end
    while unit_at < len(text) and text[unit_at].isspace():
        unit_at += 1
    unit_text = text[unit_at:]
    if not unit_text:
        raise DurationError(say("duration.needs_unit", digits=digits), start + end)
    unit, size = _unit(unit_text, start + unit_at)
    return _checked(digits, size, unit, start, allow_zero=allow_zero)


def _unit(word: str, at: int) -> tuple[DurationUnit, int]:
    if word == "M":
        raise DurationError(say("duration.capital_m"), at)
    lowered = word.lower()
    if lowered in _UNIT_WORDS:
        return _UNIT_WORDS[lowered]
    if lowered in _VARYING_UNITS:
        raise DurationError(say(_VARYING_MESSAGE), at)
    if lowered in _UNIT_HINTS:
        hint = say("words.hint", parts=say("words.did_you_mean", names=f"'{_UNIT_HINTS[lowered]}'"))
        raise DurationError(say("duration.unknown_unit", unit=_quoted(word), hint=hint), at)
    head_end = 0
    while head_end < len(lowered) and "a" <= lowered[head_end] <= "z":
        head_end += 1
    rest = lowered[head_end:]
    if (
        head_end > 0
        and lowered[:head_end] in _UNIT_WORDS
        and rest
        and (rest[0].isspace() or "0" <= rest[0] <= "9")
    ):
        # `1d12h`, `1d 12h`: one number and one unit only; ISO 8601 covers combinations.
        raise DurationError(say("duration.one_unit"), at + head_end)
    raise DurationError(
        say("duration.unknown_unit", unit=_quoted(word), hint=_unit_suggestion(lowered)), at
    )


def _unit_suggestion(word: str) -> str:
    """' (did you mean 'd' or 'workdays'?)' for a misspelt unit, or '' when nothing is close."""
    matches = difflib.get_close_matches(word, list(_UNIT_WORDS), n=4, cutoff=0.6)
    canonical: list[str] = []
    for match in matches:
        unit, size = _UNIT_WORDS[match]
        shown = unit if unit != "seconds" else _SUFFIX[size]
        if shown not in canonical:
            canonical.append(shown)
    # A day-ish word may have meant calendar days or working days; offer both.
    for wall_clock, working in (("d", "workdays"), ("h", "workhours")):
        if wall_clock in canonical and working not in canonical:
            canonical.append(working)
    if not canonical:
        return say("duration.units")
    quoted = [f"'{unit}'" for unit in canonical]
    or_ = say("words.or")
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + or_ + quoted[-1]
    return say("words.hint", parts=say("words.did_you_mean", names=listed))


def _checked(digits: str, size: int, unit: DurationUnit, at: int, *, allow_zero: bool) -> Duration:
    """Build a Duration from a digit string, refusing zero and absurd amounts."""
    limit = {"seconds": MAX_SECONDS, "workdays": MAX_WORKDAYS, "workhours": MAX_WORKHOURS}[unit]
    if len(digits) > _MAX_DIGITS or int(digits) * size > limit:
        raise DurationError(say("duration.too_large"), at)
    amount = int(digits) * size
    if amount == 0 and not allow_zero:
        raise DurationError(say("duration.zero"), at)
    return Duration(amount=amount, unit=unit)


def _iso(text: str, start: int, *, allow_zero: bool) -> Duration:
    """ISO 8601 durations without months or years: P2W, P3D, PT24H, P1DT12H, PT30M, PT90S."""
    index = 1
    in_time = False
    time_at = 0
    seen: list[str] = []  # designators so far, to enforce order and uniqueness
    total = 0
    while index < len(text):
        ch = text[index].upper()
        if ch == "T":
            if in_time:
                raise DurationError(say("duration.iso_t_twice"), start + index)
            in_time, time_at = True, index
            seen = []
            index += 1
            continue
        end = _leading_digits(text, index)
        if end == index:
            raise DurationError(say("duration.iso_number", found=_show(text[index])), start + index)
        if end < len(text) and text[end] in (".", ","):
            raise DurationError(say("duration.iso_whole"), start + index)
        if end == len(text):
            raise DurationError(say("duration.iso_letter"), start + end)
        designator = text[end].upper()
        parts = _ISO_TIME_PARTS if in_time else _ISO_DATE_PARTS
        if not in_time and designator in ("Y", "M"):
            raise DurationError(say(_VARYING_MESSAGE), start + end)
        if designator not in parts:
            expected = say("duration.iso_time_parts" if in_time else "duration.iso_date_parts")
            raise DurationError(
                say("duration.iso_not_here", found=_show(text[end]), expected=expected),
                start + end,
            )
        order = list(parts)
        if seen and order.index(designator) <= order.index(seen[-1]):
            raise DurationError(
                say("duration.iso_order", designator=designator),
                start + end,
            )
        seen.append(designator)
        total += _checked(
            text[index:end], parts[designator], "seconds", start + index, allow_zero=True
        ).amount
        if total > MAX_SECONDS:
            raise DurationError(say("duration.too_large"), start)
        index = end + 1
    if in_time and not seen:
        raise DurationError(say("duration.iso_after_t"), start + time_at)
    if len(text) == 1:
        raise DurationError(say("duration.iso_p"), start)
    if total == 0 and not allow_zero:
        raise DurationError(say("duration.zero"), start)
    return Duration(amount=total, unit="seconds")


def _show(ch: str) -> str:
    return f"'{ch}'" if ch.isprintable() else f"U+{ord(ch):04X}"


def _quoted(text: str) -> str:
    """Text from the input, quoted for a one-line message: invisible characters are shown as
    escapes so that a stray newline or control character cannot break the message."""
    return "'" + "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text) + "'"
