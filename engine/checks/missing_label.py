"""Missing Chinese label (PF302, warning): a process, role, field, state or event has no
``zh-CN`` label.

Diagrams and the procedure manual are read by Chinese estate staff; without a ``zh-CN``
label they fall back to English and then to the bare id. This is a warning, so it fails
validation only with ``--strict``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from engine.checks.base import Finding
from engine.diagnostics import Severity
from engine.loading import Library
from engine.model.common import Label

CODE = "PF302"
NAME = "missing-label"
SEVERITY = Severity.WARNING


def check(library: Library) -> Iterator[Finding]:
    for located in library.processes:
        process = located.definition
        if not _has_zh(process.title):
            yield Finding(located.at("title"), f"process '{process.id}' has no zh-CN title")
        collections: Mapping[str, Mapping[str, object]] = {
            "roles": process.roles,
            "fields": process.fields,
            "states": process.states,
            "events": process.events,
        }
        for collection, items in collections.items():
            for item_id, item in items.items():
                if not _has_zh(getattr(item, "label", None)):
                    yield Finding(
                        located.at(collection, item_id, key=True),
                        f"{collection[:-1]} '{item_id}' of process '{process.id}' "
                        "has no zh-CN label",
                    )


def _has_zh(label: Label | None) -> bool:
    return bool(label and label.get("zh-CN"))
