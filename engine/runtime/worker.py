"""The timer worker: fires due timers (and delivers the outbox) in a loop until stopped.

Timers are rows in the store, not threads, so a worker can be stopped and started at any
time and several can run against one database: each timer fires exactly once (see
:meth:`engine.runtime.Engine.tick`). SIGTERM and SIGINT finish the current tick and exit.

The worker outlives faults of its store — a full or read-only disk, a database server that
went away: a tick that fails is rolled back whole (its timers fire on a later tick), so the
worker logs the fault, waits longer after each failure in a row, and carries on where it
stopped once the store answers again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from engine.runtime.engine import Engine, TickResult
from engine.runtime.host import Host
from engine.store import StoreError

if TYPE_CHECKING:  # the deliverer needs httpx, which a worker without webhooks does not
    from engine.delivery.deliverer import Deliverer

log = logging.getLogger("propflow.worker")

#: What a store that cannot be written or reached raises: the driver's errors (disk full,
#: read-only database, connection lost), the store's own, and the operating system's.
STORE_FAULTS = (DBAPIError, StoreError, OSError)


class Worker:
    """Ticks an engine (or a host of several estates) every ``interval`` seconds until
    :meth:`stop` is called; with a
    ``deliverer``, pushes the outbox after each tick. After a store fault it waits
    ``interval``, then twice as long after each further one, at most ``max_backoff``."""

    def __init__(
        self,
        engine: Engine | Host,
        interval: float = 1.0,
        batch: int = 1000,
        deliverer: Deliverer | None = None,
        max_backoff: float = 30.0,
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.batch = batch
        self.deliverer = deliverer
        self.max_backoff = max_backoff
        #: Store faults met so far (the metrics read it).
        self.faults = 0
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
        failures = 0
        while not self._stopping.is_set():
            try:
                result = self.engine.tick(limit=self.batch)
                delivered = self.deliverer.deliver().claimed if self.deliverer else 0
            except STORE_FAULTS as fault:
                failures += 1
                self.faults += 1
                delay = min(self.interval * 2 ** min(failures - 1, 16), self.max_backoff)
                log.error(
                    "the store failed (%s: %s); what it did not commit is tried again in %.2f s",
                    type(fault).__name__,
                    str(fault).splitlines()[0] if str(fault) else "",
                    delay,
                )
                self._stopping.wait(delay)
                continue
            if failures:
                log.warning("the store works again after %d failed attempt(s)", failures)
                failures = 0
            total += result.fired
            if report is not None and (result.fired or result.skipped):
                report(result)
            busy = result.fired >= self.batch or (
                self.deliverer is not None and delivered >= self.deliverer.batch
            )
            if not busy:
                self._stopping.wait(self.interval)
        return total
