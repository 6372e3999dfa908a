"""``propflow validate``, ``schema`` and ``codes``: the commands consultants and CI run.

Exit codes are stable for CI: 0 clean, 1 problems found, 2 a usage error (bad option, a path
that does not exist).
"""

from __future__ import annotations

import dataclasses
import gc
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from engine.checks import codes
from engine.checks.validation import ValidationReport, validate_estate, validate_paths
from engine.cli.options import StatusLine, estate_option, format_options, library_option, use_colour
from engine.cli.table import Table
from engine.diagnostics import Diagnostic
from engine.diagnostics import output as reporting
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import current_language
from engine.io.library import Library
from engine.io.loading import UsageError
from engine.io.resources import schemas_dir
from engine.io.schemas import FileKind, load_schema
from engine.model import localized

# Commands are registered on the ``propflow`` group in engine.cli.


#: What ``propflow validate`` with no path checks in a checkout of a library: the
#: library's own directories and its estates, not whatever else lies around (test
#: fixtures, build output), which is checked only when named.
PROJECT_LAYOUT = ("processes", "rules", "estates")


def default_paths(directory: Path) -> tuple[Path, ...]:
    """The project layout's directories present in ``directory``, else ``directory``."""
    found = tuple(directory / name for name in PROJECT_LAYOUT if (directory / name).is_dir())
    return found or (directory,)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@estate_option("Validate this estate directory, merged over the library it extends.")
@library_option(
    "Process/rules directory or file to validate (repeatable); with --estate, the library "
    "the estate extends (default: the shipped one)."
)
@format_options(
    ["text", "json", "github"],
    "text",
    "text: path:line:col with the source line; json: for tools; github: annotations.",
    aliases={"human": "text"},
)
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--summary", is_flag=True, help="List the processes and time limits found.")
def validate(
    paths: tuple[Path, ...],
    estate: Path | None,
    libraries: tuple[Path, ...],
    output_format: str,
    strict: bool,
    summary: bool,
) -> None:
    """Check process, rules, estate and scenario files (PATHS: files or directories;
    default: processes/, rules/ and estates/ where they exist, else '.')."""
    try:
        # What is alive now (modules, schemas, models) lives until this short process ends:
        # set aside, the collector never walks it again (loading pauses it only while it
        # reads the files).
        gc.freeze()
        with StatusLine(say("validate.progress")) as status:
            report = _validate(paths, estate, libraries, lambda path: status.step(str(path)))
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    if output_format == "json":
        click.echo(reporting.as_json(report.diagnostics, report.summary()))
    elif output_format == "github":
        if report.diagnostics:
            click.echo(reporting.github(report.diagnostics))
    else:
        if report.diagnostics:
            click.echo(reporting.human(report.diagnostics, use_colour(sys.stdout)))
        if summary:
            click.echo(_library_summary(report))
        click.echo(_closing_line(report))
    sys.exit(1 if report.failed(strict) else 0)


def _validate(
    paths: tuple[Path, ...],
    estate: Path | None,
    libraries: tuple[Path, ...],
    on_step: Callable[[Path], None],
) -> ValidationReport:
    """What the options ask for: an estate over its library, or the paths and libraries;
    with the scenarios of every estate validated."""
    if estate is None:
        report = validate_paths((*paths, *libraries) or default_paths(Path(".")), on_step)
        return _with_scenarios(report, (), on_step)
    if paths:
        raise click.UsageError(say("usage.paths_or_estate"))
    load = validate_estate(estate, list(libraries) or None)
    return _with_scenarios(
        ValidationReport(Library(), load.diagnostics, [load]), libraries, on_step
    )


