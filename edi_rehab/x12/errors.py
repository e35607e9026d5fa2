"""What the reader says about its input, as values.

Two kinds, kept apart on purpose:

* :class:`ReadWarning` is a defect the reader tolerated. The bytes are kept exactly as they
  were; the warning travels with the event or document it belongs to, and the rule engine
  turns it into a finding (X001, X003).
* :class:`X12ReadError` is input the reader cannot make sense of (no ISA, a truncated
  interchange, a missing trailer). It is the only exception the reader raises, so callers
  catch exactly one type.

Both name the 1-based segment position in the file, so a message can point at the segment.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ReadWarning", "X12ReadError", "WARNING_KINDS"]

#: Every tolerated defect has a kind; the rule X003/X001 docs list them.
WARNING_KINDS = {
    "bom": "a UTF-8 byte-order mark before ISA",
    "leading-whitespace": "whitespace before ISA",
    "empty-segment": "an empty segment (two terminators in a row)",
    "non-ascii": "bytes outside ASCII inside a segment",
    "repetition-letter": "ISA11 holds a letter, not a repetition separator",
    "isa-length": "ISA is not the fixed 106 bytes",
    "count-mismatch": "SE01, GE01 or IEA01 disagrees with the real count",
    "control-mismatch": "a trailer's control number differs from its header's",
    "trailing-bytes": "whitespace after the last IEA",
}


@dataclass(frozen=True, slots=True)
class ReadWarning:
    """A defect the reader tolerated; the bytes are kept as they were."""

    kind: str
    message: str
    #: 1-based position of the segment in the file (0 when the warning is about bytes
    #: that belong to no segment, such as a BOM).
    segment: int
    #: The trailer element a ``count-mismatch`` is about (``SE01``, ``GE01``, ``IEA01``),
    #: with the value found and the value it should hold, so fix can recount.
    element: str | None = None
    found: str | None = None
    expected: str | None = None


class X12ReadError(Exception):
    """Input that cannot be read as X12.

    Attributes:
        message: what was wrong and what was expected.
        segment: 1-based position of the segment where reading stopped (0 before any).
        offset: byte offset in the input where reading stopped.
    """

    def __init__(self, message: str, *, segment: int = 0, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.segment = segment
        self.offset = offset

    def __str__(self) -> str:
        where = f"segment {self.segment}" if self.segment else f"byte {self.offset}"
        return f"{where}: {self.message}"
