"""Build small synthetic 837P files for rule tests (no real patient data).

A case describes claims as data::

    claim(ln("97110:GP", 3), ln("97140:GP", 1), id="PCN1", filing="MB")

and :func:`x12` turns claims into one interchange with one 837P transaction set (or
several, with ``transactions=[[...], [...]]``). SE01, GE01 and IEA01 are counted unless a
wrong value is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

D1 = "20260105"
D2 = "20260106"
D3 = "20260107"

#: NUCC taxonomy codes for the rendering provider's PRV03
PT = "225100000X"
PTA = "225200000X"
OT = "225X00000X"
OTA = "224Z00000X"
SLP = "235Z00000X"


@dataclass
class Line:
    procedure: str
    units: str = "1"
    dos: str | None = D1
    basis: str = "UN"
    charge: str = "100"
    note: str | None = None
    description: str | None = None
    npi: str | None = None
    #: REF*6R: "auto" writes <CLM01>-<LX01>, None leaves it out
    ref6r: str | None = "auto"
    lx: str | None = None
    qualifier: str = "HC"
    #: SV105 place of service; "" leaves it to CLM05-1
    pos: str = ""
    #: 2420A PRV03 after the line's own NM1*82 (``npi``); None writes no PRV
    taxonomy: str | None = None


@dataclass
class ClaimSpec:
    lines: tuple[Line, ...]
    id: str = "PCN1"
    payer_id: str = "PAYER1"
    filing: str = "CI"
    frequency: str = "1"
    f8: str | None = None
    charge: str | None = None
    patient: str = "MEMBER1"
    rendering: str | None = "1111111111"
    extra: list[str] = field(default_factory=list)
    #: CLM05-1 place of service
    pos: str = "11"
    #: 2310B PRV03 of the rendering provider (a physical therapist by default)
    taxonomy: str = PT


def ln(procedure: str, units: int | str = 1, dos: str | None = D1, **kw) -> Line:
    """A service line: ``"97110:GP"`` is the code with its modifiers; ``units`` is SV104.

    ``dos`` is CCYYMMDD (D8), ``CCYYMMDD-CCYYMMDD`` (RD8) or None (no DTP*472).
    """
    return Line(procedure, str(units), dos, **kw)


def claim(*lines: Line, **kw) -> ClaimSpec:
    return ClaimSpec(tuple(lines), **kw)


def _sv1(line: Line) -> str:
    parts = line.procedure.split(":")
    composite = [line.qualifier, *parts]
    if line.description is not None:
        composite += [""] * (6 - len(composite)) + [line.description]
    return f"SV1*{':'.join(composite)}*{line.charge}*{line.basis}*{line.units}*{line.pos}**1"


def _claim_segments(spec: ClaimSpec, hl: int) -> list[str]:
    charge = spec.charge
    if charge is None:
        total = sum(float(line.charge) for line in spec.lines)
        charge = f"{total:g}"
    segments = [
        f"HL*{hl}*1*22*0",
        f"SBR*P*18*******{spec.filing}",
        f"NM1*IL*1*TESTLAST*TESTFIRST****MI*{spec.patient}",
        f"NM1*PR*2*TEST PAYER*****PI*{spec.payer_id}",
        f"CLM*{spec.id}*{charge}***{spec.pos}:B:{spec.frequency}*Y*A*Y*Y",
    ]
    if spec.f8 is not None:
        segments.append(f"REF*F8*{spec.f8}")
    segments.append("HI*ABK:M545")
    if spec.rendering:
        segments += [f"NM1*82*1*THERAPIST*TEST****XX*{spec.rendering}", f"PRV*PE*PXC*{spec.taxonomy}"]
    segments += spec.extra
    for number, line in enumerate(spec.lines, start=1):
        segments.append(f"LX*{line.lx if line.lx is not None else number}")
        segments.append(_sv1(line))
        if line.dos is not None:
            qualifier = "RD8" if "-" in line.dos else "D8"
            segments.append(f"DTP*472*{qualifier}*{line.dos}")
        if line.ref6r is not None:
            value = f"{spec.id}-{number}" if line.ref6r == "auto" else line.ref6r
            segments.append(f"REF*6R*{value}")
        if line.note is not None:
            segments.append(f"NTE*ADD*{line.note}")
        if line.npi is not None:
            segments.append(f"NM1*82*1*OTHER*TEST****XX*{line.npi}")
            if line.taxonomy is not None:
                segments.append(f"PRV*PE*PXC*{line.taxonomy}")
    return segments


def transaction(claims: list[ClaimSpec], control: str = "0001", se_count: int | None = None) -> list[str]:
    body = [
        f"ST*837*{control}*005010X222A1",
        "BHT*0019*00*BATCH1*20260105*1200*CH",
        "NM1*41*2*TEST SUBMITTER*****46*S1",
        "PER*IC*CONTACT*TE*5555555555",
        "NM1*40*2*TEST RECEIVER*****46*R1",
        "HL*1**20*1",
        "NM1*85*2*TEST CLINIC*****XX*1999999999",
        "N3*1 MAIN ST",
        "N4*CITY*ST*12345",
        "REF*EI*123456789",
    ]
    for hl, spec in enumerate(claims, start=2):
        body += _claim_segments(spec, hl)
    count = len(body) + 1 if se_count is None else se_count
    return body + [f"SE*{count}*{control}"]


ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260105*1200*^*00501*000000001*0*T*:"


def x12(*claims: ClaimSpec, transactions: list[list[ClaimSpec]] | None = None, se_count: int | None = None,
        ge_count: int | None = None, terminator: str = "~\n") -> bytes:
    """One interchange, one group, one transaction set per list in ``transactions``
    (default: one holding ``claims``)."""
    sets = transactions if transactions is not None else [list(claims)]
    segments = [ISA, "GS*HC*SENDER*RECEIVER*20260105*1200*1*X*005010X222A1"]
    for n, group in enumerate(sets, start=1):
        segments += transaction(group, control=f"{n:04d}", se_count=se_count)
    segments += [f"GE*{len(sets) if ge_count is None else ge_count}*1", "IEA*1*000000001"]
    return terminator.join(segments).encode("latin-1") + terminator.encode("latin-1")


def minutes_csv(*rows: tuple, header: str = "claim_id,line,minutes,procedure,service_date,time_block") -> str:
    """A minutes CSV; each row is a tuple of cell values in ``header`` order (None -> empty),
    padded with empty cells to the header's width."""
    width = header.count(",") + 1
    lines = [header]
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        lines.append(",".join(cells + [""] * (width - len(cells))))
    return "\n".join(lines) + "\n"
