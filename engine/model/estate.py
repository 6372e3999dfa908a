"""Estate definitions: one client estate's identity, calendar and what it extends."""

from __future__ import annotations

from pydantic import Field

from engine.model.common import Definition, Label
from engine.model.rules import DEFAULT_TIMEZONE


class EstateDef(Definition):
    """An estate (小区/项目): display names, timezone, default calendar and own closed days."""

    id: str = Field(alias="estate")
    title: Label | None = None
    description: Label | None = None
    extends: str = "standard"
    timezone: str = DEFAULT_TIMEZONE
    calendar: str | None = None
    closed: tuple[str, ...] = ()
    open: tuple[str, ...] = ()

    model_config = Definition.model_config | {"populate_by_name": True}
