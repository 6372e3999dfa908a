"""``each`` is not a list field (PF503): an ``open`` action's ``each`` names a field that is
not declared, or is not of type ``list``.

``{open: {process: repair, each: defects, data: {content: =item}}}`` opens one case per item
of the list field ``defects`` of this case. A field that does not exist, or holds a single
value, gives nothing to go through: declare it with ``type: list``.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.checks.base import Finding
from engine.checks.links_common import link_sites
from engine.diagnostics import Severity, suggest
from engine.diagnostics.catalogue import say
from engine.io.library import Library
from engine.model import Open

CODE = "PF503"
NAME = "link-each"
SEVERITY = Severity.ERROR


def check(library: Library) -> Iterator[Finding]:
    for site in link_sites(library):
        action = site.action
        if not isinstance(action, Open) or action.each is None:
            continue
        fields = site.source.fields
        field = fields.get(action.each)
        if field is None:
            yield Finding(
                site.at("open", "each"),
                say(
                    "PF105.field",
                    name=action.each,
                    process=site.source.id,
                    hint=suggest(action.each, [f for f, d in fields.items() if d.type == "list"]),
                ),
            )
        elif field.type != "list":
            lists = [fid for fid, d in fields.items() if d.type == "list"]
            hint = say("PF503.lists", names=", ".join(lists)) if lists else ""
            yield Finding(
                site.at("open", "each"),
                say("PF503.not_list", field=action.each, type=field.type, hint=hint),
            )
