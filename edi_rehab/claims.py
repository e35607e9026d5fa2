"""837P views: the claims (loop 2300) and service lines (loop 2400) of one transaction.

:func:`read_claims` walks a transaction's segment texts once and splits only the segments a
therapy rule needs (HL, NM1, PRV, SBR, CLM, REF, NTE, LX, SV1, DTP, SVD). Every view keeps the
index of its segments in ``transaction.texts``, so a finding can name the file position and a
fix can find the byte span (``claim.transaction.segment(index)``).

Loop tracking follows 005010X222A1:

* 2000A ``HL*..*20``: billing provider (2010AA ``NM1*85``, ``PRV*BI``);
* 2000B ``HL*..*22``: subscriber (``SBR``, 2010BA ``NM1*IL``, 2010BB ``NM1*PR``);
* 2000C ``HL*..*23``: patient (2010CA ``NM1*QC``);
* 2300 ``CLM`` with ``REF*F8`` and ``NTE``; 2310B ``NM1*82`` + ``PRV*PE`` is the rendering
  provider; an ``SBR`` after the CLM opens 2320 (other payer, COB) and the ``NM1`` segments
  that follow it belong to 2330x, not to the claim;
* 2400 ``LX``, ``SV1``, ``DTP*472``, ``REF*6R``, ``NTE``; 2420A ``NM1*82`` + ``PRV`` is a
  line's own rendering provider; ``SVD`` opens 2430 (line adjudication by another payer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .x12.errors import ReadWarning
from .x12.stream import Transaction

__all__ = ["Party", "ServiceDate", "ServiceLine", "Claim", "read_claims", "parse_amount", "parse_date"]


@dataclass(slots=True, frozen=True)
class Party:
    """An NM1 entity: who it is and its identifier (NM109, e.g. an NPI or member id)."""

    entity: str
    last_name: str = ""
    first_name: str = ""
    id_qualifier: str = ""
    id: str = ""

    @property
    def name(self) -> str:
        return ", ".join(part for part in (self.last_name, self.first_name) if part)


@dataclass(slots=True, frozen=True)
class ServiceDate:
    """DTP*472: ``D8`` (one date) or ``RD8`` (a range)."""

    qualifier: str
    raw: str
    start: date | None
    end: date | None

    @property
    def is_range(self) -> bool:
        return self.qualifier == "RD8" and self.start != self.end


@dataclass(slots=True)
class ServiceLine:
    """One 2400 loop."""

    #: Index of the LX segment in ``transaction.texts``.
    index: int
    lx: int | None
    lx_raw: str
    sv1_index: int | None = None
    qualifier: str = ""
    procedure: str = ""
    modifiers: tuple[str, ...] = ()
    description: str = ""
    charge: Decimal | None = None
    charge_raw: str = ""
    unit_basis: str = ""
    units: Decimal | None = None
    units_raw: str = ""
    place_of_service: str = ""
    diagnosis_pointers: tuple[str, ...] = ()
    service_date: ServiceDate | None = None
    dtp_index: int | None = None
    control_number: str = ""
    ref_6r_index: int | None = None
    notes: list[str] = field(default_factory=list)
    note_indexes: list[int] = field(default_factory=list)
    #: 2420A rendering provider when the line has its own, else None.
    line_rendering_npi: str = ""
    line_rendering_taxonomy: str = ""
    has_cob: bool = False
    #: Index just past the last segment of this 2400 loop.
    end_index: int = 0

    @property
    def date_of_service(self) -> date | None:
        return self.service_date.start if self.service_date else None


@dataclass(slots=True)
class Claim:
    """One 2300 loop with the parties around it and its service lines."""

    transaction: Transaction
    #: Index of the CLM segment in ``transaction.texts``.
    index: int
    claim_id: str = ""
    charge: Decimal | None = None
    charge_raw: str = ""
    place_of_service: str = ""
    facility_qualifier: str = ""
    frequency_code: str = ""
    payer: Party | None = None
    filing_indicator: str = ""
    subscriber: Party | None = None
    patient: Party | None = None
    billing_provider: Party | None = None
    billing_taxonomy: str = ""
    claim_rendering_npi: str = ""
    claim_rendering_taxonomy: str = ""
    payer_claim_number: str = ""
    ref_f8_index: int | None = None
    notes: list[str] = field(default_factory=list)
    has_cob: bool = False
    lines: list[ServiceLine] = field(default_factory=list)
    #: Indexes of the HL segments this claim hangs from (2000A, 2000B, 2000C or None).
    billing_hl_index: int = 0
    subscriber_hl_index: int = 0
    patient_hl_index: int | None = None
    #: Index just past the last segment of this claim (the next HL, CLM or SE).
    end_index: int = 0
    warnings: list[ReadWarning] = field(default_factory=list)

    @property
    def payer_id(self) -> str:
        return self.payer.id if self.payer else ""

    @property
    def rendering_npi(self) -> str:
        """2310B rendering provider, falling back to the billing provider (2010AA)."""
        if self.claim_rendering_npi:
            return self.claim_rendering_npi
        return self.billing_provider.id if self.billing_provider else ""

    @property
    def rendering_taxonomy(self) -> str:
        return self.claim_rendering_taxonomy or self.billing_taxonomy

    def line_rendering(self, line: ServiceLine) -> tuple[str, str]:
        """(NPI, taxonomy) rendering ``line``: 2420A when present, else the claim's."""
        if line.line_rendering_npi:
            return line.line_rendering_npi, line.line_rendering_taxonomy or self.rendering_taxonomy
        return self.rendering_npi, self.rendering_taxonomy

    def position(self, index: int | None = None) -> int:
        """File position of the segment at ``index`` (default: the CLM)."""
        return self.transaction.first_position + (self.index if index is None else index)

    @property
    def patient_key(self) -> tuple[str, str]:
        """Who the services were for: the patient when 2000C exists, else the subscriber."""
        who = self.patient or self.subscriber
        return (who.id or who.name) if who else "", self.payer_id


