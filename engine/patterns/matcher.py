"""Matching an estate's log entries against its patterns, entry by entry, in log order.

The matcher turns each entry a pattern counts into a fact of the estate's durable-rules
ruleset (:mod:`engine.patterns.rete`) and keeps the bookkeeping the rules engine does not:

- **Windows.** A fact carries its place in the log (``seq``), its moment (``at``) and the
  end of the window it opens (``until``: ``at`` plus the window, on the wall clock or in
  working time on the pattern's calendar), so a rule only compares numbers. Facts are kept
  in arrival order and retracted as soon as an entry comes after their window's end: what
  the rules engine holds is bounded by the windows, not by the log.
- **Using up.** The entries of a match are retracted: a unit's fourth leak within the month
  is not a second recurring defect, its sixth is.
- **Open cases.** A ``with_open`` pattern's open cases are facts asserted when a case of
  that process is written and retracted when it reaches a final state; the counted entry
  is retracted right after it has been matched against them.

Nothing here writes: :meth:`PatternMatcher.feed` returns the matches an entry completed,
and the caller commits their actions with the cursor.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.conditions import EvalContext, evaluate
from engine.model.patterns import PatternDef
from engine.patterns.rete import Fact, Rete, count_rule, field_key, open_rule
from engine.store.patterns import PatternEntry
from engine.time import WorkingCalendar

#: Types a case's data for conditions: (process, data) → typed data.
Typing = Callable[[str, Mapping[str, Any]], Mapping[str, object]]

_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class PatternHit:
    """One match: the pattern, the log entries it used (the last completed it) and, for a
    ``with_open`` pattern, the open cases it correlated with."""

    pattern: PatternDef
    entries: tuple[PatternEntry, ...]
    open_cases: tuple[str, ...] = ()

    @property
    def last(self) -> PatternEntry:
        return self.entries[-1]

    @property
    def cases(self) -> list[str]:
        """Every case the match names: the entries' cases, then the open ones, once each."""
        return list(dict.fromkeys([*(e.case_id for e in self.entries), *self.open_cases]))


