"""The HTTP service: every estate of a host behind a REST API, with tokens and metrics.

``create_app(host)`` is the FastAPI application (:mod:`engine.service.app`);
``serve`` runs it with uvicorn (:mod:`engine.service.runner`).
"""

from engine.service.app import create_app

__all__ = ["create_app"]
