"""The case's form: payload values checked against the declared field types with pydantic.

Values are stored in JSON form (money as a two-place decimal string, dates as ISO text) so
both databases hold them exactly; conditions see them typed again (``Decimal``, ``date``) so
that ``fee > 100`` compares numbers, not text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from engine.diagnostics import suggest
from engine.diagnostics.catalogue import say, say_error
from engine.diagnostics.positions import has_lone_surrogate
from engine.model import FieldDef, ProcessDef

#: The longest text a field value (or a list item) may be, in characters; a form holds
#: names, addresses and descriptions, never documents.
MAX_TEXT_CHARS = 100_000
#: The most items a list field's value may have.
MAX_LIST_ITEMS = 1_000
#: The most fields one payload may name.
MAX_PAYLOAD_FIELDS = 1_000

PHONE = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 \-]{4,19}$")]


def _iso_only(value: Any) -> Any:
    """pydantic reads numbers and numeric text as Unix timestamps (in UTC); a form takes a
    date or datetime only as such, or as ISO 8601 text.

    The refusal is an error type of its own (``iso_text``), not a ``ValueError``: its words
    are the catalogue's, found by type like pydantic's (see :func:`_reason`), and a
    ``value_error`` is any validator's, so its type says nothing of what was wrong."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise PydanticCustomError(
            "iso_text", "not ISO 8601 text (2026-03-31, 2026-03-31T09:00+08:00)"
        )
    return value


DATE = Annotated[date, BeforeValidator(_iso_only)]
DATETIME = Annotated[AwareDatetime, BeforeValidator(_iso_only)]


#: The integers a form takes at most: those of 64 bits, which the store's JSON columns and
#: the applications reading them (Java's ``long``, PHP's ``int``) hold exactly.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _scalar_type(kind: str, field: FieldDef) -> Any:
    bounds: dict[str, Any] = {}
    if field.min is not None:
        bounds["ge"] = field.min
    if field.max is not None:
        bounds["le"] = field.max
    if kind == "enum":
        return Literal[tuple(field.values)]
    if kind == "bool":
        return StrictBool
    if kind == "int":
        low = INT_MIN if field.min is None else max(field.min, INT_MIN)
        high = INT_MAX if field.max is None else min(field.max, INT_MAX)
        return Annotated[StrictInt, Field(ge=low, le=high)]
    if kind == "money":
        return Annotated[Decimal, Field(decimal_places=2, allow_inf_nan=False, **bounds)]
    if kind == "date":
        return DATE
    if kind == "datetime":
        return DATETIME
    if kind == "phone":
        return PHONE
    return StrictStr


def _field_type(field: FieldDef) -> Any:
    if field.type == "list":
        return list[_scalar_type(field.items, field)]  # type: ignore[misc]
    return _scalar_type(field.type, field)


#: Field kinds whose strict types give any stored value back as it is, or fail (and
#: ``Form.typed`` keeps the value): typing them is skipped.
_KEPT = frozenset({"text", "bool", "int"})

#: Field kinds whose stored text is already typed: validating a ``str`` gives it back or
#: fails, so only other values are validated.
_TEXT = frozenset({"enum", "phone"})


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Not quantize(): it fails beyond the context's 28 digits; validation already
        # allowed at most two places, so this only pads.
        return f"{value:.2f}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    return value


def _reason(error: ErrorDetails, field: FieldDef) -> str:
    """Why a value is not of its field's type, in the language spoken: the catalogue's words
    for pydantic's error type (``form.value.<type>``), naming the value given, filled in
    with the error's context (the bound passed, the decimal places allowed, the values an
    enum field takes); pydantic's English where the type has no words (see
    :func:`~engine.diagnostics.catalogue.say_error`)."""
    words: dict[str, str] = {}
    if "expected" in (error.get("ctx") or {}):  # pydantic's is English ("'a', 'b' or 'c'")
        words["expected"] = say("words.comma").join(f"'{value}'" for value in field.values)
    return say_error(error, "form.value", **words)


