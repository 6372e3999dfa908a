"""The procedure manual (程序手册): one section per process, in the source manuals' structure.

Chinese property-management companies keep each procedure in their ISO 9001 manual as
目的 / 适用范围 / 职责 / 操作规程 / 相关记录. The generated manual keeps that shape and adds
what the engine knows better than any hand-written copy:

1. 目的 Purpose — the process description;
2. 适用范围 Scope;
3. 职责 Responsibilities — each role and its duties;
4. 操作规程 Procedure — the flow diagram (a large one as its main line and its exceptions,
   :mod:`engine.render.split`), then every stage — the main line's first, in walking
   order, then the exceptions' — with what can be done there: by whom, on what condition (in plain
   words), what must be filled in, what the system does; the clocks that start, stop or pause
   at the stage; an event that can be fired from several stages is described at the first and
   referred to at the others;
5. 时限 Time limits — each with its condition, clock, limit or deadline, calendar, warnings,
   extensions (who approves, consents needed), breach actions and later escalation tiers;
6. 质量标准与考核指标 Quality standards — the indicators declared on the process, with their
   targets and periods (only where there are some);
7. 相关记录 Records — the form and its fields with types and value labels;
8. 相关文件 Related documents — the forms of this procedure and of the procedures it opens or
   is opened from, and the source manuals it follows by title;

and an appendix with the calendars the time limits count on. Everything is in the chosen
language (labels fall back zh-CN → en → id). This module builds a small document tree;
:mod:`engine.render.markdown` and :mod:`engine.render.html` write it out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from engine.io.library import Library
from engine.model import (
    CalendarDef,
    DocumentDef,
    EstateDef,
    EventDef,
    KpiDef,
    Open,
    PatternDef,
    ProcessDef,
    StateDef,
    TimeLimitDef,
    Trigger,
    localized,
)
from engine.model.patterns import Link
from engine.model.words import (
    NO_OTHERS,
    Lang,
    Others,
    action_words,
    anchored_words,
    cited,
    colon,
    condition_words,
    consent_name,
    duration_words,
    event_name,
    field_name,
    form_name,
    heading_number,
    join_list,
    parenthesized,
    period_words,
    quoted,
    role_name,
    roles_text,
    sentence,
    set_words,
    source_documents,
    state_name,
    target_words,
    timezone_words,
    type_name,
    value_words,
    warning_words,
    word,
)
from engine.render.diagram import (
    MARK_ORDER,
    Diagram,
    LimitMark,
    MarkKind,
    build_diagram,
    events_from,
    limit_marks,
)
from engine.render.split import reading_order, split_diagram
from engine.render.traceability import MAPPING

# --- the document tree ----------------------------------------------------------------------

Style = Literal["plain", "strong", "code"]


@dataclass(frozen=True)
class Run:
    """A piece of inline text."""

    text: str
    style: Style = "plain"


Inline = tuple[Run, ...]


def plain(text: str) -> Inline:
    return (Run(text),)


def label_runs(text: str, lang: Lang) -> Inline:
    """`**办理**：` — a label in bold, its colon outside."""
    return (Run(text, "strong"), Run(colon(lang)))


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    runs: Inline
    #: ``meta`` (source and form lines under a process title) or ``note``.
    role: str = ""


@dataclass(frozen=True)
class Item:
    """A list item: a head line and detail lines below it."""

    head: Inline
    details: tuple[Inline, ...] = ()


@dataclass(frozen=True)
class BulletList:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]
    #: Suggested column widths in percent (HTML), empty for automatic.
    widths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Figure:
    diagram: Diagram
    caption: str


Block = Heading | Paragraph | BulletList | Table | Figure


@dataclass(frozen=True)
class Section:
    """One process: the unit that starts on a new page in print."""

    process_id: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Manual:
    title: str
    lang: Lang
    intro: tuple[Block, ...]
    #: (anchor, text) of each process section, for the table of contents.
    contents: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    appendix: tuple[Block, ...] = field(default=())


# --- prose clean-up -------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def prose(text: str, lang: Lang) -> str:
    """One line of prose: whitespace collapsed, the spaces YAML folding leaves between two
    Chinese characters (`业主满意。 规范报修`) removed, and source manuals cited by title."""
    text = _SPACE.sub(" ", cited(text, lang)).strip()
    return "".join(
        char
        for index, char in enumerate(text)
        if not (
            char == " "
            and 0 < index < len(text) - 1
            and _wide(text[index - 1])
            and _wide(text[index + 1])
        )
    )


def anchor(process_id: str, *parts: str) -> str:
    return "-".join(("p", process_id, *parts))


#: The library's presentation order of its procedures (engine/render/traceability.yaml).
CATALOGUE: tuple[str, ...] = MAPPING.processes


# --- building -------------------------------------------------------------------------------


def build_manual(
    library: Library, lang: Lang = "zh-CN", catalogue: Sequence[str] = CATALOGUE
) -> Manual:
    """The manual of every process in ``library`` (the first definition of each id): in the
    estate's declared order (``document.order``), then the ``catalogue`` order, then load
    order; with the estate's document control at the front."""
    estate = library.estates[0].definition if library.estates else None
    document = estate.document if estate is not None else None
    processes: list[ProcessDef] = []
    for located in library.processes:
        if all(p.id != located.definition.id for p in processes):
            processes.append(located.definition)
    processes = ordered(processes, (*(document.order if document else ()), *catalogue))
    limits = [located.definition for located in library.time_limits]
    kpis: dict[str, KpiDef] = {}
    for located_kpi in library.kpis:
        kpis.setdefault(located_kpi.definition.id, located_kpi.definition)
    calendars: dict[str, CalendarDef] = {}
    for located_calendar in library.calendars:
        calendars.setdefault(located_calendar.definition.id, located_calendar.definition)
    sections = tuple(
        _ProcessWriter(
            process,
            [t for t in limits if t.process == process.id],
            calendars,
            lang,
            {other.id: other for other in processes},
            [k for k in kpis.values() if k.process == process.id],
        ).section()
        for process in processes
    )
    title = word("manual_title", lang)
    contents = tuple(
        (anchor(process.id), localized(process.title, process.id, lang)) for process in processes
    )
    shown = {process.id for process in processes}
    used = [
        calendars[cid]
        for cid in dict.fromkeys(t.calendar for t in limits if t.calendar and t.process in shown)
        if cid in calendars
    ]
    return Manual(
        title=title,
        lang=lang,
        intro=(
            *document_control(estate, lang),
            Paragraph(plain(word("manual_intro", lang)), "note"),
        ),
        contents=contents,
        sections=sections,
        appendix=(
            *_calendar_appendix(used, lang),
            *_pattern_appendix(
                [located.definition for located in library.patterns],
                {process.id: process for process in processes},
                lang,
            ),
        ),
    )


