"""A streaming X12 reader that does no I/O.

Theory of operation (after h11): the caller owns the bytes. It hands them over with
:meth:`X12Stream.receive_data` in chunks of any size (an empty chunk means end of input) and
asks :meth:`X12Stream.next_event` for what those bytes hold. ``next_event`` returns

* :class:`InterchangeHeader` (ISA), :class:`GroupHeader` (GS),
* :class:`Transaction` (ST through SE, whole),
* :class:`GroupTrailer` (GE), :class:`InterchangeTrailer` (IEA),
* :class:`EndOfInput` once, after the last byte,
* or :data:`NEED_DATA` when it cannot decide without more bytes.

Invariants:

1. Joining ``event.raw`` over every event gives back the input exactly. Nothing is stripped,
   normalised or decoded; tolerated junk belongs to the segment after it.
2. Delimiters are read from each ISA and used for that interchange only.
3. Memory is bounded by the largest transaction, not by the input: consumed bytes are
   dropped from the buffer as events are returned.
4. The events do not depend on how the input was chunked.
5. Unreadable input raises :class:`~edi_rehab.x12.errors.X12ReadError` naming the segment
   position; tolerated defects become :class:`~edi_rehab.x12.errors.ReadWarning` values on
   the event they belong to.

Inside a transaction the reader keeps each segment's text only (``Transaction.texts``): a
file of millions of segments should not pay for millions of objects when a rule looks at a
few segment types. :attr:`Transaction.segments` rebuilds full :class:`Segment` objects with
their byte spans on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .delimiters import ISA_FIXED_LENGTH, LINE_BREAKS, Delimiters, IsaProblem, read_isa_layout
from .errors import ReadWarning, X12ReadError
from .numbers import whole_number
from .segments import Segment, tile_segments

__all__ = [
    "X12Stream",
    "NEED_DATA",
    "Event",
    "InterchangeHeader",
    "GroupHeader",
    "Transaction",
    "GroupTrailer",
    "InterchangeTrailer",
    "EndOfInput",
]

_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n\f\v\x00"
#: A transaction longer than this without an SE is checked for a missing SE before reading on.
_LONGEST_TRANSACTION = 64 << 20
#: How many bytes of unexpected input a message quotes: a segment id's worth, never a value
#: (values can hold patient data, and messages end up in logs).
_QUOTE = 3
#: Drop consumed bytes once this many have piled up at the front of the buffer.
_COMPACT_AT = 1 << 20


class _NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


#: Returned by :meth:`X12Stream.next_event` when more bytes are needed.
NEED_DATA = _NeedData()


@dataclass(frozen=True, slots=True)
class _EnvelopeEvent:
    segment: Segment
    warnings: tuple[ReadWarning, ...] = ()

    @property
    def raw(self) -> bytes:
        return self.segment.raw


@dataclass(frozen=True, slots=True)
class InterchangeHeader(_EnvelopeEvent):
    """An ISA segment and the delimiters it declares."""

    delimiters: Delimiters = field(default=None)  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class GroupHeader(_EnvelopeEvent):
    """A GS segment."""


@dataclass(frozen=True, slots=True)
class GroupTrailer(_EnvelopeEvent):
    """A GE segment."""


@dataclass(frozen=True, slots=True)
class InterchangeTrailer(_EnvelopeEvent):
    """An IEA segment."""


@dataclass(frozen=True, slots=True)
class EndOfInput:
    """The end of the input, with any whitespace the reader found after the last IEA."""

    raw: bytes
    offset: int
    warnings: tuple[ReadWarning, ...] = ()


class Transaction:
    """One ST..SE transaction set, whole.

    ``texts[i]`` is the text of the transaction's i-th segment (``texts[0]`` is ST and
    ``texts[-1]`` is SE); its file position is ``first_position + i``.
    """

    __slots__ = (
        "raw",
        "_texts",
        "count",
        "offset",
        "first_position",
        "delimiters",
        "interchange",
        "group",
        "warnings",
        "_segments",
        "_header",
    )

    def __init__(
        self,
        raw: bytes,
        texts: list[bytes] | None,
        offset: int,
        first_position: int,
        delimiters: Delimiters,
        interchange: Segment,
        group: Segment,
        warnings: tuple[ReadWarning, ...],
        count: int = 0,
    ) -> None:
        self.raw = raw
        self._texts = texts
        self.offset = offset
        self.first_position = first_position
        self.delimiters = delimiters
        #: The ISA and GS this transaction sits in.
        self.interchange = interchange
        self.group = group
        self.warnings = warnings
        self._segments: list[Segment] | None = None
        #: (ST01, ST02, ST03 or GS08), read on first use: the engine and the batch ask for
        #: them once or more per transaction set, and a file may hold thousands of one claim
        self._header: tuple[str, str, str] | None = None
        #: How many segments the transaction has, ST and SE included.
        self.count = len(texts) if texts is not None else count

    @property
    def texts(self) -> list[bytes]:
        """Each segment's text (bytes), built on first use: the reader itself only needs
        the count and the first and last segment, which it finds without splitting."""
        if self._texts is None:
            texts = _segment_texts(self.raw, self.delimiters.segment, self._breaks(), self.interchange.trailing)
            self._texts = [t for t in texts if t] if len(texts) != self.count else texts
        return self._texts

    def decoded_texts(self) -> list[str]:
        """Each segment's text decoded as latin-1 (one char per byte), not kept.

        Views split strings, not bytes; decoding the transaction once in C is cheaper than
        decoding each segment. The list (about three times the transaction's size) is not
        kept, so it is freed when the view that asked for it is done.
        """
        delims = self.delimiters
        if self._texts is None:
            # The reader found every terminator followed by the same line break and nothing
            # empty (that is why it left texts unsplit): one split is enough.
            joint = (delims.segment + self.interchange.trailing).decode("latin-1")
            strings = self.raw.decode("latin-1").split(joint)
            strings.pop()
            return strings
        strings = _segment_texts(
            self.raw.decode("latin-1"),
            delims.segment.decode("latin-1"),
            self._breaks().decode("latin-1"),
            self.interchange.trailing.decode("latin-1"),
        )
        if len(strings) != self.count:  # empty segments are not segments
            strings = [s for s in strings if s]
        return strings

    def _breaks(self) -> bytes:
        return bytes(c for c in LINE_BREAKS if bytes((c,)) != self.delimiters.segment)

    @property
    def segments(self) -> list[Segment]:
        """Every segment with its exact bytes and absolute offsets (built on first use)."""
        if self._segments is None:
            self._segments = list(
                tile_segments(self.raw, self.texts, self.offset, self.first_position, self.delimiters)
            )
        return self._segments

    def segment(self, index: int) -> Segment:
        """The segment at ``index`` in :attr:`texts`."""
        return self.segments[index]

    def position(self, index: int) -> int:
        """File position of the segment at ``index`` in :attr:`texts`."""
        return self.first_position + index

    @property
    def last_position(self) -> int:
        return self.first_position + self.count - 1

    @property
    def _st(self) -> bytes:
        return self.raw[: self.raw.find(self.delimiters.segment)].lstrip(b"\r\n" + self.delimiters.segment)

    def _read_header(self) -> tuple[str, str, str]:
        header = self._header
        if header is None:
            st, el = self._st, self.delimiters.element
            version = _element(st, el, 3) or _element(self.group.text, el, 8)
            header = self._header = (_element(st, el, 1), _element(st, el, 2), version)
        return header

    @property
    def set_id(self) -> str:
        """ST01: ``837`` or ``835``."""
        return self._read_header()[0]

    @property
    def control_number(self) -> str:
        return self._read_header()[1]

    @property
    def version(self) -> str:
        """ST03 when present, else GS08 (for example ``005010X222A1``)."""
        return self._read_header()[2]

    def __repr__(self) -> str:
        return (
            f"Transaction({self.set_id} {self.control_number}, segments "
            f"{self.first_position}-{self.last_position})"
        )


Event = InterchangeHeader | GroupHeader | Transaction | GroupTrailer | InterchangeTrailer | EndOfInput


def _element(text: bytes, sep: bytes, index: int) -> str:
    parts = text.split(sep, index + 1)
    return parts[index].decode("latin-1") if index < len(parts) else ""


@dataclass(slots=True)
class _Scan:
    """Where the next segment lies in the buffer (indexes into the buffer)."""

    lead_start: int
    text_start: int
    text_end: int
    end: int  # past terminator and trailing line breaks
    empties: int  # empty segments skipped in the leading junk


_ENVELOPE_IDS = (b"SE", b"ST", b"GE", b"GS", b"IEA", b"ISA")


class X12Stream:
    """Incremental, sans-I/O X12 reader. See the module docstring."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._base = 0  # absolute offset of _buf[0]
        self._pos = 0  # next unread index in _buf
        self._eof = False
        self._position = 0  # segments returned so far
        self._state = "isa"  # isa | interchange | group | done
        self._delims: Delimiters | None = None
        self._breaks = LINE_BREAKS
        self._line_break = b""  # the line break seen after the ISA's terminator
        self._isa: Segment | None = None
        self._gs: Segment | None = None
        self._groups = 0
        self._transactions = 0
        self._seen_interchange = False
        self._tx_scan = 0  # where the search for the SE of a pending transaction resumes

    @classmethod
    def inside_group(cls, interchange: Segment, group: Segment, delimiters: Delimiters, offset: int, position: int) -> X12Stream:
        """A reader that starts inside the functional group ``group`` of ``interchange``, at
        byte ``offset`` of the input, after its segment ``position``: for reading a run of
        whole transaction sets cut out of a large file (a Spark task reads only its byte
        range). Transactions come out exactly as a reader of the whole input gives them."""
        stream = cls()
        stream._base = offset
        stream._position = position
        stream._state = "group"
        stream._delims = delimiters
        stream._breaks = bytes(set(LINE_BREAKS) - set(delimiters.segment))
        stream._line_break = interchange.trailing
        stream._isa = interchange
        stream._gs = group
        stream._groups = 1
        stream._seen_interchange = True
        return stream

    # -- feeding -----------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Hand over the next chunk of input; ``b""`` marks the end of input."""
        if self._eof and data:
            raise RuntimeError("receive_data after end of input")
        if data:
            self._buf += data
        else:
            self._eof = True

    # -- reading -----------------------------------------------------------------------
    def next_event(self) -> Event | _NeedData:
        """The next event, or :data:`NEED_DATA`. Raises :class:`X12ReadError`."""
        if self._state == "done":
            raise RuntimeError("next_event after EndOfInput")
        if self._pos >= _COMPACT_AT:
            self._compact()
        if self._state == "isa":
            return self._read_isa()
        if self._state == "interchange":
            return self._read_in_interchange()
        return self._read_in_group()

    def __iter__(self):
        """Yield events until more data is needed or the input ended."""
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return
            done = isinstance(event, EndOfInput)
            yield event
            # Drop our reference before reading the next transaction, so that two large
            # transactions are never alive at once on our account.
            del event
            if done:
                return

    # -- ISA and the bytes between interchanges ------------------------------------------
    def _read_isa(self) -> Event | _NeedData:
        buf = self._buf
        start = self._pos
        at = start
        warnings: list[ReadWarning] = []
        if not self._seen_interchange and buf[at : at + 3] == _BOM:
            at += 3
        elif not self._seen_interchange and len(buf) - at < 3 and _BOM.startswith(bytes(buf[at:])):
            if not self._eof:
                return NEED_DATA
        while at < len(buf) and buf[at] in _WHITESPACE:
            at += 1
        if at >= len(buf):
            if not self._eof:
                return NEED_DATA
            if not self._seen_interchange:
                what = "the input is empty" if not buf else "the input holds only whitespace"
                raise X12ReadError(f"{what}; expected an ISA segment", offset=self._base + start)
            tail = bytes(buf[start:])
            if tail:
                warnings.append(
                    ReadWarning("trailing-bytes", f"{len(tail)} byte(s) of whitespace after the last IEA", self._position)
                )
            self._pos = len(buf)
            self._state = "done"
            return EndOfInput(tail, self._base + start, tuple(warnings))
        if buf[at : at + 3] != b"ISA"[: len(buf) - at] and len(buf) - at < _QUOTE and not self._eof:
            return NEED_DATA  # wait for enough bytes to quote, so the message does not depend on chunking
        try:
            layout = read_isa_layout(buf, at)
        except IsaProblem as problem:
            if buf[at : at + 3] != b"ISA":
                found = bytes(buf[at : at + _QUOTE]).decode("latin-1", "replace")
                what = "is not X12" if not self._seen_interchange else "follows the last IEA"
                raise X12ReadError(
                    f"the input {what}: expected an ISA segment, found {found!r}",
                    segment=self._position + 1,
                    offset=self._base + at,
                ) from None
            raise X12ReadError(f"malformed ISA: {problem}", segment=self._position + 1, offset=self._base + at) from None
        if layout is None:
            if not self._eof:
                return NEED_DATA
            raise X12ReadError(
                "the ISA segment is truncated: the input ends before ISA16 and its terminator",
                segment=self._position + 1,
                offset=self._base + at,
            )
        delims = layout.delimiters
        breaks = bytes(set(LINE_BREAKS) - set(delims.segment))
        end = layout.end
        while end < len(buf) and buf[end] in breaks:
            end += 1
        if end == len(buf) and not self._eof:
            return NEED_DATA  # the line break after the ISA may continue in the next chunk
        position = self._position + 1
        if at > start:
            lead = bytes(buf[start:at])
            if lead.startswith(_BOM):
                warnings.append(ReadWarning("bom", "a UTF-8 byte-order mark precedes the ISA; kept as is", position))
            if lead.lstrip(_BOM):
                warnings.append(
                    ReadWarning("leading-whitespace", f"{len(lead.lstrip(_BOM))} byte(s) of whitespace before ISA; kept as is", position)
                )
        if layout.length != ISA_FIXED_LENGTH:
            warnings.append(
                ReadWarning("isa-length", f"the ISA is {layout.length} bytes long, not {ISA_FIXED_LENGTH}", position)
            )
        if layout.repetition_is_letter:
            isa11 = bytes(buf[at:end]).split(delims.element)[11].decode("latin-1")
            warnings.append(
                ReadWarning(
                    "repetition-letter",
                    f"ISA11 is {isa11!r}, a letter, so repeated elements are not split",
                    position,
                )
            )
        text_end = layout.end - 1
        segment = Segment(
            bytes(buf[at:text_end]),
            position,
            self._base + at,
            delims,
            leading=bytes(buf[start:at]),
            terminator=delims.segment,
            trailing=bytes(buf[layout.end : end]),
        )
        if not segment.text.isascii():
            warnings.append(_non_ascii(segment.text, position))
        self._position = position
        self._pos = end
        self._delims = delims
        self._breaks = breaks
        self._line_break = segment.trailing
        self._isa = segment
        self._groups = 0
        self._seen_interchange = True
        self._state = "interchange"
        return InterchangeHeader(segment, tuple(warnings), delims)

    # -- GS / IEA ------------------------------------------------------------------------
    def _read_in_interchange(self) -> Event | _NeedData:
        scan = self._scan()
        if scan is None:
            return NEED_DATA
        segment, warnings = self._take(scan)
        seg_id = segment.id
        if seg_id == "GS":
            self._gs = segment
            self._transactions = 0
            self._groups += 1
            self._state = "group"
            return GroupHeader(segment, warnings)
        if seg_id == "IEA":
            assert self._isa is not None
            warnings += _count_warnings(segment, "IEA01", self._groups, "functional groups")
            warnings += _control_warnings(segment, 2, self._isa, 13, "IEA02", "ISA13")
            self._state = "isa"
            return InterchangeTrailer(segment, warnings)
        raise X12ReadError(
            f"expected GS or IEA, found {_quoted_id(seg_id)}",
            segment=segment.position,
            offset=segment.offset,
        )

    # -- ST..SE / GE ---------------------------------------------------------------------
    def _read_in_group(self) -> Event | _NeedData:
        scan = self._scan()
        if scan is None:
            return NEED_DATA
        el = self._delims.element  # type: ignore[union-attr]
        text = self._buf[scan.text_start : scan.text_end]
        if text.startswith(b"ST" + el):
            return self._read_transaction(scan)
        segment, warnings = self._take(scan)
        seg_id = segment.id
        if seg_id == "GE":
            assert self._gs is not None
            warnings += _count_warnings(segment, "GE01", self._transactions, "transaction sets")
            warnings += _control_warnings(segment, 2, self._gs, 6, "GE02", "GS06")
            self._state = "interchange"
            return GroupTrailer(segment, warnings)
        if seg_id in ("IEA", "GS", "ISA"):
            raise X12ReadError(f"missing GE: found {seg_id} inside a functional group", segment=segment.position, offset=segment.offset)
        raise X12ReadError(
            f"expected ST or GE, found {_quoted_id(seg_id)}",
            segment=segment.position,
            offset=segment.offset,
        )

    def _read_transaction(self, st: _Scan) -> Transaction | _NeedData:
        buf = self._buf
        delims = self._delims
        assert delims is not None
        term = delims.segment
        search_from = max(st.text_start + 1, self._tx_scan)
        # Look for the SE only: a missing SE shows up below as an SE01 that disagrees with
        # the count, and only then are the other envelope ids looked for. One scan instead
        # of six keeps reading fast. A run this long without an SE is checked at once, so a
        # file with no SE cannot fill memory.
        boundary = _find_boundary(buf, search_from, delims.element, term, self._breaks, (b"SE",))
        if boundary is None and (self._eof or len(buf) - st.text_start > _LONGEST_TRANSACTION):
            boundary = _find_boundary(buf, st.text_start + 1, delims.element, term, self._breaks)
        if boundary is None:
            if not self._eof:
                # Resume near the end next time; keep enough overlap for a split boundary.
                self._tx_scan = max(st.text_start + 1, len(buf) - 16)
                return NEED_DATA
            raise X12ReadError(
                "missing SE: the input ends inside a transaction set",
                segment=self._position + 1,
                offset=self._base + st.text_start,
            )
        seg_start, found_id = boundary
        if found_id != b"SE":
            self._tx_scan = 0
            count = _count_segments(bytes(buf[st.lead_start : seg_start]), term, self._breaks)
            raise X12ReadError(
                f"missing SE: found {found_id.decode()} before the transaction set ended",
                segment=self._position + count + 1,
                offset=self._base + seg_start,
            )
        se_start = seg_start
        se_end = buf.find(term, se_start)
        if se_end < 0:
            if not self._eof:
                self._tx_scan = se_start - 8
                return NEED_DATA
            raise X12ReadError(
                "the input ends in the middle of the SE segment",
                segment=self._position + _count_segments(bytes(buf[st.lead_start : se_start]), term, self._breaks) + 1,
                offset=self._base + se_start,
            )
        end = se_end + 1
        while end < len(buf) and buf[end] in self._breaks:
            end += 1
        if end == len(buf) and not self._eof:
            self._tx_scan = se_start - 8
            return NEED_DATA
        self._tx_scan = 0
        # One copy: ``bytes(buf[a:b])`` copies twice (a bytearray slice, then bytes of it),
        # and a transaction set is most of the input. The view is released at once, so the
        # buffer can grow and be compacted again.
        with memoryview(buf) as view:
            raw = view[st.lead_start : end].tobytes()
        warnings: list[ReadWarning] = []
        first_position = self._position + 1
        found_ends = _first_and_last(raw, term, self._breaks, self._line_break)
        if found_ends is not None and raw.isascii():
            # The common case: no empty segment, no stray line break, ASCII only. The count,
            # ST and SE are all the reader needs; texts are split later, only if asked for.
            count, st_text, se_text = found_ends
            texts: list[bytes] | None = None
        else:
            texts = _segment_texts(raw, term, self._breaks, self._line_break)
            if b"" in texts:
                kept = []
                for text in texts:
                    if text:
                        kept.append(text)
                    else:
                        warnings.append(
                            ReadWarning("empty-segment", "an empty segment (two terminators in a row); kept as is", first_position + len(kept))
                        )
                texts = kept
            if not raw.isascii():
                for i, text in enumerate(texts):
                    if not text.isascii():
                        warnings.append(_non_ascii(text, first_position + i))
            count, st_text, se_text = len(texts), texts[0], texts[-1]
        found = _element(se_text, delims.element, 1)
        if not _same_count(found, count):
            nested = _find_boundary(raw, 1, delims.element, term, self._breaks, _ENVELOPE_IDS[1:])
            if nested is not None:
                self._tx_scan = 0
                before = _count_segments(raw[: nested[0]], term, self._breaks)
                raise X12ReadError(
                    f"missing SE: found {nested[1].decode()} before the transaction set ended",
                    segment=self._position + before + 1,
                    offset=self._base + st.lead_start + nested[0],
                )
            warnings.append(
                ReadWarning(
                    "count-mismatch",
                    f"SE01 says {found or 'nothing'} but the transaction set has {count} segments",
                    first_position + count - 1,
                    element="SE01",
                    found=found,
                    expected=str(count),
                )
            )
        st02 = _element(st_text, delims.element, 2)
        se02 = _element(se_text, delims.element, 2)
        if st02 != se02:
            warnings.append(
                ReadWarning(
                    "control-mismatch",
                    f"SE02 {se02!r} differs from ST02 {st02!r}",
                    first_position + count - 1,
                )
            )
        self._position += count
        self._transactions += 1
        self._pos = end
        assert self._isa is not None and self._gs is not None
        return Transaction(
            raw,
            texts,
            self._base + st.lead_start,
            first_position,
            delims,
            self._isa,
            self._gs,
            tuple(warnings),
            count,
        )

    # -- one envelope segment -------------------------------------------------------------
    def _scan(self) -> _Scan | None:
        """Locate the next segment at the read position, or None when more data is needed."""
        buf = self._buf
        term = self._delims.segment  # type: ignore[union-attr]
        breaks = self._breaks
        at = self._pos
        empties = 0
        while at < len(buf) and (buf[at] in breaks or buf[at : at + 1] == term):
            if buf[at : at + 1] == term:
                empties += 1
            at += 1
        text_end = buf.find(term, at)
        if text_end < 0:
            if not self._eof:
                return None
            if at >= len(buf):
                expected = "GE" if self._state == "group" else "IEA"
                raise X12ReadError(
                    f"missing {expected}: the input ends before the {'functional group' if expected == 'GE' else 'interchange'} is closed",
                    segment=self._position,
                    offset=self._base + at,
                )
            raise X12ReadError(
                "the input ends in the middle of a segment (no segment terminator)",
                segment=self._position + 1,
                offset=self._base + at,
            )
        end = text_end + 1
        while end < len(buf) and buf[end] in breaks:
            end += 1
        if end == len(buf) and not self._eof:
            return None
        return _Scan(self._pos, at, text_end, end, empties)

    def _take(self, scan: _Scan) -> tuple[Segment, tuple[ReadWarning, ...]]:
        buf = self._buf
        delims = self._delims
        assert delims is not None
        position = self._position + 1
        segment = Segment(
            bytes(buf[scan.text_start : scan.text_end]),
            position,
            self._base + scan.text_start,
            delims,
            leading=bytes(buf[scan.lead_start : scan.text_start]),
            terminator=delims.segment,
            trailing=bytes(buf[scan.text_end + 1 : scan.end]),
        )
        warnings: tuple[ReadWarning, ...] = ()
        if scan.empties:
            warnings += (ReadWarning("empty-segment", "an empty segment (two terminators in a row); kept as is", position),)
        if not segment.text.isascii():
            warnings += (_non_ascii(segment.text, position),)
        self._position = position
        self._pos = scan.end
        return segment, warnings

    def _compact(self) -> None:
        del self._buf[: self._pos]
        self._base += self._pos
        self._pos = 0
        self._tx_scan = 0


def _uniform_pairs(raw, term, breaks, line_break) -> int | None:
    """How many segments ``raw`` holds when every terminator is followed by the interchange's
    line break and no other CR/LF appears (or there are no line breaks at all); else None,
    and the segments must be found one by one. Works on bytes or on latin-1 text."""
    joint = term + line_break
    if line_break:
        pairs = raw.count(joint)
        if raw.count(term) != pairs or not all(raw.count(c) == pairs for c in _chars(line_break)):
            return None
        return pairs
    if any(raw.find(c) >= 0 for c in _chars(breaks)):
        return None
    return raw.count(term)


def _first_and_last(raw: bytes, term: bytes, breaks: bytes, line_break: bytes) -> tuple[int, bytes, bytes] | None:
    """(segment count, first text, last text) when ``raw`` needs no per-segment care: its
    line breaks are uniform (:func:`_uniform_pairs`) and no segment is empty. Otherwise None,
    and the caller splits segment by segment."""
    count = _uniform_pairs(raw, term, breaks, line_break)
    joint = term + line_break
    if not count or raw.startswith(joint) or (joint + joint) in raw:
        return None
    first = raw[: raw.find(joint)]
    before_last = raw.rfind(joint, 0, len(raw) - len(joint))
    last = raw[before_last + len(joint) if before_last >= 0 else 0 : len(raw) - len(joint)]
    return count, first, last


def _segment_texts(raw, term, breaks, line_break):
    """The text of every segment in ``raw`` (empty ones included, as empty strings).

    Works on bytes or, for views, on the same bytes decoded as latin-1 (one char per byte,
    so both give the same segments). When the line breaks are uniform (:func:`_uniform_pairs`)
    one split in C finds every segment; only files that mix styles pay for a per-segment
    strip.
    """
    if _uniform_pairs(raw, term, breaks, line_break) is not None:
        pieces = raw.split(term + line_break)
        pieces.pop()  # empty: raw ends with SE's terminator and its line break
        return pieces
    pieces = raw.split(term)
    pieces.pop()  # what follows SE's terminator: its line break, or nothing
    return [piece.lstrip(breaks) for piece in pieces]


def _find_boundary(
    buf: bytearray | bytes, start: int, el: bytes, term: bytes, breaks: bytes, ids: tuple[bytes, ...] = _ENVELOPE_IDS
) -> tuple[int, bytes] | None:
    """The first SE, ST, GE, GS, IEA or ISA segment that begins at or after ``start``.

    Each id is looked for with ``bytes.find`` (fast, in C) and kept only when it starts a
    segment: what precedes it, line breaks aside, is a terminator. An id inside a value
    (``FIRST*`` holds ``ST*``) is passed over. Returns (offset, id) or None.
    """
    best: tuple[int, bytes] | None = None
    for seg_id in ids:
        needle = seg_id + el
        limit = best[0] if best else len(buf)
        pos = buf.find(needle, start, limit)
        while pos >= 0:
            before = pos - 1
            while before >= 0 and buf[before] in breaks:
                before -= 1
            if before >= 0 and buf[before : before + 1] == term:
                best = (pos, seg_id)
                break
            pos = buf.find(needle, pos + 1, limit)
    return best


def _count_segments(raw: bytes, term: bytes, breaks: bytes) -> int:
    """How many non-empty segments end with a terminator in ``raw``."""
    return sum(1 for piece in raw.split(term)[:-1] if piece.lstrip(breaks))


def _chars(run):
    return [run[i : i + 1] for i in range(len(run))]


def _quoted_id(seg_id: str) -> str:
    """An unexpected segment id for an error message. Ids are 2 or 3 characters; a segment
    without an element separator is its whole text, which can be an NM1's patient name, so
    only its first :data:`_QUOTE` characters are shown, and the cut is marked."""
    if not seg_id:
        return "an unreadable segment"
    if len(seg_id) <= _QUOTE:
        return seg_id
    return f"{seg_id[:_QUOTE]!r}... (a segment with no element separator, {len(seg_id)} characters)"


def _same_count(found: str, actual: int) -> bool:
    """A count element (SE01, GE01, IEA01: type N0) states ``actual``; leading zeros allowed."""
    value = found.strip()
    return whole_number(value) == actual


def _non_ascii(text: bytes, position: int) -> ReadWarning:
    first = next(i for i, b in enumerate(text) if b > 127)
    return ReadWarning("non-ascii", f"byte 0x{text[first]:02X} outside ASCII at column {first + 1}; kept as is", position)


def _count_warnings(segment: Segment, element: str, actual: int, what: str) -> tuple[ReadWarning, ...]:
    found = segment.element(1)
    if _same_count(found, actual):
        return ()
    return (
        ReadWarning(
            "count-mismatch",
            f"{element} says {found or 'nothing'} but there are {actual} {what}",
            segment.position,
            element=element,
            found=found,
            expected=str(actual),
        ),
    )


def _control_warnings(
    trailer: Segment, trailer_index: int, header: Segment, header_index: int, trailer_name: str, header_name: str
) -> tuple[ReadWarning, ...]:
    found = trailer.element(trailer_index)
    expected = header.element(header_index)
    if found.strip() == expected.strip():
        return ()
    return (ReadWarning("control-mismatch", f"{trailer_name} {found!r} differs from {header_name} {expected!r}", trailer.position),)
