"""Take claims out of an 837P transaction into a new, valid 837P; edit a claim before that.

Theory of operation
-------------------
A claim (loop 2300) cannot travel alone: it hangs from its billing provider (2000A), its
subscriber (2000B) and, for a dependant, its patient (2000C), inside an ST..SE with its
BHT and submitter/receiver (1000A/1000B), inside a GS and an ISA. :func:`extract_claims` (one transaction set) and :func:`extract_transactions` (several, for
``split``) copy every one of those segments **byte for byte** (text, terminator and the line break
after it) and rewrites only what must change in a new interchange:

* ISA13/IEA02, GS06/GE02, ST02/SE02: fresh control numbers the caller supplies
  (:class:`ControlNumbers`), because a receiver rejects a repeated interchange;
* HL01 numbers from 1, HL02 pointing at the new number of the parent, HL04 saying whether
  the HL has children *in the output* (a 2000B whose dependant was left behind becomes 0);
* SE01 counted, GE01 = the number of transaction sets, IEA01 = 1.

Parents shared by several extracted claims are written once, in their original order.
Tolerated junk before a segment (a BOM, stray whitespace) is not copied. The delimiters
and line breaks are the transaction's own; nothing assumes ``*``, ``:`` or ``~``.

Before extraction a claim can be edited with byte splices (:mod:`edi_rehab.edits`):
:func:`replacement_edits` sets the claim frequency (CLM05-3) and REF*F8,
:func:`modifier_edit`/:func:`units_edits`/:func:`delete_line_edit` change lines, and
:func:`apply_to_transaction` splices the edits and reads the result back as a
:class:`~edi_rehab.x12.stream.Transaction`. :func:`consistency_edits` then makes LX01
sequential and CLM02 the sum of SV102. :func:`build_claim_file` chains all of it.

Invariants:

1. Outside the rewritten envelope numbers and HL elements, every output byte is a byte of
   the input transaction (after the caller's edits).
2. The output reads back with :func:`edi_rehab.x12.parse` without a count or control
   warning, and :func:`edi_rehab.claims.read_claims` finds exactly the claims extracted.
3. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .claims import Claim, ServiceLine, read_claims
from .edits import apply_edits, delete_segment, insert_segment_after, replace_components, replace_element
from .findings import Edit
from .mapdata import ModifierPolicy
from .x12.document import parse
from .x12.numbers import whole_number
from .x12.segments import Segment
from .x12.stream import Transaction

__all__ = [
    "ControlNumbers",
    "ExtractError",
    "extract_claims",
    "extract_transactions",
    "replacement_edits",
    "modifier_edit",
    "units_edits",
    "delete_line_edit",
    "apply_to_transaction",
    "consistency_edits",
    "build_claim_file",
    "format_amount",
]

#: Segments of the 2300 header that may precede REF*F8 (pyx12 positions 1300-1800).
_BEFORE_F8 = frozenset({"CLM", "DTP", "PWK", "CN1", "AMT", "REF"})
_MAX_MODIFIERS = 4


class ExtractError(ValueError):
    """The claims cannot be extracted or edited as asked (message only, no patient data)."""


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    """Control numbers for a new interchange.

    ``interchange`` becomes ISA13/IEA02 (nine digits, zero-padded), ``group`` GS06/GE02,
    ``transaction`` ST02/SE02 (four to nine characters; digits are zero-padded to four).
    """

    interchange: int
    group: int
    transaction: str = "0001"

    def __post_init__(self) -> None:
        if not 1 <= self.interchange <= 999_999_999:
            raise ExtractError("ISA13 must be 1 to 999999999")
        if not 1 <= self.group <= 999_999_999:
            raise ExtractError("GS06 must be 1 to 999999999")
        st02 = self.st02
        if not 4 <= len(st02) <= 9 or not st02.isalnum():
            raise ExtractError("ST02 must be 4 to 9 letters or digits")

    @property
    def isa13(self) -> str:
        return f"{self.interchange:09d}"

    @property
    def gs06(self) -> str:
        return str(self.group)

    @property
    def st02(self) -> str:
        value = str(self.transaction)
        return value.zfill(4) if value.isdecimal() else value


# -- extraction ---------------------------------------------------------------------------------
def _seg_id(text: bytes, el: bytes) -> bytes:
    return text.split(el, 1)[0]


def with_element(segment: Segment, index: int, value: str) -> bytes:
    """``segment``'s own bytes with element ``index`` set to ``value`` (separators added when short)."""
    el = segment.delimiters.element
    parts = segment.text.split(el)
    while len(parts) <= index:
        parts.append(b"")
    parts[index] = value.encode("latin-1")
    return el.join(parts) + (segment.terminator or segment.delimiters.segment) + segment.trailing


