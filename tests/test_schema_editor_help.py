"""What an editor with yaml-language-server gets from schemas/: help in Markdown on every
property, a description beside every value it completes, snippets for the things a
consultant adds most, and patch schemas under which the example estates' files are valid,
checked with an independent validator (jsonschema, Draft 2020-12)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.io.loading import load_library
from engine.io.schema_files import derived_files, subschemas
from engine.io.yamlsource import load_document
from tests.conftest import ROOT

SCHEMAS = ROOT / "schemas"
FILES = sorted(SCHEMAS.glob("*.json"))
PATCHES = {"process": SCHEMAS / "process.patch.schema.json",
           "rules": SCHEMAS / "rules.patch.schema.json"}  # fmt: skip
SCHEMA_LINE = "# yaml-language-server: $schema="


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every property of every object in the schema (its ``$defs`` too), by name."""
    found = []
    for sub in subschemas(schema):
        for name, prop in sub.get("properties", {}).items():
            found.append((name, prop))
        additional = sub.get("additionalProperties")
        if isinstance(additional, dict) and "title" in additional:
            found.append(("(each entry)", additional))
    return found


def test_the_patch_schemas_are_there() -> None:
    assert all(path in FILES for path in PATCHES.values())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_property_has_markdown_help(path: Path) -> None:
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    found = properties(schema)
    assert found
    missing = [name for name, prop in found
               if not str(prop.get("markdownDescription", "")).strip()]  # fmt: skip
    assert missing == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_enum_value_is_described(path: Path) -> None:
    schema = load(path)
    conditions = [id(sub) for holder in subschemas(schema) for sub in subschemas(holder.get("if"))]
    for sub in subschemas(schema):
        if "enum" not in sub or id(sub) in conditions:
            continue
        described = sub.get("markdownEnumDescriptions", [])
        assert len(described) == len(sub["enum"]), sub["enum"]
        for value, text in zip(sub["enum"], described, strict=True):
            assert text.startswith(f"`{value}"), (value, text)
        assert sub["enumDescriptions"] == [t.replace("`", "") for t in described]


@pytest.mark.parametrize(
    ("kind", "places"),
    [
        ("process", ["/properties/states", "/properties/events", "/$defs/state", "/$defs/event"]),
        ("rules", ["/properties/time_limits", "/$defs/time_limit"]),
    ],
)
def test_snippets_for_a_new_state_event_and_time_limit(kind: str, places: list[str]) -> None:
    schema = load(SCHEMAS / f"{kind}.schema.json")
    for place in places:
        sub: Any = schema
        for part in place.strip("/").split("/"):
            sub = sub[part]
        (snippet,) = sub["defaultSnippets"]
        assert snippet["label"].startswith("New ") and snippet["body"]
        body = snippet["body"]
        item = next(iter(body.values())) if place.startswith("/properties") else body
        assert set(item["label"]) == {"zh-CN", "en"}
        # What the snippet writes is valid once its placeholders hold their defaults.
        filled = json.loads(re.sub(r"\$\{\d+:([^}]*)\}", r"\1", json.dumps(item)))
        definition = place.rsplit("/", 1)[-1].removesuffix("s")
        check = Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]})
        assert list(check.iter_errors(filled)) == []


def test_the_schema_files_are_as_derived() -> None:
    stale = [path.name for path, text in derived_files(SCHEMAS).items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]  # fmt: skip
    assert stale == [], "run: python -m engine.io.schema_files"


def estate_files() -> list[Path]:
    return sorted(
        path for path in (ROOT / "estates").glob("*/*/*.yaml")
        if path.parent.name in ("processes", "rules")
    )  # fmt: skip


@pytest.mark.parametrize("path", estate_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_estate_file_names_its_schema_and_is_valid_under_it(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(SCHEMA_LINE), f"{path} names no schema on its first line"
    schema_path = (path.parent / first.removeprefix(SCHEMA_LINE)).resolve()
    assert schema_path.is_file()
    document, problems = load_document(path, str(path))
    assert document is not None, problems
    errors = list(Draft202012Validator(load(schema_path)).iter_errors(document.data))
    assert errors == []
    # A file customising what the library has names the patch schema; one adding only new
    # things names the full schema, which checks them more closely.
    library = load_library([ROOT / "processes", ROOT / "rules"]).library
    existing = set(library.process_ids) | {
        located.definition.id
        for collection in (library.time_limits, library.calendars, library.kpis,
                           library.schedules, library.quotas, library.patterns)
        for located in collection
    }  # fmt: skip
    data = document.data
    names = [data["process"]] if "process" in data else [
        item for key, value in data.items() if isinstance(value, dict) for item in value
    ]  # fmt: skip
    patches = any(name in existing for name in names)
    assert schema_path.name.endswith(".patch.schema.json") == patches


def test_the_full_schemas_refuse_what_the_patch_schemas_accept() -> None:
    """Why patch schemas are needed: the full ones flag a patch's missing keys."""
    patch = ROOT / "estates" / "lakeside" / "processes" / "repair.yaml"
    document, _ = load_document(patch, str(patch))
    assert document is not None
    full = Draft202012Validator(load(SCHEMAS / "process.schema.json"))
    assert {e.validator for e in full.iter_errors(document.data)} == {"required"}
    assert list(Draft202012Validator(load(PATCHES["process"])).iter_errors(document.data)) == []


@pytest.mark.parametrize(
    ("kind", "document", "where"),
    [
        ("process", {"process": "repair", "states": {"reported": {"lable": {"zh-CN": "x"}}}},
         ["states"]),
        ("process", {"states": {"reported": {"label": {"zh-CN": "x"}}}}, []),
        ("process", {"process": "repair", "events": {"dispatch": {"roles": "supervisor"}}},
         ["events"]),
        ("rules", {"time_limits": {"repair-urgent": {"limit": 24}}}, ["time_limits"]),
        ("rules", {"time_limit": {}}, []),
    ],
)  # fmt: skip
def test_the_patch_schemas_still_catch_mistakes(
    kind: str, document: dict[str, Any], where: list[str]
) -> None:
    errors = list(Draft202012Validator(load(PATCHES[kind])).iter_errors(document))
    assert [list(error.absolute_path) for error in errors] == [where]


@pytest.mark.parametrize(
    ("kind", "document"),
    [
        ("process", {"process": "repair", "events": {"return_visit": None},
                     "states": {"reported": {"label": {"en": None}}}}),
        ("rules", {"time_limits": {"repair-major": None, "repair-general": {"warn": None}}}),
        ("rules", {"time_limits": None}),
    ],
)  # fmt: skip
def test_null_deletes_anywhere_in_a_patch(kind: str, document: dict[str, Any]) -> None:
    assert list(Draft202012Validator(load(PATCHES[kind])).iter_errors(document)) == []
