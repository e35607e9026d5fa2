"""match: every matching path, every category, the action table, balance and unknown codes."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from edi_rehab.match import (
    ACTIONS,
    CATEGORIES,
    CATEGORY_PRECEDENCE,
    MISSING_KX,
    CodeListError,
    csv_cell,
    parse_code_list,
    render_csv,
    render_text,
)
from edi_rehab.config import parse_config
from edi_rehab.minutes import parse_minutes_csv
from matchkit import MAPS, C, L, P, S, claim_file, remit_file, run

PAID = [("CO", "45", "20"), ("PR", "2", "6")]


def rows_by_procedure(result):
    return {row.procedure: row for row in result.rows}


# -- claims ---------------------------------------------------------------------------------------
def test_line_control_matches_whatever_the_order():
    claims = claim_file([C("PCN1", [L("97110"), L("97140", charge="47"), L("97530", charge="55")])])
    remit = remit_file(
        [
            P(
                "PCN1",
                [
                    S("97530", charge="55", cas=PAID, ref6r="PCN1-3"),
                    S("97110", cas=PAID, ref6r="PCN1-1"),
                    S("97140", charge="47", cas=PAID, ref6r="PCN1-2"),
                ],
            )
        ]
    )
    result = run(remit, claims)
    assert [(r.procedure, r.match.line, r.match.method) for r in result.rows] == [
        ("97530", 3, "line-control"),
        ("97110", 1, "line-control"),
        ("97140", 2, "line-control"),
    ]
    assert result.balance == [] and result.unmatched_claims == []


def test_ref_6r_cut_to_30_characters_still_matches():
    long = "X" * 40
    claims = claim_file([C("PCN1", [L("97110", ref6r=long)])])
    result = run(remit_file([P("PCN1", [S("97110", cas=PAID, ref6r=long[:30])])]), claims)
    assert result.rows[0].match.method == "line-control"


def test_fallback_with_reordered_and_dropped_modifiers_and_two_dates():
    claims = claim_file(
        [
            C(
                "PCN1",
                [
                    L("97530", ("59", "GP"), "55", date="20260105", ref6r=None),
                    L("97530", ("59", "GP"), "55", date="20260107", ref6r=None),
                    L("97140", ("GP", "KX"), "47", date="20260107", ref6r=None),
                ],
            )
        ]
    )
    remit = remit_file(
        [
            P(
                "PCN1",
                [
                    S("97140", ("KX", "GP"), "47", PAID, date="20260107"),
                    S("97530", ("GP",), "55", PAID, date="20260107"),
                    S("97530", ("GP", "59"), "55", PAID, date="20260105"),
                ],
            )
        ]
    )
    result = run(remit, claims)
    assert [(r.procedure, r.service_date, r.match.line, r.match.method) for r in result.rows] == [
        ("97140", "2026-01-07", 3, "fallback"),
        ("97530", "2026-01-07", 2, "fallback"),
        ("97530", "2026-01-05", 1, "fallback"),
    ]


def test_fallback_duplicate_lines_take_one_each():
    claims = claim_file([C("PCN1", [L("97110", ref6r=None), L("97110", ref6r=None)])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID), S("97110", cas=[("OA", "18", "50")])])])
    result = run(remit, claims)
    assert [r.match.line for r in result.rows] == [1, 2]
    assert result.rows[1].category == "duplicate"


def test_svc06_recoding_matches_the_original_procedure():
    claims = claim_file([C("PCN1", [L("97110", ref6r=None), L("97035", charge="22", ref6r=None)])])
    remit = remit_file(
        [P("PCN1", [S("97110", cas=PAID), S("97010", ("GP",), "22", [("CO", "97", "22")], original=("97035", ("GP",)), remarks=("M15",))])]
    )
    row = rows_by_procedure(run(remit, claims))["97010"]
    assert (row.match.line, row.match.method, row.category) == (2, "fallback", "ncci-bundling")


def test_split_line_one_to_many_without_6r():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2", ref6r=None), L("97140", charge="47", ref6r=None)])])
    part = dict(original=("97110", ("GP",)), original_units="2", remarks=("N123",))
    remit = remit_file(
        [P("PCN1", [S("97110", charge="48", cas=PAID, **part), S("97110", charge="48", cas=PAID, **part), S("97140", charge="47", cas=PAID)])]
    )
    result = run(remit, claims)
    assert [(r.match.line, r.match.method) for r in result.rows] == [(1, "fallback"), (1, "fallback"), (2, "fallback")]
    assert all(r.category == "paid" for r in result.rows)


def test_split_line_with_6r_repeats_the_control_number():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")])])
    part = dict(original=("97110", ("GP",)), original_units="2", remarks=("N123",), ref6r="PCN1-1")
    result = run(remit_file([P("PCN1", [S("97110", charge="48", cas=PAID, **part), S("97110", charge="48", cas=PAID, **part)])]), claims)
    assert [(r.match.line, r.match.method) for r in result.rows] == [(1, "line-control"), (1, "line-control")]


def test_bundled_lines_many_to_one():
    claims = claim_file([C("PCN1", [L("97110", ref6r=None), L("97110", ref6r=None), L("97140", charge="47", ref6r=None)])])
    remit = remit_file([P("PCN1", [S("97110", charge="100", units="2", cas=PAID), S("97140", charge="47", cas=PAID)])])
    result = run(remit, claims)
    bundle = result.rows[0]
    assert (bundle.match.line, bundle.match.lines, bundle.match.method) == (1, (1, 2), "fallback")
    assert bundle.to_json()["match"] == {"file": "claims1.x12", "claim_id": "PCN1", "line": 1, "lines": [1, 2], "method": "fallback"}
    assert result.rows[1].match.lines == (3,)


def test_unmatched_claim_and_line():
    claims = claim_file([C("PCN1", [L("97110", ref6r=None)])])
    remit = remit_file(
        [P("PCN1", [S("97110", cas=PAID), S("97750", charge="60", cas=PAID, date="20260301")]), P("NOPE", [S("97110", cas=PAID)], icn="ICN9")]
    )
    result = run(remit, claims)
    methods = [(r.remit_claim_id, r.procedure, r.match.method) for r in result.rows]
    assert methods == [("PCN1", "97110", "fallback"), ("PCN1", "97750", "unmatched"), ("NOPE", "97110", "unmatched")]
    assert [u.claim_id for u in result.unmatched_claims] == ["NOPE"]
    assert result.to_json()["unmatched_claims"][0]["remit_claim_id"] == "NOPE"
    assert result.summary()["unmatched_claims"] == 1


def test_reversal_then_correction():
    claims = claim_file([C("PCN1", [L("97110"), L("97530", charge="55")])])
    remit = remit_file(
        [
            P("PCN1", [S("97110", "GP".split(), "-50", [("CO", "45", "-20"), ("PR", "2", "-6")], ref6r="PCN1-1"), S("97530", ("GP",), "-55", [("CO", "45", "-30")], ref6r="PCN1-2")], status="22", icn="ICN-A"),
            P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2")], icn="ICN-B"),
        ]
    )
    result = run(remit, claims)
    assert [r.category for r in result.rows] == ["reversal", "reversal", "paid", "ncci-bundling"]
    assert [r.action for r in result.rows[:2]] == ["none", "none"]
    assert all(r.match.method == "line-control" for r in result.rows)
    record = result.rows[0].match.record
    assert result.latest_payer_claim_number(record) == "ICN-B"
    assert result.balance == []


def test_clp01_cut_to_20_characters_and_case():
    long_id = "PCN-ABCDEFGHIJKLMNOPQRSTUVW"  # 27 characters
    claims = claim_file([C(long_id, [L("97110")]), C("lower1", [L("97110", ref6r=None)])])
    remit = remit_file([P(long_id[:20], [S("97110", cas=PAID, ref6r=f"{long_id}-1"[:30])]), P("LOWER1", [S("97110", cas=PAID)])])
    result = run(remit, claims)
    assert [(r.match.claim_method, r.match.record.claim_id) for r in result.rows] == [("truncated", long_id), ("case", "lower1")]


def test_clp01_with_a_payer_prefix_finds_its_claim_but_a_short_id_is_not_guessed():
    claims = claim_file([C("PCN000123", [L("97110")]), C("A1", [L("97110")])])
    remit = remit_file([P("XYZPCN000123", [S("97110", cas=PAID)]), P("ZZA1", [S("97110", cas=PAID)])])
    result = run(remit, claims)
    assert [(r.match.claim_method, r.match.record.claim_id if r.match.record else None) for r in result.rows] == [
        ("prefixed", "PCN000123"),
        ("none", None),
    ]


def test_same_clm01_in_two_files_told_apart_by_date_and_charge():
    first = claim_file([C("PCN1", [L("97110", date="20260105", ref6r=None)])])
    second = claim_file([C("PCN1", [L("97110", date="20260112", ref6r=None), L("97140", charge="47", date="20260112", ref6r=None)])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID, date="20260105")], icn="A"), P("PCN1", [S("97110", cas=PAID, date="20260112"), S("97140", charge="47", cas=PAID, date="20260112")], icn="B")])
    result = run(remit, ("old.x12", first), ("new.x12", second))
    assert [r.match.record.file for r in result.rows] == ["old.x12", "new.x12", "new.x12"]
    assert [r.match.line for r in result.rows] == [1, 1, 2]


def test_same_clm01_tie_goes_to_the_claim_whose_lines_take_every_payment():
    # Same CLM01, charge, procedures and dates of the payment in both files: the scores tie.
    # The later file's 97140 is on another date, so only the earlier claim takes both SVCs.
    right = claim_file([C("PCN1", [L("97110", ref6r=None), L("97140", charge="47", ref6r=None)])])
    wrong = claim_file([C("PCN1", [L("97110", ref6r=None), L("97140", charge="47", date="20260106", ref6r=None)])], isa13="000000002")
    remit = remit_file([P("PCN1", [S("97110", cas=PAID), S("97140", charge="47", cas=PAID)])])
    result = run(remit, ("right.x12", right), ("wrong.x12", wrong))
    assert [(r.match.record.file, r.match.line, r.match.method) for r in result.rows] == [("right.x12", 1, "fallback"), ("right.x12", 2, "fallback")]
    assert result.ambiguous_claims == [] and "ambiguous_with" not in result.rows[0].to_json()["match"]


def test_same_clm01_that_nothing_tells_apart_is_reported_as_ambiguous():
    claims = claim_file([C("PCN1", [L("97110")])])
    again = claim_file([C("PCN1", [L("97110")])], isa13="000000002")
    result = run(remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")])]), ("first.x12", claims), ("second.x12", again))
    (row,) = result.rows
    assert row.match.record.file == "second.x12"  # the latest, as before
    (doubt,) = result.ambiguous_claims
    assert (doubt.chosen.file, [o.file for o in doubt.others]) == ("second.x12", ["first.x12"])
    assert row.to_json()["match"]["ambiguous_with"] == [{"file": "first.x12", "segment": doubt.others[0].claim.position()}]
    summary = result.summary()["ambiguous_claims"]
    assert len(summary) == 1 and "check which one the payer adjudicated" in summary[0]["message"]
    assert any("ambiguous claim: PCN1 fits 2 claims" in text for text in render_text(result))


def test_a_reversal_tie_goes_to_the_earliest_claim_and_is_ambiguous_too():
    claims = claim_file([C("PCN1", [L("97110")])])
    again = claim_file([C("PCN1", [L("97110")])], isa13="000000002")
    remit = remit_file([P("PCN1", [S("97110", charge="-50", cas=[("CO", "45", "-20"), ("PR", "2", "-6")], ref6r="PCN1-1")], status="22")])
    result = run(remit, ("first.x12", claims), ("second.x12", again))
    assert result.rows[0].match.record.file == "first.x12"
    assert "earliest" in result.ambiguous_claims[0].message


def test_crossover_and_several_clps_for_one_claim():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")], status="19", icn="A"), P("PCN1", [S("97110", cas=[("PR", "1", "50")], ref6r="PCN1-1")], status="2", icn="B")])
    result = run(remit, claims)
    assert [(r.claim_status, r.category, r.action) for r in result.rows] == [("19", "paid", "bill-patient"), ("2", "patient-responsibility", "bill-patient")]


def test_claim_without_service_lines_gets_one_claim_row():
    claims = claim_file([C("PCN1", [L("97110"), L("97140", charge="47")])])
    remit = remit_file([P("PCN1", [], status="4", cas=[("CO", "29", "97")], charge="97", paid="0")])
    (row,) = run(remit, claims).rows
    assert (row.procedure, row.match.method, row.match.lines, row.category, row.action) == (None, "claim", (1, 2), "timely-filing", "appeal")


def test_claim_level_denial_explains_lines_without_cas():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", paid="0", ref6r="PCN1-1")], status="4", cas=[("CO", "109", "50")], paid="-50")], bpr="-50")
    (row,) = run(remit, claims).rows
    assert row.category == "eligibility" and row.action == "new-claim"
    assert row.to_json()["adjustments"][0]["text"].endswith("(claim level)")


# -- categories -----------------------------------------------------------------------------------
# (case id, line modifiers, CAS, remarks, MOA, expected category, expected action)
CATEGORY_CASES = [
    ("paid", ("GP",), [("CO", "45", "20")], (), (), "paid", "none"),
    ("paid-with-coinsurance", ("GP",), PAID, (), (), "paid", "bill-patient"),
    ("units-co151", ("GP",), [("CO", "151", "25"), ("CO", "45", "10"), ("PR", "2", "3")], (), (), "units", "appeal"),
    ("ncci-co236", ("GP",), [("CO", "236", "50")], ("N20",), (), "ncci-bundling", "appeal"),
    ("modifier-co4-line-right", ("GP",), [("CO", "4", "50")], ("N822",), (), "modifier", "reopening"),
    ("medical-necessity", ("GP",), [("CO", "50", "50")], ("N115",), (), "medical-necessity", "appeal"),
    ("medical-necessity-gz", ("GP", "GZ"), [("CO", "50", "50")], (), (), "medical-necessity", "write-off"),
    ("medical-necessity-ga", ("GP", "GA"), [("PR", "50", "50")], (), (), "medical-necessity", "bill-patient"),
    ("authorization", ("GP",), [("CO", "197", "50")], (), (), "authorization", "reopening"),
    ("benefit-limit-no-kx", ("GP",), [("PR", "119", "50")], (), (), "benefit-limit", "reopening"),
    ("benefit-limit-kx", ("GP", "KX"), [("PR", "119", "50")], (), (), "benefit-limit", "appeal"),
    ("benefit-limit-ga", ("GP", "GA"), [("PR", "119", "50")], (), (), "benefit-limit", "bill-patient"),
    ("duplicate", ("GP",), [("OA", "18", "50")], (), (), "duplicate", "reopening"),
    ("eligibility", ("GP",), [("CO", "109", "50")], (), (), "eligibility", "new-claim"),
    ("eligibility-pr", ("GP",), [("PR", "27", "50")], (), (), "eligibility", "bill-patient"),
    ("timely-filing", ("GP",), [("CO", "29", "50")], (), (), "timely-filing", "appeal"),
    ("patient-responsibility", ("GP",), [("PR", "1", "50")], (), (), "patient-responsibility", "bill-patient"),
    ("contractual", ("GP",), [("CO", "45", "50")], (), (), "contractual", "write-off"),
    ("other", ("GP",), [("CO", "16", "50")], (), (), "other", "appeal"),
    ("other-refined-by-remark", ("GP",), [("CO", "16", "50")], ("N822",), (), "modifier", "reopening"),
    ("unprocessable-ma130", ("GP",), [("CO", "16", "50")], ("M53",), ("MA130",), "units", "new-claim"),
    ("no-appeal-rights", ("GP",), [("CO", "50", "50")], ("N211",), (), "medical-necessity", "write-off"),
    ("unknown-codes", ("GP",), [("CO", "ZZ9", "50")], ("XQ999",), (), "other", "appeal"),
    ("statutory-exclusion-gy", ("GP", "GY"), [("PR", "96", "50")], (), (), "other", "bill-patient"),
    ("sequestration-is-contractual", ("GP",), [("CO", "45", "20"), ("PR", "2", "6"), ("CO", "253", "0.48")], (), (), "paid", "bill-patient"),
    ("order-not-current-176", ("GP",), [("CO", "176", "50")], (), (), "medical-necessity", "appeal"),
    ("documentation-incomplete-251", ("GP",), [("CO", "251", "50")], (), (), "medical-necessity", "appeal"),
    ("abn-on-file-by-remark-m38", ("GP",), [("PR", "50", "50")], ("M38",), (), "medical-necessity", "bill-patient"),
    ("abn-found-invalid-m39", ("GP", "GA"), [("PR", "50", "50")], ("M39",), (), "medical-necessity", "appeal"),
    ("paid-above-charge-94", ("GP",), [("CO", "45", "20"), ("CO", "94", "-2")], (), (), "paid", "none"),
    ("coding-diagnosis-against-age-9", ("GP",), [("CO", "9", "50")], (), (), "coding", "reopening"),
    ("coding-by-remark-n657", ("GP",), [("CO", "96", "50")], ("N657",), (), "coding", "reopening"),
    ("enrollment-rendering-185", ("GP",), [("CO", "185", "50")], (), (), "enrollment", "fix-enrollment"),
    ("enrollment-provider-type-8", ("GP",), [("CO", "8", "50")], (), (), "enrollment", "fix-enrollment"),
    ("enrollment-by-remark-n95", ("GP",), [("CO", "16", "50")], ("N95",), (), "enrollment", "fix-enrollment"),
]


@pytest.mark.parametrize(("case", "mods", "cas", "remarks", "moa", "category", "action"), CATEGORY_CASES, ids=[c[0] for c in CATEGORY_CASES])
def test_category_and_action(case, mods, cas, remarks, moa, category, action):
    claims = claim_file([C("PCN1", [L("97110", mods)])])
    remit = remit_file([P("PCN1", [S("97110", mods, cas=cas, remarks=remarks, ref6r="PCN1-1")], moa=moa)])
    result = run(remit, claims)
    (row,) = result.rows
    assert (row.category, row.action) == (category, action)
    assert row.denied == (category not in ("paid", "patient-responsibility", "contractual", "reversal"))
    assert result.balance == []


# The same denials from a commercial payer (default profile, correction route "replacement"):
# what Medicare takes as a reopening is a corrected claim there (issue 11, logic 2).
COMMERCIAL_CORRECTIONS = [c[:6] + ("corrected-claim",) for c in CATEGORY_CASES if c[6] == "reopening" and c[0] in (
    "authorization", "coding-diagnosis-against-age-9", "coding-by-remark-n657"
)]


@pytest.mark.parametrize(("case", "mods", "cas", "remarks", "moa", "category", "action"), COMMERCIAL_CORRECTIONS, ids=[c[0] for c in COMMERCIAL_CORRECTIONS])
def test_commercial_corrections_stay_corrected_claims(case, mods, cas, remarks, moa, category, action):
    claims = claim_file([C("PCN1", [L("97110", mods)], filing="CI", payer_id="SYNCI0001", payer_name="SYNTHETIC COMMERCIAL")])
    remit = remit_file([P("PCN1", [S("97110", mods, cas=cas, remarks=remarks, ref6r="PCN1-1")], moa=moa)])
    (row,) = run(remit, claims).rows
    assert (row.category, row.action) == (category, action)
    assert "correction_route" not in row.assessment.facts


def test_every_category_and_action_is_reachable():
    covered = {c[5] for c in CATEGORY_CASES} | {"reversal"}
    assert covered == set(CATEGORIES)
    actions = {c[6] for c in CATEGORY_CASES + COMMERCIAL_CORRECTIONS} | {"none"}
    assert actions == set(ACTIONS)


@pytest.mark.parametrize(
    ("cas", "remarks", "category"),
    [
        ([("CO", "45", "10"), ("PR", "2", "3"), ("CO", "151", "25")], (), "units"),
        ([("CO", "4", "20"), ("CO", "236", "30")], (), "ncci-bundling"),
        ([("CO", "50", "20"), ("CO", "29", "30")], (), "timely-filing"),
        ([("CO", "151", "20"), ("OA", "18", "30")], (), "duplicate"),
        ([("CO", "151", "20"), ("CO", "4", "30")], (), "modifier"),
        ([("PR", "119", "20"), ("CO", "151", "30")], (), "units"),
        ([("CO", "16", "50")], ("N211", "N20"), "ncci-bundling"),
        ([("CO", "B7", "20"), ("CO", "97", "30")], (), "enrollment"),
        ([("CO", "96", "20"), ("CO", "4", "30")], ("N657",), "modifier"),
        ([("CO", "10", "20"), ("CO", "4", "30")], (), "coding"),
    ],
)
def test_precedence_picks_the_adjustment_that_explains_the_denial(cas, remarks, category):
    claims = claim_file([C("PCN1", [L("97110")])])
    (row,) = run(remit_file([P("PCN1", [S("97110", cas=cas, remarks=remarks, ref6r="PCN1-1")])]), claims).rows
    assert row.category == category


def test_precedence_table_is_complete():
    assert set(CATEGORY_PRECEDENCE) | {"patient-responsibility", "contractual", "reversal", "paid"} == set(CATEGORIES)


def test_unknown_codes_are_reported_not_fatal():
    claims = claim_file([C("PCN1", [L("97110")])])
    result = run(remit_file([P("PCN1", [S("97110", cas=[("CR", "ZZ9", "50")], remarks=("XQ999",), ref6r="PCN1-1")])]), claims)
    (row,) = result.rows
    assert "unknown CARC" in row.adjustments[0].text and not row.adjustments[0].known
    assert result.summary()["unknown_codes"] == {"carc": ["ZZ9"], "group": ["CR"], "rarc": ["XQ999"]}


# -- findings and actions that follow the cause ---------------------------------------------------
def test_co236_on_97530_beside_97140_is_explained_by_n301():
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")])])
    remit = remit_file([P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2")])])
    row = rows_by_procedure(run(remit, claims))["97530"]
    assert row.category == "ncci-bundling" and row.action == "reopening"
    assert row.assessment.findings == ("N301",)
    assert "97140" in row.assessment.cause and "59" in row.assessment.fix
    assert row.assessment.facts["column1"] == "97140" and row.assessment.facts["column2"] == "97530"
    # Medicare Part B: the correction goes as a clerical-error reopening, not a corrected claim
    assert row.assessment.facts["correction_route"] == "reopening"
    assert "reopening" in row.assessment.why


def test_co236_to_a_commercial_payer_is_a_corrected_claim():
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")], filing="CI", payer_id="SYNCI0001")])
    remit = remit_file([P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2")])])
    row = rows_by_procedure(run(remit, claims))["97530"]
    assert row.category == "ncci-bundling" and row.action == "corrected-claim"


def test_co236_with_59_already_on_the_line_calls_for_an_appeal_and_same_block_for_a_write_off():
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", ("59", "GP"), charge="55")])])
    remit = remit_file([P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", ("59", "GP"), "55", [("CO", "236", "55")], ref6r="PCN1-2")])])
    assert rows_by_procedure(run(remit, claims))["97530"].action == "appeal"
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")])])
    minutes = parse_minutes_csv("claim_id,line,minutes,time_block\nPCN1,1,15,A\nPCN1,2,15,A\n", "m.csv")
    row = rows_by_procedure(run(remit, claims, minutes=minutes))["97530"]
    assert row.action == "write-off"


def test_co236_with_distinct_time_blocks_carries_the_59_correction():
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")])])
    remit = remit_file([P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], ref6r="PCN1-2")])])
    minutes = parse_minutes_csv("claim_id,line,minutes,time_block\nPCN1,1,15,0900-0915\nPCN1,2,15,0915-0930\n", "m.csv")
    row = rows_by_procedure(run(remit, claims, minutes=minutes))["97530"]
    (correction,) = row.assessment.corrections
    # a Medicare claim: its profile sets no modifier order, so 59 follows the billed GP
    assert correction.modifiers == ("GP", "59") and correction.line == 1 and correction.ready


def test_co151_with_minutes_is_explained_by_u101():
    claims = claim_file([C("PCN1", [L("97110", charge="144", units="3")])])
    remit = remit_file([P("PCN1", [S("97110", charge="144", cas=[("CO", "151", "144")], units="3", ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,30\n", "m.csv")
    (row,) = run(remit, claims, minutes=minutes).rows
    assert row.category == "units" and "U101" in row.assessment.findings
    assert row.action == "reopening"
    assert [(c.line, c.units) for c in row.assessment.corrections] == [(0, 2)]
    assert row.assessment.facts["day_minutes"] == 30 and row.assessment.facts["day_units_allowed"] == 2


def test_co151_with_minutes_that_support_the_units_is_an_appeal():
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2")])])
    remit = remit_file([P("PCN1", [S("97110", charge="96", cas=[("CO", "151", "48")], units="1", original_units="2", ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,31\n", "m.csv")
    (row,) = run(remit, claims, minutes=minutes).rows
    assert row.action == "appeal" and "31 timed minutes" in row.assessment.cause
    assert "allow 2 units under the CMS total-minutes method" in row.assessment.cause


def test_one_unit_is_one_unit_in_the_cause_and_the_letter():
    claims = claim_file([C("PCN1", [L("97110", charge="48", units="1")])])
    remit = remit_file([P("PCN1", [S("97110", charge="48", cas=[("CO", "151", "48")], ref6r="PCN1-1")])])
    minutes = parse_minutes_csv("claim_id,line,minutes\nPCN1,1,10\n", "m.csv")
    result = run(remit, claims, minutes=minutes)
    (row,) = result.rows
    assert row.action == "appeal"
    assert "allow 1 unit under the CMS total-minutes method and 1 unit was billed" in row.assessment.cause
    assert " 1 were" not in row.assessment.cause and "1 units" not in row.assessment.cause
    from edi_rehab.appeal import build_packets

    (packet,) = build_packets(result, MAPS, today=date(2026, 3, 2)).packets
    assert "1 unit was billed" in packet.letter_markdown and "1 were" not in packet.letter_markdown
    assert "10 timed minutes" in packet.letter_markdown


def test_money_has_two_decimals_in_text_and_csv():
    claims = claim_file([C("PCN1", [L("97110", charge="47.5"), L("97140", charge="55")])])
    remit = remit_file([P("PCN1", [S("97110", charge="47.5", cas=[("CO", "45", "20.5"), ("PR", "2", "6")], ref6r="PCN1-1"), S("97140", charge="55", cas=[("CO", "50", "55")], ref6r="PCN1-2")])])
    result = run(remit, claims)
    text = "\n".join(render_text(result))
    assert "charge 47.50 paid 21.00 (CO-45 20.50, PR-2 6.00)" in text and "charge 55.00 paid 0.00 (CO-50 55.00)" in text
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert [(r["charge"], r["paid"], r["adjustments"]) for r in rows] == [("47.50", "21.00", "CO-45 20.50; PR-2 6.00"), ("55.00", "0.00", "CO-50 55.00")]
    assert "Matched 2 service payments (1 denied); 0 unmatched claims; 0 balance problems." in text
    one = "\n".join(render_text(run(remit_file([P("PCN1", [S("97110", charge="47.5", cas=[("CO", "45", "20.5")], ref6r="PCN1-1")])]), claims)))
    assert "Matched 1 service payment (0 denied)" in one


# -- units are judged by the day (issue 11, logic 1) ------------------------------------------
_EX3_MINUTES = "claim_id,line,minutes\nPCN1,1,33\nPCN1,2,7\n"


def _ex3(units_97110: str, cas_97140, paid_97140: str | None = None, *, payer_id="SYNMB0001", filing="MB"):
    """CMS Example 3 (97110 33 min, 97140 7 min), 97140 denied CO-151 on its one unit."""
    charge = str(48 * int(units_97110))
    claims = claim_file([C("PCN1", [L("97110", charge=charge, units=units_97110), L("97140", charge="45")], payer_id=payer_id, filing=filing)])
    remit = remit_file(
        [P("PCN1", [S("97110", charge=charge, cas=PAID, units=units_97110, ref6r="PCN1-1"), S("97140", charge="45", cas=cas_97140, paid=paid_97140, ref6r="PCN1-2")])]
    )
    return remit, claims


def test_cms_example_3_denied_co151_is_appealed_with_the_days_minutes():
    remit, claims = _ex3("2", [("CO", "151", "45")])
    minutes = parse_minutes_csv(_EX3_MINUTES, "m.csv")
    row = rows_by_procedure(run(remit, claims, minutes=minutes))["97140"]
    assert row.category == "units" and row.action == "appeal"
    assert not row.assessment.corrections and "U101" not in row.assessment.findings
    facts = row.assessment.facts
    assert (facts["day_minutes"], facts["day_units_allowed"], facts["day_units_billed"]) == (40, 3, 3)
    assert facts["pooled"] is True and facts["day_lines"] == [1, 2]
    assert "40 timed minutes" in row.assessment.cause and "support 0" not in row.assessment.cause


def test_cms_example_3_judged_from_nte_minutes_as_check_reads_them():
    """The day comes from check's own minutes sources (2400 NTE here), not only the CSV."""
    claims = claim_file([C("PCN1", [L("97110", charge="96", units="2"), L("97140", charge="45")])])
    text = claims.decode("latin-1")
    text = text.replace("REF*6R*PCN1-1~", "REF*6R*PCN1-1~\nNTE*ADD*33 MIN~").replace("REF*6R*PCN1-2~", "REF*6R*PCN1-2~\nNTE*ADD*7 MIN~")
    segments = text.split("~\n")
    st = next(i for i, x in enumerate(segments) if x.startswith("ST*"))
    se = next(i for i, x in enumerate(segments) if x.startswith("SE*"))
    segments[se] = f"SE*{se - st + 1}*0001"
    claims = "~\n".join(segments).encode("latin-1")
    remit = remit_file([P("PCN1", [S("97110", charge="96", cas=PAID, units="2", ref6r="PCN1-1"), S("97140", charge="45", cas=[("CO", "151", "45")], ref6r="PCN1-2")])])
    row = rows_by_procedure(run(remit, claims))["97140"]
    assert row.action == "appeal" and row.assessment.facts["day_minutes"] == 40


