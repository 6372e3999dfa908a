"""Bounds on what a request may send: body size and query-string length.

Checked before routing, on the raw ASGI messages, so an oversized body is refused without
being read into memory and no endpoint has to think about it. Depth and text lengths of
the JSON inside are bounded by the request models (:mod:`engine.service.models`). A
refusal here is answered before the middleware that speaks the request's language is
reached, so it finds that language itself.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.diagnostics.catalogue import say
from engine.service.problems import MEDIA_TYPE, TYPE_BASE, request_language

#: The largest request body accepted, in bytes.
MAX_BODY = 64 * 1024
#: The longest query string accepted, in bytes.
MAX_QUERY = 2048


class RequestLimits:
    """ASGI middleware refusing bodies over :data:`MAX_BODY` (413) and query strings over
    :data:`MAX_QUERY` (414) with problem details."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY, max_query: int = MAX_QUERY):
        self.app = app
        self.max_body = max_body
        self.max_query = max_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query:
            await _refuse(
                send, scope, 414, "QueryTooLong", "service.query_too_long", self.max_query
            )
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _refuse(send, scope, 413, "BodyTooLarge", "service.body_too_large", self.max_body)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await _refuse(
                    send, scope, 413, "BodyTooLarge", "service.body_too_large", self.max_body
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, scope: Scope, status: int, title: str, key: str, limit: int) -> None:
    """Answer with the problem details of ``status``, the limit passed said by the
    catalogue's ``key`` in the request's language."""
    detail = say(key, language=request_language(scope), limit=limit)
    body = json.dumps(
        {"type": TYPE_BASE + title.lower(), "title": title, "status": status, "detail": detail}
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode("ascii")),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
