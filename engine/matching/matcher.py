"""RuleMatcher: one durable-rules ruleset per process definition, used statelessly."""

from __future__ import annotations

import importlib
import itertools
import logging
import threading
import uuid
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timezone
from types import MappingProxyType
from typing import Any

from engine.conditions import Condition, EvalContext, evaluate
from engine.conditions.evaluator import resolve_name

from .compiler import Compiled, NameTable, PairGuard, Unsupported, compile_condition
from .formula import MAX_SEQUENCE_ENTRIES, Form, Lowered, disj, lower, split_or
from .values import ORDERED_KINDS, dumps, encode

_engine: Any = importlib.import_module("durable_rules_engine")
"""durable-rules' C extension (what durable.engine.Ruleset wraps)."""

_log = logging.getLogger(__name__)

ENGINE_LOCK = threading.Lock()
"""Serialises every call into durable-rules. Its C engine keeps all rulesets in one
process-wide handle table and a ruleset's sessions in one pool, without locks, and one
evaluation is a sequence of calls (assert, run actions, delete the session) that must not
interleave with another thread's on the same ruleset."""

_pending_deletions: list[int] = []
"""Rulesets of garbage-collected matchers, deleted by the next holder of ENGINE_LOCK (the
collector may run while this very thread holds the lock)."""

MAX_FACT_PROPERTIES = 240
"""durable-rules refuses a fact of more than about 250 properties (error 302); sid, id and the
marker take three, each name two to five (see NameTable.fact_size)."""

MAX_RECENT_FACTS = 1_024
"""How many facts' results a matcher keeps (see RuleMatcher._fired); then it starts afresh,
so memory stays bounded however many distinct facts a process sees."""

_CATCH_ALL = "all"
_MARKER = "pf"
_DATE_KINDS = frozenset("dut")


@dataclass(frozen=True)
class _Name:
    number: int
    path: tuple[str, ...]
    ordered: bool  # its text must be plain
    keyed: bool  # write k
    typed: bool  # write y and o
    props: Mapping[str, str]  # suffix → property name in the fact
    rules: frozenset[str]  # rule ids that read it


@dataclass(frozen=True)
class _Guard:
    pair: PairGuard
    rules: frozenset[str]


