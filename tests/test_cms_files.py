"""CMS PTP and MUE file parsing: layout samples from shared/, and synthetic bytes built here."""

from __future__ import annotations

import io
import json
import os
import pathlib
import zipfile
from datetime import date

import pytest

from conftest import mue_csv
from edi_rehab import cms_files
from edi_rehab.cms_files import (
    MueEdit,
    Problem,
    PtpEdit,
    decode_mue_cache,
    decode_ptp_cache,
    encode_mue_cache,
    encode_ptp_cache,
    normalize_hcpcs,
    parse_mue_file,
    parse_ptp_file,
)
from edi_rehab.mapdata import load_maps



def cms_samples_dir() -> pathlib.Path:
    """``shared/samples/cms`` beside the checkout, or beside ``EDI_REHAB_SAMPLES`` when set (which
    may name the samples folder or its ``x12`` subfolder, as in conftest.py)."""
    configured = os.environ.get("EDI_REHAB_SAMPLES")
    base = pathlib.Path(configured) if configured else pathlib.Path(__file__).resolve().parents[2] / "shared" / "samples"
    for candidate in (base / "cms", base.parent / "cms"):
        if candidate.is_dir():
            return candidate
    return base / "cms"


SAMPLES = cms_samples_dir()
PTP_SAMPLE = SAMPLES / "ncci-ptp-practitioner-layout-sample.txt"
MUE_SAMPLE = SAMPLES / "mue-practitioner-layout-sample.csv"

THERAPY = frozenset({"97110", "97112", "97116", "97140", "97150", "97161", "97164", "97530", "97012", "G0283"})


def sample(path: pathlib.Path) -> bytes:
    # shared/ sits beside the repository checkout in the workplace and in CI; skip cleanly elsewhere.
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path.read_bytes()


def ptp_text(rows: list[str], *, header: str | None = None, preamble: int = 3) -> bytes:
    header = header or (
        "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
        "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale"
    )
    lines = ["CPT only copyright 2025 American Medical Association. All rights reserved."]
    lines += [""] * preamble + [header] + rows
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------
# PTP: the shared layout sample
# ------------------------------------------------------------------------------------------------


def test_ptp_layout_sample():
    load = parse_ptp_file("ccipra-v320r0-f1.txt", sample(PTP_SAMPLE), load_maps().all_codes)
    assert load.problems == ()
    assert load.versions == ("320r0",)
    assert load.rows_read == load.rows_kept == 10
    by_pair = {(e.column1, e.column2): e for e in load.edits}
    anchor = by_pair["97140", "97530"]
    assert (anchor.effective, anchor.deletion, anchor.modifier_indicator) == (date(2020, 1, 1), None, "1")
    assert anchor.rationale == "Misuse of column two code with column one code"
    assert anchor.source == "ccipra-v320r0-f1.txt" and anchor.confidence == "V"
    traction = by_pair["97012", "97140"]
    assert traction.pre_1996 and traction.effective == date(1996, 1, 1)
    retro = by_pair["97161", "97530"]
    assert retro.modifier_indicator == "9" and retro.deletion == retro.effective
    assert not retro.active_on(date(2020, 1, 1)) and not retro.fires_on(date(2024, 1, 1))
    ended = by_pair["97750", "97110"]
    assert ended.active_on(date(2024, 12, 30)) and not ended.active_on(date(2024, 12, 31))


def test_ptp_sample_merges_into_maps():
    load = parse_ptp_file("ccipra-v320r0-f1.txt", sample(PTP_SAMPLE), None)
    maps = load_maps(extra_ptp=load.edits)
    (edit,) = maps.ptp_pairs_between("97530", "97140", date(2024, 1, 1))
    assert edit.source == "ccipra-v320r0-f1.txt"
    assert maps.ptp_pairs_between("97750", "97110", date(2025, 1, 1)) == []


# ------------------------------------------------------------------------------------------------
# PTP: synthetic bytes
# ------------------------------------------------------------------------------------------------


