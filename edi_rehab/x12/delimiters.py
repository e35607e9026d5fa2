"""Delimiters are data: each ISA declares its own, and nothing else assumes them.

An ISA is read like this (X12.5, and the 005010 TR3s):

* the element separator is the byte right after ``ISA`` (byte 3);
* ISA11 is the repetition separator (from version 00402 on; before that it was the
  interchange standards identifier ``U``);
* ISA16 is the component (sub-element) separator;
* the segment terminator is the byte right after ISA16.

The ISA is meant to be exactly 106 bytes. Real files are sometimes not padded, so the reader
finds ISA16 by counting sixteen element separators instead, and warns when the length is off.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Delimiters", "IsaLayout", "read_isa_layout", "ISA_FIXED_LENGTH"]

ISA_FIXED_LENGTH = 106
#: Line-break bytes kept after a terminator as part of the segment's trailing bytes.
LINE_BREAKS = b"\r\n"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four separators of one interchange, each a single byte."""

    element: bytes
    component: bytes
    segment: bytes
    #: ``None`` when ISA11 holds no usable separator (for example the letter ``U``).
    repetition: bytes | None

    def __str__(self) -> str:
        rep = self.repetition.decode("latin-1") if self.repetition else "none"
        return (
            f"element {self.element!r}, component {self.component!r}, "
            f"repetition {rep!r}, segment {self.segment!r}"
        )


@dataclass(frozen=True, slots=True)
class IsaLayout:
    """Where the ISA ends and what it declared."""

    delimiters: Delimiters
    #: Offset just past the segment terminator that follows ISA16.
    end: int
    #: The ISA's own length up to and including the terminator (106 when padded).
    length: int
    #: True when ISA11 held a letter or digit and was therefore not taken as a separator
    #: (False for ``U`` before version 00402, where ``U`` is ISA11's required value).
    repetition_is_letter: bool


class IsaProblem(ValueError):
    """Why bytes at an ISA position do not form a readable ISA (message only)."""


def read_isa_layout(data: bytes | bytearray, start: int) -> IsaLayout | None:
    """Read the delimiters of the ISA that begins at ``data[start]``.

    Returns ``None`` when more bytes are needed to decide. Raises :class:`IsaProblem` when
    the bytes cannot be an ISA.
    """
    if len(data) - start < 4:
        return None
    if data[start : start + 3] != b"ISA":
        raise IsaProblem("expected an ISA segment")
    element = data[start + 3 : start + 4]
    if element.isalnum() or element in (b"\r", b"\n", b" "):
        raise IsaProblem(f"ISA element separator {bytes(element)!r} is not a usable separator")
    # ISA16 follows the sixteenth element separator; the terminator follows ISA16.
    pos = start + 3
    for _ in range(15):
        pos = data.find(element, pos + 1, start + 400)
        if pos < 0:
            if len(data) - start < 400:
                return None
            raise IsaProblem("ISA has fewer than 16 elements")
    # ``pos`` is the separator before ISA16; ISA16 is one byte, then the terminator.
    if len(data) < pos + 3:
        return None
    component = data[pos + 1 : pos + 2]
    terminator = data[pos + 2 : pos + 3]
    if component == element or component.isalnum() or component in (b"\r", b"\n"):
        raise IsaProblem(f"ISA16 component separator {bytes(component)!r} is not usable")
    if terminator == element or terminator == component or terminator.isalnum():
        raise IsaProblem(f"segment terminator {bytes(terminator)!r} after ISA16 is not usable")
    isa11 = _element_at(data, start, element, 11)
    repetition: bytes | None = None
    repetition_is_letter = False
    if len(isa11) == 1:
        if isa11.isalnum():
            # Before 00402 (e.g. 4010, ISA12 00401) ISA11 is the standards identifier and
            # "U" its one value: no separator was meant, so there is nothing to warn about.
            repetition_is_letter = not (isa11 == b"U" and _before_repetition(_element_at(data, start, element, 12)))
        elif isa11 not in (element, component, terminator, b" "):
            repetition = bytes(isa11)
    end = pos + 3
    return IsaLayout(
        delimiters=Delimiters(
            element=bytes(element),
            component=bytes(component),
            segment=bytes(terminator),
            repetition=repetition,
        ),
        end=end,
        length=end - start,
        repetition_is_letter=repetition_is_letter,
    )


def _before_repetition(isa12: bytes) -> bool:
    """Whether ISA12 names a version before 00402, where ISA11 is not a repetition separator."""
    version = isa12.strip()
    return len(version) == 5 and version.isdigit() and version < b"00402"


def _element_at(data: bytes | bytearray, start: int, element: bytes, index: int) -> bytes:
    pos = start + 3
    for _ in range(index - 1):
        pos = data.find(element, pos + 1)
    nxt = data.find(element, pos + 1)
    return bytes(data[pos + 1 : nxt])
