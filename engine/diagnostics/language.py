"""The language PropFlow speaks to people: diagnostics, refusals and the code catalogue.

Two languages are spoken, ``zh-CN`` (the consultants and operators of Chinese estates) and
``en``. The choice, from strongest to weakest:

1. :func:`speaking` — a language for one block of code in one thread or task (the HTTP
   service answers each request in its ``Accept-Language`` this way);
2. :func:`use_language` — the process-wide choice (``propflow --lang``);
3. the environment variable ``PROPFLOW_LANG``;
4. the locale's language for messages, as POSIX programs read it: the first of
   ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set (``zh_CN.UTF-8`` is zh-CN), if
   PropFlow speaks it;
5. English.

The same rule decides for every command, the labels and headings of manuals and diagrams
included, so a consultant whose desktop speaks Chinese gets Chinese without asking, and one
on an English machine (or in CI, whose locale is ``C`` or ``C.UTF-8``) gets English. A
locale PropFlow does not speak (``fr_FR``, ``C``) passes to English rather than failing: it
was set for every program, not for this one; a ``PROPFLOW_LANG`` it does not speak is an
error, since it was set for PropFlow alone. Codes, positions and every field of the JSON
output other than the words are the same in both languages, so nothing that reads them
depends on the choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from engine.diagnostics import PropflowError

#: Every language PropFlow speaks, the default first.
LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"
#: The environment variable that chooses the language when no caller has.
ENVIRONMENT_VARIABLE = "PROPFLOW_LANG"
#: The locale's variables for the language of messages, strongest first (POSIX).
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

#: Each accepted spelling (lower case, ``_`` read as ``-``) of each language.
_SPELLINGS: dict[str, str] = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "zh-cn": "zh-CN",
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hans-cn": "zh-CN",
    "zh-sg": "zh-CN",
}


class UnknownLanguage(PropflowError, ValueError):
    """A language PropFlow does not speak was asked for (``--lang fr``, ``PROPFLOW_LANG=de``).

    A ValueError too, so that option parsers treating bad values as ValueErrors report it as
    a usage error.
    """

    def __init__(self, language: str, source: str = "") -> None:
        where = f" ({source})" if source else ""
        super().__init__(
            f"unknown language '{language}'{where}: PropFlow speaks {', '.join(LANGUAGES)}"
        )
        self.language = language


_process_choice: str | None = None
_block_choice: ContextVar[str | None] = ContextVar("propflow_language", default=None)


def known_language(language: str) -> str | None:
    """The language ``language`` names (``zh-CN`` for ``zh_CN``, ``zh`` or ``zh-Hans``),
    or ``None`` if PropFlow does not speak it."""
    return _SPELLINGS.get(language.strip().replace("_", "-").lower())


def _checked(language: str, source: str = "") -> str:
    found = known_language(language)
    if found is None:
        raise UnknownLanguage(language, source)
    return found


def current_language() -> str:
    """The language to speak now: ``"zh-CN"`` or ``"en"``.

    Raises :class:`UnknownLanguage` if ``PROPFLOW_LANG`` names a language PropFlow does not
    speak, rather than falling back silently to English.
    """
    chosen = _block_choice.get() or _process_choice
    if chosen is not None:
        return chosen
    variable = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if variable:
        return _checked(variable, ENVIRONMENT_VARIABLE)
    return locale_language() or DEFAULT_LANGUAGE


def locale_language() -> str | None:
    """The language of the locale's messages (``LC_ALL``, else ``LC_MESSAGES``, else
    ``LANG``: the first set), if PropFlow speaks it: ``zh_CN.UTF-8`` and ``zh_CN.GB18030``
    are zh-CN, as is a Chinese locale of another region (``zh_TW``: Chinese is nearer its
    reader than English); ``en_AU.UTF-8`` is en; ``C`` and ``fr_FR`` are ``None``."""

    for name in LOCALE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            tag = value.partition(".")[0].partition("@")[0]
            return known_language(tag) or _SPELLINGS.get(tag.replace("_", "-").lower()[:2])
    return None


def use_language(lang: str | None) -> None:
    """Speak ``lang`` from now on, in the whole process; ``None`` goes back to
    ``PROPFLOW_LANG`` or the default.

    Raises :class:`UnknownLanguage` for a language PropFlow does not speak, leaving the
    choice as it was.
    """
    global _process_choice
    _process_choice = None if lang is None else _checked(lang)


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` inside the ``with`` block, in this thread or task only (``None``:
    the language chosen outside). Yields the language spoken."""
    token = _block_choice.set(None if lang is None else _checked(lang))
    try:
        yield current_language()
    finally:
        _block_choice.reset(token)


def negotiate(accept_language: str | None) -> str:
    """The language to answer an HTTP request in, from its ``Accept-Language`` header
    (RFC 9110 §12.5.4: ranges with optional ``q`` weights): the most wanted one PropFlow
    speaks, else :func:`current_language`."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        found = known_language(tag) if tag.strip() else None
        if found is not None and weight > 0:
            candidate = (-weight, position, found)
            best = candidate if best is None else min(best, candidate)
    return best[2] if best is not None else current_language()
