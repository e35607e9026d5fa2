"""Units against minutes: the 8-minute rule (U101-U104, U113 CQ/CO) and unit sanity checks (U105-U112).

The 8-minute rule itself lives in :mod:`edi_rehab.units`; these rules only read the
group's :attr:`~edi_rehab.rules.base.UnitGroup.assessment` (computed once per group) and
say what it means for the lines. Every rule that needs minutes is silent without them.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..findings import Severity
from ..minutes import MinutesProblem
from ..units import UnitAssessment, assistant_part, units_for_minutes
from .base import ClaimContext, Hit, LineView, UnitGroup

#: U106: more units than this on one line of a 15-minute code look like minutes (2 hours).
MAX_LINE_UNITS = 8
#: U106: more 15-minute units than this on one date imply more than 8 hours of timed care.
MAX_DAY_UNITS = 32


# -- shared helpers (also used by fix to recompute targets) ------------------------------------
def service_name(service) -> str:
    """``97110`` or ``97110 (CQ part)`` for a service key."""
    return f"{service[0]} ({service[1]} part)" if isinstance(service, tuple) else str(service)


def service_id(service) -> str:
    """A JSON-friendly service key: ``97110`` or ``97110+CQ`` (as in tests/cases)."""
    return "+".join(service) if isinstance(service, tuple) else str(service)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _services_text(group: UnitGroup, units: dict) -> str:
    minutes = group.minutes_by_service
    return "; ".join(
        f"{service_name(s)}: {minutes[s]} min, {_plural(units.get(s, 0), 'unit')}" for s in minutes
    )


def _allocation_text(allocation: dict) -> str:
    return ", ".join(f"{_plural(u, 'unit')} of {service_name(s)}" for s, u in allocation.items() if u) or "no units"


def line_targets(group: UnitGroup, allocation: dict) -> list[dict]:
    """The SV104 each line should carry to bill ``allocation``: one entry per line that
    changes, ``{"line": LX, "segment": SV1 position, "billed": n, "units": m}``.

    A service split over several lines (U105) keeps its earlier lines and changes the
    later ones first; ``units == 0`` means the line should go.
    """
    targets = []
    for service, wanted in allocation.items():
        lines = group.lines_of(service)
        if not lines:
            continue
        delta = wanted - sum(lv.units or 0 for lv in lines)
        new = {id(lv): lv.units or 0 for lv in lines}
        if delta > 0:
            new[id(lines[0])] += delta
        for lv in reversed(lines):
            if delta >= 0:
                break
            take = min(new[id(lv)], -delta)
            new[id(lv)] -= take
            delta += take
        for lv in lines:
            if new[id(lv)] != (lv.units or 0):
                targets.append({"line": lv.lx, "segment": lv.segment, "billed": lv.units, "units": new[id(lv)]})
    return targets


def unit_details(group: UnitGroup, assessment: UnitAssessment) -> dict:
    """What a units fix needs: the minutes, the bill, every valid allocation, the one to
    move to and the SV104 changes per line."""
    closest = assessment.closest
    return {
        "method": assessment.method,
        "profile": group.claim.profile.name,
        "lines": [lv.lx for lv in group.lines],
        "discipline": group.discipline,
        "minutes": {service_id(s): m for s, m in group.minutes_by_service.items()},
        "billed": {service_id(s): u for s, u in assessment.billed.items()},
        "allowed_total": assessment.allowed_total,
        "billed_total": assessment.billed_total,
        "allocations": [{service_id(s): u for s, u in a.items()} for a in assessment.allocations],
        "target": {service_id(s): u for s, u in closest.items()},
        "line_units": line_targets(group, closest),
        "unbilled_units": {
            service_id(s): u for s, u in closest.items() if u and not group.lines_of(s)
        },
    }


def _first_line(group: UnitGroup, services) -> LineView | ClaimContext:
    for service in services:
        lines = group.lines_of(service)
        if lines:
            return lines[0]
    return group.first_line or group.claim


def _total_minutes(group: UnitGroup) -> int:
    return sum(group.minutes_by_service.values())


#: the profile used when no payer profile matched the claim
DEFAULT_PROFILE = "default"


def _default_profile_note(group: UnitGroup, method: str) -> str:
    """Under the default profile, which method judged the units and why (the payer's own
    method is unknown: many commercial payers count per code, reference §1.6)."""
    if group.claim.profile.name != DEFAULT_PROFILE:
        return ""
    name = "CMS total-minutes" if method == "cms" else "per-code"
    return f"; judged by the {name} method of the default profile, as no payer profile matched this payer"


def _total_verdict(group: UnitGroup, verdict: str, verb: str) -> Iterator[Hit]:
    """U101 (``verb`` "allow") or U102 ("support"): one hit for the group under the CMS
    method, one per service off its own rounding under the per-code method. U101 under the
    default profile is a warning: the payer's method is not known."""
    assessment = group.assessment
    if assessment is None or verdict not in assessment.verdicts:
        return
    details = unit_details(group, assessment)
    off = assessment.over if verdict == "U101" else assessment.under
    note = _default_profile_note(group, assessment.method)
    severity = Severity.WARNING if note and verdict == "U101" else None
    if assessment.method == "cms":
        yield Hit(
            f"{assessment.billed_total} timed units billed on {group.where}, but "
            f"{_total_minutes(group)} timed minutes {verb} {assessment.allowed_total} under the CMS "
            f"total-minutes method ({_services_text(group, assessment.billed)}){note}",
            at=_first_line(group, off),
            details=details,
            fix=f"bill {_allocation_text(assessment.closest)}",
            severity=severity,
        )
        return
    for service in off:
        minutes = group.minutes_by_service[service]
        allowed = assessment.closest[service]
        yield Hit(
            f"{service_name(service)}: {_plural(assessment.billed[service], 'unit')} billed for "
            f"{minutes} minutes; rounded on its own (per-code method) that is {_plural(allowed, 'unit')}{note}",
            at=_first_line(group, [service]),
            details={**details, "service": service_id(service)},
            fix=f"bill {_plural(allowed, 'unit')} of {service_name(service)}",
            severity=severity,
        )