def test_ptp_latin1_crlf_and_padding():
    data = ptp_text(
        [
            "97140\t97530\t\t20200101\t*\t1\tMutually exclusive procedures \xe9tude",
            "100\t97110\t*\t19960101\t*\t0\tZero-padded column 1",
            "99213\t99212\t\t20000101\t*\t1\tNot a therapy row",
        ]
    )
    load = parse_ptp_file("f1.txt", data, THERAPY)
    assert load.problems == ()
    assert (load.rows_read, load.rows_kept) == (3, 2)
    assert load.edits[0].rationale.endswith("\xe9tude")
    assert (load.edits[1].column1, load.edits[1].pre_1996, load.edits[1].modifier_indicator) == ("00100", True, "0")


def test_ptp_keep_none_keeps_everything():
    data = ptp_text(["99213\t99212\t\t20000101\t*\t1\tOther"])
    assert len(parse_ptp_file("f.txt", data, None).edits) == 1
    assert parse_ptp_file("f.txt", data, set()).edits == ()


HEADER_VARIANTS = [
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tPTP Edit Rationale",
    "Column1\tColumn2\tPrior to 1996 Flag\tEffective\tDeletion\tModifier Indicator\tRationale",
    '"COLUMN 1"\t"COLUMN 2"\tIn existence prior to 1996\tEff Date\tDel Date\tMod\tReason',
    "column_1\tcolumn_2\tx\ty\tz\tw\tv",
]


@pytest.mark.parametrize("header", HEADER_VARIANTS, ids=range(len(HEADER_VARIANTS)))
def test_ptp_header_wording_varies(header):
    data = ptp_text(["97140\t97530\t\t20200101\t*\t1\tr"], header=header)
    load = parse_ptp_file("f.txt", data, THERAPY)
    assert load.problems == () and len(load.edits) == 1


def test_ptp_header_must_be_near_the_top():
    data = ptp_text(["97140\t97530\t\t20200101\t*\t1\tr"], preamble=40)
    load = parse_ptp_file("late.txt", data, THERAPY)
    assert load.edits == ()
    assert load.problems == (Problem("late.txt", 0, load.problems[0].message),)
    assert "Column 1" in load.problems[0].message


BAD_ROWS = [
    # row text, message fragment
    ("97140\t97530\t\t2020-13-01\t*\t1\tr", "bad effective date"),
    ("97140\t97530\t\t20200101\t2019x\t1\tr", "bad deletion date"),
    ("97140\t97530\t\t20200101\t20190101\t1\tr", "before effective date"),
    ("97140\t97530\t\t20200101\t*\t2\tr", "modifier indicator"),
    ("97140\t97530\t20200101", "expected 7"),
    ("97140\t9753X0\t\t20200101\t*\t1\tr", "5-character"),
]


@pytest.mark.parametrize("row,fragment", BAD_ROWS, ids=[b[1] for b in BAD_ROWS])
def test_ptp_bad_rows_are_problems_with_row_numbers(row, fragment):
    data = ptp_text(["97110\t97150\t\t20200101\t*\t1\tgood", row, "97530\t97116\t\t20201001\t*\t1\tgood"], preamble=2)
    load = parse_ptp_file("f2.txt", data, THERAPY)
    # copyright line, 2 blank lines, header (row 4), good (5), bad (6), good (7)
    assert [(p.member, p.row) for p in load.problems] == [("f2.txt", 6)]
    assert fragment in load.problems[0].message
    assert [e.column1 for e in load.edits] == ["97110", "97530"]
    assert str(load.problems[0]).startswith("f2.txt:6: ")


def test_ptp_legend_rows_and_blank_lines_are_skipped():
    data = ptp_text(
        [
            "\t\t\t\t\t0=not allowed\t",
            "\t\t\t\t*=no data\t1=allowed\t",
            "",
            "97140\t97530\t\t20200101\t*\t1\tr",
        ]
    )
    load = parse_ptp_file("f.txt", data, THERAPY)
    assert load.problems == () and load.rows_read == 1 and len(load.edits) == 1


def test_ptp_cp1252_ellipsis_does_not_split_rows():
    # byte 0x85 is NEL in latin-1 and an ellipsis in cp1252; as NEL, str.splitlines() would break
    # the row there and shift every later row number.
    data = ptp_text(["97140\t97530\t\t20200101\t*\t1\tSee CMS manual\x85 chapter", "97110\t97150\t\t2020\t*\t1\tr"], preamble=0)
    load = parse_ptp_file("f.txt", data, THERAPY)
    assert [e.rationale for e in load.edits] == ["See CMS manual\u2026 chapter"]
    assert [p.row for p in load.problems] == [4]


