"""What the history says about a file being checked: lines already sent (L701), and each
patient's year-to-date therapy amounts for the KX threshold.

The queries read the ledger; the decisions are pure functions over the rows, so they are
tested on rows as well as through the CLI.

L701 duplicate-submission
-------------------------
See :data:`DUPLICATE_DOC` (``edi-rehab rule L701``).

Year to date
------------
:func:`year_to_date` sums, per patient, calendar year and threshold bucket (PT and SLP
together, OT apart: reference §4.2), the allowed amounts the recorded 835s give for the
patient's recorded lines (AMT*B6, else what the payer paid plus the patient's share), and
separately the charges of recorded lines no 835 has answered yet (pending: a line is never
allowed more than it charges, so it is an upper bound). Each recorded claim counts once: a
claim sent again (same patient and CLM01, overlapping dates of service) counts as its last copy, a replacement (REF*F8 =
the CLP07 an 835 gave the original) instead of the original, a void not at all.

``check --ledger`` asks :func:`claim_year_to_date` for each claim it checks: the same sums
without the file being checked and without the claims that claim stands for (its earlier
copies, the claim it replaces), so neither a re-run nor a resubmission counts a claim twice.
``edi_rehab.threshold.assess_buckets`` (rules C413, C414) takes ``year_to_date`` keyed
``(year, bucket)``: :meth:`YearToDate.amounts` is that mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from typing import TYPE_CHECKING

from ..findings import Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from .facts import ClaimFileFacts

# The queries import SQLAlchemy when they run, so `edi-rehab rule L701` needs no database layer.

__all__ = ["DUPLICATE", "DUPLICATE_DOC", "DUPLICATE_NAME", "BUCKETS", "EarlierLine", "YearToDate", "RecordedLine",
           "duplicate_findings", "earlier_lines", "explanation_json", "recorded_lines", "superseded_claims", "overlaps", "claim_year_to_date", "year_to_date"]

DUPLICATE = "L701"
DUPLICATE_NAME = "duplicate-submission"

DUPLICATE_DOC = """A line already sent in an earlier file, on a claim that is not a replacement or void.

## What it does
With a ledger, `check` compares each service line of a claim whose frequency (CLM05-3) is
not 7 (replacement) or 8 (void) with the lines recorded from earlier files: the same
patient (keyed hash of the member id and payer), the same rendering provider, date of
service, procedure, modifiers (in any order) and units. A match is reported on the new line,
naming the earlier claim and file. Earlier lines of a void (frequency 8) do not count, nor
lines whose 835 match told to send a new claim (an unprocessable claim returned with MA130,
which has no appeal rights and is billed again as new).

## Why is this bad?
A payer that has the service on file denies the second original claim as a duplicate (CARC
18); resending a denied claim as new is denied the same way (Medicare Part B in particular).
A change to a claim already sent goes as a replacement (frequency 7 with REF*F8 = the payer's
claim number, CLP07) or, for Medicare Part B, a reopening; a second, distinct service the
same day is told apart with a repeat-procedure modifier (76, 77), which makes the line differ.

## Source
Reference §7 (CARC 18, exact duplicate claim or service [V]) and §5 (CLM05-3 frequency 1, 7, 8
and REF*F8 on replacements and voids [M]); expert review 2026-12 F3 (a resubmitted denied claim
is denied as a duplicate, CO-18; only MA130 returns are sent again as new claims [V]).

