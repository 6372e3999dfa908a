"""The options every ``propflow`` command spells the same way, defined once.

``--estate`` is always an estate directory, ``--library`` a process/rules directory or file
(repeatable), ``--db`` a SQLite file or database URL, ``--json`` JSON output (shorthand for
``--format json`` where a command has formats), ``--lang`` the language of messages. A
command that takes one of them takes it from here, so its spelling, type and help cannot
drift apart; older spellings stay accepted as hidden, deprecated aliases that say so on
standard error.

This module is imported by every command, ``validate`` too: it must stay light (click, the
language choice and the file reader, never the runtime or the store).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click

from engine.diagnostics.catalogue import say
from engine.diagnostics.language import (
    ENVIRONMENT_VARIABLE,
    UnknownLanguage,
    current_language,
    use_language,
)
from engine.io.estates import ESTATE_FILE
from engine.io.yamlsource import load_document
from engine.model.words import clip

F = TypeVar("F", bound=Callable[..., Any])

#: What an estate's id looks like (its directory's name, when ``init`` made it).
ESTATE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
DB_HELP = "SQLite file or database URL (postgresql://...); env PROPFLOW_DB."


def deprecated(old: str, new: str) -> None:
    """Tell, on standard error, that ``old`` still works but ``new`` is its name now."""
    click.echo(say("usage.deprecated", old=old, new=new), err=True)


def use_colour(stream: object) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set."""
    return "NO_COLOR" not in os.environ and bool(getattr(stream, "isatty", lambda: False)())


# --lang ---------------------------------------------------------------------------------

#: The languages messages and labels are written in.
LANGUAGES = ("zh-CN", "en")
LANG_HELP = (
    "Language of messages and labels: zh-CN or en. Default: env PROPFLOW_LANG, else the "
    "locale (LC_ALL, LC_MESSAGES, LANG; zh_CN.UTF-8 is zh-CN), else en."
)


