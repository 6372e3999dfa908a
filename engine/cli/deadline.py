"""``propflow deadline``: when a time limit started at a given moment falls due.

For consultants checking a rule against the manual (“three working days from the Friday
before Spring Festival is when?”) and for support answering an owner. It prints the deadline
in the calendar's timezone, the working periods counted to reach it, and a warning when a
date beyond the statutory holiday data was involved.

With ``--estate`` the estate's own closed and open days count, as they do for its cases, and
its calendar is the default.

Exit codes: 0 answered, 1 a calendar that cannot be used (its definition is broken), 2 a
usage error (an unknown calendar, a bad duration or start time, a path that does not exist).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from engine.checks.validation import validate_estate
from engine.cli.options import estate_option, json_option, library_option
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import current_language
from engine.io.loading import UsageError, load_library
from engine.io.resources import standard_library_dirs
from engine.model import CalendarDef, localized
from engine.model.durations import Duration, DurationError, parse_duration
from engine.model.words import duration_words
from engine.runtime.calendar_jobs import build_calendars
from engine.time import CalendarError, Deadline, Interval, WorkingCalendar

DEFAULT_CALENDAR = "office"


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
        raise click.BadParameter(say("deadline_cli.not_a_time", value=value)) from exc


@click.command()
@click.option(
    "--calendar",
    "calendar_id",
    help="The calendar to count on (24x7, office, workday_24h or one in --library). "
    "Default: the estate's calendar, else office.",
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
@estate_option("Estate directory: count on its calendars with its own closed and open days.")
@library_option(
    "Rules files or directories to load calendars from (repeatable). Default: the shipped "
    "rules (with --estate: the library it extends).",
    old_spelling="--rules",
)
@json_option("Print the answer as JSON.")
def deadline(
    calendar_id: str | None,
    start: datetime | None,
    limit: Duration,
    estate: Path | None,
    libraries: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Compute the deadline of a time limit started at --start on a calendar."""
    definition, calendar = _find_calendar(calendar_id, estate, libraries)
    try:
        begin = _localized(start, calendar)
        result = calendar.add(begin, limit)
    except CalendarError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(_as_json(definition, begin, limit, result))
        return
    click.echo(_as_text(definition, begin, limit, result))
    for warning in result.warnings:
        click.echo(say("deadline_cli.warning", warning=warning), err=True)


def _find_calendar(
    calendar_id: str | None, estate: Path | None, libraries: tuple[Path, ...]
) -> tuple[CalendarDef, WorkingCalendar]:
    """The calendar asked for, as the estate's cases count on it (or the library's)."""
    try:
        if estate is not None:
            load = validate_estate(estate, list(libraries) or None)
            library, diagnostics, owner = load.library, load.diagnostics, load.estate
        else:
            paths = list(libraries) or [d for d in standard_library_dirs() if d.name == "rules"]
            loaded = load_library(paths)
            library, diagnostics, owner = loaded.library, loaded.diagnostics, None
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    wanted = calendar_id or (owner.calendar if owner and owner.calendar else DEFAULT_CALENDAR)
    try:
        calendars, _ = build_calendars(library, owner)
    except CalendarError as exc:
        raise click.ClickException(str(exc)) from exc
    for located in library.calendars:
        if located.definition.id == wanted:
            return located.definition, calendars[wanted]
    known = library.calendar_ids
    message = say(
        "deadline_cli.unknown_calendar",
        calendar=wanted,
        hint=suggest(wanted, known, list_all=False),
    )
    if known:
        message += say("deadline_cli.defined", calendars=", ".join(known))
    else:
        message += say("deadline_cli.none_loaded")
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    if errors:
        message += say("deadline_cli.load_problems", count=errors)
    raise click.BadParameter(message, param_hint="--calendar")


def _localized(start: datetime | None, calendar: WorkingCalendar) -> datetime:
    if start is None:
        return datetime.now(calendar.tz).replace(second=0, microsecond=0)
    if start.tzinfo is None:
        return start.replace(tzinfo=calendar.tz)
    return start


def _as_text(definition: CalendarDef, start: datetime, limit: Duration, result: Deadline) -> str:
    tz, lang = result.at.tzinfo, current_language()
    counted = result.counted  # worked out each time it is asked for
    periods = len(counted)
    lines = [
        say("deadline_cli.answer", at=result.at.isoformat(), weekday=_weekday(result.at), zone=tz),
        say(
            "deadline_cli.calendar",
            calendar=definition.id,
            label=localized(definition.label, definition.id, lang),
            start=start.astimezone(tz).isoformat(),
            limit=limit if lang == "en" else duration_words(limit, "zh-CN"),
        ),
        say(
            "deadline_cli.counted_one" if periods == 1 else "deadline_cli.counted",
            length=_length(result.working_time),
            count=periods,
        ),
    ]
    lines += [f"  {_interval(interval)}" for interval in counted]
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
    return f"{day.isoformat()} {_weekday(day)}"


def _weekday(day: date) -> str:
    """The day of the week, short: ``Fri`` or ``周五``."""
    return say("deadline_cli.weekdays").split()[day.weekday()]


def _clock(moment: datetime) -> str:
    exact = moment.second == 0 and moment.microsecond == 0
    return moment.time().isoformat(timespec="minutes" if exact else "seconds")


def _length(length: timedelta) -> str:
    """`22h30m`, `72h`, `45m` (`22小时30分钟`): working time in hours and minutes."""
    seconds = int(length.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = say("deadline_cli.hours", count=hours) if hours else ""
    text += say("deadline_cli.minutes", count=minutes) if minutes else ""
    text += say("deadline_cli.seconds", count=seconds) if seconds or not text else ""
    return text
