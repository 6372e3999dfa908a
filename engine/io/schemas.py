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
    if any(key in data for key in ("calendars", "time_limits", "schedules", "quotas", "kpis")):
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
    return ".".join(str(part) for part in path) if path else "the top level"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _explain(error: ValidationError) -> Iterator[tuple[JsonPath, str, bool]]:
    """Yield (path, message, points-at-key) for one jsonschema error."""
    path: JsonPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    validator = error.validator
    instance = error.instance
    if validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = set(schema.get("properties", {}))
        patterns = schema.get("patternProperties", {})

        for key in instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            yield (
                (*path, key),
                f"unknown key '{key}' in {_where(path)}{suggest(key, allowed)}",
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
                f"'{bad}' is not a valid id in {_where(path)}: use lower-case letters, "
                "digits and '_' (starting with a letter)",
                True,
            )
            return
    if validator == "required" and isinstance(error.validator_value, list):
        missing = [
            k for k in error.validator_value if isinstance(instance, Mapping) and k not in instance
        ]
        for key in missing:
            yield path, f"missing required key '{key}' in {_where(path)}", bool(path)
        return
    if validator == "type":
        expected: Any = error.validator_value
        type_names = [expected] if isinstance(expected, str) else list(expected)
        words = " or ".join(_TYPE_WORDS.get(name, name) for name in type_names)
        yield path, f"{_where(path)} must be {words}, not {_type_name(instance)}", False
        return
    if validator == "enum" and isinstance(error.validator_value, list):
        options = [str(v) for v in error.validator_value]
        hint = suggest(str(instance), options, list_all=False)
        yield (
            path,
            f"'{instance}' is not allowed for {_where(path)} (one of: {', '.join(options)}){hint}",
            False,
        )
        return
    if validator in ("oneOf", "anyOf") and isinstance(error.validator_value, list):
        choices = [sub.get("required") for sub in error.validator_value if isinstance(sub, Mapping)]
        if choices and all(isinstance(c, list) and len(c) == 1 for c in choices):
            names = ", ".join(str(c[0]) for c in choices if c)
            word = "exactly one" if validator == "oneOf" else "at least one"
            yield path, f"{_where(path)} needs {word} of: {names}", bool(path)
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
        yield path, f"{_where(path)} must not be empty", False
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
