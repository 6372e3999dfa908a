"""Traceability: which time limit or process element encodes each figure of the source manuals.

``docs/traceability.md`` is generated from this module so that it cannot go stale::

    python -m engine.traceability > docs/traceability.md

It has two parts. The first is built from the loaded library: every time limit with its
process, figure (limit, deadline or recurrence, and calendar), escalation and extension, and
the manual clause it cites. The second is the hand-maintained :data:`FIGURES` below: every
figure row of the time-limit tables in the domain catalogue (``DOMAIN.md``: repair §1,
complaint §2, handover §3, meetings §4, call-centre steps §6), each mapped to the rule ids or
process elements (state, event, field) that encode it, or marked "not encoded" with the reason
and the work that will encode it. ``tests/library/test_traceability.py`` checks that the file
equals :func:`markdown`, that every reference names something in the library, and that every
time limit is traced to at least one figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.library import Library
from engine.model import (
    Action,
    Escalate,
    Fire,
    Notify,
    Open,
    SetFields,
    Signal,
    TimeLimitDef,
    localized,
)
from engine.resources import standard_library_dirs
from engine.validation import validate_paths

#: Processes in the order the domain catalogue describes them; any other process follows.
PROCESS_ORDER = (
    "repair",
    "complaint",
    "handover_project",
    "handover",
    "meeting",
    "meeting_service",
    "monthly_report",
    "home_visit",
)

#: The kinds of process element a figure can be encoded by (besides a time limit).
ELEMENT_KINDS = ("state", "event", "field")

#: Rules-file items other than time limits that can encode a figure.
RULE_ITEM_KINDS = ("schedule", "quota")

GENERATE_COMMAND = "python -m engine.traceability > docs/traceability.md"


@dataclass(frozen=True)
class Ref:
    """What encodes a figure: a time limit (``kind='rule'``) or a process's state/event/field."""

    kind: str
    id: str
    process: str | None = None

    def __str__(self) -> str:
        if self.kind == "rule":
            return f"`{self.id}`"
        if self.kind in RULE_ITEM_KINDS:
            return f"{self.kind} `{self.id}`"
        return f"{self.process} {self.kind} `{self.id}`"


def rule(rule_id: str) -> Ref:
    return Ref("rule", rule_id)


def state(process: str, state_id: str) -> Ref:
    return Ref("state", state_id, process)


def event(process: str, event_id: str) -> Ref:
    return Ref("event", event_id, process)


def field(process: str, field_id: str) -> Ref:
    return Ref("field", field_id, process)


def schedule(schedule_id: str) -> Ref:
    return Ref("schedule", schedule_id)


def quota(quota_id: str) -> Ref:
    return Ref("quota", quota_id)


@dataclass(frozen=True)
class Figure:
    """One figure row of the domain catalogue and what encodes it.

    ``encoded_by`` empty means not encoded; ``note`` then says why and which work will.
    """

    key: str
    item: str
    figure: str
    source: str
    encoded_by: tuple[Ref, ...] = ()
    note: str = ""

    @property
    def encoded(self) -> bool:
        return bool(self.encoded_by)


#: Section key → title, in the order the tables appear.
SECTIONS: dict[str, str] = {
    "1": "§1 Repair request 报修 — time limits and targets",
    "6": "§6 First-contact call-centre steps 首接负责制 (seed 000)",
    "2": "§2 Complaint 投诉 — figures",
    "3": "§3 Handover 交楼 — figures",
    "4": "§4 Meetings 例会 and meeting service 会议接待 — figures",
    "5": "§5 Other procedures — return visits by the director and the area managers",
}

# Reasons shared by several rows that the library does not encode yet.
_SCHEDULE = (
    "a calendar schedule (a recurring date), which a rules file's `schedules:` can now express "
    "(docs/format.md, Schedules), but the library has no process for it to open yet"
)
_KPI = (
    "a rate over many cases, not a rule on one case; to be computed by the reporting work "
    "from the audit log"
)