# -- U101 ---------------------------------------------------------------------------------------
def units_exceed_minutes(group: UnitGroup) -> Iterator[Hit]:
    """More timed units are billed on a date than the minutes allow under the payer's unit method.

    ## What it does
    Groups a claim's 15-minute timed lines by date of service and discipline (GP, GO, GN;
    the payer profile's `unit_grouping` decides), adds the minutes from the minutes sources
    (the `--minutes` CSV, including services performed but not billed, then 2400 NTE notes,
    then SV103 = MJ), and compares the units billed with what the payer's unit method
    allows:

    * CMS total-minutes method: fires when the day's timed units exceed
      ⌊(T + 7) / 15⌋ for the total timed minutes T (0 below 8 minutes).
    * Per-code method: fires for each code whose units exceed its own rounding.

    Untimed codes, codes timed in other increments and unlisted codes never count.

    Under the `default` profile (no payer profile matched, so the payer's method is not
    known) it is a warning, the message names the method that judged it, and the fix
    never removes a line.

    ## Why is this bad?
    Units above what the documented time supports are overbilling. Payers deny or
    recoup them (CARC 151, RARC M53) and repeated patterns invite medical review.

    ## Example
    97110 for 33 minutes and 97140 for 7 minutes (CMS Ex. 3): 40 minutes allow 3 units.
    Billing 3 units of 97110 and 1 of 97140 fires U101.

    ## Source
    Reference §1.2 (Pub. 100-04 Ch. 5 §20.2, unit chart and examples [V]), §1.3 (reference
    algorithm [D]), §1.6 (per-code method [S]). Default profile a warning: issue 10 item 6,
    expert review 2026-12 F8 (three 8-minute codes to a commercial payer that counts per code).

    ## Fix safety
    Unsafe: lowering SV104 changes what is billed. The fix moves the bill to the valid
    allocation closest to it (`details["target"]`, per line in `details["line_units"]`);
    under the default profile it refuses an allocation that takes a line to 0 units.
    """
    yield from _total_verdict(group, "U101", "allow")


