"""``propflow worker``: fire due timers until stopped, saying what each one did.

The engine logs every timer it fires, retires or holds back (case, timer kind, time limit,
estate) on the ``propflow`` loggers; the worker sends them to stderr, one line each.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from engine.cli.case import DB_OPTION, ESTATE_OPTION, LIBRARY_OPTION, StoreChoice
from engine.runtime import TickResult
from engine.runtime.worker import Worker


@contextmanager
def logging_to_stderr() -> Iterator[None]:
    """The ``propflow`` loggers' INFO lines on stderr while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("propflow")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def summary(result: TickResult) -> str:
    """One tick in a line of counts (each timer has its own line in the log)."""
    text = f"fired {result.fired}, left for later {result.skipped}"
    return text + (f", held back {result.held}" if result.held else "")


@click.command()
@DB_OPTION
@LIBRARY_OPTION
@click.option(
    "--interval",
    type=click.FloatRange(0.01),
    default=1.0,
    show_default=True,
    help="Seconds between ticks when nothing is due.",
)
@click.option(
    "--batch",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="Timers fired per tick at most.",
)
@click.option("--once", is_flag=True, help="Tick once and exit (for cron).")
@ESTATE_OPTION
def worker(
    db: str,
    libraries: tuple[Path, ...],
    estate: Path | None,
    interval: float,
    batch: int,
    once: bool,
) -> None:
    """Fire due timers (breaches, warnings, reminders) until SIGTERM or Ctrl-C."""
    with StoreChoice(db, libraries, estate).engine() as engine, logging_to_stderr():
        if once:
            click.echo(summary(engine.tick(limit=batch)))
            return
        runner = Worker(engine, interval=interval, batch=batch)
        runner.install_signal_handlers()
        click.echo(f"worker started on {engine.store.url}; SIGTERM or Ctrl-C stops it", err=True)
        total = runner.run(lambda r: click.echo(summary(r), err=True))
        click.echo(f"worker stopped; {total} timer(s) fired", err=True)
