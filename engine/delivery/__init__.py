"""Delivering the outbox: webhooks pushed with signatures and retries, and a feed apps poll.

Every outbox row an event writes is delivered at least once: pushed to each webhook of its
estate that takes its kind (:class:`Deliverer`), or read by an app that polls
(:class:`NotificationFeed`) and acknowledged. The store keeps the delivery state on the row
(:mod:`engine.store.outbox`), so a killed deliverer loses nothing. The deliverer is in
:mod:`engine.delivery.deliverer`, imported on its own: it needs ``httpx`` (the ``server``
extra), which polling does not.
"""

from engine.delivery.feed import NotificationBatch, NotificationFeed
from engine.delivery.notification import Notification
from engine.delivery.webhook import (
    DELIVERY_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    RetryPolicy,
    Webhook,
    sign,
    verify,
)

__all__ = [
    "DELIVERY_HEADER",
    "KIND_HEADER",
    "SIGNATURE_HEADER",
    "Notification",
    "NotificationBatch",
    "NotificationFeed",
    "RetryPolicy",
    "Webhook",
    "sign",
    "verify",
]
