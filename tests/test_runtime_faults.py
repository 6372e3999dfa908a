"""The runtime under faults: a writer killed mid-stream, processes racing on one case, many
processes opening a new database at once, and random event sequences against the shipped
processes.

The first three run on SQLite and on a real PostgreSQL server (``store_url``); the random
sequences run on an in-memory SQLite store, where tens of thousands of events take seconds.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from engine.checks.graph import reachable
from engine.conditions import Compare, ListLiteral, Literal, Name, referenced_names
from engine.conditions.ast import iter_nodes
from engine.model import FieldDef, ProcessDef
from engine.runtime import (
    Actor,
    Case,
    ConflictError,
    Engine,
    EventRefused,
    ManualClock,
    replay,
)
from engine.store import DuplicateRequest, StoreError, VersionConflict
from engine.store.schema import case_log
from engine.store.store import write_refused
from tests.conftest import ROOT, validated_library
from tests.runtime_workers import (
    FORM,
    OPENING,
    RECEPTIONIST,
    SUPERVISOR,
    next_step,
    opener,
    racer,
)

#: Processes killed or racing, and 10,000 random walks: run by .ci/run's second pass.
pytestmark = pytest.mark.slow

WORKERS = ROOT / "tests" / "runtime_workers.py"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def check_store(engine: Engine) -> list[Case]:
    """Every case of the store is whole: the row equals the replayed log, the version counts
    the log, the log is a chain of states, and each outbox row belongs to an entry that
    notifies (and each such entry has its row)."""
    cases = engine.query_cases(limit=100_000)
    outbox = engine.outbox()
    for case in cases:
        history = engine.history(case.id)
        assert (case.state, case.data, case.assignee) == replay(history), case.id
        assert case.version == len(history), case.id
        assert [e.version for e in history] == list(range(1, len(history) + 1))
        for before, after in itertools.pairwise(history):
            assert after.from_state == before.to_state, (case.id, after.version)
        notifying = Counter(
            entry.seq
            for entry in history
            for action in entry.actions
            if action.get("kind") in ("notify", "escalate")
        )
        rows = Counter(item.log_seq for item in outbox if item.case_id == case.id)
        assert rows == notifying, case.id
    assert {item.case_id for item in outbox} <= {case.id for case in cases}
    return cases


# (a) A writer killed mid-stream -----------------------------------------------------------


def run_writer_and_kill(url: str, after: int, timeout: float = 120) -> list[tuple[str, int]]:
    """Start the writer, SIGKILL it after ``after`` acknowledged events; return every ack."""
    process = subprocess.Popen(
        [sys.executable, str(WORKERS), "writer", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    acks: list[tuple[str, int]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(acks) < after:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"the writer died on its own:\n{process.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the writer acknowledged only {len(acks)} events")
            _, case_id, version = line.split()
            acks.append((case_id, int(version)))
        # Killed while it is in the middle of its next transaction, most likely.
        process.send_signal(signal.SIGKILL)
        for line in process.stdout.read().splitlines():  # acknowledged before it died
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ack":
                acks.append((parts[1], int(parts[2])))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    return acks


def test_a_killed_writer_loses_no_acknowledged_event_and_half_writes_nothing(
    store_url: str,
) -> None:
    acks: list[tuple[str, int]] = []
    for round_, after in enumerate((150, 97, 233)):
        acks += run_writer_and_kill(store_url, after)
        # The next writer (a restart) carries on with the cases the last one left.
        engine = Engine(validated_library(), store=store_url)
        try:
            cases = {case.id: case for case in check_store(engine)}
            for case_id, version in acks:
                assert case_id in cases, f"round {round_}: acknowledged case lost"
                assert cases[case_id].version >= version, f"round {round_}: ack lost"
                entry = engine.history(case_id)[version - 1]
                assert entry.version == version
        finally:
            engine.close()
    # The store is still usable: every case moves on, and a new one opens.
    engine = Engine(validated_library(), store=store_url)
    try:
        for case in engine.query_cases(limit=100_000):
            if case.closed_at is None:
                event, actor, payload = next_step(case)
                moved = engine.fire(case.id, event, actor, payload, expected_version=case.version)
                assert moved.version == case.version + 1
        engine.open_case("repair", OPENING, RECEPTIONIST)
        assert len(check_store(engine)) >= 5
    finally:
        engine.close()


# (b) Processes racing on one case ---------------------------------------------------------


class Racers:
    """Two long-lived processes that fire at the same case at the same moment."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(2)
        self.jobs = [context.Queue(), context.Queue()]
        self.results = context.Queue()
        self.processes = [
            context.Process(target=racer, args=(url, self.barrier, jobs, self.results))
            for jobs in self.jobs
        ]
        for process in self.processes:
            process.start()

    def race(self, *jobs: tuple[Any, ...]) -> list[tuple[Any, Any, Any]]:
        for queue, job in zip(self.jobs, jobs, strict=True):
            queue.put(job)
        results = [self.results.get(timeout=120) for _ in jobs]
        errors = [r for r in results if r[0] == "error"]
        assert not errors, errors
        return results

    def close(self) -> None:
        for queue in self.jobs:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()


