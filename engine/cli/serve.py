"""``propflow serve``: the HTTP API of every estate of a deployment, with its timer loop,
which also pushes the outbox to the deployment's webhooks."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.hosting import deployment_options, opened, resolve, webhook_deliverer
from engine.cli.worker import logging_to_stderr
from engine.diagnostics.catalogue import say


@click.command()
@deployment_options
@click.option(
    "--host", "bind", default="127.0.0.1", show_default=True, help="Address to listen on."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="TCP port."
)
@click.option(
    "--interval",
    type=click.FloatRange(0.01),
    default=1.0,
    show_default=True,
    help="Seconds between timer ticks when nothing is due.",
)
@click.option(
    "--no-timers",
    is_flag=True,
    help="Serve the API only; leave timers and webhooks to workers.",
)
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option(
    "--reload",
    "watch",
    is_flag=True,
    help="Reload an estate when one of its files changes (SIGHUP always reloads).",
)
def serve(
    config: Path | None,
    db: str | None,
    estates: Path | None,
    bind: str,
    port: int,
    interval: float,
    no_timers: bool,
    access_log: bool,
    watch: bool,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json) until SIGTERM or Ctrl-C; the timer
    loop pushes the outbox to the deployment file's webhooks. SIGHUP reloads the estates'
    files (validated first: an edit with errors is refused and logged, the old definitions
    keep running); new cases open on the new definitions, running ones move by migrate."""
    try:
        from engine.service import create_app
        from engine.service.reload import Reloader
        from engine.service.runner import serve as run
    except ImportError as exc:  # a plain install, without the server's libraries
        raise click.ClickException(say("cli.server_extra", error=exc)) from None

    deployment = resolve(config, db, estates)
    with opened(deployment) as host:
        hooks = () if no_timers else deployment.webhooks
        deliverer = webhook_deliverer(host.store, host.estates(), hooks)
        try:
            app = create_app(
                host,
                deployment.jwt,
                tick_interval=None if no_timers else interval,
                deliverer=deliverer,
            )
            pushing = say("cli.pushing", count=len(deliverer.webhooks)) if deliverer else ""
            hosted = ", ".join(host.estates())
            told = say(
                "cli.serving",
                estates=hosted,
                bind=bind,
                port=port,
                store=host.store.url,
                pushing=pushing,
            )
            click.echo(told, err=True)
            reloader = Reloader(host, list(deployment.estate_dirs), watch=watch)
            with logging_to_stderr("propflow.reload"):
                run(app, bind, port, access_log=access_log, reloader=reloader)
        finally:
            if deliverer is not None:
                deliverer.close()
