"""Bearer tokens of the HTTP service: made once, kept only as a hash, listed and revoked.

A token is ``pf_<id>_<secret>``: the id names it in listings and revocations, the secret
(256 random bits) is what proves it. The store keeps the SHA-256 hash of the whole token,
never the token, so a token is shown exactly once, when it is made. With that much
entropy a plain hash is enough: there is nothing to guess, so no slow hash is needed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import RowMapping

from engine.store.schema import api_tokens
from engine.store.store import Store

PREFIX = "pf_"


@dataclass(frozen=True)
class TokenRecord:
    """A token as the store keeps it: whom it acts as, where, and whether it still works."""

    id: str
    estate: str
    actor_id: str
    roles: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def valid_at(self, now: datetime) -> bool:
        """Whether the token may be used at ``now``: not revoked and not expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: its record, and the bearer text shown once and never stored."""

    record: TokenRecord
    bearer: str


def token_hash(bearer: str) -> str:
    """The SHA-256 hex digest by which a token is found."""
    return hashlib.sha256(bearer.encode("utf-8")).hexdigest()


def create_token(
    store: Store,
    estate: str,
    actor_id: str,
    roles: Collection[str],
    now: datetime,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Make a token acting as ``actor_id`` with ``roles`` in ``estate``; keep its hash."""
    token_id = secrets.token_hex(6)
    bearer = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    record = TokenRecord(token_id, estate, actor_id, tuple(sorted(roles)), now, expires_at, None)
    with store.transaction() as tx:
        tx.execute(
            insert(api_tokens).values(
                id=record.id,
                hash=token_hash(bearer),
                estate=record.estate,
                actor_id=record.actor_id,
                roles=list(record.roles),
                created_at=record.created_at,
                expires_at=record.expires_at,
            )
        )
    return IssuedToken(record, bearer)


#: The lookup every request of the service makes, built once: building the statement
#: anew each time cost about as much as running it.
_BY_HASH = select(api_tokens).where(api_tokens.c.hash == bindparam("hash"))


def find_token(store: Store, bearer: str) -> TokenRecord | None:
    """The token whose bearer text this is (valid or not), or ``None``."""
    if not bearer.startswith(PREFIX):
        return None
    rows = store.rows(_BY_HASH, {"hash": token_hash(bearer)})
    return _record(rows[0]) if rows else None


def list_tokens(store: Store, estate: str | None = None) -> list[TokenRecord]:
    """Every token (of one estate), oldest first."""
    statement = select(api_tokens)
    if estate is not None:
        statement = statement.where(api_tokens.c.estate == estate)
    rows = store.rows(statement.order_by(api_tokens.c.created_at, api_tokens.c.id))
    return [_record(row) for row in rows]


def revoke_token(store: Store, token_id: str, now: datetime) -> bool:
    """Revoke a token by id; ``False`` if there is no such token or it was revoked already."""
    with store.transaction() as tx:
        result = tx.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return result.rowcount == 1


def _record(values: RowMapping) -> TokenRecord:
    return TokenRecord(
        id=values["id"],
        estate=values["estate"],
        actor_id=values["actor_id"],
        roles=tuple(values["roles"]),
        created_at=values["created_at"],
        expires_at=values["expires_at"],
        revoked_at=values["revoked_at"],
    )
