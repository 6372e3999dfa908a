"""``propflow serve``: the HTTP API of every estate of a deployment, with its timer loop."""

from __future__ import annotations

from pathlib import Path

import click

from engine.cli.hosting import deployment_options, opened, resolve


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
@click.option("--no-timers", is_flag=True, help="Serve the API only; leave timers to workers.")
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(
    config: Path | None,
    db: str | None,
    estates: Path | None,
    bind: str,
    port: int,
    interval: float,
    no_timers: bool,
    access_log: bool,
) -> None:
    """Serve the REST API (OpenAPI at /openapi.json) until SIGTERM or Ctrl-C."""
    from engine.service import create_app
    from engine.service.runner import serve as run

    deployment = resolve(config, db, estates)
    with opened(deployment) as host:
        app = create_app(host, deployment.jwt, tick_interval=None if no_timers else interval)
        click.echo(
            f"serving {', '.join(host.estates())} on http://{bind}:{port} "
            f"(store {host.store.url}); SIGTERM or Ctrl-C stops it",
            err=True,
        )
        run(app, bind, port, access_log=access_log)
