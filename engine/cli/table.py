"""Plain-text tables for the terminal, aligned by display width.

Chinese characters take two columns of a terminal, so padding by character count (what
``f"{text:<10}"`` does) pushes every column after a Chinese cell out of line; the width of
a cell here is what the terminal shows (East Asian wide and full-width characters count
two, combining marks none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.model.words import display_width, pad


@dataclass
class Table:
    """Rows under a header line, each column as wide as its widest cell."""

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    indent: str = ""

    def add(self, cells: Sequence[str]) -> None:
        """One more row (as many cells as there are headers)."""
        if len(cells) != len(self.headers):
            raise ValueError(f"a row of {len(self.headers)} cells, not {len(cells)}")
        self.rows.append(list(cells))

    def render(self) -> str:
        """The header, a rule under it, and the rows; trailing spaces trimmed."""
        lines = [self.headers, *self.rows]
        widths = [max(display_width(line[i]) for line in lines) for i in range(len(self.headers))]
        # The last column is ragged (its cells are not padded): its rule is its header's.
        rule = ["-" * width for width in widths[:-1]] + ["-" * display_width(self.headers[-1])]
        return "\n".join(
            (
                self.indent + "  ".join(pad(cell, w) for cell, w in zip(line, widths, strict=True))
            ).rstrip()
            for line in [self.headers, rule, *self.rows]
        )