# -- U102 ---------------------------------------------------------------------------------------
def units_below_minutes(group: UnitGroup) -> Iterator[Hit]:
    """Fewer timed units are billed than the minutes support (lost revenue).

    ## What it does
    Same grouping and methods as U101. Under the CMS method it fires when the day's timed
    units are below the allowed total; under the per-code method, for each code billed
    below its own rounding. Minutes of a timed service performed but not billed (a minutes
    row without a line) count toward the day, as in CMS Ex. 4.

    ## Why is this bad?
    Nothing is denied, but care that was documented is not paid. A clinic that always
    rounds down loses a unit every few visits.

    ## Example
    97112 for 24 minutes and 97110 for 23 minutes (CMS Ex. 1) allow 3 units; billing one
    unit of each fires U102.

    ## Source
    Reference §1.2 ("If the service is performed for at least 30 minutes, that service shall
    be billed for at least two units" [V]), §1.3 [D], §1.6 [S].

    ## Fix safety
    Unsafe, and applied only when U102 is selected explicitly: raising units adds charges
    nobody billed. The clinician must confirm the minutes first.
    """
    yield from _total_verdict(group, "U102", "support")


# -- U103 ---------------------------------------------------------------------------------------
def units_misallocated(group: UnitGroup) -> Iterator[Hit]:
    """The day's total is right (or under), but the split across codes is not one the CMS method allows.

    ## What it does
    Under the CMS total-minutes method, each code first gets one unit per full 15 minutes
    and the remaining units go to the codes with the largest leftover minutes; ties are the
    clinician's choice, so every tied choice is accepted. Fires when the billed units equal
    the allowed total but match none of those allocations, or fall below it while giving
    some code more units than any allocation does. Never fires under the per-code method.

    A code's therapist part and assistant part (CQ/CO) count as one code here; how its
    units split between them is the CMS assistant procedure (see U113). U103 also fires
    when CQ/CO is on a unit that procedure gives the therapist (PT 25 + PTA 1 minutes
    billed 97110-GP x1 + 97110-CQ-GP x1: 1 of the last 11 minutes is de minimis).

    ## Why is this bad?
    Codes are priced differently. Putting the extra unit on the wrong code overbills one
    service and underbills another; CMS examples 1, 3 and 4 exist to prevent exactly that.

    ## Example
    97110 for 18, 97140 for 13, 97116 for 10 and 97035 for 8 minutes (CMS Ex. 4) allow
    97110, 97140 and 97116 one unit each. Billing 97035 instead of 97116 fires U103.

    ## Source
    Reference §1.2 (Ex. 1-5 [V]/[S]/[M]; "assigning more timed units to the service that
    took the most time" [V]) and §1.3 (allocation algorithm [D]).

    ## Fix safety
    Unsafe: it moves units between lines. The fix uses the allocation that changes the
    fewest units (`details["target"]`), and is refused when that would move a unit from
    a CQ/CO line to the same code's line without it (the assistant's unit would be paid
    at the full rate; expert review 2026-12 F1).
    """
    assessment = group.assessment
    if assessment is None or "U103" not in assessment.verdicts:
        return
    valid = "; or ".join(_allocation_text(a) for a in assessment.allocations[:4])
    if len(assessment.allocations) > 4:
        valid += f" (and {len(assessment.allocations) - 4} more)"
    yield Hit(
        f"units on {group.where} are split {_allocation_text(assessment.billed)}, which the CMS "
        f"method does not allow for these minutes ({_services_text(group, assessment.billed)}); "
        f"valid: {valid}{_default_profile_note(group, assessment.method)}",
        at=_first_line(group, (*assessment.over, *assessment.under)),
        details=unit_details(group, assessment),
        fix=f"bill {_allocation_text(assessment.closest)}",
    )


# -- U113 ---------------------------------------------------------------------------------------
#: the profile whose claims the CQ/CO payment rule (SSA §1834(v)) certainly governs
MEDICARE_PROFILE = "medicare"


