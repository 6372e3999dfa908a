"""A small library to move cases between, for the migration tests: a job whose urgent
clock starts on ``start``, pauses while ``waiting`` and stops at ``done``.

:func:`write_library` writes one version of it; the tests open cases on one version and
move them to another (a shorter limit, a renamed state, a new field).
"""

from __future__ import annotations

from pathlib import Path

PROCESS = """\
process: job
title: {{zh-CN: 工单, en: Job}}
roles:
  clerk: {{label: {{zh-CN: 文员, en: Clerk}}}}
fields:
  urgency:
    {{type: enum, values: [normal, urgent], default: urgent, label: {{zh-CN: 紧急, en: Urgency}}}}
{extra_field}states:
  new: {{initial: true, label: {{zh-CN: 新建, en: New}}}}
  {doing}: {{label: {{zh-CN: 处理中, en: Doing}}}}
  waiting: {{label: {{zh-CN: 等待, en: Waiting}}}}
  done: {{final: true, label: {{zh-CN: 完成, en: Done}}}}
events:
  start: {{from: new, to: {doing}, roles: [clerk], label: {{zh-CN: 开始, en: Start}}}}
  wait: {{from: {doing}, to: waiting, roles: [clerk], label: {{zh-CN: 等待, en: Wait}}}}
  resume: {{from: waiting, to: {doing}, roles: [clerk], label: {{zh-CN: 继续, en: Resume}}}}
  finish: {{from: [{doing}, waiting], to: done, roles: [clerk], label: {{zh-CN: 完成, en: Finish}}}}
"""

RULES = """\
calendars:
  24x7: {{hours: always, holidays: none, label: {{zh-CN: 全天, en: Always}}}}
time_limits:
  job-urgent:
    label: {{zh-CN: 急件时限, en: Urgent job}}
    process: job
    if: "urgency == 'urgent'"
    calendar: 24x7
    start: {{event: start}}
    stop: {{enter: done}}
    pause: {{in: [waiting]}}
    limit: {limit}
    warn: [80%]
{mappings}"""

NOTE_FIELD = "  note: {type: text, default: '-', label: {zh-CN: 备注, en: Note}}\n"


def write_library(
    directory: Path,
    *,
    limit: str = "24h",
    doing: str = "doing",
    mappings: dict[str, str] | None = None,
    note: bool = False,
) -> Path:
    """Write a version of the job library into ``directory`` (made if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "job.yaml").write_text(
        PROCESS.format(doing=doing, extra_field=NOTE_FIELD if note else ""), encoding="utf-8"
    )
    block = ""
    if mappings is not None:
        pairs = ", ".join(f"{old}: {new}" for old, new in mappings.items())
        block = f"migrations:\n  job:\n    states: {{{pairs}}}\n"
    (directory / "rules.yaml").write_text(
        RULES.format(limit=limit, mappings=block), encoding="utf-8"
    )
    return directory
