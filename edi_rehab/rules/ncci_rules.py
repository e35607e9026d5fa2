"""NCCI rules: procedure-to-procedure pairs (N301-N304, N306) and medically unlikely edits (N305).

Scope: an :class:`~edi_rehab.rules.base.Encounter`, the lines of one patient (the claim's
patient, else its subscriber, and its payer), one rendering provider (2420A, else 2310B,
else the billing provider) and one date of service, across the claims of one transaction.
Edits come from ``maps/ncci-ptp.xml`` merged with any official CMS files given with
``--ncci-file``/``--mue-file``, and apply by date of service (effective <= DOS < deletion).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity
from ..mapdata import PtpEdit
from .base import ClaimContext, Encounter, Hit, LineView
from .modifier_rules import MAX_MODIFIERS, ordered


def active_pairs(encounter: Encounter) -> list[tuple[PtpEdit, LineView, LineView]]:
    """Every active, applicable PTP edit between two lines of the encounter, as
    (edit, column-1 line, column-2 line). Indicator-9 edits never appear. Computed once."""
    if encounter.pairs is not None:
        return encounter.pairs
    pairs: list[tuple[PtpEdit, LineView, LineView]] = []
    lines = encounter.lines
    maps = encounter.maps
    cache = encounter.pair_cache
    dos = encounter.dos
    for i, a in enumerate(lines):
        if not a.has_ptp_edits:
            continue
        for b in lines[i + 1 :]:
            if b.procedure == a.procedure or not b.has_ptp_edits:
                continue
            key = (a.procedure, b.procedure, dos)
            edits = cache.get(key)
            if edits is None:
                edits = cache[key] = maps.ptp_pairs_between(a.procedure, b.procedure, dos)
            for edit in edits:
                if edit.column1 == a.procedure:
                    pairs.append((edit, a, b))
                else:
                    pairs.append((edit, b, a))
    encounter.pairs = pairs
    return pairs


def has_ptp_partner(encounter: Encounter, line: LineView) -> bool:
    """Whether ``line`` is in an active PTP edit with another line of its encounter."""
    return any(line is c1 or line is c2 for _, c1, c2 in active_pairs(encounter))


def _ncci_modifiers(line: LineView) -> tuple[str, ...]:
    return line.kind.ncci_modifiers


def _anatomic(line: LineView) -> frozenset[str]:
    return line.kind.anatomic_modifiers


def bypassed(column1: LineView, column2: LineView) -> bool:
    """Whether an NCCI-associated modifier on either line can bypass an indicator-1 edit.

    Any non-anatomic NCCI-associated modifier (59, X{EPSU}, 24, 25 ...) on either line
    bypasses. Anatomic modifiers bypass only when they name different sites: the same
    RT on both lines is the same site, which is exactly what the edit is about.
    """
    anatomic1, anatomic2 = _anatomic(column1), _anatomic(column2)
    for line, anatomic in ((column1, anatomic1), (column2, anatomic2)):
        if any(m not in anatomic for m in _ncci_modifiers(line)):
            return True
    return bool(anatomic1 or anatomic2) and anatomic1 != anatomic2


#: ``order-confidence`` values in ``ncci-ptp.xml`` that mean the column order is not verified:
#: recalled ([M]) or derived from where sources put 59 ([D])
UNVERIFIED_ORDER = frozenset({"M", "D"})


def order_unverified(encounter: Encounter, edit: PtpEdit) -> bool:
    """Whether ``edit``'s column order is unverified and no CMS PTP file is there to settle it.

    With a CMS file loaded (``--ncci-file``), its rows replace the map's for every pair they
    name, and those rows are official ("V"); so this holds only without one.
    """
    return not encounter.maps.official_ptp and edit.order_confidence in UNVERIFIED_ORDER


def unverified_note(edit: PtpEdit) -> str:
    """What a message adds for an edit whose column order is unverified."""
    return (
        f"; the built-in map's column order for {edit.column1}/{edit.column2} is unverified "
        f"(order-confidence {edit.order_confidence}): load the official CMS PTP file with --ncci-file "
        f"to confirm which code is column 2"
    )


def _edit_details(edit: PtpEdit) -> dict:
    return {
        "column1": edit.column1,
        "column2": edit.column2,
        "modifier_indicator": edit.modifier_indicator,
        "effective": edit.effective.isoformat(),
        "deletion": edit.deletion.isoformat() if edit.deletion else None,
        "edit_source": edit.source,
        "order_confidence": edit.order_confidence,
    }


# -- N301 ---------------------------------------------------------------------------------------
def ptp_pair_without_modifier(encounter: Encounter) -> Iterator[Hit]:
    """A column-2 code of an indicator-1 NCCI pair is billed with its column-1 code, with no NCCI-associated modifier on either.

    ## What it does
    For each active PTP edit with modifier indicator 1 whose two codes are both billed for
    the same patient, rendering provider and date (across the claims of one transaction),
    fires on the column-2 line when neither line has an NCCI-associated modifier (59,
    XE/XP/XS/XU, 24, 25, 27, 57, 58, 78, 79, 91, or anatomic modifiers naming different
    sites). Example: 97530 beside 97140 without 59/XU.

    Without a CMS PTP file (`--ncci-file`), a pair whose column order the built-in map has
    not verified (`order-confidence` M or D in `maps/ncci-ptp.xml`: 97530/97116,
    97110/97150, 97012/97140, 97140/97124, 97150/97164, the evaluation and re-evaluation
    pairs ...) is a **warning** whose message says the order is unverified and how to load
    the official file: if the order is wrong, the other code is the one denied. With the
    CMS file loaded its rows decide (they replace the map's for every pair they name).

    ## Why is this bad?
    "Only the Column One code is eligible for payment; the Column Two code is denied unless
    a clinically appropriate NCCI-associated modifier is also reported" (CARC 97, 236;
    RARC M80, N20).

    ## Source
    Reference §3.1 (PTP mechanics [V APTA], indicators [V texmed], modifier list [V]),
    §3.2 (97140 column 1 / 97530 column 2, indicator 1 [V WebPT quoting CMS, M header]),
    §3.3 (other therapy pairs), §3.4 (same provider, beneficiary and date; dates [M]).
    The warning on unverified pairs: expert review 2026-12 F7 and issue 10 item 5 (the map's
    own note: "verify every [M] column order ... before an edit blocks a claim").

    ## Fix safety
    Unsafe, and offered only with evidence: when the minutes CSV puts the two lines in
    different `time_block`s, the fix adds the payer's preferred modifier (59 or XU, from
    the profile's `ncci_modifier`) to the column-2 line. "Modifier 59 should not be used if
    the two procedures are performed during the same time block." On a pair whose order is
    unverified the fix stays unsafe: it puts the modifier on the presumed column 2.
    """
    seen = set()
    for edit, c1, c2 in active_pairs(encounter):
        if edit.modifier_indicator != "1" or bypassed(c1, c2):
            continue
        key = (id(c2), c1.procedure)
        if key in seen:
            continue
        seen.add(key)
        modifier = c2.claim.profile.ncci_modifier
        evidence = c1.time_block is not None and c2.time_block is not None and c1.time_block != c2.time_block
        room = len(c2.modifiers) < MAX_MODIFIERS
        target = ordered(c2, (*c2.modifiers, modifier)) if room else None
        unverified = order_unverified(encounter, edit)
        yield Hit(
            f"{c2.procedure} (column 2) is billed with {c1.procedure} (column 1, {c2.name_of(c1)}) on the same "
            f"date for the same patient and rendering provider, with no NCCI-associated modifier; "
            f"{c2.procedure} will be denied unless the services were distinct (e.g. {modifier} for "
            f"separate time blocks)" + (unverified_note(edit) if unverified else ""),
            at=c2,
            severity=Severity.WARNING if unverified else None,
            details={
                **_edit_details(edit),
                "partner": c1.ref(),
                "modifier": modifier,
                "target_modifiers": target,
                "evidence": {"time_blocks": [c1.time_block, c2.time_block]} if evidence else None,
            },
            fix=f"add {modifier} to {c2.procedure}: the minutes file puts the two services in distinct time blocks",
            fixable=evidence and room,
        )


# -- N302 ---------------------------------------------------------------------------------------
def ptp_pair_not_allowed(encounter: Encounter) -> Iterator[Hit]:
    """Both codes of an NCCI pair with modifier indicator 0 are billed together on one date.

    ## What it does
    For each active PTP edit with modifier indicator 0 whose codes are both billed for the
    same patient, rendering provider and date, fires on the column-2 line whatever the
    modifiers (no modifier bypasses an indicator-0 edit).

    ## Why is this bad?
    "'0' means a modifier is not allowed and will not override an edit": the column-2
    code is denied (CARC 97/236), and adding 59 only draws attention.

    ## Source
    Reference §3.1 (indicator 0 [V texmed]) and §3.3 (97530/97150 with evaluations:
    indicator-0 edits of 1/1/2020, deleted April 2020 [S elitecme, V APTA]); §3.1 "never
    suggest 59 for indicator-0 pairs".

    ## Fix safety
    No fix: one of the two services must come off the claim, which is a billing decision.
    """
    seen = set()
    for edit, c1, c2 in active_pairs(encounter):
        if edit.modifier_indicator != "0":
            continue
        key = (id(c2), c1.procedure)
        if key in seen:
            continue
        seen.add(key)
        note = f"; {', '.join(_ncci_modifiers(c2) + _ncci_modifiers(c1))} cannot bypass it" if (
            _ncci_modifiers(c1) or _ncci_modifiers(c2)
        ) else ""
        yield Hit(
            f"{c2.procedure} (column 2) cannot be billed with {c1.procedure} ({c2.name_of(c1)}) on the same date: "
            f"the NCCI edit allows no modifier (indicator 0){note}",
            at=c2,
            details={**_edit_details(edit), "partner": c1.ref()},
        )


# -- N303 ---------------------------------------------------------------------------------------
def ncci_modifier_on_column1(encounter: Encounter) -> Iterator[Hit]:
    """The NCCI modifier sits only on the column-1 code, for example 59 on 97140 rather than on 97530.

    ## What it does
    For each active indicator-1 edit billed together, fires on the column-1 line when it
    carries 59/X{EPSU} and the column-2 line carries no NCCI-associated modifier. Without a
    CMS PTP file, on a pair whose column order the built-in map has not verified
    (`order-confidence` M or D) the message says so and how to load the official file
    (`--ncci-file`): the modifier may already be on the right line.

    ## Why is this bad?
    The edit denies the column-2 code, so that is where the modifier is read. Many
    payers pay it on either code, others deny the column-2 code anyway; hence a warning.

    ## Source
    Reference §3.1 ("Recommend placing it on the column 2 code. If it is found only on the
    column 1 code, warn ('payer-dependent')" [V AAPC; legacy CMS notes say either]), §3.2
    (CMS Ex. 9: 59 on 97530) and §9.1. Unverified orders: expert review 2026-12 F7, issue 10
    item 5.

    ## Fix safety
    Unsafe: the fix moves the modifier to the column-2 line, or adds it there when the
    column-1 line needs it for another pair (`details["action"]`). It stays unsafe on a pair
    whose order is unverified, where the presumed column 2 may be the wrong line.
    """
    seen = set()
    for edit, c1, c2 in active_pairs(encounter):
        if edit.modifier_indicator != "1" or not c1.distinct_modifiers or _ncci_modifiers(c2):
            continue
        key = (id(c1), c2.procedure)
        if key in seen:
            continue
        seen.add(key)
        modifier = c1.distinct_modifiers[0]
        needed_on_c1 = any(
            other2 is c1 and e.modifier_indicator == "1" for e, _, other2 in active_pairs(encounter)
        )
        action = "add" if needed_on_c1 else "move"
        room = len(c2.modifiers) < MAX_MODIFIERS
        unverified = order_unverified(encounter, edit)
        yield Hit(
            f"{modifier} is on {c1.procedure} (column 1) but not on {c2.procedure} (column 2, {c1.name_of(c2)}); "
            f"the edit denies the column-2 code, so the modifier belongs there"
            + (unverified_note(edit) if unverified else ""),
            at=c1,
            severity=Severity.WARNING if unverified else None,
            details={
                **_edit_details(edit),
                "modifier": modifier,
                "action": action,
                "from": c1.ref(),
                "to": c2.ref(),
                "target_modifiers_to": ordered(c2, (*c2.modifiers, modifier)) if room else None,
                "target_modifiers_from": tuple(m for m in c1.modifiers if m != modifier)
                if action == "move"
                else c1.modifiers,
            },
            fix=f"{action} {modifier} {'to' if action == 'move' else 'on'} {c2.procedure}",
            fixable=room,
        )


# -- N304 ---------------------------------------------------------------------------------------
def ncci_modifier_without_pair(encounter: Encounter) -> Iterator[Hit]:
    """59/X{EPSU} is on a line that has no PTP partner that day.

    ## What it does
    Fires on a line with 59, XE, XP, XS or XU when no active PTP edit links its code with
    another code billed for the same patient, rendering provider and date (in the same
    transaction). A line whose code is billed again that day is M208 instead.

    It judges only what the PTP data covers, and is silent otherwise:
    * the line's code must be in `maps/codes.xml` (the therapy code set): `ncci-ptp.xml`
      pairs therapy codes only, and a CMS PTP file is kept only for rows naming one of them,
      so an anesthesia 62322-59 beside 00902 has pairs this tool never sees;
    * without a CMS PTP file (`--ncci-file`), every other code billed that day must be in
      `maps/codes.xml` too: a therapy code's pairs with codes outside it (chiropractic,
      E/M, injections) are in the CMS file only.

    ## Why is this bad?
    The modifier is probably needless; payers watch 59 usage closely and it may trigger a
    review. It is only a warning: 59 "is not limited to NCCI pairs" (Cahaba), and a partner
    billed in another transaction or on another claim file is not seen here.

    ## Source
    Reference §4.4 (checker rule: "Flag 59/X on a code that is in no active PTP pair with
    another code on the same date ... make it a warning only" [V Cahaba]).

    The coverage limit: issue 10 item 7 (a false N304 on 62322-59 beside 00902) and
    `maps/PROVENANCE.md` (no CMS data file is redistributed; the map holds therapy pairs).

    ## Fix safety
    No fix: the partner may be on a claim this file does not hold.
    """
    maps = encounter.maps
    # without the CMS file, a code outside codes.xml that day may be the partner we cannot see
    all_covered = maps.official_ptp or all(x.info is not None for x in encounter.lines)
    for line in encounter.lines:
        if not line.distinct_modifiers or line.info is None or not all_covered:
            continue
        if has_ptp_partner(encounter, line):
            continue
        if any(x is not line and x.procedure == line.procedure for x in encounter.lines):
            continue  # M208
        yield Hit(
            f"{', '.join(line.distinct_modifiers)} on {line.procedure}, but no code billed for this patient and "
            f"provider that day forms an NCCI pair with it",
            at=line,
            details={"modifiers": list(line.distinct_modifiers)},
        )


# -- N305 ---------------------------------------------------------------------------------------
def units_above_mue(encounter: Encounter) -> Iterator[Hit]:
    """Units exceed the medically unlikely edit (MUE) for the code, per line or per day.

    ## What it does
    Only when an MUE file is loaded (`--mue-file`). For MUE adjudication indicator 1 (line
    edit), fires on each line whose units exceed the value; for indicators 2 and 3 (date of
    service edits), adds the code's units over the encounter (same patient, rendering
    provider and date, across the transaction's claims) and fires on the last line that
    pushes it over. Lines billed in MJ are left to U107.

    ## Why is this bad?
    Units above the MUE are denied (CARC 151, RARC N362); MAI 2 denials cannot be appealed
    (RARC N211).

    ## Source
    Reference §3.5 (MUE file layout and MAI semantics [V Palmetto GBA, V loader doc]; values
    not verified, load the current file).

    ## Fix safety
    No fix: cutting units changes what is billed and must follow the minutes (U101).
    """
    mue_edits = encounter.maps.mue_edits
    if not mue_edits:
        return
    totals: dict[str, list[LineView]] = {}
    for line in encounter.lines:
        if line.units is None or line.basis == "MJ":
            continue
        mue = mue_edits.get(line.procedure)
        if mue is None:
            continue
        if mue.adjudication_indicator == 1:
            if line.units > mue.value:
                yield Hit(
                    f"{line.units} units of {line.procedure} on one line exceed its MUE of {mue.value} (line edit, MAI 1)",
                    at=line,
                    details={"mue": mue.value, "mai": 1, "units": line.units, "mue_source": mue.source},
                )
        else:
            totals.setdefault(line.procedure, []).append(line)
    for procedure, lines in totals.items():
        mue = mue_edits[procedure]
        total = sum(lv.units or 0 for lv in lines)
        if total > mue.value:
            kind = "policy" if mue.adjudication_indicator == 2 else "clinical"
            yield Hit(
                f"{total} units of {procedure} on one date exceed its MUE of {mue.value} (date-of-service "
                f"{kind} edit, MAI {mue.adjudication_indicator})",
                at=lines[-1],
                details={
                    "mue": mue.value,
                    "mai": mue.adjudication_indicator,
                    "units": total,
                    "lines": [lv.ref() for lv in lines],
                    "mue_source": mue.source,
                },
            )


# -- N306 ---------------------------------------------------------------------------------------
#: The modifiers that claim distinct time blocks for two timed therapy services: 59 (CMS
#: Example 9) and XU (unusual non-overlapping service). XE, XS and XP claim another encounter,
#: site or practitioner, which a shared time block does not contradict by itself.
TIME_BLOCK_MODIFIERS = frozenset({"59", "XU"})


def distinct_modifier_contradicted_by_time_block(claim: ClaimContext) -> Iterator[Hit]:
    """59/XU separates the two codes of an NCCI pair that the minutes CSV puts in one time block.

    ## What it does
    Only with a minutes CSV whose rows carry `time_block`. For each two timed lines of the
    claim with one date of service and rendering provider whose codes form an active
    indicator-1 PTP edit (97140 column 1 / 97530 column 2), fires when the minutes CSV gives
    both lines the same `time_block` label and 59 or XU is on either line (on the column-2
    line as usual, or on column 1, which N303 reports as well). The finding sits on the line
    with the modifier. A label is compared within one claim: the CSV's rows are keyed by
    CLM01, so lines of two claims are never said to share a block. Pairs with an untimed
    code (an evaluation) are left alone: what makes them payable is a separately
    identifiable evaluation, not time.

    ## Why is this bad?
    59/XU on a therapy pair says the services were done in distinct time blocks; the record
    says they were not. CMS: "CPT code 97530 should not be reported and modifier 59 should
    not be used if the two procedures are performed during the same time block". A claim
    whose modifier the record contradicts fails a review and the column-2 payment is
    recouped. It is a warning, because a label means what the EMR export makes it mean: an
    export that writes the visit's time on every row (rather than each service's block)
    gives every line one label. See the README's minutes CSV section.

    ## Source
    Reference §3.2 (CMS NCCI "Modifier 59" article, Example 9, quoted by WebPT [V]; column 1 =
    97140, column 2 = 97530, indicator 1) and §4.4 (XU: unusual non-overlapping service [V
    capturebilling]); expert review 2026-12 F11 ("add a warning") and issue 10 [M].

    ## Fix safety
    No fix: either the column-2 service comes off the claim or the record's time blocks are
    wrong, and which one is the clinic's to say.
    """
    if not claim.minutes_given:
        return
    blocked = [lv for lv in claim.lines if lv.time_block and lv.dos is not None and lv.is_timed15 and lv.has_ptp_edits]
    if len(blocked) < 2:
        return
    maps = claim.maps
    for i, a in enumerate(blocked):
        for b in blocked[i + 1 :]:
            if a.time_block != b.time_block or a.dos != b.dos or a.npi != b.npi or a.procedure == b.procedure:
                continue
            for edit in maps.ptp_pairs_between(a.procedure, b.procedure, a.dos):
                if edit.modifier_indicator != "1":
                    continue
                c1, c2 = (a, b) if edit.column1 == a.procedure else (b, a)
                carrier = c2 if TIME_BLOCK_MODIFIERS & set(c2.modifiers) else c1
                modifiers = sorted(TIME_BLOCK_MODIFIERS & set(carrier.modifiers))
                if not modifiers:
                    continue
                yield Hit(
                    f"{'/'.join(modifiers)} on {carrier.procedure} says it was done in a time block apart from "
                    f"{(c1 if carrier is c2 else c2).procedure} ({carrier.name_of(c1 if carrier is c2 else c2)}), but the "
                    f"minutes file puts both lines in one time block; CMS: when the two are done in the same time block "
                    f"{c2.procedure} (column 2) is not reported and 59 is not used",
                    at=carrier,
                    details={**_edit_details(edit), "column1_line": c1.ref(), "column2_line": c2.ref(), "modifiers": modifiers},
                )
                break
