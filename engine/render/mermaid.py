"""Mermaid ``stateDiagram-v2`` source of a :class:`~engine.render.diagram.Diagram`.

Mermaid shows in GitHub, GitLab and most Markdown editors, so this is the default diagram
format and the one the Markdown manual embeds. Its syntax is fragile with arbitrary text, so:

- state ids are always ``s_`` plus the id, with anything but ASCII letters, digits and ``_``
  spelt as its code point: no id can be a Mermaid keyword (``note``, ``end``, ``state``) or
  clash with the ids Mermaid makes for ``[*]``;
- texts (state names in ``state "..." as id``, transition labels after ``:``, note lines) use
  Mermaid's entity codes for every character its grammar or its HTML labels could read as
  syntax: ``#`` ``"`` ``;`` ``<`` ``>`` ``&`` ``%`` and the backtick; line breaks are ``<br/>``
  in labels and separate lines in notes, and ``end note`` inside a note is broken up;
- the title goes in YAML front matter as a JSON string (valid YAML).

Internal events and time-limit marks are one note to the right of their state.
"""

from __future__ import annotations

import json
import re

from engine.render.diagram import Diagram, DiagramState, ascii_ids, edge_lines, note_lines

_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    ";": "#59;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "%": "#37;",
    "`": "#96;",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_END_NOTE = re.compile(r"\b(end)\s+(note)", re.IGNORECASE)
INDENT = "    "


def escape(text: str) -> str:
    """One line of text, safe in a Mermaid label, state name or note line."""
    text = _CONTROL.sub(" ", text)
    return "".join(_ENTITIES.get(ch, ch) for ch in text)


def label(lines: list[str]) -> str:
    """Several lines as one Mermaid label."""
    return "<br/>".join(escape(line) for line in lines)


def render_mermaid(diagram: Diagram, title: bool = True) -> str:
    """The diagram as Mermaid source (ending with a newline)."""
    ids = ascii_ids(diagram)
    out: list[str] = []
    if title:
        out += ["---", f"title: {json.dumps(diagram.title, ensure_ascii=False)}", "---"]
    out.append("stateDiagram-v2")
    for state in diagram.states:
        out.append(f'{INDENT}state "{escape(state.label)}" as {ids[state.id]}')
    for state in diagram.states:
        if state.initial:
            out.append(f"{INDENT}[*] --> {ids[state.id]}")
    drawn: set[str] = set()
    for event in diagram.transitions:
        assert event.target is not None
        text = label(edge_lines(event, diagram.lang, brief=event.id in drawn))
        drawn.add(event.id)
        out.append(f"{INDENT}{ids[event.source]} --> {ids[event.target]} : {text}")
    for state in diagram.states:
        if state.final:
            out.append(f"{INDENT}{ids[state.id]} --> [*]")
    for state in diagram.states:
        out += _note(state, ids[state.id], diagram)
    return "\n".join(out) + "\n"


def _note(state: DiagramState, mermaid_id: str, diagram: Diagram) -> list[str]:
    lines = note_lines(state, diagram.lang)
    if not lines:
        return []
    body = [INDENT * 2 + _END_NOTE.sub(r"\1#32;\2", escape(line)) for line in lines]
    return [f"{INDENT}note right of {mermaid_id}", *body, f"{INDENT}end note"]
