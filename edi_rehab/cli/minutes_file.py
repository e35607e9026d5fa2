"""Reading a ``--minutes`` file: whether it can be a minutes CSV at all, its lines, and the
claims its rows may be about (the CLM01s of the run's claim files, read before they are
checked, so that only those claims' rows are kept).

An EMR export holds every visit of a period, a million rows and 600 MB of row objects, while
the run's claim files name a few of them. A file of :data:`PRESCAN_BYTES` or more is read line
by line, and when every claim file can be read twice, their CLM01s are collected first
(:func:`claim_ids_in`, about a tenth of what checking them costs) and only those claims' rows
are kept (:func:`edi_rehab.minutes.parse_minutes_csv` with ``claims``). The findings are the
same either way (``tests/test_minutes_memory.py``); below that size, or with a claim file on
standard input, every row is kept.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Callable, Iterable, Iterator

from .files import InputProblem, read_chunks, read_text

#: A minutes file at least this large (about 25,000 rows, 17 MB as row objects) is read line by
#: line and, where the claim files allow, only for the rows of their claims. Smaller ones are
#: read whole: collecting the claims would cost more than keeping every row.
PRESCAN_BYTES = 1_000_000

MinutesText = str | Callable[[], Iterable[str]]


def minutes_text(path: str) -> tuple[MinutesText, int | None]:
    """The minutes file ``path`` (``-``: standard input) as text, and its size in bytes.

    Small files, and streams, come back as one string. A regular file of
    :data:`PRESCAN_BYTES` or more comes back as a function giving its lines anew at each
    call, so its whole text is never held; UTF-8, else latin-1 (the whole file decides, as
    for :func:`~edi_rehab.cli.files.read_text`). Raises :class:`InputProblem`.
    """
    size = None
    if path != "-":
        try:
            size = os.stat(path).st_size if os.path.isfile(path) else None
        except OSError:
            size = None  # reading it says why
    if size is None or size < PRESCAN_BYTES:
        return read_text(path), size
    encoding = "utf-8" if _is_utf8(read_chunks(path)) else "latin-1"

    def lines() -> Iterator[str]:
        try:
            with open(path, encoding=encoding, newline="") as handle:
                yield from handle
        except (OSError, UnicodeDecodeError) as error:  # changed or gone since it was first read
            raise InputProblem(f"{path}: cannot read: {getattr(error, 'strerror', None) or error}") from None

    return lines, size


def _is_utf8(chunks: Iterable[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def rereadable(path: str) -> Iterable[bytes] | None:
    """The chunks of a claim file that can be read a second time (a regular file), else ``None``."""
    return read_chunks(path) if path != "-" and os.path.isfile(path) else None


def claim_ids_in(sources: Iterable[Iterable[bytes] | None]) -> frozenset[str] | None:
    """The CLM01s of the claims in every claim file (a superset, as
    :func:`edi_rehab.claims.claim_ids`), or ``None`` when one cannot be read twice (``None``
    among ``sources``: standard input) or not to its end: then its claims are unknown, and
    every row must be kept."""
    from ..claims import claim_ids
    from ..x12.document import iter_events
    from ..x12.errors import X12ReadError
    from ..x12.stream import Transaction

    found: set[str] = set()
    for chunks in sources:
        if chunks is None:
            return None
        try:
            for event in iter_events(chunks):
                if isinstance(event, Transaction):
                    found |= claim_ids(event)
        except (X12ReadError, InputProblem):
            return None  # the check says why; what it reads of the file is not known here
    return frozenset(found)


def minutes_header_problem(text: str | Iterable[str]) -> str | None:
    """Why ``text`` cannot place a single row (no header, an unreadable one, or one without
    ``claim_id``, ``line`` and ``minutes``), or ``None`` when its header is usable.

    The row-level problems stay findings (U109); only a header that makes every row
    unplaceable is refused, since then the minutes rules would be off without saying so.
    Names are matched as the parser matches them: trimmed, any case, after a byte-order mark.
    """
    import csv  # here: a check without --minutes, as a hook's usually is, reads no CSV

    from ..minutes import REQUIRED_COLUMNS

    expected = ",".join(REQUIRED_COLUMNS)
    lines = io.StringIO(text, newline="") if isinstance(text, str) else iter(text)
    reader = csv.reader((line.removeprefix("\ufeff") if number == 0 else line for number, line in enumerate(lines)), strict=True)
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
    except csv.Error as error:
        return f"its header is not readable CSV ({error}); it must start with {expected}"
    if header is None:
        return f"it is empty; it must start with a header naming {expected}"
    names = {cell.strip().lower() for cell in header}
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if not missing:
        return None
    # The cells are not echoed: a file without a header starts with a row of care data.
    return (
        f"its first row ({len(header)} columns) lacks {', '.join(repr(name) for name in missing)}; "
        f"the header must name {expected}"
    )