def test_truly_over_billed_day_denied_co151_is_conceded():
    """97110 33 min billed 3 units with 97140 7 min x1: 40 minutes allow 3, 4 were billed (U101)."""
    remit, claims = _ex3("3", [("CO", "151", "45")])
    minutes = parse_minutes_csv(_EX3_MINUTES, "m.csv")
    row = rows_by_procedure(run(remit, claims, minutes=minutes))["97140"]
    assert row.action == "reopening" and "U101" in row.assessment.findings
    assert row.assessment.facts["day_units_billed"] == 4 and row.assessment.facts["day_units_allowed"] == 3
    # the correction is the day's: 97110 goes to 2 units, 97140 keeps its unit
    assert [(c.line, c.units) for c in row.assessment.corrections] == [(0, 2)]


def test_over_billed_day_is_conceded_even_when_u101_is_ignored_in_the_config():
    remit, claims = _ex3("3", [("CO", "151", "45")])
    minutes = parse_minutes_csv(_EX3_MINUTES, "m.csv")
    config = parse_config('ignore = ["U101"]\n', "c.toml")
    row = rows_by_procedure(run(remit, claims, minutes=minutes, config=config))["97140"]
    assert row.action == "reopening" and "U101" in row.assessment.findings
    assert [(c.line, c.units) for c in row.assessment.corrections] == [(0, 2)]


