"""Render findings as linter text or JSON. Pure: strings out, nothing printed.

Both renderers are generators over files whose findings may themselves be generators, so
the CLI can print a 200 MB file's findings as they are found without holding them all.

Text, one line per finding, then one summary line::

    claims.x12:27: U101 4 timed units billed on lines 1, 2 (GP), ... [claim PCN1 line 1 procedure 97110]
    minutes.csv:4: U109 minutes must be a whole number, got 'abc' [row 4]
    Found 2 findings (1 error, 1 warning, 0 info) in 2 files; 1 fix is safe, 1 unsafe.

The location is the 1-based segment position; a finding about the minutes CSV itself
(segment 0) shows its CSV row instead.

JSON (after the envelope the CLI passes, ``renderers.json_envelope``; ``schemas/check.schema.json``)::

    {"schema_version": ..., "command": "check", "tool": {...},
     "files": [{"path": ..., "findings": [Finding.to_json(), ...]}, ...],
     "summary": {"error": n, "warning": n, "info": n}}

A finding about a CSV row adds ``"row"``; a file that could not be read (completely or
after some findings) adds ``"error"`` with the message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .findings import Applicability, Finding, Severity

__all__ = ["FileReport", "Summary", "finding_json", "render_json", "render_text", "text_line"]


@dataclass(slots=True)
class FileReport:
    """One input's findings. ``findings`` may be a generator; whoever produces it sets
    ``error`` (a message) when the input turned out to be unreadable."""

    path: str
    findings: Iterable[Finding] = ()
    error: str | None = None


@dataclass(slots=True)
class Summary:
    """Counts over everything rendered so far."""

    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    safe_fixes: int = 0
    unsafe_fixes: int = 0
    files: int = 0
    unreadable: int = 0
    worst: Severity | None = None

    def add(self, finding: Finding) -> None:
        self.counts[finding.severity.value] += 1
        if self.worst is None or finding.severity.rank > self.worst.rank:
            self.worst = finding.severity
        if finding.fix is not None:
            if finding.fix.applicability is Applicability.SAFE:
                self.safe_fixes += 1
            else:
                self.unsafe_fixes += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def at_or_above(self, severity: Severity) -> bool:
        return self.worst is not None and self.worst.rank >= severity.rank

    def line(self) -> str:
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        unreadable = f"; {self.unreadable} could not be read" if self.unreadable else ""
        if not self.total:
            return f"No findings in {files}{unreadable}."
        counts = ", ".join(
            f"{self.counts[s.value]} {s.value}" + ("s" if self.counts[s.value] != 1 and s is not Severity.INFO else "")
            for s in Severity
        )
        finding_word = "finding" if self.total == 1 else "findings"
        fixes = ""
        if self.safe_fixes or self.unsafe_fixes:
            fixes = f"; fixes: {self.safe_fixes} safe, {self.unsafe_fixes} unsafe"
        return f"Found {self.total} {finding_word} ({counts}) in {files}{unreadable}{fixes}."


def text_line(path: str, finding: Finding) -> str:
    """``path:segment: CODE message [claim X line N procedure P]``."""
    row = finding.details.get("row") if finding.segment == 0 else None
    location = row if row is not None else finding.segment
    where = []
    if finding.claim_id is not None:
        where.append(f"claim {finding.claim_id}")
    if finding.line is not None:
        where.append(f"line {finding.line}")
    if finding.procedure:
        where.append(f"procedure {finding.procedure}")
    if row is not None and not where:
        where.append(f"row {row}")
    suffix = f" [{' '.join(where)}]" if where else ""
    return f"{path}:{location}: {finding.code} {finding.message}{suffix}"


def render_text(files: Iterable[FileReport], summary: Summary | None = None) -> Iterator[str]:
    """One line per finding, then error lines for unreadable files, then the summary line.

    Pass a :class:`Summary` to read the counts (for the exit code) after rendering.
    """
    summary = summary if summary is not None else Summary()
    for report in files:
        summary.files += 1
        for finding in report.findings:
            summary.add(finding)
            yield text_line(report.path, finding)
        if report.error is not None:
            summary.unreadable += 1
    yield summary.line()


def finding_json(finding: Finding) -> dict:
    data = finding.to_json()
    if finding.segment == 0 and "row" in finding.details:
        data["row"] = finding.details["row"]
    return data


def render_json(files: Iterable[FileReport], summary: Summary | None = None, envelope: dict | None = None) -> Iterator[str]:
    """The JSON document in pieces (join them, or write them as they come), ``envelope``'s
    keys first."""
    summary = summary if summary is not None else Summary()
    head = "".join(f"{json.dumps(key)}: {json.dumps(value)}, " for key, value in (envelope or {}).items())
    yield "{" + head + '"files": ['
    for n, report in enumerate(files):
        summary.files += 1
        yield ("" if n == 0 else ",") + f'\n  {{"path": {json.dumps(report.path)}, "findings": ['
        for i, finding in enumerate(report.findings):
            summary.add(finding)
            yield ("" if i == 0 else ",") + "\n    " + json.dumps(finding_json(finding))
        error = ""
        if report.error is not None:
            summary.unreadable += 1
            error = f', "error": {json.dumps(report.error)}'
        yield f"]{error}}}"
    yield f'\n], "summary": {json.dumps(summary.counts)}}}\n'
