"""Byte edits: built from segments with the file's own delimiters, spliced into the original."""

import pytest

from edi_rehab.edits import (
    apply_edits,
    delete_segment,
    insert_segment_after,
    overlaps,
    replace_components,
    replace_element,
)
from edi_rehab.findings import Edit
from edi_rehab.x12 import parse

ISA = (
    b"ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       "
    b"*260101*1200*^*00501*000000001*0*T*:~"
)


def _file(body: bytes, *, element=b"*", component=b":", terminator=b"~", newline=b"\n") -> bytes:
    isa = ISA.replace(b"*", element).replace(b":~", component + terminator)
    segments = [
        b"GS*HC*S*R*20260101*1200*1*X*005010X222A1",
        b"ST*837*0001*005010X222A1",
        *body.split(b"~"),
        b"SE*4*0001",
        b"GE*1*1",
        b"IEA*1*000000001",
    ]
    rest = b"".join(
        s.replace(b"*", element).replace(b":", component) + terminator + newline for s in segments
    )
    return isa + newline + rest


def _segment(doc, seg_id):
    return next(s for s in doc.segments() if s.id == seg_id)


SV1_CASES = [
    # (id, body, edit builder, expected SV1 text after the edit)
    ("reorder-modifiers", b"SV1*HC:97530:GP:59*120*UN*2***1",
     lambda s: replace_components(s, 1, ["HC", "97530", "59", "GP"]), b"SV1*HC:97530:59:GP*120*UN*2***1"),
    ("drop-trailing-empty-components", b"SV1*HC:97530:GP:59*120*UN*2***1",
     lambda s: replace_components(s, 1, ["HC", "97530", "GP", "", ""]), b"SV1*HC:97530:GP*120*UN*2***1"),
    ("units", b"SV1*HC:97110:GP*100*UN*3***1", lambda s: replace_element(s, 4, "2"), b"SV1*HC:97110:GP*100*UN*2***1"),
    ("element-past-end", b"SV1*HC:97110:GP*100*UN*3", lambda s: replace_element(s, 7, "1"), b"SV1*HC:97110:GP*100*UN*3***1"),
    ("keeps-trailing-empty-elements", b"SV1*HC:97110:GP*100*UN*3***1**", lambda s: replace_element(s, 2, "80"),
     b"SV1*HC:97110:GP*80*UN*3***1**"),
]


@pytest.mark.parametrize("case_id, body, build, expected", SV1_CASES, ids=[c[0] for c in SV1_CASES])
@pytest.mark.parametrize("newline", [b"", b"\n", b"\r\n"], ids=["none", "lf", "crlf"])
def test_element_edits_touch_only_their_bytes(case_id, body, build, expected, newline):
    data = _file(b"LX*1~" + body, newline=newline)
    doc = parse(data)
    sv1 = _segment(doc, "SV1")
    new, applied, skipped = apply_edits(data, [build(sv1)])
    assert skipped == [] and len(applied) == 1
    assert new == data.replace(body, expected)


def test_edits_use_the_files_own_delimiters():
    data = _file(b"LX|1~SV1|HC>97530>GP>59|120|UN|2|||1", element=b"|", component=b">", terminator=b"~")
    data = data.replace(b"LX*1", b"LX|1")
    doc = parse(data)
    sv1 = _segment(doc, "SV1")
    new, _, _ = apply_edits(data, [replace_components(sv1, 1, ["HC", "97530", "59", "GP"]), replace_element(sv1, 4, "3")])
    assert b"SV1|HC>97530>59>GP|120|UN|3|||1~" in new
    assert new.replace(b"SV1|HC>97530>59>GP|120|UN|3|||1", b"") == data.replace(b"SV1|HC>97530>GP>59|120|UN|2|||1", b"")


@pytest.mark.parametrize("newline", [b"", b"\n", b"\r\n"])
def test_delete_and_insert_keep_the_line_break_style(newline):
    data = _file(b"LX*1~SV1*HC:97110:GP*100*UN*3***1~NTE*ADD*MIN 38", newline=newline)
    doc = parse(data)
    nte = _segment(doc, "NTE")
    sv1 = _segment(doc, "SV1")
    deleted, _, _ = apply_edits(data, [delete_segment(nte)])
    assert deleted == data.replace(b"NTE*ADD*MIN 38~" + newline, b"")
    inserted, _, _ = apply_edits(data, [insert_segment_after(sv1, "DTP*472*D8*20260105")])
    assert inserted == data.replace(
        b"SV1*HC:97110:GP*100*UN*3***1~" + newline,
        b"SV1*HC:97110:GP*100*UN*3***1~" + newline + b"DTP*472*D8*20260105~" + newline,
    )
    assert parse(inserted).to_bytes() == inserted


OVERLAP_CASES = [
    ("disjoint", Edit(0, 2, b"x"), Edit(2, 4, b"y"), False),
    ("crossing", Edit(0, 3, b"x"), Edit(2, 4, b"y"), True),
    ("same-point-inserts", Edit(5, 5, b"x"), Edit(5, 5, b"y"), True),
    ("insert-inside", Edit(0, 4, b"x"), Edit(2, 2, b"y"), True),
    ("insert-at-edge", Edit(0, 4, b"x"), Edit(4, 4, b"y"), False),
]


@pytest.mark.parametrize("case_id, a, b, expected", OVERLAP_CASES, ids=[c[0] for c in OVERLAP_CASES])
def test_overlaps(case_id, a, b, expected):
    assert overlaps(a, b) is expected
    assert overlaps(b, a) is expected


def test_overlapping_edits_are_skipped_not_merged():
    data = b"0123456789"
    new, applied, skipped = apply_edits(data, [Edit(2, 5, b"AB"), Edit(4, 6, b"CD"), Edit(8, 8, b"!")])
    assert new == b"01AB567!89"
    assert applied == [Edit(2, 5, b"AB"), Edit(8, 8, b"!")]
    assert skipped == [Edit(4, 6, b"CD")]


def test_edits_relative_to_a_transaction_base():
    data = b"abcdef"
    new, _, _ = apply_edits(data, [Edit(102, 104, b"XY")], base=100)
    assert new == b"abXYef"
    with pytest.raises(ValueError):
        apply_edits(data, [Edit(50, 51, b"")], base=100)