def assistant_modifier_under_applied(group: UnitGroup) -> Iterator[Hit]:
    """Units are billed without CQ/CO that the CMS assistant procedure gives CQ/CO.

    ## What it does
    Under the CMS total-minutes method, a code's therapist part (97110-GP) and assistant
    part (97110-CQ-GP, minutes from the line's CQ/CO or the minutes CSV's `clinician`
    column) are one service for the day's total. Each code's units are then split the CMS
    way: each clinician's full 15-minute blocks are theirs; one remaining unit carries
    CQ/CO when the assistant's remaining minutes are more than 10% of its minutes; two
    remaining units (each clinician 9-14 minutes) are one with CQ/CO and one without.
    Fires once per unit group, when the code totals are valid (or under) but some code is
    billed with more units without CQ/CO than that split allows. CQ/CO on a unit the split
    gives the therapist is U103. Silent under the per-code method: no source says how a
    payer counting per code applies CQ/CO, so each part is rounded on its own there.

    An error under the `medicare` profile; a warning under every other profile (the
    15% reduction is Medicare law; commercial payers that apply it do so by policy).

    ## Why is this bad?
    A unit furnished in part by an assistant is paid at 85% under Medicare. Billing it
    without CQ/CO claims the full rate for it: an overpayment and a compliance risk.

    ## Example
    CMS's own example: PTA 23 and PT 13 minutes of 97110, PT 30 minutes of 97140. Billed
    97110-GP x1 + 97110-CQ-GP x1 + 97140-GP x2, it fires: both 97110 units carry CQ (15 of
    the PTA's minutes, then 13 + 8 minutes with 8 of 21 above 10%). PT 20 + PTA 18 minutes
    billed 97110-GP x1 + 97110-CQ-GP x2 is correct.

    ## Source
    Reference §4.3: CMS "Billing Examples Using CQ/CO Modifiers for Services Furnished In
    Whole or In Part by PTAs and OTAs" [V]; de minimis 10% per billed unit (CY2020 PFS final
    rule, 84 FR 62702-62707) [S]; the 9-14 minute case (CY2022 PFS final rule) [S]. Expert
    review 2026-12 F1 and issue 10 item 1 (the worked examples). Only the assistant's
    minutes independent of the therapist count: record them so in the minutes CSV.

    ## Fix safety
    No fix: adding CQ/CO changes the line's modifiers and what is paid, and a unit fix
    never moves a unit between a CQ/CO line and a line without it. Re-bill from the record.
    """
    assessment = group.assessment
    if assessment is None or "U113" not in assessment.verdicts:
        return
    closest = assessment.closest
    minutes = group.minutes_by_service
    parts: dict = {}
    for service in minutes:
        code, assistant = assistant_part(service)
        parts.setdefault(code, {})[assistant] = service
    explained = []
    first = None
    for code, by_kind in parts.items():
        therapist = by_kind.get("")
        assistant_service = next((s for kind, s in by_kind.items() if kind), None)
        if therapist is None or assistant_service is None:
            continue
        if assessment.billed[therapist] <= closest[therapist]:
            continue
        kind = assistant_part(assistant_service)[1]
        first = first or _first_line(group, [therapist])
        explained.append(
            f"{code}: {_plural(assessment.billed[therapist], 'unit')} without {kind} and "
            f"{assessment.billed[assistant_service]} with it, but the therapist's {minutes[therapist]} and the "
            f"assistant's {minutes[assistant_service]} minutes make {_plural(closest[therapist], 'unit')} without "
            f"{kind} and {closest[assistant_service]} with it"
        )
    if not explained:
        return
    severity = None if group.claim.profile.name == MEDICARE_PROFILE else Severity.WARNING
    yield Hit(
        f"CQ/CO under-applied on {group.where}: {'; '.join(explained)} (CMS de minimis: a unit carries CQ/CO "
        f"when the assistant's minutes are more than 10% of it){_default_profile_note(group, assessment.method)}",
        at=first,
        details=unit_details(group, assessment),
        fixable=False,
        severity=severity,
    )


