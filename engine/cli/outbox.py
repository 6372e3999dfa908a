"""``propflow outbox ...``: the notifications waiting for delivery, the dead letters, and
acknowledging rows by hand (what an app that polls does through the Python API)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from engine.cli.options import db_option, estate_id_option, json_option
from engine.diagnostics.catalogue import say
from engine.io.estates import STANDARD
from engine.store import OutboxItem, Store, StoreError
from engine.store import outbox as stored


@contextmanager
def opened(db: str) -> Iterator[Store]:
    """The store, or a message and exit code 1 when it cannot be opened."""
    try:
        store = Store(db)
    except StoreError as exc:
        click.echo(say("cli.error", message=exc), err=True)
        sys.exit(1)
    try:
        yield store
    finally:
        store.close()


@click.group()
def outbox() -> None:
    """Notifications: list those waiting or dead-lettered, acknowledge them."""


@outbox.command("list")
@db_option()
@estate_id_option("Only this estate's rows (its directory).")
@click.option("--dead", is_flag=True, help="The dead-lettered rows instead of the waiting ones.")
@click.option(
    "--after", type=click.IntRange(0), default=0, help="Only rows with an id after this one."
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Rows listed at most.",
)
@json_option("Print JSON instead of text.")
def list_command(
    db: str, estate: str | None, dead: bool, after: int, limit: int, as_json: bool
) -> None:
    """Outbox rows not delivered yet, oldest first (or, with --dead, given up on)."""
    with opened(db) as store:
        if dead:
            items = stored.dead(store, estate, after=after, limit=limit)
        else:
            items = stored.waiting(store, estate, after=after, limit=limit)
    if as_json:
        click.echo(json.dumps([_json(item) for item in items], ensure_ascii=False, indent=2))
        return
    for item in items:
        if item.dead_at:
            state = say("outbox_cli.dead", error=item.last_error)
        elif item.attempts:
            state = say("outbox_cli.failed", attempts=item.attempts, error=item.last_error)
        else:
            state = say("outbox_cli.waiting")
        click.echo(
            f"{item.id:>6}  {item.estate}  {item.kind:<10} {item.role or '-':<12} "
            f"{item.message or ''}  [{state}]"
        )


@outbox.command("ack")
@db_option()
@estate_id_option(
    "The estate whose rows these are (its directory); default: those of the cases opened "
    "without an estate."
)
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(1))
def ack(db: str, estate: str | None, ids: tuple[int, ...]) -> None:
    """Mark outbox rows IDS of the estate delivered (a row of another estate is refused)."""
    estate = estate or STANDARD
    with opened(db) as store:
        marked = stored.acknowledge(store, estate, set(ids), datetime.now(UTC))
    click.echo(say("case.acknowledged", count=len(marked), ids=" ".join(map(str, marked)) or "-"))
    missing = sorted(set(ids) - set(marked))
    if missing:
        ids_missing = " ".join(map(str, missing))
        click.echo(say("outbox_cli.not_waiting", estate=estate, ids=ids_missing), err=True)
        sys.exit(1)


def _json(item: OutboxItem) -> dict[str, object]:
    return {
        "id": item.id,
        "estate": item.estate,
        "case_id": item.case_id,
        "kind": item.kind,
        "role": item.role,
        "message": item.message,
        "payload": item.payload,
        "created_at": item.created_at.isoformat(),
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at.isoformat() if item.next_attempt_at else None,
        "last_error": item.last_error,
        "dead_at": item.dead_at.isoformat() if item.dead_at else None,
    }
