"""Recovery from structural errors: the part of a broken file that can still be checked.

A consultant who fixes one error per run needs many runs; a file with a structural (schema)
error is therefore not set aside whole. Its broken parts are cut out — an unknown key, the
state, event, field, role or time limit holding a bad value, a section of the wrong shape
(then read as empty) — until what is left has the kind's shape, and that remainder is
checked like any other definition: a misspelt ``to: dispached`` beside a broken ``fields:``
is reported in the same run. The definition can never run (its file has errors), and
:data:`Salvage.incomplete` names the sections that lost names, so that the checks whose
verdicts rest on a complete section (an undefined role when ``roles:`` was cut) stay quiet
about it instead of reporting follow-on errors.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.io.schemas import FileKind, Problem, structural_problems
from engine.io.yamlsource import JsonPath

#: The keyed sections of each kind whose items can be cut out one by one.
SECTIONS: dict[FileKind, frozenset[str]] = {
    FileKind.PROCESS: frozenset({"roles", "fields", "states", "events"}),
    FileKind.RULES: frozenset({"calendars", "time_limits", "schedules", "quotas", "kpis"}),
}
#: Cutting and checking again stops after this many rounds: each round removes what the
#: previous one's problems pointed at, and a file needing more is too broken to salvage.
_ROUNDS = 6


@dataclass(frozen=True)
class Salvage:
    """What is left of a document once its broken parts are cut out, and the sections that
    lost items (or were read as empty) doing so."""

    data: dict[str, Any]
    incomplete: frozenset[str]


def salvage(data: Any, kind: FileKind, problems: list[Problem]) -> Salvage | None:
    """The checkable remainder of ``data``, a document of ``kind`` with the structural
    ``problems``; ``None`` if nothing useful is left (an estate file, a process without an
    id, a document that does not become valid)."""
    sections = SECTIONS.get(kind)
    if sections is None or not isinstance(data, dict):
        return None
    kept = copy.deepcopy(data)
    incomplete: set[str] = set()
    for _ in range(_ROUNDS):
        for path, _message, on_key in problems:
            if not _cut(kept, kind, path, on_key, incomplete):
                return None
        problems = list(structural_problems(kept, kind))
        if not problems:
            return Salvage(kept, frozenset(incomplete))
    return None


def _cut(
    data: dict[str, Any], kind: FileKind, path: JsonPath, on_key: bool, incomplete: set[str]
) -> bool:
    """Remove what the problem at ``path`` is about; ``False`` if it cannot be removed."""
    sections = SECTIONS[kind]
    if not path:
        return _fill_missing(data, kind, incomplete)
    head = str(path[0])
    if head not in sections:
        if head == "process":
            return False
        data.pop(head, None)  # an optional value of the wrong shape, or an unknown key
        return True
    section = data.get(head)
    if len(path) == 1 or not isinstance(section, dict):
        data[head] = {}
        incomplete.add(head)
        return True
    if len(path) > 2 and on_key and _is_member(data, path):
        _parent(data, path).pop(path[-1])  # an unknown key inside an item: the item stays
        return True
    section.pop(path[1], None)  # the whole item: its name is gone
    incomplete.add(head)
    return True


def _parent(data: Any, path: JsonPath) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _is_member(data: Any, path: JsonPath) -> bool:
    """Whether ``path`` names a key of a mapping in ``data``."""
    try:
        parent = _parent(data, path)
    except (KeyError, IndexError, TypeError):
        return False
    return isinstance(parent, dict) and path[-1] in parent


def _fill_missing(data: dict[str, Any], kind: FileKind, incomplete: set[str]) -> bool:
    """Stand in for the required keys a process lacks: an empty section for a section, its
    id for its title; ``False`` when the id itself is missing."""
    if kind is not FileKind.PROCESS:
        return True
    if not isinstance(data.get("process"), str):
        return False
    for section in SECTIONS[kind]:
        if section not in data:
            data[section] = {}
            incomplete.add(section)
    data.setdefault("title", data["process"])
    return True
