"""The sans-I/O X12 core: bytes in, events and documents out. No files, no printing."""

from .delimiters import Delimiters
from .document import Document, Group, Interchange, build_document, iter_events, parse
from .errors import ReadWarning, X12ReadError
from .segments import Segment
from .stream import (
    NEED_DATA,
    EndOfInput,
    Event,
    GroupHeader,
    GroupTrailer,
    InterchangeHeader,
    InterchangeTrailer,
    Transaction,
    X12Stream,
)

__all__ = [
    "Delimiters",
    "Document",
    "Group",
    "Interchange",
    "build_document",
    "iter_events",
    "parse",
    "ReadWarning",
    "X12ReadError",
    "Segment",
    "NEED_DATA",
    "EndOfInput",
    "Event",
    "GroupHeader",
    "GroupTrailer",
    "InterchangeHeader",
    "InterchangeTrailer",
    "Transaction",
    "X12Stream",
]
