"""A simulated year of an estate group's log through the shipped patterns, on durable-rules.

100 estates open 100,000 cases over a year (repairs and complaints; a few units report most
of the leaks, some repairs are sent back after their return visit, complaints come from
units with a repair still open), and every log entry, in log order across the estates, is
matched by that estate's matcher (:class:`engine.patterns.PatternMatcher`: one
durable-rules ruleset and session per estate). Beside it runs the strongest simple
baseline, a plain-Python counter of the same three patterns (a deque per unit and
category, a set of open repairs per unit), on the same entries, the two sides interleaved
chunk by chunk so that the machine's neighbours slow both alike. The baseline is also the
check: both must find the same matches, pattern by pattern.

Reported: entries per second on each side; RSS after the first month and at the end (the
windows bound what durable-rules holds, so the end must be within 10% of the first month);
the most facts any matcher held; the sessions used. A second, smaller run measures the
pattern step of the real engine on a SQLite file (reading the log after the cursor, folding
each case's data, committing the matches with the cursor).

    python benchmarks/bench_patterns.py            # 100,000 cases, 100 estates
    python benchmarks/bench_patterns.py --quick    # 2,000 cases, 4 estates (the smoke test)

Exits 1 if the two sides disagree, or if RSS at the end is more than 10% above the first
month's.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_runtime import rate, rss_mib
from engine.checks.validation import validate_library
from engine.io.library import ValidatedLibrary
from engine.patterns import PatternMatcher
from engine.runtime import Actor, Engine, ManualClock
from engine.runtime.calendar_jobs import build_calendars
from engine.store.patterns import PatternEntry, matches_of

YEAR_START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
MONTH = timedelta(days=31)
#: The largest allowed ratio of RSS at the end to RSS after the first month.
FLAT = 1.10
#: Entries per timed chunk (the sides alternate chunk by chunk).
CHUNK = 5_000
CATEGORIES = ("drain", "leak", "light", "lock", "electrical", "plumbing", "aircon", "civil")
UNITS_PER_ESTATE = 400
#: The share of repairs that come from the estate's few troubled units.
TROUBLED_SHARE = 0.3
TROUBLED_UNITS = 8
REWORK_SHARE = 0.04
COMPLAINT_SHARE = 0.15
RECURRING_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Simulated:
    """One log entry of the simulated year, with its estate."""

    estate: int
    entry: PatternEntry


def simulate(cases: int, estates: int, seed: int = 7) -> list[Simulated]:
    """The year's log entries of every estate, in log order (by time)."""
    rng = random.Random(seed)
    pending: list[tuple[float, int, str, str, str, dict[str, Any]]] = []
    for number in range(cases):
        estate = number % estates
        opened = rng.random() * YEAR.total_seconds()
        case_id = f"c{number}"
        troubled = rng.random() < TROUBLED_SHARE
        unit = f"U{rng.randrange(TROUBLED_UNITS if troubled else UNITS_PER_ESTATE)}"
        if rng.random() < COMPLAINT_SHARE:
            data: dict[str, Any] = {"address": unit}
            steps = [
                (0, "open", "received"),
                (120, "record", "recorded"),
                (86_400, "close", "closed"),
            ]
            process = "complaint"
        else:
            category = CATEGORIES[0 if troubled else rng.randrange(len(CATEGORIES))]
            data = {"scope": "in_unit", "unit": unit, "category": category}
            steps = [(0, "open", "received"), (300, "record", "reported")]
            if rng.random() < REWORK_SHARE:
                steps.append((2 * 86_400, "rework", "dispatched"))
            steps.append((4 * 86_400, "return_visit", "closed"))
            process = "repair"
        for offset, event, state in steps:
            pending.append(
                (opened + offset, estate, case_id, process, event, {"state": state, **data})
            )
    pending.sort(key=lambda item: item[0])
    found: list[Simulated] = []
    for seq, (at, estate, case_id, process, event, values) in enumerate(pending, start=1):
        state = values.pop("state")
        entry = PatternEntry(
            seq, case_id, process, event, state, YEAR_START + timedelta(seconds=at), values
        )
        found.append(Simulated(estate, entry))
    return found


class Baseline:
    """The three shipped patterns counted in plain Python, as their definitions say."""

    def __init__(self) -> None:
        self.windows: dict[tuple[str, str], deque[datetime]] = {}
        self.open_repairs: dict[str, set[str]] = defaultdict(set)
        self.found: dict[str, int] = defaultdict(int)

    def feed(self, entry: PatternEntry) -> None:
        data = entry.data
        if entry.process == "repair":
            unit = data["unit"]
            if entry.to_state == "closed":
                self.open_repairs[unit].discard(entry.case_id)
                if not self.open_repairs[unit]:
                    del self.open_repairs[unit]
            else:
                self.open_repairs[unit].add(entry.case_id)
            if entry.event in ("rework", "reopen"):
                self.found["rework-after-return-visit"] += 1
            if entry.event == "record" and data["scope"] == "in_unit":
                key = (unit, data["category"])
                window = self.windows.setdefault(key, deque())
                while window and window[0] + RECURRING_WINDOW < entry.at:
                    window.popleft()
                window.append(entry.at)
                if len(window) == 3:
                    self.found["recurring-defect"] += 1
                    del self.windows[key]
            self._expire(entry.at)
        elif entry.event == "record":
            others = self.open_repairs.get(data["address"], set()) - {entry.case_id}
            if others:
                self.found["complaint-on-open-repair"] += 1

    def _expire(self, now: datetime) -> None:
        """Drop windows whose last entry has aged out (so memory stays bounded here too)."""
        if len(self.windows) > 4 * UNITS_PER_ESTATE:
            for key in [k for k, w in self.windows.items() if w[-1] + RECURRING_WINDOW < now]:
                del self.windows[key]


