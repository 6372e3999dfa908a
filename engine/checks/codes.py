"""The catalogue of every diagnostic code, for ``propflow codes`` and ``docs/checks.md``
(``docs/checks.zh-CN.md`` in Chinese).

Check modules document themselves in their docstrings; the loader's file-level codes are
described here, since they come from one module (the YAML reader) rather than one each. The
Chinese explanations are data, in the Chinese message catalogue
(engine/diagnostics/messages/zh-CN.yaml, ``docs:``), which a test holds to the same codes.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass

from engine.checks import CHECKS
from engine.diagnostics import Severity
from engine.diagnostics.catalogue import catalogue, say
from engine.diagnostics.language import current_language

#: The file each language's generated catalogue is published as, under docs/.
DOCS_FILES = {"en": "checks.md", "zh-CN": "checks.zh-CN.md"}


@dataclass(frozen=True)
class CodeDoc:
    """A code's documentation: its id, short name, severity, summary and explanation."""

    code: str
    name: str
    severity: Severity
    summary: str
    explanation: str


LOADER_CODES: tuple[CodeDoc, ...] = (
    CodeDoc(
        "PF001",
        "unreadable-file",
        Severity.ERROR,
        "The file cannot be read.",
        "The file exists but could not be opened (permissions, a broken symbolic link, "
        "a loop of symbolic links), or it is not a regular file: a directory, a FIFO, a "
        "device or a socket is refused before it is opened, so that nothing blocks or "
        "reads without end. Check that the file is readable by the user running the "
        "validator.",
    ),
    CodeDoc(
        "PF002",
        "not-text",
        Severity.ERROR,
        "The file is binary or not UTF-8 text.",
        "PropFlow files are UTF-8 text. A file with NUL bytes is binary; a file saved in "
        "GBK or another legacy encoding must be re-saved as UTF-8. The position is that "
        "of the first byte that is not valid UTF-8.",
    ),
    CodeDoc(
        "PF003",
        "yaml-syntax",
        Severity.ERROR,
        "The file is not valid YAML.",
        "The YAML parser stopped at the marked position: a missing colon, a bad indent, "
        "an unclosed quote or bracket, or a tab used for indentation (YAML allows only "
        "spaces). Several documents in one file (`---`) are also refused.",
    ),
    CodeDoc(
        "PF004",
        "duplicate-key",
        Severity.ERROR,
        "A key appears twice in one mapping.",
        "Plain YAML readers silently keep the last of two equal keys, so one of two "
        "definitions would vanish unnoticed. PropFlow reports the second occurrence and "
        "points at the first.",
    ),
    CodeDoc(
        "PF005",
        "too-complex",
        Severity.ERROR,
        "The file is too large, too deeply nested, or expands too far through aliases.",
        "Process files are small. Files over 2 MB (counted while reading: at most one "
        "byte more is ever read), nesting deeper than 64 levels, or anchors and aliases "
        "that expand to more than 200,000 values (the 'billion laughs' attack) are refused "
        "before they can exhaust memory or time.",
    ),
    CodeDoc(
        "PF006",
        "empty-file",
        Severity.ERROR,
        "The file is empty.",
        "The file holds no YAML document (only whitespace or comments). Delete it or "
        "give it content.",
    ),
    CodeDoc(
        "PF007",
        "not-a-mapping",
        Severity.ERROR,
        "The top level of the file is a list or a single value.",
        "Every PropFlow file is a mapping whose first key tells its kind: `process:`, "
        "`estate:`, `calendars:` or `time_limits:`.",
    ),
    CodeDoc(
        "PF008",
        "unknown-kind",
        Severity.ERROR,
        "The kind of file cannot be told.",
        "A process file has a `process:` key, an estate file an `estate:` key, a rules "
        "file one or more of `calendars:`, `time_limits:`, `schedules:`, `quotas:` and "
        "`kpis:`. A file with none of these is not a PropFlow file; move it out of the validated "
        "directories.",
    ),
    CodeDoc(
        "PF009",
        "no-files",
        Severity.ERROR,
        "A directory given to validate holds no YAML.",
        "Usually a wrong path in a CI job, which would otherwise pass while checking nothing.",
    ),
    CodeDoc(
        "PF010",
        "unsupported-yaml",
        Severity.ERROR,
        "The file uses a YAML feature PropFlow refuses.",
        "Explicit tags (`!!python/object`, `!custom`) could construct objects and are "
        "never honoured; merge keys (`<<`) and non-text keys are refused so that every "
        "value has one plain source. Use estate patches to share definitions.",
    ),
    CodeDoc(
        "PF011",
        "lone-surrogate",
        Severity.ERROR,
        "Text holds a lone surrogate code point.",
        "A YAML escape such as `\\ud800` names half of a UTF-16 pair, which is not a "
        "character: it cannot be saved as UTF-8, so manuals, diagrams and the store could "
        "not write it. The key or value holding it is refused where it is read.",
    ),
    CodeDoc(
        "PF050",
        "schema",
        Severity.ERROR,
        "The file does not have the shape of its kind.",
        "Structural validation against the kind's JSON Schema in `schemas/`: unknown "
        "keys (usually typos, with a suggestion), missing required keys, values of the "
        "wrong type, ids that are not lower-case snake_case. The file's other checks still "
        "run: its broken parts are cut out and the rest is checked, so one run shows every "
        "mistake. Point your editor at the "
        "schema (the `# yaml-language-server: $schema=` line) to see these as you type.",
    ),
)