def ordered(processes: Sequence[ProcessDef], order: Sequence[str]) -> list[ProcessDef]:
    """``processes`` with the ids named in ``order`` first, in that order (the first mention
    counts; ids of no process are passed over), then the rest as they came."""
    rank = {pid: index for index, pid in reversed(list(enumerate(order)))}
    return sorted(processes, key=lambda p: rank.get(p.id, len(rank)))  # stable


def document_control(estate: EstateDef | None, lang: Lang) -> tuple[Block, ...]:
    """The cover table a client signs — estate, number, version, 编制 / 审核 / 批准, effective
    date — and the revision record; the signature cells stay blank for a hand signature when
    the estate names no one. Nothing without an estate."""
    if estate is None:
        return ()
    document = estate.document or DocumentDef()

    def row(key: str, value: str | None) -> tuple[Inline, Inline]:
        return (plain(word(key, lang)), plain(value or ""))

    cover = Table(
        header=(word("document_control", lang), word("blank", lang)),
        rows=(
            row("estate_name", localized(estate.title, estate.id, lang)),
            row("document_number", document.number),
            row("document_version", document.version),
            row("prepared_by", document.prepared_by),
            row("reviewed_by", document.reviewed_by),
            row("approved_by", document.approved_by),
            row("effective", document.effective),
        ),
        widths=(30, 70),
    )
    if not document.revisions:
        return (cover,)
    revisions = Table(
        header=tuple(
            word(key, lang)
            for key in ("document_version", "revision_date", "revision_change", "revision_by")
        ),
        rows=tuple(
            (
                plain(revision.version),
                plain(revision.date),
                plain(localized(revision.change, "", lang)),
                plain(revision.by or ""),
            )
            for revision in document.revisions
        ),
        widths=(15, 20, 45, 20),
    )
    return (cover, Heading(2, word("revisions", lang), "revisions"), revisions)