@lru_cache(maxsize=8192)
def parse_amount(raw: str) -> Decimal | None:
    """An X12 decimal (R type) as Decimal, or None when empty or not a number.

    Cached: a claim file repeats the same few charges, units and dates thousands of times,
    and Decimal/date objects are immutable, so sharing them is safe.
    """
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@lru_cache(maxsize=8192)
def parse_date(raw: str) -> date | None:
    """CCYYMMDD as a date, or None when it is not a real date."""
    if len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


def _service_date(qualifier: str, raw: str) -> ServiceDate:
    if qualifier == "RD8" and "-" in raw:
        first, _, last = raw.partition("-")
        return ServiceDate(qualifier, raw, parse_date(first), parse_date(last))
    day = parse_date(raw)
    return ServiceDate(qualifier, raw, day, day)


_service_date = lru_cache(maxsize=8192)(_service_date)


def _party(elements: list[str]) -> Party:
    get = elements.__getitem__
    n = len(elements)
    return Party(
        entity=elements[1] if n > 1 else "",
        last_name=get(3) if n > 3 else "",
        first_name=get(4) if n > 4 else "",
        id_qualifier=get(8) if n > 8 else "",
        id=get(9) if n > 9 else "",
    )


# Dispatch on the first three bytes of a segment: the ids a claim view needs. Two-letter ids
# carry the element separator as their third byte (see _dispatch_table).
_HL, _NM1, _PRV, _SBR, _CLM, _REF, _NTE, _LX, _SV1, _DTP, _SVD = range(11)
_VIEW_ENTITY_BYTES = frozenset({b"85", b"IL", b"PR", b"QC", b"82"})


def _element(text: bytes, el: bytes, index: int) -> str:
    parts = text.split(el, index + 1)
    return parts[index].decode("latin-1") if index < len(parts) else ""


def _dispatch_table(el: bytes) -> dict[bytes, int]:
    return {
        b"HL" + el: _HL,
        b"NM1": _NM1,
        b"PRV": _PRV,
        b"SBR": _SBR,
        b"CLM": _CLM,
        b"REF": _REF,
        b"NTE": _NTE,
        b"LX" + el: _LX,
        b"SV1": _SV1,
        b"DTP": _DTP,
        b"SVD": _SVD,
    }


