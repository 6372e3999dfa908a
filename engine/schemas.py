"""Structural validation of every file against its JSON Schema, in words a consultant reads.

jsonschema's own messages ("Additional properties are not allowed ('lable' was
unexpected)") are written for programmers and point at the mapping, not the typo. This module
re-words each error and points at the exact key or value, with "did you mean" where a near
name exists.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from enum import StrEnum
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from engine.diagnostics import Diagnostic, Severity, suggest
from engine.resources import schemas_dir
from engine.yamlsource import JsonPath, SourceDocument

SCHEMA_CODE = "PF050"


class FileKind(StrEnum):
    """The kinds of PropFlow file, each with its own schema.

    Scenario files (``propflow test``) are not part of a library, so :func:`detect_kind`
    never returns ``SCENARIO``: they are read only by :mod:`engine.scenarios`.
    """

    PROCESS = "process"
    RULES = "rules"
    ESTATE = "estate"
    SCENARIO = "scenario"


def detect_kind(data: Mapping[str, Any]) -> FileKind | None:
    """Tell a file's kind from its top-level keys (``process:``, ``estate:``, rules keys)."""
    if "process" in data:
        return FileKind.PROCESS
    if "estate" in data:
        return FileKind.ESTATE
    if any(key in data for key in ("calendars", "time_limits", "schedules", "quotas")):
        return FileKind.RULES
    return None


@cache
def load_schema(kind: FileKind) -> dict[str, Any]:
    """The JSON Schema of a file kind, as shipped in ``schemas/`` (read once; it never changes)."""
    path = schemas_dir() / f"{kind.value}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _validator(kind: FileKind) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind))


def validate_structure(document: SourceDocument, kind: FileKind) -> list[Diagnostic]:
    """Every structural problem of a document, each at its own key or value.

    A compiled check (:func:`compiled_check`) first tells whether the document is valid at
    all, which is many times faster than jsonschema; only a document it finds invalid is
    passed to jsonschema, for the errors and their wording.
    """
    check = compiled_check(kind)
    if check is not None and check(document.data):
        return []
    found: dict[tuple[JsonPath, str], Diagnostic] = {}
    for error in _validator(kind).iter_errors(document.data):
        for path, message, on_key in _explain(error):
            span = document.source_map.locate(path, key=on_key)
            found.setdefault(
                (path, message), Diagnostic(SCHEMA_CODE, Severity.ERROR, message, span)
            )
    return sorted(found.values(), key=Diagnostic.sort_key)


# --- the compiled check ---------------------------------------------------------------------
#
# jsonschema interprets the schema afresh for every value, which made it the slowest step of
# validating a large library. The schemas use a small set of keywords, so each is compiled
# once into nested Python functions that answer only "valid or not", with jsonschema's Draft
# 2020-12 semantics (``true`` is not ``1``, ``1.0`` is an integer, ``format`` is not asserted).
# The check may call a valid document invalid (that only costs a jsonschema run, whose verdict
# counts), never the reverse: a keyword it does not know makes the whole schema uncompiled.

Check = Callable[[Any], bool]

#: Keywords that do not constrain a value (``format`` is an annotation unless a format checker
#: is configured, and ``_validator`` configures none).
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default",
     "format", "deprecated", "readOnly", "writeOnly"}
)  # fmt: skip


class _Unsupported(Exception):
    """The schema uses a keyword or form the compiler does not handle."""


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: ``true`` is not ``1``; lists and mappings deeply."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    return bool(one == two)


