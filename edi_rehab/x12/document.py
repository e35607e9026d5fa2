"""A whole file as a tree of interchanges, groups and transactions, built from the stream.

:func:`parse` is the convenience form for inputs that fit in memory; the CLI and anything
that may meet a large file use :class:`~edi_rehab.x12.stream.X12Stream` (or
:func:`iter_events`) and never hold more than one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .delimiters import Delimiters
from .errors import ReadWarning, X12ReadError
from .segments import Segment
from .stream import (
    EndOfInput,
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Transaction,
    X12Stream,
)

__all__ = ["Document", "Interchange", "Group", "parse", "iter_events"]


@dataclass(slots=True)
class Group:
    header: GroupHeader
    transactions: list[Transaction] = field(default_factory=list)
    trailer: GroupTrailer | None = None

    def events(self) -> Iterator[Event]:
        yield self.header
        yield from self.transactions
        if self.trailer is not None:
            yield self.trailer


@dataclass(slots=True)
class Interchange:
    header: InterchangeHeader
    groups: list[Group] = field(default_factory=list)
    trailer: InterchangeTrailer | None = None

    @property
    def delimiters(self) -> Delimiters:
        return self.header.delimiters

    def events(self) -> Iterator[Event]:
        yield self.header
        for group in self.groups:
            yield from group.events()
        if self.trailer is not None:
            yield self.trailer


@dataclass(slots=True)
class Document:
    """Every byte of an X12 input, as interchanges → groups → transactions."""

    interchanges: list[Interchange]
    end: EndOfInput

    def events(self) -> Iterator[Event]:
        for interchange in self.interchanges:
            yield from interchange.events()
        yield self.end

    def to_bytes(self) -> bytes:
        """The input, exactly: every event keeps the bytes it was read from."""
        return b"".join(event.raw for event in self.events())

    def transactions(self) -> Iterator[Transaction]:
        for interchange in self.interchanges:
            for group in interchange.groups:
                yield from group.transactions

    def segments(self) -> Iterator[Segment]:
        """Every segment in file order, each with its byte span."""
        for event in self.events():
            if isinstance(event, Transaction):
                yield from event.segments
            elif not isinstance(event, EndOfInput):
                yield event.segment

    @property
    def warnings(self) -> list[ReadWarning]:
        return [warning for event in self.events() for warning in event.warnings]


def iter_events(chunks: Iterable[bytes]) -> Iterator[Event]:
    """Stream events from an iterable of byte chunks (a file read in blocks, say)."""
    stream = X12Stream()
    for chunk in chunks:
        if not chunk:
            continue
        stream.receive_data(chunk)
        yield from stream
    stream.receive_data(b"")
    yield from stream


def parse(data: bytes) -> Document:
    """Read ``data`` whole. Raises :class:`X12ReadError` when it cannot be read as X12."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("parse() takes bytes; open files in binary mode")
    return build_document(iter_events([bytes(data)]))


def build_document(events: Iterable[Event]) -> Document:
    interchanges: list[Interchange] = []
    for event in events:
        if isinstance(event, InterchangeHeader):
            interchanges.append(Interchange(event))
        elif isinstance(event, GroupHeader):
            interchanges[-1].groups.append(Group(event))
        elif isinstance(event, Transaction):
            interchanges[-1].groups[-1].transactions.append(event)
        elif isinstance(event, GroupTrailer):
            interchanges[-1].groups[-1].trailer = event
        elif isinstance(event, InterchangeTrailer):
            interchanges[-1].trailer = event
        elif isinstance(event, EndOfInput):
            return Document(interchanges, event)
    raise X12ReadError("the input ended without an end-of-input event")  # pragma: no cover


