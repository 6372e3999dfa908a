"""``propflow serve`` reloading an estate: on SIGHUP, and on a file's change with
``--reload``. A broken edit is refused with its positioned diagnostics in the log and the
old definitions keep running; a good one makes new cases open on the new version while a
running case keeps the version it was opened on."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from engine.store import CaseQuery, CaseRecord, Store
from tests.service_harness import ESTATES, FORM, LiveServer, bearer, running_server

REPAIR = Path("processes") / "repair.yaml"
OLD_LABEL = "向接待员通报实施情况"
NEW_LABEL = "向接待员通报进度"


def _version(server: LiveServer, headers: dict[str, str]) -> str:
    listed = httpx.get(f"{server.url}/estates/lakeside/processes", headers=headers)
    assert listed.status_code == 200, listed.text
    (repair,) = [p for p in listed.json() if p["id"] == "repair"]
    version: str = repair["version"]
    return version


def _until(what: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_sighup_refuses_a_broken_edit_and_takes_a_good_one(tmp_path: Path) -> None:
    estate = tmp_path / "lakeside"
    shutil.copytree(ESTATES / "lakeside", estate)
    db = tmp_path / "cases.db"
    options = ["--no-timers", "--db", str(db), "--estates", str(estate)]
    with running_server(options, tmp_path / "serve.log") as server:
        store = Store(f"sqlite:///{db}")
        desk = bearer(store, "lakeside", "li", "receptionist")
        before = _version(server, desk)
        running = httpx.post(
            f"{server.url}/estates/lakeside/cases",
            json={"process": "repair", "data": FORM},
            headers=desk,
        ).json()["id"]

        # A duplicate key: refused, with its place, and the old definitions stay.
        with (estate / REPAIR).open("a", encoding="utf-8") as patch:
            patch.write("process: repair\n")
        server.process.send_signal(signal.SIGHUP)
        _until(lambda: "reload of" in server.output())
        log = server.output()
        assert "refused" in log and f"{REPAIR.name}:" in log and "PF004" in log
        assert _version(server, desk) == before

        # Put right and relabelled: taken; new cases open on the new version.
        text = (estate / REPAIR).read_text(encoding="utf-8")
        (estate / REPAIR).write_text(text.rsplit("process: repair\n", 1)[0], encoding="utf-8")
        _edit(estate / REPAIR, OLD_LABEL, NEW_LABEL)
        server.process.send_signal(signal.SIGHUP)
        _until(lambda: "reloaded estate lakeside" in server.output())
        after = _version(server, desk)
        assert after != before
        # The log names what changed, and only that.
        assert f"repair {before} -> {after}" in server.output()
        assert "complaint" not in server.output().split("reloaded estate lakeside", 1)[1]
        opened = httpx.post(
            f"{server.url}/estates/lakeside/cases",
            json={"process": "repair", "data": FORM},
            headers=desk,
        ).json()["id"]
        versions = {c.id: c.definition_version for c in _cases(store)}
        assert (versions[running], versions[opened]) == (before, after)
        store.close()


def test_reload_follows_a_changed_file(tmp_path: Path) -> None:
    estate = tmp_path / "lakeside"
    shutil.copytree(ESTATES / "lakeside", estate)
    db = tmp_path / "cases.db"
    options = ["--no-timers", "--reload", "--db", str(db), "--estates", str(estate)]
    with running_server(options, tmp_path / "serve.log") as server:
        store = Store(f"sqlite:///{db}")
        desk = bearer(store, "lakeside", "li", "receptionist")
        before = _version(server, desk)
        _edit(estate / REPAIR, OLD_LABEL, NEW_LABEL)
        _until(lambda: _version(server, desk) != before)
        _until(lambda: "reloaded estate lakeside" in server.output())  # logged after the swap
        store.close()


def _cases(store: Store) -> list[CaseRecord]:
    return store.query_cases(CaseQuery(limit=100))
