"""The case runtime on SQLite and on a real PostgreSQL server (``store_url`` runs each test on
both): opening and firing, every typed refusal and that it writes nothing, idempotency,
available events, queries, the audit trail, actions and the outbox, definition versions,
isolated engines, and the payload types of the form."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy

from engine.diagnostics.language import speaking
from engine.runtime import (
    SYSTEM_ACTOR,
    Actor,
    Case,
    ConflictError,
    Engine,
    EventNotAllowed,
    EventRefused,
    FieldError,
    GuardRefused,
    IdempotencyConflict,
    ManualClock,
    RoleRefused,
    UnknownCase,
    UnknownEvent,
    UnknownProcess,
    replay,
)
from engine.store import ClockRecord, SchemaOutOfDate, Store
from tests.conftest import ROOT, validated_library

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 2 March 2026, 09:00 in Shanghai.
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)

RECEPTIONIST = Actor("li.jiedai", {"receptionist"})
SUPERVISOR = Actor("chen.zhuguan", {"supervisor"})
TECHNICIAN = Actor("liu.jigong", {"technician"})
OWNER = Actor("wang.yezhu", {"owner"})
HEAD = Actor("sun.fuzeren", {"head"})

IN_UNIT = {
    "scope": "in_unit",
    "unit": "3-1201",
    "owner_name": "王先生",
    "owner_account": "wang.yezhu",
}
FORM = {
    "phone": "138 0013 8000",
    "content": "厨房下水道堵塞",
    "location": "厨房",
    "category": "drain",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def engine(store_url: str, clock: ManualClock) -> Iterator[Engine]:
    """The shipped library on a fresh database of the test's backend."""
    built = Engine(validated_library(), store=store_url, clock=clock)
    yield built
    built.close()


def later(clock: ManualClock, minutes: int = 20) -> None:
    clock.advance(timedelta(minutes=minutes))


@dataclass(frozen=True)
class Snapshot:
    """Everything an event can write for one case."""

    case: Case
    history: int
    outbox: int


def snapshot(engine: Engine, case_id: str) -> Snapshot:
    return Snapshot(
        engine.get_case(case_id), len(engine.history(case_id)), len(engine.outbox(case_id))
    )


