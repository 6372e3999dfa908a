"""``python tests/migration_worker.py LIBRARY URL NOW``: move every job of the store to the
library at ``LIBRARY`` in small pages, as of ``NOW`` (ISO 8601) — the migration the kill test
(tests/test_migration.py) kills at random points."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runtime import Engine, ManualClock
from engine.runtime.migration import migrate_cases


def main(library: str, url: str, now: str) -> None:
    engine = Engine(library=[library], store=url, clock=ManualClock(datetime.fromisoformat(now)))
    print("moving", flush=True)  # the killer's cue: from here on, pages commit
    try:
        result = migrate_cases(engine, batch=10)
    finally:
        engine.close()
    sys.exit(1 if result.refused or result.skipped else 0)


if __name__ == "__main__":
    main(*sys.argv[1:4])
