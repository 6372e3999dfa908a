"""A report written out: plain text, JSON, CSV, or one printable HTML file with SVG charts.

The HTML needs no JavaScript and loads nothing: styles are inline and every chart is an SVG
drawn here from the report's figures (each indicator against its target over its last 12
periods, the breaches by time limit and tier, the per-person table). Labels are zh-CN first,
English after.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from engine.diagnostics.catalogue import say
from engine.diagnostics.language import current_language
from engine.diagnostics.spans import span
from engine.model import localized
from engine.model.words import pad
from engine.reports.board import BoardItem
from engine.reports.indicators import Counts, IndicatorResult
from engine.reports.report import Report

FORMATS = ("text", "json", "csv", "html")


def _label(result: IndicatorResult, lang: str = "zh-CN") -> str:
    return localized(result.kpi.label, result.kpi.id, lang)


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:f}%"


def _verdict(met: bool | None, language: str | None = None) -> str:
    key = {True: "met", False: "not_met", None: "no_data"}[met]
    return say(f"report_text.{key}", language)


def to_text(report: Report) -> str:
    """The report for a terminal, in the language spoken."""
    lang = current_language()
    lines = [say("report_text.heading", estate=report.estate, period=report.period.name)]
    for result in report.results:
        counts = result.counts
        lines.append(
            say(
                "report_text.line",
                id=result.kpi.id,
                label=_label(result, lang),
                value=_percent(counts.percent),
                numerator=counts.numerator,
                denominator=counts.denominator,
                target=result.target,
                verdict=_verdict(result.met),
            )
        )
        lines += [
            say(
                "report_text.group",
                group=key,
                value=_percent(group.percent),
                numerator=group.numerator,
                denominator=group.denominator,
            )
            for key, group in result.groups.items()
        ]
        if result.missed:
            lines.append(say("report_text.missed", cases=", ".join(result.missed)))
    return "\n".join(lines) + "\n"


def _counts_json(counts: Counts) -> dict[str, Any]:
    percent = counts.percent
    return {
        "numerator": counts.numerator,
        "denominator": counts.denominator,
        "value": None if percent is None else float(percent),
    }


def report_document(report: Report) -> dict[str, Any]:
    """The report as plain data: what ``--format json`` prints and the service returns."""
    return {
        "estate": report.estate,
        "period": report.period.name,
        "from": report.period.start.isoformat(),
        "to": report.period.end.isoformat(),
        "by": report.by,
        "indicators": [
            {
                "id": r.kpi.id,
                "label": _label(r),
                "source": r.kpi.source,
                "target": str(r.target),
                "met": r.met,
                **_counts_json(r.counts),
                "missed": list(r.missed),
                "groups": {key: _counts_json(group) for key, group in r.groups.items()},
            }
            for r in report.results
        ],
    }


def to_json(report: Report) -> str:
    """The report as a JSON document."""
    return json.dumps(report_document(report), ensure_ascii=False, indent=2) + "\n"


def to_csv(report: Report) -> str:
    """One row per indicator (and per group when broken down)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indicator", "group", "numerator", "denominator", "value", "target", "met",
                     "missed"])  # fmt: skip
    for r in report.results:
        percent = r.counts.percent
        met = "" if r.met is None else str(r.met).lower()
        value = "" if percent is None else f"{percent:f}"
        writer.writerow([r.kpi.id, "", r.counts.numerator, r.counts.denominator, value,
                         str(r.target), met, " ".join(r.missed)])  # fmt: skip
        for key, group in r.groups.items():
            share = group.percent
            writer.writerow([r.kpi.id, key, group.numerator, group.denominator,
                             "" if share is None else f"{share:f}", "", "", ""])  # fmt: skip
    return out.getvalue()


_STYLE = (
    "body{font-family:'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;margin:2em;"
    "color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;"
    "padding:.3em .6em;text-align:left}.met{color:#1a7f37}.missed{color:#b42318}"
    "section{page-break-inside:avoid}@media print{body{margin:1cm}}"
)


def _history_svg(points: tuple[tuple[str, Counts], ...], target: Decimal) -> str:
    """A line of the indicator's value per period against a dashed target line."""
    width, height, pad = 480, 160, 30
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def y(value: Decimal) -> float:
        return height - pad - float(value) / 100 * (height - 2 * pad)

    marks = []
    line = []
    for index, (name, counts) in enumerate(points):
        x = pad + index * step
        if counts.percent is not None:
            line.append(f"{x:.1f},{y(counts.percent):.1f}")
            marks.append(
                f'<circle cx="{x:.1f}" cy="{y(counts.percent):.1f}" r="3" fill="#1f6feb">'
                f"<title>{escape(name)}: {counts.percent:f}%</title></circle>"
            )
        marks.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="8" text-anchor="middle">'
            f"{escape(name[-2:])}</text>"
        )
    target_y = y(target)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="history">'
        f'<line x1="{pad}" y1="{target_y:.1f}" x2="{width - pad}" y2="{target_y:.1f}" '
        f'stroke="#b42318" stroke-dasharray="4 3"/>'
        f'<text x="{width - pad}" y="{target_y - 4:.1f}" font-size="9" text-anchor="end" '
        f'fill="#b42318">目标 target {target:f}%</text>'
        f'<polyline points="{" ".join(line)}" fill="none" stroke="#1f6feb" stroke-width="2"/>'
        + "".join(marks)
        + "</svg>"
    )