def dispatched_case(engine: Engine, clock: ManualClock) -> Case:
    """A repair case recorded and dispatched to a technician."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    later(clock)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    later(clock)
    return engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu.jigong"})


def check_consistent(engine: Engine, case_id: str) -> None:
    """The case row is exactly what replaying its log gives, and its version counts the log."""
    case = engine.get_case(case_id)
    history = engine.history(case_id)
    assert (case.state, case.data, case.assignee) == replay(history)
    assert case.version == len(history)
    assert [entry.version for entry in history] == list(range(1, len(history) + 1))


# Walking the repair process --------------------------------------------------------------


def test_repair_walk_from_received_to_closed(engine: Engine, clock: ManualClock) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    assert (case.state, case.version, case.process, case.estate) == (
        "received",
        1,
        "repair",
        "standard",
    )
    assert case.data["urgency"] == "general"  # the declared default
    assert case.closed_at is None
    steps: list[tuple[str, Actor, dict[str, Any], str, str | None]] = [
        ("record", RECEPTIONIST, FORM, "reported", "supervisor"),
        ("dispatch", SUPERVISOR, {"technician": "liu.jigong"}, "dispatched", "technician"),
        ("contact_owner", TECHNICIAN, {}, "dispatched", "technician"),
        ("confirm_on_site", TECHNICIAN, {"actual_situation": "存水弯堵塞"}, "in_progress", None),
        ("record_plan", TECHNICIAN, {"work_plan": "拆洗存水弯"}, "in_progress", None),
        (
            "finish_work",
            TECHNICIAN,
            {"work_done": "疏通", "hours": 2, "materials_used": ["生料带 1卷"]},
            "awaiting_signoff",
            None,
        ),
        ("owner_accept", OWNER, {}, "awaiting_signoff", None),
        ("supervisor_sign", SUPERVISOR, {}, "signed_off", "receptionist"),
        (
            "return_visit",
            RECEPTIONIST,
            {"visit_method": "phone", "satisfaction": "satisfied", "visit_result": "已修复"},
            "closed",
            "receptionist",
        ),
    ]
    for number, (event, actor, payload, state, assignee) in enumerate(steps, start=2):
        later(clock)
        case = engine.fire(case.id, event, actor, payload, expected_version=case.version)
        assert case.state == state, event
        assert case.version == number
        if assignee is not None:
            assert case.assignee == assignee, event
        assert engine.get_case(case.id) == case
    assert case.data["owner_signed"] is True and case.data["supervisor_signed"] is True
    assert case.data["hours"] == 2 and case.data["materials_used"] == ["生料带 1卷"]
    assert case.closed_at == clock.now() and case.updated_at == clock.now()
    assert case.opened_at == START
    history = engine.history(case.id)
    assert [(e.event, e.role) for e in history] == [
        ("open", "receptionist"),
        *[(event, sorted(actor.roles)[0]) for event, actor, *_ in steps],
    ]
    check_consistent(engine, case.id)


def test_history_entries_say_who_when_from_to_and_payload(
    engine: Engine, clock: ManualClock
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    later(clock, 45)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    opened, recorded = engine.history(case.id)
    assert (opened.event, opened.actor_id, opened.role) == ("open", "li.jiedai", "receptionist")
    assert (opened.from_state, opened.to_state, opened.at) == (None, "received", START)
    assert opened.payload == IN_UNIT
    assert recorded.actor_id == "li.jiedai" and recorded.role == "receptionist"
    assert recorded.at == START + timedelta(minutes=45)
    assert recorded.at.tzinfo is not None
    assert (recorded.from_state, recorded.to_state) == ("received", "reported")
    assert recorded.payload == FORM
    assert recorded.changes == FORM
    assert recorded.assignee == "supervisor"
    assert recorded.actions == [{"hook": "event", "kind": "assign", "role": "supervisor"}]
    assert recorded.version == 2 and recorded.idempotency_key is None


def test_a_person_with_several_roles_acts_in_the_one_the_event_needs(engine: Engine) -> None:
    both = Actor("zhou", {"technician", "receptionist"})
    case = engine.open_case("repair", IN_UNIT, both)
    engine.fire(case.id, "record", both, FORM)
    assert [e.role for e in engine.history(case.id)] == ["receptionist", "receptionist"]


def test_an_actor_given_one_role_as_text_holds_that_role() -> None:
    assert Actor("li", "receptionist").roles == frozenset({"receptionist"})


# Refusals: typed, named, and writing nothing ---------------------------------------------


def assert_refused(
    engine: Engine,
    case: Case,
    kind: type[EventRefused],
    event: str,
    reason: str,
    fire: Callable[[], object],
) -> EventRefused:
    """``fire`` raises exactly ``kind``, names case, state, event and reason, writes nothing."""
    before = snapshot(engine, case.id)
    with pytest.raises(EventRefused) as caught:
        fire()
    refusal = caught.value
    assert type(refusal) is kind, f"{type(refusal).__name__}: {refusal}"
    message = str(refusal)
    assert case.id in message and f"'{before.case.state}'" in message
    assert f"'{event}'" in message and reason in message, message
    assert (refusal.case_id, refusal.state, refusal.event) == (case.id, before.case.state, event)
    assert reason in refusal.reason
    assert snapshot(engine, case.id) == before
    return refusal


def test_unknown_process(engine: Engine) -> None:
    with pytest.raises(UnknownProcess, match=r"process 'repiar' is not defined.*'repair'"):
        engine.open_case("repiar", IN_UNIT, RECEPTIONIST)
    assert engine.query_cases() == []


def test_unknown_case(engine: Engine) -> None:
    for call in (
        lambda: engine.fire("no-such-case", "record", RECEPTIONIST, FORM),
        lambda: engine.get_case("no-such-case"),
        lambda: engine.history("no-such-case"),
        lambda: engine.available_events("no-such-case", RECEPTIONIST),
    ):
        with pytest.raises(UnknownCase, match="case 'no-such-case' does not exist"):
            call()


def test_unknown_event(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    refusal = assert_refused(
        engine,
        case,
        UnknownEvent,
        "recrod",
        "process 'repair' has no such event",
        lambda: engine.fire(case.id, "recrod", RECEPTIONIST, FORM),
    )
    assert "'record'" in refusal.reason  # the suggestion


def test_event_not_allowed_in_this_state(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    assert_refused(
        engine,
        case,
        EventNotAllowed,
        "return_visit",
        "not allowed in state 'received' (allowed in: signed_off)",
        lambda: engine.fire(
            case.id, "return_visit", RECEPTIONIST, {"visit_method": "phone", "visit_result": "x"}
        ),
    )


def test_role_refused(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    assert_refused(
        engine,
        case,
        RoleRefused,
        "record",
        "actor 'liu.jigong' has roles (technician) but the event needs one of: receptionist",
        lambda: engine.fire(case.id, "record", TECHNICIAN, FORM),
    )
    with pytest.raises(RoleRefused, match="holds none of the roles of process 'repair'"):
        engine.open_case("repair", IN_UNIT, Actor("nobody", {"gardener"}))


def test_guard_refused(engine: Engine, clock: ManualClock) -> None:
    case = engine.open_case("repair", {"scope": "in_unit", "unit": "3-1201"}, RECEPTIONIST)
    assert_refused(
        engine,
        case,
        GuardRefused,
        "record",
        "condition not met: Scope is “Common facilities”, or Owner / resident name is filled "
        "in (if: scope == 'public' or owner_name != null)",
        lambda: engine.fire(case.id, "record", RECEPTIONIST, FORM),
    )
    with speaking("zh-CN"), pytest.raises(GuardRefused) as refused:
        engine.fire(case.id, "record", RECEPTIONIST, FORM)
    assert refused.value.reason == (
        "条件不满足：“报修类别”为“公共设备设施”，或“住户名称”已填写"
        "（if: scope == 'public' or owner_name != null）"
    )
    assert refused.value.condition == "scope == 'public' or owner_name != null"
    # A general repair is dispatched by the maintenance supervisor, not the receptionist.
    engine.fire(case.id, "record", RECEPTIONIST, {**FORM, "owner_name": "王先生"})
    assert_refused(
        engine,
        case,
        GuardRefused,
        "dispatch",
        "condition not met",
        lambda: engine.fire(case.id, "dispatch", RECEPTIONIST, {"technician": "liu"}),
    )


def test_field_errors_unknown_ill_typed_and_missing(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    unknown = assert_refused(
        engine,
        case,
        FieldError,
        "record",
        "field 'contnet' is not on the form of process 'repair'",
        lambda: engine.fire(case.id, "record", RECEPTIONIST, {**FORM, "contnet": "x"}),
    )
    assert "'content'" in unknown.reason  # the suggestion
    ill_typed = assert_refused(
        engine,
        case,
        FieldError,
        "record",
        "field 'category' (enum)",
        lambda: engine.fire(
            case.id, "record", RECEPTIONIST, {**FORM, "category": "roof", "phone": "call me"}
        ),
    )
    assert len(ill_typed.problems) == 2  # every bad field is reported at once
    missing = assert_refused(
        engine,
        case,
        FieldError,
        "record",
        "required field 'phone' has no value",
        lambda: engine.fire(
            case.id, "record", RECEPTIONIST, {k: v for k, v in FORM.items() if k != "phone"}
        ),
    )
    assert missing.problems == ["required field 'phone' has no value"]
    with pytest.raises(FieldError, match="required field 'unit' is missing"):
        engine.open_case("repair", {"scope": "public"}, RECEPTIONIST)
    assert len(engine.query_cases()) == 1


def test_the_runtime_refusals_speak_the_language_chosen(engine: Engine) -> None:
    """The refusals a person meets (wrong role, a bad or unknown form field, a stale
    version, the system's own role) say why in Chinese as in English; the type, the case
    and the event stay the same."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM, expected_version=1)
    attempts: list[tuple[type[EventRefused], Callable[[], object]]] = [
        (RoleRefused, lambda: engine.open_case("repair", IN_UNIT, Actor("x", {"gardener"}))),
        (FieldError, lambda: engine.open_case("repair", {"scope": "public"}, RECEPTIONIST)),
        (FieldError, lambda: engine.fire(case.id, "dispatch", SUPERVISOR, {"colour": "red"})),
        (
            ConflictError,
            lambda: engine.fire(
                case.id, "dispatch", SUPERVISOR, {"technician": "liu"}, expected_version=1
            ),
        ),
        (RoleRefused, lambda: engine.fire(case.id, "dispatch", Actor("s", {"system"}), {})),
    ]
    chinese_words = ("岗位", "必填字段", "表单", "版本", "保留")
    for (kind, attempt), words in zip(attempts, chinese_words, strict=True):
        said = {}
        for language in ("en", "zh-CN"):
            with speaking(language), pytest.raises(kind) as refused:
                attempt()
            said[language] = refused.value
        english, chinese = said["en"], said["zh-CN"]
        assert (english.case_id, english.event) == (chinese.case_id, chinese.event)
        assert words in chinese.reason and words not in english.reason, chinese.reason
        assert not any("\u4e00" <= c <= "\u9fff" for c in english.reason.replace("王先生", ""))


def test_conflict_on_a_stale_expected_version(engine: Engine) -> None:

    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM, expected_version=1)
    assert_refused(
        engine,
        case,
        ConflictError,
        "dispatch",
        "the case is at version 2, not 1",
        lambda: engine.fire(
            case.id, "dispatch", SUPERVISOR, {"technician": "liu"}, expected_version=1
        ),
    )


