"""Structural validation of every file against its JSON Schema, in words a consultant reads.

jsonschema's own messages ("Additional properties are not allowed ('lable' was
unexpected)") are written for programmers and point at the mapping, not the typo. This module
re-words each error and points at the exact key or value, with "did you mean" where a near
name exists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from engine.diagnostics import Diagnostic, Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.resources import schemas_dir
from engine.io.yamlsource import JsonPath, SourceDocument

if TYPE_CHECKING:
    # Imported when a document is invalid: a valid library never needs them.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_CODE = "PF050"


class FileKind(StrEnum):
    """The kinds of PropFlow file, each with its own schema.

    Scenario files (``propflow test``) and deployment files (``propflow serve``) are not
    part of a library, so :func:`detect_kind` never returns ``SCENARIO`` or ``DEPLOYMENT``:
    they are read only by :mod:`engine.scenarios` and :mod:`engine.io.deployment`.
    """

    PROCESS = "process"
    RULES = "rules"
    ESTATE = "estate"
    SCENARIO = "scenario"
    DEPLOYMENT = "deployment"


def detect_kind(data: Mapping[str, Any]) -> FileKind | None:
    """Tell a file's kind from its top-level keys (``process:``, ``estate:``, rules keys)."""
    if "process" in data:
        return FileKind.PROCESS
    if "estate" in data:
        return FileKind.ESTATE
    if any(
        key in data
        for key in (
            "calendars",
            "time_limits",
            "schedules",
            "quotas",
            "kpis",
            "patterns",
            "migrations",
        )
    ):
        return FileKind.RULES
    return None


@cache
def load_schema(kind: FileKind) -> dict[str, Any]:
    """The JSON Schema of a file kind, as shipped in ``schemas/`` (read once; it never changes)."""
    path = schemas_dir() / f"{kind.value}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _gate(kind: FileKind) -> jsonschema_rs.Draft202012Validator:
    """The kind's compiled validator, which only says whether a document is valid."""
    return jsonschema_rs.Draft202012Validator(load_schema(kind))


@cache
def _validator(kind: FileKind) -> Draft202012Validator:
    """The kind's validator whose errors :func:`_explain` words, made once: building one
    resolves the schema's references."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(kind))


#: A structural problem: where, what, and whether it is at the key (an unknown key) or the value.
Problem = tuple[JsonPath, str, bool]


def validate_structure(document: SourceDocument, kind: FileKind) -> list[Diagnostic]:
    """Every structural problem of a document, each at its own key or value."""
    return positioned(document, list(structural_problems(document.data, kind)))


def positioned(document: SourceDocument, problems: list[Problem]) -> list[Diagnostic]:
    """The diagnostics of a document's structural problems, each once, in file order."""
    found: dict[tuple[JsonPath, str], Diagnostic] = {}
    for path, message, on_key in problems:
        span = document.source_map.locate(path, key=on_key)
        found.setdefault((path, message), Diagnostic(SCHEMA_CODE, Severity.ERROR, message, span))
    return sorted(found.values(), key=Diagnostic.sort_key)


def structural_problems(data: Any, kind: FileKind) -> Iterator[Problem]:
    """Each structural problem of ``data`` as (path, message, whether it is at the key).

    jsonschema-rs decides whether there is any; only when there is does jsonschema, whose
    errors carry the failing keyword, schema and sub-errors that :func:`_explain` needs, find
    them all. The two agree on every document (tests/test_schemas.py and the validator
    fuzz check it), and the compiled check is what keeps a valid library's validation fast.
    """
    if _gate(kind).is_valid(data):
        return
    for error in _validator(kind).iter_errors(data):
        yield from _explain(error)


def _where(path: JsonPath) -> str:
    return ".".join(str(part) for part in path) if path else say("PF050.top_level")


