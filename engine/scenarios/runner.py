"""Running a scenario: an engine on an in-memory store, a manual clock, and the steps in time.

Each scenario gets its own :class:`~engine.runtime.Engine` on ``sqlite://`` (nothing is
shared, nothing is left behind) with a :class:`~engine.runtime.ManualClock` at the scenario's
start. Before each step the clock moves forward timer by timer: every timer due before the
step fires at its own due time (``engine.tick``), so a breach at 22:00 is recorded at 22:00
even when the next step is the following morning. Then the step's action runs, or its
expectations are compared with the case; the first difference ends the run and is reported
at the line that expected otherwise.

Everything that happens is kept as a timeline (steps, timers, state changes, outbox rows)
for ``propflow simulate``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.checks.validation import validate_library
from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import LANGUAGES, current_language, speaking
from engine.io.estates import STANDARD
from engine.io.library import ValidatedLibrary
from engine.io.loading import display_path
from engine.io.paths import real_path
from engine.io.yamlsource import JsonPath
from engine.model.process import SYSTEM_ROLE
from engine.runtime import Actor, Case, Engine, LibraryError, ManualClock, PropflowError
from engine.runtime.errors import EventRefused
from engine.runtime.forms import Form
from engine.runtime.migration import migrate_cases
from engine.scenarios.checker import check_scenario
from engine.scenarios.loader import ESTATE, load_scenario
from engine.scenarios.model import (
    NOT_STARTED,
    ClockExpectation,
    Expect,
    ExtendLimit,
    FireEvent,
    MigrateCases,
    OpenCase,
    Scenario,
    Step,
)
from engine.sla import ClockStatus, TimerKind
from engine.store import LogEntry, OutboxItem
from engine.store.patterns import matches_of

#: Timers one scenario may fire before it is stopped: a recurring limit that never ends
#: would otherwise keep a long jump in time busy for ever.
MAX_TIMERS = 50_000


@dataclass(frozen=True)
class Difference:
    """The first thing that did not go as the scenario says, and where it says so.

    Its texts are worded in the language spoken while the scenario ran (``propflow test``
    prints them in the same run); the values, names and times in them are the scenario's
    and the case's own, never translated.
    """

    step: Step
    span: Span
    subject: str
    expected: str
    actual: str

    def lines(self, start: datetime) -> list[str]:
        """``file:line:col: step N (verb at time): subject``, then expected and actual.

        The position is written here, outside the words, so that it reads the same in every
        language: editors and CI servers jump to it.
        """
        frame = say(
            "scenario.difference.frame",
            step=self.step.index,
            verb=self.step.verb,
            at=show_time(self.step.at, start),
            subject=self.subject,
        )
        return [
            f"{_position(self.span)}: {frame}",
            "  " + say("scenario.difference.expected", value=self.expected),
            "  " + say("scenario.difference.actual", value=self.actual),
        ]


@dataclass(frozen=True)
class Happening:
    """One line of the timeline: a step, a timer, a state change, an outbox row ..."""

    at: datetime
    #: ``step``, ``timer``, ``event``, ``outbox``, ``refused``, ``checked`` or ``failed``;
    #: ``propflow simulate`` prints its words (``scenario.kind.KIND`` in the catalogue).
    kind: str
    text: str


@dataclass
class ScenarioResult:
    """What running (or trying to run) one scenario file gave."""

    path: Path
    file: str
    scenario: Scenario | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    difference: Difference | None = None
    #: The estate's own validation errors, when they stopped the scenario.
    estate_errors: list[Diagnostic] = field(default_factory=list)
    timeline: list[Happening] = field(default_factory=list)
    seconds: float = 0.0
    steps_run: int = 0
    timers_fired: int = 0
    #: An error of the engine itself (a bug, not the scenario's): its type and message.
    crash: str | None = None

    @property
    def name(self) -> str:
        """``file::scenario-id`` (the file alone when it could not be read)."""
        return self.scenario.name if self.scenario is not None else self.file

    @property
    def passed(self) -> bool:
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        return (
            self.scenario is not None
            and not errors
            and not self.estate_errors
            and self.difference is None
            and self.crash is None
        )

    @property
    def estate(self) -> str:
        """The estate directory the scenario ran on, or ``standard``."""
        if self.scenario is None or self.scenario.estate is None:
            return STANDARD
        return display_path(self.scenario.estate)

    def summary(self) -> str:
        """One line saying why the scenario failed (empty when it passed)."""
        if self.crash is not None:
            return say("scenario.summary.internal_error", error=self.crash)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        if errors:
            return _first_error(errors[0])
        if self.estate_errors:
            return say(
                "scenario.summary.estate_invalid",
                count=len(self.estate_errors),
                first=_first_error(self.estate_errors[0]),
            )
        if self.difference is not None and self.scenario is not None:
            return " / ".join(self.difference.lines(self.scenario.start)[:1])
        return ""


def _reason_of(refusal: PropflowError) -> str:
    """The reason a refusal gives: an event's own reason, else its whole message."""
    return refusal.reason if isinstance(refusal, EventRefused) else str(refusal)


