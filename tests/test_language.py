"""The language choice: PROPFLOW_LANG, use_language, a block's own language, Accept-Language."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from engine.diagnostics.language import (
    UnknownLanguage,
    current_language,
    negotiate,
    speaking,
    use_language,
)


@pytest.fixture(autouse=True)
def no_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PROPFLOW_LANG", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    use_language(None)
    yield
    use_language(None)


def test_english_without_a_choice() -> None:
    assert current_language() == "en"


@pytest.mark.parametrize(
    ("variables", "language"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_CN.GB18030"}, "zh-CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh-CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "C", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "zh_CN.utf8"}, "zh-CN"),
        ({"LANG": "zh_CN.UTF-8", "PROPFLOW_LANG": "en"}, "en"),
    ],
)
def test_the_locale_chooses_after_propflow_lang(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], language: str
) -> None:
    """PROPFLOW_LANG, then the first of LC_ALL, LC_MESSAGES and LANG that is set, if
    PropFlow speaks its language, else English."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert current_language() == language


def test_every_command_and_the_manual_follow_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import run_cli

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert run_cli(["show", "repiar"]).output.startswith("错误：")
    assert "# 校验代码" in run_cli(["codes", "--format", "markdown"]).output
    diagram = run_cli(["diagram", "repair"]).output
    assert "报修" in diagram and "Repair" not in diagram
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert run_cli(["show", "repiar"]).output.startswith("error: ")


@pytest.mark.parametrize("spelling", ["zh-CN", "zh_CN", "zh", "ZH-cn", "zh-Hans"])
def test_environment_chooses_chinese(monkeypatch: pytest.MonkeyPatch, spelling: str) -> None:
    monkeypatch.setenv("PROPFLOW_LANG", spelling)
    assert current_language() == "zh-CN"


def test_use_language_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPFLOW_LANG", "zh-CN")
    use_language("en")
    assert current_language() == "en"
    use_language(None)
    assert current_language() == "zh-CN"


def test_unknown_language_is_refused_and_keeps_the_choice() -> None:
    use_language("zh-CN")
    with pytest.raises(UnknownLanguage, match="'fr'"):
        use_language("fr")
    assert current_language() == "zh-CN"


def test_unknown_language_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROPFLOW_LANG", "klingon")
    with pytest.raises(UnknownLanguage, match="PROPFLOW_LANG"):
        current_language()


def test_a_block_speaks_its_own_language_in_its_thread_only() -> None:
    seen: list[str] = []
    with speaking("zh-CN") as spoken:
        assert spoken == current_language() == "zh-CN"
        other = threading.Thread(target=lambda: seen.append(current_language()))
        other.start()
        other.join()
    assert seen == ["en"]
    assert current_language() == "en"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN", "zh-CN"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en;q=0.5, zh;q=0.9", "zh-CN"),
        ("fr, en;q=0.1", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("zh-CN;q=0, en", "en"),
        ("zh-CN;q=abc, en", "en"),
    ],
)
def test_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language
