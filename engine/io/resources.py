"""Where the shipped standard library and schemas live.

An installed wheel carries ``processes/``, ``rules/`` and ``schemas/`` inside the package as
``engine/_library/``; a source checkout (or an editable install) has them beside ``engine/``.
Looking in both places lets the CLI work from any directory either way.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def library_root() -> Path:
    """The directory holding ``processes/``, ``rules/`` and ``schemas/``."""
    bundled = _PACKAGE / "_library"
    if (bundled / "schemas").is_dir():
        return bundled
    return _PACKAGE.parent


def schemas_dir() -> Path:
    """The directory of the JSON Schemas, one per file kind."""
    return library_root() / "schemas"


def standard_library_dirs() -> list[Path]:
    """The shipped process and rules directories, in load order.

    Named relative to the current directory when they are inside it (a source checkout), so
    diagnostics and provenance say ``processes/repair.yaml:14`` rather than a long path.
    """
    root = library_root()
    return [_short(root / "processes"), _short(root / "rules")]


def _short(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
