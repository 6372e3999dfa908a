"""The service-desk console: a static page at ``/`` that works cases through the JSON API.

The console is one HTML page, a stylesheet, a plain JavaScript module and its words (a
JSON file per language pair), all shipped inside the package and served from here: no
build step, no CDN. It holds no server-side logic of its own — every read and every
action is a request to the same API any client uses, with the same refusals — so this
module only serves files. The token lives in the browser's session storage and goes out
as an ``Authorization`` header, never in a URL or a cookie: no cookie means no CSRF, and
the Content-Security-Policy below allows scripts from this server only, so a value that
looks like markup can do nothing even if it were ever rendered as such (the page renders
values as text).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Literal

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the page's files are, inside the installed package.
STATIC = files(__package__) / "static"
#: The URL prefix of the page's assets.
ASSETS = "/console"
#: The placeholder of the page's language in index.html.
LANG_MARK = "{{lang}}"

#: Headers of the page: only this server's scripts, styles and images (and the diagram
#: blobs the page makes), no framing, no referrer, no sniffing.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def page(lang: str) -> str:
    """The console's HTML in ``lang`` (its ``<html lang>``; the script reads it there)."""
    return (STATIC / "index.html").read_text(encoding="utf-8").replace(LANG_MARK, lang)


def mount(app: FastAPI) -> None:
    """Serve the console at ``/`` and its assets under :data:`ASSETS`."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def console(
        lang: Annotated[Literal["zh-CN", "en"], Query()] = "zh-CN",
    ) -> HTMLResponse:
        return HTMLResponse(page(lang), headers=HEADERS)

    app.mount(ASSETS, StaticFiles(directory=str(STATIC)), name="console")
