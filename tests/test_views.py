"""837P claim/line views and 835 payment views, on generated files and public samples.

Generated files come with their plan (``edi_rehab.synth``), so every field a view reads can
be checked against what was written. The public samples (skipped when absent) pin the
views to files nobody here wrote.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from conftest import FIXTURES, sample
from edi_rehab.claims import read_claims
from edi_rehab.remits import read_remittance
from edi_rehab.synth import Defect, LineOutcome, SynthSpec, generate_835, generate_837p
from edi_rehab.x12 import parse


def claims_of(data: bytes):
    return [claim for tx in parse(data).transactions() if tx.set_id == "837" for claim in read_claims(tx)]


def remits_of(data: bytes):
    return [read_remittance(tx) for tx in parse(data).transactions() if tx.set_id == "835"]


# -- 837P views on generated files --------------------------------------------------------

GENERATED = generate_837p(
    SynthSpec(
        seed=21,
        claims=10,
        lines_per_claim=(1, 5),
        dates_per_claim=(1, 3),
        disciplines=("PT", "OT", "SLP"),
        filing_indicators=("MB", "MC", "CI"),
        patient_share=0.5,
        rendering_share=0.5,
        line_rendering_share=0.3,
        assistant_share=0.3,
        minutes_notes=True,
        claims_per_transaction=4,
        delimiters="|>^\n",
    )
)


def test_claim_views_read_what_was_written():
    views = claims_of(GENERATED.data)
    assert len(views) == len(GENERATED.claims)
    for view, plan in zip(views, GENERATED.claims):
        assert view.claim_id == plan.claim_id
        assert view.charge == plan.charge and view.charge_raw == str(plan.charge)
        assert (view.place_of_service, view.facility_qualifier, view.frequency_code) == ("11", "B", "1")
        assert view.filing_indicator == plan.filing_indicator
        assert (view.payer.name, view.payer_id) == (plan.payer_name, plan.payer_id)
        assert view.subscriber.id == plan.subscriber_id
        assert view.billing_provider.id == plan.billing_npi
        assert view.billing_taxonomy == plan.billing_taxonomy
        assert view.claim_rendering_npi == plan.rendering_npi
        if plan.patient_name:
            assert (view.patient.last_name, view.patient.first_name) == plan.patient_name
            assert view.patient_hl_index is not None
        else:
            assert view.patient is None and view.patient_hl_index is None
        assert not view.has_cob and view.warnings == []
        assert view.position() == view.transaction.first_position + view.index
        for line, planned in zip(view.lines, plan.lines, strict=True):
            assert (line.lx, line.qualifier, line.procedure) == (planned.lx, "HC", planned.procedure)
            assert line.modifiers == planned.modifiers
            assert line.charge == planned.charge
            assert (line.unit_basis, line.units) == (planned.unit_basis, planned.units)
            assert line.date_of_service == planned.service_date
            assert line.service_date.qualifier == "D8" and not line.service_date.is_range
            assert line.control_number == planned.control_number
            assert line.diagnosis_pointers == tuple(str(p) for p in planned.diagnosis_pointers)
            assert list(line.notes) == ([planned.note] if planned.note else [])
            assert line.line_rendering_npi == planned.rendering_npi
            assert view.transaction.texts[line.index].startswith(b"LX|")
            assert view.transaction.texts[line.sv1_index].startswith(b"SV1|")


def test_rendering_precedence_on_generated_claims():
    """2420A beats 2310B, which beats the billing provider."""
    seen = set()
    for view, plan in zip(claims_of(GENERATED.data), GENERATED.claims):
        for line, planned in zip(view.lines, plan.lines):
            npi, _ = view.line_rendering(line)
            expected = planned.rendering_npi or plan.rendering_npi or plan.billing_npi
            assert npi == expected
            seen.add("2420A" if planned.rendering_npi else "2310B" if plan.rendering_npi else "billing")
    assert seen == {"2420A", "2310B", "billing"}


PRECEDENCE = b"".join(
    part + b"~"
    for part in [
        b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000001*0*T*:",
        b"GS*HC*SENDER*RECEIVER*20260101*1200*1*X*005010X222A1",
        b"ST*837*0001*005010X222A1",
        b"BHT*0019*00*1*20260101*1200*CH",
        b"HL*1**20*1",
        b"PRV*BI*PXC*225100000X",
        b"NM1*85*2*SYNTHETIC PHYSICAL THERAPY*****XX*1234567893",
        b"HL*2*1*22*0",
        b"SBR*P*18*******MB",
        b"NM1*IL*1*PATIENT0001*TEST****MI*SYN000001",
        b"NM1*PR*2*SYNTHETIC MEDICARE*****PI*SYNMB0001",
        b"CLM*PCN1*100***11:B:1*Y*A*Y*Y",
        b"HI*ABK:M5450",
        b"NM1*82*1*THERAPIST0001*TEST****XX*1245319599",
        b"PRV*PE*PXC*2251X0800X",
        b"LX*1",
        b"SV1*HC:97110:GP*48*UN*1***1",
        b"DTP*472*D8*20260105",
        b"LX*2",
        b"SV1*HC:97112:GP*52*UN*1***1",
        b"DTP*472*D8*20260105",
        b"NM1*82*1*THERAPIST0002*TEST****XX*1679576722",
        b"PRV*PE*PXC*2251E1300X",
        b"CLM*PCN2*48***11:B:1*Y*A*Y*Y",
        b"HI*ABK:M5450",
        b"LX*1",
        b"SV1*HC:97110:GP*48*UN*1***1",
        b"DTP*472*RD8*20260105-20260109",
        b"SE*27*0001",
        b"GE*1*1",
        b"IEA*1*000000001",
    ]
)


def test_line_rendering_overrides_claim_rendering_overrides_billing():
    first, second = claims_of(PRECEDENCE)
    assert first.line_rendering(first.lines[0]) == ("1245319599", "2251X0800X")
    assert first.line_rendering(first.lines[1]) == ("1679576722", "2251E1300X")
    assert (first.rendering_npi, first.rendering_taxonomy) == ("1245319599", "2251X0800X")
    assert second.line_rendering(second.lines[0]) == ("1234567893", "225100000X")
    assert parse(PRECEDENCE).warnings == []


def test_rd8_service_date_is_a_range():
    _, second = claims_of(PRECEDENCE)
    service_date = second.lines[0].service_date
    assert (service_date.qualifier, service_date.start, service_date.end) == ("RD8", date(2026, 1, 5), date(2026, 1, 9))
    assert service_date.is_range and second.lines[0].date_of_service == date(2026, 1, 5)


def test_line_without_dtp472_warns_missing_service_date():
    generated = generate_837p(seed=3, claims=2, lines_per_claim=(3, 3), defects=(Defect("missing-service-date", 2, 2),))
    clean, broken = claims_of(generated.data)
    assert clean.warnings == []
    [warning] = broken.warnings
    line = broken.lines[1]
    assert warning.kind == "missing-service-date"
    assert warning.segment == broken.position(line.sv1_index)
    assert line.service_date is None and line.date_of_service is None and line.dtp_index is None
    assert all(other.service_date is not None for other in (broken.lines[0], broken.lines[2]))


def test_views_point_at_segments_a_fix_can_splice():
    view = claims_of((FIXTURES / "sample-837p.x12").read_bytes())[1]
    segment = view.transaction.segment(view.lines[1].sv1_index)
    assert segment.id == "SV1" and segment.element(1) == "HC:97530:GP"
    data = (FIXTURES / "sample-837p.x12").read_bytes()
    start, end = segment.element_span(1)
    assert data[start:end] == b"HC:97530:GP"


# -- 837P views on public samples ---------------------------------------------------------

COB_SAMPLES = [
    ("837p_stupidedi_COB-claim-from-billing-provider-to-payer-a.edi", True),
    ("837p_stupidedi_COB-claim-from-billing-provider-to-payer-b.edi", True),
    ("837p_stupidedi_COB-claim-from-payer-a-to-payer-b-in-payer-to-payer.edi", True),
    ("837p_stupidedi_medicare-secondary-payer-COB.edi", True),
    ("837p_stupidedi_commercial-health-insurance.edi", False),
    ("837p_stupidedi_chiropractic.edi", False),
]


@pytest.mark.parametrize(("name", "has_cob"), COB_SAMPLES, ids=[c[0] for c in COB_SAMPLES])
def test_cob_samples(name, has_cob):
    claims = claims_of(sample(name))
    assert claims and all(claim.has_cob is has_cob for claim in claims)


def test_chiropractic_sample_line():
    [claim] = claims_of(sample("837p_stupidedi_chiropractic.edi"))
    assert (claim.claim_id, claim.charge, claim.filing_indicator) == ("125WILL", Decimal("145.5"), "MB")
    [line] = claim.lines
    assert (line.procedure, line.charge, line.unit_basis, line.units) == ("98940", Decimal("145.5"), "UN", 1)
    assert line.control_number == "01"
    assert line.date_of_service == date(2005, 2, 15)
    assert line.diagnosis_pointers == ("1",)
    # no 2310B: the billing provider renders
    assert claim.line_rendering(line) == ("1234567890", "")


def test_anesthesia_sample_reports_minutes():
    [claim] = claims_of(sample("837p_stupidedi_anesthesia.edi"))
    [line] = claim.lines
    assert (line.procedure, line.modifiers) == ("00142", ("QK", "QS", "P1"))
    assert (line.unit_basis, line.units, line.units_raw) == ("MJ", Decimal(61), "61")
    assert claim.line_rendering(line) == ("5678912345", "207L00000X")
    assert claim.billing_provider.id == "2366554859"


def test_commercial_sample_lines_and_pointers():
    [claim] = claims_of(sample("837p_stupidedi_commercial-health-insurance.edi"))
    assert [line.procedure for line in claim.lines] == ["99213", "87070", "99214", "86663"]
    assert [line.diagnosis_pointers for line in claim.lines] == [("1",), ("1",), ("2",), ("2",)]
    assert claim.charge == sum(line.charge for line in claim.lines)
    assert claim.line_rendering(claim.lines[0]) == ("9876543210", "203BF0100Y")


def test_different_separators_sample():
    claims = claims_of(sample("837p_imsweb_different_separators.txt"))
    assert [claim.claim_id for claim in claims] == ["A37YH556", "A37YH667"]
    assert claims[0].lines[0].procedure == "99211"


# -- 835 views ----------------------------------------------------------------------------


def test_remittance_views_read_what_was_written():
    generated = generate_837p(seed=8, claims=4, lines_per_claim=(2, 3), defects=(Defect("units-over-minutes", 2, 1),))
    remit = generate_835(
        generated,
        reversals=(3,),
        outcomes={(1, 2): "co-236", (4, 1): LineOutcome("oa-18", omit_6r=True)},
        provider_adjustments=(("L6", "-2.5"),),
    )
    [view] = remits_of(remit.data)
    assert view.payer_name == generated.claims[0].payer_name
    assert view.payee_id == generated.claims[0].billing_npi
    assert view.total_paid == remit.totals[0]
    assert view.handling_code == "I" and view.payment_method == "CHK"
    [plb] = view.provider_adjustments
    assert (plb.reason, plb.reference, plb.amount) == ("L6", "SYNPLB0001", Decimal("-2.5"))
    assert [c.claim_id for c in view.claims] == [c.claim_id for c in remit.claims]
    for claim, written in zip(view.claims, remit.claims, strict=True):
        assert (claim.status, claim.charge, claim.paid) == (written.status, written.charge, written.paid)
        assert claim.payer_claim_number == written.payer_claim_number
        assert claim.is_reversal == written.is_reversal
        assert (claim.patient_responsibility or Decimal(0)) == written.patient_responsibility
        for service, line in zip(claim.services, written.lines, strict=True):
            assert (service.procedure, service.modifiers) == (line.procedure, line.modifiers)
            assert (service.charge, service.paid) == (line.charge, line.paid)
            assert [(a.group, a.reason, a.amount) for a in service.adjustments] == list(line.adjustments)
            assert service.remarks == list(line.remarks)
            assert service.control_number == line.control_number
            assert (service.allowed or Decimal(0)) == line.allowed
            assert (service.units_paid if service.units_paid is not None else 1) == line.units_paid
            assert service.original_units == line.original_units
    planned = {(c.claim_id, l.lx): l for c in generated.claims for l in c.lines}
    for claim in view.claims:
        for service in claim.services:
            if service.control_number:
                claim_id, lx = service.control_number.rsplit("-", 1)
                assert service.service_date == planned[(claim_id, int(lx))].service_date
                assert service.dates == (service.service_date, service.service_date)


def test_835_sample_fixture_matches_the_837_by_ref_6r():
    claims = claims_of((FIXTURES / "sample-837p.x12").read_bytes())
    lines = {line.control_number: line for claim in claims for line in claim.lines}
    services = [s for r in remits_of((FIXTURES / "sample-835.x12").read_bytes()) for c in r.claims for s in c.services]
    assert services and all(s.control_number in lines for s in services)
    for service in services:
        line = lines[service.control_number]
        assert (service.submitted_procedure, service.submitted_modifiers) == (line.procedure, line.modifiers)
        assert service.submitted_units == line.units
        assert service.charge == line.charge


def test_835_variants_fixture_exercises_the_matching_fallbacks():
    remit = [c for r in remits_of((FIXTURES / "sample-835-variants.x12").read_bytes()) for c in r.claims]
    assert [c.claim_id for c in remit if c.is_reversal] == ["PCN000001"]
    services = [s for c in remit for s in c.services]
    split = [s for s in services if "N123" in s.remarks]
    assert len(split) == 2 and len({s.control_number for s in split}) == 1
    assert any(s.procedure == "97010" and s.submitted_procedure == "97035" for s in services)
    assert any(s.control_number == "" for s in services)
    assert any(s.modifiers == ("59", "GP") for s in services)  # echoed reordered, no SVC06


def test_era_sample_cas_triplets():
    [remit] = remits_of(sample("835_stupidedi_era-sample.edi"))
    assert (remit.total_paid, remit.payment_date, remit.trace_number) == (Decimal(132), date(2014, 3, 31), "12345")
    [claim] = remit.claims
    assert (claim.claim_id, claim.status, claim.charge, claim.paid) == ("7722337", "1", Decimal(226), Decimal(132))
    assert claim.patient == "DOE, SALLY"
    triplets = [[(a.group, a.reason, a.amount) for a in s.adjustments] for s in claim.services]
    assert triplets == [[("CO", "131", Decimal(n))] for n in (21, 11, 12, 26, 24)]
    assert [s.allowed for s in claim.services] == [Decimal(n) for n in (25, 14, 10, 34, 49)]
    assert all(s.service_date == date(2014, 3, 24) for s in claim.services)
    assert [s.qualifier for s in claim.services] == ["AD"] * 5


def test_pyx12_sample_lq_remarks():
    [remit] = remits_of(sample("835_pyx12_mult_loops.txt"))
    [claim] = remit.claims
    assert claim.status == "4"
    assert [s.remarks for s in claim.services][:2] == [["N14"], ["N14"]]
    assert [(a.group, a.reason) for a in claim.services[0].adjustments] == [("CO", "16")]


def test_moa_remarks_and_plb():
    [remit] = remits_of(sample("835_stupidedi_dollars-and-data-sent-together.edi"))
    assert [c.remarks for c in remit.claims] == [[], ["MA02"]]
    [plb] = remit.provider_adjustments
    assert (plb.provider, plb.fiscal_date, plb.reason, plb.reference, plb.amount) == (
        "6543210903", date(2002, 12, 31), "CV", "CP", Decimal("-1.27"),
    )


@pytest.mark.parametrize(
    "name",
    [
        "835_lfh_managed_care.835",
        "835_pyx12_mult_loops.txt",
        "835_stupidedi_dollars-and-data-sent-separate.edi",
        "835_stupidedi_dollars-and-data-sent-together.edi",
        "835_stupidedi_era-sample.edi",
        "835_stupidedi_multiple-claims-single-check.edi",
        "835_stupidedi_secondary-payment-with-higher-fee-schedule.edi",
        "835_stupidedi_secondary-payments.edi",
        "835_stupidedi_tertiary-payments.edi",
    ],
)
def test_835_samples_balance(name):
    for remit in remits_of(sample(name)):
        plb = sum((a.amount for a in remit.provider_adjustments), Decimal(0))
        assert remit.total_paid == sum(c.paid for c in remit.claims) - plb
        for claim in remit.claims:
            adjustments = sum(a.amount for s in claim.services for a in s.adjustments)
            assert claim.charge - adjustments - sum(a.amount for a in claim.adjustments) == claim.paid
            for service in claim.services:
                assert service.charge - sum(a.amount for a in service.adjustments) == service.paid
