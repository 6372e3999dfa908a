"""How validation time grows with the size of one process file, clean and broken.

A library has small processes, but a hostile (or generated) file can hold one process of
thousands of states; the checks must stay linear in it, not compare every state or event
with every other. Generates one process of N states in a chain of N - 1 events, and a
broken twin whose every event names a misspelt target state (a "did you mean" for each)
and appears twice (a duplicate key for each). Each is validated in this process, on one
core, the best CPU time of ``--repeat`` runs kept.

    python benchmarks/bench_large_process.py                  # 1,500, 3,000 and 6,000 states
    python benchmarks/bench_large_process.py --states 12000   # other sizes

Exits 1 if the CPU time per state at the largest size is more than 1.5 times that at the
smallest, for either file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.checks.validation import validate_paths

DEFAULT_SIZES = (1500, 3000, 6000)
#: The largest allowed ratio of CPU time per state at the largest size to that at the smallest.
LINEARITY = 1.5


def process_text(states: int, *, broken: bool = False) -> str:
    """One process of ``states`` states in a chain; ``broken``: misspelt targets, each
    event twice."""
    lines = [
        "process: chain",
        "title: {zh-CN: 长链, en: Chain}",
        "roles:",
        "  clerk: {label: {zh-CN: 文员, en: Clerk}}",
        "fields:",
        "  note: {type: text, label: {zh-CN: 备注, en: Note}}",
        "states:",
    ]
    for i in range(states):
        role = ", initial: true" if i == 0 else (", final: true" if i == states - 1 else "")
        lines.append(f"  s{i}: {{label: {{zh-CN: 状态{i}, en: State {i}}}{role}}}")
    lines.append("events:")
    target = "sx" if broken else "s"
    for i in range(states - 1):
        event = (
            f"  e{i}: {{label: {{zh-CN: 事件{i}, en: Event {i}}}, from: s{i}, "
            f"to: {target}{i + 1}, roles: [clerk]}}"
        )
        lines += [event, event] if broken else [event]
    return "\n".join(lines) + "\n"


def cpu_seconds(path: Path, repeat: int) -> tuple[float, int]:
    """The best CPU time of validating ``path``, and how many diagnostics it gave."""
    best, found = float("inf"), 0
    for _ in range(repeat):
        began = time.process_time()
        found = len(validate_paths([path]).diagnostics)
        best = min(best, time.process_time() - began)
    return best, found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--states", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        metavar="N", help="states of the generated process (default: "
                        "1500 3000 6000)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=2, help="runs per size; the best counts")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.states))
    if any(size < 2 for size in sizes) or args.repeat < 1:
        parser.error("--states must be at least 2 and --repeat positive")
    print("| states | file | KB | diagnostics | CPU seconds | µs per state |")
    print("|---:|---|---:|---:|---:|---:|")
    per_state: dict[str, list[float]] = {"clean": [], "broken": []}
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            for kind in per_state:
                path = Path(scratch) / f"{kind}-{size}.yaml"
                path.write_text(process_text(size, broken=kind == "broken"), encoding="utf-8")
                seconds, found = cpu_seconds(path, args.repeat)
                per_state[kind].append(seconds / size)
                print(f"| {size:,} | {kind} | {path.stat().st_size // 1024:,} | {found:,} "
                      f"| {seconds:.2f} | {1e6 * seconds / size:.0f} |", flush=True)  # fmt: skip
    status = 0
    if len(sizes) > 1:
        for kind, times in per_state.items():
            ratio = times[-1] / times[0]
            linear = ratio <= LINEARITY
            status |= 0 if linear else 1
            print(f"\n{kind}: CPU time per state at {sizes[-1]:,} is {ratio:.2f}x that at "
                  f"{sizes[0]:,} (limit {LINEARITY}x): {'ok' if linear else 'FAILED'}")  # fmt: skip
    return status


if __name__ == "__main__":
    sys.exit(main())
