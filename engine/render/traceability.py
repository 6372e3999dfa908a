"""Traceability: which time limit or process element encodes each figure of the source manuals.

``docs/traceability.md`` is generated from this module so that it cannot go stale::

    python -m engine.render.traceability > docs/traceability.md

It has two parts. The first is built from the loaded library: every time limit with its
process, figure (limit, deadline or recurrence, and calendar), escalation and extension, and
the manual clause it cites. The second is the hand-maintained mapping in ``traceability.yaml``
beside this module: every figure row of the time-limit tables in the domain catalogue
(``DOMAIN.md``: repair §1, complaint §2, handover §3, meetings §4, call-centre steps §6), each
mapped to the rule ids or process elements (state, event, field) that encode it, or marked
"not encoded" with the reason and the work that will encode it. The mapping is content, not
code, so it is a data file, read safely and checked against :class:`Mapping` when loaded.
``tests/library/test_traceability.py`` checks that the document equals :func:`markdown`, that
every reference names something in the library, and that every time limit is traced to at
least one figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.checks.validation import validate_paths
from engine.io.library import Library
from engine.io.resources import standard_library_dirs
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

#: The figure mapping, shipped beside this module.
MAPPING_FILE = Path(__file__).with_name("traceability.yaml")

#: The kinds of process element a figure can be encoded by (besides a time limit).
ELEMENT_KINDS = ("state", "event", "field")

#: Rules-file items other than time limits that can encode a figure.
RULE_ITEM_KINDS = ("schedule", "quota", "kpi")

GENERATE_COMMAND = "python -m engine.render.traceability > docs/traceability.md"

RefKind = Literal["rule", "schedule", "quota", "kpi", "state", "event", "field"]


class TraceabilityError(ValueError):
    """The mapping file cannot be read, or is not a valid mapping; the message says where."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Frozen):
    """What encodes a figure: a time limit (``kind='rule'``), a schedule, quota or indicator
    (``kpi``), or a process's state/event/field.

    Written in the file as ``{rule: ID}`` or ``{event: ID, process: PROCESS}``.
    """

    kind: RefKind
    id: str
    process: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_file(cls, value: Any) -> Any:
        if not isinstance(value, dict) or "kind" in value:
            return value
        kinds = [key for key in value if key != "process"]
        if len(kinds) != 1:
            raise ValueError(
                "a reference names one of rule, schedule, quota, kpi, state, event or field, "
                f"got {', '.join(map(str, kinds)) or 'none'}"
            )
        (kind,) = kinds
        return {"kind": kind, "id": value[kind], "process": value.get("process")}

    @model_validator(mode="after")
    def _process_iff_element(self) -> Ref:
        if (self.kind in ELEMENT_KINDS) != (self.process is not None):
            needs = "needs" if self.kind in ELEMENT_KINDS else "takes no"
            raise ValueError(f"{self.kind} '{self.id}' {needs} 'process'")
        return self

    def __str__(self) -> str:
        if self.kind == "rule":
            return f"`{self.id}`"
        if self.kind in RULE_ITEM_KINDS:
            return f"{self.kind} `{self.id}`"
        return f"{self.process} {self.kind} `{self.id}`"


class Figure(_Frozen):
    """One figure row of the domain catalogue and what encodes it.

    ``encoded_by`` empty means not encoded; ``note`` then says why and which work will.
    """

    key: str = Field(pattern=r"^\d+\.\d+$")
    item: str = Field(min_length=1)
    figure: str = Field(min_length=1)
    source: str = Field(min_length=1)
    encoded_by: tuple[Ref, ...] = ()
    note: str = ""

    @property
    def encoded(self) -> bool:
        return bool(self.encoded_by)

    @model_validator(mode="after")
    def _says_why_not(self) -> Figure:
        if not self.encoded and not self.note:
            raise ValueError("a figure that is not encoded needs a reason or a note")
        return self


class Mapping(_Frozen):
    """The whole mapping file: catalogue order, sections and the figure rows."""

    #: Processes in the order the domain catalogue describes them; any other process follows.
    processes: tuple[str, ...]
    #: Section key → title, in the order the tables appear.
    sections: dict[str, str]
    figures: tuple[Figure, ...]

    @model_validator(mode="before")
    @classmethod
    def _resolve_reasons(cls, value: Any) -> Any:
        """A row's ``reason: ID`` names a shared text of ``reasons``; its note follows it."""
        if not isinstance(value, dict) or not isinstance(value.get("figures"), list):
            return value
        reasons = value.get("reasons") or {}
        rows: list[Any] = []
        for index, row in enumerate(value["figures"]):
            if isinstance(row, dict) and "reason" in row:
                row = dict(row)
                reason = row.pop("reason")
                if reason not in reasons:
                    known = ", ".join(map(str, reasons)) or "none"
                    raise ValueError(
                        f"figures.{index}: no reason '{reason}' in 'reasons' (known: {known})"
                    )
                row["note"] = "; ".join(filter(None, (reasons[reason], row.get("note"))))
            rows.append(row)
        return {key: v for key, v in value.items() if key != "reasons"} | {"figures": rows}

    @model_validator(mode="after")
    def _keys_and_sections(self) -> Mapping:
        seen: set[str] = set()
        for figure in self.figures:
            if figure.key in seen:
                raise ValueError(f"figure key '{figure.key}' is used twice")
            seen.add(figure.key)
            if figure.key.split(".")[0] not in self.sections:
                raise ValueError(f"figure '{figure.key}' is in no section of 'sections'")
        return self


