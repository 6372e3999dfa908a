"""``propflow case ...`` and ``propflow demo``: walk processes by hand, or watch a demo.

Every command takes ``--db`` (a SQLite file or a database URL) and ``--json``. A refused
event prints its reason and exits 1; nothing is written.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select

from engine.cli.options import db_option, estate_option, json_option, library_option
from engine.cli.table import Table
from engine.delivery import NotificationFeed
from engine.diagnostics.catalogue import say
from engine.diagnostics.spans import span
from engine.model import ProcessDef, localized
from engine.model.rules import DEFAULT_TIMEZONE
from engine.model.words import display_width, pad
from engine.runtime import Actor, Case, Engine, InvalidArgument, ManualClock, PropflowError
from engine.runtime.case import history_json
from engine.scenarios.demo import DEMO_START, DemoWalk, Outcome, run_demo
from engine.sla import ClockStatus
from engine.store import StoreError
from engine.store.inbox import InboxQuery, inbox
from engine.store.schema import cases

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StoreChoice:
    """What ``--db``, ``--library``, ``--estate`` and ``--json`` chose for one command."""

    db: str
    libraries: tuple[Path, ...]
    estate: Path | None
    as_json: bool = False

    @contextmanager
    def engine(self, clock: ManualClock | None = None) -> Iterator[Engine]:
        """An engine for the command; user errors become a message and exit code 1."""
        engine: Engine | None = None
        try:
            engine = Engine(
                library=list(self.libraries) or None, store=self.db, clock=clock, estate=self.estate
            )
            yield engine
        except (PropflowError, StoreError) as exc:
            click.echo(say("cli.error", message=exc), err=True)
            sys.exit(1)
        finally:
            if engine is not None:
                engine.close()


@dataclass(frozen=True)
class FormInput:
    """What ``--data`` and ``--set`` gave for the form."""

    data_json: str | None
    assignments: tuple[str, ...]

    def payload(self, process: ProcessDef | None) -> dict[str, Any]:
        """The payload: ``--data`` (JSON), then each ``--set`` read by its field's type."""
        return _payload(self.data_json, self.assignments, process)


def store_options(function: Callable[..., None]) -> Callable[..., None]:
    """``--db``, ``--library``, ``--estate`` and ``--json``, shared by every case command,
    handed to the command as one ``store`` argument."""

    @functools.wraps(function)
    def command(
        *args: Any,
        db: str,
        libraries: tuple[Path, ...],
        estate: Path | None,
        as_json: bool,
        **kwargs: Any,
    ) -> None:
        function(*args, store=StoreChoice(db, libraries, estate, as_json), **kwargs)

    return _with(command, [db_option(), library_option(), estate_option(), json_option()])


def actor_options(function: Callable[..., None]) -> Callable[..., None]:
    """``--actor`` and ``--role`` (repeatable): who is acting, handed over as ``actor``."""

    @functools.wraps(function)
    def command(*args: Any, actor_id: str, roles: tuple[str, ...], **kwargs: Any) -> None:
        try:
            actor = Actor(actor_id, set(roles))
        except InvalidArgument as exc:
            raise click.BadParameter(str(exc), param_hint="--actor/--role") from exc
        function(*args, actor=actor, **kwargs)

    return _with(
        command,
        [
            click.option("--actor", "actor_id", default="cli", show_default=True, help="Actor id."),
            click.option(
                "--role",
                "roles",
                multiple=True,
                required=True,
                help="A role the actor holds (repeatable).",
            ),
        ],
    )


def payload_options(function: Callable[..., None]) -> Callable[..., None]:
    """``--data JSON`` and ``--set FIELD=VALUE`` (repeatable), handed over as ``form``."""

    @functools.wraps(function)
    def command(
        *args: Any, data_json: str | None, assignments: tuple[str, ...], **kwargs: Any
    ) -> None:
        function(*args, form=FormInput(data_json, assignments), **kwargs)

    return _with(
        command,
        [
            click.option("--data", "data_json", help="Field values as a JSON object."),
            click.option(
                "--set",
                "assignments",
                multiple=True,
                metavar="FIELD=VALUE",
                help="One field value, read by the field's type (a list: comma-separated or JSON).",
            ),
        ],
    )


