"""Reading scenario files: find them, check their shape, resolve times, actors and cases.

A scenario file is read with the positional YAML loader and checked against
``schemas/scenario.schema.json`` like every other PropFlow file; then each step's time is
resolved to an instant, each actor and case alias to its declaration, and the estate to a
directory. Everything wrong becomes a :class:`~engine.diagnostics.Diagnostic` at its
file:line:column; nothing here raises for bad input. What the steps name in the estate's
processes (events, states, fields, time limits) is checked later, against the definitions
the scenario runs on (:mod:`engine.scenarios.checker`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.diagnostics import Diagnostic, Severity, Span, suggest
from engine.diagnostics.catalogue import say
from engine.io.estates import ESTATE_FILE, SCENARIOS_DIR, STANDARD, is_estate_dir
from engine.io.loading import UsageError, display_path, yaml_files
from engine.io.paths import is_inside, real_path
from engine.io.schemas import FileKind, validate_structure
from engine.io.yamlsource import JsonPath, SourceDocument, load_document
from engine.model.durations import DurationError, parse_duration
from engine.scenarios.model import (
    Action,
    ClockExpectation,
    Expect,
    ExtendLimit,
    FireEvent,
    MigrateCases,
    NotificationExpectation,
    OpenCase,
    Refusal,
    Scenario,
    Step,
)

SHAPE = "PF050"
ESTATE = "PF601"
TIME = "PF602"
ACTOR = "PF603"
CASE = "PF604"


def find_scenarios(paths: Iterable[Path]) -> list[Path]:
    """The scenario files named by ``paths``: files as given; in a directory, every YAML
    file inside a ``scenarios/`` directory (the directory itself may be one).

    Hidden directories are skipped. A path that does not exist is a :class:`UsageError`.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            itself = Path(os.path.abspath(path)).name == SCENARIOS_DIR
            found.extend(
                candidate
                for candidate in yaml_files(path)
                if candidate.is_file()
                and (itself or SCENARIOS_DIR in candidate.relative_to(path).parts[:-1])
            )
        elif path.exists() or path.is_symlink():  # a broken link or a loop: reported
            found.append(path)
        else:
            raise UsageError(say("usage.no_such_path", path=path))
    return list(dict.fromkeys(found))


def enclosing_estate(path: Path) -> Path | None:
    """The estate directory whose ``scenarios/`` holds ``path``, if any.

    Where the file is named, not where a symbolic link leads: a scenario of an estate is
    one of its files, and must not lead outside it (:func:`load_scenario` refuses it).
    """
    named = Path(os.path.abspath(path))
    for parent in named.parents:
        if (parent / ESTATE_FILE).is_file():
            inside = named.relative_to(parent).parts
            return parent if inside and inside[0] == SCENARIOS_DIR else None
    return None


