# NCCI rules (N301-N306). Ids: CODE::fail_* must fire CODE, CODE::pass_* must not.
# Encounter = same patient, same rendering provider, same date, across one transaction's claims.
from claimkit import D1, D2, claim, ln, minutes_csv as mins
from rulecases import fail, ok

Q1_2020 = "20200215"  # the 2020 indicator-0 evaluation edits were in force (deleted 2020-04-01)


def ptp_file(*rows: str) -> bytes:
    """A CMS practitioner PTP file in the official layout (tab-separated, CRLF, preamble)."""
    header = "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date *=no data\tModifier\tPTP Edit Rationale"
    lines = ["CPT only copyright 2025 American Medical Association. All rights reserved.", "", header, *rows]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n"


def mue_file(*rows: str) -> bytes:
    header = '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"'
    return "\n".join(['"CPT codes and descriptions only are copyright 2025 AMA."', header, *rows]).encode() + b"\n"


EDIT_110_112 = ptp_file("97110\t97112\t\t20200101\t*\t1\tMisuse of column two code with column one code")
EDIT_110_112_IND0 = ptp_file("97110\t97112\t\t20200101\t*\t0\tMutually exclusive procedures")
EDIT_110_112_IND9 = ptp_file("97110\t97112\t\t20200101\t*\t9\tMutually exclusive procedures")
# CMS rows for a pair whose column order the built-in map has not verified (97530/97116, [M])
EDIT_530_116 = ptp_file("97530\t97116\t\t20201001\t*\t1\tMisuse of column two code with column one code")
EDIT_116_530 = ptp_file("97116\t97530\t\t20201001\t*\t1\tMisuse of column two code with column one code")
EDIT_530_116_IND9 = ptp_file("97530\t97116\t\t20201001\t*\t9\tMisuse of column two code with column one code")
MUE = mue_file(
    '"97110","8","3 Date of Service Edit: Clinical","Clinical: Data"',
    '"97035","2","1 Line Edit","Clinical: Data"',
)

