"""Seeded synthetic 837P and 835 files for tests, fixtures and benchmarks.

Theory of operation
-------------------
Nothing here is real: patients are ``PATIENT0001``, members ``SYN000001``, NPIs are made up
(they pass the NPI Luhn check with the ``80840`` prefix), payers are ``SYNTHETIC ...``. The
module does no I/O: every function returns bytes, text or values, and
``fixtures/make_fixtures.py`` is the one place that writes files.

Generation happens in two steps, both driven by one ``random.Random(spec.seed)``:

1. *Plan* each claim (:class:`SynthClaim`, :class:`SynthLine`): the codes, dates, the minutes
   that "really" happened, the units billed, modifiers and charges. Defects asked for in
   :attr:`SynthSpec.defects` are applied here, so every claim records which defects it
   carries and where.
2. *Render* the plan as 005010X222A1 bytes with the spec's delimiters and line breaks,
   counting segments, transactions and groups as it goes.

:func:`generate_835` adjudicates a generated claim file the way a payer plausibly would
(or as told, line by line) and renders a balanced 005010X221A1 remittance.

Invariants (each has a test in ``tests/test_synth.py``):

1. The same spec gives the same bytes.
2. A clean claim (no defects) is correct under both 8-minute methods: at most one timed
   line per date has a leftover of 8+ minutes, the others' leftovers are tiny, so the CMS
   total-minutes allocation is unique and equals the per-code rounding. Same-date pairs
   that need NCCI care are avoided, except 97140 + 97530, which gets ``59`` on 97530.
3. ``CLM02 = sum(SV102)``, ``SE01``/``GE01``/``IEA01`` are right, HL numbering, parents and
   child codes are right, and every line has a unique ``REF*6R`` of ``<CLM01>-<LX01>``;
   unless a defect says otherwise.
4. No transaction holds more than :attr:`SynthSpec.claims_per_transaction` claims (at most
   5000, the TR3 recommendation).
5. Every 835 balances: ``SVC02 - sum(CAS) = SVC03``, ``CLP03 - sum(CAS) = CLP04`` and
   ``BPR02 = sum(CLP04) - sum(PLB)``.
6. ``b"".join(iter_837p_chunks(spec, n))`` is ``generate_837p(spec with claims=k,
   interchanges=1).data`` for the ``k`` claims it needed to reach ``n`` bytes.
"""

from __future__ import annotations

import csv
import io
import random
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

__all__ = [
    "Discipline",
    "DISCIPLINES",
    "TIMED_CODES",
    "UNTIMED_CODES",
    "FEES",
    "PAYERS",
    "DEFECTS",
    "RANDOM_DEFECT_KINDS",
    "OUTCOMES",
    "DEFECT_OUTCOMES",
    "Defect",
    "SynthSpec",
    "SynthLine",
    "SynthClaim",
    "Synth837",
    "LineOutcome",
    "RemitSpec",
    "RemitLine",
    "RemitClaim",
    "Synth835",
    "make_npi",
    "is_valid_npi",
    "plan_claims",
    "generate_837p",
    "iter_837p_chunks",
    "minutes_csv",
    "generate_835",
]

# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Discipline:
    """What a discipline bills with: its GP/GO/GN modifier, taxonomy and default codes."""

    modifier: str
    taxonomy: str
    #: The assistant modifier (CQ with GP, CO with GO); SLP has none.
    assistant: str
    provider_name: str
    codes: tuple[str, ...]
    diagnoses: tuple[str, ...]


DISCIPLINES: dict[str, Discipline] = {
    "PT": Discipline(
        "GP",
        "225100000X",
        "CQ",
        "SYNTHETIC PHYSICAL THERAPY",
        ("97110", "97112", "97116", "97140", "97530", "97535", "97035",
         "97161", "97162", "97163", "97164", "97010", "97150", "G0283"),
        ("M5450", "M25561", "M6281", "R262", "M1711", "S83511A"),
    ),
    "OT": Discipline(
        "GO",
        "225X00000X",
        "CO",
        "SYNTHETIC OCCUPATIONAL THERAPY",
        ("97110", "97112", "97140", "97530", "97535", "97165", "97166", "97167", "97168", "97150"),
        ("M25511", "M6281", "R278", "I69351", "M79641"),
    ),
    "SLP": Discipline(
        "GN",
        "235Z00000X",
        "",
        "SYNTHETIC SPEECH THERAPY",
        ("92507", "92526", "92521", "92522", "92523"),
        ("R4701", "R1312", "F8081", "R482", "I69320"),
    ),
}

#: 15-minute timed codes: the 8-minute rule applies (reference section 2).
TIMED_CODES = frozenset(
    {"97032", "97033", "97034", "97035", "97036", "97110", "97112", "97113", "97116", "97124",
     "97140", "97530", "97533", "97535", "97537", "97542", "97750", "97755", "97760", "97761",
     "97763"}
)
#: Untimed codes synth knows (one unit per date).
UNTIMED_CODES = frozenset(
    {"97161", "97162", "97163", "97164", "97165", "97166", "97167", "97168", "97010", "97012",
     "97014", "97016", "97018", "97022", "97150", "G0283", "92507", "92508", "92521", "92522",
     "92523", "92524", "92526", "92610"}
)
_EVALUATIONS = frozenset(
    {"97161", "97162", "97163", "97165", "97166", "97167", "92521", "92522", "92523", "92524", "92610"}
)
_RE_EVALUATIONS = frozenset({"97164", "97168"})
#: Attended modalities: a unit or so per visit, never an hour of ultrasound.
_MODALITIES = frozenset({"97032", "97033", "97034", "97035", "97036"})

#: Same-date pairs a clean claim never bills (NCCI pairs of reference section 3.3 whose
#: modifier use is unclear). 97140 + 97530 is the one pair synth bills, with 59 on 97530.
_AVOID_TOGETHER = frozenset(
    frozenset(pair)
    for pair in [
        ("97140", "97161"), ("97140", "97162"), ("97140", "97163"),
        ("97530", "97116"), ("97150", "97110"), ("97140", "97124"), ("97012", "97140"),
        ("92507", "92526"), ("G0283", "92526"),
    ]
)

#: Synthetic charge per unit, in dollars.
FEES: dict[str, Decimal] = {
    code: Decimal(fee)
    for code, fee in {
        "97110": "48", "97112": "52", "97116": "45", "97140": "47", "97530": "55", "97535": "50",
        "97035": "22", "97032": "25", "97033": "28", "97124": "44", "97750": "60",
        "97161": "150", "97162": "165", "97163": "185", "97164": "95",
        "97165": "150", "97166": "165", "97167": "185", "97168": "95",
        "97010": "15", "97012": "30", "97014": "18", "97150": "35", "G0283": "18",
        "92507": "120", "92508": "60", "92521": "200", "92522": "180", "92523": "250",
        "92524": "160", "92526": "130", "92610": "170",
    }.items()
}
_DEFAULT_FEE = Decimal("40")

#: Claim filing indicator (SBR09) -> synthetic payer (name, payer id).
PAYERS: dict[str, tuple[str, str]] = {
    "MB": ("SYNTHETIC MEDICARE PART B", "SYNMB0001"),
    "MC": ("SYNTHETIC MEDICAID", "SYNMC0001"),
    "CI": ("SYNTHETIC COMMERCIAL HEALTH", "SYNCI0001"),
    "BL": ("SYNTHETIC BLUE PLAN", "SYNBL0001"),
    "HM": ("SYNTHETIC HMO", "SYNHM0001"),
}

