"""Why a form value is refused, in the language spoken: the catalogue words each error type
pydantic raises for a field kind (``form.value.<type>``), naming the value given."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from engine.diagnostics.catalogue import catalogue
from engine.diagnostics.language import LANGUAGES, speaking
from engine.model import ProcessDef
from engine.runtime import Actor, Engine, FieldError
from engine.runtime.forms import Form

PROCESS = """\
process: words
title: {zh-CN: 表单, en: Form}
roles:
  clerk: {label: {zh-CN: 文员, en: Clerk}}
fields:
  note: {type: text}
  count: {type: int, min: 0, max: 10}
  keys: {type: int}
  fee: {type: money, min: 0, max: 1000}
  deposit: {type: money, max: 99.5}
  flag: {type: bool}
  kind: {type: enum, values: [a, b, c]}
  due: {type: date}
  at: {type: datetime}
  phone: {type: phone}
  parts: {type: list}
  counts: {type: list, items: int}
  phones: {type: list, items: phone}
states:
  open: {initial: true}
  done: {final: true}
events:
  fill:
    from: open
    roles: [clerk]
    accepts: [note, count, keys, fee, deposit, flag, kind, due, at, phone, parts, counts, phones]
  close: {from: open, to: done, roles: [clerk]}
"""

FORM = Form(ProcessDef.model_validate(yaml.safe_load(PROCESS)))
CLERK = Actor("zheng", {"clerk"})


class Refusal(NamedTuple):
    """A bad value of a field, the error type pydantic (or the form) refuses it with, and
    the reason said in English and in Chinese."""

    field: str
    value: Any
    type: str
    en: str
    zh: str


REFUSALS = [
    Refusal("note", 5, "string_type", "5 should be text", "5 应是文本"),
    Refusal("count", "3", "int_type", "'3' should be a whole number", "'3' 应是整数"),
    Refusal("count", -1, "greater_than_equal", "-1 should be at least 0", "-1 应不小于 0"),
    Refusal("count", 11, "less_than_equal", "11 should be at most 10", "11 应不大于 10"),
    Refusal(
        "keys",
        2**63,
        "less_than_equal",
        "9223372036854775808 should be at most 9223372036854775807",
        "9223372036854775808 应不大于 9223372036854775807",
    ),
    Refusal("fee", -1, "greater_than_equal", "-1 should be at least 0", "-1 应不小于 0"),
    Refusal("fee", "1000.01", "less_than_equal", "'1000.01' should be at most 1000",
            "'1000.01' 应不大于 1000"),
    Refusal("deposit", 100, "less_than_equal", "100 should be at most 99.5",
            "100 应不大于 99.5"),
    Refusal("fee", "12.345", "decimal_max_places", "'12.345' should have at most 2 decimal places",
            "'12.345' 最多只能有 2 位小数"),
    Refusal("fee", "twelve", "decimal_parsing", "'twelve' should be an amount, such as 120.50",
            "'twelve' 应是金额，如 120.50"),
    Refusal("fee", True, "decimal_type",
            "True should be an amount: a number, or a number in text such as '120.50'",
            "True 应是金额：数字，或写成文本的数字（如 '120.50'）"),
    Refusal("fee", "NaN", "finite_number", "'NaN' should be a finite amount, not NaN or infinity",
            "'NaN' 应是有限的金额，不能是 NaN 或无穷大"),
    Refusal("flag", "yes", "bool_type", "'yes' should be true or false",
            "'yes' 应是 是/否（true/false）"),
    Refusal("kind", "d", "literal_error", "'d' should be one of 'a', 'b', 'c'",
            "'d' 应是以下取值之一：'a'、'b'、'c'"),
    Refusal("due", 20260331, "iso_text",
            "20260331 is not ISO 8601 text (2026-03-31, 2026-03-31T09:00+08:00)",
            "20260331 应是 ISO 8601 格式的日期文本（如 2026-03-31、2026-03-31T09:00+08:00）"),
    Refusal("due", "31/03/2026", "date_from_datetime_parsing",
            "'31/03/2026' should be a date, such as 2026-03-31",
            "'31/03/2026' 应是日期，如 2026-03-31"),
    Refusal("due", "0000-01-01", "date_parsing",
            "'0000-01-01' should be a date, such as 2026-03-31",
            "'0000-01-01' 应是日期，如 2026-03-31"),
    Refusal("due", "2026-03-31T10:00+08:00", "date_from_datetime_inexact",
            "'2026-03-31T10:00+08:00' has a time of day; a date field takes the date alone, "
            "such as 2026-03-31",
            "'2026-03-31T10:00+08:00' 带有时刻；日期字段只填日期，如 2026-03-31"),
    Refusal("at", "1772416800", "iso_text",
            "'1772416800' is not ISO 8601 text (2026-03-31, 2026-03-31T09:00+08:00)",
            "'1772416800' 应是 ISO 8601 格式的日期文本（如 2026-03-31、2026-03-31T09:00+08:00）"),
    Refusal("at", "tomorrow", "datetime_from_date_parsing",
            "'tomorrow' should be a date and time with its time zone, such as "
            "2026-03-31T09:00+08:00",
            "'tomorrow' 应是带时区的日期时间，如 2026-03-31T09:00+08:00"),
    Refusal("at", "0000-01-01T00:00Z", "datetime_parsing",
            "'0000-01-01T00:00Z' should be a date and time with its time zone, such as "
            "2026-03-31T09:00+08:00",
            "'0000-01-01T00:00Z' 应是带时区的日期时间，如 2026-03-31T09:00+08:00"),
    Refusal("at", "2026-03-02T10:00", "timezone_aware",
            "'2026-03-02T10:00' has no time zone: write it as 2026-03-31T09:00+08:00",
            "'2026-03-02T10:00' 没有时区，请写成 2026-03-31T09:00+08:00 这样的格式"),
    Refusal("phone", "call me", "string_pattern_mismatch",
            "'call me' is not a phone number (digits, spaces or '-', optionally a leading '+')",
            "'call me' 不是电话号码（数字、空格或“-”，可以“+”开头）"),
    Refusal("phone", 13800138000, "string_type", "13800138000 should be text",
            "13800138000 应是文本"),
    Refusal("parts", "管件", "list_type", "'管件' should be a list", "'管件' 应是列表"),
    # An item of a list is named, not the list.
    Refusal("counts", [1, "2"], "int_type", "'2' should be a whole number", "'2' 应是整数"),
    Refusal("phones", ["12"], "string_pattern_mismatch",
            "'12' is not a phone number (digits, spaces or '-', optionally a leading '+')",
            "'12' 不是电话号码（数字、空格或“-”，可以“+”开头）"),
]  # fmt: skip

IDS = [f"{r.field}-{r.type}-{r.value!r:.12}" for r in REFUSALS]


def _problem(refusal: Refusal, language: str) -> list[str]:
    with speaking(language):
        values, problems = FORM.validate({refusal.field: refusal.value})
    assert values == {}
    return problems


@pytest.mark.parametrize("refusal", REFUSALS, ids=IDS)
def test_a_bad_value_is_refused_in_the_words_of_its_error_type(refusal: Refusal) -> None:
    kind = FORM.process.fields[refusal.field].type
    assert _problem(refusal, "en") == [f"field '{refusal.field}' ({kind}): {refusal.en}"]
    assert _problem(refusal, "zh-CN") == [f"字段“{refusal.field}”（{kind}）：{refusal.zh}"]


@pytest.mark.parametrize("refusal", REFUSALS, ids=IDS)
def test_each_reason_comes_from_the_words_of_its_own_type(
    refusal: Refusal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the words of the type named, the same value is refused in pydantic's (or the
    form's) English: so the words checked above are that type's, not another's."""
    for language in LANGUAGES:
        monkeypatch.delitem(catalogue(language).templates, f"form.value.{refusal.type}")
    for language in LANGUAGES:
        [problem] = _problem(refusal, language)
        assert refusal.en not in problem and refusal.zh not in problem
        assert "should" in problem or "ISO 8601" in problem, problem