# -- U104 ---------------------------------------------------------------------------------------
def timed_line_without_minutes(group: UnitGroup) -> Iterator[Hit]:
    """A timed line has no minutes, although a minutes source was given.

    ## What it does
    Fires on each 15-minute timed line that no minutes source covers (no CSV row for its
    claim and LX, no minutes in its NTE note, not billed in MJ) when a minutes CSV was
    given or another line of the same group carries minutes. The group's units are then
    not judged at all: one missing service could change the day's total.

    ## Why is this bad?
    A line without documented time cannot be checked, and a payer's reviewer will ask for
    the same minutes. It usually means the EMR export missed a row or LX numbers moved.

    ## Source
    Reference §1.3 ("A checker can test the allocation across codes only when minutes per
    code are available" [D]) and §1.1/§1.2 (Pub. 100-04 Ch. 5 §20.2: units follow time [V]).

    ## Fix safety
    No fix: the minutes have to come from the record of care.
    """
    if not group.has_minutes_source:
        return
    for lv in group.missing_minutes:
        yield Hit(
            f"timed {lv.procedure} has no minutes in any minutes source, so the timed units of "
            f"{group.where} were not checked",
            at=lv,
            details={"lines": [x.lx for x in group.lines]},
        )


# -- U105 ---------------------------------------------------------------------------------------
def timed_code_split_or_range(claim: ClaimContext) -> Iterator[Hit]:
    """A timed code on one date is split over several lines without a reason, or a timed line uses a date range.

    ## What it does
    Fires on the second and later lines of a 15-minute timed code billed more than once on
    one date of service in a claim, unless the lines differ in a way that sets them apart:
    an assistant modifier on one part (CQ/CO), a different discipline modifier, or a
    different rendering provider. Other modifiers (59, KX, RT/LT) are not a reason.
    Also fires on a timed line whose DTP*472 is a date range (RD8 with two dates).

    ## Why is this bad?
    MACs reject timed codes that are not reported once per date of service on a single
    line (FCSO/First Coast: rejected from April 19, 2021). Split lines also look like
    duplicates (CARC 18) and a range hides how many units fell on each day.

    ## Source
    Reference §1.5 (FCSO/JN line-level reporting rules [V]; checker rule "merge split lines
    ... unless a legitimate modifier split exists, such as CQ versus no CQ").

    ## Fix safety
    No fix yet: merging lines renumbers LX and changes charges.
    """
    timed = [lv for lv in claim.lines if lv.unit_class == "timed15"]
    if len({lv.procedure for lv in timed}) == len(timed) and not any(
        lv.line.service_date is not None and lv.line.service_date.is_range for lv in timed
    ):
        return  # no code twice and no range: nothing to report
    seen: dict[tuple, LineView] = {}
    for lv in timed:
        service_date = lv.line.service_date
        if service_date is not None and service_date.is_range:
            yield Hit(
                f"timed {lv.procedure} is billed over a date range (RD8); report each date of service "
                f"on its own line",
                at=lv,
                details={"kind": "range"},
            )
            continue
        if lv.dos is None:
            continue
        key = (lv.procedure, lv.dos, lv.assistant, lv.discipline, lv.npi)
        first = seen.setdefault(key, lv)
        if first is not lv:
            yield Hit(
                f"timed {lv.procedure} on this date is already billed on line {first.lx_text}; report "
                f"one line per code and date (only a CQ/CO part, another discipline or another "
                f"rendering provider justifies a second line)",
                at=lv,
                details={"kind": "split", "first_line": first.lx, "first_segment": first.segment},
            )


# -- U106 ---------------------------------------------------------------------------------------
def _corroborated(lv: LineView) -> bool:
    return lv.minutes is not None and lv.units is not None and lv.units <= units_for_minutes(lv.minutes)


