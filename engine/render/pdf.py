"""The manual as a PDF, printed by headless Chromium from the self-contained HTML.

Chromium lays out the CJK text with the fonts the HTML names (WenQuanYi Micro Hei among them,
the Debian package fonts-wqy-microhei) and embeds the subsets it uses, so the PDF shows the same
glyphs on a machine that has none of those fonts. A browser is the tool made for laying out
this HTML on A4; a second layout engine would print a different document."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from engine.render.svg import RenderError

#: The names Chromium is installed under (Debian's package, upstream, Google's build).
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120.0


class BrowserMissing(RenderError):
    """No headless Chromium is installed (or on PATH)."""


def find_browser() -> str | None:
    """The path of a Chromium binary on PATH, if any."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def html_to_pdf(html: str, browser: str | None = None, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """Print ``html`` (a self-contained document) to PDF with headless Chromium.

    Raises :class:`BrowserMissing` when no Chromium is installed and :class:`RenderError` when
    it fails or takes longer than ``timeout`` seconds."""
    binary = browser or find_browser()
    if binary is None:
        raise BrowserMissing(
            "no Chromium found (tried " + ", ".join(BROWSERS) + "); install the chromium package"
        )
    with tempfile.TemporaryDirectory(prefix="propflow-pdf-") as work:
        source = Path(work) / "manual.html"
        target = Path(work) / "manual.pdf"
        source.write_text(html, encoding="utf-8")
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(work) / 'profile'}",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(f"Chromium took longer than {timeout:.0f} s to print") from None
        except OSError as exc:
            raise RenderError(f"cannot run {binary}: {exc.strerror or exc}") from None
        if done.returncode != 0 or not target.is_file():
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise RenderError("Chromium could not print the manual: " + " ".join(detail))
        return target.read_bytes()
