"""``propflow validate``, ``schema`` and ``codes``: the commands consultants and CI run.

Exit codes are stable for CI: 0 clean, 1 problems found, 2 a usage error (bad option, a path
that does not exist).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import click

from engine.checks import codes
from engine.checks.validation import ValidationReport, validate_paths
from engine.diagnostics import output as reporting
from engine.io.loading import UsageError
from engine.io.schemas import FileKind, load_schema
from engine.model import localized

# Commands are registered on the ``propflow`` group in engine.cli.


def _use_colour(stream: object) -> bool:
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["human", "json", "github"]),
    default="human",
    show_default=True,
    help="human: path:line:col with the source line; json: for tools; github: annotations.",
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--summary", is_flag=True, help="List the processes and time limits found.")
def validate(paths: tuple[Path, ...], output_format: str, strict: bool, summary: bool) -> None:
    """Check process, rules and estate files (PATHS: files or directories; default '.')."""
    try:
        # What is alive now (modules, schemas, models) lives until this short process ends:
        # set aside, the collector never walks it again (loading pauses it only while it
        # reads the files).
        gc.freeze()
        report = validate_paths(paths or (Path("."),))
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if output_format == "json":
        click.echo(reporting.as_json(report.diagnostics, report.summary()))
    elif output_format == "github":
        if report.diagnostics:
            click.echo(reporting.github(report.diagnostics))
    else:
        if report.diagnostics:
            click.echo(reporting.human(report.diagnostics, _use_colour(sys.stdout)))
        if summary:
            click.echo(_library_summary(report))
        click.echo(_closing_line(report))
    sys.exit(1 if report.failed(strict) else 0)


def _closing_line(report: ValidationReport) -> str:
    s = report.summary()
    return (
        f"checked {s['files']} files: {s['processes']} processes, {s['time_limits']} time "
        f"limits, {s['calendars']} calendars, {s['estates']} estates; "
        f"{s['errors']} errors, {s['warnings']} warnings"
    )


def _library_summary(report: ValidationReport) -> str:
    lib = report.library
    lines = []
    for located in lib.processes:
        p = located.definition
        limits = [t.definition.id for t in lib.time_limits if t.definition.process == p.id]
        lines.append(
            f"{p.id:<18} {localized(p.title, p.id):<12} {len(p.states):>3} states "
            f"{len(p.events):>3} events {len(p.fields):>3} fields {len(p.roles):>2} roles "
            f"{len(limits):>3} time limits"
        )
    for located_calendar in lib.calendars:
        c = located_calendar.definition
        lines.append(f"calendar {c.id:<9} {localized(c.label, c.id)} ({c.timezone})")
    return "\n".join(lines)


@click.command()
@click.argument("kind", type=click.Choice([k.value for k in FileKind]))
def schema(kind: str) -> None:
    """Print the JSON Schema of a file KIND (process, rules, estate or scenario)."""
    click.echo(json.dumps(load_schema(FileKind(kind)), ensure_ascii=False, indent=2))


@click.command(name="codes")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
)
def codes_command(output_format: str) -> None:
    """List every diagnostic code with its explanation."""
    if output_format == "markdown":
        click.echo(codes.markdown(), nl=False)
        return
    click.echo(codes.listing(), nl=False)