def load_scenario(
    path: Path, default_estate: Path | None = None
) -> tuple[Scenario | None, list[Diagnostic]]:
    """Read one scenario file, and say what is wrong with it.

    The scenario is ``None`` when the file cannot be read as one at all (YAML or shape
    errors); otherwise it is returned even with errors in some steps (those steps are left
    out), so that its names can still be checked against the estate and every problem is
    reported in one run. ``default_estate`` is used when the file names no ``estate:``;
    ``None`` means the shipped library alone.
    """
    display = display_path(path) if path.is_absolute() else str(path)
    owner = enclosing_estate(path)
    if owner is not None and real_path(path) is not None and not is_inside(path, owner):
        return None, [
            Diagnostic(
                "PF403",
                Severity.ERROR,
                say("PF403.file_link", link=path.name, estate=owner.name),
                Span(display, 1, 1),
            )
        ]
    document, diagnostics = load_document(path, display)
    if document is None or any(d.severity is Severity.ERROR for d in diagnostics):
        return None, diagnostics
    structural = validate_structure(document, FileKind.SCENARIO)
    if structural:
        return None, diagnostics + structural
    builder = _Builder(document, path, display)
    scenario = builder.build(default_estate)
    return scenario, diagnostics + builder.diagnostics


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 moment with its offset, or ``None`` if it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class _Builder:
    """Turns a structurally valid scenario document into a :class:`Scenario`."""

    def __init__(self, document: SourceDocument, path: Path, display: str) -> None:
        self.document = document
        self.data: dict[str, Any] = document.data
        self.path = path
        self.display = display
        self.diagnostics: list[Diagnostic] = []
        #: alias -> (process, the ``as`` path of its open step)
        self.opened: dict[str, tuple[str, JsonPath]] = {}
        #: alias -> the ``as`` path of an open step that is expected to be refused
        self.refused: dict[str, JsonPath] = {}
        self.current: str | None = None

    # -- reporting ---------------------------------------------------------------------------

    def span(self, path: JsonPath, *, key: bool = False) -> Span:
        return self.document.source_map.locate(path, key=key)

    def error(self, code: str, message: str, path: JsonPath, *, key: bool = False) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, self.span(path, key=key)))

    # -- the whole file ----------------------------------------------------------------------

    def build(self, default_estate: Path | None) -> Scenario | None:
        start = parse_moment(self.data["start"])
        if start is None:
            self.error(TIME, _not_a_moment("start", self.data["start"]), ("start",))
            return None
        actors = {
            str(name): tuple(str(role) for role in roles)
            for name, roles in self.data["actors"].items()
        }
        estate = self.estate(default_estate)
        steps: list[Step] = []
        moment = start
        for index, raw in enumerate(self.data["steps"]):
            step = self.step(index, raw, moment, actors)
            if step is not None:
                steps.append(step)
                moment = step.at
        return Scenario(
            id=self.data["scenario"],
            file=self.display,
            path=self.path,
            source_map=self.document.source_map,
            start=start,
            actors=actors,
            steps=tuple(steps),
            estate=estate,
            title=self.data.get("title"),
            description=self.data.get("description"),
            cases={alias: process for alias, (process, _) in self.opened.items()},
        )

    def estate(self, default: Path | None) -> Path | None:
        given: str | None = self.data.get("estate")
        if given is None:
            return default
        if given == STANDARD:
            return None
        return self.estate_dir(given, ("estate",))

    def estate_dir(self, given: str, where: JsonPath) -> Path | None:
        """The estate directory ``given`` names, relative to the file (``None``, reported
        at ``where``, when there is none)."""
        directory = self.path.parent / given
        if not is_estate_dir(directory):
            self.error(
                ESTATE,
                say(
                    "PF601.no_estate",
                    estate=given,
                    file=ESTATE_FILE,
                    directory=display_path(directory),
                ),
                where,
            )
            return None
        return directory

    # -- one step ----------------------------------------------------------------------------

    def step(
        self, index: int, raw: Mapping[str, Any], previous: datetime, actors: Mapping[str, Any]
    ) -> Step | None:
        path: JsonPath = ("steps", index)
        at = self.moment(raw, path, previous)
        refusal: Refusal | None = None
        if "expect_refusal" in raw:
            spec = raw["expect_refusal"] or {}
            refusal = Refusal((*path, "expect_refusal"), spec.get("error"), spec.get("reason"))
            if "expect" in raw:
                self.error(
                    SHAPE,
                    "expect_refusal goes with open, fire or extend, not with expect",
                    (*path, "expect_refusal"),
                    key=True,
                )
        action = self.action(raw, path, actors, refusal is not None)
        if at is None or action is None:
            return None
        return Step(index + 1, path, at, action, refusal, raw.get("note"))

    def moment(self, raw: Mapping[str, Any], path: JsonPath, previous: datetime) -> datetime | None:
        if "at" in raw and "after" in raw:
            self.error(SHAPE, say("PF602.at_and_after"), (*path, "after"), key=True)
            return None
        if "at" in raw:
            at = parse_moment(raw["at"])
            if at is None:
                self.error(TIME, _not_a_moment("at", raw["at"]), (*path, "at"))
                return None
            if at < previous:
                self.error(
                    TIME,
                    say(
                        "PF602.backwards",
                        at=raw["at"],
                        previous=previous.isoformat(timespec="minutes"),
                    ),
                    (*path, "at"),
                )
                return None
            return at
        if "after" in raw:
            text = raw["after"]
            try:
                duration = parse_duration(text)
            except DurationError as error:
                self.diagnostics.append(
                    Diagnostic(
                        TIME,
                        Severity.ERROR,
                        say("PF602.duration", key="after", text=text, detail=error.message),
                        self.document.source_map.locate_in_text((*path, "after"), error.offset),
                    )
                )
                return None
            if duration.working:
                self.error(
                    TIME,
                    say("PF602.working", text=text),
                    (*path, "after"),
                )
                return None
            return previous + duration.as_timedelta()
        return previous + timedelta(0)

    def action(
        self,
        raw: Mapping[str, Any],
        path: JsonPath,
        actors: Mapping[str, Any],
        refused: bool,
    ) -> Action | None:
        if "open" in raw:
            return self.open(raw["open"], (*path, "open"), actors, refused)
        if "fire" in raw:
            spec, where = raw["fire"], (*path, "fire")
            alias = self.case(spec, where)
            actor = self.actor(spec, where, actors)
            if alias is None:
                return None
            return FireEvent(alias, spec["event"], actor, spec.get("payload") or {})
        if "extend" in raw:
            return self.extend(raw["extend"], (*path, "extend"), actors)
        if "migrate" in raw:
            where = (*path, "migrate", "estate")
            given = raw["migrate"]["estate"]
            if given == STANDARD:
                return MigrateCases(None)
            directory = self.estate_dir(given, where)
            return None if directory is None else MigrateCases(directory)
        return self.expect(raw["expect"], (*path, "expect"))

    def open(
        self, spec: Mapping[str, Any], path: JsonPath, actors: Mapping[str, Any], refused: bool
    ) -> OpenCase | None:
        alias = spec["as"]
        actor = self.actor(spec, path, actors)
        if alias in self.opened:
            first = self.span(self.opened[alias][1])
            self.error(
                CASE,
                say("PF604.opened_twice", case=alias, line=first.line),
                (*path, "as"),
            )
            return None
        if refused:
            self.refused[alias] = (*path, "as")
        else:
            self.opened[alias] = (spec["process"], (*path, "as"))
            self.current = alias
        return OpenCase(spec["process"], alias, actor, spec.get("data") or {})

    def extend(
        self, spec: Mapping[str, Any], path: JsonPath, actors: Mapping[str, Any]
    ) -> ExtendLimit | None:
        alias = self.case(spec, path)
        actor = self.actor(spec, path, actors)
        if ("by" in spec) == ("until" in spec):
            self.error(
                SHAPE,
                say("PF602.by_or_until"),
                path,
            )
            return None
        until: datetime | None = None
        if "until" in spec:
            until = parse_moment(spec["until"])
            if until is None:
                self.error(TIME, _not_a_moment("until", spec["until"]), (*path, "until"))
                return None
        else:
            try:
                parse_duration(spec["by"])
            except DurationError as error:
                self.diagnostics.append(
                    Diagnostic(
                        TIME,
                        Severity.ERROR,
                        say("PF602.duration", key="by", text=spec["by"], detail=error.message),
                        self.document.source_map.locate_in_text((*path, "by"), error.offset),
                    )
                )
                return None
        if alias is None:
            return None
        return ExtendLimit(
            alias,
            spec["limit"],
            actor,
            spec["reason"],
            spec.get("by"),
            until,
            tuple(spec.get("consents") or ()),
        )

    def expect(self, spec: Mapping[str, Any], path: JsonPath) -> Expect | None:
        alias = self.case(spec, path)
        if alias is None:
            return None
        clocks: list[ClockExpectation] = []
        for limit, clock in (spec.get("sla") or {}).items():
            where: JsonPath = (*path, "sla", limit)
            deadline: datetime | None = None
            if "deadline" in clock:
                deadline = parse_moment(clock["deadline"])
                if deadline is None:
                    self.error(
                        TIME,
                        _not_a_moment("deadline", clock["deadline"]),
                        (*where, "deadline"),
                    )
                    return None
            clocks.append(
                ClockExpectation(
                    limit,
                    where,
                    status=clock.get("status"),
                    deadline=deadline,
                    breached=clock.get("breached"),
                    paused=clock.get("paused"),
                    warnings=clock.get("warnings"),
                    tier=clock.get("tier"),
                    extensions=clock.get("extensions"),
                )
            )
        outbox = None
        if spec.get("outbox") is not None:
            outbox = tuple(
                NotificationExpectation(
                    (*path, "outbox", number),
                    item.get("kind"),
                    item.get("role"),
                    item.get("message"),
                )
                for number, item in enumerate(spec["outbox"])
            )
        history = spec.get("history")
        return Expect(
            alias,
            state=spec.get("state"),
            data=spec.get("data") or {},
            checks_assignee="assignee" in spec,
            assignee=spec.get("assignee"),
            clocks=tuple(clocks),
            outbox=outbox,
            history=tuple(history) if history is not None else None,
            patterns=spec.get("patterns"),
        )

    # -- references --------------------------------------------------------------------------

    def actor(self, spec: Mapping[str, Any], path: JsonPath, actors: Mapping[str, Any]) -> str:
        """The step's actor; an undeclared one is reported (the scenario will not run)."""
        name = str(spec["actor"])
        if name not in actors:
            self.error(
                ACTOR,
                say("PF603.undeclared", actor=name, hint=suggest(name, actors)),
                (*path, "actor"),
            )
        return name

    def case(self, spec: Mapping[str, Any], path: JsonPath) -> str | None:
        """The alias a step acts on: the one it names, else the previous step's case."""
        alias = spec.get("case")
        if alias is None:
            if self.current is None:
                self.error(
                    CASE,
                    say("PF604.no_case_yet"),
                    path,
                    key=True,
                )
            return self.current
        if alias in self.refused and alias not in self.opened:
            where = self.span(self.refused[alias])
            self.error(
                CASE,
                say("PF604.never_opened", case=alias, line=where.line),
                (*path, "case"),
            )
            return None
        if alias not in self.opened:
            self.error(
                CASE,
                say("PF604.not_opened", case=alias, hint=suggest(alias, self.opened)),
                (*path, "case"),
            )
            return None
        self.current = alias
        return str(alias)


def _not_a_moment(key: str, value: object) -> str:
    """What a scenario is told of a ``start``, ``at``, ``until`` or ``deadline`` that is not
    a moment with its offset."""
    return say("PF602.not_a_moment", key=key, value=value)
