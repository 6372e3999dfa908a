"""One command line: every command and option documented, the shared options spelt and
typed the same everywhere, ``--lang`` on every command, usage errors exit 2, and the old
spellings still working with a warning."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest

from engine.cli import main
from engine.cli.options import EstateIdType
from engine.diagnostics.language import current_language
from engine.model.words import display_width
from engine.runtime import Actor, Engine, ManualClock
from engine.store.backlog import backlog
from tests.conftest import ROOT, run_cli


def commands(group: click.Group, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` (its subcommands too), by its full name."""
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        yield name, command
        if isinstance(command, click.Group):
            for sub, inner in commands(command, click.Context(command, parent=ctx)):
                yield f"{name} {sub}", inner


def every_command() -> list[tuple[str, click.Command]]:
    return list(commands(main, click.Context(main)))


def options(command: click.Command) -> dict[str, click.Option]:
    found: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for spelling in param.opts:
                found[spelling] = param
    return found


def test_every_command_and_option_has_help() -> None:
    missing = []
    for name, command in every_command():
        if not (command.help or command.short_help or "").strip():
            missing.append(name)
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{name} {'/'.join(param.opts)}")
    assert missing == []


def test_every_command_takes_lang() -> None:
    lacking = [name for name, command in every_command() if "--lang" not in options(command)]
    assert lacking == []


def test_the_shared_options_mean_the_same_everywhere() -> None:
    seen: dict[str, set[str]] = {"--estate": set(), "--library": set(), "--json": set()}
    for name, command in every_command():
        found = options(command)
        if "--estate" in found:
            estate = found["--estate"]
            if isinstance(estate.type, EstateIdType):
                seen["--estate"].add(name)
            else:
                assert isinstance(estate.type, click.Path), name
                assert not estate.type.file_okay and estate.type.exists, name
                assert estate.envvar == "PROPFLOW_ESTATE", name
                seen["--estate"].add(name)
        if "--library" in found:
            library = found["--library"]
            assert library.multiple and isinstance(library.type, click.Path), name
            seen["--library"].add(name)
        if "--json" in found:
            assert found["--json"].is_flag, name
            seen["--json"].add(name)
        if "--db" in found:
            assert found["--db"].envvar == "PROPFLOW_DB", name
        formats = found["--format"].type if "--format" in found else None
        if isinstance(formats, click.Choice) and "json" in formats.choices:
            assert "--json" in found, f"{name} has --format json but no --json"
    for command in ("validate", "show", "diff", "test", "simulate", "deadline", "diagram"):
        assert command in seen["--library"], command
        assert command in seen["--estate"], command
    for command in ("outbox list", "outbox ack", "token create", "token list"):
        assert command in seen["--estate"], command


def test_lang_chooses_the_language_of_a_command() -> None:
    english = run_cli(["diagram", "repair", "--lang", "en"])
    assert english.exit_code == 0, english.output
    assert 'title: "Repair request"' in english.output
    assert current_language() == "en"
    chinese = run_cli(["diagram", "repair"], env={"PROPFLOW_LANG": "zh-CN"})
    assert 'title: "报修处理"' in chinese.output
    from_env = run_cli(["diagram", "repair"], env={"PROPFLOW_LANG": "en"})
    assert 'title: "Repair request"' in from_env.output
    before = run_cli(["--lang", "en", "diagram", "repair"], env={"PROPFLOW_LANG": "zh-CN"})
    assert 'title: "Repair request"' in before.output
    assert run_cli(["validate", "--lang", "fr", "processes"]).exit_code == 2


@pytest.mark.parametrize("args", [["validate", "processes"], ["case", "show", "x"], ["codes"]])
def test_a_propflow_lang_it_does_not_speak_is_a_usage_error_in_both_languages(
    args: list[str],
) -> None:
    refused = run_cli(args, env={"PROPFLOW_LANG": "fr"})
    assert refused.exit_code == 2, refused.output
    assert "PROPFLOW_LANG=fr: PropFlow does not speak 'fr'; it speaks zh-CN, en" in refused.output
    assert "PROPFLOW_LANG=fr：PropFlow 不支持“fr”" in refused.output
    chosen = run_cli([*args[:1], "--lang", "en", *args[1:]], env={"PROPFLOW_LANG": "fr"})
    assert "does not speak" not in chosen.output
    assert run_cli(["--lang", "en", *args], env={"PROPFLOW_LANG": "fr"}).output == chosen.output


