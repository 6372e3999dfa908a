"""The ``propflow`` command line: one module per group of commands, registered here.

Exit codes are stable for CI and scripts: 0 success, 1 a problem with the input (validation
errors, a refused event), 2 a usage error (bad option, a path that does not exist).
"""

from __future__ import annotations

import click

from engine.cli.case import case, demo, worker
from engine.cli.deadline import deadline
from engine.cli.estate import diff_command, init, show_command
from engine.cli.render import diagram, manual
from engine.cli.scenario import simulate_command, test_command
from engine.cli.validate import codes_command, schema, validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="propflow")
def main() -> None:
    """PropFlow: property-management procedures as YAML state machines and time limits."""


for _command in (
    validate,
    schema,
    codes_command,
    deadline,
    case,
    demo,
    worker,
    init,
    show_command,
    diff_command,
    test_command,
    simulate_command,
    diagram,
    manual,
):
    main.add_command(_command)
