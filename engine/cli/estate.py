"""``propflow init``, ``show`` and ``diff``: create an estate and explain what it changes.

A consultant customising an estate must be able to answer "where does this value come
from?" for every line: ``show`` prints the merged definition with each value's source as a
comment, and ``diff`` lists what the estate changes, adds and deletes.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from engine.checks.validation import validate_estate, validate_paths
from engine.diagnostics import Span, suggest
from engine.diagnostics import output as reporting
from engine.io.estates import ESTATE_FILE, Change, EstateLoad, is_estate_dir
from engine.io.library import Library, Located
from engine.io.merge import rebase
from engine.io.paths import is_inside, real_path
from engine.io.resources import schemas_dir, standard_library_dirs
from engine.io.yamlsource import JsonPath, SourceMap

ESTATE_ID = re.compile(r"^[a-z][a-z0-9_]*$")

ESTATE_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# The estate: who it is and what it customises. Every other YAML file in this directory is a
# customisation of the standard library (JSON Merge Patch: a key adds or overrides, null
# deletes), or a whole new process or time limit. Check it with: propflow validate {path}
estate: {name}
title: {{zh-CN: {name}, en: {name}}}   # the estate's display names (项目名称)
extends: standard          # the shipped library; or the name of another estate to build on
timezone: Asia/Shanghai    # where the estate is
calendar: office           # the calendar of time limits that name none (office, 24x7 ...)
closed: []                 # the estate's own closed days, e.g. [2026-12-31]
open: []                   # extra working days, e.g. [2026-12-27]
"""

PROCESS_TEMPLATE = """\
# Customising a shipped process: name it, then write only what changes. As it stands this
# file changes nothing; uncomment the example to relabel a state and let the
# customer-service supervisor dispatch too.
# See what the merged process looks like:  propflow show --estate {path} repair
# and everything this estate changes:        propflow diff --estate {path}
process: repair
# states:
#   reported:
#     label: {{zh-CN: 已受理}}
# events:
#   dispatch:
#     roles: [supervisor, receptionist, cs_supervisor]
"""

RULES_TEMPLATE = """\
# Customising time limits and calendars, by id. As it stands this file changes nothing;
# uncomment the example to count general repairs in working days on the office calendar
# and to remove the 7-day major-failure rule.
time_limits: {{}}
#   repair-general:
#     limit: 3 workdays
#     calendar: office
#   repair-major: null
"""


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create an estate directory (estate.yaml and commented examples) at DIRECTORY."""
    name = directory.name
    if not ESTATE_ID.match(name):
        raise click.BadParameter(
            f"'{name}' is not a valid estate id: use lower-case letters, digits and '_', "
            "starting with a letter",
            param_hint="DIRECTORY",
        )
    if (directory / ESTATE_FILE).exists():
        click.echo(f"error: {directory / ESTATE_FILE} already exists; nothing written", err=True)
        sys.exit(1)
    (directory / "processes").mkdir(parents=True, exist_ok=True)
    (directory / "rules").mkdir(exist_ok=True)
    schema = os.path.relpath(schemas_dir() / "estate.schema.json", directory.resolve())
    (directory / ESTATE_FILE).write_text(
        ESTATE_TEMPLATE.format(name=name, path=directory, schema=schema), encoding="utf-8"
    )
    (directory / "processes" / "repair.yaml").write_text(
        PROCESS_TEMPLATE.format(path=directory), encoding="utf-8"
    )
    (directory / "rules" / "repair.yaml").write_text(
        RULES_TEMPLATE.format(path=directory), encoding="utf-8"
    )
    click.echo(f"created estate '{name}' in {directory}/")
    click.echo(f"  {directory / ESTATE_FILE}             the estate: names, timezone, calendar")
    click.echo(f"  {directory / 'processes' / 'repair.yaml'}  an example process patch")
    click.echo(f"  {directory / 'rules' / 'repair.yaml'}      an example time-limit patch")
    click.echo(f"next: propflow validate {directory}")


def _load(estate: Path | None) -> tuple[Library, EstateLoad | None]:
    """The merged estate library, or the standard one; exit 1 with diagnostics on errors."""
    if estate is None:
        report = validate_paths(standard_library_dirs())
        library, diagnostics, load = report.library, report.diagnostics, None
    else:
        load = validate_estate(estate)
        library, diagnostics = load.library, load.diagnostics
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if errors:
        click.echo(reporting.human(errors, colour=False), err=True)
        click.echo(f"error: {len(errors)} validation error(s); fix them first", err=True)
        sys.exit(1)
    return library, load


def _origin(span: Span, estate: Path | None) -> str:
    """Which library gave a value: the estate shown, a sibling estate it extends, or the
    standard library."""
    if estate is not None:
        if is_inside(Path(span.file), estate):
            return f"estate {span.file}:{span.line}"
        sibling = _estate_holding(Path(span.file), estate.parent)
        if sibling is not None:
            return f"estate {sibling.name} {span.file}:{span.line}"
    return f"standard {span.file}:{span.line}"


def _estate_holding(file: Path, estates: Path) -> Path | None:
    """The estate directory directly under ``estates`` that holds ``file``, if any (estates
    extend only siblings, so that is where a value from another estate comes from)."""
    home = real_path(estates)
    for directory in file.parents:
        if is_estate_dir(directory) and real_path(directory.parent) == home:
            return directory
    return None


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def provenance_yaml(raw: Any, source_map: SourceMap, estate: Path | None) -> list[str]:
    """The definition as YAML, each scalar followed by ``# standard|estate file:line``."""
    lines: list[str] = []

    def emit(value: Any, path: JsonPath, indent: int) -> None:
        pad = " " * indent
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
        for key, item in items:
            child = (*path, key)
            head = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-"
            if isinstance(item, (dict, list)) and item:
                lines.append(head)
                emit(item, child, indent + 2)
            else:
                origin = _origin(source_map.locate(child), estate)
                lines.append(f"{head} {_scalar(item)}  # {origin}")

    emit(raw, (), 0)
    return lines