def _with(command: Callable[..., None], options: Sequence[Callable[[F], F]]) -> Callable[..., None]:
    """``command`` with click options, listed in ``--help`` in the order given."""
    for option in reversed(options):
        command = option(command)
    return command


def _payload(
    data_json: str | None, assignments: Sequence[str], process: ProcessDef | None
) -> dict[str, Any]:
    """The payload from ``--data`` (JSON) and ``--set`` (text read by each field's type)."""
    payload: dict[str, Any] = {}
    if data_json:
        try:
            loaded = json.loads(data_json)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(say("cli.not_json", error=exc), param_hint="--data") from exc
        except RecursionError:
            raise click.BadParameter(say("cli.too_deep"), param_hint="--data") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(say("cli.not_object"), param_hint="--data")
        payload.update(loaded)
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(say("cli.not_assignment", item=item), param_hint="--set")
        field = process.fields.get(name) if process is not None else None
        payload[name] = _read_value(text, field.type if field else "text")
    return payload


def _read_value(text: str, kind: str) -> Any:
    """Text from the command line as a value of a field type; the form then validates it."""
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "bool":
        lowered = text.lower()
        return {"true": True, "false": False, "yes": True, "no": False}.get(lowered, text)
    if kind == "list":
        if text.startswith("["):
            try:
                return json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                return text
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def estate_zone(engine: Engine) -> ZoneInfo:
    """Where the engine's estate is: every time a case command prints is in its zone."""
    estate = engine.estate_definition
    return ZoneInfo(estate.timezone if estate is not None else DEFAULT_TIMEZONE)


def moment(at: datetime, zone: ZoneInfo) -> str:
    """``2026-02-09 09:00 CST``: a moment as a reader at the estate says it."""
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _remaining(status: ClockStatus) -> str | None:
    """``left 2h 05m``, ``overdue 1d 3h``, or ``due now``; nothing for a stopped clock."""
    if status.remaining is None or status.status == "stopped":
        return None
    seconds = int(status.remaining.total_seconds())
    if abs(seconds) < 60:
        return say("case.due_now")
    return say("case.left" if seconds > 0 else "case.overdue", span=span(status.remaining))


def _clock_line(status: ClockStatus, zone: ZoneInfo) -> str:
    deadline = moment(status.deadline, zone) if status.deadline else say("case.no_deadline")
    flags = [say(f"case.status.{status.status}")]
    if status.breached:
        flags.append(say("case.breached"))
    remaining = _remaining(status)
    if remaining is not None:
        flags.append(remaining)
    flags.append(say("case.used", span=span(status.elapsed)))
    if status.warnings_sent:
        flags.append(say("case.warnings_sent", count=len(status.warnings_sent)))
    line = f"{status.limit:<26} {pad(deadline, 22)} {', '.join(flags)}  [{status.label}]"
    for extension in status.extensions:
        until = datetime.fromisoformat(str(extension["new_deadline"]))
        extended = say(
            "case.extended",
            until=moment(until, zone),
            actor=extension["approved_by"],
            role=extension["role"],
            reason=extension["reason"],
        )
        line += f"\n      {extended}"
    for note in status.notes:
        line += "\n      " + say("case.note", note=note)
    return line


def field_value(process: ProcessDef | None, name: str, value: Any) -> str:
    """A form value as the reader knows it: an enum value by its label, with the value."""
    field = process.fields.get(name) if process is not None else None
    labels = field.value_labels if field is not None and field.value_labels else {}

    def one(item: Any) -> str:
        if isinstance(item, bool):
            return say("case.answer_yes" if item else "case.answer_no")
        label = labels.get(item) if isinstance(item, str) else None
        return f"{localized(label, item)} ({item})" if label is not None else str(item)

    if isinstance(value, list):
        return ", ".join(one(item) for item in value)
    return one(value)


