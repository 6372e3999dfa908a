"""Hostile calls of the public API and the CLI's case commands: arbitrary values anywhere.

Whatever a caller hands the engine, the answer is a result or one of PropFlow's own typed
errors (:class:`PropflowError`): never a ``TypeError``, ``AttributeError``, ``ValueError``,
``OverflowError``, ``RecursionError`` or a raw database error.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.runtime import Actor, Engine, FieldError, ManualClock, PropflowError
from engine.runtime.forms import MAX_TEXT_CHARS
from engine.store import (
    Store,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreSchemaMismatch,
)
from tests.conftest import run_cli, validated_library
from tests.postgres import PostgresServer

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
RECEPTIONIST = Actor("li", {"receptionist"})
IN_UNIT = {"scope": "in_unit", "unit": "3-1201", "owner_name": "王先生"}
FORM = {"phone": "138 0013 8000", "content": "厨房下水道堵塞", "location": "厨房"}

#: Anything a caller might pass: scalars of every kind (lone surrogates and far-off dates
#: included), and lists and mappings of them, with keys that are not text.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1),
    st.binary(max_size=5),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(["record", "dispatch", "repair", "receptionist", "response", "3 workdays"]),
)
HASHABLE = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.tuples())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(HASHABLE, inner, max_size=4),
        st.dictionaries(st.sampled_from([*sorted(FORM), "unit", "scope"]), inner, max_size=4),
        st.frozensets(HASHABLE, max_size=3),
    ),
    max_leaves=8,
)
ACTORS = st.one_of(st.just(RECEPTIONIST), st.just(Actor("chen", {"supervisor"})), VALUES)


def _typed_or_fine(call: Callable[[], object]) -> None:
    """Run ``call``: any result, or a PropflowError, and nothing else."""
    with contextlib.suppress(PropflowError):
        call()


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(validated_library(), store="sqlite://", clock=ManualClock(START))


@pytest.fixture(scope="module")
def case_id(engine: Engine) -> str:
    return engine.open_case("repair", IN_UNIT, RECEPTIONIST).id


HOSTILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@HOSTILE
@given(id=VALUES, roles=VALUES)
def test_actors_are_made_or_refused_typed(id: Any, roles: Any) -> None:
    _typed_or_fine(lambda: Actor(id, roles))


@HOSTILE
@given(process=st.one_of(st.just("repair"), VALUES), data=VALUES, actor=ACTORS)
def test_open_case_with_anything(engine: Engine, process: Any, data: Any, actor: Any) -> None:
    _typed_or_fine(lambda: engine.open_case(process, data, actor))


@HOSTILE
@given(
    case=st.one_of(st.none(), VALUES),
    event=st.one_of(st.just("record"), VALUES),
    actor=ACTORS,
    payload=st.one_of(st.just(FORM), VALUES),
    key=st.one_of(st.none(), st.just("k"), VALUES),
    version=st.one_of(st.none(), VALUES),
)
def test_fire_with_anything(
    engine: Engine,
    case_id: str,
    case: Any,
    event: Any,
    actor: Any,
    payload: Any,
    key: Any,
    version: Any,
) -> None:
    target = case_id if case is None else case
    _typed_or_fine(
        lambda: engine.fire(
            target, event, actor, payload, idempotency_key=key, expected_version=version
        )
    )


@HOSTILE
@given(
    limit=st.one_of(st.just("response"), VALUES),
    actor=ACTORS,
    reason=st.one_of(st.just("the owner asked"), VALUES),
    by=st.one_of(st.none(), st.just("99999 days"), VALUES),
    until=st.one_of(st.none(), VALUES),
    consents=st.one_of(st.just(()), VALUES),
)
def test_extend_with_anything(
    engine: Engine,
    case_id: str,
    limit: Any,
    actor: Any,
    reason: Any,
    by: Any,
    until: Any,
    consents: Any,
) -> None:
    _typed_or_fine(
        lambda: engine.extend(
            case_id, limit, actor, reason=reason, by=by, until=until, consents=consents
        )
    )


@HOSTILE
@given(
    case=VALUES,
    actor=ACTORS,
    moment=VALUES,
    filters=st.dictionaries(
        st.sampled_from(
            ["estate", "process", "state", "assignee", "opened_from", "opened_to", "limit"]
        ),
        VALUES,
        max_size=3,
    ),
)
def test_reading_with_anything(
    engine: Engine, case: Any, actor: Any, moment: Any, filters: dict[str, Any]
) -> None:
    _typed_or_fine(lambda: engine.get_case(case))
    _typed_or_fine(lambda: engine.history(case))
    _typed_or_fine(lambda: engine.links(case))
    _typed_or_fine(lambda: engine.available_events(case, actor))
    _typed_or_fine(lambda: engine.sla_status(case, moment))
    _typed_or_fine(lambda: engine.query_cases(**filters))
    _typed_or_fine(lambda: engine.definition(case))


def test_a_filter_no_database_can_store_matches_no_case(engine: Engine) -> None:
    """A lone surrogate cannot be encoded for the database: no case has it, so nothing
    matches (it used to leave as a bare UnicodeEncodeError)."""
    for name in ("estate", "process", "state", "assignee"):
        assert engine.query_cases(**{name: "\ud800"}) == []


#: What a library or an estate argument might be, short of a directory to validate (each
#: of those takes a while): values of other kinds, missing paths, unencodable names.
NOT_DIRECTORIES = st.one_of(
    st.integers(),
    st.binary(max_size=4),
    st.dictionaries(HASHABLE, SCALARS, max_size=2),
    st.sampled_from(["nowhere/at/all", "\ud800", Path("nowhere"), ["nowhere", 3]]),
)


@settings(max_examples=60, deadline=None)
@given(
    library=st.one_of(st.just(validated_library()), NOT_DIRECTORIES),
    store=st.one_of(st.just("sqlite://"), VALUES),
    estate=st.one_of(st.none(), NOT_DIRECTORIES),
)
def test_engines_are_made_or_refused_typed(library: Any, store: Any, estate: Any) -> None:
    # Text as a store is a SQLite file name: made in a scratch directory, not the checkout.
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        _typed_or_fine(lambda: Engine(library, store=store, estate=estate).close())


def test_an_engine_on_a_missing_directory_is_refused_typed(tmp_path: Path) -> None:
    with pytest.raises(PropflowError, match="no such file or directory"):
        Engine(tmp_path / "nowhere", store="sqlite://")
    with pytest.raises(PropflowError, match="validated library"):
        Engine(validated_library(), store="sqlite://", estate=tmp_path)


def test_the_end_of_time_is_a_typed_refusal() -> None:
    """A clock near year 9999: deadlines cannot be counted, and say so."""
    late = Engine(
        validated_library(),
        store="sqlite://",
        clock=ManualClock(datetime(9999, 12, 30, tzinfo=timezone(timedelta(hours=8)))),
    )
    _typed_or_fine(lambda: late.open_case("repair", IN_UNIT, RECEPTIONIST))
    for case in late.query_cases():
        _typed_or_fine(lambda case=case: late.sla_status(case.id))  # type: ignore[misc]
        _typed_or_fine(
            lambda case=case: late.fire(case.id, "record", RECEPTIONIST, FORM)  # type: ignore[misc]
        )


def test_a_huge_text_value_is_a_field_error(engine: Engine) -> None:
    with pytest.raises(FieldError, match="at most 100,000"):
        engine.open_case(
            "repair", {**IN_UNIT, "owner_name": "x" * (MAX_TEXT_CHARS + 1)}, RECEPTIONIST
        )
    with pytest.raises(FieldError, match="lone surrogate"):
        engine.open_case("repair", {**IN_UNIT, "owner_name": "a\ud800"}, RECEPTIONIST)


# The store's faults, typed -------------------------------------------------------------------


def _sqlite_store(path: Path, pragma: str) -> Engine:
    """An engine on a SQLite file whose every new connection runs ``pragma`` (the way
    SQLite itself is told to refuse writes or to stop growing)."""
    engine = Engine(validated_library(), store=f"sqlite:///{path}", clock=ManualClock(START))
    sqlalchemy.event.listen(
        engine.store.engine, "connect", lambda connection, _: connection.execute(pragma)
    )
    engine.store.engine.dispose()
    return engine


def test_a_read_only_database_is_a_typed_error(tmp_path: Path) -> None:
    engine = _sqlite_store(tmp_path / "ro.db", "PRAGMA query_only=ON")
    with pytest.raises(StoreReadOnly):
        engine.open_case("repair", IN_UNIT, RECEPTIONIST)


def test_a_database_error_inside_a_tick_leaves_typed(tmp_path: Path) -> None:
    """A timer whose writes the database fails on (here a trigger calling a function that
    raises: SQLite's OperationalError, as a disk error gives) fails inside the tick's batch;
    the tick saves what fired before it and raises the store's typed error."""
    path = tmp_path / "failing.db"
    engine = Engine(validated_library(), store=f"sqlite:///{path}", clock=ManualClock(START))
    case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    assert engine.store.pending_timers(case.id)
    with sqlite3.connect(path) as connection:
        connection.create_function("fail", 0, lambda: None)
        connection.execute(
            "CREATE TRIGGER failing BEFORE INSERT ON case_log BEGIN SELECT fail(); END"
        )

    def failing(connection: sqlite3.Connection, _record: object) -> None:
        connection.create_function("fail", 0, lambda: 1 / 0)

    sqlalchemy.event.listen(engine.store.engine, "connect", failing)
    engine.store.engine.dispose()
    with pytest.raises(StoreError):
        engine.tick(START + timedelta(days=30))


def test_a_full_database_is_a_typed_error(tmp_path: Path) -> None:
    engine = Engine(
        validated_library(), store=f"sqlite:///{tmp_path / 'full.db'}", clock=ManualClock(START)
    )
    pages = sqlite3.connect(tmp_path / "full.db").execute("PRAGMA page_count").fetchone()[0]
    engine.close()
    engine = _sqlite_store(tmp_path / "full.db", f"PRAGMA max_page_count={pages}")
    with pytest.raises(StoreFull):
        for _ in range(200):
            engine.open_case("repair", {**IN_UNIT, "owner_name": "王" * 5000}, RECEPTIONIST)


def test_a_database_of_another_schema_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:  # as a newer PropFlow's upgrade would leave it
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreSchemaMismatch, match="9999"):
        Store(f"sqlite:///{path}")


