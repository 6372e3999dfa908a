"""``propflow test`` and ``propflow simulate``: run an estate's scenarios in simulated time.

``test`` is for consultants and CI: one line per scenario, the first difference of each
failure at its file:line, a closing ``N passed, M failed`` line, and ``--junit-xml`` for the
CI server. ``simulate`` tells one scenario's story: every step, every timer that fired in
between, every state change and notification. Exit codes: 0 all passed, 1 any failed (or a
scenario or its estate has errors), 2 a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import click

from engine.cli.options import StatusLine, estate_option, library_option, use_colour
from engine.diagnostics import output as reporting
from engine.diagnostics.catalogue import say
from engine.diagnostics.positions import printable
from engine.io.loading import UsageError
from engine.model import localized
from engine.model.words import pad
from engine.scenarios import (
    EstateCache,
    ScenarioResult,
    enclosing_estate,
    find_scenarios,
    run_file,
    show_time,
)
from engine.scenarios.junit import write_junit


def _default_estate(path: Path, option: Path | None) -> Path | None:
    """Scenarios name their estate; else ``--estate``; else the estate they are in."""
    return option if option is not None else enclosing_estate(path)


def failure_lines(
    result: ScenarioResult, colour: bool = False, *, estate_shown: bool = False
) -> list[str]:
    """Why a scenario failed: its problems with carets, or its first difference.

    An estate's own errors are listed in full unless ``estate_shown`` (for an earlier
    scenario of the same estate).
    """
    lines: list[str] = []
    if result.diagnostics:
        lines += reporting.human(result.diagnostics, colour).splitlines()
    if result.estate_errors:
        count = len(result.estate_errors)
        if estate_shown:
            lines.append(say("scenario.estate_invalid_above", estate=result.estate, count=count))
        else:
            lines.append(say("scenario.estate_invalid", estate=result.estate, count=count))
            lines += reporting.human(result.estate_errors, colour).splitlines()
    if result.difference is not None and result.scenario is not None:
        # Expected and actual values are the scenario's and the case's text: escaped, so
        # none can print a line of its own.
        lines += [printable(line) for line in result.difference.lines(result.scenario.start)]
    if result.crash is not None:
        lines.append(say("scenario.internal_error", error=result.crash))
    return lines


def _length(span: timedelta) -> str:
    """``2d 3h 5m`` (``0m`` for nothing): the simulated time, to the second, in the words of
    the language spoken (``2天3小时5分钟``)."""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    counts = {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
    parts = [say(f"scenario.length.{unit}", count=count) for unit, count in counts.items() if count]
    return say("scenario.length.separator").join(parts) or say("scenario.length.minutes", count=0)


def _run(
    paths: Sequence[Path], estate: Path | None, libraries: Sequence[Path]
) -> list[ScenarioResult]:
    try:
        files = find_scenarios(paths)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if not files:
        where = ", ".join(str(p) for p in paths)
        raise click.UsageError(say("scenario.no_files", where=where))
    cache = EstateCache(libraries)
    results = []
    with StatusLine(say("scenario.running"), len(files)) as status:
        for path in files:
            results.append(run_file(path, _default_estate(path, estate), cache))
            status.step(path.name)
    return results


@click.command(name="test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@estate_option("Estate directory for scenarios that name none and lie outside an estate.")
@library_option(
    "Process/rules directory or file the estates extend (repeatable); default: the shipped library."
)
@click.option(
    "--junit-xml",
    "junit_xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JUnit XML to this file, for CI.",
)
def test_command(
    paths: tuple[Path, ...],
    estate: Path | None,
    libraries: tuple[Path, ...],
    junit_xml: Path | None,
) -> None:
    """Run scenario files (PATHS: files, or directories searched for scenarios/; default '.')."""
    results = _run(paths or (Path("."),), estate, libraries)
    colour = use_colour(sys.stdout)
    details: dict[int, str] = {}
    shown: set[str] = set()
    for index, result in enumerate(results):
        verdict = _verdict(result)
        if colour:
            verdict = click.style(verdict, fg="green" if result.passed else "red", bold=True)
        click.echo(f"{result.name} {verdict}")
        if not result.passed:
            lines = failure_lines(result, colour, estate_shown=result.estate in shown)
            details[index] = "\n".join(failure_lines(result))
            if result.estate_errors:
                shown.add(result.estate)
            for line in lines:
                click.echo(f"    {line}")
    passed = sum(1 for result in results if result.passed)
    failed = len(results) - passed
    click.echo(say("scenario.closing", passed=passed, failed=failed))
    if junit_xml is not None:
        try:
            write_junit(results, details, junit_xml)
        except OSError as exc:
            reason = say("cli.cannot_write", path=junit_xml, reason=exc.strerror or exc)
            click.echo(say("cli.error", message=reason), err=True)
            sys.exit(2)
    sys.exit(1 if failed else 0)


@click.command(name="simulate")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@estate_option("Estate directory, if the scenario names none and lies outside an estate.")
@library_option(
    "Process/rules directory or file the estate extends (repeatable); default: the shipped library."
)
def simulate_command(scenario: Path, estate: Path | None, libraries: tuple[Path, ...]) -> None:
    """Run one SCENARIO and print its timeline: steps, timers, state changes, notifications."""
    result = run_file(scenario, _default_estate(scenario, estate), EstateCache(libraries))
    loaded = result.scenario
    if loaded is None:
        for line in failure_lines(result, use_colour(sys.stdout)):
            click.echo(line)
        click.echo(_verdict(result))
        sys.exit(1)
    title = localized(loaded.title, "")
    if title:
        click.echo(say("scenario.simulate.titled", scenario=loaded.id, title=printable(title)))
    else:
        click.echo(say("scenario.simulate.heading", scenario=loaded.id))
    click.echo(say("scenario.simulate.file", file=printable(loaded.file)))
    click.echo(say("scenario.simulate.estate", estate=result.estate))
    click.echo(say("scenario.simulate.start", start=show_time(loaded.start, loaded.start)))
    click.echo("")
    previous: datetime | None = None
    for happening in result.timeline:
        stamp = show_time(happening.at, loaded.start) if happening.at != previous else ""
        previous = happening.at
        kind = pad(say(f"scenario.kind.{happening.kind}"), 9)
        click.echo(f"{stamp:<26} {kind} {printable(happening.text)}".rstrip())
    click.echo("")
    if not result.passed:
        for line in failure_lines(result, use_colour(sys.stdout)):
            click.echo(line)
    span = (loaded.steps[-1].at - loaded.start) if loaded.steps else timedelta(0)
    story = say(
        "scenario.simulate.story",
        verdict=_verdict(result),
        run=result.steps_run,
        steps=len(loaded.steps),
        timers=result.timers_fired,
        length=_length(span),
    )
    click.echo(story)
    sys.exit(0 if result.passed else 1)


def _verdict(result: ScenarioResult) -> str:
    """``PASSED`` or ``FAILED``, in the language spoken."""
    return say("scenario.passed" if result.passed else "scenario.failed")
