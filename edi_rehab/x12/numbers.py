"""Whole numbers read from text: X12 elements, minutes CSV cells, line notes.

``int()`` alone is the wrong tool for input: it takes Unicode digits and underscores,
and raises ValueError on a string of more than 4,300 digits. An input field that long is
not a count anyway, so it reads as "not a number" and the caller reports it as such.
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "whole_number"]

#: More digits than any X12 numeric element holds (N0 and R elements are at most 18
#: characters); a longer run of digits is treated as not a number.
MAX_DIGITS = 18


def whole_number(text: str) -> int | None:
    """``text`` as a non-negative whole number: ASCII digits only, at most
    :data:`MAX_DIGITS` of them. Anything else, the empty string included, is None."""
    if len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)
