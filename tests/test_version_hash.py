"""A process's ``version`` is a content hash that stored cases refer to: its value must
never change for the same definition, however (or wherever) it is computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.io.loading import load_library
from engine.io.yamlsource import load_document
from engine.model import ProcessDef

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

#: The versions of shipped processes when this test was written.
PINNED = {
    "complaint.yaml": "aef3ddcffdad941e",
    "public_report.yaml": "710364f33c7cbe01",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_version_of_a_shipped_process_is_pinned(name: str) -> None:
    document, diagnostics = load_document(PROCESSES / name)
    assert document is not None and not diagnostics
    assert ProcessDef.model_validate(document.data).version == PINNED[name]
    (loaded,) = load_library([PROCESSES / name]).library.processes
    assert loaded.definition.version == PINNED[name]
