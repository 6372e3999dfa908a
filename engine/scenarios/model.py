"""The shapes of a scenario: who acts, the steps in time, and what each step expects.

A scenario is read once (:mod:`engine.scenarios.loader`) into these frozen values, with every
step's time already resolved to an instant and every case alias resolved, so checking it
against the estate's definitions and running it never look at YAML again. Each part keeps
its JSON path in the file, so a problem or a failed expectation points at its own line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.diagnostics import Span
from engine.io.yamlsource import JsonPath, SourceMap
from engine.model import Label

#: The refusals a step may expect, by the name of their exception class.
REFUSALS = (
    "EventRefused",
    "RoleRefused",
    "GuardRefused",
    "EventNotAllowed",
    "FieldError",
    "ExtensionRefused",
)

#: A clock the case does not have (the limit never started on it, or does not apply).
NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Refusal:
    """How a step's action must be refused: the kind of error and text of its reason."""

    path: JsonPath
    error: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class OpenCase:
    """Open a case of ``process`` as ``actor``, known to later steps as ``alias``."""

    process: str
    alias: str
    actor: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class FireEvent:
    """Fire ``event`` on the case ``alias`` as ``actor``."""

    alias: str
    event: str
    actor: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class ExtendLimit:
    """``actor`` approves moving the deadline of time limit ``limit`` on case ``alias``."""

    alias: str
    limit: str
    actor: str
    reason: str
    by: str | None
    until: datetime | None
    consents: tuple[str, ...]


@dataclass(frozen=True)
class MigrateCases:
    """Move the running cases to the definitions of ``estate`` (the scenario's estate with
    its files edited; ``None``: the shipped library), as ``propflow migrate`` does; later
    steps run on those definitions."""

    estate: Path | None


@dataclass(frozen=True)
class ClockExpectation:
    """What must hold of one time limit's clock; ``None`` is "not checked"."""

    limit: str
    path: JsonPath
    status: str | None = None
    deadline: datetime | None = None
    breached: bool | None = None
    paused: bool | None = None
    warnings: int | None = None
    tier: int | None = None
    extensions: int | None = None


@dataclass(frozen=True)
class NotificationExpectation:
    """An outbox row the case must have; ``None`` matches anything."""

    path: JsonPath
    kind: str | None = None
    role: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class Expect:
    """What must hold of case ``alias`` at the step's moment; absent parts are not checked."""

    alias: str | None
    state: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Whether ``assignee`` is checked (it may be expected to be ``None``).
    checks_assignee: bool = False
    assignee: str | None = None
    clocks: tuple[ClockExpectation, ...] = ()
    #: Rows that must be in the outbox; an empty tuple means none at all, ``None`` unchecked.
    outbox: tuple[NotificationExpectation, ...] | None = None
    history: tuple[str, ...] | None = None
    #: Matches of patterns naming the case so far, by pattern id; ``None``: unchecked.
    patterns: Mapping[str, int] | None = None


Action = OpenCase | FireEvent | ExtendLimit | MigrateCases | Expect


@dataclass(frozen=True)
class Step:
    """One step: its moment, its action, and the refusal it must meet (if any)."""

    index: int
    path: JsonPath
    at: datetime
    action: Action
    refusal: Refusal | None = None
    note: str | None = None

    @property
    def verb(self) -> str:
        """``open``, ``fire``, ``extend``, ``migrate`` or ``expect``: the key the action is
        under."""
        verbs: dict[type, str] = {
            OpenCase: "open",
            FireEvent: "fire",
            ExtendLimit: "extend",
            MigrateCases: "migrate",
            Expect: "expect",
        }
        return verbs[type(self.action)]


@dataclass(frozen=True)
class Scenario:
    """A scenario file, read and resolved."""

    id: str
    file: str
    path: Path
    source_map: SourceMap
    start: datetime
    #: Each actor with the roles it holds, as written.
    actors: Mapping[str, tuple[str, ...]]
    steps: tuple[Step, ...]
    #: The estate directory to run on; ``None`` for the shipped library alone.
    estate: Path | None = None
    title: Label | None = None
    description: Label | None = None
    #: Each case alias with the process it was opened on.
    cases: Mapping[str, str] = field(default_factory=dict)

    def span(self, path: JsonPath, *, key: bool = False) -> Span:
        """Where ``path`` is in the file (its key with ``key``)."""
        return self.source_map.locate(path, key=key)

    @property
    def name(self) -> str:
        """``file::id``, as test reports name it."""
        return f"{self.file}::{self.id}"
