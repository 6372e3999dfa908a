"""A real ``propflow serve`` on 127.0.0.1 for the service tests: a subprocess on a free
port, talked to over HTTP with httpx, stopped with SIGTERM as a service manager would.

Tokens are made straight in the store the server uses (the same function ``propflow
token create`` calls), so each test states exactly whom it acts as without paying for a
CLI run per token; tests/test_deployment.py runs the CLI itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from engine.store import Store
from engine.store.schema import timers
from engine.store.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
ESTATES = ROOT / "estates"

#: What a receptionist fills in when a repair is reported, and records next.
FORM = {"scope": "in_unit", "unit": "3-1201", "owner_name": "陈先生"}
RECORD = {"phone": "13800138000", "content": "厨房水管漏水", "location": "厨房", "category": "leak"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running ``propflow serve`` and where its log goes."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM the server and wait; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(
    options: Sequence[str],
    log: Path,
    cwd: Path = ROOT,
    environment: Mapping[str, str] | None = None,
) -> LiveServer:
    """``propflow serve OPTIONS --port P`` in a subprocess, once its /healthz answers; its
    environment is this one's, with ``environment`` over it (a PATH without a tool, say)."""
    port = free_port()
    env = {**os.environ, **(environment or {})}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("PROPFLOW_DB", "PROPFLOW_CONFIG"):
        env.pop(name, None)
    command = [
        sys.executable, "-c",
        "import sys; from engine.cli import main; sys.exit(main(prog_name='propflow'))",
        "serve", *options, "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=sink)
    server = LiveServer(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the server did not answer in time:\n{server.output()}")
        time.sleep(0.1)


@contextmanager
def running_server(
    options: Sequence[str],
    log: Path,
    cwd: Path = ROOT,
    environment: Mapping[str, str] | None = None,
) -> Iterator[LiveServer]:
    server = start_server(options, log, cwd, environment)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def serving(workdir: Path, deployment: str) -> Iterator[LiveServer]:
    """A server of the deployment file ``deployment`` (written into ``workdir``), its timer
    loop ticking every 0.1 s."""
    config = workdir / "propflow.yaml"
    config.write_text(deployment, encoding="utf-8")
    options = ["--config", str(config), "--interval", "0.1"]
    with running_server(options, workdir / "serve.log") as live:
        yield live


def bearer(
    store: Store,
    estate: str,
    actor: str,
    *roles: str,
    expires_in: timedelta | None = None,
) -> dict[str, str]:
    """The ``Authorization`` header of a new token (expired already for a negative
    ``expires_in``)."""
    now = datetime.now(UTC)
    expires = now + expires_in if expires_in is not None else None
    issued = create_token(store, estate, actor, roles, now, expires)
    return {"Authorization": f"Bearer {issued.bearer}"}


def make_due(store: Store, case_id: str, limit: str | None = None) -> int:
    """Move every pending timer of a case (of one time limit, if given) to a minute ago, so
    the next tick fires it; how many there were. (The test's stand-in for waiting days on a
    real clock.)"""
    moment = datetime.now(UTC) - timedelta(minutes=1)
    pending = [timers.c.case_id == case_id, timers.c.fired_at.is_(None)]
    if limit is not None:
        pending.append(timers.c.name == limit)
    with store.transaction() as tx:
        result = tx.execute(update(timers).where(*pending).values(due_at=moment))
    return result.rowcount


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    """Poll ``condition()`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
