"""The JSON Schemas in schemas/: well-formed, fully documented, and catching real mistakes."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.io.library import Library
from engine.io.loading import add_definitions
from engine.io.schemas import FileKind, detect_kind, validate_structure
from engine.io.yamlsource import SourceDocument, SourceMap, load_document

ROOT = Path(__file__).parent.parent
SCHEMAS = ROOT / "schemas"
KINDS = ("process", "rules", "estate")
# Every schema in schemas/: the library file kinds, scenario files (propflow test) and
# deployment files (propflow serve).
SCHEMA_KINDS = (*KINDS, "scenario", "deployment")

# Keywords a schema object may use. An unknown key (a typo such as `additionalProperty`)
# would be silently ignored by validators, so it is an error here.
KNOWN_KEYWORDS = {
    "$schema", "$id", "$ref", "$defs", "$comment",
    "title", "description", "default", "examples",
    "type", "enum", "const", "format", "pattern", "minLength", "maxLength",
    "minimum", "maximum", "minItems", "maxItems", "uniqueItems",
    "minProperties", "maxProperties", "required",
    "properties", "patternProperties", "additionalProperties", "propertyNames",
    "items", "prefixItems", "contains",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentRequired", "dependentSchemas",
    # yaml-language-server's editor help
    "markdownDescription", "markdownEnumDescriptions", "enumDescriptions", "defaultSnippets",
}  # fmt: skip
# keyword -> how its value holds subschemas
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SUBSCHEMA_ONE = ("additionalProperties", "items", "contains", "propertyNames",
                 "not", "if", "then", "else")  # fmt: skip
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
# Entries of these are what an editor shows as a key's help, so each needs title+description.
DOCUMENTED_MAPS = ("properties", "patternProperties", "$defs")


def load_schema(kind: str) -> dict[str, Any]:
    path = SCHEMAS / f"{kind}.schema.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return {kind: load_schema(kind) for kind in SCHEMA_KINDS}


def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind))


def walk(schema: Any, pointer: str = "") -> Iterator[tuple[str, str | None, Any]]:
    """Yield (json pointer, keyword that holds it, subschema) for every subschema."""
    yield pointer, None, schema
    if not isinstance(schema, dict):
        return
    for key in SUBSCHEMA_MAPS:
        for name, sub in schema.get(key, {}).items():
            sub_pointer = f"{pointer}/{key}/{name}"
            for entry in walk(sub, sub_pointer):
                yield (entry[0], key, entry[2]) if entry[0] == sub_pointer else entry
    for key in SUBSCHEMA_ONE:
        if key in schema:
            sub_pointer = f"{pointer}/{key}"
            for entry in walk(schema[key], sub_pointer):
                yield (entry[0], key, entry[2]) if entry[0] == sub_pointer else entry
    for key in SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key, [])):
            yield from walk(sub, f"{pointer}/{key}/{index}")


def undocumented(schema: dict[str, Any]) -> list[str]:
    """Pointers of properties, $defs and collection entries lacking a title or description."""
    missing = []
    for pointer, holder, sub in walk(schema):
        needs_docs = holder in DOCUMENTED_MAPS or (
            holder == "additionalProperties" and isinstance(sub, dict)
        )
        if not needs_docs:
            continue
        if not isinstance(sub, dict):
            missing.append(pointer)
            continue
        for key in ("title", "description"):
            if not (isinstance(sub.get(key), str) and sub[key].strip()):
                missing.append(f"{pointer} ({key})")
    return missing


def errors_of(kind: str, document: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(path in the document, failing keyword) of each error. A key's name that breaks
    `propertyNames` is reported at the mapping holding it, under `propertyNames`."""
    found = []
    for error in validator(kind).iter_errors(document):
        keyword = "propertyNames" if "propertyNames" in error.schema_path else error.validator
        found.append((tuple(error.absolute_path), str(keyword)))
    return found


