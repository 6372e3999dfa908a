"""Plain words for what the definitions say in code: conditions, durations, actions, types.

The manual, the diagrams and the runtime's refusals (a guard that is not met says which
condition, in words) are read by estate staff, not by the consultant who wrote the YAML,
so ``urgency == 'urgent' or actor.role == 'supervisor'`` is shown as
“急修/一般”为“急修项目”，或办理人角色为“维修主管” — field, role, state and value *labels* in
the chosen language (falling back zh-CN → en → id like every label), never bare ids where a
label exists. The fixed words of the manual (headings, “办理”, “须填写” ...) live here too, one
table per language, so a third language is one more column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from engine.conditions import (
    BoolOp,
    Compare,
    Condition,
    Expr,
    ListLiteral,
    Name,
    Not,
    Quantified,
    to_text,
)
from engine.conditions import Literal as ConditionLiteral
from engine.model import (
    Action,
    Assign,
    Escalate,
    FieldDef,
    Fire,
    Notify,
    Open,
    ProcessDef,
    SetFields,
    Signal,
    localized,
)
from engine.model.durations import Anchored, Duration, Percent
from engine.model.process import SYSTEM_ROLE

Lang = Literal["zh-CN", "en"]
LANGS: tuple[Lang, ...] = ("zh-CN", "en")

_WORDS: dict[str, tuple[str, str]] = {
    # key: (zh-CN, en)
    "manual_title": ("物业服务程序手册", "Property-management procedure manual"),
    "manual_intro": (
        "本手册根据流程定义文件自动生成，与系统实际执行的流程和时限一致。",
        "Generated from the process definitions: it is exactly what the system runs.",
    ),
    "document_control": ("文件控制", "Document control"),
    "estate_name": ("项目名称", "Estate"),
    "document_number": ("文件编号", "Document number"),
    "document_version": ("版本", "Version"),
    "prepared_by": ("编制", "Prepared by"),
    "reviewed_by": ("审核", "Reviewed by"),
    "approved_by": ("批准", "Approved by"),
    "effective": ("生效日期", "Effective date"),
    "revisions": ("修订记录", "Revision record"),
    "revision_date": ("日期", "Date"),
    "revision_change": ("修订内容", "Change"),
    "revision_by": ("修订人", "By"),
    "blank": ("", ""),
    "contents": ("目录", "Contents"),
    "purpose": ("目的", "Purpose"),
    "scope": ("适用范围", "Scope"),
    "roles": ("职责", "Responsibilities"),
    "procedure": ("操作规程", "Procedure"),
    "time_limits": ("时限", "Time limits"),
    "records": ("相关记录", "Records"),
    "quality": ("质量标准与考核指标", "Quality standards and indicators"),
    "related": ("相关文件", "Related documents"),
    "indicator": ("考核指标", "Indicator"),
    "target": ("目标值", "Target"),
    "period": ("统计周期", "Period"),
    "quality_intro": (
        "以下指标由系统按本程序的案例、计时和办理记录自动统计，每期出具统计报告。",
        "The system computes these indicators from this procedure's cases, clocks and records "
        "and reports them every period.",
    ),
    "this_record": ("本程序记录", "This procedure's record"),
    "opens_record": ("由本程序开立", "Opened from this procedure"),
    "opened_by_record": ("开立本程序的", "Opens this procedure"),
    "source_document": ("依据文件", "Source document"),
    "calendars": ("附：工作日历", "Appendix: calendars"),
    "patterns": ("附：跨案件规则", "Appendix: patterns across cases"),
    "patterns_intro": (
        "以下规则同时观察多个案件：条件满足时系统自动处理一次，并记录涉及的案件。",
        "These rules watch many cases at once: when one is met the system acts once and "
        "records the cases involved.",
    ),
    "pattern_counts": ("统计", "Counts"),
    "pattern_opening": ("开立", "opening"),
    "pattern_same": ("相同", "Alike in"),
    "pattern_window": ("次数与时限", "How many, within"),
    "pattern_with_open": ("关联", "Together with"),
    "pattern_does": ("处理", "Then"),
    "pattern_link": ("将这些案件互相关联", "relate the cases to each other"),
    "diagram": ("流程图", "Flow diagram"),
    "main_line": ("主流程", "main line"),
    "exception": ("例外", "exception"),
    "source": ("依据", "Source"),
    "record_form": ("记录表单", "Form"),
    "not_stated": ("（未写明）", "(not stated)"),
    "no_duties": ("（未写明职责）", "(duties not stated)"),
    "party": (
        "只能查看和办理本人的案件，即{field}为本人账号的案件",
        "Sees and acts on their own cases only: those whose {field} is their account",
    ),
    "no_time_limits": ("本程序未设时限。", "This procedure has no time limits."),
    "no_fields": ("本记录未设字段。", "This record has no fields."),
    "steps_intro": (
        "自开始状态起按流程顺序列出各环节，以及在该环节可以办理的事项、办理人、条件和须填写的内容。",
        "The stages in order from the first, with what can be done at each: by whom, on what "
        "condition, and what must be filled in.",
    ),
    "initial": ("开始", "start"),
    "final": ("结束", "end"),
    "by": ("办理", "By"),
    "condition": ("条件", "Condition"),
    "requires": ("须填写", "Required"),
    "sets": ("同时记录", "Also records"),
    "then": ("随后", "Then"),
    "stays": ("不改变状态", "stays in this stage"),
    "see": ("见", "see"),
    "final_note": ("流程在此结束。", "The procedure ends here."),
    "no_events": ("此环节没有可办理的事项。", "Nothing can be done at this stage."),
    "on_enter": ("进入时", "On entry"),
    "on_exit": ("离开时", "On exit"),
    "when_exiting": ("离开时", "on exit"),
    # time limits
    "applies": ("适用", "Applies when"),
    "every_case": ("全部案例", "every case"),
    "clock": ("计时", "Clock"),
    "clocks": ("计时", "Clocks"),
    "limit": ("时限", "Limit"),
    "deadline": ("截止", "Deadline"),
    "every": ("周期", "Every"),
    "calendar": ("日历", "Calendar"),
    "default_calendar": (
        "未指定（使用管理处默认日历，未设则按自然时间）",
        "not set (the estate's default calendar, else elapsed time)",
    ),
    "warn": ("预警", "Warnings"),
    "extend": ("延期", "Extensions"),
    "on_breach": ("超时处理", "On breach"),
    "tiers": ("逐级升级", "Later escalation"),
    "on_due": ("到时提醒", "When due"),
    "description": ("说明", "Note"),
    "timezone": ("时区", "Time zone"),
    "hours": ("工作时间", "Working hours"),
    "holidays": ("节假日", "Holidays"),
    "closed_days": ("另行休息日", "Extra closed days"),
    "open_days": ("另行工作日", "Extra working days"),
    "always": ("全天24小时", "around the clock"),
    "holidays_cn": (
        "扣除法定节假日，调休日照常上班",
        "mainland statutory holidays; make-up days worked",
    ),
    "holidays_none": ("不扣除节假日", "none"),
    # record table
    "field": ("字段", "Field"),
    "type": ("类型", "Type"),
    "required": ("必填", "Required"),
    "details": ("说明", "Details"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "required_at_open": ("登记时必填", "to open a case"),
    "default": ("默认", "default"),
    "values": ("可选值", "values"),
    "minimum": ("最小", "min"),
    "maximum": ("最大", "max"),
    # diagram
    "starts": ("开始计时", "starts"),
    "stops": ("停止计时", "stops"),
    "pauses": ("暂停计时", "paused"),
    "resets": ("重新计时", "restarts"),
    "repeats": ("循环提醒", "repeats"),
    "also_here": ("可办理", "also"),
    "when_opened": ("登记时", "when opened"),
    "if": ("若", "if"),
    "svg_missing": (
        "此处应显示流程图，但生成本文件的电脑未安装 Graphviz。以下是流程图的 Mermaid 源码，"
        "可粘贴到支持 Mermaid 的编辑器中查看；安装 Graphviz 后重新生成即可显示图形。",
        "The flow diagram needs Graphviz, which the computer that made this file did not have. "
        "Below is its Mermaid source, which any Mermaid editor can show; install Graphviz and "
        "generate the manual again to see the picture here.",
    ),
}

_TYPES: dict[str, tuple[str, str]] = {
    "text": ("文本", "text"),
    "enum": ("选项", "choice"),
    "bool": ("是/否", "yes/no"),
    "int": ("整数", "whole number"),
    "money": ("金额（元）", "amount (CNY)"),
    "date": ("日期", "date"),
    "datetime": ("日期时间", "date and time"),
    "phone": ("电话", "phone"),
    "list": ("列表", "list"),
}

_UNITS: dict[str, tuple[str, str, str]] = {
    # unit: (zh-CN, en singular, en plural)
    "w": ("周", "week", "weeks"),
    "d": ("天", "day", "days"),
    "h": ("小时", "hour", "hours"),
    "m": ("分钟", "minute", "minutes"),
    "s": ("秒", "second", "seconds"),
    "workdays": ("个工作日", "working day", "working days"),
    "workhours": ("个工作小时", "working hour", "working hours"),
}

#: A target's direction in words: ``>= 98%`` is 不低于98% / at least 98%.
_TARGET_WORDS: dict[str, tuple[str, str]] = {
    ">=": ("不低于", "at least "),
    ">": ("高于", "above "),
    "<=": ("不高于", "at most "),
    "<": ("低于", "below "),
}

#: An indicator's period, as a manual says how often it is counted.
_PERIOD_WORDS: dict[str, tuple[str, str]] = {
    "week": ("每周", "weekly"),
    "month": ("每月", "monthly"),
    "quarter": ("每季度", "quarterly"),
    "year": ("每年", "yearly"),
}

_CHINESE_NUMERALS = "一二三四五六七八九十"


def word(key: str, lang: Lang) -> str:
    """A fixed word of the manual in ``lang``."""
    zh, en = _WORDS[key]
    return zh if lang == "zh-CN" else en


def target_words(op: str, percent: str, lang: Lang) -> str:
    """``>=`` and ``98`` as 不低于98% or at least 98%; ``>= 100%`` is simply 100%."""
    if op == ">=" and percent == "100":
        return "100%"
    zh, en = _TARGET_WORDS[op]
    return f"{zh if lang == 'zh-CN' else en}{percent}%"


def period_words(period: str, lang: Lang) -> str:
    """``month`` as 每月 or monthly."""
    zh, en = _PERIOD_WORDS[period]
    return zh if lang == "zh-CN" else en


def heading_number(index: int, lang: Lang) -> str:
    """`一、` `二、` ... in Chinese (as the source manuals number sections), `1.` in English."""
    if lang == "zh-CN" and 1 <= index <= len(_CHINESE_NUMERALS):
        return _CHINESE_NUMERALS[index - 1] + "、"
    return f"{index}. "


def colon(lang: Lang) -> str:
    return "：" if lang == "zh-CN" else ": "


def join_list(items: Iterable[str], lang: Lang) -> str:
    """`甲、乙、丙` or `a, b, c`."""
    return ("、" if lang == "zh-CN" else ", ").join(items)


def parenthesized(text: str, lang: Lang) -> str:
    return f"（{text}）" if lang == "zh-CN" else f" ({text})"


def quoted(text: str, _lang: Lang) -> str:
    """“text”: curly quotes read naturally in both languages."""
    return f"“{text}”"


def form_name(text: str, lang: Lang) -> str:
    """A form's name: 《报修单》 in Chinese, as the manuals write it."""
    if lang == "zh-CN" and not text.startswith("《"):
        return f"《{text}》"
    return text


