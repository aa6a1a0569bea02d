"""What ``baygate test`` writes: a readable account for people, JUnit XML and JSON for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from api.spec.runner import RunResult, ScenarioResult


def scenario_line(scenario: ScenarioResult) -> str:
    mark = "PASS" if scenario.passed else "FAIL"
    return f"{mark}  {scenario.name}  ({scenario.feature}:{scenario.line})"


def failure_details(scenario: ScenarioResult) -> str:
    return "\n".join("      " + line for line in (scenario.message or "").splitlines())


def summary(result: RunResult) -> str:
    failed = len(result.failed)
    lines = [f"{len(result.scenarios)} scenarios: {len(result.scenarios) - failed} passed, {failed} failed "
             f"(rules: {result.rules_dir})",
             f"rules reached by the scenarios: {len(result.rules) - len(result.unreached)} of {len(result.rules)}"]
    lines += [f"  not reached: {rule}" for rule in result.unreached]
    return "\n".join(lines)


def junit_xml(result: RunResult) -> bytes:
    """One <testsuite> per feature file, one <testcase> per scenario (an outline's row is one), the
    failure's message and the steps as its text: what CI systems read (Jenkins, GitLab, GitHub)."""
    suites = ET.Element("testsuites", name="baygate test", tests=str(len(result.scenarios)),
                        failures=str(len(result.failed)),
                        time=f"{sum(s.seconds for s in result.scenarios):.3f}")
    by_feature: dict[str, list[ScenarioResult]] = {}
    for scenario in result.scenarios:
        by_feature.setdefault(scenario.feature, []).append(scenario)
    for feature, scenarios in by_feature.items():
        suite = ET.SubElement(suites, "testsuite", name=scenarios[0].feature_name or feature, file=feature,
                              tests=str(len(scenarios)), failures=str(sum(not s.passed for s in scenarios)),
                              errors="0", skipped="0", time=f"{sum(s.seconds for s in scenarios):.3f}")
        for scenario in scenarios:
            case = ET.SubElement(suite, "testcase", classname=feature, name=scenario.name, file=feature,
                                 line=str(scenario.line), time=f"{scenario.seconds:.3f}")
            if not scenario.passed:
                message = scenario.message or ""
                failure = ET.SubElement(case, "failure", message=message.splitlines()[0] if message else "",
                                        type="AssertionError")
                steps = "\n".join(f"{s.status:>7}  {s.keyword} {s.text}  (line {s.line})" for s in scenario.steps)
                failure.text = f"{message}\n\n{steps}"
    ET.indent(suites)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(ET.tostring(suites, encoding="utf-8"))


def write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