# --------------------------------------------------------------------------- schema shape


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_is_valid_draft_2020_12(kind: str, schemas: dict[str, Any]) -> None:
    schema = schemas[kind]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://propflow.dev/schemas/{kind}.schema.json"
    assert schema["title"].strip() and schema["description"].strip()


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_every_property_has_title_and_description(kind: str, schemas: dict[str, Any]) -> None:
    assert undocumented(schemas[kind]) == []


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_walker_notices_any_single_missing_title_or_description(
    kind: str, schemas: dict[str, Any]
) -> None:
    schema = copy.deepcopy(schemas[kind])
    documented = [
        sub
        for _, holder, sub in walk(schema)
        if holder in DOCUMENTED_MAPS or (holder == "additionalProperties" and isinstance(sub, dict))
    ]
    assert len(documented) > 15
    for sub in documented:
        for key in ("title", "description"):
            saved = sub.pop(key)
            assert undocumented(schema), f"removing {key} of {saved!r} went unnoticed"
            sub[key] = saved
    assert undocumented(schema) == []


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_no_unknown_keywords(kind: str, schemas: dict[str, Any]) -> None:
    unknown = [
        f"{pointer}: {key}"
        for pointer, _, sub in walk(schemas[kind])
        if isinstance(sub, dict)
        for key in sub
        if key not in KNOWN_KEYWORDS
    ]
    assert unknown == []


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_refs_resolve_and_every_def_is_used(kind: str, schemas: dict[str, Any]) -> None:
    schema = schemas[kind]
    defs = schema["$defs"]
    refs = {sub["$ref"] for _, _, sub in walk(schema) if isinstance(sub, dict) and "$ref" in sub}
    names = set()
    for target in refs:
        assert target.startswith("#/$defs/"), target
        names.add(target.removeprefix("#/$defs/"))
    assert names - defs.keys() == set()
    assert defs.keys() - names == set()


def test_shared_defs_are_identical_across_files(schemas: dict[str, Any]) -> None:
    seen: dict[str, tuple[str, Any]] = {}
    for kind in SCHEMA_KINDS:
        for name, sub in schemas[kind]["$defs"].items():
            if name in seen:
                assert sub == seen[name][1], f"$defs/{name} differs in {kind} and {seen[name][0]}"
            else:
                seen[name] = (kind, sub)


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_every_pattern_compiles(kind: str, schemas: dict[str, Any]) -> None:
    for _, _, sub in walk(schemas[kind]):
        if isinstance(sub, dict) and "pattern" in sub:
            assert sub["pattern"].startswith("^") and sub["pattern"].endswith("$")
            re.compile(sub["pattern"])


# --------------------------------------------------------------------------- documents

MIN_PROCESS: dict[str, Any] = {
    "process": "repair",
    "title": {"zh-CN": "报修处理"},
    "roles": {"receptionist": {}},
    "fields": {"unit": {"type": "text"}},
    "states": {"reported": {"initial": True}, "closed": {"final": True}},
    "events": {"close": {"from": "reported", "to": "closed", "roles": ["receptionist"]}},
}
MIN_RULES: dict[str, Any] = {
    "time_limits": {
        "repair-urgent": {"process": "repair", "start": {"enter": "reported"}, "limit": "24h"}
    }
}
MIN_ESTATE: dict[str, Any] = {"estate": "tingtao"}
MIN_SCENARIO: dict[str, Any] = {
    "scenario": "leak",
    "start": "2026-02-13T10:00+08:00",
    "actors": {"li": ["receptionist"]},
    "steps": [{"open": {"process": "repair", "as": "leak", "actor": "li"}}],
}
MIN_DEPLOYMENT: dict[str, Any] = {"deployment": "acme_property"}
MINIMAL = {
    "process": MIN_PROCESS,
    "rules": MIN_RULES,
    "estate": MIN_ESTATE,
    "scenario": MIN_SCENARIO,
    "deployment": MIN_DEPLOYMENT,
}


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_minimal_document_is_valid(kind: str) -> None:
    assert errors_of(kind, MINIMAL[kind]) == []


