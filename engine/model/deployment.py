"""Deployment definitions: what one ``propflow serve`` or ``propflow worker`` hosts.

A deployment file (``propflow.yaml``) names the store, the estates, how callers
authenticate and where notifications go. Paths in it are kept as written; the loader
(:mod:`engine.io.deployment`) resolves them against the file's directory.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from engine.model.common import Definition


class ClaimNames(Definition):
    """Which claims of a JWT hold the actor, the roles and the estates."""

    actor: str = "sub"
    roles: str = "roles"
    estates: str = "estates"


class JwtSettings(Definition):
    """JSON Web Tokens signed by the company's own login, with the key that checks them."""

    algorithm: Literal["HS256", "RS256"]
    key: str | None = None
    key_file: str | None = None
    issuer: str | None = None
    audience: str | None = None
    claims: ClaimNames = ClaimNames()

    @model_validator(mode="after")
    def _one_key(self) -> JwtSettings:
        if (self.key is None) == (self.key_file is None):
            raise ValueError("needs exactly one of: key, key_file")
        return self


class TokenSettings(Definition):
    """How callers authenticate: store tokens always, JWTs when ``jwt`` is set."""

    jwt: JwtSettings | None = None


class WebhookDef(Definition):
    """One receiver of notifications: its URL, signing secret, kinds and estates (``None``:
    all)."""

    url: str
    secret: str
    kinds: tuple[str, ...] | None = None
    estates: tuple[str, ...] | None = None


class DeploymentDef(Definition):
    """A deployment: its id, store, estates (a directory of estates, or a list of estate
    directories), token settings and webhooks."""

    id: str = Field(alias="deployment")
    store: str = "propflow.db"
    estates: str | tuple[str, ...] = "estates"
    tokens: TokenSettings = TokenSettings()
    webhooks: tuple[WebhookDef, ...] = ()

    model_config = Definition.model_config | {"populate_by_name": True}
