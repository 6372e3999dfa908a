"""A process's ``version`` is a content hash that stored cases refer to: its value must
never change for the same definition, however (or wherever) it is computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.io.loading import load_library
from engine.io.yamlsource import load_document
from engine.model import ProcessDef

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

#: The versions of shipped processes as last changed on purpose: complaint signals its parent
#: when it closes (a first-contact request waits for it); the public report's quarter field
#: describes its format in words.
PINNED = {
    "complaint.yaml": "8b5be4b53881f6d4",
    "public_report.yaml": "c9b14116b0355da3",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_version_of_a_shipped_process_is_pinned(name: str) -> None:
    document, diagnostics = load_document(PROCESSES / name)
    assert document is not None and not diagnostics
    assert ProcessDef.model_validate(document.data).version == PINNED[name]
    (loaded,) = load_library([PROCESSES / name]).library.processes
    assert loaded.definition.version == PINNED[name]
