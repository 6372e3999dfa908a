"""The HTTP API: every estate of a host, per estate what the Python API does.

``create_app(host)`` builds the FastAPI application; :mod:`engine.service.runner` serves
it with uvicorn. Resources live under ``/estates/{estate}/``. Every endpoint but the
health checks and metrics needs a bearer credential (:mod:`engine.service.auth`); an
estate the credential may not see answers 404, exactly as one that does not exist. Cases
are readable by a caller holding one of their process's roles; what a caller may do to
them is the engine's decision (roles, guards, forms), refusals coming back as problem
details (:mod:`engine.service.problems`).
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.delivery import Notification, NotificationFeed
from engine.diagnostics.catalogue import say
from engine.io.deployment import Jwt
from engine.model import ProcessDef, localized
from engine.model.durations import DurationError, parse_duration
from engine.model.rules import DEFAULT_TIMEZONE
from engine.model.words import Lang
from engine.render.diagram import build_diagram
from engine.render.mermaid import render_mermaid
from engine.render.svg import GraphvizMissing, RenderError
from engine.reports import (
    PeriodError,
    board_document,
    build_report,
    month_before,
    overdue_board,
    parse_period,
    report_document,
)
from engine.runtime import Actor, Case, Engine, Host, PropflowError, RoleRefused
from engine.runtime.migration import migrate_cases
from engine.runtime.parties import party_fields, posts_held, roles_on_case
from engine.runtime.worker import Worker
from engine.service import console, problems
from engine.service.auth import Authenticator, Credential, Presented
from engine.service.limits import RequestLimits
from engine.service.metrics import CONTENT_TYPE, Metrics
from engine.service.migration import MIGRATION_ROLE, Migrate, MigrationOut, migration_out
from engine.service.models import (
    MAX_ROW_ID,
    MAX_UNASSIGNED,
    Acknowledge,
    Acknowledged,
    Board,
    CallerOut,
    CaseDetail,
    CaseOut,
    ClockOut,
    DiagramOut,
    EntryOut,
    EstateOut,
    EventOptionOut,
    ExtendLimit,
    FireEvent,
    Health,
    InboxItem,
    InboxPage,
    LinkOut,
    ManualSectionOut,
    NotificationOut,
    NotificationPage,
    OpenCase,
    Problem,
    ProcessOut,
    ProcessSummary,
    RecentNotifications,
    ReportOut,
    UnassignedEntry,
)
from engine.service.problems import BadRequest, PreconditionFailed, Unauthenticated
from engine.service.procedures import diagram_svg, manual_section
from engine.store.inbox import InboxCursor, InboxQuery, inbox
from engine.store.notices import MAX_NOTICES, NoticeQuery, notices

if TYPE_CHECKING:  # the deliverer is made by whoever serves the app, with its webhooks
    from engine.delivery.deliverer import Deliverer

_Result = TypeVar("_Result")
_LOG = logging.getLogger("propflow.service")

#: Case ids are UUIDs; anything longer is no case.
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
EstateId = Annotated[str, Path(min_length=1, max_length=128)]
ItemId = Annotated[str, Path(min_length=1, max_length=128)]
Filter = Annotated[str | None, Query(min_length=1, max_length=128)]
Language = Annotated[Lang, Query(description="The language of labels and text.")]

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')

#: Problem responses each kind of endpoint may give, for the OpenAPI document.
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {problems.MEDIA_TYPE: {}}, "description": text}
    for status, text in (
        (400, "The request is malformed."),
        (401, "No credential, or one that is unknown, expired or revoked."),
        (403, "The caller's roles do not allow it."),
        (404, "No such estate, process or case (or not the caller's to see)."),
        (409, "The case is in another state, or changed at the same moment."),
        (412, "If-Match names a version the case is no longer at."),
        (422, "The engine refused it: a guard, a field, an extension."),
    )
}


@dataclass(frozen=True)
class Caller:
    """An authenticated caller in one estate, with that estate's engine."""

    engine: Engine
    credential: Credential

    @property
    def actor(self) -> Actor:
        return self.credential.actor