FIGURES: tuple[Figure, ...] = (
    # --- §1 repair ----------------------------------------------------------------------------
    Figure(
        "1.1",
        "urgent repair 急修",
        "resolved within 24 hours",
        "004",
        (rule("repair-urgent"), field("repair", "urgency")),
    ),
    Figure(
        "1.2",
        "general repair 一般项目",
        "resolved within 3 days",
        "004; 002 (土建 3 days)",
        (rule("repair-general"),),
    ),
    Figure(
        "1.3",
        "blocked drain/toilet, leaking pipe",
        "within 24 hours",
        "001 §5.2.5",
        (rule("repair-drain-leak"), field("repair", "category")),
    ),
    Figure(
        "1.4",
        "tube-light replacement, broken lock",
        "within 24 hours, on working days",
        "001 §5.2.5",
        (rule("repair-light-lock"), field("repair", "category")),
        "counted on the workday_24h calendar (weekends and holidays skipped)",
    ),
    Figure(
        "1.5",
        "other engineering repairs",
        "within 3 working days",
        "001 §5.2.4",
        (rule("repair-general"),),
        "the stricter 3 days (seed 004) ships as the default; an estate may set "
        "`3 workdays` on the office calendar",
    ),
    Figure(
        "1.6",
        "cannot finish in 24 h",
        "service-centre head signs an extension, with the owner's consent",
        "001 §5.2.5",
        (rule("repair-urgent"), rule("repair-drain-leak"), rule("repair-light-lock")),
        "extend by head, needs owner_consent",
    ),
    Figure(
        "1.7",
        "cannot finish in 3 working days",
        "head approves an extension",
        "001 §5.2.4",
        (rule("repair-general"),),
        "extend by head",
    ),
    Figure(
        "1.8",
        "cannot fix within 2 weeks",
        "estate manager (主任) approves a further extension",
        "001 §5.2.4",
        (rule("repair-general"),),
        "tier after 2w: extend by manager",
    ),
    Figure(
        "1.9",
        "pre-move-in cleaning request",
        "same day, or the agreed time (normally ≤ 3 working days)",
        "001 §5.3.1",
        (),
        "no cleaning-request process in the library; it belongs to the first-contact request "
        "process (DOMAIN §6, category 清洁), whose agreed-time deadline is set at run time",
    ),
    Figure(
        "1.10",
        "department reports status to the desk",
        "within 3 working days",
        "001 §5.3.2",
        (rule("repair-status-report"), event("repair", "report_status")),
    ),
    Figure(
        "1.11",
        "contract (by-agreement) work",
        "forms returned 2 days before month end",
        "001 第5篇 §5.3.2",
        (schedule("agreement-forms-month-end"), event("agreement_forms", "return_forms")),
        "opened two working days before the last working day of each month at 09:00",
    ),
    Figure(
        "1.12",
        "major failures",
        "resolved within 7 days",
        "003",
        (rule("repair-major"), field("repair", "major")),
    ),
    Figure(
        "1.13",
        "service response",
        "within 30 minutes",
        "003",
        (rule("repair-response"),),
    ),
    Figure(
        "1.14",
        "call-centre steps",
        "record 1 min, route 2 min, first plan 3 min, on site 10 min, escalate 5 min, "
        "answer 15 min",
        "000",
        (
            rule("repair-record"),
            rule("repair-route"),
            rule("repair-first-plan"),
            rule("repair-on-site"),
            rule("repair-escalate"),
            rule("complaint-answer"),
        ),
        "one row per step in §6 below",
    ),
    Figure(
        "1.15",
        "repair forms",
        "collected, summarised and analysed weekly, sent to the estate manager",
        "004",
        (schedule("weekly-repair-summary"), event("repair_summary", "submit")),
        "opened every Monday at 09:00 for the week before; the receptionist summarises and "
        "analyses, the estate manager reviews",
    ),
    Figure(
        "1.16",
        "monthly report",
        "the desk compiles last month's service figures at the start of each month",
        "001 §6.3",
        (schedule("monthly-service-report"), field("monthly_report", "month")),
        "opened on the first working day of each month at 09:00, for the month before; missed "
        "months are all opened (catch_up: all)",
    ),
    Figure("1.17", "target: repair timeliness", "98% (000), 95% (002)", "000; 002", (), _KPI),
    Figure("1.18", "target: repair pass rate", "98%", "002", (), _KPI),
    Figure(
        "1.19",
        "target: return-visit rate",
        "100%",
        "000; 001",
        (),
        _KPI + "; each visit is the repair event `return_visit`",
    ),
    # --- §6 call-centre steps -----------------------------------------------------------------
    Figure(
        "6.1",
        "logged into the 信息记录表",
        "1 minute",
        "000 §6",
        (rule("repair-record"), rule("complaint-record")),
    ),
    Figure(
        "6.2",
        "classified and routed to the specialist",
        "2 minutes",
        "000 §6",
        (rule("repair-route"), rule("complaint-route")),
    ),
    Figure(
        "6.3",
        "emergencies reported to the area lead and superiors",
        "within 90 seconds",
        "000 §6",
        (rule("repair-emergency-report"),),
    ),
    Figure(
        "6.4",
        "the front desk holds emergency dispatch authority",
        "—",
        "000 §6",
        (event("repair", "start_emergency_work"), event("repair", "dispatch")),
        "the receptionist starts emergency work and dispatches urgent items",
    ),
    Figure(
        "6.5",
        "on site (immediate service)",
        "10 minutes",
        "000 §6",
        (rule("repair-on-site"),),
    ),
    Figure(
        "6.6",
        "appointment: call the customer before",
        "15 minutes before",
        "000 §6",
        (rule("repair-appointment-call"), field("repair", "appointment_at")),
    ),
    Figure(
        "6.7",
        "appointment: arrive early",
        "3–5 minutes early",
        "000 §6",
        (rule("repair-appointment-arrive"),),
        "deadline 3 minutes before the appointment",
    ),
    Figure(
        "6.8",
        "emergency: go to the site first, collect the form after",
        "—",
        "000 §6",
        (
            state("repair", "working_paperwork_pending"),
            event("repair", "complete_paperwork"),
            rule("repair-emergency-paperwork"),
        ),
        "no source gives a figure for the paperwork (also seed 001 §5.1.3 先作业后补单); the "
        "library's default is 1 workday on the office calendar",
    ),
    Figure(
        "6.9",
        "first plan from the work instructions",
        "3 minutes",
        "000 §6",
        (rule("repair-first-plan"), event("repair", "record_plan")),
    ),
    Figure(
        "6.10",
        "plan agreed: time, disturbance, protection, cooperation, price",
        "—",
        "000 §6",
        (event("repair", "record_plan"), event("repair", "quote")),
        "a chargeable price is quoted from the public price list before the work",
    ),
    Figure(
        "6.11",
        "cannot handle → escalate",
        "within 5 minutes",
        "000 §6",
        (rule("repair-escalate"),),
    ),
    Figure(
        "6.12",
        "not solved the same day → managers' meeting decides",
        "same day",
        "000 §6",
        (),
        "needs an end-of-business-day clock; a linked case (an `open` of a meeting item) could "
        "carry it to the managers' meeting, but no such rule is in the library yet",
    ),
    Figure(
        "6.13",
        "failed acceptance loops back to handling (二次处理)",
        "—",
        "000 §6",
        (event("repair", "owner_reject"),),
    ),
    Figure(
        "6.14",
        "return visit",
        "2 minutes, 100% (likely a typo)",
        "000 §6",
        (rule("repair-return-visit"),),
        "shipped as written; estates set their own figure",
    ),
    Figure(
        "6.15",
        "closed: weekly or monthly rates",
        "weekly or monthly",
        "000 §6",
        (),
        _KPI,
    ),
    Figure(
        "6.16",
        "control points",
        "timeliness 100%, satisfaction > 98%, accuracy > 98%, pass rate 100%, "
        "identification > 99%, return visits 100%",
        "000",
        (),
        _KPI,
    ),
    Figure(
        "6.17",
        "public management report",
        "quarterly, one week after publication for owners' questions",
        "000",
        (schedule("public-report-quarterly"), rule("public-report-questions")),
        "opened on the first working day of each quarter for the previous one; the week of "
        "questions starts at publication and files the report when it ends (not while a "
        "question is unanswered)",
    ),
    Figure(
        "6.18",
        "inspections",
        "daily self-check, half-monthly specialist check, monthly overall evaluation",
        "000",
        (),
        _SCHEDULE,
    ),
    # --- §2 complaint -------------------------------------------------------------------------
    Figure(
        "2.1",
        "answered or arranged",
        "within 15 minutes",
        "000",
        (rule("complaint-answer"),),
    ),
    Figure(
        "2.2",
        "on-site investigation",
        "the same day",
        "001 第5篇 §8",
        (rule("complaint-investigation"), field("complaint", "complaint_date")),
        "deadline midnight of the complaint date",
    ),
    Figure("2.3", "handling rate", "95%", "000", (), _KPI),
    Figure(
        "2.4",
        "return-visit rate",
        "100%",
        "001",
        (),
        _KPI + "; each visit is the complaint event `return_visit`",
    ),
    Figure(
        "2.5",
        "valid complaints",
        "under 2%",
        "001",
        (),
        _KPI + "; each finding is the complaint field `validity`",
    ),
    Figure(
        "2.6",
        "satisfaction",
        "> 98% / 95% (000), ≥ 90% (003)",
        "000; 003",
        (),
        _KPI + "; each answer is the complaint field `satisfaction`",
    ),
    # --- §3 handover --------------------------------------------------------------------------
    Figure(
        "3.1",
        "takeover inspection early intervention (接管验收前期介入)",
        "starts 1 month before handover",
        "001 第4篇 第十条",
        (
            rule("handover-project-early-intervention"),
            event("handover_project", "takeover_inspection"),
            rule("handover-early-intervention"),
        ),
        "one month counted as 30 days; timed on the project, or on a unit handed over on its "
        "own (without a project)",
    ),
    Figure(
        "3.2",
        "handover plan issued",
        "20 days before the handover date",
        "001 第4篇 第八条",
        (
            rule("handover-project-plan"),
            event("handover_project", "issue_plan"),
            rule("handover-plan"),
        ),
        "timed on the project, or on a unit handed over on its own",
    ),
    Figure(
        "3.3",
        "keys from the contractor to the service centre",
        "3 days before",
        "001 第4篇 第十一条",
        (
            rule("handover-project-keys"),
            event("handover_project", "receive_keys"),
            rule("handover-keys"),
        ),
        "timed on the project, or on a unit handed over on its own",
    ),
    Figure(
        "3.4",
        "acceptance form copies (file, maintenance, owner)",
        "three copies",
        "001 第4篇 第十八条",
        (state("handover", "warranty_repair"), event("handover", "sign_with_defects")),
        "paper copies: named in the state's description; copy 2 goes to engineering",
    ),
    Figure(
        "3.5",
        "handover daily report",
        "the next day",
        "001 第4篇 第二十条",
        (rule("handover-daily-report"), event("handover_project", "file_daily_report")),
        "a daily reminder while the project is handing over",
    ),
    Figure(
        "3.6",
        "warranty-key list handed to engineering",
        "daily",
        "001 第4篇 第二十一条",
        (rule("handover-warranty-key-list"), event("handover_project", "hand_warranty_keys")),
        "a daily reminder while the project is handing over; each unit records "
        "`warranty_key_left`",
    ),
    # --- §4 meetings --------------------------------------------------------------------------
    Figure(
        "4.1",
        "management meeting",
        "weekly",
        "001 第2篇 §4.1.1",
        (schedule("weekly-meeting"), field("meeting", "period")),
        "opened every Monday at 09:00 (the first working day of the week when Monday is not "
        "one); only the latest missed meeting is opened after downtime",
    ),
    Figure(
        "4.2",
        "management meeting in busy periods (move-in, renovation)",
        "daily",
        "001 第2篇 §4.1.1",
        (schedule("move-in-daily-meeting"), field("meeting", "period")),
        "the move-in peak is a handover project's handing-over state: a meeting each day "
        "(Tuesday to Sunday; Monday has the weekly one) `while` one is in it; an estate adds "
        "its renovation peak the same way (estates/lakeside: ten units under works) or by "
        "dates with `between`",
    ),
    Figure(
        "4.3",
        "minutes numbered",
        "YYYY-NNN (2022-002 = second meeting of 2022)",
        "001 第2篇 §4.5",
        (field("meeting", "minutes_no"),),
        "the format is described, not checked (the condition language has no patterns)",
    ),
    Figure(
        "4.4",
        "department head submits the week/month plan and summary",
        "the day before the next meeting",
        "001 第2篇 §4.4.4",
        (rule("meeting-plan-summary"), event("meeting", "submit_plans")),
        "the previous working day",
    ),
    Figure(
        "4.5",
        "assistant reports action-item status to the chair",
        "the day before the next meeting",
        "001 第2篇 §4.4.5",
        (rule("meeting-status-report"), event("meeting", "report_status")),
        "the previous working day",
    ),
    Figure(
        "4.6",
        "important meeting room ready",
        "8 hours before",
        "004 篇3 §二.5",
        (rule("meeting-room-ready"), field("meeting_service", "important")),
    ),
    Figure(
        "4.7",
        "tea refilled",
        "every 15 minutes",
        "004 篇3 §二.2",
        (rule("meeting-tea"), event("meeting_service", "refill_tea")),
    ),
    Figure(
        "4.8",
        "ashtrays and towels changed",
        "every hour",
        "004 篇3 §二.4",
        (rule("meeting-ashtrays"), event("meeting_service", "change_ashtrays")),
    ),
    Figure(
        "4.9",
        "butts in an ashtray",
        "no more than 3",
        "004 篇3 §二.3",
        (rule("meeting-ashtrays"),),
        "a standard for the attendant, stated in the rule's description; no counter is kept",
    ),
    # --- §5 other procedures ------------------------------------------------------------------
    Figure(
        "5.1",
        "return visits by the director (主任)",
        "10 homes a month",
        "001 第5篇 §8（二）2.1",
        (quota("director-visits"), event("home_visit", "record_visit")),
        "counted from the audit log; warned 5 days before the month ends, reported when missed",
    ),
    Figure(
        "5.2",
        "return visits by each area manager (管理员)",
        "15 homes a month",
        "001 第5篇 §8（二）2.2",
        (quota("area-manager-visits"), event("home_visit", "record_visit")),
        "each area manager counted alone; the director is told of a month that ends short",
    ),
    Figure(
        "5.3",
        "return-visit handling rate",
        "100%",
        "001 第5篇 §8（二）1.4",
        (),
        _KPI + "; problems raised become repairs (home_visit event `refer_issues`)",
    ),
)


