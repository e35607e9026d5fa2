"""Hold back only the bad claims: one 837P of the claims that can go, one of the rest.

Theory of operation
-------------------
``edi-rehab split`` runs the check (and optionally the implementation-guide validation)
and hands every :class:`~edi_rehab.engine.EventResult` to a :class:`Splitter`, in file
order. For each 837P transaction set the splitter decides, claim by claim, whether the
claim is *held* (it has a finding at or above the failing severity) or *clean*, and
extracts each side with :func:`~edi_rehab.extract.extract_transactions`: every segment of
the claim and of its parents (2000A/2000B/2000C, the transaction header) copied byte for
byte, HL renumbered, SE01 counted. Only the ST..SE bodies are kept (so memory holds the
output bytes, not the transactions' views); :meth:`Splitter.finish` wraps them in fresh
envelopes.

Where a finding lands (``_Owners``): a finding that names a claim holds that claim. A
finding without a claim (a loose transaction finding, an IG issue) is placed by its
segment position: inside a claim's 2300 loop it holds that claim; in an HL header
(2000A/B/C and its 2010 loops) it holds every claim under that HL; in the transaction's
header (BHT, 1000A/B) or on its ST it holds every claim of the transaction, since those
segments are copied into the output. On the ISA or GS it holds every claim of that
interchange or group. Findings that the fresh envelope itself resolves are not reasons:
counts and control numbers of SE/GE/IEA (X001, X004; IG ``IK5-3``, ``IK5-4``, ``IK5-23``,
``AK9-4``, ``AK9-5``, ``AK9-19``, ``TA1-001``, ``TA1-021``, ``TA1-025``) and anything on a
GE, IEA or SE, and the reader's notes on the envelope (X003: a BOM, whitespace), whose bytes
are not copied. They are listed as *not carried* in the report.

The outputs: one interchange per functional group of the input that has claims on that
side, in input order, each with the input's ISA and GS (control numbers aside), ST02
``0001``, ``0002``..., GE01 counted and IEA01 ``1``. Interchange control numbers (ISA13,
and GS06 with the same value) are handed to :meth:`Splitter.finish`, one per output
interchange in the order of :meth:`Splitter.output_senders` (the clean file's interchanges
first, then the held file's); the CLI takes them from the per-sender counter
(:mod:`edi_rehab.control_numbers`), or from ``--control-number`` up. Without them they
count up from ``control_start``.

Invariants (``tests/test_split.py``):

1. Every claim of the input is in exactly one output, byte for byte (its 2300 loop and
   everything in it).
2. Both outputs read back with :func:`edi_rehab.x12.parse` without a count or control
   warning.
3. A claim is held if and only if a finding at or above the threshold lands on it.
4. Nothing here does I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .control_numbers import SenderKey
from .extract import ControlNumbers, ExtractError, extract_transactions, with_element
from .findings import Finding, Severity
from .x12 import GroupHeader, InterchangeHeader, Segment, Transaction, parse

__all__ = ["SplitError", "HeldClaim", "SplitOutput", "SplitResult", "Splitter", "RESOLVED_CODES"]

#: Findings the fresh envelope resolves: never a reason to hold a claim.
RESOLVED_CODES = frozenset(
    {
        "X001",  # SE01/GE01/IEA01 counts
        "X004",  # trailer control numbers
        "IG-IK5-3",  # SE02 differs from ST02
        "IG-IK5-4",  # SE01
        "IG-IK5-23",  # duplicate ST02
        "IG-AK9-4",  # GE02
        "IG-AK9-5",  # GE01
        "IG-AK9-19",  # duplicate GS06
        "IG-TA1-001",  # IEA02
        "IG-TA1-021",  # IEA01
        "IG-TA1-025",  # duplicate ISA13
    }
)


class SplitError(ValueError):
    """The input cannot be split (not an 837P, a claim without its parent loops...)."""


@dataclass(frozen=True, slots=True)
class HeldClaim:
    """A claim that was held back, and why."""

    claim_id: str
    #: File position of its CLM segment in the input.
    segment: int
    #: ST02 of its transaction set in the input.
    transaction: str
    reasons: tuple[Finding, ...]

    def to_json(self) -> dict:
        from .report import finding_json

        return {
            "claim_id": self.claim_id,
            "segment": self.segment,
            "transaction": self.transaction,
            "reasons": [finding_json(f) for f in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class SplitOutput:
    """One side of the split: an 837P file, empty when no claim went this way."""

    data: bytes
    claims: int
    #: ISA13 of each interchange written.
    interchanges: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SplitResult:
    clean: SplitOutput
    held: SplitOutput
    held_claims: tuple[HeldClaim, ...]
    #: Findings about the envelope that the fresh envelopes resolve (not reasons).
    not_carried: tuple[Finding, ...]

    @property
    def claims(self) -> int:
        return self.clean.claims + self.held.claims


@dataclass(slots=True)
class _Side:
    """The bodies written to one side, per input (interchange, group)."""

    groups: dict[tuple[int, int], tuple[Segment, Segment, Segment, list[bytes]]] = field(default_factory=dict)
    claims: int = 0


class Splitter:
    """Decide and extract, one :class:`~edi_rehab.engine.EventResult` at a time.

    Args:
        hold: whether a finding holds the claim it lands on (e.g. severity at or above
            ``--fail-on``).
        control_start: the first interchange control number of the outputs when
            :meth:`finish` is given no numbers (each next interchange adds 1).
        extra: findings from outside the check (IG issues), in any order; placed by
            segment position as described in the module docstring.
    """

    def __init__(self, *, hold: Callable[[Finding], bool], control_start: int = 1, extra: Iterable[Finding] = ()) -> None:
        if not 1 <= control_start <= 999_999_999:
            raise SplitError("the interchange control number must be 1 to 999999999")
        self.hold = hold
        self.control_start = control_start
        self._extra = sorted(extra, key=lambda f: f.segment)
        self._extra_positions = [f.segment for f in self._extra]
        self._sides = {"clean": _Side(), "held": _Side()}
        self._held: list[HeldClaim] = []
        self._not_carried: list[Finding] = []
        self._interchange = -1
        self._group = -1
        #: Reasons inherited from the current ISA and GS.
        self._isa_reasons: tuple[Finding, ...] = ()
        self._gs_reasons: tuple[Finding, ...] = ()

    # -- feeding -------------------------------------------------------------------------------
    def add(self, result) -> None:
        """Take the next event's result (``EventResult`` from ``Checker.check_events``)."""
        event = result.event
        if isinstance(event, Transaction):
            self._transaction(result)
            return
        position = event.segment.position if hasattr(event, "segment") else None
        found = [f for f in (*result.findings, *self._extra_at(position)) if self.hold(f)]
        if isinstance(event, InterchangeHeader):
            self._interchange += 1
            self._group = -1
            self._isa_reasons = self._envelope_reasons(found)
        elif isinstance(event, GroupHeader):
            self._group += 1
            self._gs_reasons = self._envelope_reasons(found)
        else:  # GE, IEA, end of input: rebuilt from scratch, or not copied
            self._not_carried += found

    def output_senders(self) -> list[SenderKey]:
        """The sender key (ISA06/ISA08) of each interchange :meth:`finish` will write, in
        output order: what to ask the control-number counter for."""
        return [
            SenderKey.of(isa.element(6), isa.element(8))
            for name in ("clean", "held")
            for isa, _gs, _se, _bodies in self._sides[name].groups.values()
        ]

    def finish(self, numbers: Sequence[int] | None = None) -> SplitResult:
        """Wrap the kept bodies in envelopes. ``numbers``: the ISA13/GS06 of each output
        interchange, in :meth:`output_senders` order; ``None`` counts up from
        ``control_start``."""
        count = len(self.output_senders())
        if numbers is None:
            if self.control_start + count - 1 > 999_999_999:
                raise SplitError("the interchange control numbers would pass 999999999")
            numbers = range(self.control_start, self.control_start + count)
        if len(numbers) != count:
            raise SplitError(f"{len(numbers)} control numbers for {count} output interchanges")
        given = iter(numbers)
        outputs = {}
        for name in ("clean", "held"):
            side = self._sides[name]
            pieces: list[bytes] = []
            controls: list[str] = []
            for isa, gs, se, bodies in side.groups.values():
                number = next(given)
                try:
                    control = ControlNumbers(number, number)
                except ExtractError as error:
                    raise SplitError(str(error)) from None
                pieces += _envelope(isa, gs, se, bodies, control)
                controls.append(control.isa13)
            outputs[name] = SplitOutput(b"".join(pieces), side.claims, tuple(controls))
        return SplitResult(outputs["clean"], outputs["held"], tuple(self._held), tuple(self._not_carried))

    # -- a transaction -------------------------------------------------------------------------
    def _transaction(self, result) -> None:
        tx: Transaction = result.event
        if tx.set_id != "837" or not tx.version.startswith("005010X222"):
            raise SplitError(
                f"transaction set {tx.set_id or '?'} at segment {tx.first_position} ({tx.version or 'no version'}) "
                "is not an 837P 005010X222; split takes 837P files only"
            )
        claims = [c.claim for c in result.claims]
        reasons: dict[int, list[Finding]] = {id(c): [f for f in cr.findings if self.hold(f)] for c, cr in zip(claims, result.claims)}
        owners = _Owners(tx, claims)
        inherited = [*self._isa_reasons, *self._gs_reasons]
        loose = [f for f in result.findings if f.claim_id is None]
        extra = self._extra_in(tx.first_position, tx.last_position)
        for finding in [*loose, *extra]:
            if not self.hold(finding):
                continue
            if finding.code in RESOLVED_CODES or finding.segment == tx.last_position:
                self._not_carried.append(finding)
                continue
            for claim in owners.of(finding.segment):
                reasons[id(claim)].append(finding)
        clean, held = [], []
        for claim in claims:
            found = reasons[id(claim)] + inherited
            if found:
                found.sort(key=lambda f: (f.segment, f.code))
                held.append(claim)
                self._held.append(HeldClaim(claim.claim_id, claim.position(), tx.control_number, tuple(found)))
            else:
                clean.append(claim)
        for name, chosen in (("clean", clean), ("held", held)):
            if chosen:
                self._write(name, tx, chosen)

    def _write(self, name: str, tx: Transaction, claims: Sequence) -> None:
        side = self._sides[name]
        key = (self._interchange, self._group)
        entry = side.groups.get(key)
        if entry is None:
            entry = side.groups[key] = (tx.interchange, tx.group, tx.segments[-1], [])
        bodies = entry[3]
        st02 = f"{len(bodies) + 1:04d}"
        try:
            # extract_transactions writes a whole interchange; keep its ST..SE only, so the
            # transactions of one input group share one output group.
            out = extract_transactions([(tx, claims)], ControlNumbers(1, 1, st02))
        except ExtractError as error:
            raise SplitError(f"transaction set at segment {tx.first_position}: {error}") from None
        body = next(parse(out).transactions())
        bodies.append(body.raw)
        side.claims += len(claims)

    # -- IG findings by position ---------------------------------------------------------------
    def _extra_in(self, first: int, last: int) -> list[Finding]:
        lo = bisect.bisect_left(self._extra_positions, first)
        hi = bisect.bisect_right(self._extra_positions, last)
        return self._extra[lo:hi]

    def _extra_at(self, position: int | None) -> list[Finding]:
        return self._extra_in(position, position) if position is not None else []

    def _envelope_reasons(self, found: list[Finding]) -> tuple[Finding, ...]:
        """Findings on an ISA or GS: the output copies those segments, so what the fresh
        control numbers do not resolve holds every claim under them."""
        reasons = []
        for finding in found:
            if finding.code in RESOLVED_CODES or finding.segment == 0:
                self._not_carried.append(finding)  # counts, control numbers, a BOM
            else:
                reasons.append(finding)
        return tuple(reasons)