def read_claims(transaction: Transaction) -> list[Claim]:
    """The claims of an 837P transaction, in file order."""
    texts = transaction.texts
    delims = transaction.delimiters
    el = delims.element.decode("latin-1")
    component = delims.component.decode("latin-1")
    el_bytes = delims.element
    dispatch = _dispatch_table(el_bytes).get
    dtp_472 = b"472" + el_bytes
    claims: list[Claim] = []
    claim: Claim | None = None
    line: ServiceLine | None = None
    level = ""
    billing: Party | None = None
    billing_taxonomy = ""
    billing_hl = 0
    subscriber: Party | None = None
    subscriber_hl = 0
    patient: Party | None = None
    patient_hl: int | None = None
    payer: Party | None = None
    filing = ""
    last_entity = ""
    in_2320 = False
    first_position = transaction.first_position

    def close_line(at: int) -> None:
        nonlocal line
        if line is not None and claim is not None:
            line.end_index = at
            if line.service_date is None and line.sv1_index is not None:
                claim.warnings.append(
                    ReadWarning(
                        "missing-service-date",
                        f"service line {line.lx_raw or '?'} has no DTP*472 service date",
                        first_position + line.sv1_index,
                    )
                )
        line = None

    def close_claim(at: int) -> None:
        nonlocal claim
        close_line(at)
        if claim is not None:
            claim.end_index = at
            claims.append(claim)
        claim = None

    for i, text in enumerate(texts):
        kind = dispatch(text[:3])
        if kind is None:
            continue
        if kind == _NM1:
            # Entity ids in an 837P are two characters; most NM1s (submitter, receiver,
            # referring, service facility, other payers) are skipped without a split.
            entity_bytes = text[4:6]
            last_entity = entity_bytes.decode("latin-1")
            if entity_bytes not in _VIEW_ENTITY_BYTES:
                continue
            e = text.decode("latin-1").split(el)
            n = len(e)
            entity = last_entity
            if claim is None:
                if entity == "85":
                    billing = _party(e)
                elif entity == "IL":
                    subscriber = _party(e)
                elif entity == "PR":
                    payer = _party(e)
                elif entity == "QC":
                    patient = _party(e)
            elif entity == "82" and not in_2320:
                npi = e[9] if n > 9 else ""
                if line is not None:
                    line.line_rendering_npi = npi
                else:
                    claim.claim_rendering_npi = npi
        elif kind == _REF:
            if claim is None:
                continue
            qualifier = text[4:6]
            if line is not None:
                if qualifier == b"6R":
                    line.control_number = _element(text, el_bytes, 2)
                    line.ref_6r_index = i
            elif qualifier == b"F8" and not in_2320:
                claim.payer_claim_number = _element(text, el_bytes, 2)
                claim.ref_f8_index = i
        elif kind == _DTP:
            if line is not None and text[4:8] == dtp_472:
                e = text.decode("latin-1").split(el)
                if len(e) > 3:
                    line.service_date = _service_date(e[2], e[3])
                    line.dtp_index = i
        elif kind == _LX:
            e = text.decode("latin-1").split(el)
            n = len(e)
            if claim is None:
                continue
            close_line(i)
            in_2320 = False
            last_entity = ""
            raw = e[1] if n > 1 else ""
            line = ServiceLine(index=i, lx=int(raw) if raw.isdigit() else None, lx_raw=raw)
            claim.lines.append(line)
        elif kind == _SV1:
            e = text.decode("latin-1").split(el)
            n = len(e)
            if line is None:
                continue
            composite = e[1].split(component) if n > 1 else []
            c = len(composite)
            line.sv1_index = i
            line.qualifier = composite[0] if c else ""
            line.procedure = composite[1] if c > 1 else ""
            line.modifiers = tuple(m for m in composite[2:6] if m)
            line.description = composite[6] if c > 6 else ""
            line.charge_raw = charge = e[2] if n > 2 else ""
            line.charge = parse_amount(charge)
            line.unit_basis = e[3] if n > 3 else ""
            line.units_raw = units = e[4] if n > 4 else ""
            line.units = parse_amount(units)
            line.place_of_service = e[5] if n > 5 else ""
            line.diagnosis_pointers = tuple(p for p in e[7].split(component) if p) if n > 7 else ()
        elif kind == _CLM:
            e = text.decode("latin-1").split(el)
            n = len(e)
            close_claim(i)
            in_2320 = False
            last_entity = ""
            composite = e[5].split(component) if n > 5 else []
            c = len(composite)
            charge = e[2] if n > 2 else ""
            claim = Claim(
                transaction=transaction,
                index=i,
                claim_id=e[1] if n > 1 else "",
                charge=parse_amount(charge),
                charge_raw=charge,
                place_of_service=composite[0] if c else "",
                facility_qualifier=composite[1] if c > 1 else "",
                frequency_code=composite[2] if c > 2 else "",
                payer=payer,
                filing_indicator=filing,
                subscriber=subscriber,
                patient=patient,
                billing_provider=billing,
                billing_taxonomy=billing_taxonomy,
                billing_hl_index=billing_hl,
                subscriber_hl_index=subscriber_hl,
                patient_hl_index=patient_hl,
            )
        elif kind == _HL:
            e = text.decode("latin-1").split(el)
            n = len(e)
            close_claim(i)
            level = e[3] if n > 3 else ""
            last_entity = ""
            if level == "20":
                billing, billing_taxonomy, billing_hl = None, "", i
            elif level == "22":
                subscriber, subscriber_hl, patient, patient_hl, payer, filing = None, i, None, None, None, ""
            elif level == "23":
                patient, patient_hl = None, i
        elif kind == _PRV:
            e = text.decode("latin-1").split(el)
            n = len(e)
            taxonomy = e[3] if n > 3 else ""
            if claim is None and level == "20":
                billing_taxonomy = taxonomy
            elif claim is not None and last_entity == "82" and not in_2320:
                if line is not None:
                    line.line_rendering_taxonomy = taxonomy
                else:
                    claim.claim_rendering_taxonomy = taxonomy
        elif kind == _SBR:
            e = text.decode("latin-1").split(el)
            n = len(e)
            if claim is None:
                filing = e[9] if n > 9 else ""
            else:
                in_2320 = True
                claim.has_cob = True
        elif kind == _NTE:
            e = text.decode("latin-1").split(el)
            n = len(e)
            if claim is None:
                continue
            note = e[2] if n > 2 else ""
            if line is not None:
                line.notes.append(note)
                line.note_indexes.append(i)
            else:
                claim.notes.append(note)
        elif kind == _SVD:
            if claim is not None:
                claim.has_cob = True
                if line is not None:
                    line.has_cob = True
    close_claim(len(texts) - 1)
    return claims
