"""JUnit XML of a scenario run, the report format CI servers show as test results.

One ``<testsuite>`` per estate, one ``<testcase>`` per scenario file; a failed scenario has a
``<failure>`` whose message is its first difference (or first problem) and whose text holds
the details. Written with :mod:`xml.etree.ElementTree`, so every value is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from engine.scenarios.runner import ScenarioResult


def junit_tree(results: Sequence[ScenarioResult], details: dict[int, str]) -> ET.ElementTree:
    """The JUnit document of ``results``; ``details[i]`` is the text of result ``i``'s failure."""
    root = ET.Element("testsuites", name="propflow scenarios")
    suites: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        suites.setdefault(result.estate, []).append(index)
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    for estate, members in suites.items():
        failed = sum(1 for i in members if not results[i].passed)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=estate,
            tests=str(len(members)),
            failures=str(failed),
            errors="0",
            skipped="0",
            time=f"{sum(results[i].seconds for i in members):.3f}",
            timestamp=stamp,
        )
        for index in members:
            result = results[index]
            case = ET.SubElement(
                suite,
                "testcase",
                classname=Path(result.file).with_suffix("").as_posix().replace("/", "."),
                name=result.scenario.id if result.scenario else Path(result.file).stem,
                file=result.file,
                time=f"{result.seconds:.3f}",
            )
            if not result.passed:
                failure = ET.SubElement(
                    case, "failure", message=result.summary(), type="ScenarioFailure"
                )
                failure.text = details.get(index, result.summary())
    root.set("tests", str(len(results)))
    root.set("failures", str(sum(1 for r in results if not r.passed)))
    root.set("errors", "0")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: Sequence[ScenarioResult], details: dict[int, str], target: Path) -> None:
    """Write the JUnit XML of ``results`` to ``target`` (UTF-8, with the XML declaration)."""
    junit_tree(results, details).write(target, encoding="utf-8", xml_declaration=True)
