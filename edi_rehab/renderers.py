"""What programs read: the JSON envelope every command's JSON shares, and findings as the
report formats CI systems read (GitHub annotations, GitLab Code Quality, JUnit XML, SARIF 2.1.0).

Every JSON document a command writes (``check``, ``validate``, ``fix``, ``split``, ``match``)
starts with the same envelope, built here and nowhere else: ``schema_version`` (the shape's
version, ``docs/json-output.md``), ``command`` and ``tool`` (the package version and the maps'
release). A JSON Lines output carries ``schema_version`` on every record and the whole envelope
on its summary record. The shapes are JSON Schemas in ``edi_rehab/schemas/``.

Pure: each renderer takes the files' findings (a list of :class:`~edi_rehab.report.FileReport`
whose ``findings`` are lists) and returns text; the command line writes it. A finding's
segment number (1-based, in its file) is the "line" every format asks for: X12 has no lines,
and the segment is what ``check``'s text output points at. A minutes-CSV finding has segment
0 and carries its CSV row instead, which is used when present. No format adds anything a
finding does not already hold, so none carries patient data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence

from .findings import Finding, Severity
from .report import FileReport

__all__ = [
    "JSON_SCHEMAS",
    "JSON_SCHEMA_VERSION",
    "RENDERERS",
    "finding_location_line",
    "json_envelope",
    "json_schema_text",
    "render_github",
    "render_gitlab",
    "render_json_document",
    "render_jsonl_record",
    "render_junit",
    "render_sarif",
    "tool_json",
]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "edi-rehab"


# -- the JSON envelope -----------------------------------------------------------------------------
#: The version of the JSON shapes (``edi_rehab/schemas/``), MAJOR.MINOR: MINOR grows when a field
#: or a value is added (a reader that ignores what it does not know keeps working), MAJOR when a
#: field is renamed, removed or changes meaning or type (docs/json-output.md).
JSON_SCHEMA_VERSION = "1.0"


def tool_json(maps) -> dict:
    """The ``tool`` object: the package's version and the maps' release (``maps/release.xml``).

    ``maps`` is the :class:`~edi_rehab.mapdata.Maps` the run used."""
    from . import __version__

    release = maps.release
    return {"name": TOOL_NAME, "version": __version__, "maps": {"version": release.version, "date": release.date.isoformat()}}


#: the JSON Schema of each JSON output, in ``edi_rehab/schemas/`` (``common.schema.json`` holds
#: what they share; each refers to it by that relative name)
JSON_SCHEMAS = {
    "check": "check.schema.json",
    "check-jsonl": "check-jsonl.schema.json",
    "check-statistics": "check-statistics.schema.json",
    "validate": "validate.schema.json",
    "validate-jsonl": "validate-jsonl.schema.json",
    "fix": "fix.schema.json",
    "split": "split.schema.json",
    "match": "match.schema.json",
    "common": "common.schema.json",
}


def json_schema_text(file_name: str) -> str:
    """The text of a shipped JSON Schema (a value of :data:`JSON_SCHEMAS`): package data, read
    as ``mapdata`` reads the maps."""
    from importlib import resources

    if file_name not in JSON_SCHEMAS.values():
        raise KeyError(file_name)
    return resources.files(__package__).joinpath("schemas", file_name).read_text(encoding="utf-8")


def json_envelope(command: str, tool: dict) -> dict:
    """The keys every JSON document starts with, in this order."""
    return {"schema_version": JSON_SCHEMA_VERSION, "command": command, "tool": tool}


def render_json_document(envelope: dict, body: dict) -> str:
    """A whole JSON document: the envelope, then the command's own fields."""
    clash = envelope.keys() & body.keys()
    if clash:
        raise ValueError(f"the envelope's keys are reserved: {', '.join(sorted(clash))}")
    return json.dumps({**envelope, **body}, indent=2) + "\n"


def render_jsonl_record(record: dict, envelope: dict | None = None) -> str:
    """One JSON Lines record (no newline): ``schema_version`` first, the whole ``envelope``
    when given (the summary record), then the record's own fields."""
    head = envelope if envelope is not None else {"schema_version": JSON_SCHEMA_VERSION}
    return json.dumps({**head, **record}, ensure_ascii=True, separators=(",", ":"))


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
    import hashlib  # here, not at the top: it loads OpenSSL, and only GitLab's report needs it

    key = "\0".join((path, finding.code, str(finding.segment), finding.message))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def render_gitlab(files: Sequence[FileReport]) -> str:
    """A GitLab Code Quality report: a JSON list of issues (an empty list for clean files)."""
    import hashlib

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
    import xml.etree.ElementTree as ET  # here: the JSON outputs import this module too

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


def render_sarif(files: Sequence[FileReport], *, rules: Iterable, version: str, maps: dict | None = None) -> str:
    """One SARIF 2.1.0 log with one run: the registry's rules and one result per finding;
    an unreadable file is a tool execution notification and makes the run unsuccessful.
    ``maps`` (``tool_json``'s ``maps``: version and date) names the maps' release as an
    extension of the driver, as the tool object does in the JSON outputs."""
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
    tool: dict = {"driver": {"name": TOOL_NAME, "version": version, "rules": descriptors}}
    if maps is not None:
        tool["extensions"] = [{"name": f"{TOOL_NAME} maps", "version": maps["version"], "releaseDateUtc": maps["date"]}]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": tool,
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


def _sarif(files: Sequence[FileReport], fail_on: Severity, tool: dict) -> str:
    from .rules.registry import RULES

    return render_sarif(files, rules=RULES, version=tool["version"], maps=tool["maps"])


#: format name -> renderer(files, fail_on, tool) -> text, for the formats rendered once all
#: files are done; ``tool`` is :func:`tool_json`'s object (only SARIF has a place for it)
RENDERERS: dict[str, Callable[[Sequence[FileReport], Severity, dict], str]] = {
    "github": lambda files, fail_on, tool: render_github(files),
    "gitlab": lambda files, fail_on, tool: render_gitlab(files),
    "junit": lambda files, fail_on, tool: render_junit(files, fail_on),
    "sarif": _sarif,
}
