"""engine.matching: time-limit conditions matched by durable-rules, statelessly.

The matcher must answer exactly what engine.conditions.evaluate answers, for any condition and
any case data; it must not accumulate durable-rules sessions (1,024 live ones crash the
process) nor memory over 100,000 case evaluations.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.conditions import (
    BoolOp,
    Compare,
    Condition,
    EvalContext,
    Expr,
    ListLiteral,
    Literal,
    Name,
    Not,
    evaluate,
    parse_condition,
    to_text,
)
from engine.matching import RuleMatcher

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def expected(conditions: Mapping[str, Condition | None], ctx: EvalContext) -> frozenset[str]:
    return frozenset(rid for rid, c in conditions.items() if c is None or evaluate(c, ctx))


def context(
    data: Mapping[str, object] | None = None,
    *,
    role: str | None = None,
    roles: frozenset[str] = frozenset(),
    payload: Mapping[str, object] | None = None,
    state: str | None = None,
) -> EvalContext:
    return EvalContext(
        data=data or {},
        actor_id="u1",
        actor_role=role,
        actor_roles=roles,
        payload=payload or {},
        state=state,
    )


# Table-driven: one row per construct ----------------------------------------------------

MONEY = Decimal("100.50")
DUE = date(2026, 1, 31)
AT = datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI)

# (condition, contexts where it holds, contexts where it does not)
CASES: list[tuple[str, list[EvalContext], list[EvalContext]]] = [
    (
        "urgency == 'urgent'",
        [context({"urgency": "urgent"})],
        [context({"urgency": "general"}), context({}), context({"urgency": None})],
    ),
    (
        "urgency != 'urgent'",
        [context({"urgency": "general"}), context({}), context({"urgency": 1})],
        [context({"urgency": "urgent"})],
    ),
    (
        "count < 3",
        [context({"count": 2}), context({"count": -5})],
        [context({"count": 3}), context({})],
    ),
    ("count <= 3", [context({"count": 3})], [context({"count": 4}), context({"count": None})]),
    (
        "count > 3",
        [context({"count": 4}), context({"count": Decimal("3.01")})],
        [context({"count": 3})],
    ),
    ("count >= 3", [context({"count": 3}), context({"count": 3.0})], [context({"count": "3"})]),
    (
        "urgency in ['urgent', 'general']",
        [context({"urgency": "urgent"}), context({"urgency": "general"})],
        [context({"urgency": "other"}), context({}), context({"urgency": ["urgent"]})],
    ),
    (
        "urgency not in ['urgent', 'general']",
        [context({"urgency": "other"}), context({"urgency": 5})],
        [context({"urgency": "urgent"}), context({}), context({"urgency": None})],
    ),
    (
        "urgency == 'urgent' and count > 1",
        [context({"urgency": "urgent", "count": 2})],
        [context({"urgency": "urgent", "count": 1}), context({"count": 2})],
    ),
    (
        "urgency == 'urgent' or count > 1",
        [context({"urgency": "urgent"}), context({"count": 2})],
        [context({"urgency": "general", "count": 1}), context({})],
    ),
    (
        "not (urgency == 'urgent' or count > 1)",
        [context({"urgency": "general", "count": 1}), context({})],
        [context({"urgency": "urgent"}), context({"count": 2})],
    ),
    (
        "not count < 3",
        [context({"count": 3}), context({}), context({"count": "2"})],
        [context({"count": 2})],
    ),
    (
        "phone == null",
        [context({}), context({"phone": None})],
        [context({"phone": "138"}), context({"phone": ""}), context({"phone": False})],
    ),
    (
        "phone != null",
        [context({"phone": "138"}), context({"phone": 0})],
        [context({}), context({"phone": None})],
    ),
    (
        "missing_field == 'x'",  # a field the data never has reads as null
        [],
        [context({}), context({"other": "x"})],
    ),
    (
        "in_warranty == true",
        [context({"in_warranty": True})],
        [context({"in_warranty": False}), context({"in_warranty": 1}), context({})],
    ),
    (
        "in_warranty",
        [context({"in_warranty": True}), context({"in_warranty": "yes"})],
        [context({"in_warranty": False}), context({}), context({"in_warranty": ""})],
    ),
    (
        "not in_warranty",
        [context({"in_warranty": False}), context({}), context({"in_warranty": 0})],
        [context({"in_warranty": True})],
    ),
    (
        "count == 5",
        [context({"count": 5}), context({"count": Decimal("5.00")}), context({"count": 5.0})],
        [context({"count": True}), context({"count": "5"}), context({"count": 6})],
    ),
    (
        "fee > 100.50",
        [context({"fee": Decimal("100.51")}), context({"fee": 101})],
        [context({"fee": MONEY}), context({"fee": Decimal("100.499999")}), context({})],
    ),
    (
        "fee == 100.5",
        [context({"fee": MONEY}), context({"fee": Decimal("100.500000")})],
        [context({"fee": Decimal("100.51")}), context({"fee": "100.5"})],
    ),
    (
        "fee < 0.0000001",  # a literal finer than the encoding: compared exactly
        [context({"fee": 0}), context({"fee": Decimal("-0.000001")})],
        [context({"fee": Decimal("0.000001")})],
    ),
    (
        "due < '2026-02-01'",
        [context({"due": DUE}), context({"due": "2026-01-31"})],
        [context({"due": date(2026, 2, 1)}), context({"due": "2026-2-1"}), context({})],
    ),
    (
        "due == '2026-01-31'",
        [context({"due": DUE}), context({"due": "2026-01-31"})],
        [context({"due": date(2026, 2, 1)}), context({"due": datetime(2026, 1, 31, 9)})],
    ),
    (
        "at >= '2026-01-31T09:00'",  # no offset: read in the case value's timezone
        [context({"at": AT}), context({"at": datetime(2026, 1, 31, 9, 0)})],
        [context({"at": AT - timedelta(minutes=1)}), context({"at": DUE})],
    ),
    (
        "at == '2026-01-31T01:00:00+00:00'",  # with an offset: the same instant
        [context({"at": AT})],
        [context({"at": datetime(2026, 1, 31, 1, 0)}), context({"at": AT + timedelta(hours=1)})],
    ),
    (
        "actor.role == 'supervisor'",
        [context(role="supervisor")],
        [context(role="receptionist"), context()],
    ),
    (
        "'head' in actor.roles",
        [context(roles=frozenset({"head", "owner"}))],
        [context(roles=frozenset({"owner"})), context()],
    ),
    (
        "'head' not in actor.roles",
        [context(roles=frozenset({"owner"})), context()],
        [context(roles=frozenset({"head"}))],
    ),
    (
        "actor.roles == ['owner', 'head']",
        [context(roles=frozenset({"head", "owner"}))],
        [context(roles=frozenset({"head"}))],
    ),
    ("tags == ['a', 'b']", [context({"tags": ["a", "b"]})], [context({"tags": ["b", "a"]})]),
    ("'a' in tags", [context({"tags": ["a", 1]})], [context({"tags": []}), context({"tags": "a"})]),
    ("tags", [context({"tags": ["a"]})], [context({"tags": []}), context({})]),
    (
        "payload.fee > fee",
        [context({"fee": 1}, payload={"fee": 2}), context({"fee": "a"}, payload={"fee": "b"})],
        [context({"fee": 2}, payload={"fee": 2}), context({"fee": "1"}, payload={"fee": 2})],
    ),
    (
        "payload.fee != fee",
        [context({"fee": 1}, payload={"fee": 2}), context({"fee": 1}, payload={"fee": True})],
        [context({"fee": 2}, payload={"fee": Decimal("2.0")}), context({}, payload={})],
    ),
    (
        "state == 'reported' and payload.reason != null",
        [context(state="reported", payload={"reason": "x"})],
        [context(state="reported"), context(state="closed", payload={"reason": "x"})],
    ),
    (
        "(count > 1) == in_warranty",
        [context({"count": 2, "in_warranty": True}), context({"in_warranty": False})],
        [context({"count": 2}), context({})],
    ),
    ("urgency == '紧急'", [context({"urgency": "紧急"})], [context({"urgency": "紧"})]),
    ("1 < 2", [context()], []),
    ("1 > 2 or urgency == 'urgent'", [context({"urgency": "urgent"})], [context()]),
]


@pytest.mark.parametrize(("text", "holds", "fails"), CASES, ids=[c[0] for c in CASES])
def test_construct(text: str, holds: list[EvalContext], fails: list[EvalContext]) -> None:
    cond = parse_condition(text)
    with RuleMatcher({"limit": cond}) as matcher:
        assert dict(matcher.fallback_reasons) == {}
        constant = text in ("1 < 2",)
        assert matcher.matched_ids == (frozenset() if constant else frozenset({"limit"}))
        for ctx in holds:
            assert evaluate(cond, ctx), ctx  # the row itself is right
            assert matcher.matching_context(ctx) == {"limit"}, ctx
        for ctx in fails:
            assert not evaluate(cond, ctx), ctx
            assert matcher.matching_context(ctx) == frozenset(), ctx


def test_matching_keywords_and_always() -> None:
    conditions = {
        "urgent": parse_condition("urgency == 'urgent'"),
        "head": parse_condition("actor.role == 'head' and state == 'reported'"),
        "fee": parse_condition("payload.fee >= 50"),
        "always": None,
    }
    with RuleMatcher(conditions) as matcher:
        assert matcher.matching({"urgency": "urgent"}) == {"urgent", "always"}
        assert matcher.matching({}, actor_role="head", state="reported") == {"head", "always"}
        assert matcher.matching({}, payload={"fee": Decimal("50.00")}) == {"fee", "always"}
        assert matcher.matching({}) == {"always"}


def test_fallbacks_are_named_and_still_exact() -> None:
    conditions = {
        "names_in": parse_condition("actor.role in actor.roles"),
        "quoted_order": parse_condition("note < 'say \"hi\"'"),
        "plain": parse_condition("note < 'm'"),
    }
    with RuleMatcher(conditions) as matcher:
        assert set(matcher.fallback_reasons) == {"names_in", "quoted_order"}
        assert matcher.matched_ids == {"plain"}
        for ctx in (
            context({"note": "a"}, role="head", roles=frozenset({"head"})),
            context({"note": 'say "a'}, role="owner", roles=frozenset({"head"})),
            context({"note": "z"}),
        ):
            assert matcher.matching_context(ctx) == expected(conditions, ctx)


def test_odd_values_go_to_the_evaluator_for_that_event() -> None:
    conditions = {
        "fee": parse_condition("fee > 1"),
        "note": parse_condition("note < 'm'"),
        "at": parse_condition("at == '2026-10-25T02:30:00+01:00'"),
        "other": parse_condition("urgency == 'urgent'"),
    }
    odd: list[dict[str, object]] = [
        {"fee": Decimal("1.0000001")},  # more decimals than the encoding keeps
        {"fee": 10**20},  # beyond int64 once scaled
        {"fee": float("nan")},
        {"fee": Decimal("NaN")},
        {"note": 'a"b'},  # ordered text with a quote
        {"note": "x" * 40_000},  # longer than durable-rules keeps
        {"note": "\ud800"},  # not UTF-8
        {"fee": {"a": 1}},  # not a value of the language
        {"at": datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1)},  # offset depends on fold
    ]
    with RuleMatcher(conditions) as matcher:
        for data in odd:
            for urgency in ("urgent", "general"):
                ctx = context({**data, "urgency": urgency})
                assert matcher.matching_context(ctx) == expected(conditions, ctx), data


def test_a_big_or_is_split_into_several_durable_rules() -> None:
    text = " or ".join(f"(f{i} == {i} and g{i} != 'x')" for i in range(20))
    conditions = {"big": parse_condition(text)}
    with RuleMatcher(conditions) as matcher:
        assert dict(matcher.fallback_reasons) == {}
        assert len(matcher.definition) > 1  # several durable rules answer for one id
        for data in ({}, {"f0": 0}, {"f19": 19, "g19": "y"}, {"f19": 19, "g19": "x"}):
            ctx = context(data)
            assert matcher.matching_context(ctx) == expected(conditions, ctx)


def test_a_condition_too_big_for_durable_rules_goes_to_the_evaluator() -> None:
    text = " and ".join(f"(a{i} == 1 or b{i} == 1)" for i in range(16))
    conditions = {"huge": parse_condition(text)}
    with RuleMatcher(conditions) as matcher:
        assert "too many and/or" in matcher.fallback_reasons["huge"]
        yes = {f"a{i}": 1 for i in range(16)}
        assert matcher.matching(yes) == {"huge"}
        assert matcher.matching({**yes, "a3": 2}) == frozenset()


def test_a_rule_durable_rules_refuses_goes_to_the_evaluator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.matching import matcher as module

    monkeypatch.setattr(module, "MAX_SEQUENCE_ENTRIES", 1_000)  # let the huge rule through
    huge = " and ".join(f"(a{i} == 1 or b{i} == 1)" for i in range(16))
    conditions = {"huge": parse_condition(huge), "small": parse_condition("a0 == 1")}
    with RuleMatcher(conditions) as matcher:
        assert matcher.fallback_reasons == {"huge": "durable-rules refused the rule"}
        assert matcher.matched_ids == {"small"}
        yes = {f"a{i}": 1 for i in range(16)}
        assert matcher.matching(yes) == {"huge", "small"}
        assert matcher.matching({"a0": 1}) == {"small"}


def test_a_refused_fact_is_answered_by_the_evaluator(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.matching import matcher as module

    real = module._engine

    class Refusing:
        error = real.error

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def assert_fact(self, handle: int, text: str) -> object:
            raise real.error("Could not assert fact, error code: 302")

    conditions = {"a": parse_condition("x == 1"), "b": parse_condition("x != 1")}
    with RuleMatcher(conditions) as matcher:
        monkeypatch.setattr(module, "_engine", Refusing())
        assert matcher.matching({"x": 1}) == {"a"}
        monkeypatch.setattr(module, "_engine", real)
        assert matcher.matching({"x": 2}) == {"b"}


def test_quantifiers_over_child_cases_go_to_the_evaluator() -> None:
    conditions = {
        "any-closed": parse_condition("any(children.state == 'closed')"),
        "count": parse_condition("children.count > 1"),
    }
    with RuleMatcher(conditions) as matcher:
        assert set(matcher.fallback_reasons) == {"any-closed"}
        ctx = EvalContext(data={}, children=({"state": "closed", "final": True, "data": {}},))
        assert matcher.matching_context(ctx) == expected(conditions, ctx) == {"any-closed"}


# Property: durable-rules answers what the evaluator answers ------------------------------

NAMES: list[tuple[str, ...]] = [
    ("urgency",),
    ("fee",),
    ("count",),
    ("due",),
    ("at",),
    ("flag",),
    ("tags",),
    ("actor", "role"),
    ("actor", "roles"),
    ("state",),
    ("payload", "fee"),
    ("payload", "note"),
    ("actor", "foo"),  # not a name of the language: always null
]
TEXTS = [
    "urgent",
    "general",
    "",
    "head",
    "owner",
    "2026-01-31",
    "2026-02-01",
    "2026-01-31T09:00",
    "2026-01-31T09:00:00+08:00",
    "2026-01-31T01:00:00+00:00",
    "20260131",
    "紧急",
    'a"b',
    "a\\b",
    "x\ny",
    "5",
    "1.50",
]
ZONES = [UTC, timezone(timedelta(hours=8)), SHANGHAI, BERLIN]

texts = st.sampled_from(TEXTS) | st.text(max_size=4)
numbers = (
    st.integers(-20, 20)
    | st.integers()
    | st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)
    | st.decimals(places=7, allow_nan=False, allow_infinity=False)
)
dates = st.dates(min_value=date(2026, 1, 29), max_value=date(2026, 2, 2))
naive_datetimes = st.datetimes(min_value=datetime(2026, 1, 30), max_value=datetime(2026, 2, 1))
aware_datetimes = st.datetimes(
    min_value=datetime(2026, 1, 30),
    max_value=datetime(2026, 2, 1),
    timezones=st.sampled_from(ZONES),
) | st.datetimes(  # around a daylight-saving change
    min_value=datetime(2026, 10, 24), max_value=datetime(2026, 10, 26), timezones=st.just(BERLIN)
)
scalars = (
    st.none()
    | st.booleans()
    | numbers
    | texts
    | dates
    | naive_datetimes
    | aware_datetimes
    | st.floats(width=32)
    | st.just({"not": "a value"})
)
collections = (
    st.lists(st.none() | st.booleans() | st.integers(-3, 3) | texts, max_size=3)
    | st.lists(st.sampled_from(["a", "b", 1]), max_size=3).map(tuple)
    | st.frozensets(st.sampled_from(["head", "owner", "a", "b"]), max_size=3)
    | st.lists(dates, max_size=2)
)
values = scalars | collections

literal_values: st.SearchStrategy[object] = (
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)
    | st.sampled_from([Decimal("0.0000001"), Decimal("1E+30"), 10**25])
    | st.sampled_from(TEXTS)
)
literals = literal_values.map(lambda v: Literal(v))  # type: ignore[arg-type]
list_literals = st.lists(literals, max_size=3).map(lambda items: ListLiteral(tuple(items)))
names = st.sampled_from(NAMES).map(lambda path: Name(path))
COMPARE_OPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


def _compare(op: str, left: Expr, right: Expr) -> Expr:
    return Compare(op, left, right)  # type: ignore[arg-type]


def _extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = names | literals | list_literals | children
    return (
        st.builds(_compare, st.sampled_from(COMPARE_OPS), operands, operands)
        | st.builds(
            lambda op, items: BoolOp(op, tuple(items)),
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3),
        )
        | children.map(lambda c: Not(c))
    )


atoms = (
    st.builds(_compare, st.sampled_from(COMPARE_OPS), names, literals | list_literals | names)
    | names
)
expressions = st.recursive(atoms, _extend, max_leaves=6)
conditions_strategy = st.dictionaries(
    st.sampled_from([f"limit-{i}" for i in range(6)]),
    st.none() | expressions.map(lambda e: Condition(to_text(e), e)),
    min_size=1,
    max_size=5,
)
contexts_strategy = st.builds(
    EvalContext,
    data=st.dictionaries(
        st.sampled_from(["urgency", "fee", "count", "due", "at", "flag", "tags"]), values
    ),
    actor_id=st.none() | st.just("u1"),
    actor_role=st.none() | st.sampled_from(["head", "owner", "supervisor"]),
    actor_roles=st.frozensets(st.sampled_from(["head", "owner", "supervisor"])),
    payload=st.dictionaries(st.sampled_from(["fee", "note"]), values),
    state=st.none() | st.sampled_from(["reported", "closed"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions=conditions_strategy, contexts=st.lists(contexts_strategy, min_size=1, max_size=8))
def test_durable_rules_agree_with_the_evaluator(
    conditions: dict[str, Condition | None], contexts: list[EvalContext]
) -> None:
    with RuleMatcher(conditions) as matcher:
        for ctx in contexts:
            assert matcher.matching_context(ctx) == expected(conditions, ctx), (
                {rid: c.text if c else None for rid, c in conditions.items()},
                ctx,
            )


# Statelessness: no session, no memory accumulates --------------------------------------

# The time limits of the shipped repair procedure (rules/repair.yaml), plus role tests.
REPAIR_LIMITS: dict[str, Condition | None] = {
    rid: parse_condition(text) if text is not None else None
    for rid, text in {
        "repair-urgent": "urgency == 'urgent'",
        "repair-general": (
            "urgency == 'general' and major == false"
            " and category not in ['drain', 'leak', 'light', 'lock']"
        ),
        "repair-drain": "category in ['drain', 'leak'] and urgency == 'general'",
        "repair-light": "category in ['light', 'lock'] and urgency == 'general'",
        "repair-major": "major == true",
        "repair-emergency": "emergency == true",
        "appointment-missing": "appointment_at == null",
        "appointment-set": "appointment_at != null",
        "not-emergency": "emergency == false",
        "supervisor": "actor.role == 'supervisor' or 'head' in actor.roles",
        "always": None,
    }.items()
}


def repair_cases(count: int) -> list[EvalContext]:
    urgencies = ["urgent", "general", None]
    categories = ["drain", "leak", "light", "lock", "wall", "door"]
    cases = []
    for i in range(count):
        data: dict[str, object] = {
            "urgency": urgencies[i % 3],
            "major": i % 5 == 0,
            "category": categories[i % 6],
            "emergency": [True, False, None][i % 7 % 3],
            "unit": f"{i % 30 + 1}-{i % 2405 + 101}",
        }
        if i % 2:
            data["appointment_at"] = datetime(2026, 2, 1, 9, tzinfo=SHANGHAI) + timedelta(hours=i)
        cases.append(
            EvalContext(
                data=data,
                actor_role=["supervisor", "receptionist"][i % 2],
                actor_roles=frozenset({["head", "owner", "technician"][i % 3]}),
                state="reported",
            )
        )
    return cases


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def session_exists(matcher: RuleMatcher, sid: str) -> bool:
    """Whether durable-rules still holds session `sid` of the matcher's ruleset."""
    from engine.matching import matcher as module

    try:
        module._engine.get_state(matcher._handle, sid)
    except module._engine.error as exc:
        assert "309" in str(exc)  # ERR_SID_NOT_FOUND
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_100k_case_evaluations_without_growth() -> None:
    """100,000 evaluations through one matcher: the first 10,000 untraced (they give the
    throughput), then tracemalloc on, so that the traced memory at 100,000 is what the last
    90,000 evaluations left behind; RSS covers durable-rules' C memory."""
    cases = repair_cases(1_000)
    answers = [expected(REPAIR_LIMITS, ctx) for ctx in cases]
    with RuleMatcher(REPAIR_LIMITS) as matcher:
        assert matcher.matched_ids == set(REPAIR_LIMITS) - {"always"}
        start = time.perf_counter()
        for i in range(10_000):
            assert matcher.matching_context(cases[i % 1_000]) == answers[i % 1_000]
        rate = 10_000 / (time.perf_counter() - start)
        rss_10k = rss_bytes()
        tracemalloc.start()
        try:
            for i in range(10_000, 100_000):
                assert matcher.matching_context(cases[i % 1_000]) == answers[i % 1_000]
            left_behind = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        rss_100k = rss_bytes()
        assert not session_exists(matcher, "100000")  # the last session
        assert not session_exists(matcher, "1")
    print(
        f"\nrules matching: {rate:,.0f} evaluations/s; RSS at 10,000 evaluations "
        f"{rss_10k / 2**20:.1f} MiB, at 100,000 {rss_100k / 2**20:.1f} MiB; Python memory "
        f"left by evaluations 10,001-100,000: {left_behind:,} bytes"
    )
    assert rss_100k - rss_10k < 20 * 2**20
    assert left_behind < 256 * 1024


