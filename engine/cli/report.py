"""``propflow report`` and ``propflow board``: an estate's indicators and its overdue board."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from engine.checks.validation import validate_estate
from engine.cli.options import db_option, estate_option, format_options, json_option
from engine.diagnostics import output as reporting
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model.durations import DurationError, parse_duration
from engine.reports import (
    FORMATS,
    GROUP_BY,
    GroupBy,
    Period,
    PeriodError,
    board_json,
    board_text,
    build_report,
    day_range,
    month_before,
    overdue_board,
    parse_period,
    render,
)
from engine.store import Store, StoreError


def _open(estate: Path, db: str) -> tuple[Store, str, str, Library]:
    result = validate_estate(estate)
    if result.estate is None or not result.validated.ok:
        click.echo(reporting.human(result.validated.errors, colour=False), err=True, nl=False)
        click.echo(say("cli.not_validated", estate=estate), err=True)
        sys.exit(1)
    try:
        store = Store(db)
    except StoreError as exc:
        click.echo(say("cli.error", message=exc), err=True)
        sys.exit(1)
    return store, result.estate.id, result.estate.timezone, result.validated.library


@click.command(name="report")
@estate_option("Estate directory: its indicators, timezone and cases.", required=True)
@db_option()
@click.option(
    "--period",
    "period_text",
    help="A month (2026-03), week (2026-W10), quarter (2026-Q1) or year; default: last month.",
)
@click.option(
    "--from",
    "from_day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day of a range (with --to), instead of --period.",
)
@click.option(
    "--to", "to_day", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the range, inclusive."
)
@click.option(
    "--by",
    type=click.Choice(GROUP_BY),
    help="Break each indicator down: process, role, assignee (who last acted), category.",
)
@format_options(
    FORMATS,
    "text",
    "Output format; html is one self-contained printable page with charts.",
    aliases={"human": "text"},
)
def report(
    estate: Path,
    db: str,
    period_text: str | None,
    from_day: datetime | None,
    to_day: datetime | None,
    by: GroupBy | None,
    output_format: str,
) -> None:
    """Print every indicator of the estate: value, target, met or missed, the counts and the
    cases that missed."""
    if period_text and (from_day or to_day):
        raise click.UsageError(say("cli.period_or_range"))
    if (from_day is None) != (to_day is None):
        raise click.UsageError(say("cli.from_to"))
    store, estate_id, timezone, library = _open(estate, db)
    period: Period
    try:
        if from_day is not None and to_day is not None:
            period = day_range(from_day.date(), to_day.date(), timezone)
        elif period_text:
            period = parse_period(period_text, timezone)[1]
        else:
            period = month_before(datetime.now().astimezone(), timezone)
    except PeriodError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        built = build_report(
            store, library, estate_id, timezone, period, by, charts=output_format == "html"
        )
    finally:
        store.close()
    click.echo(render(built, output_format), nl=False)


@click.command(name="board")
@estate_option("Estate directory: its indicators, timezone and cases.", required=True)
@db_option()
@click.option(
    "--within",
    default="4h",
    show_default=True,
    help="Also list what breaches within this long (e.g. 4h, 1d).",
)
@click.option(
    "--at",
    "at_time",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    help="The moment to judge at (ISO 8601 with offset); default: now.",
)
@json_option()
def board(estate: Path, db: str, within: str, at_time: datetime | None, as_json: bool) -> None:
    """List what is breached now and what will breach soon, grouped by role, nearest
    deadline first."""
    try:
        span = parse_duration(within).as_timedelta()
    except (DurationError, ValueError) as exc:
        raise click.UsageError(f"--within: {exc}") from None
    store, estate_id, timezone, _ = _open(estate, db)
    now = at_time or datetime.now().astimezone()
    try:
        items = overdue_board(store, estate_id, now, span)
    finally:
        store.close()
    click.echo(board_json(items, now) if as_json else board_text(items, now, timezone), nl=False)