class _Owners:
    """Which claims of a transaction a segment position belongs to."""

    def __init__(self, tx: Transaction, claims: list) -> None:
        self.first = tx.first_position
        self.claims = sorted(claims, key=lambda c: c.index)
        self.starts = [c.index for c in self.claims]
        el = tx.delimiters.element
        self.hls = [i for i, text in enumerate(tx.texts) if text.startswith(b"HL" + el)]

    def of(self, position: int) -> list:
        index = position - self.first
        at = bisect.bisect_right(self.starts, index) - 1
        if at >= 0 and index < self.claims[at].end_index:
            return [self.claims[at]]
        h = bisect.bisect_right(self.hls, index) - 1
        if h >= 0:
            hl = self.hls[h]
            under = [c for c in self.claims if hl in (c.billing_hl_index, c.subscriber_hl_index, c.patient_hl_index)]
            if under:
                return under
        return list(self.claims)  # transaction header, ST, or a place no claim owns


# -- envelopes ------------------------------------------------------------------------------------
def _envelope(isa: Segment, gs: Segment, se: Segment, bodies: list[bytes], control: ControlNumbers) -> list[bytes]:
    el = se.delimiters.element
    end = (se.terminator or se.delimiters.segment) + se.trailing
    return [
        with_element(isa, 13, control.isa13),
        with_element(gs, 6, control.gs06),
        *bodies,
        el.join([b"GE", str(len(bodies)).encode(), control.gs06.encode()]) + end,
        el.join([b"IEA", b"1", control.isa13.encode()]) + end,
    ]


def hold_at_or_above(threshold: Severity) -> Callable[[Finding], bool]:
    """The usual ``hold``: a finding at or above ``threshold`` (``--fail-on``)."""
    return lambda finding: finding.severity.rank >= threshold.rank