def test_2000_sequential_evaluations_pass_the_1024_session_limit() -> None:
    cases = repair_cases(2_000)
    with RuleMatcher(REPAIR_LIMITS) as matcher:
        for number, ctx in enumerate(cases, start=1):
            assert matcher.matching_context(ctx) == expected(REPAIR_LIMITS, ctx)
            assert not session_exists(matcher, str(number))


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_durable_rules_really_fails_at_1025_live_sessions() -> None:
    """The limit the statelessness avoids (in a child process: going on would crash it)."""
    result = run_python(
        """
        import json, os, durable_rules_engine as engine
        handle = engine.create_ruleset("leak", json.dumps({"r": {"all": [{"m": {"x": 1}}]}}))
        for sid in range(1, 1100):
            try:
                engine.assert_fact(handle, json.dumps({"sid": str(sid), "id": 1, "x": 1}))
            except MemoryError:
                print("MemoryError at session", sid, flush=True)
                os._exit(0)
        print("no limit")
        """
    )
    assert result.stdout.strip() == "MemoryError at session 1025", result


MATCHERS_UNDER_STRESS = """
    import random, sys
    from decimal import Decimal
    from engine.conditions import EvalContext, evaluate, parse_condition
    from engine.matching import RuleMatcher
    conditions = {
        "a": parse_condition("x == 1"),
        "b": parse_condition("y in ['p', 'q'] or x > 5"),
        "c": parse_condition("not (z != null)"),
    }
    rnd = random.Random(7)
    matchers = [RuleMatcher(conditions)]
    for step in range(3000):
        if rnd.random() < 0.05:
            matchers.append(RuleMatcher(conditions))
        elif rnd.random() < 0.03 and len(matchers) > 1:
            matchers.pop(rnd.randrange(len(matchers))).close()
        data = rnd.choice(
            [{}, {"x": 1}, {"x": 7, "y": "q"}, {"y": "p", "z": 0}, {"x": Decimal("1.00")}]
        )
        ctx = EvalContext(data=data)
        want = {rid for rid, c in conditions.items() if evaluate(c, ctx)}
        assert rnd.choice(matchers).matching_context(ctx) == want
    print("ok", len(matchers))
"""