def units_look_like_minutes(claim: ClaimContext) -> Iterator[Hit]:
    """Units look like minutes: SV104 above 8 on one timed code, or a date's timed units imply more than 8 hours.

    ## What it does
    Fires on a 15-minute timed line billed in UN with more than 8 units (2 hours of one
    service), and once per date of service (at its first timed line) when the claim's
    15-minute units on that date add up to more than 32 (8 hours) and no single line of
    that date was flagged already. Minutes that support
    the units silence it: a line whose own minutes round to at least its units, or a date
    whose lines all have minutes that allow the total.

    ## Why is this bad?
    The usual cause is minutes typed into the units field (97110 billed as 38 units). Payers deny the
    line or pay it as 38 units and recoup later (CARC 151, MUE edits).

    ## Source
    Reference §7 ("warn when SV104 > 8 on a single 15-minute code, or when the units on a
    date imply more than 6-8 hours" [D heuristic]) and §5 (SV104 carries units [V map]).

    ## Fix safety
    No fix: only the minutes can say what the units should be (U101 fixes it when they are
    known).
    """
    timed = [lv for lv in claim.lines if lv.unit_class == "timed15" and lv.units is not None]
    if sum(lv.units for lv in timed) <= MAX_DAY_UNITS and all(lv.units <= MAX_LINE_UNITS for lv in timed):
        return
    by_date: dict = {}
    flagged_dates = set()
    for lv in timed:
        if lv.basis != "UN":
            continue
        by_date.setdefault(lv.dos, []).append(lv)
        if lv.units > MAX_LINE_UNITS and not _corroborated(lv):
            flagged_dates.add(lv.dos)
            yield Hit(
                f"{lv.units} units of timed {lv.procedure} on one line is more than {MAX_LINE_UNITS} "
                f"(2 hours); SV104 may hold minutes instead of units",
                at=lv,
                details={"kind": "line", "units": lv.units, "limit": MAX_LINE_UNITS},
            )
    for dos, lines in by_date.items():
        total = sum(lv.units for lv in lines)
        if total <= MAX_DAY_UNITS or dos in flagged_dates:
            continue
        if all(lv.minutes is not None for lv in lines) and total <= units_for_minutes(
            sum(lv.minutes for lv in lines)
        ):
            continue
        yield Hit(
            f"{total} timed units on one date (lines {', '.join(lv.lx_text for lv in lines)}) imply more "
            f"than 8 hours of one-on-one care; the units may be minutes",
            at=lines[0],
            details={"kind": "day", "units": total, "limit": MAX_DAY_UNITS, "lines": [lv.lx for lv in lines]},
        )


# -- U107 ---------------------------------------------------------------------------------------
def _mj_target(lv: LineView) -> int | None:
    """The units an MJ line should carry in UN: its share of the closest valid allocation of
    its group, judging the other lines as billed; per-line rounding when the group is not
    fully known."""
    if lv.minutes is None:
        return None
    group = next((g for g in lv.claim.groups if lv in g.lines), None)
    if group is None or any(x.minutes is None for x in group.lines):
        return units_for_minutes(lv.minutes)
    from ..units import assess

    minutes = group.minutes_by_service
    # the assessment's allocations: under CMS a code's CQ/CO part is split by the assistant procedure
    allocations = assess(minutes, {}, group.method).allocations  # type: ignore[arg-type]
    known = {}
    for x in group.lines:
        if x.basis == "UN" and x.units is not None:
            known[x.service_key] = known.get(x.service_key, 0) + x.units

    def cost(indexed):
        index, allocation = indexed
        return (sum(abs(allocation.get(k, 0) - u) for k, u in known.items()), index)

    _, best = min(enumerate(allocations), key=cost)
    return best.get(lv.service_key, 0)


def minutes_basis_on_therapy_code(line: LineView) -> Iterator[Hit]:
    """SV103 is MJ (minutes, meant for anesthesia) on a therapy code; therapy is billed in UN units.

    ## What it does
    Fires on any line of a therapy code in `maps/codes.xml` whose SV103 unit basis is MJ.
    The minutes in SV104 are still used as a minutes source for the 8-minute rule, but the
    line's units are not judged until it is billed in UN.

    ## Why is this bad?
    MJ is the anesthesia time basis. A payer reads 38 MJ on 97110 as 38 units or rejects
    the line (RARC M53).

    ## Source
    Reference §5 ("MJ is for anesthesia time ... Therapy timed codes go as UN units computed
    with the 8-minute rule. Minutes are not a legitimate SV104 value for 97xxx" [V map,
    TR3 example]).

    ## Fix safety
    Unsafe: the fix rewrites SV103 to UN and SV104 to the units the minutes allow
    (`details["units"]`), which changes what is billed. Only 15-minute timed codes get a fix.
    """
    if line.basis != "MJ" or line.info is None:
        return
    units = _mj_target(line) if line.is_timed15 else None
    yield Hit(
        f"{line.procedure} is billed in MJ (anesthesia minutes); therapy is billed in UN units",
        at=line,
        details={"minutes": line.units, "units": units},
        fix=f"bill {_plural(units, 'unit')} (UN) for {line.units} minutes" if units is not None else "",
        fixable=units is not None and units > 0,
    )


