"""The message catalogues: both languages say the same things with the same placeholders."""

from __future__ import annotations

from engine.checks import codes
from engine.diagnostics.catalogue import catalogue, every_language, placeholders, say
from engine.diagnostics.language import LANGUAGES


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    english = catalogue("en")
    for other in every_language():
        assert set(other.templates) == set(english.templates), other.language
        for key, template in english.templates.items():
            assert placeholders(other.templates[key]) == placeholders(template), (
                other.language,
                key,
            )


def test_every_code_is_explained_in_chinese_and_nothing_else() -> None:
    explained = catalogue("zh-CN").docs
    assert set(explained) == {doc.code for doc in codes.all_codes("en")}
    assert all(doc.summary and doc.explanation for doc in explained.values())


def test_codes_and_severities_are_the_same_in_both_languages() -> None:
    english, chinese = (codes.all_codes(language) for language in LANGUAGES)
    assert [(d.code, d.name, d.severity) for d in english] == [
        (d.code, d.name, d.severity) for d in chinese
    ]
    assert all(e.summary != c.summary for e, c in zip(english, chinese, strict=True))


def test_folded_chinese_text_has_no_spaces_between_characters() -> None:
    for doc in codes.all_codes("zh-CN"):
        assert "。 " not in doc.explanation and "， " not in doc.explanation, doc.code


def test_a_template_is_filled_in_the_language_asked_for() -> None:
    assert say("refusal.unknown_estate", "en", estate="x") == "estate 'x' is not hosted here"
    assert say("refusal.unknown_estate", "zh-CN", estate="x") == "本服务未托管项目“x”"
