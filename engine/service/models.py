"""The request and response bodies of the HTTP API, as pydantic models.

Every endpoint takes and returns one of these, so ``/openapi.json`` describes the whole
API and a body that does not fit is refused before the engine sees it. Free-form JSON (a
form's ``data``, an event's ``payload``) is bounded here — depth, entries, text length —
on top of the request-size limit of :mod:`engine.service.limits`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from engine.delivery import Notification
from engine.delivery.feed import MAX_BATCH
from engine.runtime import Case, EventOption, Link
from engine.sla import ClockStatus
from engine.store import LogEntry

#: Limits of free-form JSON in a request: nesting, entries per object or list, text length.
MAX_DEPTH = 6
MAX_ENTRIES = 200
MAX_TEXT = 4000

#: An id of a process, event, state, role or time limit, as the files spell them.
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-z][a-z0-9_-]*$")]


def _beyond(kind: str, template: str, limit: int) -> PydanticCustomError:
    """A bound of free-form JSON passed, as an error type of its own (``json_too_deep``...)
    rather than a ``ValueError``: the 400 answer words it by type from the catalogue
    (``service.invalid.<type>``), in the request's language, as it words pydantic's own;
    ``template`` is the English said where those words are missing."""
    return PydanticCustomError(kind, template, {"limit": limit})


def _bounded(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise _beyond("json_too_deep", "nested deeper than {limit} levels", MAX_DEPTH)
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise _beyond("json_text_too_long", "text longer than {limit} characters", MAX_TEXT)
        if "\x00" in value:
            raise PydanticCustomError(
                "json_nul", "text holding NUL (\\u0000), which no store keeps"
            )
    elif isinstance(value, dict):
        if len(value) > MAX_ENTRIES:
            raise _beyond(
                "json_object_too_long", "more than {limit} entries in one object", MAX_ENTRIES
            )
        for key, item in value.items():
            _bounded(key, depth + 1)
            _bounded(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ENTRIES:
            raise _beyond(
                "json_list_too_long", "more than {limit} entries in one list", MAX_ENTRIES
            )
        for item in value:
            _bounded(item, depth + 1)
    return value


#: A JSON object of form fields, bounded.
JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenCase(_Body):
    """Open a case of ``process`` with the form's initial ``data``."""

    process: Id
    data: JsonObject = Field(default_factory=dict)


class FireEvent(_Body):
    """Fire ``event`` on the case with ``payload`` (the form fields it fills in)."""

    event: Id
    payload: JsonObject = Field(default_factory=dict)


class ExtendLimit(_Body):
    """Move a running clock's deadline: ``by`` a duration (``2 workdays``) or ``until`` a
    moment, with the ``reason`` written to the audit log and the ``consents`` obtained."""

    reason: str = Field(min_length=1, max_length=2000)
    by: str | None = Field(default=None, min_length=1, max_length=64)
    #: A moment with its offset: one without could mean any instant (a malformed request).
    until: AwareDatetime | None = None
    consents: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=20
    )


class EstateOut(BaseModel):
    """A hosted estate and the processes its cases may run."""

    id: str
    title: str
    processes: list[str]


class ProcessSummary(BaseModel):
    """A process of an estate: id, title and the content hash of its current definition."""

    id: str
    title: str
    version: str


class ProcessOut(BaseModel):
    """A process's current definition, as its (merged) file declares it."""

    id: str
    version: str
    definition: dict[str, Any]


class DiagramOut(BaseModel):
    """A process's state diagram as Mermaid text (``stateDiagram-v2``)."""

    process: str
    mermaid: str


#: A case as it stands after its last event (``version`` is what ``If-Match`` takes): the
#: runtime's own :class:`~engine.runtime.Case`, which pydantic reads and documents as it is.
CaseOut = Case


class ClockOut(BaseModel):
    """One SLA clock of a case: its deadline, working time used and left, what happened."""

    limit: str
    label: str
    calendar: str
    status: str
    started_at: datetime
    deadline: datetime | None
    elapsed_seconds: int
    remaining_seconds: int | None
    paused: bool
    breached: bool
    breached_at: datetime | None
    stopped_at: datetime | None
    warnings_sent: list[str]
    extensions: list[dict[str, Any]]
    tier: int
    notes: list[str]

    @classmethod
    def of(cls, status: ClockStatus) -> ClockOut:
        return cls.model_validate(status.to_json())


class LinkOut(BaseModel):
    """A linked case: ``parent``, ``child`` or ``related``, with where it stands now."""

    kind: str
    case_id: str
    process: str
    state: str
    created_at: datetime

    @classmethod
    def of(cls, link: Link) -> LinkOut:
        return cls.model_validate(link, from_attributes=True)


class EntryOut(BaseModel):
    """One entry of a case's audit trail."""

    version: int
    event: str
    #: Who fired it (the log entry's ``actor_id``).
    actor: str = Field(validation_alias="actor_id")
    role: str
    at: datetime
    from_state: str | None
    to_state: str
    payload: dict[str, Any]
    changes: dict[str, Any]
    assignee: str | None
    actions: list[dict[str, Any]]

    @classmethod
    def of(cls, entry: LogEntry) -> EntryOut:
        return cls.model_validate(entry, from_attributes=True)


class CaseDetail(BaseModel):
    """A case with its SLA clocks, linked cases and audit trail."""

    case: CaseOut
    clocks: list[ClockOut]
    links: list[LinkOut]
    history: list[EntryOut]