def _unique(items: list[Any]) -> bool:
    """No two items equal; a NaN anywhere counts as a repeat, leaving the verdict to
    jsonschema."""
    if all(isinstance(item, str) for item in items):
        return len(set(items)) == len(items)
    for item in items:
        if isinstance(item, float) and math.isnan(item):
            return False
    return not any(_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for part in checks:  # noqa: SIM110 (a loop is faster than all() over a generator)
            if not part(value):
                return False
        return True

    return check


class _Compiler:
    """Compiles one schema document (with its ``$defs``) into :data:`Check` functions.

    The keywords that constrain one JSON type (an object's ``properties``, ``required``,
    ``propertyNames`` ...) are fused with the type test into one function per schema, so a
    value is looked at once rather than once per keyword.
    """

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise _Unsupported(f"a schema that is {type(schema).__name__}")
        keywords = set(schema)
        unknown = keywords - _ANNOTATIONS - _KEYWORDS
        if unknown:
            raise _Unsupported(", ".join(sorted(unknown)))
        names = schema.get("type")
        types = [names] if isinstance(names, str) else names
        if types is not None and (
            not isinstance(types, list) or any(name not in _TYPE_TESTS for name in types)
        ):
            raise _Unsupported(f"type {names!r}")
        checks: list[Check] = []
        for json_type, group, build in (
            ("object", _OBJECT_KEYWORDS, self._object),
            ("array", _ARRAY_KEYWORDS, self._array),
            ("string", _STRING_KEYWORDS, self._string),
        ):
            if keywords & group or types == [json_type]:
                checks.append(build(schema, types == [json_type]))
        if types is not None and types not in (["object"], ["array"], ["string"]):
            checks.append(self._type(types))
        if keywords & _NUMBER_KEYWORDS:
            checks.append(self._number(schema))
        if "enum" in schema:
            checks.append(self._enum(schema["enum"]))
        if "const" in schema:
            constant = schema["const"]
            checks.append(lambda value: _equal(value, constant))
        checks += [self._combinator(keyword, schema[keyword]) for keyword in _COMBINATORS
                   if keyword in schema]  # fmt: skip
        if "if" in schema:
            checks.append(self._if(schema))
        if "$ref" in schema:
            checks.append(self._ref(schema["$ref"]))
        return _all(checks)

    def _type(self, names: list[str]) -> Check:
        tests = [_TYPE_TESTS[name] for name in names]
        if len(tests) == 1:
            return tests[0]
        return lambda value: any(test(value) for test in tests)

    def _enum(self, options: list[Any]) -> Check:
        if all(isinstance(option, str) for option in options):
            strings = frozenset(options)
            return lambda value: isinstance(value, str) and value in strings
        return lambda value: any(_equal(value, option) for option in options)

    def _object(self, schema: Mapping[str, Any], must: bool) -> Check:
        required = tuple(schema.get("required", ()))
        if not all(isinstance(name, str) for name in required):
            raise _Unsupported("required")
        low, high = _bounds(schema, "minProperties", "maxProperties")
        properties = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        patterns = [
            (re.compile(pattern).search, self.compile(sub))
            for pattern, sub in schema.get("patternProperties", {}).items()
        ]
        additional = (
            self.compile(schema["additionalProperties"])
            if "additionalProperties" in schema
            else None
        )
        key_check = self.compile(schema["propertyNames"]) if "propertyNames" in schema else None

        def named(value: Any) -> bool:
            """``check`` for an object with neither ``patternProperties`` nor
            ``propertyNames``, the usual kind, whose members need one lookup each."""
            if not isinstance(value, dict):
                return not must
            if not low <= len(value) <= high:
                return False
            for name in required:
                if name not in value:
                    return False
            for key, item in value.items():
                sub = properties.get(key)
                if sub is None:
                    if additional is not None and not additional(item):
                        return False
                elif not sub(item):
                    return False
            return True

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return not must
            if not low <= len(value) <= high:
                return False
            for name in required:
                if name not in value:
                    return False
            for key, item in value.items():
                if key_check is not None and not key_check(key):
                    return False
                sub = properties.get(key)
                if sub is not None and not sub(item):
                    return False
                matched = sub is not None
                for search, pattern_sub in patterns:
                    if search(key) is not None:
                        matched = True
                        if not pattern_sub(item):
                            return False
                if not matched and additional is not None and not additional(item):
                    return False
            return True

        return check if patterns or key_check is not None else named

    def _array(self, schema: Mapping[str, Any], must: bool) -> Check:
        if isinstance(schema.get("items"), list):
            raise _Unsupported("items as a list (Draft 2019 and earlier)")
        low, high = _bounds(schema, "minItems", "maxItems")
        item = self.compile(schema["items"]) if "items" in schema else None
        unique = schema.get("uniqueItems") is True

        def check(value: Any) -> bool:
            if not isinstance(value, list):
                return not must
            if not low <= len(value) <= high:
                return False
            if item is not None:
                for entry in value:
                    if not item(entry):
                        return False
            return not unique or _unique(value)

        return check

    def _string(self, schema: Mapping[str, Any], must: bool) -> Check:
        low, high = _bounds(schema, "minLength", "maxLength")
        search = re.compile(schema["pattern"]).search if "pattern" in schema else None

        def check(value: Any) -> bool:
            if not isinstance(value, str):
                return not must
            if not low <= len(value) <= high:
                return False
            return search is None or search(value) is not None

        return check

    def _number(self, schema: Mapping[str, Any]) -> Check:
        """The bounds on a number; like jsonschema, a value that is not a number passes them,
        and each bound is tested the way jsonschema words it (so NaN passes every one)."""
        limits = {keyword: schema.get(keyword) for keyword in _NUMBER_KEYWORDS}
        for limit in limits.values():
            if limit is not None and not _is_number(limit):
                raise _Unsupported(f"a number limit of {limit!r}")
        low, high = limits["minimum"], limits["maximum"]
        above, below = limits["exclusiveMinimum"], limits["exclusiveMaximum"]

        def check(value: Any) -> bool:
            if not _is_number(value):
                return True
            return not (
                (low is not None and value < low)
                or (high is not None and value > high)
                or (above is not None and value <= above)
                or (below is not None and value >= below)
            )

        return check

    def _combinator(self, keyword: str, schemas: Any) -> Check:
        if keyword == "not":
            negated = self.compile(schemas)
            return lambda value: not negated(value)
        parts = [self.compile(sub) for sub in schemas]
        if keyword == "allOf":
            return _all(parts)
        if keyword == "anyOf":
            return lambda value: any(part(value) for part in parts)
        return lambda value: sum(1 for part in parts if part(value)) == 1  # oneOf

    def _if(self, schema: Mapping[str, Any]) -> Check:
        condition = self.compile(schema["if"])
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))
        return lambda value: then(value) if condition(value) else otherwise(value)

    def _ref(self, ref: Any) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise _Unsupported(f"$ref {ref!r}")
        if ref not in self.refs:
            target: Any = self.root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise _Unsupported(f"$ref {ref!r}")
                target = target[part]
            resolved: list[Check] = []
            # A schema may refer to itself: until compiled, the reference looks it up.
            self.refs[ref] = lambda value: resolved[0](value)
            resolved.append(self.compile(target))
            self.refs[ref] = resolved[0]
        return self.refs[ref]


