"""``propflow token``: bearer tokens for the HTTP API — create, list, revoke.

A token acts as one actor with some roles in one estate; the store keeps only its hash,
so ``create`` prints it once and it cannot be shown again.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from engine.cli.hosting import deployment_options, opened, resolve
from engine.cli.options import estate_id_option, json_option
from engine.diagnostics.catalogue import say
from engine.model.durations import DurationError, parse_duration
from engine.store.tokens import create_token, list_tokens, revoke_token


@click.group()
def token() -> None:
    """Bearer tokens of the HTTP API (propflow serve)."""


def _expiry(text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        duration = parse_duration(text)
        return now + duration.as_timedelta()
    except (DurationError, ValueError) as error:
        raise click.BadParameter(
            say("token_cli.bad_expiry", error=error), param_hint="--expires"
        ) from None


@token.command("create")
@deployment_options
@estate_id_option("The estate the token acts in (its directory).", required=True)
@click.option("--actor", required=True, help="The actor id events are recorded under.")
@click.option(
    "--roles", required=True, help="Comma-separated roles the token holds, e.g. receptionist."
)
@click.option("--expires", help="Lifetime, e.g. 90d or 12h; default: until revoked.")
def create(
    config: Path | None,
    db: str | None,
    estates: Path | None,
    estate: str,
    actor: str,
    roles: str,
    expires: str | None,
) -> None:
    """Make a token and print it (once: only its hash is kept)."""
    wanted = sorted({role.strip() for role in roles.split(",") if role.strip()})
    if not wanted:
        raise click.BadParameter(say("token_cli.no_role"), param_hint="--roles")
    now = datetime.now(UTC)
    expires_at = _expiry(expires, now)
    with opened(resolve(config, db, estates)) as host:
        if estate not in host.estates():
            raise click.BadParameter(
                say("token_cli.not_hosted", estate=estate, estates=", ".join(host.estates())),
                param_hint="--estate",
            )
        engine = host.engine(estate)
        known = {role for pid in engine.processes for role in engine.definition(pid).roles}
        unknown = [role for role in wanted if role not in known or role == "system"]
        if unknown:
            raise click.BadParameter(
                say("token_cli.unknown_roles", estate=estate, roles=", ".join(unknown)),
                param_hint="--roles",
            )
        if not 0 < len(actor) <= 128:
            raise click.BadParameter(say("token_cli.actor_length"), param_hint="--actor")
        issued = create_token(host.store, estate, actor, wanted, now, expires_at)
    click.echo(issued.bearer)
    until = (
        say("token_cli.until", moment=expires_at.isoformat(timespec="minutes"))
        if expires_at
        else say("token_cli.until_revoked")
    )
    created = say("token_cli.created", id=issued.record.id, actor=actor, estate=estate)
    click.echo(f"{created}, {until}", err=True)


@token.command("list")
@deployment_options
@estate_id_option("Only the tokens of this estate (its directory).")
@json_option()
def list_command(
    config: Path | None, db: str | None, estates: Path | None, estate: str | None, as_json: bool
) -> None:
    """List tokens (never the tokens themselves: their ids, whom they act as, validity)."""
    now = datetime.now(UTC)
    with opened(resolve(config, db, estates)) as host:
        records = list_tokens(host.store, estate)
    if as_json:
        rows = [
            {
                "id": r.id,
                "estate": r.estate,
                "actor": r.actor_id,
                "roles": list(r.roles),
                "created_at": r.created_at.isoformat(),
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "valid": r.valid_at(now),
            }
            for r in records
        ]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in records:
        state = "revoked" if r.revoked_at else "expired" if not r.valid_at(now) else "valid"
        roles = ",".join(r.roles)
        click.echo(f"{r.id}  {r.estate}  {r.actor_id}  {roles}  {say(f'token_cli.{state}')}")


@token.command("revoke")
@deployment_options
@click.argument("token_id")
def revoke(config: Path | None, db: str | None, estates: Path | None, token_id: str) -> None:
    """Revoke a token by its id (as `token list` shows it)."""
    with opened(resolve(config, db, estates)) as host:
        done = revoke_token(host.store, token_id, datetime.now(UTC))
    if not done:
        click.echo(say("token_cli.no_such", id=token_id), err=True)
        sys.exit(1)
    click.echo(say("token_cli.revoked_one", id=token_id), err=True)