FULL_PROCESS: dict[str, Any] = {
    "process": "repair",
    "title": {"zh-CN": "报修处理", "en": "Repair request"},
    "description": {"zh-CN": "目的", "en": "Purpose", "zh-TW": "目的"},
    "scope": {"zh-CN": "适用范围"},
    "source": "seed 004 篇1 §五.2",
    "record": {"zh-CN": "报修单", "en": "Repair form"},
    "roles": {
        "receptionist": {
            "label": {"zh-CN": "接待员"},
            "duties": {"zh-CN": "登记"},
            "description": {"en": "Front desk"},
        },
        "supervisor": {},
        "technician": {},
        "owner": {},
    },
    "fields": {
        "unit": {
            "type": "text",
            "required": True,
            "label": {"zh-CN": "房号"},
            "description": {"zh-CN": "楼栋-单元-房号"},
            "default": "",
        },
        "phone": {"type": "phone"},
        "scope": {
            "type": "enum",
            "values": ["public", "in_unit"],
            "value_labels": {"public": {"zh-CN": "公共设施"}},
        },
        "urgency": {"type": "enum", "values": ["urgent", "general"], "default": "general"},
        "fee": {"type": "money", "min": 0, "max": 9999.99, "default": "12.50"},
        "hours": {"type": "int", "min": 0, "default": 0},
        "chargeable": {"type": "bool", "default": False},
        "visit_on": {"type": "date", "default": "2026-01-31"},
        "appointment_at": {"type": "datetime"},
        "defects": {"type": "list", "items": "text", "default": []},
        "tags": {"type": "list", "items": "enum", "values": ["water", "power"]},
        "technician": {"type": "text"},
    },
    "states": {
        "reported": {
            "initial": True,
            "label": {"zh-CN": "已登记"},
            "description": {"zh-CN": "说明"},
            "on_enter": [
                {"notify": "supervisor", "message": {"zh-CN": "新报修"}},
                {"assign": "supervisor"},
            ],
            "on_exit": [{"set": {"hours": 1}}],
        },
        "dispatched": {},
        "closed": {"final": True},
    },
    "events": {
        "dispatch": {
            "label": {"zh-CN": "派工"},
            "description": {"zh-CN": "派工"},
            "from": ["reported", "dispatched"],
            "to": "dispatched",
            "roles": ["supervisor", "receptionist"],
            "if": "urgency == 'urgent' or actor.role == 'supervisor'",
            "requires": ["technician"],
            "set": {"chargeable": True, "fee": None},
            "actions": [{"notify": "technician"}, {"escalate": "supervisor"}, {"fire": "note"}],
        },
        "note": {"from": "dispatched", "roles": ["system"]},
    },
}
FULL_RULES: dict[str, Any] = {
    "calendars": {
        "office": {
            "label": {"zh-CN": "办公时间"},
            "description": {"en": "Office"},
            "timezone": "Asia/Shanghai",
            "hours": {
                "mon-fri": ["08:30-12:00", "13:30-17:30"],
                "sat": "9:00-12:00",
                "mon,wed": "18:00-24:00",
                "sun": ["10:00-11:00"],
            },
            "holidays": "cn",
            "closed": ["2026-12-31"],
            "open": ["2026-12-27"],
        },
        "24x7": {"hours": "always", "holidays": "none", "timezone": "UTC"},
    },
    "time_limits": {
        "repair-urgent": {
            "label": {"zh-CN": "急修24小时内解决"},
            "description": {"zh-CN": "说明"},
            "source": "seed 004 篇1 §五.2.2",
            "process": "repair",
            "if": "urgency == 'urgent'",
            "calendar": "24x7",
            "start": {"enter": "reported"},
            "stop": {"enter": ["signed_off", "closed"]},
            "pause": {"in": ["awaiting_owner"]},
            "reset": {"event": "reopen"},
            "limit": "24h",
            "warn": ["80%", "2h", "100%"],
            "extend": {"by": ["head"], "needs": ["owner_consent"]},
            "on_breach": [
                {"escalate": "head"},
                {"notify": "manager"},
                {"fire": "overdue"},
                {"set": {"overdue": True}},
            ],
            "tiers": [
                {"after": "3 workdays", "actions": [{"escalate": "head"}]},
                {"after": "2w", "extend_by": ["manager"], "actions": [{"notify": "manager"}]},
            ],
        },
        "handover-notice": {
            "process": "handover",
            "calendar": "office",
            "deadline": "20d before handover_date",
            "warn": ["1 workday"],
            "on_breach": [{"notify": "manager"}],
        },
        "tea-refill": {
            "process": "meeting_service",
            "every": "15m",
            "while": {"in": ["in_session"]},
            "on_due": [{"notify": "attendant", "message": {"zh-CN": "续茶"}}],
        },
    },
}
FULL_ESTATE: dict[str, Any] = {
    "estate": "tingtao",
    "title": {"zh-CN": "听涛雅苑", "en": "Tingtao Residences"},
    "description": {"zh-CN": "说明"},
    "extends": "standard",
    "timezone": "Asia/Shanghai",
    "calendar": "office",
    "closed": ["2026-12-31"],
    "open": [],
    "document": {
        "number": "TT-QP-01",
        "version": "A/1",
        "prepared_by": "客服部",
        "reviewed_by": "品质部",
        "approved_by": "总经理",
        "effective": "2026-04-01",
        "revisions": [
            {
                "version": "A/0",
                "date": "2026-01-05",
                "change": {"zh-CN": "首次发布"},
                "by": "客服部",
            },
            {"version": "A/1", "date": "2026-04-01", "change": {"zh-CN": "增加信息处理程序"}},
        ],
        "order": ["information", "repair"],
    },
}
FULL_SCENARIO: dict[str, Any] = {
    "scenario": "urgent_leak",
    "title": {"zh-CN": "急修", "en": "Urgent repair"},
    "description": {"zh-CN": "说明"},
    "estate": "..",
    "start": "2026-02-13T22:00+08:00",
    "actors": {"li": ["receptionist"], "王主管": ["supervisor", "head"]},
    "steps": [
        {
            "note": "来电",
            "open": {
                "process": "repair",
                "as": "leak",
                "actor": "li",
                "data": {"scope": "in_unit", "unit": "3-1201"},
            },
        },
        {
            "after": "30s",
            "fire": {
                "case": "leak",
                "event": "record",
                "actor": "li",
                "payload": {"urgency": "urgent"},
            },
        },
        {
            "after": "1m",
            "fire": {"event": "dispatch", "actor": "li"},
            "expect_refusal": {"error": "GuardRefused", "reason": "condition not met"},
        },
        {
            "at": "2026-02-14T08:00:00+08:00",
            "extend": {
                "case": "leak",
                "limit": "repair-urgent",
                "actor": "王主管",
                "by": "12h",
                "reason": "等待配件",
                "consents": ["owner_consent"],
            },
        },
        {
            "extend": {
                "limit": "repair-urgent",
                "actor": "王主管",
                "until": "2026-02-15T10:00Z",
                "reason": "再延期",
            },
            "expect_refusal": {},
        },
        {
            "at": "2026-02-16T10:00+0800",
            "expect": {
                "case": "leak",
                "state": "dispatched",
                "data": {"technician": None},
                "assignee": None,
                "sla": {
                    "repair-urgent": {
                        "status": "running",
                        "deadline": "2026-02-15T10:00+08:00",
                        "breached": True,
                        "paused": False,
                        "warnings": 1,
                        "tier": 0,
                        "extensions": 2,
                    },
                    "repair-general": {"status": "not_started"},
                },
                "outbox": [{"kind": "escalate", "role": "head", "message": "24"}],
                "history": ["open", "record", "breach:repair-urgent", "extend:repair-urgent"],
            },
        },
    ],
}
FULL_DEPLOYMENT: dict[str, Any] = {
    "deployment": "acme_property",
    "store": "postgresql://propflow@db.internal/propflow",
    "estates": ["estates/lakeside", "estates/tingtao"],
    "tokens": {
        "jwt": {
            "algorithm": "RS256",
            "key_file": "login-public.pem",
            "issuer": "https://login.example.com",
            "audience": "propflow",
            "claims": {"actor": "sub", "roles": "roles", "estates": "estates"},
        }
    },
    "webhooks": [
        {
            "url": "https://backoffice.example.com/propflow",
            "secret": "a-long-shared-secret",
            "kinds": ["escalate", "warning"],
            "estates": ["lakeside"],
        }
    ],
}
FULL = {"process": FULL_PROCESS, "rules": FULL_RULES, "estate": FULL_ESTATE,
        "scenario": FULL_SCENARIO, "deployment": FULL_DEPLOYMENT}  # fmt: skip


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_full_document_using_every_key_is_valid(kind: str) -> None:
    assert errors_of(kind, FULL[kind]) == []