## Fix safety
No fix: whether to drop the line, send a replacement or add 76/77 is the biller's call, from
the record of what was done.
"""

#: discipline modifier -> threshold bucket (reference §4.2: PT and SLP share one amount, OT
#: has its own); the names are those of ``edi_rehab.threshold``
BUCKETS: Mapping[str, str] = {"GP": "PT+SLP", "GN": "PT+SLP", "GO": "OT"}


def explanation_json() -> dict:
    """L701 in the shape of ``Rule.to_json()`` (for ``rules --format json``)."""
    return {
        "code": DUPLICATE,
        "name": DUPLICATE_NAME,
        "severity": Severity.ERROR.value,
        "scope": "ledger",
        "fix": None,
        "summary": DUPLICATE_DOC.split("\n", 1)[0].rstrip("."),
        "doc": DUPLICATE_DOC,
    }


@dataclass(frozen=True, slots=True)
class EarlierLine:
    """A line recorded from an earlier file, as the duplicate check compares it."""

    patient_hash: str
    rendering_npi: str
    service_date: date | None
    procedure: str
    modifier_set: str
    units: str
    clm01: str
    frequency: str
    file_name: str
    file_id: int
    #: match told to send this line's claim again as new (an MA130 return)
    resend: bool = False

    @property
    def key(self) -> tuple:
        return (self.patient_hash, self.rendering_npi, self.service_date, self.procedure, self.modifier_set, self.units)


def earlier_lines(conn, patient_hashes: Iterable[str], before_file: int | None) -> list[EarlierLine]:
    """The recorded lines of these patients from files recorded before ``before_file``
    (every file when None)."""
    from sqlalchemy import select

    from . import schema as s

    hashes = sorted({h for h in patient_hashes if h})
    resend = (
        select(s.matches.c.line_id)
        .where(s.matches.c.action == "new-claim", s.matches.c.line_id.is_not(None))
        .scalar_subquery()
    )
    out = []
    for batch in s.in_batches(hashes):
        query = (
            select(
                s.lines.c.patient_hash, s.lines.c.rendering_npi, s.lines.c.service_date, s.lines.c.procedure,
                s.lines.c.modifier_set, s.lines.c.units, s.claims.c.clm01, s.claims.c.frequency,
                s.files.c.name, s.files.c.id, s.lines.c.id.in_(resend).label("resend"),
            )
            .join(s.claims, s.claims.c.id == s.lines.c.claim_id)
            .join(s.files, s.files.c.id == s.lines.c.file_id)
            .where(s.lines.c.patient_hash.in_(batch))
        )
        if before_file is not None:
            query = query.where(s.files.c.id < before_file)
        out.extend(EarlierLine(*row[:10], bool(row[10])) for row in conn.execute(query))
    return out


def duplicate_findings(facts: ClaimFileFacts, earlier: Sequence[EarlierLine], severity: Severity = Severity.ERROR) -> list[Finding]:
    """L701 on each line of ``facts`` (a file being checked) that an earlier line repeats.

    Pure. A claim with frequency 7 or 8 is exempt (it replaces or voids what was sent);
    earlier lines of voids, and of claims match said to send again as new, never count."""
    sent: dict[tuple, EarlierLine] = {}
    for line in earlier:
        if line.frequency == "8" or line.resend or line.service_date is None:
            continue
        sent.setdefault(line.key, line)
    if not sent:
        return []
    found = []
    for item in facts.claims:
        claim = item.claim
        if claim["frequency"] in ("7", "8"):
            continue
        for line in item.lines:
            key = (line["patient_hash"], line["rendering_npi"], line["service_date"], line["procedure"], line["modifier_set"], line["units"])
            before = sent.get(key)
            if before is None:
                continue
            mods = f" ({line['modifiers']})" if line["modifiers"] else ""
            found.append(Finding(
                code=DUPLICATE,
                severity=severity,
                message=(
                    f"{line['procedure']}{mods} x{line['units']} on {line['service_date'].isoformat()} for this patient and "
                    f"rendering provider was already sent on claim {before.clm01} in {before.file_name}; a second original "
                    "claim is denied as a duplicate (CARC 18): send a replacement (frequency 7 with REF*F8) to change "
                    "what was sent, or 76/77 for a second service"
                ),
                segment=line["start_segment"],
                claim_id=claim["clm01"],
                line=line["lx"],
                procedure=line["procedure"],
                details={"earlier_claim": before.clm01, "earlier_file": before.file_name},
            ))
    return found


# --------------------------------------------------------------------------------------------
# Year to date, for the KX threshold
# --------------------------------------------------------------------------------------------


@dataclass
class YearToDate:
    """One patient's amounts by (calendar year, bucket), in dollars."""

    allowed: dict[tuple[int, str], Decimal] = field(default_factory=dict)
    pending: dict[tuple[int, str], Decimal] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """Whether the ledger holds any amount for the patient."""
        return bool(self.allowed or self.pending)

    def amounts(self, *, with_pending: bool = True) -> dict[tuple[int, str], Decimal]:
        """The ``year_to_date`` mapping the threshold arithmetic takes."""
        total = dict(self.allowed)
        if with_pending:
            for key, value in self.pending.items():
                total[key] = total.get(key, Decimal(0)) + value
        return total


def bucket_of_modifiers(modifiers: str) -> str | None:
    for modifier in modifiers.split(","):
        bucket = BUCKETS.get(modifier)
        if bucket is not None:
            return bucket
    return None


