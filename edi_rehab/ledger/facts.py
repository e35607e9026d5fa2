"""What the ledger records, worked out from the views the rest of the toolkit already has.

Pure: bytes, claims, findings, remittances and match results in; plain rows (dicts keyed by
column name, without database ids) out. :mod:`edi_rehab.ledger.store` writes them.

* :func:`claim_file_facts`: each 837P claim and line as sent, with the check findings placed
  on them by segment position (as ``match`` places them), and the masked document;
* :func:`mask_document`: the file with every patient identifier blanked, so that the claims
  can be read again (``match --ledger``) without the ledger holding names, addresses, birth
  dates or member ids. The segment count never changes, so positions stay those of the file
  as sent. Each person becomes ``P1``, ``P2`` ... in order of first appearance in the file:
  claims of different patients stay different patients to the rules (NCCI encounters are per
  patient), and nothing in the document says who they are;
* :func:`remit_facts`: each 835 payment with its adjustments, remarks and trace;
* :func:`match_facts`: what match made of each payment.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ..claims import Claim, read_claims
from ..edits import apply_edits, replace_element
from ..findings import Edit, Finding
from ..x12.document import iter_events
from ..x12.stream import Transaction
from .keys import PatientKey

__all__ = ["ClaimFacts", "ClaimFileFacts", "claim_file_facts", "place_findings", "mask_document", "unpack_document",
           "RemitFacts", "remit_facts", "match_facts", "cents", "units_text"]

#: NM101 of the people a claim is about: subscriber (2010BA, 2330A) and patient (2010CA)
PERSON_ENTITIES = frozenset({"IL", "QC"})
#: REF qualifiers that identify a person: SSN, medical record number, member id numbers
PERSON_REFS = frozenset({"SY", "EA", "1W", "IG", "HJ", "Y4"})
#: segments that end a person's NM1 loop (so an N3 after them is not the person's address)
_LOOP_ENDS = frozenset({"NM1", "HL", "CLM", "SBR", "LX", "SV1", "PRV", "SE"})


def cents(value: Decimal | None) -> int | None:
    if value is None:
        return None
    return int((value * 100).to_integral_value())


def units_text(value: Decimal | None, raw: str) -> str:
    if value is None:
        return raw.strip()
    text = format(value.normalize(), "f")
    return text


@dataclass
class ClaimFacts:
    claim: dict
    lines: list[dict] = field(default_factory=list)
    #: file position just past each line's last segment (what a finding on it may point at)
    line_ends: list[int] = field(default_factory=list)
    #: findings on the claim: (position of its line in ``lines`` or None, row)
    findings: list[tuple[int | None, dict]] = field(default_factory=list)


@dataclass
class ClaimFileFacts:
    claims: list[ClaimFacts]
    #: findings in the file that sit on no claim (envelope, IG errors outside a claim)
    loose_findings: list[dict]
    #: zlib-compressed masked document, or None when the file holds other kinds of set too
    document: bytes | None


def _finding_row(finding: Finding, fixed: frozenset[tuple[str, int]]) -> dict:
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "segment": finding.segment,
        "fix": finding.fix.applicability.value if finding.fix is not None else None,
        "fixed": (finding.code, finding.segment) in fixed,
    }


def claim_file_facts(
    data: bytes,
    key: PatientKey,
    findings: Iterable[Finding] = (),
    *,
    fixed: Iterable[tuple[str, int]] = (),
    decisions: dict[int, str] | None = None,
) -> ClaimFileFacts:
    """Rows for every claim and line of the 837P transactions in ``data``.

    ``findings`` are check's findings on this file; ``fixed`` the (code, segment) of those
    ``fix`` applied; ``decisions`` maps a claim's CLM position to ``split``'s ``"clean"`` or
    ``"held"``. Raises X12ReadError when ``data`` cannot be read (the caller has already
    checked it, so that is a file that changed under it).
    """
    decisions = decisions or {}
    transactions = [event for event in iter_events([data]) if isinstance(event, Transaction)]
    facts: list[ClaimFacts] = []
    for tx in transactions:
        if tx.set_id != "837" or not tx.version.startswith("005010X222"):
            continue
        for claim in read_claims(tx):
            facts.append(_claim_facts(claim, len(facts), key, decisions))
    all_professional = bool(transactions) and all(
        tx.set_id == "837" and tx.version.startswith("005010X222") for tx in transactions
    )
    document = zlib.compress(mask_document(data, transactions), 6) if all_professional else None
    out = ClaimFileFacts(facts, [], document)
    place_findings(out, findings, fixed)
    return out


def place_findings(facts: ClaimFileFacts, findings: Iterable[Finding], fixed: Iterable[tuple[str, int]] = ()) -> None:
    """Put each finding on its claim and line by segment position (as match places them);
    one on no claim is kept as loose."""
    fixed = frozenset(fixed)
    starts = [item.claim["start_segment"] for item in facts.claims]
    for finding in findings:
        k = bisect.bisect_right(starts, finding.segment) - 1
        if k < 0 or finding.segment >= facts.claims[k].claim["end_segment"]:
            facts.loose_findings.append(_finding_row(finding, fixed))
            continue
        item = facts.claims[k]
        line_starts = [line["start_segment"] for line in item.lines]
        i = bisect.bisect_right(line_starts, finding.segment) - 1
        on_line = i if i >= 0 and finding.segment < item.line_ends[i] else None
        item.findings.append((on_line, _finding_row(finding, fixed)))


def _claim_facts(claim: Claim, ordinal: int, key: PatientKey, decisions: dict[int, str]) -> ClaimFacts:
    member, payer = claim.patient_key
    patient = key.patient(member, payer)
    tx = claim.transaction
    start_segment, end_segment = claim.position(), claim.position(claim.end_index)
    clm = tx.segment(claim.index)
    last = tx.segment(claim.end_index - 1)
    lines = []
    ends = []
    dates = []
    for position, line in enumerate(claim.lines):
        npi, _taxonomy = claim.line_rendering(line)
        when = line.service_date
        start, end = (when.start, when.end) if when is not None else (None, None)
        if start is not None:
            dates.append(start)
            dates.append(end or start)
        modifiers = tuple(m.strip().upper() for m in line.modifiers if m.strip())
        lines.append({
            "position": position,
            "lx": line.lx,
            "procedure": line.procedure.strip().upper(),
            "modifiers": ",".join(modifiers),
            "modifier_set": ",".join(sorted(modifiers)),
            "units": units_text(line.units, line.units_raw),
            "unit_basis": line.unit_basis,
            "charge_cents": cents(line.charge),
            "service_date": start,
            "service_end": end,
            "control_number": line.control_number.strip(),
            "rendering_npi": npi,
            "patient_hash": patient,
            "payer_id": payer,
            "start_segment": claim.position(line.index),
        })
        ends.append(claim.position(line.end_index))
    row = {
        "ordinal": ordinal,
        "clm01": claim.claim_id,
        "clm01_folded": claim.claim_id.strip().upper(),
        "payer_id": payer,
        "filing_indicator": claim.filing_indicator,
        "patient_hash": patient,
        "billing_npi": claim.billing_provider.id if claim.billing_provider else "",
        "rendering_npi": claim.rendering_npi,
        "frequency": claim.frequency_code,
        "original_reference": claim.payer_claim_number,
        "charge_cents": cents(claim.charge),
        "first_date": min(dates) if dates else None,
        "last_date": max(dates) if dates else None,
        "start_segment": start_segment,
        "end_segment": end_segment,
        "start_byte": clm.start,
        "end_byte": last.end,
        "split_decision": decisions.get(start_segment),
    }
    return ClaimFacts(row, lines, ends)


def mask_document(data: bytes, transactions: Sequence[Transaction]) -> bytes:
    """``data`` with the people's names, addresses, birth dates and identifiers blanked.

    NM1*IL/QC: NM103 becomes the person's pseudonym (``P1`` ...), NM104, NM105 and NM107 are
    emptied, NM109 becomes the pseudonym when it was sent; the N3, N4 (city and postal code)
    and DMG (birth date) of that loop are emptied; REF segments that identify a person
    (:data:`PERSON_REFS`) keep their qualifier and lose their value. The pseudonym follows
    NM109 when sent, else the name, so two loops naming one person share it.
    """
    edits: list[Edit] = []
    pseudonyms: dict[str, str] = {}
    for tx in transactions:
        in_person = False
        for segment in tx.segments:
            seg_id = segment.id
            if seg_id == "NM1":
                in_person = segment.element(1) in PERSON_ENTITIES
                if in_person:
                    who = segment.element(9).strip().upper() or "|".join(
                        segment.element(n).strip().upper() for n in (3, 4, 5, 7)
                    )
                    alias = pseudonyms.setdefault(who, f"P{len(pseudonyms) + 1}")
                    edits.append(replace_element(segment, 3, alias))
                    for n in (4, 5, 7):
                        if segment.element(n):
                            edits.append(replace_element(segment, n, ""))
                    if segment.element(9):
                        edits.append(replace_element(segment, 9, alias))
                continue
            if seg_id == "REF" and segment.element(1) in PERSON_REFS and segment.element(2):
                edits.append(replace_element(segment, 2, ""))
                continue
            if in_person:
                if seg_id == "N3":
                    edits.extend(replace_element(segment, n, "") for n in (1, 2) if segment.element(n))
                elif seg_id == "N4":
                    edits.extend(replace_element(segment, n, "") for n in (1, 3) if segment.element(n))
                elif seg_id == "DMG" and segment.element(2):
                    edits.append(replace_element(segment, 2, ""))
                elif seg_id in _LOOP_ENDS:
                    in_person = False
    masked, _applied, skipped = apply_edits(data, edits)
    assert not skipped, "masking edits never overlap: one per element"
    return masked


def unpack_document(blob: bytes) -> bytes:
    return zlib.decompress(blob)


# --------------------------------------------------------------------------------------------
# 835
# --------------------------------------------------------------------------------------------


@dataclass
class ServiceFacts:
    row: dict
    adjustments: list[dict]
    remarks: list[str]


@dataclass
class ClaimPaymentFacts:
    row: dict
    adjustments: list[dict]
    remarks: list[str]
    services: list[ServiceFacts]


@dataclass
class RemitFacts:
    row: dict
    claims: list[ClaimPaymentFacts]


def _adjustment_rows(adjustments) -> list[dict]:
    return [
        {
            "group_code": a.group,
            "reason": a.reason,
            "amount_cents": cents(a.amount),
            "quantity": units_text(a.quantity, "") if a.quantity is not None else "",
        }
        for a in adjustments
    ]


def remit_facts(remits: Sequence) -> list[RemitFacts]:
    """Rows for each 835 transaction (:class:`edi_rehab.remits.Remittance`)."""
    out = []
    for ordinal, remit in enumerate(remits):
        claims = []
        for clp in remit.claims:
            services = [
                ServiceFacts(
                    {
                        "segment": remit.position(svc.index),
                        "procedure": svc.procedure.strip().upper(),
                        "modifiers": ",".join(svc.modifiers),
                        "submitted_procedure": svc.submitted_procedure.strip().upper(),
                        "charge_cents": cents(svc.charge),
                        "paid_cents": cents(svc.paid),
                        "allowed_cents": cents(svc.allowed),
                        "units_paid": units_text(svc.units_paid, svc.units_paid_raw) if svc.units_paid is not None else "1",
                        "service_date": svc.dates[0],
                        "control_number": svc.control_number.strip(),
                    },
                    _adjustment_rows(svc.adjustments),
                    list(svc.remarks),
                )
                for svc in clp.services
            ]
            claims.append(ClaimPaymentFacts(
                {
                    "segment": remit.position(clp.index),
                    "clp01": clp.claim_id,
                    "status": clp.status,
                    "charge_cents": cents(clp.charge),
                    "paid_cents": cents(clp.paid),
                    "patient_responsibility_cents": cents(clp.patient_responsibility),
                    "payer_claim_number": clp.payer_claim_number,
                    "frequency": clp.frequency_code,
                },
                _adjustment_rows(clp.adjustments),
                list(clp.remarks),
                services,
            ))
        out.append(RemitFacts(
            {
                "ordinal": ordinal,
                "payer_id": remit.payer_id or remit.trace_payer_id,
                "payer_name": remit.payer_name,
                "payment_method": remit.payment_method,
                "total_paid_cents": cents(remit.total_paid),
                "payment_date": remit.payment_date,
                "trace_number": remit.trace_number,
                "trace_payer_id": remit.trace_payer_id,
            },
            claims,
        ))
    return out


def match_facts(rows: Iterable) -> list[dict]:
    """One row per :class:`edi_rehab.match.MatchRow`: which 835 segment, which 837 claim and
    line (file name, CLM position, line positions), the category, action and explaining rules.
    The store turns the positions into ledger ids."""
    out = []
    for row in rows:
        record = row.match.record
        out.append({
            "payment_segment": row.remit.position(row.payment.index),
            "service_segment": row.remit.position(row.service.index) if row.service is not None else None,
            "claim_file": record.file if record is not None else None,
            "claim_segment": record.claim.position() if record is not None else None,
            "line_positions": tuple(row.match.indexes),
            "method": row.match.method,
            "category": row.category,
            "action": row.action,
            "denied": bool(row.denied),
            "explaining": ",".join(row.assessment.findings),
            "charge_cents": cents(row.charge),
            "paid_cents": cents(row.paid),
        })
    return out
