"""Which of an actor's roles count on a case.

Most roles are posts (接待员, 维修主管): whoever holds one works on every case of the
process. A role declared with ``bound_to`` is a party to the case instead — the owner who
reported the repair, the tenant who filed the complaint — and counts only on the cases whose
``bound_to`` field holds the actor's id. Every place that asks "may this actor do or see
this" of a case goes through here (firing, opening, extending, reading, listing, the
notifications), so a party's token reaches its own cases and nobody else's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import ProcessDef
from engine.runtime.actor import Actor


def roles_on_case(actor: Actor, process: ProcessDef, data: Mapping[str, Any]) -> frozenset[str]:
    """The actor's roles that count on the case of ``process`` with form ``data``: all but
    the party roles whose field names someone else (or no one)."""
    parties = process.parties
    if not parties.keys() & actor.roles:
        return actor.roles
    return frozenset(
        role for role in actor.roles if role not in parties or data.get(parties[role]) == actor.id
    )


def posts_held(actor: Actor, process: ProcessDef) -> frozenset[str]:
    """The roles of ``process`` the actor holds that reach every case (not party roles)."""
    return frozenset(
        role for role in actor.roles if role in process.roles and role not in process.parties
    )


def party_fields(actor: Actor, process: ProcessDef) -> tuple[str, ...]:
    """The fields that bind a case of ``process`` to the actor, one per party role they
    hold: a case is theirs to reach when one of these fields holds their id."""
    parties = process.parties
    return tuple(sorted({parties[role] for role in actor.roles if role in parties}))