class RuleMatcher:
    """Which time limits of one process apply to a case, matched by durable-rules.

    `conditions` maps each time-limit id to its parsed `if:` condition (None: always applies).
    The matcher compiles them into ONE durable-rules ruleset, one rule per condition (a
    condition too big for one rule becomes several, whose results are or-ed); see
    engine.matching for how and for the few constructs answered by the evaluator instead.

    `matching(...)` equals, for any case data, ::

        {rid for rid, c in conditions.items()
         if c is None or evaluate(c, EvalContext(data=facts, actor_id=..., ...))}

    Each call posts one fact in a fresh durable-rules session and deletes the session before
    returning, so nothing accumulates (durable-rules holds at most 1,024 live sessions per
    ruleset and fails, then crashes, beyond). Thread-safe: calls into durable-rules are
    serialised by ENGINE_LOCK.

    The ruleset lives in durable-rules' process-wide handle table under a unique name until
    `close()` (or garbage collection) deletes it; use the matcher as a context manager when
    building many. It is never registered with durable.lang's global host, whose registry
    cannot forget a ruleset and whose timer threads would poll it forever.
    """

    def __init__(self, conditions: Mapping[str, Condition | None]) -> None:
        self._conditions: dict[str, Condition | None] = dict(conditions)
        self.ruleset_name = f"propflow-{uuid.uuid4().hex}"
        self._always: set[str] = set()
        self._fallback_reasons: dict[str, str] = {}
        names = NameTable()
        compiled: dict[str, Compiled] = {}
        for rid, cond in self._conditions.items():
            if cond is None:
                self._always.add(rid)
                continue
            scratch = names.copy()
            try:
                result = compile_condition(cond, scratch)
            except (Unsupported, RecursionError) as exc:
                self._fallback_reasons[rid] = str(exc) or type(exc).__name__
                continue
            if scratch.fact_size() + 3 > MAX_FACT_PROPERTIES:
                self._fallback_reasons[rid] = (
                    "the process's conditions read more names than one durable-rules fact holds"
                )
                continue
            names = scratch
            if result.form is True:
                self._always.add(rid)
            elif result.form is not False:
                compiled[rid] = result

        # One durable rule per condition, or several when it is too big for one.
        prop = _prop_name
        rules: dict[str, tuple[str, Lowered]] = {}  # durable rule name → (rid, expression)
        for number, (rid, result) in enumerate(compiled.items()):
            groups = _rule_groups(result.form)
            if groups is None:
                self._fallback_reasons[rid] = (
                    "too many and/or operations for one durable-rules rule"
                )
                continue
            for part, lowered in enumerate(groups):
                rules[f"r{number}" if len(groups) == 1 else f"r{number}_{part}"] = (rid, lowered)
        self._handle: int | None = None
        self._finalizer: weakref.finalize[[int], RuleMatcher] | None = None
        rejected: set[str] = set()
        if rules:
            self._handle, rejected = _create_ruleset(self.ruleset_name, rules)
            self._finalizer = weakref.finalize(self, _release_ruleset, self._handle)
        self._closed = False
        for rid in rejected:
            self._fallback_reasons[rid] = "durable-rules refused the rule"
        self._rule_of = {name: rid for name, (rid, _) in rules.items()}
        self._definition = {
            name: {"all": [{"m": lowered.definition}]}
            for name, (rid, lowered) in rules.items()
            if rid not in self._fallback_reasons
        }
        self._matched = {rid for rid in compiled if rid not in self._fallback_reasons}

        readers: dict[int, set[str]] = {}
        guards: list[_Guard] = []
        for rid in self._matched:
            for number in compiled[rid].names:
                readers.setdefault(number, set()).add(rid)
            guards.extend(_Guard(g, frozenset({rid})) for g in compiled[rid].guards)
        self._names = tuple(
            _Name(
                number=number,
                path=names.paths[number],
                ordered=number in names.ordered,
                keyed=number in names.keyed,
                typed=number in names.typed,
                props={suffix: prop(number, suffix) for suffix in "zbnsduwtqlemkyo"},
                rules=frozenset(readers[number]),
            )
            for number in sorted(readers)
        )
        self._guards = tuple(guards)
        self._guarded = frozenset(n for g in guards for n in (g.pair.left, g.pair.right))
        self._sessions = itertools.count(1)
        #: durable rule names fired per recent fact (its properties in order, as a tuple).
        self._recent: dict[tuple[object, ...], frozenset[str]] = {}

    # Introspection -------------------------------------------------------------------

    @property
    def matched_ids(self) -> frozenset[str]:
        """Time-limit ids whose conditions durable-rules matches."""
        return frozenset(self._matched)

    @property
    def fallback_reasons(self) -> Mapping[str, str]:
        """Time-limit ids answered by the evaluator instead, with the reason."""
        return MappingProxyType(self._fallback_reasons)

    @property
    def definition(self) -> Mapping[str, Any]:
        """The durable-rules ruleset definition (JSON-like), for reading and debugging."""
        return MappingProxyType(self._definition)

    # Matching ------------------------------------------------------------------------

    def matching(
        self,
        facts: Mapping[str, object],
        *,
        actor_id: str | None = None,
        actor_role: str | None = None,
        actor_roles: frozenset[str] = frozenset(),
        payload: Mapping[str, object] | None = None,
        state: str | None = None,
    ) -> frozenset[str]:
        """The ids of the time limits whose conditions hold for this case data (`facts`),
        actor, event payload and state: the same as engine.conditions.evaluate gives."""
        return self.matching_context(
            EvalContext(
                data=facts,
                actor_id=actor_id,
                actor_role=actor_role,
                actor_roles=actor_roles,
                payload=payload if payload is not None else {},
                state=state,
            )
        )

    def matching_context(self, ctx: EvalContext) -> frozenset[str]:
        """matching() for a ready EvalContext."""
        if self._closed:
            raise RuntimeError(f"rule matcher {self.ruleset_name} is closed")
        result = set(self._always)
        evaluate_here = set(self._fallback_reasons)
        if self._matched:
            fact: dict[str, object] = {}
            kinds: dict[int, tuple[str, object]] = {}
            for name in self._names:
                value = resolve_name(name.path, ctx)
                encoded = encode(value, name.ordered)
                if encoded is None:
                    evaluate_here |= name.rules
                    continue
                kind, props = encoded
                if name.number in self._guarded:
                    kinds[name.number] = (kind, value)
                for suffix, prop_value in props:
                    # Item arrays as tuples (the same JSON), so the fact can key _recent.
                    fact[name.props[suffix]] = (
                        tuple(prop_value) if isinstance(prop_value, list) else prop_value
                    )
                if name.keyed:
                    primary = props[0][1]
                    # str + str keeps a str subclass's own text (f-strings may not).
                    fact[name.props["k"]] = (
                        kind + ":" + (primary if isinstance(primary, str) else str(primary))
                    )
                if name.typed:
                    fact[name.props["y"]] = kind
                    if kind in ORDERED_KINDS:
                        fact[name.props["o"]] = props[0][1]
            for guard in self._guards:
                if _needs_evaluator(guard.pair, kinds):
                    evaluate_here |= guard.rules
            if not self._matched <= evaluate_here:
                fired = self._fired(fact)
                if fired is None:
                    evaluate_here |= self._matched
                else:
                    for rule in fired:
                        rid = self._rule_of[rule]
                        if rid not in evaluate_here:
                            result.add(rid)
        for rid in evaluate_here:
            cond = self._conditions[rid]
            assert cond is not None
            if evaluate(cond, ctx):
                result.add(rid)
        return frozenset(result)

    def _fired(self, fact: dict[str, object]) -> frozenset[str] | None:
        """The durable rule names that fire for ``fact`` (None: refused, see _post).

        Each fact is matched in a fresh session, so equal facts always fire the same rules:
        a fact seen recently is answered from ``_recent`` without durable-rules. The
        properties hold ints, texts and tuples of texts only, so equal keys mean the same
        JSON. Conditions mostly read a few fields with few values (urgency, category, flags),
        so most events of a process post a fact already seen.
        """
        key = tuple(itertools.chain.from_iterable(fact.items()))
        fired = self._recent.get(key)
        if fired is None:
            posted = self._post(fact)
            if posted is None:
                return None
            if len(self._recent) >= MAX_RECENT_FACTS:
                self._recent.clear()
            fired = self._recent[key] = frozenset(posted)
        return fired

    def _post(self, fact: dict[str, object]) -> set[str] | None:
        """Assert the fact in a fresh session, collect the rules that fire, delete the
        session. Returns durable rule names, or None when durable-rules refused the fact (the
        evaluator answers instead)."""
        sid = str(next(self._sessions))
        fact["sid"] = sid
        fact["id"] = "1"
        fact[_MARKER] = 1
        text = dumps(fact)
        fired: set[str] = set()
        with ENGINE_LOCK:  # (what _engine_locked does, without a generator per event)
            if _pending_deletions:
                _delete_pending()
            if self._closed:
                raise RuntimeError(f"rule matcher {self.ruleset_name} is closed")
            handle = self._handle
            assert handle is not None
            try:
                state = _engine.assert_fact(handle, text)[1]
            except _engine.error as exc:
                # The session may exist half-made; make it whole (see _run_actions) before
                # deleting it.
                _log.warning("durable-rules refused a fact of %s: %s", self.ruleset_name, exc)
                _repair_session(handle, sid)
                return None
            ran_catch_all = _run_actions(handle, state, fired)
            if not ran_catch_all:  # never: the catch-all rule matches every fact
                raise RuntimeError(
                    f"durable-rules did not run the catch-all rule of {self.ruleset_name}"
                )
            _engine.delete_state(handle, sid)
        fired.discard(_CATCH_ALL)
        return fired

    # Lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Delete the ruleset from durable-rules (idempotent)."""
        with _engine_locked():
            self._closed = True
            if self._finalizer is not None and self._finalizer.detach() is not None:
                _engine.delete_ruleset(self._handle)

    def __enter__(self) -> RuleMatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _prop_name(number: int, suffix: str) -> str:
    return f"v{number}{suffix}"