# -- U108 ---------------------------------------------------------------------------------------
def untimed_code_multiple_units(claim: ClaimContext) -> Iterator[Hit]:
    """An untimed code (an evaluation, 97150, G0283 ...) is billed with more than one unit for one session.

    ## What it does
    Adds the units of each untimed code in `maps/codes.xml` per session: the code, the
    date of service, the discipline (GP/GO/GN, else the code's own) and the rendering
    provider (2420A, else 2310B), over all the claim's lines, and fires at the session's
    first line when the total is above 1. A PT group (97150-GP) and an OT group
    (97150-GO) on one day are two sessions under two plans of care, so no finding.
    It is a warning, and an error on an evaluation or re-evaluation (`evaluation="true"`
    in `maps/codes.xml`: 97161-97172, 92521-92524, 92610), which is never billed twice
    for one discipline and date.

    ## Why is this bad?
    Untimed codes are reported once per session, "regardless of the number of minutes".
    Extra units are denied (CARC 151) or treated as duplicates (CARC 18); a second
    evaluation unit is denied outright (MUE 1 with a date-of-service MAI).

    ## Source
    Reference §1.2 (§20.2.B: "Regardless of the number of minutes spent providing this
    service only one unit of service is appropriately billed on the same day" [M, S
    chirocode]) and §2 (untimed code list [V]). Sessions per discipline and rendering
    provider, and the evaluation error: issue 10 and expert review 2026-12 F6, F15
    (evaluations MUE 1, MAI 2 [M]; reference §3.5 table: 92610 MUE 1, MAI 2 [V, 2017]).

    ## Fix safety
    No fix: whether a second session happened is a clinical fact.
    """
    totals: dict = {}
    for lv in claim.lines:
        if lv.unit_class != "untimed" or lv.units is None or lv.dos is None:
            continue
        # one session: one code, date, plan of care (discipline) and rendering provider
        entry = totals.setdefault((lv.procedure, lv.dos, lv.discipline, lv.npi), [0, []])
        entry[0] += lv.units
        entry[1].append(lv)
    for (procedure, *_), (units, lines) in totals.items():
        if units > 1:
            where = ", ".join(lv.lx_text for lv in lines)
            lines_word = f"line{'s' if len(lines) > 1 else ''} {where}"
            if lines[0].info is not None and lines[0].info.evaluation:
                yield Hit(
                    f"evaluation {procedure} is billed with {units} units for one discipline on one date "
                    f"({lines_word}); an evaluation is billed once",
                    at=lines[0],
                    details={"units": units, "lines": [lv.lx for lv in lines], "evaluation": True},
                    severity=Severity.ERROR,
                )
                continue
            yield Hit(
                f"untimed {procedure} is billed with {units} units in one session ({lines_word}: same date, "
                f"discipline and rendering provider); untimed codes are billed once per session",
                at=lines[0],
                details={"units": units, "lines": [lv.lx for lv in lines]},
            )


# -- U109 / U110: the minutes sources themselves ----------------------------------------------
def minutes_row_unusable(problem: MinutesProblem) -> Iterator[Hit]:
    """A minutes CSV row cannot be used: unreadable, incomplete, duplicated or impossible to place.

    ## What it does
    Reports every problem found in the `--minutes` CSV with its row number (the header is
    row 1): a missing or unknown column, a row with the wrong number of fields, an empty
    claim_id, a line that is not a positive whole number, minutes that are missing, not a
    whole number, negative or more than a day (1,440) on one line, a bad service_date, an
    unbilled row (empty line) without procedure and service_date, a second row for the same
    claim and line, an unbilled row whose date has timed lines of several disciplines on its
    claim (the engine cannot tell whose minutes they are), a `clinician` other than
    `therapist`/`assistant`, a billed row whose `clinician` contradicts its line's CQ/CO,
    an unbilled assistant row on a day with no assistant modifier (SLP), and the rows that give one
    rendering provider more than 1,440 minutes on one date of a claim (each of them). The
    row is left out; the lines it would have covered get U104.

    ## Why is this bad?
    A row that is silently dropped turns into wrong unit advice: the day's total shrinks
    and a correct bill looks overbilled.

    ## Source
    Reference §1.3 (per-code minutes are needed to judge the allocation [D]) and §5
    (minutes are not on the 837P; they come from the record of care [V]).

    ## Fix safety
    No fix: correct the export.
    """
    yield Hit(problem.message)


