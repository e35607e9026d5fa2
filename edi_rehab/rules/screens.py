"""Claim screens: facts gathered in one pass over a claim's lines that prove a claim rule
has nothing to report, so the engine can skip it.

Theory of operation
-------------------
Most claims are clean. Run one by one, the claim rules each walk the claim's lines again
(with comprehensions, properties and a generator per rule), and on the bench file that
was the largest part of the rules' cost. :func:`screen_claim` walks the lines once, in a
plain loop, and records a few facts on the :class:`~edi_rehab.rules.base.ClaimContext`.
A rule names the fact that clears it in its registry row (``skip_when``); when the fact
is true the engine does not call the rule.

A fact may only ever be *conservative*: true means the rule would certainly find nothing;
false means "run the rule", which then decides with its own, complete logic. The rule
functions do not read the facts, so each rule stays correct on its own, and
``tests/test_engine.py`` runs every fixture, rule case and generated file with the
screens off and on and requires the same findings.
"""

from __future__ import annotations

from ..claims import amount_cents
from .base import ClaimContext
from .claim_rules import MAX_CLAIM_ID, MAX_LINE_CONTROL
from .modifier_rules import TELEHEALTH_POS
from .unit_rules import MAX_DAY_UNITS, MAX_LINE_UNITS

__all__ = ["FACTS", "screen_claim"]

#: NUCC taxonomy as written -> (the modifier policy asked, its discipline, whether it is an
#: assistant's): a file names the same few rendering taxonomies on every claim
_TAXONOMIES: dict[str, tuple] = {}

#: The facts, each true only when the named rule cannot fire on the claim.
FACTS = {
    "corrections_referenced": "C402: the claim is not a replacement or void (CLM05-3 7/8) without REF*F8",
    "claim_id_short": "C407: CLM01 has at most 20 characters",
    "one_discipline": "M210: the claim's lines claim at most one discipline (GP/GO/GN)",
    "charges_balance": "C401: CLM02 and every SV102 are amounts, and the SV102s add up to CLM02",
    "no_addon_codes": "C405: no line bills an add-on code",
    "control_numbers_distinct": "C408: every REF*6R is distinct and at most 30 characters",
    "lines_dated": "X002: every line with an SV1 has a DTP*472",
    "lx_in_sequence": "X005: LX01 runs 1, 2, 3 ...",
    "timed_codes_distinct": "U105: no 15-minute timed code on two lines of one date, and no timed line over a date range",
    "timed_units_plausible": "U106: no timed line above 8 units and at most 32 timed units on the claim",
    "untimed_units_single": "U108: each untimed code is billed once per date with at most one unit",
    "charges_nonzero": "C411: every SV102 is an amount in whole cents and none is zero",
    "renderer_is_no_assistant": "M220: the profile has no medicare-coverage, or no line names its own 2420A and the "
    "claim's rendering taxonomy is no assistant's",
    "renderer_discipline_agrees": "M221: no line names its own 2420A, and the claim's rendering taxonomy names no "
    "discipline or the only one the lines claim",
    "telehealth_plain": "M222: the profile has no medicare-coverage, or no place of service (CLM05-1, SV105) is a "
    "telehealth one and no line carries a telehealth modifier",
    "hospital_plain": "M223: the profile has no medicare-coverage, or no place of service is a hospital outpatient one",
    "nursing_plain": "M224: the profile has no medicare-coverage, or no place of service is a SNF or nursing facility",
    "no_threshold_attestation": "M217: the payer applies no therapy threshold, or no line carries KX",
    "charges_under_threshold": "C413: the payer applies no therapy threshold, or the claim's charges "
    "(every SV102 an amount) add up to no more than the lowest threshold amount in the maps",
    "charges_under_review_amount": "C414: the payer applies no therapy threshold, or the claim's charges "
    "(every SV102 an amount) add up to no more than the lowest targeted medical review amount in the maps",
    "time_blocks_distinct": "N306: no two lines of the claim have the same time_block in the minutes CSV",
    "no_institutional_modifiers": "M215: no line has a modifier that is institutional-only from some date (GT)",
    "no_telehealth": "M216: no line has a telehealth-class modifier (95, 93, GT) and no place of service "
                     "(CLM05-1, SV105) is 02 or 10",
    "evaluations_single": "C412: at most one line bills an evaluation code (evaluation-kind in codes.xml)",
}


