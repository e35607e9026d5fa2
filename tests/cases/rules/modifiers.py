# Modifier rules (M201-M217, M220-M224). Ids: CODE::fail_* must fire CODE, CODE::pass_* must not.
from claimkit import OT, OTA, PTA, SLP, D1, D2, claim, ln, minutes_csv as mins, x12
from rulecases import fail, ok

NO_ORDER = '[profiles.default]\nmodifier_order = "none"\n'
GP_FIRST = '[profiles.default]\nmodifier_order = "gp-first"\n'
TELEHEALTH_POS_ONLY = '[profiles.default]\ntelehealth_marking = "pos"\n'
TELEHEALTH_MODIFIER = '[profiles.default]\ntelehealth_marking = "modifier"\n'

CASES = [
    # -- M201: no GP/GO/GN -----------------------------------------------------------------------
    fail("M201::fail_timed_code_without_discipline", claim(ln("97110:GP", 1), ln("97530", 1)),
         count=1, at=[("PCN1", 2)]),
    fail("M201::fail_evaluation_without_discipline", claim(ln("97161", 1)), at=[("PCN1", 1)]),
    fail("M201::fail_sometimes_code_on_a_therapy_claim", claim(ln("97110:GP", 1), ln("96125", 1)), at=[("PCN1", 2)]),
    fail("M201::fail_only_a_59", claim(ln("97530:59", 1), ln("97140:GP", 1)), at=[("PCN1", 1)]),
    ok("M201::pass_every_line_has_one", claim(ln("97110:GP", 1), ln("97530:GO", 1), ln("92507:GN", 1), rendering=None),
       clean=True),
    ok("M201::pass_sometimes_code_alone", claim(ln("96125", 1)), clean=True),
    ok("M201::pass_code_not_in_maps", claim(ln("99213", 1)), clean=True),
    ok("M201::pass_athletic_trainer_evaluation", claim(ln("97169", 1)), clean=True),

    # -- M202: two disciplines on a line ---------------------------------------------------------
    fail("M202::fail_gp_and_go", claim(ln("97110:GP:GO", 1)), count=1, at=[("PCN1", 1)]),
    fail("M202::fail_gn_and_gp", claim(ln("92507:GN:GP", 1)), count=1),
    ok("M202::pass_one_discipline", claim(ln("97110:GP", 1)), clean=True),
    ok("M202::pass_repeated_gp_is_m206", claim(ln("97110:GP:GP", 1)), also=["M206"]),

    # -- M203: CQ without GP, CO without GO ------------------------------------------------------
    fail("M203::fail_cq_alone", claim(ln("97110:CQ", 1)), at=[("PCN1", 1)], also=["M201"]),
    fail("M203::fail_cq_with_go", claim(ln("97110:CQ:GO", 1)), count=1),
    fail("M203::fail_co_with_gp", claim(ln("97530:CO:GP", 1)), count=1),
    ok("M203::pass_cq_with_gp", claim(ln("97110:CQ:GP", 1)), clean=True),
    ok("M203::pass_co_with_go", claim(ln("97530:CO:GO", 1), taxonomy=OT), clean=True),
    ok("M203::pass_cq_with_gn_is_m207", claim(ln("92507:CQ:GN", 1)), also=["M207"]),

    # -- M204: 59 with an X modifier -------------------------------------------------------------
    fail("M204::fail_59_and_xu", claim(ln("97140:GP", 1), ln("97530:59:XU:GP", 1)), count=1, at=[("PCN1", 2)]),
    ok("M204::pass_xu_alone", claim(ln("97140:GP", 1), ln("97530:XU:GP", 1)), clean=True),
    ok("M204::pass_59_alone", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), clean=True),

    # -- M205: modifier order -------------------------------------------------------------------
    fail("M205::fail_gp_before_59", claim(ln("97140:GP", 1), ln("97530:GP:59", 1)), count=1, at=[("PCN1", 2)]),
    fail("M205::fail_gp_before_cq", claim(ln("97110:GP:CQ", 1))),
    fail("M205::fail_kx_before_gp", claim(ln("97110:KX:GP", 1))),
    fail("M205::fail_anatomic_before_discipline", claim(ln("97140:RT:GP", 1))),
    fail("M205::fail_gp_first_profile_wants_gp_first", claim(ln("97140:GP", 1), ln("97530:59:GP", 1)), config=GP_FIRST),
    ok("M205::pass_conventional_order", claim(ln("97140:GP", 1), ln("97530:59:GP", 1), ln("97110:CQ:GP:KX", 1)), clean=True),
    ok("M205::pass_profile_without_order", claim(ln("97140:GP", 1), ln("97530:GP:59", 1)), config=NO_ORDER, clean=True),
    ok("M205::pass_gp_first_profile", claim(ln("97140:GP", 1), ln("97530:GP:59", 1)), config=GP_FIRST, clean=True),
    ok("M205::pass_single_modifier", claim(ln("97110:GP", 1)), clean=True),
    # Medicare sets no order (reference 4.5: no CMS instruction fixes it); Medicaid's profile keeps conventional
    fail("M205::fail_medicaid_profile_has_an_order", claim(ln("97140:GP", 1), ln("97530:GP:59", 1), filing="MC"),
         count=1, at=[("PCN1", 2)]),
    ok("M205::pass_medicare_sets_no_order",
       claim(ln("97140:GP:KX", 1), ln("97530:GP:59:KX", 1), ln("97110:GP:CQ:KX", 1), ln("97112:KX:GP", 1), filing="MB"),
       clean=True),
    fail("M205::fail_medicare_with_a_configured_order", claim(ln("97140:GP", 1), ln("97530:GP:59", 1), filing="MB"),
         config='[profiles.medicare]\nmodifier_order = "conventional"\n'),

    # -- M206: a modifier twice ------------------------------------------------------------------
    fail("M206::fail_gp_twice", claim(ln("97110:GP:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("M206::fail_59_twice", claim(ln("97140:GP", 1), ln("97530:59:59:GP", 1)), at=[("PCN1", 2)]),
    ok("M206::pass_distinct_modifiers", claim(ln("97110:CQ:GP:KX", 1)), clean=True),

    # -- M207: CQ/CO on an SLP line --------------------------------------------------------------
    fail("M207::fail_cq_with_gn", claim(ln("92507:CQ:GN", 1)), count=1, at=[("PCN1", 1)]),
    fail("M207::fail_co_with_gn", claim(ln("92526:CO:GN", 1))),
    ok("M207::pass_gn_alone", claim(ln("92507:GN", 1), taxonomy=SLP), clean=True),
    ok("M207::pass_cq_with_gp", claim(ln("97110:CQ:GP", 1)), clean=True),

    # -- M208: 59 only to repeat the same code ---------------------------------------------------
    fail("M208::fail_59_on_a_repeat", claim(ln("97110:GP", 1), ln("97110:59:GP", 1)),
         count=1, at=[("PCN1", 2)], also=["U105"]),
    fail("M208::fail_xu_on_a_repeated_evaluation", claim(ln("97161:GP", 1), ln("97161:XU:GP", 1)), also=["U108"]),
    ok("M208::pass_59_with_a_ptp_partner",
       claim(ln("97140:GP", 1), ln("97530:59:GP", 1), ln("97530:GP", 1, "20260106")), clean=True),
    ok("M208::pass_repeat_on_another_date", claim(ln("97110:GP", 1, D1), ln("97110:59:GP", 1, "20260106")),
       also=["N304"]),

    # -- M209: discipline contradicts the code ---------------------------------------------------
    fail("M209::fail_go_on_pt_evaluation", claim(ln("97161:GO", 1)), count=1, at=[("PCN1", 1)]),
    fail("M209::fail_gp_on_slp_treatment", claim(ln("92507:GP", 1))),
    ok("M209::pass_gp_on_pt_evaluation", claim(ln("97161:GP", 1)), clean=True),
    ok("M209::pass_shared_code_any_discipline", claim(ln("97110:GO", 1), ln("97530:GN", 1, "20260106", npi="2222222222"), taxonomy=OT),
       clean=True),
    # swallowing (92526 treatment, 92610 evaluation) is furnished by SLPs and OTs: GN or GO, not GP
    fail("M209::fail_gp_on_swallowing_treatment", claim(ln("92526:GP", 1)), count=1, at=[("PCN1", 1)]),
    fail("M209::fail_gp_on_swallowing_evaluation", claim(ln("92610:GP", 1)), count=1),
    ok("M209::pass_go_on_swallowing_codes", claim(ln("92610:GO", 1), ln("92526:GO", 1, "20260106"), taxonomy=OT), clean=True),
    ok("M209::pass_gn_on_swallowing_codes", claim(ln("92610:GN", 1), ln("92526:GN", 1, "20260106"), taxonomy=SLP), clean=True),

    # -- M210: one therapist, two disciplines --------------------------------------------------------
    fail("M210::fail_go_among_a_therapists_gp_lines", claim(ln("97110:GP", 1), ln("97140:GP", 1), ln("97530:GO", 1)),
         count=1, at=[("PCN1", 3)]),
    fail("M210::fail_line_rendering_provider_of_their_own",
         claim(ln("97110:GP", 1), ln("97530:GO", 1, npi="2222222222"), ln("97535:GP", 1, npi="2222222222"),
               ln("97112:GP", 1, npi="2222222222")), count=1, at=[("PCN1", 2)]),
    ok("M210::pass_pt_and_ot_therapists_on_one_claim",
       claim(ln("97110:GP", 1), ln("97530:GO", 1, npi="2222222222")), clean=True),
    ok("M210::pass_group_billing_without_rendering_provider",
       claim(ln("97110:GP", 1), ln("97530:GO", 1), rendering=None), clean=True),
    ok("M210::pass_one_discipline", claim(ln("97110:GP", 1), ln("97140:GP", 1)), clean=True),

    # -- M213: CQ/CO on an evaluation (issue 10, expert review F13) ----------------------------------
    fail("M213::fail_cq_on_pt_evaluation", claim(ln("97161:CQ:GP", 1)), count=1, at=[("PCN1", 1)], severity="error"),
    fail("M213::fail_co_on_ot_re_evaluation", claim(ln("97168:CO:GO", 1)), count=1, severity="error"),
    fail("M213::fail_cq_on_pt_re_evaluation_beside_treatment",
         claim(ln("97110:CQ:GP", 2), ln("97164:CQ:GP", 1)), count=1, at=[("PCN1", 2)]),
    ok("M213::pass_evaluation_by_the_therapist", claim(ln("97163:GP", 1), ln("97110:CQ:GP", 2)), clean=True),
    ok("M213::pass_cq_on_treatment", claim(ln("97110:CQ:GP", 1)), clean=True),

    # -- M211: GA with GZ (issue 10, expert review F12) ----------------------------------------------
    fail("M211::fail_ga_with_gz", claim(ln("97110:GP:GA:GZ", 1)), count=1, at=[("PCN1", 1)], severity="error"),
    fail("M211::fail_gz_before_ga", claim(ln("97530:GZ:GA:GP", 1)), count=1),
    ok("M211::pass_ga_alone", claim(ln("97110:GP:GA", 1)), clean=True),
    ok("M211::pass_gz_alone", claim(ln("97110:GP:GZ", 1)), clean=True),
    ok("M211::pass_ga_and_gz_on_different_lines", claim(ln("97110:GP:GA", 1), ln("97530:GP:GZ", 1)), clean=True),

    # -- M212: KX with GA ------------------------------------------------------------------------------
    fail("M212::fail_kx_with_ga", claim(ln("97110:GP:KX:GA", 1)), count=1, at=[("PCN1", 1)], severity="warning"),
    ok("M212::pass_kx_alone", claim(ln("97110:GP:KX", 1)), clean=True),
    ok("M212::pass_kx_and_ga_on_different_lines", claim(ln("97110:GP:KX", 1), ln("97112:GP:GA", 1)), clean=True),
    ok("M212::pass_ga_with_gz_is_m211", claim(ln("97110:GP:GA:GZ", 1)), also=["M211"]),

    # -- M214: CH-CN severity modifiers after functional reporting ended (2019-01-01) ------------------
    fail("M214::fail_severity_modifier_in_2026", claim(ln("97110:GP:CJ", 1)), count=1, at=[("PCN1", 1)],
         severity="warning"),
    fail("M214::fail_on_the_retirement_date", claim(ln("97110:GP:CN", 1, "20190101")), count=1),
    ok("M214::pass_before_2019", claim(ln("97110:GP:CJ", 1, "20181231")), clean=True),
    ok("M214::pass_no_severity_modifier", claim(ln("97110:GP", 1)), clean=True),

    # -- M215: GT on an 837P from 2018 (issue 10, expert review F14) ------------------------------------
    fail("M215::fail_gt_on_professional_line", claim(ln("97110:GP:GT", 2), ln("97530:GP", 1)), count=1,
         at=[("PCN1", 1)], severity="warning"),
    fail("M215::fail_gt_on_first_day_of_2018", claim(ln("97110:GT:GP", 1, "20180101")), count=1),
    ok("M215::pass_gt_in_2017", claim(ln("97110:GP:GT", 1, "20171229")), clean=True),
    ok("M215::pass_95_on_professional_line", claim(ln("97110:GP:95", 1), pos="10"), clean=True),

    # -- M216: POS 02/10 and 95/93 agree (issue 10, expert review F14) ------------------------------------
    fail("M216::fail_95_with_office_pos", claim(ln("97110:GP:95", 2)), count=1, at=[("PCN1", 1)], severity="warning"),
    fail("M216::fail_pos_10_without_modifier", claim(ln("97110:GP", 2), ln("97530:GP:95", 1), pos="10"), count=1,
         at=[("PCN1", 1)]),
    fail("M216::fail_line_pos_02_overrides_office_claim", claim(ln("97110:GP", 1), ln("97112:GP", 1, pos="02")),
         count=1, at=[("PCN1", 2)]),
    fail("M216::fail_93_at_office_line_of_telehealth_claim", claim(ln("92507:GN:93", 1, pos="11"), pos="02"), count=1),
    ok("M216::pass_95_with_pos_10", claim(ln("97110:GP:95", 2), ln("97530:GP:95", 1), pos="10"), clean=True),
    ok("M216::pass_93_with_pos_02", claim(ln("92507:GN:93", 1), pos="02", taxonomy=SLP), clean=True),
    ok("M216::pass_office_visit", claim(ln("97110:GP", 2), ln("97140:GP", 1)), clean=True),
    # GT is M215's finding, not a missing telehealth modifier
    ok("M216::pass_gt_with_pos_02_is_m215", claim(ln("97110:GP:GT", 1), pos="02"), also=["M215"]),

    # -- M220: an assistant's taxonomy as the Medicare rendering provider (issue 10, expert review F13) ---------------
    fail("M220::fail_pta_as_claim_rendering_provider", claim(ln("97110:CQ:GP", 2), ln("97530:GP", 1), filing="MB",
                                                             taxonomy=PTA), count=1, at=[("PCN1", None)], severity="error"),
    fail("M220::fail_ota_specialty_on_a_line", claim(ln("97530:GO", 1), ln("97535:CO:GO", 1, npi="2222222222",
                                                                            taxonomy="224ZF0002X"), filing="MB",
                                                     taxonomy=OT), count=1, at=[("PCN1", 2)]),
    fail("M220::fail_pta_billing_provider_rendering_without_2310b",
         data=x12(claim(ln("97110:GP", 2), filing="MB", rendering=None)).replace(b"NM1*85*2*TEST CLINIC",
                                                                                  b"PRV*BI*PXC*225200000X~\nNM1*85*2*TEST CLINIC"),
         count=1, at=[("PCN1", None)]),
    ok("M220::pass_therapist_renders_assistant_lines", claim(ln("97110:CQ:GP", 2), ln("97530:GP", 1), filing="MB"),
       clean=True),
    # commercial and Medicaid plans may credential assistants: the rule speaks for medicare-coverage profiles only
    ok("M220::pass_pta_rendering_for_a_commercial_payer", claim(ln("97110:GP", 2), taxonomy=PTA), clean=True),
    ok("M220::pass_pta_on_a_line_without_discipline", claim(ln("99213", 1), filing="MB", taxonomy=PTA), clean=True),

    # -- M221: the rendering taxonomy contradicts GP/GO/GN (issue 10, expert review F13) ------------------------------
    fail("M221::fail_ot_taxonomy_on_gp_lines", claim(ln("97110:GP", 2), ln("97140:GP", 1), taxonomy=OT), count=2,
         at=[("PCN1", 1), ("PCN1", 2)], severity="warning"),
    fail("M221::fail_pt_taxonomy_on_a_go_line", claim(ln("97530:GO", 1)), count=1, at=[("PCN1", 1)]),
    fail("M221::fail_slp_on_gp_and_go_lines", claim(ln("97110:GP", 1), ln("97535:GO", 1), taxonomy=SLP), count=2,
         also=["M210"]),
    fail("M221::fail_slp_taxonomy_on_go_swallowing_line", claim(ln("92526:GO", 1), taxonomy=SLP), count=1),
    fail("M221::fail_line_rendering_provider_of_another_discipline",
         claim(ln("97110:GP", 1), ln("97530:GP", 1, npi="2222222222", taxonomy=OT)), count=1, at=[("PCN1", 2)]),
    # issue 10's correct complex claim: PT + PTA + OT + OTA + SLP on one Medicare claim, 59 and KX on every line
    # that needs them; each therapist renders their own lines, the assistants' work is CQ/CO under them
    ok("M221::pass_pt_pta_ot_slp_on_one_medicare_claim",
       claim(ln("97140:GP:KX", 1), ln("97530:59:GP:KX", 1), ln("97110:CQ:GP:KX", 2),
             ln("97530:GO:KX", 1, npi="2222222222", taxonomy=OT), ln("97535:CO:GO:KX", 1, npi="2222222222", taxonomy=OT),
             ln("92507:GN:KX", 1, npi="3333333333", taxonomy=SLP), filing="MB"), clean=True),
    ok("M221::pass_each_line_by_its_own_discipline",
       claim(ln("97110:GP", 1), ln("97530:GO", 1, npi="2222222222", taxonomy=OT),
             ln("92507:GN", 1, npi="3333333333", taxonomy=SLP)), clean=True),
    ok("M221::pass_ota_on_go_lines", claim(ln("97530:CO:GO", 2), taxonomy=OTA), clean=True),
    # a 2420A provider without a PRV has no taxonomy: the claim's 2310B taxonomy is someone else's
    ok("M221::pass_line_provider_without_prv", claim(ln("97110:GP", 1), ln("97530:GO", 1, npi="2222222222")),
       clean=True),
    ok("M221::pass_non_therapy_taxonomy", claim(ln("97110:GP", 1), ln("97530:GO", 1), taxonomy="208100000X"),
       also=["M210"]),

    # -- M222: telehealth not payable by Medicare on the date (issue 10, expert review F14; maps/places.xml) ----------
    fail("M222::fail_manual_therapy_is_not_on_the_list", claim(ln("97110:GP:95", 2), ln("97140:GP:95", 1), pos="10",
                                                               filing="MB"), count=1, at=[("PCN1", 2)],
         severity="warning"),
    fail("M222::fail_office_pos_with_95_not_on_the_list", claim(ln("97140:GP:95", 1), filing="MB"), count=1,
         also=["M216"]),
    fail("M222::fail_before_therapists_could_furnish_telehealth", claim(ln("97110:GP:95", 1, "20191202"), pos="02",
                                                                        filing="MB"), count=1, severity="warning"),
    fail("M222::fail_after_the_last_extension_on_file", claim(ln("97110:GP:95", 1, "20280103"), pos="10", filing="MB"),
         count=1),
    fail("M222::fail_caregiver_training_before_it_was_listed", claim(ln("97550:GO:95", 1, "20240610"), pos="10",
                                                                     filing="MB", taxonomy=OT), count=1),
    # the 2025 shutdown lapse was restored retroactively by H.R. 5371: payable, so info only
    fail("M222::fail_in_the_restored_2025_lapse_is_info", claim(ln("97110:GP:95", 1, "20251015"), pos="10", filing="MB"),
         count=1, severity="info"),
    ok("M222::pass_listed_code_by_telehealth", claim(ln("97110:GP:95", 2), ln("97530:GP:95", 1), pos="10", filing="MB"),
       clean=True),
    ok("M222::pass_caregiver_training_from_2025", claim(ln("97550:GO:95", 1, "20250610"), pos="10", filing="MB",
                                                        taxonomy=OT), clean=True),
    ok("M222::pass_manual_therapy_for_a_commercial_payer", claim(ln("97140:GP:95", 1), pos="10"), clean=True),
    ok("M222::pass_manual_therapy_in_the_office", claim(ln("97140:GP", 1), filing="MB"), clean=True),
    # a code the map does not name is not judged: the list changes every year
    fail("M222::fail_audio_only_fq_manual_therapy", claim(ln("97140:GP:FQ", 1), pos="10", filing="MB"), count=1),
    ok("M216::pass_fq_with_pos_10", claim(ln("97110:GP:FQ", 1), pos="10", filing="MB"), clean=True),
    fail("M216::fail_fq_with_office_pos", claim(ln("97110:GP:FQ", 1)), count=1),
    ok("M222::pass_code_the_map_does_not_judge", claim(ln("97129:GP:95", 1), pos="10", filing="MB"), clean=True),

    # -- M223: POS 19/22 on a professional therapy claim (issue 10, expert review F14) ---------------------------------
    fail("M223::fail_on_campus_hospital_outpatient", claim(ln("97110:GP", 2), ln("97140:GP", 1), pos="22", filing="MB"),
         count=1, at=[("PCN1", None)], severity="warning"),
    fail("M223::fail_off_campus_line", claim(ln("97110:GP", 2), ln("97530:GP", 1, pos="19"), filing="MB"), count=1,
         at=[("PCN1", 2)]),
    ok("M223::pass_office", claim(ln("97110:GP", 2), filing="MB"), clean=True),
    ok("M223::pass_commercial_payer", claim(ln("97110:GP", 2), pos="22"), clean=True),
    # a physician's service in the hospital outpatient department is billed on the 837P with POS 22
    ok("M223::pass_non_therapy_line", claim(ln("99213", 1), pos="22", filing="MB"), clean=True),

    # -- M224: POS 31/32, SNF consolidated billing risk (issue 10, expert review F14) ----------------------------------
    fail("M224::fail_skilled_nursing_facility", claim(ln("97110:GP", 2), ln("97530:GP", 1), pos="31", filing="MB"),
         count=1, at=[("PCN1", None)], severity="warning"),
    fail("M224::fail_nursing_facility_line", claim(ln("97110:GP", 1), ln("97535:GP", 1, pos="32"), pos="12",
                                                   filing="MB"), count=1, at=[("PCN1", 2)]),
    ok("M224::pass_home", claim(ln("97110:GP", 2), pos="12", filing="MB"), clean=True),
    ok("M224::pass_medicaid_nursing_facility", claim(ln("97110:GP", 2), pos="31", filing="MC"), clean=True),
    # the payer profile's telehealth_marking decides the disputed point (docs/disputed-points.md)
    ok("M216::pass_pos_only_payer_takes_pos_10_alone", claim(ln("97110:GP", 2), pos="10"), config=TELEHEALTH_POS_ONLY,
       clean=True),
    fail("M216::fail_pos_only_payer_95_with_office_pos", claim(ln("97110:GP:95", 2)), config=TELEHEALTH_POS_ONLY,
         count=1, at=[("PCN1", 1)], severity="warning"),
    ok("M216::pass_modifier_payer_95_with_office_pos", claim(ln("97110:GP:95", 2)), config=TELEHEALTH_MODIFIER,
       clean=True),
    fail("M216::fail_modifier_payer_pos_02_without_modifier", claim(ln("92507:GN", 1), pos="02"),
         config=TELEHEALTH_MODIFIER, count=1, at=[("PCN1", 1)]),
    ok("M216::pass_payer_without_telehealth_check", claim(ln("97110:GP:95", 1), ln("97530:GP", 1, pos="10")),
       config='[profiles.default]\ntelehealth_marking = "none"\n', clean=True),
    fail("M216::fail_medicare_wants_pos_and_modifier", claim(ln("97110:GP", 2), pos="10", filing="MB"), count=1),
    ok("M216::pass_medicare_configured_pos_only", claim(ln("97110:GP", 2), pos="10", filing="MB"),
       config='[profiles.medicare]\ntelehealth_marking = "pos"\n', clean=True),

    # -- M217: KX on some lines of a threshold bucket, not others, on one claim and date (Medicare) -----------
    fail("M217::fail_kx_on_one_of_two_pt_lines", claim(ln("97110:GP:KX", 2), ln("97140:GP", 1), filing="MB"),
         count=1, at=[("PCN1", 2)], severity="warning"),
    fail("M217::fail_gp_and_gn_share_a_bucket",
         claim(ln("97110:GP:KX", 2), ln("92507:GN", 1, npi="2222222222"), filing="MB"), count=1, at=[("PCN1", 2)]),
    fail("M217::fail_ot_lines_half_kx",
         claim(ln("97530:GO:KX", 2), ln("97535:GO", 1), ln("97110:GO:KX", 1), filing="MB"), count=1, at=[("PCN1", 2)]),
    ok("M217::pass_kx_on_every_line", claim(ln("97110:GP:KX", 2), ln("97140:GP:KX", 1), ln("97530:59:GP:KX", 1),
       filing="MB"), clean=True),
    ok("M217::pass_ot_bucket_is_separate",
       claim(ln("97110:GP:KX", 2), ln("97530:GO", 1, npi="2222222222"), filing="MB"), clean=True),
    ok("M217::pass_threshold_crossed_between_dates",
       claim(ln("97110:GP", 2, D1), ln("97110:GP:KX", 2, D2), filing="MB"), clean=True),
    ok("M217::pass_abn_line_beside_kx_lines", claim(ln("97110:GP:KX", 2), ln("97140:GP:GA", 1), filing="MB"), clean=True),
    ok("M217::pass_payer_without_threshold", claim(ln("97110:GP:KX", 2), ln("97140:GP", 1), filing="CI"), clean=True),
    # the correct complex claims of issue 10's done-when: nothing at all fires on them
    ok("M217::pass_complex_medicare_59_and_kx_on_every_line",
       claim(ln("97110:GP:KX", 2), ln("97140:GP:KX", 1), ln("97530:59:GP:KX", 1), filing="MB"),
       minutes=mins(("PCN1", 1, 30, "97110", D1, "0900-0930"), ("PCN1", 2, 15, "97140", D1, "0930-0945"),
                    ("PCN1", 3, 15, "97530", D1, "0945-1000")), clean=True),
    ok("M217::pass_complex_per_code_commercial_xu_gp_first",
       claim(ln("97140:GP", 1), ln("97530:GP:XU", 1), payer_id="ACME1"),
       minutes=mins(("PCN1", 1, 10, "97140", D1, "A"), ("PCN1", 2, 12, "97530", D1, "B")),
       config='[profiles.acme]\npayer_ids = ["ACME1"]\nunit_method = "per-code"\nncci_modifier = "XU"\n'
              'modifier_order = "gp-first"\n', clean=True),
    ok("M217::pass_complex_pt_pta_ot_slp_on_one_medicare_claim",
       claim(ln("97110:GP", 1), ln("97110:CQ:GP", 2), ln("97530:GO", 1, npi="2222222222"),
             ln("92507:GN", 1, npi="3333333333"), filing="MB"),
       minutes=mins(("PCN1", 1, 20, "97110", D1, "", "therapist"), ("PCN1", 2, 18, "97110", D1, "", "assistant"),
                    ("PCN1", 3, 15, "97530", D1, "", ""),
                    header="claim_id,line,minutes,procedure,service_date,time_block,clinician"), clean=True),
    fail("M217::fail_config_profile_applying_the_threshold", claim(ln("97110:GP:KX", 2), ln("97140:GP", 1)),
         config='[profiles.default]\ntherapy_threshold = true\n', count=1),
]