def minutes_row_unknown_reference(problem: MinutesProblem) -> Iterator[Hit]:
    """A minutes CSV row names a claim or a line that the checked files do not have.

    ## What it does
    Fires once per claim_id (CLM01) that is in none of the files checked in the run (at its
    first row, listing its first ten rows), reported under the CSV's name, for the first ten
    such claims; the rows of any further ones are counted in one more finding, since an EMR
    export covering a period names many claims a batch does not have. When no row names a
    checked claim at all, the first finding says that claim_id must be CLM01. A repeated row
    of such a claim is one of its rows here, not a U109. It also fires for each row whose
    line (LX01) is not a line of its claim, reported on the claim.

    ## Why is this bad?
    Usually the export and the claim file disagree: LX numbers moved when a line was
    deleted, or the export covers another batch. Minutes attached to the wrong line make
    every unit check on that claim wrong.

    ## Source
    Reference §5 (LX01 "Sequential from 1" [M]; CLM01 is the patient control number [V map])
    and §1.3 [D].

    ## Fix safety
    No fix: correct the export or the claim file.
    """
    yield Hit(problem.message)


# -- U111 ---------------------------------------------------------------------------------------
def therapy_code_non_unit_basis(line: LineView) -> Iterator[Hit]:
    """A therapy code is billed in a unit basis other than UN (units) or MJ (reported by U107).

    ## What it does
    Fires on a line of a code in `maps/codes.xml` whose SV103 is neither UN nor MJ (for
    example DA, days, or F2, international units), or is empty.

    ## Why is this bad?
    Therapy services are counted in units. Any other basis makes the payer misread SV104
    or reject the line as invalid (RARC M53).

    ## Source
    Reference §5 (SV103 "MJ = minutes, UN = unit"; "Therapy timed codes go as UN units"
    [V map]) and §1.2 (units per §20.2 [V]).

    ## Fix safety
    No fix: the right units depend on what SV104 was meant to hold.
    """
    if line.info is None or line.basis in ("UN", "MJ"):
        return
    shown = line.line.unit_basis or "empty"
    yield Hit(f"{line.procedure} is billed in unit basis {shown!s}; therapy is billed in UN units", at=line)


# -- U112 ---------------------------------------------------------------------------------------
def units_not_positive_whole(line: LineView) -> Iterator[Hit]:
    """SV104 is missing, zero, negative or fractional on a therapy line.

    ## What it does
    Fires on a line of a code in `maps/codes.xml` whose SV104 is not a whole number of at
    least 1. Lines it fires on are left out of the 8-minute rule.

    ## Why is this bad?
    Therapy units are whole 15-minute units or whole sessions; clearinghouses reject units
    of zero or less, and a fraction is read differently by each payer.

    ## Source
    Reference §5 (SV104 Service Unit Count, required [V map]) and §1.2 (units are whole
    15-minute units; untimed codes bill "1" [V/M]).

    ## Fix safety
    No fix: the intended count is unknown.
    """
    if line.info is None or line.line.sv1_index is None:
        return
    if line.units is not None and line.units >= 1:
        return
    shown = line.line.units_raw or "empty"
    yield Hit(f"{line.procedure} has SV104 {shown}; units must be a whole number of at least 1", at=line)


__all__ = [
    "MAX_DAY_UNITS",
    "MAX_LINE_UNITS",
    "line_targets",
    "minutes_basis_on_therapy_code",
    "minutes_row_unknown_reference",
    "minutes_row_unusable",
    "service_id",
    "service_name",
    "therapy_code_non_unit_basis",
    "timed_code_split_or_range",
    "timed_line_without_minutes",
    "unit_details",
    "units_below_minutes",
    "units_exceed_minutes",
    "units_look_like_minutes",
    "units_misallocated",
    "units_not_positive_whole",
    "untimed_code_multiple_units",
    "assistant_modifier_under_applied",
]