def _type_name(value: Any) -> str:
    """What ``value`` is, in words (``PF050.is.*`` of the catalogue)."""
    if value is None:
        kind = "null"
    elif isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, (int, float)):
        kind = "number"
    elif isinstance(value, str):
        kind = "string"
    elif isinstance(value, list):
        kind = "array"
    else:
        kind = "object"
    return say(f"PF050.is.{kind}")


_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


def _type_words(name: str) -> str:
    """A JSON Schema type in words (``PF050.type.*`` of the catalogue)."""
    return say(f"PF050.type.{name}") if name in _TYPES else name


def _explain(error: ValidationError) -> Iterator[tuple[JsonPath, str, bool]]:
    """Yield (path, message, points-at-key) for one jsonschema error."""
    path: JsonPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    validator = error.validator
    instance = error.instance
    if validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = list(schema.get("properties", {}))  # in the schema's order, for the listing
        patterns = schema.get("patternProperties", {})

        for key in instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            yield (
                (*path, key),
                say("PF050.unknown_key", key=key, where=_where(path), hint=suggest(key, allowed)),
                True,
            )
        return
    if validator == "propertyNames":
        bad = error.instance if isinstance(error.instance, str) else None
        for sub in error.context or []:
            if isinstance(sub.instance, str):
                bad = sub.instance
        if bad is not None:
            yield (
                (*path, bad),
                say("PF050.bad_id", id=bad, where=_where(path)),
                True,
            )
            return
    if validator == "required" and isinstance(error.validator_value, list):
        missing = [
            k for k in error.validator_value if isinstance(instance, Mapping) and k not in instance
        ]
        for key in missing:
            yield path, say("PF050.missing", key=key, where=_where(path)), bool(path)
        return
    if validator == "type":
        expected: Any = error.validator_value
        type_names = [expected] if isinstance(expected, str) else list(expected)
        words = say("words.or").join(_type_words(name) for name in type_names)
        message = say(
            "PF050.wrong_type", where=_where(path), type=words, found=_type_name(instance)
        )
        yield path, message, False
        return
    if validator == "enum" and isinstance(error.validator_value, list):
        options = [str(v) for v in error.validator_value]
        hint = suggest(str(instance), options, list_all=False)
        yield (
            path,
            say(
                "PF050.not_allowed",
                value=instance,
                where=_where(path),
                options=", ".join(options),
                hint=hint,
            ),
            False,
        )
        return
    if validator in ("oneOf", "anyOf") and isinstance(error.validator_value, list):
        choices = [sub.get("required") for sub in error.validator_value if isinstance(sub, Mapping)]
        if choices and all(isinstance(c, list) and len(c) == 1 for c in choices):
            names = ", ".join(str(c[0]) for c in choices if c)
            key = "PF050.exactly_one" if validator == "oneOf" else "PF050.at_least_one"
            yield path, say(key, where=_where(path), names=names), bool(path)
            return
        relevant = [
            sub
            for sub in error.context or []
            if sub.relative_path or sub.validator not in ("type", "const", "enum")
        ]
        from jsonschema.exceptions import best_match

        deepest = best_match(relevant or error.context or [])
        if deepest is not None and deepest is not error:
            yield from _explain(deepest)
            return
    if validator in ("minProperties", "minItems", "minLength"):
        yield path, say("PF050.empty", where=_where(path)), False
        return
    title = schema.get("title")
    if validator == "pattern" and isinstance(title, str):
        examples = schema.get("examples") or []
        hint = f" (for example {', '.join(map(str, examples[:3]))})" if examples else ""
        described = re.split(r"(?<!e\.g)\.\s", str(schema.get("description", "")))[0]
        described = described.rstrip(".")
        yield (
            path,
            f"'{instance}' is not a valid {title.lower()} for {_where(path)}: {described}{hint}",
            False,
        )
        return
    context = f" ({title})" if isinstance(title, str) else ""
    yield path, f"{_where(path)}{context}: {error.message}", False