def test_sessions_are_deleted_safely_under_a_hostile_allocator() -> None:
    """durable-rules 2.0.28 frees a never-initialised pointer when a session that ran no
    action is deleted; MALLOC_PERTURB_ fills fresh memory with garbage so that bug would crash
    at once. The matcher's catch-all rule makes every session run an action first."""
    result = run_python(MATCHERS_UNDER_STRESS, MALLOC_PERTURB_="165")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok")


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="MALLOC_PERTURB_ is a glibc allocator setting"
)
def test_the_session_deletion_bug_is_still_there() -> None:
    """Canary: the same use without an action before delete_state crashes. When a
    durable-rules upgrade fixes it, this fails and the catch-all rule can be reconsidered."""
    result = run_python(
        """
        import json, durable_rules_engine as engine
        rules = json.dumps({"r": {"all": [{"m": {"x": 1}}]}})
        for number in range(50):
            handle = engine.create_ruleset(f"r{number}", rules)
            for sid in ("a", "b"):
                engine.assert_fact(handle, json.dumps({"sid": sid, "id": 1, "x": 2}))
                engine.delete_state(handle, sid)
        print("survived")
        """,
        MALLOC_PERTURB_="165",
    )
    assert result.returncode != 0 and "survived" not in result.stdout, result


