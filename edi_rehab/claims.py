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

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from .x12.numbers import decimal_number, whole_number
from .x12.errors import ReadWarning
from .x12.stream import Transaction

__all__ = [
    "Party",
    "ServiceDate",
    "ServiceLine",
    "Claim",
    "read_claims",
    "iter_claims",
    "claim_ids",
    "parse_amount",
    "amount_cents",
    "parse_date",
    "foreign_composite",
]

#: Characters X12 senders use as the component separator (ISA16). An SV101 written with one of
#: them while ISA16 is another is the sender's software joining the composite with the wrong
#: character (issue 10 item 9: six public LinuxForHealth 837P files write ``HC>97110>GP`` under
#: ISA16 ``:``). The element and segment separators of the file are never among the candidates,
#: since a segment's elements have already been split on them.
COMPONENT_SEPARATOR_CANDIDATES = ":>^|\\!"

#: SV101-1, the product/service id qualifier (005010X222A1: ER, HC, IV, WK)
SV101_QUALIFIERS = frozenset({"ER", "HC", "IV", "WK"})


def foreign_composite(text: str, separator: str) -> tuple[str, list[str]] | None:
    """An SV101 joined with a component separator other than ISA16: (that character, the
    components it gives), or None.

    Only a composite with no ISA16 at all counts, and only when exactly one candidate
    character splits it into a known SV101-1 qualifier and a non-empty SV101-2; two
    candidates that would both do are ambiguous and give None. Pure text: whether the code
    is one worth reading is the caller's call.
    """
    if separator in text:
        return None
    found = None
    for candidate in COMPONENT_SEPARATOR_CANDIDATES:
        if candidate == separator or candidate not in text:
            continue
        parts = text.split(candidate)
        if parts[0].strip().upper() in SV101_QUALIFIERS and parts[1].strip():
            if found is not None:
                return None
            found = (candidate, parts)
    return found


class Party(NamedTuple):
    """An NM1 entity: who it is and its identifier (NM109, e.g. an NPI or member id).

    A named tuple: immutable (one Party is shared by every claim under a subscriber) and
    cheap to build, which matters because a file has one or more per claim.
    """

    entity: str
    last_name: str = ""
    first_name: str = ""
    id_qualifier: str = ""
    id: str = ""

    @property
    def name(self) -> str:
        return ", ".join(part for part in (self.last_name, self.first_name) if part)


class ServiceDate(NamedTuple):
    """DTP*472: ``D8`` (one date) or ``RD8`` (a range)."""

    qualifier: str
    raw: str
    start: date | None
    end: date | None

    @property
    def is_range(self) -> bool:
        return self.qualifier == "RD8" and self.start != self.end


_NO_ELEMENTS: list[str] = [""] * 8


#: LX01 as written -> its number (or None): a file numbers its lines 1, 2, 3 ... over and
#: over, and the engine's line views and the Spark rows both ask for it
_LX_NUMBERS: dict[str, int | None] = {}
_LX_UNREAD = object()


