"""Prometheus metrics of the service, on a registry of its own (one per app).

Counted as things happen: events by estate, process, event and outcome (``accepted`` or
the refusal's type), request latency by route, timers fired. Read from the store
at each scrape: pending and due timers, the lag of the oldest due timer behind its due
time, and the outbox rows not yet delivered — a worker falling behind shows there first.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from engine.runtime import TickResult
from engine.runtime.clock import Clock
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


class Metrics:
    """The service's counters and histograms, and the store's backlog gauges."""

    def __init__(self, store: Store, clock: Clock) -> None:
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

    def ticked(self, result: TickResult) -> None:
        """Count what one tick of every estate fired."""
        self.timers_fired.inc(result.fired)

    def exposition(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)
