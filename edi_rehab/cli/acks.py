"""Where the 999s of a validating run go, and writing them."""

from __future__ import annotations

from pathlib import Path

from .files import InputProblem, write_atomically
from .inputs import Input
from .output import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE, fail


VALIDATION_EXIT_CODES = {"valid": EXIT_OK, "invalid": EXIT_FINDINGS, "unreadable": EXIT_UNREADABLE}


def ack_targets(inputs: list[Input], ack_path: str | None) -> dict[int, str]:
    """Where each input's 999 goes, by input index: PATH itself for one file named directly;
    otherwise PATH is a folder and each input gets ``PATH/<name>.999``, where ``<name>`` is
    its path inside the folder argument it came from (or its file name, ``stdin`` for -).

    Raises :class:`InputProblem` when the folder cannot be made or two inputs share a name.
    """
    if ack_path is None:
        return {}
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


def write_ack(target: str, text: str) -> str | None:
    """Write one 999 (or 997); the path written, or ``None`` after printing why it could not be."""
    try:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        # latin-1: pyx12 was fed one character per byte, so its echo of a bad value goes
        # back out as the bytes that came in.
        write_atomically(target, text.encode("latin-1"))
    except OSError as error:
        fail(f"{target}: cannot write the {ack_kind(text)}: {error.strerror or error}")
        return None
    return target
