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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.cli.options import db_option, estate_option, json_option, library_option
from engine.model import ProcessDef, localized
from engine.runtime import Actor, Case, Engine, InvalidArgument, ManualClock, PropflowError
from engine.runtime.case import history_json
from engine.scenarios.demo import DEMO_START, run_demo
from engine.sla import ClockStatus
from engine.store import StoreError

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
            click.echo(f"error: {exc}", err=True)
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
            raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
        except RecursionError:
            raise click.BadParameter("nested too deeply for a form", param_hint="--data") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--data")
        payload.update(loaded)
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"'{item}' is not FIELD=VALUE", param_hint="--set")
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


def _span(delta: timedelta) -> str:
    """``1d 2h 5m`` (negative: ``-3h``), for working time left or used."""
    sign, seconds = ("-" if delta < timedelta(0) else ""), abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{rest // 60}m"]
    return sign + " ".join(p for p in parts if p)


def _clock_line(status: ClockStatus) -> str:
    deadline = status.deadline.strftime("%Y-%m-%d %H:%M %Z") if status.deadline else "no deadline"
    flags = [status.status]
    if status.breached:
        flags.append("BREACHED")
    if status.remaining is not None and status.status != "stopped":
        flags.append(f"left {_span(status.remaining)}")
    flags.append(f"used {_span(status.elapsed)}")
    if status.warnings_sent:
        flags.append(f"{len(status.warnings_sent)} warning(s) sent")
    line = f"{status.limit:<26} {deadline:<22} {', '.join(flags)}  [{status.label}]"
    for extension in status.extensions:
        line += (
            f"\n      extended to {extension['new_deadline']} by {extension['approved_by']} "
            f"({extension['role']}): {extension['reason']}"
        )
    for note in status.notes:
        line += f"\n      note: {note}"
    return line


def _show(engine: Engine, case: Case, as_json: bool) -> None:
    if as_json:
        document = case.to_json()
        document["time_limits"] = [s.to_json() for s in engine.sla_status(case.id)]
        document["links"] = [link.to_json() for link in engine.links(case.id)]
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    process = engine.definition(case.process) if case.process in engine.processes else None
    title = localized(process.title, case.process) if process else case.process
    state = case.state
    if process and state in process.states:
        state = f"{localized(process.states[state].label, state)} ({state})"
    click.echo(f"case {case.id}")
    click.echo(f"  process   {title} ({case.process}, definition {case.definition_version})")
    click.echo(f"  state     {state}")
    click.echo(f"  assignee  {case.assignee or '-'}")
    click.echo(f"  version   {case.version}")
    click.echo(f"  opened    {case.opened_at.isoformat()}")
    for name, value in case.data.items():
        label = (
            localized(process.fields[name].label, name)
            if process and name in process.fields
            else name
        )
        click.echo(f"  {label:<10} {value}")
    clocks = engine.sla_status(case.id)
    if clocks:
        click.echo("  time limits")
    for status in clocks:
        click.echo(f"    {_clock_line(status)}")
    links = engine.links(case.id)
    if links:
        click.echo("  linked cases")
    for link in links:
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
        _show(engine, opened, store.as_json)


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
        _show(engine, result, store.as_json)


@case.command()
@click.argument("case_id")
@store_options
def show(case_id: str, store: StoreChoice) -> None:
    """Show a case: state, assignee, version and form values."""
    with store.engine() as engine:
        _show(engine, engine.get_case(case_id), store.as_json)


@case.command(name="list")
@store_options
@click.option("--process")
@click.option("--state")
@click.option("--assignee")
@click.option("--opened-from", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]))
@click.option("--opened-to", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]))
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def list_command(
    store: StoreChoice,
    process: str | None,
    state: str | None,
    assignee: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    limit: int,
) -> None:
    """List the estate's cases, newest first (dates without a zone are taken as UTC)."""
    with store.engine() as engine:
        found = engine.query_cases(
            estate=engine.estate,
            process=process,
            state=state,
            assignee=assignee,
            opened_from=_aware(opened_from),
            opened_to=_aware(opened_to),
            limit=limit,
        )
        if store.as_json:
            click.echo(json.dumps([c.to_json() for c in found], ensure_ascii=False, indent=2))
            return
        for item in found:
            click.echo(
                f"{item.id}  {item.process:<16} {item.state:<26} {item.assignee or '-':<14} "
                f"v{item.version:<3} {item.opened_at.isoformat(timespec='minutes')}"
            )
        click.echo(f"{len(found)} case(s)")


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


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
        for entry in entries:
            changes = ", ".join(f"{k}={v}" for k, v in entry.payload.items())
            click.echo(
                f"v{entry.version:<3} {entry.at.isoformat(timespec='seconds')}  {entry.event:<20} "
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
            mark = "yes" if option.allowed else "no "
            if option.allowed:
                reason = f"  (fill in: {', '.join(option.needs)})" if option.needs else ""
            else:
                reason = f"  ({option.reason})"
            click.echo(f"{mark} {option.event:<24} {option.label}{reason}")


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
            click.echo(_clock_line(status))


@click.command()
@db_option("demo.db")
def demo(db: str) -> None:
    """Open a few cases of every shipped process and walk them on a simulated clock."""
    clock = ManualClock(DEMO_START)
    with StoreChoice(db, (), None).engine(clock) as engine:
        click.echo(f"PropFlow demo: {len(engine.processes)} processes, store {engine.store.url}")
        opened = list(run_demo(engine, clock, click.echo))
        click.echo("")
        click.echo(
            f"{len(opened)} cases walked. Look at one: propflow case history --db {db} {opened[0]}"
        )
