"""How case values are written into a durable-rules fact, and how literals are compared.

durable-rules compares JSON values with its own, loose rules: text `'1'` equals the number 1,
`true` equals 1, a missing property fails every test (even `!=`), text is compared as raw
JSON bytes with its escapes. The condition language is strict (see
engine.conditions.evaluator). So a value is never posted as-is: each value has a *kind*, and
each kind is written to its own properties, so that a property always holds one JSON type and
a test on a property can only succeed for values of that kind:

| kind | Python values                  | properties (suffix: JSON value)                   |
|------|--------------------------------|---------------------------------------------------|
| z    | None, missing                  | z: 1                                              |
| b    | bool                           | b: 1 or 0                                         |
| n    | int, Decimal, float (a number) | n: the value × 10⁶ as an exact integer            |
| s    | str                            | s: the text                                       |
| d    | date                           | d: days since 1970-01-01                          |
| u    | datetime with a UTC offset     | u: µs since the epoch (UTC); w: wall-clock µs     |
| t    | datetime without one (naive)   | t: wall-clock µs                                  |
| q    | list, tuple                    | q: canonical text of the items in order; l: items |
| e    | set, frozenset                 | e: canonical text of the distinct items; m: items |

A name compared with another name also gets k (its kind and value as one text, for ==), and
y and o (its kind, and its value when ordered, for <); see PROP_KINDS.

Numbers are scaled integers, not floats, because a float cannot hold 0.1 exactly and money
comparisons must agree with Decimal's to the cent. Dates and datetimes are numbers, because
ISO texts compare correctly as text only when they share one format. An aware datetime also
carries its wall-clock time because the evaluator reads a literal without an offset
(`'2026-01-31T09:00'`) in the case value's own timezone.

A value durable-rules cannot hold faithfully is *opaque*: numbers beyond ±4.6 × 10¹² or with
more than six decimal places, NaN, text longer than 32,000 bytes or not encodable as UTF-8,
text with `"`, `\\` or control characters where it is ordered (`<`), collections of anything
but text, numbers, booleans and null, datetimes whose offset depends on `fold`, and every other
type. Conditions that read an opaque value are answered by the evaluator for that event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

SCALE_DIGITS = 6
SCALE = 10**SCALE_DIGITS
LIMIT = 2**62
"""Every encoded number lies strictly between -LIMIT and LIMIT (well inside int64)."""

MAX_TEXT_BYTES = 32_000
"""durable-rules keeps a value's length in 16 bits; longer values compare wrongly."""

MAX_ITEMS = 1_000

KINDS: tuple[str, ...] = ("z", "b", "n", "s", "d", "u", "t", "q", "e")
"""Every kind but opaque, in a fixed order (formula tables are indexed by it)."""

KIND_INDEX = {kind: index for index, kind in enumerate(KINDS)}

PRIMARY = {kind: kind for kind in KINDS}
"""The property that exists exactly when a name has that kind (its suffix is the kind)."""

PROP_KINDS: dict[str, frozenset[str]] = {
    **{kind: frozenset(kind) for kind in KINDS},
    "w": frozenset("u"),
    "l": frozenset("q"),
    "m": frozenset("e"),
    "k": frozenset(KINDS),
    "y": frozenset(KINDS),
    "o": frozenset("nsdut"),
}
"""The kinds whose values carry a property. k, y and o are only written for names compared
with another name: k (equality key) is `kind:primary value`, equal exactly when the evaluator
finds two values equal (but for the pairs PairGuard sends to the evaluator); y is the kind;
o (order value) is the primary value of an ordered kind."""

ORDERED_KINDS = PROP_KINDS["o"]

JsonValue: TypeAlias = int | str | list[str]
Encoded: TypeAlias = tuple[str, tuple[tuple[str, JsonValue], ...]]
"""(kind, ((suffix, value), ...)); None instead means opaque."""

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
dumps = _dumps
"""The one JSON encoder for rules and facts, so equal texts are escaped equally."""

_UNPLAIN = re.compile(r'["\\\x00-\x1f]')
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US = timedelta(microseconds=1)


def plain_text(text: str) -> bool:
    """Whether text compares in durable-rules as in Python (nothing JSON would escape)."""
    return _UNPLAIN.search(text) is None


def _text_fits(text: str) -> bool:
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8 at all
            return False
    return size <= 5_000 or len(_dumps(text).encode("utf-8")) <= MAX_TEXT_BYTES