CASES = [
    # -- N301: indicator-1 pair with no modifier ---------------------------------------------
    fail("N301::fail_97530_beside_97140", claim(ln("97140:GP", 1), ln("97530:GP", 1)), count=1, at=[("PCN1", 2)]),
    fail("N301::fail_column_order_follows_the_edit_not_the_file",
         claim(ln("97530:GP", 1), ln("97140:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("N301::fail_across_claims_of_one_transaction",
         claim(ln("97140:GP", 1), id="PCN1"), claim(ln("97530:GP", 1), id="PCN2"), count=1, at=[("PCN2", 1)]),
    fail("N301::fail_evaluation_with_manual_therapy", claim(ln("97161:GP", 1), ln("97140:GP", 1)), at=[("PCN1", 2)]),
    fail("N301::fail_same_anatomic_site_is_no_bypass", claim(ln("97140:GP:RT", 1), ln("97530:GP:RT", 1)), at=[("PCN1", 2)]),
    fail("N301::fail_kx_is_not_an_ncci_modifier", claim(ln("97140:GP:KX", 1), ln("97530:GP:KX", 1))),
    fail("N301::fail_pair_from_cms_file", claim(ln("97110:GP", 1), ln("97112:GP", 1)), ncci=EDIT_110_112,
         at=[("PCN1", 2)]),
    fail("N301::fail_with_time_block_evidence",
         claim(ln("97140:GP", 1), ln("97530:GP", 1)),
         minutes=mins(("PCN1", 1, 15, "97140", D1, "0900-0915"), ("PCN1", 2, 15, "97530", D1, "0915-0930"))),
    # the built-in map's column order is verified (S) for 97140/97530 only: an error
    fail("N301::fail_verified_order_is_an_error", claim(ln("97140:GP", 1), ln("97530:GP", 1)), severity="error"),
    # order-confidence M or D, no CMS file: a warning (issue 10 item 5), one case per pair it names
    fail("N301::fail_unverified_97530_97116_is_a_warning", claim(ln("97530:GP", 1), ln("97116:GP", 1)),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N301::fail_unverified_97110_97150_is_a_warning", claim(ln("97110:GP", 1), ln("97150:GP", 1)),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N301::fail_unverified_97012_97140_is_a_warning", claim(ln("97012:GP", 1), ln("97140:GP", 1)),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N301::fail_unverified_97140_97124_is_a_warning", claim(ln("97140:GP", 1), ln("97124:GP", 1)),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N301::fail_unverified_97150_97164_is_a_warning", claim(ln("97150:GP", 1), ln("97164:GP", 1)),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N301::fail_unverified_evaluation_pair_is_a_warning", claim(ln("97161:GP", 1), ln("97140:GP", 1)),
         severity="warning"),
    # with the CMS file its rows decide: the same order at error level, or the other order
    fail("N301::fail_cms_file_confirms_an_unverified_order", claim(ln("97530:GP", 1), ln("97116:GP", 1)),
         ncci=EDIT_530_116, count=1, at=[("PCN1", 2)], severity="error"),
    fail("N301::fail_cms_file_reverses_an_unverified_order", claim(ln("97530:GP", 1), ln("97116:GP", 1)),
         ncci=EDIT_116_530, count=1, at=[("PCN1", 1)], severity="error"),
    ok("N301::pass_cms_file_drops_an_unverified_pair", claim(ln("97530:GP", 1), ln("97116:GP", 1)),
       ncci=EDIT_530_116_IND9, clean=True),
    ok("N301::pass_59_on_97530", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),
    ok("N301::pass_xu_on_97530", claim(ln("97140:GP", 1), ln("97530:XU:GP", 1)), clean=True),
    ok("N301::pass_different_dates", claim(ln("97140:GP", 1, D1), ln("97530:GP", 1, D2)), clean=True),
    ok("N301::pass_different_rendering_providers", claim(ln("97140:GP", 1), ln("97530:GP", 1, npi="2222222222")), clean=True),
    ok("N301::pass_different_patients",
       claim(ln("97140:GP", 1), id="PCN1"), claim(ln("97530:GP", 1), id="PCN2", patient="MEMBER2"), clean=True),
    ok("N301::pass_different_transactions",
       transactions=[[claim(ln("97140:GP", 1), id="PCN1")], [claim(ln("97530:GP", 1), id="PCN2")]], clean=True),
    ok("N301::pass_different_anatomic_sites", claim(ln("97140:GP:RT", 1), ln("97530:GP:LT", 1)), clean=True),
    ok("N301::pass_before_the_edit_took_effect", claim(ln("97140:GP", 1, "20190601"), ln("97530:GP", 1, "20190601")), clean=True),
    ok("N301::pass_indicator_9_never_fires", claim(ln("97110:GP", 1), ln("97112:GP", 1)), ncci=EDIT_110_112_IND9, clean=True),

    # -- N302: indicator-0 pair ------------------------------------------------------------------
    fail("N302::fail_evaluation_with_97530_in_q1_2020",
         claim(ln("97161:GP", 1, Q1_2020), ln("97530:GP", 1, Q1_2020)), count=1, at=[("PCN1", 2)]),
    fail("N302::fail_59_does_not_bypass_indicator_0",
         claim(ln("97163:GP", 1, Q1_2020), ln("97150:59:GP", 1, Q1_2020)), at=[("PCN1", 2)]),
    fail("N302::fail_indicator_0_from_cms_file", claim(ln("97110:GP", 1), ln("97112:XU:GP", 1)), ncci=EDIT_110_112_IND0),
    ok("N302::pass_after_the_2020_deletion", claim(ln("97161:GP", 1), ln("97530:GP", 1)), clean=True),
    ok("N302::pass_on_the_deletion_date", claim(ln("97161:GP", 1, "20200401"), ln("97530:GP", 1, "20200401")), clean=True),

    # -- N303: modifier on column 1 only ---------------------------------------------------------
    fail("N303::fail_59_on_97140_not_97530", claim(ln("97140:59:GP", 1), ln("97530:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("N303::fail_xu_on_column_1_across_claims",
         claim(ln("97140:XU:GP", 1), id="PCN1"), claim(ln("97530:GP", 1), id="PCN2"), at=[("PCN1", 1)]),
    fail("N303::fail_59_on_unverified_column_1", claim(ln("97530:59:GP", 1), ln("97116:GP", 1)),
         count=1, at=[("PCN1", 1)], severity="warning"),
    # the CMS file makes 97530 column 2 of 97116/97530: 59 on 97530 is where it belongs
    ok("N303::pass_cms_file_makes_it_column_2", claim(ln("97530:59:GP", 1), ln("97116:GP", 1)),
       ncci=EDIT_116_530, clean=True),
    ok("N303::pass_59_on_column_2", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),
    ok("N303::pass_59_on_both", claim(ln("97140:59:GP", 1), ln("97530:59:GP", 1)), clean=True),

    # -- N304: 59/X without a PTP partner ----------------------------------------------------------
    fail("N304::fail_59_on_a_lone_line", claim(ln("97110:59:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("N304::fail_59_without_a_pair", claim(ln("97110:GP", 1), ln("97112:59:GP", 1)), at=[("PCN1", 2)]),
    fail("N304::fail_partner_on_another_date", claim(ln("97140:GP", 1, D1), ln("97530:59:GP", 1, D2))),
    ok("N304::pass_59_with_its_partner", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),
    ok("N304::pass_no_distinct_modifier", claim(ln("97110:GP", 1)), clean=True),
    ok("N304::pass_repeat_is_m208", claim(ln("97110:GP", 1), ln("97110:59:GP", 1)), also=["M208"]),
    # the PTP data covers therapy codes only: outside them silence, never a guess
    ok("N304::pass_code_outside_the_therapy_set", claim(ln("62322:59", 1), ln("00902", 1)), clean=True),
    ok("N304::pass_code_outside_the_therapy_set_with_cms_file", claim(ln("62322:59", 1), ln("00902", 1)),
       ncci=EDIT_110_112, clean=True),
    ok("N304::pass_partner_outside_the_therapy_set_without_cms_file", claim(ln("98941", 1), ln("97140:59:GP", 1)),
       clean=True),
    # with the CMS file, a therapy code's pairs with any code are known
    fail("N304::fail_cms_file_has_no_pair_with_the_other_code", claim(ln("99213", 1), ln("97110:59:GP", 1)),
         ncci=EDIT_110_112, count=1, at=[("PCN1", 2)]),

    # -- N305: MUE ---------------------------------------------------------------------------------
    fail("N305::fail_date_of_service_edit_over_two_lines",
         claim(ln("97110:GP", 5), ln("97110:CQ:GP", 4)), mue=MUE, count=1, at=[("PCN1", 2)]),
    fail("N305::fail_line_edit", claim(ln("97035:GP", 3)), mue=MUE, count=1, at=[("PCN1", 1)]),
    ok("N305::pass_within_the_mue", claim(ln("97110:GP", 8), ln("97035:GP", 2)), mue=MUE, clean=True),
    ok("N305::pass_without_an_mue_file", claim(ln("97110:GP", 5), ln("97110:CQ:GP", 4)), clean=True),
    ok("N305::pass_line_edit_split_over_lines", claim(ln("97035:GP", 2), ln("97035:CQ:GP", 2)), mue=MUE, clean=True),

    # -- N306: 59/XU on a pair the minutes CSV puts in one time block (CMS Example 9) ------------------
    fail("N306::fail_59_on_97530_in_the_block_of_97140", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)),
         minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN1", 2, 15, "97530", D1, "B1")),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("N306::fail_xu_on_97530_in_one_block", claim(ln("97530:XU:GP", 1), ln("97140:GP", 1)),
         minutes=mins(("PCN1", 1, 15, "97530", D1, "0900-0930"), ("PCN1", 2, 15, "97140", D1, "0900-0930")),
         count=1, at=[("PCN1", 1)]),
    fail("N306::fail_59_on_column_1_in_one_block", claim(ln("97140:59:GP", 1), ln("97530:GP", 1)),
         minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN1", 2, 15, "97530", D1, "B1")),
         count=1, at=[("PCN1", 1)], also=["N303"]),
    ok("N306::pass_distinct_time_blocks", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "0900-0915"), ("PCN1", 2, 15, "97530", D1, "0915-0930")), clean=True),
    # CMS's split example: manual therapy 10 minutes, then 15 of therapeutic activities, then 5 more of manual
    # therapy; the split service has its own label, so the two are in distinct blocks
    ok("N306::pass_split_block_labelled_apart", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "manual 0900-0910+0925-0930"), ("PCN1", 2, 15, "97530", D1, "0910-0925")),
       clean=True),
    ok("N306::pass_one_block_without_59_is_n301", claim(ln("97140:GP", 1), ln("97530:GP", 1)),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN1", 2, 15, "97530", D1, "B1")), also=["N301"]),
    ok("N306::pass_minutes_without_time_blocks", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)),
       minutes=mins(("PCN1", 1, 15, "97140", D1), ("PCN1", 2, 15, "97530", D1)), clean=True),
    ok("N306::pass_without_minutes", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),
    ok("N306::pass_other_rendering_provider", claim(ln("97140:GP", 1), ln("97530:59:GP", 1, npi="2222222222")),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN1", 2, 15, "97530", D1, "B1")), allow=("N304",)),
    ok("N306::pass_other_date", claim(ln("97140:GP", 1, D1), ln("97530:59:GP", 1, D2)),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN1", 2, 15, "97530", D2, "B1")), allow=("N304",)),
    # an evaluation is untimed: what makes 97140-59 payable beside it is a separately identifiable evaluation
    ok("N306::pass_evaluation_pair", claim(ln("97161:GP", 1), ln("97140:59:GP", 1)),
       minutes=mins(("PCN1", 2, 15, "97140", D1, "B1"), ("PCN1", 1, 0, "97161", D1, "B1")), clean=True),
    # labels are compared within one claim (the CSV keys rows by CLM01)
    ok("N306::pass_same_label_on_two_claims", claim(ln("97140:GP", 1), id="PCN1"), claim(ln("97530:59:GP", 1), id="PCN2"),
       minutes=mins(("PCN1", 1, 15, "97140", D1, "B1"), ("PCN2", 1, 15, "97530", D1, "B1")), clean=True),
]