def test_a_store_error_is_a_propflow_error() -> None:
    assert issubclass(StoreError, PropflowError)
    with pytest.raises(PropflowError):
        Store("nosuchdialect://x")


# The CLI's case commands ---------------------------------------------------------------------


def test_cli_case_commands_refuse_hostile_input_without_a_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "cases.db")
    deep = "[" * 50_000 + "]" * 50_000
    opening = ["case", "open", "repair", "--db", db]
    desk = [*opening, "--role", "receptionist"]
    attempts = [
        [*desk, "--actor", ""],
        [*opening, "--role", "", "--actor", "li"],
        [*desk, "--data", deep],
        [*desk, "--data", '{"unit": ' + deep + "}"],
        [*desk, "--data", "[1, 2]"],
        [*desk, "--data", json.dumps({**IN_UNIT, "owner_name": "\ud800"})],
        ["case", "show", "\ud800", "--db", db],
        ["case", "fire", "nope", "record", "--db", db, "--role", "receptionist"],
    ]
    for args in attempts:
        result = run_cli(args)
        assert result.exit_code in (1, 2), (args[:4], result.output)
        assert "Traceback" not in result.output


# PostgreSQL: the README's URL form, and its faults typed by SQLSTATE -----------------------


def test_the_readme_url_form_opens_a_postgresql_store(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    assert url.startswith("postgresql://") and "+" not in url.split("://")[0]
    engine = Engine(validated_library(), store=url, clock=ManualClock(START))
    try:
        assert engine.store.engine.dialect.driver == "psycopg"
        case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)
        assert engine.get_case(case.id).state == case.state
    finally:
        engine.close()
        postgres_server.drop_database(url)


