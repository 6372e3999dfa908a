"""A real webhook receiver on 127.0.0.1 for the delivery tests, in a thread of the test.

It checks each request's signature itself (HMAC-SHA256 of the exact body, computed here
with :mod:`hmac`, not with the code under test), keeps what arrived, and answers with the
status the test sets (``500`` to make delivery fail), after ``delay`` seconds if set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Arrival:
    """One request as the receiver saw it."""

    delivery_id: str
    kind: str
    body: dict[str, Any]
    signed: bool


class Receiver:
    """``with Receiver(secret) as receiver:`` — ``receiver.url`` takes POSTs."""

    def __init__(self, secret: str, status: int = 200, delay: float = 0.0) -> None:
        self.secret = secret
        self.status = status
        self.delay = delay
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = (
                    "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                signature = self.headers.get("X-PropFlow-Signature", "")
                arrival = Arrival(
                    self.headers.get("X-PropFlow-Delivery", ""),
                    self.headers.get("X-PropFlow-Kind", ""),
                    json.loads(body),
                    hmac.compare_digest(expected, signature),
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status
                if status < 300:  # only what was accepted counts as arrived
                    with receiver._lock:
                        receiver.arrivals.append(arrival)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def ids(self) -> list[int]:
        with self._lock:
            return [int(a.delivery_id) for a in self.arrivals]
