"""The language messages are written in: zh-CN or en, chosen by ``--lang`` or ``PROPFLOW_LANG``.

One process-wide choice, because a command speaks one language from its first message to its
last; ``use_language(None)`` goes back to what the environment says.
"""

from __future__ import annotations

import os

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
ENV_VAR = "PROPFLOW_LANG"

_chosen: list[str] = []


def use_language(lang: str | None) -> None:
    """Speak ``lang`` from now on (``None``: as ``PROPFLOW_LANG`` says, else zh-CN)."""
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _chosen[:] = [lang] if lang is not None else []


def current_language() -> str:
    """The language chosen by :func:`use_language`, else ``PROPFLOW_LANG``'s, else zh-CN."""
    if _chosen:
        return _chosen[0]
    from_env = os.environ.get(ENV_VAR, "")
    return from_env if from_env in LANGUAGES else DEFAULT_LANGUAGE