def lookback(pattern: PatternDef) -> timedelta:
    """How far back in wall-clock time a window of ``pattern`` may reach: its length, or for
    working time a bound that holds on any calendar with at least two working days a week
    and public holidays no longer than a fortnight."""
    window = pattern.window
    if window is None:
        return timedelta(0)
    if not window.working:
        return window.as_timedelta()
    days = window.amount if window.unit == "workdays" else -(-window.amount // 4)
    return timedelta(days=days * 7 // 2 + 15)


@dataclass
class _Window:
    """The live facts of one counting pattern, oldest first, and the entries they stand for."""

    facts: deque[Fact] = field(default_factory=deque)
    #: The facts not yet used up by a match, by ``seq``, with their entries.
    entries: dict[int, tuple[Fact, PatternEntry]] = field(default_factory=dict)


class PatternMatcher:
    """The patterns of one estate over its log, in one ruleset and session.

    ``final_states`` are each process's final states (a ``with_open`` case leaves the open
    set there); ``typed`` types a case's data for the ``if`` conditions; calendars measure
    working-time windows (a pattern without ``calendar`` uses ``fallback``).
    """

    def __init__(
        self,
        label: str,
        patterns: Sequence[PatternDef],
        final_states: Mapping[str, frozenset[str]],
        typed: Typing,
        calendars: Mapping[str, WorkingCalendar],
        fallback: WorkingCalendar,
    ) -> None:
        self.patterns = {p.id: p for p in patterns}
        self.final_states = final_states
        self.typed = typed
        self.calendars = {
            p.id: calendars.get(p.calendar or "", fallback) for p in patterns if p.window
        }
        rules = {
            p.id: open_rule(p.id, list(p.with_open.same.values()))
            if p.with_open is not None
            else count_rule(p.id, p.same, p.count)
            for p in patterns
        }
        self.rete = Rete(label, rules)
        self.windows = {p.id: _Window() for p in patterns if p.with_open is None and p.count > 1}
        self.open: dict[tuple[str, str], Fact] = {}

    @property
    def processes(self) -> set[str]:
        """The processes whose entries some pattern reads."""
        found = {p.match.process for p in self.patterns.values()}
        found |= {p.with_open.process for p in self.patterns.values() if p.with_open}
        return found

    def live_facts(self) -> int:
        """The facts in the rules engine now (bounded by the windows and the open cases)."""
        return self.rete.live

    def close(self) -> None:
        """Retract every fact still held: the windows and the open cases."""
        for window in self.windows.values():
            for fact, _ in window.entries.values():
                self.rete.retract(fact)
            window.entries.clear()
            window.facts.clear()
        for fact in self.open.values():
            self.rete.retract(fact)
        self.open.clear()

    # -- feeding -------------------------------------------------------------------------------

    def feed(self, entry: PatternEntry) -> list[PatternHit]:
        """Match one entry, the next in log order; the matches it completed."""
        return self._feed(entry, replay=False)

    def rebuild(
        self,
        open_entries: Iterable[PatternEntry],
        window_entries: Iterable[PatternEntry],
        consumed: Mapping[str, set[int]],
    ) -> None:
        """Refill the windows as they stood at the cursor after a restart: the open cases'
        latest entries, then the entries inside the windows except those matches used up."""
        for entry in open_entries:
            self._track_open(entry)
        for entry in window_entries:
            self._feed(entry, replay=True, consumed=consumed)

    def _feed(
        self,
        entry: PatternEntry,
        *,
        replay: bool,
        consumed: Mapping[str, set[int]] | None = None,
    ) -> list[PatternHit]:
        moment = entry.at.timestamp()
        for window in self.windows.values():
            self._expire(window, moment)
        if not replay:
            self._track_open(entry)
        hits: list[PatternHit] = []
        for pattern in self.patterns.values():
            if not self._counts(pattern, entry):
                continue
            if replay and (pattern.with_open is not None or pattern.count == 1):
                continue
            if consumed is not None and entry.seq in consumed.get(pattern.id, set()):
                continue
            same = pattern.with_open.same if pattern.with_open else _alike(pattern.same)
            values = self._values(same, entry)
            if values is None:
                continue
            fact: Fact = {"p": pattern.id, "k": "event", "seq": entry.seq, "at": moment}
            fact["until"] = self._until(pattern, entry.at)
            fact.update(values)
            found = self.rete.assert_fact(fact)
            if pattern.with_open is not None or pattern.count == 1:
                # An instant: matched against what is there now, then gone.
                self.rete.retract(fact)
                others = [f["case"] for _, facts in found for f in facts[1:]]
                others = [case for case in others if case != entry.case_id]
                if found and (pattern.with_open is None or others):
                    hits.append(PatternHit(pattern, (entry,), tuple(dict.fromkeys(others))))
                continue
            window = self.windows[pattern.id]
            window.facts.append(fact)
            window.entries[entry.seq] = (fact, entry)
            hit = self._use_up(pattern, window, found)
            if hit is not None and not replay:
                hits.append(hit)
        return hits

    # -- the parts -----------------------------------------------------------------------------

    def _counts(self, pattern: PatternDef, entry: PatternEntry) -> bool:
        match = pattern.match
        if entry.process != match.process:
            return False
        if entry.event not in match.event and entry.to_state not in match.enter:
            return False
        if match.guard is None:
            return True
        context = EvalContext(data=self.typed(entry.process, entry.data), state=entry.to_state)
        return evaluate(match.guard, context)

    @staticmethod
    def _values(same: Mapping[str, str], entry: PatternEntry) -> dict[str, Any] | None:
        """The correlating fields of an entry's case (``same``: its field → the fact's
        key) as fact keys, with ``case``; ``None`` when one is missing or not a plain value
        (such an entry correlates with nothing)."""
        values: dict[str, Any] = {"case": entry.case_id}
        for name, key in same.items():
            value = entry.data.get(name)
            if value is None or not isinstance(value, _SCALARS):
                return None
            values[field_key(key)] = value
        return values

    def _until(self, pattern: PatternDef, at: datetime) -> float:
        window = pattern.window
        if window is None:
            return at.timestamp()
        if not window.working:
            return (at + window.as_timedelta()).timestamp()
        return self.calendars[pattern.id].add(at, window).at.timestamp()

    def _expire(self, window: _Window, moment: float) -> None:
        while window.facts and window.facts[0]["until"] < moment:
            fact = window.facts.popleft()
            if window.entries.pop(fact["seq"], None) is not None:
                self.rete.retract(fact)

    def _use_up(
        self, pattern: PatternDef, window: _Window, found: list[tuple[str, list[Fact]]]
    ) -> PatternHit | None:
        """Retract the facts of the first match the new fact completed; that match."""
        for _, facts in found:
            seqs = [fact["seq"] for fact in facts]
            if not all(seq in window.entries for seq in seqs):
                continue
            used = [window.entries.pop(seq) for seq in seqs]
            for fact, _ in used:
                self.rete.retract(fact)
            return PatternHit(pattern, tuple(entry for _, entry in used))
        return None

    def _track_open(self, entry: PatternEntry) -> None:
        """Keep the open-case facts of the ``with_open`` patterns watching this entry's
        process up to date with the case."""
        for pattern in self.patterns.values():
            watched = pattern.with_open
            if watched is None or watched.process != entry.process:
                continue
            key = (pattern.id, entry.case_id)
            known = self.open.pop(key, None)
            if known is not None:
                self.rete.retract(known)
            if entry.to_state in self.final_states.get(entry.process, frozenset()):
                continue
            values = self._values(_alike(watched.same.values()), entry)
            if values is None:
                continue
            fact: Fact = {"p": pattern.id, "k": "open", "seq": entry.seq, **values}
            self.open[key] = fact
            self.rete.assert_fact(fact)


def _alike(names: Iterable[str]) -> dict[str, str]:
    """Each field under its own name (correlating fields named alike on both sides)."""
    return {name: name for name in names}