def test_a_url_naming_psycopg2_keeps_it_and_writes_through_it(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    clock = ManualClock(START)
    store = Store(url.replace("postgresql://", "postgresql+psycopg2://"))
    engine = Engine(validated_library(), store=store, clock=clock)
    try:
        assert store.engine.dialect.driver == "psycopg2"
        case = engine.open_case("repair", IN_UNIT, RECEPTIONIST)  # the batch statements
        clock.advance(timedelta(days=30))
        assert engine.tick().fired >= 1  # a batch of timers, its rows as arrays
        assert engine.get_case(case.id).version > 1 and engine.outbox(case.id)
    finally:
        engine.close()
        postgres_server.drop_database(url)


def test_a_read_only_postgresql_database_is_a_typed_error(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.create_database()
    engine = Engine(validated_library(), store=url, clock=ManualClock(START))
    try:
        name = url.rsplit("/", 1)[1]
        with engine.store.engine.connect() as connection:
            connection.execute(
                sqlalchemy.text(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
            )
            connection.commit()
        engine.store.engine.dispose()
        with pytest.raises(StoreReadOnly):
            engine.open_case("repair", IN_UNIT, RECEPTIONIST)
    finally:
        engine.close()
        postgres_server.drop_database(url)


CLI_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "-", "--", "receptionist", "system", "repair", "{}", "[]", "null"]),
)
JSON_TEXT = st.one_of(
    CLI_TEXT,
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=6,
    ).map(lambda value: json.dumps(value)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.sampled_from(["open", "fire", "show", "events", "history"]),
    actor=CLI_TEXT,
    role=CLI_TEXT,
    data=JSON_TEXT,
    target=CLI_TEXT,
)
def test_cli_case_commands_with_anything(
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    actor: str,
    role: str,
    data: str,
    target: str,
) -> None:
    """Any text for the case commands' arguments: exit 0, 1 or 2 with a message, never an
    exception."""
    db = str(tmp_path_factory.mktemp("cli") / "cases.db")
    who = ["--actor", actor, "--role", role]
    args = {
        "open": ["case", "open", target or "repair", "--db", db, *who, "--data", data],
        "fire": ["case", "fire", target, "record", "--db", db, *who, "--data", data],
        "show": ["case", "show", target, "--db", db],
        "events": ["case", "events", target, "--db", db, *who],
        "history": ["case", "history", target, "--db", db],
    }[command]
    result = run_cli(args)
    assert result.exit_code in (0, 1, 2), result.output
