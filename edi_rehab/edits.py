"""Byte edits on the original input: build them from segments, splice them in.

A fix never re-serialises a segment. It names the bytes it replaces (an absolute
``[start, end)`` span in the input) and what goes there; :func:`apply_edits` copies every
other byte verbatim (ruff's ``apply_fixes`` and sqlfluff's ``FixPatch`` model). Builders here
compute spans from a :class:`~edi_rehab.x12.segments.Segment`, so the file's own delimiters
and line breaks are used, never defaults.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .findings import Edit
from .x12.segments import Segment

__all__ = [
    "apply_edits",
    "replace_element",
    "replace_components",
    "delete_segment",
    "insert_segment_after",
    "overlaps",
]


def overlaps(a: Edit, b: Edit) -> bool:
    """Two edits touch the same bytes, so applying both would be ambiguous.

    Two insertions at one point overlap (their order would matter); an insertion strictly
    inside a replaced span overlaps it; an insertion at a span's edge does not.
    """
    a_inserts, b_inserts = a.start == a.end, b.start == b.end
    if a_inserts and b_inserts:
        return a.start == b.start
    if a_inserts:
        return b.start < a.start < b.end
    if b_inserts:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def apply_edits(data: bytes, edits: Iterable[Edit], *, base: int = 0) -> tuple[bytes, list[Edit], list[Edit]]:
    """Splice ``edits`` into ``data``, whose first byte sits at absolute offset ``base``.

    Edits are applied in offset order; an edit that overlaps one already taken is skipped
    (and returned as such) so that the caller can re-check and try again, as ruff does.

    Returns:
        (new bytes, applied edits, skipped edits)
    """
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    applied: list[Edit] = []
    skipped: list[Edit] = []
    out: list[bytes] = []
    cursor = base
    last: Edit | None = None
    for edit in ordered:
        if edit.start < base or edit.end > base + len(data):
            raise ValueError(f"edit {edit} lies outside the bytes given ({base}..{base + len(data)})")
        if last is not None and (edit.start < cursor or overlaps(last, edit)):
            skipped.append(edit)
            continue
        out.append(data[cursor - base : edit.start - base])
        out.append(edit.replacement)
        cursor = edit.end
        applied.append(edit)
        last = edit
    out.append(data[cursor - base :])
    return b"".join(out), applied, skipped


def replace_element(segment: Segment, index: int, value: str | bytes) -> Edit:
    """Set element ``index`` (1-based) of ``segment`` to ``value``.

    When the segment has fewer elements, the missing separators are added, so trailing empty
    elements stay exactly as many as the TR3 position needs.
    """
    raw_value = value.encode("latin-1") if isinstance(value, str) else value
    sep = segment.delimiters.element
    present = segment.text.count(sep)
    if index <= present:
        start, end = segment.element_span(index)
        return Edit(start, end, raw_value)
    end_of_text = segment.offset + len(segment.text)
    return Edit(end_of_text, end_of_text, sep * (index - present) + raw_value)


def replace_components(segment: Segment, index: int, components: Sequence[str]) -> Edit:
    """Set composite element ``index`` to ``components`` joined by the file's separator.

    Trailing empty components are dropped (``HC:97530::`` is written ``HC:97530``), which
    is how the TR3 wants composites sent.
    """
    parts = list(components)
    while parts and not parts[-1]:
        parts.pop()
    joined = segment.delimiters.component.decode("latin-1").join(parts)
    return replace_element(segment, index, joined)


def delete_segment(segment: Segment) -> Edit:
    """Remove ``segment``: its text, its terminator and its line break.

    Its leading junk (tolerated bytes before it) is kept; it belongs to the input, not to
    the segment's meaning.
    """
    return Edit(segment.offset, segment.end, b"")


def insert_segment_after(segment: Segment, text: str | bytes) -> Edit:
    """Insert a new segment right after ``segment``, with the same terminator and line break."""
    raw_text = text.encode("latin-1") if isinstance(text, str) else text
    terminator = segment.terminator or segment.delimiters.segment
    return Edit(segment.end, segment.end, raw_text + terminator + segment.trailing)