@pytest.mark.parametrize("rules", [{"calendars": {"24x7": {"hours": "always"}}}, MIN_RULES])
def test_rules_file_may_hold_calendars_or_time_limits_alone(rules: dict[str, Any]) -> None:
    assert errors_of("rules", rules) == []


def test_estate_extends_a_relative_path() -> None:
    assert errors_of("estate", {"estate": "x", "extends": "../tingtao"}) == []


def _def_validator(kind: str, name: str) -> Draft202012Validator:
    schema = load_schema(kind)
    return Draft202012Validator(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{name}"}
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [("mon-fri", True), ("sat", True), ("sun", True), ("mon,wed", True),
     ("mon-wed,fri", True), ("monday", False), ("Mon", False), ("mon-", False), ("", False)],
)  # fmt: skip
def test_weekday_specs(value: str, ok: bool) -> None:
    doc = {"calendars": {"c": {"hours": {value: "08:00-17:00"}}}}
    assert (errors_of("rules", doc) == []) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("08:30-12:00", True), ("9:00-17:30", True), ("18:00-24:00", True),
     ("08:30", False), ("8-12", False), ("25:00-26:00", False), ("08:60-09:00", False)],
)  # fmt: skip
def test_time_ranges(value: str, ok: bool) -> None:
    doc = {"calendars": {"c": {"hours": {"mon": [value]}}}}
    assert (errors_of("rules", doc) == []) is ok


