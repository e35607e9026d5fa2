"""Render findings as linter text or JSON. Pure: strings out, nothing printed.

Both renderers are generators over files whose findings may themselves be generators, so
the CLI can print a 200 MB file's findings as they are found without holding them all.

Text, one line per finding, then the summary (one line, and a second when a finding has a
fix)::

    claims.x12:27: error U101 [~] 4 timed units billed on lines 1, 2 (GP), ... [claim PCN1 line 1 procedure 97110]
    claims.x12:31: warning M205 [*] modifiers on 97530 are GP, 59; the payer's order ... [claim PCN1 line 2 procedure 97530]
    minutes.csv:4: warning U109 minutes must be a whole number, got 'abc' [row 4]
    Found 3 findings (1 error, 2 warnings, 0 info) in 2 files.
    [*] 1 fixable with `edi-rehab fix`; [~] 1 more with `--unsafe-fixes`.

Each line is ``PATH:LOCATION: SEVERITY CODE [MARK] MESSAGE [WHERE]``, a stable shape a
script may split on: the location is the 1-based segment position (a finding about the
minutes CSV itself, segment 0, shows its CSV row instead); the mark is ``[*]`` when the
finding has a safe fix (``edi-rehab fix`` applies it), ``[~]`` when its fix is unsafe
(applied only with ``--unsafe-fixes``: it changes what is billed) and absent when there is
no fix, as ruff marks its fixable findings. Colour is the command line's business: the
renderers take a ``style(text, role)`` callable (see :data:`Style`) and default to none.

``render_statistics`` counts the findings per code instead (``check --statistics``).

JSON (after the envelope the CLI passes, ``renderers.json_envelope``; ``schemas/check.schema.json``)::

    {"schema_version": ..., "command": "check", "tool": {...},
     "files": [{"path": ..., "findings": [Finding.to_json(), ...]}, ...],
     "summary": {"error": n, "warning": n, "info": n}}

A finding about a CSV row adds ``"row"``; a file that could not be read (completely or
after some findings) adds ``"error"`` with the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .findings import Applicability, Finding, Severity

__all__ = [
    "FIX_MARKS",
    "CodeCount",
    "FileReport",
    "Statistics",
    "Style",
    "Summary",
    "finding_json",
    "render_json",
    "render_statistics",
    "render_text",
    "statistics_json",
    "text_line",
]

#: ``style(text, role) -> text``: how the command line colours a piece of a line. The roles
#: are a severity's value ("error", "warning", "info", for the severity word and the code),
#: "path", and an applicability's value ("safe", "unsafe", for the fix marks).
Style = Callable[[str, str], str]


def no_style(text: str, role: str) -> str:
    return text


#: The mark a finding's text line carries for its fix (none without a fix).
FIX_MARKS = {Applicability.SAFE: "[*]", Applicability.UNSAFE: "[~]"}


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

    def line(self, style: Style = no_style) -> str:
        """The summary: one line of counts, then (when a finding has a fix) one saying what
        ``edi-rehab fix`` would apply, as ruff's "[*] N fixable" line does."""
        fixes = self.fix_line(style)
        return self.counts_line() + (f"\n{fixes}" if fixes else "")

    def fix_line(self, style: Style = no_style) -> str | None:
        safe = style(FIX_MARKS[Applicability.SAFE], Applicability.SAFE.value)
        unsafe = style(FIX_MARKS[Applicability.UNSAFE], Applicability.UNSAFE.value)
        if self.safe_fixes and self.unsafe_fixes:
            return f"{safe} {self.safe_fixes} fixable with `edi-rehab fix`; {unsafe} {self.unsafe_fixes} more with `--unsafe-fixes`."
        if self.safe_fixes:
            return f"{safe} {self.safe_fixes} fixable with `edi-rehab fix`."
        if self.unsafe_fixes:
            return f"{unsafe} {self.unsafe_fixes} fixable with `edi-rehab fix --unsafe-fixes`."
        return None

    def counts_line(self) -> str:
        files = f"{self.files} file" + ("" if self.files == 1 else "s")
        unreadable = f"; {self.unreadable} could not be read" if self.unreadable else ""
        if not self.total:
            return f"No findings in {files}{unreadable}."
        counts = ", ".join(
            f"{self.counts[s.value]} {s.value}" + ("s" if self.counts[s.value] != 1 and s is not Severity.INFO else "")
            for s in Severity
        )
        finding_word = "finding" if self.total == 1 else "findings"
        return f"Found {self.total} {finding_word} ({counts}) in {files}{unreadable}."


def text_line(path: str, finding: Finding, style: Style = no_style) -> str:
    """``path:segment: severity CODE [mark] message [claim X line N procedure P]``."""
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
    severity = finding.severity.value
    mark = ""
    if finding.fix is not None:
        mark = " " + style(FIX_MARKS[finding.fix.applicability], finding.fix.applicability.value)
    return (
        f"{style(path, 'path')}:{location}: {style(severity, severity)} {style(finding.code, severity)}{mark}"
        f" {finding.message}{suffix}"
    )