def matchers(library: ValidatedLibrary, estates: int) -> list[PatternMatcher]:
    """One matcher per estate on the shipped patterns, typed by the shipped forms."""
    engine = Engine(library, "sqlite://", ManualClock(YEAR_START))
    calendars, fallback = build_calendars(library.library, library.estate)
    patterns = [located.definition for located in library.library.patterns]
    definitions = engine.definitions
    final = {
        process: frozenset(
            s for s, state in engine.definition(process).states.items() if state.final
        )
        for process in ("repair", "complaint")
    }

    def typed(process: str, data: Any) -> Any:
        return definitions.compile(definitions.current(process)).form.typed(dict(data))

    return [
        PatternMatcher(f"bench-{n}", patterns, final, typed, calendars, fallback)
        for n in range(estates)
    ]


def chunks(entries: Sequence[Simulated]) -> Iterator[Sequence[Simulated]]:
    for start in range(0, len(entries), CHUNK):
        yield entries[start : start + CHUNK]


def run_year(cases: int, estates: int) -> dict[str, Any]:
    library = validate_library()
    entries = simulate(cases, estates)
    rules = matchers(library, estates)
    baselines = [Baseline() for _ in range(estates)]
    found: dict[str, int] = defaultdict(int)
    timed = {"durable-rules": 0.0, "baseline": 0.0}
    first_month: float | None = None
    most_facts = 0
    month_end = YEAR_START + MONTH
    for index, chunk in enumerate(chunks(entries)):
        sides = ["durable-rules", "baseline"] if index % 2 == 0 else ["baseline", "durable-rules"]
        for side in sides:
            started = time.perf_counter()
            if side == "baseline":
                for item in chunk:
                    baselines[item.estate].feed(item.entry)
            else:
                for item in chunk:
                    for hit in rules[item.estate].feed(item.entry):
                        found[hit.pattern.id] += 1
            timed[side] += time.perf_counter() - started
        most_facts = max(most_facts, *(m.live_facts() for m in rules))
        if first_month is None and chunk[-1].entry.at >= month_end:
            first_month = rss_mib()
    end = rss_mib()
    expected: dict[str, int] = defaultdict(int)
    for baseline in baselines:
        for pattern, count in baseline.found.items():
            expected[pattern] += count
    return {
        "cases": cases,
        "estates": estates,
        "entries": len(entries),
        "rate": rate(len(entries), timed["durable-rules"]),
        "baseline_rate": rate(len(entries), timed["baseline"]),
        "first_month_mib": first_month if first_month is not None else end,
        "end_mib": end,
        "most_facts": most_facts,
        "sessions": estates,
        "found": dict(found),
        "expected": dict(expected),
    }


def run_store(cases: int) -> dict[str, Any]:
    """The pattern step of the real engine on a SQLite file: ``cases`` repairs, six in each
    unit, opened and recorded through the engine, then one tick matching them all (two
    recurring defects per unit, each opening an investigation)."""
    clock = ManualClock(YEAR_START)
    desk = Actor("desk", "receptionist")
    form = {"owner_name": "王", "phone": "13800138000", "content": "漏水", "location": "厨房"}
    with tempfile.TemporaryDirectory() as temp:
        engine = Engine(validate_library(), f"sqlite:///{Path(temp) / 'cases.db'}", clock)
        units = max(cases // 6, 1)
        for number in range(cases):
            case = engine.open_case(
                "repair", {"scope": "in_unit", "unit": f"U{number % units}"}, desk
            )
            engine.fire(case.id, "record", desk, {**form, "category": "leak"})
            clock.advance(timedelta(minutes=10))
        started = time.perf_counter()
        matched = engine.pattern_step.tick(clock.now(), 1_000_000)
        seconds = time.perf_counter() - started
        recorded = len(matches_of(engine.store, engine.estate))
        engine.close()
    return {
        "entries": 2 * cases,
        "rate": rate(2 * cases, seconds),
        "matched": matched,
        "recorded": recorded,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--estates", type=int, default=100)
    parser.add_argument("--store-cases", type=int, default=3_000)
    parser.add_argument("--quick", action="store_true", help="2,000 cases in 4 estates")
    args = parser.parse_args(argv)
    if args.quick:
        args.cases, args.estates, args.store_cases = 2_000, 4, 60
    year = run_year(args.cases, args.estates)
    print(
        f"{year['cases']:,} cases in {year['estates']} estates, {year['entries']:,} log entries: "
        f"durable-rules {year['rate']:,.0f} entries/s, plain-Python baseline "
        f"{year['baseline_rate']:,.0f} entries/s"
    )
    print(
        f"RSS after the first month {year['first_month_mib']:.1f} MiB, at the end "
        f"{year['end_mib']:.1f} MiB; at most {year['most_facts']:,} facts in one session; "
        f"{year['sessions']} rulesets of one session each"
    )
    for pattern in sorted(set(year["found"]) | set(year["expected"])):
        print(
            f"  {pattern}: {year['found'].get(pattern, 0):,} matches "
            f"(baseline {year['expected'].get(pattern, 0):,})"
        )
    store = run_store(args.store_cases)
    print(
        f"pattern step on SQLite: {store['entries']:,} entries in one tick, "
        f"{store['rate']:,.0f} entries/s, {store['matched']:,} matches committed"
    )
    ok = year["found"] == year["expected"] and store["matched"] == store["recorded"]
    if not ok:
        print("FAIL: durable-rules and the baseline disagree", file=sys.stderr)
    if year["end_mib"] > FLAT * year["first_month_mib"]:
        print("FAIL: RSS grew more than 10% after the first month", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
