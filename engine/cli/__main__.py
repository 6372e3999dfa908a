"""``python -m engine.cli``: the ``propflow`` command, where its script is not on the path."""

from engine.cli import main

main(prog_name="propflow")