def render_text(
    files: Iterable[FileReport], summary: Summary | None = None, style: Style = no_style
) -> Iterator[str]:
    """One line per finding, then the summary (its last item, of one or two lines).

    Pass a :class:`Summary` to read the counts (for the exit code) after rendering.
    """
    summary = summary if summary is not None else Summary()
    for report in files:
        summary.files += 1
        for finding in report.findings:
            summary.add(finding)
            yield text_line(report.path, finding, style)
        if report.error is not None:
            summary.unreadable += 1
    yield summary.line(style)


@dataclass(slots=True)
class CodeCount:
    """How often one code fired at one severity, and how many of those carry a fix."""

    code: str
    severity: Severity
    count: int = 0
    safe_fixes: int = 0
    unsafe_fixes: int = 0


@dataclass(slots=True)
class Statistics:
    """Findings counted per code (``check --statistics``), as ruff's ``--statistics``.

    A rule may give one hit another severity than its default (the engine's ``Hit.severity``),
    so each code gets one row per severity it came at."""

    counts: dict[tuple[str, Severity], CodeCount] = field(default_factory=dict)

    def add(self, finding: Finding) -> None:
        key = (finding.code, finding.severity)
        row = self.counts.get(key)
        if row is None:
            row = self.counts[key] = CodeCount(finding.code, finding.severity)
        row.count += 1
        if finding.fix is not None:
            if finding.fix.applicability is Applicability.SAFE:
                row.safe_fixes += 1
            else:
                row.unsafe_fixes += 1

    def rows(self) -> list[CodeCount]:
        """Most frequent first; then worst severity, then code, so the order is stable."""
        return sorted(self.counts.values(), key=lambda r: (-r.count, -r.severity.rank, r.code))


def render_statistics(statistics: Statistics, names: dict[str, str], style: Style = no_style) -> list[str]:
    """The statistics as an aligned table: count, code, severity, fixable (``[*] N`` safe,
    ``[~] N`` unsafe, ``-`` none) and the rule's name from ``names`` (code -> name)."""
    rows = statistics.rows()
    header = ("count", "code", "severity", "fixable", "rule")
    cells = []
    for row in rows:
        fixable = " ".join(
            f"{FIX_MARKS[kind]} {number}"
            for kind, number in ((Applicability.SAFE, row.safe_fixes), (Applicability.UNSAFE, row.unsafe_fixes))
            if number
        )
        cells.append((str(row.count), row.code, row.severity.value, fixable or "-", names.get(row.code, "")))
    widths = [max(len(line[i]) for line in (header, *cells)) for i in range(len(header))]

    def line(values, severity: str | None) -> str:
        count, code, level, fixable, name = values
        padded = [count.rjust(widths[0]), code.ljust(widths[1]), level.ljust(widths[2]), fixable.ljust(widths[3]), name]
        if severity is not None:  # colour after padding, so escapes do not upset the widths
            padded[1] = style(code, severity) + " " * (widths[1] - len(code))
            padded[2] = style(level, severity) + " " * (widths[2] - len(level))
        return "  ".join(padded).rstrip()

    return [line(header, None), *(line(values, row.severity.value) for values, row in zip(cells, rows))]


def statistics_json(statistics: Statistics, names: dict[str, str]) -> list[dict]:
    """The statistics rows for JSON: code, name, severity, count, and how many have a fix
    (``fixable``), safe and unsafe."""
    return [
        {
            "code": row.code,
            "name": names.get(row.code),
            "severity": row.severity.value,
            "count": row.count,
            "fixable": row.safe_fixes + row.unsafe_fixes,
            "safe_fixes": row.safe_fixes,
            "unsafe_fixes": row.unsafe_fixes,
        }
        for row in statistics.rows()
    ]


def finding_json(finding: Finding) -> dict:
    data = finding.to_json()
    if finding.segment == 0 and "row" in finding.details:
        data["row"] = finding.details["row"]
    return data


#: Findings joined into one piece by :func:`render_json`: whoever writes the pieces pays per
#: write (click.echo flushes each), and a defect-heavy file has thousands of findings; a
#: piece stays small, so a large file's findings still go out as they are found.
FINDINGS_PER_PIECE = 256


def render_json(files: Iterable[FileReport], summary: Summary | None = None, envelope: dict | None = None) -> Iterator[str]:
    """The JSON document in pieces (join them, or write them as they come), ``envelope``'s
    keys first; a file's findings come :data:`FINDINGS_PER_PIECE` to a piece."""
    summary = summary if summary is not None else Summary()
    dumps = json.dumps
    head = "".join(f"{dumps(key)}: {dumps(value)}, " for key, value in (envelope or {}).items())
    yield "{" + head + '"files": ['
    for n, report in enumerate(files):
        summary.files += 1
        pieces = [("" if n == 0 else ",") + f'\n  {{"path": {dumps(report.path)}, "findings": [']
        separator = "\n    "
        for finding in report.findings:
            summary.add(finding)
            pieces.append(separator + dumps(finding_json(finding)))
            separator = ",\n    "
            if len(pieces) >= FINDINGS_PER_PIECE:
                yield "".join(pieces)
                pieces = []
        error = ""
        if report.error is not None:
            summary.unreadable += 1
            error = f', "error": {dumps(report.error)}'
        pieces.append(f"]{error}}}")
        yield "".join(pieces)
    yield f'\n], "summary": {dumps(summary.counts)}}}\n'
