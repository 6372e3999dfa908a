"""``propflow deadline``: when a time limit started at a given moment falls due.

For consultants checking a rule against the manual (“three working days from the Friday
before Spring Festival is when?”) and for support answering an owner. It prints the deadline
in the calendar's timezone, the working periods counted to reach it, and a warning when a
date beyond the statutory holiday data was involved.

Exit codes: 0 answered, 1 an unknown or unusable calendar, 2 a usage error (a bad duration or
start time, a rules path that does not exist).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from engine.diagnostics import Severity, suggest
from engine.io.loading import UsageError, load_library
from engine.io.resources import standard_library_dirs
from engine.model import CalendarDef, localized
from engine.model.durations import Duration, DurationError, parse_duration
from engine.time import CalendarError, Deadline, Interval, WorkingCalendar

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _parse_limit(_ctx: click.Context, _param: click.Parameter, value: str) -> Duration:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise click.BadParameter(str(exc)) from exc


def _parse_start(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}' is not an ISO 8601 time like 2026-02-13T10:00+08:00"
        ) from exc


@click.command()
@click.option(
    "--calendar",
    "calendar_id",
    default="office",
    show_default=True,
    help="The calendar to count on (24x7, office, workday_24h or one in --rules).",
)
@click.option(
    "--start",
    callback=_parse_start,
    help="When the clock starts, ISO 8601 (2026-02-13T10:00+08:00); a time without an "
    "offset is in the calendar's timezone. Default: now.",
)
@click.option(
    "--limit",
    required=True,
    callback=_parse_limit,
    help='The time limit: "3 workdays", "4 workhours", "24h", "PT24H".',
)
@click.option(
    "--rules",
    "rules_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Rules files or directories to load calendars from (repeatable). Default: the "
    "shipped rules.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def deadline(
    calendar_id: str,
    start: datetime | None,
    limit: Duration,
    rules_paths: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Compute the deadline of a time limit started at --start on a calendar."""
    definition = _find_calendar(calendar_id, rules_paths)
    try:
        calendar = WorkingCalendar.from_definition(definition)
        begin = _localized(start, calendar)
        result = calendar.add(begin, limit)
    except CalendarError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(_as_json(definition, begin, limit, result))
        return
    click.echo(_as_text(definition, begin, limit, result))
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _find_calendar(calendar_id: str, rules_paths: tuple[Path, ...]) -> CalendarDef:
    paths = list(rules_paths) or [d for d in standard_library_dirs() if d.name == "rules"]
    try:
        loaded = load_library(paths)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    for located in loaded.library.calendars:
        if located.definition.id == calendar_id:
            return located.definition
    known = loaded.library.calendar_ids
    message = f"unknown calendar '{calendar_id}'{suggest(calendar_id, known, list_all=False)}"
    message += f"; defined: {', '.join(known)}" if known else "; no calendars were loaded"
    errors = sum(1 for d in loaded.diagnostics if d.severity is Severity.ERROR)
    if errors:
        message += f" ({errors} problems loading the rules: run propflow validate on them)"
    raise click.ClickException(message)


def _localized(start: datetime | None, calendar: WorkingCalendar) -> datetime:
    if start is None:
        return datetime.now(calendar.tz).replace(second=0, microsecond=0)
    if start.tzinfo is None:
        return start.replace(tzinfo=calendar.tz)
    return start


def _as_text(definition: CalendarDef, start: datetime, limit: Duration, result: Deadline) -> str:
    tz = result.at.tzinfo
    lines = [
        f"deadline: {result.at.isoformat()} ({_WEEKDAYS[result.at.weekday()]}, {tz})",
        f"calendar: {definition.id} ({localized(definition.label, definition.id)}); "
        f"start {start.astimezone(tz).isoformat()}; limit {limit}",
        f"counted {_length(result.working_time)} in {len(result.counted)} "
        f"period{'' if len(result.counted) == 1 else 's'}:",
    ]
    lines += [f"  {_interval(interval)}" for interval in result.counted]
    return "\n".join(lines)


def _as_json(definition: CalendarDef, start: datetime, limit: Duration, result: Deadline) -> str:
    tz = result.at.tzinfo
    document = {
        "calendar": definition.id,
        "timezone": str(tz),
        "start": start.astimezone(tz).isoformat(),
        "limit": str(limit),
        "deadline": result.at.isoformat(),
        "counted": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in result.counted],
        "counted_seconds": int(result.working_time.total_seconds()),
        "warnings": list(result.warnings),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _interval(interval: Interval) -> str:
    """`2026-02-13 Fri 10:00–12:00`, `... 00:00–24:00`, or both ends in full across days."""
    start, end = interval
    head = _day(start.date())
    if end.date() == start.date():
        return f"{head} {_clock(start)}–{_clock(end)}"
    if end.date() == start.date() + timedelta(days=1) and end.time() == datetime.min.time():
        return f"{head} {_clock(start)}–24:00"
    return f"{head} {_clock(start)} – {_day(end.date())} {_clock(end)}"


def _day(day: date) -> str:
    return f"{day.isoformat()} {_WEEKDAYS[day.weekday()]}"


def _clock(moment: datetime) -> str:
    exact = moment.second == 0 and moment.microsecond == 0
    return moment.time().isoformat(timespec="minutes" if exact else "seconds")


def _length(length: timedelta) -> str:
    """`22h30m`, `72h`, `45m`: working time in hours and minutes."""
    seconds = int(length.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    text += f"{seconds}s" if seconds or not text else ""
    return text