class _ProcessWriter:
    """Writes the section of one process."""

    def __init__(
        self,
        process: ProcessDef,
        limits: Sequence[TimeLimitDef],
        calendars: Mapping[str, CalendarDef],
        lang: Lang,
        others: Others = NO_OTHERS,
        kpis: Sequence[KpiDef] = (),
    ) -> None:
        self.process = process
        self.others = others
        self.kpis = kpis
        self.limits = limits
        self.calendars = calendars
        self.lang = lang
        self.diagram = build_diagram(process, limits, lang, limits=False)
        # The proper end: the final state the definition lists first (closed, not cancelled).
        self.ending = next((sid for sid, state in process.states.items() if state.final), None)
        self.order = reading_order(self.diagram, self.ending)
        self.numbers = {sid: index for index, sid in enumerate(self.order, start=1)}

    def w(self, key: str) -> str:
        return word(key, self.lang)

    def label(self, key: str) -> Inline:
        """A detail's label: **办理**： (the colon outside the bold, which Markdown needs
        between Chinese punctuation and a Chinese character)."""
        return label_runs(self.w(key), self.lang)

    def section(self) -> Section:
        p, lang = self.process, self.lang
        title = localized(p.title, p.id, lang)
        blocks: list[Block] = [Heading(2, title, anchor(p.id))]
        meta: list[Run] = []
        if p.record:
            meta += [
                *self.label("record_form"),
                Run(form_name(localized(p.record, "", lang), lang)),
            ]
        if p.source:
            if meta:
                meta.append(Run("　" if lang == "zh-CN" else " · "))
            meta += [*self.label("source"), Run(cited(p.source, lang))]
        if meta:
            blocks.append(Paragraph(tuple(meta), "meta"))
        parts = [
            ("purpose", self.purpose()),
            ("scope", self.scope()),
            ("roles", self.roles()),
            ("procedure", self.procedure()),
            ("time_limits", self.time_limits()),
        ]
        if self.kpis:
            parts.append(("quality", self.quality()))
        parts.append(("records", self.records()))
        related = self.related()
        if related:
            parts.append(("related", related))
        for index, (key, body) in enumerate(parts, start=1):
            blocks.append(Heading(3, heading_number(index, lang) + self.w(key), anchor(p.id, key)))
            blocks.extend(body)
        return Section(p.id, tuple(blocks))

    # 目的, 适用范围, 职责 ---------------------------------------------------------------------

    def _text(self, text: Mapping[str, str] | None) -> list[Block]:
        shown = prose(localized(text, "", self.lang), self.lang)
        return [Paragraph(plain(shown if shown else self.w("not_stated")))]

    def purpose(self) -> list[Block]:
        return self._text(self.process.description)

    def scope(self) -> list[Block]:
        return self._text(self.process.scope)

    def roles(self) -> list[Block]:
        items = []
        for role_id, role in self.process.roles.items():
            duties = prose(localized(role.duties, "", self.lang), self.lang) or self.w("no_duties")
            said = sentence(duties, self.lang)
            if role.bound_to is not None:  # a party, not a post: say whose cases they reach
                field = quoted(field_name(self.process, role.bound_to, self.lang), self.lang)
                said += (" " if self.lang == "en" else "") + sentence(
                    self.w("party").format(field=field), self.lang
                )
            items.append(
                Item(
                    (
                        Run(role_name(self.process, role_id, self.lang), "strong"),
                        Run(colon(self.lang) + said),
                    )
                )
            )
        return [BulletList(tuple(items))] if items else [Paragraph(plain(self.w("not_stated")))]

    # 操作规程 --------------------------------------------------------------------------------

    def procedure(self) -> list[Block]:
        p, lang = self.process, self.lang
        caption = (
            f"{localized(p.title, p.id, lang)}{'　' if lang == 'zh-CN' else ' — '}"
            f"{self.w('diagram')}"
        )
        blocks: list[Block] = [Paragraph(plain(self.w("steps_intro")))]
        parts = split_diagram(self.diagram, self.ending)
        for part in parts:
            if len(parts) == 1:
                shown = caption
            elif part.main:
                shown = caption + parenthesized(self.w("main_line"), lang)
            else:
                about = join_list(part.about, lang)
                shown = caption + parenthesized(f"{self.w('exception')}{colon(lang)}{about}", lang)
            blocks.append(Figure(part.diagram, shown))
        marks = limit_marks(p, self.limits, lang)
        first_seen: dict[str, str] = {}
        for sid in self.order:
            blocks += self.stage(sid, p.states[sid], marks.get(sid, []), first_seen)
        return blocks

    def stage(
        self,
        sid: str,
        state: StateDef,
        marks: Sequence[LimitMark],
        first_seen: dict[str, str],
    ) -> list[Block]:
        lang = self.lang
        number = self.numbers[sid]
        name = localized(state.label, sid, lang)
        tags = []
        if state.initial:
            tags.append(self.w("initial"))
        if state.final:
            tags.append(self.w("final"))
        suffix = (
            f"（{join_list(tags, lang)}）"
            if tags and lang == "zh-CN"
            else (f" ({', '.join(tags)})" if tags else "")
        )
        blocks: list[Block] = [
            Heading(4, f"{number}. {name}{suffix}", anchor(self.process.id, "s", sid))
        ]
        description = prose(localized(state.description, "", lang), lang)
        if description:
            blocks.append(Paragraph(plain(sentence(description, lang))))
        notes: list[Item] = []
        for key, actions in (("on_enter", state.on_enter), ("on_exit", state.on_exit)):
            if actions:
                text = join_list(
                    (action_words(self.process, a, lang, self.others) for a in actions), lang
                )
                notes.append(Item((*self.label(key), Run(text))))
        clock = self._clock_line(marks)
        if clock:
            notes.append(Item((*self.label("clocks"), Run(clock))))
        if notes:
            blocks.append(BulletList(tuple(notes)))
        events = events_from(self.process, sid)
        items: list[Item] = []
        for index, event in enumerate(events, start=1):
            if event.id in first_seen:
                items.append(self._reference(event, first_seen[event.id]))
                continue
            key = f"{number}.{index}"
            first_seen[event.id] = key
            items.append(self._event(event, key))
        if items:
            blocks.append(BulletList(tuple(items)))
        elif state.final:
            blocks.append(Paragraph(plain(self.w("final_note"))))
        else:
            blocks.append(Paragraph(plain(self.w("no_events"))))
        return blocks

    def _clock_line(self, marks: Sequence[LimitMark]) -> str:
        """The clocks acting at a stage: `开始计时：甲、乙；暂停计时：丙`."""
        groups: dict[MarkKind, list[str]] = {}
        for mark in sorted(marks, key=lambda m: MARK_ORDER.index(m.kind)):
            groups.setdefault(mark.kind, []).append(f"{mark.label}{mark.how}")
        sep = "；" if self.lang == "zh-CN" else "; "
        return sep.join(
            f"{word(kind, self.lang)}{colon(self.lang)}{join_list(labels, self.lang)}"
            for kind, labels in groups.items()
        )

    def _target(self, event: EventDef) -> Run:
        if event.target is None:
            return Run(
                f"（{self.w('stays')}）" if self.lang == "zh-CN" else f" ({self.w('stays')})"
            )
        target = state_name(self.process, event.target, self.lang)
        number = self.numbers.get(event.target)
        shown = f"{number}. {target}" if number else target
        return Run(f" → {shown}")

    def _reference(self, event: EventDef, key: str) -> Item:
        name = localized(event.label, event.id, self.lang)
        see = f"（{self.w('see')} {key}）" if self.lang == "zh-CN" else f" ({self.w('see')} {key})"
        return Item((Run(name, "strong"), self._target(event), Run(see)))

    def _event(self, event: EventDef, key: str) -> Item:
        p, lang = self.process, self.lang
        head = (
            Run(f"{key} {localized(event.label, event.id, lang)}", "strong"),
            self._target(event),
        )
        details: list[Inline] = []
        description = prose(localized(event.description, "", lang), lang)
        if description:
            details.append((*self.label("description"), Run(sentence(description, lang))))
        details.append((*self.label("by"), Run(roles_text(p, event.roles, lang))))
        condition = condition_words(event.guard, p, lang, self.others)
        if condition:
            details.append((*self.label("condition"), Run(condition)))
        if event.requires:
            names = join_list((field_name(p, f, lang) for f in event.requires), lang)
            details.append((*self.label("requires"), Run(names)))
        if event.assigns:
            details.append((*self.label("sets"), Run(set_words(p, event.assigns, lang))))
        if event.actions:
            text = join_list((action_words(p, a, lang, self.others) for a in event.actions), lang)
            details.append((*self.label("then"), Run(text)))
        return Item(head, tuple(details))

    # 时限 ------------------------------------------------------------------------------------

    def time_limits(self) -> list[Block]:
        if not self.limits:
            return [Paragraph(plain(self.w("no_time_limits")))]
        blocks: list[Block] = []
        for index, limit in enumerate(self.limits, start=1):
            name = localized(limit.label, limit.id, self.lang)
            blocks.append(Heading(4, f"{index}. {name}", anchor(self.process.id, "t", limit.id)))
            blocks.append(BulletList(tuple(Item(line) for line in self._limit_lines(limit))))
        return blocks

    def _limit_lines(self, limit: TimeLimitDef) -> list[Inline]:
        p, lang = self.process, self.lang
        lines: list[Inline] = []
        applies = condition_words(limit.guard, p, lang, self.others) or self.w("every_case")
        lines.append((*self.label("applies"), Run(applies)))
        if limit.every is not None:
            every = (
                duration_words(limit.every_duration, lang) if limit.every_duration else limit.every
            )
            where = self._states_text(limit.while_in.states if limit.while_in else ())
            text = (
                f"每{every}（处于{where}时）"
                if lang == "zh-CN"
                else f"every {every} (while in {where})"
            )
            lines.append((*self.label("every"), Run(text)))
        else:
            if limit.limit is not None:
                shown = (
                    duration_words(limit.limit_duration, lang)
                    if limit.limit_duration
                    else limit.limit
                )
                lines.append((*self.label("limit"), Run(shown)))
            if limit.deadline is not None:
                shown = (
                    anchored_words(limit.deadline_anchor, p, lang)
                    if limit.deadline_anchor
                    else limit.deadline
                )
                lines.append((*self.label("deadline"), Run(shown)))
            lines.append((*self.label("clock"), Run(self._clock_text(limit))))
        lines.append((*self.label("calendar"), Run(self._calendar_text(limit.calendar))))
        if limit.warnings:
            text = join_list((warning_words(w, lang) for w in limit.warnings), lang)
            lines.append((*self.label("warn"), Run(text)))
        if limit.extend is not None:
            lines.append(
                (
                    *self.label("extend"),
                    Run(self._extension_text(limit.extend.by, limit.extend.needs)),
                )
            )
        if limit.on_breach:
            text = join_list((action_words(p, a, lang, self.others) for a in limit.on_breach), lang)
            lines.append((*self.label("on_breach"), Run(text)))
        for tier in limit.tiers:
            after = duration_words(tier.after_duration, lang) if tier.after_duration else tier.after
            parts = []
            if tier.extend_by:
                parts.append(self._extension_text(tier.extend_by, ()))
            parts += [action_words(p, a, lang, self.others) for a in tier.actions]
            when = f"自开始计时起{after}" if lang == "zh-CN" else f"{after} after the clock started"
            lines.append(
                (*self.label("tiers"), Run(f"{when}{colon(lang)}{join_list(parts, lang)}"))
            )
        if limit.on_due:
            text = join_list((action_words(p, a, lang, self.others) for a in limit.on_due), lang)
            lines.append((*self.label("on_due"), Run(text)))
        description = prose(localized(limit.description, "", lang), lang)
        if description:
            lines.append((*self.label("description"), Run(sentence(description, lang))))
        if limit.source:
            lines.append((*self.label("source"), Run(cited(limit.source, lang))))
        return lines

    def _states_text(self, states: Iterable[str]) -> str:
        names = [f"“{state_name(self.process, s, self.lang)}”" for s in states]
        return join_list(names, self.lang)

    def _events_text(self, events: Iterable[str]) -> str:
        names = [f"“{event_name(self.process, e, self.lang)}”" for e in events]
        return ("或" if self.lang == "zh-CN" else " or ").join(names)

    def _trigger_text(self, trigger: Trigger) -> str:
        zh = self.lang == "zh-CN"
        either = "或" if zh else " or "
        parts = []
        if trigger.enter:
            states = either.join(
                f"“{state_name(self.process, s, self.lang)}”" for s in trigger.enter
            )
            parts.append(f"进入{states}时" if zh else f"on entering {states}")
        if trigger.exit:
            states = either.join(
                f"“{state_name(self.process, s, self.lang)}”" for s in trigger.exit
            )
            parts.append(f"离开{states}时" if zh else f"on leaving {states}")
        if trigger.event:
            events = self._events_text(trigger.event)
            parts.append(f"办理{events}后" if zh else f"after {events}")
        return ("，或" if zh else "; or ").join(parts)

    def _clock_text(self, limit: TimeLimitDef) -> str:
        """`办理“登记报修单”后开始计时；进入“已签字待回访”时停止计时；处于…时暂停计时` /
        `starts after “Record the repair form”; stops on entering “Signed off”; ...`."""
        zh, lang = self.lang == "zh-CN", self.lang
        parts: list[tuple[MarkKind, str]] = []
        start = self._trigger_text(limit.start) if limit.start else self.w("when_opened")
        parts.append(("starts", start))
        if limit.stop is not None:
            parts.append(("stops", self._trigger_text(limit.stop)))
        else:
            parts.append(("stops", "流程结束时" if zh else "when the procedure ends"))
        if limit.pause is not None and limit.pause.states:
            where = self._states_text(limit.pause.states)
            parts.append(("pauses", f"处于{where}时" if zh else f"while in {where}"))
        if limit.reset is not None:
            parts.append(("resets", self._trigger_text(limit.reset)))
        if zh:
            return "；".join(f"{when}{word(kind, lang)}" for kind, when in parts)
        return "; ".join(f"{word(kind, lang)} {when}" for kind, when in parts)

    def _calendar_text(self, calendar_id: str | None) -> str:
        if calendar_id is None:
            return self.w("default_calendar")
        calendar = self.calendars.get(calendar_id)
        return localized(calendar.label if calendar else None, calendar_id, self.lang)

    def _extension_text(self, by: Sequence[str], needs: Sequence[str]) -> str:
        zh = self.lang == "zh-CN"
        who = join_list((role_name(self.process, r, self.lang) for r in by), self.lang)
        text = f"可由{who}批准延期" if zh else f"approved by {who}"
        if needs:
            consents = join_list(
                (consent_name(self.process, n, self.lang) for n in needs), self.lang
            )
            text += f"，须取得{consents}" if zh else f", with {consents}"
        return text

    # 质量标准与考核指标 --------------------------------------------------------------------------

    def quality(self) -> list[Block]:
        """The indicators of this process against their targets, as the client's contract
        and the ISO audit check them."""
        lang = self.lang
        rows = []
        for kpi in self.kpis:
            goal = kpi.goal
            target = (
                target_words(goal.op, f"{goal.percent.normalize():f}", lang) if goal else kpi.target
            )
            note = sentence(prose(localized(kpi.description, "", lang), lang), lang)
            rows.append(
                (
                    plain(localized(kpi.label, kpi.id, lang)),
                    plain(target),
                    plain(period_words(kpi.period, lang)),
                    plain(note),
                    plain(cited(kpi.source, lang) if kpi.source else ""),
                )
            )
        keys = ("indicator", "target", "period", "details", "source")
        header = tuple(self.w(key) for key in keys)
        return [
            Paragraph(plain(self.w("quality_intro")), "note"),
            Table(header, tuple(rows), widths=(16, 12, 10, 44, 18)),
        ]

    # 相关文件 ----------------------------------------------------------------------------------

    def related(self) -> list[Block]:
        """The forms a clerk files with this procedure — its own, those of the procedures it
        opens and of those that open it — and the source manuals by title."""
        p, lang = self.process, self.lang
        items: list[Item] = []

        def form_of(other: ProcessDef) -> str:
            title = localized(other.title, other.id, lang)
            record = form_name(localized(other.record, "", lang), lang)
            return record + parenthesized(title, lang)

        if p.record:
            items.append(
                Item(
                    (
                        *self.label("this_record"),
                        Run(form_name(localized(p.record, "", lang), lang)),
                    )
                )
            )
        opened = [self.others[pid] for pid in _opened_processes(p) if pid in self.others]
        opening = [o for o in self.others.values() if p.id in _opened_processes(o)]
        for key, group in (("opens_record", opened), ("opened_by_record", opening)):
            forms = [form_of(other) for other in group if other.record and other.id != p.id]
            if forms:
                items.append(Item((*self.label(key), Run(join_list(forms, lang)))))
        documents = source_documents(p.source or "")
        if documents:
            items.append(Item((*self.label("source_document"), Run(join_list(documents, lang)))))
        return [BulletList(tuple(items))] if items else []

    # 相关记录 --------------------------------------------------------------------------------

    def records(self) -> list[Block]:
        p, lang = self.process, self.lang
        blocks: list[Block] = []
        if p.record:
            blocks.append(
                Paragraph((Run(form_name(localized(p.record, "", lang), lang), "strong"),))
            )
        if not p.fields:
            return [*blocks, Paragraph(plain(self.w("no_fields")))]
        rows = []
        for field_id, definition in p.fields.items():
            facts: list[str] = []
            if definition.type == "enum" and definition.values:
                values = join_list(
                    (value_words(p, field_id, v, lang) for v in definition.values), lang
                )
                facts.append(f"{self.w('values')}{colon(lang)}{values}")
            if definition.default is not None:
                shown = value_words(p, field_id, definition.default, lang)
                facts.append(f"{self.w('default')}{colon(lang)}{shown}")
            if definition.min is not None:
                facts.append(f"{self.w('minimum')} {_number(definition.min)}")
            if definition.max is not None:
                facts.append(f"{self.w('maximum')} {_number(definition.max)}")
            notes = [sentence(prose(localized(definition.description, "", lang), lang), lang)]
            if facts:
                joined = ("；" if lang == "zh-CN" else "; ").join(facts)
                notes.append(sentence(joined[0].upper() + joined[1:], lang))
            rows.append(
                (
                    plain(field_name(p, field_id, lang)),
                    plain(type_name(definition, lang)),
                    plain(self.w("yes") if definition.required else ""),
                    plain(("" if lang == "zh-CN" else " ").join(n for n in notes if n)),
                )
            )
        header = (self.w("field"), self.w("type"), self.w("required_at_open"), self.w("details"))
        return [*blocks, Table(header, tuple(rows), widths=(22, 12, 13, 53))]


