"""Estate definitions: one client estate's identity, calendar, what it extends and the document
control of the procedure manual it signs."""

from __future__ import annotations

from pydantic import Field

from engine.model.common import Definition, Label
from engine.model.rules import DEFAULT_TIMEZONE


class RevisionDef(Definition):
    """One row of the manual's revision record (修订记录)."""

    version: str
    date: str
    change: Label
    by: str | None = None


class DocumentDef(Definition):
    """Document control (文件控制) of the estate's procedure manual: what a client's ISO 9001
    file needs on the cover — number, version, who prepared, reviewed and approved it, when it
    takes effect, its revisions — and the order its procedures appear in."""

    number: str | None = None
    version: str | None = None
    prepared_by: str | None = None
    reviewed_by: str | None = None
    approved_by: str | None = None
    effective: str | None = None
    revisions: tuple[RevisionDef, ...] = ()
    order: tuple[str, ...] = ()


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
    document: DocumentDef | None = None

    model_config = Definition.model_config | {"populate_by_name": True}