def test_two_processes_with_the_same_expected_version_one_wins_one_conflicts(
    store_url: str,
) -> None:
    engine = Engine(validated_library(), store=store_url)
    case = engine.open_case("repair", OPENING, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu"})
    racers = Racers(store_url)
    try:
        for attempt in range(6):
            version = engine.get_case(case.id).version
            notes = [f"attempt {attempt} by racer {i}" for i in (0, 1)]
            results = racers.race(
                *[
                    (case.id, "report_status", ["supervisor"], {"status_note": n}, version, None)
                    for n in notes
                ]
            )
            outcomes = sorted(r[0] for r in results)
            assert outcomes == ["conflict", "ok"], results
            winner = next(r for r in results if r[0] == "ok")
            assert winner[1] == version + 1
            after = engine.get_case(case.id)
            assert after.version == version + 1 == len(engine.history(case.id))
            # No lost update: the stored note is the winner's, and the log holds only it.
            assert after.data["status_note"] == winner[2]
            assert engine.history(case.id)[-1].payload == {"status_note": winner[2]}
        check_store(engine)
    finally:
        racers.close()
        engine.close()


def test_racing_without_expected_version_never_loses_an_update(store_url: str) -> None:
    engine = Engine(validated_library(), store=store_url)
    case = engine.open_case("repair", OPENING, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu"})
    racers = Racers(store_url)
    try:
        for attempt in range(6):
            version = engine.get_case(case.id).version
            notes = [f"attempt {attempt} by racer {i}" for i in (0, 1)]
            results = racers.race(
                *[
                    (case.id, "report_status", ["supervisor"], {"status_note": n}, None, None)
                    for n in notes
                ]
            )
            accepted = [r for r in results if r[0] == "ok"]
            assert accepted, results  # at least one goes through; a loser is told so
            history = engine.history(case.id)
            assert len(history) == version + len(accepted) == engine.get_case(case.id).version
            assert sorted(e.payload["status_note"] for e in history[version:]) == sorted(
                r[2] for r in accepted
            )
        check_store(engine)
    finally:
        racers.close()
        engine.close()


def test_a_retried_request_racing_itself_is_applied_once(store_url: str) -> None:
    """The same request (same idempotency key) sent twice at once: one log row, and both
    senders get the same result, never a conflict."""
    engine = Engine(validated_library(), store=store_url)
    case = engine.open_case("repair", OPENING, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu"})
    racers = Racers(store_url)
    try:
        for attempt in range(6):
            version = engine.get_case(case.id).version
            job = (
                case.id,
                "report_status",
                ["supervisor"],
                {"status_note": f"attempt {attempt}"},
                version,
                f"request-{attempt}",
            )
            results = racers.race(job, job)
            assert results[0] == results[1] == ("ok", version + 1, f"attempt {attempt}")
            assert len(engine.history(case.id)) == version + 1
        check_store(engine)
    finally:
        racers.close()
        engine.close()


def test_only_a_racing_writer_is_a_conflict_other_refused_writes_are_store_errors(
    store_url: str,
) -> None:
    """The database's refusals, each from the real database: the same log version is a
    concurrent writer (a conflict), the same idempotency key a duplicate request, and a
    row the schema forbids (no event name) an error of the store that retrying cannot cure."""
    engine = Engine(validated_library(), store=store_url)
    case = engine.open_case("repair", OPENING, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="desk-1")
    (opening, recorded) = engine.history(case.id)
    row = {
        "case_id": case.id, "version": 3, "event": "note", "actor_id": "x", "role": "system",
        "at": datetime.now(UTC), "from_state": None, "to_state": "recorded", "payload": {},
        "changes": {}, "assignee": None, "actions": [], "idempotency_key": None,
        "estate": case.estate,
    }  # fmt: skip
    refusals = {
        "same version": {**row, "version": recorded.version},
        "same key": {**row, "idempotency_key": "desk-1"},
        "no event": {**row, "event": None},
    }
    found: dict[str, Exception] = {}
    for name, values in refusals.items():
        with pytest.raises(IntegrityError) as caught, engine.store.transaction() as tx:
            tx.execute(insert(case_log), values)
        found[name] = write_refused(caught.value, case.id)
    assert type(found["same version"]) is VersionConflict
    assert type(found["same key"]) is DuplicateRequest
    assert type(found["no event"]) is StoreError
    assert case.id in str(found["no event"]) and "event" in str(found["no event"]).lower()
    assert [e.version for e in engine.history(case.id)] == [opening.version, recorded.version]
    engine.close()


def test_processes_opening_a_new_database_at_once_all_succeed(
    make_store_url: Callable[[], str],
) -> None:
    context = multiprocessing.get_context("spawn")
    for _ in range(2):
        url = make_store_url()
        barrier = context.Barrier(4)
        results = context.Queue()
        processes = [context.Process(target=opener, args=(url, barrier, results)) for _ in range(4)]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=180) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        assert [o[0] for o in outcomes] == ["ok"] * 4, outcomes
        engine = Engine(validated_library(), store=url)
        try:
            assert len(check_store(engine)) == 4
        finally:
            engine.close()


# (c) Random event sequences ---------------------------------------------------------------

PROCESSES = ["repair", "complaint", "handover", "meeting", "meeting_service"]
#: Examples per process, and event sequences per example: 5 processes x 200 examples x 10
#: sequences = 10,000 random event sequences (PROPFLOW_FUZZ_EXAMPLES lowers it for a quick run).
EXAMPLES = int(os.environ.get("PROPFLOW_FUZZ_EXAMPLES", "200"))
SEQUENCES_PER_EXAMPLE = 10
MAX_STEPS = 4

ZONES = [UTC, SHANGHAI, ZoneInfo("America/New_York")]
#: Dates within a few years of now. (Any date is valid, but a time limit anchored on a date
#: decades away makes the working calendar walk every day in between: up to seconds an event.)
EARLIEST, LATEST = datetime(2024, 1, 1), datetime(2030, 12, 31)

#: Values of every kind, for fields given the wrong type: odd numbers, odd text, odd dates.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    7,
    10**20,
    10**30,
    1.5,
    float("nan"),
    float("inf"),
    Decimal("12.345"),
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("-0"),
    Decimal("1E+40"),
    "",
    "文本",
    "x" * 300,
    "\x00",
    "1e999",
    "12.5",
    "2026-03-31",
    "2026-02-30",
    "2026-03-31T09:00:00",
    "2026-03-31T09:00+08:00",
    "1772416800",
    "13800138000",
    "+86 138-0013-8000",
    "urgent",
    datetime(2026, 3, 31, 9, 0),
    datetime(2026, 3, 31, 9, 0, tzinfo=SHANGHAI),
    datetime(2026, 3, 31).date(),
    [],
    [1, 2],
    ["a", "b"],
    [None],
    {"a": 1},
    b"bytes",
]

#: States the random sequences reached, per process (for the depth check below).
VISITED: dict[str, set[str]] = {process: set() for process in PROCESSES}


@functools.cache
def fuzz_engine() -> Engine:
    """One engine on an in-memory store for the whole run (building one validates the
    library, which costs far more than a sequence)."""
    clock = ManualClock(datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    return Engine(validated_library(), store="sqlite://", clock=clock)


@functools.cache
def reachable_states(process: str) -> frozenset[str]:
    return frozenset(reachable(fuzz_engine().definition(process)))


def valid_value(rnd: Random, field: FieldDef, kind: str | None = None) -> Any:
    """A value the form must accept for ``field``, in one of the forms a caller may use."""
    kind = kind or field.type
    low = int(field.min) if field.min is not None else -(10**6)
    high = int(field.max) if field.max is not None else 10**6
    if kind == "enum":
        return rnd.choice(field.values)
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "int":
        return rnd.choice([low, high, rnd.randint(low, min(high, low + 100))])
    if kind == "money":
        cents = Decimal(rnd.randint(low * 100, high * 100)) / 100
        return rnd.choice([cents, str(cents), int(cents)])
    if kind in ("date", "datetime"):
        moment = EARLIEST + (LATEST - EARLIEST) * rnd.random()
        if kind == "date":
            return rnd.choice([moment.date(), moment.date().isoformat()])
        aware = moment.replace(microsecond=0, tzinfo=rnd.choice(ZONES))
        return rnd.choice([aware, aware.isoformat()])
    if kind == "phone":
        return rnd.choice(["13800138000", "+86 138-0013-8000", "021 6888 8888", "12345"])
    if kind == "list":
        return [valid_value(rnd, field, field.items) for _ in range(rnd.randint(0, 3))]
    return rnd.choice(["", "漏水", "text", "多行\n文本", "x" * 50])


@functools.cache
def guard_hints(process: str, event: str) -> dict[str, list[Any]]:
    """Values the event's guard compares fields with (``has_defects == true``, ``validity in
    ['valid']``): a walk that tries them gets past guards that want several flags at once."""
    event_def = fuzz_engine().definition(process).events[event]
    hints: dict[str, list[Any]] = {}
    if event_def.guard is None:
        return hints
    for node in iter_nodes(event_def.guard.expr):
        if not (isinstance(node, Compare) and isinstance(node.left, Name)):
            continue
        if len(node.left.path) != 1:
            continue
        if node.op == "==" and isinstance(node.right, Literal):
            hints.setdefault(node.left.path[0], []).append(node.right.value)
        elif node.op == "in" and isinstance(node.right, ListLiteral):
            values = [item.value for item in node.right.items]
            hints.setdefault(node.left.path[0], []).extend(values)
    return hints


def random_payload(
    rnd: Random,
    definition: ProcessDef,
    wanted: set[str],
    writable: frozenset[str],
    hints: dict[str, list[Any]] | None = None,
) -> dict[str, Any]:
    """A payload that fills most of ``wanted`` correctly (often with a value the guard hopes
    for), plus random fields (mostly ones the event takes) with random values, now and then
    ill-typed or not on the form at all."""
    payload: dict[str, Any] = {}
    for name in sorted(wanted):
        if hints and name in hints and rnd.random() < 0.8:
            payload[name] = rnd.choice(hints[name])
        elif rnd.random() < 0.9:
            payload[name] = valid_value(rnd, definition.fields[name])
    names = sorted(writable) if writable and rnd.random() < 0.8 else sorted(definition.fields)
    for name in rnd.sample(names, min(len(names), rnd.randint(0, 2))):
        bad = rnd.random() < 0.15
        payload[name] = rnd.choice(ODD_VALUES) if bad else valid_value(rnd, definition.fields[name])
    if rnd.random() < 0.05:
        payload[rnd.choice(["colour", "Unit", "payload", ""])] = rnd.choice(ODD_VALUES)
    return payload


def random_actor(rnd: Random, definition: ProcessDef, roles: tuple[str, ...]) -> Actor:
    """Mostly someone holding one of ``roles``; sometimes anyone, the system, or nobody."""
    declared = sorted(definition.roles)
    choice = rnd.random()
    if choice < 0.8 and roles:
        held = {rnd.choice(roles), *rnd.sample(declared, rnd.randint(0, 2))}
    elif choice < 0.95:
        held = set(rnd.sample([*declared, "visitor"], rnd.randint(0, 3)))
    else:
        held = {"system", *rnd.sample(declared, rnd.randint(0, 1))}
    return Actor(rnd.choice(["li", "wang", "zhao"]), held)


def random_event(rnd: Random, definition: ProcessDef, state: str) -> str:
    """Mostly an event possible in ``state``; sometimes any event, or one that does not exist."""
    here = [eid for eid, e in definition.events.items() if state in e.sources]
    choice = rnd.random()
    if choice < 0.9 and here:
        return rnd.choice(here)
    if choice < 0.95:
        return rnd.choice(sorted(definition.events))
    return rnd.choice(["no_such_event", "Dispatch", "open", ""])


@dataclass
class Walk:
    """A case the random sequences of one example work on, and the idempotency keys its
    accepted events used (a key's retry must return that event's result)."""

    case: Case
    keys: dict[str, tuple[str, Case]] = field(default_factory=dict)


def run_sequence(rnd: Random, engine: Engine, process: str, walks: list[Walk]) -> None:
    """Fire a random sequence of events at a case — a new one, or one an earlier sequence
    of this example left unfinished — checking every answer."""
    definition = engine.definition(process)
    unfinished = [walk for walk in walks if walk.case.closed_at is None]
    if unfinished and rnd.random() < 0.8:
        walk = rnd.choice(unfinished)
    else:
        required = {fid for fid, f in definition.fields.items() if f.required}
        opener_actor = random_actor(rnd, definition, tuple(definition.roles))
        data = random_payload(rnd, definition, required, frozenset(definition.fields))
        try:
            walk = Walk(engine.open_case(process, data, opener_actor))
        except EventRefused:
            return
        walks.append(walk)
    case, keys = walk.case, walk.keys
    everyone = Actor("fuzz", set(definition.roles))
    for _ in range(rnd.randint(1, MAX_STEPS)):
        event = random_event(rnd, definition, case.state)
        if rnd.random() < 0.5:  # half the time, an event someone may fire now: go deeper
            options = engine.available_events(case.id, everyone)
            assert [option.event for option in options] == list(definition.events)
            allowed = [option.event for option in options if option.allowed]
            event = rnd.choice(allowed) if allowed else event
        event_def = definition.events.get(event)
        wanted: set[str] = set()
        roles: tuple[str, ...] = ()
        writable: frozenset[str] = frozenset()
        if event_def is not None:
            writable = event_def.writable
            wanted = {f for f in event_def.requires if case.data.get(f) in (None, "", [])}
            if event_def.guard is not None:
                read = {p[0] for p in referenced_names(event_def.guard) if len(p) == 1}
                wanted |= read & writable
            roles = event_def.roles
        actor = random_actor(rnd, definition, roles)
        hints = guard_hints(process, event) if event_def is not None else None
        payload = random_payload(rnd, definition, wanted, writable, hints)
        key = rnd.choice([None, None, "k1", "k2", "k3"])
        stale = rnd.random() < 0.05
        expected = case.version - 1 if stale else rnd.choice([None, case.version])
        try:
            after = engine.fire(
                case.id, event, actor, payload, idempotency_key=key, expected_version=expected
            )
        except EventRefused as refusal:
            reused = key in keys and keys[key][0] != event
            if "system" not in actor.roles and (reused or (stale and key not in keys)):
                assert isinstance(refusal, ConflictError), refusal
            assert engine.get_case(case.id) == case, "a refusal wrote something"
        else:
            if key is not None and key in keys:
                assert keys[key][0] == event and after == keys[key][1]
            else:
                assert not stale, "a stale expected version was accepted"
                assert event_def is not None
                assert after.version > case.version
                if after.version == case.version + 1:  # no chained events
                    assert after.state == (event_def.target or case.state)
                if key is not None:
                    keys[key] = (event, after)
                case = after
        assert case.state in reachable_states(process), (process, case.state)
        VISITED[process].add(case.state)
    walk.case = case
    stored = engine.get_case(case.id)
    history = engine.history(case.id)
    assert stored == case
    assert (stored.state, stored.data, stored.assignee) == replay(history)
    assert stored.version == len(history)


@pytest.mark.parametrize("process", PROCESSES)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=True))
def test_random_event_sequences_stay_in_reachable_states_and_refuse_only_with_event_refused(
    process: str, rnd: Random
) -> None:
    """10,000 random event sequences in all: 5 processes x ``EXAMPLES`` (200) hypothesis
    examples x ``SEQUENCES_PER_EXAMPLE`` (10) sequences. A sequence is 1 to ``MAX_STEPS``
    random events fired at one case, a new one or one that an earlier sequence of the same
    example left unfinished (so short sequences still reach deep states), by random actors
    (including the system role and people with no role of the process) with random payloads
    (mostly valid values for what the event requires and its guard reads, plus ill-typed
    values, unknown fields, idempotency keys and stale expected versions).

    Hypothesis draws the seed of each example's random choices (``st.randoms``), and a
    failure is reported with it: drawing every choice through hypothesis would cost more
    than firing the events, and skews the walks towards its "simplest" choices.

    Every answer is either an accepted event (the state is the event's target, the case
    one version on) or an :class:`EventRefused` that wrote nothing; the case is always in a
    state the definition can reach; the stored row always equals the replayed log."""
    engine = fuzz_engine()
    engine.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    walks: list[Walk] = []
    for _ in range(SEQUENCES_PER_EXAMPLE):
        run_sequence(rnd, engine, process, walks)


def test_the_random_sequences_reach_deep_states() -> None:
    """The random walks are not stuck at the start: most reachable states were visited.
    (Runs after the random sequences, in file order; alone it has nothing to check.)"""
    if not any(VISITED.values()):
        pytest.skip("no random sequences ran in this session")
    for process in PROCESSES:
        assert len(VISITED[process]) >= len(reachable_states(process)) * 2 // 3, (
            process,
            sorted(reachable_states(process) - VISITED[process]),
        )
