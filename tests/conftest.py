"""Shared test helpers: run the real CLI in-process and read its exit code and output, build
engines from libraries validated once per session, and give tests a store of each backend."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from engine.checks.validation import validate_library
from engine.cli import main
from engine.diagnostics.language import use_language
from engine.io.library import ValidatedLibrary
from engine.store import Store
from tests.postgres import PostgresServer, start_server
from tests.service_harness import LiveServer

ROOT = Path(__file__).resolve().parent.parent
#: The start of a scenario file the scenario tests append steps to: a repair opened by a
#: receptionist.
SCENARIO_HEAD = """\
scenario: story
start: 2026-02-13T10:00+08:00
actors:
  li: [receptionist]
steps:
  - open: {process: repair, as: leak, actor: li, data: {scope: in_unit, unit: "1", owner_name: 陈}}
"""


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    output: str


def run_cli(args: Sequence[str], env: dict[str, str] | None = None) -> CliResult:
    """Invoke ``propflow ARGS`` in-process, as a user would from a shell."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return CliResult(result.exit_code, result.output)


@pytest.fixture
def cli() -> object:
    return run_cli


# Libraries: validated once per session ------------------------------------------------------


@functools.cache
def validated_library(estate: str | None = None) -> ValidatedLibrary:
    """The shipped library, or the example estate ``estate`` merged over it, validated once
    per session: the engines of every test are built from the one value (the files never
    change during a run, and engines only read their library)."""
    return validate_library(estate=ROOT / "estates" / estate if estate is not None else None)


# Stores: SQLite and a real, throwaway PostgreSQL server ------------------------------------

STORE_BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole session (skipped, or failed under CI, when
    the server binaries are not installed)."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=STORE_BACKENDS)
def store_backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on; the PostgreSQL server starts only when needed."""
    backend: str = request.param
    return backend


@pytest.fixture
def make_store_url(
    store_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of the test's backend (one per call)."""
    made: list[str] = []
    server: PostgresServer | None = (
        request.getfixturevalue("postgres_server") if store_backend == "postgresql" else None
    )
    names = iter(range(1, 1_000))

    def make() -> str:
        if server is None:
            url = f"sqlite:///{tmp_path / f'cases-{next(names)}.db'}"
        else:
            url = server.create_database()
        made.append(url)
        return url

    yield make
    if server is not None:
        for url in made:
            server.drop_database(url)


@pytest.fixture
def store_url(make_store_url: Callable[[], str]) -> str:
    """A fresh, empty database for one test: a SQLite file, or a new PostgreSQL database."""
    return make_store_url()


# A module's own store and working directory (the service tests' deployment lives there),
# and an HTTP client of the module's ``server`` fixture ----------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def store(workdir: Path) -> Iterator[Store]:
    """A SQLite store in the module's working directory, as its deployment file names it."""
    handle = Store(f"sqlite:///{workdir / 'cases.db'}")
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    """An HTTP client of the module's live ``server``."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


@pytest.fixture(autouse=True)
def _process_language_restored() -> Iterator[None]:
    """A command run in-process (``--lang zh-CN``) chooses the language for the whole
    process; each test starts from the default again, as each real command does."""
    yield
    use_language(None)
