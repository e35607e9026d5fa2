"""What a rule reports, as values shared by check, fix, match and the reports.

A :class:`Finding` names the rule (``code``), how bad it is, where it is (the 1-based segment
position in its file, the claim id, the LX number, the procedure) and, when the rule knows
how to repair it, a :class:`Fix`. A fix is a set of :class:`Edit` byte splices into the
original file (ruff's and sqlfluff's model), tagged safe or unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = ["Severity", "Applicability", "Edit", "Fix", "Finding"]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANKS[self]


#: Severity -> how serious it is (a table, not built per call: reports rank every finding)
_RANKS = {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}


class Applicability(str, Enum):
    #: Changes no billed meaning (modifier order, duplicate modifier, envelope counts).
    SAFE = "safe"
    #: Changes what is billed (units, charges, modifiers that unlock payment); opt-in only.
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``[start, end)`` of the original input with ``replacement``."""

    start: int
    end: int
    replacement: bytes

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"edit start {self.start} is after its end {self.end}")


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: Applicability
    description: str
    edits: tuple[Edit, ...] = ()
    #: Fixes that raise what is billed apply only when their code is selected explicitly.
    requires_explicit_selection: bool = False

    def to_json(self) -> dict:
        return {"applicability": self.applicability.value, "description": self.description}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    #: 1-based position of the segment the finding points at, in its file.
    segment: int
    claim_id: str | None = None
    line: int | None = None
    procedure: str | None = None
    fix: Fix | None = None
    #: Extra facts for machines (allocations, partner codes ...); never patient data.
    details: dict = field(default_factory=dict, compare=False)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "claim_id": self.claim_id,
            "line": self.line,
            "procedure": self.procedure,
            "segment": self.segment,
            "fix": self.fix.to_json() if self.fix else None,
        }