@dataclass(frozen=True, slots=True)
class RecordedLine:
    """A recorded 837P therapy line as the year-to-date counts it: its claim, when it was
    recorded, and what the latest 835 matched to it says (None: no 835 answered it)."""

    patient_hash: str
    service_date: date
    bucket: str
    charge_cents: int
    allowed_cents: int | None
    claim_row: int
    file_id: int
    clm01: str
    frequency: str
    #: REF*F8 of the claim (the payer's number of the claim it replaces or voids)
    original_reference: str
    #: CLP07 the payer gave the claim in a recorded 835 ('' when none answered it)
    payer_claim_number: str
    #: the claim's first and last dates of service
    first_date: date | None = None
    last_date: date | None = None

    @property
    def span(self) -> tuple[date, date] | None:
        return None if self.first_date is None else (self.first_date, self.last_date or self.first_date)


def recorded_lines(conn, patient_hashes: Iterable[str], *, excluding_file: int | None = None, through: date | None = None) -> list[RecordedLine]:
    """The recorded lines of these patients that belong to a threshold bucket, from every
    file but ``excluding_file`` (the file being checked, when it was recorded before), dated
    up to ``through`` (all when None).

    A line answered by a recorded 835 (a match row pointing at it) carries its allowed amount:
    AMT*B6 when the payer sent it, else the paid amount plus the patient-responsibility
    adjustments; when several 835s answered it, the latest. Lines without a discipline
    modifier belong to no bucket and are left out."""
    from sqlalchemy import func, select

    from . import schema as s

    hashes = sorted({h for h in patient_hashes if h})
    if not hashes:
        return []
    latest = (
        select(s.matches.c.line_id, func.max(s.matches.c.id).label("match_id"))
        .where(s.matches.c.line_id.is_not(None), s.matches.c.service_payment_id.is_not(None))
        .group_by(s.matches.c.line_id)
        .subquery()
    )
    patient_share = (
        select(s.adjustments.c.service_payment_id, func.sum(s.adjustments.c.amount_cents).label("pr_cents"))
        .where(s.adjustments.c.group_code == "PR", s.adjustments.c.service_payment_id.is_not(None))
        .group_by(s.adjustments.c.service_payment_id)
        .subquery()
    )
    # the payer's claim number (CLP07) of each recorded claim an 835 answered: what a
    # replacement's REF*F8 names
    numbered = (
        select(s.matches.c.claim_id, func.max(s.claim_payments.c.payer_claim_number).label("payer_claim_number"))
        .join(s.claim_payments, s.claim_payments.c.id == s.matches.c.claim_payment_id)
        .where(s.matches.c.claim_id.is_not(None), s.claim_payments.c.payer_claim_number != "")
        .group_by(s.matches.c.claim_id)
        .subquery()
    )
    out = []
    for batch in s.in_batches(hashes):
        query = (
            select(
                s.lines.c.patient_hash, s.lines.c.service_date, s.lines.c.modifier_set, s.lines.c.charge_cents,
                s.service_payments.c.allowed_cents, s.service_payments.c.paid_cents, patient_share.c.pr_cents,
                latest.c.match_id, s.claims.c.id, s.claims.c.file_id, s.claims.c.clm01_folded, s.claims.c.frequency,
                s.claims.c.original_reference, numbered.c.payer_claim_number, s.claims.c.first_date,
                s.claims.c.last_date,
            )
            .select_from(s.lines)
            .join(s.claims, s.claims.c.id == s.lines.c.claim_id)
            .outerjoin(latest, latest.c.line_id == s.lines.c.id)
            .outerjoin(s.matches, s.matches.c.id == latest.c.match_id)
            .outerjoin(s.service_payments, s.service_payments.c.id == s.matches.c.service_payment_id)
            .outerjoin(patient_share, patient_share.c.service_payment_id == s.service_payments.c.id)
            .outerjoin(numbered, numbered.c.claim_id == s.claims.c.id)
            .where(s.lines.c.patient_hash.in_(batch), s.lines.c.service_date.is_not(None))
        )
        if excluding_file is not None:
            query = query.where(s.lines.c.file_id != excluding_file)
        if through is not None:
            query = query.where(s.lines.c.service_date <= through)
        for (patient, day, modifiers, charge, allowed, paid, pr, match_id, claim_row, file_id, clm01, frequency,
             original, number, first, last) in conn.execute(query):
            bucket = bucket_of_modifiers(modifiers)
            if bucket is None:
                continue
            answered = None if match_id is None else (allowed if allowed is not None else (paid or 0) + (pr or 0))
            out.append(RecordedLine(
                patient, day, bucket, charge or 0, answered, claim_row, file_id, clm01, frequency.strip(),
                original.strip(), (number or "").strip(), first, last,
            ))
    return out


