"""Where a path really leads: resolving symbolic links without tracebacks, and containment.

``Path.resolve`` raises ``RuntimeError`` on a loop of symbolic links (before Python 3.13),
and an estate's promise (it reads only its own files) is a question of where each link
finally leads. Both are answered here, once, for the estate loader and the scenario reader.
"""

from __future__ import annotations

from pathlib import Path


def real_path(path: Path) -> Path | None:
    """Where ``path`` leads once every symbolic link is followed; ``None`` for a loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links followed, is ``root`` or below it (never for a loop)."""
    real, base = real_path(path), real_path(root)
    return real is not None and base is not None and real.is_relative_to(base)


def linked_directories_outside(directory: Path, root: Path) -> list[Path]:
    """Symbolic links to directories below ``directory`` that lead outside ``root``.

    File discovery does not follow links to directories, so without this report a link
    out of an estate would be silently skipped instead of refused. Hidden entries are
    skipped as discovery skips them.
    """
    found: list[Path] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        try:
            entries = sorted(current.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                if entry.is_dir() and not is_inside(entry, root):
                    found.append(entry)
            elif entry.is_dir():
                pending.append(entry)
    return sorted(found)
