"""Interchange control numbers that never repeat for one sender: the pure part.

A payer rejects an interchange whose ISA13 it has already seen from the same sender, so
the numbers of every interchange this tool writes (the outputs of ``split``, the 999s)
come from one counter per *sender key*: the ISA06/ISA08 pair of the interchange being
written, blanks stripped (ISA06 and ISA08 are padded to 15 characters; the padding is not
part of the identity).

This module holds what that needs without I/O:

* :func:`allocate`: the numbers for a list of requests, given the last number stored per
  sender key (the state), and the new state. ISA13 has nine digits: after 999999999 the
  counter wraps to 1. A key not in the state starts at ``seed`` (the CLI passes the clock
  as ``YYDDDHHMM``, the number earlier versions of ``split`` took from the clock, so a
  counter started today runs past every number the clock ever handed out instead of
  reusing small ones).
* :func:`parse_state` / :func:`render_state`: the state as JSON text. A damaged state is a
  :class:`StateError`, never a guess: recovering by starting over could repeat numbers that
  were already sent.
* :class:`NumberSource`: the one interface the commands ask for numbers through. The CLI
  implements it over a locked state file (``cli/control_state.py``); a ledger database may
  implement it later. :class:`Sequential` is ``--control-number N``: N, N+1, ..., no state.
* :func:`renumber_interchanges`: give each interchange of an X12 text (a 999 pyx12 wrote,
  which stamps every interchange with the same clock value) its own ISA13/IEA02, and
  GS06/GE02 to match, by splicing those elements only.

GS06 takes the interchange's number (one group per interchange, as ``split`` and pyx12's
999 write them); an interchange with several groups numbers them 1, 2, ... so GS06 stays
unique inside it and GE02 matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .edits import apply_edits, replace_element
from .x12 import X12ReadError, parse

__all__ = [
    "MAX_CONTROL",
    "STATE_FORMAT",
    "SenderKey",
    "StateError",
    "NumberSource",
    "Sequential",
    "allocate",
    "following",
    "parse_state",
    "render_state",
    "interchange_senders",
    "renumber_interchanges",
]

#: ISA13 is nine digits; 0 is not used.
MAX_CONTROL = 999_999_999

#: The first line of meaning in the state file: what it is and its format version.
STATE_FORMAT = "edi-rehab control numbers 1"


class StateError(ValueError):
    """The stored counter state cannot be read (damaged, or from an unknown format)."""


@dataclass(frozen=True, slots=True, order=True)
class SenderKey:
    """Whose counter a number comes from: ISA06 (sender) and ISA08 (receiver), stripped."""

    isa06: str
    isa08: str

    @classmethod
    def of(cls, isa06: str, isa08: str) -> "SenderKey":
        return cls(isa06.strip(), isa08.strip())

    def __str__(self) -> str:
        return f"{self.isa06 or '(blank)'} -> {self.isa08 or '(blank)'}"


class NumberSource(Protocol):
    """Hands out interchange control numbers: one per request, in request order."""

    def take(self, senders: Sequence[SenderKey]) -> list[int]:
        """A fresh number for each sender key in ``senders`` (a key may repeat)."""
        ...


class Sequential:
    """``--control-number N``: N, N+1, ... whatever the sender; no state is read or kept."""

    def __init__(self, start: int) -> None:
        if not 1 <= start <= MAX_CONTROL:
            raise ValueError(f"the interchange control number must be 1 to {MAX_CONTROL}")
        self.next = start

    def take(self, senders: Sequence[SenderKey]) -> list[int]:
        end = self.next + len(senders)
        if end - 1 > MAX_CONTROL:
            raise ValueError(f"the interchange control numbers would pass {MAX_CONTROL}")
        numbers = list(range(self.next, end))
        self.next = end
        return numbers


def following(last: int, count: int) -> list[int]:
    """The ``count`` numbers after ``last``, wrapping from 999999999 to 1."""
    return [(last + i - 1) % MAX_CONTROL + 1 for i in range(1, count + 1)]


def allocate(
    state: Mapping[SenderKey, int], senders: Sequence[SenderKey], *, seed: int
) -> tuple[list[int], dict[SenderKey, int]]:
    """A number for each of ``senders`` (in order) and the state to store afterwards.

    ``state`` maps each key to the last number handed out for it. A key not in it starts
    at ``seed`` (clamped into 1..999999999).
    """
    seed = min(max(seed, 1), MAX_CONTROL)
    new = dict(state)
    numbers = []
    for key in senders:
        last = new.get(key)
        number = seed if last is None else following(last, 1)[0]
        new[key] = number
        numbers.append(number)
    return numbers, new


def render_state(state: Mapping[SenderKey, int]) -> str:
    """The state as JSON text, keys in a stable order."""
    senders = [{"isa06": key.isa06, "isa08": key.isa08, "last": last} for key, last in sorted(state.items())]
    return json.dumps({"format": STATE_FORMAT, "senders": senders}, indent=1) + "\n"


def parse_state(text: str) -> dict[SenderKey, int]:
    """The state from :func:`render_state`'s text; empty text is an empty state (a file
    just created). Raises :class:`StateError` saying what is wrong."""
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise StateError(f"not JSON ({error.__class__.__name__})") from None
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise StateError(f"not an edi-rehab control-number state (no \"format\": \"{STATE_FORMAT}\")")
    senders = document.get("senders")
    if not isinstance(senders, list):
        raise StateError("\"senders\" is not a list")
    state: dict[SenderKey, int] = {}
    for index, entry in enumerate(senders):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("isa06"), str)
            and isinstance(entry.get("isa08"), str)
            and type(entry.get("last")) is int
            and 1 <= entry["last"] <= MAX_CONTROL
        ):
            raise StateError(f"sender entry {index + 1} is not {{isa06, isa08, last 1..{MAX_CONTROL}}}")
        key = SenderKey.of(entry["isa06"], entry["isa08"])
        if key in state:
            raise StateError(f"sender {key} appears twice")
        state[key] = entry["last"]
    return state


# -- X12 texts --------------------------------------------------------------------------------------
def interchange_senders(data: bytes) -> list[SenderKey]:
    """The sender key of each interchange in ``data``, in order. Raises X12ReadError."""
    return [SenderKey.of(ic.header.segment.element(6), ic.header.segment.element(8)) for ic in parse(data).interchanges]


def renumber_interchanges(data: bytes, numbers: Sequence[int]) -> bytes:
    """``data`` with interchange *i* numbered ``numbers[i]``: ISA13 and IEA02 (nine digits),
    GS06 and GE02 (see the module docstring). Every other byte is kept.

    Raises :class:`X12ReadError` when ``data`` cannot be read, ``ValueError`` when the
    count of numbers is not the count of interchanges or a number is out of range.
    """
    document = parse(data)
    if len(numbers) != len(document.interchanges):
        raise ValueError(f"{len(numbers)} control numbers for {len(document.interchanges)} interchanges")
    edits = []
    for interchange, number in zip(document.interchanges, numbers):
        if not 1 <= number <= MAX_CONTROL:
            raise ValueError(f"control number {number} is not 1 to {MAX_CONTROL}")
        isa13 = f"{number:09d}"
        edits.append(replace_element(interchange.header.segment, 13, isa13))
        if interchange.trailer is not None:
            edits.append(replace_element(interchange.trailer.segment, 2, isa13))
        several = len(interchange.groups) > 1
        for g, group in enumerate(interchange.groups, start=1):
            gs06 = str(g if several else number)
            edits.append(replace_element(group.header.segment, 6, gs06))
            if group.trailer is not None:
                edits.append(replace_element(group.trailer.segment, 2, gs06))
    out, _applied, skipped = apply_edits(data, edits)
    if skipped:  # distinct elements of distinct segments: cannot happen, but never half-renumber
        raise ValueError("overlapping control-number edits")
    return out