def _rule_groups(form: Form) -> list[Lowered] | None:
    """The durable expressions of a formula: one if it fits a rule, else its top-level or
    split into as few rules as fit; None when a part alone is too big."""
    whole = lower(form, _prop_name)
    if whole.entries <= MAX_SEQUENCE_ENTRIES:
        return [whole]
    groups: list[Lowered] = []
    current: list[Form] = []
    current_lowered: Lowered | None = None
    for part in split_or(form):
        trial = lower(disj([*current, part]), _prop_name)
        if trial.entries <= MAX_SEQUENCE_ENTRIES:
            current.append(part)
            current_lowered = trial
            continue
        alone = lower(part, _prop_name)
        if alone.entries > MAX_SEQUENCE_ENTRIES:
            return None
        if current_lowered is not None:
            groups.append(current_lowered)
        current, current_lowered = [part], alone
    if current_lowered is not None:
        groups.append(current_lowered)
    return groups


def _definition_json(rules: Mapping[str, tuple[str, Lowered]]) -> str:
    definition: dict[str, Any] = {
        name: {"all": [{"m": lowered.definition}]} for name, (_, lowered) in rules.items()
    }
    definition[_CATCH_ALL] = {"all": [{"m": {_MARKER: 1}}]}
    return dumps(definition)


