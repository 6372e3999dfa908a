"""``propflow diagram`` and ``propflow manual``: pictures and the procedure manual for a client.

    propflow diagram repair                          # Mermaid, to paste anywhere Markdown goes
    propflow diagram repair --format svg -o repair.svg   # needs Graphviz
    propflow manual --lang zh-CN -o manual.html      # one file, prints cleanly

The library is validated first: a library with errors is not rendered (the diagnostics are
printed and the exit code is 1), since a manual of a broken definition would mislead the
client. An unknown process is exit code 1 with a "did you mean". The output format follows
``-o``'s suffix when ``--format`` is not given.

Where the definitions come from is one function, :func:`load_for_rendering`, behind one
decorator, :func:`library_options`: the estates issue adds ``--estate`` there, and both
commands get it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.checks.validation import validate_estate, validate_paths
from engine.cli.options import estate_option, library_option
from engine.diagnostics import Severity, suggest
from engine.diagnostics import output as reporting
from engine.diagnostics.catalogue import say
from engine.diagnostics.language import current_language
from engine.io.library import Library
from engine.io.loading import UsageError
from engine.io.resources import standard_library_dirs
from engine.model import ProcessDef
from engine.render import (
    LANGS,
    Lang,
    RenderError,
    build_diagram,
    build_manual,
    dot_to_svg,
    render_dot,
    render_html,
    render_markdown,
    render_mermaid,
)
from engine.render.pdf import html_to_pdf
from engine.render.svg import find_dot

F = TypeVar("F", bound=Callable[..., Any])

DIAGRAM_SUFFIXES = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
}
MANUAL_SUFFIXES = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}


def library_options(function: F) -> F:
    """``--library DIR`` (repeatable) and ``--estate DIR``: where the definitions come from."""
    function = estate_option("Estate directory: render its customised procedures.")(function)
    return library_option()(function)


def chosen_lang() -> Lang:
    """The language of labels and headings, chosen as for every command's messages
    (``--lang``, ``PROPFLOW_LANG``, the locale, else en: engine.diagnostics.language);
    missing labels fall back zh-CN → en → id."""
    lang = current_language()
    return lang if lang in LANGS else "en"  # the default language, as a Lang


def output_option(function: F) -> F:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to FILE instead of standard output.",
    )(function)


def load_for_rendering(libraries: Sequence[Path], estate: Path | None = None) -> Library:
    """Load and validate the definitions (an estate's, merged, if given); print the
    diagnostics and exit 1 on errors.

    Warnings (a missing zh-CN label, say) are printed to standard error and do not stop the
    rendering.
    """
    paths = list(libraries) or standard_library_dirs()
    try:
        if estate is not None:
            load = validate_estate(estate, list(libraries) or None)
            library, diagnostics = load.library, load.diagnostics
        else:
            report = validate_paths(paths)
            library, diagnostics = report.library, report.diagnostics
    except UsageError as exc:
        raise click.UsageError(str(exc)) from exc
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    if diagnostics:
        click.echo(reporting.human(diagnostics, colour=False), err=True)
    if errors:
        click.echo(
            f"cannot render: the library has {errors} error"
            f"{'' if errors == 1 else 's'} (see above; propflow validate explains them)",
            err=True,
        )
        sys.exit(1)
    return library


def _format(given: str | None, output: Path | None, suffixes: dict[str, str], default: str) -> str:
    if given:
        return given
    if output is not None:
        return suffixes.get(output.suffix.lower(), default)
    return default


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(
            say("cli.cannot_write", path=output, reason=exc.strerror or exc)
        ) from exc


def _write_bytes(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise click.ClickException(
            say("cli.cannot_write", path=output, reason=exc.strerror or exc)
        ) from exc


def _find_process(library: Library, process_id: str) -> ProcessDef:
    process = library.process(process_id)
    if process is not None:
        return process
    known = library.process_ids
    message = f"unknown process '{process_id}'{suggest(process_id, known, list_all=False)}"
    message += f"; defined: {', '.join(known)}" if known else "; no processes were loaded"
    raise click.ClickException(message)


@click.command()
@click.argument("process_id", metavar="PROCESS")
@library_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "svg"]),
    help="mermaid (default; GitHub and Markdown editors show it), dot (Graphviz source) or svg "
    "(drawn with Graphviz). Default: from -o's suffix, else mermaid.",
)
@click.option(
    "--limits/--no-limits",
    default=True,
    show_default=True,
    help="Show where each time limit starts, stops and pauses.",
)
@output_option
def diagram(
    process_id: str,
    libraries: tuple[Path, ...],
    estate: Path | None,
    output_format: str | None,
    limits: bool,
    output: Path | None,
) -> None:
    """Draw the state diagram of PROCESS: states, transitions, roles, conditions, time limits."""
    library = load_for_rendering(libraries, estate)
    process = _find_process(library, process_id)
    model = build_diagram(
        process, [t.definition for t in library.time_limits], chosen_lang(), limits
    )
    chosen = _format(output_format, output, DIAGRAM_SUFFIXES, "mermaid")
    if chosen == "mermaid":
        text = render_mermaid(model)
    elif chosen == "dot":
        text = render_dot(model)
    else:
        try:
            text = dot_to_svg(render_dot(model))
        except RenderError as exc:
            raise click.ClickException(str(exc)) from exc
    _write(text, output)


@click.command()
@library_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["md", "html", "pdf"]),
    help="md (Markdown with Mermaid diagrams), html (one self-contained file, diagrams as "
    "SVG when Graphviz is installed) or pdf (that HTML printed by headless Chromium, A4, its "
    "CJK font embedded). Default: from -o's suffix, else md.",
)
@output_option
def manual(
    libraries: tuple[Path, ...],
    estate: Path | None,
    output_format: str | None,
    output: Path | None,
) -> None:
    """Write the procedure manual of every process (目的, 适用范围, 职责, 操作规程, 时限,
    相关记录)."""
    library = load_for_rendering(libraries, estate)
    document = build_manual(library, chosen_lang())
    chosen = _format(output_format, output, MANUAL_SUFFIXES, "md")
    if chosen == "md":
        _write(render_markdown(document), output)
        return
    if find_dot() is None:
        click.echo(
            "note: Graphviz's `dot` was not found, so the diagrams are in the manual as Mermaid "
            "source; install the graphviz package to draw them",
            err=True,
        )
    try:
        text = render_html(document)
        if chosen == "pdf":
            _write_bytes(html_to_pdf(text), output)
            return
    except RenderError as exc:
        raise click.ClickException(str(exc)) from exc
    _write(text, output)