def scaled_number(value: object) -> int | None:
    """value × 10⁶ as an exact integer inside ±LIMIT, or None (not a number, or not exact)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        result = value * SCALE
        return result if -LIMIT < result < LIMIT else None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if value.is_integer() and abs(value) < 2**52:
            return scaled_number(int(value))
        return scaled_number(Decimal(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        coefficient = int("".join(map(str, digits)))
        if coefficient == 0:
            return 0
        shift = exponent + SCALE_DIGITS
        if len(digits) + shift > 19:  # at least 10**18 after scaling: beyond LIMIT
            return None
        if shift >= 0:
            result = coefficient * 10**shift
        else:
            if -shift > len(digits):  # a non-zero value smaller than 10**-6
                return None
            result, remainder = divmod(coefficient, 10**-shift)
            if remainder:
                return None
        result = -result if sign else result
        return result if -LIMIT < result < LIMIT else None
    return None


def day_number(value: date) -> int:
    return value.toordinal() - _EPOCH_ORDINAL


def wall_micros(value: datetime) -> int:
    """Microseconds since 1970-01-01T00:00 of the datetime's clock reading (offset ignored)."""
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    return (day_number(value) * 86_400 + seconds) * 1_000_000 + value.microsecond


def utc_micros(value: datetime) -> int | None:
    """Microseconds since the epoch of an aware datetime, or None when it has no fixed
    meaning: no UTC offset, or one that depends on `fold` (Python then never finds it equal
    to a datetime of another timezone, which durable-rules cannot mimic)."""
    try:
        offset = value.utcoffset()
        if offset is None:
            return None
        if (
            not isinstance(value.tzinfo, timezone)
            and value.replace(fold=1 - value.fold).utcoffset() != offset
        ):
            return None
    except (TypeError, ValueError, ArithmeticError, OverflowError):
        return None
    return wall_micros(value) - offset // _US


def canonical_item(value: object) -> str | None:
    """An item of a collection as text that is equal exactly when the evaluator finds two
    items equal; None when the item cannot be encoded."""
    if value is None:
        return "z"
    if value is True:
        return "b:1"
    if value is False:
        return "b:0"
    if isinstance(value, str):
        return "s:" + value if _text_fits(value) else None
    number = scaled_number(value)
    if number is not None:
        return f"n:{number}"
    return None


def canonical_literal_item(value: object) -> str:
    """canonical_item for a literal of a condition: a number no case value can be encoded as
    (too precise, too large) gets a text no case value produces, so it matches nothing."""
    item = canonical_item(value)
    return item if item is not None else f"x:{value!r}"


def canonical_list(items: Sequence[str]) -> str:
    return _dumps(list(items))


def canonical_set(items: Sequence[str]) -> str:
    return _dumps(sorted(set(items)))


def encode(value: object, ordered: bool) -> Encoded | None:
    """The kind and properties of a case value; None when it is opaque.

    `ordered`: the name is compared with `<`/`<=`/`>`/`>=` somewhere, so its text must be
    plain (see plain_text)."""
    if value is None:
        return ("z", (("z", 1),))
    if isinstance(value, str):
        if not _text_fits(value) or (ordered and not plain_text(value)):
            return None
        return ("s", (("s", value),))
    if isinstance(value, bool):
        return ("b", (("b", 1 if value else 0),))
    if isinstance(value, (int, float, Decimal)):
        number = scaled_number(value)
        return None if number is None else ("n", (("n", number),))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return ("t", (("t", wall_micros(value)),))
        utc = utc_micros(value)
        if utc is None:
            return None
        return ("u", (("u", utc), ("w", wall_micros(value))))
    if isinstance(value, date):
        return ("d", (("d", day_number(value)),))
    if isinstance(value, (list, tuple, set, frozenset)):
        if len(value) > MAX_ITEMS:
            return None
        items: list[str] = []
        for member in value:
            item = canonical_item(member)
            if item is None:
                return None
            items.append(item)
        if isinstance(value, (set, frozenset)):
            distinct = sorted(set(items))
            text = _dumps(distinct)
            encoded: Encoded = ("e", (("e", text), ("m", distinct)))
        else:
            text = _dumps(items)
            encoded = ("q", (("q", text), ("l", items)))
        if len(text) > 5_000 and len(_dumps(text).encode("utf-8")) > MAX_TEXT_BYTES:
            return None
        return encoded
    return None


def literal_fraction(value: int | Decimal | float) -> Fraction:
    """A numeric literal × 10⁶, exactly."""
    result: Fraction = Fraction(value) * SCALE
    return result


def parse_date(text: str) -> date | None:
    """The date an ISO text means to the evaluator when compared with a date."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_datetime(text: str) -> datetime | None:
    """The datetime an ISO text means to the evaluator when compared with a datetime."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
