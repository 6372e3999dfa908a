"""Matching time-limit conditions against case events with durable-rules, statelessly.

    with RuleMatcher({"repair-urgent": parse_condition("urgency == 'urgent'"),
                      "repair-general": parse_condition("urgency != 'urgent'"),
                      "always": None}) as matcher:
        matcher.matching({"urgency": "urgent"})       # frozenset({'repair-urgent', 'always'})
        matcher.matching({}, actor_role="head", state="reported")

One RuleMatcher per process definition compiles the `if:` conditions of its time limits into
ONE durable-rules ruleset (one rule per condition) and answers each case event by asserting
ONE fact in a fresh session, collecting the rules that fire and deleting the session. The
result always equals engine.conditions.evaluate's; tests/test_rules_engine.py proves it with
a property test over random conditions and data. A fresh session makes the answer a function
of the fact alone, so the rules fired by the last 1,024 distinct facts are kept and a fact
seen again is not posted (conditions read a few fields of few values: urgency, category,
flags), which takes most of durable-rules' time out of an event.

Why stateless: durable-rules 2.0.28 keeps at most 1,024 live sessions per ruleset (the 1,025th
raises MemoryError and the next call segfaulted) and fills up near 100,000 asserted facts, so
PropFlow keeps all state in its own store and durable-rules only matches.

How a condition becomes a durable-rules rule (engine.matching.compiler, .formula, .values):

- every name the conditions read (`urgency`, `actor.role`, `actor.roles`, `payload.fee`,
  `state`) is resolved exactly as the evaluator does and written to the fact under
  kind-specific properties (`v0s` text, `v0n` number × 10⁶ as an exact integer, `v0d` day
  number, `v0u`/`v0w`/`v0t` epoch microseconds, `v0z` null, lists as canonical texts and item
  arrays), because durable-rules' own comparisons are loose (`'1' == 1`, `true == 1`) and a
  missing property fails even `!=`;
- comparisons (==, !=, <, <=, >, >=) with a literal become property tests, `in [a, b]` an or
  of equalities, `not in` its exact complement, `'x' in actor.roles` durable-rules' anyItem,
  and/or become `$and`/`$or`, `not` is pushed down with De Morgan and flipped comparisons;
- null and missing fields, booleans (true is not 1), integers and Decimal money (5 == 5.00),
  text, dates and datetimes (also against ISO text, with or without an offset), lists and
  role sets, a name on its own (truthiness), comparisons between two names, and literals
  without names (folded with the evaluator) all compile.

What falls back to engine.conditions.evaluate, because durable-rules cannot express it
faithfully (matcher.fallback_reasons lists the rules concerned):

- per rule, always: `x in y` where both are names (durable-rules cannot compare a list's items
  with another property); ordering text that contains a quote, a backslash or a control
  character (durable-rules compares raw JSON escapes); `all(...)`/`any(...)` over child cases
  (one fact does not hold them) and any node type the compiler does not know; a condition
  needing more than durable-rules' ~15 and/or operations in one rule that cannot be split at
  a top-level `or`; names beyond what one fact holds (about 250 properties, two to five per
  name); a rule durable-rules refuses when the ruleset is created;
- per event, for the rules reading the value: values durable-rules cannot hold exactly
  (numbers beyond ±4.6 × 10¹² or with more than six decimals, NaN, text over 32,000 bytes,
  text with quotes/backslashes/control characters where it is ordered, collections of other
  than text/numbers/booleans/null, datetimes whose offset depends on `fold`, any other type)
  and comparisons of two names that need the evaluator's run-time steps (text read as a date,
  a list against a set, two datetimes sharing one zone with daylight saving); and every rule
  when durable-rules refuses the fact (logged as a warning).

Global state: durable-rules' C engine keeps every ruleset in one process-wide handle table
(131,072 slots) until deleted, so each matcher has a unique ruleset name (a uuid) and holds
one slot until `close()` or garbage collection; durable.lang's module-level ruleset registry
and host are never used (they cannot forget a ruleset and poll every ruleset from timer
threads). All calls into durable-rules go through one lock (ENGINE_LOCK): the C engine has no
locking of its own, so matchers are safe to share between threads, and matching is serial.

Two durable-rules 2.0.28 bugs are worked around. It corrupts the heap when a session that never
ran an action is deleted (its action context is left uninitialised): every ruleset therefore
has a catch-all rule that fires on each fact, so an action always runs before the session is
deleted. And a comparison of two properties whose right-hand one is missing can match once
another rule matched the fact: such comparisons test that property's existence first, and
names compared with names get properties that always exist (see engine.matching.values).
"""

from .matcher import ENGINE_LOCK, RuleMatcher

__all__ = ["ENGINE_LOCK", "RuleMatcher"]