class ServiceLine:
    """One 2400 loop: a thin view over its split segments.

    The SV1 is kept as its list of elements (``sv1[n]`` is SV1-n); SV101's components are
    split from it on first use (a check of a clean line never needs them: the engine knows
    a line's kind by SV101 as written). The named fields below read from them. Building a line is then one
    split per segment and one small object, which keeps a 200 MB file fast to read; the
    values a rule asks for are worked out on first use (and cached).
    """

    __slots__ = (
        "index",
        "lx_raw",
        "sv1_index",
        "sv1",
        "sv1_text",
        "_composite",
        "service_date",
        "dtp_index",
        "control_number",
        "ref_6r_index",
        "notes",
        "note_indexes",
        "line_rendering_npi",
        "line_rendering_taxonomy",
        "has_cob",
        "end_index",
        "component_separator",
        "_modifiers",
    )

    def __init__(
        self,
        index: int,
        lx_raw: str,
        sv1_index: int | None = None,
        sv1: list[str] | None = None,
        component_separator: str = ":",
        sv1_text: str = "",
    ) -> None:
        #: Index of the LX segment in ``transaction.texts``.
        self.index = index
        self.lx_raw = lx_raw
        #: Index of the SV1 segment and its elements (``sv1[0]`` is the id; at least
        #: SV101-SV107, empty when not sent).
        self.sv1_index = sv1_index
        self.sv1 = sv1 if sv1 is not None else _NO_ELEMENTS
        #: the SV1 segment's text as written, '' exactly when the line has no SV1: what the
        #: engine keys a line's reading by (one dict lookup for the code, modifiers, units and charge)
        self.sv1_text = sv1_text
        self._composite: list[str] | None = None
        #: DTP*472 (None when the line has none) and its index.
        self.service_date: ServiceDate | None = None
        self.dtp_index: int | None = None
        #: REF*6R, the line item control number, and its index.
        self.control_number = ""
        self.ref_6r_index: int | None = None
        #: NTE02 of each 2400 NTE, and the NTE segments' indexes (tuples: most lines have none).
        self.notes: tuple[str, ...] = ()
        self.note_indexes: tuple[int, ...] = ()
        #: 2420A rendering provider when the line has its own, else "".
        self.line_rendering_npi = ""
        self.line_rendering_taxonomy = ""
        #: True when a 2430 (SVD) loop reports another payer's adjudication of this line.
        self.has_cob = False
        #: Index just past the last segment of this 2400 loop.
        self.end_index = 0
        self.component_separator = component_separator
        self._modifiers: tuple[str, ...] | None = None

    @property
    def composite(self) -> list[str]:
        """SV101's components (at least qualifier and code), split on first use."""
        composite = self._composite
        if composite is None:
            composite = self.sv1[1].split(self.component_separator) if self.sv1_index is not None else []
            if len(composite) < 2:
                composite += [""] * (2 - len(composite))
            self._composite = composite
        return composite

    def _component(self, n: int) -> str:
        composite = self.composite
        return composite[n] if n < len(composite) else ""

    @property
    def lx(self) -> int | None:
        """LX01 as a number, or None when it is not one."""
        raw = self.lx_raw
        number = _LX_NUMBERS.get(raw, _LX_UNREAD)
        if number is _LX_UNREAD:
            number = whole_number(raw)
            if len(_LX_NUMBERS) < 4096:
                _LX_NUMBERS[raw] = number
        return number

    @property
    def qualifier(self) -> str:
        """SV101-1, e.g. ``HC``."""
        return self._component(0)

    @property
    def procedure(self) -> str:
        """SV101-2, the procedure code."""
        return self.composite[1]

    @property
    def modifiers(self) -> tuple[str, ...]:
        """SV101-3 to SV101-6, in the order sent, empty ones left out."""
        if self._modifiers is None:
            self._modifiers = tuple(filter(None, self.composite[2:6]))
        return self._modifiers

    @property
    def description(self) -> str:
        """SV101-7."""
        return self._component(6)

    @property
    def charge_raw(self) -> str:
        """SV102 as written."""
        return self.sv1[2]

    @property
    def charge(self) -> Decimal | None:
        return parse_amount(self.sv1[2])

    @property
    def unit_basis(self) -> str:
        """SV103: ``UN`` units or ``MJ`` minutes."""
        return self.sv1[3]

    @property
    def units_raw(self) -> str:
        """SV104 as written."""
        return self.sv1[4]

    @property
    def units(self) -> Decimal | None:
        return parse_amount(self.sv1[4])

    @property
    def place_of_service(self) -> str:
        """SV105, sent only when it differs from CLM05-1."""
        return self.sv1[5]

    @property
    def diagnosis_pointers(self) -> tuple[str, ...]:
        """SV107's pointers into the claim's HI codes."""
        return tuple(filter(None, self.sv1[7].split(self.component_separator)))

    @property
    def date_of_service(self) -> date | None:
        return self.service_date.start if self.service_date else None

    def __repr__(self) -> str:
        return f"ServiceLine(lx={self.lx_raw!r}, {':'.join([self.qualifier, self.procedure, *self.modifiers])}, units={self.units_raw!r})"


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


#: Amounts already parsed, looked up inline on the hot path (cheaper than a call).
_AMOUNTS: dict[str, Decimal] = {}


def parse_amount(raw: str) -> Decimal | None:
    """An X12 decimal (R type) as Decimal, or None when empty or not a number of the R
    type's shape and size (:func:`~edi_rehab.x12.numbers.decimal_number`: no exponent, at
    most 18 digits), so ``1e999999999`` is "not an amount", never an overflow later.

    Cached: a claim file repeats the same few charges, units and dates thousands of times,
    and Decimal/date objects are immutable, so sharing them is safe.
    """
    cached = _AMOUNTS.get(raw)
    if cached is not None:
        return cached
    value = decimal_number(raw)
    if value is None:
        return None
    if len(_AMOUNTS) < 16384:
        _AMOUNTS[raw] = value
    return value


#: Amounts in whole cents, by their text (see amount_cents); a hot loop may look here first.
CENTS: dict[str, int] = {}


#: Amounts of 10**18 or more get no cents: far beyond X12's 18-character R type, where
#: Decimal arithmetic (28 digits) would round and a sum in cents would no longer agree.
_LARGEST_CENTS_EXPONENT = 17