def overlaps(one: tuple[date, date] | None, other: tuple[date, date] | None) -> bool:
    """Whether two claims' spans of service dates share a day (an undated claim shares none)."""
    return one is not None and other is not None and one[0] <= other[1] and other[0] <= one[1]


def superseded_claims(lines: Sequence[RecordedLine]) -> set[int]:
    """The claims (ledger row ids) a later recorded one stands for, so that each service
    counts once: an earlier copy of a patient's claim (same CLM01, dates of service that
    overlap: many billing systems reuse the patient's account number as CLM01 on every
    claim, so the number alone does not make a copy), a claim whose CLP07 a later
    replacement or void names in REF*F8, and every void itself (it counts nothing)."""
    claims: dict[int, RecordedLine] = {}
    for line in lines:
        claims.setdefault(line.claim_row, line)
    order = lambda c: (c.file_id, c.claim_row)  # noqa: E731  (recorded order)
    by_number: dict[tuple[str, str], list[RecordedLine]] = {}
    by_payer_number: dict[tuple[str, str], list[RecordedLine]] = {}
    for claim in claims.values():
        by_number.setdefault((claim.patient_hash, claim.clm01), []).append(claim)
        if claim.payer_claim_number:
            by_payer_number.setdefault((claim.patient_hash, claim.payer_claim_number), []).append(claim)
    gone = {row for row, claim in claims.items() if claim.frequency == "8"}
    for copies in by_number.values():
        copies.sort(key=order)
        for i, earlier in enumerate(copies):
            if any(overlaps(earlier.span, later.span) for later in copies[i + 1 :]):
                gone.add(earlier.claim_row)
    for claim in claims.values():
        if claim.frequency in ("7", "8") and claim.original_reference:
            for earlier in by_payer_number.get((claim.patient_hash, claim.original_reference), []):
                if order(earlier) < order(claim):
                    gone.add(earlier.claim_row)
    return gone


def claim_year_to_date(
    lines: Sequence[RecordedLine],
    patient_hash: str,
    clm01: str,
    span: tuple[date, date] | None,
    original_reference: str = "",
    *,
    superseded: set[int] | None = None,
) -> YearToDate:
    """One claim's patient's :class:`YearToDate` before that claim, from ``recorded_lines``
    (which already leave out the file being checked); ``span`` is the claim's first and last
    dates of service.

    Pure. Each recorded claim counts once (:func:`superseded_claims`); the claim being checked
    stands for its own earlier copies (same patient and CLM01, overlapping dates) and, when
    it is a replacement or void, for the claim whose CLP07 its REF*F8 names, so none of
    those count either. Answered lines add their allowed amount, unanswered ones their charge
    to ``pending``."""
    gone = superseded_claims(lines) if superseded is None else superseded
    folded = clm01.strip().upper()
    reference = original_reference.strip()
    out = YearToDate()
    for line in lines:
        if line.patient_hash != patient_hash or line.claim_row in gone:
            continue
        if line.clm01 == folded and overlaps(line.span, span):
            continue
        if reference and line.payer_claim_number == reference:
            continue
        _add(out, line)
    return out


def _add(target: YearToDate, line: RecordedLine) -> None:
    key = (line.service_date.year, line.bucket)
    if line.allowed_cents is None:
        target.pending[key] = target.pending.get(key, Decimal(0)) + Decimal(line.charge_cents) / 100
    else:
        target.allowed[key] = target.allowed.get(key, Decimal(0)) + Decimal(line.allowed_cents) / 100


def year_to_date(conn, patient_hashes: Iterable[str], *, excluding_file: int | None = None, through: date | None = None) -> dict[str, YearToDate]:
    """patient hash -> :class:`YearToDate` from the recorded lines of every file but
    ``excluding_file``, dated up to ``through`` (all when None), each recorded claim counted
    once (its last copy; a void and what it voids not at all)."""
    hashes = sorted({h for h in patient_hashes if h})
    lines = recorded_lines(conn, hashes, excluding_file=excluding_file, through=through)
    gone = superseded_claims(lines)
    out: dict[str, YearToDate] = {h: YearToDate() for h in hashes}
    for line in lines:
        if line.claim_row not in gone:
            _add(out[line.patient_hash], line)
    return out