@click.command(name="show")
@click.argument("process")
@click.option(
    "--estate",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Estate directory; default: the standard library alone.",
)
def show_command(process: str, estate: Path | None) -> None:
    """Print PROCESS as merged for the estate, with the source of every value."""
    library, _ = _load(estate)
    found: Located[Any] | None = next(
        (p for p in library.processes if p.definition.id == process), None
    )
    if found is None:
        names = [p.definition.id for p in library.processes]
        click.echo(f"error: process '{process}' is not defined{suggest(process, names)}", err=True)
        sys.exit(1)
    click.echo(f"# {process}" + (f" as customised by estate {estate}" if estate else ""))
    for line in provenance_yaml(found.raw, found.source_map, estate):
        click.echo(line)
    _show_items("time limits", "time_limits", library.time_limits, process, estate)
    _show_items("indicators", "kpis", library.kpis, process, estate)


def _show_items(
    title: str,
    collection: str,
    items: Sequence[Located[Any]],
    process: str,
    estate: Path | None,
) -> None:
    """Print the rules items of ``process`` (time limits, indicators) with their sources."""
    own = [item for item in items if item.definition.process == process]
    if own:
        click.echo(f"# {title}")
        click.echo(f"{collection}:")
    for located in own:
        click.echo(f"  {located.definition.id}:")
        local = rebase(located.source_map, located.base, ())
        for line in provenance_yaml(located.raw, local, estate):
            click.echo(f"    {line}")


def _describe(change: Change) -> str:
    where = ".".join(str(p) for p in change.path)
    item = f"{change.kind.replace('_', ' ')} {change.item}"
    target = f"{item} {where}".rstrip()
    at = f"{change.span.file}:{change.span.line}"
    if change.action == "changed":
        return f"changed  {target}: {_scalar(change.old)} -> {_scalar(change.new)}  ({at})"
    if change.action == "added":
        return f"added    {target}  ({at})"
    return f"deleted  {target}  ({at})"


@click.command(name="diff")
@click.option(
    "--estate",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Estate directory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def diff_command(estate: Path, as_json: bool) -> None:
    """List what an estate changes, adds and deletes in the library it extends."""
    _, load = _load(estate)
    assert load is not None
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "action": c.action,
                        "kind": c.kind,
                        "item": c.item,
                        "path": list(c.path),
                        "old": c.old,
                        "new": c.new,
                        "file": c.span.file,
                        "line": c.span.line,
                    }
                    for c in load.changes
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for change in load.changes:
        click.echo(_describe(change))
    counts = {
        a: sum(1 for c in load.changes if c.action == a) for a in ("changed", "added", "deleted")
    }
    click.echo(f"{counts['changed']} changed, {counts['added']} added, {counts['deleted']} deleted")