def test_ptp_bytes_undefined_in_cp1252_fall_back_to_latin1():
    data = ptp_text(["97140\t97530\t\t20200101\t*\t1\tbyte \x81 here"])
    assert load_rationale(data) == "byte \x81 here"


def load_rationale(data: bytes) -> str:
    (edit,) = parse_ptp_file("f.txt", data, THERAPY).edits
    return edit.rationale


def test_ptp_utf8_bom_is_honoured():
    data = b"\xef\xbb\xbf" + ptp_text(["97140\t97530\t\t20200101\t*\t1\tr"])
    assert len(parse_ptp_file("f.txt", data, THERAPY).edits) == 1


def test_ptp_zip_with_two_members():
    f1 = ptp_text(["97140\t97530\t\t20200101\t*\t1\tfirst"])
    f2 = ptp_text(["97110\t97150\t\t20201001\t*\t1\tsecond", "97110\t97150\t\tnot-a-date\t*\t1\tbad"])
    data = zipped(
        {
            "ccipra-v321r0-f2.txt": f2,
            "ccipra-v321r0-f1.txt": f1,
            "readme.pdf": b"%PDF-1.4",
            "__MACOSX/._ccipra-v321r0-f1.txt": b"junk",
        }
    )
    load = parse_ptp_file("medicare-ncci-2026q1-practitioner-ptp-edits.zip", data, THERAPY)
    assert load.members == ("ccipra-v321r0-f1.txt", "ccipra-v321r0-f2.txt")
    assert [e.rationale for e in load.edits] == ["first", "second"]
    assert [e.source for e in load.edits] == ["ccipra-v321r0-f1.txt", "ccipra-v321r0-f2.txt"]
    assert [(p.member, p.row) for p in load.problems] == [("ccipra-v321r0-f2.txt", 7)]
    assert load.versions == ("321r0",)


def test_ptp_zip_problems():
    empty = parse_ptp_file("x.zip", zipped({"readme.pdf": b"x"}), THERAPY)
    assert empty.edits == () and "no .txt" in empty.problems[0].message
    corrupt = parse_ptp_file("x.zip", b"PK\x03\x04garbage", THERAPY)
    assert corrupt.edits == () and "zip" in corrupt.problems[0].message


@pytest.mark.parametrize("raw,expected", [("100", "00100"), (" 97140 ", "97140"), ("g0283", "G0283"), ('"0001T"', "0001T")])
def test_normalize_hcpcs(raw, expected):
    assert normalize_hcpcs(raw) == expected


# ------------------------------------------------------------------------------------------------
# MUE
# ------------------------------------------------------------------------------------------------


def test_mue_layout_sample():
    load = parse_mue_file("MCR_MUE_PractitionerServices_Eff_01-01-2026.csv", sample(MUE_SAMPLE), load_maps().all_codes)
    assert load.problems == ()
    assert load["97110"] == MueEdit("97110", 8, 3, "Clinical: Data", "MCR_MUE_PractitionerServices_Eff_01-01-2026.csv")
    assert (load["97161"].value, load["97161"].adjudication_indicator) == (1, 2)
    assert set(load) == {"97110", "97530", "97140", "97161", "97035", "G0283"}
    maps = load_maps(mue=load)
    assert maps.mue("g0283").value == 1


def test_mue_behaves_as_a_mapping():
    load = parse_mue_file("m.csv", mue_csv(['"97110","6","3 Date of Service Edit: Clinical","Clinical: Data"']), None)
    assert dict(load) == {"97110": MueEdit("97110", 6, 3, "Clinical: Data", "m.csv")}
    assert load == {"97110": MueEdit("97110", 6, 3, "Clinical: Data", "m.csv")}
    assert "97110" in load and len(load) == 1 and load.get("97140") is None


MUE_BAD = [
    ('"97110","eight","3 Date of Service Edit: Clinical","x"', "whole number"),
    ('"97110","8","Date of Service Edit","x"', "adjudication indicator"),
    ('"97110","8"', "expected 4"),
    ('"9711","8","1 Line Edit","x"', None),  # zero-padded to 09711: a valid, unknown code
    ('"97X10X","8","1 Line Edit","x"', "5-character"),
    ('"97110","-3","3 Date of Service Edit: Clinical","x"', "must not be negative"),  # int() took it
    ('"97110","\u00b2","3 Date of Service Edit: Clinical","x"', "whole number"),  # a superscript 2
    ('"97110","' + "9" * 5000 + '","3 Date of Service Edit: Clinical","x"', "whole number"),
]