def _hl_end(texts: list[bytes], start: int, el: bytes) -> int:
    """Index just past the header segments of the HL at ``start`` (up to the next HL or CLM)."""
    hl, clm = b"HL" + el, b"CLM" + el
    i = start + 1
    n = len(texts) - 1  # never past SE
    while i < n and not texts[i].startswith(hl) and not texts[i].startswith(clm):
        i += 1
    return i


def extract_claims(transaction: Transaction, claims: Sequence[Claim], control: ControlNumbers) -> bytes:
    """A complete 837P interchange holding only ``claims`` of ``transaction``.

    Args:
        transaction: an 837P transaction set as read (or as rebuilt by
            :func:`apply_to_transaction`).
        claims: claims read from that very transaction (:func:`read_claims`), in any order;
            they are written in file order, each once.
        control: the new ISA13, GS06 and ST02.

    Raises:
        ExtractError: no claims, a claim from another transaction, or a claim without its
            2000A/2000B parents.
    """
    return extract_transactions([(transaction, claims)], control)


def extract_transactions(parts: Sequence[tuple[Transaction, Sequence[Claim]]], control: ControlNumbers) -> bytes:
    """One 837P interchange with one transaction set per ``(transaction, claims)`` part.

    What ``split`` needs to write the claims of several transaction sets to one file: the
    ISA and GS are the first part's (with ``control``'s ISA13 and GS06), each part gets its
    own ST..SE with ``control``'s ST02 counting up (``0001``, ``0002`` ...), and GE01 counts
    the parts. Parts with no claims are left out.

    Raises:
        ExtractError: no claims at all; parts with different delimiters or GS08 versions
            (they cannot share one interchange and group); or any error of
            :func:`extract_claims`.
    """
    parts = [(tx, claims) for tx, claims in parts if claims]
    if not parts:
        raise ExtractError("no claims to extract")
    first = parts[0][0]
    for tx, _ in parts[1:]:
        if tx.delimiters != first.delimiters:
            raise ExtractError("transaction sets with different delimiters cannot share one interchange")
        if tx.group.element(8) != first.group.element(8):
            raise ExtractError("transaction sets of different versions (GS08) cannot share one functional group")
    st02 = control.st02
    width = len(st02)
    number = whole_number(st02)
    if number is not None and number + len(parts) - 1 > 10**9 - 1:
        raise ExtractError("ST02 would overflow nine digits")
    isa, gs = first.interchange, first.group
    out: list[bytes] = [with_element(isa, 13, control.isa13), with_element(gs, 6, control.gs06)]
    for k, (tx, claims) in enumerate(parts):
        if number is None and k:
            raise ExtractError("ST02 must be digits to number several transaction sets")
        this = st02 if number is None else str(number + k).zfill(width)
        out += _transaction_body(tx, claims, this)
    se = first.segments[-1]
    out.append(_rebuild(se, [b"GE", str(len(parts)).encode(), control.gs06.encode()]))
    out.append(_rebuild(se, [b"IEA", b"1", control.isa13.encode()]))
    return b"".join(out)