def _breaches_svg(breaches: tuple[tuple[str, int, int], ...]) -> str:
    """Horizontal bars: clocks breached in the period, per time limit and tier."""
    if not breaches:
        return "<p>本期无超时。No breaches in the period.</p>"
    most = max(n for _, _, n in breaches)
    row, width = 18, 300
    bars = []
    for index, (limit, tier, n) in enumerate(breaches):
        length = width * n / most
        top = index * row
        bars.append(
            f'<text x="0" y="{top + 13}" font-size="11">{escape(limit)} · tier {tier}</text>'
            f'<rect x="220" y="{top + 3}" width="{length:.1f}" height="12" fill="#d4a72c"/>'
            f'<text x="{225 + length:.1f}" y="{top + 13}" font-size="11">{n}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{220 + width + 40}" '
        f'height="{row * len(breaches) + 4}" role="img" aria-label="breaches">'
        + "".join(bars)
        + "</svg>"
    )


def to_html(report: Report) -> str:
    """One self-contained, printable HTML page."""
    parts = [
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>考核指标报告 Indicator report · {escape(report.estate)} · "
        f"{escape(report.period.name)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>考核指标报告 <small>Indicator report</small></h1><p>项目 Estate: "
        f"{escape(report.estate)} · 期间 Period: {escape(report.period.name)}</p>",
        "<table><tr><th>指标 Indicator</th><th>数值 Value</th><th>目标 Target</th>"
        "<th>结果 Result</th><th>计数 Counts</th><th>未达标案件 Missed cases</th></tr>",
    ]
    for r in report.results:
        css = {True: "met", False: "missed", None: ""}[r.met]
        parts.append(
            f"<tr><td>{escape(_label(r))}<br><small>{escape(_label(r, 'en'))}</small></td>"
            f"<td>{_percent(r.counts.percent)}</td><td>{escape(str(r.target))}</td>"
            f'<td class="{css}">{_verdict(r.met, "zh-CN")} {_verdict(r.met, "en")}</td>'
            f"<td>{r.counts.numerator}/{r.counts.denominator}</td>"
            f"<td>{escape(', '.join(r.missed)) or '—'}</td></tr>"
        )
    parts.append("</table>")
    for r in report.results:
        points = (report.history or {}).get(r.kpi.id, ())
        parts.append(
            f"<section><h2>{escape(_label(r))} <small>{escape(_label(r, 'en'))}</small></h2>"
            f"<p>出处 Source: {escape(r.kpi.source or '—')}</p>"
            + (_history_svg(points, r.target.percent) if points else "")
        )
        people = (report.people or {}).get(r.kpi.id, {})
        if people:
            parts.append(
                "<table><tr><th>经办人 Person</th><th>数值 Value</th><th>计数 Counts</th></tr>"
            )
            for person, counts in people.items():
                parts.append(
                    f"<tr><td>{escape(person)}</td><td>{_percent(counts.percent)}</td>"
                    f"<td>{counts.numerator}/{counts.denominator}</td></tr>"
                )
            parts.append("</table>")
        parts.append("</section>")
    parts.append("<section><h2>超时（按时限和层级） <small>Breaches by limit and tier</small></h2>")
    parts.append(_breaches_svg(report.breaches))
    parts.append("</section></body></html>\n")
    return "".join(parts)


def render(report: Report, fmt: str) -> str:
    """The report in one of :data:`FORMATS`."""
    writers = {"text": to_text, "json": to_json, "csv": to_csv, "html": to_html}
    return writers[fmt](report)


def board_text(board: dict[str, list[BoardItem]], now: datetime, timezone: str) -> str:
    """The overdue board for a terminal: per role, nearest deadline first, each deadline in
    the estate's time (as the supervisor reads the desk's clock) with how far it is."""
    if not board:
        return say("board.empty") + "\n"
    zone = ZoneInfo(timezone)
    lines = []
    for role, items in board.items():
        lines.append(f"{role}:")
        for item in items:
            far = span(item.due_in(now))
            when = say("board.overdue" if item.deadline <= now else "board.due_in", span=far)
            flag = say("board.overdue_flag" if item.overdue(now) else "board.due_flag")
            deadline = item.deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            lines.append(
                f"  {deadline}  {pad(flag, 8)}  {item.case_id}  {item.process}/"
                f"{item.state}  {item.limit_id}  ({when})"
            )
    return "\n".join(lines) + "\n"


def board_document(board: dict[str, list[BoardItem]], now: datetime) -> dict[str, Any]:
    """The overdue board as plain data: per role, nearest deadline first."""
    return {
        "at": now.isoformat(),
        "roles": {
            role: [
                {
                    "case": item.case_id,
                    "process": item.process,
                    "state": item.state,
                    "limit": item.limit_id,
                    "deadline": item.deadline.isoformat(),
                    "breached": item.breached,
                    "overdue": item.overdue(now),
                    "tier": item.tier,
                }
                for item in items
            ]
            for role, items in board.items()
        },
    }


def board_json(board: dict[str, list[BoardItem]], now: datetime) -> str:
    """The overdue board as a JSON document."""
    return json.dumps(board_document(board, now), ensure_ascii=False, indent=2) + "\n"