class EventOptionOut(BaseModel):
    """An event of the case's process: whether the caller may fire it now, and if not, why."""

    event: str
    label: str
    allowed: bool
    reason: str | None
    target: str | None
    needs: list[str]

    @classmethod
    def of(cls, option: EventOption) -> EventOptionOut:
        return cls.model_validate(option, from_attributes=True)


class InboxItem(BaseModel):
    """A case of the inbox, its nearest deadline (``None``: no clock is running) and its
    paused clocks, each with the working time it will have left when it resumes (a case
    waiting for the owner, or for an extension, has no deadline running)."""

    case: CaseOut
    next_deadline: datetime | None
    paused: list[ClockOut] = Field(default_factory=list)


class InboxPage(BaseModel):
    """A page of the inbox, nearest deadline first; ``next`` is the cursor of the next page
    (``None`` on the last)."""

    items: list[InboxItem]
    next: str | None


#: The largest outbox row id (a signed 64-bit integer, as the stores keep it).
MAX_ROW_ID = 2**63 - 1


class NotificationOut(BaseModel):
    """A notification the estate's outbox holds for a role, as a webhook would receive it;
    ``id`` is its delivery id, to acknowledge it (and to ignore a repeat)."""

    id: int
    case_id: str | None
    kind: str
    role: str | None
    message: str | None
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        return cls.model_validate(notification, from_attributes=True)


class NotificationPage(BaseModel):
    """Waiting notifications after a cursor, oldest first, and the cursor to read after
    next; ``next`` greater than the cursor given means more may follow."""

    notifications: list[NotificationOut]
    next: int


class RecentNotifications(BaseModel):
    """What the caller's roles were told lately, newest first, delivered or not; ``before``
    is the cursor of the older ones (``None``: there are no more)."""

    notifications: list[NotificationOut]
    before: int | None


class Acknowledge(_Body):
    """The ids of notifications the caller handled."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )


class Acknowledged(BaseModel):
    """The ids this request marked handled (one already handled, or not the caller's to
    see, is left out)."""

    acknowledged: list[int]


class Problem(BaseModel):
    """An error as RFC 9457 problem details, with the engine's refusal when there is one."""

    type: str
    title: str
    status: int
    detail: str
    refusal: str | None = None
    reason: str | None = None
    case_id: str | None = None
    state: str | None = None
    event: str | None = None
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    """Liveness or readiness, and what was checked."""

    status: str
    estates: list[str] = Field(default_factory=list)
    detail: str | None = None


class BoardEntry(BaseModel):
    """A time limit breached, or due within the window, on the overdue board."""

    case: str
    process: str
    state: str
    limit: str
    deadline: datetime
    breached: bool
    overdue: bool
    tier: int


#: The most unassigned cases one board lists.
MAX_UNASSIGNED = 200


class UnassignedEntry(BaseModel):
    """An open case no role holds yet, on the board for whoever dispatches it."""

    case: str
    process: str
    state: str
    opened_at: datetime
    next_deadline: datetime | None
    breached: bool
    paused: bool


class Board(BaseModel):
    """The overdue board at ``at``: per role the caller holds, nearest deadline first; and
    the open cases of the caller's processes that no role holds yet, nearest deadline
    first (at most ``MAX_UNASSIGNED``; ``unassigned_more`` says there are others)."""

    at: datetime
    roles: dict[str, list[BoardEntry]]
    unassigned: list[UnassignedEntry] = Field(default_factory=list)
    unassigned_more: bool = False


class CountsOut(BaseModel):
    """What an indicator counted: the cases (clocks, events) that met it of those it judged,
    and the share in percent (``None`` when there was nothing to judge)."""

    numerator: int
    denominator: int
    value: float | None


class IndicatorOut(CountsOut):
    """One indicator over the period: its value against its target, the counts behind it,
    the ids of the cases that missed, and the counts per group of a breakdown."""

    id: str
    label: str
    source: str | None
    target: str
    met: bool | None
    missed: list[str]
    groups: dict[str, CountsOut]


class ReportOut(BaseModel):
    """Every indicator of the estate over one period."""

    estate: str
    period: str
    from_: datetime = Field(alias="from")
    to: datetime
    by: str | None
    indicators: list[IndicatorOut]


class CallerOut(BaseModel):
    """Who the credential of the request acts as: its actor, roles and estates (what a
    client needs to offer only what the caller may do)."""

    actor: str
    roles: list[str]
    estates: list[str]


class ManualRunOut(BaseModel):
    """A piece of a manual's inline text, ``plain``, ``strong`` or ``code``."""

    text: str
    style: str


class ManualItemOut(BaseModel):
    """A list item of a manual: its head line and the detail lines below it."""

    head: list[ManualRunOut]
    details: list[list[ManualRunOut]]


class ManualBlockOut(BaseModel):
    """One block of a manual section: a ``heading`` (``level``, ``text``), a ``paragraph``
    (``runs``), a ``list`` (``items``), a ``table`` (``header``, ``rows`` of cells of runs)
    or the ``figure`` of the flow diagram (``text`` is its caption)."""

    kind: Literal["heading", "paragraph", "list", "table", "figure"]
    level: int | None = None
    text: str | None = None
    runs: list[ManualRunOut] = Field(default_factory=list)
    items: list[ManualItemOut] = Field(default_factory=list)
    header: list[str] = Field(default_factory=list)
    rows: list[list[list[ManualRunOut]]] = Field(default_factory=list)


class ManualSectionOut(BaseModel):
    """A process's section of the procedure manual, as the estate's library words it."""

    process: str
    lang: str
    blocks: list[ManualBlockOut]
