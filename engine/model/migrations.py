"""State mappings (``migrations:`` in a rules file): where a process's running cases go when
they are moved to its current definition.

A consultant who renames or removes a state says, once, which state its cases continue in;
``propflow migrate`` refuses a case whose state vanished without such a mapping rather than
guess one. The item is keyed by the id of the process it maps, so an estate patches it like
any other rules item.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from engine.model.common import Definition, Label


class MigrationDef(Definition):
    """The state mappings of one process: each state of an earlier definition that the
    current one no longer has, with the current state its cases move to."""

    id: str
    label: Label | None = None
    description: Label | None = None
    states: Mapping[str, str] = Field(default_factory=dict)
