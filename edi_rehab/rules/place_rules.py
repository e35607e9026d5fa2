"""Place-of-service rules: the Medicare telehealth list and the therapists' telehealth authority by
date (M222), and settings whose therapy the facility bills, not the therapist (M223, M224).

Which place of service is which setting, which therapy code is on the Medicare Telehealth Services
List when, and when therapists could furnish Medicare telehealth all come from ``maps/places.xml``.
They speak for payer profiles with ``medicare-coverage`` (the shipped ``medicare`` profile): other
payers set their own telehealth and facility-billing rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from ..findings import Severity
from ..mapdata import ModifierPolicy
from .base import ClaimContext, Hit, LineView


def _place(claim: ClaimContext, lv: LineView) -> tuple[str, str]:
    """(place of service, where it was read): SV105 when the line has one, else CLM05-1."""
    if lv.line.place_of_service:
        return lv.line.place_of_service, "SV105"
    return claim.claim.place_of_service, "CLM05-1"


@lru_cache(maxsize=8)
def telehealth_modifier_set(policy: ModifierPolicy) -> frozenset[str]:
    """Every modifier of the ``telehealth`` class in ``modifiers.xml`` (95, 93, FQ, GT)."""
    return frozenset(code for code, info in policy.modifiers.items() if info.modifier_class == "telehealth")


def _telehealth_modifiers(lv: LineView) -> list[str]:
    """95 and 93 on the line (GT, institutional-only on an 837P, is M215's)."""
    policy = lv.claim.maps.modifiers
    return [
        m for m in lv.modifiers
        if policy.class_of(m) == "telehealth" and (info := policy.info(m)) is not None and info.institutional_only is None
    ]


# -- M222 ---------------------------------------------------------------------------------------
def telehealth_not_covered(claim: ClaimContext) -> Iterator[Hit]:
    """A therapy line furnished by telehealth is not payable as Medicare telehealth on its date of service.

    ## What it does
    On a claim whose payer profile has `medicare-coverage`, takes each line with GP, GO or GN that
    is a telehealth line (place of service 02 or 10, from SV105 or else CLM05-1, or modifier 95 or
    93) and a date of service, and reads `maps/places.xml`:
    - when no period of the therapists' Medicare telehealth authority holds the date (before
      2020-03-01, or after the last extension on file: 2027-12-31), it warns that therapists were
      not Medicare telehealth practitioners that day;
    - when the date falls in a lapse that a later law restored retroactively (2025-10-01 to
      2025-11-11, 2026-01-31 to 2026-02-02), it says so at info level: the line is payable, but
      MACs held such claims, so a denial of it is worth a reopening;
    - otherwise, when the code is on file as never on the Medicare Telehealth Services List (97140,
      the modalities) or as listed only from a later date (97550-97552 from 2025), it warns.
    A code `places.xml` does not name is not judged.

    ## Why is this bad?
    Medicare pays a telehealth service only when the code is on the Medicare Telehealth Services
    List for the date and the practitioner may furnish telehealth; physical and occupational
    therapists and speech-language pathologists may only through temporary laws, which lapsed twice.
    A line that fails either test is denied; billed as in person, it misstates the visit.

    ## Source
    Reference §5 (CLM05-1 and SV105 carry the place of service [M TR3]); the rule: expert review
    2026-12 F14 and issue 10 ("codes not on the Medicare telehealth list for the date of service";
    "therapist telehealth authority is date-dependent (it lapsed 10/1–11/12/2025)") [M]; the list
    and the periods with their sources and confidence: `maps/places.xml` (APTA 2020 code list [V],
    CMS 2020 additions and CY2025 caregiver-training codes [S], the extending laws H.R. 5371 and
    H.R. 7148 [S]).

    ## Fix safety
    No fix: whether the visit was by telehealth, and what to bill instead, is the clinic's to say.
    """
    if not claim.profile.medicare_coverage:
        return
    places = claim.maps.places
    for lv in claim.lines:
        if not lv.disciplines or lv.dos is None:
            continue
        pos, where = _place(claim, lv)
        modifiers = _telehealth_modifiers(lv)
        if places.setting(pos) != "telehealth" and not modifiers:
            continue
        how = f"POS {pos} ({where})" if places.setting(pos) == "telehealth" else "/".join(modifiers)
        dos = lv.dos.isoformat()
        period = places.authority_on(lv.dos)
        if period is None:
            yield Hit(
                f"{lv.procedure} is billed as telehealth ({how}) on {dos}, when therapists were not Medicare "
                f"telehealth practitioners (no authority period in maps/places.xml holds the date)",
                at=lv,
                details={"reason": "no-authority", "date": dos},
            )
            continue
        if period.status == "lapsed-restored":
            yield Hit(
                f"{lv.procedure} by telehealth ({how}) on {dos} falls in a lapse of the therapists' Medicare "
                f"telehealth authority that a later law restored retroactively ({period.label}); it is payable, "
                f"and a denial of it should be reopened",
                at=lv,
                details={"reason": "lapsed-restored", "date": dos},
                severity=Severity.INFO,
            )
        listing = places.telehealth.get(lv.procedure)
        if listing is not None and not listing.listed_on(lv.dos):
            since = f" until {listing.start.isoformat()}" if listing.listed and listing.start else ""
            yield Hit(
                f"{lv.procedure} is billed as telehealth ({how}) but is not on the Medicare Telehealth Services "
                f"List{since} for {dos}; Medicare denies it as telehealth",
                at=lv,
                details={"reason": "not-listed", "date": dos},
            )


def _facility_lines(claim: ClaimContext, settings: frozenset[str]) -> Iterator[tuple[LineView | ClaimContext, str, str]]:
    """(where to report, place of service, where it was read) for the therapy lines at one of
    ``settings``: once at the claim for CLM05-1, on the line for an SV105 of its own."""
    places = claim.maps.places
    claim_reported = False
    for lv in claim.lines:
        if not lv.disciplines:
            continue
        pos, where = _place(claim, lv)
        if places.setting(pos) not in settings:
            continue
        if where == "SV105":
            yield lv, pos, where
        elif not claim_reported:
            claim_reported = True
            yield claim, pos, where


# -- M223 ---------------------------------------------------------------------------------------
def hospital_outpatient_place(claim: ClaimContext) -> Iterator[Hit]:
    """Therapy on a professional claim at a hospital outpatient place of service (POS 19 or 22).

    ## What it does
    On a claim whose payer profile has `medicare-coverage`, fires when a line with GP, GO or GN has
    place of service 19 (off-campus outpatient hospital) or 22 (on-campus outpatient hospital),
    from SV105 or else CLM05-1: once on the claim for CLM05-1, on the line for its own SV105.

    ## Why is this bad?
    Outpatient therapy to a hospital outpatient is the hospital's service: the hospital bills it on
    its institutional claim (837I). A therapist in private practice cannot bill Medicare on an 837P
    for a hospital's outpatient, so the line is denied or paid at the facility rate to the wrong
    party. It is a warning, not an error: the reference does not state the rule (only the expert
    review does), and a claim keyed with the hospital's POS for a service in the therapist's own
    office is a POS error rather than a billing-party error.

    ## Source
    Reference §5 (CLM05-1 and SV105 carry the place of service [M TR3]); the rule: expert review
    2026-12 F14 and issue 10 ("POS 19/22 on a private-practice professional claim (hospital
    outpatient therapy is billed by the hospital on the 837I)") [M]; the codes: `maps/places.xml`
    (CMS place-of-service code set [M]). Listed as a disputed point in `docs/disputed-points.md`.

    ## Fix safety
    No fix: the right place of service, or the right billing party, is not in the file.
    """
    if not claim.profile.medicare_coverage:
        return
    for at, pos, where in _facility_lines(claim, frozenset({"hospital-outpatient"})):
        yield Hit(
            f"therapy billed on a professional claim at place of service {pos} ({where}, "
            f"{claim.maps.places.labels.get(pos, 'outpatient hospital').lower()}): Medicare outpatient therapy to a "
            f"hospital outpatient is billed by the hospital on its 837I; check the place of service and who bills",
            at=at,
            details={"place_of_service": pos, "where": where},
        )


# -- M224 ---------------------------------------------------------------------------------------
def skilled_nursing_place(claim: ClaimContext) -> Iterator[Hit]:
    """Therapy on a professional claim at a skilled nursing or nursing facility (POS 31 or 32): consolidated billing risk.

    ## What it does
    On a claim whose payer profile has `medicare-coverage`, fires when a line with GP, GO or GN has
    place of service 31 (skilled nursing facility) or 32 (nursing facility), from SV105 or else
    CLM05-1: once on the claim for CLM05-1, on the line for its own SV105.

    ## Why is this bad?
    SNF consolidated billing makes the SNF bill the physical, occupational and speech therapy of
    its residents, in a Part A stay and, for therapy, in a Part B stay as well: an outside
    therapist's claim is denied as billed to the wrong party (CARC 109) and the therapist is paid
    by the SNF under arrangement. At POS 32 the risk applies when the resident's bed is in the
    facility's Medicare-certified SNF part. It is a warning: the claim alone cannot tell whether
    the patient was a SNF resident on the date.

    ## Source
    Reference §7 (CARC 109: "SNF consolidated billing" among its therapy causes [M]); the rule:
    expert review 2026-12 F14 and issue 10 ("POS 31/32 (SNF consolidated billing risk)") [M]; the
    codes: `maps/places.xml` (CMS place-of-service code set [M]).

    ## Fix safety
    No fix: whether the SNF bills the service is a fact about the patient's stay.
    """
    if not claim.profile.medicare_coverage:
        return
    for at, pos, where in _facility_lines(claim, frozenset({"skilled-nursing", "nursing-facility"})):
        snf = claim.maps.places.setting(pos) == "skilled-nursing"
        risk = (
            "consolidated billing makes the SNF bill its residents' therapy (CARC 109 when the therapist bills it)"
            if snf
            else "if the resident is in the facility's Medicare-certified SNF part, consolidated billing makes the "
            "SNF bill the therapy (CARC 109)"
        )
        yield Hit(
            f"therapy billed on a professional claim at place of service {pos} ({where}, "
            f"{claim.maps.places.labels.get(pos, 'nursing facility').lower()}): {risk}",
            at=at,
            details={"place_of_service": pos, "where": where},
        )
