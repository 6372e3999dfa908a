"""What ``serve``, ``worker`` and ``token`` host: a deployment file, or ``--db`` and
``--estates DIR``, resolved to a :class:`~engine.runtime.Host` over one store.

With neither, ``propflow.yaml`` in the current directory is used when there is one, else
the embedded default: the estates in ``estates/`` on the SQLite file ``propflow.db`` —
what a checkout needs to serve its example estates with no configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.diagnostics.output import human
from engine.io.deployment import (
    DEFAULT_ESTATES,
    DEFAULT_STORE,
    DEPLOYMENT_FILE,
    Deployment,
    load_deployment,
    simple_deployment,
)
from engine.runtime import Host, PropflowError
from engine.store import StoreError

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
        raise click.UsageError("give a deployment file (--config) or --estates, not both")
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
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        if host is not None:
            host.close()