def _choose_language(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """Speak ``--lang`` if given; else check the language chosen without it now.

    ``PROPFLOW_LANG`` naming a language PropFlow does not speak is then a usage error,
    said in every language PropFlow speaks (which one to speak is what is wrong), rather
    than a traceback from whatever the command said first."""
    if value is not None:
        use_language(value)
        return
    try:
        current_language()
    except UnknownLanguage as exc:
        raise click.UsageError(
            "\n".join(
                say(
                    "cli.unknown_language",
                    language=spoken,
                    name=exc.language,
                    variable=ENVIRONMENT_VARIABLE,
                    languages=", ".join(LANGUAGES),
                )
                for spoken in LANGUAGES
            )
        ) from None


def lang_option() -> click.Option:
    """``--lang zh-CN|en``: chooses the language for the rest of the command."""
    return click.Option(
        ["--lang"],
        type=click.Choice(LANGUAGES),
        callback=_choose_language,
        expose_value=False,
        is_eager=True,
        help=LANG_HELP,
    )


def with_lang_option(command: click.Command) -> click.Command:
    """``command`` (and, for a group, each of its subcommands) taking ``--lang``."""
    if not any(param.name == "lang" for param in command.params):
        command.params.append(lang_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_lang_option(sub)
    return command


# --estate, --library, --db, --json, --format ------------------------------------------------


def estate_option(
    help_text: str = "Estate directory customising the library (its processes, rules, "
    "calendar and cases). Env PROPFLOW_ESTATE.",
    *,
    required: bool = False,
) -> Callable[[F], F]:
    """``--estate DIR``: an estate directory (one holding ``estate.yaml``)."""
    return click.option(
        "--estate",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        envvar="PROPFLOW_ESTATE",
        required=required,
        callback=_check_estate,
        help=help_text,
    )


def _check_estate(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and not (value / ESTATE_FILE).is_file():
        raise click.BadParameter(
            say("cli.no_estate_file", path=value, file=ESTATE_FILE), param_hint="--estate"
        )
    return value


def library_option(
    help_text: str = "Process/rules directory or file (repeatable); default: the shipped library.",
    *,
    old_spelling: str | None = None,
) -> Callable[[F], F]:
    """``--library PATH`` (repeatable), handed over as ``libraries``; ``old_spelling`` (such
    as ``--rules``) is kept as a hidden, deprecated alias of it."""

    def decorate(function: F) -> F:
        decorated = click.option(
            "--library",
            "libraries",
            multiple=True,
            type=click.Path(exists=True, path_type=Path),
            help=help_text,
        )(function)
        if old_spelling is None:
            return decorated
        return click.option(
            old_spelling,
            "old_libraries",
            multiple=True,
            hidden=True,
            type=click.Path(exists=True, path_type=Path),
            callback=_warn_old_library(old_spelling),
            help="Deprecated spelling of --library.",
        )(_merging_libraries(decorated))

    return decorate


def _warn_old_library(
    spelling: str,
) -> Callable[[click.Context, click.Parameter, tuple[Path, ...]], tuple[Path, ...]]:
    def callback(
        _ctx: click.Context, _param: click.Parameter, value: tuple[Path, ...]
    ) -> tuple[Path, ...]:
        if value:
            deprecated(spelling, "--library")
        return value

    return callback


def _merging_libraries(function: F) -> F:
    @functools.wraps(function)
    def command(
        *args: Any, libraries: tuple[Path, ...], old_libraries: tuple[Path, ...], **kwargs: Any
    ) -> Any:
        return function(*args, libraries=libraries + old_libraries, **kwargs)

    return command  # type: ignore[return-value]


def db_option(default: str = "cases.db") -> Callable[[F], F]:
    """``--db``: a SQLite file or a database URL, or env ``PROPFLOW_DB``."""
    return click.option(
        "--db", default=default, show_default=True, envvar="PROPFLOW_DB", help=DB_HELP
    )


def json_option(help_text: str = "Print JSON.") -> Callable[[F], F]:
    """``--json``, handed over as ``as_json``."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


class AliasedChoice(click.Choice):  # type: ignore[type-arg]
    """A choice that also accepts older names of its values (hidden from ``--help``),
    warning that they are deprecated."""

    def __init__(self, choices: Sequence[str], aliases: Mapping[str, str]) -> None:
        super().__init__(list(choices))
        self.aliases = dict(aliases)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value in self.aliases:
            new = self.aliases[value]
            deprecated(f"--format {value}", f"--format {new}")
            return new
        return super().convert(value, param, ctx)


def format_options(
    choices: Sequence[str],
    default: str | None,
    help_text: str,
    aliases: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """``--format`` with ``choices`` (one of them ``json``) and ``--json`` as its shorthand,
    handed over as ``output_format``; ``aliases`` maps deprecated value names to new ones."""
    if "json" not in choices:
        raise ValueError("a command with --json has a json format")

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def command(*args: Any, output_format: str | None, as_json: bool, **kwargs: Any) -> Any:
            if as_json and output_format not in (None, "json"):
                raise click.UsageError(say("cli.contradict", format=output_format))
            chosen = "json" if as_json else output_format
            return function(*args, output_format=chosen or default, **kwargs)

        decorated = json_option("Print JSON: the same as --format json.")(command)
        shown = f"{help_text} Default: {default}." if default else help_text
        return click.option(
            "--format",
            "output_format",
            type=AliasedChoice(choices, aliases or {}),
            help=shown,
        )(decorated)  # type: ignore[return-value]

    return decorate


# An estate by directory, where a command needs only its id ------------------------------


class EstateIdType(click.ParamType[str]):
    """An estate directory, read for its id; a bare id is still accepted (deprecated), since
    scripts written when these options took ids must keep working."""

    name = "estate"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        directory = Path(text)
        if (directory / ESTATE_FILE).is_file():
            found = _estate_id(directory / ESTATE_FILE)
            if found is None:
                self.fail(say("cli.no_estate_id", file=directory / ESTATE_FILE), param, ctx)
            return found
        if ESTATE_ID.match(text) and not directory.exists():
            deprecated(f"--estate {text}", "--estate DIR")
            return text
        self.fail(say("cli.not_estate_dir", path=text, file=ESTATE_FILE), param, ctx)


def _estate_id(estate_file: Path) -> str | None:
    """The ``estate:`` id of an estate file, read by the project's safe loader."""
    document, _ = load_document(estate_file, str(estate_file))
    if document is None:
        return None
    found = document.data.get("estate")
    return found if isinstance(found, str) else None


def estate_id_option(help_text: str, *, required: bool = False) -> Callable[[F], F]:
    """``--estate DIR`` where the command needs the estate's id (handed over as ``estate``)."""
    return click.option("--estate", type=EstateIdType(), required=required, help=help_text)


# Progress on a terminal ------------------------------------------------------------------


class StatusLine:
    """One line of progress on standard error, rewritten in place, when that is a terminal;
    piped or redirected, it writes nothing, so logs and CI output stay clean."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None):
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.shown = bool(getattr(self.stream, "isatty", lambda: False)())

    def step(self, what: str = "", count: int = 1) -> None:
        """``count`` more items done; ``what`` names the last."""
        self.done += count
        if not self.shown:
            return
        done = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        text = clip(f"{self.label} {done} {what}".rstrip(), _width() - 1)
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()

    def close(self) -> None:
        """Clear the line, so that what is printed next starts on a clean one."""
        if self.shown and self.done:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self.shown = False

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _width() -> int:
    return shutil.get_terminal_size((80, 24)).columns