# --------------------------------------------------------------------------- broken documents

Mutation = Callable[[dict[str, Any]], None]


def _tl(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["time_limits"]["repair-urgent"]  # type: ignore[no-any-return]


BROKEN: list[tuple[str, str, Mutation, tuple[Any, ...], str]] = [
    # (id, kind, mutation of the minimal document, expected error path, expected validator)
    ("unknown top-level key", "process",
     lambda d: d.update(titel={"en": "x"}), (), "additionalProperties"),
    ("unknown state key", "process",
     lambda d: d["states"]["reported"].update(intial=True),
     ("states", "reported"), "additionalProperties"),
    ("unknown event key", "process",
     lambda d: d["events"]["close"].update(role=["receptionist"]),
     ("events", "close"), "additionalProperties"),
    ("missing states", "process", lambda d: d.pop("states"), (), "required"),
    ("missing title", "process", lambda d: d.pop("title"), (), "required"),
    ("field without type", "process",
     lambda d: d["fields"].update(unit={"required": True}), ("fields", "unit"), "required"),
    ("unknown field type", "process",
     lambda d: d["fields"].update(unit={"type": "string"}), ("fields", "unit", "type"), "enum"),
    ("enum field without values", "process",
     lambda d: d["fields"].update(urgency={"type": "enum", "default": "general"}),
     ("fields", "urgency"), "required"),
    ("list of enum without values", "process",
     lambda d: d["fields"].update(tags={"type": "list", "items": "enum"}),
     ("fields", "tags"), "required"),
    ("values on a text field", "process",
     lambda d: d["fields"].update(unit={"type": "text", "values": ["a"]}),
     ("fields", "unit", "values"), "not"),
    ("min on a text field", "process",
     lambda d: d["fields"].update(unit={"type": "text", "min": 0}),
     ("fields", "unit", "min"), "not"),
    ("items on an enum field", "process",
     lambda d: d["fields"].update(u={"type": "enum", "values": ["a"], "items": "text"}),
     ("fields", "u", "items"), "not"),
    ("bool default as text", "process",
     lambda d: d["fields"].update(flag={"type": "bool", "default": "no"}),
     ("fields", "flag", "default"), "type"),
    ("fractional int bound", "process",
     lambda d: d["fields"].update(n={"type": "int", "min": 0.5}), ("fields", "n", "min"), "type"),
    ("bad process id", "process", lambda d: d.update(process="Repair"), ("process",), "pattern"),
    ("bad state id", "process",
     lambda d: d["states"].update({"Reported": {}}), ("states",), "propertyNames"),
    ("bad field id", "process",
     lambda d: d["fields"].update({"2nd_phone": {"type": "phone"}}), ("fields",), "propertyNames"),
    ("hyphen in event id", "process",
     lambda d: d["events"].update({"re-open": d["events"]["close"]}), ("events",), "propertyNames"),
    ("system declared as a role", "process",
     lambda d: d["roles"].update(system={}), ("roles",), "propertyNames"),
    ("bad label locale", "process",
     lambda d: d.update(title={"zh_CN": "报修"}), ("title",), "propertyNames"),
    ("label as plain string", "process",
     lambda d: d.update(title="报修"), ("title",), "type"),
    ("event without roles", "process",
     lambda d: d["events"]["close"].pop("roles"), ("events", "close"), "required"),
    ("event with empty roles", "process",
     lambda d: d["events"]["close"].update(roles=[]), ("events", "close", "roles"), "minItems"),
    ("event from empty list", "process",
     lambda d: d["events"]["close"].update({"from": []}), ("events", "close", "from"), "anyOf"),
    ("misspelt action", "process",
     lambda d: d["states"]["reported"].update(on_enter=[{"notfy": "receptionist"}]),
     ("states", "reported", "on_enter", 0), "oneOf"),
    ("action with two keys", "process",
     lambda d: d["states"]["reported"].update(on_enter=[{"assign": "a", "fire": "close"}]),
     ("states", "reported", "on_enter", 0), "oneOf"),
    ("empty rules file", "rules", lambda d: d.clear(), (), "anyOf"),
    ("unknown rules key", "rules", lambda d: d.update(timelimits={}), (), "additionalProperties"),
    ("time limit with both limit and every", "rules",
     lambda d: d["time_limits"].update({"repair-urgent": {
         "process": "repair", "limit": "24h", "every": "15m", "while": {"in": ["s"]}}}),
     ("time_limits", "repair-urgent"), "oneOf"),
    ("time limit with both limit and deadline", "rules",
     lambda d: _tl(d).update(deadline="20d before handover_date"),
     ("time_limits", "repair-urgent"), "oneOf"),
    ("time limit with no limit, deadline or every", "rules",
     lambda d: _tl(d).pop("limit"), ("time_limits", "repair-urgent"), "oneOf"),
    ("limit without start", "rules",
     lambda d: _tl(d).pop("start"), ("time_limits", "repair-urgent"), "required"),
    ("time limit without process", "rules",
     lambda d: _tl(d).pop("process"), ("time_limits", "repair-urgent"), "required"),
    ("while without every", "rules",
     lambda d: _tl(d).update({"while": {"in": ["x"]}}),
     ("time_limits", "repair-urgent", "while"), "not"),
    ("on_due without every", "rules",
     lambda d: _tl(d).update(on_due=[]), ("time_limits", "repair-urgent", "on_due"), "not"),
    ("every without while", "rules",
     lambda d: d["time_limits"].update(t={"process": "p", "every": "15m"}),
     ("time_limits", "t"), "required"),
    ("warn on a recurring timer", "rules",
     lambda d: d["time_limits"].update(
         t={"process": "p", "every": "15m", "while": {"in": ["s"]}, "warn": ["80%"]}),
     ("time_limits", "t", "warn"), "not"),
    ("unknown time-limit key", "rules",
     lambda d: _tl(d).update(on_breech=[]), ("time_limits", "repair-urgent"),
     "additionalProperties"),
    ("duration as a number", "rules",
     lambda d: _tl(d).update(limit=24), ("time_limits", "repair-urgent", "limit"), "type"),
    ("trigger with two keys", "rules",
     lambda d: _tl(d).update(start={"enter": "a", "event": "b"}),
     ("time_limits", "repair-urgent", "start"), "maxProperties"),
    ("unknown trigger key", "rules",
     lambda d: _tl(d).update(start={"entered": "a"}),
     ("time_limits", "repair-urgent", "start"), "additionalProperties"),
    ("extend by a single role string", "rules",
     lambda d: _tl(d).update(extend={"by": "head"}),
     ("time_limits", "repair-urgent", "extend", "by"), "type"),
    ("tier without after", "rules",
     lambda d: _tl(d).update(tiers=[{"actions": []}]),
     ("time_limits", "repair-urgent", "tiers", 0), "required"),
    ("bad time-limit id", "rules",
     lambda d: d["time_limits"].update(Repair_Urgent=_tl(d)), ("time_limits",), "propertyNames"),
    ("calendar without hours", "rules",
     lambda d: d.update(calendars={"office": {"holidays": "cn"}}),
     ("calendars", "office"), "required"),
    ("bad holidays", "rules",
     lambda d: d.update(calendars={"office": {"hours": "always", "holidays": "china"}}),
     ("calendars", "office", "holidays"), "enum"),
    ("bad weekday spec", "rules",
     lambda d: d.update(calendars={"office": {"hours": {"monday": "08:00-17:00"}}}),
     ("calendars", "office", "hours"), "anyOf"),
    ("bad closed date", "rules",
     lambda d: d.update(calendars={"office": {"hours": "always", "closed": ["2026-13-01"]}}),
     ("calendars", "office", "closed", 0), "pattern"),
    ("missing estate id", "estate", lambda d: d.clear(), (), "required"),
    ("unknown estate key", "estate",
     lambda d: d.update(calendars="office"), (), "additionalProperties"),
    ("bad estate id", "estate", lambda d: d.update(estate="Tingtao"), ("estate",), "pattern"),
    ("absolute extends path", "estate",
     lambda d: d.update(extends="/srv/estates/tingtao"), ("extends",), "pattern"),
    ("bad timezone", "estate",
     lambda d: d.update(timezone="shanghai"), ("timezone",), "pattern"),
    ("scenario without steps", "scenario", lambda d: d.pop("steps"), (), "required"),
    ("unknown scenario key", "scenario",
     lambda d: d.update(actor={}), (), "additionalProperties"),
    ("start without offset", "scenario",
     lambda d: d.update(start="2026-02-13T10:00"), ("start",), "pattern"),
    ("step with two actions", "scenario",
     lambda d: d["steps"][0].update(expect={}), ("steps", 0), "oneOf"),
    ("step with no action", "scenario",
     lambda d: d["steps"][0].pop("open"), ("steps", 0), "oneOf"),
    ("unknown step key", "scenario",
     lambda d: d["steps"][0].update(wait="2h"), ("steps", 0), "additionalProperties"),
    ("open without alias", "scenario",
     lambda d: d["steps"][0]["open"].pop("as"), ("steps", 0, "open"), "required"),
    ("actor with no roles", "scenario",
     lambda d: d["actors"].update(li=[]), ("actors", "li"), "minItems"),
    ("unknown refusal", "scenario",
     lambda d: d["steps"][0].update(expect_refusal={"error": "Refused"}),
     ("steps", 0, "expect_refusal", "error"), "enum"),
    ("unknown clock status", "scenario",
     lambda d: d["steps"].append({"expect": {"sla": {"x": {"status": "late"}}}}),
     ("steps", 1, "expect", "sla", "x", "status"), "enum"),
    ("unknown deployment key", "deployment",
     lambda d: d.update(estate="lakeside"), (), "additionalProperties"),
    ("jwt with two keys", "deployment",
     lambda d: d.update(tokens={"jwt": {"algorithm": "HS256", "key": "s", "key_file": "k"}}),
     ("tokens", "jwt"), "oneOf"),
    ("unknown jwt algorithm", "deployment",
     lambda d: d.update(tokens={"jwt": {"algorithm": "none", "key": "s"}}),
     ("tokens", "jwt", "algorithm"), "enum"),
    ("webhook that is not http", "deployment",
     lambda d: d.update(webhooks=[{"url": "ftp://x", "secret": "s"}]),
     ("webhooks", 0, "url"), "pattern"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "mutate", "path", "keyword"),
    [pytest.param(kind, mutate, path, keyword, id=name)
     for name, kind, mutate, path, keyword in BROKEN],
)  # fmt: skip
def test_broken_document_fails_at_expected_path(
    kind: str, mutate: Mutation, path: tuple[Any, ...], keyword: str
) -> None:
    document = copy.deepcopy(MINIMAL[kind])
    mutate(document)
    errors = errors_of(kind, document)
    assert errors, "the broken document was accepted"
    assert (path, keyword) in errors, errors
    # the one mistake is reported where it is, not somewhere else in the file
    assert {p for p, _ in errors} == {path}, errors


# --------------------------------------------------------------------------- YAML on disk


class StringDateLoader(yaml.SafeLoader):
    """SafeLoader that keeps `2026-12-31` a string and `on`/`no`/`yes` text (only `true` and
    `false` are booleans, as in YAML 1.2), as PropFlow's loader does."""


StringDateLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    StringDateLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def kind_of(document: dict[str, Any]) -> str:
    if "scenario" in document:  # before "estate", which a scenario may name
        return "scenario"
    if "process" in document:
        return "process"
    if "estate" in document:
        return "estate"
    return "rules"


def format_examples() -> list[Any]:
    """The YAML examples of docs/format.md, with their placeholders filled in."""
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    params = []
    for number, block in enumerate(blocks):
        block = block.replace("[ACTION...]", "[{notify: supervisor}]")
        block = block.replace("{...}", "{zh-CN: 示例}")
        document = yaml.load(block, Loader=StringDateLoader)
        params.append(pytest.param(document, id=f"format.md-{number}-{kind_of(document)}"))
    return params


@pytest.mark.parametrize("document", format_examples())
def test_format_md_examples_are_valid(document: dict[str, Any]) -> None:
    assert errors_of(kind_of(document), document) == []


def test_format_md_has_an_example_of_each_kind() -> None:
    kinds = {kind_of(p.values[0]) for p in format_examples()}
    assert kinds == set(KINDS)


def shipped_files() -> list[Any]:
    paths = [*ROOT.glob("processes/*.yaml"), *ROOT.glob("rules/*.yaml"),
             *ROOT.glob("estates/*/estate.yaml"),
             *ROOT.glob("estates/*/scenarios/*.yaml")]  # fmt: skip
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in sorted(paths)]


