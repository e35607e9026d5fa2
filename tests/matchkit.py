"""Hand-built 837P/835 pairs for the match, appeal and extract tests (synthetic data only).

``claim_file`` writes a valid 005010X222A1 file (pyx12 accepts it) from :class:`C` and
:class:`L` values; ``remit_file`` writes a 005010X221A1 remittance from :class:`P` and
:class:`S` values and balances it unless told otherwise: SVC03 = SVC02 - sum(CAS),
CLP04 = sum(SVC03) - claim CAS, BPR02 = sum(CLP04) - sum(PLB). Every amount is a string
so that tests control its exact spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from edi_rehab.claims import read_claims
from edi_rehab.engine import Checker
from edi_rehab.mapdata import load_maps
from edi_rehab.match import ClaimIndex, CodeBook, MatchResult, index_claim_file, match_remittances, read_remittance_file
from edi_rehab.x12 import iter_events, parse


@dataclass
class L:
    """One 837 service line."""

    procedure: str
    modifiers: tuple[str, ...] = ("GP",)
    charge: str = "50"
    units: str = "1"
    date: str = "20260105"
    ref6r: str | None = "auto"
    basis: str = "UN"


@dataclass
class C:
    """One 837 claim."""

    claim_id: str
    lines: list[L]
    frequency: str = "1"
    filing: str = "MB"
    payer_id: str = "SYNMB0001"
    payer_name: str = "SYNTHETIC MEDICARE PART B"
    f8: str | None = None
    dependent: bool = False
    member: str = "SYN000001"
    last: str = "PATIENT0001"
    #: extra 2300 segments after CLM (text without terminator), e.g. "REF*G1*AUTH1"
    extra: tuple[str, ...] = ()
    charge: str | None = None
    #: a COB loop (2320 SBR + 2330A/B) after HI
    cob: bool = False


def _seg(delims: str, *elements: str) -> str:
    return delims[0].join(elements) + delims[3]


def claim_file(
    claims: list[C],
    *,
    delims: str = "*:^~",
    nl: str = "\n",
    isa13: str = "000000001",
    billing: str = "SYNTHETIC PHYSICAL THERAPY",
    npi: str = "2667182382",
    taxonomy: str = "225100000X",
) -> bytes:
    el, comp, rep, term = delims
    segs: list[str] = []

    def s(*elements: str) -> None:
        segs.append(el.join(elements) + term + nl)

    isa = el.join(
        ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SYNSUBMIT      ", "ZZ", "SYNRECEIVE     ", "260202", "0800", rep, "00501", isa13, "0", "T", comp]
    )
    out = [isa + term + nl]
    s("GS", "HC", "SYNSUBMIT", "SYNRECEIVE", "20260202", "0800", "1", "X", "005010X222A1")
    body_start = len(segs)
    s("ST", "837", "0001", "005010X222A1")
    s("BHT", "0019", "00", "SYNBATCH1", "20260202", "0800", "CH")
    s("NM1", "41", "2", "SYNTHETIC BILLING", "", "", "", "", "46", "SYNSUB001")
    s("PER", "IC", "BILLING OFFICE", "TE", "5555550100")
    s("NM1", "40", "2", "SYNTHETIC CLEARINGHOUSE", "", "", "", "", "46", "SYNRCV001")
    hl = 1
    s("HL", "1", "", "20", "1")
    s("PRV", "BI", "PXC", taxonomy)
    s("NM1", "85", "2", billing, "", "", "", "", "XX", npi)
    s("N3", "100 SYNTHETIC WAY")
    s("N4", "SPRINGFIELD", "IL", "627010001")
    s("REF", "EI", "977079461")
    for claim in claims:
        hl += 1
        sub = hl
        s("HL", str(sub), "1", "22", "1" if claim.dependent else "0")
        s("SBR", "P", "" if claim.dependent else "18", "", "", "", "", "", "", claim.filing)
        s("NM1", "IL", "1", claim.last, "TEST", "", "", "", "MI", claim.member)
        s("N3", "1 SYNTHETIC STREET")
        s("N4", "SPRINGFIELD", "IL", "62701")
        s("DMG", "D8", "19410202", "F")
        s("NM1", "PR", "2", claim.payer_name, "", "", "", "", "PI", claim.payer_id)
        if claim.dependent:
            hl += 1
            s("HL", str(hl), str(sub), "23", "0")
            s("PAT", "19")
            s("NM1", "QC", "1", claim.last + "JR", "TEST")
            s("N3", "1 SYNTHETIC STREET")
            s("N4", "SPRINGFIELD", "IL", "62701")
            s("DMG", "D8", "20100202", "M")
        total = claim.charge or str(sum(Decimal(line.charge) for line in claim.lines))
        s("CLM", claim.claim_id, total, "", "", comp.join(["11", "B", claim.frequency]), "Y", "A", "Y", "Y")
        for extra in claim.extra:
            segs.append(extra.replace("*", el) + term + nl)
        if claim.f8:
            s("REF", "F8", claim.f8)
        s("HI", comp.join(["ABK", "M6281"]))
        if claim.cob:
            s("SBR", "S", "18", "", "", "", "", "", "", "CI")
            s("OI", "", "", "Y", "", "", "Y")
            s("NM1", "IL", "1", claim.last, "TEST", "", "", "", "MI", "OTHER01")
            s("NM1", "PR", "2", "SYNTHETIC OTHER PAYER", "", "", "", "", "PI", "SYNOTHER1")
        for number, line in enumerate(claim.lines, start=1):
            s("LX", str(number))
            s("SV1", comp.join(["HC", line.procedure, *line.modifiers]), line.charge, line.basis, line.units, "", "", "1")
            s("DTP", "472", "D8", line.date)
            ref = f"{claim.claim_id}-{number}" if line.ref6r == "auto" else line.ref6r
            if ref:
                s("REF", "6R", ref)
    s("SE", str(len(segs) - body_start + 1), "0001")
    s("GE", "1", "1")
    s("IEA", "1", isa13)
    return ("".join(out) + "".join(segs)).encode("latin-1")


@dataclass
class S:
    """One 835 service payment (2110)."""

    procedure: str
    modifiers: tuple[str, ...] = ("GP",)
    charge: str = "50"
    cas: list[tuple[str, str, str]] = field(default_factory=list)
    paid: str | None = None
    units: str = ""
    original: tuple[str, tuple[str, ...]] | None = None
    original_units: str = ""
    date: str = "20260105"
    ref6r: str | None = None
    remarks: tuple[str, ...] = ()
    allowed: str | None = None


@dataclass
class P:
    """One 835 claim payment (2100)."""

    claim_id: str
    services: list[S]
    status: str = "1"
    icn: str = "ICN0001"
    cas: list[tuple[str, str, str]] = field(default_factory=list)
    moa: tuple[str, ...] = ()
    charge: str | None = None
    paid: str | None = None
    frequency: str = "1"


def _amount(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def remit_file(
    claims: list[P],
    *,
    plb: list[tuple[str, str]] = (),
    bpr: str | None = None,
    delims: str = "*:^~",
    nl: str = "\n",
    payer: str = "SYNTHETIC MEDICARE PART B",
) -> bytes:
    el, comp, rep, term = delims
    segs: list[str] = []

    def s(*elements: str) -> None:
        segs.append(el.join(elements) + term + nl)

    body: list[str] = []
    total = Decimal(0)
    for clp in claims:
        lines = []
        paid_sum = Decimal(0)
        charge_sum = Decimal(0)
        for svc in clp.services:
            paid = Decimal(svc.paid) if svc.paid is not None else Decimal(svc.charge) - sum((Decimal(a) for _, _, a in svc.cas), Decimal(0))
            paid_sum += paid
            charge_sum += Decimal(svc.charge)
            original = comp.join(["HC", svc.original[0], *svc.original[1]]) if svc.original else ""
            elements = ["SVC", comp.join(["HC", svc.procedure, *svc.modifiers]), svc.charge, _amount(paid), "", svc.units, original, svc.original_units]
            while elements[-1] == "":
                elements.pop()
            lines.append(el.join(elements) + term + nl)
            lines.append(el.join(["DTM", "472", svc.date]) + term + nl)
            groups: dict[str, list[str]] = {}
            for group, reason, amount in svc.cas:
                groups.setdefault(group, []).extend([reason, amount, ""])
            for group, triplets in groups.items():
                while triplets and triplets[-1] == "":
                    triplets = triplets[:-1]
                lines.append(el.join(["CAS", group, *triplets]) + term + nl)
            if svc.ref6r:
                lines.append(el.join(["REF", "6R", svc.ref6r]) + term + nl)
            if svc.allowed:
                lines.append(el.join(["AMT", "B6", svc.allowed]) + term + nl)
            for remark in svc.remarks:
                lines.append(el.join(["LQ", "HE", remark]) + term + nl)
        claim_cas = sum((Decimal(a) for _, _, a in clp.cas), Decimal(0))
        charge = clp.charge or _amount(charge_sum)
        clp_paid = clp.paid or _amount((Decimal(charge) if not clp.services else paid_sum) - claim_cas)
        total += Decimal(clp_paid)
        body.append(el.join(["CLP", clp.claim_id, clp.status, charge, clp_paid, "", "MB", clp.icn, "11", clp.frequency]) + term + nl)
        for group in dict.fromkeys(g for g, _, _ in clp.cas):
            triplets = []
            for g, reason, amount in clp.cas:
                if g == group:
                    triplets += [reason, amount, ""]
            body.append(el.join(["CAS", group, *triplets[:-1]]) + term + nl)
        body.append(el.join(["NM1", "QC", "1", "PATIENT0001", "TEST", "", "", "", "MI", "SYN000001"]) + term + nl)
        if clp.moa:
            body.append(el.join(["MOA", "", "", *clp.moa]) + term + nl)
        body.extend(lines)
    plb_total = sum((Decimal(a) for _, a in plb), Decimal(0))
    paid_total = bpr if bpr is not None else _amount(total - plb_total)
    isa = el.join(
        ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SYNPAYER       ", "ZZ", "SYNSUBMIT      ", "260216", "0800", rep, "00501", "000000001", "0", "T", comp]
    )
    s("GS", "HP", "SYNPAYER", "SYNSUBMIT", "20260216", "0900", "1", "X", "005010X221A1")
    start = len(segs)
    s("ST", "835", "0001")
    s("BPR", "I", paid_total, "C", "CHK", "", "", "", "", "", "", "", "", "", "", "", "20260216")
    s("TRN", "1", "SYNCHK000001", "1999999999")
    s("N1", "PR", payer)
    s("N3", "PO BOX 1000")
    s("N4", "SPRINGFIELD", "IL", "62701")
    s("PER", "BL", "TECHNICAL SUPPORT", "TE", "5555550199")
    s("N1", "PE", "SYNTHETIC PHYSICAL THERAPY", "XX", "2667182382")
    s("LX", "1")
    segs.extend(body)
    if plb:
        pairs = []
        for reason, amount in plb:
            pairs += [comp.join([reason, "REF1"]), amount]
        s("PLB", "2667182382", "20261231", *pairs)
    s("SE", str(len(segs) - start + 1), "0001")
    s("GE", "1", "1")
    s("IEA", "1", "000000001")
    return (isa + term + nl + "".join(segs)).encode("latin-1")


MAPS = load_maps()


def run(remit: bytes, *claim_files: bytes | tuple[str, bytes], minutes=None, config=None, carc=None, rarc=None) -> MatchResult:
    """Check the claim files, index them, read the remittance and match."""
    checker = Checker(maps=MAPS, minutes=minutes, config=config)
    index = ClaimIndex()
    for number, item in enumerate(claim_files, start=1):
        name, data = item if isinstance(item, tuple) else (f"claims{number}.x12", item)
        index_claim_file(index, name, iter_events([data]), checker)
    remits = read_remittance_file("remit.835", iter_events([remit]))
    return match_remittances([("remit.835", r) for r in remits], index, CodeBook(MAPS, carc, rarc), minutes=minutes)


def only_claims(data: bytes):
    tx = next(parse(data).transactions())
    return tx, read_claims(tx)
