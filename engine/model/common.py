"""Shapes shared by every definition: labels and the frozen base model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

#: A label or prose text by locale, e.g. ``{"zh-CN": "报修处理", "en": "Repair request"}``.
Label = Mapping[str, str]

#: The order in which a label's locales are tried when the asked one is missing.
FALLBACK_LOCALES = ("zh-CN", "en")


class Definition(BaseModel):
    """Base of all definitions: immutable, and strict about unknown keys.

    The JSON Schemas already refuse unknown keys with a friendly message; ``extra='forbid'``
    is the second line, so a schema gap can never let a typo through silently.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True
    )


def localized(label: Label | None, fallback: str, locale: str = "zh-CN") -> str:
    """The label's text in ``locale``, else zh-CN, else en, else ``fallback`` (the id)."""
    if label:
        for candidate in (locale, *FALLBACK_LOCALES):
            text = label.get(candidate)
            if text:
                return text
    return fallback


def keyed(collection: Any) -> Any:
    """Inject each mapping key as the item's ``id`` (collections are keyed by id in YAML)."""
    if not isinstance(collection, Mapping):
        return collection
    return {
        key: {**(value if isinstance(value, Mapping) else {}), "id": key}
        for key, value in collection.items()
    }


def as_tuple(value: Any) -> Any:
    """Accept ``x`` as shorthand for ``[x]`` where YAML allows one or many."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return value