def type_name(field: FieldDef, lang: Lang) -> str:
    zh, en = _TYPES[field.type]
    name = zh if lang == "zh-CN" else en
    if field.type == "list":
        item_zh, item_en = _TYPES[field.items]
        item = item_zh if lang == "zh-CN" else item_en
        return f"{name}（{item}）" if lang == "zh-CN" else f"{name} of {item}"
    return name


def sentence(text: str, lang: Lang) -> str:
    """Text ending with a full stop in its language (labels are written without one)."""
    text = text.strip()
    inner = text.rstrip('）)”’"」')
    if not text or (inner and inner[-1] in "。.！？!?") or text[-1] in "；;":
        return text
    return text + ("。" if lang == "zh-CN" else ".")


# --- display width, padding and wrapping (for terminals and diagrams) -------------------------


def display_width(text: str) -> int:
    """The columns ``text`` takes on a terminal or in a diagram's monospaced box: East
    Asian wide and full-width characters count two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def clip(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` display columns (cut by
    characters, a line with Chinese in it would wrap on a terminal)."""
    used = 0
    for index, char in enumerate(text):
        used += display_width(char)
        if used > width:
            return text[:index]
    return text


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` display columns (padding by characters,
    as ``f"{text:<10}"`` does, pushes every column after a Chinese cell out of line)."""
    return text + " " * max(0, width - display_width(text))


_BREAK_AFTER = "，；。,;"
_NO_BREAK_BEFORE = "，、；。：,.;:!?！？)）〕」』”’》]"


def wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into lines of at most ``width`` columns where it can: after a Chinese
    comma, semicolon or full stop, after ``,`` ``;`` or a space, never before closing
    punctuation. A run with no break point stays whole, even past the width."""
    if display_width(text) <= width:
        return [text]
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(text[:-1]):
        following = text[index + 1]
        if (char in _BREAK_AFTER or char == " ") and following not in _NO_BREAK_BEFORE:
            pieces.append(text[start : index + 1])
            start = index + 1
    pieces.append(text[start:])
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and display_width((current + piece).rstrip()) > width:
            lines.append(current.rstrip())
            current = piece.lstrip()
        else:
            current += piece
    if current.strip():
        lines.append(current.rstrip())
    return lines or [text]


# --- durations ------------------------------------------------------------------------------

_SIZES = (("w", 604800, 2), ("d", 86400, 2), ("h", 3600, 1), ("m", 60, 1))


def duration_words(duration: Duration, lang: Lang) -> str:
    """`24小时` / `24 hours`, `3个工作日` / `3 working days`, `2周` / `2 weeks`."""
    amount = duration.amount
    unit: str = duration.unit
    if unit == "seconds":
        unit = "s"
        for suffix, size, minimum in _SIZES:
            if amount and amount % size == 0 and amount // size >= minimum:
                amount, unit = amount // size, suffix
                break
    zh, singular, plural = _UNITS[unit]
    if lang == "zh-CN":
        return f"{amount}{zh}"
    return f"{amount} {singular if amount == 1 else plural}"


def anchored_words(anchored: Anchored, process: ProcessDef, lang: Lang) -> str:
    """`交楼日期前20天` / `20 days before Handover date`."""
    field = process.fields.get(anchored.field)
    name = localized(field.label if field else None, anchored.field, lang)
    offset = duration_words(anchored.offset, lang)
    if lang == "zh-CN":
        return f"“{name}”{'前' if anchored.direction == 'before' else '后'}{offset}"
    return f"{offset} {anchored.direction} {name}"


def warning_words(warning: Percent | Duration, lang: Lang) -> str:
    """`用时达80%时` / `at 80% of the time`; `截止前2小时` / `2 hours before the deadline`."""
    if isinstance(warning, Percent):
        if lang == "zh-CN":
            return f"用时达时限的{warning.value}%时"
        return f"at {warning.value}% of the time"
    if lang == "zh-CN":
        return f"截止前{duration_words(warning, lang)}"
    return f"{duration_words(warning, lang)} before the deadline"


# --- names, values and actions --------------------------------------------------------------


def role_name(process: ProcessDef, role: str, lang: Lang) -> str:
    """A role's label; `系统` for the engine's built-in role."""
    if role == SYSTEM_ROLE and role not in process.roles:
        return "系统" if lang == "zh-CN" else "the system"
    definition = process.roles.get(role)
    return localized(definition.label if definition else None, role, lang)


def roles_text(process: ProcessDef, roles: Sequence[str], lang: Lang) -> str:
    return join_list((role_name(process, role, lang) for role in roles), lang)


def field_name(process: ProcessDef, field_id: str, lang: Lang) -> str:
    field = process.fields.get(field_id)
    return localized(field.label if field else None, field_id, lang)


def state_name(process: ProcessDef, state_id: str, lang: Lang) -> str:
    state = process.states.get(state_id)
    return localized(state.label if state else None, state_id, lang)


def event_name(process: ProcessDef, event_id: str, lang: Lang) -> str:
    event = process.events.get(event_id)
    return localized(event.label if event else None, event_id, lang)


def consent_name(process: ProcessDef, consent: str, lang: Lang) -> str:
    """`owner_consent` → `业主/住户同意`: a consent named after a role reads as that role's
    consent; any other consent id is shown as written."""
    role, _, rest = consent.rpartition("_")
    if rest == "consent" and role in process.roles:
        name = role_name(process, role, lang)
        return f"{name}同意" if lang == "zh-CN" else f"consent of {name}"
    return consent


def value_words(process: ProcessDef, field_id: str | None, value: Any, lang: Lang) -> str:
    """A field value for people: enum value labels, 是/否, plain numbers, quoted text."""
    if value is None:
        return "（空）" if lang == "zh-CN" else "(empty)"
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    field = process.fields.get(field_id) if field_id else None
    if field is not None and field.type == "enum" and isinstance(value, str):
        labels = field.value_labels or {}
        return quoted(localized(labels.get(value), value, lang), lang)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return join_list((value_words(process, None, item, lang) for item in value), lang)
    return quoted(str(value), lang)


#: The other processes of a library by id: what names the cases an action opens or signals.
Others = Mapping[str, ProcessDef]
NO_OTHERS: Others = MappingProxyType({})


def action_words(
    process: ProcessDef, action: Action, lang: Lang, others: Others = NO_OTHERS
) -> str:
    """One action in words: `通知维修主管：“…”`, `升级至物业服务中心负责人`, ...; with
    ``others``, opened and signalled cases are named by their process titles and event labels."""
    zh = lang == "zh-CN"
    if isinstance(action, Escalate):
        who = role_name(process, action.role, lang)
        text = f"升级至{who}（转交并通知）" if zh else f"escalate to {who} (assign and notify)"
        return _with_message(text, action.message, lang)
    if isinstance(action, Notify):
        who = role_name(process, action.role, lang)
        return _with_message(f"通知{who}" if zh else f"notify {who}", action.message, lang)
    if isinstance(action, Assign):
        who = role_name(process, action.role, lang)
        return f"转交{who}办理" if zh else f"assign to {who}"
    if isinstance(action, SetFields):
        return set_words(process, action.values, lang)
    if isinstance(action, Fire):
        name = event_name(process, action.event, lang)
        return f"自动办理“{name}”" if zh else f"fire “{name}”"
    if isinstance(action, Open):
        kind = ("子案件" if action.link == "child" else "相关案件") if zh else (
            "child" if action.link == "child" else "related")  # fmt: skip
        each = ""
        if action.each is not None:
            field = field_name(process, action.each, lang)
            each = f"，“{field}”中每项一件" if zh else f", one per item of {field}"
        opened = others.get(action.process)
        title = localized(opened.title, action.process, lang) if opened else action.process
        return (f"开立{kind}（{title}）{each}" if zh
                else f"open a {kind} case ({title}){each}")  # fmt: skip
    if isinstance(action, Signal):
        whom = {"parent": ("上级案件", "the parent case"),
                "children": ("各子案件", "the child cases"),
                "related": ("各相关案件", "the related cases")}[action.to]  # fmt: skip
        name = next(
            (
                localized(other.events[action.event].label, action.event, lang)
                for other in others.values()
                if other.id != process.id and action.event in other.events
            ),
            action.event,
        )
        return (f"通知{whom[0]}办理“{name}”" if zh
                else f"fire “{name}” on {whom[1]}")  # fmt: skip
    raise TypeError(f"unknown action {action!r}")


def _with_message(text: str, message: Mapping[str, str] | None, lang: Lang) -> str:
    if not message:
        return text
    return f"{text}{colon(lang)}{quoted(localized(message, '', lang), lang)}"


def set_words(process: ProcessDef, values: Mapping[str, Any], lang: Lang) -> str:
    """`“有偿服务”为是` / `Chargeable = yes`, for ``set:`` of events and actions."""
    parts = []
    for field_id, value in values.items():
        name = field_name(process, field_id, lang)
        shown = value_words(process, field_id, value, lang)
        parts.append(f"“{name}”为{shown}" if lang == "zh-CN" else f"{name} = {shown}")
    return join_list(parts, lang)


# --- conditions -----------------------------------------------------------------------------


def condition_words(
    condition: Condition | None,
    process: ProcessDef,
    lang: Lang,
    others: Others = NO_OTHERS,
) -> str | None:
    """A guard or time-limit condition in plain words, or ``None`` when there is none; with
    ``others``, the child cases' stages by their labels."""
    if condition is None:
        return None
    return _ConditionWords(process, lang, child_processes(process, others)).expr(
        condition.expr, top=True
    )


def child_processes(process: ProcessDef, others: Others) -> tuple[ProcessDef, ...]:
    """The processes whose cases ``process`` opens as children, as far as ``others`` has them."""
    actions = [a for event in process.events.values() for a in event.actions]
    actions += [a for state in process.states.values() for a in (*state.on_enter, *state.on_exit)]
    ids = dict.fromkeys(a.process for a in actions if isinstance(a, Open) and a.link == "child")
    return tuple(others[pid] for pid in ids if pid in others)


_OPS_ZH = {
    "==": "为",
    "!=": "不为",
    "<": "小于",
    "<=": "不大于",
    ">": "大于",
    ">=": "不小于",
    "in": "为{}之一",
    "not in": "不为{}中任何一项",
}
_OPS_EN = {
    "==": "is",
    "!=": "is not",
    "<": "is less than",
    "<=": "is at most",
    ">": "is more than",
    ">=": "is at least",
    "in": "is one of {}",
    "not in": "is none of {}",
}


class _ConditionWords:
    """Walks a condition tree (at most the parser's nesting depth) into words."""

    def __init__(
        self, process: ProcessDef, lang: Lang, children: Sequence[ProcessDef] = ()
    ) -> None:
        self.process = process
        self.lang = lang
        self.zh = lang == "zh-CN"
        self.children = children

    def expr(self, expr: Expr, top: bool = False) -> str:
        if isinstance(expr, BoolOp):
            joiner = ("，且" if expr.op == "and" else "，或") if self.zh else f", {expr.op} "
            text = joiner.join(self.expr(operand) for operand in expr.operands)
            return text if top else self._group(text)
        if isinstance(expr, Not):
            inner = self.expr(expr.operand)
            if not isinstance(expr.operand, BoolOp):
                inner = self._group(inner)
            return f"并非{inner}" if self.zh else f"not {inner}"
        if isinstance(expr, Compare):
            return self.compare(expr)
        if isinstance(expr, Name):
            return self.truthy(expr)
        if isinstance(expr, Quantified):
            body = self.expr(expr.body, top=True)
            if expr.quantifier == "all":
                return f"各子案件均{body}" if self.zh else f"every child case: {body}"
            return f"至少一件子案件{body}" if self.zh else f"some child case: {body}"
        if isinstance(expr, ConditionLiteral):
            return self.literal(expr.value, None)
        if isinstance(expr, ListLiteral):
            return self.literal_list(expr, None)
        # A construct these words do not cover yet: its exact condition text.
        return f"`{to_text(expr)}`" if not self.zh else f"「{to_text(expr)}」"

    def _group(self, text: str) -> str:
        return f"（{text}）" if self.zh else f"({text})"

    # names ---------------------------------------------------------------------------------

    def name(self, name: Name) -> str:
        path = name.path
        if path == ("actor", "role"):
            return "办理人角色" if self.zh else "the actor's role"
        if path == ("actor", "roles"):
            return "办理人的角色" if self.zh else "the actor's roles"
        if path == ("actor", "id"):
            return "办理人" if self.zh else "the actor"
        if path == ("state",):
            return "当前环节" if self.zh else "the current stage"
        if path == ("children", "count"):
            return "子案件数" if self.zh else "the number of child cases"
        if path == ("children", "open"):
            return "未关闭的子案件数" if self.zh else "the child cases still open"
        if path == ("children", "state"):
            return "所处环节" if self.zh else "its stage"
        if len(path) == 2 and path[0] == "children":
            label = next(
                (localized(c.fields[path[1]].label, path[1], self.lang)
                 for c in self.children if path[1] in c.fields),
                path[1],
            )  # fmt: skip
            return f"“{label}”" if self.zh else label
        if len(path) == 2 and path[0] == "payload":
            field = field_name(self.process, path[1], self.lang)
            return f"本次提交的“{field}”" if self.zh else f"the submitted {field}"
        if len(path) == 1:
            field = field_name(self.process, path[0], self.lang)
            return f"“{field}”" if self.zh else field
        return name.dotted

    def _field_of(self, name: Name) -> FieldDef | None:
        path = name.path
        if len(path) == 2 and path[0] == "payload":
            return self.process.fields.get(path[1])
        if len(path) == 1 and path[0] != "state":
            return self.process.fields.get(path[0])
        return None

    def truthy(self, name: Name) -> str:
        field = self._field_of(name)
        if field is not None and field.type == "bool":
            return f"{self.name(name)}为是" if self.zh else f"{self.name(name)} is yes"
        return f"{self.name(name)}已填写" if self.zh else f"{self.name(name)} is filled in"

    # values --------------------------------------------------------------------------------

    def literal(self, value: Any, context: Name | None) -> str:
        if context is not None:
            path = context.path
            if path in (("actor", "role"), ("actor", "roles")) and isinstance(value, str):
                return quoted(role_name(self.process, value, self.lang), self.lang)
            if path == ("state",) and isinstance(value, str):
                return quoted(state_name(self.process, value, self.lang), self.lang)
            if path == ("children", "state") and isinstance(value, str):
                child = next((c for c in self.children if value in c.states), None)
                if child is not None:
                    return quoted(state_name(child, value, self.lang), self.lang)
            field = self._field_of(context)
            if field is not None:
                return value_words(self.process, field.id, value, self.lang)
        return value_words(self.process, None, value, self.lang)

    def literal_list(self, items: ListLiteral, context: Name | None) -> str:
        values = [self.literal(item.value, context) for item in items.items]
        return ("、" if self.zh else ", ").join(values)

    def operand(self, expr: Expr, context: Name | None) -> str:
        if isinstance(expr, ConditionLiteral):
            return self.literal(expr.value, context)
        if isinstance(expr, ListLiteral):
            return self.literal_list(expr, context)
        if isinstance(expr, Name):
            return self.name(expr)
        return self._group(self.expr(expr))

    # comparisons ---------------------------------------------------------------------------

    def compare(self, node: Compare) -> str:
        left, right, op = node.left, node.right, node.op
        if isinstance(left, (ConditionLiteral, ListLiteral)) and isinstance(right, Name):
            if op in ("in", "not in"):
                return self.held(left, right, op)
            if op in ("==", "!="):
                left, right = right, left
        if isinstance(right, ConditionLiteral) and right.value is None and op in ("==", "!="):
            subject = self.operand(left, None)
            if op == "==":
                return f"{subject}未填写" if self.zh else f"{subject} is not filled in"
            return f"{subject}已填写" if self.zh else f"{subject} is filled in"
        context = left if isinstance(left, Name) else None
        subject = self.operand(left, None)
        other = self.operand(right, context)
        if op in ("in", "not in"):
            template = (_OPS_ZH if self.zh else _OPS_EN)[op]
            return (
                f"{subject}{template.format(other)}"
                if self.zh
                else (f"{subject} {template.format(other)}")
            )
        verb = (_OPS_ZH if self.zh else _OPS_EN)[op]
        return f"{subject}{verb}{other}" if self.zh else f"{subject} {verb} {other}"

    def held(self, value: ConditionLiteral | ListLiteral, container: Name, op: str) -> str:
        """`'x' in actor.roles`, `'x' in materials` (a list field)."""
        shown = self.operand(value, container)
        whole = self.name(container)
        if container.path == ("actor", "roles"):
            if op == "in":
                return f"办理人具有{shown}角色" if self.zh else f"the actor holds the role {shown}"
            return f"办理人不具有{shown}角色" if self.zh else f"the actor does not hold {shown}"
        if op == "in":
            return f"{whole}包含{shown}" if self.zh else f"{whole} includes {shown}"
        return f"{whole}不包含{shown}" if self.zh else f"{whole} does not include {shown}"


#: The source manuals by title, as a client's manual cites them (DOMAIN.md names them by their
#: seed number; a reader of the zh-CN manual knows them by these titles).
SOURCE_TITLES: dict[str, str] = {
    "000": "《听涛雅苑酒店式公寓物业服务方案》",
    "001": "《怎样管理服务15篇》",
    "002": "《前期物业客服工作内容》",
    "003": "《物业项目服务质量保障方案》",
    "004": "《物业客户中心接待服务程序》",
}
_SEED = re.compile(r"seed (\d{3})\s*")


def cited(text: str, lang: Lang) -> str:
    """``text`` with each ``seed NNN`` reference replaced by the manual's title in zh-CN (the
    English manual keeps the short references)."""
    if lang != "zh-CN":
        return text
    return _SEED.sub(lambda match: SOURCE_TITLES.get(match.group(1), match.group(0)), text)


def source_documents(text: str) -> list[str]:
    """The titles of the source manuals that ``text`` cites (``seed NNN``), in order, once
    each — the documents a procedure's 相关文件 names."""
    numbers = dict.fromkeys(match.group(1) for match in _SEED.finditer(text))
    return [SOURCE_TITLES[number] for number in numbers if number in SOURCE_TITLES]


#: Time zones a zh-CN reader knows by name (中国标准时间 is said 北京时间).
_TIMEZONE_NAMES = {
    "Asia/Shanghai": "北京时间",
    "Asia/Hong_Kong": "香港时间",
    "Asia/Macau": "澳门时间",
}


def timezone_words(timezone: str, lang: Lang) -> str:
    """A calendar's time zone as a reader says it: 北京时间 for Asia/Shanghai in zh-CN."""
    return _TIMEZONE_NAMES.get(timezone, timezone) if lang == "zh-CN" else timezone