#: Defect kind -> (level, what it does). ``line`` defects need :attr:`Defect.line`.
DEFECTS: dict[str, tuple[str, str]] = {
    "units-over-minutes": ("line", "SV104 is m // 15 + 2: above what the minutes support under either method"),
    "units-under-minutes": ("line", "SV104 is one unit below the minutes' floor (m // 15 - 1, minutes forced to 30+)"),
    "minutes-as-units": ("line", "SV104 holds the minutes with SV103 = UN"),
    "mj-units": ("line", "SV103 = MJ and SV104 holds the minutes"),
    "missing-therapy-modifier": ("line", "the GP/GO/GN modifier is left off"),
    "wrong-therapy-modifier": ("line", "another discipline's modifier (GO on a PT claim, GP on OT/SLP)"),
    "modifier-order": (
        "line",
        "modifiers out of the default order: reversed when 2+, else GP:CQ / GO:CO on a timed code (KX:GP, KX:GN otherwise)",
    ),
    "ncci-no-59": ("line", "this line is 97530, another line on its date is 97140, and neither has 59"),
    "59-on-97140": ("line", "this line is 97530 beside a 97140 on its date, with 59 on 97140 instead of 97530"),
    "missing-service-date": ("line", "no DTP*472 on the line"),
    "missing-6r": ("line", "no REF*6R on the line"),
    "duplicate-6r": ("line", "REF*6R repeats the previous line's (line must be 2+)"),
    "clm02-mismatch": ("claim", "CLM02 is 10.00 more than the sum of SV102"),
    "wrong-se01": ("envelope", "SE01 of the claim's transaction is one too high"),
    "se02-mismatch": ("envelope", "SE02 of the claim's transaction differs from ST02"),
    "wrong-ge01": ("envelope", "GE01 of the claim's group is one too high"),
    "wrong-iea01": ("envelope", "IEA01 of the claim's interchange is one too high"),
}
_UNIT_DEFECTS = ("units-over-minutes", "units-under-minutes", "minutes-as-units", "mj-units")
_NCCI_DEFECTS = ("ncci-no-59", "59-on-97140")
#: Defects :attr:`SynthSpec.defect_rate` sprinkles (all keep the file readable).
RANDOM_DEFECT_KINDS = (
    "units-over-minutes", "minutes-as-units", "mj-units", "missing-therapy-modifier",
    "modifier-order", "ncci-no-59", "missing-6r",
)

#: 835 line outcome -> (CAS group, CARC, RARCs); ``paid`` and ``co-151`` are computed.
OUTCOMES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "paid": ("CO", "45", ()),
    "co-151": ("CO", "151", ()),
    "co-236": ("CO", "236", ("N20",)),
    "co-4": ("CO", "4", ("N822",)),
    "co-16": ("CO", "16", ("M53",)),
    "co-97": ("CO", "97", ("M15",)),
    "co-50": ("CO", "50", ("N115",)),
    "pr-119": ("PR", "119", ()),
    "oa-18": ("OA", "18", ()),
}
#: What :func:`generate_835` does by default with a line carrying a defect.
DEFECT_OUTCOMES: dict[str, str] = {
    "units-over-minutes": "co-151",
    "minutes-as-units": "co-151",
    "mj-units": "co-16",
    "missing-therapy-modifier": "co-4",
    "wrong-therapy-modifier": "co-4",
    "ncci-no-59": "co-236",
}
#: Claims with these defects are rejected before adjudication (999/277CA) and get no CLP.
_FRONT_END_REJECTIONS = frozenset({"clm02-mismatch", "missing-service-date"})

_CENT = Decimal("0.01")
_DATA_CHARACTERS = frozenset(string.ascii_uppercase + string.digits + " .-")
_SENDER = "SYNSUBMIT"
_RECEIVER = "SYNRECEIVE"

# ---------------------------------------------------------------------------------------
# NPIs
# ---------------------------------------------------------------------------------------


