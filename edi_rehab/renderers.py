"""Findings as the report formats CI systems read: GitHub annotations, GitLab Code Quality,
JUnit XML and SARIF 2.1.0.

Pure: each renderer takes the files' findings (a list of :class:`~edi_rehab.report.FileReport`
whose ``findings`` are lists) and returns text; the command line writes it. A finding's
segment number (1-based, in its file) is the "line" every format asks for: X12 has no lines,
and the segment is what ``check``'s text output points at. A minutes-CSV finding has segment
0 and carries its CSV row instead, which is used when present. No format adds anything a
finding does not already hold, so none carries patient data.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence

from .findings import Finding, Severity
from .report import FileReport

__all__ = ["RENDERERS", "render_github", "render_gitlab", "render_junit", "render_sarif", "finding_location_line"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "edi-rehab"


def finding_location_line(finding: Finding) -> int | None:
    """The 1-based "line" of a finding: its segment, or for a CSV finding its row; None if neither."""
    if finding.segment and finding.segment > 0:
        return finding.segment
    row = finding.details.get("row") if finding.details else None
    return row if isinstance(row, int) and row > 0 else None


# -- GitHub Actions workflow commands --------------------------------------------------------------
GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github_data(text: str) -> str:
    """Escape a workflow command's message (GitHub's escapeData): %, CR, LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """Escape a workflow command's property value (GitHub's escapeProperty): also : and ,."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(files: Sequence[FileReport]) -> str:
    """One ``::error``/``::warning``/``::notice`` command per finding, and one ``::error`` per
    unreadable file, so a pull request shows each finding on its file."""
    lines = []
    for report in files:
        for finding in report.findings:
            props = [f"file={github_property(report.path)}"]
            line = finding_location_line(finding)
            if line is not None:
                props.append(f"line={line}")
            props.append(f"title={github_property(finding.code)}")
            lines.append(f"::{GITHUB_COMMAND[finding.severity]} {','.join(props)}::{github_data(finding.message)}")
        if report.error is not None:
            lines.append(f"::error file={github_property(report.path)},title=unreadable::{github_data(report.error)}")
    return "".join(line + "\n" for line in lines)


# -- GitLab Code Quality ---------------------------------------------------------------------------
#: Our three severities on GitLab's five: an error makes the hook fail, so it is "major"; a
#: warning is "minor"; "critical" and "blocker" are left for unreadable files.
GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def gitlab_fingerprint(path: str, finding: Finding) -> str:
    """Stable across runs and machines: the same finding at the same place gives the same id."""
    key = "\0".join((path, finding.code, str(finding.segment), finding.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def render_gitlab(files: Sequence[FileReport]) -> str:
    """A GitLab Code Quality report: a JSON list of issues (an empty list for clean files)."""
    issues = []
    for report in files:
        for finding in report.findings:
            issues.append(
                {
                    "description": f"{finding.code} {finding.message}",
                    "check_name": finding.code,
                    "fingerprint": gitlab_fingerprint(report.path, finding),
                    "severity": GITLAB_SEVERITY[finding.severity],
                    "location": {"path": report.path, "lines": {"begin": finding_location_line(finding) or 1}},
                }
            )
        if report.error is not None:
            key = "\0".join((report.path, "unreadable", report.error))
            issues.append(
                {
                    "description": report.error,
                    "check_name": "unreadable",
                    "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
                    "severity": "blocker",
                    "location": {"path": report.path, "lines": {"begin": 1}},
                }
            )
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"


# -- JUnit XML -------------------------------------------------------------------------------------
def render_junit(files: Sequence[FileReport], fail_on: Severity) -> str:
    """One ``testsuite`` per file, one ``testcase`` per finding (a failure when at or above
    ``fail_on``, passing otherwise) or one passing testcase for a clean file; an unreadable
    file is a testcase with an ``error``."""
    root = ET.Element("testsuites", name=TOOL_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for report in files:
        suite = ET.SubElement(root, "testsuite", name=report.path)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        for finding in report.findings:
            counts["tests"] += 1
            line = finding_location_line(finding)
            where = f"segment {line}" if finding.segment else (f"row {line}" if line else "file")
            case = ET.SubElement(suite, "testcase", classname=report.path, name=f"{finding.code} {where}")
            if finding.severity.rank >= fail_on.rank:
                counts["failures"] += 1
                failure = ET.SubElement(case, "failure", message=finding.message, type=finding.code)
                failure.text = f"{finding.severity.value}: {finding.message}"
            else:
                ET.SubElement(case, "system-out").text = f"{finding.severity.value} {finding.code}: {finding.message}"
        if report.error is not None:
            counts["tests"] += 1
            counts["errors"] += 1
            case = ET.SubElement(suite, "testcase", classname=report.path, name="readable")
            ET.SubElement(case, "error", message=report.error, type="unreadable").text = report.error
        if counts["tests"] == 0:
            counts["tests"] = 1
            ET.SubElement(suite, "testcase", classname=report.path, name="no findings")
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- SARIF 2.1.0 -----------------------------------------------------------------------------------
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def sarif_rules(rules: Iterable) -> list[dict]:
    """``tool.driver.rules`` from the registry: id, name, short description, default level."""
    return [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary or rule.name},
            "defaultConfiguration": {"level": SARIF_LEVEL[rule.severity]},
        }
        for rule in rules
    ]


def render_sarif(files: Sequence[FileReport], *, rules: Iterable, version: str) -> str:
    """One SARIF 2.1.0 log with one run: the registry's rules and one result per finding;
    an unreadable file is a tool execution notification and makes the run unsuccessful."""
    descriptors = sarif_rules(rules)
    index = {rule["id"]: n for n, rule in enumerate(descriptors)}
    results = []
    notifications = []
    for report in files:
        for finding in report.findings:
            location: dict = {"physicalLocation": {"artifactLocation": {"uri": sarif_uri(report.path)}}}
            line = finding_location_line(finding)
            if line is not None:
                location["physicalLocation"]["region"] = {"startLine": line}
            result = {
                "ruleId": finding.code,
                "level": SARIF_LEVEL[finding.severity],
                "message": {"text": finding.message},
                "locations": [location],
            }
            if finding.code in index:
                result["ruleIndex"] = index[finding.code]
            results.append(result)
        if report.error is not None:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": report.error},
                    "locations": [{"physicalLocation": {"artifactLocation": {"uri": sarif_uri(report.path)}}}],
                }
            )
    invocation: dict = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": TOOL_NAME, "version": version, "rules": descriptors}},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=True) + "\n"


def sarif_uri(path: str) -> str:
    """A relative URI reference for a path as given (SARIF wants forward slashes, % escaped)."""
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/:")


def _sarif(files: Sequence[FileReport], fail_on: Severity) -> str:
    from . import __version__
    from .rules.registry import RULES

    return render_sarif(files, rules=RULES, version=__version__)


#: format name -> renderer(files, fail_on) -> text, for the formats rendered once all files are done
RENDERERS: dict[str, Callable[[Sequence[FileReport], Severity], str]] = {
    "github": lambda files, fail_on: render_github(files),
    "gitlab": lambda files, fail_on: render_gitlab(files),
    "junit": render_junit,
    "sarif": _sarif,
}
