"""The ``propflow`` command line: one module per group of commands, registered here.

Each command is imported only when it runs (or when ``--help`` lists it), so ``propflow
validate`` does not pay for the runtime, the store and its database drivers it never uses.

Exit codes are stable for CI and scripts: 0 success, 1 a problem with the input (validation
errors, a refused event), 2 a usage error (bad option, a path that does not exist).

Every command takes ``--lang`` (from :mod:`engine.cli.options`), added here as each command
is loaded, so that no command can be written without it.
"""

from __future__ import annotations

import importlib

import click

from engine.cli.options import LANG_HELP, LANGUAGES, with_lang_option
from engine.diagnostics.language import use_language

#: Command name → ``module:attribute`` of the click command that implements it.
COMMANDS: dict[str, str] = {
    "validate": "engine.cli.validate:validate",
    "schema": "engine.cli.validate:schema",
    "codes": "engine.cli.validate:codes_command",
    "deadline": "engine.cli.deadline:deadline",
    "case": "engine.cli.case:case",
    "demo": "engine.cli.case:demo",
    "worker": "engine.cli.worker:worker",
    "outbox": "engine.cli.outbox:outbox",
    "db": "engine.cli.db:db",
    "migrate": "engine.cli.migrate:migrate",
    "serve": "engine.cli.serve:serve",
    "token": "engine.cli.token:token",
    "init": "engine.cli.estate:init",
    "show": "engine.cli.estate:show_command",
    "diff": "engine.cli.estate:diff_command",
    "test": "engine.cli.scenario:test_command",
    "simulate": "engine.cli.scenario:simulate_command",
    "diagram": "engine.cli.render:diagram",
    "manual": "engine.cli.render:manual",
    "report": "engine.cli.report:report",
    "board": "engine.cli.report:board",
}


class LazyGroup(click.Group):
    """A group whose commands are named in :data:`COMMANDS` and imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        self.add_command(with_lang_option(command), cmd_name)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="propflow")
@click.option("--lang", type=click.Choice(LANGUAGES), help=LANG_HELP)
def main(lang: str | None) -> None:
    """PropFlow: property-management procedures as YAML state machines and time limits."""
    # Always set: a command's own --lang overrides it, and no earlier run's choice remains.
    use_language(lang)
