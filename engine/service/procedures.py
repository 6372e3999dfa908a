"""A process's procedure as its estate customised it: the manual section and the diagram.

The service desk reads the procedure it works by next to the case, so the API serves the
same manual section and flow diagram ``propflow render`` writes, built from the estate's
merged library. The manual goes out as a small tree of blocks of plain text (never HTML),
so a client renders it as text and nothing in a label can become markup.
"""

from __future__ import annotations

from engine.model.words import Lang
from engine.render.html import graphviz_svg
from engine.render.manual import (
    Block,
    BulletList,
    Figure,
    Heading,
    Inline,
    Paragraph,
    Section,
    Table,
    build_manual,
)
from engine.runtime import Engine, UnknownProcess
from engine.service.models import ManualBlockOut, ManualItemOut, ManualRunOut, ManualSectionOut


def manual_section(engine: Engine, process: str, lang: Lang) -> ManualSectionOut:
    """The manual section of ``process`` in ``lang``, as the estate's library words it."""
    section = _section(engine, process, lang)
    return ManualSectionOut(
        process=process, lang=lang, blocks=[_block(block) for block in section.blocks]
    )


def diagram_svg(engine: Engine, process: str, lang: Lang) -> str:
    """The section's flow diagram drawn by Graphviz (``GraphvizMissing`` without it)."""
    section = _section(engine, process, lang)
    figure = next(block for block in section.blocks if isinstance(block, Figure))
    return graphviz_svg(figure.diagram)


def _section(engine: Engine, process: str, lang: Lang) -> Section:
    engine.definition(process)  # UnknownProcess for a process the estate does not run
    for section in build_manual(engine.library, lang).sections:
        if section.process_id == process:
            return section
    raise UnknownProcess(process)


def _runs(runs: Inline) -> list[ManualRunOut]:
    return [ManualRunOut(text=run.text, style=run.style) for run in runs]


def _block(block: Block) -> ManualBlockOut:
    if isinstance(block, Heading):
        return ManualBlockOut(kind="heading", level=block.level, text=block.text)
    if isinstance(block, Paragraph):
        return ManualBlockOut(kind="paragraph", runs=_runs(block.runs))
    if isinstance(block, BulletList):
        items = [
            ManualItemOut(head=_runs(item.head), details=[_runs(d) for d in item.details])
            for item in block.items
        ]
        return ManualBlockOut(kind="list", items=items)
    if isinstance(block, Table):
        rows = [[_runs(cell) for cell in row] for row in block.rows]
        return ManualBlockOut(kind="table", header=list(block.header), rows=rows)
    return ManualBlockOut(kind="figure", text=block.caption)
