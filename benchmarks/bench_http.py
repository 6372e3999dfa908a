"""HTTP throughput: concurrent clients walking repair cases through ``propflow serve``.

16 clients (asyncio, one keep-alive connection each) on loopback each open repair cases
and walk them through the seven events of a repair (record → return visit) over the
API, against a real ``propflow serve`` subprocess. Reported: events per second, p50 and
p99 latency of the event requests, the ratio to in-process persisted ``Engine.fire`` on
the same kind of store, measured in the same run, on the same estate, and (where
``/proc`` shows it) the servers' CPU time per request of the measured walk, a figure the
machine's other work moves less than wall time.

    python -m benchmarks.bench_http                      # SQLite file, one server
    python -m benchmarks.bench_http --db postgresql://... --servers 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from benchmarks.bench_runtime import FORM, WALK
from engine.checks.validation import validate_estate
from engine.runtime import Engine
from engine.store import Store
from engine.store.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
ESTATE = "lakeside"
CLIENTS = 16


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A running server: its base URL and process id."""

    url: str
    pid: int


def cpu_seconds(pids: Sequence[int]) -> float | None:
    """User and system CPU time these processes have used so far (``None`` without
    ``/proc``)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def served(db: str, log: Path) -> Iterator[Served]:
    """A ``propflow serve`` of the example estates on ``db`` (timers left alone: the run
    measures events), once it answers."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-c",
        "import sys; from engine.cli import main; sys.exit(main(prog_name='propflow'))",
        "serve", "--db", db, "--estates", str(ROOT / "estates"), "--no-timers",
        "--port", str(port),
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)
        yield Served(url, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def tokens(db: str) -> dict[str, dict[str, str]]:
    """A bearer header per actor of the walk."""
    store = Store(db)
    now = datetime.now(UTC)
    actors = {"li": "receptionist", **{actor.id: next(iter(actor.roles)) for _, actor, _ in WALK}}
    headers = {
        actor: {"Authorization": f"Bearer {create_token(store, ESTATE, actor, [role], now).bearer}"}
        for actor, role in actors.items()
    }
    store.close()
    return headers


class Connection:
    """One keep-alive HTTP/1.1 connection speaking only what the walk needs: JSON POSTs,
    answers with a ``Content-Length``. The clients share the machine's cores with the
    server, and a general client such as httpx spends about as much CPU a request as the
    server does, which the server's figures would then pay for; this spends little."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, url: str) -> Connection:
        address = urlsplit(url)
        assert address.hostname is not None and address.port is not None
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        return cls(reader, writer, address.netloc)

    async def post(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, Any]:
        """(status, decoded JSON answer) of a POST of ``body`` as JSON."""
        data = json.dumps(body).encode("utf-8")
        head = "".join(
            [
                f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n",
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                "\r\n",
            ]
        )
        self.writer.write(head.encode("latin-1") + data)
        async with asyncio.timeout(60):
            status = int((await self.reader.readline()).split()[1])
            length = None
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                raise RuntimeError(f"POST {path}: {status} without a Content-Length")
            return status, json.loads(await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def client_walk(
    urls: Sequence[str], index: int, cases: int, headers: dict[str, dict[str, str]]
) -> list[float]:
    """One client: ``cases`` repairs opened and walked; the latency of each event."""
    http = await Connection.open(urls[index % len(urls)])
    latencies: list[float] = []
    try:
        for _ in range(cases):
            status, opened = await http.post(
                f"/estates/{ESTATE}/cases", {"process": "repair", "data": FORM}, headers["li"]
            )
            if status != 201:
                raise RuntimeError(f"open: {status} {opened}")
            for event, actor, payload in WALK:
                began = time.perf_counter()
                status, answer = await http.post(
                    f"/estates/{ESTATE}/cases/{opened['id']}/events",
                    {"event": event, "payload": payload},
                    headers[actor.id],
                )
                latencies.append(time.perf_counter() - began)
                if status != 200:
                    raise RuntimeError(f"{event}: {status} {answer}")
    finally:
        await http.close()
    return latencies


async def over_http(
    urls: Sequence[str], cases_per_client: int, db: str
) -> tuple[float, list[float]]:
    """(events/s, latencies) of :data:`CLIENTS` clients walking cases at once."""
    headers = tokens(db)
    began = time.perf_counter()
    results = await asyncio.gather(
        *(client_walk(urls, i, cases_per_client, headers) for i in range(CLIENTS))
    )
    seconds = time.perf_counter() - began
    latencies = [latency for result in results for latency in result]
    return len(latencies) / seconds, latencies


def in_process(db: str, cases: int) -> float:
    """Events/s of ``Engine.fire`` in this process, persisted to ``db``, one caller."""
    engine = Engine(validate_estate(ROOT / "estates" / ESTATE).validated, db)
    opened = [engine.open_case("repair", FORM, WALK[0][1]).id for _ in range(cases)]
    began = time.perf_counter()
    for case_id in opened:
        for event, actor, payload in WALK:
            engine.fire(case_id, event, actor, payload)
    seconds = time.perf_counter() - began
    engine.close()
    return cases * len(WALK) / seconds


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="Database URL (default: a fresh SQLite file).")
    parser.add_argument("--servers", type=int, default=1, help="Server processes on --db.")
    parser.add_argument("--cases", type=int, default=6, help="Cases each client walks.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        db = args.db or f"sqlite:///{directory / 'http.db'}"
        reference = args.db or f"sqlite:///{directory / 'inprocess.db'}"
        with _servers(db, args.servers, directory) as servers:
            urls, pids = [s.url for s in servers], [s.pid for s in servers]
            asyncio.run(over_http(urls, 1, db))  # warm up: connections, caches
            before = cpu_seconds(pids)
            rate, latencies = asyncio.run(over_http(urls, args.cases, db))
            after = cpu_seconds(pids)
        direct = in_process(reference, CLIENTS * args.cases)
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    store = "PostgreSQL" if db.startswith("postgresql") else "SQLite file"
    requests = CLIENTS * args.cases * (len(WALK) + 1)  # the walk's events and each opening
    cpu = (
        f"; server CPU {(after - before) / requests * 1000:.2f} ms a request"
        if before is not None and after is not None
        else ""
    )
    print(
        f"HTTP, {CLIENTS} clients, {args.servers} server(s), {store}: {rate:,.0f} events/s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (mean {statistics.mean(latencies) * 1000:.1f} ms); "
        f"in-process persisted fire {direct:,.0f} events/s; ratio {rate / direct:.2f}{cpu}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


@contextmanager
def _servers(db: str, count: int, directory: Path) -> Iterator[list[Served]]:
    """``count`` servers on one store, started one after the other (the first creates the
    tables)."""
    with ExitStack() as stack:
        yield [stack.enter_context(served(db, directory / f"serve-{i}.log")) for i in range(count)]


if __name__ == "__main__":
    main()