@dataclass(frozen=True)
class Service:
    """What the request dependencies need: the host and the authenticator."""

    host: Host
    authenticator: Authenticator


_BEARER = HTTPBearer(auto_error=False, description="A token of `propflow token create`, or a JWT.")


@dataclass(frozen=True)
class Pending:
    """A request's caller as its asynchronous dependencies leave it: the credential checked
    as far as it can be without the store, and the estate of the path (``None`` outside
    any estate). :func:`in_worker` finishes it in the endpoint's worker thread."""

    service: Service
    presented: Presented
    estate: str | None

    def credential(self) -> Credential:
        """The authenticated credential (401 for an unknown, revoked or expired one)."""
        return self.service.authenticator.credential(self.presented)

    def caller(self) -> Caller:
        """The caller in the estate of the path: 404 for one it may not see, as for none."""
        credential = self.credential()
        assert self.estate is not None, "made by in_estate, from the path"
        credential.check_estate(self.estate)
        return Caller(self.service.host.engine(self.estate), credential)


async def caller_of(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> Pending:
    """The request's credential as far as it can be checked without I/O (401 without a
    usable one)."""
    if credentials is None:
        raise Unauthenticated(say("service.no_token"))
    service: Service = request.app.state.service
    presented = service.authenticator.presented(f"Bearer {credentials.credentials}")
    return Pending(service, presented, None)


async def in_estate(estate: EstateId, pending: Annotated[Pending, Depends(caller_of)]) -> Pending:
    """The caller's credential, with the estate of the path to check it against."""
    return replace(pending, estate=estate)


#: The parameter types :func:`in_worker` finishes in the worker thread: the dependency each
#: is made from, and how it is finished.
_FINISHED: tuple[tuple[type, Any, Callable[[Pending], Caller | Credential]], ...] = (
    (Caller, Annotated[Pending, Depends(in_estate)], Pending.caller),
    (Credential, Annotated[Pending, Depends(caller_of)], Pending.credential),
)


def in_worker(endpoint: Callable[..., _Result]) -> Callable[..., Awaitable[_Result]]:
    """Serve a blocking endpoint in one worker thread, its caller authenticated there.

    FastAPI gives each synchronous dependency, a synchronous endpoint and the validation of
    its answer a worker thread of their own: three hand-offs a request, each with switches
    of the interpreter lock among the requests in flight. Here an endpoint's parameters
    typed ``Caller`` (a caller in the estate of the path) or ``Credential`` come from
    asynchronous dependencies that check the credential as far as that needs no I/O; the
    stored token's lookup, the estate check and the endpoint then run in one thread, and
    the answer is validated on the event loop."""
    signature = inspect.signature(endpoint, eval_str=True)
    finish: dict[str, Callable[[Pending], Caller | Credential]] = {}
    parameters = []
    for parameter in signature.parameters.values():
        for kind, dependency, finisher in _FINISHED:
            if parameter.annotation is kind:
                finish[parameter.name] = finisher
                parameter = parameter.replace(annotation=dependency)
        parameters.append(parameter)

    async def served(**values: Any) -> _Result:
        def run() -> _Result:
            return endpoint(
                **{name: finish[name](v) if name in finish else v for name, v in values.items()}
            )

        return await run_in_threadpool(run)

    functools.update_wrapper(served, endpoint)
    served.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return served


def create_app(
    host: Host,
    jwt: Jwt | None = None,
    *,
    tick_interval: float | None = 1.0,
    tick_batch: int = 1000,
    deliverer: Deliverer | None = None,
) -> FastAPI:
    """The API of every estate of ``host``; with a ``tick_interval``, its timer loop too.

    The timer loop runs in a thread of its own while the app is up, ticking every estate
    (:meth:`Host.tick`) and, with a ``deliverer``, pushing the outbox to its webhooks after
    each tick; on shutdown (uvicorn's SIGTERM handling, after in-flight requests drained)
    it finishes its current tick before the app exits. The deliverer stays the caller's
    to close, after the app has stopped.
    """
    if deliverer is not None and tick_interval is None:
        raise ValueError("a deliverer runs in the timer loop: give a tick_interval too")
    authenticator = Authenticator(host.store, host.clock, jwt)
    metrics = Metrics(host)
    #: The timer loop's thread while the app is up (readiness fails if it has died).
    loops: list[threading.Thread] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if tick_interval is None:
            yield
            return
        worker = Worker(host, interval=tick_interval, batch=tick_batch, deliverer=deliverer)
        metrics.watch(worker)

        def run() -> None:
            try:
                worker.run(metrics.ticked)
            except Exception:
                _LOG.exception("the timer loop stopped; no timer fires in this process")
                raise

        thread = threading.Thread(target=run, name="propflow-timers", daemon=True)
        loops.append(thread)
        thread.start()
        try:
            yield
        finally:
            worker.stop()
            thread.join()

    app = FastAPI(
        title="PropFlow",
        version="1",
        summary="Property-management procedures as a service: cases, events, time limits.",
        lifespan=lifespan,
        responses={400: _PROBLEMS[400]},
    )
    problems.install(app)
    app.state.service = Service(host, authenticator)
    guarded: dict[int | str, dict[str, Any]] = {s: _PROBLEMS[s] for s in (401, 404)}
    acting: dict[int | str, dict[str, Any]] = {
        s: _PROBLEMS[s] for s in (401, 403, 404, 409, 412, 422)
    }

    # Operating ---------------------------------------------------------------------------

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get(
        "/readyz", response_model=Health, tags=["operations"], responses={503: {"model": Health}}
    )
    def readyz(response: Response) -> Health:
        """The store answers, the estates are loaded and the timer loop runs."""
        try:
            host.store.rows(select(1))
        except Exception as error:  # any driver error means: not ready
            response.status_code = 503
            return Health(status="unavailable", detail=f"the store does not answer: {error}")
        if any(not loop.is_alive() for loop in loops):
            response.status_code = 503
            return Health(status="unavailable", detail="the timer loop has stopped")
        return Health(status="ok", estates=host.estates())

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus metrics."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    # The caller and its estates ---------------------------------------------------------------

    @app.get("/me", response_model=CallerOut, tags=["estates"], responses=guarded)
    @in_worker
    def who_am_i(credential: Credential) -> CallerOut:
        """The actor, roles and estates of the request's credential."""
        return CallerOut(
            actor=credential.actor.id,
            roles=sorted(credential.actor.roles),
            estates=sorted(credential.estates),
        )

    # Estates and processes -----------------------------------------------------------------

    def estate_out(engine: Engine) -> EstateOut:
        definition = engine.estate_definition
        title = localized(definition.title, engine.estate) if definition else engine.estate
        return EstateOut(id=engine.estate, title=title, processes=engine.processes)

    @app.get("/estates", response_model=list[EstateOut], tags=["estates"], responses=guarded)
    @in_worker
    def list_estates(credential: Credential) -> list[EstateOut]:
        """The estates the caller may see."""
        return [
            estate_out(host.engine(estate))
            for estate in host.estates()
            if estate in credential.estates
        ]

    @app.get("/estates/{estate}", response_model=EstateOut, tags=["estates"], responses=guarded)
    @in_worker
    def get_estate(caller: Caller) -> EstateOut:
        """One estate and its processes."""
        return estate_out(caller.engine)

    @app.get(
        "/estates/{estate}/processes",
        response_model=list[ProcessSummary],
        tags=["processes"],
        responses=guarded,
    )
    @in_worker
    def list_processes(caller: Caller) -> list[ProcessSummary]:
        """The processes the estate's cases may run."""
        engine = caller.engine
        return [
            ProcessSummary(
                id=pid, title=localized(engine.definition(pid).title, pid),
                version=engine.definition_version(pid),
            )
            for pid in engine.processes
        ]  # fmt: skip

    @app.get(
        "/estates/{estate}/processes/{process}",
        response_model=ProcessOut,
        tags=["processes"],
        responses=guarded,
    )
    @in_worker
    def get_process(caller: Caller, process: ItemId) -> ProcessOut:
        """A process's current definition (the estate's merged one)."""
        definition = caller.engine.definition(process)
        return ProcessOut(
            id=definition.id,
            version=caller.engine.definition_version(process),
            definition=definition.model_dump(mode="json", by_alias=True, exclude_none=True),
        )

    @app.get(
        "/estates/{estate}/processes/{process}/diagram",
        response_model=DiagramOut,
        tags=["processes"],
        responses=guarded,
    )
    @in_worker
    def get_diagram(caller: Caller, process: ItemId, lang: Language = "zh-CN") -> DiagramOut:
        """A process's state diagram, time limits marked, as Mermaid text."""
        engine = caller.engine
        definition = engine.definition(process)
        diagram = build_diagram(definition, engine.time_limits(process), lang)
        return DiagramOut(process=process, mermaid=render_mermaid(diagram))

    @app.get(
        "/estates/{estate}/processes/{process}/diagram.svg",
        tags=["processes"],
        response_class=Response,
        responses={
            **guarded,
            200: {"content": {"image/svg+xml": {}}, "description": "The diagram as SVG."},
            503: {"model": Problem, "description": "Graphviz is not installed on the server."},
        },
    )
    @in_worker
    def get_diagram_svg(caller: Caller, process: ItemId, lang: Language = "zh-CN") -> Response:
        """The flow diagram of the process's manual section, drawn by Graphviz."""
        try:
            svg = diagram_svg(caller.engine, process, lang)
        except GraphvizMissing:
            return problems.problem_response(503, "DiagramUnavailable", say("service.no_graphviz"))
        except RenderError as error:  # dot's own words are for the operator, not the caller
            _LOG.error("the diagram of %s could not be drawn: %s", process, error)
            return problems.problem_response(
                503, "DiagramUnavailable", say("service.diagram_failed")
            )
        return Response(svg, media_type="image/svg+xml")

    @app.get(
        "/estates/{estate}/processes/{process}/manual",
        response_model=ManualSectionOut,
        tags=["processes"],
        responses=guarded,
    )
    @in_worker
    def get_manual(caller: Caller, process: ItemId, lang: Language = "zh-CN") -> ManualSectionOut:
        """The process's section of the procedure manual, as the estate customised it, in
        blocks of plain text."""
        return manual_section(caller.engine, process, lang)

    # Cases ---------------------------------------------------------------------------------

    def counted(
        caller: Caller,
        case_id: str | None,
        event: str,
        act: Callable[[], _Result],
        process: str | None = None,
    ) -> _Result:
        """Run ``act`` on a case (``None``: a new one of ``process``), counting its outcome
        for the events metric by the case's process (read only when the result lacks it)."""
        try:
            result = act()
        except PropflowError as refusal:
            label = process or _process_of(caller.engine, case_id)
            metrics.events.labels(caller.engine.estate, label, event, type(refusal).__name__).inc()
            raise
        label = process or getattr(result, "process", None) or _process_of(caller.engine, case_id)
        metrics.events.labels(caller.engine.estate, label, event, "accepted").inc()
        return result

    def readable_processes(caller: Caller) -> list[str]:
        """The processes of the estate whose every case the caller may read (holds a post
        of, not only a party role)."""
        engine = caller.engine
        return [p for p in engine.processes if posts_held(caller.actor, engine.definition(p))]

    def own_cases(caller: Caller) -> tuple[tuple[str, str], ...]:
        """The ``(process, field)`` pairs that bind a case to the caller as a party, in the
        processes whose every case they may not read: the inbox shows those cases too."""
        engine, actor = caller.engine, caller.actor
        return tuple(
            (process, field)
            for process in engine.processes
            if not posts_held(actor, engine.definition(process))
            for field in party_fields(actor, engine.definition(process))
        )

    def roles_here(caller: Caller, case_id: str) -> tuple[ProcessDef, frozenset[str]]:
        """The case's definition and the caller's roles that count on it (a party role only
        on the party's own case: the case's form is read only for a caller holding one)."""
        engine = caller.engine
        definition = engine.case_definition(case_id)
        bound = party_fields(caller.actor, definition)
        data = engine.get_case(case_id).data if bound else {}
        return definition, roles_on_case(caller.actor, definition, data)

    def paused_clocks(engine: Engine, case_id: str) -> list[ClockOut]:
        """The case's paused clocks: read only for the cases the inbox query found paused,
        as working time left needs the limit's calendar, which the engine holds."""
        return [ClockOut.of(s) for s in engine.sla_status(case_id) if s.paused]

    def readable(caller: Caller, case_id: str) -> str:
        """The case's process, if the caller holds one of its roles on the case (else
        RoleRefused): a post, or a party role of their own case."""
        definition, held = roles_here(caller, case_id)
        if not held & set(definition.roles):
            party = caller.actor.roles & set(definition.roles)
            key = "refusal.party_read" if party else "refusal.read_role"
            raise RoleRefused(
                case_id, "-", "read", say(key, actor=caller.actor.id, process=definition.id)
            )
        return definition.id

    @app.post(
        "/estates/{estate}/cases",
        response_model=CaseOut,
        status_code=201,
        tags=["cases"],
        responses=acting,
    )
    @in_worker
    def open_case(caller: Caller, body: OpenCase, response: Response) -> CaseOut:
        """Open a case as the caller."""
        case = counted(
            caller, None, "open",
            lambda: caller.engine.open_case(body.process, body.data, caller.actor),
            process=body.process,
        )  # fmt: skip
        response.headers["Location"] = f"/estates/{case.estate}/cases/{case.id}"
        response.headers["ETag"] = f'"{case.version}"'
        return case

    @app.get("/estates/{estate}/cases", response_model=InboxPage, tags=["cases"], responses=guarded)
    @in_worker
    def query_cases(
        caller: Caller,
        state: Filter = None,
        process: Filter = None,
        assignee: Annotated[
            str | None, Query(min_length=1, max_length=128, description="The assigned role.")
        ] = None,
        unassigned: Annotated[
            bool, Query(description="Only cases no role holds yet (not with `assignee`).")
        ] = False,
        breached: bool | None = None,
        warned: bool | None = None,
        closed: bool | None = None,
        due_before: Annotated[AwareDatetime | None, Query()] = None,
        after: Annotated[
            str | None, Query(max_length=512, description="The cursor of the page before.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> InboxPage:
        """The inbox: cases of the caller's processes matching every filter, nearest
        deadline first, each with its paused clocks (their working time left)."""
        engine = caller.engine
        mine, own = readable_processes(caller), own_cases(caller)
        if process is not None:
            mine = [p for p in mine if p == process]
            own = tuple(pair for pair in own if pair[0] == process)
        if unassigned and assignee is not None:
            raise BadRequest(say("service.unassigned_assignee"))
        try:
            cursor = InboxCursor.decode(after) if after is not None else None
        except ValueError:  # the store's words are English: the service says it anew
            raise BadRequest(say("service.bad_cursor", cursor=f"{after!r:.60}")) from None
        query = InboxQuery(
            engine.estate, None, state, assignee, breached, warned, due_before, closed,
            cursor, limit, processes=tuple(mine), unassigned=unassigned, parties=own,
            party=caller.actor.id,
        )  # fmt: skip
        rows = inbox(engine.store, query)
        items = [
            InboxItem(
                case=Case.from_record(row.case),
                next_deadline=row.next_deadline,
                paused=paused_clocks(engine, row.case.id) if row.paused else [],
            )
            for row in rows
        ]
        last = rows[-1] if len(rows) == limit else None
        return InboxPage(
            items=items,
            next=InboxCursor(last.next_deadline, last.case.id).encode() if last else None,
        )

    @app.get(
        "/estates/{estate}/cases/{case_id}",
        response_model=CaseDetail,
        tags=["cases"],
        responses={**guarded, 403: _PROBLEMS[403]},
    )
    @in_worker
    def get_case(caller: Caller, case_id: CaseId, response: Response) -> CaseDetail:
        """A case with its SLA clocks, linked cases and audit trail."""
        readable(caller, case_id)
        view = caller.engine.case_view(case_id)
        response.headers["ETag"] = f'"{view.case.version}"'
        return CaseDetail(
            case=view.case,
            clocks=[ClockOut.of(status) for status in view.clocks],
            links=[LinkOut.of(link) for link in view.links],
            history=[EntryOut.of(entry) for entry in view.history],
        )

    @app.get(
        "/estates/{estate}/cases/{case_id}/events",
        response_model=list[EventOptionOut],
        tags=["cases"],
        responses={**guarded, 403: _PROBLEMS[403]},
    )
    @in_worker
    def available_events(caller: Caller, case_id: CaseId) -> list[EventOptionOut]:
        """Every event of the case's process: whether the caller may fire it now, and why not."""
        readable(caller, case_id)
        return [
            EventOptionOut.of(option)
            for option in caller.engine.available_events(case_id, caller.actor)
        ]

    @app.post(
        "/estates/{estate}/cases/{case_id}/events",
        response_model=CaseOut,
        tags=["cases"],
        responses=acting,
    )
    @in_worker
    def fire(
        caller: Caller,
        case_id: CaseId,
        body: FireEvent,
        response: Response,
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
        ] = None,
        if_match: Annotated[str | None, Header(alias="If-Match", max_length=64)] = None,
    ) -> CaseOut:
        """Fire an event as the caller. ``Idempotency-Key`` makes a retry return the first
        result; ``If-Match`` (the case's version) refuses with 412 if the case moved on."""
        engine = caller.engine
        expected = _version(if_match) if if_match is not None else None
        if expected is not None and (
            idempotency_key is None or engine.store.find_entry(case_id, idempotency_key) is None
        ):
            current = engine.get_case(case_id)
            if current.version != expected:
                raise PreconditionFailed(case_id, expected, current.version)

        def act() -> CaseOut:
            try:
                case = engine.fire(
                    case_id, body.event, caller.actor, body.payload,
                    idempotency_key=idempotency_key, expected_version=expected,
                )  # fmt: skip
            except ValueError as error:
                raise BadRequest(str(error)) from None
            response.headers["ETag"] = f'"{case.version}"'
            return case

        return counted(caller, case_id, body.event, act)

    @app.post(
        "/estates/{estate}/cases/{case_id}/limits/{limit}/extensions",
        response_model=ClockOut,
        tags=["cases"],
        responses=acting,
    )
    @in_worker
    def extend(caller: Caller, case_id: CaseId, limit: ItemId, body: ExtendLimit) -> ClockOut:
        """Move a running time limit's deadline, as its rule's ``extend:`` allows."""
        readable(caller, case_id)

        def act() -> ClockOut:
            try:
                status = caller.engine.extend(
                    case_id, limit, caller.actor, reason=body.reason, by=body.by,
                    until=body.until, consents=body.consents,
                )  # fmt: skip
            except ValueError as error:
                raise BadRequest(str(error)) from None
            return ClockOut.of(status)

        return counted(caller, case_id, f"extend:{limit}", act)

    # Notifications ---------------------------------------------------------------------------

    def addressed_to(caller: Caller) -> Callable[[Notification], bool]:
        """Whether a notification is the caller's to see: one for a role, if the caller
        holds that role; one for no role, if the caller holds a role of its case's process
        (without a case, of any of the estate's processes)."""
        engine, roles = caller.engine, caller.actor.roles
        estate_roles = {r for p in engine.processes for r in engine.definition(p).roles}
        case_roles: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

        def on_case(case_id: str) -> tuple[frozenset[str], frozenset[str]]:
            """The caller's roles that count on the case, and its process's roles."""
            if case_id not in case_roles:
                definition, held = roles_here(caller, case_id)
                case_roles[case_id] = (held, frozenset(definition.roles))
            return case_roles[case_id]

        def sees(notification: Notification) -> bool:
            role, case_id = notification.role, notification.case_id
            if role is not None and role not in roles:
                return False  # another role's: its case need not be read
            if case_id is None:
                return role is not None or bool(roles & estate_roles)
            held, declared = on_case(case_id)
            return role in held if role is not None else bool(held & declared)

        return sees

    @app.get(
        "/estates/{estate}/notifications",
        response_model=NotificationPage,
        tags=["notifications"],
        responses=guarded,
    )
    @in_worker
    def read_notifications(
        caller: Caller,
        after: Annotated[
            int, Query(ge=0, le=MAX_ROW_ID, description="The `next` of the read before.")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> NotificationPage:
        """Notifications waiting for delivery after the cursor, oldest first: those for a
        role the caller holds, and those for no role of a process whose roles the caller
        holds (a back-office app's token holds the roles it serves). Reading changes
        nothing; acknowledge what was handled. A page may hold fewer than ``limit`` (rows
        for other roles are passed over); read again from ``next`` until it stops moving."""
        batch = NotificationFeed(caller.engine.store, caller.engine.estate).read(after, limit)
        sees = addressed_to(caller)
        return NotificationPage(
            notifications=[NotificationOut.of(n) for n in batch.notifications if sees(n)],
            next=batch.cursor,
        )

    @app.get(
        "/estates/{estate}/notifications/recent",
        response_model=RecentNotifications,
        tags=["notifications"],
        responses=guarded,
    )
    @in_worker
    def recent_notifications(
        caller: Caller,
        before: Annotated[
            int | None,
            Query(ge=1, le=MAX_ROW_ID, description="The `before` of the read before."),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_NOTICES)] = 50,
    ) -> RecentNotifications:
        """What the caller's roles were told, newest first, whether delivered yet or not:
        the notifications a person reads at the console. The same ones as the feed above
        shows the caller (for a role the caller holds, or for no role of the caller's
        processes), except those given up on; reading takes nothing off any app's feed.
        A page may hold fewer than ``limit``; read on from ``before`` until it is ``None``."""
        engine = caller.engine
        query = NoticeQuery(engine.estate, caller.actor.roles, before, limit)
        items = notices(engine.store, query)
        sees = addressed_to(caller)
        found = [Notification.of(item) for item in items]
        return RecentNotifications(
            notifications=[NotificationOut.of(n) for n in found if sees(n)],
            before=found[-1].id if len(found) == limit else None,
        )

    # Reports ----------------------------------------------------------------------------

    @app.get(
        "/estates/{estate}/board",
        response_model=Board,
        tags=["reports"],
        responses={**guarded, 400: _PROBLEMS[400]},
    )
    @in_worker
    def read_board(
        caller: Caller,
        within: Annotated[
            str,
            Query(max_length=32, description="Also list what breaches within this long: 4h, 1d."),
        ] = "4h",
    ) -> Board:
        """What is breached now and what will breach within ``within``, per role the caller
        holds, nearest deadline first: the list a service-desk supervisor opens each morning.
        Besides, the open cases of the caller's processes that no role holds yet, so whoever
        dispatches sees what waits for someone to take it."""
        span = _wall_clock(within)
        engine = caller.engine
        now = engine.clock.now()
        board = overdue_board(engine.store, engine.estate, now, span)
        posts = {p: posts_held(caller.actor, engine.definition(p)) for p in engine.processes}
        mine = {
            role: [item for item in items if role in posts.get(item.process, frozenset())]
            for role, items in board.items()
            if role in caller.actor.roles
        }
        processes = tuple(readable_processes(caller))
        waiting = inbox(
            engine.store,
            InboxQuery(engine.estate, closed=False, processes=processes, unassigned=True,
                       limit=MAX_UNASSIGNED + 1),
        )  # fmt: skip
        late = {
            item.case_id
            for items in board.values()
            for item in items
            if item.role is None and item.overdue(now)
        }
        unassigned = [
            UnassignedEntry(
                case=row.case.id, process=row.case.process, state=row.case.state,
                opened_at=row.case.opened_at, next_deadline=row.next_deadline,
                breached=row.case.id in late, paused=row.paused,
            )
            for row in waiting[:MAX_UNASSIGNED]
        ]  # fmt: skip
        return Board.model_validate(
            {
                **board_document(mine, now),
                "unassigned": unassigned,
                "unassigned_more": len(waiting) > MAX_UNASSIGNED,
            }
        )

    @app.get(
        "/estates/{estate}/report",
        response_model=ReportOut,
        tags=["reports"],
        responses={**guarded, 400: _PROBLEMS[400], 403: _PROBLEMS[403]},
    )
    @in_worker
    def read_report(
        caller: Caller,
        period: Annotated[
            str | None,
            Query(
                max_length=16,
                description="2026-03, 2026-W10, 2026-Q1 or 2026; default: the last whole month.",
            ),
        ] = None,
    ) -> ReportOut:
        """Every indicator of the estate over the period, with its target, met or missed, the
        counts behind it and the cases that missed: computed in the database, for a caller
        holding a role of one of the estate's processes (indicators are the estate's figures,
        not one role's)."""
        engine = caller.engine
        if not readable_processes(caller):
            raise RoleRefused("-", "-", "report", say("service.report_role", actor=caller.actor.id))
        timezone = (
            engine.estate_definition.timezone
            if engine.estate_definition is not None
            else DEFAULT_TIMEZONE
        )
        try:
            span = (
                parse_period(period, timezone)[1]
                if period is not None
                else month_before(engine.clock.now(), timezone)
            )
        except PeriodError as error:
            raise BadRequest(str(error)) from None
        built = build_report(engine.store, engine.library, engine.estate, timezone, span)
        return ReportOut.model_validate(report_document(built))

    @app.post(
        "/estates/{estate}/notifications/ack",
        response_model=Acknowledged,
        tags=["notifications"],
        responses=guarded,
    )
    @in_worker
    def acknowledge_notifications(caller: Caller, body: Acknowledge) -> Acknowledged:
        """Mark notifications handled, so they are read no more and no webhook pushes them;
        only those the caller may read (see the read endpoint) are marked. The answer
        lists the ids this request marked: one handled before, or not the caller's, is
        left out, so acknowledging twice is harmless."""
        feed = NotificationFeed(caller.engine.store, caller.engine.estate)
        sees = addressed_to(caller)
        mine = [n.id for n in feed.waiting(body.ids) if sees(n)]
        return Acknowledged(acknowledged=feed.acknowledge(mine, host.clock.now()))

    @app.post(
        "/estates/{estate}/migrate",
        response_model=MigrationOut,
        tags=["operations"],
        responses={s: _PROBLEMS[s] for s in (401, 403, 404)},
    )
    @in_worker
    def migrate(caller: Caller, body: Migrate | None = None) -> MigrationOut:
        """Move the estate's running cases (of ``process``, default every one) to its
        current definitions, or with ``dry_run`` (the default) say what would change and
        which cases cannot move; for a credential holding the ``admin`` role only."""
        if MIGRATION_ROLE not in caller.actor.roles:
            raise RoleRefused(
                "-", "-", "migrate",
                say("service.migrate_role", actor=caller.actor.id, role=MIGRATION_ROLE),
            )  # fmt: skip
        asked = body or Migrate()
        result = migrate_cases(caller.engine, asked.process, dry_run=asked.dry_run)
        return migration_out(result)

    console.mount(app)
    app.add_middleware(RequestLimits)
    app.add_middleware(Timed, metrics=metrics)
    return app


class Timed:
    """ASGI middleware timing each HTTP request by method and route template (the path
    with ``{estate}`` and ``{case_id}`` left as such, so the metric has few series)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(scope["method"], template).observe(
                time.perf_counter() - started
            )


def _process_of(engine: Engine, case_id: str | None) -> str:
    """The process of a case of the engine's estate, for a metric's label (``-``: none)."""
    record = engine.store.get_case(case_id) if case_id is not None else None
    return record.process if record is not None and record.estate == engine.estate else "-"


def _version(if_match: str) -> int:
    match = _ETAG.match(if_match)
    if match is None:
        raise BadRequest(say("service.if_match", value=f"{if_match!r:.40}"))
    return int(match.group(1))


def _wall_clock(within: str) -> timedelta:
    """The board's ``within``: a duration of wall-clock time (``4h``, ``1d``); working time
    (``2 workdays``) has no length without a calendar, while the board spans clocks of
    every calendar. Either refusal is worded in the request's language."""
    try:
        return parse_duration(within).as_timedelta()
    except DurationError as error:
        raise BadRequest(say("service.within", reason=str(error))) from None
    except ValueError as error:  # working time, worded by the duration itself
        raise BadRequest(say("service.within_working", reason=str(error))) from None