# Loading and checking ----------------------------------------------------------------------------


def load_library() -> Library:
    """The shipped standard library."""
    return validate_paths(standard_library_dirs()).library


def time_limits(library: Library) -> list[TimeLimitDef]:
    """The library's time limits, grouped by process in catalogue order, in file order within."""
    processes = [*PROCESS_ORDER, *(p for p in library.process_ids if p not in PROCESS_ORDER)]
    limits = [located.definition for located in library.time_limits]

    def rank(limit: TimeLimitDef) -> int:
        return processes.index(limit.process) if limit.process in processes else len(processes)

    return sorted(limits, key=rank)  # sorted() is stable: file order within a process


def unknown_references(library: Library, figures: Iterable[Figure] = FIGURES) -> list[str]:
    """Every reference in ``figures`` that names nothing in ``library``, as a message."""
    rule_ids = {located.definition.id for located in library.time_limits}
    items = {
        "schedule": {located.definition.id for located in library.schedules},
        "quota": {located.definition.id for located in library.quotas},
    }
    problems: list[str] = []
    for figure in figures:
        for ref in figure.encoded_by:
            if ref.kind == "rule":
                if ref.id not in rule_ids:
                    problems.append(f"{figure.key}: no time limit '{ref.id}'")
                continue
            if ref.kind in items:
                if ref.id not in items[ref.kind]:
                    problems.append(f"{figure.key}: no {ref.kind} '{ref.id}'")
                continue
            process = library.process(ref.process or "")
            if process is None:
                problems.append(f"{figure.key}: no process '{ref.process}'")
                continue
            elements = {"state": process.states, "event": process.events, "field": process.fields}
            if ref.kind not in elements or ref.id not in elements[ref.kind]:
                problems.append(
                    f"{figure.key}: process '{ref.process}' has no {ref.kind} '{ref.id}'"
                )
    return problems


