"""Modifier rules: discipline (GP/GO/GN), assistants (CQ/CO), 59/X{EPSU}, order and repeats.

Which modifier is which comes from ``maps/modifiers.xml`` (classes, disciplines, the
assistant pairing, the NCCI sets and the order policies); nothing here lists codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from ..mapdata import Maps, ModifierPolicy
from .base import ClaimContext, Encounter, Hit, LineView

#: SV101-03 to SV101-06: an 837P line holds at most four modifiers.
MAX_MODIFIERS = 4


def _mods(modifiers) -> str:
    return ", ".join(modifiers) if modifiers else "none"


@lru_cache(maxsize=8)
def _discipline_modifiers(policy: ModifierPolicy) -> dict[str, str]:
    return {info.discipline: code for code, info in policy.modifiers.items() if info.discipline}


def discipline_modifier(line: LineView, discipline: str) -> str | None:
    """The modifier (GP/GO/GN) that claims ``discipline`` (PT/OT/SLP), from the maps."""
    return _discipline_modifiers(line.claim.maps.modifiers).get(discipline)


def discipline_evidence(
    maps: Maps, procedure: str, other_disciplines: Iterable[str], taxonomy: str
) -> dict[str, set[str]]:
    """Why a line without GP/GO/GN belongs to PT, OT or SLP: discipline -> the reasons.

    Three witnesses, each from the claim itself: the code's own discipline in codes.xml (an
    OT evaluation is OT), the disciplines the claim's other lines claim, and the rendering
    provider's NUCC taxonomy (modifiers.xml). One discipline means the line can be fixed;
    none or several mean a person has to decide. Check, fix and match all ask this one
    function, so they never disagree about whether a discipline can be inferred.

    A shared code (92526 and 92610, furnished by SLP and OT) names no discipline alone: it
    backs the other witnesses that name one of its disciplines, and when another witness
    names a discipline outside them, it names all of its own, so the evidence disagrees and
    nothing is inferred (never GP on a swallowing code because the claim's other lines are PT).
    """
    evidence: dict[str, set[str]] = {}
    info = maps.code(procedure)
    if info is not None and info.discipline:
        evidence.setdefault(info.discipline, set()).add(f"{procedure} is a {info.discipline} code")
    for discipline in set(other_disciplines):
        evidence.setdefault(discipline, set()).add("the claim's other lines")
    by_taxonomy = maps.modifiers.discipline_of_taxonomy(taxonomy) if taxonomy else None
    if by_taxonomy:
        evidence.setdefault(by_taxonomy, set()).add(f"the rendering taxonomy {taxonomy}")
    shared = info.disciplines if info is not None and len(info.disciplines) > 1 else ()
    if shared and evidence:
        reason = f"{procedure} is furnished by {' or '.join(shared)}"
        named = set(shared) if any(d not in shared for d in evidence) else set(evidence)
        for discipline in named:
            evidence.setdefault(discipline, set()).add(reason)
    return evidence


def inferred_discipline(line: LineView) -> str | None:
    """The one discipline a line without GP/GO/GN belongs to, or None when the evidence
    (see :func:`discipline_evidence`) names none or several."""
    claim = line.claim.claim
    evidence = discipline_evidence(
        line.claim.maps, line.procedure, line.claim.disciplines, claim.line_rendering(line.line)[1]
    )
    return next(iter(evidence)) if len(evidence) == 1 else None


def ordered(line: LineView, modifiers: tuple[str, ...]) -> tuple[str, ...]:
    """``modifiers`` in the order the claim's payer profile prefers (as given when it has none)."""
    return line.claim.maps.modifiers.order(modifiers, line.claim.profile.modifier_order)


# -- M201 ---------------------------------------------------------------------------------------
def missing_discipline_modifier(line: LineView) -> Iterator[Hit]:
    """A therapy code has no GP, GO or GN modifier.

    ## What it does
    Fires on a line of an "always therapy" code in `maps/codes.xml` without GP, GO or GN,
    and on a "sometimes therapy" code without one when another line of the claim carries
    one (so the claim is billed under a therapy plan of care).

    ## Why is this bad?
    Medicare returns claims from therapy specialties as unprocessable when an applicable
    code lacks a therapy modifier (RARC MA130), and the modifier is how the therapy
    threshold (KX) amounts are tracked per discipline. Commercial payers deny with CARC 4
    / RARC N822.

    ## Source
    Reference §4.1 (Pub. 100-04 Ch. 5 §20.1 as restated [S]; CMS Annual Therapy Code List
    "always/sometimes therapy" [S]).

    ## Fix safety
    Unsafe: the fix adds the modifier of the one discipline that the code itself (an
    evaluation's own discipline), the claim's other lines and the rendering provider's
    taxonomy point to (`details["add"]`); it changes how the line is paid, and when those
    witnesses disagree or say nothing the line gets no fix.
    """
    if line.info is None or line.disciplines:
        return
    therapy = line.info.therapy_list
    if therapy != "always" and not (therapy == "sometimes" and line.claim.disciplines):
        return
    discipline = inferred_discipline(line)
    modifier = discipline_modifier(line, discipline) if discipline else None
    room = len(line.modifiers) < MAX_MODIFIERS
    target = ordered(line, (*line.modifiers, modifier)) if modifier and room else None
    yield Hit(
        f"therapy code {line.procedure} has no discipline modifier (GP, GO or GN)",
        at=line,
        details={"add": modifier, "discipline": discipline, "target_modifiers": target},
        fix=f"add {modifier}" if modifier else "",
        fixable=target is not None,
    )


# -- M202 ---------------------------------------------------------------------------------------
def several_discipline_modifiers(line: LineView) -> Iterator[Hit]:
    """One line has more than one of GP, GO and GN.

    ## What it does
    Fires on a line carrying two different discipline modifiers (a repeated one is M206).

    ## Why is this bad?
    A service is delivered under one plan of care. Two disciplines on a line is an invalid
    modifier combination (CARC 4, RARC N519) and breaks the per-discipline threshold.

    ## Source
    Reference §4.1 ("Exactly one discipline modifier per line" [M]; definitions [S]).

    ## Fix safety
    No fix: which discipline is right is a clinical fact.
    """
    distinct = tuple(dict.fromkeys(line.disciplines))
    if len(distinct) > 1:
        yield Hit(
            f"{line.procedure} carries more than one discipline modifier ({_mods(line.modifiers)}); "
            f"a line belongs to one plan of care",
            at=line,
            details={"disciplines": list(distinct)},
        )


# -- M203 ---------------------------------------------------------------------------------------
def assistant_without_discipline(line: LineView) -> Iterator[Hit]:
    """CQ without GP, or CO without GO.

    ## What it does
    Fires when an assistant modifier is on a line without the discipline modifier it must
    travel with (`requires` in `maps/modifiers.xml`: CQ needs GP, CO needs GO). A CQ or CO
    on a GN line is M207 instead.

    ## Why is this bad?
    CMS instructs to "report the CQ with the GP therapy modifier and the CO with the GO
    therapy modifier". CQ with GO is an invalid combination (RARC N519); without the pair
    the 85 percent assistant payment cannot be applied and the line is denied (CARC 4).

    ## Source
    Reference §4.3 (CMS "Billing Examples Using CQ/CO Modifiers" [V]; pairing [S]).

    ## Fix safety
    No fix: whether the assistant modifier or the discipline is wrong needs the record.
    """
    policy = line.claim.maps.modifiers
    if "SLP" in line.disciplines:
        return
    for modifier in line.modifiers:
        required = policy.required_with(modifier)
        if required and required not in line.modifiers:
            yield Hit(
                f"{modifier} on {line.procedure} needs {required} on the same line (modifiers: {_mods(line.modifiers)})",
                at=line,
                details={"modifier": modifier, "requires": required},
            )


# -- M204 ---------------------------------------------------------------------------------------
def modifier_59_with_x(line: LineView) -> Iterator[Hit]:
    """59 and an X{EPSU} modifier are on the same line.

    ## What it does
    Fires when 59 and any of XE, XP, XS, XU are both on one line.

    ## Why is this bad?
    The X modifiers are subsets of 59 meant to replace it. "It is not appropriate to bill
    both modifier 59 and a -X{EPSU} modifier on the same line"; payers reject the
    combination (RARC N519).

    ## Source
    Reference §4.4 (Moda Health policy [V]; Noridian XU page [V]; CR 8863 [V]).

    ## Fix safety
    Unsafe: the fix drops 59 and keeps the more specific X modifier.
    """
    distinct = line.distinct_modifiers
    if "59" in distinct and len(distinct) > 1:
        target = tuple(m for m in line.modifiers if m != "59")
        yield Hit(
            f"{line.procedure} has both 59 and {', '.join(m for m in distinct if m != '59')}; use the X modifier alone",
            at=line,
            details={"drop": "59", "target_modifiers": target},
            fix="drop 59",
        )


# -- M205 ---------------------------------------------------------------------------------------
def modifier_order(line: LineView) -> Iterator[Hit]:
    """Modifier order differs from the payer profile's order policy.

    ## What it does
    Sorts the line's modifiers by the class order of the payer profile's policy
    (`modifier_order`; `conventional` by default: pricing, CQ/CO, 59/X{EPSU}, payment,
    GP/GO/GN, KX, GA/GY/GZ, anatomic) and fires when the billed order differs. So 97530
    with 59 and GP should read `HC:97530:59:GP`. A profile with `modifier_order = "none"`
    silences it; the shipped `medicare` profile is one (CMS sets no order), so the rule
    speaks for the `default`, `medicaid` and configured payer profiles only.

    ## Why is this bad?
    Some payers and clearinghouses price or edit on the first modifier position; others
    reorder silently. No CMS instruction fixes this order, so it is a warning for payers
    that ask for it, never an error.

    ## Source
    Reference §4.5 (CCO and AAPC sequencing [V]; chirocode "payer's policy is the
    determining factor" [V]; "No CMS instruction was found that fixes the order", hence
    no order on Medicare; recommendation) and §9.8.

    ## Fix safety
    Safe: reordering changes no billed meaning (`details["target_modifiers"]`).
    """
    policy = line.claim.profile.modifier_order
    if policy is None or len(line.modifiers) < 2:
        return
    expected = ordered(line, line.modifiers)
    if expected != line.modifiers:
        yield Hit(
            f"modifiers on {line.procedure} are {_mods(line.modifiers)}; the payer's order "
            f"({policy}) is {_mods(expected)}",
            at=line,
            details={"policy": policy, "target_modifiers": expected},
            fix=f"reorder to {_mods(expected)}",
        )


# -- M206 ---------------------------------------------------------------------------------------
def duplicate_modifier(line: LineView) -> Iterator[Hit]:
    """The same modifier appears twice on a line.

    ## What it does
    Fires when a modifier is repeated among SV101-03 to SV101-06.

    ## Why is this bad?
    A repeated modifier carries no meaning and takes one of the four positions; some
    payers reject the line as an invalid modifier combination (RARC N519).

    ## Source
    Reference §5 (four modifier positions, SV101-03..06 [V map]) and §7 (RARC N519 [M]).

    ## Fix safety
    Safe: the fix keeps the first occurrence of each modifier.
    """
    unique = tuple(dict.fromkeys(line.modifiers))
    if len(unique) != len(line.modifiers):
        repeated = sorted({m for m in line.modifiers if line.modifiers.count(m) > 1})
        yield Hit(
            f"{line.procedure} repeats modifier {', '.join(repeated)} ({_mods(line.modifiers)})",
            at=line,
            details={"repeated": repeated, "target_modifiers": unique},
            fix=f"keep {_mods(unique)}",
        )


# -- M207 ---------------------------------------------------------------------------------------
def assistant_on_slp(line: LineView) -> Iterator[Hit]:
    """CQ or CO is on a speech-language pathology (GN) line.

    ## What it does
    Fires when an assistant modifier (CQ, CO) is on a line that carries GN.

    ## Why is this bad?
    CQ and CO exist for physical and occupational therapy assistants only; there is no
    SLP assistant modifier in Medicare. "CQ/CO with GN is an error" and is denied as an
    invalid combination (CARC 4, RARC N519).

    ## Source
    Reference §4.3 (CMS CQ/CO definitions [V]; checker rule "CQ/CO with GN is an error").

    ## Fix safety
    No fix: either the assistant modifier or the discipline is wrong.
    """
    if "SLP" not in line.disciplines:
        return
    for modifier in line.modifiers:
        if line.claim.maps.modifiers.required_with(modifier):
            yield Hit(
                f"{modifier} (therapy assistant) is on a speech-language pathology line "
                f"({line.procedure}, {_mods(line.modifiers)})",
                at=line,
                details={"modifier": modifier},
            )


# -- M208 ---------------------------------------------------------------------------------------
def distinct_modifier_repeats_code(encounter: Encounter) -> Iterator[Hit]:
    """59 or an X modifier is used only to bill the same code again on the same date.

    ## What it does
    Fires on a line with 59/X{EPSU} when the same code is billed on another line for the
    same patient, rendering provider and date, and the line has no NCCI PTP partner that
    day (so the modifier can only be there to get the repeat paid).

    ## Why is this bad?
    59 marks a service distinct from a *different* procedure. A repeat of the same code is
    one line with more units (timed codes), or 76 / anatomic modifiers where a procedure is
    truly repeated; 59 there is modifier misuse and draws audits.

    ## Source
    Reference §4.4 (checker rule: "Flag 59 used only to repeat the same code; use 76 or
    anatomic modifiers for that" [V Cahaba GBA Q&A]) and §3.1 ("should not be appended ...
    solely to bypass an NCCI PTP edit" [V]).

    ## Fix safety
    No fix: merging the lines or choosing 76 needs the record.
    """
    from .ncci_rules import has_ptp_partner

    for line in encounter.lines:
        if not line.distinct_modifiers:
            continue
        repeats = [x for x in encounter.lines if x is not line and x.procedure == line.procedure]
        if repeats and not has_ptp_partner(encounter, line):
            yield Hit(
                f"{', '.join(line.distinct_modifiers)} on {line.procedure} only repeats the code billed on "
                f"{line.name_of(repeats[0])}; it has no NCCI pair partner that day",
                at=line,
                details={"modifiers": list(line.distinct_modifiers), "repeats": repeats[0].ref()},
            )


# -- M209 ---------------------------------------------------------------------------------------
def discipline_contradicts_code(line: LineView) -> Iterator[Hit]:
    """The discipline modifier contradicts the code's own discipline (GO on a PT evaluation, GP on an SLP code).

    ## What it does
    Fires when a line has exactly one discipline modifier and `maps/codes.xml` names who
    furnishes the code (evaluations 97161-97168, SLP codes 92507, 92521 ...) without that
    discipline. A shared code accepts each of its disciplines: the swallowing codes 92526
    and 92610 are `SLP OT`, so GN and GO both match them and GP does not.

    ## Why is this bad?
    "The discipline must match the plan of care": a PT evaluation billed under an OT plan
    is denied (CARC 4) and counts toward the wrong therapy threshold.

    ## Source
    Reference §4.1 ("Exactly one discipline modifier per line [M]. The discipline must
    match the plan of care") and §2 (evaluation and SLP code lists [V]). OTs furnishing
    92526 and 92610 with GO: issue 10 and expert review 2026-12 F10, attributed to the CMS
    therapy code list and AOTA coding guidance [M] (`maps/codes.xml` source `ot-swallow`).

    ## Fix safety
    No fix: the code or the modifier may be the wrong one. It is a warning because a payer
    may let another discipline bill a code the map gives to one.
    """
    if line.info is None or not line.info.disciplines or len(set(line.disciplines)) != 1:
        return
    allowed = line.info.disciplines
    if line.disciplines[0] not in allowed:
        expected = " or ".join(filter(None, (discipline_modifier(line, d) for d in allowed)))
        yield Hit(
            f"{line.procedure} is a {' or '.join(allowed)} code but carries the {line.disciplines[0]} "
            f"modifier {discipline_modifier(line, line.disciplines[0])}; expected {expected}",
            at=line,
            details={
                "code_discipline": line.info.discipline or " ".join(allowed),
                "code_disciplines": list(allowed),
                "line_discipline": line.disciplines[0],
            },
        )


# -- M210 ---------------------------------------------------------------------------------------
def discipline_differs_for_provider(claim: ClaimContext) -> Iterator[Hit]:
    """One rendering therapist's lines on a claim carry different disciplines (GO among GP lines).

    ## What it does
    Groups the claim's lines by their individual rendering provider (2420A, else 2310B;
    claims that name only the billing provider are skipped, since a group practice bills
    PT and OT together) and, when that provider's lines carry more than one of GP, GO and
    GN, fires on the lines whose discipline is not the one most of that provider's lines
    carry (on a tie, the first one billed).

    ## Why is this bad?
    A therapist delivers the plan of care of their own discipline; a stray GO among a
    physical therapist's GP lines is usually a keying error. The line is counted toward the
    wrong therapy threshold, and payers that check the rendering provider's specialty deny
    it (CARC 4).

    ## Source
    Reference §4.1 (GP/GO/GN each mean "services delivered under an outpatient ... plan of
    care" [S]; "The discipline must match the plan of care" [M]).

    ## Fix safety
    No fix: the modifier or the rendering provider may be the wrong one.
    """
    if len(claim.disciplines) < 2:
        return  # one discipline on the whole claim: nothing can differ
    by_provider: dict[str, list[LineView]] = {}
    claim_npi = claim.claim.claim_rendering_npi
    for line in claim.lines:
        npi = line.line.line_rendering_npi or claim_npi
        if npi and len(set(line.disciplines)) == 1:
            by_provider.setdefault(npi, []).append(line)
    for lines in by_provider.values():
        counts: dict[str, int] = {}
        for line in lines:
            counts[line.disciplines[0]] = counts.get(line.disciplines[0], 0) + 1
        if len(counts) < 2:
            continue
        usual = max(counts, key=counts.__getitem__)  # first seen wins a tie (dicts keep order)
        modifier = discipline_modifier(lines[0], usual)
        for line in lines:
            if line.disciplines[0] != usual:
                yield Hit(
                    f"{line.procedure} carries {discipline_modifier(line, line.disciplines[0])}, but the rendering "
                    f"provider's other lines on this claim carry {modifier}",
                    at=line,
                    details={"line_discipline": line.disciplines[0], "provider_discipline": usual},
                )


# -- M213 ---------------------------------------------------------------------------------------
def assistant_on_evaluation(line: LineView) -> Iterator[Hit]:
    """CQ or CO is on an evaluation or re-evaluation code (97161-97172 and the other evaluations).

    ## What it does
    Fires on a line whose code is an evaluation or re-evaluation in `maps/codes.xml`
    (`evaluation="true"`: 97161-97172, the SLP evaluations 92521-92524, 92610) when it
    carries an assistant modifier (CQ or CO).

    ## Why is this bad?
    Evaluations and re-evaluations are the therapist's own service: an assistant may not
    evaluate, so an evaluation "furnished in whole or in part" by a PTA or OTA is not a
    payable service. Either the modifier is wrong (and the line is cut to 85% for nothing)
    or the service is.

    ## Source
    Reference §4.3 (CQ/CO mean a service furnished in whole or in part by a PTA or OTA [V
    CMS examples page]) and §2 (the evaluation codes); that assistants may not evaluate:
    expert review 2026-12 F13 and issue 10 ("CQ/CO on an evaluation or re-evaluation
    (97161–97172) is an error") [M].

    ## Fix safety
    No fix: whether the modifier or the code is wrong is the clinic's to say.
    """
    if not line.assistant or line.info is None or not line.info.evaluation:
        return
    yield Hit(
        f"{line.assistant} (therapy assistant) is on {line.procedure}, an evaluation or re-evaluation; "
        f"assistants do not evaluate, so the modifier or the code is wrong",
        at=line,
        details={"modifier": line.assistant},
    )


def _combinations(line: LineView, verdict: str) -> Iterator[Hit]:
    present = set(line.modifiers)
    for combination in line.claim.maps.modifiers.combinations:
        if combination.verdict == verdict and combination.first in present and combination.second in present:
            yield Hit(
                f"{combination.first} and {combination.second} are both on {line.procedure}: {combination.reason}",
                at=line,
                details={"modifiers": [combination.first, combination.second]},
            )


# -- M211 ---------------------------------------------------------------------------------------
def contradictory_modifiers(line: LineView) -> Iterator[Hit]:
    """Two modifiers that contradict each other are on one line, such as GA with GZ.

    ## What it does
    Fires on a line that carries both modifiers of a `contradictory` combination in
    `maps/modifiers.xml`: GA (an advance beneficiary notice is on file) with GZ (a denial is
    expected and no ABN is on file).

    ## Why is this bad?
    The two attestations exclude each other, so at least one is false; payers reject the
    line as an invalid modifier combination, and who is liable for the denied service
    (patient or provider) cannot be read from it.

    ## Source
    Reference §4.5 (GA/GY/GZ, the liability modifiers, sequenced together [S]); the
    contradiction: issue 10 ("GA with GZ on one line (error)") and expert review 2026-12 F12
    ("mutually exclusive; invalid combination") [M].

    ## Fix safety
    No fix: only the clinic knows whether the ABN was signed.
    """
    return _combinations(line, "contradictory")


# -- M212 ---------------------------------------------------------------------------------------
def doubtful_modifier_pair(line: LineView) -> Iterator[Hit]:
    """Two modifiers that are rarely right together are on one line, such as KX with GA.

    ## What it does
    Fires on a line that carries both modifiers of a `doubtful` combination in
    `maps/modifiers.xml`: KX (the service is medically necessary above the therapy
    threshold) with GA (an ABN is on file because a denial as not necessary is expected).

    ## Why is this bad?
    KX attests medical necessity, GA expects the payer to find the service not necessary:
    the two attestations pull against each other and invite a review of the claim. Some
    payers accept both (an ABN given for services that may exceed what is necessary), so
    it is a warning.

    ## Source
    Reference §4.2 (KX: medical necessity attested above the threshold [V NGS]) and §4.5
    (GA with the liability modifiers [S]); the conflict: issue 10 ("KX with GA (warning)")
    and expert review 2026-12 F12 ("contradictory attestations") [M].

    ## Fix safety
    No fix: which attestation holds is the clinic's to say.
    """
    return _combinations(line, "doubtful")


# -- M214 ---------------------------------------------------------------------------------------
def retired_modifier(line: LineView) -> Iterator[Hit]:
    """A retired modifier is on a line dated after its retirement, such as a CH-CN severity modifier after 2018.

    ## What it does
    Fires on a line whose date of service is on or after a modifier's `retired` date in
    `maps/modifiers.xml`: the functional limitation severity modifiers CH, CI, CJ, CK,
    CL, CM and CN (retired 2019-01-01 with functional reporting). The retired G-codes
    themselves (G8978-G8999, G9158-G9186) are deleted codes in `maps/codes.xml` (C406).

    ## Why is this bad?
    Functional limitation reporting ended with dates of service in 2019; the severity
    modifiers mean nothing on a later claim, and a payer may reject the line as carrying an
    invalid modifier. It usually means the EMR still runs an old reporting template.

    ## Source
    Reference §4.5 (modifier classes and order [S]); the retirement: issue 10 ("retired
    functional-reporting G-codes (G8978–G8999, G9158–G9186) and severity modifiers CH–CN
    after 2019") and expert review 2026-12 F15 ("discontinued 1/1/2019") [M].

    ## Fix safety
    No fix: removing a modifier changes the line the payer reads; the EMR template should
    stop sending it.
    """
    dos = line.dos
    if dos is None:
        return
    for modifier, retired in line.kind.retired_modifiers:
        if dos >= retired:
            yield Hit(
                f"{modifier} on {line.procedure} was retired for dates of service from {retired.isoformat()} "
                f"(functional limitation reporting ended); remove it from the EMR's template",
                at=line,
                details={"modifier": modifier, "retired": retired.isoformat()},
            )


# -- M215 ---------------------------------------------------------------------------------------
def gt_on_professional_claim(claim: ClaimContext) -> Iterator[Hit]:
    """GT (telehealth, institutional) is on a professional claim line dated from 2018.

    ## What it does
    Fires on each line of the claim that carries a modifier whose `institutional-only` date
    in `maps/modifiers.xml` is on or before the line's date of service: GT, from
    2018-01-01. Every claim the rules read is an 837P (X006 reports any other). It is a
    claim-scope rule because it reads the date of service.

    ## Why is this bad?
    Since 2018 GT marks telehealth only on critical access hospital Method II institutional
    claims. On a professional claim the payer either rejects the modifier or ignores it, and
    the telehealth service is then not identified the way the payer expects (place of service
    02 or 10, and 95 where the payer asks for it).

    ## Source
    Reference §5 (the 837P professional claim's CLM05-1 and SV105 place of service [M TR3]); the
    rule: issue 10 ("GT is not for 837P") and expert review 2026-12 F14 ("GT not used on 837P
    (it is for CAH Method II institutional claims only)") [M].

    ## Fix safety
    No fix: whether the line needs 95, 93 or only a telehealth place of service is the payer's
    policy; the EMR template should stop sending GT.
    """
    policy = claim.maps.modifiers
    for lv in claim.lines:
        if lv.dos is None:
            continue
        for modifier in lv.modifiers:
            info = policy.info(modifier)
            if info is None or info.institutional_only is None or lv.dos < info.institutional_only:
                continue
            yield Hit(
                f"{modifier} on {lv.procedure}: from {info.institutional_only.isoformat()} {modifier} is for "
                f"institutional (CAH Method II) claims only, not an 837P; show telehealth by place of service "
                f"02 or 10 (and 95 if the payer asks for it)",
                at=lv,
                details={"modifier": modifier, "institutional_only": info.institutional_only.isoformat()},
            )


# -- M216 ---------------------------------------------------------------------------------------
#: Places of service that say the service was furnished by telehealth: 02 (telehealth other than
#: in the patient's home) and 10 (telehealth in the patient's home). Issue 10 and expert review
#: 2026-12 F14 ("POS 02/10 consistent with 95/93") [M].
TELEHEALTH_POS = frozenset({"02", "10"})


def telehealth_pos_modifier_mismatch(claim: ClaimContext) -> Iterator[Hit]:
    """A line's place of service and its telehealth modifiers disagree (POS 02/10 against 95/93).

    ## What it does
    Reads each line's place of service (SV105, else CLM05-1) and its modifiers of the
    `telehealth` class in `maps/modifiers.xml` (95, 93, GT), and judges them by the payer
    profile's `telehealth-marking` (`telehealth_marking` in the config):
    - `pos-and-modifier` (the default, and `medicare`): fires when the line carries 95 or 93
      but its place of service is not 02 or 10, and when its place of service is 02 or 10
      but it carries none of 95, 93 or GT;
    - `pos` (POS 02/10 alone marks telehealth): fires only on 95 or 93 with another place of
      service;
    - `modifier` (the payer wants 95/93 with the place of service the visit would have had
      in person): fires only on POS 02 or 10 without 95 or 93;
    - `none`: silent for the payer.
    GT itself on an 837P is M215's finding. A claim-scope rule: it reads CLM05-1.

    ## Why is this bad?
    The place of service and the modifier both say whether the visit was in person or by
    telehealth; when they disagree the payer prices the line at the wrong rate or denies it
    for a missing or unexpected telehealth modifier. It is a warning, because payers differ:
    some want 95 with the in-person place of service (the CMS practice during the COVID-19
    emergency), some take POS 02/10 without a modifier. The profile setting says which this
    payer does (`docs/disputed-points.md`).

    ## Source
    Reference §5 (CLM05-1 and SV105, "only when it differs from CLM05-01" [M TR3]); the rule:
    issue 10 ("POS 02/10 consistent with 95/93") and expert review 2026-12 F14 [M]. The
    Medicare value: NGS "Telehealth Changes for 2024" (the 95-with-in-person-POS practice ended
    12/31/2023; 95 stays for outpatient therapy by PT, OT and SLP) [S]; other sources say
    Medicare needs no 95 with POS 02/10 on professional claims, hence the setting
    (`maps/PROVENANCE.md`).

    ## Fix safety
    No fix: whether the visit was by telehealth, and how this payer wants it shown, is not in
    the file.
    """
    marking = claim.profile.telehealth_marking
    if marking == "none":
        return
    modifier_without_pos = marking in ("pos-and-modifier", "pos")
    pos_without_modifier = marking in ("pos-and-modifier", "modifier")
    policy = claim.maps.modifiers
    claim_pos = claim.claim.place_of_service
    for lv in claim.lines:
        pos = lv.line.place_of_service or claim_pos
        if not pos:
            continue
        telehealth = [m for m in lv.modifiers if policy.class_of(m) == "telehealth"]
        marking_modifiers = [m for m in telehealth if (info := policy.info(m)) is None or info.institutional_only is None]
        where = "SV105" if lv.line.place_of_service else "CLM05-1"
        if modifier_without_pos and marking_modifiers and pos not in TELEHEALTH_POS:
            yield Hit(
                f"{'/'.join(marking_modifiers)} on {lv.procedure} says telehealth, but the place of service is {pos} "
                f"({where}); a telehealth line is usually POS 02 or 10 (check the payer's telehealth policy)",
                at=lv,
                details={"place_of_service": pos, "modifiers": marking_modifiers, "telehealth_marking": marking},
            )
        elif pos_without_modifier and pos in TELEHEALTH_POS and not telehealth:
            yield Hit(
                f"place of service {pos} ({where}) says telehealth, but {lv.procedure} carries no 95 or 93; "
                f"add the modifier if the payer asks for it",
                at=lv,
                details={"place_of_service": pos, "modifiers": [], "telehealth_marking": marking},
            )


def _line_rendering_taxonomy(claim: ClaimContext, lv: LineView) -> tuple[str, str, str]:
    """(NPI, taxonomy, where) of the provider rendering a line, read strictly by loop: the line's own
    2420A when it names one (its PRV, or '' without one: the claim's taxonomy belongs to another
    NPI), else 2310B, else the billing provider (2010AA with its 2000A PRV), who renders every
    line when 2310B is absent (TR3)."""
    c = claim.claim
    line = lv.line
    if line.line_rendering_npi:
        return line.line_rendering_npi, line.line_rendering_taxonomy, "2420A PRV03"
    if c.claim_rendering_npi or c.claim_rendering_taxonomy:
        return c.claim_rendering_npi, c.claim_rendering_taxonomy, "2310B PRV03"
    return c.rendering_npi, c.billing_taxonomy, "2000A PRV03, the billing provider rendering without a 2310B"


_ASSISTANT_NAMES = {"PT": "physical therapy assistant", "OT": "occupational therapy assistant",
                    "SLP": "speech-language assistant"}
_THERAPIST_NAMES = {"PT": "physical therapist", "OT": "occupational therapist", "SLP": "speech-language pathologist"}


# -- M220 ---------------------------------------------------------------------------------------
def assistant_as_rendering_provider(claim: ClaimContext) -> Iterator[Hit]:
    """A therapy assistant's taxonomy (PTA 2252…, OTA 224Z…) is the rendering provider on a Medicare claim.

    ## What it does
    On a claim whose payer profile has `medicare-coverage` (the shipped `medicare` profile),
    reads the taxonomy of the provider rendering each line that carries GP, GO or GN, strictly by
    loop: the line's 2420A PRV, else the claim's 2310B PRV, else the billing provider's 2000A PRV
    when no 2310B names another renderer. It fires when that taxonomy is one `maps/modifiers.xml`
    marks `assistant="true"`: 225200000X (physical therapy assistant), 224Z00000X and its
    specializations (occupational therapy assistant), 2355S0801X (speech-language assistant).
    A 2310B or billing-provider taxonomy is reported once, on the claim; a 2420A one on its line.

    ## Why is this bad?
    Medicare does not enrol PTAs and OTAs as billing or rendering providers. Their services are
    billed under the supervising therapist (or the practice) with the therapist as rendering
    provider and CQ or CO on the lines the assistant furnished in whole or in part, which Medicare
    pays at 85%. A claim naming the assistant as renderer is rejected for a rendering provider who
    is not enrolled, or, if the taxonomy is only miskeyed, invites a review.

    ## Source
    Reference §4.3 (CQ/CO: services "furnished in whole or in part" by a PTA or OTA, on the
    therapist's claim [V CMS examples page]); that assistants do not enrol and are not rendering
    providers: expert review 2026-12 F13 and issue 10 [M]; the taxonomy codes: NUCC code set as
    restated in public provider data (`maps/modifiers.xml`, sources `nucc`, `nucc-codes` [S]).

    ## Fix safety
    No fix: the supervising therapist's NPI and taxonomy are not in the file.
    """
    if not claim.profile.medicare_coverage:
        return
    policy = claim.maps.modifiers
    reported: set[tuple[str, str, str]] = set()
    for lv in claim.lines:
        if not lv.disciplines:
            continue
        npi, taxonomy, where = _line_rendering_taxonomy(claim, lv)
        if not taxonomy or not policy.is_assistant_taxonomy(taxonomy) or (npi, taxonomy, where) in reported:
            continue
        reported.add((npi, taxonomy, where))
        discipline = policy.discipline_of_taxonomy(taxonomy) or ""
        therapist = _THERAPIST_NAMES.get(discipline, "therapist")
        modifier = {"PT": "CQ", "OT": "CO"}.get(discipline)
        how = f" with {modifier} on the lines the assistant furnished" if modifier else ""
        yield Hit(
            f"the rendering provider's taxonomy {taxonomy} ({where}) is a "
            f"{_ASSISTANT_NAMES.get(discipline, 'therapy assistant')}'s; Medicare does not enrol assistants as "
            f"rendering providers: name the supervising {therapist}{how}",
            at=lv if where.startswith("2420A") else claim,
            details={"taxonomy": taxonomy, "loop": where.split()[0], "discipline": discipline},
        )


# -- M221 ---------------------------------------------------------------------------------------
def taxonomy_contradicts_discipline(claim: ClaimContext) -> Iterator[Hit]:
    """The rendering provider's taxonomy is another discipline's than the line's GP/GO/GN (an OT taxonomy on GP lines).

    ## What it does
    For each line with one discipline modifier, reads the rendering provider's taxonomy strictly by
    loop (2420A PRV, else 2310B PRV, else the billing provider's 2000A PRV when no 2310B names
    another renderer) and the discipline `maps/modifiers.xml` gives it (2251/2252 PT, 225X/224Z
    OT, 235Z/2355S0801X SLP). It fires when both are known and differ: an occupational therapist
    on a GP line, a physical therapist on a GO line, a speech-language pathologist on a GP or GO
    line, a PT or OT on a GN line. A taxonomy that names no therapy discipline (a physician, a
    clinic) says nothing.

    ## Why is this bad?
    A therapist furnishes services under a plan of care of their own discipline; GP, GO and GN say
    which plan. When the renderer's specialty contradicts the modifier, either the modifier is
    wrong (the line counts toward the wrong therapy threshold bucket: PT and SLP share one, OT has
    its own) or the wrong provider is named, and payers that check the rendering specialty deny the
    line (CARC 4, or an enrollment denial). It is a warning: the PRV taxonomy is often a stale EMR
    default rather than the enrolled specialty.

    ## Source
    Reference §4.1 (GP/GO/GN: services delivered under a PT, OT or SLP plan of care [S]; "the
    discipline must match the plan of care" [M]) and §4.2 (PT+SLP and OT threshold buckets [V]);
    the rule: expert review 2026-12 F13 and issue 10 ("a rendering taxonomy that contradicts the
    discipline modifier (OT taxonomy on GP lines)") [M]; taxonomy codes: `maps/modifiers.xml`
    (sources `nucc`, `nucc-codes` [S]).

    ## Fix safety
    No fix: whether the modifier or the provider is wrong is the clinic's to say.
    """
    policy = claim.maps.modifiers
    for lv in claim.lines:
        if len(set(lv.disciplines)) != 1:
            continue
        _, taxonomy, where = _line_rendering_taxonomy(claim, lv)
        by_taxonomy = policy.discipline_of_taxonomy(taxonomy) if taxonomy else None
        line_discipline = lv.disciplines[0]
        if by_taxonomy is None or by_taxonomy == line_discipline:
            continue
        who = (_ASSISTANT_NAMES if policy.is_assistant_taxonomy(taxonomy) else _THERAPIST_NAMES)[by_taxonomy]
        yield Hit(
            f"{lv.procedure} carries {discipline_modifier(lv, line_discipline)} ({line_discipline}), but the rendering "
            f"provider's taxonomy {taxonomy} ({where.split(',')[0]}) is a {who}'s, which bills "
            f"{discipline_modifier(lv, by_taxonomy)}",
            at=lv,
            details={"taxonomy": taxonomy, "taxonomy_discipline": by_taxonomy, "line_discipline": line_discipline},
        )
# -- M217 ---------------------------------------------------------------------------------------
# Which lines count toward a threshold bucket, and whether they carry KX, is worked out once per
# line kind (LineKind.threshold_bucket, LineKind.threshold_attested); C413 and C414 use the same.
def kx_on_some_lines_of_bucket(claim: ClaimContext) -> Iterator[Hit]:
    """KX is on some therapy lines of a threshold bucket but not on others of the same claim and date.

    ## What it does
    Only for a payer whose profile applies Medicare's therapy threshold (`therapy-threshold`
    in `maps/payers.xml`: `medicare`, or a config profile that sets it). Groups the claim's
    lines by date of service and threshold bucket: PT and SLP lines (GP, GN) in one, OT lines
    (GO) in the other. A line counts when it has exactly one of GP/GO/GN and no GA, GY or GZ
    (an ABN or an expected denial is the other answer above the threshold). When some lines
    of a group carry KX and others do not, fires once on the first line without it, naming
    the lines on each side. Lines billed over a date range are left out (U105).

    ## Why is this bad?
    KX attests that the beneficiary's year is past the threshold and the care is medically
    necessary, and the threshold is counted per bucket: once it applies, every line of the
    bucket needs it, and a line without it is denied (CARC 119). On one date the year's total
    is the same for every line of a bucket, so a KX on one line and not the next is almost
    always an EMR template or a manual edit gone half way. It is a warning, because the
    threshold can be crossed within the date's lines. A GO line's KX says nothing about GP/GN
    lines, and the reverse.

    ## Source
    Reference §4.2 (thresholds per bucket, PT+SLP combined and OT separate [V APTA, NGS];
    "Each charge must include the KX modifier" [S patientstudio]); CMS MLN Matters SE0637
    (when KX is appropriate for one therapy line of a claim, put it on all of them; OT judged
    apart) [S, `maps/PROVENANCE.md`]; expert review 2026-12 F12 and issue 10 ("KX on some lines
    of a threshold bucket but not others on one claim and date") [M].

    ## Fix safety
    No fix: KX is the therapist's attestation of medical necessity above the threshold; the
    tool never adds or removes it on a guess.
    """
    if not claim.profile.therapy_threshold:
        return
    groups: dict[tuple, list[LineView]] = {}
    for lv in claim.lines:
        if lv.dos is None or lv.line.service_date.is_range:
            continue
        bucket = lv.kind.threshold_bucket
        if bucket is not None:
            groups.setdefault((lv.dos, bucket), []).append(lv)
    for (_, bucket), lines in groups.items():
        with_kx = [lv for lv in lines if lv.kind.threshold_attested]
        if not with_kx or len(with_kx) == len(lines):
            continue
        without = [lv for lv in lines if lv not in with_kx]
        yield Hit(
            f"KX is on {_line_list(with_kx)} but not on {_line_list(without)}, all {bucket} therapy on one date of "
            f"service; once the year's {bucket} threshold is passed every such line needs KX, and before it none does",
            at=without[0],
            details={
                "bucket": bucket,
                "with_kx": [lv.ref() for lv in with_kx],
                "without_kx": [lv.ref() for lv in without],
            },
        )


def _line_list(lines: list[LineView]) -> str:
    word = "line" if len(lines) == 1 else "lines"
    return f"{word} {', '.join(lv.lx_text for lv in lines)}"
