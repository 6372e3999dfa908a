"""What ``serve``, ``worker`` and ``token`` host: a deployment file, or ``--db`` and
``--estates DIR``, resolved to a :class:`~engine.runtime.Host` over one store.

With neither, ``propflow.yaml`` in the current directory is used when there is one, else
the embedded default: the estates in ``estates/`` on the SQLite file ``propflow.db`` —
what a checkout needs to serve its example estates with no configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine.diagnostics.catalogue import say
from engine.diagnostics.output import human
from engine.io.deployment import (
    DEFAULT_ESTATES,
    DEFAULT_STORE,
    DEPLOYMENT_FILE,
    Deployment,
    load_deployment,
    simple_deployment,
)
from engine.model.deployment import WebhookDef
from engine.runtime import Host, PropflowError
from engine.store import Store, StoreError

if TYPE_CHECKING:  # the deliverer needs httpx (the server extra): imported when one is made
    from engine.delivery.deliverer import Deliverer

F = TypeVar("F", bound=Callable[..., Any])


def deployment_options(command: F) -> F:
    """``--config``, ``--db`` and ``--estates``, in that order in ``--help``."""
    command = click.option(
        "--estates",
        "estates",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=f"A directory of estates (or one estate) to host; default: {DEFAULT_ESTATES}/.",
    )(command)
    command = click.option(
        "--db",
        envvar="PROPFLOW_DB",
        help=f"SQLite file or database URL (postgresql://...); overrides the deployment's "
        f"store; default: {DEFAULT_STORE}. Env PROPFLOW_DB.",
    )(command)
    return click.option(
        "--config",
        "config",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="PROPFLOW_CONFIG",
        help=f"Deployment file; default: ./{DEPLOYMENT_FILE} if present. Env PROPFLOW_CONFIG.",
    )(command)


def resolve(config: Path | None, db: str | None, estates: Path | None) -> Deployment:
    """The deployment the options choose; a broken file or directory exits 1 with its
    positioned diagnostics, ``--config`` with ``--estates`` is a usage error (exit 2)."""
    if config is not None and estates is not None:
        raise click.UsageError(say("cli.config_or_estates"))
    if config is None and estates is None and Path(DEPLOYMENT_FILE).is_file():
        config = Path(DEPLOYMENT_FILE)
    if config is not None:
        deployment, problems = load_deployment(config)
    else:
        deployment, problems = simple_deployment(
            db or DEFAULT_STORE, estates or Path(DEFAULT_ESTATES)
        )
    if deployment is None:
        click.echo(human(problems, colour=False), err=True)
        sys.exit(1)
    if db is not None and config is not None:
        deployment = Deployment(
            deployment.id, db, deployment.estate_dirs, deployment.jwt, deployment.webhooks
        )
    return deployment


@contextmanager
def opened(deployment: Deployment) -> Iterator[Host]:
    """The host of a deployment; an estate with errors or an unusable store exits 1."""
    host: Host | None = None
    try:
        host = Host.from_directories(list(deployment.estate_dirs), deployment.store)
        yield host
    except (PropflowError, StoreError) as exc:
        click.echo(say("cli.error", message=exc), err=True)
        sys.exit(1)
    finally:
        if host is not None:
            host.close()


def webhook_deliverer(
    store: Store,
    estates: Sequence[str],
    hooks: Sequence[WebhookDef],
    *,
    attempts: int = 8,
    lease: timedelta = timedelta(minutes=5),
) -> Deliverer | None:
    """The deliverer of ``hooks`` (a deployment's webhooks, or ``--webhook``'s) for the
    hosted ``estates``: one :class:`~engine.delivery.Webhook` per webhook and estate it
    takes (a webhook without ``estates`` takes every one); ``None`` when no webhook takes
    any, so nothing is pushed. A bad URL is a usage error (exit 2)."""
    if not any(hook.estates is None or set(hook.estates) & set(estates) for hook in hooks):
        return None
    try:
        from engine.delivery import RetryPolicy, Webhook
        from engine.delivery.deliverer import Deliverer
    except ImportError as exc:
        raise click.ClickException(say("cli.webhook_extra", error=exc)) from None
    try:
        webhooks = [
            Webhook(
                url=hook.url,
                secret=hook.secret,
                estate=estate,
                kinds=frozenset(hook.kinds) if hook.kinds else None,
            )
            for hook in hooks
            for estate in estates
            if hook.estates is None or estate in hook.estates
        ]
    except ValueError as exc:
        raise click.UsageError(say("cli.webhook", error=exc)) from None
    return Deliverer(store, webhooks, policy=RetryPolicy(max_attempts=attempts), lease=lease)
