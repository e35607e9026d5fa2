"""835 views: the payment (BPR/TRN), claim payments (loop 2100), service payments (loop 2110)
and provider-level adjustments (PLB) of one transaction.

Like :mod:`edi_rehab.claims`, :func:`read_remittance` walks the segment texts once and keeps
each view's segment index, so a message can name the file position.

Loop tracking follows 005010X221A1: ``CLP`` opens 2100; ``CAS``, ``MOA``/``MIA``, ``REF``,
``DTM`` and ``NM1`` after it belong to the claim until the first ``SVC`` opens 2110; the
``CAS``, ``DTM``, ``REF``, ``AMT`` and ``LQ`` after an ``SVC`` belong to that service.
``PLB`` sits in the summary after the last claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .claims import parse_amount, parse_date
from .x12.errors import ReadWarning
from .x12.stream import Transaction

__all__ = [
    "Adjustment",
    "ServicePayment",
    "ClaimPayment",
    "ProviderAdjustment",
    "Remittance",
    "read_remittance",
]


@dataclass(slots=True, frozen=True)
class Adjustment:
    """One CAS triplet: group code, reason code (CARC), amount and quantity."""

    group: str
    reason: str
    amount: Decimal | None
    quantity: Decimal | None
    amount_raw: str = ""


@dataclass(slots=True)
class ServicePayment:
    """One 2110 loop."""

    index: int
    qualifier: str = ""
    procedure: str = ""
    modifiers: tuple[str, ...] = ()
    charge: Decimal | None = None
    paid: Decimal | None = None
    revenue_code: str = ""
    #: SVC05; the TR3 leaves it out when one unit was paid.
    units_paid: Decimal | None = None
    units_paid_raw: str = ""
    #: SVC06, the procedure as submitted, when the payer changed it.
    original_qualifier: str = ""
    original_procedure: str = ""
    original_modifiers: tuple[str, ...] = ()
    #: SVC07, the units as submitted, when they differ from those paid.
    original_units: Decimal | None = None
    service_date: date | None = None
    period_start: date | None = None
    period_end: date | None = None
    control_number: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    allowed: Decimal | None = None
    references: list[tuple[str, str]] = field(default_factory=list)

    @property
    def submitted_procedure(self) -> str:
        return self.original_procedure or self.procedure

    @property
    def submitted_modifiers(self) -> tuple[str, ...]:
        return self.original_modifiers if self.original_procedure else self.modifiers

    @property
    def submitted_units(self) -> Decimal:
        if self.original_units is not None:
            return self.original_units
        return self.units_paid if self.units_paid is not None else Decimal(1)

    @property
    def dates(self) -> tuple[date | None, date | None]:
        """(first, last) day of service: DTM*472, else the 150/151 period."""
        if self.service_date:
            return self.service_date, self.service_date
        return self.period_start, self.period_end


@dataclass(slots=True)
class ClaimPayment:
    """One 2100 loop."""

    index: int
    claim_id: str = ""
    status: str = ""
    charge: Decimal | None = None
    paid: Decimal | None = None
    patient_responsibility: Decimal | None = None
    filing_indicator: str = ""
    payer_claim_number: str = ""
    facility_code: str = ""
    frequency_code: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)
    dates: list[tuple[str, date | None]] = field(default_factory=list)
    patient: str = ""
    services: list[ServicePayment] = field(default_factory=list)
    end_index: int = 0

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"


@dataclass(slots=True, frozen=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: ``reason`` is PLB03-1 (or 05-1 ...), ``reference`` its
    second component only."""

    provider: str
    fiscal_date: date | None
    reason: str
    reference: str
    amount: Decimal | None


