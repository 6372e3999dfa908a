"""Push: each waiting outbox row POSTed as signed JSON to the webhooks of its estate.

One :meth:`Deliverer.deliver` claims a batch of rows with a lease, POSTs each to every
webhook that takes it, and settles it: delivered when every one answered 2xx, else failed
with a later attempt (exponential back-off) or, after the last, dead. A deliverer killed
between claiming and settling leaves its rows leased; when the lease runs out another (or
the same, restarted) claims them again, so each row arrives at least once. A row that one
of two webhooks accepted is sent to both again on retry, with the same delivery id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from engine.delivery.notification import Notification
from engine.delivery.webhook import (
    DELIVERY_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    Webhook,
    sign,
)
from engine.store import Store
from engine.store import outbox as stored

log = logging.getLogger("propflow.delivery")


@dataclass(frozen=True)
class DeliveryResult:
    """What one :meth:`Deliverer.deliver` did with the rows it claimed."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def claimed(self) -> int:
        return self.delivered + self.failed + self.dead


class Deliverer:
    """Pushes the outbox of the webhooks' estates, a batch per :meth:`deliver`.

    ``clock`` gives "now" for leases, attempts and ``delivered_at``. ``lease`` is how
    long a claimed row is this deliverer's: longer than a batch takes to send (``batch``
    rows, each at most ``timeout`` seconds per webhook), else another deliverer may send it
    at the same time.
    """

    def __init__(
        self,
        store: Store,
        webhooks: Sequence[Webhook],
        *,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        timeout: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not webhooks:
            raise ValueError("a deliverer needs at least one webhook")
        self.store = store
        self.webhooks = tuple(webhooks)
        self.policy = policy or RetryPolicy()
        self.lease = lease
        self.batch = batch
        self.owner = uuid.uuid4().hex
        self.clock = clock or (lambda: datetime.now(UTC))
        #: Everything this deliverer did so far (the metrics read it).
        self.total = DeliveryResult()
        self._routes = [stored.Route(hook.estate, hook.kinds) for hook in self.webhooks]
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    def deliver(self) -> DeliveryResult:
        """Claim a batch of rows due for an attempt and send each; what became of them."""
        moment = self.clock()
        items = stored.claim(
            self.store,
            self._routes,
            owner=self.owner,
            now=moment,
            lease_until=moment + self.lease,
            limit=self.batch,
        )
        delivered = failed = dead = 0
        for item in items:
            notification = Notification.of(item)
            error = self._send(notification)
            settled = self.clock()
            if error is None:
                stored.settle_delivered(self.store, notification.id, settled)
                delivered += 1
                log.info(
                    "delivered %s %s of case %s (estate %s)",
                    notification.kind,
                    notification.id,
                    notification.case_id,
                    notification.estate,
                )
                continue
            retry_at = self.policy.retry_at(item.attempts + 1, settled)
            stored.settle_failed(
                self.store, item, owner=self.owner, error=error, retry_at=retry_at, now=settled
            )
            if retry_at is None:
                dead += 1
                log.error(
                    "dead-lettered %s %s of case %s (estate %s) after %d attempts: %s",
                    notification.kind,
                    notification.id,
                    notification.case_id,
                    notification.estate,
                    item.attempts + 1,
                    error,
                )
            else:
                failed += 1
                log.warning(
                    "delivery of %s %s (estate %s) failed, attempt %d, next at %s: %s",
                    notification.kind,
                    notification.id,
                    notification.estate,
                    item.attempts + 1,
                    retry_at.isoformat(timespec="seconds"),
                    error,
                )
        total = self.total
        self.total = DeliveryResult(
            total.delivered + delivered, total.failed + failed, total.dead + dead
        )
        return DeliveryResult(delivered, failed, dead)

    def _send(self, notification: Notification) -> str | None:
        """POST the notification to every webhook that takes it; ``None`` when all accepted
        it, else what went wrong with the first that did not."""
        body = notification.body()
        for hook in self.webhooks:
            if not hook.takes(notification.estate, notification.kind):
                continue
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                SIGNATURE_HEADER: sign(hook.secret, body),
                DELIVERY_HEADER: str(notification.id),
                KIND_HEADER: notification.kind,
            }
            try:
                response = self._client.post(hook.url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                return f"{hook.url}: {type(exc).__name__}: {exc}"
            if not 200 <= response.status_code < 300:
                return f"{hook.url} answered {response.status_code}"
        return None
