"""The parts of the shipped JSON Schemas that are derived, not written: editor help and the
patch schemas of estate files.

yaml-language-server shows ``markdownDescription`` rather than ``description`` and
``enumDescriptions`` beside each completed value; both are made here from what the schema's
authors write (``title``, ``description``, ``markdownEnumDescriptions``), so the two can
never disagree. An estate's process and rules files are JSON Merge Patches over the
library: every key optional, ``null`` deleting it, lists replaced whole. Their schemas
(``process.patch.schema.json``, ``rules.patch.schema.json``) are made from the full ones by
that rule, so the full schema stays the one place a key is defined.

``python -m engine.io.schema_files`` writes them all into ``schemas/``; a test checks the
files are what this module makes.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.io.resources import schemas_dir
from engine.io.schemas import FileKind

#: The kinds an estate patches (its estate file is whole; scenarios are not patches).
PATCHED_KINDS = (FileKind.PROCESS, FileKind.RULES)
#: Keys of a subschema that say what it is for, copied onto a patch's nullable wrapper.
DOC_KEYS = ("title", "description", "markdownDescription", "defaultSnippets")
#: Keywords that make a key required, which a patch never is.
REQUIRING = ("required", "minProperties", "dependentRequired", "dependentSchemas",
             "if", "then", "else")  # fmt: skip
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
SUBSCHEMA_ONE = ("additionalProperties", "items", "contains", "propertyNames",
                 "not", "if", "then", "else")  # fmt: skip
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
#: The keys that name what a patch file customises: they stay required.
IDENTIFYING = {FileKind.PROCESS: ("process",), FileKind.RULES: ()}
DELETE = {"type": "null", "title": "Delete", "description": "`null` deletes this key."}


def subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """``schema`` and every subschema in it (not the values of ``defaultSnippets`` or
    ``examples``, which are documents, not schemas)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in SUBSCHEMA_MAPS:
        for sub in schema.get(key, {}).values():
            yield from subschemas(sub)
    for key in SUBSCHEMA_ONE:
        if key in schema:
            yield from subschemas(schema[key])
    for key in SUBSCHEMA_LISTS:
        for sub in schema.get(key, []):
            yield from subschemas(sub)


def with_editor_help(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with ``markdownDescription`` beside every ``description`` and
    ``enumDescriptions`` beside every ``markdownEnumDescriptions``."""
    helped = copy.deepcopy(schema)
    for sub in subschemas(helped):
        entries = list(sub.items())
        sub.clear()
        for key, value in entries:
            if key in ("markdownDescription", "enumDescriptions"):
                continue
            sub[key] = value
            if key == "description" and isinstance(value, str):
                title = _title(entries)
                sub["markdownDescription"] = f"**{title}**\n\n{value}" if title else value
            if key == "markdownEnumDescriptions":
                sub["enumDescriptions"] = [_plain(text) for text in value]
    return helped


def _title(entries: list[tuple[str, Any]]) -> str | None:
    title = dict(entries).get("title")
    return title if isinstance(title, str) else None


def _plain(markdown: str) -> str:
    """Markdown's code and emphasis marks taken off, for clients that show plain text."""
    return re.sub(r"[`*]", "", markdown)


class _Patcher:
    """Makes the patch version of a schema's objects, and of the ``$defs`` they use."""

    def __init__(self, full: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = full.get("$defs", {})
        self.patched: dict[str, Any] = {}

    def patch(self, schema: Any) -> Any:
        if not isinstance(schema, dict):
            return schema
        result: dict[str, Any] = {}
        for key, value in schema.items():
            if key in REQUIRING:
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                result[key] = f"#/$defs/{self.definition(value.removeprefix('#/$defs/'))}"
            elif key in ("properties", "patternProperties"):
                result[key] = {name: self.nullable(sub) for name, sub in value.items()}
            elif key == "additionalProperties" and isinstance(value, dict):
                result[key] = self.nullable(value)
            elif key in ("allOf", "anyOf", "oneOf"):
                # Branches made lenient may overlap, which oneOf would refuse.
                result["anyOf" if key == "oneOf" else key] = [self.patch(b) for b in value]
            else:  # lists (replaced whole), names, formats and values: as in the full schema
                result[key] = value
        return result

    def nullable(self, schema: Any) -> Any:
        """A key's patch: its value's patch, or ``null`` to delete it."""
        if not isinstance(schema, dict):
            return schema
        docs = {key: schema[key] for key in DOC_KEYS if key in schema}
        return {**docs, "anyOf": [self.patch(schema), DELETE]}

    def definition(self, name: str) -> str:
        """The name of the patch version of ``$defs/name`` (``name`` itself when patching
        changes nothing in it, as for a pattern of ids)."""
        patched_name = f"{name}-patch"
        if patched_name in self.patched:
            return patched_name
        self.patched[patched_name] = None  # being made: a reference back to it resolves
        made = self.patch(self.defs[name])
        if made == self.defs[name]:
            del self.patched[patched_name]
            return name
        self.patched[patched_name] = made
        return patched_name


def patch_schema(full: dict[str, Any], kind: FileKind) -> dict[str, Any]:
    """The schema of an estate's patch of a ``kind`` file, made from the full schema."""
    patcher = _Patcher(full)
    body = patcher.patch({k: v for k, v in full.items() if k not in ("$defs", "$id")})
    for name in IDENTIFYING[kind]:
        body["properties"][name] = full["properties"][name]
    body["required"] = list(IDENTIFYING[kind])
    body["title"] = f"{full['title']}: an estate's customisation"
    body["description"] = (
        f"An estate's customisation of a shipped {kind.value} file (a JSON Merge Patch over "
        "the library): every key is optional, a key adds or overrides, `null` deletes, and "
        "a list replaces the library's whole. Start the file with "
        f"`# yaml-language-server: $schema=../../../schemas/{kind.value}.patch.schema.json`."
    )
    document = {
        "$schema": full["$schema"],
        "$id": full["$id"].replace(".schema.json", ".patch.schema.json"),
        **{k: v for k, v in body.items() if k != "$schema"},
        "$defs": {**patcher.defs, **{k: v for k, v in patcher.patched.items() if v is not None}},
    }
    return with_editor_help(document)


def schema_text(schema: dict[str, Any]) -> str:
    """A schema as the files in ``schemas/`` are written."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def derived_files(directory: Path) -> dict[Path, str]:
    """Every schema file as it should be: each full schema with its editor help, and the
    patch schemas made from them."""
    files: dict[Path, str] = {}
    for kind in FileKind:
        path = directory / f"{kind.value}.schema.json"
        full = with_editor_help(json.loads(path.read_text(encoding="utf-8")))
        files[path] = schema_text(full)
        if kind in PATCHED_KINDS:
            files[directory / f"{kind.value}.patch.schema.json"] = schema_text(
                patch_schema(full, kind)
            )
    return files


def main() -> None:
    """Write the derived schema files into ``schemas/``; say which changed."""
    for path, text in derived_files(schemas_dir()).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
