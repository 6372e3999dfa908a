"""JSON Merge Patch (RFC 7386) that remembers where every value came from.

An estate customises the standard library with patches: a key in the patch adds or
overrides, ``null`` deletes. The merged definition must still be explainable — which line of
which file gave each value — so the merge carries a :class:`~engine.io.yamlsource.SourceMap`
along: untouched values keep the library's positions, patched values get the patch's, and
every library position a patch overrode is remembered (``shadowed``) so an error in a patched
value can also point at the library line it met.

Two things RFC 7386 allows are refused here because in a process file they are always
mistakes: deleting a key that does not exist (a typo, which would silently do nothing) and
replacing a value by one of another type (a mapping by text, a list by a number).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from engine.diagnostics import Span
from engine.diagnostics.catalogue import say
from engine.io.yamlsource import JsonPath, SourceMap

_MISSING = object()


@dataclass(frozen=True)
class PatchProblem:
    """A patch step that is refused: ``kind`` is ``missing-delete`` or ``type-change``."""

    kind: str
    path: JsonPath
    span: Span
    message: str
    base: Span | None = None


@dataclass
class MergeResult:
    """The merged value, where each part of it came from, and what was refused."""

    value: Any
    source_map: SourceMap
    shadowed: dict[Span, Span] = field(default_factory=dict)
    problems: list[PatchProblem] = field(default_factory=list)


def _json_type(value: Any) -> str:
    """The kind of ``value`` in words, as the schema errors name it."""
    if isinstance(value, dict):
        kind = "object"
    elif isinstance(value, list):
        kind = "array"
    elif isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, (int, float)):
        kind = "number"
    else:
        kind = "string"
    return say(f"PF050.is.{kind}")


def _where(path: JsonPath) -> str:
    return ".".join(str(part) for part in path) or say("PF050.top_level")


def rebase(source_map: SourceMap, old: JsonPath, new: JsonPath) -> SourceMap:
    """The part of ``source_map`` under ``old``, moved to sit under ``new``."""
    result = SourceMap()
    for table, target in (
        (source_map.values, result.values),
        (source_map.keys, result.keys),
        (source_map.text_starts, result.text_starts),
    ):
        for path, span in table.items():
            if path[: len(old)] == old:
                target[(*new, *path[len(old) :])] = span
    return result


class _Merger:
    def __init__(self, base_map: SourceMap, patch_map: SourceMap) -> None:
        self.base_map = base_map
        self.patch_map = patch_map
        self.out = SourceMap(
            values=dict(base_map.values),
            keys=dict(base_map.keys),
            text_starts=dict(base_map.text_starts),
        )
        self.shadowed: dict[Span, Span] = {}
        self.problems: list[PatchProblem] = []

    def _drop(self, path: JsonPath) -> None:
        """Forget the positions of ``path``'s value and everything below it."""
        for table in (self.out.values, self.out.text_starts):
            for known in [p for p in table if p[: len(path)] == path]:
                del table[known]
        for known in [p for p in self.out.keys if p[: len(path)] == path and p != path]:
            del self.out.keys[known]

    def _take(self, path: JsonPath) -> None:
        """Take the positions of the patch's value at ``path`` and below."""
        for source, target in (
            (self.patch_map.values, self.out.values),
            (self.patch_map.text_starts, self.out.text_starts),
        ):
            for known, span in source.items():
                if known[: len(path)] == path:
                    target[known] = span
        for known, span in self.patch_map.keys.items():
            if known[: len(path)] == path and (known != path or known not in self.out.keys):
                self.out.keys[known] = span

    def merge(self, target: Any, patch: Any, path: JsonPath) -> Any:
        if isinstance(patch, dict) and isinstance(target, dict):
            result = dict(target)
            for key, value in patch.items():
                child = (*path, key)
                if value is None:
                    if key not in result:
                        self.problems.append(
                            PatchProblem(
                                "missing-delete",
                                child,
                                self.patch_map.locate(child, key=True),
                                say("PF401.no_key", where=_where(child)),
                            )
                        )
                        continue
                    del result[key]
                    self._drop(child)
                    self.out.keys.pop(child, None)
                    continue
                result[key] = self.merge(result.get(key, _MISSING), value, child)
            return result
        if target is not _MISSING:
            patch_span = self.patch_map.locate(path)
            base_span = self.base_map.locate(path)
            self.shadowed[patch_span] = base_span
            if _json_type(target) != _json_type(patch):
                self.problems.append(
                    PatchProblem(
                        "type-change",
                        path,
                        patch_span,
                        say(
                            "PF402.retyped",
                            where=_where(path),
                            was=_json_type(target),
                            now=_json_type(patch),
                        ),
                        base_span,
                    )
                )
        self._drop(path)
        self._take(path)
        return _without_nulls(copy.deepcopy(patch))


def _without_nulls(value: Any) -> Any:
    """A new value from a patch keeps no ``null`` members (RFC 7386 §2)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def merge_patch(base: Any, base_map: SourceMap, patch: Any, patch_map: SourceMap) -> MergeResult:
    """Apply ``patch`` to ``base`` (neither is changed) with positions and refusals."""
    merger = _Merger(base_map, patch_map)
    value = merger.merge(copy.deepcopy(base), patch, ())
    return MergeResult(value, merger.out, merger.shadowed, merger.problems)