def _show(engine: Engine, case_id: str, as_json: bool) -> None:
    """A case with its time limits and links, read at one moment (:meth:`Engine.case_view`):
    the parts agree even while a worker or the service writes to the case."""
    view = engine.case_view(case_id)
    case = view.case
    if as_json:
        document = case.to_json()
        document["time_limits"] = [s.to_json() for s in view.clocks]
        document["links"] = [link.to_json() for link in view.links]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    zone = estate_zone(engine)
    process = engine.definition(case.process) if case.process in engine.processes else None
    title = localized(process.title, case.process) if process else case.process
    state = case.state
    if process and state in process.states:
        state = f"{localized(process.states[state].label, state)} ({state})"
    click.echo(say("case.header", case=case.id, times=say("case.times_in", zone=zone.key)))
    definition = say("case.definition", version=case.definition_version)
    rows = [
        ("process", f"{title} ({case.process}, {definition})"),
        ("state", state),
        ("assignee", case.assignee or "-"),
        ("version", str(case.version)),
        ("opened", moment(case.opened_at, zone)),
    ]
    head_width = max(display_width(say(f"case.{key}")) for key, _ in rows)
    for key, value in rows:
        click.echo(f"  {pad(say(f'case.{key}'), head_width)}  {value}")
    labels = {
        name: localized(process.fields[name].label, name)
        if process and name in process.fields
        else name
        for name in case.data
    }
    width = max((display_width(label) for label in labels.values()), default=0)
    for name, value in case.data.items():
        click.echo(f"  {pad(labels[name], width)}  {field_value(process, name, value)}")
    if view.clocks:
        click.echo("  " + say("case.time_limits"))
    for status in view.clocks:
        click.echo(f"    {_clock_line(status, zone)}")
    if view.links:
        click.echo("  " + say("case.linked"))
    for link in view.links:
        click.echo(f"    {link.kind:<8} {link.case_id}  {link.process} ({link.state})")


@click.group()
def case() -> None:
    """Open cases, fire events and read their history."""


@case.command(name="open")
@click.argument("process")
@store_options
@actor_options
@payload_options
def open_command(process: str, store: StoreChoice, actor: Actor, form: FormInput) -> None:
    """Open a case of PROCESS with its form's initial values."""
    with store.engine() as engine:
        opened = engine.open_case(process, form.payload(engine.definition(process)), actor)
        _show(engine, opened.id, store.as_json)


@case.command()
@click.argument("case_id")
@click.argument("event")
@store_options
@actor_options
@payload_options
@click.option("--key", "idempotency_key", help="Idempotency key: a retry with it writes nothing.")
@click.option("--expect-version", type=int, help="Refuse if the case is no longer at this version.")
def fire(
    case_id: str,
    event: str,
    store: StoreChoice,
    actor: Actor,
    form: FormInput,
    idempotency_key: str | None,
    expect_version: int | None,
) -> None:
    """Fire EVENT on case CASE_ID."""
    with store.engine() as engine:
        result = engine.fire(
            case_id,
            event,
            actor,
            form.payload(engine.case_definition(case_id)),
            idempotency_key=idempotency_key,
            expected_version=expect_version,
        )
        _show(engine, result.id, store.as_json)


@case.command()
@click.argument("case_id")
@store_options
def show(case_id: str, store: StoreChoice) -> None:
    """Show a case: state, assignee, version and form values."""
    with store.engine() as engine:
        _show(engine, case_id, store.as_json)


MOMENT = click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"])