#: Codes of estates (engine/io/estates.py): merging an estate's patches over the library it extends.
ESTATE_CODES: tuple[CodeDoc, ...] = (
    CodeDoc(
        "PF401",
        "patch-deletes-nothing",
        Severity.ERROR,
        "A patch deletes (with null) something the library being customised does not have.",
        "In an estate patch, `key: null` removes that key from the library's definition. "
        "Deleting a key, time limit or calendar that does not exist does nothing, so it is "
        "almost always a misspelt name: check it against `propflow show --estate DIR PROCESS`.",
    ),
    CodeDoc(
        "PF402",
        "patch-changes-type",
        Severity.ERROR,
        "A patch replaces a value by one of another kind (a mapping by text, a list by a number).",
        "A patch may override a value, but with one of the same kind: a mapping stays a "
        "mapping, a list a list, text text. Replacing a state's definition by a word, or a "
        "list of roles by one role, is refused; the note points at the library value it met.",
    ),
    CodeDoc(
        "PF403",
        "estate-escape",
        Severity.ERROR,
        "An estate reaches outside its directory.",
        "An estate may extend `standard` or a sibling estate in the same directory of "
        "estates, and may only load its own files. An `extends` that leaves the directory of "
        "estates, one that names no estate, or a symbolic link to a file or a directory "
        "outside the estate (its `estate.yaml`, a patch, a scenario, any file) is refused, "
        "so an estate can be reviewed by reading its own directory.",
    ),
    CodeDoc(
        "PF404",
        "circular-extends",
        Severity.ERROR,
        "Estates extend each other in a circle.",
        "Following `extends` from estate to estate comes back to one already seen, so there "
        "is no base to start from. The message lists the circle; one of them must extend "
        "`standard` or another estate.",
    ),
)

#: Codes of deployment files (engine/io/deployment.py): what ``propflow serve`` hosts.
DEPLOYMENT_CODES: tuple[CodeDoc, ...] = (
    CodeDoc(
        "PF450",
        "deployment-estate-not-found",
        Severity.ERROR,
        "A deployment names an estate directory that does not exist or holds no estate.",
        "`estates:` in a deployment file is a directory holding estate directories, or a "
        "list of estate directories, relative to the deployment file. Each must hold an "
        "`estate.yaml`; a directory with none is refused rather than served with no estate.",
    ),
    CodeDoc(
        "PF451",
        "deployment-key-unreadable",
        Severity.ERROR,
        "The key file of a deployment's JWT settings cannot be read.",
        "`tokens.jwt.key_file` names the file holding the HS256 secret or the RS256 public "
        "key, relative to the deployment file. It must exist and be readable UTF-8 text, "
        "else no JWT could be checked and every caller would be refused.",
    ),
)