@dataclass(slots=True)
class Remittance:
    """One 835 transaction."""

    transaction: Transaction
    handling_code: str = ""
    total_paid: Decimal | None = None
    credit_debit: str = ""
    payment_method: str = ""
    payment_date: date | None = None
    trace_number: str = ""
    trace_payer_id: str = ""
    payer_name: str = ""
    payer_id: str = ""
    #: the payer's address from loop 1000A: N301, N302 and "city, state postal code" (N4),
    #: the lines present; empty when the 835 gives none
    payer_address: tuple[str, ...] = ()
    payee_name: str = ""
    payee_id: str = ""
    claims: list[ClaimPayment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    warnings: list[ReadWarning] = field(default_factory=list)

    def position(self, index: int) -> int:
        return self.transaction.first_position + index


def _composite(value: str, component: str) -> tuple[str, str, tuple[str, ...]]:
    parts = value.split(component) if value else []
    qualifier = parts[0] if parts else ""
    code = parts[1] if len(parts) > 1 else ""
    modifiers = tuple(m for m in parts[2:6] if m)
    return qualifier, code, modifiers


def not_an_amount(seg_id: str, n: int, raw: str, position: int) -> ReadWarning:
    """The warning for element ``n`` of a segment that holds something other than an X12
    amount (a letter, an exponent such as ``1e999999999``, more than 18 digits). The value
    reads as missing, so no sum is made with it; only its first characters are quoted."""
    shown = raw if len(raw) <= 12 else raw[:12] + "..."
    return ReadWarning("not-an-amount", f"{seg_id}{n:02d} {shown!r} is not an X12 number; read as missing", position)


def _adjustments(e: list[str], remit: Remittance, position: int) -> list[Adjustment]:
    group = e[1] if len(e) > 1 else ""
    found = []
    for start in range(2, min(len(e), 20), 3):
        reason = e[start]
        if not reason:
            continue
        amount_raw = e[start + 1] if start + 1 < len(e) else ""
        quantity_raw = e[start + 2] if start + 2 < len(e) else ""
        amount, quantity = parse_amount(amount_raw), parse_amount(quantity_raw)
        for n, raw, value in ((start + 1, amount_raw, amount), (start + 2, quantity_raw, quantity)):
            if value is None and raw:
                remit.warnings.append(not_an_amount("CAS", n, raw, position))
        found.append(Adjustment(group, reason, amount, quantity, amount_raw))
    return found


_INTERESTING = frozenset({"BPR", "TRN", "N1", "N3", "N4", "CLP", "CAS", "MOA", "MIA", "REF", "DTM", "NM1", "SVC", "AMT", "LQ", "PLB"})


def read_remittance(transaction: Transaction) -> Remittance:
    """The payments of an 835 transaction."""
    el = transaction.delimiters.element.decode("latin-1")
    component = transaction.delimiters.component.decode("latin-1")
    remit = Remittance(transaction)
    claim: ClaimPayment | None = None
    service: ServicePayment | None = None
    #: N101 of the header party loop (1000A PR, 1000B PE) the N3/N4 that follow belong to
    party = ""

    def amount(n: int) -> Decimal | None:
        """Element ``n`` of the current segment as a number; one that is there but is not
        a number is warned about (``e``, ``i`` and ``seg_id`` are the loop's)."""
        raw = e[n] if n < len(e) else ""
        value = parse_amount(raw)
        if value is None and raw:
            remit.warnings.append(not_an_amount(seg_id, n, raw, remit.position(i)))
        return value

    for i, text in enumerate(transaction.decoded_texts()):
        seg_id = text.partition(el)[0]
        if seg_id not in _INTERESTING:
            continue
        e = text.split(el)
        get = lambda n: e[n] if n < len(e) else ""  # noqa: E731 - local, read-only
        if seg_id == "BPR":
            remit.handling_code = get(1)
            remit.total_paid = amount(2)
            remit.credit_debit = get(3)
            remit.payment_method = get(4)
            remit.payment_date = parse_date(get(16))
        elif seg_id == "TRN" and not remit.trace_number:
            remit.trace_number = get(2)
            remit.trace_payer_id = get(3)
        elif seg_id in ("N3", "N4") and claim is None:
            if party == "PR":
                if seg_id == "N3":
                    remit.payer_address += tuple(v.strip() for v in (get(1), get(2)) if v.strip())
                else:
                    place = " ".join(v.strip() for v in (get(2), get(3)) if v.strip())
                    line = ", ".join(v for v in (get(1).strip(), place) if v)
                    if line:
                        remit.payer_address += (line,)
        elif seg_id == "N1" and claim is None:
            party = get(1)
            if get(1) == "PR":
                remit.payer_name, remit.payer_id = get(2), get(4)
            elif get(1) == "PE":
                remit.payee_name, remit.payee_id = get(2), get(4)
        elif seg_id == "CLP":
            if claim is not None:
                claim.end_index = i
            service = None
            claim = ClaimPayment(
                index=i,
                claim_id=get(1),
                status=get(2),
                charge=amount(3),
                paid=amount(4),
                patient_responsibility=amount(5),
                filing_indicator=get(6),
                payer_claim_number=get(7),
                facility_code=get(8),
                frequency_code=get(9),
            )
            remit.claims.append(claim)
        elif seg_id == "PLB":
            if claim is not None:
                claim.end_index = i
            claim, service = None, None
            for start in range(3, min(len(e), 15), 2):
                reason_composite = e[start]
                if not reason_composite:
                    continue
                # PLB03 is a composite (C042): reason code, then reference id. Any further
                # component (some payers send "WO>ID>5") is not part of the reference.
                parts = reason_composite.split(component)
                reason, reference = parts[0], parts[1] if len(parts) > 1 else ""
                remit.provider_adjustments.append(
                    ProviderAdjustment(get(1), parse_date(get(2)), reason, reference, amount(start + 1))
                )
        elif claim is None:
            continue
        elif seg_id == "SVC":
            qualifier, code, modifiers = _composite(get(1), component)
            o_qualifier, o_code, o_modifiers = _composite(get(6), component)
            service = ServicePayment(
                index=i,
                qualifier=qualifier,
                procedure=code,
                modifiers=modifiers,
                charge=amount(2),
                paid=amount(3),
                revenue_code=get(4),
                units_paid=amount(5),
                units_paid_raw=get(5),
                original_qualifier=o_qualifier,
                original_procedure=o_code,
                original_modifiers=o_modifiers,
                original_units=amount(7),
            )
            claim.services.append(service)
        elif seg_id == "CAS":
            (service.adjustments if service else claim.adjustments).extend(_adjustments(e, remit, remit.position(i)))
        elif seg_id in ("MOA", "MIA") and service is None:
            first, last = (3, 8) if seg_id == "MOA" else (20, 25)
            claim.remarks.extend(code for code in e[first : last] if code)
            if seg_id == "MIA" and get(5):
                claim.remarks.append(get(5))
        elif seg_id == "REF":
            if service is not None:
                if get(1) == "6R":
                    service.control_number = get(2)
                service.references.append((get(1), get(2)))
            else:
                claim.references.append((get(1), get(2)))
        elif seg_id == "DTM":
            day = parse_date(get(2))
            if service is not None:
                if get(1) == "472":
                    service.service_date = day
                elif get(1) == "150":
                    service.period_start = day
                elif get(1) == "151":
                    service.period_end = day
            else:
                claim.dates.append((get(1), day))
        elif seg_id == "NM1" and service is None and get(1) == "QC":
            claim.patient = ", ".join(p for p in (get(3), get(4)) if p)
        elif seg_id == "AMT" and service is not None and get(1) == "B6":
            service.allowed = amount(2)
        elif seg_id == "LQ" and service is not None and get(1) == "HE":
            service.remarks.append(get(2))
    if claim is not None:
        claim.end_index = transaction.count - 1
    return remit