@case.command(name="list")
@store_options
@click.option("--process", help="Only cases of this process (its id, e.g. repair).")
@click.option("--state", help="Only cases in this state (its id).")
@click.option("--assignee", help="Only cases assigned to this role.")
@click.option(
    "--opened-from", type=MOMENT, metavar="TIME", help="Only cases opened at or after this time."
)
@click.option(
    "--opened-to", type=MOMENT, metavar="TIME", help="Only cases opened before this time."
)
@click.option(
    "--breached",
    is_flag=True,
    help="Only cases with a time limit breached and still running; nearest deadline first.",
)
@click.option(
    "--due-before",
    type=MOMENT,
    metavar="TIME",
    help="Only cases whose nearest running deadline is before this time; nearest first.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Cases listed at most.",
)
def list_command(
    store: StoreChoice,
    process: str | None,
    state: str | None,
    assignee: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    breached: bool,
    due_before: datetime | None,
    limit: int,
) -> None:
    """List the estate's cases, newest first, or with --breached or --due-before, by nearest
    deadline (times without a zone are in the estate's)."""
    by_deadline = breached or due_before is not None
    if by_deadline and (opened_from or opened_to):
        raise click.UsageError(say("cli.by_deadline"))
    with store.engine() as engine:
        zone = estate_zone(engine)
        rows: list[tuple[Case, datetime | None]]
        if by_deadline:
            query = InboxQuery(
                estate=engine.estate,
                process=process,
                state=state,
                assignee=assignee,
                breached=True if breached else None,
                due_before=_aware(due_before, zone),
                limit=limit,
            )
            rows = [(Case.from_record(r.case), r.next_deadline) for r in inbox(engine.store, query)]
        else:
            found = engine.query_cases(
                estate=engine.estate,
                process=process,
                state=state,
                assignee=assignee,
                opened_from=_aware(opened_from, zone),
                opened_to=_aware(opened_to, zone),
                limit=limit,
            )
            rows = [(item, None) for item in found]
        if store.as_json:
            documents = [
                {**item.to_json(), **({"next_deadline": _iso(due)} if by_deadline else {})}
                for item, due in rows
            ]
            click.echo(json.dumps(documents, ensure_ascii=False, indent=2))
            return
        columns = ["column_case", "process", "state", "assignee", "version", "opened"]
        if by_deadline:
            columns.append("column_next_deadline")
        table = Table([say(f"case.{column}") for column in columns])
        for item, due in rows:
            cells = [item.id, item.process, item.state, item.assignee or "-", f"v{item.version}",
                     moment(item.opened_at, zone)]  # fmt: skip
            table.add([*cells, moment(due, zone) if due else "-"] if by_deadline else cells)
        if rows:
            click.echo(table.render())
        click.echo(say("case.listed", count=len(rows), times=say("case.times_in", zone=zone.key)))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _aware(at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A time from the command line, in the estate's zone when it names none."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=zone)


@case.command()
@click.argument("case_id")
@store_options
def history(case_id: str, store: StoreChoice) -> None:
    """The case's audit trail: who did what, in which role, when, from and to which state."""
    with store.engine() as engine:
        entries = engine.history(case_id)
        if store.as_json:
            click.echo(json.dumps([history_json(e) for e in entries], ensure_ascii=False, indent=2))
            return
        zone = estate_zone(engine)
        for entry in entries:
            changes = ", ".join(f"{k}={v}" for k, v in entry.payload.items())
            click.echo(
                f"v{entry.version:<3} {moment(entry.at, zone)}  {entry.event:<20} "
                f"{entry.actor_id} ({entry.role})  {entry.from_state or '-'} -> {entry.to_state}"
                + (f"  [{changes}]" if changes else "")
            )


@case.command()
@click.argument("case_id")
@store_options
@actor_options
def events(case_id: str, store: StoreChoice, actor: Actor) -> None:
    """What this actor may fire now, and why each other event is unavailable."""
    with store.engine() as engine:
        options = engine.available_events(case_id, actor)
        if store.as_json:
            click.echo(json.dumps([o.__dict__ for o in options], ensure_ascii=False, indent=2))
            return
        for option in options:
            mark = say("case.allowed" if option.allowed else "case.refused")
            if option.allowed:
                needs = ", ".join(option.needs)
                reason = f"  ({say('case.fill_in', fields=needs)})" if option.needs else ""
            else:
                reason = f"  ({option.reason})"
            click.echo(f"{pad(mark, 3)} {option.event:<24} {option.label}{reason}")


@case.command()
@click.argument("case_id")
@click.argument("limit_id")
@store_options
@actor_options
@click.option(
    "--by",
    "by",
    help="Move the deadline later by this duration (e.g. 12h, 2 workdays), counted from the "
    "deadline, or from now if it has passed.",
)
@click.option(
    "--until",
    "until",
    type=click.DateTime(["%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S%z"]),
    help="Move the deadline to this moment (with its UTC offset).",
)
@click.option("--reason", required=True, help="Why the extension is approved (recorded).")
@click.option(
    "--consent", "consents", multiple=True, help="A consent given (repeatable), e.g. owner_consent."
)
def extend(
    case_id: str,
    limit_id: str,
    store: StoreChoice,
    actor: Actor,
    by: str | None,
    until: datetime | None,
    reason: str,
    consents: tuple[str, ...],
) -> None:
    """Approve an extension of time limit LIMIT_ID on case CASE_ID."""
    with store.engine() as engine:
        status = engine.extend(
            case_id,
            limit_id,
            actor,
            reason=reason,
            by=by,
            until=until,
            consents=consents,
        )
        if store.as_json:
            click.echo(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
        else:
            click.echo(_clock_line(status, estate_zone(engine)))


@case.command(name="notifications")
@store_options
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="Only notifications for this role (repeatable), and those for no role.",
)
@click.option(
    "--after",
    type=click.IntRange(0),
    default=0,
    help="Only notifications after this id (the last one read).",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Notifications read at most.",
)
def notifications_command(
    store: StoreChoice, roles: tuple[str, ...], after: int, limit: int
) -> None:
    """Read the estate's notifications waiting to be handled, oldest first (reading
    changes nothing: acknowledge what was handled)."""
    with store.engine() as engine:
        batch = NotificationFeed(engine.store, engine.estate).read(after, limit)
        shown = [n for n in batch.notifications if not roles or n.role is None or n.role in roles]
        if store.as_json:
            document = {"notifications": [n.to_json() for n in shown], "next": batch.cursor}
            click.echo(json.dumps(document, ensure_ascii=False, indent=2))
            return
        zone = estate_zone(engine)
        columns = ("id", "time", "kind", "for", "case", "message")
        table = Table([say(f"case.column_{column}") for column in columns])
        for item in shown:
            table.add([str(item.id), moment(item.created_at, zone), item.kind, item.role or "-",
                       item.case_id or "-", item.message or ""])  # fmt: skip
        if shown:
            click.echo(table.render())
        click.echo(say("case.waiting", count=len(shown), cursor=batch.cursor))


@case.command(name="acknowledge")
@store_options
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(1))
def acknowledge_command(store: StoreChoice, ids: tuple[int, ...]) -> None:
    """Mark notifications IDS of the estate handled: they are read no more and no webhook
    pushes them (an id already handled, or of another estate, is left out and exits 1)."""
    with store.engine() as engine:
        marked = NotificationFeed(engine.store, engine.estate).acknowledge(set(ids))
    if store.as_json:
        click.echo(json.dumps({"acknowledged": marked}))
    else:
        click.echo(say("case.acknowledged", count=len(marked), ids=_ids(marked)))
    missing = sorted(set(ids) - set(marked))
    if missing:
        click.echo(say("case.not_waiting", ids=_ids(missing)), err=True)
        sys.exit(1)


