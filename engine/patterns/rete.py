"""durable-rules as the pattern matcher: one ruleset per estate and pattern set, one session.

durable-rules keeps at most 1,024 sessions per ruleset (its state index) and facts live in
its C engine until retracted, so the engine here never opens a session per case: all the
patterns of one estate are rules of one ruleset, matched in its one session, and every fact
is retracted when its window closes or a match uses it up (see :mod:`engine.patterns.matcher`).
Rules only record their matches; what a match does is committed later, in the store.

One durable-rules host serves the process (each host runs two dispatch threads); rulesets
get a unique name. durable-rules cannot unregister a ruleset, and deleting a session's
state crashed it (a segmentation fault in ``delete_state`` after facts were retracted), so
a matcher that is done retracts its facts instead and leaves its empty ruleset behind.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from typing import Any

#: The one session of every ruleset.
SESSION = "0"

_host: Any = None
#: durable-rules' C engine is not safe to call from two threads at once (two workers of one
#: process crash it): every call into it holds this lock.
_engine_lock = threading.RLock()
_names = itertools.count(1)

Fact = dict[str, Any]


def _shared_host() -> Any:
    """The process's durable-rules host, made on first use (importing durable-rules loads
    its C engine, which a command that runs no patterns need not pay for)."""
    global _host
    with _engine_lock:
        if _host is None:
            from durable import engine as durable_engine

            _host = durable_engine.Host()
        return _host


def field_key(name: str) -> str:
    """A case field's key in a fact (prefixed, so no field can clash with the fact's own
    keys ``p``, ``seq``, ``at``, ``until``, ``sid``)."""
    return f"f_{name}"


def count_rule(pattern: str, same: Sequence[str], count: int) -> list[dict[str, Any]]:
    """The ``all`` of a rule matching ``count`` facts of ``pattern``, in log order, equal on
    ``same``, the last no later than the first one's window end."""
    steps: list[dict[str, Any]] = []
    for index in range(count):
        name = f"e{index}"
        terms: list[dict[str, Any]] = [{"p": pattern}, {"k": "event"}]
        if index > 0:
            terms += [{field_key(f): {"e0": field_key(f)}} for f in same]
            terms.append({"$gt": {"seq": {f"e{index - 1}": "seq"}}})
        if index == count - 1 and count > 1:
            terms.append({"$lte": {"at": {"e0": "until"}}})
        steps.append({name: {"$and": terms} if len(terms) > 1 else terms[0]})
    return steps


def open_rule(pattern: str, same: Sequence[str]) -> list[dict[str, Any]]:
    """The ``all`` of a rule matching a fact of ``pattern`` with an open case equal on
    ``same`` (the open case's field names; the counted fact carries its values under them)."""
    terms: list[dict[str, Any]] = [{"p": pattern}, {"k": "open"}]
    terms += [{field_key(f): {"e0": field_key(f)}} for f in same]
    return [{"e0": {"$and": [{"p": pattern}, {"k": "event"}]}}, {"open": {"$and": terms}}]


class Rete:
    """One ruleset and its session: facts in, the matches they complete out.

    ``rules`` maps each pattern id to the ``all`` of its rule (:func:`count_rule`,
    :func:`open_rule`). :meth:`assert_fact` returns, per pattern, the facts of each match
    the new fact completed, in the order of the rule's steps.
    """

    def __init__(self, label: str, rules: Mapping[str, list[dict[str, Any]]]) -> None:
        self.name = f"propflow-{label}-{next(_names)}"
        self._found: list[tuple[str, list[Fact]]] = []
        definition = {
            f"r_{index}": {"all": steps, "run": self._recorder(pattern, steps)}
            for index, (pattern, steps) in enumerate(rules.items())
        }
        self._host = _shared_host()
        self.live = 0
        if definition:
            with _engine_lock:
                self._host.set_rulesets({self.name: definition})
        self._empty = not definition

    def _recorder(self, pattern: str, steps: Sequence[Mapping[str, Any]]) -> Any:
        names = [next(iter(step)) for step in steps]

        def record(closure: Any) -> None:
            self._found.append((pattern, [dict(getattr(closure, name).items()) for name in names]))

        return record

    def assert_fact(self, fact: Fact) -> list[tuple[str, list[Fact]]]:
        """Add a fact; the matches it completed."""
        if self._empty:
            return []
        with _engine_lock:
            self._found = []
            self._host.assert_fact(self.name, {**fact, "sid": SESSION})
            self.live += 1
            return self._found

    def retract(self, fact: Fact) -> None:
        """Remove a fact (its window closed, or a match used it up)."""
        if self._empty:
            return
        with _engine_lock:
            self._host.retract_fact(self.name, {**fact, "sid": SESSION})
        self.live -= 1
