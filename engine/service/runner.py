"""Serving the API with uvicorn, stopping cleanly.

uvicorn handles SIGTERM and SIGINT: it stops accepting connections, lets the requests in
flight finish (up to :data:`GRACE_SECONDS`), then runs the app's shutdown, where the timer
loop finishes its current tick — so a deploy never cuts an event or a batch of timers in
half (either would be rolled back anyway; draining saves the retry).
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

#: How long in-flight requests may take to finish after SIGTERM, in seconds.
GRACE_SECONDS = 30


def serve(app: FastAPI, host: str, port: int, *, access_log: bool = False) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or Ctrl-C."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        access_log=access_log,
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_level="info",
    )
    uvicorn.Server(config).run()