def _ids(ids: Sequence[int]) -> str:
    return " ".join(map(str, ids)) or "-"


@click.command()
@db_option("demo.db")
def demo(db: str) -> None:
    """Open a few cases of every shipped process and walk them on a simulated clock."""
    clock = ManualClock(DEMO_START)
    with StoreChoice(db, (), None).engine(clock) as engine:
        zone = estate_zone(engine)
        before = _count_cases(engine)
        click.echo(say("demo.header", processes=len(engine.processes), store=engine.store.url))
        walked: list[DemoWalk] = []
        headings = [say(f"demo.{key}") for key in ("time", "event", "actor", "outcome", "state")]
        for walk in run_demo(engine, clock):
            walked.append(walk)
            click.echo("")
            click.echo(f"== {walk.process_label} {walk.process}: {walk.title}")
            click.echo("   " + say("demo.case", case=walk.case_id))
            table = Table(headings, indent="   ")
            for step in walk.steps:
                at = step.at.astimezone(zone).strftime("%m-%d %H:%M")
                outcome = say(f"demo.{step.outcome.value}")
                table.add([at, step.event, step.actor, outcome, step.text])
            click.echo(table.render())
        opened = _count_cases(engine) - before
        refused = sum(s.outcome is Outcome.REFUSED_AS_EXPECTED for w in walked for s in w.steps)
        click.echo("")
        click.echo(
            say(
                "demo.summary",
                walked=len(walked),
                linked=opened - len(walked),
                opened=opened,
                stored=before + opened,
                refused=refused,
                zone=zone.key,
            )
        )
        click.echo(say("demo.look", db=db, case=walked[0].case_id))


def _count_cases(engine: Engine) -> int:
    """How many cases of the engine's estate the store holds."""
    query = select(func.count()).select_from(cases).where(cases.c.estate == engine.estate)
    return int(engine.store.rows(query)[0]["count_1"])
