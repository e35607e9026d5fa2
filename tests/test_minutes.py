"""Minutes sources: the sidecar CSV, NTE line notes, the MJ basis, and which one wins.

All claim ids are synthetic (PCN1001, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest

from edi_rehab.minutes import (
    DEFAULT_NOTE_PATTERN,
    MINUTES_PRECEDENCE,
    MinutesProblem,
    MinutesRow,
    MinutesSource,
    MinutesTable,
    UnbilledService,
    line_minutes,
    minutes_from_mj,
    minutes_from_note,
    parse_minutes_csv,
)

GOOD = (
    "claim_id,line,minutes,procedure,service_date,time_block\n"
    "PCN1001,1,38,97110,20260105,0900-0945\n"
    "PCN1001,2,23,97140,20260105,0900-0945\n"
    "PCN1001,,8,97035,20260105,0900-0945\n"
    "PCN1002,1,15,,,\n"
)


# --- a clean file ------------------------------------------------------------------------


def test_clean_file_reads_every_row_without_problems() -> None:
    table = parse_minutes_csv(GOOD, "minutes.csv")
    assert table.problems == ()
    assert table.source == "minutes.csv"
    assert table.rows == (
        MinutesRow(2, "PCN1001", 1, 38, "97110", "20260105", "0900-0945"),
        MinutesRow(3, "PCN1001", 2, 23, "97140", "20260105", "0900-0945"),
        MinutesRow(4, "PCN1001", None, 8, "97035", "20260105", "0900-0945"),
        MinutesRow(5, "PCN1002", 1, 15, None, None, None),
    )


def test_lookups_by_claim_and_line() -> None:
    table = parse_minutes_csv(GOOD, "minutes.csv")
    assert table.minutes_for("PCN1001", 1) == 38
    assert table.minutes_for("PCN1001", 2) == 23
    assert table.minutes_for("PCN1002", 1) == 15
    assert table.minutes_for("PCN1001", 3) is None
    assert table.minutes_for("PCN9999", 1) is None
    assert table.time_block_for("PCN1001", 2) == "0900-0945"
    assert table.time_block_for("PCN1002", 1) is None
    assert table.row_for("PCN1001", 1).procedure == "97110"


def test_unbilled_services_for_a_claim() -> None:
    table = parse_minutes_csv(GOOD, "minutes.csv")
    assert table.unbilled_for("PCN1001") == (UnbilledService("97035", "20260105", 8, "0900-0945", row=4),)
    assert table.unbilled_for("PCN1002") == ()


CLINICIANS_CSV = (
    "claim_id,line,minutes,procedure,service_date,clinician\n"
    "PCN1,1,5,97110,20260105,Assistant\n"
    "PCN1,,10,97110,20260105,therapist\n"
    "PCN1,,7,97110,20260105,assistant\n"
    "PCN1,2,20,97140,20260105,\n"
)


def test_clinician_column_says_whose_minutes_a_row_is() -> None:
    table = parse_minutes_csv(CLINICIANS_CSV, "m.csv")
    assert table.problems == ()
    assert table.row_for("PCN1", 1).clinician == "assistant"  # case-insensitive
    assert table.row_for("PCN1", 2).clinician is None  # empty: the line's CQ/CO decides
    unbilled = table.unbilled_for("PCN1")
    assert [(u.minutes, u.assistant_row) for u in unbilled] == [(10, False), (7, True)]
    assert all(u.assistant == "" for u in unbilled)  # the engine resolves CQ/CO from the day


def test_clinician_must_be_therapist_or_assistant() -> None:
    table = parse_minutes_csv("claim_id,line,minutes,clinician\nPCN1,1,5,PTA\n", "m.csv")
    assert table.rows == ()
    assert [(p.row, p.message) for p in table.problems] == [
        (2, "clinician must be therapist or assistant (or empty), got 'PTA'")
    ]


@dataclass(frozen=True, slots=True)
class SpellingCase:
    id: str
    text: str


# Each spelling of the same two rows (one billed line, one unbilled service) must read
# exactly like the plain one.
PLAIN = (
    "claim_id,line,minutes,procedure,service_date",
    "PCN1001,1,38,97110,20260105",
    "PCN1001,,8,97035,20260105",
)


def csv_text(*lines: str, end: str = "\n") -> str:
    return end.join(lines) + end


SPELLINGS = [
    SpellingCase("plain", csv_text(*PLAIN)),
    SpellingCase("bom", "\ufeff" + csv_text(*PLAIN)),
    SpellingCase("header_case", csv_text("Claim_ID,LINE,Minutes,Procedure,SERVICE_DATE", *PLAIN[1:])),
    SpellingCase(
        "column_order",
        csv_text(
            "service_date,minutes,procedure,claim_id,line",
            "20260105,38,97110,PCN1001,1",
            "20260105,8,97035,PCN1001,",
        ),
    ),
    SpellingCase("crlf", csv_text(*PLAIN, end="\r\n")),
    SpellingCase("bare_cr", csv_text(*PLAIN, end="\r")),
    SpellingCase("no_final_newline", "\n".join(PLAIN)),
    SpellingCase(
        "spaces",
        csv_text(
            "claim_id , line , minutes , procedure , service_date",
            "PCN1001, 1 , 38 , 97110 ,20260105",
            "PCN1001,,8,97035, 20260105 ",
        ),
    ),
    SpellingCase(
        "quoted",
        csv_text(*(",".join(f'"{cell}"' for cell in line.split(",")) for line in PLAIN)),
    ),
]


@pytest.mark.parametrize("case", SPELLINGS, ids=[c.id for c in SPELLINGS])
def test_header_and_layout_spellings_read_the_same(case: SpellingCase) -> None:
    table = parse_minutes_csv(case.text, "m.csv")
    assert table.problems == ()
    assert table.rows == (
        MinutesRow(2, "PCN1001", 1, 38, "97110", "20260105", None),
        MinutesRow(3, "PCN1001", None, 8, "97035", "20260105", None),
    )


def test_procedure_is_upper_cased() -> None:
    table = parse_minutes_csv("claim_id,line,minutes,procedure\nPCN1001,1,20,g0283\n", "m.csv")
    assert table.rows[0].procedure == "G0283"


def test_blank_lines_and_padding_rows_are_not_records_but_keep_line_numbers() -> None:
    text = "claim_id,line,minutes\n\nPCN1001,1,38\n,,\nPCN1001,x,9\n"
    table = parse_minutes_csv(text, "m.csv")
    assert [r.row for r in table.rows] == [3]
    assert table.problems == (MinutesProblem(5, "line must be a positive whole number (LX01), got 'x'"),)


def test_quoted_field_spanning_lines_reports_its_first_line() -> None:
    text = 'claim_id,line,minutes,time_block\nPCN1001,1,38,"AM\nsession"\nPCN1001,2,-4,\n'
    table = parse_minutes_csv(text, "m.csv")
    assert table.rows[0].time_block == "AM\nsession"
    assert table.problems == (MinutesProblem(4, "minutes must not be negative, got '-4'"),)


# --- problems are values -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProblemCase:
    id: str
    text: str
    #: (row, message) of every problem, in order.
    problems: tuple[tuple[int, str], ...]
    #: (claim_id, line) of the rows still accepted.
    accepted: tuple[tuple[str, int | None], ...]


H = "claim_id,line,minutes,procedure,service_date\n"

PROBLEM_CASES = [
    ProblemCase("empty_text", "", ((1, "no header; expected columns claim_id, line, minutes"),), ()),
    ProblemCase(
        "missing_required_column",
        "claim_id,line,procedure\nPCN1001,1,97110\n",
        ((1, "missing required column 'minutes'"),),
        (),
    ),
    ProblemCase(
        "unknown_column_still_reads_the_rest",
        "claim_id,line,minutes,therapist\nPCN1001,1,38,T1\n",
        (
            (
                1,
                "unknown column 'therapist'; "
                "known: claim_id, line, minutes, procedure, service_date, time_block, clinician",
            ),
        ),
        (("PCN1001", 1),),
    ),
    ProblemCase(
        "repeated_and_unnamed_columns",
        "claim_id,line,minutes,Minutes,\nPCN1001,1,38,39,\n",
        ((1, "column 'minutes' appears twice"), (1, "column 5 has no name")),
        (("PCN1001", 1),),
    ),
    ProblemCase(
        "non_numeric_minutes",
        H + "PCN1001,1,thirty,,\nPCN1001,2,38.5,,\nPCN1001,3,,,\n",
        (
            (2, "minutes must be a whole number, got 'thirty'"),
            (3, "minutes must be a whole number, got '38.5'"),
            (4, "minutes is empty"),
        ),
        (),
    ),
    ProblemCase(
        "negative_minutes",
        H + "PCN1001,1,-8,,\n",
        ((2, "minutes must not be negative, got '-8'"),),
        (),
    ),
    ProblemCase(
        "zero_minutes_is_a_value",
        H + "PCN1001,1,0,,\n",
        (),
        (("PCN1001", 1),),
    ),
    ProblemCase(
        "bad_line_numbers",
        H + "PCN1001,0,8,,\nPCN1001,1a,8,,\n",
        (
            (2, "line must be a positive whole number (LX01), got '0'"),
            (3, "line must be a positive whole number (LX01), got '1a'"),
        ),
        (),
    ),
    ProblemCase(
        "duplicate_claim_line_keeps_the_first",
        H + "PCN1001,1,38,,\nPCN1002,1,20,,\nPCN1001,1,40,,\n",
        ((4, "claim 'PCN1001' line 1 already has minutes on row 2; this row is ignored"),),
        (("PCN1001", 1), ("PCN1002", 1)),
    ),
    ProblemCase(
        "same_line_number_on_two_claims_is_fine",
        H + "PCN1001,1,38,,\nPCN1002,1,38,,\n",
        (),
        (("PCN1001", 1), ("PCN1002", 1)),
    ),
    ProblemCase(
        "unbilled_row_needs_procedure_and_date",
        H + "PCN1001,,8,,\nPCN1001,,8,97035,\nPCN1001,,8,,20260105\n",
        (
            (2, "a row without a line (an unbilled service) needs a procedure"),
            (2, "a row without a line (an unbilled service) needs a service_date"),
            (3, "a row without a line (an unbilled service) needs a service_date"),
            (4, "a row without a line (an unbilled service) needs a procedure"),
        ),
        (),
    ),
    ProblemCase(
        "unbilled_row_without_date_column",
        "claim_id,line,minutes,procedure\nPCN1001,,8,97035\n",
        ((2, "a row without a line (an unbilled service) needs a service_date"),),
        (),
    ),
    ProblemCase(
        "bad_dates",
        H + "PCN1001,1,8,,2026-01-05\nPCN1001,2,8,,20260230\nPCN1001,3,8,,0105\nPCN1001,4,8,,20240229\n",
        (
            (2, "service_date must be a real date written CCYYMMDD, got '2026-01-05'"),
            (3, "service_date must be a real date written CCYYMMDD, got '20260230'"),
            (4, "service_date must be a real date written CCYYMMDD, got '0105'"),
        ),
        (("PCN1001", 4),),
    ),
    ProblemCase("empty_claim_id", H + ",1,8,,\n", ((2, "claim_id is empty"),), ()),
    ProblemCase(
        "wrong_field_count",
        H + "PCN1001,1,38\nPCN1001,2,38,97110,20260105,extra\nPCN1001,3,38,,\n",
        ((2, "expected 5 fields, found 3"), (3, "expected 5 fields, found 6")),
        (("PCN1001", 3),),
    ),
    ProblemCase(
        "unclosed_quote_stops_reading",
        H + 'PCN1001,1,38,,\nPCN1001,2,"23,,\nPCN1001,3,8,,\n',
        ((3, "unreadable CSV (unexpected end of data); no row from here on is read"),),
        (("PCN1001", 1),),
    ),
    ProblemCase(
        "text_after_closing_quote_stops_reading",
        H + 'PCN1001,1,"38"x,,\nPCN1001,2,8,,\n',
        ((2, "unreadable CSV (',' expected after '\"'); no row from here on is read"),),
        (),
    ),
    ProblemCase(
        "unreadable_header",
        '"claim_id,line,minutes\n',
        ((1, "unreadable CSV (unexpected end of data); no row from here on is read"),),
        (),
    ),
    ProblemCase(
        "more_than_a_day_on_one_line",
        H + "PCN1001,1,1440,,\nPCN1001,2,1441,,\nPCN1001,3,1000000000000,,\n",
        (
            (3, "minutes 1441 are more than a day (1440) on one line; this row is not used"),
            (4, "minutes 1000000000000 are more than a day (1440) on one line; this row is not used"),
        ),
        (("PCN1001", 1),),
    ),
    ProblemCase(
        "every_problem_of_a_row_is_reported",
        H + ",,-1,,2026\n",
        (
            (2, "claim_id is empty"),
            (2, "minutes must not be negative, got '-1'"),
            (2, "service_date must be a real date written CCYYMMDD, got '2026'"),
            (2, "a row without a line (an unbilled service) needs a procedure"),
        ),
        (),
    ),
]


@pytest.mark.parametrize("case", PROBLEM_CASES, ids=[c.id for c in PROBLEM_CASES])
def test_problems(case: ProblemCase) -> None:
    table = parse_minutes_csv(case.text, "m.csv")
    assert [(p.row, p.message) for p in table.problems] == list(case.problems)
    assert tuple((r.claim_id, r.line) for r in table.rows) == case.accepted


def test_a_problem_row_gives_no_minutes() -> None:
    table = parse_minutes_csv(H + "PCN1001,1,-8,,\n", "m.csv")
    assert table.minutes_for("PCN1001", 1) is None


# --- references the claim file does not have ---------------------------------------------


def test_unknown_references() -> None:
    text = H + (
        "PCN1001,1,38,,\n"  # known
        "PCN1001,4,23,,\n"  # claim known, line not
        "PCN7777,1,15,,\n"  # claim not
        "PCN1001,,8,97035,20260105\n"  # unbilled row: needs only the claim
        "PCN8888,,8,97035,20260105\n"  # unbilled row on an unknown claim
    )
    table = parse_minutes_csv(text, "m.csv")
    assert table.problems == ()
    assert table.unknown_references({"PCN1001": {1, 2, 3}}) == [
        MinutesProblem(3, "claim 'PCN1001' has no line 4 (LX*4)"),
        MinutesProblem(4, "claim 'PCN7777' is not in the claim file"),
        MinutesProblem(6, "claim 'PCN8888' is not in the claim file"),
    ]


def test_no_unknown_references_when_everything_matches() -> None:
    table = parse_minutes_csv(GOOD, "m.csv")
    assert table.unknown_references({"PCN1001": {1, 2}, "PCN1002": {1}}) == []


def test_claim_ids_match_exactly() -> None:
    table = parse_minutes_csv(H + "pcn1001,1,38,,\n", "m.csv")
    assert table.minutes_for("PCN1001", 1) is None
    assert table.unknown_references({"PCN1001": {1}}) == [
        MinutesProblem(2, "claim 'pcn1001' is not in the claim file")
    ]


def test_table_built_directly_keeps_the_first_of_a_repeated_line() -> None:
    first = MinutesRow(2, "PCN1001", 1, 38, None, None, None)
    second = MinutesRow(3, "PCN1001", 1, 40, None, None, None)
    assert MinutesTable("m.csv", (first, second)).minutes_for("PCN1001", 1) == 38


# --- NTE line notes ----------------------------------------------------------------------

NOTE_CASES = [
    ("MIN 38", 38),
    ("MINUTES:38", 38),
    ("38 MIN", 38),
    ("TIMED MINUTES 38", 38),
    ("38MIN", 38),
    ("38 MINUTES", 38),
    ("TX 45 MINS", 45),
    ("min 38", 38),
    ("MINUTES = 053", 53),
    ("MIN-22", 22),
    ("MIN 38 (38 MIN)", 38),  # the same number twice is one answer
    ("THER EX 3X10 MIN 38", 38),
    # silent
    ("", None),
    ("PT PROGRESSING WELL", None),
    ("ADMIN 5", None),  # MIN inside a word
    ("MIN ASSIST GAIT 3X10", None),  # min assist, no number after MIN
    ("MINIMAL 12", None),
    ("6 MIN WALK TEST, 38 MIN", None),  # two numbers: not evidence for either
    ("TIMED MIN 38 TOTAL MIN 53", None),
    ("MIN 12345", None),  # more than four digits is not a minute count
    ("MIN 1440", 1440),  # a whole day is the most one line can hold
    ("MIN 1441", None),  # more than a day is not minutes of one line
]


@pytest.mark.parametrize(("text", "expected"), NOTE_CASES, ids=[t or "empty" for t, _ in NOTE_CASES])
def test_minutes_from_note(text: str, expected: int | None) -> None:
    assert minutes_from_note(text) == expected


def test_default_note_pattern_names_its_group() -> None:
    assert "minutes" in DEFAULT_NOTE_PATTERN.groupindex


def test_note_pattern_is_configurable() -> None:
    # A companion guide that writes "TT=38" for treatment time.
    assert minutes_from_note("TT=38 MIN 99", r"\bTT=(?P<minutes>\d+)") == 38
    assert minutes_from_note("tt=38", r"\bTT=(?P<minutes>\d+)") == 38  # strings compile case-insensitively
    assert minutes_from_note("tt=38", re.compile(r"\bTT=(?P<minutes>\d+)")) is None  # compiled: as given
    assert minutes_from_note("MIN 38", r"\bTT=(?P<minutes>\d+)") is None


def test_note_pattern_without_minutes_group_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="no named group 'minutes'"):
        minutes_from_note("MIN 38", r"MIN (\d+)")


# --- MJ unit basis -----------------------------------------------------------------------

MJ_CASES = [
    ("MJ", "61", 61),
    ("mj", " 61 ", 61),
    ("MJ", Decimal("61"), 61),
    ("MJ", "61.0", 61),
    ("MJ", "0", 0),
    # silent
    ("UN", "4", None),
    ("", "4", None),
    ("MJ", "61.5", None),
    ("MJ", "-5", None),
    ("MJ", "", None),
    ("MJ", "sixty", None),
    ("MJ", "NaN", None),
    ("MJ", Decimal("Infinity"), None),
    ("MJ", "1440", 1440),
    ("MJ", "1441", None),  # more than a day
    ("MJ", "1000000000000", None),
    ("MJ", "1e999999999", None),  # used to read as a number; not an X12 R value
    ("MJ", Decimal("1E+999999"), None),
]


MJ_IDS = [f"{basis or 'blank'}_{quantity!r}" for basis, quantity, _ in MJ_CASES]


@pytest.mark.parametrize(("basis", "quantity", "expected"), MJ_CASES, ids=MJ_IDS)
def test_minutes_from_mj(basis: str, quantity: str | Decimal, expected: int | None) -> None:
    assert minutes_from_mj(basis, quantity) == expected


# --- precedence --------------------------------------------------------------------------


def test_precedence_is_sidecar_then_note_then_mj() -> None:
    assert MINUTES_PRECEDENCE == (MinutesSource.SIDECAR, MinutesSource.NOTE, MinutesSource.MJ)
    assert [str(source) for source in MINUTES_PRECEDENCE] == ["sidecar", "note", "mj"]


PRECEDENCE_CASES = [
    ("all_three", dict(sidecar=38, note=45, mj=50), (38, MinutesSource.SIDECAR)),
    ("note_over_mj", dict(note=45, mj=50), (45, MinutesSource.NOTE)),
    ("mj_alone", dict(mj=61), (61, MinutesSource.MJ)),
    ("zero_is_a_value", dict(sidecar=0, note=45), (0, MinutesSource.SIDECAR)),
    ("nothing", dict(), None),
]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [case[1:] for case in PRECEDENCE_CASES],
    ids=[case[0] for case in PRECEDENCE_CASES],
)
def test_line_minutes(sources, expected) -> None:
    assert line_minutes(**sources) == expected


def test_line_minutes_from_real_sources() -> None:
    table = parse_minutes_csv(GOOD, "minutes.csv")
    assert line_minutes(
        sidecar=table.minutes_for("PCN1001", 1),
        note=minutes_from_note("MIN 40"),
        mj=minutes_from_mj("UN", "3"),
    ) == (38, "sidecar")
    assert line_minutes(
        sidecar=table.minutes_for("PCN1001", 9),
        note=minutes_from_note("PT NOTE"),
        mj=minutes_from_mj("MJ", "61"),
    ) == (61, "mj")