def _bounds(schema: Mapping[str, Any], low: str, high: str) -> tuple[int, float]:
    """The (inclusive) size range a schema allows with its ``min...``/``max...`` keywords."""
    limits = (schema.get(low, 0), schema.get(high, math.inf))
    for limit in limits:
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise _Unsupported(f"a size limit of {limit!r}")
    return limits[0], limits[1]


_OBJECT_KEYWORDS = frozenset(
    {"required", "properties", "patternProperties", "additionalProperties", "propertyNames",
     "minProperties", "maxProperties"}
)  # fmt: skip
_ARRAY_KEYWORDS = frozenset({"items", "minItems", "maxItems", "uniqueItems"})
_STRING_KEYWORDS = frozenset({"pattern", "minLength", "maxLength"})
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not")
_KEYWORDS = frozenset(
    {"type", "enum", "const", "if", "then", "else", "$ref", *_COMBINATORS, *_OBJECT_KEYWORDS,
     *_ARRAY_KEYWORDS, *_STRING_KEYWORDS, *_NUMBER_KEYWORDS}
)  # fmt: skip


@cache
def compiled_check(kind: FileKind) -> Check | None:
    """A fast valid-or-not test with the kind's schema, or ``None`` if it cannot be compiled."""
    schema = load_schema(kind)
    try:
        return _Compiler(schema).compile(schema)
    except _Unsupported:
        return None


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
        hint = suggest(str(instance), options)
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
