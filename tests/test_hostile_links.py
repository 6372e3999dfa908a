"""Signals between linked cases that go round: reported by the validator (PF506), and, in a
library that was never checked for it, refused at run time with nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.io.library import ValidatedLibrary
from engine.io.loading import load_library
from engine.runtime import Actor, Engine, LinkRefused, ManualClock
from tests.conftest import ROOT

ECHO = ROOT / "tests" / "fixtures" / "broken" / "pf506_signal_loop.yaml"
CLERK = Actor("li", {"clerk"})
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _unchecked(path: Path) -> ValidatedLibrary:
    """The library of ``path`` as loaded, with none of the validator's checks run on it (as
    an embedding application holding a library checked by an older release would have)."""
    loaded = load_library([path])
    assert not loaded.diagnostics
    return ValidatedLibrary(loaded.library, [], None)


def test_a_signal_loop_is_refused_at_run_time_and_writes_nothing() -> None:
    engine = Engine(_unchecked(ECHO), store="sqlite://", clock=ManualClock(START))
    parent = engine.open_case("echo", {}, CLERK)
    parent = engine.fire(parent.id, "spawn", CLERK)
    (child,) = [link for link in engine.links(parent.id) if link.kind == "child"]
    before = (engine.history(parent.id), engine.history(child.case_id))
    with pytest.raises(LinkRefused, match="links deep"):
        engine.fire(parent.id, "ping", CLERK)
    assert (engine.history(parent.id), engine.history(child.case_id)) == before
    assert engine.get_case(parent.id).version == parent.version
