"""A notification as receivers see it: an outbox row in JSON, the same pushed or pulled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.store import OutboxItem


@dataclass(frozen=True)
class Notification:
    """One outbox row for a receiver. ``id`` is its delivery id: the same on every attempt
    and both ways of delivery, so a receiver that keeps the ids it handled can ignore a
    repeat (delivery is at least once)."""

    id: int
    estate: str
    case_id: str | None
    kind: str
    role: str | None
    message: str | None
    payload: dict[str, Any]
    created_at: datetime
    attempts: int

    @classmethod
    def of(cls, item: OutboxItem) -> Notification:
        """The notification of a stored row (one the store has given an id and estate)."""
        assert item.id is not None and item.estate is not None, "a row read from the store"
        return cls(
            id=item.id,
            estate=item.estate,
            case_id=item.case_id,
            kind=item.kind,
            role=item.role,
            message=item.message,
            payload=dict(item.payload),
            created_at=item.created_at,
            attempts=item.attempts,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "estate": self.estate,
            "case_id": self.case_id,
            "kind": self.kind,
            "role": self.role,
            "message": self.message,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }

    def body(self) -> bytes:
        """The exact bytes a webhook receives (and its signature covers): UTF-8 JSON."""
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