@pytest.mark.parametrize(
    "args",
    [
        ["deadline", "--calendar", "ofice", "--limit", "1h"],
        ["validate", "--json", "--format", "github", "processes"],
        ["validate", "--estate", "processes"],
        ["validate", "--estate", "estates/lakeside", "processes"],
        ["codes", "--format", "yaml"],
        ["outbox", "list", "--estate", "no-such/dir"],
        ["show", "repair", "--library", "no-such-dir"],
        ["case", "list", "--breached", "--opened-from", "2026-01-01"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code == 2, result.output


def test_deprecated_spellings_still_work_and_say_so(tmp_path: Path) -> None:
    rules = run_cli(["deadline", "--rules", "rules", "--limit", "1h", "--start",
                     "2026-03-02T09:00+08:00", "--json"])  # fmt: skip
    assert rules.exit_code == 0, rules.output
    assert "--rules is deprecated; use --library" in rules.output
    human = run_cli(["validate", "--format", "human", "processes"])
    assert human.exit_code == 0 and "--format human is deprecated" in human.output
    assert f"checked {len(list((ROOT / 'processes').glob('*.yaml')))} files" in human.output
    text = run_cli(["codes", "--format", "human"])
    assert text.exit_code == 0 and "PF102" in text.output
    db = str(tmp_path / "cases.db")
    by_id = run_cli(["outbox", "list", "--db", db, "--estate", "lakeside"])
    assert by_id.exit_code == 0 and "--estate lakeside is deprecated" in by_id.output
    chinese = run_cli(["--lang", "zh-CN", "outbox", "list", "--db", db, "--estate", "lakeside"])
    assert "警告：--estate lakeside 是旧写法，已不推荐；请改用 --estate DIR" in chinese.output
    by_dir = run_cli(["outbox", "list", "--db", db, "--estate", "estates/lakeside"])
    assert by_dir.exit_code == 0 and by_dir.output == ""


def test_json_is_format_json_where_a_command_has_formats() -> None:
    validated = run_cli(["validate", "--json", "processes"])
    shipped = len(list((ROOT / "processes").glob("*.yaml")))
    assert json.loads(validated.output)["summary"]["processes"] == shipped
    codes = json.loads(run_cli(["codes", "--json"]).output)
    assert {"code": "PF102"}.items() <= next(c for c in codes if c["code"] == "PF102").items()


def test_deadline_counts_the_estates_own_closed_days() -> None:
    args = ["deadline", "--limit", "1 workdays", "--start", "2026-03-19T16:00", "--json"]
    plain = json.loads(run_cli(args).output)
    lakeside = json.loads(run_cli([*args, "--estate", "estates/lakeside"]).output)
    # 20 March is lakeside's training day: its service centre is closed.
    assert plain["deadline"] == "2026-03-20T16:00:00+08:00"
    assert lakeside["deadline"] == "2026-03-23T16:00:00+08:00"
    assert lakeside["calendar"] == "office"


# ------------------------------------------------------------------------- validate


def test_validate_knows_scenario_files(tmp_path: Path) -> None:
    scenario = ROOT / "estates" / "tingtao" / "scenarios" / "lock_extension.yaml"
    result = run_cli(["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "PF008" not in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("scenario: broken\nstart: 2026-03-02T09:00+08:00\nsteps: 3\n")
    refused = run_cli(["validate", str(broken)])
    assert refused.exit_code == 1 and "PF008" not in refused.output
    assert "broken.yaml:3:" in refused.output


def test_validate_with_no_path_checks_the_library_and_estates_not_fixtures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("processes", "rules"):
        shutil.copytree(ROOT / name, tmp_path / name)
    library_files = len(list(tmp_path.glob("*/*.yaml")))
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    (tmp_path / "tests" / "fixtures" / "broken.yaml").write_text("process: [\n")
    monkeypatch.chdir(tmp_path)
    result = run_cli(["validate", "--json"])
    summary = json.loads(result.output)["summary"]
    assert summary["files"] == library_files and summary["errors"] == 0, result.output
    named = run_cli(["validate", "tests"])
    assert named.exit_code == 1  # a directory named on the command line is checked


def test_validate_an_estate_over_a_library() -> None:
    result = run_cli(["validate", "--estate", "estates/lakeside", "--library", "processes",
                      "--library", "rules", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["estates"] == 1


# ------------------------------------------------------------------------- progress


def _run_on_terminal(
    args: list[str], *, stderr_terminal: bool, columns: int | None = None
) -> tuple[bytes, bytes]:
    """``propflow ARGS`` in a fresh interpreter, standard error on a pseudo-terminal (of
    ``columns``, if given) or a pipe; (stdout, what the terminal or the pipe received)."""
    script = "from engine.cli import main; main(prog_name='propflow')"
    env = {**os.environ, **({"COLUMNS": str(columns)} if columns else {})}
    if not stderr_terminal:
        done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env,
                              capture_output=True, timeout=300, check=False)  # fmt: skip
        return done.stdout, done.stderr
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=follower)  # fmt: skip
        os.close(follower)
        received = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            received += chunk
        stdout, _ = process.communicate(timeout=300)
    finally:
        os.close(leader)
    return stdout, received


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["validate", "processes", "rules"], b"validating"),
        (["test", "estates"], b"running scenarios"),
    ],
)
def test_long_commands_show_progress_on_a_terminal_only(args: list[str], words: bytes) -> None:
    stdout, terminal = _run_on_terminal(args, stderr_terminal=True)
    assert words in terminal and b"\x1b[K" in terminal
    assert words not in stdout
    piped_out, piped_err = _run_on_terminal(args, stderr_terminal=False)
    assert words not in piped_err and b"\x1b[K" not in piped_err
    assert piped_out == stdout


def test_the_progress_line_speaks_chinese_and_fits_the_terminal_by_display_width() -> None:
    """A Chinese progress line cut by characters would be wider than the terminal, wrap,
    and leave its first part behind when rewritten: it is cut by display columns."""
    stdout, terminal = _run_on_terminal(
        ["--lang", "zh-CN", "validate", "processes", "rules"],
        stderr_terminal=True,
        columns=24,
    )
    assert "正在校验".encode() in terminal and b"validating" not in terminal
    shown = [part for part in terminal.decode().split("\r\x1b[K") if part]
    assert shown, terminal
    assert max(display_width(line) for line in shown) <= 23, shown
    assert "已检查".encode() in stdout


def test_a_worker_catching_up_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    db = str(tmp_path / "cases.db")
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    engine = Engine(store=db, clock=clock)
    try:  # cases opened long ago: their timers are all due now
        desk = Actor("li", {"receptionist"})
        for unit in ("1-101", "1-102", "1-103"):
            engine.open_case("repair", {"scope": "in_unit", "unit": unit, "owner_name": "陈"}, desk)
        due = backlog(engine.store, datetime.now(UTC)).due_timers
    finally:
        engine.close()
    assert due >= 3
    script = "from engine.cli import main; main(prog_name='propflow')"
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", script, "worker", "--db", db, "--batch", "1",
             "--interval", "0.05"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while f"{due}/{due}".encode() not in shown:
            shown += os.read(leader, 4096)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        os.close(leader)
    assert b"catching up: timers fired 1/" in shown
    # While it catches up, the progress line is not broken by a log line per timer.
    during = shown.split(b"catching up", 1)[1].split(f"{due}/{due}".encode(), 1)[0]
    assert b"of time limit" not in during


def test_the_library_summary_is_a_table_aligned_by_display_width() -> None:
    """Chinese titles take two columns a character: every row's counts start where the
    header's do, in both languages."""
    for lang, header in (("zh-CN", "状态"), ("en", "states")):
        result = run_cli(["--lang", lang, "validate", "--summary", "processes", "rules"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        head = next(line for line in lines if header in line)
        column = display_width(head[: head.index(header)])
        rows = lines[lines.index(head) + 2 :][:23]
        assert any(row.startswith("repair ") for row in rows)
        for row in rows:
            before = row[: next(i for i in range(len(row)) if display_width(row[:i]) >= column)]
            assert display_width(before) == column and row[len(before)].isdigit(), row


OPEN = ["case", "open", "repair", "--db", "{db}", "--role", "receptionist"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([*OPEN, "--data", "[1]"], "必须是 JSON 对象"),
        ([*OPEN, "--data", "{{"], "不是 JSON"),
        ([*OPEN, "--set", "unit"], "“unit”不是 字段=值 的写法"),
        (["case", "list", "--db", "{db}", "--breached", "--opened-from", "2026-01-01"],
         "按期限排列"),
        (["serve", "--config", "{config}", "--estates", "estates"], "不能两者都给"),
        (["report", "--estate", "estates/lakeside", "--period", "2026-03", "--from",
          "2026-03-01"], "请给出 --period 或 --from/--to"),
        (["report", "--estate", "estates/lakeside", "--from", "2026-03-01"],
         "--from 和 --to 须一起给出"),
        (["validate", "--json", "--format", "github", "processes"], "互相矛盾"),
        (["outbox", "list", "--estate", "processes"], "processes 不是项目目录"),
    ],
)  # fmt: skip
def test_usage_errors_speak_chinese(args: list[str], words: str, tmp_path: Path) -> None:
    config = tmp_path / "propflow.yaml"
    config.write_text("deployment: x\n", encoding="utf-8")
    filled = [arg.format(db=tmp_path / "cases.db", config=config) for arg in args]
    result = run_cli(["--lang", "zh-CN", *filled])
    assert result.exit_code == 2, result.output
    assert words in result.output, result.output


def test_a_store_that_cannot_be_opened_is_told_in_chinese(tmp_path: Path) -> None:
    result = run_cli(["--lang", "zh-CN", "case", "list", "--db", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("错误："), result.output
