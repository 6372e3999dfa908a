"""Webhooks: where an estate's notifications are pushed, how they are signed, how retried.

A receiver checks a request by computing HMAC-SHA256 of the exact body with the webhook's
secret and comparing it with the :data:`SIGNATURE_HEADER` (``sha256=<hex>``) in constant
time (:func:`verify`); :data:`DELIVERY_HEADER` is the row's delivery id, the same on every
attempt, for the receiver to ignore a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SIGNATURE_HEADER = "X-PropFlow-Signature"
DELIVERY_HEADER = "X-PropFlow-Delivery"
KIND_HEADER = "X-PropFlow-Kind"


class Webhook(BaseModel):
    """An estate's receiver of pushed notifications: ``url`` gets each row of ``estate``
    whose kind is in ``kinds`` (every kind when ``None``), signed with ``secret``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    secret: str = Field(min_length=1)
    estate: str = Field(min_length=1)
    kinds: frozenset[str] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a webhook URL is http:// or https:// with a host, not {url!r}")
        return url

    def takes(self, estate: str, kind: str) -> bool:
        """Whether a row of ``estate`` and ``kind`` is pushed to this webhook."""
        return estate == self.estate and (self.kinds is None or kind in self.kinds)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=`` and the HMAC's hex digest."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the one :func:`sign` gives ``body`` (constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: the n-th failed attempt waits ``first_delay * 2**(n-1)``, at
    most ``max_delay``; after ``max_attempts`` failures the row is dead-lettered."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts is at least 1, not {self.max_attempts}")

    def retry_at(self, failures: int, now: datetime) -> datetime | None:
        """When to try a row again after its ``failures``-th failure; ``None``: never."""
        if failures >= self.max_attempts:
            return None
        seconds = self.first_delay.total_seconds() * 2.0 ** min(failures - 1, 64)
        return now + min(timedelta(seconds=seconds), self.max_delay)
