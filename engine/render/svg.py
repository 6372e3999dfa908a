"""SVG through Graphviz's ``dot`` program, and SVG made fit to inline in an HTML page.

Graphviz is a system package, not a Python one, so it may be missing: :class:`GraphvizMissing`
says what to do in words a consultant can act on. ``dot`` runs with a list of arguments (no
shell), the DOT source on standard input and a time limit.
"""

from __future__ import annotations

import re
import shutil
import subprocess

MISSING = "SVG needs Graphviz's `dot`; install the graphviz package, or use --format mermaid/dot"
TIMEOUT_SECONDS = 60.0


class RenderError(Exception):
    """A diagram could not be drawn."""


class GraphvizMissing(RenderError):
    """Graphviz's ``dot`` program is not installed (or not on PATH)."""

    def __init__(self, message: str = MISSING) -> None:
        super().__init__(message)


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` program, if it is on PATH."""
    return shutil.which("dot")


def dot_to_svg(source: str, dot: str | None = None, timeout: float = TIMEOUT_SECONDS) -> str:
    """Lay out DOT ``source`` with Graphviz and return the SVG document.

    Raises :class:`GraphvizMissing` when ``dot`` is not installed and :class:`RenderError`
    when it fails or takes longer than ``timeout`` seconds.
    """
    binary = dot or find_dot()
    if binary is None:
        raise GraphvizMissing()
    try:
        completed = subprocess.run(
            [binary, "-Tsvg"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise GraphvizMissing() from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz's dot took longer than {timeout:g} seconds") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", errors="replace").strip()
        raise RenderError(f"Graphviz's dot failed (exit {completed.returncode}): {detail}")
    return completed.stdout.decode("utf-8", errors="replace")


_PROLOG = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)
_ID = re.compile(r'\b(id|href|xlink:href)="(#?)([^"]*)"')
_URL_REF = re.compile(r"url\(#([^)]*)\)")


def inline_svg(svg: str, prefix: str, title: str | None = None) -> str:
    """An SVG document as an element to put inside HTML.

    The XML prolog, doctype and comments go; every ``id`` (and every reference to one) gets
    ``prefix`` so that several diagrams in one page never share an id; the root gets
    ``class="diagram"``, ``role="img"`` and an ``aria-label``.
    """
    body = _PROLOG.sub("", svg).strip()

    def rename(match: re.Match[str]) -> str:
        attribute, hash_sign, value = match.groups()
        if attribute != "id" and not hash_sign:
            return match.group(0)  # a link to somewhere else, not an id reference
        return f'{attribute}="{hash_sign}{prefix}-{value}"'

    body = _ID.sub(rename, body)
    body = _URL_REF.sub(lambda m: f"url(#{prefix}-{m.group(1)})", body)
    extra = ' class="diagram" role="img"'
    if title:
        extra += f' aria-label="{_attribute(title)}"'
    return body.replace("<svg", "<svg" + extra, 1)


def _attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
