"""Envelope and structure rules: trailer counts, service dates, tolerated input, LX order.

The reader (:mod:`edi_rehab.x12.stream`) tolerates these defects and reports them as
:class:`~edi_rehab.x12.errors.ReadWarning` values; these rules turn them into findings.
Every warning kind lands in exactly one rule: X001 counts, X004 control numbers, X003 the
rest (so a new kind is reported rather than dropped).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..x12.errors import WARNING_KINDS, ReadWarning
from .base import ClaimContext, Hit, LineView, TransactionContext

#: Warning kinds with their own rule; every other kind is X003.
_COUNT_KINDS = frozenset({"count-mismatch"})
_CONTROL_KINDS = frozenset({"control-mismatch"})


# -- X001 ---------------------------------------------------------------------------------------
def trailer_count_mismatch(warning: ReadWarning) -> Iterator[Hit]:
    """SE01, GE01 or IEA01 disagrees with the real count.

    ## What it does
    Fires on a trailer whose count differs from what it closes: SE01 (segments in the
    transaction set, ST and SE included), GE01 (transaction sets in the group) or IEA01
    (groups in the interchange).

    ## Why is this bad?
    Translators reject the whole transaction set, group or interchange on a count error
    (999 IK5/AK9 rejection, or TA1), so no claim in it is processed.

    ## Source
    Reference §5 and §8 (the X12 envelope as defined in the pyx12 005010 maps and the TR3
    examples [V map]); the reader's tolerated-defect list (`count-mismatch`).

    ## Fix safety
    Safe: the fix writes the real count (`details["expected"]`) into the element; no billed
    value changes.
    """
    if warning.kind not in _COUNT_KINDS:
        return
    yield Hit(
        warning.message,
        segment=warning.segment,
        details={"element": warning.element, "found": warning.found, "expected": warning.expected},
        fix=f"set {warning.element} to {warning.expected}",
    )


# -- X002 ---------------------------------------------------------------------------------------
def line_without_service_date(claim: ClaimContext) -> Iterator[Hit]:
    """A service line has no DTP*472 service date.

    ## What it does
    Fires on each 2400 loop with an SV1 but no DTP*472. Such a line is left out of every
    date-based rule (units, NCCI pairs, MUEs).

    ## Why is this bad?
    The professional claim has no claim-level service date for therapy: without DTP*472
    the line has no date of service and is rejected, and timed codes must be "reported
    for each date of service on a single line".

    ## Source
    Reference §5 (DTP*472 Service Date, required [V map]) and §1.5 (one line per date of
    service [V FCSO]).

    ## Fix safety
    No fix: the date must come from the record.
    """
    missing = {w.segment for w in claim.claim.warnings if w.kind == "missing-service-date"}
    if not missing:
        return
    for lv in claim.lines:
        if lv.segment in missing:
            yield Hit(f"service line {lv.lx_text} ({lv.procedure}) has no DTP*472 service date", at=lv)


# -- X003 ---------------------------------------------------------------------------------------
def tolerated_input(warning: ReadWarning) -> Iterator[Hit]:
    """Input the reader tolerated: a BOM, stray whitespace, an empty segment, a letter used as the repetition separator.

    ## What it does
    Reports every defect the lossless reader accepted and kept byte for byte: a UTF-8
    byte-order mark or whitespace before the ISA, whitespace after the last IEA, an ISA
    that is not 106 bytes, a letter in ISA11 (so no repetition separator), an empty
    segment (`~~`), and bytes outside ASCII. ISA11 = `U` on an interchange before version
    00402 (ISA12 `00401`, 4010) is not reported: there ISA11 is the interchange standards
    identifier and `U` its required value.

    ## Why is this bad?
    Strict translators reject these files outright (an ISA of the wrong length, a BOM),
    and a letter in ISA11 turns an ordinary value containing that letter into a
    repetition for receivers that honour it.

    ## Source
    Reference §5 (005010X222A1 basic character set and fixed-length ISA as in the pyx12
    maps [V map]); the reader's tolerated-defect list. ISA11 as a repetition separator
    from 00402 on, the standards identifier `U` before it: X12 ISA definitions, as
    `edi_rehab/x12/delimiters.py` records them, and issue 10 item 8 [S].

    ## Fix safety
    No fix yet: removing bytes is safe in principle, but is left to a later layout fix.
    """
    if warning.kind in _COUNT_KINDS or warning.kind in _CONTROL_KINDS:
        return
    yield Hit(warning.message, segment=warning.segment, details={"kind": warning.kind})


# -- X004 ---------------------------------------------------------------------------------------
def control_number_mismatch(warning: ReadWarning) -> Iterator[Hit]:
    """A trailer's control number differs from its header's (SE02/ST02, GE02/GS06, IEA02/ISA13).

    ## What it does
    Fires on an SE, GE or IEA whose control number is not the one in the matching ST, GS
    or ISA.

    ## Why is this bad?
    Receivers pair headers and trailers by control number; a mismatch rejects the
    transaction set, group or interchange (999 / TA1), and acknowledgements cannot be
    matched back to it.

    ## Source
    Reference §5 (X12 envelope elements as defined in the pyx12 005010 maps [V map]).

    ## Fix safety
    No fix: which of the two numbers is right is unknown.
    """
    if warning.kind in _CONTROL_KINDS:
        yield Hit(warning.message, segment=warning.segment)


# -- X005 ---------------------------------------------------------------------------------------
def lx_out_of_sequence(claim: ClaimContext) -> Iterator[Hit]:
    """LX01 line numbers are not 1, 2, 3 ... in order within the claim.

    ## What it does
    Fires once per claim, at the first service line whose LX01 is not its position in the
    claim (a gap, a repeat, a number that is not a number).

    ## Why is this bad?
    Minutes files, 835 matching and every finding name lines by LX01. A repeated number
    makes minutes land on the wrong line, and receivers expect the numbering to restart at
    1 and increase by 1.

    ## Source
    Reference §5 (LX01 Assigned Number, "Sequential from 1" [M TR3]).

    ## Fix safety
    No fix: renumbering would detach minutes rows and 835 lines that use the old numbers.
    """
    for position, lv in enumerate(claim.lines, start=1):
        if lv.lx != position:
            yield Hit(
                f"line {position} of the claim is numbered LX {lv.line.lx_raw or '(empty)'}; LX01 should run 1, 2, 3 ...",
                at=lv,
                details={"position": position, "found": lv.line.lx_raw},
            )
            return


# -- X007 ---------------------------------------------------------------------------------------
def sv101_foreign_component_separator(line: LineView) -> Iterator[Hit]:
    """SV101 is joined with a character other than the interchange's component separator (ISA16).

    ## What it does
    Fires on a service line whose SV101 holds no ISA16 character but splits on another
    usual separator (`>` `:` `^` `|` `\\` `!`) into a qualifier and a code, e.g.
    `HC>97110>GP` under ISA16 `:`. Read with ISA16, that SV101 is one component: no code,
    no modifiers, so every therapy rule would pass the line silently. When exactly one
    character gives HC, a code of `maps/codes.xml` (or of a PTP edit) and two-character
    modifiers, the line is read that way and the other rules judge it as the sender meant
    it; otherwise the message says the line could not be read and no rule checked it.

    ## Why is this bad?
    The payer's translator splits SV101 on ISA16 too: it sees a procedure code such as
    `HC>97110>GP`, which exists in no code set, and rejects the line (999/277CA) or the
    whole claim. The file is wrong whatever the line bills.

    ## Source
    Reference §5 (SV101 is composite C003: qualifier ER/HC/IV/WK, code, modifiers of AN 2/2
    [V map]); issue 10 item 9 (six public LinuxForHealth 837P samples write SV101 with `>`
    under ISA16 `:`, and `check` passed them silently) [M for the count]; that ISA16 is the
    one component separator of the interchange is the X12 envelope rule this project's
    reader is built on (`docs/architecture.md`, invariant 2 "Delimiters are data").

    ## Fix safety
    No fix: rewriting the separator would change what the payer reads for the line; the
    sender's software (or its ISA16 setting) must be corrected and the file made again.
    """
    kind = line.kind
    separator = kind.foreign_separator
    if not separator:
        return
    isa16 = line.line.component_separator
    if kind.composite_read:
        modifiers = f" with {', '.join(kind.modifiers)}" if kind.modifiers else ""
        read = (
            f"read here as {kind.procedure}{modifiers} and checked so, but a payer splitting on "
            f"{isa16!r} sees no valid code and will reject the line"
        )
    else:
        read = "no rule could read its code or modifiers, so nothing else was checked on this line"
    yield Hit(
        f"SV101 is joined with {separator!r} but the interchange's component separator (ISA16) is "
        f"{isa16!r}; {read}",
        at=line,
        details={"separator": separator, "isa16": isa16, "read": kind.composite_read},
    )


# -- X006 ---------------------------------------------------------------------------------------
def not_professional_claim(tx: TransactionContext) -> Iterator[Hit]:
    """A transaction set is not an 837P (005010X222A1), so the therapy rules did not run on it.

    ## What it does
    Fires on the ST of every transaction set whose ST01 is not 837 or whose version
    (ST03, else GS08) is not 005010X222 (for example an 835, or an 837I).

    ## Why is this bad?
    `check` gives no finding for what it did not check; a file that exits 0 only because
    it holds no professional claims would mislead a pre-submission hook.

    ## Source
    Reference §5 (the rules cover 837P 005010X222A1 [V map]).

    ## Fix safety
    No fix: check the right file, or use `edi-rehab validate` for other transaction sets.
    """
    transaction = tx.transaction
    if transaction.set_id == "837" and transaction.version.startswith("005010X222"):
        return
    yield Hit(
        f"transaction set {transaction.set_id or '?'} ({transaction.version or 'no version'}) is not an "
        f"837P 005010X222A1 claim set; the therapy rules were not run on it",
        segment=transaction.first_position,
        details={"set_id": transaction.set_id, "version": transaction.version},
    )


#: For the X003 doc and tests: the kinds each envelope rule owns.
KIND_RULES = {kind: "X001" if kind in _COUNT_KINDS else "X004" if kind in _CONTROL_KINDS else "X003" for kind in WARNING_KINDS}
