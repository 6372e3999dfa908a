"""Errors as RFC 9457 problem details (``application/problem+json``).

Every refusal the engine can give is a typed exception; here each type gets its HTTP
status and a ``type`` URI, and the body carries the refusal's name and reason, so a client
can react to ``RoleRefused`` rather than parse a message. Anything a client can send is
answered with a 4xx: malformed requests 400, unknown things 404 (a case of another estate
included: no existence leak), refusals 403/409/412/422; a store that does not answer is
503, so a client knows to retry rather than to report a bug.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from engine.diagnostics.catalogue import say, say_error
from engine.diagnostics.language import negotiate, speaking
from engine.runtime import (
    ConflictError,
    EventNotAllowed,
    EventRefused,
    PropflowError,
    RoleRefused,
    UnknownCase,
    UnknownEstate,
    UnknownProcess,
)
from engine.service.models import Problem
from engine.store import StoreError

_LOG = logging.getLogger("propflow.service")

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://propflow.dev/problems/"

#: HTTP status of each refusal type; a subclass takes its nearest listed base's status.
STATUS: dict[type[PropflowError], int] = {
    UnknownEstate: 404,
    UnknownCase: 404,
    UnknownProcess: 404,
    RoleRefused: 403,
    ConflictError: 409,
    EventNotAllowed: 409,
    EventRefused: 422,
}


class PreconditionFailed(PropflowError):
    """``If-Match`` named a version the case is no longer at."""

    def __init__(self, case_id: str, expected: int, actual: int) -> None:
        super().__init__(
            say("refusal.precondition", case=case_id, version=actual, expected=expected)
        )
        self.case_id = case_id


class BadRequest(PropflowError):
    """A request the API cannot read: a header, a cursor or a value of the wrong form."""


class Unauthenticated(PropflowError):
    """No credential, or one that is unknown, expired or revoked."""


STATUS.update({PreconditionFailed: 412, BadRequest: 400, Unauthenticated: 401})


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def status_of(error: PropflowError) -> int:
    """The HTTP status of a refusal (422 for any the table does not name)."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 422


def problem_response(
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response of ``status``."""
    body = Problem(
        type=TYPE_BASE + _kebab(title), title=title, status=status, detail=detail, **extra
    )
    return JSONResponse(
        jsonable_encoder(body, exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def refusal_response(error: PropflowError) -> JSONResponse:
    """The problem details of an engine refusal."""
    status = status_of(error)
    extra: dict[str, Any] = {"refusal": type(error).__name__}
    if isinstance(error, EventRefused):
        extra.update(
            reason=error.reason, case_id=error.case_id, state=error.state, event=error.event
        )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    # The engine says whose a case of another estate is; a caller of this one must not learn
    # even that it exists.
    detail = (
        say("refusal.unknown_case", case=error.case_id)
        if isinstance(error, UnknownCase)
        else str(error)
    )
    return problem_response(status, type(error).__name__, detail, headers, **extra)


def request_language(scope: Mapping[str, Any]) -> str:
    """The language to answer an HTTP request in, from its ``Accept-Language`` header (the
    service's own language without one): for the middleware below, and for one that
    answers before it is reached (:mod:`engine.service.limits`)."""
    header = dict(scope.get("headers") or ()).get(b"accept-language", b"")
    return negotiate(header.decode("latin-1"))


def _listed(expected: str) -> str:
    """pydantic's English list of the values a literal takes (``'a', 'b' or 'c'``), joined
    as the language spoken lists values (as a form's enum field lists its own)."""
    head, _, last = expected.rpartition(" or ")
    return say("words.comma").join([*head.split(", "), last] if head else [last])


def invalid_reason(error: Mapping[str, Any]) -> str:
    """Why a part of a request does not fit the API, in the language spoken: the catalogue's
    words for pydantic's error type (``service.invalid.<type>``), else pydantic's English."""
    context = error.get("ctx") or {}
    words = {"expected": _listed(str(context["expected"]))} if "expected" in context else {}
    return say_error(error, "service.invalid", **words)


#: The keys of the words of HTTP errors Starlette raises itself (an unknown path, a method
#: the path does not take), whose details are English phrases.
_HTTP_WORDS = {404: "service.not_found", 405: "service.method_not_allowed"}


class SpeakingTheRequestsLanguage:
    """ASGI middleware: each request is handled, and its refusals worded, in the language its
    ``Accept-Language`` asks for (zh-CN or en; else the service's own), in its own context,
    so concurrent requests in different languages do not mix."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        with speaking(request_language(scope)):
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer refusals, malformed requests and HTTP errors with problem details, in the
    request's language."""
    app.add_middleware(SpeakingTheRequestsLanguage)

    async def refused(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, PropflowError)
        return refusal_response(error)

    async def malformed(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": invalid_reason(e)}
            for e in error.errors()
        ]
        return problem_response(400, "MalformedRequest", say("service.malformed"), errors=errors)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        status = error.status_code
        title = {404: "NotFound", 405: "MethodNotAllowed"}.get(status, "HttpError")
        detail = str(error.detail)
        if status in _HTTP_WORDS and detail == HTTPStatus(status).phrase:
            detail = say(_HTTP_WORDS[status], method=request.method)
        return problem_response(status, title, detail, dict(error.headers or {}))

    async def unavailable(_request: Request, error: Exception) -> JSONResponse:
        _LOG.error("the store failed a request: %s", error)
        return problem_response(
            503, "StoreUnavailable", say("service.store_down"),
            {"Retry-After": "5"},
        )  # fmt: skip

    app.add_exception_handler(PropflowError, refused)
    app.add_exception_handler(StoreError, unavailable)
    app.add_exception_handler(OperationalError, unavailable)
    app.add_exception_handler(RequestValidationError, malformed)
    app.add_exception_handler(HTTPException, http_error)
