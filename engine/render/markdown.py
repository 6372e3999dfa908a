"""The manual as Markdown (CommonMark with GitHub tables), diagrams as Mermaid blocks.

GitHub, GitLab and most editors show the Mermaid blocks as pictures, so the Markdown manual
needs nothing installed. Every text from the definitions is escaped, so a ``*`` or ``|`` in
a label stays a character and never starts emphasis or a table cell.
"""

from __future__ import annotations

import re

from engine.model.words import word
from engine.render.manual import (
    Block,
    BulletList,
    Figure,
    Heading,
    Inline,
    Manual,
    Paragraph,
    Table,
)
from engine.render.mermaid import render_mermaid

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_SPACE = re.compile(r"\s+")
_LINE_START = re.compile(r"^(#|[-+>]|\d+[.)])")


def escape(text: str) -> str:
    """Inline text with Markdown's special characters escaped, on one line."""
    return _SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))


def inline(runs: Inline) -> str:
    out = []
    for run in runs:
        if run.style == "code":
            fence = "``" if "`" in run.text else "`"
            out.append(f"{fence}{run.text}{fence}")
        elif run.style == "strong" and run.text.strip():
            out.append(f"**{escape(run.text)}**")
        else:
            out.append(escape(run.text))
    return "".join(out)


def _block(block: Block) -> list[str]:
    if isinstance(block, Heading):
        # Only process sections are linked to (from the contents); other anchors would be noise.
        lines = [f'<a id="{block.anchor}"></a>', ""] if block.anchor and block.level <= 2 else []
        return [*lines, f"{'#' * block.level} {escape(block.text)}"]
    if isinstance(block, Paragraph):
        text = inline(block.runs)
        if block.role == "note":
            return [f"> {text}"]
        return ["\\" + text if _LINE_START.match(text) else text]
    if isinstance(block, BulletList):
        lines = []
        for item in block.items:
            lines.append(f"- {inline(item.head)}")
            lines += [f"  - {inline(detail)}" for detail in item.details]
        return lines
    if isinstance(block, Table):
        lines = [
            "| " + " | ".join(escape(cell) for cell in block.header) + " |",
            "|" + "|".join("---" for _ in block.header) + "|",
        ]
        lines += ["| " + " | ".join(inline(cell) for cell in row) + " |" for row in block.rows]
        return lines
    if isinstance(block, Figure):
        source = render_mermaid(block.diagram, title=False).rstrip("\n")
        return [f"**{escape(block.caption)}**", "", "```mermaid", source, "```"]
    raise TypeError(f"unknown block {block!r}")


def render_markdown(manual: Manual) -> str:
    """The whole manual as one Markdown document (ending with a newline)."""
    chunks: list[list[str]] = [[f"# {escape(manual.title)}"]]
    chunks += [_block(block) for block in manual.intro]
    chunks.append([f"## {escape(word('contents', manual.lang))}"])
    toc = [
        f"{index}. [{escape(text)}](#{target})"
        for index, (target, text) in enumerate(manual.contents, 1)
    ]
    if manual.appendix:
        first = manual.appendix[0]
        if isinstance(first, Heading):
            toc.append(f"- [{escape(first.text)}](#{first.anchor})")
    chunks.append(toc)
    for section in manual.sections:
        chunks += [_block(block) for block in section.blocks]
    chunks += [_block(block) for block in manual.appendix]
    return "\n\n".join("\n".join(chunk) for chunk in chunks) + "\n"
