"""The sans-I/O reader: bytes in, segments, events and warnings out.

Cases are data (after h11's ``SIMPLE_CASES``): each is an input and what the reader must
say about it. Every case is fed three ways (whole, one byte at a time, random chunks) and
the events must be identical down to positions, offsets and raw bytes.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edi_rehab.claims import read_claims
from edi_rehab.remits import read_remittance
from edi_rehab.synth import SynthSpec, generate_835, generate_837p
from edi_rehab.x12 import (
    NEED_DATA,
    EndOfInput,
    InterchangeHeader,
    Transaction,
    X12ReadError,
    X12Stream,
    iter_events,
    parse,
)
from edi_rehab.x12.errors import WARNING_KINDS

# -- building inputs ----------------------------------------------------------------------


def isa(
    delims: str = "*:^~", control: int = 1, isa11: str | None = None, sender: str = "SENDER", version: str = "00501"
) -> str:
    """A 106-byte ISA with ``delims`` (element, component, repetition, terminator)."""
    e, c, r, t = delims
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{sender:<15}", "ZZ", f"{'RECEIVER':<15}",
        "260101", "1200", isa11 if isa11 is not None else r, version, f"{control:09d}", "0", "T", c,
    ]
    return e.join(fields) + t


def x12(*segments: str, delims: str = "*:^~", brk: str = "") -> bytes:
    """Segments written with ``*`` ``:`` ``^``, re-delimited with ``delims``, each ended by
    the terminator and ``brk``. A segment given as ``None``-free raw text is kept as is."""
    e, c, r, t = delims
    table = str.maketrans({"*": e, ":": c, "^": r})
    return "".join(s.translate(table) + t + brk for s in segments).encode("latin-1")


BODY = (
    "GS*HC*SENDER*RECEIVER*20260101*1200*1*X*005010X222A1",
    "ST*837*0001*005010X222A1",
    "BHT*0019*00*1*20260101*1200*CH",
    "SE*3*0001",
    "GE*1*1",
    "IEA*1*000000001",
)
IDS = ["ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"]


def interchange(delims: str = "*:^~", brk: str = "", body=BODY, control: int = 1, **isa_args) -> bytes:
    """One interchange; the default IEA02 follows ``control``."""
    if body and body[-1] == BODY[-1]:
        body = (*body[:-1], f"IEA*1*{control:09d}")
    head = isa(delims, control=control, **isa_args).encode("latin-1") + brk.encode()
    return head + x12(*body, delims=delims, brk=brk)


GOOD = interchange()
#: A name and a service line ending in empty elements and components, then SE.
_EMPTIES = ("NM1*IL*1*DOE*****MI*123**", "SV1*HC:97110:GP:::*10*UN*1***1::", "SE*5*0001")

# -- feeding three ways ------------------------------------------------------------------


def describe(event) -> tuple:
    """Everything observable about an event, for comparing readings."""
    if isinstance(event, Transaction):
        return (
            "Transaction",
            event.first_position,
            event.offset,
            event.raw,
            tuple(event.texts),
            tuple((s.position, s.offset, s.leading, s.text, s.terminator, s.trailing) for s in event.segments),
            event.warnings,
        )
    if isinstance(event, EndOfInput):
        return ("EndOfInput", event.offset, event.raw, event.warnings)
    s = event.segment
    return (type(event).__name__, s.position, s.offset, s.leading, s.text, s.terminator, s.trailing, event.warnings)


def random_chunks(data: bytes, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    chunks, at = [], 0
    while at < len(data):
        size = rnd.choice((1, 2, 3, 5, 8, 13, 40, 107, 500))
        chunks.append(data[at : at + size])
        at += size
    return chunks


def feedings(data: bytes) -> dict[str, list[bytes]]:
    return {
        "whole": [data],
        "bytewise": [data[i : i + 1] for i in range(len(data))],
        "random-1": random_chunks(data, 1),
        "random-2": random_chunks(data, 2),
    }


def read_all(chunks: list[bytes]) -> list[tuple]:
    return [describe(event) for event in iter_events(chunks)]


def read_error(chunks: list[bytes]) -> X12ReadError:
    with pytest.raises(X12ReadError) as caught:
        for _ in iter_events(chunks):
            pass
    return caught.value


# -- inputs the reader reads ---------------------------------------------------------------

#: (id, input, segment ids in file order, warnings as (kind, segment position))
READ_CASES = [
    ("plain", GOOD, IDS, []),
    ("lf-after-terminators", interchange(brk="\n"), IDS, []),
    ("cr-after-terminators", interchange(brk="\r"), IDS, []),
    ("crlf-after-terminators", interchange(brk="\r\n"), IDS, []),
    ("newline-is-the-terminator", interchange(delims="*:^\n"), IDS, []),
    ("cr-terminator-then-lf", interchange(delims="*:^\r", brk="\n"), IDS, []),
    ("pipe-and-angle", interchange(delims="|>^\n"), IDS, []),
    ("tilde-as-element", interchange(delims="~^!_", brk="\r\n"), IDS, []),
    ("two-interchanges-two-delimiter-sets", interchange() + interchange(delims="|>!\n", control=2), IDS * 2, []),
    ("interchanges-separated-by-crlf", interchange(brk="\r\n") + interchange(brk="\r\n", control=2), IDS * 2, []),
    ("two-transactions", interchange(body=BODY[:4] + ("ST*835*0002", "BPR*I*0*C*NON", "SE*3*0002", "GE*2*1", BODY[5])),
     IDS[:5] + ["ST", "BPR", "SE", "GE", "IEA"], []),
    ("trailing-empty-elements-kept",
     interchange(body=BODY[:3] + _EMPTIES + BODY[4:]),
     IDS[:4] + ["NM1", "SV1", "SE", "GE", "IEA"], []),
    ("bom", b"\xef\xbb\xbf" + GOOD, IDS, [("bom", 1)]),
    ("whitespace-before-isa", b"\r\n \t" + GOOD, IDS, [("leading-whitespace", 1)]),
    ("bom-then-newline", b"\xef\xbb\xbf\n" + GOOD, IDS, [("bom", 1), ("leading-whitespace", 1)]),
    ("empty-segment-in-transaction", interchange(body=BODY[:2] + ("",) + BODY[2:]), IDS, [("empty-segment", 4)]),
    ("empty-segment-before-ge", interchange(body=BODY[:4] + ("",) + BODY[4:]), IDS, [("empty-segment", 6)]),
    ("empty-segment-after-isa", interchange(body=("",) + BODY), IDS, [("empty-segment", 2)]),
    ("non-ascii-in-transaction",
     interchange(body=BODY[:2] + ("BHT*0019*00*1*20260101*1200*CH\xe9",) + BODY[3:]), IDS, [("non-ascii", 4)]),
    ("non-ascii-in-gs", interchange(body=("GS*HC*S\xe9NDER*R*20260101*1200*1*X*005010X222A1",) + BODY[1:]), IDS,
     [("non-ascii", 2)]),
    ("wrong-se01", interchange(body=BODY[:3] + ("SE*4*0001",) + BODY[4:]), IDS, [("count-mismatch", 5)]),
    ("wrong-ge01", interchange(body=BODY[:4] + ("GE*2*1",) + BODY[5:]), IDS, [("count-mismatch", 6)]),
    ("wrong-iea01", interchange(body=BODY[:5] + ("IEA*2*000000001",)), IDS, [("count-mismatch", 7)]),
    ("se02-differs-from-st02", interchange(body=BODY[:3] + ("SE*3*0002",) + BODY[4:]), IDS,
     [("control-mismatch", 5)]),
    ("ge02-differs-from-gs06", interchange(body=BODY[:4] + ("GE*1*2",) + BODY[5:]), IDS, [("control-mismatch", 6)]),
    ("iea02-differs-from-isa13", interchange(body=BODY[:5] + ("IEA*1*000000002",)), IDS, [("control-mismatch", 7)]),
    ("isa-not-padded", interchange(sender="S").replace(b"S              *", b"S*"), IDS, [("isa-length", 1)]),
    ("isa11-letter-u", interchange(isa11="U"), IDS, [("repetition-letter", 1)]),
    ("whitespace-after-last-iea", GOOD + b"\n  \n", IDS, [("trailing-bytes", 7)]),
]


@pytest.mark.parametrize(("data", "ids", "warnings"), [c[1:] for c in READ_CASES], ids=[c[0] for c in READ_CASES])
def test_read_cases(data, ids, warnings):
    doc = parse(data)
    segments = list(doc.segments())
    assert [s.id for s in segments] == ids
    assert [s.position for s in segments] == list(range(1, len(ids) + 1))
    # segments tile the input: each starts where the previous one ended
    assert segments[0].start == 0
    for before, after in zip(segments, segments[1:]):
        assert after.start == before.end
    assert segments[-1].end + len(doc.end.raw) == len(data)
    assert [(w.kind, w.segment) for w in doc.warnings] == warnings
    assert {w.kind for w in doc.warnings} <= WARNING_KINDS.keys()
    assert doc.to_bytes() == data


@pytest.mark.parametrize("data", [c[1] for c in READ_CASES], ids=[c[0] for c in READ_CASES])
def test_events_do_not_depend_on_chunking(data):
    readings = {name: read_all(chunks) for name, chunks in feedings(data).items()}
    assert readings["bytewise"] == readings["whole"]
    assert readings["random-1"] == readings["whole"]
    assert readings["random-2"] == readings["whole"]


def test_generated_files_read_the_same_in_any_chunks():
    generated = generate_837p(seed=3, claims=4, line_break="\r\n", delimiters="~^!_")
    for data in (generated.data, generate_835(generated).data):
        readings = {name: read_all(chunks) for name, chunks in feedings(data).items()}
        assert all(reading == readings["whole"] for reading in readings.values())


# -- delimiters, line breaks and elements -------------------------------------------------

DELIMITER_CASES = [
    ("*:^~", "", (b"*", b":", b"^", b"~")),
    ("|>^\n", "", (b"|", b">", b"^", b"\n")),
    ("~^!_", "\r\n", (b"~", b"^", b"!", b"_")),
    ("!}{'", "\n", (b"!", b"}", b"{", b"'")),
]


@pytest.mark.parametrize(("delims", "brk", "expected"), DELIMITER_CASES, ids=[repr(c[0]) for c in DELIMITER_CASES])
def test_delimiters_come_from_the_isa(delims, brk, expected):
    doc = parse(interchange(delims=delims, brk=brk))
    d = doc.interchanges[0].delimiters
    assert (d.element, d.component, d.repetition, d.segment) == expected
    for segment in doc.segments():
        assert segment.terminator == expected[3]
        assert segment.trailing == brk.encode()
    assert [s.element(1) for s in doc.segments()][1:3] == ["HC", "837"]


def test_each_interchange_keeps_its_own_delimiters():
    data = (
        interchange(brk="\n")
        + interchange(delims="|>!\r", brk="\n", control=2)
        + interchange(delims="~^:_", control=3)
    )
    doc = parse(data)
    assert [i.delimiters.element for i in doc.interchanges] == [b"*", b"|", b"~"]
    assert [i.delimiters.repetition for i in doc.interchanges] == [b"^", b"!", b":"]
    for interchange_ in doc.interchanges:
        transaction = interchange_.groups[0].transactions[0]
        assert transaction.delimiters == interchange_.delimiters
        assert transaction.set_id == "837" and transaction.version == "005010X222A1"
    assert doc.warnings == []
    assert doc.to_bytes() == data


def test_trailing_empty_elements_and_components_are_kept():
    data = interchange(body=BODY[:3] + _EMPTIES + BODY[4:])
    nm1, sv1 = [s for s in parse(data).segments() if s.id in ("NM1", "SV1")]
    assert nm1.text == b"NM1*IL*1*DOE*****MI*123**"
    assert len(nm1.elements) == 12 and nm1.elements[-2:] == [b"", b""]
    assert nm1.element(9) == "123" and nm1.element(11) == "" and nm1.element(40) == ""
    assert sv1.components(1) == ["HC", "97110", "GP", "", "", ""]
    assert sv1.components(7) == ["1", "", ""]
    start, end = sv1.element_span(2)
    assert data[start:end] == b"10"


def test_repetition_separator_is_data_on_the_delimiters():
    data = interchange(body=BODY[:3] + ("HI*ABK:M5450^ABF:R262", "SE*4*0001") + BODY[4:])
    doc = parse(data)
    hi = next(s for s in doc.segments() if s.id == "HI")
    repetition = doc.interchanges[0].delimiters.repetition
    assert repetition == b"^"
    assert hi.elements[1].split(repetition) == [b"ABK:M5450", b"ABF:R262"]


def test_isa11_letter_is_not_a_repetition_separator():
    doc = parse(interchange(isa11="U"))
    assert doc.interchanges[0].delimiters.repetition is None
    [warning] = doc.warnings
    assert (warning.kind, warning.segment) == ("repetition-letter", 1)
    assert "'U'" in warning.message


def test_isa11_u_on_4010_is_the_standards_identifier():
    # ISA12 00401: ISA11 is the interchange standards identifier, and U its required value
    doc = parse(interchange(isa11="U", version="00401"))
    assert doc.interchanges[0].delimiters.repetition is None
    assert doc.warnings == []
    # another letter is still no separator there, and still reported
    assert [w.kind for w in parse(interchange(isa11="X", version="00401")).warnings] == ["repetition-letter"]


def test_count_mismatch_says_what_to_write():
    doc = parse(interchange(body=BODY[:3] + ("SE*9*0001",) + BODY[4:]))
    [warning] = doc.warnings
    assert (warning.element, warning.found, warning.expected) == ("SE01", "9", "3")


def test_tolerated_junk_belongs_to_the_segment_after_it():
    doc = parse(b"\xef\xbb\xbf\n" + interchange(body=BODY[:2] + ("",) + BODY[2:]))
    segments = list(doc.segments())
    assert segments[0].leading == b"\xef\xbb\xbf\n"
    assert segments[3].id == "BHT" and segments[3].leading == b"~"


# -- inputs the reader refuses ------------------------------------------------------------

#: (id, input, message fragment, segment position named by the error)
ERROR_CASES = [
    ("empty", b"", "the input is empty", 0),
    ("whitespace-only", b" \r\n\t ", "holds only whitespace", 0),
    ("bom-only", b"\xef\xbb\xbf", "holds only whitespace", 0),
    ("not-x12", b"<?xml version='1.0'?><claims/>", "is not X12", 1),
    ("csv", b"claim_id,line,minutes\nPCN1,1,38\n", "is not X12", 1),
    ("truncated-isa", GOOD[:60], "ISA segment is truncated", 1),
    ("isa-only-prefix", b"ISA", "ISA segment is truncated", 1),
    ("letter-element-separator", b"ISAX00" + GOOD[6:], "element separator", 1),
    ("isa-with-too-few-elements", b"ISA*00*" + b"0" * 500, "fewer than 16 elements", 1),
    ("letter-component-separator", GOOD[:104] + b"A~" + GOOD[106:], "component separator", 1),
    ("cut-mid-segment", GOOD[:-20], "in the middle of a segment", 6),
    ("cut-mid-transaction", interchange(body=BODY[:3]), "missing SE: the input ends inside", 3),
    ("cut-mid-transaction-segment", isa().encode() + x12(*BODY[:1]) + b"ST*837*0001~BHT*0019", "missing SE", 3),
    ("missing-se", interchange(body=BODY[:3] + BODY[4:]), "missing SE: found GE", 5),
    ("missing-ge", interchange(body=BODY[:4] + BODY[5:]), "missing GE: found IEA", 6),
    ("missing-ge-at-end", interchange(body=BODY[:4]), "missing GE", 5),
    ("missing-iea", interchange(body=BODY[:5]), "missing IEA", 6),
    ("gs-expected", interchange(body=("BHT*0019",) + BODY[5:]), "expected GS or IEA, found BHT", 2),
    ("st-expected", interchange(body=BODY[:1] + BODY[2:]), "expected ST or GE, found BHT", 3),
    ("junk-after-iea", GOOD + b"garbage", "follows the last IEA", 8),
    ("second-isa-malformed", GOOD + b"ISA*00*", "ISA segment is truncated", 8),
]


@pytest.mark.parametrize(
    ("data", "fragment", "position"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_refused_inputs(data, fragment, position):
    errors = {name: read_error(chunks) for name, chunks in feedings(data).items()}
    whole = errors["whole"]
    assert fragment in whole.message
    assert whole.segment == position
    assert str(whole).startswith(f"segment {position}:" if position else "byte ")
    for error in errors.values():
        assert (error.segment, error.offset) == (whole.segment, whole.offset)
        assert fragment in error.message
    with pytest.raises(X12ReadError):
        parse(data)


def test_offset_points_at_the_unreadable_segment():
    data = interchange(body=BODY[:4] + ("XYZ*1",) + BODY[5:])
    error = read_error([data])
    assert data[error.offset : error.offset + 3] == b"XYZ"
    assert error.segment == 6


def test_cut_inside_se_names_the_se_segment():
    data = interchange(body=BODY[:4])[:-6]  # ... SE*3 (no terminator)
    error = read_error([data])
    assert "middle of the SE segment" in error.message
    assert data[error.offset : error.offset + 2] == b"SE"
    assert error.segment == 5


def test_error_messages_do_not_depend_on_chunking():
    data = GOOD + b"garbage"
    messages = {name: read_error(chunks).message for name, chunks in feedings(data).items()}
    assert len(set(messages.values())) == 1, messages


def test_malformed_isa_message_shows_the_byte_plainly():
    error = read_error([b"ISAX00" + GOOD[6:]])
    assert "b'X'" in error.message and "bytearray" not in error.message


# -- the stream API -----------------------------------------------------------------------


def test_stream_asks_for_data_until_it_can_decide():
    stream = X12Stream()
    assert stream.next_event() is NEED_DATA
    stream.receive_data(GOOD[:50])
    assert stream.next_event() is NEED_DATA
    stream.receive_data(GOOD[50:107])
    event = stream.next_event()
    assert isinstance(event, InterchangeHeader) and event.segment.position == 1
    stream.receive_data(GOOD[107:])
    names = []
    while (event := stream.next_event()) is not NEED_DATA:
        names.append(type(event).__name__)
    assert names == ["GroupHeader", "Transaction", "GroupTrailer"]  # IEA waits: a line break may follow
    stream.receive_data(b"")
    assert [type(e).__name__ for e in stream] == ["InterchangeTrailer", "EndOfInput"]
    with pytest.raises(RuntimeError):
        stream.next_event()
    with pytest.raises(RuntimeError):
        stream.receive_data(b"more")


def test_a_transaction_holds_its_own_bytes_and_the_buffer_still_grows_and_compacts():
    # raw is copied out of the stream's buffer through a view that is released at once: the
    # buffer must still take more data and drop what was read (a held view would raise BufferError).
    data = generate_837p(SynthSpec(seed=4, claims=3000, claims_per_transaction=250)).data
    stream = X12Stream()
    raws = []
    for start in range(0, len(data), 4096):
        stream.receive_data(data[start : start + 4096])
        raws += [event.raw for event in stream if isinstance(event, Transaction)]
    stream.receive_data(b"")
    raws += [event.raw for event in stream if isinstance(event, Transaction)]
    assert len(data) > 1 << 20  # past the point where consumed bytes are dropped
    assert len(raws) == 12 and all(type(raw) is bytes for raw in raws)
    assert b"".join(raws) in data


def test_transaction_knows_its_envelope():
    doc = parse(interchange(brk="\n"))
    transaction = next(doc.transactions())
    assert transaction.interchange.id == "ISA" and transaction.group.id == "GS"
    assert (transaction.set_id, transaction.control_number) == ("837", "0001")
    assert (transaction.first_position, transaction.last_position) == (3, 5)
    assert transaction.segment(1).id == "BHT" and transaction.position(1) == 4


def test_parse_wants_bytes():
    with pytest.raises(TypeError):
        parse(GOOD.decode())  # type: ignore[arg-type]


# -- fuzz: mutated generated files raise nothing but X12ReadError --------------------------

_FUZZ_BASES = []
for _seed, (_delims, _brk) in enumerate([("*:^~", ""), ("|>^\n", ""), ("~^!_", "\r\n"), ("*:^~", "\n")]):
    _generated = generate_837p(seed=_seed, claims=2, lines_per_claim=(1, 2), delimiters=_delims, line_break=_brk)
    _FUZZ_BASES += [_generated.data, generate_835(_generated, delimiters=_delims, line_break=_brk).data]

_INTERESTING = b"~*:^|>!_\r\n \x00\xef\xbb\xbfISAGESTIE"


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(_FUZZ_BASES)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            byte = draw(st.one_of(st.sampled_from(list(_INTERESTING)), st.integers(0, 255)))
            data.insert(at, byte)
        elif op == "delete" and at < len(data):
            del data[at]
        elif op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(), seed=st.integers(0, 3))
def test_fuzzed_input_raises_only_x12readerror(data, seed):
    try:
        doc = parse(data)
    except X12ReadError as error:
        assert isinstance(error.segment, int) and 0 <= error.offset <= len(data)
        # chunking does not change whether or where reading stops
        chunked = read_error(random_chunks(data, seed))
        assert (chunked.segment, chunked.offset) == (error.segment, error.offset)
        return
    assert doc.to_bytes() == data
    assert {w.kind for w in doc.warnings} <= WARNING_KINDS.keys()
    assert read_all(random_chunks(data, seed)) == [describe(e) for e in doc.events()]
    # the views take whatever the reader accepted without raising
    for transaction in doc.transactions():
        read_claims(transaction) if transaction.set_id == "837" else read_remittance(transaction)


# -- an unexpected segment id quotes no patient data (issue 16, item 6) ----------------------------
#: An NM1 whose element separators were lost: its whole text reads as the segment "id".
_NAME = "JOHN DOE MEMBER SYN000001 19410202"


@pytest.mark.parametrize(
    ("body", "expected", "position"),
    [
        ((_NAME,) + BODY[5:], "expected GS or IEA, found 'JOH'... (a segment with no element separator, 34 characters)", 2),
        (BODY[:1] + (_NAME,) + BODY[1:], "expected ST or GE, found 'JOH'... (a segment with no element separator, 34 characters)", 3),
    ],
    ids=["before-gs", "before-st"],
)
def test_an_unexpected_segment_is_quoted_by_its_first_bytes_only(body, expected, position):
    with pytest.raises(X12ReadError) as err:
        parse(interchange(body=body))
    assert err.value.message == expected and err.value.segment == position
    assert "DOE" not in str(err.value) and "MEMBER" not in str(err.value)