def test_misallocated_day_u103_is_conceded():
    """40 minutes, 3 units, but billed 97110 x1 + 97140 x2: the split is wrong (U103)."""
    claims = claim_file([C("PCN1", [L("97110", charge="48", units="1"), L("97140", charge="90", units="2")])])
    remit = remit_file([P("PCN1", [S("97110", charge="48", cas=PAID, units="1", ref6r="PCN1-1"), S("97140", charge="90", cas=[("CO", "151", "45")], paid="45", units="1", original_units="2", ref6r="PCN1-2")])])
    row = rows_by_procedure(run(remit, claims, minutes=parse_minutes_csv(_EX3_MINUTES, "m.csv")))["97140"]
    assert "U103" in row.assessment.findings and row.action in ("corrected-claim", "write-off")


def test_per_code_payer_example_3_concedes_the_7_minute_line():
    """Per-code (each code rounded on its own): 7 minutes of 97140 earn nothing, as U101 says."""
    remit, claims = _ex3("2", [("CO", "151", "45")], payer_id="ACME1", filing="CI")
    config = parse_config('[profiles.acme]\nextends = "commercial-per-code"\npayer_ids = ["ACME1"]\n', "c.toml")
    row = rows_by_procedure(run(remit, claims, minutes=parse_minutes_csv(_EX3_MINUTES, "m.csv"), config=config))["97140"]
    assert row.assessment.facts["unit_method"] == "per-code"
    assert row.action == "corrected-claim" and "U101" in row.assessment.findings
    assert [(c.line, c.units) for c in row.assessment.corrections] == [(1, 0)]


