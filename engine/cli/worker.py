"""``propflow worker``: fire due timers, and push the outbox to a webhook, until stopped.

The engine logs every timer it fires, retires or holds back (case, timer kind, time limit,
estate), and the deliverer every row it delivers or gives up on, on the ``propflow``
loggers; the worker sends them to stderr, one line each. One ``--webhook`` (with its
secret) takes the rows of the worker's estate; several estates or webhooks with their own
secrets and kinds come from a deployment file's ``webhooks:`` (``--config``), made into a
deliverer the way ``propflow serve`` makes its own (:func:`engine.cli.hosting.webhook_deliverer`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click

from engine.cli.case import StoreChoice
from engine.cli.hosting import opened, resolve, webhook_deliverer
from engine.cli.options import StatusLine, db_option, estate_option, library_option
from engine.diagnostics.catalogue import say
from engine.model.deployment import WebhookDef
from engine.runtime import Engine, Host, TickResult
from engine.runtime.worker import STORE_FAULTS, Worker
from engine.store import Store
from engine.store.backlog import backlog


@contextmanager
def logging_to_stderr(name: str = "propflow") -> Iterator[None]:
    """The INFO lines of the ``name`` loggers on stderr while the command runs."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger(name)
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
    text = say("worker_cli.tick", fired=result.fired, skipped=result.skipped)
    return text + (say("worker_cli.held", held=result.held) if result.held else "")


@click.command()
@db_option()
@library_option()
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
@estate_option()
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployment file: tick every estate it hosts, on its store (--db overrides it), and "
    "push to its webhooks.",
)
@click.option(
    "--estates",
    "estates_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Tick every estate in this directory of estates, each on its own definitions.",
)
@click.option(
    "--webhook",
    "webhook_urls",
    multiple=True,
    metavar="URL",
    help="POST each outbox row of the worker's estate here, signed (repeatable).",
)
@click.option(
    "--webhook-secret",
    envvar="PROPFLOW_WEBHOOK_SECRET",
    help="Secret of the HMAC-SHA256 signature of webhook bodies; env PROPFLOW_WEBHOOK_SECRET.",
)
@click.option(
    "--webhook-kind",
    "webhook_kinds",
    multiple=True,
    metavar="KIND",
    help="Push only outbox rows of this kind (repeatable; default: every kind).",
)
@click.option(
    "--webhook-attempts",
    type=click.IntRange(1, 100),
    default=8,
    show_default=True,
    help="Failed attempts after which a row is dead-lettered.",
)
@click.option(
    "--webhook-lease",
    type=click.FloatRange(0.1),
    default=300.0,
    show_default=True,
    help="Seconds a claimed row is this worker's; after that another worker may send it.",
)
def worker(
    db: str,
    libraries: tuple[Path, ...],
    estate: Path | None,
    interval: float,
    batch: int,
    once: bool,
    webhook_urls: tuple[str, ...],
    webhook_secret: str | None,
    webhook_kinds: tuple[str, ...],
    webhook_attempts: int,
    webhook_lease: float,
    config: Path | None,
    estates_dir: Path | None,
) -> None:
    """Fire due timers (breaches, warnings, reminders) until SIGTERM or Ctrl-C; with
    --webhook (or a deployment's webhooks), also deliver the outbox."""
    if webhook_urls and not webhook_secret:
        raise click.UsageError("--webhook needs --webhook-secret (or PROPFLOW_WEBHOOK_SECRET)")
    if not webhook_urls and (webhook_kinds or webhook_secret):
        raise click.UsageError("--webhook-secret and --webhook-kind go with --webhook")
    given = [
        WebhookDef(url=url, secret=webhook_secret or "", kinds=webhook_kinds or None)
        for url in webhook_urls
    ]
    policy = (webhook_attempts, timedelta(seconds=webhook_lease))
    if config is not None or estates_dir is not None:
        if estate is not None or libraries:
            raise click.UsageError(
                "--config/--estates host their own estates: no --estate/--library"
            )
        # Hosting estates, the store defaults to the deployment's (or serve's): the same one
        # `propflow serve` uses, unless --db (or PROPFLOW_DB) names another.
        source = click.get_current_context().get_parameter_source("db")
        store = None if source is click.core.ParameterSource.DEFAULT else db
        deployment = resolve(config, store, estates_dir)
        hooks = given + list(deployment.webhooks)
        with opened(deployment) as host, logging_to_stderr():
            _run(host, host.store, host.estates(), hooks, policy, interval, batch, once)
        return
    with StoreChoice(db, libraries, estate).engine() as engine, logging_to_stderr():
        _run(engine, engine.store, [engine.estate], given, policy, interval, batch, once)


def _run(
    ticking: Engine | Host,
    store: Store,
    estates: Sequence[str],
    hooks: Sequence[WebhookDef],
    policy: tuple[int, timedelta],
    interval: float,
    batch: int,
    once: bool,
) -> None:
    """Tick (and deliver) once, or until SIGTERM or Ctrl-C."""
    attempts, lease = policy
    deliverer = webhook_deliverer(store, estates, hooks, attempts=attempts, lease=lease)
    try:
        if once:
            click.echo(summary(ticking.tick(limit=batch)))
            if deliverer is not None:
                done = deliverer.deliver()
                told = say("worker_cli.delivered", delivered=done.delivered, failed=done.failed,
                           dead=done.dead)  # fmt: skip
                click.echo(told)
            return
        runner = Worker(ticking, interval=interval, batch=batch, deliverer=deliverer)
        runner.install_signal_handlers()
        click.echo(say("worker_cli.started", url=store.url), err=True)
        try:
            due = backlog(store, ticking.clock.now()).due_timers
        except STORE_FAULTS:  # the worker itself waits for the store: no progress to show
            due = 0
        with StatusLine(say("worker_cli.catching_up"), due) as catching_up:
            logger = logging.getLogger("propflow")
            level = logger.level
            if catching_up.shown and due:
                # A line per timer would break the progress line: warnings only, until
                # the backlog is done.
                logger.setLevel(logging.WARNING)

            def report(result: TickResult) -> None:
                # A backlog is a progress line on a terminal; after it, or piped, a tick
                # is a line of counts (each timer has its own in the log).
                if catching_up.shown and catching_up.done < due:
                    catching_up.step(count=result.fired)
                    if catching_up.done >= due:
                        catching_up.close()
                        logger.setLevel(level)
                    return
                click.echo(summary(result), err=True)

            try:
                total = runner.run(report)
            finally:
                logger.setLevel(level)
        click.echo(say("worker_cli.stopped", count=total), err=True)
    finally:
        if deliverer is not None:
            deliverer.close()
