"""The timer worker: fires due timers in a loop until asked to stop.

Timers are rows in the store, not threads, so a worker can be stopped and started at any
time and several can run against one database: each timer fires exactly once (see
:meth:`engine.runtime.Engine.tick`). SIGTERM and SIGINT finish the current tick and exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from engine.runtime import Engine, Host, TickResult


class Worker:
    """Ticks an engine (or a host of several estates) every ``interval`` seconds until
    :meth:`stop` is called."""

    def __init__(self, engine: Engine | Host, interval: float = 1.0, batch: int = 1000) -> None:
        self.engine = engine
        self.interval = interval
        self.batch = batch
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the current tick, then return from :meth:`run`."""
        self._stopping.set()

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM (a service manager) and SIGINT (Ctrl-C)."""

        def handler(_signum: int, _frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self, report: Callable[[TickResult], None] | None = None) -> int:
        """Tick until stopped; return the number of timers fired."""
        total = 0
        while not self._stopping.is_set():
            result = self.engine.tick(limit=self.batch)
            total += result.fired
            if report is not None and (result.fired or result.skipped):
                report(result)
            if result.fired < self.batch:
                self._stopping.wait(self.interval)
        return total
