"""``propflow init``, ``show`` and ``diff``: create an estate and explain what it changes.

A consultant customising an estate must be able to answer "where does this value come
from?" for every line: ``show`` prints the merged definition with each value's source as a
comment, and ``diff`` lists what the estate changes, adds and deletes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from string import Template
from typing import Any

import click

from engine.checks.validation import validate_estate, validate_paths
from engine.cli.options import ESTATE_ID, estate_option, json_option, library_option
from engine.diagnostics import Span, suggest
from engine.diagnostics import output as reporting
from engine.diagnostics.catalogue import say
from engine.io.estates import ESTATE_FILE, Change, EstateLoad, is_estate_dir
from engine.io.library import Library, Located
from engine.io.loading import UsageError
from engine.io.merge import rebase
from engine.io.paths import is_inside, real_path
from engine.io.resources import schemas_dir, standard_library_dirs
from engine.io.yamlsource import JsonPath, SourceMap
from engine.model import PatternDef
from engine.model.words import pad

#: The files ``propflow init`` writes, as templates (``string.Template``): the estate file, a
#: process and a rules patch whose commented examples work once uncommented, and a scenario.
TEMPLATES = Path(__file__).with_name("estate_template")
TEMPLATE_SUFFIX = ".tmpl"


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--title",
    help="The estate's name in Chinese (项目名称), e.g. 湖畔花园; asked for on a terminal when "
    "not given.",
)
def init(directory: Path, title: str | None) -> None:
    """Create an estate directory at DIRECTORY: estate.yaml, commented examples of a process
    and a time-limit patch, and a scenario that passes."""
    name = directory.name
    if not ESTATE_ID.match(name):
        raise click.BadParameter(
            say("estate_cli.bad_id", name=name),
            param_hint="DIRECTORY",
        )
    if (directory / ESTATE_FILE).exists():
        click.echo(say("estate_cli.exists", file=directory / ESTATE_FILE), err=True)
        sys.exit(1)
    if title is None and sys.stdin.isatty():
        title = click.prompt("项目名称 (the estate's name in Chinese)", default=name)
    if title is None:  # a script gave none and cannot be asked: the id stands in for it
        click.echo(say("estate_cli.no_title", name=name), err=True)
    title = (title or "").strip() or name
    written = []
    for template in sorted(TEMPLATES.rglob(f"*{TEMPLATE_SUFFIX}")):
        target = directory / template.relative_to(TEMPLATES).with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = Template(template.read_text(encoding="utf-8")).substitute(
            name=name,
            title_zh=_scalar(title),
            title_en=_scalar(name),
            path=directory,
            schemas=Path(os.path.relpath(schemas_dir(), target.parent.resolve())).as_posix(),
        )
        target.write_text(text, encoding="utf-8")
        written.append(target)
    click.echo(say("estate_cli.created", name=name, title=title, directory=f"{directory}/"))
    for target in written:
        click.echo(f"  {target}")
    click.echo(say("estate_cli.next", directory=directory))


def _load(estate: Path | None, libraries: Sequence[Path]) -> tuple[Library, EstateLoad | None]:
    """The merged estate library, or the plain one; exit 1 with diagnostics on errors."""
    try:
        if estate is None:
            report = validate_paths(list(libraries) or standard_library_dirs())
            library, diagnostics, load = report.library, report.diagnostics, None
        else:
            load = validate_estate(estate, list(libraries) or None)
            library, diagnostics = load.library, load.diagnostics
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    errors = [d for d in diagnostics if d.severity.value == "error"]
    if errors:
        click.echo(reporting.human(errors, colour=False), err=True)
        click.echo(say("estate_cli.fix_first", count=len(errors)), err=True)
        sys.exit(1)
    return library, load


def _origin(span: Span, estate: Path | None) -> str:
    """Which library gave a value: the estate shown, a sibling estate it extends, or the
    standard library."""
    if estate is not None:
        if is_inside(Path(span.file), estate):
            return say("estate_cli.from_estate", where=f"{span.file}:{span.line}")
        sibling = _estate_holding(Path(span.file), estate.parent)
        if sibling is not None:
            where = f"{span.file}:{span.line}"
            return say("estate_cli.from_sibling", estate=sibling.name, where=where)
    return say("estate_cli.from_standard", where=f"{span.file}:{span.line}")


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
@estate_option("Estate directory; default: the library alone.")
@library_option()
@json_option("Print the merged definitions as JSON, without their sources.")
def show_command(
    process: str, estate: Path | None, libraries: tuple[Path, ...], as_json: bool
) -> None:
    """Print PROCESS as merged for the estate, with the source of every value."""
    library, _ = _load(estate, libraries)
    found: Located[Any] | None = next(
        (p for p in library.processes if p.definition.id == process), None
    )
    if found is None:
        names = [p.definition.id for p in library.processes]
        hint = suggest(process, names)
        missing = say("refusal.unknown_process", process=process, hint=hint)
        click.echo(say("cli.error", message=missing), err=True)
        sys.exit(1)
    if as_json:
        document = {
            "process": found.raw,
            "time_limits": {i.definition.id: i.raw for i in _of(library.time_limits, process)},
            "kpis": {i.definition.id: i.raw for i in _of(library.kpis, process)},
            "patterns": {i.definition.id: i.raw for i in _of(library.patterns, process)},
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    heading = say("estate_cli.customised", process=process, estate=estate) if estate else process
    click.echo(f"# {heading}")
    for line in provenance_yaml(found.raw, found.source_map, estate):
        click.echo(line)
    _show_items("time_limits", _of(library.time_limits, process), estate)
    _show_items("kpis", _of(library.kpis, process), estate)
    _show_items("patterns", _of(library.patterns, process), estate)


def _of(items: Sequence[Located[Any]], process: str) -> list[Located[Any]]:
    """The rules items that belong to ``process``: its time limits and indicators, and the
    patterns that count its entries or correlate them with its open cases."""
    return [item for item in items if process in _processes_of(item.definition)]


def _processes_of(definition: Any) -> tuple[str, ...]:
    if isinstance(definition, PatternDef):
        watched = definition.with_open
        return (definition.match.process, *((watched.process,) if watched else ()))
    return (definition.process,)


def _show_items(collection: str, own: Sequence[Located[Any]], estate: Path | None) -> None:
    """Print rules items of a process (time limits, indicators, patterns) with their
    sources, under the collection's key as the rules files spell it."""
    if own:
        click.echo(f"# {say(f'estate_cli.{collection}')}")
        click.echo(f"{collection}:")
    for located in own:
        click.echo(f"  {located.definition.id}:")
        local = rebase(located.source_map, located.base, ())
        for line in provenance_yaml(located.raw, local, estate):
            click.echo(f"    {line}")


def _describe(change: Change) -> str:
    where = ".".join(str(p) for p in change.path)
    item = f"{say(f'kinds.{change.kind}')} {change.item}"
    target = f"{item} {where}".rstrip()
    at = f"{change.span.file}:{change.span.line}"
    action = pad(say(f"estate_cli.{change.action}"), 8)
    if change.action == "changed":
        return f"{action} {target}: {_scalar(change.old)} -> {_scalar(change.new)}  ({at})"
    return f"{action} {target}  ({at})"


@click.command(name="diff")
@estate_option("Estate directory.", required=True)
@library_option(
    "Process/rules directory or file the estate extends (repeatable); default: the shipped library."
)
@json_option()
def diff_command(estate: Path, libraries: tuple[Path, ...], as_json: bool) -> None:
    """List what an estate changes, adds and deletes in the library it extends."""
    _, load = _load(estate, libraries)
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
    actions = [change.action for change in load.changes]
    counted = [actions.count(action) for action in ("changed", "added", "deleted")]
    click.echo(say("estate_cli.counted", changed=counted[0], added=counted[1], deleted=counted[2]))
