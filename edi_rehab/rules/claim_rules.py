"""Claim-level rules: charges, corrected claims, payer code choice, code validity, identifiers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ..threshold import BucketAssessment, ThresholdLine, assess_buckets
from .base import ClaimContext, Hit, LineView

#: TR3 note on CLM01: at most 20 characters are returned on the 835 (reference §5 [M]).
MAX_CLAIM_ID = 20
#: TR3 note on REF*6R: at most 30 characters are returned (reference §5 [M]).
MAX_LINE_CONTROL = 30


# -- C401 ---------------------------------------------------------------------------------------
def charge_mismatch(claim: ClaimContext) -> Iterator[Hit]:
    """CLM02 (total claim charge) differs from the sum of the lines' SV102 charges.

    ## What it does
    Adds SV102 over the claim's service lines and compares it with CLM02 as numbers
    (150 equals 150.00). Also fires when CLM02 or an SV102 is not a number.

    ## Why is this bad?
    The TR3 requires the claim total to balance to its lines; clearinghouses and payers
    reject unbalanced claims at the front end (999 / 277CA) before any adjudication.

    ## Source
    Reference §5 (CLM02 "must balance to the sum of all SV102 line charges. Front-end
    (999/277CA) rejections are common" [M TR3]).

    ## Fix safety
    Unsafe on its own: setting CLM02 to the sum assumes the lines are right and the total
    is wrong (`details["expected"]`). After a fix that changes line charges, recounting
    CLM02 is part of that fix.
    """
    if claim.claim.charge is None:
        yield Hit(
            f"CLM02 {claim.claim.charge_raw or '(empty)'} is not an amount",
            at=claim,
            details={"found": claim.claim.charge_raw},
            fixable=False,
        )
        return
    total = Decimal(0)
    for lv in claim.lines:
        if lv.line.sv1_index is None:
            continue
        charge = lv.line.charge
        if charge is None:
            yield Hit(
                f"SV102 of line {lv.lx_text} is not an amount, so CLM02 cannot be balanced",
                at=lv,
                details={"found": lv.line.charge_raw},
                fixable=False,
            )
            return
        total += charge
    if total != claim.claim.charge:
        yield Hit(
            f"CLM02 is {claim.claim.charge_raw} but the service lines add up to {total}",
            at=claim,
            details={"found": claim.claim.charge_raw, "expected": str(total)},
            fix=f"set CLM02 to {total}",
        )


# -- C402 ---------------------------------------------------------------------------------------
def corrected_claim_without_f8(claim: ClaimContext) -> Iterator[Hit]:
    """CLM05-3 is 7 (replacement) or 8 (void) but REF*F8 (payer claim control number) is missing.

    ## What it does
    Fires on a claim whose frequency code is 7 or 8 and that has no 2300 REF*F8.

    ## Why is this bad?
    A replacement or void must name the claim it replaces: the payer's claim control
    number from the 835 CLP07. Without it the payer cannot find the original and rejects
    the claim, or pays it as a duplicate.

    ## Source
    Reference §5 (REF*F8 "required when CLM05-03 indicates a replacement (7) or void (8)
    of a previously adjudicated claim"; value = 835 CLP07 [M TR3, S OpenDental]).

    ## Fix safety
    No fix here: the number comes from the 835 (`edi-rehab match` can supply it).
    """
    frequency = claim.claim.frequency_code.strip()
    if frequency in ("7", "8") and not claim.claim.payer_claim_number.strip():
        kind = "replacement" if frequency == "7" else "void"
        yield Hit(
            f"claim frequency {frequency} ({kind}) needs REF*F8 with the payer's claim control number (835 CLP07)",
            at=claim,
            details={"frequency_code": frequency},
        )


# -- C403 ---------------------------------------------------------------------------------------
def code_payer_replaces(line: LineView) -> Iterator[Hit]:
    """97014 is billed to a payer whose profile wants G0283 (Medicare).

    ## What it does
    Fires on a line whose code has a Medicare replacement in `maps/codes.xml` (97014 →
    G0283) when the claim's payer profile says `wants_g0283`.

    ## Why is this bad?
    Medicare does not pay 97014; unattended electrical stimulation is billed as G0283.
    The line is denied (RARC N657 "should be billed with the appropriate code").

    ## Source
    Reference §2 (97014: "Medicare uses G0283 instead" [V WebPT]) and §7 (RARC N657 [M]).

    ## Fix safety
    No fix yet: changing the code changes the service billed and its fee.
    """
    info = line.info
    if info is None or not info.medicare_replacement or not line.claim.profile.wants_g0283:
        return
    yield Hit(
        f"{line.procedure} is billed to a payer (profile {line.claim.profile.name}) that wants "
        f"{info.medicare_replacement} for this service",
        at=line,
        details={"replacement": info.medicare_replacement, "profile": line.claim.profile.name},
    )


# -- C404 ---------------------------------------------------------------------------------------
def unlisted_code_without_description(line: LineView) -> Iterator[Hit]:
    """An unlisted code (97039, 97139) has no SV101-07 description.

    ## What it does
    Fires on a line of an `ambiguous` code in `maps/codes.xml` whose SV101-07 is empty.
    Such lines are kept out of the 8-minute rule either way.

    ## Why is this bad?
    The descriptor asks to "specify type and time if constant attendance"; payers cannot
    price an unlisted service they cannot identify and deny it (CARC 16, RARC N822/M51).

    ## Source
    Reference §2 (ambiguous codes: "SV101-07 description is required" [V descriptor]) and
    §5 (SV101-07 "Required for unlisted/NOC codes such as 97039 and 97139" [M TR3]).

    ## Fix safety
    No fix: the description must come from the record.
    """
    if line.unit_class == "ambiguous" and not line.line.description.strip():
        yield Hit(
            f"unlisted {line.procedure} needs a description of the service (and its time, if attended) in SV101-07",
            at=line,
        )


# -- C405 ---------------------------------------------------------------------------------------
def addon_without_primary(claim: ClaimContext) -> Iterator[Hit]:
    """An add-on code is billed without its primary code (97130 without 97129).

    ## What it does
    Fires on a line of a code that `maps/codes.xml` marks as an add-on (`addon-to`) when
    none of its primary codes is billed on the claim on the same date of service, or
    anywhere on the claim for codes counted per calendar month (98981).

    ## Why is this bad?
    An add-on pays only with its primary; alone it is denied "requires a qualifying
    service/procedure that was not received" (CARC B15).

    ## Source
    Reference §7 (CARC B15, "e.g. an add-on (97130) without its primary (97129)" [M]) and
    §2 (97129/97130, 97545/97546, 92605/92618 pairs [M]/[V ASHA]).

    ## Fix safety
    No fix: the primary may have been billed under the wrong code or forgotten.
    """
    addons = [lv for lv in claim.lines if lv.info is not None and lv.info.addon_to]
    if not addons:
        return
    present: dict = {}
    for lv in claim.lines:
        present.setdefault(lv.procedure, set()).add(lv.dos)
    for lv in addons:
        info = lv.info
        monthly = "month" in (info.time_basis or "")
        if any(p in present and (monthly or lv.dos in present[p]) for p in info.addon_to):
            continue
        scope = "on the claim" if monthly else "on the same date"
        yield Hit(
            f"add-on {lv.procedure} is billed without its primary code ({' or '.join(info.addon_to)}) {scope}",
            at=lv,
            details={"primary": list(info.addon_to)},
        )


# -- C406 ---------------------------------------------------------------------------------------
def deleted_code(line: LineView) -> Iterator[Hit]:
    """A code is billed on a date of service after it was deleted (92506 after 2014, G0515 after 2020).

    ## What it does
    Fires on a line whose code has a deletion date in `maps/codes.xml` on or before the
    line's date of service, and names the replacement codes.

    ## Why is this bad?
    A deleted code is not valid on the date of service; payers reject the line, and
    the replacement codes are priced differently.

    ## Source
    Reference §2 (92521-92524 replaced 92506 on 1/1/2014 [V ASHA]; 97129/97130 replaced
    97127 and G0515 in 2020 [M]) and §1.2 (§20.2.B revisions [M]).

    ## Fix safety
    No fix: the replacement depends on the service (92506 split into four codes).
    """
    info = line.info
    if info is None or info.deleted is None or line.dos is None or info.valid_on(line.dos):
        return
    replaced = f"; use {' or '.join(info.replaced_by)}" if info.replaced_by else ""
    yield Hit(
        f"{line.procedure} was deleted on {info.deleted.isoformat()}, before this date of service{replaced}",
        at=line,
        details={"deleted": info.deleted.isoformat(), "replaced_by": list(info.replaced_by)},
    )


# -- C407 ---------------------------------------------------------------------------------------
def claim_id_too_long(claim: ClaimContext) -> Iterator[Hit]:
    """CLM01 (patient control number) is longer than 20 characters.

    ## What it does
    Fires when CLM01 has more than 20 characters.

    ## Why is this bad?
    Payers keep and return only the first 20 characters in the 835 CLP01, so remittances
    no longer match their claims (and two claims that share a 20-character prefix collide).

    ## Source
    Reference §5 (CLM01 "At most 20 characters are submitted; characters beyond 20 need not
    be stored or returned" [M TR3]) and §6 (matching CLP01 to CLM01).

    ## Fix safety
    No fix: the control number belongs to the practice-management system.
    """
    if len(claim.claim_id) > MAX_CLAIM_ID:
        yield Hit(
            f"CLM01 has {len(claim.claim_id)} characters; payers return only the first {MAX_CLAIM_ID}",
            at=claim,
            details={"length": len(claim.claim_id), "limit": MAX_CLAIM_ID},
        )


# -- C408 ---------------------------------------------------------------------------------------
def line_control_number(claim: ClaimContext) -> Iterator[Hit]:
    """A line's REF*6R (line item control number) is longer than 30 characters or repeats another line's.

    ## What it does
    Fires on a line whose REF*6R value has more than 30 characters, and on a line whose
    REF*6R equals that of an earlier line of the same claim.

    ## Why is this bad?
    REF*6R is how an 835 service line is matched back to its 837 line; payers return only
    30 characters, and a repeated value makes the match ambiguous.

    ## Source
    Reference §5 (REF*6R "at most 30 characters are submitted or returned" [M TR3]) and §6
    ("always emit a unique REF*6R per line").

    ## Fix safety
    No fix: the value belongs to the practice-management system.
    """
    values = [lv.line.control_number for lv in claim.lines if lv.line.control_number]
    if len(set(values)) == len(values) and all(len(v) <= MAX_LINE_CONTROL for v in values):
        return
    seen: dict[str, LineView] = {}
    for lv in claim.lines:
        value = lv.line.control_number
        if not value:
            continue
        if len(value) > MAX_LINE_CONTROL:
            yield Hit(
                f"REF*6R of line {lv.lx_text} has {len(value)} characters; payers return only {MAX_LINE_CONTROL}",
                at=lv,
                details={"kind": "length", "length": len(value), "limit": MAX_LINE_CONTROL},
            )
        first = seen.setdefault(value, lv)
        if first is not lv:
            yield Hit(
                f"REF*6R of line {lv.lx_text} repeats line {first.lx_text}'s; 835 lines cannot be matched to one of them",
                at=lv,
                details={"kind": "repeat", "first_line": first.lx},
            )


# -- C409 ---------------------------------------------------------------------------------------
def line_without_control_number(line: LineView) -> Iterator[Hit]:
    """A service line has no REF*6R (line item control number).

    ## What it does
    Fires on each 2400 loop with an SV1 but no REF*6R.

    ## Why is this bad?
    Nothing is denied, but the 835 can only be matched back to the line by code,
    modifiers, date and charge, which breaks when the payer recodes, splits or bundles
    lines. A unique REF*6R per line (for example `<CLM01>-<LX01>`) makes every remittance
    line traceable, which appeals depend on.

    ## Source
    Reference §5 (REF*6R "Strongly recommended, because it is returned in 835 2110 REF*6R"
    [M TR3]) and §6 (matching; "always emit a unique REF*6R per line").

    ## Fix safety
    No fix yet: adding segments renumbers SE01 and is left to a later fix.
    """
    if line.line.sv1_index is not None and line.line.ref_6r_index is None:
        yield Hit(f"line {line.lx_text} has no REF*6R line item control number", at=line)


# -- C410 ---------------------------------------------------------------------------------------
def first_unit_code_above_one(line: LineView) -> Iterator[Hit]:
    """A code that bills only the first unit of a date (97129) is billed with more than 1 unit.

    ## What it does
    Fires on a line of a code with `further-units` in `maps/codes.xml` (97129, whose
    further time is 97130) billed with more than one unit, and says how the units split.

    ## Why is this bad?
    97129 is the first 15 minutes of cognitive function intervention on a date; every
    further 15 minutes is its add-on 97130. Units of 97129 above 1 are denied (MUE or
    coding edit), and the time they stand for goes unpaid unless billed as 97130.

    ## Source
    Reference §2 (97129/97130: "initial 15 min / each additional 15 min" [M]); the rule:
    issue 10 ("97129 above 1 unit (further time is 97130)") and expert review 2026-12 F15 [M].

    ## Fix safety
    No fix: splitting the line adds a 97130 line with its own charge, which is the clinic's
    fee schedule to set.
    """
    info = line.info
    if info is None or info.further_units is None or line.units is None or line.units <= 1:
        return
    further = line.units - 1
    yield Hit(
        f"{line.units} units of {line.procedure}: only the first 15 minutes of a date are {line.procedure}; "
        f"bill 1 unit of {line.procedure} and {further} of {info.further_units}",
        at=line,
        details={"units": line.units, "further_units_code": info.further_units, "further_units": further},
    )


# -- C411 ---------------------------------------------------------------------------------------
def zero_charge_line(claim: ClaimContext) -> Iterator[Hit]:
    """A billable service line has a $0.00 charge (SV102).

    ## What it does
    Fires on each service line whose SV102 is zero, unless its code is a reporting-only
    code in `maps/codes.xml` (`reporting-only="true"`: the functional reporting G-codes,
    sent at $0.00 as information).

    ## Why is this bad?
    A payer pays at most the charge: a $0.00 line pays nothing, and many payers reject a
    zero-charge line on a payable code. It usually means the fee schedule in the billing
    system lacks the code, so every such claim loses the service.

    ## Source
    Reference §5 (SV102 line charge, which CLM02 must balance to [M TR3]); the rule: issue 10
    ("a $0.00 billable line") and expert review 2026-12 F15 ("$0.00 lines") [M].

    ## Fix safety
    No fix: the charge comes from the clinic's fee schedule; never set an amount on a guess.
    """
    for lv in claim.lines:
        line = lv.line
        if line.sv1_index is None:
            continue
        charge = line.charge
        if charge is None or charge != 0:
            continue
        if lv.info is not None and lv.info.reporting_only:
            continue
        yield Hit(
            f"{lv.procedure or 'the line'} is billed at {line.charge_raw or '0'} (SV102): a zero charge pays nothing; "
            f"check the fee schedule for the code",
            at=lv,
            details={"charge": line.charge_raw},
        )


# -- C412 ---------------------------------------------------------------------------------------
def two_evaluations_one_date(claim: ClaimContext) -> Iterator[Hit]:
    """Two evaluation codes of one discipline on one date, or an evaluation with a re-evaluation.

    ## What it does
    Groups the lines of the complexity-levelled evaluations (`evaluation-kind` in
    `maps/codes.xml`: PT 97161-97164, OT 97165-97168, athletic training 97169-97172) by date
    of service and discipline, and fires on the later lines of a group that bills more than
    one distinct code: two evaluations (97161 and 97162 with GP), or an evaluation with a
    re-evaluation (97163 and 97164 with GP). The same code twice is U108's finding, not this
    one. SLP evaluations (92521-92524, 92610) are left out: they evaluate different functions,
    and two of them on a date can be correct.

    ## Why is this bad?
    A PT or OT evaluation is one service billed at one complexity level; a re-evaluation
    re-assesses a patient already evaluated, so it cannot be furnished with a new evaluation
    by the same discipline on the same date. The second code is denied, or both are
    held for review.

    ## Source
    Reference §2 (97161-97163 and 97165-97167 are evaluations, 97164 and 97168
    re-evaluations [V WebPT]); the rule: issue 10 ("two evaluation codes of one discipline on a
    date, an evaluation with a re-evaluation") and expert review 2026-12 F15 [M].

    ## Fix safety
    No fix: which code the record supports (the complexity level, or evaluation versus
    re-evaluation) is the clinician's call.
    """
    groups: dict[tuple, list[LineView]] = {}
    for lv in claim.lines:
        if lv.info is None or lv.info.evaluation_kind is None:
            continue
        groups.setdefault((lv.dos, lv.discipline), []).append(lv)
    for (_dos, discipline), lines in groups.items():
        first = lines[0]
        seen = {first.procedure}
        for lv in lines[1:]:
            if lv.procedure in seen:
                continue
            seen.add(lv.procedure)
            kinds = {first.info.evaluation_kind, lv.info.evaluation_kind}
            who = f"{discipline} " if discipline else ""
            if kinds == {"initial", "re"}:
                what = "an evaluation and a re-evaluation"
            elif kinds == {"re"}:
                what = "two re-evaluation codes"
            else:
                what = "two evaluation codes"
            yield Hit(
                f"{lv.procedure} and {first.procedure} are {what} of one {who}discipline on one date: "
                f"bill one evaluation code per discipline and date",
                at=lv,
                details={"codes": [first.procedure, lv.procedure], "discipline": discipline},
            )


# -- C413, C414: the claim's own therapy charges against the year's threshold -------------------
def claim_threshold_buckets(claim: ClaimContext) -> list[BucketAssessment]:
    """The claim's therapy lines added up per threshold bucket and year, counting each line's
    charge (SV102) and starting the year at 0 (``check`` has no year-to-date total) or, with
    a ledger, at the patient's recorded year-to-date (``claim.year_to_date``): an upper bound
    of what Medicare counts (edi_rehab.threshold)."""
    lines = []
    for lv in claim.lines:
        charge = lv.line.charge
        if lv.dos is None or charge is None or not charge.is_finite() or charge <= 0:
            continue
        bucket = lv.kind.threshold_bucket
        if bucket is not None:
            lines.append(ThresholdLine(lv, bucket, lv.dos, charge, lv.kind.threshold_attested))
    if not lines:
        return []
    known = claim.year_to_date
    return assess_buckets(lines, claim.maps.therapy_thresholds, known.amounts() if known is not None else None)


def _dollars(amount: int | Decimal) -> str:
    return f"${amount:,.2f}" if isinstance(amount, Decimal) else f"${amount:,}"


def _recorded(claim: ClaimContext, bucket: BucketAssessment) -> tuple[str, dict]:
    """What the ledger counted before the claim in ``bucket``, as words and as details."""
    known = claim.year_to_date
    key = (bucket.year, bucket.bucket)
    allowed = known.allowed.get(key, Decimal(0))
    pending = known.pending.get(key, Decimal(0))
    words = (
        f"the ledger's {bucket.year} {bucket.bucket} year-to-date for this patient, {_dollars(bucket.before)} "
        f"({_dollars(allowed)} allowed on recorded 835s, {_dollars(pending)} charged on recorded claims no 835 has "
        f"answered yet)"
    )
    details = {"source": "ledger", "year_to_date": str(bucket.before), "allowed": str(allowed), "pending": str(pending)}
    return words, details


def claim_charges_pass_threshold(claim: ClaimContext) -> Iterator[Hit]:
    """The claim's own therapy charges in a threshold bucket pass the year's therapy threshold, on lines without KX.

    ## What it does
    Only for a payer whose profile applies Medicare's therapy threshold (`therapy-threshold`
    in `maps/payers.xml`). Adds the SV102 charges of the claim's therapy lines per calendar
    year and bucket (PT and SLP lines together, OT lines apart; a line counts with exactly one
    of GP/GO/GN and no GA, GY or GZ), in date and line order, and compares the running total
    with the year's threshold in `maps/payers.xml` ($2,480 for 2026). When the total passes
    it, fires once per bucket on the first line from there on without KX, naming every such
    line. A year the map has no amount for (2020, and years not yet published) is not judged.

    Without a ledger `check` knows no year-to-date total, so it counts this claim alone and
    its charges, which are never less than what Medicare allows: charges under the threshold
    prove the claim alone stays under it. With `--ledger` the year starts at the patient's
    recorded year-to-date in the bucket (same payer and member): the allowed amounts of the
    recorded 835s plus the charges of recorded claims no 835 has answered, without this file
    and without the claims this one stands for (its earlier copies, the claim it replaces),
    and the message says how much of each it counted (`docs/ledger.md`).

    ## Why is this bad?
    Above the threshold a therapy line without KX is denied (CARC 119, "benefit maximum ...
    reached"). It is a warning: the threshold counts allowed amounts, which may be lower than
    the charges, across every provider of the year, which only the MAC's portal shows;
    confirm there, and add KX only when the therapist attests medical necessity.

    ## Source
    Reference §4.2 (amounts by year, PT+SLP combined and OT separate, allowed amounts per
    calendar year [V APTA, NGS, as restated]; "Therapy services submitted without the KX
    modifier, for claims above the therapy threshold, will be denied" [V NGS]; KX on each
    charge above it [S patientstudio]); expert review 2026-12 F12 and issue 10 ($2,480 for
    2026) [M].

    ## Fix safety
    No fix: KX is an attestation of medical necessity, and the allowed total is the MAC's.
    """
    if not claim.profile.therapy_threshold:
        return
    for bucket in claim_threshold_buckets(claim):
        if not bucket.missing_kx or bucket.threshold is None:
            continue
        missing = [line.ref for line in bucket.missing_kx]
        numbers = ", ".join(lv.lx_text for lv in missing)
        plural = len(missing) > 1
        details = {
            "bucket": bucket.bucket,
            "year": bucket.year,
            "charges": str(bucket.after),
            "threshold": bucket.threshold,
            "lines": [lv.ref() for lv in missing],
        }
        if claim.year_to_date is None:
            message = (
                f"this claim's {bucket.bucket} therapy charges in one calendar year come to {_dollars(bucket.after)}, above "
                f"that year's {_dollars(bucket.threshold)} therapy threshold, and line{'s' if plural else ''} {numbers} "
                f"past it carr{'y' if plural else 'ies'} no KX; if the allowed amounts of the year pass the "
                f"threshold (the MAC's portal shows them) those lines are denied without KX"
            )
        else:
            words, recorded = _recorded(claim, bucket)
            details.update(recorded)
            message = (
                f"{words}, and this claim's charges bring the year to {_dollars(bucket.after)}, above that year's "
                f"{_dollars(bucket.threshold)} therapy threshold, and line{'s' if plural else ''} {numbers} past it "
                f"carr{'y' if plural else 'ies'} no KX; those lines are denied without KX unless the year's allowed "
                f"amounts at every provider (the MAC's portal shows them) stay under it"
            )
        yield Hit(message, at=missing[0], details=details)


def claim_charges_pass_review_amount(claim: ClaimContext) -> Iterator[Hit]:
    """The claim's own therapy charges in a threshold bucket pass the year's targeted medical review amount.

    ## What it does
    Only for a payer whose profile applies Medicare's therapy threshold. Adds the claim's
    therapy charges per calendar year and bucket as C413 does, and fires once per bucket on
    the line that takes the total past the year's targeted medical review amount in
    `maps/payers.xml` ($3,000 for each bucket, 2024-2027). A year without an amount in the map
    is not judged. With `--ledger` the total starts at the patient's recorded year-to-date, as
    for C413, so the claim that takes the year past the amount is the one noted.

    ## Why is this bad?
    It is not wrong: above the review amount, KX claims may be chosen for targeted medical
    review, so the record behind them (plan of care, progress notes, the medical necessity of
    each service) should be complete before the claim goes. Information only; the charges
    are an upper bound of the allowed amounts the MAC counts.

    ## Source
    Reference §4.2 (targeted medical review threshold: "$3,000 for PT and SLP services
    combined and $3,000 for OT services for CY 2024 and each calendar year until 2028" [V NGS]);
    expert review 2026-12 F12 ("give info at $3,000") [M].

    ## Fix safety
    No fix: nothing on the claim is wrong.
    """
    if not claim.profile.therapy_threshold:
        return
    for bucket in claim_threshold_buckets(claim):
        if bucket.review_crossed_at is None or bucket.review is None:
            continue
        lv = bucket.review_crossed_at.ref
        details = {"bucket": bucket.bucket, "year": bucket.year, "charges": str(bucket.after), "review": bucket.review}
        if claim.year_to_date is None:
            message = (
                f"this claim's {bucket.bucket} therapy charges in one calendar year pass that year's "
                f"{_dollars(bucket.review)} targeted medical review amount at line {lv.lx_text} ({_dollars(bucket.after)} in all); the MAC may review the "
                f"records behind them"
            )
        else:
            words, recorded = _recorded(claim, bucket)
            details.update(recorded)
            message = (
                f"{words}, and this claim's charges pass that year's {_dollars(bucket.review)} targeted medical review "
                f"amount at line {lv.lx_text} ({_dollars(bucket.after)} with them); the MAC may review the records behind them"
            )
        yield Hit(message, at=lv, details=details)
