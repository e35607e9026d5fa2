"""Medicare's annual therapy threshold (KX) and targeted medical review amount, as pure functions.

Theory of operation
-------------------
Medicare counts a beneficiary's outpatient therapy per calendar year in two buckets: physical
therapy and speech-language pathology together, occupational therapy apart (BBA 2018 §50202,
reference §4.2). Above the year's threshold every line of the bucket needs KX, the therapist's
attestation that the care is medically necessary; above the targeted medical review amount
the MAC may review the records. The amounts live in ``maps/payers.xml``
(:class:`~edi_rehab.mapdata.TherapyThreshold`).

The threshold counts *allowed* amounts across every provider, which only the MAC knows for
sure. :func:`assess_buckets` takes whatever the caller knows:

* ``check`` passes no year-to-date total and the claim's own charges (SV102): a line is
  never allowed more than it charges, so charges under the threshold prove the claim alone
  stays under it, and charges over it are a reason to look (rules C413, C414);
* ``check --ledger`` passes the patient's recorded year-to-date as ``year_to_date`` (allowed
  amounts of recorded 835s, charges of recorded claims still unanswered:
  ``edi_rehab.ledger.history.claim_year_to_date``) with the same charges, and gets the same
  answer with the year's earlier claims counted.

Nothing here reads files or claims: lines come in as :class:`ThresholdLine` values.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .mapdata import TherapyThreshold

__all__ = ["BUCKETS", "PT_SLP", "OT", "ThresholdLine", "BucketAssessment", "bucket_of", "assess_buckets"]

#: the two buckets' names
PT_SLP, OT = "PT+SLP", "OT"
#: discipline (GP -> PT, GN -> SLP, GO -> OT) -> its threshold bucket: PT and SLP share one
#: amount, OT has its own (reference §4.2 [V APTA, NGS])
BUCKETS: Mapping[str, str] = {"PT": PT_SLP, "SLP": PT_SLP, "OT": OT}


def bucket_of(discipline: str) -> str | None:
    """The threshold bucket of a discipline (``PT``, ``SLP``, ``OT``), or None for any other."""
    return BUCKETS.get(discipline)


@dataclass(frozen=True, slots=True)
class ThresholdLine:
    """One therapy line as the threshold sees it."""

    #: whatever the caller uses to find the line again (a rule's LineView, a ledger's row id)
    ref: Hashable
    bucket: str
    service_date: date
    #: what the line adds to the bucket: its allowed amount, or its charge as an upper bound
    amount: Decimal
    has_kx: bool


@dataclass(frozen=True, slots=True)
class BucketAssessment:
    """One bucket of one calendar year, after the lines given."""

    year: int
    bucket: str
    #: the year-to-date amount before these lines, and after them
    before: Decimal
    after: Decimal
    #: the year's KX threshold and targeted medical review amount (None: not in the maps)
    threshold: int | None
    review: int | None
    #: lines from the one that takes the total past the threshold on, without KX
    missing_kx: tuple[ThresholdLine, ...]
    #: the line that takes the total past the review amount, when one does
    review_crossed_at: ThresholdLine | None


def assess_buckets(
    lines: Iterable[ThresholdLine],
    thresholds: Mapping[int, TherapyThreshold],
    year_to_date: Mapping[tuple[int, str], Decimal] | None = None,
) -> list[BucketAssessment]:
    """Add the lines to each bucket's year-to-date total and say where KX is missing.

    Args:
        lines: the therapy lines, in any order; each bucket's lines are added by date of
            service, then in the order given (a claim's line order on one date).
        thresholds: calendar year -> amounts (``Maps.therapy_thresholds``).
        year_to_date: (calendar year, bucket) -> the allowed amount counted before these
            lines; missing keys count as 0 (all ``check`` knows).

    Returns:
        One :class:`BucketAssessment` per (year, bucket) the lines touch, in order of year
        and then bucket name. A line "passes" a threshold when the running total including it
        is above the amount (the line that crosses it needs KX as well as those after it); a
        year the maps have no amount for reports no missing KX.
    """
    by_bucket: dict[tuple[int, str], list[ThresholdLine]] = {}
    for line in lines:
        by_bucket.setdefault((line.service_date.year, line.bucket), []).append(line)
    known = year_to_date or {}
    results = []
    for (year, bucket), members in sorted(by_bucket.items()):
        members.sort(key=lambda line: line.service_date)  # stable: the order given within a date
        amounts = thresholds.get(year)
        threshold = None if amounts is None else (amounts.ot if bucket == OT else amounts.pt_slp)
        review = None if amounts is None else amounts.review
        before = Decimal(known.get((year, bucket), 0))
        running = before
        missing: list[ThresholdLine] = []
        review_at = None
        for line in members:
            running += line.amount
            if threshold is not None and running > threshold and not line.has_kx:
                missing.append(line)
            if review is not None and review_at is None and running > review and running - line.amount <= review:
                review_at = line
        results.append(BucketAssessment(year, bucket, before, running, threshold, review, tuple(missing), review_at))
    return results
