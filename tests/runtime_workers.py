"""Processes for the fault tests (tests/test_runtime_faults.py): a writer to kill, and racers.

``python tests/runtime_workers.py writer URL`` fires an endless stream of repair events at a
few cases and prints ``ack CASE VERSION`` after each event the store acknowledged
(committed), flushed at once, so whoever kills it knows exactly what was acknowledged.

:func:`racer` runs in a ``multiprocessing`` child: it builds its own engine, then for each
job waits on a barrier shared with the other racer and fires at the same case at once.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runtime import Actor, Case, ConflictError, Engine

RECEPTIONIST = Actor("li.jiedai", {"receptionist"})
SUPERVISOR = Actor("chen.zhuguan", {"supervisor"})
TECHNICIAN = Actor("liu.jigong", {"technician"})
OWNER = Actor("wang.yezhu", {"owner"})

OPENING = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生", "owner_account": OWNER.id}
FORM = {"phone": "13800138000", "content": "漏水", "location": "厨房", "category": "leak"}

#: Cases the writer keeps busy at once.
ACTIVE = 4
#: A case goes round the rework loop until its log is this long, then closes.
CLOSE_AFTER = 40


def next_step(case: Case) -> tuple[str, Actor, dict[str, Any]]:
    """The event that moves a repair case on: round and round the rework loop, then close."""
    n = case.version
    state = case.state
    if state == "received":
        return "record", RECEPTIONIST, FORM
    if state == "reported":
        return "dispatch", SUPERVISOR, {"technician": f"tech-{n}"}
    if state == "dispatched":
        return "confirm_on_site", TECHNICIAN, {"actual_situation": f"situation {n}"}
    if state == "in_progress":
        return "finish_work", TECHNICIAN, {"work_done": f"work {n}", "hours": n}
    if state == "awaiting_signoff":
        if not case.data.get("owner_signed"):
            return "owner_accept", OWNER, {}
        return "supervisor_sign", SUPERVISOR, {}
    if state == "signed_off":
        if n >= CLOSE_AFTER:
            return (
                "return_visit",
                RECEPTIONIST,
                {"visit_method": "phone", "visit_result": "ok", "satisfaction": "satisfied"},
            )
        # The rework event notifies the supervisor: an outbox row in the same transaction.
        return "rework", RECEPTIONIST, {"visit_result": f"not fixed {n}"}
    raise AssertionError(f"no next step from {state}")


def ack(case: Case) -> None:
    print(f"ack {case.id} {case.version}", flush=True)


def writer(url: str) -> None:
    """Fire events for ever (until killed), acknowledging each committed one on stdout."""
    engine = Engine(store=url)
    cases = [c for c in engine.query_cases(process="repair", limit=10_000) if c.closed_at is None]
    while True:
        while len(cases) < ACTIVE:
            case = engine.open_case("repair", OPENING, RECEPTIONIST)
            ack(case)
            cases.append(case)
        for index, case in enumerate(cases):
            event, actor, payload = next_step(case)
            case = engine.fire(case.id, event, actor, payload, expected_version=case.version)
            ack(case)
            cases[index] = case
        cases = [case for case in cases if case.closed_at is None]


def racer(url: str, barrier: Any, jobs: Any, results: Any) -> None:
    """Fire each job ``(case_id, event, roles, payload, expected_version, key)`` in step with
    the other racer; report ``("ok", version, note)`` or ``("conflict", reason, None)``."""
    engine = Engine(store=url)
    try:
        while True:
            job = jobs.get()
            if job is None:
                return
            case_id, event, roles, payload, expected_version, key = job
            actor = Actor("racer", roles)
            barrier.wait(timeout=60)
            try:
                case = engine.fire(
                    case_id,
                    event,
                    actor,
                    payload,
                    expected_version=expected_version,
                    idempotency_key=key,
                )
                results.put(("ok", case.version, case.data.get("status_note")))
            except ConflictError as conflict:
                results.put(("conflict", conflict.reason, None))
            except Exception as error:  # reported to the test, which fails on it
                results.put(("error", f"{type(error).__name__}: {error}", None))
    finally:
        engine.close()


def opener(url: str, barrier: Any, results: Any) -> None:
    """Open the first case of a brand-new database at the same moment as other openers."""
    from engine.store import Store

    try:
        barrier.wait(timeout=120)
        store = Store(url)
        engine = Engine(store=store)
        barrier.wait(timeout=120)
        case = engine.open_case("repair", OPENING, RECEPTIONIST)
        results.put(("ok", case.id))
        engine.close()
    except Exception as error:
        results.put(("error", f"{type(error).__name__}: {error}"))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "writer":
        sys.exit("usage: runtime_workers.py writer DATABASE_URL")
    writer(sys.argv[2])