@pytest.mark.parametrize("row,fragment", MUE_BAD, ids=range(len(MUE_BAD)))
def test_mue_bad_rows(row, fragment):
    data = mue_csv(['"97140","4","3 Date of Service Edit: Clinical","Clinical: Data"', row])
    load = parse_mue_file("m.csv", data, None)
    assert "97140" in load
    if fragment is None:
        assert load.problems == ()
    else:
        assert [(p.row, fragment in p.message) for p in load.problems] == [(4, True)]


def test_mue_duplicates_keep_first_and_filter():
    data = mue_csv(
        [
            '"97110","6","3 Date of Service Edit: Clinical","a"',
            '"97110","9","3 Date of Service Edit: Clinical","b"',
            '"99213","1","2 Date of Service Edit: Policy","c"',
            "",
            '97012,1,"1 Line Edit","Nature of Service, per day"',
        ]
    )
    load = parse_mue_file("m.csv", data, THERAPY)
    assert load["97110"].value == 6 and "99213" not in load
    assert load["97012"].adjudication_indicator == 1 and load["97012"].rationale == "Nature of Service, per day"
    assert [p.row for p in load.problems] == [4]
    assert load.rows_read == 4


def test_mue_header_variant_and_zip():
    header = "HCPCS Code,Practitioner MUE Value,MAI,Rationale"
    data = zipped({"MCR_MUE_Practitioner.csv": mue_csv(['"97530","8","3 Date of Service Edit: Clinical","x"'], header=header)})
    load = parse_mue_file("mue.zip", data, None)
    assert load.members == ("MCR_MUE_Practitioner.csv",) and load["97530"].value == 8


def test_mue_missing_header():
    load = parse_mue_file("m.csv", b"a,b,c\r\n1,2,3\r\n", None)
    assert len(load) == 0 and "header" in load.problems[0].message


# ------------------------------------------------------------------------------------------------
# Cache
# ------------------------------------------------------------------------------------------------

EDITS = (
    PtpEdit("97140", "97530", date(2020, 1, 1), None, "1", "r\xe9", "f1.txt"),
    PtpEdit("97012", "97140", date(1996, 1, 1), date(2030, 1, 1), "9", "", "f2.txt", pre_1996=True),
)


def test_ptp_cache_round_trip():
    blob = encode_ptp_cache(EDITS, key="/data/ptp.zip|123|456")
    assert decode_ptp_cache(blob) == EDITS
    assert decode_ptp_cache(blob, key="/data/ptp.zip|123|456") == EDITS
    assert decode_ptp_cache(blob, key="/data/ptp.zip|123|999") is None
    assert json.loads(blob)["format"] == cms_files.CACHE_FORMAT_VERSION


def test_mue_cache_round_trip():
    edits = {"97110": MueEdit("97110", 8, 3, "Clinical: Data", "m.csv")}
    blob = encode_mue_cache(edits, key="k")
    assert decode_mue_cache(blob, key="k") == edits
    assert decode_mue_cache(encode_mue_cache(edits.values())) == edits


STALE = [
    b"",
    b"not json",
    b"[]",
    json.dumps({"kind": "edi-rehab/ptp", "format": 0, "key": "", "rows": []}).encode(),
    json.dumps({"kind": "edi-rehab/mue", "format": cms_files.CACHE_FORMAT_VERSION, "key": "", "rows": []}).encode(),
    json.dumps({"kind": "edi-rehab/ptp", "format": cms_files.CACHE_FORMAT_VERSION, "key": "", "rows": [["short"]]}).encode(),
]


@pytest.mark.parametrize("blob", STALE, ids=range(len(STALE)))
def test_unusable_ptp_cache_is_none(blob):
    assert decode_ptp_cache(blob) is None


def test_mue_cache_refuses_ptp_cache():
    assert decode_mue_cache(encode_ptp_cache(EDITS)) is None


def test_mue_cache_with_a_negative_value_is_read_again():
    blob = encode_mue_cache({"97110": MueEdit("97110", -3, 3, "Clinical: Data", "m.csv")})
    assert decode_mue_cache(blob) is None
