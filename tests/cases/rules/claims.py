# Claim rules (C401-C411). Ids: CODE::fail_* must fire CODE, CODE::pass_* must not.
from claimkit import OT, SLP, D1, D2, claim, ln
from rulecases import fail, ok

#: a month of weekly PT visits at $650 each (2026), and the same with KX from the fourth on
MONTH_650 = [ln("97110:GP", 3, day, charge="650") for day in ("20260105", "20260112", "20260119", "20260126")]
MONTH_650_KX = MONTH_650[:3] + [ln("97110:GP:KX", 3, day, charge="650") for day in ("20260126", "20260202")]

CASES = [
    # -- C401: CLM02 against the sum of SV102 -----------------------------------------------------
    fail("C401::fail_total_off_by_ten", claim(ln("97110:GP", 1), ln("97140:GP", 1), charge="210"),
         count=1, at=[("PCN1", None)]),
    fail("C401::fail_clm02_not_an_amount", claim(ln("97110:GP", 1), charge="ABC"), at=[("PCN1", None)]),
    fail("C401::fail_sv102_not_an_amount", claim(ln("97110:GP", 1, charge="X1"), charge="100"), at=[("PCN1", 1)]),
    ok("C401::pass_balanced", claim(ln("97110:GP", 1, charge="47.5"), ln("97140:GP", 1, charge="52.5")), clean=True),
    ok("C401::pass_written_differently", claim(ln("97110:GP", 1, charge="100.0"), ln("97140:GP", 1), charge="200.00"),
       clean=True),

    # -- C402: corrected claim without REF*F8 -----------------------------------------------------
    fail("C402::fail_replacement_without_f8", claim(ln("97110:GP", 1), frequency="7"), count=1, at=[("PCN1", None)]),
    fail("C402::fail_void_without_f8", claim(ln("97110:GP", 1), frequency="8")),
    ok("C402::pass_replacement_with_f8", claim(ln("97110:GP", 1), frequency="7", f8="ICN123456789"), clean=True),
    ok("C402::pass_original_claim", claim(ln("97110:GP", 1), frequency="1"), clean=True),

    # -- C403: 97014 for a payer that wants G0283 ---------------------------------------------------
    fail("C403::fail_97014_to_medicare", claim(ln("97014:GP", 1), filing="MB"), count=1, at=[("PCN1", 1)]),
    ok("C403::pass_97014_to_a_commercial_plan", claim(ln("97014:GP", 1), filing="CI"), clean=True),
    ok("C403::pass_g0283_to_medicare", claim(ln("G0283:GP", 1), filing="MB"), clean=True),

    # -- C404: unlisted code without description ----------------------------------------------------
    fail("C404::fail_97139_without_description", claim(ln("97139:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("C404::fail_97039_blank_description", claim(ln("97039:GP", 1, description=" "))),
    ok("C404::pass_97139_with_description", claim(ln("97139:GP", 1, description="CUPPING 15 MIN")), clean=True),
    ok("C404::pass_listed_code", claim(ln("97110:GP", 1)), clean=True),

    # -- C405: add-on without its primary -----------------------------------------------------------
    fail("C405::fail_97130_alone", claim(ln("97130:GO", 2)), count=1, at=[("PCN1", 1)]),
    fail("C405::fail_primary_on_another_date", claim(ln("97129:GO", 1, D1), ln("97130:GO", 1, D2)), at=[("PCN1", 2)]),
    ok("C405::pass_97130_with_97129", claim(ln("97129:GO", 1), ln("97130:GO", 2), taxonomy=OT), clean=True),
    ok("C405::pass_monthly_addon_primary_earlier_in_month", claim(ln("98980", 1, D1), ln("98981", 1, D2)), clean=True),

    # -- C406: deleted code ---------------------------------------------------------------------------
    fail("C406::fail_92506_after_2014", claim(ln("92506:GN", 1)), count=1, at=[("PCN1", 1)]),
    fail("C406::fail_g0515_in_2021", claim(ln("G0515:GO", 1, "20210310"))),
    ok("C406::pass_92506_before_its_deletion", claim(ln("92506:GN", 1, "20131202"), taxonomy=SLP), clean=True),
    ok("C406::pass_current_code", claim(ln("92521:GN", 1), taxonomy=SLP), clean=True),
    # the functional reporting G-codes ended with 2018 dates of service (issue 10, expert review F15)
    fail("C406::fail_functional_reporting_g_code_in_2026", claim(ln("97110:GP", 1), ln("G8978:GP:CJ", 1, charge="0")),
         count=1, at=[("PCN1", 2)], severity="error", also=["M214"]),
    fail("C406::fail_last_functional_reporting_g_code_in_2019", claim(ln("G9186:GO", 1, "20190102", charge="0")),
         count=1),
    ok("C406::pass_functional_reporting_in_2018",
       claim(ln("97110:GP", 1, "20180611"), ln("G8978:GP:CJ", 1, "20180611", charge="0")), clean=True),

    # -- C407: CLM01 over 20 characters ------------------------------------------------------------
    fail("C407::fail_21_characters", claim(ln("97110:GP", 1), id="PCN12345678901234567X"), count=1),
    ok("C407::pass_20_characters", claim(ln("97110:GP", 1), id="PCN1234567890123456X"), clean=True),

    # -- C408: REF*6R too long or repeated ---------------------------------------------------------
    fail("C408::fail_repeated_within_claim", claim(ln("97110:GP", 1, ref6r="A1"), ln("97140:GP", 1, ref6r="A1")),
         count=1, at=[("PCN1", 2)]),
    fail("C408::fail_longer_than_30", claim(ln("97110:GP", 1, ref6r="X" * 31)), count=1),
    ok("C408::pass_unique_values", claim(ln("97110:GP", 1), ln("97140:GP", 1)), clean=True),
    ok("C408::pass_same_value_on_two_claims",
       claim(ln("97110:GP", 1, ref6r="L1"), id="PCN1"), claim(ln("97110:GP", 1, ref6r="L1"), id="PCN2"), clean=True),

    # -- C409: no REF*6R -----------------------------------------------------------------------------
    fail("C409::fail_line_without_6r", claim(ln("97110:GP", 1), ln("97140:GP", 1, ref6r=None)), count=1, at=[("PCN1", 2)]),
    ok("C409::pass_every_line_has_6r", claim(ln("97110:GP", 1), ln("97140:GP", 1)), clean=True),

    # -- C410: 97129 is the first 15 minutes only (further time is 97130) -------------------------------
    fail("C410::fail_97129_two_units", claim(ln("97129:GO", 2)), count=1, at=[("PCN1", 1)], severity="error"),
    ok("C410::pass_97129_with_97130", claim(ln("97129:GO", 1), ln("97130:GO", 2), taxonomy=OT), clean=True),
    ok("C410::pass_97130_several_units", claim(ln("97129:GN", 1), ln("97130:GN", 3), taxonomy=SLP), clean=True),

    # -- C411: $0.00 on a billable line ------------------------------------------------------------------
    fail("C411::fail_zero_charge", claim(ln("97110:GP", 2), ln("97140:GP", 1, charge="0")), count=1,
         at=[("PCN1", 2)], severity="warning"),
    fail("C411::fail_zero_written_with_cents", claim(ln("97110:GP", 1, charge="0.00")), count=1),
    ok("C411::pass_charges_above_zero", claim(ln("97110:GP", 2), ln("97140:GP", 1)), clean=True),
    # a reporting-only code is sent at $0.00 as information
    ok("C411::pass_functional_reporting_code_at_zero",
       claim(ln("97110:GP", 1, "20180611"), ln("G8980:GP:CI", 1, "20180611", charge="0")), clean=True),

    # -- C412: one evaluation code per discipline and date (issue 10, expert review F15) ------------------
    fail("C412::fail_two_pt_evaluations", claim(ln("97161:GP", 1), ln("97162:GP", 1)), count=1, at=[("PCN1", 2)],
         severity="error"),
    fail("C412::fail_evaluation_with_reevaluation", claim(ln("97163:GP", 1), ln("97164:GP", 1)), count=1,
         at=[("PCN1", 2)], severity="error"),
    fail("C412::fail_ot_evaluation_with_reevaluation_among_treatment",
         claim(ln("97168:GO", 1), ln("97530:GO", 2), ln("97166:GO", 1)), count=1, at=[("PCN1", 3)]),
    ok("C412::pass_pt_and_ot_evaluations_one_date", claim(ln("97163:GP", 1), ln("97166:GO", 1, npi="2222222222")),
       clean=True),
    ok("C412::pass_evaluation_and_reevaluation_on_two_dates", claim(ln("97162:GP", 1, D1), ln("97164:GP", 1, D2)),
       clean=True),
    ok("C412::pass_one_evaluation_with_treatment", claim(ln("97162:GP", 1), ln("97110:GP", 2)), clean=True),
    # SLP evaluations evaluate different functions: speech sound and swallowing on one date can be right
    ok("C412::pass_two_slp_evaluations", claim(ln("92523:GN", 1), ln("92610:GN", 1)), clean=False),

    # -- codes therapy billers use that codes.xml lacked (issue 10, expert review F15): their units read right ----------
    fail("C405::fail_caregiver_training_further_time_alone", claim(ln("97551:GP", 2)), count=1, at=[("PCN1", 1)]),
    fail("C405::fail_debridement_further_area_alone", claim(ln("97598:GP", 2)), count=1, at=[("PCN1", 1)]),
    ok("C405::pass_caregiver_training_with_further_time", claim(ln("97550:GO", 1), ln("97551:GO", 2), taxonomy=OT), clean=True),
    # a unit of 97598 is 20 sq cm of wound, not a session: several are one visit
    ok("U108::pass_debridement_area_units", claim(ln("97597:GP", 1), ln("97598:GP", 3)), clean=True),
    fail("U108::fail_group_caregiver_training_2_units", claim(ln("97552:GO", 2)), count=1, severity="warning"),
    fail("U108::fail_instrumental_swallowing_evaluation_2_units", claim(ln("92611:GN", 2)), count=1, severity="error"),
    ok("U108::pass_compression_and_rtm_set_up", claim(ln("29581:GP", 1), ln("98975:GP", 1)), clean=True),

    # -- further codes the review names (20560/20561, 95851/95852, 96110-96113) and deleted predecessors ----------------
    ok("U108::pass_rom_per_extremity_and_screening_per_instrument",
       claim(ln("95851:GP", 2), ln("96110:GN", 2, npi="2222222222")), clean=True),
    fail("U108::fail_dry_needling_2_units", claim(ln("20560:GP", 2)), count=1, severity="warning"),
    ok("U108::pass_dry_needling_three_muscles_once", claim(ln("20561:GP", 1), ln("97110:GP", 2)), clean=True),
    fail("C405::fail_developmental_testing_further_time_alone", claim(ln("96113:GN", 2)), count=1, at=[("PCN1", 1)]),
    ok("C405::pass_developmental_testing_first_hour_and_further_time", claim(ln("96112:GN", 1), ln("96113:GN", 2), taxonomy=SLP),
       clean=True),
    fail("C406::fail_extended_developmental_testing_after_2018", claim(ln("96111:GN", 1)), count=1),
    ok("C406::pass_extended_developmental_testing_in_2018", claim(ln("96111:GN", 1, "20181228"), taxonomy=SLP), clean=True),
    fail("C406::fail_orthotic_checkout_after_2017", claim(ln("97762:GP", 1)), count=1),
    # -- C413: the claim's own therapy charges pass the year's threshold on lines without KX (Medicare) ------
    # four visits at $650: the running total passes $2,480 (2026) on the fourth
    fail("C413::fail_fourth_visit_passes_2026_threshold", claim(*MONTH_650, filing="MB"), count=1, at=[("PCN1", 4)],
         severity="warning"),
    ok("C413::pass_kx_from_the_crossing_line", claim(*MONTH_650[:3], ln("97110:GP:KX", 3, "20260126", charge="650"),
       filing="MB"), clean=True),
    ok("C413::pass_under_the_threshold", claim(*MONTH_650[:3], filing="MB"), clean=True),
    # PT and SLP are one bucket: $1,300 + $1,300 passes $2,480
    fail("C413::fail_pt_and_slp_combined",
         claim(ln("97110:GP", 3, D1, charge="1300"), ln("92507:GN", 1, D2, charge="1300", npi="2222222222"), filing="MB"),
         count=1, at=[("PCN1", 2)]),
    # OT is its own bucket: $2,000 of PT and $2,000 of OT pass neither threshold
    ok("C413::pass_pt_and_ot_apart",
       claim(ln("97110:GP", 3, D1, charge="2000"), ln("97530:GO", 3, D2, charge="2000", npi="2222222222"), filing="MB"),
       clean=True),
    fail("C413::fail_2019_threshold", claim(ln("97110:GP", 3, "20190107", charge="1100"),
         ln("97110:GP", 3, "20190114", charge="1100"), filing="MB"), count=1, at=[("PCN1", 2)]),
    # the reference gives no 2020 amount: not judged
    ok("C413::pass_year_without_an_amount", claim(ln("97110:GP", 3, "20200107", charge="1500"),
       ln("97110:GP", 3, "20200114", charge="1500"), filing="MB"), allow=("C414",)),
    ok("C413::pass_commercial_payer", claim(*MONTH_650, filing="CI"), clean=True),
    # -- C414: the claim's own therapy charges pass the targeted medical review amount (info) --------------
    fail("C414::fail_fifth_visit_passes_3000", claim(*MONTH_650_KX, filing="MB"), count=1, at=[("PCN1", 5)],
         severity="info"),
    ok("C414::pass_under_3000", claim(*MONTH_650_KX[:4], filing="MB"), clean=True),
    ok("C414::pass_commercial_payer", claim(*MONTH_650_KX, filing="CI"), clean=True),
]
