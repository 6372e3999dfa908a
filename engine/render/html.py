"""The manual as one self-contained HTML file that prints cleanly.

No external resource of any kind (no fonts, scripts, stylesheets or images to fetch): the CSS
is inline, and the diagrams are drawn here, on the machine that writes the file, as inline SVG
through Graphviz. Without Graphviz each diagram is its Mermaid source in a ``<pre>`` block
with a note saying what to install, so the file is still complete and honest about it.

Print: A4 pages, each process starting on a new page, headings kept with what follows, list
items, tables rows and figures not split, a diagram too wide for the column on a landscape page
of its own, and page numbers at the foot.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable

from engine.model.words import word
from engine.render.diagram import Diagram
from engine.render.dot import render_dot
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
from engine.render.svg import GraphvizMissing, dot_to_svg, inline_svg

#: Draws a diagram as SVG, or raises GraphvizMissing.
SvgMaker = Callable[[Diagram], str]

STYLE = """
:root {
  --ink: #1f2933; --muted: #52606d; --rule: #cbd2d9; --accent: #2c5282; --paper: #ffffff;
  --shade: #f0f4f8;
}
* { box-sizing: border-box; }
html { background: #e4e7eb; }
body {
  margin: 0 auto; max-width: 210mm; padding: 18mm 16mm 24mm; background: var(--paper);
  color: var(--ink); line-height: 1.65; font-size: 15px;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
}
header.cover { border-bottom: 3px double var(--accent); margin-bottom: 1.5em; }
header.cover h1 { font-size: 2em; letter-spacing: 0.08em; margin: 0.2em 0 0.4em;
  color: var(--accent); }
header.cover p { color: var(--muted); margin: 0 0 1em; }
nav.contents h2 { font-size: 1.15em; border: none; margin: 1em 0 0.4em; padding: 0; }
nav.contents ol { margin: 0; padding-left: 2em; }
nav.contents a { color: var(--ink); text-decoration: none; }
nav.contents a:hover { text-decoration: underline; }
section.process, section.appendix { margin-top: 2.5em; }
h2 {
  font-size: 1.6em; color: var(--accent); border-bottom: 2px solid var(--accent);
  padding-bottom: 0.15em; margin: 0 0 0.3em;
}
h3 {
  font-size: 1.2em; margin: 1.4em 0 0.5em; padding-left: 0.5em;
  border-left: 4px solid var(--accent);
}
h4 { font-size: 1.02em; margin: 1.1em 0 0.3em; }
p { margin: 0.3em 0 0.6em; text-align: justify; }
p.meta { color: var(--muted); font-size: 0.88em; margin-bottom: 1em; }
p.note { color: var(--muted); }
ul { margin: 0.2em 0 0.7em; padding-left: 1.4em; }
li { margin: 0.15em 0; }
ul.details { list-style: none; padding-left: 0.9em; margin: 0.15em 0 0.5em;
  border-left: 2px solid var(--rule); font-size: 0.94em; }
ul.details li { margin: 0.05em 0 0.05em 0.4em; }
strong { font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 0.5em 0 1em;
  table-layout: fixed; }
th, td { border: 1px solid var(--rule); padding: 0.3em 0.5em; vertical-align: top;
  text-align: left; }
th { background: var(--shade); font-weight: 600; }
tbody tr:nth-child(even) td { background: #fafbfc; }
figure.diagram { margin: 1em 0 1.4em; padding: 0.8em; border: 1px solid var(--rule);
  border-radius: 4px; text-align: center; background: #fff; }
figure.diagram svg { max-width: 100%; height: auto; }
figure.diagram figcaption { color: var(--muted); font-size: 0.88em; margin-bottom: 0.6em; }
.diagram-missing { text-align: left; color: #8a4b08; background: #fffaf0;
  border: 1px solid #f6d58e; padding: 0.6em 0.8em; font-size: 0.9em; }
pre.mermaid-source { text-align: left; font-size: 0.78em; line-height: 1.4;
  background: var(--shade); padding: 0.8em; overflow-x: auto; white-space: pre-wrap; }
@page { size: A4; margin: 16mm 15mm 18mm;
  @bottom-center { content: counter(page); font-size: 9pt; color: #52606d; } }
@page wide { size: A4 landscape; margin: 10mm 12mm 14mm; }
@media print {
  html { background: none; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  section.process, section.appendix { break-before: page; margin-top: 0; }
  h2, h3, h4 { break-after: avoid; }
  li, tr, figure.diagram { break-inside: avoid; }
  p { orphans: 3; widows: 3; }
  figure.diagram { border: none; padding: 0; }
  figure.diagram svg { max-height: 235mm; width: auto; }
  figure.wide { page: wide; break-before: page; break-after: page; }
  figure.wide svg { max-height: 170mm; width: auto; }
  th { background: #eef1f4 !important; -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
}
"""

#: An A4 portrait page's text column is 180 mm (510 pt) wide; a diagram up to a third wider
#: is shrunk onto it still readable, a wider one gets a landscape page of its own.
LANDSCAPE_FROM_PT = 680.0

_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)pt"[^>]*?\bheight="([\d.]+)pt"', re.S)


def escape(text: str) -> str:
    return html_lib.escape(text, quote=True)


def inline(runs: Inline) -> str:
    out = []
    for run in runs:
        text = escape(run.text)
        if run.style == "strong":
            out.append(f"<strong>{text}</strong>")
        elif run.style == "code":
            out.append(f"<code>{text}</code>")
        else:
            out.append(text)
    return "".join(out)


def graphviz_svg(diagram: Diagram) -> str:
    """The diagram drawn by Graphviz (raises GraphvizMissing without it)."""
    return dot_to_svg(render_dot(diagram, title=False))


class _Writer:
    def __init__(self, manual: Manual, svg: SvgMaker | None) -> None:
        self.manual = manual
        self.svg = svg

    def block(self, block: Block) -> str:
        if isinstance(block, Heading):
            target = f' id="{escape(block.anchor)}"' if block.anchor else ""
            return f"<h{block.level}{target}>{escape(block.text)}</h{block.level}>"
        if isinstance(block, Paragraph):
            role = f' class="{block.role}"' if block.role else ""
            return f"<p{role}>{inline(block.runs)}</p>"
        if isinstance(block, BulletList):
            items = []
            for item in block.items:
                details = ""
                if item.details:
                    rows = "".join(f"<li>{inline(detail)}</li>" for detail in item.details)
                    details = f'<ul class="details">{rows}</ul>'
                items.append(f"<li>{inline(item.head)}{details}</li>")
            return "<ul>\n" + "\n".join(items) + "\n</ul>"
        if isinstance(block, Table):
            head = "".join(f"<th>{escape(cell)}</th>" for cell in block.header)
            rows = "\n".join(
                "<tr>" + "".join(f"<td>{inline(cell)}</td>" for cell in row) + "</tr>"
                for row in block.rows
            )
            columns = ""
            if block.widths:
                columns = (
                    "<colgroup>"
                    + "".join(f'<col style="width: {width}%">' for width in block.widths)
                    + "</colgroup>\n"
                )
            return (
                f"<table>\n{columns}<thead><tr>{head}</tr></thead>\n"
                f"<tbody>\n{rows}\n</tbody>\n</table>"
            )
        if isinstance(block, Figure):
            return self.figure(block)
        raise TypeError(f"unknown block {block!r}")

    def figure(self, figure: Figure) -> str:
        caption = f"<figcaption>{escape(figure.caption)}</figcaption>"
        diagram = figure.diagram
        if self.svg is not None:
            try:
                svg = self.svg(diagram)
            except GraphvizMissing:
                self.svg = None
            else:
                prefix = "-".join(("d", diagram.process_id, *filter(None, [diagram.part])))
                body = inline_svg(svg, prefix, figure.caption)
                size = _SIZE.search(body)
                # Landscape only for what a portrait page would shrink: wider than tall and
                # wider than the text column by more than a third.
                wide = size is not None and (
                    float(size.group(1)) > 1.15 * float(size.group(2))
                    and float(size.group(1)) > LANDSCAPE_FROM_PT
                )
                classes = "diagram wide" if wide else "diagram"
                return f'<figure class="{classes}">\n{caption}\n{body}\n</figure>'
        source = escape(render_mermaid(diagram, title=False))
        note = escape(word("svg_missing", self.manual.lang))
        return (
            f'<figure class="diagram">\n{caption}\n<p class="diagram-missing">{note}</p>\n'
            f'<pre class="mermaid-source">{source}</pre>\n</figure>'
        )

    def appendix_link(self) -> list[str]:
        first = self.manual.appendix[0] if self.manual.appendix else None
        if not isinstance(first, Heading):
            return []
        return [f'<p><a href="#{escape(first.anchor)}">{escape(first.text)}</a></p>']

    def document(self) -> str:
        manual = self.manual
        lang = manual.lang
        out = [
            "<!DOCTYPE html>",
            f'<html lang="{escape(lang)}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="PropFlow">',
            f"<title>{escape(manual.title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            '<header class="cover">',
            f"<h1>{escape(manual.title)}</h1>",
            *(self.block(block) for block in manual.intro),
            '<nav class="contents">',
            f"<h2>{escape(word('contents', lang))}</h2>",
            "<ol>",
            *(
                f'<li><a href="#{escape(target)}">{escape(text)}</a></li>'
                for target, text in manual.contents
            ),
            "</ol>",
            *self.appendix_link(),
            "</nav>",
            "</header>",
        ]
        for section in manual.sections:
            out.append(f'<section class="process" id="section-{escape(section.process_id)}">')
            out += [self.block(block) for block in section.blocks]
            out.append("</section>")
        if manual.appendix:
            out.append('<section class="appendix">')
            out += [self.block(block) for block in manual.appendix]
            out.append("</section>")
        out += ["</body>", "</html>"]
        return "\n".join(out) + "\n"


def render_html(manual: Manual, svg: SvgMaker | None = graphviz_svg) -> str:
    """The manual as one HTML document. ``svg`` draws each diagram (Graphviz by default);
    ``None``, or Graphviz missing, puts each diagram's Mermaid source in instead."""
    return _Writer(manual, svg).document()