def screen_claim(claim: ClaimContext) -> None:
    """Set the :data:`FACTS` on ``claim`` from its line views (built by the engine)."""
    expected = amount_cents(claim.claim.charge_raw)
    total = 0
    balance = expected is not None
    nonzero = True
    addons = False
    in_sequence = True
    dated = True
    numbers: list[str] = []
    numbers_distinct = True
    timed_codes: list[tuple] = []
    timed_distinct = True
    timed_units = 0
    timed_plausible = True
    untimed: list[tuple] = []
    untimed_single = True
    line_renderers = False
    threshold = claim.profile.therapy_threshold
    lowest = claim.maps.lowest_therapy_threshold
    lowest_review = claim.maps.lowest_review_amount
    # C413 and C414 can fire only where the payer applies the threshold and the maps give an amount
    summing = threshold and (lowest is not None or lowest_review is not None)
    positive = 0
    attested = False
    evaluations = 0
    blocks: list[str] = []
    blocks_distinct = True
    telehealth = claim.claim.place_of_service in TELEHEALTH_POS
    #: a line carries a telehealth-class modifier (place_rules.telehealth_modifier_set)
    marked = False
    #: SV105 of the lines that send one
    line_places: list[str] = []
    institutional = False
    position = 0
    for lv in claim.lines:
        position += 1
        line = lv.line
        reading = lv.reading
        if line.line_rendering_npi:
            line_renderers = True
        if lv.lx != position:
            in_sequence = False
        service_date = line.service_date
        if line.sv1_index is not None:
            if service_date is None:
                dated = False
            cents = reading.cents
            if cents is None:
                # not an amount, or finer than a cent: C401, C411, C413 and C414 decide
                balance = nonzero = summing = False
            else:
                total += cents
                if cents == 0:
                    nonzero = False
                elif cents > 0:
                    positive += cents
        number = line.control_number
        if number:
            if len(number) > MAX_LINE_CONTROL or number in numbers:
                numbers_distinct = False
            numbers.append(number)
        unit_class = lv.unit_class
        if unit_class == "timed15":
            key = (lv.procedure, lv.dos)
            if key in timed_codes or (
                service_date is not None and service_date.qualifier == "RD8" and service_date.is_range
            ):
                timed_distinct = False
            timed_codes.append(key)
            units = lv.units
            if units is not None:
                timed_units += units
                if units > MAX_LINE_UNITS:
                    timed_plausible = False
        elif unit_class == "untimed":
            units = lv.units
            if units is not None and lv.dos is not None:
                key = (lv.procedure, lv.dos)
                if units > 1 or key in untimed:
                    untimed_single = False
                untimed.append(key)
        kind = reading.kind
        if kind.unusual:
            if kind.addon:
                addons = True
            if kind.threshold_attested:
                attested = True
            if kind.telehealth:
                telehealth = marked = True
            if kind.institutional_only:
                institutional = True
            if kind.evaluation:
                evaluations += 1
        block = lv.time_block
        if block is not None:
            if block in blocks:
                blocks_distinct = False
            blocks.append(block)
        if reading.place:
            line_places.append(reading.place)
            if reading.place_telehealth:
                telehealth = True
    view = claim.claim
    claim.corrections_referenced = view.frequency_code.strip() not in ("7", "8") or bool(view.payer_claim_number.strip())
    claim.claim_id_short = len(claim.claim_id) <= MAX_CLAIM_ID
    claim.one_discipline = len(claim.disciplines) < 2
    claim.charges_balance = balance and total == expected
    claim.no_addon_codes = not addons
    claim.control_numbers_distinct = numbers_distinct
    claim.lines_dated = dated
    claim.lx_in_sequence = in_sequence
    claim.timed_codes_distinct = timed_distinct
    claim.timed_units_plausible = timed_plausible and timed_units <= MAX_DAY_UNITS
    claim.untimed_units_single = untimed_single
    claim.charges_nonzero = nonzero
    _screen_renderer_and_places(claim, line_renderers, marked, line_places)
    claim.no_threshold_attestation = not threshold or not attested
    claim.charges_under_threshold = not threshold or lowest is None or (summing and positive <= lowest * 100)
    claim.charges_under_review_amount = (
        not threshold or lowest_review is None or (summing and positive <= lowest_review * 100)
    )
    claim.time_blocks_distinct = blocks_distinct
    claim.no_institutional_modifiers = not institutional
    claim.no_telehealth = not telehealth
    claim.evaluations_single = evaluations < 2
    claim.screens_clear = (
        claim.corrections_referenced
        and claim.claim_id_short
        and claim.one_discipline
        and claim.charges_balance
        and not addons
        and numbers_distinct
        and dated
        and in_sequence
        and claim.timed_codes_distinct
        and claim.timed_units_plausible
        and untimed_single
        and nonzero
        and claim.renderer_is_no_assistant
        and claim.renderer_discipline_agrees
        and claim.telehealth_plain
        and claim.hospital_plain
        and claim.nursing_plain
        and claim.no_threshold_attestation
        and claim.charges_under_threshold
        and claim.charges_under_review_amount
        and blocks_distinct
        and not telehealth
        and not institutional
        and evaluations < 2
    )


def _screen_renderer_and_places(claim: ClaimContext, line_renderers: bool, marked: bool, line_places: list[str]) -> None:
    """The M220, M221 and M222-M224 facts: the claim's one rendering taxonomy (when no line names
    its own 2420A) and, on a medicare-coverage profile, whether any place of service or telehealth
    modifier is there to judge (``marked``: a line has a telehealth-class modifier;
    ``line_places``: the lines' SV105s, gathered by the screen's one pass)."""
    view = claim.claim
    policy = claim.maps.modifiers
    taxonomy = (
        view.claim_rendering_taxonomy if view.claim_rendering_npi or view.claim_rendering_taxonomy else view.billing_taxonomy
    )
    discipline = assistant = None
    if taxonomy:
        known = _TAXONOMIES.get(taxonomy)
        if known is None or known[0] is not policy:
            known = (policy, policy.discipline_of_taxonomy(taxonomy), policy.is_assistant_taxonomy(taxonomy))
            if len(_TAXONOMIES) < 4096:
                _TAXONOMIES[taxonomy] = known
        discipline, assistant = known[1], known[2]
    medicare = claim.profile.medicare_coverage
    claim.renderer_is_no_assistant = not medicare or (not line_renderers and not (taxonomy and assistant))
    claim.renderer_discipline_agrees = not line_renderers and (discipline is None or claim.disciplines <= {discipline})
    if not medicare:
        claim.telehealth_plain = claim.hospital_plain = claim.nursing_plain = True
        return
    places = claim.maps.places
    settings = {places.setting(view.place_of_service)}
    for place in line_places:
        settings.add(places.setting(place))
    claim.telehealth_plain = "telehealth" not in settings and not marked
    claim.hospital_plain = "hospital-outpatient" not in settings
    claim.nursing_plain = "skilled-nursing" not in settings and "nursing-facility" not in settings
