"""A host: every estate of a deployment over one store, one engine per estate.

Each estate's cases run on that estate's merged definitions, calendar and closed days, so
the host keeps one :class:`~engine.runtime.Engine` per estate, all sharing one
:class:`~engine.store.Store` (one connection pool, one database). One timer loop ticks
them all: :meth:`Host.tick` asks each engine for the due timers of its own estate, so a
timer is always fired by the engine that holds its case's definitions. Several hosts
against one PostgreSQL share the work the way several workers do: each timer fires once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from engine.checks.validation import validate_estate
from engine.io.library import ValidatedLibrary
from engine.runtime.clock import Clock, SystemClock
from engine.runtime.engine import Engine, TickResult
from engine.runtime.errors import LibraryError, UnknownEstate
from engine.store import Store


class Host:
    """The engines of several estates over one store.

    ``libraries`` are the validated libraries of the estates (each merged for its estate by
    :func:`~engine.checks.validation.validate_estate`); an estate id may appear once.
    ``store`` is a :class:`Store` or a database URL or SQLite path.
    """

    def __init__(
        self,
        libraries: Sequence[ValidatedLibrary],
        store: Store | str,
        clock: Clock | None = None,
    ) -> None:
        self.store = Store(store) if isinstance(store, str) else store
        self.clock: Clock = clock or SystemClock()
        self._engines: dict[str, Engine] = {}
        for library in libraries:
            engine = Engine(library, self.store, self.clock)
            if engine.estate in self._engines:
                raise LibraryError(f"estate '{engine.estate}' is hosted twice", [])
            self._engines[engine.estate] = engine

    @classmethod
    def from_directories(
        cls, directories: Sequence[Path], store: Store | str, clock: Clock | None = None
    ) -> Host:
        """A host of the estates in ``directories``, each validated and merged here."""
        return cls([validate_estate(d).validated for d in directories], store, clock)

    def estates(self) -> list[str]:
        """The ids of the hosted estates, sorted."""
        return sorted(self._engines)

    def engine(self, estate: str) -> Engine:
        """The engine of one estate (:class:`UnknownEstate` if it is not hosted)."""
        try:
            return self._engines[estate]
        except KeyError:
            raise UnknownEstate(estate) from None

    def replace(self, library: ValidatedLibrary) -> Engine:
        """Run a hosted estate on a new validated library from now on (a live reload): its
        new engine, which new cases open on. Requests holding the old engine finish on it;
        running cases keep their definition versions (``propflow migrate`` moves them)."""
        engine = Engine(library, self.store, self.clock)
        if engine.estate not in self._engines:
            raise UnknownEstate(engine.estate)
        self._engines[engine.estate] = engine
        return engine

    def tick_each(self, now: datetime | None = None, limit: int = 1000) -> dict[str, TickResult]:
        """Tick every estate at the same moment, at most ``limit`` timers each; what each did."""
        moment = now or self.clock.now()
        return {
            estate: engine.tick(moment, limit) for estate, engine in sorted(self._engines.items())
        }

    def tick(self, now: datetime | None = None, limit: int = 1000) -> TickResult:
        """Tick every estate (see :meth:`tick_each`); what they did, added up."""
        results = self.tick_each(now, limit).values()
        return TickResult(
            fired=sum(r.fired for r in results),
            skipped=sum(r.skipped for r in results),
            opened=sum(r.opened for r in results),
            quota_notices=sum(r.quota_notices for r in results),
            held=sum(r.held for r in results),
            matched=sum(r.matched for r in results),
        )

    def close(self) -> None:
        """Release the store's connections (shared by every estate's engine)."""
        self.store.close()
