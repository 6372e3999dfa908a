"""Live reloads of a served deployment's estates: on SIGHUP, and on a change of their files
with ``propflow serve --reload``.

An edited estate is validated first, whole; an edit with errors is refused, its diagnostics
written to the log with their places, and the estate goes on running its old definitions.
An edit without errors replaces the estate's engine: new cases open on the new definitions,
while running cases keep the versions they were opened on until ``propflow migrate`` moves
them. The reload runs in a thread of its own, never in the signal handler, so a request
being served is not held up by a validation.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from engine.checks.validation import validate_estate
from engine.diagnostics import Diagnostic
from engine.runtime import Engine, Host

_LOG = logging.getLogger("propflow.reload")

#: Seconds between two looks at the estates' files with ``--reload``.
POLL_SECONDS = 1.0


def _versions(engine: Engine) -> dict[str, str]:
    """Each process of ``engine`` with the definition version new cases open on."""
    return {p: engine.definition_version(p) for p in engine.processes}


def _place(diagnostic: Diagnostic) -> str:
    span = diagnostic.span
    return f"{span.file}:{span.line}:{span.column}: {diagnostic.code} {diagnostic.message}"


class Reloader:
    """Reloads the estates of ``directories`` into ``host`` when asked (:meth:`request`),
    and with ``watch`` whenever one of their files changes."""

    def __init__(self, host: Host, directories: Sequence[Path], *, watch: bool = False) -> None:
        self.host = host
        self.directories = list(directories)
        self.watch = watch
        self._asked = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = self._stamps()

    def start(self) -> None:
        """Start the thread that reloads when asked (and watches, with ``watch``)."""
        self._thread = threading.Thread(target=self._run, name="propflow-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a reload under way finishes first)."""
        self._stopped.set()
        self._asked.set()
        if self._thread is not None:
            self._thread.join()

    def request(self) -> None:
        """Ask for a reload (safe from a signal handler: it only sets a flag)."""
        self._asked.set()

    def reload(self) -> list[str]:
        """Validate every estate again and replace those whose files validate; the ids of
        the estates reloaded (an estate with errors keeps its running definitions)."""
        reloaded = []
        for directory in self.directories:
            loaded = validate_estate(directory).validated
            errors = loaded.errors
            if errors or loaded.estate is None:
                _LOG.error(
                    "reload of %s refused: %d error(s); the running definitions stay",
                    directory,
                    len(errors),
                )
                for diagnostic in errors:
                    _LOG.error("%s", _place(diagnostic))
                continue
            before = _versions(self.host.engine(loaded.estate.id))
            engine = self.host.replace(loaded)
            after = _versions(engine)
            changed = [
                f"{p} {before.get(p, '-')} -> {after.get(p, '-')}"
                for p in sorted(before.keys() | after.keys())
                if before.get(p) != after.get(p)
            ]
            _LOG.info(
                "reloaded estate %s from %s: %s",
                engine.estate,
                directory,
                ", ".join(changed) or "no process definition changed",
            )
            reloaded.append(engine.estate)
        if reloaded:
            # The engines replaced are garbage now, some of it in cycles that the frozen
            # start-up (engine.service.runner) would keep for good: collected once, and the
            # new engines frozen as start-up's were.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        return reloaded

    def _run(self) -> None:
        while not self._stopped.is_set():
            asked = self._asked.wait(POLL_SECONDS if self.watch else None)
            if self._stopped.is_set():
                return
            self._asked.clear()
            if self.watch and not asked:
                stamps = self._stamps()
                if stamps == self._seen:
                    continue
                self._seen = stamps
            try:
                self.reload()
            except Exception:  # a reload must never take the service down
                _LOG.exception("reload failed; the running definitions stay")

    def _stamps(self) -> dict[Path, int]:
        """The modification time of every YAML file of the estates (the shipped library
        they extend changes with PropFlow itself, which is a restart)."""
        stamps: dict[Path, int] = {}
        for directory in self.directories:
            for path in directory.rglob("*.yaml"):
                try:
                    stamps[path] = path.stat().st_mtime_ns
                except OSError:
                    continue
        return stamps
