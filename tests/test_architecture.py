"""The package layering of ``engine/`` that docs/architecture.md draws, checked on the code.

Data flows one way (files → definitions → runtime → store); these tests keep the imports
saying so: no package imports one above it, no cycle, and no module reaches into another
module's private members, so every seam between packages is a public, typed one.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

#: engine's packages, lowest first: each may import only those before it.
LAYERS = (
    "diagnostics",
    "conditions",
    "model",
    "time",
    "io",
    "checks",
    "sla",
    "store",
    "patterns",
    "delivery",
    "reports",
    "runtime",
    "scenarios",
    "render",
    "service",
    "cli",
)


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE.parent).with_suffix("").parts
        name = ".".join(parts).removesuffix(".__init__")
        yield name, path, ast.parse(path.read_text(encoding="utf-8"))


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "engine" else None


def _imports(tree: ast.Module) -> Iterator[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every engine import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


def _package_edges() -> dict[tuple[str, str], str]:
    edges: dict[tuple[str, str], str] = {}
    for name, path, tree in _modules():
        source = _package(name)
        for target_module, names, line in _imports(tree):
            targets = [_package(target_module)]
            if target_module == "engine":
                targets = list(names)
            for target in targets:
                if source and target and target != source:
                    edges.setdefault((source, target), f"{path.relative_to(ENGINE.parent)}:{line}")
    return edges


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in ENGINE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(LAYERS), "add the package to LAYERS and to docs/architecture.md"
    loose = sorted(p.name for p in ENGINE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], "every module belongs to a package"


def test_no_package_imports_one_above_it() -> None:
    upward = [
        f"{where}: engine.{source} imports engine.{target}"
        for (source, target), where in _package_edges().items()
        if LAYERS.index(target) > LAYERS.index(source)
    ]
    assert upward == []


def test_no_module_uses_another_modules_private_names() -> None:
    found: list[str] = []
    for _name, path, tree in _modules():
        own = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
        } | {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        where = path.relative_to(ENGINE.parent)
        for target, names, line in _imports(tree):
            if target.startswith("engine"):
                found += [f"{where}:{line}: imports {target}.{n}" for n in names if _private(n)]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and node.attr not in own
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
            ):
                found.append(f"{where}:{node.lineno}: uses .{node.attr}")
    assert found == []


#: Public names that start with an underscore so as not to clash with field names: SQLAlchemy
#: rows (``row._mapping``) and named tuples.
PUBLIC_UNDERSCORED = frozenset({"_mapping", "_asdict", "_replace", "_fields", "_make"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC_UNDERSCORED


@pytest.mark.parametrize("layer", LAYERS)
def test_architecture_page_describes_each_package(layer: str) -> None:
    page = (ENGINE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"engine/{layer}/" in page
