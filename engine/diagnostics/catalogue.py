"""The words PropFlow says, looked up by key in the language being spoken.

Every template lives in a data file per language (``messages/en.yaml``,
``messages/zh-CN.yaml``), so that a wording is fixed or translated without touching code,
and both files hold the same keys with the same ``{placeholders}`` (a test holds them to
it). A key is the dotted path of a template in its file: ``PF102.state``,
``refusal.guard``, ``words.did_you_mean``. The Chinese file also holds the Chinese
explanation of every code (``docs:``), which ``propflow codes --lang zh-CN`` and
``docs/checks.zh-CN.md`` print; the English explanations are the checks' own docstrings.

The files are PropFlow's own package data, never a user's, so they are read with PyYAML's
safe loader directly: the project's positioned reader (``engine/io``) sits above this layer
and its positions are of no use here.
"""

from __future__ import annotations

import functools
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine.diagnostics.language import LANGUAGES, current_language

MESSAGES_DIR = Path(__file__).with_name("messages")


@dataclass(frozen=True)
class CodeText:
    """A code's summary and explanation in one language."""

    summary: str
    explanation: str


@dataclass(frozen=True)
class Catalogue:
    """One language's templates (flattened to dotted keys) and code explanations."""

    language: str
    templates: dict[str, str]
    docs: dict[str, CodeText]


def _flatten(prefix: str, node: Any, into: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, into)
    else:
        into[prefix] = str(node)


@functools.cache
def catalogue(language: str) -> Catalogue:
    """The catalogue of ``language`` (one of :data:`LANGUAGES`), read once."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = (MESSAGES_DIR / f"{language}.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=loader)
    templates: dict[str, str] = {}
    _flatten("", data.get("messages", {}), templates)
    docs = {
        code: CodeText(one_paragraph(entry["summary"]), one_paragraph(entry["explanation"]))
        for code, entry in (data.get("docs") or {}).items()
    }
    return Catalogue(language, templates, docs)


#: Spaces that folding lines leaves between two Chinese characters, or after Chinese
#: punctuation, where Chinese text has none.
_CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_FOLDED_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])|(?<=[。，；：！？、）])\s+")


def one_paragraph(text: str) -> str:
    """``text`` (folded from several lines) as one paragraph: runs of white space become
    one space, or none between Chinese characters."""
    return _FOLDED_CJK.sub("", " ".join(text.split()))


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` a template fills in."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def say(key: str, /, language: str | None = None, **values: object) -> str:
    """The template ``key`` in ``language`` (default: the language spoken now), filled in."""
    chosen = language if language is not None else current_language()
    return catalogue(chosen).templates[key].format(**values)


def every_language() -> tuple[Catalogue, ...]:
    """The catalogue of each language spoken."""
    return tuple(catalogue(language) for language in LANGUAGES)


def _shown(bound: object) -> str:
    """A bound of a validation error's context as a person writes it: ``100``, not
    ``100.0``."""
    if isinstance(bound, (Decimal, float)) and math.isfinite(bound) and bound == int(bound):
        return str(int(bound))
    return str(bound)


def say_error(error: Mapping[str, Any], section: str, /, **words: object) -> str:
    """Why pydantic refused a value, in the language spoken: the template of ``section``
    named by the error's type (``form.value.int_type``), filled in with the error's context
    (the bound passed, the length allowed), ``{value}`` (the value given, cut to its first
    60 characters) and ``words`` (what the caller knows better than pydantic's English
    context, such as the values of an enum field listed anew).

    pydantic's own message is English only. It is still what a type without words says (one
    a later pydantic raises, or one no one foresaw): a reason in English tells why, where a
    missing template would turn the refusal into a crash. The form of a case and the body
    of an HTTP request both word their refusals so, each from its own section, as the same
    type means different things there (a pattern is a phone number's on a form, an id's in
    a request)."""
    kind = str(error.get("type", ""))
    template = catalogue(current_language()).templates.get(f"{section}.{kind}")
    if template is None:
        return str(error.get("msg", ""))
    filled: dict[str, object] = {
        name: _shown(bound) for name, bound in (error.get("ctx") or {}).items()
    }
    filled["value"] = f"{error.get('input')!r:.60}"
    filled.update(words)
    return template.format(**filled)
