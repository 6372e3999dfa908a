"""Graphviz DOT source of a :class:`~engine.render.diagram.Diagram`.

The look is a plain document figure: rounded cards for states (name in bold; internal events
and time-limit marks in small grey type below a rule), a filled dot pointing at the initial
state, final states as double circles, and edge labels with the event in bold, its roles and
its condition. No legend: every mark says what it is in words.

Quoting: every id is a double-quoted ASCII string (:func:`~engine.render.diagram.ascii_id`);
every text goes into an HTML-like label with ``& < > "`` escaped, backslashes doubled and
control characters dropped, so no label can end its string, inject an attribute or be read as
an escape sequence (``\\N``, ``\\l``).
"""

from __future__ import annotations

import re

from engine.render.diagram import Diagram, DiagramState, ascii_ids, edge_lines, note_lines

#: CJK-capable fonts first (the manual's readers read Chinese), then any sans-serif.
FONTS = (
    "Noto Sans CJK SC,Source Han Sans SC,WenQuanYi Micro Hei,Microsoft YaHei,PingFang SC,sans-serif"
)
INK = "#2D3748"
LINE = "#5B6B82"
MUTED = "#4A5568"
FILL = "#F4F7FB"
FINAL_FILL = "#E8EEF6"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def html(text: str) -> str:
    """Text escaped for a Graphviz HTML-like label.

    Besides the XML characters, a backslash is doubled: Graphviz expands ``\\N`` (the node
    name), ``\\G`` and friends even inside HTML-like labels, and ``\\\\`` is its literal
    backslash.
    """
    text = _CONTROL.sub("", text).replace("\r", " ").replace("\n", " ").replace("\\", "\\\\")
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + _CONTROL.sub("", text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(diagram: Diagram, title: bool = True) -> str:
    """The diagram as DOT source (ending with a newline); ``title`` puts the process title
    above it (the manual has a caption instead)."""
    ids = ascii_ids(diagram)
    heading = f", labelloc=t, label=<<B>{html(diagram.title)}</B>>" if title else ""
    out = [
        f"digraph {quote(diagram.process_id)} {{",
        f'    graph [charset="UTF-8", rankdir=TB, nodesep=0.35, ranksep=0.45, pad=0.25, '
        f'fontname={quote(FONTS)}, fontsize=16, fontcolor="{INK}"{heading}];',
        f'    node [fontname={quote(FONTS)}, fontsize=11, fontcolor="{INK}", color="{LINE}"];',
        f'    edge [fontname={quote(FONTS)}, fontsize=9, fontcolor="{MUTED}", color="{LINE}", '
        f"arrowsize=0.7];",
    ]
    for state in diagram.states:
        if state.initial:
            start = quote(f"start_{ids[state.id]}")
            out.append(
                f'    {start} [shape=circle, style=filled, fillcolor="{INK}", color="{INK}", '
                f'width=0.16, fixedsize=true, label=""];'
            )
    for state in diagram.states:
        out.append(f"    {quote(ids[state.id])} {_node(state, diagram)};")
    for state in diagram.states:
        if state.initial:
            out.append(f"    {quote(f'start_{ids[state.id]}')} -> {quote(ids[state.id])};")
    drawn: set[str] = set()
    for event in diagram.transitions:
        assert event.target is not None
        lines = edge_lines(event, diagram.lang, brief=event.id in drawn)
        drawn.add(event.id)
        text = "<BR/>".join([f"<B>{html(lines[0])}</B>", *(html(line) for line in lines[1:])])
        out.append(
            f"    {quote(ids[event.source])} -> {quote(ids[event.target])} [label=<{text}>];"
        )
    out.append("}")
    return "\n".join(out) + "\n"


def _node(state: DiagramState, diagram: Diagram) -> str:
    notes = note_lines(state, diagram.lang)
    if state.final:
        attributes = (
            f'shape=doublecircle, style=filled, fillcolor="{FINAL_FILL}", margin=0.04, '
            f"label=<{html(state.label)}>"
        )
        if notes:
            attributes += f", xlabel=<{_small(notes)}>"
        return f"[{attributes}]"
    rows = [f'<TR><TD CELLPADDING="5"><B>{html(state.label)}</B></TD></TR>']
    if notes:
        rows += ["<HR/>", f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{_small(notes)}</TD></TR>']
    table = (
        f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" STYLE="ROUNDED" '
        f'COLOR="{LINE}" BGCOLOR="{FILL}">{"".join(rows)}</TABLE>'
    )
    return f"[shape=plain, label=<{table}>]"


def _small(lines: list[str]) -> str:
    body = "<BR/>".join(html(line) for line in lines)
    return f'<FONT POINT-SIZE="9" COLOR="{MUTED}">{body}</FONT>'
