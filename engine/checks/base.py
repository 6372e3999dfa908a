"""What a check module yields, and helpers shared by the checks.

A check module (one per problem, like a yamllint rule) declares ``CODE``, ``NAME`` and
``SEVERITY`` and a ``check(library)`` generator of :class:`Finding`; the runner stamps the
code and severity on, so a module cannot report under another module's code.
"""

from __future__ import annotations

import functools
import itertools
import operator
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.diagnostics import Span, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library, Located
from engine.io.yamlsource import JsonPath
from engine.model import Action, ProcessDef, TimeLimitDef

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """A problem found by a check: where, what, and optionally a related place."""

    span: Span
    message: str
    also: tuple[tuple[str, Span], ...] = ()


def once_per_library(survey: Callable[[Library], T]) -> Callable[[Library], T]:
    """``survey`` of a library, run once for all the checks that need it.

    Several checks walk the same part of a library (every link action, every condition with
    its problems); this keeps the last result while the library holds the very same
    definitions, which are immutable. The result is shared: the checks must not change it.
    """
    last: list[tuple[weakref.ref[Library], tuple[Located[Any], ...], T]] = []

    @functools.wraps(survey)
    def remembered(library: Library) -> T:
        definitions = tuple(_definitions(library))
        if last:
            known, checked, result = last[0]
            if (
                known() is library
                and len(checked) == len(definitions)
                and all(map(operator.is_, checked, definitions))
            ):
                return result
        result = survey(library)
        last[:] = [(weakref.ref(library), definitions, result)]
        return result

    return remembered


def _definitions(library: Library) -> Iterator[Located[Any]]:
    return itertools.chain(
        library.processes,
        library.calendars,
        library.time_limits,
        library.estates,
        library.schedules,
        library.quotas,
        library.kpis,
        library.patterns,
        library.migrations,
    )


def processes_by_id(library: Library) -> dict[str, ProcessDef]:
    """Each process id with its first definition, as :meth:`Library.process` finds it.

    Checks look up the process of every time limit; one dictionary per check keeps that
    linear in the size of the library.
    """
    found: dict[str, ProcessDef] = {}
    for located in library.processes:
        found.setdefault(located.definition.id, located.definition)
    return found


def time_limits_with_process(
    library: Library,
) -> Iterator[tuple[Located[TimeLimitDef], ProcessDef]]:
    """Each time limit whose process exists, with that process (PF202 reports the others)."""
    processes = processes_by_id(library)
    for located in library.time_limits:
        process = processes.get(located.definition.process)
        if process is not None:
            yield located, process


def process_actions(process: ProcessDef) -> Iterator[tuple[JsonPath, Action]]:
    """Every action of a process with its path: state entry/exit and event actions."""
    for sid, state in process.states.items():
        for hook in ("on_enter", "on_exit"):
            for index, action in enumerate(getattr(state, hook)):
                yield ("states", sid, hook, index), action
    for eid, event in process.events.items():
        for index, action in enumerate(event.actions):
            yield ("events", eid, "actions", index), action


def time_limit_actions(limit: TimeLimitDef) -> Iterator[tuple[JsonPath, Action]]:
    """Every action of a time limit with its path: breach, due and tier actions."""
    for hook in ("on_breach", "on_due"):
        for index, action in enumerate(getattr(limit, hook)):
            yield (hook, index), action
    for tier_index, tier in enumerate(limit.tiers):
        for index, action in enumerate(tier.actions):
            yield ("tiers", tier_index, "actions", index), action


def unknown_ids(
    located: Located[Any],
    path: tuple[str, ...],
    given: Sequence[str],
    known: Sequence[str],
    what: str,
) -> Iterator[Finding]:
    """A finding for each of ``given`` (written at ``path`` as one id or a list) that is not
    in ``known``, at its own place, with the nearest known name; ``what`` is what it should
    be, in words (:func:`kind_of`)."""
    raw: object = located.raw
    for part in path:
        raw = raw.get(part) if isinstance(raw, dict) else None
    single = not isinstance(raw, list)
    for index, ident in enumerate(given):
        if ident not in known:
            where: tuple[str | int, ...] = path if single else (*path, index)
            yield Finding(located.at(*where), not_a(ident, what, known))


def kind_of(kind: str, process: ProcessDef) -> str:
    """``a state of process 'repair'``, in words: ``kind`` is ``state``, ``event``,
    ``field``, ``role`` or ``time_limit``."""
    return say("names.of_process", kind=say(f"names.{kind}"), process=process.id)


def not_a(name: str, what: str, known: Sequence[str]) -> str:
    """``'x' is not <what>`` with the nearest of ``known``: what a check says of a name that
    is not one of the names it may be."""
    return say("names.is_not", name=name, what=what, hint=suggest(name, known))


def undefined_process(name: str, known: Sequence[str]) -> str:
    """What a check says of a process id that names no process being checked."""
    return say("PF202.process", name=name, hint=suggest(name, known))


def undefined_calendar(name: str, known: Sequence[str]) -> str:
    """What a check says of a calendar id that names no calendar."""
    return say("PF201.calendar", name=name, hint=suggest(name, known))