@pytest.mark.parametrize("path", shipped_files())
def test_shipped_yaml_matches_its_schema(path: Path) -> None:
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=StringDateLoader)
    assert errors_of(kind_of(document), document) == []


def agreement_files() -> list[Any]:
    """Every shipped library and estate file and every library fixture: not scenarios, which
    have a schema but no pydantic model."""
    paths = [
        path
        for folder in ("processes", "rules", "estates", "tests/fixtures")
        for path in (ROOT / folder).rglob("*.yaml")
        if "scenarios" not in path.relative_to(ROOT).parts
    ]
    return [pytest.param(p, id=str(p.relative_to(ROOT))) for p in sorted(paths)]


@pytest.mark.parametrize("path", agreement_files())
def test_the_schema_and_the_models_agree(path: Path) -> None:
    """A file that passes its JSON Schema builds its pydantic definitions, and a shipped or
    valid one does both: the shapes are written twice (editors use the schemas, the engine
    the models) and must not disagree on any file there is."""
    document, _ = load_document(path)
    if document is None:
        return  # a fixture that is not YAML at all
    kind = detect_kind(document.data)
    if kind is None:
        return
    schema_errors = validate_structure(document, kind)
    if not schema_errors:
        assert add_definitions(document, kind, Library()) == []
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(("processes/", "rules/", "tests/fixtures/valid/")):
        assert schema_errors == []


