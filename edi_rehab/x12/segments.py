"""A segment that keeps every byte it came with.

The file is tiled by segments: each one owns the junk the reader tolerated before it
(``leading``: a BOM, whitespace, the terminator of an empty segment), its ``text`` (the
segment id and elements), its ``terminator``, and the line break after it (``trailing``).
Joining ``segment.raw`` over a file gives the file back, byte for byte, except for
whitespace after the last IEA that is not a line break (spaces, NUL padding): that belongs
to no segment and is kept on the end-of-input event (``Document.end.raw``), with a warning.

Offsets are absolute in the input, so an edit can be spliced into the original bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

from .delimiters import LINE_BREAKS, Delimiters

__all__ = ["Segment", "tile_segments"]


class Segment:
    """One segment, with its exact bytes and where they sit in the file."""

    __slots__ = ("text", "position", "offset", "leading", "terminator", "trailing", "delimiters")

    def __init__(
        self,
        text: bytes,
        position: int,
        offset: int,
        delimiters: Delimiters,
        leading: bytes = b"",
        terminator: bytes = b"",
        trailing: bytes = b"",
    ) -> None:
        #: The segment id and its elements, without terminator or line break.
        self.text = text
        #: 1-based position among the (non-empty) segments of the file.
        self.position = position
        #: Absolute byte offset of ``text`` in the input.
        self.offset = offset
        self.delimiters = delimiters
        self.leading = leading
        self.terminator = terminator
        self.trailing = trailing

    # -- bytes -------------------------------------------------------------------------
    @property
    def raw(self) -> bytes:
        """Every byte this segment owns, in file order."""
        return self.leading + self.text + self.terminator + self.trailing

    @property
    def own_bytes(self) -> bytes:
        """The segment without the junk the reader tolerated before it: what a new file
        built from this segment should carry (the terminator is added if the input had none)."""
        return self.text + (self.terminator or self.delimiters.segment) + self.trailing

    @property
    def start(self) -> int:
        """Offset of the first byte this segment owns (its leading junk included)."""
        return self.offset - len(self.leading)

    @property
    def end(self) -> int:
        """Offset just past the last byte this segment owns (its line break included)."""
        return self.offset + len(self.text) + len(self.terminator) + len(self.trailing)

    # -- elements ----------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.text.split(self.delimiters.element, 1)[0].decode("latin-1")

    @property
    def elements(self) -> list[bytes]:
        """``elements[0]`` is the segment id; ``elements[n]`` is element n, as in the TR3."""
        return self.text.split(self.delimiters.element)

    def element(self, index: int) -> str:
        """Element ``index`` (1-based, as in ``CLM02``), or ``''`` when absent."""
        parts = self.text.split(self.delimiters.element)
        return parts[index].decode("latin-1") if index < len(parts) else ""

    def components(self, index: int) -> list[str]:
        """The components of composite element ``index``; ``[]`` when absent."""
        value = self.element(index)
        return value.split(self.delimiters.component.decode("latin-1")) if value else []

    def element_span(self, index: int) -> tuple[int, int]:
        """Absolute (start, end) offsets of element ``index``'s value.

        For an element past the last one present, returns the empty span at the end of
        ``text``: inserting there needs separators too, which :mod:`edi_rehab.edits` adds.
        """
        sep = self.delimiters.element
        pos = 0
        for _ in range(index):
            nxt = self.text.find(sep, pos)
            if nxt < 0:
                end = self.offset + len(self.text)
                return end, end
            pos = nxt + 1
        nxt = self.text.find(sep, pos)
        stop = len(self.text) if nxt < 0 else nxt
        return self.offset + pos, self.offset + stop

    def __repr__(self) -> str:
        return f"Segment({self.position}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Segment)
            and self.raw == other.raw
            and self.offset == other.offset
            and self.position == other.position
        )

    __hash__ = None  # type: ignore[assignment]


def tile_segments(
    raw: bytes,
    texts: list[bytes],
    offset: int,
    first_position: int,
    delimiters: Delimiters,
) -> Iterator[Segment]:
    """Rebuild full :class:`Segment` objects for ``texts`` found in order inside ``raw``.

    The fast reader keeps only each segment's text; this walks ``raw`` once to recover the
    bytes between them. Junk between segments is only line breaks and stray terminators,
    and a text never starts with either, so the first match from the cursor is the segment.
    """
    terminator = delimiters.segment
    breaks = set(LINE_BREAKS) - set(terminator)
    cursor = 0
    for i, text in enumerate(texts):
        at = raw.find(text, cursor)
        leading = raw[cursor:at]
        after = at + len(text)
        term = raw[after : after + 1] if raw[after : after + 1] == terminator else b""
        stop = after + len(term)
        while stop < len(raw) and raw[stop] in breaks:
            stop += 1
        yield Segment(
            text,
            first_position + i,
            offset + at,
            delimiters,
            leading=leading,
            terminator=term,
            trailing=raw[after + len(term) : stop],
        )
        cursor = stop
