"""Typed refusals: every way an application or a user can be told "no".

Each error names the case, its state, the event and the reason, so the message alone is
enough for a log line or a UI toast, and the attributes are there for code that reacts.
Nothing is written when one is raised. The words are those of the language spoken when it
is raised (engine/diagnostics/language.py; the service speaks each request's
``Accept-Language``), from the catalogues in engine/diagnostics/messages/.
"""

from __future__ import annotations

from engine.diagnostics import PropflowError
from engine.diagnostics.catalogue import say

__all__ = [
    "ConflictError",
    "EventNotAllowed",
    "EventRefused",
    "ExtensionRefused",
    "FieldError",
    "GuardRefused",
    "IdempotencyConflict",
    "InvalidArgument",
    "LibraryError",
    "LinkRefused",
    "PropflowError",
    "RoleRefused",
    "UnknownCase",
    "UnknownEvent",
    "UnknownProcess",
]


class InvalidArgument(PropflowError, ValueError):
    """A value handed to the engine is not of the kind the call takes: an actor id or a
    role that is not text, an idempotency key too long, a moment without its timezone.

    A ValueError too, as these were before they were typed."""


class LibraryError(PropflowError):
    """The process library has validation errors, so the engine will not run it."""

    def __init__(self, message: str, diagnostics: list[object]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


class UnknownProcess(PropflowError):
    """No process with this id in the engine's library."""

    def __init__(self, process: str, suggestion: str = "") -> None:
        super().__init__(say("refusal.unknown_process", process=process, hint=suggestion))
        self.process = process


class UnknownCase(PropflowError):
    """No case with this id in the store."""

    def __init__(self, case_id: str, why: str = "") -> None:
        super().__init__(
            say("refusal.unknown_case_here", case=case_id, why=why)
            if why
            else say("refusal.unknown_case", case=case_id)
        )
        self.case_id = case_id


class EventRefused(PropflowError):
    """An event was not accepted; ``reason`` says why in one line."""

    def __init__(self, case_id: str, state: str, event: str, reason: str) -> None:
        super().__init__(
            say("refusal.event_refused", case=case_id, state=state, event=event, reason=reason)
        )
        self.case_id = case_id
        self.state = state
        self.event = event
        self.reason = reason


class UnknownEvent(EventRefused):
    """The case's process has no such event."""


class EventNotAllowed(EventRefused):
    """The event exists but cannot be fired in the case's current state."""


class RoleRefused(EventRefused):
    """The actor holds none of the roles the event (or opening the case) needs."""


class GuardRefused(EventRefused):
    """The event's ``if:`` condition is false; ``condition`` is its text as written, the
    reason says it in words."""

    def __init__(
        self, case_id: str, state: str, event: str, reason: str, condition: str = ""
    ) -> None:
        super().__init__(case_id, state, event, reason)
        self.condition = condition


class FieldError(EventRefused):
    """A payload field is unknown, ill-typed, or a required field is missing."""

    def __init__(self, case_id: str, state: str, event: str, problems: list[str]) -> None:
        super().__init__(case_id, state, event, say("words.semicolon").join(problems))
        self.problems = problems


class ExtensionRefused(EventRefused):
    """An extension of a time limit was refused (wrong role, no reason, missing consent ...)."""


class ConflictError(EventRefused):
    """The case changed since the caller read it (optimistic locking): re-read and retry."""


class IdempotencyConflict(ConflictError):
    """An idempotency key already used for another request (another event, payload or
    actor): the first result is not this request's, so it is refused, not replayed."""


class LinkRefused(EventRefused):
    """A linked case could not be opened (the data its ``open`` action maps does not fit its
    form), or the event's links went deeper than the engine allows: nothing is written."""


class UnknownEstate(PropflowError):
    """No estate with this id is hosted (or the caller's credential may not see it)."""

    def __init__(self, estate: str) -> None:
        super().__init__(say("refusal.unknown_estate", estate=estate))
        self.estate = estate