# --- the compiled validity check agrees with jsonschema ---------------------------------------

_ODD_VALUES: list[Any] = [None, True, 0, -1, 2.5, "", "x", "Bad Id", "24h", [], {}, ["x"], {"x": 1}]
_ODD_KEYS = ["lable", "Bad Key", "x", "note", "zh-CN", "en", "new_id", "9x", "é"]


def _member_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _member_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _member_paths(item, (*prefix, index))


@st.composite
def _mutated_documents(draw: st.DrawFn) -> tuple[str, Any]:
    """A shipped or fixture library document with one to three values replaced, keys deleted
    or unknown keys added: near-valid data, where two validators are most likely to differ."""
    path = draw(st.sampled_from(_LIBRARY_FILES))
    document = copy.deepcopy(_library_document(path))
    for _ in range(draw(st.integers(1, 3))):
        members = list(_member_paths(document))[1:]
        if not members:
            break
        member = draw(st.sampled_from(members))
        parent = document
        for part in member[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["replace", "delete", "add"]))
        if how == "replace":
            parent[member[-1]] = copy.deepcopy(draw(st.sampled_from(_ODD_VALUES)))
        elif isinstance(parent, dict) and how == "delete":
            del parent[member[-1]]
        elif isinstance(parent, dict):
            value = draw(st.sampled_from(_ODD_VALUES))
            parent[draw(st.sampled_from(_ODD_KEYS))] = copy.deepcopy(value)
    return kind_of(document), document


_LIBRARY_FILES = sorted(
    path
    for folder in ("processes", "rules", "tests/fixtures/valid")
    for path in (ROOT / folder).glob("*.yaml")
)


def _library_document(path: Path) -> Any:
    document, _ = load_document(path)
    assert document is not None
    return document.data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_documents())
def test_the_compiled_check_and_jsonschema_agree(case: tuple[str, Any]) -> None:
    """validate_structure lets jsonschema-rs say whether a document is valid and asks
    jsonschema for the errors only when it is not; jsonschema alone must find errors exactly
    when the compiled check does, or a broken file would pass, or a valid one fail empty."""
    kind, data = case
    document = SourceDocument("mutated.yaml", data, SourceMap({(): ("mutated.yaml", 1, 1)}))
    reference_valid = validator(kind).is_valid(data)
    assert (validate_structure(document, FileKind(kind)) == []) == reference_valid