def test_threads_share_matchers() -> None:
    cases = repair_cases(300)
    answers = [expected(REPAIR_LIMITS, ctx) for ctx in cases]
    shared = RuleMatcher(REPAIR_LIMITS)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            with RuleMatcher(REPAIR_LIMITS) as own:
                for i in range(1_500):
                    index = (i + offset) % len(cases)
                    matcher = shared if i % 2 else own
                    assert matcher.matching_context(cases[index]) == answers[index]
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 37,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shared.close()
    assert errors == []


def test_close_deletes_the_ruleset() -> None:
    matcher = RuleMatcher({"a": parse_condition("x == 1")})
    assert matcher.matching({"x": 1}) == {"a"}
    matcher.close()
    matcher.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        matcher.matching({"x": 1})


def test_a_collected_matcher_deletes_its_ruleset() -> None:
    import gc

    from engine.matching import matcher as module

    matcher = RuleMatcher({"a": parse_condition("x == 1")})
    handle = matcher._handle
    assert handle is not None
    del matcher
    gc.collect()
    with module._engine_locked():  # also deletes rulesets whose deletion was deferred
        pass
    with pytest.raises(module._engine.error, match="111"):  # ERR_INVALID_HANDLE
        module._engine.get_state(handle, "1")


def test_fact_properties_have_distinct_durable_rules_hashes() -> None:
    """durable-rules tells a fact's properties apart by the 32-bit FNV-1a hash of their names
    (its HASH_ID and HASH_SID constants are those of 'id' and 'sid'); two names with one hash
    would be one property. None of the names a matcher can write collide."""
    from engine.matching.matcher import MAX_FACT_PROPERTIES, _prop_name

    def fnv1a(text: str) -> int:
        value = 2166136261
        for byte in text.encode():
            value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
        return value

    assert (fnv1a("id"), fnv1a("sid")) == (926444256, 3593476751)
    names = ["sid", "id", "pf"] + [
        _prop_name(number, suffix)
        for number in range(MAX_FACT_PROPERTIES)
        for suffix in "zbnsduwtqlemkyo"
    ]
    assert len({fnv1a(name) for name in names}) == len(names)


def test_matchers_get_unique_ruleset_names() -> None:
    conditions = {"a": parse_condition("x == 1")}
    with RuleMatcher(conditions) as first, RuleMatcher(conditions) as second:
        assert first.ruleset_name != second.ruleset_name
        assert first.matching({"x": 1}) == second.matching({"x": 1}) == {"a"}


def test_no_conditions_and_constant_conditions_need_no_ruleset_call() -> None:
    conditions = {"yes": parse_condition("1 == 1"), "no": parse_condition("null > 1"), "none": None}
    with RuleMatcher(conditions) as matcher:
        assert matcher.matched_ids == frozenset()
        assert dict(matcher.definition) == {}
        assert matcher._handle is None  # no ruleset at all
        assert matcher.matching({}) == {"yes", "none"}
    with RuleMatcher({}) as empty:
        assert empty.matching({"x": 1}) == frozenset()