def _transaction_body(transaction: Transaction, claims: Sequence[Claim], st02: str) -> list[bytes]:
    """ST through SE holding ``claims``, HL renumbered, SE01 counted."""
    texts = transaction.texts
    el = transaction.delimiters.element
    segments = transaction.segments
    chosen: dict[int, Claim] = {}
    for claim in claims:
        if claim.transaction is not transaction:
            raise ExtractError(f"claim {claim.claim_id!r} was not read from this transaction")
        hl = b"HL" + el
        if not texts[claim.billing_hl_index].startswith(hl) or not texts[claim.subscriber_hl_index].startswith(hl):
            raise ExtractError(f"claim {claim.claim_id!r} has no 2000A/2000B parent loops")
        chosen[claim.index] = claim
    ordered = [chosen[i] for i in sorted(chosen)]

    # billing HL -> subscriber HL -> patient HL (None: claims under the subscriber) -> claims
    tree: dict[int, dict[int, dict[int | None, list[Claim]]]] = {}
    for claim in ordered:
        patients = tree.setdefault(claim.billing_hl_index, {}).setdefault(claim.subscriber_hl_index, {})
        patients.setdefault(claim.patient_hl_index, []).append(claim)

    body: list[bytes] = [with_element(segments[0], 2, st02)]
    first_hl = next((i for i, t in enumerate(texts) if t.startswith(b"HL" + el)), len(texts) - 1)
    body += [segments[i].own_bytes for i in range(1, first_hl)]

    number = 0

    def emit_hl(index: int, parent: str, children: bool) -> str:
        nonlocal number
        number += 1
        seg = segments[index]
        parts = seg.text.split(el)
        while len(parts) < 5:
            parts.append(b"")
        parts[1] = str(number).encode()
        parts[2] = parent.encode()
        parts[4] = b"1" if children else b"0"
        body.append(el.join(parts) + (seg.terminator or seg.delimiters.segment) + seg.trailing)
        body.extend(segments[i].own_bytes for i in range(index + 1, _hl_end(texts, index, el)))
        return str(number)

    def emit_claims(items: list[Claim]) -> None:
        for claim in items:
            body.extend(segments[i].own_bytes for i in range(claim.index, claim.end_index))

    for billing, subscribers in tree.items():
        billing_id = emit_hl(billing, "", True)
        for subscriber, patients in subscribers.items():
            has_dependants = any(key is not None for key in patients)
            subscriber_id = emit_hl(subscriber, billing_id, has_dependants)
            emit_claims(patients.get(None, []))
            for patient, items in patients.items():
                if patient is None:
                    continue
                emit_hl(patient, subscriber_id, False)
                emit_claims(items)

    se = segments[-1]
    body.append(_rebuild(se, [b"SE", str(len(body) + 1).encode(), st02.encode()]))
    return body


def _rebuild(like: Segment, elements: list[bytes]) -> bytes:
    """A new segment written with ``like``'s separator, terminator and line break."""
    return like.delimiters.element.join(elements) + (like.terminator or like.delimiters.segment) + like.trailing


# -- edits on a claim ---------------------------------------------------------------------------
def _check_value(transaction: Transaction, value: str, what: str) -> None:
    delims = transaction.delimiters
    used = {delims.element, delims.component, delims.segment} | ({delims.repetition} if delims.repetition else set())
    raw = value.encode("latin-1", "replace")
    if not value or any(d in raw for d in used) or any(b < 32 for b in raw):
        raise ExtractError(f"{what} is empty or holds a delimiter or control character")