def _with_scenarios(
    report: ValidationReport, libraries: Sequence[Path], on_step: Callable[[Path], None]
) -> ValidationReport:
    """``report`` with the diagnostics of the scenario files in its estates' ``scenarios/``
    directories: the files ``propflow test`` finds for these estates, checked (shape,
    times, names and values against their estate, extending ``libraries`` or the shipped
    one) but not run. A scenario's estate is the one holding it unless it names another;
    the estates validated already are not validated again."""
    directories = [load.directory for load in report.estates if load.directory is not None]
    if not directories:
        return report
    # Checking a scenario's names needs the runtime, which validating plain files does
    # not load (its start-up is what CI and the pre-commit hook wait for).
    from engine.scenarios.loader import enclosing_estate, find_scenarios
    from engine.scenarios.runner import EstateCache, check_file

    cache = EstateCache(libraries)
    for load in report.estates:
        if load.directory is not None:
            cache.remember(load.directory, load.validated)
    found = []
    for path in find_scenarios(directories):
        found += check_file(path, enclosing_estate(path), cache)
        on_step(path)
    if not found:
        return report
    diagnostics = sorted([*report.diagnostics, *found], key=Diagnostic.sort_key)
    return dataclasses.replace(report, diagnostics=diagnostics)


def _closing_line(report: ValidationReport) -> str:
    s = report.summary()
    return say(
        "validate.closing",
        files=s["files"],
        processes=s["processes"],
        time_limits=s["time_limits"],
        calendars=s["calendars"],
        estates=s["estates"],
        errors=s["errors"],
        warnings=s["warnings"],
    )


def _library_summary(report: ValidationReport) -> str:
    """The library at a glance: a table of its processes and one of its calendars, columns
    aligned by display width (a Chinese title is two columns a character)."""
    lib, lang = report.library, current_language()
    processes = Table([say(f"validate.column.{key}") for key in PROCESS_COLUMNS])
    for located in lib.processes:
        p = located.definition
        limits = [t.definition.id for t in lib.time_limits if t.definition.process == p.id]
        counts = (p.states, p.events, p.fields, p.roles, limits)
        processes.add([p.id, localized(p.title, p.id, lang), *(str(len(c)) for c in counts)])
    calendars = Table([say(f"validate.column.{key}") for key in CALENDAR_COLUMNS])
    for located_calendar in lib.calendars:
        c = located_calendar.definition
        calendars.add([c.id, localized(c.label, c.id, lang), c.timezone])
    return f"{processes.render()}\n\n{calendars.render()}"


#: The summary's columns, each worded by the catalogue's ``validate.column.KEY``.
PROCESS_COLUMNS = ("process", "title", "states", "events", "fields", "roles", "time_limits")
CALENDAR_COLUMNS = ("calendar", "label", "timezone")


@click.command()
@click.argument("kind", type=click.Choice([k.value for k in FileKind]))
@click.option(
    "--patch",
    is_flag=True,
    help="The schema of an estate's customisation of a KIND file (process or rules): every "
    "key optional, null deletes.",
)
def schema(kind: str, patch: bool) -> None:
    """Print the JSON Schema of a file KIND (process, rules, estate, scenario or deployment)."""
    if not patch:
        click.echo(json.dumps(load_schema(FileKind(kind)), ensure_ascii=False, indent=2))
        return
    path = schemas_dir() / f"{kind}.patch.schema.json"
    if not path.is_file():
        raise click.BadParameter(f"{kind} files are not patched by estates", param_hint="--patch")
    click.echo(path.read_text(encoding="utf-8"), nl=False)


@click.command(name="codes")
@format_options(
    ["text", "json", "markdown"],
    "text",
    "text: one line a code; json: for tools; markdown: the page docs/checks.md is.",
    aliases={"human": "text"},
)
def codes_command(output_format: str) -> None:
    """List every diagnostic code with its explanation."""
    if output_format == "markdown":
        click.echo(codes.markdown(), nl=False)
        return
    if output_format == "json":
        documents = [
            {"code": d.code, "name": d.name, "severity": d.severity.value, "summary": d.summary}
            for d in codes.all_codes()
        ]
        click.echo(json.dumps(documents, ensure_ascii=False, indent=2))
        return
    click.echo(codes.listing(), nl=False)