def _luhn_digit(payload: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        digit = int(ch)
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(base: str) -> str:
    """A 10-digit NPI from 9 digits: the Luhn check digit over ``80840`` + ``base``."""
    if len(base) != 9 or not base.isdigit() or base[0] not in "12":
        raise ValueError(f"an NPI base is 9 digits starting with 1 or 2, not {base!r}")
    return base + str(_luhn_digit("80840" + base))


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is 10 digits whose last is the Luhn digit over ``80840`` + the rest."""
    return len(npi) == 10 and npi.isdigit() and _luhn_digit("80840" + npi[:9]) == int(npi[9])


# ---------------------------------------------------------------------------------------
# Specs and the plan
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Defect:
    """One defect to inject: ``kind`` (a key of :data:`DEFECTS`) on claim ``claim``
    (1-based, file order) and, for line defects, the line with ``LX01 == line``."""

    kind: str
    claim: int = 1
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SynthSpec:
    """Everything that shapes a generated 837P file. Change it with ``dataclasses.replace``."""

    seed: int = 0
    claims: int = 10
    #: Inclusive range of service lines per claim (a defect may add lines).
    lines_per_claim: tuple[int, int] = (2, 4)
    #: Inclusive range of distinct service dates per claim.
    dates_per_claim: tuple[int, int] = (1, 1)
    #: Each claim picks one (keys of :data:`DISCIPLINES`).
    disciplines: tuple[str, ...] = ("PT",)
    #: Codes to bill; ``None`` uses each discipline's default mix.
    codes: tuple[str, ...] | None = None
    #: Each claim picks one SBR09 (keys of :data:`PAYERS`, or any 1-2 character code).
    filing_indicators: tuple[str, ...] = ("MB",)
    #: First possible date of service; claims spread over ``date_span_days`` weekdays.
    start_date: date = date(2026, 1, 5)
    date_span_days: int = 20
    #: Interchange date (ISA09/GS04/BHT04).
    created: date = date(2026, 2, 2)
    #: Element, component, repetition and segment separators, in that order. A tuple gives
    #: one set per interchange (cycled).
    delimiters: str | tuple[str, ...] = "*:^~"
    #: Bytes after every segment terminator: ``""``, ``"\n"`` or ``"\r\n"``.
    line_break: str = ""
    claims_per_transaction: int = 5000
    interchanges: int = 1
    #: ISA15: ``T`` test or ``P`` production.
    usage: str = "T"
    #: Share of claims with a 2310B rendering provider (NM1*82 + PRV*PE).
    rendering_share: float = 0.5
    #: Share of lines with their own 2420A rendering provider.
    line_rendering_share: float = 0.0
    #: Share of non-Medicare claims whose patient is a dependant (2000C loop).
    patient_share: float = 0.2
    #: Share of timed PT/OT lines furnished by an assistant (CQ/CO before GP/GO).
    assistant_share: float = 0.0
    #: Add ``NTE*ADD*MIN <minutes>`` to timed lines.
    minutes_notes: bool = False
    defects: tuple[Defect, ...] = ()
    #: Chance that a line without an asked-for defect gets one of :data:`RANDOM_DEFECT_KINDS`.
    defect_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.claims < 0:
            raise ValueError("claims must be 0 or more")
        low, high = self.lines_per_claim
        if not 1 <= low <= high <= 50:
            raise ValueError("lines_per_claim must satisfy 1 <= low <= high <= 50 (2400 repeats 50)")
        low, high = self.dates_per_claim
        if not 1 <= low <= high:
            raise ValueError("dates_per_claim must satisfy 1 <= low <= high")
        if not 1 <= self.claims_per_transaction <= 5000:
            raise ValueError("claims_per_transaction must be 1..5000 (TR3 recommendation)")
        if self.interchanges < 1:
            raise ValueError("interchanges must be 1 or more")
        for name in self.disciplines:
            if name not in DISCIPLINES:
                raise ValueError(f"unknown discipline {name!r}; known: {', '.join(DISCIPLINES)}")
        if not self.disciplines or not self.filing_indicators:
            raise ValueError("disciplines and filing_indicators must not be empty")
        if self.codes is not None and not self.codes:
            raise ValueError("codes must be None or non-empty")
        if self.line_break not in ("", "\n", "\r\n"):
            raise ValueError("line_break must be '', '\\n' or '\\r\\n'")
        if self.usage not in ("T", "P"):
            raise ValueError("usage must be 'T' or 'P'")
        for delims in self.delimiter_sets:
            _check_delimiters(delims, self.line_break)
        for defect in self.defects:
            if defect.kind not in DEFECTS:
                raise ValueError(f"unknown defect {defect.kind!r}; known: {', '.join(DEFECTS)}")
            if defect.claim < 1:
                raise ValueError("Defect.claim is 1-based")
            level = DEFECTS[defect.kind][0]
            if level == "line" and (defect.line is None or defect.line < 1):
                raise ValueError(f"defect {defect.kind!r} needs a line (LX01, 1-based)")
            if defect.kind == "duplicate-6r" and defect.line == 1:
                raise ValueError("duplicate-6r repeats the previous line's REF*6R, so line must be 2+")

    @property
    def delimiter_sets(self) -> tuple[str, ...]:
        return (self.delimiters,) if isinstance(self.delimiters, str) else tuple(self.delimiters)


def _check_delimiters(delims: str, line_break: str) -> None:
    if len(delims) != 4:
        raise ValueError(f"delimiters are 4 characters (element, component, repetition, segment), not {delims!r}")
    element, component, repetition, segment = delims
    if len(set(delims)) != 4:
        raise ValueError(f"delimiters must differ from each other: {delims!r}")
    for ch in delims:
        if not ch.isascii() or ch in _DATA_CHARACTERS or ch.isalnum():
            raise ValueError(f"delimiter {ch!r} is a data character")
    for ch in (element, component, repetition):
        if ch in "\r\n\t" or not ch.isprintable():
            raise ValueError(f"only the segment terminator may be a control character, not {ch!r}")
    if segment in line_break:
        raise ValueError("the line break after a terminator cannot contain the terminator itself")


@dataclass(frozen=True, slots=True)
class SynthLine:
    """One planned service line (2400), with what really happened."""

    lx: int
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    unit_basis: str
    #: SV104 as written.
    units: int
    #: Minutes the service really took (the EMR's record).
    minutes: int
    service_date: date
    #: ``HHMM-HHMM`` of the session the minutes were spent in.
    time_block: str
    #: REF*6R as written; ``""`` when the line has none.
    control_number: str
    diagnosis_pointers: tuple[int, ...]
    timed: bool
    #: Units the minutes support (per-code rounding, which clean claims make equal to the
    #: CMS allocation); 1 for untimed codes.
    supported_units: int
    #: 2420A rendering NPI, or ``""``.
    rendering_npi: str = ""
    note: str = ""
    defects: tuple[str, ...] = ()

    @property
    def has_service_date(self) -> bool:
        return "missing-service-date" not in self.defects


@dataclass(frozen=True, slots=True)
class SynthClaim:
    """One planned claim (2300) with the parties around it."""

    number: int
    claim_id: str
    discipline: str
    filing_indicator: str
    payer_name: str
    payer_id: str
    billing_npi: str
    billing_taxonomy: str
    #: 2310B rendering NPI, or ``""`` (the billing provider renders).
    rendering_npi: str
    subscriber_id: str
    subscriber_name: tuple[str, str]
    #: (last, first) of the 2000C patient, or ``None`` when the subscriber is the patient.
    patient_name: tuple[str, str] | None
    diagnoses: tuple[str, ...]
    place_of_service: str
    #: CLM02 as written.
    charge: Decimal
    lines: tuple[SynthLine, ...]
    defects: tuple[str, ...] = ()

    @property
    def line_charge_total(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal(0))

    @property
    def service_dates(self) -> tuple[date, ...]:
        return tuple(sorted({line.service_date for line in self.lines}))

    @property
    def all_defects(self) -> tuple[str, ...]:
        """Claim defects plus every line's, in order, without repeats."""
        found = list(self.defects)
        for line in self.lines:
            found += [d for d in line.defects if d not in found]
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Synth837:
    """A generated 837P file and the plan behind it."""

    data: bytes
    claims: tuple[SynthClaim, ...]
    spec: SynthSpec
    #: Claims per transaction, in file order (one entry per ST).
    transaction_sizes: tuple[int, ...] = ()

    def minutes_csv(self, *, optional_columns: bool = True) -> str:
        return minutes_csv(self.claims, optional_columns=optional_columns)

    def claim(self, key: int | str) -> SynthClaim:
        return _find_claim(self.claims, key)


def _find_claim(claims: Sequence[SynthClaim], key: int | str) -> SynthClaim:
    for claim in claims:
        if claim.number == key or claim.claim_id == key:
            return claim
    raise KeyError(f"no claim {key!r}")


def _money(value: Decimal) -> str:
    """An amount as X12 R: no trailing zeros (``96``, ``45.5``, ``-12.34``)."""
    text = f"{value.quantize(_CENT, ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class _Planner:
    """Plans claims one at a time from one random stream (so streaming and whole-file agree)."""

    def __init__(self, spec: SynthSpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.defects: dict[int, list[Defect]] = {}
        for defect in spec.defects:
            self.defects.setdefault(defect.claim, []).append(defect)
        rng = random.Random(f"providers-{spec.seed}")
        self.providers = {
            name: make_npi(rng.choice("12") + "".join(rng.choice(string.digits) for _ in range(8)))
            for name in DISCIPLINES
        }
        self.therapists = [
            make_npi(rng.choice("12") + "".join(rng.choice(string.digits) for _ in range(8))) for _ in range(12)
        ]
        self.ein = {name: "9" + "".join(rng.choice(string.digits) for _ in range(8)) for name in DISCIPLINES}
        self.weekdays = [
            day
            for day in (spec.start_date + timedelta(days=i) for i in range(max(spec.date_span_days, 1) * 2))
            if day.weekday() < 5
        ][: max(spec.date_span_days, 1)]

    # -- one claim ----------------------------------------------------------------------
    def claim(self, number: int) -> SynthClaim:
        """Plan claim ``number``. The order of random draws is part of the output: keep it."""
        spec, rng = self.spec, self.rng
        discipline = rng.choice(spec.disciplines)
        info = DISCIPLINES[discipline]
        filing = rng.choice(spec.filing_indicators)
        payer_name, payer_id = PAYERS.get(filing, (f"SYNTHETIC PAYER {filing}", f"SYN{filing}0001"))
        line_defects, claim_defects = self._asked_defects(number)
        n = max([rng.randint(*spec.lines_per_claim), *line_defects])
        if spec.defect_rate > 0:
            for lx in range(1, n + 1):
                if lx not in line_defects and rng.random() < spec.defect_rate:
                    line_defects[lx] = [rng.choice(RANDOM_DEFECT_KINDS)]
        for lx, kinds in line_defects.items():
            if sum(kind in _UNIT_DEFECTS for kind in kinds) > 1:
                raise ValueError(f"claim {number} line {lx}: at most one of {', '.join(_UNIT_DEFECTS)}")
        required, partners, n = _ncci_codes(line_defects, n)
        dates, line_date = self._layout_dates(n, partners)
        codes = self._assign_codes(spec.codes or info.codes, n, required, line_defects, dates, line_date)
        minutes = self._assign_minutes(n, codes, line_defects, dates, line_date)
        patient_name = None
        if filing != "MB" and rng.random() < spec.patient_share:
            patient_name = (f"PATIENT{number:04d}", "CHILD")
        rendering = rng.choice(self.therapists) if rng.random() < spec.rendering_share else ""
        diagnoses = tuple(rng.sample(info.diagnoses, rng.randint(1, min(3, len(info.diagnoses)))))
        claim_id = f"PCN{number:06d}"
        clock = {index: rng.randrange(8 * 60, 16 * 60, 15) for index in range(len(dates))}
        lines: list[SynthLine] = []
        for lx in range(1, n + 1):
            index = line_date[lx]
            start = clock[index]
            clock[index] = start + minutes[lx]
            lines.append(
                self._line(
                    claim_id, lx, codes, minutes[lx], dates[index], start, line_defects, line_date, info, discipline,
                    pointers=tuple(range(1, min(len(diagnoses), 2) + 1)),
                    previous=lines[-1] if lines else None,
                )
            )
        total = sum((line.charge for line in lines), Decimal(0))
        if "clm02-mismatch" in claim_defects:
            total += Decimal(10)
        return SynthClaim(
            number=number,
            claim_id=claim_id,
            discipline=discipline,
            filing_indicator=filing,
            payer_name=payer_name,
            payer_id=payer_id,
            billing_npi=self.providers[discipline],
            billing_taxonomy=info.taxonomy,
            rendering_npi=rendering,
            subscriber_id=f"SYN{number:06d}",
            subscriber_name=(f"PATIENT{number:04d}", "TEST"),
            patient_name=patient_name,
            diagnoses=diagnoses,
            place_of_service="11",
            charge=total,
            lines=tuple(lines),
            defects=tuple(claim_defects),
        )

    def _asked_defects(self, number: int) -> tuple[dict[int, list[str]], list[str]]:
        """The spec's defects for claim ``number``: {LX01: kinds} and claim-level kinds."""
        line_defects: dict[int, list[str]] = {}
        claim_defects: list[str] = []
        for defect in self.defects.get(number, []):
            if DEFECTS[defect.kind][0] == "line":
                line_defects.setdefault(defect.line, []).append(defect.kind)  # type: ignore[arg-type]
            elif defect.kind not in claim_defects:
                claim_defects.append(defect.kind)
        return line_defects, claim_defects

    def _layout_dates(self, n: int, partners: Mapping[int, int]) -> tuple[list[date], dict[int, int]]:
        """Service dates, and the index of each line's date: lines split into consecutive
        groups, then each NCCI partner pulled onto the date of the line it pairs with."""
        rng = self.rng
        count = min(rng.randint(*self.spec.dates_per_claim), n)
        first = rng.randrange(len(self.weekdays))
        dates = sorted({self.weekdays[(first + 2 * i) % len(self.weekdays)] for i in range(count)})
        cuts = sorted(rng.sample(range(1, n), len(dates) - 1)) if len(dates) > 1 else []
        line_date: dict[int, int] = {}
        group = 0
        for lx in range(1, n + 1):
            while group < len(cuts) and lx > cuts[group]:
                group += 1
            line_date[lx] = group
        for partner, lx in partners.items():
            line_date[partner] = line_date[lx]
        return dates, line_date

    def _assign_codes(
        self,
        mix: Sequence[str],
        n: int,
        required: Mapping[int, str],
        line_defects: Mapping[int, list[str]],
        dates: list[date],
        line_date: dict[int, int],
    ) -> dict[int, str]:
        """A code per line: required ones first, the rest drawn from ``mix`` so that a
        clean date never holds the same code twice or a pair :func:`_fits` rejects. A line
        nothing fits gets a date of its own (``dates`` and ``line_date`` are updated)."""
        # Unit defects go on therapeutic procedures, not on a modality (an hour of ultrasound).
        timed_mix = [code for code in mix if code in TIMED_CODES and code not in _MODALITIES]
        timed_mix = timed_mix or ["97110", "97112", "97530"]
        needs_timed = {lx for lx, kinds in line_defects.items() if any(k in _UNIT_DEFECTS for k in kinds)}
        codes: dict[int, str] = {}
        eval_used = False
        for lx in range(1, n + 1):
            if lx in required:
                codes[lx] = required[lx]
                continue
            on_date = {codes[o] for o in codes if line_date[o] == line_date[lx]}
            on_date |= {required[o] for o in required if line_date[o] == line_date[lx]}
            pool = timed_mix if lx in needs_timed else mix
            code = self._pick_code(pool, on_date, eval_used)
            if code is None:
                extra = self._next_free_date(dates)
                if extra not in dates:
                    dates.append(extra)
                line_date[lx] = dates.index(extra)
                on_date = {codes[o] for o in codes if line_date[o] == line_date[lx]}
                code = self._pick_code(pool, on_date, eval_used, strict=False)
            assert code is not None
            codes[lx] = code
            eval_used = eval_used or code in _EVALUATIONS or code in _RE_EVALUATIONS
        return codes

    def _assign_minutes(
        self,
        n: int,
        codes: Mapping[int, str],
        line_defects: Mapping[int, list[str]],
        dates: list[date],
        line_date: Mapping[int, int],
    ) -> dict[int, int]:
        minutes: dict[int, int] = {}
        for index in range(len(dates)):
            on_date = [lx for lx in range(1, n + 1) if line_date[lx] == index]
            timed = [lx for lx in on_date if codes[lx] in TIMED_CODES]
            under = {lx for lx in timed if "units-under-minutes" in line_defects.get(lx, ())}
            minutes.update(self._timed_minutes(timed, under, codes))
            for lx in on_date:
                if lx not in minutes:
                    minutes[lx] = self._untimed_minutes(codes[lx])
        return minutes

    def _line(
        self,
        claim_id: str,
        lx: int,
        codes: Mapping[int, str],
        m: int,
        day: date,
        start: int,
        line_defects: Mapping[int, list[str]],
        line_date: Mapping[int, int],
        info: Discipline,
        discipline: str,
        *,
        pointers: tuple[int, ...],
        previous: SynthLine | None,
    ) -> SynthLine:
        """One line: units from the minutes (bent by a unit defect), modifiers, REF*6R."""
        spec, rng = self.spec, self.rng
        code = codes[lx]
        defects = tuple(line_defects.get(lx, ()))
        timed = code in TIMED_CODES
        supported = (m + 7) // 15 if timed else 1
        units, basis = supported, "UN"
        if "units-over-minutes" in defects:
            units = m // 15 + 2
        elif "units-under-minutes" in defects:
            units = m // 15 - 1
        elif "minutes-as-units" in defects:
            units = m
        elif "mj-units" in defects:
            units, basis = m, "MJ"
        charge = FEES.get(code, _DEFAULT_FEE) * (supported if basis == "MJ" else units)
        modifiers = self._modifiers(info, discipline, lx, codes, line_date, line_defects)
        end = start + m
        control = f"{claim_id}-{lx}"
        if "missing-6r" in defects:
            control = ""
        elif "duplicate-6r" in defects:
            control = (previous.control_number if previous else "") or f"{claim_id}-{lx - 1}"
        line_npi = ""
        if spec.line_rendering_share and rng.random() < spec.line_rendering_share:
            line_npi = rng.choice(self.therapists)
            if code in ("97140", "97530") and {"97140", "97530"} <= {
                codes[o] for o in codes if line_date[o] == line_date[lx]
            }:
                # NCCI pairs are per provider: both halves keep the claim's rendering
                # provider, or the 59 on 97530 would be needless.
                line_npi = ""
        return SynthLine(
            lx=lx,
            procedure=code,
            modifiers=modifiers,
            charge=charge,
            unit_basis=basis,
            units=units,
            minutes=m,
            service_date=day,
            time_block=f"{start // 60:02d}{start % 60:02d}-{end // 60 % 24:02d}{end % 60:02d}",
            control_number=control,
            diagnosis_pointers=pointers,
            timed=timed,
            supported_units=supported,
            rendering_npi=line_npi,
            note=f"MIN {m}" if spec.minutes_notes and timed else "",
            defects=defects,
        )

    def _next_free_date(self, dates: list[date]) -> date:
        start = self.weekdays.index(max(dates)) + 1
        for step in range(len(self.weekdays)):
            day = self.weekdays[(start + step) % len(self.weekdays)]
            if day not in dates:
                return day
        return max(dates)

    def _pick_code(self, pool: Sequence[str], on_date: set[str], eval_used: bool, strict: bool = True) -> str | None:
        candidates, weights = _candidates(tuple(pool), frozenset(on_date), eval_used, strict)
        if not candidates:
            return None if strict else self.rng.choice(list(pool))
        return self.rng.choices(candidates, weights)[0]

    def _timed_minutes(self, timed: list[int], under: set[int], codes: Mapping[int, str]) -> dict[int, int]:
        """Minutes for one date's timed lines that both 8-minute methods read the same way.

        At most one line (``top``) keeps a leftover of 8-14 minutes; the others keep 0-3,
        and the leftovers sum to less than 23 (8 when no line has 8+), so the CMS cap adds
        exactly the one unit per-code rounding gives ``top``, and the allocation is unique.
        """
        rng = self.rng
        if not timed:
            return {}
        top = rng.choice(timed) if rng.random() < 0.75 else None
        top_leftover = rng.randint(8, 14)
        budget = 22 - top_leftover if top is not None else 7
        result = {}
        for lx in timed:
            most = 1 if codes[lx] in _MODALITIES else 3 if len(timed) < 3 else 2
            floor = rng.randint(2, 3) if lx in under else rng.randint(0 if lx == top else 1, most)
            if lx == top:
                leftover = top_leftover
            else:
                leftover = min(rng.randint(0, 3), budget)
                budget -= leftover
            result[lx] = 15 * floor + leftover
        return result

    def _untimed_minutes(self, code: str) -> int:
        low, high = (40, 60) if code in _EVALUATIONS else (20, 30) if code in _RE_EVALUATIONS else (
            (25, 40) if code in ("97150", "92507", "92526", "92508") else (10, 15)
        )
        return self.rng.randint(low, high)

    def _modifiers(
        self,
        info: Discipline,
        discipline: str,
        lx: int,
        codes: Mapping[int, str],
        line_date: Mapping[int, int],
        line_defects: Mapping[int, list[str]],
    ) -> tuple[str, ...]:
        code = codes[lx]
        defects = line_defects.get(lx, ())
        on_date = [o for o in codes if line_date[o] == line_date[lx]]
        date_codes = {codes[o] for o in on_date}
        date_kinds = {kind for o in on_date for kind in line_defects.get(o, ())}
        mods: list[str] = []
        if (
            info.assistant
            and code in TIMED_CODES
            and self.spec.assistant_share
            and self.rng.random() < self.spec.assistant_share
        ):
            mods.append(info.assistant)
        # 59 goes on 97530, the column-2 code of 97140/97530, unless a defect moves or drops it.
        if code in ("97140", "97530") and {"97140", "97530"} <= date_codes:
            if "59-on-97140" in date_kinds:
                if code == "97140":
                    mods.append("59")
            elif "ncci-no-59" not in date_kinds and code == "97530":
                mods.append("59")
        if "wrong-therapy-modifier" in defects:
            mods.append("GO" if discipline == "PT" else "GP")
        elif "missing-therapy-modifier" not in defects:
            mods.append(info.modifier)
        if "modifier-order" in defects:
            if len(mods) >= 2:
                mods.reverse()
            elif info.assistant and code in TIMED_CODES:
                # GP:CQ instead of CQ:GP; never on an evaluation, where CQ/CO is M213 in its own right
                mods.append(info.assistant)
            else:
                mods.insert(0, "KX")  # KX:GN instead of GN:KX
        return tuple(mods)


@lru_cache(maxsize=4096)
def _candidates(
    pool: tuple[str, ...], on_date: frozenset[str], eval_used: bool, strict: bool
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Codes of ``pool`` a line may bill next to ``on_date``, with their weights (timed 3)."""
    codes = tuple(c for c in pool if c not in on_date and (not strict or _fits(c, on_date, eval_used)))
    return codes, tuple(3 if code in TIMED_CODES else 1 for code in codes)


def _ncci_codes(line_defects: Mapping[int, list[str]], n: int) -> tuple[dict[int, str], dict[int, int], int]:
    """Codes NCCI defects need: 97530 on the defect line, 97140 on a partner line (the
    neighbour when free, else any free line, else a new last line).

    Returns ({LX01: code}, {partner LX01: defect LX01}, the possibly grown line count).
    """
    flagged = sorted(lx for lx, kinds in line_defects.items() if any(k in _NCCI_DEFECTS for k in kinds))
    required = {lx: "97530" for lx in flagged}
    partners: dict[int, int] = {}
    for lx in flagged:
        choices = [p for p in (lx - 1, lx + 1) if 1 <= p <= n and p not in required]
        choices += [p for p in range(1, n + 1) if p not in required and p not in choices]
        if choices:
            partner = choices[0]
        else:
            n += 1
            partner = n
        required[partner] = "97140"
        partners[partner] = lx
    return required, partners, n


def _fits(code: str, on_date: frozenset[str], eval_used: bool) -> bool:
    """Whether a clean claim may bill ``code`` on a date that already has ``on_date``."""
    assessments = _EVALUATIONS | _RE_EVALUATIONS
    if code in assessments and (eval_used or on_date):
        return False  # one (re-)evaluation per claim, first on its date
    busy = (TIMED_CODES | {"97150"}) & (on_date | {code})
    if busy and (on_date | {code}) & _RE_EVALUATIONS:
        return False  # a re-evaluation is denied beside treatment without 59 (reference 3.3)
    return not any(frozenset((code, other)) in _AVOID_TOGETHER for other in on_date)


def plan_claims(spec: SynthSpec) -> tuple[SynthClaim, ...]:
    """The claims ``spec`` describes, without rendering them."""
    planner = _Planner(spec)
    return tuple(planner.claim(number) for number in range(1, spec.claims + 1))


# ---------------------------------------------------------------------------------------
# Rendering an 837P
# ---------------------------------------------------------------------------------------


class _Writer:
    """Joins elements with one interchange's delimiters and counts segments."""

    __slots__ = ("element", "component", "repetition", "end", "count")

    def __init__(self, delimiters: str, line_break: str) -> None:
        self.element, self.component, self.repetition, terminator = delimiters
        self.end = terminator + line_break
        self.count = 0

    def seg(self, *elements: str) -> str:
        """One segment; trailing empty elements are dropped."""
        items = list(elements)
        while items and items[-1] == "":
            items.pop()
        self.count += 1
        return self.element.join(items) + self.end

    def comp(self, *parts: str) -> str:
        items = list(parts)
        while items and items[-1] == "":
            items.pop()
        return self.component.join(items)


def _isa(w: _Writer, sender: str, receiver: str, created: date, control: int, usage: str) -> str:
    e = w.element
    text = e.join(
        [
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{sender:<15}", "ZZ", f"{receiver:<15}",
            created.strftime("%y%m%d"), "0800", w.repetition, "00501", f"{control:09d}", "0", usage,
            w.component,
        ]
    )
    w.count += 1
    return text + w.end


def _therapist_name(npi: str) -> tuple[str, str]:
    return f"THERAPIST{npi[-4:]}", "TEST"


def _birth_date(number: int) -> str:
    return f"{1940 + number % 45}{1 + number % 12:02d}{1 + number % 28:02d}"


class _Envelope837:
    """Writes ISA/GS/ST..SE/GE/IEA around claims, counting as it goes."""

    def __init__(self, spec: SynthSpec, planner_ein: Mapping[str, str]) -> None:
        self.spec = spec
        self.ein = planner_ein
        self.w = _Writer(spec.delimiter_sets[0], spec.line_break)
        self.interchanges = 0
        self.transactions = 0
        self.group_transactions = 0
        self.tx_claims = 0
        self.hl = 0
        self.billing_hl = 0
        self.billing_key: tuple[str, str] | None = None
        self.tx_flags: set[str] = set()
        self.group_flags: set[str] = set()
        self.interchange_flags: set[str] = set()

    def open_interchange(self) -> str:
        spec = self.spec
        sets = spec.delimiter_sets
        self.w = _Writer(sets[self.interchanges % len(sets)], spec.line_break)
        self.interchanges += 1
        self.group_transactions = 0
        self.interchange_flags = set()
        self.group_flags = set()
        w = self.w
        day = spec.created.strftime("%Y%m%d")
        return _isa(w, _SENDER, _RECEIVER, spec.created, self.interchanges, spec.usage) + w.seg(
            "GS", "HC", _SENDER, _RECEIVER, day, "0800", str(self.interchanges), "X", "005010X222A1"
        )

    def open_transaction(self) -> str:
        w = self.w
        self.transactions += 1
        self.group_transactions += 1
        self.tx_claims = 0
        self.tx_flags = set()
        self.hl = 0
        self.billing_key = None
        w.count = 0
        day = self.spec.created.strftime("%Y%m%d")
        return "".join(
            [
                w.seg("ST", "837", f"{self.transactions:04d}", "005010X222A1"),
                w.seg("BHT", "0019", "00", f"SYNBATCH{self.transactions:06d}", day, "0800", "CH"),
                w.seg("NM1", "41", "2", "SYNTHETIC THERAPY BILLING", "", "", "", "", "46", "SYNSUB001"),
                w.seg("PER", "IC", "BILLING OFFICE", "TE", "5555550100"),
                w.seg("NM1", "40", "2", "SYNTHETIC CLEARINGHOUSE", "", "", "", "", "46", "SYNRCV001"),
            ]
        )

    def claim(self, claim: SynthClaim) -> str:
        w = self.w
        out: list[str] = []
        self.tx_claims += 1
        for kind in claim.defects:
            if kind == "wrong-se01" or kind == "se02-mismatch":
                self.tx_flags.add(kind)
            elif kind == "wrong-ge01":
                self.group_flags.add(kind)
            elif kind == "wrong-iea01":
                self.interchange_flags.add(kind)
        key = (claim.billing_npi, claim.billing_taxonomy)
        if key != self.billing_key:
            self.billing_key = key
            self.hl += 1
            self.billing_hl = self.hl
            out += [
                w.seg("HL", str(self.hl), "", "20", "1"),
                w.seg("PRV", "BI", "PXC", claim.billing_taxonomy),
                w.seg(
                    "NM1", "85", "2", DISCIPLINES[claim.discipline].provider_name, "", "", "", "", "XX",
                    claim.billing_npi,
                ),
                w.seg("N3", "100 SYNTHETIC WAY"),
                w.seg("N4", "SPRINGFIELD", "IL", "627010001"),
                w.seg("REF", "EI", self.ein[claim.discipline]),
            ]
        self.hl += 1
        subscriber_hl = self.hl
        dependant = claim.patient_name is not None
        last, first = claim.subscriber_name
        sex = "F" if claim.number % 2 else "M"
        out += [
            w.seg("HL", str(subscriber_hl), str(self.billing_hl), "22", "1" if dependant else "0"),
            w.seg("SBR", "P", "" if dependant else "18", "", "", "", "", "", "", claim.filing_indicator),
            w.seg("NM1", "IL", "1", last, first, "", "", "", "MI", claim.subscriber_id),
        ]
        if not dependant:
            out += [
                w.seg("N3", f"{claim.number} SYNTHETIC STREET"),
                w.seg("N4", "SPRINGFIELD", "IL", "62701"),
                w.seg("DMG", "D8", _birth_date(claim.number), sex),
            ]
        out.append(w.seg("NM1", "PR", "2", claim.payer_name, "", "", "", "", "PI", claim.payer_id))
        if dependant:
            assert claim.patient_name is not None
            self.hl += 1
            out += [
                w.seg("HL", str(self.hl), str(subscriber_hl), "23", "0"),
                w.seg("PAT", "19"),
                w.seg("NM1", "QC", "1", *claim.patient_name),
                w.seg("N3", f"{claim.number} SYNTHETIC STREET"),
                w.seg("N4", "SPRINGFIELD", "IL", "62701"),
                w.seg("DMG", "D8", _birth_date(claim.number + 20), sex),
            ]
        out += [
            w.seg(
                "CLM", claim.claim_id, _money(claim.charge), "", "",
                w.comp(claim.place_of_service, "B", "1"), "Y", "A", "Y", "Y",
            ),
            w.seg(
                "HI",
                *(w.comp("ABK" if i == 0 else "ABF", code) for i, code in enumerate(claim.diagnoses)),
            ),
        ]
        if claim.rendering_npi:
            out += [
                w.seg("NM1", "82", "1", *_therapist_name(claim.rendering_npi), "", "", "", "XX", claim.rendering_npi),
                w.seg("PRV", "PE", "PXC", claim.billing_taxonomy),
            ]
        for line in claim.lines:
            out += [
                w.seg("LX", str(line.lx)),
                w.seg(
                    "SV1",
                    w.comp("HC", line.procedure, *line.modifiers),
                    _money(line.charge),
                    line.unit_basis,
                    str(line.units),
                    "",
                    "",
                    w.comp(*(str(p) for p in line.diagnosis_pointers)),
                ),
            ]
            if line.has_service_date:
                out.append(w.seg("DTP", "472", "D8", line.service_date.strftime("%Y%m%d")))
            if line.control_number:
                out.append(w.seg("REF", "6R", line.control_number))
            if line.note:
                out.append(w.seg("NTE", "ADD", line.note))
            if line.rendering_npi:
                out += [
                    w.seg("NM1", "82", "1", *_therapist_name(line.rendering_npi), "", "", "", "XX", line.rendering_npi),
                    w.seg("PRV", "PE", "PXC", claim.billing_taxonomy),
                ]
        return "".join(out)

    def close_transaction(self) -> str:
        w = self.w
        count = w.count + 1 + (1 if "wrong-se01" in self.tx_flags else 0)
        control = f"{self.transactions:04d}"
        if "se02-mismatch" in self.tx_flags:
            control = f"{self.transactions + 1:04d}"
        return w.seg("SE", str(count), control)

    def close_interchange(self) -> str:
        w = self.w
        ge01 = self.group_transactions + (1 if "wrong-ge01" in self.group_flags else 0)
        iea01 = 1 + (1 if "wrong-iea01" in self.interchange_flags else 0)
        return w.seg("GE", str(ge01), str(self.interchanges)) + w.seg("IEA", str(iea01), f"{self.interchanges:09d}")


def _chunk_sizes(total: int, size: int) -> list[int]:
    """Full chunks of ``size`` and a shorter last one: a new ST once one is full."""
    return [min(size, total - start) for start in range(0, total, size)]


def _split_evenly(total: int, parts: int) -> list[int]:
    size, extra = divmod(total, parts)
    return [size + (1 if i < extra else 0) for i in range(parts)]


def generate_837p(spec: SynthSpec | None = None, **changes: object) -> Synth837:
    """A whole 837P file as bytes, with the claims it holds.

    ``generate_837p(claims=3, seed=7)`` is ``generate_837p(SynthSpec(claims=3, seed=7))``;
    keyword arguments replace fields of ``spec``.

    Raises:
        ValueError: the spec asks for fewer claims than interchanges, or no claims.
    """
    spec = replace(spec or SynthSpec(), **changes)  # type: ignore[arg-type]
    if spec.claims < spec.interchanges:
        raise ValueError("every interchange needs at least one claim: claims >= interchanges")
    for defect in spec.defects:
        if defect.claim > spec.claims:
            raise ValueError(f"defect {defect.kind!r} names claim {defect.claim}, but there are {spec.claims}")
    planner = _Planner(spec)
    claims = tuple(planner.claim(number) for number in range(1, spec.claims + 1))
    envelope = _Envelope837(spec, planner.ein)
    out: list[str] = []
    sizes: list[int] = []
    at = 0
    for count in _split_evenly(spec.claims, spec.interchanges):
        out.append(envelope.open_interchange())
        for tx_count in _chunk_sizes(count, spec.claims_per_transaction):
            out.append(envelope.open_transaction())
            out += [envelope.claim(claim) for claim in claims[at : at + tx_count]]
            out.append(envelope.close_transaction())
            sizes.append(tx_count)
            at += tx_count
        out.append(envelope.close_interchange())
    return Synth837("".join(out).encode("ascii"), claims, spec, tuple(sizes))


def iter_837p_chunks(
    spec: SynthSpec | None = None, target_bytes: int = 1 << 20, *, chunk_bytes: int = 1 << 16
) -> Iterator[bytes]:
    """An 837P file of at least ``target_bytes``, yielded in chunks of about ``chunk_bytes``.

    One interchange and one group; a new transaction every ``spec.claims_per_transaction``
    claims. ``spec.claims`` and ``spec.interchanges`` are ignored: claims are planned until
    the file is big enough, so a 200 MB file never sits in memory. The bytes equal
    ``generate_837p(spec, claims=k, interchanges=1).data`` for the ``k`` claims written
    (split into transactions of exactly ``claims_per_transaction``, the last one shorter).
    """
    spec = spec or SynthSpec()
    planner = _Planner(spec)
    envelope = _Envelope837(spec, planner.ein)
    buffer: list[str] = [envelope.open_interchange(), envelope.open_transaction()]
    pending = sum(map(len, buffer))
    written = 0
    number = 0
    while True:
        number += 1
        if envelope.tx_claims == spec.claims_per_transaction:
            buffer += [envelope.close_transaction(), envelope.open_transaction()]
        text = envelope.claim(planner.claim(number))
        buffer.append(text)
        pending += len(text)
        if pending >= chunk_bytes:
            chunk = "".join(buffer).encode("ascii")
            written += len(chunk)
            yield chunk
            buffer, pending = [], 0
        if written + pending >= target_bytes:
            break
    buffer += [envelope.close_transaction(), envelope.close_interchange()]
    yield "".join(buffer).encode("ascii")


def minutes_csv(claims: Iterable[SynthClaim], *, optional_columns: bool = True) -> str:
    """The minutes behind every line, as the sidecar CSV ``edi_rehab.minutes`` reads.

    Header ``claim_id,line,minutes`` plus ``procedure,service_date,time_block`` unless
    ``optional_columns`` is false. One row per billed line, in file order, ``\\n`` line ends.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["claim_id", "line", "minutes"]
    if optional_columns:
        header += ["procedure", "service_date", "time_block"]
    writer.writerow(header)
    for claim in claims:
        for line in claim.lines:
            row = [claim.claim_id, str(line.lx), str(line.minutes)]
            if optional_columns:
                row += [line.procedure, line.service_date.strftime("%Y%m%d"), line.time_block]
            writer.writerow(row)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# 835: adjudication and rendering
# ---------------------------------------------------------------------------------------

#: SBR09 -> CLP06 (the 835 code list has no CI or BL).
_CLP06 = {"MB": "MB", "MC": "MC", "CI": "15", "BL": "12", "HM": "HM", "MA": "MA", "CH": "CH", "VA": "VA", "WC": "WC"}


@dataclass(frozen=True, slots=True)
class LineOutcome:
    """How the payer treats one submitted line."""

    #: A key of :data:`OUTCOMES`.
    kind: str = "paid"
    #: The code the payer adjudicated instead (SVC01); SVC06 then carries the submitted one.
    recode: str = ""
    #: Two SVCs for the line, units halved, each with SVC06/SVC07 and ``LQ*HE*N123``.
    split: bool = False
    #: ``as-sent``, ``reversed`` or ``dropped``: the modifiers echoed in SVC01 (no SVC06
    #: for a modifier-only change, as some payers do).
    modifiers: str = "as-sent"
    #: Leave out REF*6R.
    omit_6r: bool = False

    def __post_init__(self) -> None:
        if self.kind not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.kind!r}; known: {', '.join(OUTCOMES)}")
        if self.modifiers not in ("as-sent", "reversed", "dropped"):
            raise ValueError("modifiers must be 'as-sent', 'reversed' or 'dropped'")
        if self.split and self.kind == "co-151":
            raise ValueError("a co-151 unit reduction cannot also be split")


@dataclass(frozen=True, slots=True)
class RemitSpec:
    """What the payer does with a generated claim file."""

    #: ``{(claim, lx): outcome}``; ``claim`` is the 1-based claim number or its CLM01, and
    #: the outcome is a key of :data:`OUTCOMES` or a :class:`LineOutcome`.
    outcomes: Mapping[tuple[int | str, int], str | LineOutcome] = field(default_factory=dict)
    #: Outcome of lines not in ``outcomes``: a key of :data:`OUTCOMES`, or ``auto`` for
    #: :data:`DEFECT_OUTCOMES` of the line's defects (``paid`` when none applies).
    default: str = "auto"
    #: Claims (number or CLM01) preceded by a reversal (CLP02 = 22) of an earlier full payment.
    reversals: tuple[int | str, ...] = ()
    #: PLB (reason, amount) pairs for the first transaction, e.g. ``(("L6", "-1.25"),)``.
    provider_adjustments: tuple[tuple[str, str], ...] = ()
    omit_6r: bool = False
    #: Include claims a clearinghouse would have rejected (CLM02 mismatch, no DTP*472).
    include_rejected: bool = False
    allowed_ratio: Decimal = Decimal("0.62")
    coinsurance: Decimal = Decimal("0.20")
    #: BPR16; default 14 days after the claim file's creation date.
    payment_date: date | None = None
    delimiters: str = "*:^~"
    line_break: str = ""
    usage: str = "T"

    def __post_init__(self) -> None:
        _check_delimiters(self.delimiters, self.line_break)
        if self.default != "auto" and self.default not in OUTCOMES:
            raise ValueError(f"unknown default outcome {self.default!r}")
        for value in self.outcomes.values():
            if isinstance(value, str) and value not in OUTCOMES:
                raise ValueError(f"unknown outcome {value!r}; known: {', '.join(OUTCOMES)}")


@dataclass(frozen=True, slots=True)
class RemitLine:
    """One SVC as written (a split line gives two, with ``split_part`` 1 and 2)."""

    claim_id: str
    lx: int
    outcome: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    allowed: Decimal
    units_paid: int
    original_units: int | None
    adjustments: tuple[tuple[str, str, Decimal], ...]
    remarks: tuple[str, ...]
    control_number: str
    split_part: int = 0


@dataclass(frozen=True, slots=True)
class RemitClaim:
    """One CLP as written."""

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    payer_claim_number: str
    lines: tuple[RemitLine, ...]
    #: 1-based ST the CLP sits in.
    transaction: int

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"


@dataclass(frozen=True, slots=True)
class Synth835:
    data: bytes
    claims: tuple[RemitClaim, ...]
    #: BPR02 of each transaction.
    totals: tuple[Decimal, ...]
    #: Claims left out as front-end rejections.
    rejected: tuple[str, ...] = ()

    def claim(self, claim_id: str, *, reversal: bool = False) -> RemitClaim:
        for claim in self.claims:
            if claim.claim_id == claim_id and claim.is_reversal == reversal:
                return claim
        raise KeyError(claim_id)


def _q(value: Decimal) -> Decimal:
    return value.quantize(_CENT, ROUND_HALF_UP)


def _adjudicate(
    line: SynthLine, kind: str, charge: Decimal, units: int, spec: RemitSpec
) -> tuple[list[tuple[str, str, Decimal]], Decimal, Decimal, int, int | None, tuple[str, ...]]:
    """(adjustments, paid, allowed, units paid, original units or None, remarks)."""
    per_unit = _q(FEES.get(line.procedure, _DEFAULT_FEE) * spec.allowed_ratio)
    billed_units = units if line.unit_basis == "UN" else line.supported_units
    if kind in ("paid", "co-151"):
        paid_units = billed_units
        adjustments: list[tuple[str, str, Decimal]] = []
        rest = charge
        if kind == "co-151":
            # The units the minutes support, and at least one fewer than billed.
            paid_units = max(min(line.supported_units, billed_units - 1, units - 1), 0)
            if paid_units == 0:
                return [("CO", "151", charge)], Decimal(0), Decimal(0), 0, units, ()
            excess = _q(charge * (units - paid_units) / units)
            adjustments.append(("CO", "151", excess))
            rest = charge - excess
        allowed = min(rest, per_unit * paid_units)
        coinsurance = _q(allowed * spec.coinsurance)
        if rest - allowed:
            adjustments.append(("CO", "45", rest - allowed))
        if coinsurance:
            adjustments.append(("PR", "2", coinsurance))
        original = units if paid_units != units else None
        return adjustments, allowed - coinsurance, allowed, paid_units, original, ()
    group, reason, remarks = OUTCOMES[kind]
    return [(group, reason, charge)], Decimal(0), Decimal(0), units, None, remarks


def _outcome_for(claim: SynthClaim, line: SynthLine, spec: RemitSpec) -> LineOutcome:
    for key in ((claim.number, line.lx), (claim.claim_id, line.lx)):
        if key in spec.outcomes:
            value = spec.outcomes[key]
            return LineOutcome(value) if isinstance(value, str) else value
    if spec.default != "auto":
        return LineOutcome(spec.default)
    for kind in line.defects:
        if kind in DEFECT_OUTCOMES:
            return LineOutcome(DEFECT_OUTCOMES[kind])
    return LineOutcome("paid")


def _remit_lines(
    claim: SynthClaim, spec: RemitSpec, *, force_paid: bool = False
) -> list[tuple[RemitLine, SynthLine, LineOutcome]]:
    result = []
    for line in claim.lines:
        outcome = LineOutcome("paid") if force_paid else _outcome_for(claim, line, spec)
        mods = line.modifiers
        if outcome.modifiers == "reversed":
            mods = tuple(reversed(mods))
        elif outcome.modifiers == "dropped":
            mods = ()
        procedure = outcome.recode or line.procedure
        control = "" if (spec.omit_6r or outcome.omit_6r) else line.control_number
        if outcome.split:
            if line.units < 2:
                raise ValueError(f"claim {claim.claim_id} line {line.lx}: a split needs 2+ units")
            first_units = line.units // 2
            first_charge = _q(line.charge * first_units / line.units)
            parts = [(1, first_units, first_charge), (2, line.units - first_units, line.charge - first_charge)]
        else:
            parts = [(0, line.units, line.charge)]
        for part, units, charge in parts:
            adjudicated = _adjudicate(line, outcome.kind, charge, units, spec)
            adjustments, paid, allowed, units_paid, original, remarks = adjudicated
            if part:
                original = line.units
                remarks = remarks + ("N123",)
            result.append(
                (
                    RemitLine(
                        claim_id=claim.claim_id,
                        lx=line.lx,
                        outcome=outcome.kind,
                        procedure=procedure,
                        modifiers=mods,
                        charge=charge,
                        paid=paid,
                        allowed=allowed,
                        units_paid=units_paid,
                        original_units=original,
                        adjustments=tuple(adjustments),
                        remarks=remarks,
                        control_number=control,
                        split_part=part,
                    ),
                    line,
                    outcome,
                )
            )
    return result


def _negate(line: RemitLine) -> RemitLine:
    return replace(
        line,
        charge=-line.charge,
        paid=-line.paid,
        allowed=-line.allowed,
        adjustments=tuple((g, r, -a) for g, r, a in line.adjustments),
    )


def generate_835(source: Synth837 | Sequence[SynthClaim], spec: RemitSpec | None = None, **changes: object) -> Synth835:
    """A balanced 005010X221A1 remittance for generated claims.

    One ST per (payer, billing provider), in the order the claims first name them, inside
    one ISA/GS. Keyword arguments replace fields of ``spec``.
    """
    spec = replace(spec or RemitSpec(), **changes)  # type: ignore[arg-type]
    claims = source.claims if isinstance(source, Synth837) else tuple(source)
    created = source.spec.created if isinstance(source, Synth837) else SynthSpec().created
    paid_on = spec.payment_date or created + timedelta(days=14)
    reversal_keys = set(spec.reversals)
    rejected = tuple(
        c.claim_id for c in claims if not spec.include_rejected and _FRONT_END_REJECTIONS & set(c.all_defects)
    )
    batches: dict[tuple[str, str], list[SynthClaim]] = {}
    for claim in claims:
        if claim.claim_id not in rejected:
            batches.setdefault((claim.payer_id, claim.billing_npi), []).append(claim)
    w = _Writer(spec.delimiters, spec.line_break)
    day = paid_on.strftime("%Y%m%d")
    out = [
        _isa(w, "SYNPAYER", _SENDER, paid_on, 1, spec.usage),
        w.seg("GS", "HP", "SYNPAYER", _SENDER, day, "0900", "1", "X", "005010X221A1"),
    ]
    written: list[RemitClaim] = []
    totals: list[Decimal] = []
    for number, ((payer_id, billing_npi), batch) in enumerate(batches.items(), start=1):
        w.count = 0
        body: list[str] = []
        for claim in batch:
            icn = f"SYNICN{claim.number:08d}"
            if claim.number in reversal_keys or claim.claim_id in reversal_keys:
                earlier = [(_negate(rl), sl, oc) for rl, sl, oc in _remit_lines(claim, spec, force_paid=True)]
                body.append(_render_clp(w, claim, earlier, "22", icn + "0", number, created, written))
            lines = _remit_lines(claim, spec)
            status = "1" if any(rl.paid for rl, _, _ in lines) else "4"
            body.append(_render_clp(w, claim, lines, status, icn + "1", number, created, written))
        clp_total = sum((c.paid for c in written if c.transaction == number), Decimal(0))
        plb = [(reason, Decimal(amount)) for reason, amount in spec.provider_adjustments] if number == 1 else []
        before = clp_total - sum((a for _, a in plb), Decimal(0))
        if before < 0:
            plb.append(("FB", before))  # carry the debit forward rather than pay a negative
        total = clp_total - sum((a for _, a in plb), Decimal(0))
        totals.append(total)
        first = batch[0]
        provider = DISCIPLINES[first.discipline].provider_name
        head = [
            w.seg("ST", "835", f"{number:04d}"),
            w.seg("BPR", "I" if total else "H", _money(total), "C", "CHK" if total else "NON", *([""] * 11), day),
            w.seg("TRN", "1", f"SYNCHK{number:06d}", "1999999999"),
            w.seg("DTM", "405", day),
            w.seg("N1", "PR", first.payer_name),
            w.seg("N3", "PO BOX 1000"),
            w.seg("N4", "SPRINGFIELD", "IL", "62701"),
            w.seg("PER", "BL", "TECHNICAL SUPPORT", "TE", "5555550199"),
            w.seg("N1", "PE", provider, "XX", billing_npi),
            w.seg("LX", "1"),
        ]
        tail = []
        for start in range(0, len(plb), 6):
            pairs = []
            for i, (reason, amount) in enumerate(plb[start : start + 6]):
                pairs += [w.comp(reason, f"SYNPLB{start + i + 1:04d}"), _money(amount)]
            tail.append(w.seg("PLB", billing_npi, f"{paid_on.year}1231", *pairs))
        tail.append(w.seg("SE", str(w.count + 1), f"{number:04d}"))
        out += head + body + tail
    out += [w.seg("GE", str(len(batches)), "1"), w.seg("IEA", "1", f"{1:09d}")]
    return Synth835("".join(out).encode("ascii"), tuple(written), tuple(totals), rejected)


def _render_clp(
    w: _Writer,
    claim: SynthClaim,
    lines: list[tuple[RemitLine, SynthLine, LineOutcome]],
    status: str,
    icn: str,
    transaction: int,
    received: date,
    written: list[RemitClaim],
) -> str:
    charge = sum((rl.charge for rl, _, _ in lines), Decimal(0))
    paid = sum((rl.paid for rl, _, _ in lines), Decimal(0))
    patient = sum((a for rl, _, _ in lines for g, _, a in rl.adjustments if g == "PR"), Decimal(0))
    out = [
        w.seg(
            "CLP", claim.claim_id, status, _money(charge), _money(paid), _money(patient) if patient else "",
            _CLP06.get(claim.filing_indicator, "ZZ"), icn, claim.place_of_service, "1",
        )
    ]
    last, first = claim.patient_name or claim.subscriber_name
    patient_id = claim.subscriber_id + ("01" if claim.patient_name else "")
    out.append(w.seg("NM1", "QC", "1", last, first, "", "", "", "MI", patient_id))
    if claim.patient_name:
        out.append(w.seg("NM1", "IL", "1", *claim.subscriber_name, "", "", "", "MI", claim.subscriber_id))
    if claim.rendering_npi:
        name = _therapist_name(claim.rendering_npi)
        out.append(w.seg("NM1", "82", "1", *name, "", "", "", "XX", claim.rendering_npi))
    out.append(w.seg("DTM", "050", received.strftime("%Y%m%d")))
    for rl, sl, outcome in lines:
        submitted = w.comp("HC", sl.procedure, *sl.modifiers)
        show_original = bool(outcome.recode or rl.split_part)
        out.append(
            w.seg(
                "SVC",
                w.comp("HC", rl.procedure, *rl.modifiers),
                _money(rl.charge),
                _money(rl.paid),
                "",
                str(rl.units_paid) if rl.units_paid != 1 else "",
                submitted if show_original else "",
                str(rl.original_units) if rl.original_units is not None else "",
            )
        )
        out.append(w.seg("DTM", "472", sl.service_date.strftime("%Y%m%d")))
        groups: dict[str, list[str]] = {}
        for group, reason, amount in rl.adjustments:
            groups.setdefault(group, []).extend([reason, _money(amount), ""])
        for group, triplets in groups.items():
            for start in range(0, len(triplets), 18):
                out.append(w.seg("CAS", group, *triplets[start : start + 18]))
        if rl.control_number:
            out.append(w.seg("REF", "6R", rl.control_number))
        if rl.allowed:
            out.append(w.seg("AMT", "B6", _money(rl.allowed)))
        for remark in rl.remarks:
            out.append(w.seg("LQ", "HE", remark))
    written.append(
        RemitClaim(
            claim_id=claim.claim_id,
            status=status,
            charge=charge,
            paid=paid,
            patient_responsibility=patient,
            payer_claim_number=icn,
            lines=tuple(rl for rl, _, _ in lines),
            transaction=transaction,
        )
    )
    return "".join(out)