def replacement_edits(
    transaction: Transaction, claim: Claim, *, frequency: str, payer_claim_number: str | None = None
) -> list[Edit]:
    """Edits that turn ``claim`` into a replacement (``7``) or a new claim (``1``).

    * CLM05-3 becomes ``frequency``;
    * ``7`` and ``8`` need REF*F8 = ``payer_claim_number`` (the payer's claim control
      number, 835 CLP07): the existing REF*F8 is updated, or a new one inserted after the
      2300 segments that precede it (CLM, DTP, PWK, CN1, AMT, REF);
    * ``1`` removes any REF*F8: a new claim refers to no earlier one.

    Raises:
        ExtractError: an unknown frequency, no payer claim number for 7/8, a value holding a
            delimiter, or a CLM without CLM05.
    """
    if frequency not in ("1", "7", "8"):
        raise ExtractError(f"claim frequency {frequency!r} is not 1, 7 or 8")
    segments = transaction.segments
    clm = segments[claim.index]
    composite = clm.components(5)
    if len(composite) < 2:
        raise ExtractError(f"claim {claim.claim_id!r} has no CLM05 composite")
    while len(composite) < 3:
        composite.append("")
    edits: list[Edit] = []
    if composite[2] != frequency:
        composite[2] = frequency
        edits.append(replace_components(clm, 5, composite))
    if frequency == "1":
        if claim.ref_f8_index is not None:
            edits.append(delete_segment(segments[claim.ref_f8_index]))
        return edits
    if not payer_claim_number:
        raise ExtractError(f"a frequency-{frequency} claim needs the payer claim number (CLP07) for REF*F8")
    _check_value(transaction, payer_claim_number, "the payer claim number")
    if claim.ref_f8_index is not None:
        ref = segments[claim.ref_f8_index]
        if ref.element(2) != payer_claim_number:
            edits.append(replace_element(ref, 2, payer_claim_number))
        return edits
    el = transaction.delimiters.element
    texts = transaction.texts
    at = claim.index
    i = claim.index + 1
    while i < claim.end_index and _seg_id(texts[i], el).decode("latin-1") in _BEFORE_F8:
        at = i
        i += 1
    sep = el.decode("latin-1")
    edits.append(insert_segment_after(segments[at], f"REF{sep}F8{sep}{payer_claim_number}"))
    return edits


def modifier_edit(
    transaction: Transaction,
    line: ServiceLine,
    modifiers: Sequence[str],
) -> Edit | None:
    """Set the modifiers of ``line``'s SV101 to ``modifiers`` (None when they already are).

    Raises:
        ExtractError: the line has no SV1, or more than four modifiers are asked for.
    """
    if line.sv1_index is None:
        raise ExtractError(f"line {line.lx_raw or '?'} has no SV1")
    mods = [m for m in modifiers if m]
    if len(mods) > _MAX_MODIFIERS:
        raise ExtractError(f"line {line.lx_raw or '?'}: SV101 holds at most four modifiers")
    for mod in mods:
        _check_value(transaction, mod, "a modifier")
    seg = transaction.segments[line.sv1_index]
    composite = seg.components(1)
    if len(composite) < 2:
        raise ExtractError(f"line {line.lx_raw or '?'}: SV101 has no procedure code")
    current = tuple(m for m in composite[2:6] if m)
    if current == tuple(mods):
        return None
    rest = composite[6:]
    new = composite[:2] + mods
    if rest:
        new += [""] * (_MAX_MODIFIERS - len(mods)) + rest
    return replace_components(seg, 1, new)


def add_modifier(
    modifiers: Sequence[str], modifier: str, policy: ModifierPolicy | None = None, order: str | None = None
) -> tuple[str, ...] | None:
    """``modifiers`` with ``modifier`` added in the payer's order; None when there is no room."""
    mods = tuple(modifiers)
    if modifier in mods:
        return mods
    if len(mods) >= _MAX_MODIFIERS:
        return None
    new = (*mods, modifier)
    return policy.order(new, order) if policy is not None else new


def format_amount(value: Decimal, like: str = "") -> str:
    """``value`` as an X12 decimal, in the style of ``like`` (``"47"`` or ``"47.00"``)."""
    if "." in like:
        places = max(len(like.partition(".")[2]), 2)
        return f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"
    cents = value.quantize(Decimal("0.01"), ROUND_HALF_UP)
    if cents == cents.to_integral_value():
        return f"{cents.to_integral_value():f}"
    return f"{cents:f}".rstrip("0").rstrip(".")


def units_edits(transaction: Transaction, line: ServiceLine, units: int) -> list[Edit]:
    """Set SV104 to ``units`` and rescale SV102 by the line's own unit charge (half-up to cents).

    Raises:
        ExtractError: no SV1, units below 1 (delete the line instead), or unreadable SV102/SV104.
    """
    if line.sv1_index is None:
        raise ExtractError(f"line {line.lx_raw or '?'} has no SV1")
    if units < 1:
        raise ExtractError("units must be 1 or more; remove the line instead")
    if line.units is None or line.units <= 0 or line.charge is None:
        raise ExtractError(f"line {line.lx_raw or '?'}: SV102/SV104 cannot be read")
    seg = transaction.segments[line.sv1_index]
    edits = []
    if line.units != units:
        edits.append(replace_element(seg, 4, str(units)))
        charge = line.charge * Decimal(units) / line.units
        edits.append(replace_element(seg, 2, format_amount(charge, line.charge_raw)))
    return edits