def test_every_worded_type_is_tried() -> None:
    worded = {
        key.removeprefix("form.value.")
        for key in catalogue("en").templates
        if key.startswith("form.value.")
    }
    assert worded == {refusal.type for refusal in REFUSALS}


def test_a_type_without_words_says_pydantic_s_english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(catalogue("zh-CN").templates, "form.value.int_type")
    with speaking("zh-CN"):
        _, problems = FORM.validate({"count": "3"})
    assert problems == ["字段“count”（int）：Input should be a valid integer"]


def test_a_long_value_is_named_by_its_beginning() -> None:
    with speaking("zh-CN"):
        _, problems = FORM.validate({"parts": "漏" * 500})
    assert problems == [f"字段“parts”（list）：'{'漏' * 59} 应是列表"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    library = tmp_path / "words"
    library.mkdir()
    (library / "words.yaml").write_text(PROCESS, encoding="utf-8")
    built = Engine(library=library, store="sqlite://")
    yield built
    built.close()


def test_opening_and_firing_refuse_in_the_language_spoken(engine: Engine) -> None:
    with speaking("zh-CN"), pytest.raises(FieldError) as opened:
        engine.open_case("words", {"count": -1, "flag": "yes"}, CLERK)
    assert opened.value.problems == [
        "字段“count”（int）：-1 应不小于 0",
        "字段“flag”（bool）：'yes' 应是 是/否（true/false）",
    ]
    case = engine.open_case("words", {}, CLERK)
    with speaking("zh-CN"), pytest.raises(FieldError) as fired:
        engine.fire(case.id, "fill", CLERK, {"fee": "12.345"})
    assert fired.value.reason == "字段“fee”（money）：'12.345' 最多只能有 2 位小数"
    assert "'12.345' 最多只能有 2 位小数" in str(fired.value)
    with speaking("en"), pytest.raises(FieldError) as english:
        engine.fire(case.id, "fill", CLERK, {"fee": "12.345"})
    assert (
        english.value.reason == "field 'fee' (money): '12.345' should have at most 2 decimal places"
    )
