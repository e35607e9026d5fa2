"""The ``IG`` finding family: implementation-guide errors from ``check --validate``.

``check --validate`` runs :mod:`edi_rehab.validate` (pyx12 against 005010X222A1/X221A1)
next to the therapy rules and reports each :class:`~edi_rehab.validate.ValidationIssue`
as a :class:`~edi_rehab.findings.Finding` coded ``IG-`` + the issue's code
(``IG-IK4-7``, ``IG-no-map``...). This module decides which issues become findings, at
which severity, and documents the family for ``edi-rehab rules`` / ``edi-rehab rule IG``.
It does no I/O.

Selection follows the rule codes' semantics (longest matching prefix; ignore wins a tie),
compared case-insensitively because the command line upper-cases what it is given:

* ``--select``/``--ignore`` on the command line take IG codes and prefixes
  (``--ignore IG-IK4-7``, ``--select IG,U1``); a command-line ``--select`` that names no IG
  code leaves the family out, as it leaves out every rule it does not name;
* the configuration file can name the family as a whole (``ignore = ["IG"]``,
  ``[severity] IG = "warning"``): its code syntax has no room for ``IG-IK4-7``. A config
  ``select`` does not drop the family: asking for ``--validate`` is asking for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .config import Config
from .findings import Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from .validate import ValidationResult

__all__ = [
    "PREFIX",
    "FAMILY",
    "DOC",
    "READER_DUPLICATES",
    "is_ig_code",
    "split_codes",
    "IgFilter",
    "ig_findings",
    "family_json",
]

PREFIX = "IG-"
#: The family as ``rules`` lists it.
FAMILY = "IG"

#: Issues our reader reports under the therapy rules already (X003 tolerated-input): left out
#: of ``check --validate`` so one BOM is not two findings. ``validate`` still shows them.
READER_DUPLICATES = frozenset({"bom", "leading-whitespace", "trailing-bytes"})

SUMMARY = "Implementation-guide (005010X222A1/X221A1) errors found by pyx12; only with check --validate."

DOC = """\
IG-* implementation-guide errors (error or warning, no fix)

## What it does
With `check --validate` (and `split --validate`), every file is also validated against its
implementation guide with pyx12 4.0.0, exactly as `edi-rehab validate` does, and each
error becomes a finding coded `IG-` + the validate code, at the segment's position in the
file as given:

| code | level | meaning (the 999 segment that would carry it) |
|---|---|---|
| `IG-TA1-nnn` | interchange | ISA/IEA problems (TA1 note code), e.g. `IG-TA1-021` IEA01 count |
| `IG-AK9-n` | group | GS/GE problems (AK905), e.g. `IG-AK9-5` GE01 count |
| `IG-IK5-n` | transaction | ST/SE problems (IK502), e.g. `IG-IK5-4` SE01 count |
| `IG-IK3-n` | segment | IK304, e.g. `IG-IK3-3` required segment missing, `IG-IK3-2` unexpected segment |
| `IG-IK4-n` | element | IK403, e.g. `IG-IK4-7` invalid code value, `IG-IK4-8` invalid date |
| `IG-IK3-HL1`... | segment | pyx12's own checks beyond the 999 code lists (HL numbering) |
| `IG-empty-segment` | segment | two terminators in a row (pyx12 would silently stop reading) |
| `IG-no-map` | group | pyx12 has no map for GS08 (e.g. 005010X222A2): not validated |
| `IG-pyx12-failed` | interchange | pyx12 could not validate the interchange |
| `IG-unlocated` | interchange | pyx12 rejected without naming a segment |

A file whose validation could not be decided (`IG-no-map`, `IG-pyx12-failed`) also counts
as unreadable: `check` exits 2 for it, as `validate` does. The reader's own notes (a BOM,
whitespace before ISA or after the last IEA) stay under X003 and are not repeated as IG.

## Why is this bad?
A payer's front end runs the same implementation-guide edits first and rejects the whole
transaction set (IK5*R) before any claim is adjudicated; the submitter gets a 999 instead of
a payment. The therapy rules cannot catch a missing required segment or a bad code value.

## Source
ASC X12 005010X222A1 (837P) and 005010X221A1 (835) as encoded in pyx12 4.0.0's maps; the
999 code lists of 005010X231A1.

## Fix safety
No fix. Narrow the family with `--select`/`--ignore` (`--ignore IG-IK4-7`) or in the
config (`ignore = ["IG"]`, `[severity] IG = "warning"`).
"""


def is_ig_code(code: str) -> bool:
    """``IG``, ``IG-`` or any ``IG-...`` code or prefix (any case)."""
    upper = code.strip().upper()
    return upper == FAMILY or upper.startswith(PREFIX)


def split_codes(codes: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(rule codes, IG codes)`` from already-split codes, order kept."""
    codes = tuple(codes)
    return tuple(c for c in codes if not is_ig_code(c)), tuple(c for c in codes if is_ig_code(c))


class IgFilter:
    """Which IG issues become findings, and at what severity.

    Args:
        config: the configuration (its ``ignore`` and ``severity`` apply; its ``select``
            does not, see the module docstring).
        cli_select: every code the command line's ``--select`` named (rules and IG); empty
            when it named none.
        cli_ignore: the IG codes the command line's ``--ignore`` named.
    """

    def __init__(self, config: Config | None, cli_select: Iterable[str] = (), cli_ignore: Iterable[str] = ()) -> None:
        config = config or Config()
        self._select = tuple(c.strip().upper() for c in cli_select)
        ignore = (*config.ignore, *cli_ignore)
        # Matching on upper case: the command line upper-cases, validate codes are mixed.
        self._config = Config(select=self._select, ignore=tuple(c.strip().upper() for c in ignore))
        self._severity = {k.strip().upper(): v for k, v in config.severity.items()}

    def enabled(self, code: str) -> bool:
        return self._config.is_enabled(code.upper())

    def severity(self, code: str, default: Severity) -> Severity:
        upper, best, best_len = code.upper(), default.value, -1
        for prefix, level in self._severity.items():
            if upper.startswith(prefix) and len(prefix) > best_len:
                best, best_len = level, len(prefix)
        return Severity(best)

    @property
    def selects_any(self) -> bool:
        """Whether any IG code can pass (``--select U1`` alone selects none)."""
        return not self._select or any(is_ig_code(c) for c in self._select)


def ig_findings(result: ValidationResult, keep: IgFilter | None = None) -> list[Finding]:
    """The IG findings of one validated file, in segment order.

    ``unreadable`` issues are left out (the check reports the read error itself), and so are
    :data:`READER_DUPLICATES`.
    """
    keep = keep or IgFilter(None)
    findings = []
    for issue in result.issues:
        if issue.code == "unreadable" or issue.code in READER_DUPLICATES:
            continue
        finding = issue.to_finding(PREFIX)
        if not keep.enabled(finding.code):
            continue
        severity = keep.severity(finding.code, finding.severity)
        if severity is not finding.severity:
            finding = Finding(finding.code, severity, finding.message, finding.segment)
        findings.append(finding)
    return findings


def family_json() -> dict:
    """The family in the shape of ``Rule.to_json()`` (for ``rules --format json``)."""
    return {
        "code": f"{PREFIX}*",
        "name": "implementation-guide",
        "severity": Severity.ERROR.value,
        "scope": "validate",
        "summary": SUMMARY,
        "fix": None,
        "source": "ASC X12 005010X222A1 / 005010X221A1 via pyx12 4.0.0",
        "doc": DOC,
    }
