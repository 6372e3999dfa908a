"""Deployment files and the host: positioned diagnostics like every other file kind, one
engine per estate over one store, and the commands that use them (token, worker, serve)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from engine.io.deployment import load_deployment, simple_deployment
from engine.runtime import Actor, Host, UnknownEstate
from engine.store import Store
from engine.store.schema import api_tokens, timers
from engine.store.tokens import find_token
from tests.conftest import ROOT, run_cli, validated_library
from tests.service_harness import FORM, RECORD

ESTATES = ROOT / "estates"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_deployment_file_resolves_its_paths_against_its_own_directory(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    write(tmp_path / "keys" / "login.pem", "secret-of-the-login-service")
    config = write(
        tmp_path / "propflow.yaml",
        f"deployment: acme\nestates: {ESTATES}\n"
        "tokens:\n  jwt: {algorithm: HS256, key_file: keys/login.pem}\n"
        "webhooks:\n  - {url: 'https://example.com/hook', secret: s3cret, kinds: [escalate]}\n",
    )
    deployment, problems = load_deployment(config)
    assert problems == [] and deployment is not None
    assert deployment.store == str(tmp_path / "propflow.db")
    assert [d.name for d in deployment.estate_dirs] == ["lakeside", "tingtao"]
    assert deployment.jwt is not None and deployment.jwt.key == "secret-of-the-login-service"
    assert deployment.webhooks[0].kinds == ("escalate",)


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "words"),
    [
        ("deployment: acme\nestate: lakeside\n", "PF050", 2, 1, "unknown key 'estate'"),
        ("deployment: acme\nestates: [nowhere]\n", "PF450", 2, 11, "'nowhere' is not an estate"),
        ("deployment: acme\nestates: nowhere\n", "PF450", 2, 10, "holds none"),
        ("deployment: acme\ntokens:\n  jwt: {algorithm: HS256, key_file: gone.pem}\n",
         "PF451", 3, 37, "cannot read the key file 'gone.pem'"),
        ("deployment: acme\ntokens:\n  jwt: {algorithm: HS256}\n",
         "PF050", 3, 3, "needs exactly one of: key, key_file"),
        ("deployment: acme\nwebhooks:\n  - {url: 'ftp://x', secret: s}\n",
         "PF050", 3, 11, "not a valid url"),
        ("deployment: acme\ndeployment: again\n", "PF004", 2, 1, "appears twice"),
    ],
)  # fmt: skip
def test_a_broken_deployment_file_is_reported_at_its_place(
    tmp_path: Path, text: str, code: str, line: int, column: int, words: str
) -> None:
    if "estates:" not in text:
        text += f"estates: {ESTATES}\n"
    deployment, problems = load_deployment(write(tmp_path / "propflow.yaml", text))
    assert deployment is None
    found = [(p.code, p.span.line, p.span.column) for p in problems]
    assert (code, line, column) in found, [(p.code, p.span, p.message) for p in problems]
    assert any(words in p.message for p in problems), [p.message for p in problems]


def test_the_host_runs_each_estate_on_its_own_definitions_over_one_store() -> None:
    store = Store("sqlite:///:memory:")
    host = Host([validated_library("lakeside"), validated_library("tingtao")], store)
    try:
        assert host.estates() == ["lakeside", "tingtao"]
        lakeside, tingtao = host.engine("lakeside"), host.engine("tingtao")
        assert lakeside.store is tingtao.store is store
        assert "warranty_keys" in lakeside.processes and "warranty_keys" not in tingtao.processes
        with pytest.raises(UnknownEstate):
            host.engine("elsewhere")
        desk = Actor("li", {"receptionist"})
        case = lakeside.open_case("repair", FORM, desk)
        with pytest.raises(Exception, match="belongs to estate 'lakeside'"):
            tingtao.get_case(case.id)
    finally:
        host.close()


def test_one_tick_of_the_host_fires_every_estates_due_timers(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'cases.db'}")
    host = Host([validated_library("lakeside"), validated_library("tingtao")], store)
    try:
        desk = Actor("li", {"receptionist"})
        opened = {}
        for estate in host.estates():
            engine = host.engine(estate)
            case = engine.open_case("repair", FORM, desk)
            engine.fire(case.id, "record", desk, RECORD)
            opened[estate] = case.id
        with store.transaction() as tx:
            tx.execute(update(timers).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
        each = host.tick_each()
        assert all(result.fired > 0 for result in each.values()), each
        assert host.tick().fired == 0  # each fired exactly once
        for estate, case_id in opened.items():
            fired = [e.event for e in host.engine(estate).history(case_id) if ":" in e.event]
            assert any(event.startswith("breach:") for event in fired), (estate, fired)
    finally:
        host.close()


def test_a_directory_that_is_no_estate_is_refused(tmp_path: Path) -> None:
    deployment, problems = simple_deployment("x.db", tmp_path)
    assert deployment is None and problems[0].code == "PF450"
    one, _ = simple_deployment("x.db", ESTATES / "tingtao")
    assert one is not None and one.estate_dirs == (ESTATES / "tingtao",)


def test_token_commands_create_list_and_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "cases.db")
    common = ["--db", db, "--estates", str(ESTATES)]
    created = run_cli(
        ["token", "create", *common, "--estate", str(ESTATES / "lakeside"), "--actor", "li",
         "--roles", "receptionist,supervisor", "--expires", "90d"]
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    bearer = created.output.splitlines()[0]
    store = Store(db)
    try:
        record = find_token(store, bearer)
        assert record is not None and record.roles == ("receptionist", "supervisor")
        assert record.expires_at is not None and record.expires_at > datetime.now(UTC)
        # only the hash is kept
        stored = store.rows(api_tokens.select())
        assert all(bearer not in json.dumps(dict(row), default=str) for row in stored)
        listed = json.loads(run_cli(["token", "list", *common, "--json"]).output)
        assert [(t["id"], t["valid"]) for t in listed] == [(record.id, True)]
        assert run_cli(["token", "revoke", *common, record.id]).exit_code == 0
        assert run_cli(["token", "revoke", *common, record.id]).exit_code == 1
        listed = json.loads(run_cli(["token", "list", *common, "--json"]).output)
        assert listed[0]["valid"] is False and listed[0]["revoked_at"] is not None
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--estate", "elsewhere", "--actor", "li", "--roles", "receptionist"], "not hosted"),
        (["--estate", str(ESTATES / "lakeside"), "--actor", "li", "--roles", "wizard"], "wizard"),
        (["--estate", str(ESTATES / "lakeside"), "--actor", "li", "--roles", "system"], "system"),
        (["--estate", str(ESTATES / "lakeside"), "--actor", "li", "--roles", "owner",
          "--expires", "3 workdays"],
         "wall-clock"),
    ],
)  # fmt: skip
def test_token_create_refuses_what_could_never_work(
    tmp_path: Path, options: list[str], words: str
) -> None:
    result = run_cli(
        ["token", "create", "--db", str(tmp_path / "c.db"), "--estates", str(ESTATES), *options]
    )
    assert result.exit_code == 2 and words in result.output, result.output


def test_worker_ticks_every_estate_of_a_directory_once(tmp_path: Path) -> None:
    db = tmp_path / "cases.db"
    host = Host.from_directories([ESTATES / "lakeside", ESTATES / "tingtao"], str(db))
    desk = Actor("li", {"receptionist"})
    for estate in host.estates():
        case = host.engine(estate).open_case("repair", FORM, desk)
        host.engine(estate).fire(case.id, "record", desk, RECORD)
    with host.store.transaction() as tx:
        tx.execute(update(timers).values(due_at=datetime.now(UTC) - timedelta(minutes=1)))
    host.close()
    result = run_cli(["worker", "--db", str(db), "--estates", str(ESTATES), "--once"])
    assert result.exit_code == 0, result.output
    # The summary is the last line; the log lines of each timer come before it.
    summary = result.output.splitlines()[-1]
    fired = int(summary.split()[1].rstrip(","))
    assert fired >= 2  # timers of both estates, each on its own estate's definitions
    assert "estate lakeside)" in result.output and "estate tingtao)" in result.output
    again = run_cli(["worker", "--db", str(db), "--estates", str(ESTATES), "--once"])
    assert again.output.splitlines()[-1].startswith("fired 0,")


def test_serve_and_worker_usage_errors_exit_2(tmp_path: Path) -> None:
    config = write(tmp_path / "propflow.yaml", f"deployment: acme\nestates: {ESTATES}\n")
    both = run_cli(["serve", "--config", str(config), "--estates", str(ESTATES)])
    assert both.exit_code == 2 and "not both" in both.output
    mixed = run_cli(["worker", "--estates", str(ESTATES), "--estate", str(ESTATES / "lakeside")])
    assert mixed.exit_code == 2


def test_serve_reports_a_broken_deployment_file_with_its_position(tmp_path: Path) -> None:
    config = write(tmp_path / "propflow.yaml", "deployment: acme\nestates: [nowhere]\n")
    result = run_cli(["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "propflow.yaml:2:11: error PF450" in result.output


def test_serve_without_the_server_extra_says_what_to_install(tmp_path: Path) -> None:
    """A plain install (the README's first command) lacks FastAPI: serve says which extra to
    install and exits 1, with no traceback. Run in a fresh interpreter where the import of
    fastapi fails, as it does without the extra."""
    script = (
        "import sys; sys.modules['fastapi'] = None\n"
        "from engine.cli import main\n"
        f"main(['serve', '--db', {str(tmp_path / 'cases.db')!r}, '--estates', {str(ESTATES)!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1, done.stderr
    assert "pip install 'propflow[server]'" in done.stderr
    assert "Traceback" not in done.stderr