def delete_line_edit(transaction: Transaction, line: ServiceLine) -> Edit:
    """Remove a whole 2400 loop (LX through the segment before the next LX or claim)."""
    segments = transaction.segments
    first, last = segments[line.index], segments[line.end_index - 1]
    return Edit(first.offset, last.end, b"")


def apply_to_transaction(transaction: Transaction, edits: Iterable[Edit]) -> tuple[Transaction, list[Edit]]:
    """Splice ``edits`` (absolute offsets in the transaction's file) and read the result back.

    Returns the new transaction (offsets now relative to a small synthetic envelope; its
    ISA and GS are the original's) and the edits skipped because they overlapped.

    Raises:
        ExtractError: the edited bytes no longer read as one transaction.
    """
    from .x12.errors import X12ReadError

    new_raw, _, skipped = apply_edits(transaction.raw, edits, base=transaction.offset)
    se = transaction.segments[-1]
    isa, gs = transaction.interchange, transaction.group
    envelope = isa.own_bytes + gs.own_bytes
    trailer = _rebuild(se, [b"GE", b"1", gs.element(6).encode("latin-1")]) + _rebuild(
        se, [b"IEA", b"1", isa.element(13).encode("latin-1")]
    )
    try:
        document = parse(envelope + new_raw + trailer)
    except X12ReadError as error:
        raise ExtractError(f"the edited transaction cannot be read: {error}") from None
    found = list(document.transactions())
    if len(found) != 1:
        raise ExtractError("the edits did not leave exactly one transaction")
    return found[0], skipped


def consistency_edits(transaction: Transaction, claim: Claim) -> list[Edit]:
    """LX01 numbered 1..n and CLM02 = the sum of SV102, as edits (none when already so)."""
    segments = transaction.segments
    edits = []
    for number, line in enumerate(claim.lines, start=1):
        if line.lx_raw != str(number):
            edits.append(replace_element(segments[line.index], 1, str(number)))
    charges = [line.charge for line in claim.lines]
    if charges and all(c is not None for c in charges):
        total = sum(charges, Decimal(0))  # type: ignore[arg-type]
        if claim.charge != total:
            edits.append(replace_element(segments[claim.index], 2, format_amount(total, claim.charge_raw)))
    return edits


def _claim_at(transaction: Transaction, index: int) -> Claim:
    for claim in read_claims(transaction):
        if claim.index == index:
            return claim
    raise ExtractError("the edited claim could not be found again")  # pragma: no cover - edits stay inside the claim


def build_claim_file(
    transaction: Transaction,
    claim: Claim,
    *,
    control: ControlNumbers,
    edits: Iterable[Edit] = (),
    frequency: str | None = None,
    payer_claim_number: str | None = None,
) -> tuple[bytes, list[Edit]]:
    """One claim as a complete 837P, after ``edits`` and the frequency change.

    Every edit must lie inside the claim (CLM through the segment before the next HL, CLM
    or SE), so the claim keeps its place. LX01 and CLM02 are made consistent afterwards.

    Returns the file's bytes and the edits skipped because they overlapped others.

    Raises:
        ExtractError: an edit outside the claim, or any error of the steps above.
    """
    segments = transaction.segments
    lo = segments[claim.index].offset
    hi = segments[claim.end_index - 1].end if claim.end_index > claim.index else segments[claim.index].end
    planned = list(edits)
    for edit in planned:
        if edit.start < lo or edit.end > hi:
            raise ExtractError(f"an edit lies outside claim {claim.claim_id!r}")
    if frequency is not None:
        planned += replacement_edits(transaction, claim, frequency=frequency, payer_claim_number=payer_claim_number)
    tx, skipped = apply_to_transaction(transaction, planned)
    edited = _claim_at(tx, claim.index)
    tidy = consistency_edits(tx, edited)
    if tidy:
        tx, _ = apply_to_transaction(tx, tidy)
        edited = _claim_at(tx, claim.index)
    return extract_claims(tx, [edited], control), skipped
