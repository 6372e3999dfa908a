"""The public shapes of the runtime API: a case, a history entry, an event option."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.store import CaseRecord, LogEntry


@dataclass(frozen=True)
class Case:
    """A case (one repair request, one complaint ...) as it stands after its last event.

    ``version`` counts accepted events and is the optimistic lock: pass it back as
    ``expected_version`` to be told when someone else changed the case first.
    ``definition_version`` is the content hash of the process definition it runs on.
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
        return cls(
            id=record.id,
            estate=record.estate,
            process=record.process,
            definition_version=record.definition_version,
            state=record.state,
            data=dict(record.data),
            assignee=record.assignee,
            version=record.version,
            opened_at=record.opened_at,
            updated_at=record.updated_at,
            closed_at=record.closed_at,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the CLI's ``--json``)."""
        return {
            "id": self.id,
            "estate": self.estate,
            "process": self.process,
            "definition_version": self.definition_version,
            "state": self.state,
            "data": self.data,
            "assignee": self.assignee,
            "version": self.version,
            "opened_at": self.opened_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
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
