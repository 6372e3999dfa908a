"""Who is calling: a bearer credential turned into an actor, roles and estates.

The actor and roles of every event come from here and nowhere else — never from a
request body. Two kinds of bearer credential are accepted: tokens made by ``propflow
token create`` (found by their hash in the store; expired and revoked ones refused), and,
when the deployment configures a key, JWTs signed by the company's own login, whose
claims the deployment maps to actor, roles and estates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt

from engine.diagnostics.catalogue import say
from engine.io.deployment import Jwt
from engine.runtime import Actor, UnknownEstate
from engine.runtime.clock import Clock
from engine.service.problems import Unauthenticated
from engine.store import Store
from engine.store.tokens import PREFIX, find_token

#: The longest bearer credential read (a JWT with a few claims is well under this).
MAX_CREDENTIAL = 4096


@dataclass(frozen=True)
class Credential:
    """An authenticated caller: who acts, with which roles, in which estates."""

    actor: Actor
    estates: frozenset[str]

    def check_estate(self, estate: str) -> None:
        """Refuse an estate the credential may not see as if it did not exist."""
        if estate not in self.estates:
            raise UnknownEstate(estate)


@dataclass(frozen=True)
class Presented:
    """A bearer credential as far as it was checked without the store: a JWT's verified
    caller, or a stored token's text still to be looked up."""

    bearer: str
    verified: Credential | None


class Authenticator:
    """Checks bearer credentials against the store's tokens and the deployment's JWT key."""

    def __init__(self, store: Store, clock: Clock, jwt_settings: Jwt | None = None) -> None:
        self.store = store
        self.clock = clock
        self.jwt = jwt_settings

    def presented(self, authorization: str | None) -> Presented:
        """The checks of a request's ``Authorization`` header that need no store: its form,
        and all of a JWT (signature, expiry, claims). Cheap and without I/O, so they run on
        the event loop; a stored token is looked up by :meth:`credential` after it."""
        if not authorization:
            raise Unauthenticated(say("service.no_token"))
        scheme, _, bearer = authorization.partition(" ")
        bearer = bearer.strip()
        if scheme.lower() != "bearer" or not bearer or len(bearer) > MAX_CREDENTIAL:
            raise Unauthenticated(say("service.bad_header"))
        if bearer.startswith(PREFIX):
            return Presented(bearer, None)
        if self.jwt is not None:
            return Presented(bearer, self._jwt(bearer, self.jwt))
        raise Unauthenticated(say("service.unknown_token"))

    def credential(self, presented: Presented) -> Credential:
        """The caller of a presented credential: a stored token is looked up in the store
        (unknown, revoked and expired ones refused), each time, so a revocation holds from
        the next request on."""
        if presented.verified is not None:
            return presented.verified
        return self._stored(presented.bearer)

    def _stored(self, bearer: str) -> Credential:
        record = find_token(self.store, bearer)
        if record is None:
            raise Unauthenticated(say("service.unknown_token"))
        if record.revoked_at is not None:
            raise Unauthenticated(say("service.revoked", token=record.id))
        if not record.valid_at(self.clock.now()):
            raise Unauthenticated(say("service.expired", token=record.id))
        return Credential(_actor(record.actor_id, record.roles), frozenset([record.estate]))

    def _jwt(self, bearer: str, settings: Jwt) -> Credential:
        config = settings.settings
        try:
            claims = jwt.decode(
                bearer,
                settings.key,
                algorithms=[config.algorithm],
                audience=config.audience,
                issuer=config.issuer,
                options={"require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(say("service.jwt_expired")) from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(say("service.jwt_refused", error=error)) from None
        names = config.claims
        actor_id, roles, estates = (
            claims.get(names.actor),
            claims.get(names.roles),
            claims.get(names.estates),
        )
        if not isinstance(actor_id, str) or not _strings(roles) or not _strings(estates):
            raise Unauthenticated(
                say(
                    "service.jwt_claims",
                    actor=names.actor,
                    roles=names.roles,
                    estates=names.estates,
                )
            )
        assert isinstance(roles, list) and isinstance(estates, list)
        return Credential(_actor(actor_id, roles), frozenset(estates))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _actor(actor_id: str, roles: Any) -> Actor:
    try:
        return Actor(actor_id, frozenset(roles))
    except ValueError as error:
        raise Unauthenticated(say("service.no_actor", error=error)) from None
