"""A process's ``version`` is a content hash that stored cases refer to: its value must
never change for the same definition, however (or wherever) it is computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.io.loading import load_library
from engine.io.yamlsource import load_document
from engine.model import ProcessDef
from engine.runtime import Engine
from tests.conftest import validated_library

PROCESSES = Path(__file__).resolve().parent.parent / "processes"

#: The versions of shipped processes as last changed on purpose: the owner became a party
#: role of both, bound to the new ``owner_account`` field.
PINNED = {
    "complaint.yaml": "f45d55f8e6e27e2e",
    "public_report.yaml": "4e525e3db5672044",
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_version_of_a_shipped_process_is_pinned(name: str) -> None:
    document, diagnostics = load_document(PROCESSES / name)
    assert document is not None and not diagnostics
    assert ProcessDef.model_validate(document.data).version == PINNED[name]
    (loaded,) = load_library([PROCESSES / name]).library.processes
    assert loaded.definition.version == PINNED[name]


#: The definition versions cases of these processes record on the shipped library: the
#: process with its time limits (each with its calendar's name), pinned the same way.
PINNED_WITH_LIMITS = {
    "complaint": "b5a1cfa55adf5f2d",
    "public_report": "fc66f2d58e8feae4",
}


def test_the_version_a_case_records_covers_its_time_limits_and_is_pinned() -> None:
    engine = Engine(validated_library(), store="sqlite://")
    try:
        for process, version in PINNED_WITH_LIMITS.items():
            assert engine.definition_version(process) == version
            assert engine.definition(process).version != version
    finally:
        engine.close()
