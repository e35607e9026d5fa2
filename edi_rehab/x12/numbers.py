"""Numbers read from text: X12 elements, minutes CSV cells, line notes.

``int()`` and ``Decimal()`` alone are the wrong tools for input. ``int()`` takes Unicode
digits and underscores, and raises ValueError on a string of more than 4,300 digits;
``Decimal()`` also takes exponents, so ``1e999999999`` reads as a number that overflows
the first sum it enters (``decimal.Overflow``, a traceback). Every X12 number is read here
instead, by the grammar and size the standard gives it; a value that is not a number of
that shape reads as None, "not a number", and the caller reports it as such (a finding or a
warning naming the segment), never as an exception.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["MAX_DIGITS", "decimal_number", "whole_number"]

#: More digits than any X12 numeric element holds (N0 and R elements are at most 18
#: characters: data element 782 Monetary Amount is R 1/18, 380 Quantity R 1/15, per the
#: element dictionary pyx12 ships, ``map/dataele.xml``); a longer run of digits is treated
#: as not a number.
MAX_DIGITS = 18

_DIGITS = frozenset("0123456789")


def whole_number(text: str) -> int | None:
    """``text`` as a non-negative whole number: ASCII digits only, at most
    :data:`MAX_DIGITS` of them. Anything else, the empty string included, is None."""
    if len(text) > MAX_DIGITS or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def decimal_number(text: str, max_digits: int = MAX_DIGITS) -> Decimal | None:
    """``text`` as an X12 decimal (R type), or None when it is not one.

    The grammar is the one pyx12 validates R against (``-?[0-9]*(\\.[0-9]+)?``, with at
    least one digit): an optional minus, ASCII digits, at most one decimal point. No
    exponent, no plus sign, no spaces, no underscores, no NaN or Infinity. As in X12, the
    sign and the point do not count toward the size: more than ``max_digits`` digits is not
    a number either. Within that size every sum the toolkit makes stays exact (Decimal
    keeps 28 digits) and none can overflow.

    >>> decimal_number("150.00"), decimal_number("-5"), decimal_number(".5")
    (Decimal('150.00'), Decimal('-5'), Decimal('0.5'))
    >>> [decimal_number(t) for t in ("1e999999999", "", "-", "1.", " 1", "1_0", "9" * 19)]
    [None, None, None, None, None, None, None]
    """
    if not text or len(text) > max_digits + 2 or not text.isascii():
        return None
    digits = text[1:] if text[0] == "-" else text
    whole, point, fraction = digits.partition(".")
    if point and not fraction:
        return None
    if not _DIGITS.issuperset(whole) or not _DIGITS.issuperset(fraction):
        return None
    count = len(whole) + len(fraction)
    if count == 0 or count > max_digits:
        return None
    return Decimal(text)