def _opened_processes(process: ProcessDef) -> list[str]:
    """The processes whose cases ``process`` opens from its events and stages, in order."""
    actions = [
        *(a for event in process.events.values() for a in event.actions),
        *(a for state in process.states.values() for a in (*state.on_enter, *state.on_exit)),
    ]
    return list(dict.fromkeys(a.process for a in actions if isinstance(a, Open)))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- calendars appendix ---------------------------------------------------------------------

_DAYS = {
    "mon": ("周一", "Mon"),
    "tue": ("周二", "Tue"),
    "wed": ("周三", "Wed"),
    "thu": ("周四", "Thu"),
    "fri": ("周五", "Fri"),
    "sat": ("周六", "Sat"),
    "sun": ("周日", "Sun"),
}


def _weekdays(spec: str, lang: Lang) -> str:
    zh = lang == "zh-CN"

    def day(match: re.Match[str]) -> str:
        names = _DAYS.get(match.group(0).lower())
        return (names[0] if zh else names[1]) if names else match.group(0)

    text = re.sub(r"[A-Za-z]+", day, spec.replace(" ", ""))
    return text.replace("-", "至" if zh else "–").replace(",", "、" if zh else ", ")


def hours_text(calendar: CalendarDef, lang: Lang) -> str:
    if isinstance(calendar.hours, str):
        return word("always", lang)
    sep = "；" if lang == "zh-CN" else "; "
    return sep.join(
        f"{_weekdays(spec, lang)} {join_list((s.replace('-', '–') for s in spans), lang)}"
        for spec, spans in calendar.hours.items()
    )