def test_a_day_with_a_line_missing_minutes_is_not_conceded():
    remit, claims = _ex3("2", [("CO", "151", "45")])
    row = rows_by_procedure(run(remit, claims, minutes=parse_minutes_csv("claim_id,line,minutes\nPCN1,2,7\n", "m.csv")))["97140"]
    assert row.action == "appeal" and row.assessment.facts["day_lines_without_minutes"] == [1]


def test_co4_n822_is_explained_by_m201_with_the_modifier_to_add():
    claims = claim_file([C("PCN1", [L("97110"), L("97535", ())])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1"), S("97535", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="PCN1-2")])])
    row = rows_by_procedure(run(remit, claims))["97535"]
    assert row.assessment.findings == ("M201",) and row.action == "reopening"
    assert row.assessment.corrections[0].modifiers == ("GP",)


def test_pr119_without_kx_is_a_missing_kx_not_a_bill_to_the_patient():
    claims = claim_file([C("PCN1", [L("97110", ("59", "GP"))])])
    (row,) = run(remit_file([P("PCN1", [S("97110", ("59", "GP"), cas=[("PR", "119", "50")], ref6r="PCN1-1")])]), claims).rows
    assert row.assessment.findings == (MISSING_KX,)
    assert row.action == "reopening" and "KX" in row.assessment.cause
    assert row.assessment.corrections[0].modifiers == ("59", "GP", "KX")


def test_97014_denied_by_medicare_with_n657_is_rebilled_as_g0283():
    claims = claim_file([C("PCN1", [L("97014", charge="30")])])
    remit = remit_file([P("PCN1", [S("97014", charge="30", cas=[("CO", "96", "30")], remarks=("N657",), ref6r="PCN1-1")])])
    (row,) = run(remit, claims).rows
    assert (row.category, row.action, row.assessment.reason) == ("coding", "reopening", "CO-96/N657")
    assert row.assessment.findings == ("C403",)
    assert "G0283" in row.assessment.cause and row.assessment.fix.startswith("rebill line 1 with G0283 in place of 97014")
    assert row.assessment.facts["payer_code"] == "G0283"
    # the new code's charge is the practice's to set: nothing is changed on a guess
    assert [c.ready for c in row.assessment.corrections] == [False]


def test_97014_coding_denial_still_names_g0283_when_check_ignores_c403():
    from edi_rehab.config import parse_config

    claims = claim_file([C("PCN1", [L("97014", charge="30")])])
    remit = remit_file([P("PCN1", [S("97014", charge="30", cas=[("CO", "96", "30")], remarks=("N657",), ref6r="PCN1-1")])])
    (row,) = run(remit, claims, config=parse_config('ignore = ["C403"]\n', "c.toml")).rows
    assert row.action == "reopening" and "G0283" in row.assessment.fix and row.assessment.findings == ("C403",)


def test_97014_coding_denial_by_a_commercial_payer_names_no_medicare_code():
    claims = claim_file([C("PCN1", [L("97014", charge="30")], filing="CI", payer_id="ACME1", payer_name="SYNTHETIC COMMERCIAL")])
    remit = remit_file([P("PCN1", [S("97014", charge="30", cas=[("CO", "96", "30")], remarks=("N657",), ref6r="PCN1-1")])])
    (row,) = run(remit, claims).rows
    assert (row.category, row.action) == ("coding", "corrected-claim")
    assert "G0283" not in row.assessment.fix and "payer's coding policy" in row.assessment.fix


COMMERCIAL = dict(filing="CI", payer_id="ACME1", payer_name="SYNTHETIC COMMERCIAL PPO")


@pytest.mark.parametrize(
    ("group", "remark", "mods", "action"),
    [
        ("PR", "N130", ("GP",), "bill-patient"),
        ("PR", "N640", ("GP", "KX"), "bill-patient"),
        ("CO", "N640", ("GP",), "appeal"),
        ("CO", "N130", ("GP", "KX"), "appeal"),
    ],
)
def test_commercial_119_is_a_visit_limit_and_never_asks_for_kx(group, remark, mods, action):
    claims = claim_file([C("PCN1", [L("97110", mods)], **COMMERCIAL)])
    remit = remit_file([P("PCN1", [S("97110", mods, cas=[(group, "119", "50")], remarks=(remark,), ref6r="PCN1-1")])])
    (row,) = run(remit, claims).rows
    assert (row.category, row.action) == ("benefit-limit", action)
    assert MISSING_KX not in row.assessment.findings and row.assessment.corrections == ()
    assert "KX" not in row.assessment.cause + row.assessment.fix and "visit" in row.assessment.cause
    if group == "PR":
        assert "secondary payer" in row.assessment.fix
    else:
        assert "medical necessity" in row.assessment.fix and "write the amount off" in row.assessment.fix


def test_medicare_advantage_profile_extending_medicare_uses_the_threshold():
    from edi_rehab.config import parse_config

    config = parse_config('[profiles.synth-ma]\nextends = "medicare"\npayer_ids = ["SYNMA01"]\n', "c.toml")
    claims = claim_file([C("PCN1", [L("97110")], filing="16", payer_id="SYNMA01", payer_name="SYNTHETIC MA PLAN")])
    remit = remit_file([P("PCN1", [S("97110", cas=[("CO", "119", "50")], remarks=("N640",), ref6r="PCN1-1")])])
    (row,) = run(remit, claims, config=config).rows
    assert row.action == "reopening" and row.assessment.findings == (MISSING_KX,)
    # without the profile the same plan (SBR09 16) is not assumed to use the threshold
    (row,) = run(remit, claims).rows
    assert row.action == "appeal" and MISSING_KX not in row.assessment.findings


def test_ma130_means_a_new_claim_with_the_fix():
    claims = claim_file([C("PCN1", [L("97110", ())])])
    remit = remit_file([P("PCN1", [S("97110", (), cas=[("CO", "16", "50")], ref6r="PCN1-1")], moa=("MA130",))])
    (row,) = run(remit, claims).rows
    assert row.action == "new-claim" and "M201" in row.assessment.findings
    assert row.assessment.corrections[0].modifiers == ("GP",)


def test_duplicate_paid_on_another_clp_needs_nothing():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")], icn="A"), P("PCN1", [S("97110", cas=[("OA", "18", "50")], ref6r="PCN1-1")], icn="B")])
    rows = run(remit, claims).rows
    assert (rows[1].category, rows[1].action) == ("duplicate", "none")


def test_same_code_twice_on_one_date_duplicate_is_corrected():
    claims = claim_file([C("PCN1", [L("97110"), L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1"), S("97110", cas=[("OA", "18", "50")], ref6r="PCN1-2")])])
    assert run(remit, claims).rows[1].action == "reopening"


def test_addon_without_primary_b15_is_explained_by_c405():
    claims = claim_file([C("PCN1", [L("97130")])])
    (row,) = run(remit_file([P("PCN1", [S("97130", cas=[("CO", "B15", "50")], ref6r="PCN1-1")])]), claims).rows
    assert (row.category, row.action, row.assessment.findings) == ("ncci-bundling", "reopening", ("C405",))


def test_authorization_on_the_claim_means_an_appeal():
    claims = claim_file([C("PCN1", [L("97110")], extra=("REF*G1*AUTH123",))])
    (row,) = run(remit_file([P("PCN1", [S("97110", cas=[("CO", "197", "50")], ref6r="PCN1-1")])]), claims).rows
    assert row.action == "appeal"


# -- balance --------------------------------------------------------------------------------------
def test_unbalanced_remittance_is_reported_and_matching_goes_on():
    claims = claim_file([C("PCN1", [L("97110"), L("97140", charge="47")])])
    remit = remit_file(
        [P("PCN1", [S("97110", cas=PAID, paid="30", ref6r="PCN1-1"), S("97140", charge="47", cas=PAID, ref6r="PCN1-2")], paid="55")],
        bpr="99",
        plb=[("L6", "1.25")],
    )
    result = run(remit, claims)
    assert len(result.rows) == 2 and all(r.match.method == "line-control" for r in result.rows)
    levels = sorted(p.level for p in result.balance)
    assert levels == ["claim", "line", "transaction"]
    line = next(p for p in result.balance if p.level == "line")
    assert (line.expected, line.found) == (Decimal("24"), Decimal("30"))
    assert result.summary()["balance_problems"][0]["message"]
    assert any("unbalanced" in text for text in render_text(result))


def test_negative_cas_amounts_are_not_denials():
    # A secondary payer's remittance: the prior payer's share (OA-23), a bundling reduction
    # of the first adjudication given back (CO-97, negative) and a payment above the charge
    # (CO-94, negative). Money came back; nothing was denied.
    claims = claim_file([C("PCN1", [L("97110")], cob=True)])
    cas = [("OA", "23", "40"), ("CO", "97", "-5"), ("CO", "94", "-3")]
    remit = remit_file([P("PCN1", [S("97110", cas=cas, ref6r="PCN1-1")], status="2")])
    result = run(remit, claims)
    (row,) = result.rows
    assert row.paid == Decimal("18") and all(a.known for a in row.adjustments)
    assert (row.category, row.action, row.denied) == ("paid", "none", False)
    assert result.summary()["denied_lines"] == 0 and result.balance == []
    from datetime import date

    from edi_rehab.appeal import build_packets
    from matchkit import MAPS

    assert build_packets(result, MAPS, today=date(2026, 3, 2)).packets == ()


def test_a_negative_claim_level_cas_is_not_spread_over_the_lines_as_a_denial():
    claims = claim_file([C("PCN1", [L("97110")])])
    remit = remit_file([P("PCN1", [S("97110", cas=[("PR", "2", "10")], ref6r="PCN1-1")], status="2", cas=[("CO", "97", "-4")])])
    (row,) = run(remit, claims).rows
    assert (row.category, row.action) == ("paid", "bill-patient")


def test_plb_reference_is_the_second_component_only():
    claims = claim_file([C("PCN1", [L("97110")])])
    data = remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")])], plb=[("WO", "-3"), ("L6", "1.25")])
    data = data.replace(b"WO:REF1", b"WO:ADJ77:5")
    result = run(data, claims)
    ((_, remit),) = result.remittances
    assert [(p.reason, p.reference, p.amount) for p in remit.provider_adjustments] == [
        ("WO", "ADJ77", Decimal("-3")),
        ("L6", "REF1", Decimal("1.25")),
    ]
    assert result.balance == []


def test_plb_is_part_of_the_transaction_balance():
    claims = claim_file([C("PCN1", [L("97110")])])
    result = run(remit_file([P("PCN1", [S("97110", cas=PAID, ref6r="PCN1-1")])], plb=[("L6", "1.25"), ("WO", "-3")]), claims)
    assert result.balance == []


# -- code lists -----------------------------------------------------------------------------------
def test_official_code_list_text_wins_and_unknown_codes_become_known():
    carc = parse_code_list('\ufeffCode,Description,Start\n# comment\n236,"Official, with a comma",2010-01-01\nzz9,Official ZZ9\nbad code!,x\n45,\n', "carc.csv")
    assert carc.texts == {"236": "Official, with a comma", "ZZ9": "Official ZZ9"}
    assert [row for row, _ in carc.problems] == [5, 6]
    claims = claim_file([C("PCN1", [L("97110")])])
    (row,) = run(remit_file([P("PCN1", [S("97110", cas=[("CO", "236", "20"), ("CO", "ZZ9", "30")], ref6r="PCN1-1")])]), claims, carc=carc).rows
    assert [a.text for a in row.adjustments] == ["Official, with a comma", "Official ZZ9"]
    assert row.category == "ncci-bundling"
    with pytest.raises(CodeListError):
        parse_code_list("code,description\n\n", "empty.csv")


# -- output ---------------------------------------------------------------------------------------
JSON_KEYS = {
    "remit_claim_id",
    "payer_claim_number",
    "claim_status",
    "procedure",
    "modifiers",
    "service_date",
    "charge",
    "paid",
    "units_billed",
    "units_paid",
    "adjustments",
    "remarks",
    "category",
    "match",
    "findings",
    "action",
}


def test_json_shape():
    claims = claim_file([C("PCN1", [L("97110")])])
    data = run(remit_file([P("PCN1", [S("97110", cas=[("CO", "151", "50")], remarks=("M53",), ref6r="PCN1-1")])]), claims).to_json()
    assert set(data) == {"lines", "unmatched_claims", "summary"}
    (line,) = data["lines"]
    assert set(line) == JSON_KEYS
    assert set(line["match"]) == {"file", "claim_id", "line", "lines", "method"}
    assert line["adjustments"] == [{"group": "CO", "carc": "151", "amount": "50", "text": line["adjustments"][0]["text"]}]
    assert set(line["remarks"][0]) == {"code", "text"}
    assert data["summary"]["by_category"] == {"units": 1}
    assert data["summary"]["denied_lines"] == 1 and data["summary"]["denied_amount"] == "50"


@pytest.mark.parametrize(
    ("column", "value", "cell"),
    [
        ("remit_claim_id", "=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("remit_claim_id", "+1", '="+1"'),
        ("remit_claim_id", "@SUM(A1)", "'@SUM(A1)"),
        ("cause", "-2+3", "'-2+3"),
        ("cause", "\tx", "'\tx"),
        ("cause", "\rx", "'\rx"),
        ("claim_id", "000123", '="000123"'),
        ("payer_claim_number", "1E5", '="1E5"'),
        ("claim_id", 'PCN"1', 'PCN"1'),
        ("charge", Decimal("-150.00"), "-150.00"),
        ("paid", Decimal("0"), "0"),
        ("line", 2, "2"),
        ("procedure", "97110", '="97110"'),
        ("cause", None, ""),
    ],
)
def test_csv_cells_are_guarded_but_numbers_stay_numbers(column, value, cell):
    assert csv_cell(column, value) == cell


def test_csv_output_is_the_values_as_they_are():
    claims = claim_file([C("000123", [L("97110")]), C("=CMD|A", [L("97110")])])
    remit = remit_file([P("000123", [S("97110", cas=PAID, ref6r="000123-1")]), P("=CMD|A", [S("97110", cas=PAID, ref6r="=CMD|A-1")], icn="-ICN")])
    text = render_csv(run(remit, claims))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["remit_claim_id"], r["payer_claim_number"], r["charge"]) for r in rows] == [("000123", "ICN0001", "50.00"), ("=CMD|A", "-ICN", "50.00")]
    assert rows[1]["adjustments"] == "CO-45 20.00; PR-2 6.00" and '="' not in text and "'" not in text.replace("payer's", "")
    assert text.endswith("\r\n")


def test_csv_output_for_excel_parses_and_keeps_ids():
    claims = claim_file([C("000123", [L("97110")]), C("=CMD|A", [L("97110")]), C("@SUM", [L("97110")]), C("+1", [L("97110")])])
    remit = remit_file(
        [
            P("000123", [S("97110", cas=PAID, ref6r="000123-1")]),
            P("=CMD|A", [S("97110", cas=PAID, ref6r="=CMD|A-1")], icn="-ICN"),
            P("@SUM", [S("97110", cas=PAID, ref6r="@SUM-1")]),
            P("+1", [S("97110", cas=PAID, ref6r="+1-1")]),
        ]
    )
    text = render_csv(run(remit, claims), excel=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["remit_claim_id"] for r in rows[2:]] == ["'@SUM", '="+1"']
    assert rows[0]["remit_claim_id"] == '="000123"' and rows[0]["charge"] == "50.00"
    assert rows[1]["remit_claim_id"] == "'=CMD|A" and rows[1]["payer_claim_number"] == "'-ICN"
    assert text.endswith("\r\n")


# -- robustness -----------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CODES = st.sampled_from(["1", "2", "4", "16", "18", "29", "45", "50", "96", "97", "109", "119", "151", "197", "236", "253", "B15", "ZZ9", "A1"])
_REMARKS = st.sampled_from(["N20", "N822", "M53", "MA130", "N211", "N123", "M15", "N115", "XQ1"])
_GROUPS = st.sampled_from(["CO", "PR", "OA", "PI", "CR"])
_AMOUNTS = st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False, allow_infinity=False).map(str)
_SERVICE = st.builds(
    S,
    procedure=st.sampled_from(["97110", "97140", "97530", "97035", "97010", "99999"]),
    modifiers=st.lists(st.sampled_from(["GP", "GO", "59", "KX", "GA", "GZ", "XU"]), max_size=4, unique=True).map(tuple),
    charge=_AMOUNTS,
    cas=st.lists(st.tuples(_GROUPS, _CODES, _AMOUNTS), max_size=4),
    paid=st.one_of(st.none(), _AMOUNTS),
    units=st.sampled_from(["", "1", "2", "0"]),
    original=st.one_of(st.none(), st.just(("97035", ("GP",)))),
    original_units=st.sampled_from(["", "2", "3"]),
    date=st.sampled_from(["20260105", "20260106", "2026013"]),
    ref6r=st.sampled_from([None, "PCN1-1", "PCN1-2", "PCN2-1", "NOPE"]),
    remarks=st.lists(_REMARKS, max_size=3).map(tuple),
)
_PAYMENT = st.builds(
    P,
    claim_id=st.sampled_from(["PCN1", "PCN2", "pcn1", "GHOST"]),
    services=st.lists(_SERVICE, max_size=4),
    status=st.sampled_from(["1", "2", "4", "19", "22", "23", "25"]),
    cas=st.lists(st.tuples(_GROUPS, _CODES, _AMOUNTS), max_size=2),
    moa=st.lists(_REMARKS, max_size=2).map(tuple),
)
_FUZZ_CLAIMS = claim_file(
    [
        C("PCN1", [L("97140", charge="47"), L("97530", charge="55"), L("97110", ("GP", "KX"), ref6r=None)]),
        C("PCN2", [L("97035", (), charge="22")], dependent=True),
        C("PCN1", [L("97110", date="20260106")], member="SYN9"),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PAYMENT, min_size=1, max_size=5))
def test_any_remittance_gets_a_row_per_payment_and_never_raises(payments):
    result = run(remit_file(payments), _FUZZ_CLAIMS)
    assert len(result.rows) == sum(max(1, len(p.services)) for p in payments)
    for row in result.rows:
        assert row.category in CATEGORIES and row.action in ACTIONS
        assert row.match.method in ("line-control", "fallback", "unmatched", "claim")
        assert set(row.to_json()) == JSON_KEYS
    render_csv(result)
    list(render_text(result))
    from edi_rehab.appeal import build_packets
    from matchkit import MAPS
    from datetime import date

    build_packets(result, MAPS, today=date(2026, 3, 2))


_BASE_REMIT = remit_file(
    [
        P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",))]),
        P("PCN2", [S("97035", (), "22", [("CO", "4", "22")], remarks=("N822",))], moa=("MA130",)),
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_BASE_REMIT) - 1), st.integers(0, 3), st.binary(max_size=3)), min_size=1, max_size=6))
def test_mutated_remittance_bytes_give_rows_or_a_read_error(mutations):
    from edi_rehab.match import WrongFileType
    from edi_rehab.x12 import X12ReadError

    data = bytearray(_BASE_REMIT)
    for at, cut, insert in mutations:
        at = min(at, len(data))
        data[at : at + cut] = insert
    try:
        result = run(bytes(data), _FUZZ_CLAIMS)
    except (X12ReadError, WrongFileType):
        return
    for row in result.rows:
        assert row.category in CATEGORIES and row.action in ACTIONS
    result.to_json()


# -- a claim of thousands of lines is matched without scoring every pair (issue 16, item 7) ----
def test_fallback_matching_scores_only_the_lines_an_svc_could_be(monkeypatch):
    from datetime import date, timedelta

    import edi_rehab.match as match_module

    n = 1500
    lines, services = [], []
    for i in range(n):
        day = (date(2026, 1, 5) + timedelta(days=i // 5)).strftime("%Y%m%d")  # 300 days, 5 codes each
        code = ("97110", "97140", "97530", "97112", "97116")[i % 5]
        lines.append(L(code, charge=str(40 + i % 7), date=day, ref6r=None))
        services.append(S(code, charge=str(40 + i % 7), date=day))
    claims, remit = claim_file([C("PCN1", lines)]), remit_file([P("PCN1", list(reversed(services)))])
    calls = []
    scored = match_module._score_facts

    def counting(svc, line):
        calls.append(1)
        return scored(svc, line)

    monkeypatch.setattr(match_module, "_score_facts", counting)
    result = run(remit, claims)
    matched = [row.match.line for row in result.rows]
    assert sorted(matched) == list(range(1, n + 1))  # every SVC found its own line
    assert len(calls) < 10 * n  # scoring every pair would be n * n = 2,250,000
