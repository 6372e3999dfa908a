"""Prometheus metrics of the service, on a registry of its own (one per app).

Counted as things happen: events by estate, process, event and outcome (``accepted`` or
the refusal's type), request latency by route, timers fired. Read from the store
at each scrape: pending and due timers, the lag of the oldest due timer behind its due
time, and the outbox rows not yet delivered — a worker falling behind shows there first.
Read from the timer loop at each scrape: the timers its last tick held back for a time
limit no estate defines (a store shared with a newer deployment), the store faults it rode
out, and its deliverer's failed attempts and dead letters — each a sign to look at the log.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.runtime import Host, TickResult
from engine.runtime.clock import Clock
from engine.runtime.worker import Worker
from engine.store import Store
from engine.store.backlog import backlog

#: The ``Content-Type`` of the text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Backlog(Collector):
    """Gauges read from the store when scraped."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock.now()
        found = backlog(self.store, now)
        lag = (now - found.oldest_due).total_seconds() if found.oldest_due else 0.0
        yield GaugeMetricFamily(
            "propflow_timers_pending", "Timers not yet fired.", value=found.pending_timers
        )
        yield GaugeMetricFamily(
            "propflow_timers_due", "Timers due and not yet fired.", value=found.due_timers
        )
        yield GaugeMetricFamily(
            "propflow_timer_lag_seconds",
            "How long the oldest due timer has waited past its due time.",
            value=lag,
        )
        yield GaugeMetricFamily(
            "propflow_outbox_backlog", "Outbox rows not yet delivered.", value=found.outbox_pending
        )


class _TimerLoop(Collector):
    """What the timer loop (and its deliverer) went through, read when scraped; nothing
    while no loop runs (``--no-timers``), and no delivery counts without webhooks."""

    def __init__(self, host: Host) -> None:
        self.host = host
        #: The loop's worker while the app is up.
        self.worker: Worker | None = None

    def collect(self) -> Iterator[Metric]:
        worker = self.worker
        if worker is None:
            return
        yield GaugeMetricFamily(
            "propflow_timers_held_back",
            "Due timers the last tick left pending: their case's process has no such time "
            "limit in this deployment's estates.",
            value=sum(self.host.engine(estate).held_back for estate in self.host.estates()),
        )
        yield CounterMetricFamily(
            "propflow_worker_store_faults",
            "Ticks of the timer loop that failed on a store fault (rolled back, tried again).",
            value=worker.faults,
        )
        if worker.deliverer is None:
            return
        done = worker.deliverer.total
        for name, text, value in (
            ("delivered", "Outbox rows every webhook accepted.", done.delivered),
            ("failed", "Failed webhook attempts that will be tried again.", done.failed),
            ("dead", "Outbox rows given up on after their last attempt.", done.dead),
        ):
            yield CounterMetricFamily(f"propflow_deliveries_{name}", text, value=value)


class Metrics:
    """The service's counters and histograms, the store's backlog gauges and the timer
    loop's counts (once :meth:`watch` is given the loop's worker)."""

    def __init__(self, host: Host) -> None:
        store, clock = host.store, host.clock
        self.registry = CollectorRegistry()
        self.events = Counter(
            "propflow_events",
            "Events and case openings by estate, process, event and outcome.",
            ["estate", "process", "event", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "propflow_request_seconds",
            "Request latency by method and route.",
            ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.timers_fired = Counter(
            "propflow_timers_fired",
            "Timers fired by this process's timer loop (every estate).",
            registry=self.registry,
        )
        self.registry.register(_Backlog(store, clock))
        self._loop = _TimerLoop(host)
        self.registry.register(self._loop)

    def watch(self, worker: Worker) -> None:
        """Report the counts of this timer loop (and of its deliverer)."""
        self._loop.worker = worker

    def ticked(self, result: TickResult) -> None:
        """Count what one tick of every estate fired."""
        self.timers_fired.inc(result.fired)

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)
