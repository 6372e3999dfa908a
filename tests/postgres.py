"""A throwaway PostgreSQL server for the store tests: started once per session, deleted after.

The tests prove the runtime on a real server, not a mock: ``initdb`` a data directory in a
temporary directory, start ``postgres`` on a free TCP port on 127.0.0.1 (and a unix socket
in the same temporary directory), create one database per test, and stop and delete it all
at the end. Nothing touches a server the machine may already run.

PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` user
(``runuser -u postgres --``), which Debian's ``postgresql`` package creates.

When the server binaries are missing the PostgreSQL tests are skipped with a loud reason,
except under CI (``CI=true``), where a skip would hide that half the store was never tested:
there the harness fails instead.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

MISSING = "PostgreSQL server binaries not found; install Debian's postgresql package — .ci/run does"

#: Where distributions put the server binaries when they are not on PATH (Debian and Ubuntu:
#: /usr/lib/postgresql/<major>/bin; RPM packages: /usr/pgsql-<major>/bin; source builds).
SEARCH_GLOBS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql*/bin",
    "/usr/local/opt/postgresql*/bin",
)


def in_ci() -> bool:
    """Whether we run under CI, where a missing server must fail rather than skip."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def skip_or_fail(reason: str) -> NoReturn:
    """Skip loudly, or fail under CI (a silently skipped PostgreSQL run proves nothing)."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pytest.skip raises


def _version_key(directory: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", directory)) or (0,)


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH first, then the usual places,
    newest major version first."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    candidates: list[str] = []
    for pattern in SEARCH_GLOBS:
        candidates.extend(glob.glob(pattern))
    for directory in sorted(candidates, key=_version_key, reverse=True):
        path = Path(directory)
        if (path / "pg_ctl").is_file() and (path / "initdb").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One private server: ``start()``, ``create_database()`` per test, ``stop()``."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="propflow-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = 0
        self.user = "postgres"
        self._as_postgres = os.geteuid() == 0
        self._names = itertools.count(1)

    # Running the server binaries ----------------------------------------------------------

    def _run(self, tool: str, args: Sequence[str], timeout: float = 120) -> None:
        command = [str(self.bin_dir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{log}"
            )

    def start(self) -> None:
        self.sockets.mkdir()
        if self._as_postgres:
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root needs runuser (util-linux) to drop to postgres")
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
            self.root.chmod(0o755)
        self._run(
            "initdb",
            [
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        )
        # The server itself is never killed by the tests (only its clients are), so its own
        # fsync buys nothing here and costs seconds; every other setting is the default.
        last_error: Exception | None = None
        for _attempt in range(5):
            self.port = _free_port()
            try:
                self._start()
                return
            except RuntimeError as exc:  # most likely the port was taken meanwhile
                last_error = exc
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")

    def halt(self) -> None:
        """Stop the server but keep its data, as an outage would (see :meth:`resume`)."""
        self._run("pg_ctl", ["-D", str(self.data), "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        """Start a halted server again on the same port and data."""
        self._start()

    def _start(self) -> None:
        self._run(
            "pg_ctl",
            ["-D", str(self.data), "-l", str(self.log), "-o", self._options(), "-w", "-t", "60",
             "start"],
        )  # fmt: skip

    def _options(self) -> str:
        return (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c max_connections=200"
        )

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", ["-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # Databases ----------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """The database's URL in the form the README documents (``postgresql://user@host/db``),
        which the store maps to the installed driver."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.encode())

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"propflow_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, closing its connections."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        # Before PostgreSQL 13 (no FORCE) the database stays; the server goes at the end.
        with contextlib.suppress(psycopg.Error):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def start_server() -> PostgresServer:
    """Start a private server, or skip (fail under CI) when PostgreSQL is not installed."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        skip_or_fail(MISSING)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("psycopg (3) is not installed; pip install -e '.[test,server]'")
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    return server