def _shape_problems(payload: Any) -> list[str]:
    """Why ``payload`` is not a mapping of field names to values, if it is not."""
    if not isinstance(payload, Mapping):
        return [say("form.not_mapping", type=type(payload).__name__)]
    if len(payload) > MAX_PAYLOAD_FIELDS:
        return [say("form.too_many", count=f"{len(payload):,}", limit=f"{MAX_PAYLOAD_FIELDS:,}")]
    return [
        say("form.name_not_text", type=type(name).__name__, name=f"{name!r:.40}")
        if not isinstance(name, str)
        else say("form.name_surrogate", name=f"{name!r:.60}")
        for name in payload
        if not isinstance(name, str) or has_lone_surrogate(name)
    ]


def _size_problem(value: Any) -> str | None:
    """Why a value is too large or holds text that is not text, if it does."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            return say("form.long_text", count=f"{len(value):,}", limit=f"{MAX_TEXT_CHARS:,}")
        if has_lone_surrogate(value):
            return say("form.surrogate")
        return None
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST_ITEMS:
            return say("form.long_list", count=f"{len(value):,}", limit=f"{MAX_LIST_ITEMS:,}")
        return next((found for item in value if (found := _size_problem(item)) is not None), None)
    return None


class Form:
    """The fields of one process definition, ready to validate payloads."""

    def __init__(self, process: ProcessDef) -> None:
        self.process = process
        self._adapters: dict[str, TypeAdapter[Any]] = {
            fid: TypeAdapter(_field_type(field)) for fid, field in process.fields.items()
        }
        #: The fields of plain text, whose strict type takes any ``str`` as it is (its size
        #: is checked apart): validating one would give the same text back.
        self._plain_text = frozenset(
            fid for fid, field in process.fields.items() if _field_type(field) is StrictStr
        )
        #: The fields :meth:`typed` converts, with whether their text is kept (see _TEXT).
        self._typing: dict[str, tuple[TypeAdapter[Any], bool]] = {
            fid: (self._adapters[fid], field.type in _TEXT)
            for fid, field in process.fields.items()
            if field.type not in _KEPT
        }

    def validate(self, payload: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Payload values in JSON form, and one problem line per bad field."""
        values: dict[str, Any] = {}
        problems = _shape_problems(payload)
        if problems:
            return values, problems
        for name, raw in payload.items():
            size = _size_problem(raw)
            if size is not None:
                problems.append(say("form.field", field=name, problem=size))
                continue
            adapter = self._adapters.get(name)
            if adapter is None:
                problems.append(
                    say(
                        "PF605.field",
                        field=name,
                        process=self.process.id,
                        hint=suggest(name, list(self._adapters)),
                    )
                )
                continue
            if raw is None or (type(raw) is str and name in self._plain_text):
                values[name] = raw  # what the field's strict text type gives back
                continue
            try:
                values[name] = _to_json(adapter.validate_python(raw))
            except ValidationError as exc:
                field = self.process.fields[name]
                reason = _reason(exc.errors(include_url=False)[0], field)
                problems.append(say("form.bad_value", field=name, type=field.type, reason=reason))
        return values, problems

    def defaults(self) -> dict[str, Any]:
        """Declared default values, in JSON form."""
        return {
            fid: field.default
            for fid, field in self.process.fields.items()
            if field.default is not None
        }

    def missing(self, data: Mapping[str, Any], names: tuple[str, ...] | list[str]) -> list[str]:
        """Which of ``names`` have no value (``None``, empty text or empty list) in ``data``."""
        return [name for name in names if data.get(name) in (None, "", [])]

    def typed(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` with stored JSON values turned back into Python types for conditions.

        Text, choices, flags and integers are stored as they are typed: those values are kept
        without asking pydantic (most of a form, and this runs for every event)."""
        result = dict(data)
        for name in self._typing.keys() & result.keys():
            adapter, text_kept = self._typing[name]
            value = result[name]
            if value is None or (text_kept and type(value) is str):
                continue
            try:
                converted = adapter.validate_python(value)
            except ValidationError:
                continue  # not of the field's type: conditions see it as stored
            result[name] = converted
        return result