def amount_cents(raw: str) -> int | None:
    """An X12 amount in whole cents, or None when it is not an amount, has a part finer
    than a cent, or is too large to be one (see ``_LARGEST_CENTS_EXPONENT``). Integer sums
    are exact and much cheaper than Decimal ones; cached like :func:`parse_amount`."""
    cents = CENTS.get(raw)
    if cents is not None:
        return cents
    value = parse_amount(raw)
    if value is None or value.adjusted() > _LARGEST_CENTS_EXPONENT:
        return None
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2:
        return None  # finer than a cent (even 1.000 is left to Decimal: it is not an X12 amount)
    cents = int(value.scaleb(2))
    if len(CENTS) < 16384:
        CENTS[raw] = cents
    return cents


@lru_cache(maxsize=8192)
def parse_date(raw: str) -> date | None:
    """CCYYMMDD as a date, or None when it is not a real date."""
    if len(raw) != 8 or not raw.isdecimal():
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


#: Party((...)) without the named tuple's Python-level __new__ (what Party._make does).
_new_party = tuple.__new__


def _party(e: list[str]) -> Party:
    n = len(e)
    if n > 9:
        return _new_party(Party, (e[1], e[3], e[4], e[8], e[9]))
    return _new_party(Party, tuple(e[k] if k < n else "" for k in (1, 3, 4, 8, 9)))


# The segment ids a claim view needs. A loop over a 200 MB file runs millions of times, so
# each segment is split once and dispatched on its id: slicing a prefix to look it up would
# allocate a string per segment and cost as much as the split itself.
_HL, _NM1, _PRV, _SBR, _CLM, _REF, _NTE, _LX, _SV1, _DTP, _SVD = range(1, 12)
_KINDS = {
    "HL": _HL,
    "NM1": _NM1,
    "PRV": _PRV,
    "SBR": _SBR,
    "CLM": _CLM,
    "REF": _REF,
    "NTE": _NTE,
    "LX": _LX,
    "SV1": _SV1,
    "DTP": _DTP,
    "SVD": _SVD,
}
_VIEW_ENTITIES = frozenset({"85", "IL", "PR", "QC", "82"})


def _line_without_sv1(pending_lx: tuple[int, str], end_index: int) -> ServiceLine:
    line = ServiceLine(*pending_lx)
    line.end_index = end_index
    return line


def _missing_date(claim: Claim, line: ServiceLine, first_position: int) -> None:
    if line.service_date is None and line.sv1_index is not None:
        claim.warnings.append(
            ReadWarning(
                "missing-service-date",
                f"service line {line.lx_raw or '?'} has no DTP*472 service date",
                first_position + line.sv1_index,
            )
        )


def read_claims(transaction: Transaction) -> list[Claim]:
    """The claims of an 837P transaction, in file order."""
    return list(iter_claims(transaction))


def claim_ids(transaction: Transaction) -> set[str]:
    """The CLM01 of every claim :func:`iter_claims` yields from ``transaction``, and maybe a
    few more (a superset), found without building a view: one regular expression over the
    transaction's bytes, about a tenth of what checking them costs.

    For a caller that must know a file's claims before checking it (which rows of a minutes
    export to keep). Every segment text iter_claims reads starts after a segment terminator
    and optional CR/LF, so a ``CLM`` there, up to the next element separator or terminator,
    is its CLM01 (latin-1, as the views decode). A ``CLM`` the views would not take as a
    claim (not 837P) only adds an id nobody asks for.
    """
    delims = transaction.delimiters
    return {match.decode("latin-1") for match in _clm01_pattern(delims.element, delims.segment).findall(transaction.raw)}


@lru_cache(maxsize=32)
def _clm01_pattern(element: bytes, terminator: bytes) -> re.Pattern[bytes]:
    el, term = re.escape(element), re.escape(terminator)
    return re.compile(rb"(?:\A|" + term + rb")[\r\n]*CLM" + el + rb"([^" + el + term + rb"]*)")