@pytest.mark.parametrize(
    "actor",
    [
        Actor("impostor", {"system"}),
        Actor("impostor", {"system", "receptionist"}),
        Actor(SYSTEM_ACTOR.id, {"system"}),
        SYSTEM_ACTOR,
    ],
    ids=["system", "system-and-receptionist", "lookalike", "the-engine's-own"],
)
def test_the_system_role_cannot_be_claimed(engine: Engine, actor: Actor) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    assert_refused(
        engine,
        case,
        RoleRefused,
        "record",
        "the 'system' role is reserved for the engine itself",
        lambda: engine.fire(case.id, "record", actor, FORM),
    )
    with pytest.raises(RoleRefused, match="'system' role is reserved"):
        engine.open_case("repair", IN_UNIT, actor)
    assert len(engine.query_cases()) == 1


# Idempotency ------------------------------------------------------------------------------


def test_the_same_idempotency_key_twice_returns_the_same_case(
    engine: Engine, clock: ManualClock
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    first = engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1")
    later(clock)
    again = engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1")
    assert again == first
    assert len(engine.history(case.id)) == 2
    # Still the first result after the case moved on, even with a stale expected version.
    engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu"})
    retried = engine.fire(
        case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1", expected_version=1
    )
    assert retried == first
    assert len(engine.history(case.id)) == 3
    assert engine.history(case.id)[1].idempotency_key == "req-1"


def test_an_idempotent_retry_of_the_closing_event_says_when_it_closed(
    engine: Engine, clock: ManualClock
) -> None:
    case = dispatched_case(engine, clock)
    for event, actor, payload in [
        ("confirm_on_site", TECHNICIAN, {"actual_situation": "堵塞"}),
        ("finish_work", TECHNICIAN, {"work_done": "疏通", "hours": 1}),
        ("owner_accept", OWNER, {}),
        ("supervisor_sign", SUPERVISOR, {}),
    ]:
        engine.fire(case.id, event, actor, payload)
    visit = {"visit_method": "phone", "visit_result": "已修复", "satisfaction": "satisfied"}
    closed = engine.fire(case.id, "return_visit", RECEPTIONIST, visit, idempotency_key="v")
    later(clock)
    assert closed.closed_at is not None
    assert engine.fire(case.id, "return_visit", RECEPTIONIST, visit, idempotency_key="v") == closed


def test_an_idempotency_key_reused_for_another_event_is_refused(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1")
    moved = engine.get_case(case.id)
    assert_refused(
        engine,
        moved,
        IdempotencyConflict,
        "dispatch",
        "idempotency key 'req-1' was already used for event 'record'",
        lambda: engine.fire(
            case.id, "dispatch", SUPERVISOR, {"technician": "liu"}, idempotency_key="req-1"
        ),
    )


@pytest.mark.parametrize(
    ("actor", "payload", "differs"),
    [
        (RECEPTIONIST, {**FORM, "content": "卫生间漏水"}, "with another payload"),
        (Actor("wang", {"receptionist"}), FORM, "by actor"),
    ],
)
def test_an_idempotency_key_reused_with_another_payload_or_actor_is_refused(
    engine: Engine, actor: Actor, payload: dict[str, object], differs: str
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1")
    moved = engine.get_case(case.id)
    assert_refused(
        engine,
        moved,
        IdempotencyConflict,
        "record",
        differs,
        lambda: engine.fire(case.id, "record", actor, payload, idempotency_key="req-1"),
    )
    # The very same request again is a retry: its first result, nothing written.
    assert engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="req-1") == moved


def test_expected_version_of_another_type_is_a_field_error(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    for wrong in ("1", 1.0, True, [1]):
        assert_refused(
            engine,
            case,
            FieldError,
            "record",
            "expected_version is the version of the case as read, a whole number",
            lambda wrong=wrong: engine.fire(  # type: ignore[misc]
                case.id, "record", RECEPTIONIST, FORM, expected_version=wrong
            ),
        )


def test_idempotency_keys_belong_to_one_case(engine: Engine) -> None:
    one = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    two = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    first = engine.fire(one.id, "record", RECEPTIONIST, FORM, idempotency_key="k")
    second = engine.fire(two.id, "record", RECEPTIONIST, FORM, idempotency_key="k")
    assert first.id != second.id and second.version == 2


def test_a_refused_request_leaves_its_key_unused(engine: Engine) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    with pytest.raises(FieldError):
        engine.fire(case.id, "record", RECEPTIONIST, {}, idempotency_key="k")
    assert engine.fire(case.id, "record", RECEPTIONIST, FORM, idempotency_key="k").version == 2


# What may be done next --------------------------------------------------------------------


def test_available_events_lists_every_event_with_allowed_and_reason(
    engine: Engine, clock: ManualClock
) -> None:
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    definition = engine.definition("repair")
    for actor in (SUPERVISOR, RECEPTIONIST, TECHNICIAN):
        options = {o.event: o for o in engine.available_events(case.id, actor)}
        assert list(options) == list(definition.events)
        for option in options.values():
            assert option.allowed == (option.reason is None)
            assert option.target == definition.events[option.event].target
    by_supervisor = {o.event: o for o in engine.available_events(case.id, SUPERVISOR)}
    assert by_supervisor["dispatch"].allowed and by_supervisor["dispatch"].needs == ("technician",)
    assert by_supervisor["dispatch"].label == "派工"
    assert by_supervisor["transfer_to_developer"].allowed
    assert "not allowed in state 'reported'" in (by_supervisor["record"].reason or "")
    assert "needs one of" in (by_supervisor["withdraw"].reason or "")
    by_receptionist = {o.event: o for o in engine.available_events(case.id, RECEPTIONIST)}
    assert "condition not met" in (by_receptionist["dispatch"].reason or "")
    assert by_receptionist["withdraw"].allowed
    allowed = {o.event for o in engine.available_events(case.id, SUPERVISOR) if o.allowed}
    # What is offered is accepted: fire one of them with what it needs.
    assert "dispatch" in allowed
    assert engine.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu"}).state == "dispatched"


# Queries ----------------------------------------------------------------------------------


def test_query_cases_filters(engine: Engine, clock: ManualClock) -> None:
    monday = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    clock.advance(timedelta(days=1))
    tuesday = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    engine.fire(tuesday.id, "record", RECEPTIONIST, FORM)
    clock.advance(timedelta(days=1))
    wednesday = engine.open_case("complaint", _complaint_form(engine), Actor("k", _opener(engine)))

    def ids(**filters: Any) -> list[str]:
        return [case.id for case in engine.query_cases(**filters)]

    assert ids() == [wednesday.id, tuesday.id, monday.id]  # newest first
    assert ids(process="repair") == [tuesday.id, monday.id]
    assert ids(process="complaint") == [wednesday.id]
    assert ids(state="reported") == [tuesday.id]
    assert ids(process="repair", state="received") == [monday.id]
    assert ids(assignee="supervisor") == [tuesday.id]
    assert ids(assignee="nobody") == []
    assert ids(estate="standard", process="repair") == [tuesday.id, monday.id]
    assert ids(estate="tingtao") == []
    day_two = START + timedelta(days=1)
    assert ids(opened_from=day_two) == [wednesday.id, tuesday.id]
    assert ids(opened_to=day_two) == [monday.id]
    assert ids(opened_from=day_two, opened_to=day_two + timedelta(days=1)) == [tuesday.id]
    # Bounds in another timezone mean the same instants.
    utc_bound = day_two.astimezone(UTC)
    assert ids(opened_from=utc_bound, opened_to=utc_bound + timedelta(hours=1)) == [tuesday.id]
    assert ids(limit=2) == [wednesday.id, tuesday.id]
    with pytest.raises(ValueError, match="timezone"):
        engine.query_cases(opened_from=datetime(2026, 3, 1))


def _opener(engine: Engine) -> set[str]:
    """A role that may open a complaint (the first declared one)."""
    return {next(iter(engine.definition("complaint").roles))}


def _complaint_form(engine: Engine) -> dict[str, Any]:
    """Minimal valid values for the complaint form's required fields."""
    definition = engine.definition("complaint")
    values: dict[str, Any] = {}
    for fid, field in definition.fields.items():
        if field.required and field.default is None:
            values[fid] = _sample(field.type, field.values, field.items)
    return values


def _sample(kind: str, values: tuple[str, ...], items: str) -> Any:
    samples: dict[str, Any] = {
        "text": "样例",
        "bool": True,
        "int": 1,
        "money": "1.00",
        "date": "2026-03-01",
        "datetime": "2026-03-01T09:00:00+08:00",
        "phone": "13800138000",
    }
    if kind == "enum":
        return values[0]
    if kind == "list":
        return [_sample(items, values, "text")]
    return samples[kind]


# Actions and the outbox -------------------------------------------------------------------

WORKS = """\
process: works
title: {zh-CN: 工程单, en: Works order}
roles:
  clerk: {label: {zh-CN: 文员, en: Clerk}}
  engineer: {label: {zh-CN: 工程师, en: Engineer}}
fields:
  unit: {type: text, required: true, label: {zh-CN: 房号, en: Unit}}
  note: {type: text, label: {zh-CN: 备注, en: Note}}
  approved: {type: bool, default: false, label: {zh-CN: 已批准, en: Approved}}
states:
  draft:
    initial: true
    label: {zh-CN: 草稿, en: Draft}
    on_enter:
      - {notify: clerk, message: {zh-CN: 新工单, en: New works order}}
    on_exit:
      - {set: {note: left draft}}
  review:
    label: {zh-CN: 审核中, en: In review}
    on_enter:
      - {assign: engineer}
      - {notify: engineer, message: {zh-CN: 请审核, en: Please review}}
  approved:
    label: {zh-CN: 已批准, en: Approved}
    on_enter:
      - {fire: close}
  done:
    final: true
    label: {zh-CN: 完成, en: Done}
events:
  submit:
    label: {zh-CN: 提交, en: Submit}
    from: draft
    to: review
    roles: [clerk]
    actions:
      - {notify: clerk, message: {zh-CN: 已提交, en: Submitted}}
  approve:
    label: {zh-CN: 批准, en: Approve}
    from: review
    to: approved
    roles: [engineer]
    set: {approved: true}
    actions:
      - {notify: clerk, message: {zh-CN: 已批准, en: Approved}}
  close:
    label: {zh-CN: 关闭, en: Close}
    from: approved
    to: done
    roles: [system]
    actions:
      - {notify: clerk, message: {zh-CN: 已完成, en: Done}}
"""

CLERK = Actor("zheng", {"clerk"})
ENGINEER = Actor("feng", {"engineer"})


@pytest.fixture
def works(tmp_path: Path, store_url: str, clock: ManualClock) -> Iterator[Engine]:
    """An engine on a one-process library with entry, exit, event and chained actions."""
    library = tmp_path / "works"
    library.mkdir()
    (library / "works.yaml").write_text(WORKS, encoding="utf-8")
    built = Engine(library=library, store=store_url, clock=clock)
    yield built
    built.close()


def test_entry_exit_and_event_actions_are_logged_and_notifications_land_in_the_outbox(
    works: Engine, clock: ManualClock
) -> None:
    case = works.open_case("works", {"unit": "1-101"}, CLERK)
    opened = works.history(case.id)[0]
    message = {"zh-CN": "新工单", "en": "New works order"}
    assert opened.actions == [
        {"hook": "enter", "kind": "notify", "role": "clerk", "message": message}
    ]
    later(clock)
    case = works.fire(case.id, "submit", CLERK)
    assert (case.state, case.assignee, case.data["note"]) == ("review", "engineer", "left draft")
    submitted = works.history(case.id)[1]
    assert [(a["hook"], a["kind"]) for a in submitted.actions] == [
        ("event", "notify"),
        ("exit", "set"),
        ("enter", "assign"),
        ("enter", "notify"),
    ]
    assert submitted.changes == {"note": "left draft"}
    outbox = works.outbox(case.id)
    # Each names the process and the case, then says what, then to whom.
    assert [(o.kind, o.role, o.message) for o in outbox] == [
        ("notify", "clerk", f"工程单 {case.id}：新工单，通知文员"),
        ("notify", "clerk", f"工程单 {case.id}：已提交，通知文员"),
        ("notify", "engineer", f"工程单 {case.id}：请审核，通知工程师"),
    ]
    assert all(o.case_id == case.id and o.delivered_at is None for o in outbox)
    assert outbox[0].created_at == START and outbox[1].created_at == clock.now()
    log_seqs = [entry.seq for entry in works.history(case.id)]
    assert [o.log_seq for o in outbox] == [log_seqs[0], log_seqs[1], log_seqs[1]]
    check_consistent(works, case.id)


def test_a_fire_action_chains_an_event_as_the_system(works: Engine, clock: ManualClock) -> None:
    case = works.open_case("works", {"unit": "1-101"}, CLERK)
    works.fire(case.id, "submit", CLERK)
    later(clock)
    case = works.fire(case.id, "approve", ENGINEER, idempotency_key="approve-1")
    assert (case.state, case.version, case.data["approved"]) == ("done", 4, True)
    assert case.closed_at == clock.now()
    approve, close = works.history(case.id)[2:]
    assert (approve.event, approve.role, approve.to_state) == ("approve", "engineer", "approved")
    assert (close.event, close.actor_id, close.role) == ("close", SYSTEM_ACTOR.id, "system")
    assert [a["kind"] for a in approve.actions] == ["notify", "fire"]
    assert approve.actions[1] == {"hook": "enter", "kind": "fire", "event": "close"}
    # Each notification points at the log entry whose action wrote it.
    approved, done = works.outbox(case.id)[-2:]
    assert (approved.message, approved.log_seq) == (
        f"工程单 {case.id}：已批准，通知文员",
        approve.seq,
    )
    assert (done.message, done.log_seq) == (f"工程单 {case.id}：已完成，通知文员", close.seq)
    # The retry of the request that chained the event returns the same result.
    later(clock)
    assert works.fire(case.id, "approve", ENGINEER, idempotency_key="approve-1") == case
    assert len(works.history(case.id)) == 4
    check_consistent(works, case.id)


AUTOSTART = """\
process: autostart
title: {zh-CN: 自动开始, en: Autostart}
roles:
  clerk: {label: {zh-CN: 文员, en: Clerk}}
fields:
  unit: {type: text, required: true, label: {zh-CN: 房号, en: Unit}}
states:
  new:
    initial: true
    label: {zh-CN: 新建, en: New}
    on_enter:
      - {fire: start}
  started:
    label: {zh-CN: 已开始, en: Started}
    on_enter:
      - {notify: clerk, message: {zh-CN: 已开始, en: Started}}
  done: {final: true, label: {zh-CN: 完成, en: Done}}
events:
  start:
    label: {zh-CN: 开始, en: Start}
    from: new
    to: started
    roles: [system]
  finish:
    label: {zh-CN: 完成, en: Finish}
    from: started
    to: done
    roles: [clerk]
"""


def test_a_fire_action_of_the_initial_state_runs_when_the_case_opens(
    tmp_path: Path, store_url: str, clock: ManualClock
) -> None:
    (tmp_path / "autostart.yaml").write_text(AUTOSTART, encoding="utf-8")
    engine = Engine(library=tmp_path, store=store_url, clock=clock)
    try:
        case = engine.open_case("autostart", {"unit": "1"}, CLERK)
        assert (case.state, case.version) == ("started", 2)
        assert [(e.event, e.role) for e in engine.history(case.id)] == [
            ("open", "clerk"),
            ("start", "system"),
        ]
        started = f"自动开始 {case.id}：已开始，通知文员"
        assert [o.message for o in engine.outbox(case.id)] == [started]
        check_consistent(engine, case.id)
    finally:
        engine.close()


# Definition versions ----------------------------------------------------------------------


def test_a_definition_change_never_breaks_a_running_case(
    tmp_path: Path, store_url: str, clock: ManualClock
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "valid" / "leak.yaml", library / "leak.yaml")
    receptionist = Actor("li", {"receptionist"})
    technician = Actor("liu", {"technician"})
    old_engine = Engine(library=library, store=store_url, clock=clock)
    old = old_engine.open_case("leak", {"unit": "1-101"}, receptionist)
    old_engine.close()

    # The state 'fixing' is renamed 'repairing' and dispatch now needs a note.
    text = (library / "leak.yaml").read_text(encoding="utf-8")
    text = text.replace("fixing", "repairing").replace(
        "  fixed_at:", "  note: {type: text, label: {zh-CN: 备注, en: Note}}\n  fixed_at:"
    )
    text = text.replace(
        "    roles: [receptionist]\n", "    roles: [receptionist]\n    requires: [note]\n"
    )
    (library / "leak.yaml").write_text(text, encoding="utf-8")
    new_engine = Engine(library=library, store=store_url, clock=clock)
    try:
        assert "repairing" in new_engine.definition("leak").states
        new = new_engine.open_case("leak", {"unit": "1-102"}, receptionist)
        assert new.definition_version != old.definition_version
        assert new.definition_version == new_engine.definition_version("leak")

        # The old case runs on the definition it was opened on...
        moved = new_engine.fire(old.id, "dispatch", receptionist)
        assert (moved.state, moved.definition_version) == ("fixing", old.definition_version)
        options = {o.event: o for o in new_engine.available_events(old.id, technician)}
        assert options["finish"].allowed and options["finish"].needs == ("fixed_at",)
        with pytest.raises(FieldError, match="field 'note' is not on the form"):
            new_engine.fire(old.id, "finish", technician, {"note": "x"})
        done = new_engine.fire(
            old.id, "finish", technician, {"fixed_at": "2026-03-02T11:00:00+08:00"}
        )
        assert done.state == "closed"
        # ... and new cases on the new one.
        with pytest.raises(FieldError, match="required field 'note' has no value"):
            new_engine.fire(new.id, "dispatch", receptionist)
        assert new_engine.fire(new.id, "dispatch", receptionist, {"note": "急"}).state == (
            "repairing"
        )
        check_consistent(new_engine, old.id)
        check_consistent(new_engine, new.id)
    finally:
        new_engine.close()


def test_two_engines_with_two_stores_never_see_each_others_cases(
    make_store_url: Callable[[], str], clock: ManualClock
) -> None:
    first = Engine(validated_library(), store=make_store_url(), clock=clock)
    second = Engine(validated_library(), store=make_store_url(), clock=clock)
    try:
        one = first.open_case("repair", IN_UNIT, RECEPTIONIST)
        two = second.open_case("repair", IN_UNIT, RECEPTIONIST)
        assert [c.id for c in first.query_cases()] == [one.id]
        assert [c.id for c in second.query_cases()] == [two.id]
        with pytest.raises(UnknownCase):
            second.fire(one.id, "record", RECEPTIONIST, FORM)
        with pytest.raises(UnknownCase):
            first.get_case(two.id)
        first.fire(one.id, "record", RECEPTIONIST, FORM)
        assert second.get_case(two.id).version == 1
        assert first.outbox() == [] and second.outbox() == []
    finally:
        first.close()
        second.close()


def test_two_engines_on_one_store_share_its_cases(store_url: str, clock: ManualClock) -> None:
    first = Engine(validated_library(), store=store_url, clock=clock)
    second = Engine(validated_library(), store=store_url, clock=clock)
    try:
        case = first.open_case("repair", IN_UNIT, RECEPTIONIST)
        assert second.fire(case.id, "record", RECEPTIONIST, FORM).version == 2
        with pytest.raises(ConflictError):
            first.fire(case.id, "dispatch", SUPERVISOR, {"technician": "x"}, expected_version=1)
    finally:
        first.close()
        second.close()


# A case read whole ---------------------------------------------------------------------------


def test_the_case_view_is_the_case_its_clocks_links_and_trail(
    engine: Engine, clock: ManualClock
) -> None:
    case = dispatched_case(engine, clock)
    later(clock, 120)
    view = engine.case_view(case.id)
    assert view.case == engine.get_case(case.id)
    assert view.clocks == engine.sla_status(case.id)
    assert view.clocks, "a dispatched repair has running clocks"
    assert view.links == engine.links(case.id)
    assert view.history == engine.history(case.id)
    assert [entry.version for entry in view.history] == list(range(1, view.case.version + 1))


def test_the_case_view_reads_one_moment_while_another_writer_commits(
    engine: Engine, clock: ManualClock, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event committed by another engine between the view's reads of the case and of
    its trail is in neither: the trail ends at the case's version (``GET /cases/{id}``
    gives this view, its ETag the case's version)."""
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    later(clock)
    engine.fire(case.id, "record", RECEPTIONIST, FORM)
    other = Engine(validated_library(), store=store_url, clock=clock)
    read_clocks = Store.clocks
    fired: list[int] = []

    def clocks_then_an_event(store: Store, *args: Any, **kwargs: Any) -> list[ClockRecord]:
        found = read_clocks(store, *args, **kwargs)
        if not fired:  # once, between the view's reads
            later(clock, 5)
            moved = other.fire(case.id, "dispatch", SUPERVISOR, {"technician": "liu.jigong"})
            fired.append(moved.version)
        return found

    monkeypatch.setattr(Store, "clocks", clocks_then_an_event)
    try:
        view = engine.case_view(case.id)
    finally:
        other.close()
    monkeypatch.undo()
    assert fired == [view.case.version + 1], "the event committed while the view was read"
    assert view.case.state == "reported"
    assert len(view.history) == view.case.version
    assert view.history[-1].event == "record"
    after = engine.case_view(case.id)
    assert (after.case.state, after.history[-1].event) == ("dispatched", "dispatch")
    assert len(after.history) == after.case.version == view.case.version + 1


def test_a_database_from_another_schema_is_refused_when_the_store_opens(store_url: str) -> None:
    """A database with tables but no schema revision (as PropFlow 0.1.0 left them): refused
    when the store opens, naming the command that upgrades it, not a database error on some
    later event (tests/test_store_migrations.py upgrades a real one)."""
    older = sqlalchemy.create_engine(store_url)
    with older.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE cases (id VARCHAR(36) PRIMARY KEY, estate TEXT)")
    older.dispose()
    with pytest.raises(SchemaOutOfDate, match=r"revision 0001; .* run 'propflow db upgrade"):
        Engine(validated_library(), store=store_url)


# Payload types ----------------------------------------------------------------------------

FORMS = """\
process: forms
title: {zh-CN: 表单, en: Form}
roles:
  clerk: {label: {zh-CN: 文员, en: Clerk}}
fields:
  unit: {type: text, required: true, label: {zh-CN: 房号, en: Unit}}
  kind: {type: enum, values: [a, b], label: {zh-CN: 类别, en: Kind}}
  flag: {type: bool, label: {zh-CN: 标记, en: Flag}}
  count: {type: int, min: 0, max: 10, label: {zh-CN: 数量, en: Count}}
  fee: {type: money, min: 0, label: {zh-CN: 费用, en: Fee}}
  due: {type: date, label: {zh-CN: 日期, en: Due}}
  at: {type: datetime, label: {zh-CN: 时间, en: At}}
  phone: {type: phone, label: {zh-CN: 电话, en: Phone}}
  note: {type: text, label: {zh-CN: 备注, en: Note}}
  parts: {type: list, label: {zh-CN: 材料, en: Parts}}
  counts: {type: list, items: int, label: {zh-CN: 数量表, en: Counts}}
states:
  open: {initial: true, label: {zh-CN: 办理中, en: Open}}
  done: {final: true, label: {zh-CN: 完成, en: Done}}
events:
  fill:
    label: {zh-CN: 填写, en: Fill in}
    from: open
    roles: [clerk]
    accepts: [kind, flag, count, fee, due, at, phone, note, parts, counts]
  close:
    label: {zh-CN: 关闭, en: Close}
    from: open
    to: done
    roles: [clerk]
    if: "fee > 100 and due < '2026-04-01' and at >= '2026-03-02T00:00:00+08:00'"
    accepts: [fee]
"""

ACCEPTED: list[tuple[str, Any, Any]] = [
    ("kind", "a", "a"),
    ("flag", True, True),
    ("flag", False, False),
    ("count", 0, 0),
    ("count", 10, 10),
    ("fee", Decimal("12.5"), "12.50"),
    ("fee", "99.99", "99.99"),
    ("fee", 7, "7.00"),
    ("fee", 0.5, "0.50"),
    ("fee", 10**30, f"{10**30}.00"),
    ("due", date(2026, 3, 31), "2026-03-31"),
    ("due", "2026-03-31", "2026-03-31"),
    ("at", datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), "2026-03-02T10:00:00+08:00"),
    ("at", "2026-03-02T02:00:00Z", "2026-03-02T02:00:00+00:00"),
    ("at", "2026-03-02 10:00+08:00", "2026-03-02T10:00:00+08:00"),
    ("phone", "+86 138-0013-8000", "+86 138-0013-8000"),
    ("phone", "021 6888 8888", "021 6888 8888"),
    ("note", "漏水严重", "漏水严重"),
    ("note", "", ""),
    ("parts", ["管件", "胶带"], ["管件", "胶带"]),
    ("parts", [], []),
    ("counts", [1, 2], [1, 2]),
    ("note", None, None),
]

REFUSED: list[tuple[str, Any]] = [
    ("kind", "c"),
    ("kind", 1),
    ("flag", "yes"),
    ("flag", 1),
    ("count", "3"),
    ("count", 3.0),
    ("count", True),
    ("count", -1),
    ("count", 11),
    ("fee", "12.345"),
    ("fee", "twelve"),
    ("fee", -1),
    ("fee", True),
    ("fee", "NaN"),
    ("fee", float("inf")),
    ("due", "31/03/2026"),
    ("due", "2026-02-30"),
    ("due", 20260331),
    ("due", 1774915200),  # a Unix timestamp at midnight UTC
    ("due", "1774915200"),
    ("due", b"2026-03-31"),
    ("due", datetime(2026, 3, 31, 10, 0, tzinfo=SHANGHAI)),
    ("at", datetime(2026, 3, 2, 10, 0)),
    ("at", "2026-03-02T10:00:00"),
    ("at", "2026-03-02"),
    ("at", 1772416800),
    ("at", "1772416800"),
    ("at", 1772416800.5),
    ("at", "tomorrow"),
    ("phone", "call me"),
    ("phone", 13800138000),
    ("phone", "12"),
    ("note", 5),
    ("note", ["a"]),
    ("parts", "管件"),
    ("parts", [1]),
    ("parts", {"a": 1}),
    ("counts", ["1"]),
]


@pytest.fixture
def forms(tmp_path: Path, store_url: str, clock: ManualClock) -> Iterator[Engine]:
    library = tmp_path / "forms"
    library.mkdir()
    (library / "forms.yaml").write_text(FORMS, encoding="utf-8")
    built = Engine(library=library, store=store_url, clock=clock)
    yield built
    built.close()


def test_payload_types_accepted_and_stored_exactly(forms: Engine) -> None:
    clerk = Actor("zheng", {"clerk"})
    case = forms.open_case("forms", {"unit": "1"}, clerk)
    for name, value, stored in ACCEPTED:
        case = forms.fire(case.id, "fill", clerk, {name: value})
        assert case.data[name] == stored, (name, value)
        assert forms.get_case(case.id).data[name] == stored, (name, value)
        assert forms.history(case.id)[-1].payload == {name: stored}
    check_consistent(forms, case.id)


def test_payload_types_refused(forms: Engine) -> None:
    clerk = Actor("zheng", {"clerk"})
    case = forms.open_case("forms", {"unit": "1"}, clerk)
    for name, value in REFUSED:
        before = snapshot(forms, case.id)
        with pytest.raises(FieldError, match=f"field '{name}'") as caught:
            forms.fire(case.id, "fill", clerk, {name: value})
        assert caught.value.problems[0].startswith(f"field '{name}' ("), (name, value)
        assert snapshot(forms, case.id) == before, (name, value)
    with pytest.raises(FieldError, match="field 'count'"):
        forms.open_case("forms", {"unit": "1", "count": "many"}, clerk)


def test_guards_compare_typed_values_not_text(forms: Engine) -> None:
    clerk = Actor("zheng", {"clerk"})
    case = forms.open_case("forms", {"unit": "1"}, clerk)
    # As text '99.00' > '100' would hold; as money it does not.
    forms.fire(
        case.id, "fill", clerk, {"fee": "99", "due": "2026-03-31", "at": "2026-03-02T09:00+08:00"}
    )
    with pytest.raises(GuardRefused):
        forms.fire(case.id, "close", clerk)
    assert forms.fire(case.id, "close", clerk, {"fee": "100.01"}).state == "done"
