"""Whether a ``--minutes`` file can be a minutes CSV at all, before its rows are read."""

from __future__ import annotations

import csv
import io


def minutes_header_problem(text: str) -> str | None:
    """Why ``text`` cannot place a single row (no header, an unreadable one, or one without
    ``claim_id``, ``line`` and ``minutes``), or ``None`` when its header is usable.

    The row-level problems stay findings (U109); only a header that makes every row
    unplaceable is refused, since then the minutes rules would be off without saying so.
    Names are matched as the parser matches them: trimmed, any case, after a byte-order mark.
    """
    from ..minutes import REQUIRED_COLUMNS

    expected = ",".join(REQUIRED_COLUMNS)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
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
