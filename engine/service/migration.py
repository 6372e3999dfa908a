"""``POST /estates/{estate}/migrate``: the bodies of moving an estate's running cases to its
current definitions over HTTP (see :mod:`engine.runtime.migration`).

Moving cases changes every running case of an estate at once, so it is an operator's act,
not a desk's: only a credential holding :data:`MIGRATION_ROLE` may ask, and a request
without a body only plans (a dry run).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.runtime.migration import MigrationResult

#: The role a credential needs to move cases (``propflow token create --roles admin``).
MIGRATION_ROLE = "admin"


class Migrate(BaseModel):
    """Which cases to move, and whether only to plan."""

    model_config = ConfigDict(extra="forbid")

    process: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[a-z][a-z0-9_]*$"
    )
    dry_run: bool = True


class ClockMoveOut(BaseModel):
    """What the moves of a group do to one clock: ``kept``, ``started`` or ``stopped``."""

    limit: str
    action: str


class MoveGroupOut(BaseModel):
    """Cases moved (or to be moved) alike, and how many."""

    process: str
    from_version: str
    to_version: str
    from_state: str
    to_state: str
    added: dict[str, Any]
    dropped: list[str]
    clocks: list[ClockMoveOut]
    cases: int


class RefusedOut(BaseModel):
    """A case that cannot move, and why."""

    case: str
    process: str
    state: str
    reason: str


class MigrationOut(BaseModel):
    """What the migration did, or would do in a dry run."""

    dry_run: bool
    moved: int
    unchanged: int
    groups: list[MoveGroupOut]
    refused: list[RefusedOut]
    #: Cases changed by someone else on every attempt: a rerun moves them.
    skipped: list[str]


def migration_out(result: MigrationResult) -> MigrationOut:
    """The answer to a migration request."""
    groups = [
        MoveGroupOut(
            process=move.process,
            from_version=move.from_version,
            to_version=move.to_version,
            from_state=move.from_state,
            to_state=move.to_state,
            added=dict(move.added),
            dropped=list(move.dropped),
            clocks=[ClockMoveOut(limit=c.limit, action=c.action) for c in move.clocks],
            cases=result.groups[key],
        )
        for key, move in result.examples.items()
    ]
    refused = [
        RefusedOut(case=m.case_id, process=m.process, state=m.from_state, reason=m.refused or "")
        for m in result.refused
    ]
    return MigrationOut(
        dry_run=result.dry_run,
        moved=result.moved,
        unchanged=result.unchanged,
        groups=groups,
        refused=refused,
        skipped=list(result.skipped),
    )