def _calendar_appendix(calendars: Sequence[CalendarDef], lang: Lang) -> tuple[Block, ...]:
    if not calendars:
        return ()
    blocks: list[Block] = [Heading(2, word("calendars", lang), "calendars")]
    for calendar in calendars:
        name = localized(calendar.label, calendar.id, lang)
        blocks.append(Heading(3, name, f"calendar-{calendar.id}"))
        holidays = {"cn": word("holidays_cn", lang), "none": word("holidays_none", lang)}
        lines: list[Inline] = [
            (*label_runs(word("hours", lang), lang), Run(hours_text(calendar, lang))),
            (
                *label_runs(word("holidays", lang), lang),
                Run(holidays.get(calendar.holidays, calendar.holidays)),
            ),
            (
                *label_runs(word("timezone", lang), lang),
                Run(timezone_words(calendar.timezone, lang)),
            ),
        ]
        if calendar.closed:
            lines.append(
                (
                    *label_runs(word("closed_days", lang), lang),
                    Run(join_list(calendar.closed, lang)),
                )
            )
        if calendar.open:
            lines.append(
                (*label_runs(word("open_days", lang), lang), Run(join_list(calendar.open, lang)))
            )
        description = prose(localized(calendar.description, "", lang), lang)
        if description:
            lines.append(
                (*label_runs(word("description", lang), lang), Run(sentence(description, lang)))
            )
        blocks.append(BulletList(tuple(Item(line) for line in lines)))
    return tuple(blocks)