@contextmanager
def _engine_locked() -> Iterator[None]:
    """Hold ENGINE_LOCK, first deleting the rulesets of collected matchers."""
    with ENGINE_LOCK:
        _delete_pending()
        yield


def _delete_pending() -> None:
    """Delete the rulesets of collected matchers (ENGINE_LOCK held)."""
    while _pending_deletions:
        _engine.delete_ruleset(_pending_deletions.pop())


def _release_ruleset(handle: int) -> None:
    """The finalizer of a collected matcher: delete its ruleset now if no one is in
    durable-rules, else leave it to the next caller (never wait: the collector may be running
    inside this thread's own locked section)."""
    if ENGINE_LOCK.acquire(blocking=False):
        try:
            _engine.delete_ruleset(handle)
        finally:
            ENGINE_LOCK.release()
    else:
        _pending_deletions.append(handle)


def _create_ruleset(name: str, rules: Mapping[str, tuple[str, Lowered]]) -> tuple[int, set[str]]:
    """Create the ruleset; if durable-rules refuses it, find the rules it refuses (adding them
    one at a time) and leave them out. Returns the handle and the refused rule ids."""
    with _engine_locked():
        try:
            return _engine.create_ruleset(name, _definition_json(rules)), set()
        except _engine.error:
            pass
        accepted: dict[str, tuple[str, Lowered]] = {}
        refused: set[str] = set()
        for rule, (rid, lowered) in rules.items():
            if rid in refused:
                continue
            trial = {**accepted, rule: (rid, lowered)}
            try:
                handle = _engine.create_ruleset(name, _definition_json(trial))
            except _engine.error:
                refused.add(rid)
                continue
            _engine.delete_ruleset(handle)
            accepted = trial
        kept = {rule: value for rule, value in accepted.items() if value[0] not in refused}
        return _engine.create_ruleset(name, _definition_json(kept)), refused


def _run_actions(handle: int, state: int, fired: set[str]) -> bool:
    """Run every action durable-rules has queued for the session; True when at least one
    ran. A session must have run an action before it is deleted: durable-rules 2.0.28 leaves
    a new session's action context uninitialised and delete_state frees it, which corrupts
    the heap (seen as "double free or corruption" or a segfault) unless an action set it."""
    started = _engine.start_action_for_state(handle, state)
    message = started[1] if started else None
    ran = False
    while message:
        ran = True
        fired.add(message[2 : message.index('"', 2)])  # '{"<rule>":{...}}'
        message = _engine.complete_and_start_action(handle, state)
    return ran


def _repair_session(handle: int, sid: str) -> None:
    """After a failed assert: run the catch-all rule in the session, then delete it."""
    try:
        state = _engine.assert_fact(handle, dumps({"sid": sid, "id": "2", _MARKER: 1}))[1]
        if _run_actions(handle, state, set()):
            _engine.delete_state(handle, sid)
    except _engine.error:
        pass  # the session is lost; one of 1,024


def _needs_evaluator(pair: PairGuard, kinds: Mapping[int, tuple[str, object]]) -> bool:
    left = kinds.get(pair.left)
    right = kinds.get(pair.right)
    if left is None or right is None:  # opaque: already answered by the evaluator
        return False
    left_kind, right_kind = left[0], right[0]
    if (left_kind in _DATE_KINDS and right_kind == "s") or (
        left_kind == "s" and right_kind in _DATE_KINDS
    ):
        return True  # the evaluator reads the text as a date at run time
    if pair.equality and {left_kind, right_kind} == {"q", "e"}:
        return True  # a list equals a set by set semantics
    if left_kind == right_kind == "u":
        zone = getattr(left[1], "tzinfo", None)
        # One zone object on both sides: Python compares wall clocks, not instants.
        return zone is getattr(right[1], "tzinfo", None) and not isinstance(zone, timezone)
    return False
