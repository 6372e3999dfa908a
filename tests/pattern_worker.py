"""A pattern worker to kill (tests/test_patterns.py): ``python tests/pattern_worker.py URL NOW``
ticks an engine of the shipped library at the moment ``NOW`` until a tick matches nothing,
printing ``ready`` once its engine is built and ``matched N`` after each tick, flushed, so
the test can kill it while it is matching and committing."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runtime import Engine, ManualClock


def main(url: str, now: str) -> None:
    moment = datetime.fromisoformat(now)
    engine = Engine(store=url, clock=ManualClock(moment))
    print("ready", flush=True)
    while True:
        matched = engine.pattern_step.tick(moment, 100)
        print(f"matched {matched}", flush=True)
        if matched == 0:
            return


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
