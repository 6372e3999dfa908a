"""The words of outbox messages: what happened to which case, under which time limit, by
when — in Chinese, like the library's labels, so a notice read on a phone needs no lookup.

A notice a time limit's timer writes says so: ``报修处理 <case>：一般项目3天内解决已超时，
截止 2026-03-05 09:01，升级至物业服务中心负责人``; one an event writes names the case and
carries the action's own message (or the process title when it has none); a timer's
notice with a message of its own says it first, then what happened to the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.model import Escalate, Notify, ProcessDef, TimeLimitDef, localized


@dataclass(frozen=True)
class LimitMoment:
    """The time limit whose timer runs the actions: which one, the hook (``breach``,
    ``tier``, ``due``, ``warning``), the tier's number, and the deadline on the limit's
    calendar (``None`` for a clock without one) — for a recurring limit's reminder
    (``due``), the time the reminder was due."""

    limit: TimeLimitDef
    hook: str
    deadline: datetime | None
    tier: int = 0

    @property
    def deadline_iso(self) -> str | None:
        """The deadline for machines: ISO 8601 with its offset, to the minute."""
        return self.deadline.isoformat(timespec="minutes") if self.deadline else None

    @property
    def deadline_text(self) -> str:
        return self.deadline.strftime("%Y-%m-%d %H:%M") if self.deadline else "未定"

    def what(self) -> str:
        """What happened to the limit, in words."""
        label = localized(self.limit.label, self.limit.id)
        if self.hook == "warning":
            return f"{label}即将到期，截止 {self.deadline_text}"
        if self.hook == "tier":
            return f"{label}超时未解决（第{self.tier + 1}级升级），截止 {self.deadline_text}"
        if self.hook == "due":
            return f"{label}，提醒时间 {self.deadline_text}"
        return f"{label}已超时，截止 {self.deadline_text}"


def _role(process: ProcessDef, role: str | None) -> str:
    if role is None:
        return "经办人"
    found = process.roles.get(role)
    return localized(found.label, role) if found is not None else role


def action_message(
    process: ProcessDef, case_id: str, action: Notify | Escalate, moment: LimitMoment | None
) -> str:
    """The message of a ``notify`` or ``escalate`` action's outbox row."""
    title = localized(process.title, process.id)
    own = localized(action.message, "") if action.message else ""
    role = _role(process, action.role)
    verb = "升级至" if isinstance(action, Escalate) else "通知"
    if moment is None:
        return f"{title} {case_id}：{own or title}，{verb}{role}"
    if own:
        return f"{title} {case_id}：{own}（{moment.what()}），{verb}{role}"
    return f"{title} {case_id}：{moment.what()}，{verb}{role}"


def warning_message(
    process: ProcessDef, case_id: str, moment: LimitMoment, assignee: str | None
) -> str:
    """The message of the row a warning before a deadline writes for the case's assignee."""
    title = localized(process.title, process.id)
    return f"{title} {case_id}：{moment.what()}，提醒{_role(process, assignee)}"
