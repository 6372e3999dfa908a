"""The public shapes of the runtime API: a case, a history entry, an event option."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from engine.store import CaseRecord, LogEntry


@dataclass(frozen=True)
class Case:
    """A case (one repair request, one complaint ...) as it stands after its last event.

    ``version`` counts accepted events and is the optimistic lock: pass it back as
    ``expected_version`` to be told when someone else changed the case first.
    ``definition_version`` is the content hash of the definition version it runs on: its
    process with its time limits (:mod:`engine.runtime.definitions`).
    """

    id: str
    estate: str
    process: str
    definition_version: str
    state: str
    data: dict[str, Any]
    assignee: str | None
    version: int
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_record(cls, record: CaseRecord) -> Case:
        """The case as its store row holds it (the row's fields are the case's)."""
        values = {name.name: getattr(record, name.name) for name in fields(cls)}
        return cls(**{**values, "data": dict(record.data)})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the CLI's ``--json``): moments in ISO 8601."""
        values = {name.name: getattr(self, name.name) for name in fields(self)}
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in values.items()
        }


@dataclass(frozen=True)
class EventOption:
    """An event of the case's process and whether this actor may fire it now, and if not, why."""

    event: str
    label: str
    allowed: bool
    reason: str | None
    target: str | None
    needs: tuple[str, ...] = ()


def history_json(entry: LogEntry) -> dict[str, Any]:
    """A JSON-ready dict of one log entry."""
    return {
        "version": entry.version,
        "event": entry.event,
        "actor": entry.actor_id,
        "role": entry.role,
        "at": entry.at.isoformat(),
        "from": entry.from_state,
        "to": entry.to_state,
        "payload": entry.payload,
        "changes": entry.changes,
        "assignee": entry.assignee,
        "actions": entry.actions,
        "idempotency_key": entry.idempotency_key,
    }


def replay(entries: Sequence[LogEntry]) -> tuple[str, dict[str, Any], str | None]:
    """State, data and assignee obtained by applying the log from the start.

    The store's case row must always equal this; the crash tests check exactly that.
    """
    state, data, assignee = "", {}, None
    for entry in entries:
        state = entry.to_state
        data.update(entry.changes)
        assignee = entry.assignee
    return state, data, assignee
