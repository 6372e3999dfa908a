"""A small client of Firefox's Marionette protocol, to drive the distribution's Firefox in tests.

Playwright's own Firefox is a patched build it downloads from outside the package
registries; its WebDriver BiDi mode (channel ``moz-firefox``) drives a stock Firefox but
opens every context with commands the ESR does not implement yet; and geckodriver, what
Selenium talks to, is packaged for Linux neither by Debian nor on PyPI. Marionette is the
protocol geckodriver itself translates WebDriver into: built into every Firefox, it speaks
length-prefixed JSON over a local TCP socket, and its commands are WebDriver's (navigate,
find, click, send keys, execute script, screenshot) — so a click or a keystroke is the
browser's own trusted input, as with any WebDriver client.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

#: The key of an element reference in WebDriver's JSON.
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
#: Preferences of the throwaway profile: Marionette on a port of the system's choosing (the
#: browser writes it to ``MarionetteActivePort``), and nothing that would reach out.
PREFERENCES = {
    "marionette.port": 0,
    "app.update.disabledForTesting": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "network.captive-portal-service.enabled": False,
    "intl.accept_languages": "zh-CN",
}


class MarionetteError(RuntimeError):
    """A command the browser refused, with WebDriver's error name."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


class Firefox:
    """A headless Firefox on a fresh profile in ``profile`` (its clock in ``timezone``), and
    one session of it."""

    def __init__(
        self, executable: str, profile: Path, timezone: str = "UTC", timeout: float = 30
    ) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "user.js").write_text(
            "".join(
                f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFERENCES.items()
            ),
            encoding="utf-8",
        )
        env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1", "TZ": timezone}
        self.log = profile.parent / f"{profile.name}.log"
        with self.log.open("wb") as log:
            command = [executable, "--headless", "--marionette", "--no-remote"]
            self.process = subprocess.Popen(
                [*command, "--profile", str(profile)], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        port_file = profile / "MarionetteActivePort"
        deadline = time.monotonic() + timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                self.process.wait()
                raise RuntimeError(f"Firefox did not start Marionette: {self.output()[-2000:]}")
            time.sleep(0.1)
        self.socket = socket.create_connection(("127.0.0.1", int(port_file.read_text())), timeout)
        self.buffer = b""
        self.last_id = 0
        self.read()  # the greeting
        self.command("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {}}})

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def read(self) -> Any:
        while b":" not in self.buffer:
            self.buffer += self.receive()
        size, rest = self.buffer.split(b":", 1)
        while len(rest) < int(size):
            rest += self.receive()
        self.buffer = rest[int(size) :]
        return json.loads(rest[: int(size)])

    def receive(self) -> bytes:
        chunk = self.socket.recv(1 << 16)
        if not chunk:
            raise ConnectionError("Firefox closed the Marionette connection")
        return chunk

    def command(self, name: str, params: dict[str, Any] | None = None) -> Any:
        """Send a command and wait for its answer; its value (MarionetteError if refused)."""
        self.last_id += 1
        data = json.dumps([0, self.last_id, name, params or {}]).encode("utf-8")
        self.socket.sendall(str(len(data)).encode("ascii") + b":" + data)
        while True:
            kind, answer_id, error, result = self.read()
            if kind == 1 and answer_id == self.last_id:
                break
        if error is not None:
            raise MarionetteError(error["error"], error["message"])
        return result.get("value", result) if isinstance(result, dict) else result

    # WebDriver, as the tests use it ----------------------------------------------------

    def go(self, url: str) -> None:
        self.command("WebDriver:Navigate", {"url": url})

    def size(self, width: int, height: int) -> None:
        self.command("WebDriver:SetWindowRect", {"width": width, "height": height})

    def script(self, body: str, *args: Any) -> Any:
        """Run ``body`` (a function body: ``return ...``) in the page with ``arguments``."""
        return self.command("WebDriver:ExecuteScript", {"script": body, "args": list(args)})

    def element(self, css: str) -> str:
        found = self.command("WebDriver:FindElement", {"using": "css selector", "value": css})
        return str(found[ELEMENT])

    def click(self, css: str) -> None:
        self.command("WebDriver:ElementClick", {"id": self.element(css)})

    def type(self, css: str, text: str) -> None:
        self.command("WebDriver:ElementSendKeys", {"id": self.element(css), "text": text})

    def text(self, css: str) -> str:
        return str(self.command("WebDriver:GetElementText", {"id": self.element(css)}))

    def enabled(self, css: str) -> bool:
        return bool(self.command("WebDriver:IsElementEnabled", {"id": self.element(css)}))

    def until(self, condition: str, what: str, timeout: float = 15) -> Any:
        """Run ``condition`` (a function body) until it returns something true; that."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.script(condition)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        data = self.command("WebDriver:TakeScreenshot", {"full": True, "hash": False})
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """End the session and the browser."""
        # the browser may be gone already, or go as it answers
        with contextlib.suppress(OSError, MarionetteError):
            self.command("Marionette:Quit", {"flags": ["eForceQuit"]})
        self.socket.close()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
