"""Deployment files (``propflow.yaml``): read with positions, checked, and resolved.

The same pipeline as every other file kind — the YAML reader that keeps positions and
refuses hostile input, the kind's JSON Schema with worded errors, then the pydantic model —
and then the paths it names resolved against the file's own directory, so a deployment
can be started from anywhere. Every problem is a positioned diagnostic, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from engine.diagnostics import Diagnostic, Severity, Span
from engine.diagnostics.catalogue import say
from engine.io.estates import is_estate_dir
from engine.io.loading import display_path, model_error
from engine.io.schemas import FileKind, validate_structure
from engine.io.yamlsource import SourceDocument, load_document
from engine.model.deployment import DeploymentDef, JwtSettings, WebhookDef

#: The deployment file ``propflow serve`` and ``propflow worker`` look for by default.
DEPLOYMENT_FILE = "propflow.yaml"

#: The estates directory and store of a deployment that names none (and of ``propflow
#: serve`` with no configuration in a checkout).
DEFAULT_ESTATES = "estates"
DEFAULT_STORE = "propflow.db"

ESTATE_NOT_FOUND = "PF450"
KEY_UNREADABLE = "PF451"


@dataclass(frozen=True)
class Jwt:
    """JWT settings with their key text read (from ``key`` or ``key_file``)."""

    settings: JwtSettings
    key: str


@dataclass(frozen=True)
class Deployment:
    """A deployment resolved: the store URL, the estate directories, JWTs and webhooks."""

    id: str
    store: str
    estate_dirs: tuple[Path, ...]
    jwt: Jwt | None = None
    webhooks: tuple[WebhookDef, ...] = field(default_factory=tuple)


def simple_deployment(store: str, estates: Path) -> tuple[Deployment | None, list[Diagnostic]]:
    """The deployment of ``--db`` and ``--estates DIR`` given without a deployment file."""
    dirs = estate_directories(estates)
    if not dirs:
        return None, [
            Diagnostic(
                ESTATE_NOT_FOUND,
                Severity.ERROR,
                say("PF450.holds_none", path=estates),
                Span(str(estates), 1, 1),
            )
        ]
    return Deployment("default", store, dirs), []


def load_deployment(path: Path) -> tuple[Deployment | None, list[Diagnostic]]:
    """Read and resolve a deployment file; ``None`` with the reasons if it cannot be used."""
    display = display_path(path) if path.is_absolute() else str(path)
    document, diagnostics = load_document(path, display)
    if document is None or any(d.severity is Severity.ERROR for d in diagnostics):
        return None, diagnostics
    structural = validate_structure(document, FileKind.DEPLOYMENT)
    if structural:
        return None, diagnostics + structural
    try:
        definition = DeploymentDef.model_validate(document.data)
    except ValidationError as exc:
        return None, [*diagnostics, *(model_error(document, e) for e in exc.errors())]
    return _resolve(definition, document, path.parent)


def estate_directories(path: Path) -> tuple[Path, ...]:
    """``path`` itself if it is an estate directory, else the estate directories in it."""
    if is_estate_dir(path):
        return (path,)
    if not path.is_dir():
        return ()
    return tuple(sorted(child for child in path.iterdir() if is_estate_dir(child)))


def _resolve(
    definition: DeploymentDef, document: SourceDocument, base: Path
) -> tuple[Deployment | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    if isinstance(definition.estates, str):
        dirs = estate_directories(base / definition.estates)
        if not dirs:
            problems.append(
                _problem(
                    document,
                    ("estates",),
                    ESTATE_NOT_FOUND,
                    say("PF450.holds_none", path=definition.estates),
                )
            )
    else:
        dirs = tuple(base / entry for entry in definition.estates)
        for index, directory in enumerate(dirs):
            if not is_estate_dir(directory):
                problems.append(
                    _problem(
                        document,
                        ("estates", index),
                        ESTATE_NOT_FOUND,
                        say("PF450.not_estate", path=definition.estates[index]),
                    )
                )
    jwt = None
    settings = definition.tokens.jwt
    if settings is not None:
        key = settings.key
        if settings.key_file is not None:
            try:
                key = (base / settings.key_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(
                    _problem(
                        document,
                        ("tokens", "jwt", "key_file"),
                        KEY_UNREADABLE,
                        say(
                            "PF451.unreadable",
                            file=settings.key_file,
                            reason=getattr(exc, "strerror", None) or exc.__class__.__name__,
                        ),
                    )
                )
        if key is not None:
            jwt = Jwt(settings, key)
    if problems:
        return None, problems
    store = definition.store if "://" in definition.store else str(base / definition.store)
    return Deployment(definition.id, store, dirs, jwt, definition.webhooks), []


def _problem(
    document: SourceDocument, path: tuple[str | int, ...], code: str, message: str
) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, document.source_map.locate(path))
