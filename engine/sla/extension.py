"""Extending a running time limit: who may approve it, with what consent, and the new deadline.

The policy of a rule's ``extend:``, apart from the case it runs on (the engine reads the
clock, writes the result and the audit entry in one transaction):

- only a running or paused clock with a deadline can be extended, and only if its rule says
  ``extend:``;
- only the roles the rule names may approve, and after a tier the latest tier's
  ``extend_by`` that names some (the authority moves up with the escalation);
- a reason is required, and so is every consent the rule ``needs`` (the owner's, for the
  24-hour repair limit);
- the new deadline is ``by`` a duration on the limit's calendar or ``until`` a moment, and
  must be later than the current one. ``by`` counts from the current deadline, or from the
  signature once a running clock's deadline has passed: the head who signs "3 more working
  days" for an overdue repair means from today, and an extension that is overdue the moment
  it is given would be no extension.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.diagnostics.catalogue import say
from engine.model.durations import DurationError, parse_duration
from engine.sla.clocks import RUNNING, STOPPED, ClockRecord, TimerRecord
from engine.sla.planner import LimitPlanner


class ExtensionDenied(Exception):
    """The rule does not allow this extension; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExtensionRequest:
    """Who asks for an extension, why, with whose consent, and for how long."""

    approver: str
    roles: Collection[str]
    reason: str
    by: str | None = None
    until: datetime | None = None
    consents: Collection[str] = ()


@dataclass(frozen=True)
class GrantedExtension:
    """An approved extension: the clock with its new deadline and plan, the timers that
    replace its pending ones, the role it was approved in, and the audit entry."""

    clock: ClockRecord
    timers: tuple[TimerRecord, ...]
    role: str
    entry: dict[str, Any]


def grant_extension(
    planner: LimitPlanner, clock: ClockRecord | None, request: ExtensionRequest, now: datetime
) -> GrantedExtension:
    """The extension ``request`` makes at ``now`` to ``clock`` (the case's clock of
    ``planner``'s limit, if it has one), or :class:`ExtensionDenied`."""
    rule = planner.limit
    if clock is None or clock.status == STOPPED or clock.deadline is None:
        raise ExtensionDenied(say("extension.not_running", limit=rule.id))
    if rule.extend is None:
        raise ExtensionDenied(say("extension.not_extendable", limit=rule.id))
    allowed = next(
        (tier.extend_by for tier in reversed(rule.tiers[: clock.tier]) if tier.extend_by),
        rule.extend.by,
    )
    role = next((role for role in allowed if role in request.roles), None)
    if role is None:
        raise ExtensionDenied(say("extension.approvers", roles=", ".join(allowed)))
    if not request.reason.strip():
        raise ExtensionDenied(say("extension.no_reason"))
    given = set(request.consents)
    missing = [need for need in rule.extend.needs if need not in given]
    if missing:
        raise ExtensionDenied(f"missing consent: {', '.join(missing)}")
    by, until = request.by, request.until
    if (by is None) == (until is None):
        raise ExtensionDenied("give either 'by' (a duration) or 'until' (a moment)")
    base = now if clock.status == RUNNING and clock.deadline < now else clock.deadline
    if by is not None:
        try:
            new_deadline = planner.calendar.add(base, parse_duration(by)).at
        except DurationError as error:
            raise ExtensionDenied(f"bad duration '{by}': {error.message}") from None
    else:
        assert until is not None
        if until.tzinfo is None:
            raise ExtensionDenied("'until' needs a timezone")
        new_deadline = until
    if new_deadline <= clock.deadline:
        raise ExtensionDenied(say("extension.not_later"))
    tz = planner.calendar.tz
    entry = {
        "limit": rule.id,
        "by": by,
        "counted_from": base.astimezone(tz).isoformat() if by else None,
        "until": until.isoformat() if until else None,
        "reason": request.reason,
        "consents": sorted(given),
        "approved_by": request.approver,
        "role": role,
        "at": now.isoformat(),
        # Both in the calendar's timezone (the stored deadline reads back in UTC).
        "old_deadline": clock.deadline.astimezone(tz).isoformat(),
        "new_deadline": new_deadline.astimezone(tz).isoformat(),
    }
    moved = planner.extended(clock, new_deadline, entry, now)
    timers = planner.timers(moved) if moved.status == RUNNING else ()
    return GrantedExtension(moved, timers, role, entry)