def _position(span: Span) -> str:
    """``file:line:col``, as editors and CI servers read a position."""
    return f"{span.file}:{span.line}:{span.column}"


def _first_error(diagnostic: Diagnostic) -> str:
    """``file:line:col: CODE message``: the one problem a one-line reason names."""
    return f"{_position(diagnostic.span)}: {diagnostic.code} {diagnostic.message}"


def show_time(moment: datetime, start: datetime) -> str:
    """A moment in the scenario's own offset, to the minute (to the second if it has any)."""
    local = moment.astimezone(start.tzinfo)
    spec = "seconds" if local.second or local.microsecond else "minutes"
    return local.isoformat(sep=" ", timespec=spec)


def show(value: Any) -> str:
    """A value as the scenario would write it: text quoted, ``null``, ``true``."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


class EstateCache:
    """Each estate validated once per run, however many scenarios use it: its engines are
    all built from the one validated library."""

    def __init__(self, library: Sequence[Path] | None = None) -> None:
        #: The library estates extend (and scenarios of no estate run on); ``None``: the
        #: shipped one.
        self.library = list(library) if library else None
        self._validated: dict[Path | None, ValidatedLibrary] = {}

    def validated(self, estate: Path | None) -> ValidatedLibrary:
        """The estate's validated library (the library's own for ``None``)."""
        key = self._key(estate)
        if key not in self._validated:
            self._validated[key] = validate_library(self.library, estate=estate)
        return self._validated[key]

    def remember(self, estate: Path, validated: ValidatedLibrary) -> None:
        """Use ``validated`` as the estate's library: one a caller has validated already
        (``propflow validate`` checks the estates' scenarios after the estates)."""
        self._validated[self._key(estate)] = validated

    @staticmethod
    def _key(estate: Path | None) -> Path | None:
        return (real_path(estate) or estate) if estate is not None else None


def _checked(
    path: Path, default_estate: Path | None, estates: EstateCache | None
) -> tuple[ScenarioResult, Engine | None, ManualClock | None]:
    """A scenario file loaded and checked against its estate, with the engine it would run
    on (``None`` when it cannot run: it does not read as a scenario, or its estate has
    errors or cannot run)."""
    display = path.as_posix()
    scenario, diagnostics = load_scenario(path, default_estate)
    result = ScenarioResult(path, scenario.file if scenario else display, scenario, diagnostics)
    if scenario is None:
        if diagnostics:
            result.file = diagnostics[0].span.file
        return result, None, None
    validated = (estates or EstateCache()).validated(scenario.estate)
    if not validated.ok:
        result.estate_errors = validated.errors
        return result, None, None
    clock = ManualClock(scenario.start)
    try:
        engine = Engine(validated, store="sqlite://", clock=clock)
    except LibraryError as error:  # an estate that validates but cannot run (a calendar)
        result.estate_errors = [d for d in error.diagnostics if isinstance(d, Diagnostic)] or [
            Diagnostic(ESTATE, Severity.ERROR, str(error), scenario.span(("estate",)))
        ]
        return result, None, None
    try:
        result.diagnostics += check_scenario(scenario, engine)
    except BaseException:
        engine.close()
        raise
    result.diagnostics.sort(key=Diagnostic.sort_key)
    return result, engine, clock


def check_file(
    path: Path, default_estate: Path | None = None, estates: EstateCache | None = None
) -> list[Diagnostic]:
    """What ``propflow test`` finds wrong in a scenario file before it runs it (its shape,
    times, actors and cases, and its names and values against its estate), without running
    it: ``propflow validate`` reports these with the estate's own diagnostics. The estate's
    errors are not repeated here."""
    result, engine, _ = _checked(path, default_estate, estates)
    if engine is not None:
        engine.close()
    return result.diagnostics


def run_file(
    path: Path,
    default_estate: Path | None = None,
    estates: EstateCache | None = None,
) -> ScenarioResult:
    """Load, check and run one scenario file; never raises for the scenario's own mistakes."""
    began = time.perf_counter()
    try:
        result, engine, clock = _checked(path, default_estate, estates)
    except Exception as error:  # an engine bug must not hide the other scenarios' results
        result = ScenarioResult(path, path.as_posix(), None, [])
        result.crash = f"{type(error).__name__}: {error}"
        return result
    if engine is None or clock is None:
        return result
    try:
        if not any(d.severity is Severity.ERROR for d in result.diagnostics) and result.scenario:
            _Run(result.scenario, engine, clock, result, estates or EstateCache()).run()
    except Exception as error:  # an engine bug must not hide the other scenarios' results
        result.crash = f"{type(error).__name__}: {error}"
    finally:
        engine.close()
        result.seconds = time.perf_counter() - began
    return result


class _Run:
    """One scenario being run on its engine."""

    def __init__(
        self,
        scenario: Scenario,
        engine: Engine,
        clock: ManualClock,
        result: ScenarioResult,
        estates: EstateCache,
    ) -> None:
        self.scenario = scenario
        self.engine = engine
        #: Where a ``migrate`` step's estate is validated.
        self.estates = estates
        self.clock = clock
        self.result = result
        self.cases: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        #: The last log version, and the last outbox row, already on the timeline: each
        #: collection reads only what came after (a long jump fires thousands of timers).
        self.seen_entries: dict[str, int] = {}
        self.seen_outbox = 0
        self.forms: dict[str, Form] = {}

    def note(self, at: datetime, kind: str, text: str) -> None:
        self.result.timeline.append(Happening(at, kind, text))

    def run(self) -> None:
        for step in self.scenario.steps:
            difference = self.advance(step)
            if difference is None:
                self.note(step.at, "step", self.describe(step))
                difference = self.perform(step)
                self.result.steps_run += 1
                self.collect(step.at)
            if difference is not None:
                self.result.difference = difference
                self.note(step.at, "failed", difference.subject)
                return

    # -- time --------------------------------------------------------------------------------

    def advance(self, step: Step) -> Difference | None:
        """Fire every timer due by the step's time, each at its own due time; then tick at
        it. More than :data:`MAX_TIMERS` timers in all is the scenario's (or its estate's)
        mistake, a recurring time limit without end: the step is not reached."""
        target = step.at
        while True:
            due = self.engine.due_timers(target, 1)
            if not due:
                break
            moment = max(due[0].due_at, self.clock.now())
            self.clock.set(moment)
            fired = self.engine.tick(moment).fired
            if not fired:  # nothing else writes to this store: a timer that will not fire
                raise RuntimeError(f"a timer due at {moment.isoformat()} did not fire")
            self.result.timers_fired += fired
            self.collect(moment)
            if self.result.timers_fired > MAX_TIMERS:
                return Difference(
                    step,
                    self.scenario.span((*step.path, step.verb), key=True),
                    say("scenario.runaway.subject", step=step.index),
                    say("scenario.runaway.expected", limit=MAX_TIMERS),
                    say("scenario.runaway.actual", fired=self.result.timers_fired),
                )
        self.clock.set(max(target, self.clock.now()))
        self.result.timers_fired += self.engine.tick(target).fired
        self.collect(target)
        return None

    # -- actions -----------------------------------------------------------------------------

    def actor(self, name: str) -> Actor:
        return Actor(name, set(self.scenario.actors[name]))

    def perform(self, step: Step) -> Difference | None:
        action = step.action
        if isinstance(action, Expect):
            return self.expect(step, action)
        try:
            outcome = self.act(step)
        except PropflowError as refusal:
            return self.refused(step, refusal)
        if step.refusal is not None:
            wanted = step.refusal.error or say("scenario.refusal.any")
            if step.refusal.reason:
                wanted = say(
                    "scenario.refusal.with_reason", wanted=wanted, reason=step.refusal.reason
                )
            return Difference(
                step,
                self.scenario.span((*step.path, "expect_refusal"), key=True),
                say("scenario.refusal.should_be", step=self.describe(step, short=True)),
                wanted,
                say("scenario.refusal.accepted_as", outcome=outcome),
            )
        return None

    def act(self, step: Step) -> str:
        """Run the step's action; say what it did."""
        action = step.action
        if isinstance(action, OpenCase):
            case = self.engine.open_case(action.process, action.data, self.actor(action.actor))
            self.cases[action.alias] = case.id
            self.aliases[case.id] = action.alias
            return say("scenario.outcome.opened", state=case.state)
        if isinstance(action, FireEvent):
            before = self.engine.get_case(self.cases[action.alias]).state
            case = self.engine.fire(
                self.cases[action.alias], action.event, self.actor(action.actor), action.payload
            )
            return say("scenario.outcome.moved", before=before, after=case.state)
        if isinstance(action, MigrateCases):
            return self.migrate(action)
        assert isinstance(action, ExtendLimit)
        status = self.engine.extend(
            self.cases[action.alias],
            action.limit,
            self.actor(action.actor),
            reason=action.reason,
            by=action.by,
            until=action.until,
            consents=action.consents,
        )
        deadline = show_time(status.deadline, self.scenario.start) if status.deadline else "-"
        return say("scenario.outcome.extended", deadline=deadline)

    def migrate(self, action: MigrateCases) -> str:
        """Move the running cases to the step's estate's definitions, which later steps run
        on (the same store and clock)."""
        validated = self.estates.validated(action.estate)
        if not validated.ok:
            raise LibraryError(
                say(
                    "scenario.outcome.migrate_invalid",
                    count=len(validated.errors),
                    first=_first_error(validated.errors[0]),
                ),
                list(validated.errors),
            )
        self.engine = Engine(validated, store=self.engine.store, clock=self.clock)
        result = migrate_cases(self.engine)
        if not result.refused:
            return say("scenario.outcome.migrated", count=result.moved)
        refused = say("scenario.separator.semicolon").join(
            say("scenario.outcome.case_refused", case=move.case_id, reason=move.refused)
            for move in result.refused
        )
        return say("scenario.outcome.migrated_refused", count=result.moved, refused=refused)

    def refused(self, step: Step, refusal: PropflowError) -> Difference | None:
        kind = type(refusal).__name__
        reason = _reason_of(refusal)
        wanted = step.refusal
        described = self.describe(step, short=True)
        actual = say("scenario.refusal.refused", kind=kind, reason=reason)
        if wanted is None:
            return Difference(
                step,
                self.scenario.span((*step.path, step.verb), key=True),
                say("scenario.refusal.was", step=described),
                say("scenario.refusal.accepted"),
                actual,
            )
        names = {cls.__name__ for cls in type(refusal).__mro__}
        if wanted.error is not None and wanted.error not in names:
            return Difference(
                step,
                self.scenario.span((*wanted.path, "error")),
                say("scenario.refusal.another_way", step=described),
                wanted.error,
                actual,
            )
        if wanted.reason is not None and not any(
            wanted.reason in said for said in self.reasons(step, refusal)
        ):
            return Difference(
                step,
                self.scenario.span((*wanted.path, "reason")),
                say("scenario.refusal.the_reason", step=described),
                say("scenario.refusal.reason_containing", reason=wanted.reason),
                actual,
            )
        self.note(step.at, "refused", say("scenario.refusal.as_expected", kind=kind, reason=reason))
        return None

    def reasons(self, step: Step, refusal: PropflowError) -> Iterator[str]:
        """The refusal's reason in each language PropFlow speaks, the one spoken first.

        A scenario's expected reason is written in one language, its author's; the engine
        words a refusal in the language of whoever runs the scenario (a consultant's
        Chinese desktop, an English CI server). So the step is asked again in each other
        language, which a refused open, event or extension can be: it wrote nothing. A
        scenario then passes or fails the same on every machine. Each reason is yielded
        outside the other language's block, so the caller never runs in it.
        """
        yield _reason_of(refusal)
        if isinstance(step.action, (Expect, MigrateCases)):
            return
        spoken = current_language()
        for language in LANGUAGES:
            if language == spoken:
                continue
            with speaking(language):
                try:
                    self.act(step)
                except PropflowError as error:
                    again = error
                else:
                    raise AssertionError(f"step {step.index} was refused, then accepted")
            if type(again) is type(refusal):
                yield _reason_of(again)

    # -- expectations ------------------------------------------------------------------------

    def expect(self, step: Step, expect: Expect) -> Difference | None:
        alias = expect.alias or ""
        case = self.engine.get_case(self.cases[alias])
        where: JsonPath = (*step.path, "expect")
        difference = (
            self.compare(
                step,
                (*where, "state"),
                say("scenario.expect.state", alias=alias),
                expect.state,
                case.state,
                checked=expect.state is not None,
            )
            or self.data(step, case, expect, where)
            or self.compare(
                step,
                (*where, "assignee"),
                say("scenario.expect.assignee", alias=alias),
                expect.assignee,
                case.assignee,
                checked=expect.checks_assignee,
            )
            or self.clocks(step, case, expect, alias)
            or self.outbox(step, case, expect, alias, where)
            or self.history(step, case, expect, alias, where)
            or self.patterns(step, case, expect, alias, where)
        )
        if difference is None:
            self.note(step.at, "checked", say("scenario.expect.met", checked=self.checked(expect)))
        return difference

    def compare(
        self,
        step: Step,
        path: JsonPath,
        subject: str,
        expected: Any,
        actual: Any,
        *,
        checked: bool,
    ) -> Difference | None:
        if not checked or expected == actual:
            return None
        return Difference(step, self.scenario.span(path), subject, show(expected), show(actual))

    def data(self, step: Step, case: Case, expect: Expect, where: JsonPath) -> Difference | None:
        process = self.engine.case_definition(case.id)
        form = self.forms.get(process.version) or self.forms.setdefault(
            process.version, Form(process)
        )
        for name, wanted in expect.data.items():
            values, _ = form.validate({name: wanted})
            expected = values.get(name, wanted)
            actual = case.data.get(name)
            kind = process.fields[name].type
            if kind == "datetime" and isinstance(expected, str) and isinstance(actual, str):
                same = datetime.fromisoformat(expected) == datetime.fromisoformat(actual)
            else:
                same = expected == actual
            if not same:
                return Difference(
                    step,
                    self.scenario.span((*where, "data", name)),
                    say("scenario.expect.field", field=name, alias=expect.alias),
                    show(expected),
                    show(actual),
                )
        return None

    def clocks(self, step: Step, case: Case, expect: Expect, alias: str) -> Difference | None:
        statuses = {status.limit: status for status in self.engine.sla_status(case.id)}
        for wanted in expect.clocks:
            status = statuses.get(wanted.limit)
            subject = say("scenario.expect.time_limit", limit=wanted.limit, alias=alias)
            if status is None:
                if wanted.status == NOT_STARTED:
                    continue
                return Difference(
                    step,
                    self.scenario.span(wanted.path, key=True),
                    subject,
                    say("scenario.expect.a_clock_that_is", status=wanted.status)
                    if wanted.status
                    else say("scenario.expect.a_clock"),
                    say("scenario.expect.no_clock"),
                )
            difference = self.one_clock(step, wanted, status, subject)
            if difference is not None:
                return difference
        return None

    def one_clock(
        self, step: Step, wanted: ClockExpectation, status: ClockStatus, subject: str
    ) -> Difference | None:
        start = self.scenario.start
        actual: dict[str, Any] = {
            "status": status.status,
            "deadline": status.deadline,
            "breached": status.breached,
            "paused": status.paused,
            "warnings": len(status.warnings_sent),
            "tier": status.tier,
            "extensions": len(status.extensions),
        }
        for key, value in actual.items():
            expected = getattr(wanted, key)
            if expected is None or expected == value:
                continue
            if key == "deadline":
                expected_text = show_time(expected, start)
                actual_text = (
                    show_time(value, start) if value is not None else say("case.no_deadline")
                )
            else:
                expected_text, actual_text = show(expected), show(value)
            if key not in ("status", "deadline"):
                actual_text = say(
                    "scenario.expect.clock_now",
                    value=actual_text,
                    status=status.status,
                    deadline=show_time(status.deadline, start)
                    if status.deadline
                    else say("scenario.none"),
                )
            return Difference(
                step,
                self.scenario.span((*wanted.path, key)),
                say("scenario.expect.clock_key", key=key, subject=subject),
                expected_text,
                actual_text,
            )
        return None

    def outbox(
        self, step: Step, case: Case, expect: Expect, alias: str, where: JsonPath
    ) -> Difference | None:
        if expect.outbox is None:
            return None
        items = self.engine.outbox(case.id)
        if not expect.outbox and items:
            return Difference(
                step,
                self.scenario.span((*where, "outbox")),
                say("scenario.expect.outbox", alias=alias),
                say("scenario.expect.no_rows"),
                _rows(items),
            )
        for wanted in expect.outbox:
            if any(_matches(item, wanted.kind, wanted.role, wanted.message) for item in items):
                continue
            described = ", ".join(
                f"{key}: {value}"
                for key, value in (
                    ("kind", wanted.kind),
                    ("role", wanted.role),
                    ("message", wanted.message),
                )
                if value is not None
            )
            return Difference(
                step,
                self.scenario.span(wanted.path),
                say("scenario.expect.outbox", alias=alias),
                say("scenario.expect.a_row", described=described),
                _rows(items),
            )
        return None

    def patterns(
        self, step: Step, case: Case, expect: Expect, alias: str, where: JsonPath
    ) -> Difference | None:
        if expect.patterns is None:
            return None
        found = [
            match.pattern
            for match in matches_of(self.engine.store, self.engine.estate)
            if case.id in match.cases
        ]
        for pattern, count in expect.patterns.items():
            difference = self.compare(
                step,
                (*where, "patterns", pattern),
                say("scenario.expect.pattern", pattern=pattern, alias=alias),
                count,
                found.count(pattern),
                checked=True,
            )
            if difference is not None:
                return difference
        return None

    def history(
        self, step: Step, case: Case, expect: Expect, alias: str, where: JsonPath
    ) -> Difference | None:
        if expect.history is None:
            return None
        events = [entry.event for entry in self.engine.history(case.id)]
        position = 0
        for index, wanted in enumerate(expect.history):
            try:
                position = events.index(wanted, position) + 1
            except ValueError:
                entry = (
                    say(
                        "scenario.expect.entry_after",
                        entry=wanted,
                        previous=expect.history[index - 1],
                    )
                    if index
                    else say("scenario.expect.entry", entry=wanted)
                )
                return Difference(
                    step,
                    self.scenario.span((*where, "history", index)),
                    say("scenario.expect.history", alias=alias),
                    entry,
                    ", ".join(events),
                )
        return None

    # -- the timeline ------------------------------------------------------------------------

    def collect(self, at: datetime) -> None:
        """Note what the last engine call wrote: log entries and outbox rows."""
        store = self.engine.store
        for case_id, alias in self.aliases.items():
            seen = self.seen_entries.get(case_id, 0)
            for entry in store.history(case_id, after_version=seen):
                self.note(
                    entry.at, "timer" if _is_timer(entry) else "event", _entry_text(alias, entry)
                )
                self.seen_entries[case_id] = entry.version
        for item in store.outbox_items(after_id=self.seen_outbox):
            owner = item.case_id or ""
            alias = self.aliases.get(owner) or (
                say("scenario.timeline.case", case=owner)
                if owner
                else say("scenario.timeline.estate")
            )
            self.note(
                item.created_at,
                "outbox",
                say("scenario.timeline.outbox", alias=alias, row=_outbox_text(item)),
            )
            self.seen_outbox = item.id or self.seen_outbox

    def describe(self, step: Step, *, short: bool = False) -> str:
        """What a step does, in words."""
        action = step.action
        if isinstance(action, OpenCase):
            text = say(
                "scenario.step.open", actor=action.actor, process=action.process, alias=action.alias
            )
        elif isinstance(action, FireEvent):
            text = say(
                "scenario.step.fire", actor=action.actor, event=action.event, alias=action.alias
            )
        elif isinstance(action, ExtendLimit):
            text = say(
                "scenario.step.extend_by" if action.by else "scenario.step.extend_until",
                actor=action.actor,
                limit=action.limit,
                alias=action.alias,
                by=action.by,
                until=action.until,
            )
        elif isinstance(action, MigrateCases):
            text = (
                say("scenario.step.migrate", estate=action.estate)
                if action.estate
                else say("scenario.step.migrate_to_library")
            )
        else:
            text = say("scenario.step.expect", alias=action.alias)
        if short:
            return text
        line = self.scenario.span(step.path).line
        if step.note:
            return say(
                "scenario.step.noted", index=step.index, line=line, text=text, note=step.note
            )
        return say("scenario.step.numbered", index=step.index, line=line, text=text)

    @staticmethod
    def checked(expect: Expect) -> str:
        """What an expectation that held checked, for the timeline."""
        parts = []
        if expect.state is not None:
            parts.append(say("scenario.checked.state", state=expect.state))
        parts += [f"{name} = {show(value)}" for name, value in expect.data.items()]
        if expect.checks_assignee:
            assignee = expect.assignee or say("scenario.none")
            parts.append(say("scenario.checked.assignee", assignee=assignee))
        parts += [say("scenario.checked.time_limit", limit=clock.limit) for clock in expect.clocks]
        if expect.outbox is not None:
            parts.append(
                say("scenario.checked.outbox", count=len(expect.outbox))
                if expect.outbox
                else say("scenario.checked.empty_outbox")
            )
        if expect.history is not None:
            parts.append(say("scenario.checked.history"))
        return say("scenario.separator.comma").join(parts) or say("scenario.checked.nothing")


def _is_timer(entry: LogEntry) -> bool:
    return entry.role == SYSTEM_ROLE and ":" in entry.event


#: The kinds of timer whose log entries (``breach:repair-24h``) the timeline words.
_TIMER_KINDS = frozenset(TimerKind)


def _entry_text(alias: str, entry: LogEntry) -> str:
    """One log entry of a case, for the timeline."""
    assigned = say("scenario.timeline.assigned", assignee=entry.assignee) if entry.assignee else ""
    if _is_timer(entry):
        kind, _, limit = entry.event.partition(":")
        what = say(f"scenario.timeline.timer.{kind}") if kind in _TIMER_KINDS else kind
        return say(
            "scenario.timeline.timer_fired", alias=alias, what=what, limit=limit, assigned=assigned
        )
    who = (
        say("scenario.timeline.engine")
        if entry.role == SYSTEM_ROLE
        else say("scenario.timeline.actor", actor=entry.actor_id, role=entry.role)
    )
    if entry.event.startswith("extend:"):
        limit = entry.event.partition(":")[2]
        until = entry.payload.get("new_deadline", "?")
        return say("scenario.timeline.extended", alias=alias, limit=limit, who=who, until=until)
    if entry.from_state is None:
        move = say("scenario.timeline.opened", state=entry.to_state)
    elif entry.from_state != entry.to_state:
        move = f"{entry.from_state} → {entry.to_state}"
    else:
        move = say("scenario.timeline.stayed", state=entry.to_state)
    return say(
        "scenario.timeline.event",
        alias=alias,
        event=entry.event,
        who=who,
        move=move,
        assigned=assigned,
    )


def _outbox_text(item: OutboxItem) -> str:
    """One outbox row: its kind, whom it is for and its message."""
    role = item.role or say("scenario.timeline.to_assignee")
    if item.message:
        return say("scenario.timeline.row_message", kind=item.kind, role=role, message=item.message)
    return say("scenario.timeline.row", kind=item.kind, role=role)


def _rows(items: Sequence[OutboxItem]) -> str:
    """A case's outbox rows on one line, as a difference shows what was there."""
    rows = (_outbox_text(item) for item in items)
    return say("scenario.separator.semicolon").join(rows) or say("scenario.expect.no_rows")


def _matches(item: OutboxItem, kind: str | None, role: str | None, message: str | None) -> bool:
    return (
        (kind is None or item.kind == kind)
        and (role is None or item.role == role)
        and (message is None or message in (item.message or ""))
    )