#: The log entry of a case's opening, counted by patterns as the event ``open``.
OPENING = "open"


def _pattern_appendix(
    patterns: Sequence[PatternDef], processes: Mapping[str, ProcessDef], lang: Lang
) -> tuple[Block, ...]:
    """The appendix of the patterns over the shown ``processes`` (none: no appendix)."""
    shown = [p for p in patterns if p.match.process in processes]
    if not shown:
        return ()
    blocks: list[Block] = [
        Heading(2, word("patterns", lang), "patterns"),
        Paragraph((Run(word("patterns_intro", lang)),), "note"),
    ]
    for pattern in shown:
        blocks.append(
            Heading(3, localized(pattern.label, pattern.id, lang), f"pattern-{pattern.id}")
        )
        blocks.append(BulletList(tuple(Item(line) for line in _lines(pattern, processes, lang))))
    return tuple(blocks)


def _lines(pattern: PatternDef, processes: Mapping[str, ProcessDef], lang: Lang) -> list[Inline]:
    zh = lang == "zh-CN"
    process = processes[pattern.match.process]
    title = localized(process.title, process.id, lang)
    moments = [
        (word("pattern_opening", lang) if e == OPENING else f"“{event_name(process, e, lang)}”")
        for e in pattern.match.event
    ]
    moments += [
        (
            f"进入“{state_name(process, s, lang)}”"
            if zh
            else f"entering “{state_name(process, s, lang)}”"
        )
        for s in pattern.match.enter
    ]
    counted = f"{title}{'：' if zh else ': '}{join_list(moments, lang)}"
    condition = condition_words(pattern.match.guard, process, lang)
    if condition:
        counted += f"（{condition}）" if zh else f" ({condition})"
    lines: list[Inline] = [_line("pattern_counts", counted, lang)]
    if pattern.with_open is not None:
        other = processes.get(pattern.with_open.process)
        name = localized(other.title, other.id, lang) if other else pattern.with_open.process
        pairs = join_list(
            (
                field_name(process, mine, lang)
                if other is None
                else f"{field_name(process, mine, lang)} = {field_name(other, theirs, lang)}"
                for mine, theirs in pattern.with_open.same.items()
            ),
            lang,
        )
        text = f"有未关闭的{name}案件，且{pairs}" if zh else f"an open {name} case with {pairs}"
        lines.append(_line("pattern_with_open", text, lang))
    if pattern.same:
        same = join_list((field_name(process, f, lang) for f in pattern.same), lang)
        lines.append(_line("pattern_same", same, lang))
    if pattern.window is not None:
        within = duration_words(pattern.window, lang)
        text = (
            f"{within}内第{pattern.count}次"
            if zh
            else f"the {_ordinal(pattern.count)} within {within}"
        )
        lines.append(_line("pattern_window", text, lang))
    lines.append(
        _line("pattern_does", join_list(_actions(pattern, process, processes, lang), lang), lang)
    )
    description = prose(localized(pattern.description, "", lang), lang)
    if description:
        lines.append(_line("description", description, lang))
    return lines


def _actions(
    pattern: PatternDef, process: ProcessDef, processes: Mapping[str, ProcessDef], lang: Lang
) -> list[str]:
    said: list[str] = []
    for action in pattern.actions:
        if isinstance(action, Link):
            said.append(word("pattern_link", lang))
        else:
            shown = (
                action.model_copy(update={"link": "related"}) if hasattr(action, "link") else action
            )
            said.append(action_words(process, shown, lang, processes))
    return said


def _line(key: str, text: str, lang: Lang) -> Inline:
    return (*label_runs(word(key, lang), lang), Run(text))


def _ordinal(count: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(count if count < 20 else count % 10, "th")
    return f"{count}{suffix}"