def iter_claims(transaction: Transaction) -> Iterator[Claim]:
    """The claims of an 837P transaction, each yielded as soon as its 2300 loop ends.

    One pass over the transaction's segments, each split once and dispatched on its id; the
    branches are ordered by how often the segments occur in a therapy claim file. A caller
    that handles claims one at a time holds one claim's views, not a whole transaction's
    (a transaction may hold 5,000 claims).
    """
    texts = transaction.decoded_texts()
    delims = transaction.delimiters
    el = delims.element.decode("latin-1")
    component = delims.component.decode("latin-1")
    dispatch = _KINDS.get
    first_position = transaction.first_position
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
    #: (index, LX01) of an LX whose SV1 has not been seen yet.
    pending_lx: tuple[int, str] | None = None

    for i, text in enumerate(texts):
        e = text.split(el)
        kind = dispatch(e[0])
        if kind is None:
            continue
        n = len(e)
        if kind == 10:  # _DTP
            if line is not None and n > 3 and e[1] == "472":
                line.service_date = _service_date(e[2], e[3])
                line.dtp_index = i
        elif kind == 6:  # _REF
            if claim is None or n < 3:
                continue
            qualifier = e[1]
            if line is not None:
                if qualifier == "6R":
                    line.control_number = e[2]
                    line.ref_6r_index = i
            elif qualifier == "F8" and not in_2320:
                claim.payer_claim_number = e[2]
                claim.ref_f8_index = i
        elif kind == 9:  # _SV1
            if pending_lx is None:
                continue  # an SV1 outside a 2400 loop; the TR3 puts it right after LX
            if n < 8:  # SV105-SV107 are often left off; the named fields read fixed places
                e.extend([""] * (8 - n))
            line = ServiceLine(pending_lx[0], pending_lx[1], i, e, component, text)
            pending_lx = None
            claim.lines.append(line)  # type: ignore[union-attr]
        elif kind == 8:  # _LX
            if claim is None:
                continue
            if line is not None:
                line.end_index = i
                if line.service_date is None:
                    _missing_date(claim, line, first_position)
                line = None
            elif pending_lx is not None:
                claim.lines.append(_line_without_sv1(pending_lx, i))
            in_2320 = False
            last_entity = ""
            pending_lx = (i, e[1] if n > 1 else "")
        elif kind == 2:  # _NM1
            # Most NM1s (submitter, receiver, referring, service facility, other payers)
            # name no one a claim view keeps.
            last_entity = entity = e[1] if n > 1 else ""
            if entity not in _VIEW_ENTITIES:
                continue
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
        elif kind == 5 or kind == 1:  # _CLM or _HL: both close the claim before them
            if line is not None:
                line.end_index = i
                if line.service_date is None:
                    _missing_date(claim, line, first_position)  # type: ignore[arg-type]
                line = None
            elif pending_lx is not None:
                claim.lines.append(_line_without_sv1(pending_lx, i))  # type: ignore[union-attr]
                pending_lx = None
            if claim is not None:
                claim.end_index = i
                yield claim
                claim = None
            last_entity = ""
            if kind == 1:  # HL
                level = e[3] if n > 3 else ""
                if level == "20":
                    billing, billing_taxonomy, billing_hl = None, "", i
                elif level == "22":
                    subscriber, subscriber_hl, patient, patient_hl, payer, filing = None, i, None, None, None, ""
                elif level == "23":
                    patient, patient_hl = None, i
                continue
            in_2320 = False
            composite = e[5].split(component) if n > 5 else []
            c = len(composite)
            charge = e[2] if n > 2 else ""
            claim = Claim(
                transaction,
                i,
                e[1] if n > 1 else "",
                parse_amount(charge),
                charge,
                composite[0] if c else "",
                composite[1] if c > 1 else "",
                composite[2] if c > 2 else "",
                payer,
                filing,
                subscriber,
                patient,
                billing,
                billing_taxonomy,
            )
            claim.billing_hl_index = billing_hl
            claim.subscriber_hl_index = subscriber_hl
            claim.patient_hl_index = patient_hl
        elif kind == 3:  # _PRV
            taxonomy = e[3] if n > 3 else ""
            if claim is None and level == "20":
                billing_taxonomy = taxonomy
            elif claim is not None and last_entity == "82" and not in_2320:
                if line is not None:
                    line.line_rendering_taxonomy = taxonomy
                else:
                    claim.claim_rendering_taxonomy = taxonomy
        elif kind == 4:  # _SBR
            if claim is None:
                filing = e[9] if n > 9 else ""
            else:
                in_2320 = True
                claim.has_cob = True
        elif kind == 7:  # _NTE
            if claim is None:
                continue
            note = e[2] if n > 2 else ""
            if line is not None:
                line.notes += (note,)
                line.note_indexes += (i,)
            else:
                claim.notes.append(note)
        elif kind == 11:  # _SVD
            if claim is not None:
                claim.has_cob = True
                if line is not None:
                    line.has_cob = True
    end = len(texts) - 1
    if claim is not None:
        if line is not None:
            line.end_index = end
            _missing_date(claim, line, first_position)
        elif pending_lx is not None:
            claim.lines.append(_line_without_sv1(pending_lx, end))
        claim.end_index = end
        yield claim