def load_mapping(path: Path = MAPPING_FILE) -> Mapping:
    """Read and check the figure mapping; a :class:`TraceabilityError` names what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise TraceabilityError(f"{path.name}: cannot read the figure mapping: {error}") from None
    try:
        return Mapping.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{path.name}: {'.'.join(map(str, problem['loc'])) or 'top level'}: {problem['msg']}"
            for problem in error.errors()
        ]
        raise TraceabilityError("\n".join(problems)) from None


MAPPING = load_mapping()
#: The figure rows of :data:`MAPPING`, in file order.
FIGURES = MAPPING.figures
#: Section key → title, in the order the tables appear.
SECTIONS = MAPPING.sections

# Loading and checking ----------------------------------------------------------------------------


def load_library() -> Library:
    """The shipped standard library."""
    return validate_paths(standard_library_dirs()).library


def time_limits(library: Library) -> list[TimeLimitDef]:
    """The library's time limits, grouped by process in catalogue order, in file order within."""
    order = MAPPING.processes
    processes = [*order, *(p for p in library.process_ids if p not in order)]
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
        "kpi": {located.definition.id for located in library.kpis},
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


def _kpi_table(library: Library, figures: Sequence[Figure]) -> list[str]:
    traced: dict[str, list[str]] = {}
    for figure in figures:
        for ref in figure.encoded_by:
            if ref.kind == "kpi":
                traced.setdefault(ref.id, []).append(figure.key)
    lines = [
        "| id | process | label | counts | target | source | traces |",
        "|---|---|---|---|---|---|---|",
    ]
    for located in library.kpis:
        kpi = located.definition
        counted = {"clocks": f"clocks of {', '.join(kpi.limits)}",
                   "events": f"{', '.join(kpi.events)} entries"}.get(kpi.unit, "cases")  # fmt: skip
        cells = [f"`{kpi.id}`", kpi.process, localized(kpi.label, kpi.id),
                 f"{counted}, per {kpi.period}", kpi.target, kpi.source or "—",
                 ", ".join(traced.get(kpi.id, [])) or "—"]  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _pattern_table(library: Library) -> list[str]:
    lines = [
        "| id | counts | correlated by | how many, within | does | source and defaults |",
        "|---|---|---|---|---|---|",
    ]
    for located in library.patterns:
        pattern = located.definition
        match = pattern.match
        counted = ", ".join([*match.event, *(f"entering {s}" for s in match.enter)])
        if pattern.with_open is not None:
            pairs = ", ".join(f"{a} = {b}" for a, b in pattern.with_open.same.items())
            correlated = f"an open {pattern.with_open.process} ({pairs})"
        else:
            correlated = ", ".join(pattern.same) or "—"
        window = (
            f"{pattern.count} within {pattern.within}" if pattern.within else str(pattern.count)
        )
        does = ", ".join(action.kind for action in pattern.actions)
        cells = [f"`{pattern.id}`", f"{match.process}: {counted}", correlated, window, does,
                 pattern.source or "—"]  # fmt: skip
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
        "`DOMAIN.md` §1–§6) with the rule, schedule, quota, indicator or process element that "
        "encodes it. "
        "The first tables are built from the YAML; the others from the mapping in "
        "`engine/render/traceability.yaml`. `tests/library/test_traceability.py` fails when this "
        "file "
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
        "",
        "## Indicators in the library",
        "",
        "Indicators (`kpis:`) are computed by `propflow report` from the cases' clocks and "
        "audit log; where the seeds disagree the library ships the stricter target.",
        "",
        *_kpi_table(library, figures),
        "",
        "## Patterns in the library",
        "",
        "Patterns (`patterns:`) watch many cases of an estate at once. The seeds name the "
        "concern (the service centre is held to its 返修率, a complaint must be investigated "
        "the same day) but give no count or window: the figures marked *library default* are "
        "the library's choice, for an estate to patch.",
        "",
        *_pattern_table(library),
    ]
    for key, title in SECTIONS.items():
        rows = [f for f in figures if f.key.split(".")[0] == key]
        lines += ["", f"## {title}", "", *_figures_table(rows)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