def untraced_time_limits(library: Library, figures: Iterable[Figure] = FIGURES) -> list[str]:
    """Ids of time limits that no figure row names (each rule should trace to a source)."""
    named = {ref.id for figure in figures for ref in figure.encoded_by if ref.kind == "rule"}
    return [limit.id for limit in time_limits(library) if limit.id not in named]


# Rendering ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _actions(actions: Sequence[Action]) -> str:
    parts: list[str] = []
    for action in actions:
        if isinstance(action, Escalate):
            parts.append(f"escalate {action.role}")
        elif isinstance(action, Notify):
            parts.append(f"notify {action.role}")
        elif isinstance(action, SetFields):
            parts.append("set " + ", ".join(f"{k}={v}" for k, v in action.values.items()))
        elif isinstance(action, Fire):
            parts.append(f"fire {action.event}")
        elif isinstance(action, Open):
            parts.append(f"open {action.process}")
        elif isinstance(action, Signal):
            parts.append(f"signal {action.event} to {action.to}")
        else:
            parts.append(f"assign {action.role}")
    return ", ".join(parts)


def figure_of(limit: TimeLimitDef) -> str:
    """The limit, deadline or recurrence as written, e.g. ``24h``, ``every 15m in in_session``."""
    if limit.limit is not None:
        return limit.limit
    if limit.deadline is not None:
        return limit.deadline
    if limit.every is not None:
        states = limit.while_in.states if limit.while_in is not None else ()
        return f"every {limit.every}" + (f" in {', '.join(states)}" if states else "")
    return "—"


