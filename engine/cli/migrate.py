"""``propflow migrate --estate DIR [--process P] [--dry-run]``: move running cases to the
estate's current definitions (see :mod:`engine.runtime.migration`).

The dry run prints what would change, grouped by what cases share (process, versions,
state, fields, and what happens to each clock), or case by case with ``--each``; and which
cases cannot move and why. Exit code 1 when a case cannot move or was left for a rerun.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from engine.cli.case import StoreChoice
from engine.cli.options import db_option, estate_option, json_option, library_option
from engine.diagnostics.catalogue import say
from engine.diagnostics.spans import span
from engine.runtime.migration import KEPT, STARTED, CaseMove, ClockMove, migrate_cases


@click.command()
@estate_option(required=True)
@library_option()
@db_option()
@click.option("--process", help="Only the cases of this process (default: every process).")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.option("--each", is_flag=True, help="Print every case, not only what they share.")
@json_option("Print each case's move as a line of JSON.")
def migrate(
    estate: Path,
    libraries: tuple[Path, ...],
    db: str,
    process: str | None,
    dry_run: bool,
    each: bool,
    as_json: bool,
) -> None:
    """Move running cases to the estate's current definitions."""
    with StoreChoice(db, libraries, estate).engine() as engine:

        def told(move: CaseMove) -> None:
            if as_json:
                click.echo(json.dumps(move.to_json(), ensure_ascii=False))
            elif move.refused is not None:
                click.echo(
                    say(
                        "migrate.refused",
                        case=move.case_id,
                        process=move.process,
                        state=move.from_state,
                        reason=move.refused,
                    )
                )
            elif each:
                click.echo(
                    say(
                        "migrate.case",
                        case=move.case_id,
                        details=say("words.semicolon").join(_each(move)),
                    )
                )

        result = migrate_cases(engine, process, dry_run=dry_run, on_case=told)
    if not as_json:
        verb = say("migrate.would_move" if dry_run else "migrate.moved")
        for group, count in result.groups.items():
            example = result.examples[group]
            click.echo(
                say(
                    "migrate.group",
                    process=example.process,
                    old=example.from_version,
                    new=example.to_version,
                    count=count,
                    verb=verb,
                )
            )
            for line in _shared(example):
                click.echo(f"  {line}")
    for case_id in result.skipped:
        click.echo(say("migrate.skipped", case=case_id), err=True)
    key = "migrate.summary_dry" if dry_run else "migrate.summary"
    summary = say(
        key,
        moved=result.moved,
        refused=len(result.refused),
        skipped=len(result.skipped),
        unchanged=result.unchanged,
    )
    click.echo(summary, err=True)
    if result.refused or result.skipped:
        sys.exit(1)


def _state(move: CaseMove) -> str:
    if move.mapped:
        return say("migrate.state_mapped", old=move.from_state, new=move.to_state)
    return say("migrate.state_kept", state=move.from_state)


def _fields(move: CaseMove) -> list[str]:
    lines = [
        say("migrate.field_added_blank", field=name)
        if value is None
        else say("migrate.field_added", field=name, default=json.dumps(value, ensure_ascii=False))
        for name, value in move.added.items()
    ]
    lines += [say("migrate.field_dropped", field=name) for name in move.dropped]
    return lines


def _shared(move: CaseMove) -> list[str]:
    """What every case of the move's group has in common, a line each."""
    clocks = {
        KEPT: "migrate.clock_kept",
        STARTED: "migrate.clock_started",
    }
    return [
        _state(move),
        *_fields(move),
        *(
            say(clocks.get(clock.action, "migrate.clock_stopped"), limit=clock.limit)
            for clock in move.clocks
        ),
    ]


def _each(move: CaseMove) -> list[str]:
    """One case's move in full: its own figures for each clock."""
    return [_state(move), *_fields(move), *(_clock(clock) for clock in move.clocks)]


def _clock(clock: ClockMove) -> str:
    ran = _duration(clock.ran)
    if clock.action == KEPT:
        return say(
            "migrate.case_clock_kept",
            limit=clock.limit,
            ran=ran,
            old=_moment(clock.deadline_before),
            new=_moment(clock.deadline_after),
        )
    if clock.action == STARTED:
        return say(
            "migrate.case_clock_started", limit=clock.limit, new=_moment(clock.deadline_after)
        )
    return say("migrate.case_clock_stopped", limit=clock.limit, ran=ran)


def _duration(value: timedelta | None) -> str:
    return "-" if value is None else span(value)


def _moment(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(timespec="minutes")
