"""The message catalogues: both languages say the same things with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path

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


#: Codes whose findings are worded by templates of other codes or layers, with one of them:
#: the words of an undefined process are PF202's, the condition checker's and the form's are
#: those of the condition language and the runtime's forms.
SPOKEN_THROUGH = {
    "PF111": "condition.no_field",
    "PF112": "condition.not_one_of",
    "PF501": "PF202.process",
    "PF606": "form.bad_value",
}


def test_every_code_has_its_words_in_both_languages() -> None:
    for language in LANGUAGES:
        templates = catalogue(language).templates
        worded = {key.partition(".")[0] for key in templates}
        for doc in codes.all_codes(language):
            assert doc.code in worded or doc.code in SPOKEN_THROUGH, (language, doc.code)
        assert all(key in templates for key in SPOKEN_THROUGH.values()), language


#: The calls whose words must come from the catalogue, with the position of their words.
_WORDED_ARGUMENT = {"Finding": 1, "Diagnostic": 2, "_Refused": 1, "_error": 1, "Difference": 2}


def _literal_messages(path: Path) -> list[tuple[int, str]]:
    """Where ``path`` builds a finding or a diagnostic with words written in the code: a
    text or an f-string as the message of ``Finding(span, message)`` or
    ``Diagnostic(code, severity, message, span)``, a literal reason of a loader's refusal, or
    the subject of a scenario's ``Difference(step, span, subject, expected, actual)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        position = _WORDED_ARGUMENT.get(name)
        if position is None or len(node.args) <= position:
            continue
        message = node.args[position]
        if isinstance(message, ast.JoinedStr) or (
            isinstance(message, ast.Constant) and isinstance(message.value, str)
        ):
            found.append((node.lineno, ast.unparse(message)[:60]))
    return found


def test_no_check_or_loader_writes_its_words_in_the_code() -> None:
    root = Path(__file__).resolve().parents[1] / "engine"
    modules = [
        *sorted((root / "checks").glob("*.py")),
        *sorted((root / "io").glob("*.py")),
        *sorted((root / "scenarios").glob("*.py")),
    ]
    literal = {
        str(path.relative_to(root)): found for path in modules if (found := _literal_messages(path))
    }
    assert literal == {}


def test_the_loader_speaks_the_language_chosen_with_the_same_code_and_place() -> None:
    from engine.diagnostics.language import speaking
    from engine.io.yamlsource import parse_text

    said = {}
    for language in LANGUAGES:
        with speaking(language):
            _, found = parse_text("a: 1\na: 2\n", "x.yaml")
        said[language] = found
    english, chinese = said["en"], said["zh-CN"]
    assert [(d.code, d.span) for d in english] == [(d.code, d.span) for d in chinese]
    assert "appears twice" in english[0].message and english[0].also[0][0] == "first defined here"
    assert "出现了两次" in chinese[0].message and chinese[0].also[0][0] == "第一次定义于此"


def test_a_condition_mistake_is_explained_in_chinese() -> None:
    from engine.checks.validation import validate_paths
    from engine.diagnostics.language import speaking

    conditions = Path(__file__).parent / "fixtures" / "broken" / "pf110_pf111_pf112_conditions.yaml"
    said = {}
    for language in LANGUAGES:
        with speaking(language):
            found = validate_paths([conditions]).diagnostics
        said[language] = {(d.code, d.span): d.message for d in found}
    assert said["en"].keys() == said["zh-CN"].keys()
    chinese = [message for (code, _), message in said["zh-CN"].items() if code == "PF111"]
    assert chinese == ["字段“knid”未定义（是否应为 'kind'？已定义：kind, note, state）"]
    assert any(code == "PF112" for code, _ in said["zh-CN"])
    for (code, _), message in said["zh-CN"].items():
        if code in ("PF111", "PF112"):
            assert any("\u4e00" <= c <= "\u9fff" for c in message), message
