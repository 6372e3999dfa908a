"""Serving the API with uvicorn, stopping cleanly.

uvicorn handles SIGTERM and SIGINT: it stops accepting connections, lets the requests in
flight finish (up to :data:`GRACE_SECONDS`), then runs the app's shutdown, where the timer
loop finishes its current tick — so a deploy never cuts an event or a batch of timers in
half (either would be rolled back anyway; draining saves the retry).
"""

from __future__ import annotations

import gc
import signal
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn
from fastapi import FastAPI

if TYPE_CHECKING:
    from engine.service.reload import Reloader

#: How long in-flight requests may take to finish after SIGTERM, in seconds.
GRACE_SECONDS = 30


def serve(
    app: FastAPI,
    host: str,
    port: int,
    *,
    access_log: bool = False,
    reloader: Reloader | None = None,
) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or Ctrl-C; with a ``reloader``, SIGHUP
    reloads the estates (see :mod:`engine.service.reload`)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        access_log=access_log,
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_level="info",
    )
    # uvicorn drains on SIGTERM/SIGINT, then restores the handlers it found and raises the
    # signal again for them; finding these, the process then exits 0 instead of dying of it.
    signal.signal(signal.SIGTERM, _drained)
    signal.signal(signal.SIGINT, _drained)
    # What start-up made (the estates' libraries and engines, the app, the machinery of
    # SQLAlchemy and pydantic) lives as long as the process. Frozen out of the cycle
    # collector, its full collections no longer walk all of it: each was a pause of tens of
    # milliseconds in whichever requests it fell on (docs/benchmarks.md, HTTP service).
    gc.freeze()
    if reloader is None:
        uvicorn.Server(config).run()
        return
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloader.request())
    reloader.start()
    try:
        uvicorn.Server(config).run()
    finally:
        reloader.stop()


def _drained(_signum: int, _frame: FrameType | None) -> None:
    """The signal uvicorn raises again after shutting down: it was handled already."""