def escalation_of(limit: TimeLimitDef) -> str:
    """Breach and due actions, extension approvers and consents, and later tiers."""
    parts: list[str] = []
    if limit.on_breach:
        parts.append("breach: " + _actions(limit.on_breach))
    if limit.on_due:
        parts.append("due: " + _actions(limit.on_due))
    if limit.extend is not None:
        text = "extend: " + ", ".join(limit.extend.by)
        if limit.extend.needs:
            text += " (needs " + ", ".join(limit.extend.needs) + ")"
        parts.append(text)
    for tier in limit.tiers:
        text = f"after {tier.after}:"
        if tier.extend_by:
            text += " extend " + ", ".join(tier.extend_by)
            if tier.actions:
                text += ","
        if tier.actions:
            text += " " + _actions(tier.actions)
        parts.append(text)
    return "; ".join(parts) or "—"


def _limits_table(library: Library, figures: Sequence[Figure]) -> list[str]:
    traced: dict[str, list[str]] = {}
    for figure in figures:
        for ref in figure.encoded_by:
            if ref.kind == "rule":
                traced.setdefault(ref.id, []).append(figure.key)
    lines = [
        "| id | process | label | figure | calendar | applies when "
        "| escalation / extension | source | traces |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for limit in time_limits(library):
        cells = [
            f"`{limit.id}`",
            limit.process,
            localized(limit.label, limit.id),
            figure_of(limit),
            limit.calendar or "estate default",
            f"`{limit.condition}`" if limit.condition else "always",
            escalation_of(limit),
            limit.source or "—",
            ", ".join(traced.get(limit.id, [])) or "—",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _calendar_table(library: Library, figures: Sequence[Figure]) -> list[str]:
    traced: dict[tuple[str, str], list[str]] = {}
    for figure in figures:
        for ref in figure.encoded_by:
            traced.setdefault((ref.kind, ref.id), []).append(figure.key)
    lines = [
        "| kind | id | process | label | figure | source | traces |",
        "|---|---|---|---|---|---|---|",
    ]
    for located in library.schedules:
        item = located.definition
        when = {"weekly": f"weekly on {', '.join(item.on)}", "daily": "daily"}.get(
            item.every, f"{item.every} on day {item.day}"
        )
        if item.minus:
            when += f" minus {item.minus} working days"
        timing = f"{when} at {item.at}, catch up: {item.catch_up}"
        cells = ["schedule", f"`{item.id}`", item.process, localized(item.label, item.id),
                 timing, item.source or "—",
                 ", ".join(traced.get(("schedule", item.id), [])) or "—"]  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    for located_quota in library.quotas:
        quota_def = located_quota.definition
        target = (
            f"{quota_def.count} {', '.join(quota_def.counts.event)} per {quota_def.period} "
            f"by {quota_def.role} (per {quota_def.per})"
            + (f", warn {quota_def.warn} before the end" if quota_def.warn else "")
        )
        cells = ["quota", f"`{quota_def.id}`", quota_def.process or "any",
                 localized(quota_def.label, quota_def.id), target, quota_def.source or "—",
                 ", ".join(traced.get(("quota", quota_def.id), [])) or "—"]  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _figures_table(rows: Sequence[Figure]) -> list[str]:
    lines = [
        "| # | item | figure | source | encoded by | note |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.encoded:
            encoded, note = ", ".join(str(ref) for ref in row.encoded_by), row.note or "—"
        else:
            encoded, note = f"not encoded: {row.note}", "—"
        cells = [row.key, row.item, row.figure, row.source, encoded, note]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def markdown(library: Library | None = None, figures: Sequence[Figure] = FIGURES) -> str:
    """The whole of ``docs/traceability.md``."""
    library = library if library is not None else load_library()
    limits = time_limits(library)
    encoded = sum(1 for f in figures if f.encoded)
    lines = [
        "# Traceability: source figures → library",
        "",
        f"<!-- Generated by `{GENERATE_COMMAND}`; do not edit by hand. -->",
        "",
        "Every time limit of the standard library (`rules/`) with the figure it enforces, and "
        "every figure of the source manuals' time-limit tables (the domain catalogue, "
        "`DOMAIN.md` §1–§6) with the rule, schedule, quota or process element that encodes it. "
        "The first tables are built from the YAML; the others from the mapping in "
        "`engine/traceability.py`. `tests/library/test_traceability.py` fails when this file "
        "is stale, when the mapping names something the library lacks, or when a time limit "
        "traces to no figure.",
        "",
        f"{len(limits)} time limits; {len(figures)} source figures, {encoded} encoded and "
        f"{len(figures) - encoded} not encoded yet.",
        "",
        "## Time limits in the library",
        "",
        "*figure* is the limit (from the clock's start), the deadline (anchored on a date "
        "field) or the recurrence; *traces* names the figure rows below.",
        "",
        *_limits_table(library, figures),
        "",
        "## Schedules and quotas in the library",
        "",
        "Schedules open cases on a calendar; quotas count a role's events per period.",
        "",
        *_calendar_table(library, figures),
    ]
    for key, title in SECTIONS.items():
        rows = [f for f in figures if f.key.split(".")[0] == key]
        lines += ["", f"## {title}", "", *_figures_table(rows)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
