"""Where the 999s of a validating run go, numbering them, and writing them.

Every acknowledgment written gets its interchange control numbers from the per-sender
counter (``cli/control_state.py``), so no two acks from one sender share an ISA13.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .files import InputProblem, write_atomically
from .inputs import Input
from .output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, fail

if TYPE_CHECKING:
    from ..control_numbers import NumberSource, SenderKey

# The counter, its state file and the renumbering (and pathlib) are imported when an ack is
# written: a check without --validate (the usual hook run) writes none.


VALIDATION_EXIT_CODES = {"valid": EXIT_OK, "invalid": EXIT_FINDINGS, "unreadable": EXIT_UNREADABLE}


def ack_targets(inputs: list[Input], ack_path: str | None) -> dict[int, str]:
    """Where each input's 999 goes, by input index: PATH itself for one file named directly;
    otherwise PATH is a folder and each input gets ``PATH/<name>.999``, where ``<name>`` is
    its path inside the folder argument it came from (or its file name, ``stdin`` for -).

    Raises :class:`InputProblem` when the folder cannot be made or two inputs share a name.
    """
    if ack_path is None:
        return {}
    from pathlib import Path

    folder_run = len(inputs) > 1 or any(inp.relative is not None for inp in inputs)
    if not folder_run and not Path(ack_path).is_dir():
        return {0: ack_path} if inputs else {}
    folder = Path(ack_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputProblem(f"{ack_path}: cannot use as the --ack folder: {error.strerror}") from None
    targets: dict[int, str] = {}
    for index, inp in enumerate(inputs):
        name = "stdin" if inp.path == "-" else (inp.relative or Path(inp.path).name)
        target = str(folder / (name + ".999"))
        if target in targets.values():
            raise InputProblem(f"two inputs would write the same 999 {target}; validate them separately")
        targets[index] = target
    return targets


def ack_kind(text: str) -> str:
    """``"997"`` when the acknowledgment's first ST01 is 997 (pyx12 answers 004010 input
    with one), else ``"999"``: what messages call it."""
    fixed_isa = text.startswith("ISA") and len(text) > 105
    separator = text[3] if text.startswith("ISA") and len(text) > 3 else "*"
    terminator = text[105] if fixed_isa else "~"
    for segment in text.split(terminator):
        elements = segment.strip().split(separator)
        if elements[0] == "ST" and len(elements) > 1:
            return "997" if elements[1] == "997" else "999"
    return "999"


def ack_senders(text: str) -> list[SenderKey]:
    """The sender key of each interchange of an acknowledgment pyx12 wrote (its own
    ISA06/ISA08: the input's receiver and sender). Raises :class:`CounterProblem` when our
    reader cannot read it."""
    from ..control_numbers import interchange_senders
    from ..x12 import X12ReadError
    from .control_state import CounterProblem

    try:
        return interchange_senders(text.encode("latin-1"))
    except X12ReadError as error:
        raise CounterProblem(f"the {ack_kind(text)} pyx12 wrote cannot be renumbered: {error}") from None


def renumbered_ack(text: str, numbers: Sequence[int]) -> str:
    """The acknowledgment with interchange *i* numbered ``numbers[i]`` (ISA13/IEA02 and
    GS06/GE02): pyx12 stamps every interchange of one run with the same clock value, which
    a receiver, and our own validate (TA1 025), rejects as a repeat."""
    # latin-1: pyx12 was fed one character per byte, so its echo of a bad value goes back
    # out as the bytes that came in.
    from ..control_numbers import renumber_interchanges

    return renumber_interchanges(text.encode("latin-1"), numbers).decode("latin-1")


def numbered_ack(text: str, source: NumberSource | None = None) -> str:
    """The acknowledgment numbered from ``source`` (the per-sender counter by default)."""
    from .control_state import StateFileCounter

    source = source if source is not None else StateFileCounter()
    return renumbered_ack(text, source.take(ack_senders(text)))


def write_ack(target: str, text: str, source: NumberSource | None = None) -> str | None:
    """Number and write one 999 (or 997); the path written, or ``None`` after printing why
    it could not be."""
    from .control_state import CounterProblem

    try:
        text = numbered_ack(text, source)
    except CounterProblem as problem:
        fail(f"{target}: the {ack_kind(text)} was not written: {problem}")
        return None
    from pathlib import Path

    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, text.encode("latin-1"))
    except OSError as error:
        fail(f"{target}: cannot write the {ack_kind(text)}: {error.strerror or error}")
        return None
    return target
