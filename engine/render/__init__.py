"""Rendering: diagrams and the procedure manual, from the loaded definitions.

One module per job: :mod:`~engine.render.diagram` builds the diagram model of a process (in
one language); :mod:`~engine.render.mermaid` and :mod:`~engine.render.dot` spell it as
Mermaid or Graphviz DOT; :mod:`~engine.render.svg` draws DOT with Graphviz's ``dot``;
:mod:`~engine.render.manual` builds the procedure manual, which :mod:`~engine.render.markdown`
and :mod:`~engine.render.html` write out and :mod:`~engine.render.pdf` prints with headless
Chromium; :mod:`~engine.model.words` says conditions,
durations and actions in plain words.

    diagram = build_diagram(process, time_limits, lang="zh-CN")
    render_mermaid(diagram)                       # stateDiagram-v2 source
    dot_to_svg(render_dot(diagram))               # GraphvizMissing without Graphviz
    render_markdown(build_manual(library, "en"))  # the manual as Markdown
"""

from engine.model.words import LANGS, Lang
from engine.render.diagram import Diagram, build_diagram
from engine.render.dot import render_dot
from engine.render.html import render_html
from engine.render.manual import Manual, build_manual
from engine.render.markdown import render_markdown
from engine.render.mermaid import render_mermaid
from engine.render.svg import MISSING, GraphvizMissing, RenderError, dot_to_svg

__all__ = [
    "LANGS",
    "MISSING",
    "Diagram",
    "GraphvizMissing",
    "Lang",
    "Manual",
    "RenderError",
    "build_diagram",
    "build_manual",
    "dot_to_svg",
    "render_dot",
    "render_html",
    "render_markdown",
    "render_mermaid",
]