#: Codes of scenario files (engine/scenarios): found before a scenario runs.
SCENARIO_CODES: tuple[CodeDoc, ...] = (
    CodeDoc(
        "PF601",
        "scenario-estate",
        Severity.ERROR,
        "A scenario's estate cannot be found.",
        "A scenario's `estate:` is the estate directory relative to the scenario file (or "
        "`standard`). Without it, the scenario runs on the estate whose `scenarios/` holds "
        "it, else on `propflow test --estate`, else on the shipped library.",
    ),
    CodeDoc(
        "PF602",
        "scenario-time",
        Severity.ERROR,
        "A step's time cannot be read, or goes back in time.",
        "`start`, `at` and `until` are moments with their offset "
        "(`2026-02-13T10:00+08:00`); `after` is wall-clock time since the previous step "
        "(`30m`, `2h`, `3d`; working time depends on a calendar, so use `at`). Steps go "
        "forward: an `at` before the previous step is refused.",
    ),
    CodeDoc(
        "PF603",
        "undefined-actor",
        Severity.ERROR,
        "A step names an actor that is not declared under `actors:`.",
        "Every person who acts in a scenario is declared once under `actors:` with the "
        "roles they hold; steps name them by that name.",
    ),
    CodeDoc(
        "PF604",
        "undefined-case",
        Severity.ERROR,
        "A step names a case that no earlier step opened.",
        "An `open` step names its case (`as: leak`); later steps refer to it with `case: "
        "leak`, or leave `case` out to mean the case the previous step acted on. A case whose "
        "opening is expected to be refused never exists, and each name is opened once.",
    ),
    CodeDoc(
        "PF605",
        "scenario-reference",
        Severity.ERROR,
        "A scenario names a process, event, state, field, role or time limit the estate lacks.",
        "Scenarios are checked against the definitions they run on (the estate's, patches "
        "included) before anything runs, so a misspelt event fails at its line instead of "
        "halfway through the story. The message suggests the nearest existing name.",
    ),
    CodeDoc(
        "PF606",
        "scenario-value",
        Severity.ERROR,
        "A value in a scenario does not fit its field's type.",
        "Form values in `data` and `payload`, and expected field values, are checked against "
        "the field's type as the engine will check them (a date as `2026-03-01`, money as a "
        "number, an enum as one of its values). A step that expects a refusal may send a bad "
        "value on purpose and is not checked.",
    ),
)


def all_codes(language: str | None = None) -> list[CodeDoc]:
    """Every code the validator can emit, in code order, explained in ``language`` (default:
    the language spoken)."""
    docs = [*LOADER_CODES, *ESTATE_CODES, *DEPLOYMENT_CODES, *SCENARIO_CODES]
    for module in CHECKS:
        text = inspect.cleandoc(module.__doc__ or "")
        summary, _, explanation = text.partition("\n\n")
        docs.append(
            CodeDoc(
                module.CODE,
                module.NAME,
                module.SEVERITY,
                " ".join(summary.split()),
                " ".join(explanation.split()),
            )
        )
    chosen = language or current_language()
    translated = catalogue(chosen).docs
    if translated:
        docs = [
            dataclasses.replace(
                doc,
                summary=translated[doc.code].summary,
                explanation=translated[doc.code].explanation,
            )
            for doc in docs
        ]
    return sorted(docs, key=lambda doc: doc.code)


def severity_words(severity: Severity, language: str | None = None) -> str:
    """``error`` or ``warning`` in ``language``."""
    return say(f"codes.{severity.value}", language)


def listing(language: str | None = None) -> str:
    """``propflow codes``: one line per code."""
    return "".join(
        say(
            "codes.line",
            language,
            code=d.code,
            name=d.name,
            severity=severity_words(d.severity, language),
            summary=d.summary,
        )
        + "\n"
        for d in all_codes(language)
    )


def markdown(language: str | None = None) -> str:
    """``docs/checks.md`` (or its Chinese twin): the published explanation of every code."""
    lines = [
        say("codes.title", language),
        "",
        say("codes.generated", language),
        "",
        say("codes.table_head", language),
        "|---|---|---|---|",
    ]
    docs = all_codes(language)
    lines += [
        f"| {d.code} | {d.name} | {severity_words(d.severity, language)} | {d.summary} |"
        for d in docs
    ]
    for doc in docs:
        lines += ["", f"## {doc.code} {doc.name}", "", doc.summary, "", doc.explanation]
    return "\n".join(lines) + "\n"
