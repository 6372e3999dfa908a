"""Benchmark start-up: how long until an embedding application has an engine to fire on.

Each figure is the wall time of a fresh Python process, the median of several runs, the
commands taking turns so each sees the same load on a shared machine:

- ``python -c pass``: the interpreter alone (the floor no change to PropFlow can go below);
- ``import engine.runtime``: the runtime's imports;
- ``Engine(store=...)`` on an existing SQLite store: imports, validating the shipped library,
  opening the store and checking its schema revision. Target: <= 0.3 s.

Run: ``python -m benchmarks.bench_startup`` (``--runs`` changes the number of runs); the
figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.runtime import Engine


def wall_time(code: str) -> float:
    """Seconds a fresh interpreter takes to run ``code`` and exit."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="Runs of each command.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'cases.db'}"
        Engine(store=url).close()  # an existing store, as an application restarting finds
        commands = {
            "python -c pass": "pass",
            "import engine.runtime": "import engine.runtime",
            "Engine(store=...), existing SQLite store": (
                f"from engine.runtime import Engine; Engine(store={url!r})"
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, code in commands.items():
                timings[name].append(wall_time(code))
    for name, found in timings.items():
        print(f"{name}: median {statistics.median(found):.3f} s, best {min(found):.3f} s")


if __name__ == "__main__":
    main()
