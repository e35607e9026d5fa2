"""Fix: rewrite an 837P file with the repairs ``check`` knows, byte-exact outside them.

Theory of operation
-------------------
A fix is a set of :class:`~edi_rehab.findings.Edit` splices into the original bytes (ruff's
``apply_fixes``, sqlfluff's ``FixPatch``); nothing is re-serialised, so delimiters, line
breaks, trailing empty elements and every untouched segment stay exactly as they came.

:class:`Fixer` works on the reader's events, one at a time, so memory stays bounded by the
largest transaction set:

* envelope events pass through, except an X001 GE01/IEA01 count, which is rewritten;
* a transaction set is checked (:meth:`~edi_rehab.engine.Checker.check_event`); each finding
  whose code is in :data:`BUILDERS` gets a *plan*: its edits, the charge it moves and the
  lines it removes, or a reason it cannot be fixed. Plans that may apply (safe, or unsafe
  with ``unsafe=True``; U102 only when selected explicitly) are taken in file order; a plan
  whose edits overlap one already taken waits for the next pass (it is all or nothing).
  Then the pass adds the edits no single fix can own: CLM02 moved by the sum of the taken
  charge changes per claim, LX01 renumbered after removed lines and SE01 recounted. The
  bytes are spliced with :func:`~edi_rehab.edits.apply_edits`, read back, and checked
  again, until no plan applies (at most :data:`MAX_PASSES` passes, as ruff re-lints).
* The findings of the last check are what remains; each remaining finding whose rule has a
  fix is reported as *withheld* (unsafe, or needs explicit selection) or *unfixable* (with
  the reason: no evidence, no room for a fifth modifier, COB loops, ...).

Decisions (each one is behaviour, and tested):

1. **Safety follows the rule registry** (``Rule.fix``): M205, M206 and X001 are safe, the
   rest unsafe. C401 is labelled safe when another fix of the run changed an SV102 of that
   claim, unsafe otherwise (setting CLM02 to the sum can hide a wrong line charge).
2. **Units never move from a CQ/CO line to a line without it.** When the closest
   allocation takes units off a code's assistant part and adds units to its therapist
   part, the unit fix is refused: it would raise the rate paid for an assistant's unit.
   **Units never go up without U102.** U101/U103 move a day to the valid allocation closest
   to the bill (:func:`edi_rehab.units.closest_allocation`); where that allocation would
   *raise* a line, the raise is left out unless U102 is selected explicitly (and unsafe
   fixes are on), so the result fits under a valid allocation: it may under-bill (U102),
   never over-bill or misallocate. SV102 is rescaled by the line's own unit charge, in
   Decimal, rounded half-up to cents and written in the file's number format (``120``
   stays without decimals when exact, ``120.00`` keeps two).
3. **CLM02 follows the lines.** A fix that changes SV102 (or removes a line) moves CLM02 by
   the same amount, so a balanced claim stays balanced and a claim that was already off
   stays visibly off (its C401 keeps its own fix).
4. **A line whose allocation is 0 units is removed** (LX through the end of its 2400 loop):
   the later lines' LX01 move down, SE01 is recounted, CLM02 follows, and the claim's
   old→new LX map is reported (:class:`LxMap`) so minutes keyed by LX01 can follow
   (:func:`remap_minutes`). The removed line's minutes still count toward its day (CMS
   Ex. 4): from the minutes CSV they become a "performed, not billed" row; minutes that
   only the line itself carried (NTE, MJ) are gone with it, so the removal is made only
   when the rest of the day stays valid without them.
5. **COB claims** (2320 or 2430 loops) get no fix that changes SV102, SV104, CLM02 or
   removes a line: the other payer's line balancing (and SVD06 line references) would
   break. Modifier fixes still apply.
6. **N301 needs evidence.** The 59/XU goes on the column-2 line only when the minutes CSV
   records the two services in different ``time_block`` s; otherwise the line is left
   alone and the reason names both ways out. NCCI forbids a modifier added only to bypass
   an edit.
7. **Positions.** Applied fixes name the segment and LX01 of the *input*; remaining,
   withheld and unfixable findings name those of the *output*.

Only ``X12ReadError`` (unreadable input) escapes; nothing here does I/O.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .claims import Claim, ServiceLine
from .edits import apply_edits, overlaps, replace_components, replace_element
from .engine import Checker, EventResult, checker_from_values
from .gcpause import each_with_collector_paused
from .findings import Applicability, Edit, Finding, Severity
from .mapdata import Maps
from .minutes import MinutesRow, MinutesSource, MinutesTable, line_minutes, minutes_from_mj, minutes_from_notes
from .rules import registry
from .rules.modifier_rules import discipline_evidence
from .units import assess
from .x12.errors import X12ReadError
from .x12.delimiters import LINE_BREAKS
from .x12.segments import Segment
from .x12.stream import EndOfInput, Event, GroupTrailer, InterchangeTrailer, Transaction, X12Stream
from .x12.numbers import whole_number

__all__ = [
    "MAX_PASSES",
    "BUILDERS",
    "FixOptions",
    "Fixer",
    "FixedEvent",
    "FixReport",
    "FixResult",
    "AppliedFix",
    "WithheldFix",
    "LxMap",
    "fix",
    "fix_events",
    "explicit_codes",
    "format_amount",
    "remap_minutes",
    "remap_minutes_csv",
    "render_diff",
    "render_report",
    "summary_line",
]

#: Check-and-fix passes per transaction set before giving up (ruff re-lints up to 100 times;
#: a therapy claim needs two or three: overlapping modifier fixes on one line wait a pass).
MAX_PASSES = 8
#: SV101-03 to SV101-06.
MAX_MODIFIERS = 4
_CENT = Decimal("0.01")

#: NUCC Health Care Provider Taxonomy codes (prefixes) -> the therapy discipline they
#: render: physical therapist 2251* and assistant 2252*, occupational therapist 225X* and
#: assistant 224Z*, speech-language pathologist 235Z* and assistant 2355S0801X. Used by
#: M201 to read the discipline of a line's rendering provider (2420A, else 2310B, else the
#: billing provider's PRV*BI). Source: NUCC code set, provider taxonomy "Respiratory,
#: Developmental, Rehabilitative and Restorative Service Providers" and "Speech, Language
#: and Hearing Service Providers" [M].
_DISCIPLINE_NAMES = {"PT": "physical therapy", "OT": "occupational therapy", "SLP": "speech-language pathology"}


# --------------------------------------------------------------------------------------------
# Report values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppliedFix:
    """A fix that was spliced in. Positions are those of the input file."""

    code: str
    applicability: Applicability
    description: str
    #: 1-based segment position of the finding in the input.
    segment: int
    claim_id: str | None = None
    #: LX01 of the line in the input.
    line: int | None = None
    procedure: str | None = None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "applicability": self.applicability.value,
            "description": self.description,
            "segment": self.segment,
            "claim_id": self.claim_id,
            "line": self.line,
            "procedure": self.procedure,
        }


@dataclass(frozen=True, slots=True)
class WithheldFix:
    """A remaining finding whose rule has a fix that was not applied, and why.

    ``finding`` is the finding as in the output (positions and LX01 of the output)."""

    finding: Finding
    reason: str
    #: the fix's applicability when one could be built (None when it could not)
    applicability: Applicability | None = None
    #: what would let it apply: ``"unsafe-fixes"`` and/or ``"select"`` (withheld fixes only)
    needs: frozenset[str] = frozenset()

    @property
    def code(self) -> str:
        return self.finding.code

    def to_json(self) -> dict:
        return {
            "code": self.finding.code,
            "segment": self.finding.segment,
            "claim_id": self.finding.claim_id,
            "line": self.finding.line,
            "procedure": self.finding.procedure,
            "applicability": self.applicability.value if self.applicability else None,
            "reason": self.reason,
            "needs": sorted(self.needs),
        }


@dataclass(frozen=True, slots=True)
class LxMap:
    """How one claim's lines were renumbered after lines were removed.

    ``numbers`` maps every numeric LX01 of the input claim to its LX01 in the output, or
    None when the line was removed; ``removed`` gives each removed line's procedure code and
    date of service (CCYYMMDD), so its minutes can stay on record as performed, not billed.
    """

    claim_id: str
    #: position of the claim's CLM in the output
    segment: int
    numbers: Mapping[int, int | None]
    removed: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "segment": self.segment,
            "lines": {str(old): new for old, new in self.numbers.items()},
            "removed": {str(lx): {"procedure": p, "service_date": d} for lx, (p, d) in self.removed.items()},
        }


@dataclass(slots=True)
class FixReport:
    """What a run did, accumulated as events stream by."""

    applied: list[AppliedFix] = field(default_factory=list)
    withheld_unsafe: list[WithheldFix] = field(default_factory=list)
    unfixable: list[WithheldFix] = field(default_factory=list)
    #: every finding in the output, in output order (minutes-file findings last)
    remaining: list[Finding] = field(default_factory=list)
    lx_maps: list[LxMap] = field(default_factory=list)

    @property
    def errors_remaining(self) -> int:
        return sum(1 for f in self.remaining if f.severity is Severity.ERROR)

    @property
    def hidden_unsafe(self) -> int:
        """Withheld fixes that ``--unsafe-fixes`` alone would apply."""
        return sum(1 for w in self.withheld_unsafe if w.needs == {"unsafe-fixes"})

    @property
    def needs_selection(self) -> int:
        """Withheld fixes that also need their code selected explicitly (U102)."""
        return sum(1 for w in self.withheld_unsafe if "select" in w.needs)

    def to_json(self) -> dict:
        from .report import finding_json

        return {
            "applied": [a.to_json() for a in self.applied],
            "withheld_unsafe": [w.to_json() for w in self.withheld_unsafe],
            "unfixable": [w.to_json() for w in self.unfixable],
            "remaining": [finding_json(f) for f in self.remaining],
            "lx_maps": [m.to_json() for m in self.lx_maps],
            "summary": {
                "applied": len(self.applied),
                "applied_safe": sum(1 for a in self.applied if a.applicability is Applicability.SAFE),
                "applied_unsafe": sum(1 for a in self.applied if a.applicability is Applicability.UNSAFE),
                "hidden_unsafe": self.hidden_unsafe,
                "needs_selection": self.needs_selection,
                "unfixable": len(self.unfixable),
                "remaining": {s.value: sum(1 for f in self.remaining if f.severity is s) for s in Severity},
            },
        }


@dataclass(frozen=True, slots=True)
class FixResult:
    """What :func:`fix` returns: the new bytes and the report."""

    data: bytes
    applied: tuple[AppliedFix, ...]
    withheld_unsafe: tuple[WithheldFix, ...]
    unfixable: tuple[WithheldFix, ...]
    remaining: tuple[Finding, ...]
    lx_maps: tuple[LxMap, ...]

    @property
    def errors_remaining(self) -> int:
        return sum(1 for f in self.remaining if f.severity is Severity.ERROR)


@dataclass(frozen=True, slots=True)
class FixedEvent:
    """One reader event and the bytes written for it."""

    event: Event
    #: the output bytes of this event (``event.raw`` when nothing changed)
    data: bytes
    #: output position of the event's first segment
    out_position: int
    #: the transaction set as written (a Transaction), for diffs; None for envelope events
    result: Transaction | None = None
    #: for each output segment of a transaction set, the index of the input segment it came
    #: from (None: one for one); fix removes segments but never adds any
    origins: tuple[int, ...] | None = None

    @property
    def changed(self) -> bool:
        return self.data != self.event.raw

    def texts_before(self) -> list[bytes]:
        if isinstance(self.event, Transaction):
            return self.event.texts
        if isinstance(self.event, EndOfInput):
            return []
        return [self.event.segment.text]

    def texts_after(self) -> list[bytes]:
        if self.result is not None:
            return self.result.texts
        if isinstance(self.event, EndOfInput):
            return []
        seg = self.event.segment
        end = len(self.data) - len(seg.trailing) - len(seg.terminator)
        return [self.data[len(seg.leading) : end]]


@dataclass(frozen=True, slots=True)
class FixOptions:
    """How far fix may go."""

    #: apply unsafe fixes (``--unsafe-fixes``)
    unsafe: bool = False
    #: rule codes selected explicitly (by code, not prefix): U102's fix needs its code here
    explicit: frozenset[str] = frozenset()
    max_passes: int = MAX_PASSES


def explicit_codes(*selections: str | Iterable[str] | None) -> frozenset[str]:
    """Rule codes named in full in ``--select`` values or a config's ``select`` (prefixes
    such as ``U1`` do not count: a fix that raises what is billed must be asked for by name)."""
    from .engine import parse_codes

    found: set[str] = set()
    for selection in selections:
        for code in parse_codes(selection):
            if code in registry.BY_CODE:
                found.add(code)
    return frozenset(found)


# --------------------------------------------------------------------------------------------
# Number formats
# --------------------------------------------------------------------------------------------


def _places(raw: str) -> int:
    raw = raw.strip()
    return len(raw.partition(".")[2]) if "." in raw else 0


def format_amount(value: Decimal, like: str = "") -> str:
    """``value`` rounded half-up to cents, written the way ``like`` writes numbers.

    ``like`` without a decimal point keeps whole amounts whole (``96``) and adds only the
    decimals a fraction needs (``40.5``, ``40.33``); ``like`` with N decimals keeps N (at
    least the ones cents need): ``120.00`` -> ``96.00``.

    >>> format_amount(Decimal("96"), "144"), format_amount(Decimal("96"), "144.00")
    ('96', '96.00')
    >>> format_amount(Decimal("40.335"), "121"), format_amount(Decimal("80.5"), "120.0")
    ('40.34', '80.5')
    """
    cents = value.quantize(_CENT, ROUND_HALF_UP)
    needed = 2
    while needed and cents == cents.quantize(Decimal(1).scaleb(-(needed - 1))):
        needed -= 1
    places = max(_places(like), needed)
    return f"{cents.quantize(Decimal(1).scaleb(-places)):f}"


def _format_count(value: int, like: str) -> str:
    """A count written like ``like``: ``3``, ``3.00`` or zero-padded ``0003``."""
    like = like.strip()
    places = _places(like)
    if places:
        return f"{value}.{'0' * places}"
    if len(like) > 1 and like.startswith("0") and like.isdecimal():
        return str(value).zfill(len(like))
    return str(value)


# --------------------------------------------------------------------------------------------
# Plans: what one finding's fix would do
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    finding: Finding
    description: str
    edits: list[Edit] = field(default_factory=list)
    #: None: the rule's own applicability
    applicability: Applicability | None = None
    #: claim CLM index (current state) -> charge change
    charge: dict[int, Decimal] = field(default_factory=dict)
    #: (claim, line) removed
    removals: list[tuple[Claim, ServiceLine]] = field(default_factory=list)
    #: X001 on SE01: the pass recounts it
    recount_se01: bool = False
    #: claims (CLM index) whose CLM02 this plan sets outright (C401)
    sets_total: int | None = None

    @property
    def start(self) -> int:
        return min((e.start for e in self.edits), default=-1)


@dataclass(frozen=True, slots=True)
class _Refusal:
    reason: str


class _Pass:
    """One check of the current state of a transaction set, as the builders see it."""

    def __init__(self, fixer: Fixer, tx: Transaction, result: EventResult, state: _TxState) -> None:
        self.fixer = fixer
        self.tx = tx
        self.result = result
        self.state = state
        self.maps: Maps = fixer.checker.maps
        self._segments: dict[int, Segment] = {}
        self._offsets: list[int] | None = None
        self.lines: dict[int, tuple[Claim, ServiceLine]] = {}
        self.claims: dict[int, Claim] = {}
        self.profiles: dict[int, object] = {}
        self.methods: dict[int, str] = {}
        for cr in result.claims:
            claim = cr.claim
            self.claims[claim.index] = claim
            self.profiles[claim.index] = cr.profile
            self.methods[claim.index] = cr.unit_method
            for line in claim.lines:
                self.lines[line.index] = (claim, line)
                if line.sv1_index is not None:
                    self.lines[line.sv1_index] = (claim, line)

    def index(self, position: int) -> int:
        return position - self.tx.first_position

    def line_at(self, position: int) -> tuple[Claim, ServiceLine] | None:
        return self.lines.get(self.index(position))

    def segment(self, index: int) -> Segment:
        """The segment at ``index`` with its byte span, built alone: a transaction set of
        100,000 segments with a handful of fixes should not pay for 100,000 objects
        (:attr:`Transaction.segments` tiles them all)."""
        seg = self._segments.get(index)
        if seg is None:
            seg = self._segments[index] = _segment_at(self.tx, self._text_offsets(), index)
        return seg

    def _text_offsets(self) -> list[int]:
        if self._offsets is None:
            raw, offsets, cursor = self.tx.raw, [], 0
            for text in self.tx.texts:
                # A text never starts with a terminator or a line break, so the first match
                # from the end of the previous text is this segment (as in tile_segments).
                at = raw.find(text, cursor)
                offsets.append(at)
                cursor = at + len(text)
            self._offsets = offsets
        return self._offsets

    def modifiers(self, line: ServiceLine) -> tuple[str, ...]:
        return tuple(m.strip().upper() for m in line.modifiers)


def _segment_at(tx: Transaction, offsets: list[int], index: int) -> Segment:
    """Segment ``index`` of ``tx`` with exactly the bytes :func:`tile_segments` gives it."""
    raw, texts = tx.raw, tx.texts
    terminator = tx.delimiters.segment
    breaks = bytes(set(LINE_BREAKS) - set(terminator))

    def stop_after(i: int) -> tuple[bytes, int]:
        after = offsets[i] + len(texts[i])
        term = raw[after : after + 1] if raw[after : after + 1] == terminator else b""
        stop = after + len(term)
        while stop < len(raw) and raw[stop] in breaks:
            stop += 1
        return term, stop

    begin = stop_after(index - 1)[1] if index else 0
    at = offsets[index]
    term, stop = stop_after(index)
    return Segment(
        texts[index],
        tx.first_position + index,
        tx.offset + at,
        tx.delimiters,
        leading=raw[begin:at],
        terminator=term,
        trailing=raw[at + len(texts[index]) + len(term) : stop],
    )


def _lx(line: ServiceLine) -> str:
    return line.lx_raw or "?"


def _mods(modifiers) -> str:
    return ":".join(modifiers) if modifiers else "none"


def _modifiers_edit(p: _Pass, line: ServiceLine, modifiers: Iterable[str]) -> Edit | None:
    """SV101's modifiers (SV101-03..06) set to ``modifiers``; None when already so."""
    seg = p.segment(line.sv1_index)  # type: ignore[arg-type]
    composite = seg.components(1)
    mods = [m for m in modifiers if m]
    current = [m for m in composite[2:6] if m]
    if current == mods:
        return None
    rest = composite[6:]
    new = composite[:2] + mods
    if rest:
        new += [""] * (MAX_MODIFIERS - len(mods)) + rest
    return replace_components(seg, 1, new)


_COB = (
    "the claim carries COB loops (2320/2430): changing a charge, units or lines would break the "
    "other payer's line balancing; correct it with the primary's adjudication in hand"
)


def _set_modifiers(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """M204, M205, M206: the rule's ``target_modifiers``."""
    target = f.details.get("target_modifiers")
    found = p.line_at(f.segment)
    if target is None or found is None or found[1].sv1_index is None:
        return _Refusal("the rule gave no target modifiers for this line")
    edit = _modifiers_edit(p, found[1], target)
    if edit is None:
        return None
    description = f.fix.description if f.fix is not None else f"set modifiers to {_mods(target)}"
    return _Plan(f, description, [edit])


def _discipline_modifier(maps: Maps, discipline: str) -> str | None:
    for code, info in maps.modifiers.modifiers.items():
        if info.discipline == discipline:
            return code
    return None


def _add_discipline(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """M201: add GP/GO/GN from the code, the claim's other lines or the rendering taxonomy."""
    found = p.line_at(f.segment)
    if found is None or found[1].sv1_index is None:
        return _Refusal("the line has no SV1")
    claim, line = found
    policy = p.maps.modifiers
    others = (d for other in claim.lines if other is not line for d in policy.disciplines(p.modifiers(other)))
    evidence = discipline_evidence(p.maps, line.procedure.strip().upper(), others, claim.line_rendering(line)[1])
    if not evidence:
        return _Refusal(
            "no discipline to add: no other line of the claim carries GP/GO/GN, the code belongs to no "
            "single discipline and the rendering provider's taxonomy is not a therapist's"
        )
    if len(evidence) > 1:
        said = "; ".join(f"{_DISCIPLINE_NAMES.get(d, d)} by {', '.join(sorted(why))}" for d, why in sorted(evidence.items()))
        return _Refusal(f"the discipline is ambiguous ({said}); add GP, GO or GN by hand")
    (discipline, why), = evidence.items()
    modifier = _discipline_modifier(p.maps, discipline)
    if modifier is None:  # pragma: no cover - maps define GP/GO/GN
        return _Refusal(f"the maps name no modifier for {discipline}")
    mods = p.modifiers(line)
    if len(mods) >= MAX_MODIFIERS:
        return _Refusal(f"no room for a fifth modifier: SV101 already holds four ({_mods(mods)})")
    profile = p.profiles.get(claim.index)
    target = policy.order((*mods, modifier), getattr(profile, "modifier_order", None))
    edit = _modifiers_edit(p, line, target)
    if edit is None:
        return None
    return _Plan(f, f"add {modifier} (from {' and '.join(sorted(why))}); modifiers now {_mods(target)}", [edit])


def _ncci_modifier(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """N301: add the payer's 59/XU to the column-2 line, only with time-block evidence."""
    d = f.details
    found = p.line_at(f.segment)
    if found is None or found[1].sv1_index is None:
        return _Refusal("the line has no SV1")
    claim, line = found
    modifier = d.get("modifier", "59")
    column1, column2 = d.get("column1", "the column-1 code"), d.get("column2", line.procedure)
    if not d.get("evidence"):
        blocks = _time_blocks(p, claim, line, d.get("partner") or {})
        if blocks is None:
            why = "the minutes file does not record the time blocks of both services"
        else:
            why = f"the minutes file puts both services in the same time block ({blocks})"
        return _Refusal(
            f"no evidence the services were distinct: {why}. Either document distinct time blocks and "
            f"add {modifier} to {column2}, or drop {column2} if both services shared one block "
            f"(NCCI: a modifier must not be added only to bypass an edit)"
        )
    target = d.get("target_modifiers")
    if not target:
        return _Refusal(f"no room for a fifth modifier on {column2}: SV101 already holds four ({_mods(p.modifiers(line))})")
    edit = _modifiers_edit(p, line, target)
    if edit is None:
        return None
    blocks = ", ".join(str(b) for b in d["evidence"].get("time_blocks", ()))
    return _Plan(
        f, f"add {modifier} to {column2} (column 2 of {column1}; distinct time blocks {blocks}); modifiers now {_mods(target)}", [edit]
    )


def _time_blocks(p: _Pass, claim: Claim, line: ServiceLine, partner: dict) -> str | None:
    """The one time block the minutes file gives both lines of a pair, or None when it does
    not record a block for both (different blocks would have been evidence)."""
    if line.lx is None or partner.get("line") is None:
        return None
    mine = p.fixer.current_row(p.state, claim.claim_id, line.lx)
    theirs = p.fixer.current_row(p.state, str(partner.get("claim_id")), int(partner["line"]))
    if mine is None or theirs is None or not mine.time_block or not theirs.time_block:
        return None
    return mine.time_block


def _move_ncci_modifier(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """N303: put the modifier on the column-2 line; take it off column 1 unless another pair needs it."""
    d = f.details
    modifier = d.get("modifier", "59")
    source, target = p.line_at(d.get("from", {}).get("segment", f.segment)), p.line_at(d.get("to", {}).get("segment", -1))
    if source is None or target is None or target[1].sv1_index is None or source[1].sv1_index is None:
        return _Refusal("the column-2 line could not be found")
    to_mods = d.get("target_modifiers_to")
    if not to_mods:
        return _Refusal(
            f"no room for a fifth modifier on {d.get('column2')}: SV101 already holds four "
            f"({_mods(p.modifiers(target[1]))})"
        )
    edits = []
    edit = _modifiers_edit(p, target[1], to_mods)
    if edit is not None:
        edits.append(edit)
    where = f"line {_lx(target[1])}" if target[0] is source[0] else f"claim {target[0].claim_id} line {_lx(target[1])}"
    if d.get("action") == "move":
        edit = _modifiers_edit(p, source[1], d.get("target_modifiers_from") or ())
        if edit is not None:
            edits.append(edit)
        description = f"move {modifier} from {d.get('column1')} to {d.get('column2')} ({where})"
    else:
        description = (
            f"add {modifier} to {d.get('column2')} ({where}); {d.get('column1')} keeps it: it is itself the "
            f"column-2 code of another pair billed that day"
        )
    if not edits:
        return None
    return _Plan(f, description, edits)


def _mj_to_units(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """U107: SV103 MJ -> UN with the units the minutes allow; SV102 kept."""
    found = p.line_at(f.segment)
    units = f.details.get("units")
    if found is None or found[1].sv1_index is None:
        return _Refusal("the line has no SV1")
    claim, line = found
    if units is None:
        return _Refusal("only a 15-minute timed code can be converted from minutes to units")
    if units <= 0:
        return _Refusal(
            "the day's minutes give this line 0 units; its minutes exist only on this line (SV104 in MJ), "
            "so removing it is left to the biller"
        )
    if claim.has_cob:
        return _Refusal(_COB)
    seg = p.segment(line.sv1_index)  # type: ignore[arg-type]
    edits = [replace_element(seg, 3, "UN"), replace_element(seg, 4, _format_count(units, line.units_raw))]
    minutes = f.details.get("minutes")
    return _Plan(
        f,
        f"bill {units} unit{'s' if units != 1 else ''} (UN) of {line.procedure} for {minutes} minutes; "
        f"SV102 kept as billed",
        edits,
    )


def _claim_total(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """C401: CLM02 = the sum of SV102."""
    expected = f.details.get("expected")
    claim = p.claims.get(p.index(f.segment))
    if expected is None or claim is None:
        return _Refusal("CLM02 or an SV102 is not an amount, so the total cannot be computed")
    if claim.has_cob:
        return _Refusal(_COB)
    key = p.state.origin(claim.index)
    applicability = Applicability.SAFE if key in p.state.sv102_changed else Applicability.UNSAFE
    value = format_amount(Decimal(expected), claim.charge_raw)
    edit = replace_element(p.segment(claim.index), 2, value)
    why = "an SV102 of this claim was changed by another fix" if applicability is Applicability.SAFE else "the lines are taken as right"
    return _Plan(f, f"set CLM02 to {value} ({why})", [edit], applicability=applicability, sets_total=claim.index)


def _recount(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """X001 on SE01 (GE01/IEA01 are envelope events, fixed by the Fixer)."""
    if f.details.get("element") != "SE01":
        return None
    return _Plan(f, f"set SE01 to the real segment count ({f.details.get('expected')})", recount_se01=True)


def _units(f: Finding, p: _Pass) -> _Plan | _Refusal | None:
    """U101/U102/U103: SV104 to the closest valid allocation, SV102 rescaled; 0 units -> the line goes."""
    d = f.details
    moved = _assistant_units_moved(d)
    if moved:
        return _Refusal(
            f"the closest valid allocation moves {', '.join(moved)} from a CQ/CO line to a line without it; "
            f"that raises the rate paid for a unit an assistant furnished, so a unit fix never does it "
            f"(check whose minutes they are in the record)"
        )
    entries = d.get("line_units") or []
    allow_raise = f.code == "U102" or "U102" in p.fixer.options.explicit
    changes: list[tuple[Claim, ServiceLine, int, int]] = []
    raises = []
    for entry in entries:
        found = p.line_at(entry["segment"])
        if found is None:
            return _Refusal("a line of the unit group could not be found")
        new, old = int(entry["units"]), entry["billed"]
        if old is None:
            return _Refusal(f"SV104 of line {_lx(found[1])} is not a whole number of units")
        if new > old and not allow_raise:
            raises.append(f"line {_lx(found[1])} {found[1].procedure} {old}->{new}")
            continue
        if new > old:
            limit, why = _raise_limit(p, found[1])
            if new > limit:
                return _Refusal(f"line {_lx(found[1])} {found[1].procedure} would go from {old} to {new} units, above {why}; check the minutes")
        changes.append((found[0], found[1], old, new))
    unbilled = d.get("unbilled_units") or {}
    if not changes:
        if raises:
            return _Refusal(
                f"the closest valid allocation only adds units ({'; '.join(raises)}); that raises what is "
                f"billed, so it applies only when U102 is selected explicitly"
            )
        if unbilled:
            return _Refusal(
                "the closest valid allocation gives units to services performed but not billed "
                f"({', '.join(f'{u} of {s}' for s, u in unbilled.items())}); fix adds no lines"
            )
        return _Refusal("no line changes")
    claim = changes[0][0]
    if claim.has_cob:
        return _Refusal(_COB)
    if claim.charge is None:
        return _Refusal("CLM02 is not an amount, so the claim total could not follow the line charges")
    removed = [(c, line) for c, line, _, new in changes if new == 0]
    if removed and f.code == "U101" and d.get("profile") == "default":
        return _Refusal(
            "no payer profile matched, so the CMS method of the default profile judged these units and the payer "
            "may count per code; removing a line on that guess is left to a person (configure the payer's profile)"
        )
    if removed and len(removed) >= len(claim.lines):
        return _Refusal("the minutes allow no units on any line of the claim; removing every line would leave no claim to send")
    if removed:
        refusal = _removal_refusal(p, f, claim, [line for _, line in removed], changes)
        if refusal is not None:
            return refusal
    edits: list[Edit] = []
    parts: list[str] = []
    delta = Decimal(0)
    for _, line, old, new in changes:
        charge = line.charge
        if charge is None:
            return _Refusal(f"SV102 of line {_lx(line)} is not an amount")
        if new == 0:
            delta -= charge
            parts.append(f"remove line {_lx(line)} ({line.procedure}, 0 units)")
            continue
        units = line.units
        if units is None or units <= 0:
            return _Refusal(f"SV104 of line {_lx(line)} is not a whole number of units")
        new_charge = (charge * new / units).quantize(_CENT, ROUND_HALF_UP)
        seg = p.segment(line.sv1_index)  # type: ignore[arg-type]
        edits.append(replace_element(seg, 4, _format_count(new, line.units_raw)))
        charge_text = line.charge_raw
        if new_charge != charge:
            charge_text = format_amount(new_charge, line.charge_raw)
            edits.append(replace_element(seg, 2, charge_text))
            delta += new_charge - charge
        parts.append(f"line {_lx(line)} {line.procedure} {old}->{new} unit{'s' if new != 1 else ''} (SV102 {line.charge_raw}->{charge_text})")
    for _, line in removed:
        edits.append(_delete_line(p, line))
    if raises:
        parts.append(f"not raised without --select U102: {'; '.join(raises)}")
    if unbilled:
        parts.append("units for services performed but not billed are not added")
    plan = _Plan(f, "; ".join(parts), edits, removals=removed)
    if delta:
        plan.charge[claim.index] = delta
    return plan


def _assistant_units_moved(details: dict) -> list[str]:
    """The codes whose target takes units off their CQ/CO part and puts units on their part
    without it (``97110+CQ`` down, ``97110`` up): a move from an assistant's line to a
    therapist's, which no unit fix makes (issue 10 item 1; expert review 2026-12 F1)."""
    billed, target = details.get("billed") or {}, details.get("target") or {}
    change: dict[str, list[int]] = {}
    for sid in billed.keys() | target.keys():
        code, _, assistant = str(sid).partition("+")
        delta = int(target.get(sid, 0)) - int(billed.get(sid, 0))
        entry = change.setdefault(code, [0, 0])
        entry[1 if assistant else 0] += delta
    return [code for code, (without, with_assistant) in sorted(change.items()) if without > 0 and with_assistant < 0]


def _raise_limit(p: _Pass, line: ServiceLine) -> tuple[int, str]:
    """The most units a fix may raise ``line`` to, and what sets it: the code's MUE when an
    MUE file gave one, else (or when lower) the configured cap (``[fix] max_units_per_line``).
    A raise beyond it is refused, never trimmed to fit: minutes that call for more units than
    that are more likely wrong than the claim."""
    cap = p.fixer.checker.config.max_units_per_line
    mue = p.fixer.checker.maps.mue(line.procedure)
    if mue is not None and mue.value < cap:
        return mue.value, f"the MUE of {mue.value} for {line.procedure}"
    return cap, f"the cap of {cap} units per line ([fix] max_units_per_line)"


def _delete_line(p: _Pass, line: ServiceLine) -> Edit:
    first, last = p.segment(line.index), p.segment(line.end_index - 1)
    return Edit(first.offset, last.end, b"")


def _own_minutes(p: _Pass, claim: Claim, line: ServiceLine) -> tuple[int | None, bool]:
    """(minutes of this line, whether they come from the minutes CSV), by the same
    precedence as check (:func:`~edi_rehab.minutes.line_minutes`)."""
    sidecar = None
    if p.fixer.minutes_table is not None and line.lx is not None:
        row = p.fixer.current_row(p.state, claim.claim_id, line.lx)
        sidecar = row.minutes if row is not None else None
    note = minutes_from_notes(line.notes, p.fixer.checker.note_pattern)
    found = line_minutes(sidecar, note, minutes_from_mj(line.unit_basis, line.units_raw))
    if found is None:
        return None, False
    return found[0], found[1] is MinutesSource.SIDECAR


def _removal_refusal(
    p: _Pass, f: Finding, claim: Claim, removed: list[ServiceLine], changes: list[tuple[Claim, ServiceLine, int, int]]
) -> _Refusal | None:
    """Would the rest of the day stay valid once these lines are gone?

    Minutes of a removed line recorded in the minutes CSV stay on the day as a service
    performed but not billed, when the engine would place that row back in the same unit
    group (:func:`_placeable`). Minutes that only the line itself carries (its NTE note, MJ)
    go with it. The day after the fix is judged again with :func:`edi_rehab.units.assess`;
    a removal that would leave it over-billed or misallocated is refused.
    """
    d = f.details
    minutes: dict[str, int] = dict(d.get("minutes") or {})
    billed: dict[str, int] = {sid: int(u) for sid, u in (d.get("billed") or {}).items()}
    for _, line, old, new in changes:
        sid = _service_id(p, line)
        billed[sid] = billed.get(sid, 0) + new - old
    removed_ids = {id(line) for line in removed}
    for line in removed:
        own, from_csv = _own_minutes(p, claim, line)
        if own is None:
            return _Refusal(f"the minutes of line {_lx(line)} could not be found again")
        sid, plain = _service_id(p, line), line.procedure.strip().upper()
        kept = from_csv and _placeable(p, claim, line, removed_ids)
        if kept and sid == plain:
            continue
        minutes[sid] = minutes.get(sid, 0) - own
        if minutes[sid] <= 0:
            minutes.pop(sid)
        if kept:  # an assistant's part (97110+CQ) comes back as a plain unbilled 97110 row
            minutes[plain] = minutes.get(plain, 0) + own
    billed = {sid: units for sid, units in billed.items() if units and sid in minutes}
    try:
        verdict = assess(minutes, billed, p.methods.get(claim.index, "cms"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _Refusal("the day's minutes could not be judged again without the removed line")
    if verdict.verdicts & {"U101", "U103", "U104"}:
        lines = ", ".join(_lx(line) for line in removed)
        return _Refusal(
            f"removing line{'s' if len(removed) > 1 else ''} {lines} would take its minutes off the day (they are only on the line, or the "
            f"minutes file could not place them back in the day), and the remaining units would no longer "
            f"fit; record them in the minutes file as performed, not billed"
        )
    return None


def _service_id(p: _Pass, line: ServiceLine) -> str:
    """The engine's service key for a line, as ``details`` spell it (``97110`` or ``97110+CQ``)."""
    policy = p.maps.modifiers
    code = line.procedure.strip().upper()
    assistant = next((m for m in p.modifiers(line) if policy.required_with(m)), "")
    return f"{code}+{assistant}" if assistant else code


def _discipline(p: _Pass, line: ServiceLine) -> str:
    """The discipline the engine groups a line under: its one GP/GO/GN, else its code's."""
    policy = p.maps.modifiers
    found = {policy.discipline_of(m) for m in p.modifiers(line)} - {None}
    if len(found) == 1:
        return found.pop()  # type: ignore[return-value]
    info = p.maps.codes.get(line.procedure.strip().upper())
    return (info.discipline if info is not None else None) or ""


def _placeable(p: _Pass, claim: Claim, line: ServiceLine, removed_ids: set[int]) -> bool:
    """Whether an unbilled minutes row for ``line`` would land in the unit group the line is
    in now. The engine places an unbilled row in the one group of its date (of the code's
    own discipline, when the code has one and groups are by discipline); with several
    candidates it cannot, and with none it opens a group of its own."""
    profile = p.profiles.get(claim.index)
    grouping = getattr(profile, "unit_grouping", ("date", "discipline"))
    by_discipline, by_provider = "discipline" in grouping, "rendering-provider" in grouping
    dos = line.date_of_service
    if dos is None:
        return False
    info = p.maps.codes.get(line.procedure.strip().upper())
    code_discipline = info.discipline if info is not None else None

    def key(x: ServiceLine) -> tuple:
        return (_discipline(p, x) if by_discipline else None, claim.line_rendering(x)[0] if by_provider else None)

    groups = set()
    for other in claim.lines:
        if id(other) in removed_ids or other.date_of_service != dos:
            continue
        other_info = p.maps.codes.get(other.procedure.strip().upper())
        if other_info is not None and other_info.unit_class == "timed15":
            groups.add(key(other))
    if by_discipline and code_discipline:
        groups = {g for g in groups if g[0] == code_discipline}
    return groups == {key(line)}


#: Rule code -> fix builder. A builder returns a plan, a refusal (why it cannot fix this
#: finding) or None (nothing to change). Every fixable rule in the registry has one.
BUILDERS: Mapping[str, Callable[[Finding, _Pass], _Plan | _Refusal | None]] = {
    "U101": _units,
    "U102": _units,
    "U103": _units,
    "U107": _mj_to_units,
    "M201": _add_discipline,
    "M204": _set_modifiers,
    "M205": _set_modifiers,
    "M206": _set_modifiers,
    "N301": _ncci_modifier,
    "N303": _move_ncci_modifier,
    "C401": _claim_total,
    "X001": _recount,
}


# --------------------------------------------------------------------------------------------
# The fixer
# --------------------------------------------------------------------------------------------


class _TxState:
    """What one transaction set's passes share: where each current segment came from, the
    claims whose SV102 changed and the LX renumbering so far."""

    def __init__(self) -> None:
        #: current segment index -> input index (None: identity so far)
        self.origins: list[int] | None = None
        #: input CLM index of claims whose SV102 a fix changed
        self.sv102_changed: set[int] = set()
        #: input CLM index -> (claim id, {input LX: current LX or None}, removed {input LX: (code, date)})
        self.lx: dict[int, tuple[str, dict[int, int | None], dict[int, tuple[str, str]]]] = {}

    def origin(self, index: int) -> int:
        return index if self.origins is None else self.origins[index]

    def current(self, input_index: int) -> int:
        if self.origins is None:
            return input_index
        at = bisect_left(self.origins, input_index)
        return at if at < len(self.origins) and self.origins[at] == input_index else input_index

    def input_lx(self, clm_input_index: int, lx: int | None) -> int | None:
        """The input LX01 of the line now numbered ``lx`` in that claim."""
        entry = self.lx.get(clm_input_index)
        if entry is None or lx is None:
            return lx
        for old, new in entry[1].items():
            if new == lx:
                return old
        return lx

    def numbers_for(self, claim_id: str) -> dict[int, int | None] | None:
        for cid, numbers, _ in self.lx.values():
            if cid == claim_id:
                return numbers
        return None


class Fixer:
    """Fix a stream of reader events; see the module docstring.

    Args:
        checker: the configured :class:`~edi_rehab.engine.Checker` (maps, config,
            select/ignore, minutes, unit method): fix re-checks with it.
        options: :class:`FixOptions`; by default no unsafe fixes, and ``explicit`` is the
            codes named in full in the checker's ``select``.
    """

    def __init__(self, checker: Checker, options: FixOptions | None = None) -> None:
        self.checker = checker
        if options is None:
            options = FixOptions(explicit=explicit_codes(checker.config.select))
        self.options = options
        self.minutes_table: MinutesTable | None = checker.minutes
        self.report = FixReport()
        self._delta = 0  # output position - input position, after the events so far
        self._rows_by_claim: dict[str, list[MinutesRow]] | None = None
        self._finished = False

    # -- public ---------------------------------------------------------------------------------
    def fix_events(self, events: Iterable[Event]) -> Iterator[FixedEvent]:
        """One :class:`FixedEvent` per event, as they come (the report grows on
        :attr:`report`). Raises :class:`X12ReadError` when the input stops being readable;
        what was yielded before is then a partial output, which callers must discard.

        The cyclic garbage collector is paused while an event is fixed (see
        :mod:`edi_rehab.gcpause`).
        """
        yield from each_with_collector_paused(self.fix_event, events)

    def fix_event(self, event: Event) -> FixedEvent:
        if isinstance(event, Transaction):
            return self._transaction(event)
        return self._envelope(event)

    def finish(self) -> FixReport:
        """Add the findings about the minutes file itself (call once, after every input)."""
        if not self._finished:
            self._finished = True
            self.report.remaining.extend(self.checker.minutes_findings())
        return self.report

    def current_row(self, state: _TxState, claim_id: str, lx: int) -> MinutesRow | None:
        """The minutes CSV row of line ``lx`` (as numbered now) of claim ``claim_id``."""
        table = self.minutes_table
        if table is None:
            return None
        numbers = state.numbers_for(claim_id)
        if numbers is None:
            return table.row_for(claim_id, lx)
        old = next((o for o, n in numbers.items() if n == lx), None)
        return table.row_for(claim_id, old) if old is not None else None

    # -- envelope -------------------------------------------------------------------------------
    def _envelope(self, event: Event) -> FixedEvent:
        result = self.checker.check_event(event)
        position = 0 if isinstance(event, EndOfInput) else event.segment.position + self._delta
        data = event.raw
        for finding in result.findings:
            expected = finding.details.get("expected")
            element = finding.details.get("element")
            if (
                finding.code == "X001"
                and isinstance(event, (GroupTrailer, InterchangeTrailer))
                and element in ("GE01", "IEA01")
                and whole_number(str(expected or "")) is not None
            ):
                seg = event.segment
                value = _format_count(whole_number(str(expected)), seg.element(1))
                data, _, _ = apply_edits(data, [replace_element(seg, 1, value)], base=seg.start)
                self.report.applied.append(
                    AppliedFix("X001", Applicability.SAFE, f"set {element} to {value}", finding.segment)
                )
                continue
            self.report.remaining.append(self._shift(finding, self._delta))
        return FixedEvent(event, data, position)

    @staticmethod
    def _shift(finding: Finding, delta: int) -> Finding:
        if not delta or not finding.segment:
            return finding
        return dataclasses.replace(finding, segment=finding.segment + delta)

    # -- transaction sets -----------------------------------------------------------------------
    def _transaction(self, tx: Transaction) -> FixedEvent:
        state = _TxState()
        current, checker = tx, self.checker
        passes = max(1, self.options.max_passes)
        out_first = tx.first_position + self._delta
        exhausted = False
        for number in range(passes + 1):
            result = checker.check_event(current)
            p = _Pass(self, current, result, state)
            plans, refusals = self._plans(p)
            takeable = [plan for plan, blocked in plans if blocked is None]
            if not takeable:
                break
            if number == passes:
                exhausted = True
                break
            moved = self._apply(p, takeable)
            if moved is None:
                break
            current = moved
            checker = self._overlay(state, p) if state.lx else self.checker
            # Let this pass's views and findings go before the next check builds its own.
            p = result = plans = refusals = takeable = None  # type: ignore[assignment]
        self._classify(p, plans, refusals, out_first, exhausted)
        self._record_lx_maps(state, out_first)
        self.report.remaining.extend(self._to_output(f, current, out_first) for f in result.findings)
        self._delta += current.count - tx.count
        if current is tx:
            return FixedEvent(tx, tx.raw, out_first)
        origins = tuple(state.origins) if state.origins is not None else None
        return FixedEvent(tx, current.raw, out_first, current, origins)

    @staticmethod
    def _to_output(finding: Finding, current: Transaction, out_first: int) -> Finding:
        if not finding.segment:
            return finding
        return dataclasses.replace(finding, segment=out_first + finding.segment - current.first_position)

    def _plans(self, p: _Pass) -> tuple[list[tuple[_Plan, WithheldFix | None]], list[tuple[Finding, str]]]:
        """Each finding's plan with what keeps it from applying now (None: nothing), and
        the findings no fix can repair, with the reason."""
        plans: list[tuple[_Plan, WithheldFix | None]] = []
        refusals: list[tuple[Finding, str]] = []
        options = self.options
        # An SV101 joined with another character than ISA16 (X007) is read by check as the
        # sender meant it, but a fix splices components split on ISA16: it would garble the
        # line. No fix touches a claim holding one until the file is made again.
        misjoined = {f.claim_id for f in p.result.findings if f.code == "X007"}
        for finding in p.result.findings:
            builder = BUILDERS.get(finding.code)
            rule = registry.BY_CODE.get(finding.code)
            if builder is None or rule is None or rule.fix is None:
                continue
            if finding.claim_id in misjoined:
                refusals.append((finding, "an SV101 of this claim is joined with another character than ISA16 (X007): "
                                          "correct the file's component separator first"))
                continue
            try:
                built = builder(finding, p)
            except (ValueError, KeyError, IndexError, TypeError, ArithmeticError) as error:
                built = _Refusal(f"the fix could not be built ({type(error).__name__})")
            if built is None:
                continue
            if isinstance(built, _Refusal):
                refusals.append((finding, built.reason))
                continue
            applicability = built.applicability = built.applicability or rule.fix
            needs = set()
            if applicability is Applicability.UNSAFE and not options.unsafe:
                needs.add("unsafe-fixes")
            if rule.fix_needs_selection and finding.code not in options.explicit:
                needs.add("select")
            blocked = None
            if needs == {"unsafe-fixes"}:
                blocked = "unsafe: it changes what is billed; enable with --unsafe-fixes"
            elif needs:
                flags = " and ".join(x for x in ("--unsafe-fixes" if "unsafe-fixes" in needs else "", f"--select {finding.code}") if x)
                blocked = f"it raises what is billed: applies only with {flags} (the code named explicitly)"
            if blocked is not None:
                plans.append((built, WithheldFix(finding, blocked, applicability, frozenset(needs))))
            else:
                plans.append((built, None))
        return plans, refusals

    def _classify(
        self,
        p: _Pass,
        plans: list[tuple[_Plan, WithheldFix | None]],
        refusals: list[tuple[Finding, str]],
        out_first: int,
        exhausted: bool,
    ) -> None:
        """Report each remaining finding whose fix did not apply, with the reason."""
        for plan, withheld in plans:
            finding = self._to_output(plan.finding, p.tx, out_first)
            if withheld is not None:
                self.report.withheld_unsafe.append(dataclasses.replace(withheld, finding=finding))
                continue
            reason = (
                f"still fixable after {self.options.max_passes} passes; run fix again on the output"
                if exhausted
                else "the fix would change nothing"
            )
            self.report.unfixable.append(WithheldFix(finding, reason, plan.applicability))
        for finding, reason in refusals:
            self.report.unfixable.append(WithheldFix(self._to_output(finding, p.tx, out_first), reason))

    # -- one pass -----------------------------------------------------------------------------
    def _take(self, plans: list[_Plan]) -> tuple[list[_Plan], dict[int, set[int]]]:
        """The plans of this pass, in file order, none overlapping another (all or nothing)."""
        taken: list[_Plan] = []
        spans = _Spans()
        charged: set[int] = set()
        removed: dict[int, set[int]] = {}
        for plan in sorted(plans, key=lambda plan: (plan.sets_total is not None, plan.start, plan.finding.code)):
            if plan.recount_se01:
                taken.append(plan)
                continue
            if plan.sets_total is not None and plan.sets_total in charged:
                continue  # CLM02 moves with this pass's line fixes; C401 is judged again next pass
            if not plan.edits or not spans.free(plan.edits):
                continue
            if plan.removals:
                claim = plan.removals[0][0]
                gone = removed.get(claim.index, set()) | {line.index for _, line in plan.removals}
                if len(gone) >= len(claim.lines):
                    continue
                removed[claim.index] = gone
                charged.add(claim.index)
            spans.add(plan.edits)
            charged.update(plan.charge)
            if plan.sets_total is not None:
                charged.add(plan.sets_total)
            taken.append(plan)
        return taken, removed

    def _apply(self, p: _Pass, plans: list[_Plan]) -> Transaction | None:
        """Splice this pass's plans (plus CLM02, LX01 and SE01) and read the result back."""
        tx, state = p.tx, p.state
        taken, removed = self._take(plans)
        if not taken:
            return None
        edits = [edit for plan in taken for edit in plan.edits]
        deltas: dict[int, Decimal] = {}
        for plan in taken:
            for index, delta in plan.charge.items():
                deltas[index] = deltas.get(index, Decimal(0)) + delta
        for index, delta in deltas.items():
            claim = p.claims[index]
            if delta and claim.charge is not None:
                edits.append(replace_element(p.segment(index), 2, format_amount(claim.charge + delta, claim.charge_raw)))
        ranges = [
            (line.index, line.end_index) for index, gone in removed.items() for line in p.claims[index].lines if line.index in gone
        ]
        segment_delta = -sum(end - start for start, end in ranges)
        recount = [plan for plan in taken if plan.recount_se01]
        if segment_delta or recount:
            se01 = self._se01(p, segment_delta, recount=bool(recount))
            edits.extend(se01)
            value = se01[0].replacement.decode("latin-1") if se01 else str(tx.count + segment_delta)
            for plan in recount:
                plan.description = f"set SE01 to the real segment count ({value})"
        applied = [self._applied(p, plan) for plan in taken]  # input positions and LX01, before renumbering
        renumbered = [self._renumber(p, p.claims[index], gone) for index, gone in removed.items()]
        edits.extend(edit for lx_edits, _ in renumbered for edit in lx_edits)
        new_raw, _, skipped = apply_edits(tx.raw, edits, base=tx.offset)
        if skipped or new_raw == tx.raw:  # pragma: no cover - plans never overlap and always change bytes
            return None
        try:
            new_tx = _reread(new_raw, tx)
        except X12ReadError:  # pragma: no cover - defensive: edits replace element values only
            return None
        for _, commit in renumbered:
            commit()
        self.report.applied.extend(applied)
        for index in deltas:
            state.sv102_changed.add(state.origin(index))
        for index in removed:
            state.sv102_changed.add(state.origin(index))
        if ranges:
            drop = {i for start, end in ranges for i in range(start, end)}
            origins = state.origins if state.origins is not None else list(range(tx.count))
            state.origins = [o for i, o in enumerate(origins) if i not in drop]
        return new_tx

    def _applied(self, p: _Pass, plan: _Plan) -> AppliedFix:
        """The plan as reported: input segment position and input LX01."""
        f, state = plan.finding, p.state
        index = p.index(f.segment)
        segment = p.tx.first_position + state.origin(index) if 0 <= index < p.tx.count else f.segment
        claim = p.claims.get(index) or (p.lines[index][0] if index in p.lines else None)
        line = state.input_lx(state.origin(claim.index), f.line) if claim is not None else f.line
        applicability = plan.applicability or Applicability.UNSAFE
        return AppliedFix(f.code, applicability, plan.description, segment, f.claim_id, line, f.procedure)

    def _se01(self, p: _Pass, delta: int, *, recount: bool) -> list[Edit]:
        tx = p.tx
        se = p.segment(tx.count - 1)
        found = se.element(1)
        if recount or found.strip() == str(tx.count):
            value = str(tx.count + delta)
        elif whole_number(found.strip()) is not None:  # SE01 was wrong and X001 is not run: keep it as wrong as it was
            value = str(whole_number(found.strip()) + delta)
        else:
            return []
        return [] if value == found else [replace_element(se, 1, value)]

    def _renumber(self, p: _Pass, claim: Claim, gone: set[int]) -> tuple[list[Edit], Callable[[], None]]:
        """LX01 of the lines after removed ones moves down by the number removed before it.

        Returns the edits and a function that records the move in the claim's LX map, called
        once the edits are in."""
        state = p.state
        key = state.origin(claim.index)
        moved: dict[int, int | None] = {}
        removed_now: dict[int, tuple[str, str]] = {}
        edits = []
        before = 0
        for line in claim.lines:
            if line.index in gone:
                before += 1
                if line.lx is not None:
                    moved[line.lx] = None
                    old = state.input_lx(key, line.lx)
                    if old is not None:
                        date = line.service_date.raw if line.service_date is not None else ""
                        removed_now[old] = (line.procedure.strip().upper(), date)
                continue
            if before and line.lx is not None and line.lx - before >= 1:
                moved[line.lx] = line.lx - before
                edits.append(replace_element(p.segment(line.index), 1, _format_count(line.lx - before, line.lx_raw)))

        def commit() -> None:
            entry = state.lx.get(key)
            if entry is None:
                numbers: dict[int, int | None] = {line.lx: line.lx for line in claim.lines if line.lx is not None}
                entry = state.lx[key] = (claim.claim_id, numbers, {})
            for old, now in list(entry[1].items()):
                if now is not None and now in moved:
                    entry[1][old] = moved[now]
            entry[2].update(removed_now)

        return edits, commit

    def _record_lx_maps(self, state: _TxState, out_first: int) -> None:
        for input_index, (claim_id, numbers, removed) in state.lx.items():
            position = out_first + state.current(input_index)
            self.report.lx_maps.append(LxMap(claim_id, position, dict(numbers), dict(removed)))

    # -- minutes after lines moved ----------------------------------------------------------
    def _rows(self) -> dict[str, list[MinutesRow]]:
        if self._rows_by_claim is None:
            rows: dict[str, list[MinutesRow]] = {}
            for row in self.minutes_table.rows if self.minutes_table is not None else ():
                rows.setdefault(row.claim_id, []).append(row)
            self._rows_by_claim = rows
        return self._rows_by_claim

    def _overlay(self, state: _TxState, p: _Pass) -> Checker:
        """A checker whose minutes rows for this transaction set follow its renumbered lines
        (a removed line's row becomes a service performed, not billed)."""
        table = self.minutes_table
        if table is None:
            return self.checker
        claim_ids = {claim.claim_id for claim in p.claims.values()}
        rows = tuple(row for cid in claim_ids for row in self._rows().get(cid, ()))
        maps = [LxMap(cid, 0, numbers, removed) for cid, numbers, removed in state.lx.values()]
        overlay = remap_minutes(MinutesTable(table.source, rows), maps)
        main = self.checker
        return Checker(maps=main.maps, config=main.config, minutes=overlay, unit_method=main.unit_method)


class _Spans:
    """Edits already taken in a pass, sorted by start and never overlapping."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []
        self.edits: list[Edit] = []

    def free(self, edits: Iterable[Edit]) -> bool:
        """Whether none of ``edits`` overlaps an edit taken (or another of ``edits``)."""
        mine = sorted(edits, key=lambda e: (e.start, e.end))
        for a, b in zip(mine, mine[1:]):
            if overlaps(a, b) or (a.start, a.end) == (b.start, b.end):
                return False
        for edit in mine:
            at = bisect_left(self.keys, (edit.start, edit.end))
            k = at - 1
            while k >= 0 and self.edits[k].end >= edit.start:
                if overlaps(self.edits[k], edit) or (self.edits[k].start, self.edits[k].end) == (edit.start, edit.end):
                    return False
                k -= 1
            j = at
            while j < len(self.edits) and self.edits[j].start <= edit.end:
                if overlaps(edit, self.edits[j]) or (self.edits[j].start, self.edits[j].end) == (edit.start, edit.end):
                    return False
                j += 1
        return True

    def add(self, edits: Iterable[Edit]) -> None:
        for edit in edits:
            at = bisect_left(self.keys, (edit.start, edit.end))
            self.keys.insert(at, (edit.start, edit.end))
            self.edits.insert(at, edit)


def _reread(raw: bytes, like: Transaction) -> Transaction:
    """``raw`` read back as one transaction set with ``like``'s envelope, offset and position."""
    isa, gs = like.interchange, like.group
    term = like.delimiters.segment
    el = like.delimiters.element

    def own(seg: Segment) -> bytes:
        return seg.text + (seg.terminator or term) + seg.trailing

    tail = (
        el.join([b"GE", b"1", gs.element(6).encode("latin-1")]) + term + isa.trailing
        + el.join([b"IEA", b"1", isa.element(13).encode("latin-1")]) + term + isa.trailing
    )
    stream = X12Stream()
    stream.receive_data(own(isa) + own(gs) + raw + tail)
    stream.receive_data(b"")
    found = [event for event in stream if isinstance(event, Transaction)]
    if len(found) != 1:
        raise X12ReadError("the edited transaction set did not read back as one")  # pragma: no cover
    t = found[0]
    shift = like.first_position - t.first_position
    # The new Transaction is ours alone: move it to the original's place rather than copy it
    # (a copy would have to split its segment texts, which the reader left for later).
    t.warnings = tuple(dataclasses.replace(w, segment=w.segment + shift) if w.segment else w for w in t.warnings)
    t.offset, t.first_position, t.interchange, t.group = like.offset, like.first_position, isa, gs
    return t


def fix_events(events: Iterable[Event], fixer: Fixer) -> Iterator[FixedEvent]:
    """Stream :class:`FixedEvent` values; the report accumulates on ``fixer.report``
    (call :meth:`Fixer.finish` after the last input)."""
    return fixer.fix_events(events)


# --------------------------------------------------------------------------------------------
# Minutes that follow renumbered lines
# --------------------------------------------------------------------------------------------


def remap_minutes(table: MinutesTable, lx_maps: Iterable[LxMap]) -> MinutesTable:
    """``table`` with its rows renumbered by ``lx_maps``: a row of a removed line becomes a
    row of a service performed but not billed (no line; its procedure and date kept), so its
    minutes still count toward the day."""
    by_claim: dict[str, LxMap] = {}
    for lx_map in lx_maps:
        by_claim.setdefault(lx_map.claim_id, lx_map)
    rows = []
    for row in table.rows:
        lx_map = by_claim.get(row.claim_id)
        if lx_map is None or row.line is None or row.line not in lx_map.numbers:
            rows.append(row)
            continue
        new = lx_map.numbers[row.line]
        if new is not None:
            rows.append(dataclasses.replace(row, line=new))
            continue
        procedure, date = lx_map.removed.get(row.line, ("", ""))
        rows.append(
            dataclasses.replace(row, line=None, procedure=row.procedure or procedure or None, service_date=row.service_date or date or None)
        )
    return MinutesTable(table.source, tuple(rows), table.problems, table.unknown)


def remap_minutes_csv(text: str, lx_maps: Iterable[LxMap]) -> str:
    """The minutes CSV ``text`` with the ``line`` cells renumbered by ``lx_maps``.

    Rows of unaffected claims are copied as they are; a row of a removed line keeps its
    minutes as a service performed but not billed (``line`` emptied, ``procedure`` and
    ``service_date`` filled in; the two columns are added when the file lacks them).
    """
    by_claim: dict[str, LxMap] = {}
    for lx_map in lx_maps:
        by_claim.setdefault(lx_map.claim_id, lx_map)
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    lines = text.removeprefix("\ufeff").splitlines(keepends=True)
    out: list[str] = []
    header: dict[str, int] | None = None
    width = 0
    added: list[str] = []
    for raw in lines:
        if not raw.strip() or raw.strip().strip(",") == "":
            out.append(raw)
            continue
        cells = next(csv.reader([raw]), [])
        ending = raw[len(raw.rstrip("\r\n")) :]
        if header is None:
            header = {cell.strip().lower(): i for i, cell in enumerate(cells)}
            width = len(cells)
            added = [name for name in ("procedure", "service_date") if name not in header]
            if added and any(m.removed for m in by_claim.values()):
                for name in added:
                    header[name] = width + added.index(name)
                out.append(raw.rstrip("\r\n") + "".join("," + name for name in added) + ending)
            else:
                added = []
                out.append(raw)
            continue
        if len(cells) != width or "claim_id" not in header or "line" not in header:
            out.append(raw)
            continue
        lx_map = by_claim.get(cells[header["claim_id"]].strip())
        line_cell = cells[header["line"]].strip()
        if lx_map is None or whole_number(line_cell) not in lx_map.numbers:
            out.append(raw.rstrip("\r\n") + "," * len(added) + ending if added else raw)
            continue
        cells = cells + [""] * len(added)
        old = whole_number(line_cell)
        new = lx_map.numbers[old]
        if new is None:
            procedure, date = lx_map.removed.get(old, ("", ""))
            cells[header["line"]] = ""
            if not cells[header["procedure"]].strip():
                cells[header["procedure"]] = procedure
            if not cells[header["service_date"]].strip():
                cells[header["service_date"]] = date
        else:
            cells[header["line"]] = str(new)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(cells)
        out.append(buffer.getvalue() + ending)
    return bom + "".join(out)


# --------------------------------------------------------------------------------------------
# Diff
# --------------------------------------------------------------------------------------------


def _diff_line(text: bytes, terminator: bytes) -> str:
    shown = text.decode("latin-1")
    if terminator not in (b"\n", b"\r"):
        shown += terminator.decode("latin-1")
    return shown


def render_diff(events: Iterable[FixedEvent], before: str, after: str, *, context: int = 3) -> Iterator[str]:
    """A unified diff of the changed events, one segment per line (text and the file's own
    terminator), with hunk positions counted in segments of the whole file. Lines end with
    ``\\n``; nothing is yielded when nothing changed."""
    header = False
    for fixed in events:
        if not fixed.changed:
            continue
        event = fixed.event
        if isinstance(event, EndOfInput):  # pragma: no cover - fix never edits the tail
            continue
        delimiters = event.delimiters if isinstance(event, Transaction) else event.segment.delimiters
        old = [_diff_line(t, delimiters.segment) for t in fixed.texts_before()]
        new = [_diff_line(t, delimiters.segment) for t in fixed.texts_after()]
        first_old = event.first_position if isinstance(event, Transaction) else event.segment.position
        first_new = fixed.out_position
        matcher = _Aligned(_opcodes(old, new, fixed.origins))
        for group in matcher.get_grouped_opcodes(context):
            if not header:
                yield f"--- {before}\n"
                yield f"+++ {after}\n"
                header = True
            i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
            yield f"@@ -{_range(first_old + i1, i2 - i1)} +{_range(first_new + j1, j2 - j1)} @@\n"
            for tag, a1, a2, b1, b2 in group:
                if tag == "equal":
                    for line in old[a1:a2]:
                        yield f" {line}\n"
                    continue
                for line in old[a1:a2]:
                    yield f"-{line}\n"
                for line in new[b1:b2]:
                    yield f"+{line}\n"


class _Aligned(difflib.SequenceMatcher):
    """difflib's hunk grouping over opcodes we already know: fix knows which input segment
    each output segment came from, so a removed service line shows as removed (LX first)
    rather than as whatever a longest-common-subsequence happens to pair."""

    def __init__(self, opcodes: list[tuple[str, int, int, int, int]]) -> None:
        super().__init__(None, [], [])
        self._known = opcodes

    def get_opcodes(self):  # noqa: D102 - difflib's interface
        return list(self._known)


def _opcodes(old: list[str], new: list[str], origins: tuple[int, ...] | None) -> list[tuple[str, int, int, int, int]]:
    """difflib opcodes from the output -> input segment map (fix only removes and rewrites)."""
    where = {i: j for j, i in enumerate(origins if origins is not None else range(len(new)))}
    ops: list[tuple[str, int, int, int, int]] = []
    j = 0  # the next output segment
    for i in range(len(old)):
        if i in where:
            j = where[i]
            op = ("equal" if old[i] == new[j] else "replace", i, i + 1, j, j + 1)
            j += 1
        else:
            op = ("delete", i, i + 1, j, j)
        if ops and ops[-1][0] == op[0]:
            last = ops[-1]
            ops[-1] = (op[0], last[1], op[2], last[3], op[4])
        else:
            ops.append(op)
    return ops


def _range(start: int, length: int) -> str:
    if length == 1:
        return str(start)
    if length == 0:
        return f"{start - 1},0"
    return f"{start},{length}"


# --------------------------------------------------------------------------------------------
# Text report
# --------------------------------------------------------------------------------------------


def _where(claim_id: str | None, line: int | None, procedure: str | None) -> str:
    parts = []
    if claim_id is not None:
        parts.append(f"claim {claim_id}")
    if line is not None:
        parts.append(f"line {line}")
    if procedure:
        parts.append(f"procedure {procedure}")
    return f" [{' '.join(parts)}]" if parts else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}{'es' if word.endswith('x') else 's'}"


def summary_line(report: FixReport) -> str:
    """ruff-style: what was fixed, what stayed hidden, what remains."""
    safe = sum(1 for a in report.applied if a.applicability is Applicability.SAFE)
    unsafe = len(report.applied) - safe
    parts = [f"Applied {_plural(len(report.applied), 'fix')} ({safe} safe, {unsafe} unsafe)."]
    if report.hidden_unsafe:
        verb = "fix" if report.hidden_unsafe == 1 else "fixes"
        parts.append(f"{report.hidden_unsafe} hidden {verb} can be enabled with --unsafe-fixes.")
    if report.needs_selection:
        codes = sorted({w.code for w in report.withheld_unsafe if "select" in w.needs})
        also = " and --unsafe-fixes" if any("unsafe-fixes" in w.needs for w in report.withheld_unsafe if "select" in w.needs) else ""
        parts.append(
            f"{_plural(report.needs_selection, 'fix')} withheld because raising what is billed needs the "
            f"code selected explicitly (--select {','.join(codes)}){also}."
        )
    if report.unfixable:
        parts.append(f"{_plural(len(report.unfixable), 'finding')} could not be fixed (reasons above).")
    counts = {s: sum(1 for f in report.remaining if f.severity is s) for s in Severity}
    if report.remaining:
        detail = ", ".join(
            f"{counts[s]} {s.value}" + ("s" if counts[s] != 1 and s is not Severity.INFO else "") for s in Severity
        )
        parts.append(f"{_plural(len(report.remaining), 'finding')} remain ({detail}).")
    else:
        parts.append("No findings remain.")
    return " ".join(parts)


def render_report(report: FixReport, source: str, target: str) -> Iterator[str]:
    """The fix report as text lines: each fix applied (at its input position in
    ``source``), each finding left (at its output position in ``target``) with why its fix
    did not apply, each claim's LX map, then :func:`summary_line`."""
    from .report import text_line

    for applied in report.applied:
        yield (
            f"{source}:{applied.segment}: fixed {applied.code} ({applied.applicability.value}): "
            f"{applied.description}{_where(applied.claim_id, applied.line, applied.procedure)}"
        )
    why: dict[tuple, str] = {}
    for withheld in report.withheld_unsafe:
        why[_key(withheld.finding)] = f"fix withheld: {withheld.reason}"
    for refused in report.unfixable:
        why[_key(refused.finding)] = f"not fixed: {refused.reason}"
    for finding in report.remaining:
        yield text_line(target, finding)
        reason = why.get(_key(finding))
        if reason:
            yield f"    {reason}"
    for lx_map in report.lx_maps:
        moved = ", ".join(
            f"{old}->{new if new is not None else 'removed'}" for old, new in sorted(lx_map.numbers.items()) if new != old
        )
        yield f"{target}:{lx_map.segment}: claim {lx_map.claim_id}: LX renumbered ({moved}); minutes keyed by LX01 must follow"
    yield summary_line(report)


def _key(finding: Finding) -> tuple:
    return (finding.code, finding.segment, finding.claim_id, finding.line, finding.message)


# --------------------------------------------------------------------------------------------
# The one-call API
# --------------------------------------------------------------------------------------------


def fix(
    data: bytes,
    *,
    unsafe: bool = False,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
    minutes: MinutesTable | str | bytes | None = None,
    unit_method: str | None = None,
    config: object | None = None,
    ncci: object | None = None,
    mue: object | None = None,
) -> FixResult:
    """Fix an 837P file held in memory.

    Args:
        data: the file's bytes.
        unsafe: apply unsafe fixes too (``--unsafe-fixes``).
        select, ignore: rule codes or prefixes, as for :func:`edi_rehab.check`. U102's fix
            (raising units) applies only when ``U102`` is named in ``select`` (and ``unsafe``).
        minutes, unit_method, config, ncci, mue: as for :func:`edi_rehab.check`.

    Returns:
        :class:`FixResult`: the new bytes (``data`` itself when nothing changed), the fixes
        applied, the unsafe fixes withheld, the findings no fix could repair (with why),
        every finding left in the output, and the LX maps of claims that lost lines.

    Raises:
        X12ReadError: ``data`` cannot be read as X12 (fix refuses it; nothing is returned).
        ConfigError, MapError, CheckUsageError: unusable options.
    """
    from .x12.document import iter_events

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("fix() takes bytes; open files in binary mode")
    checker = checker_from_values(
        minutes=minutes, unit_method=unit_method, config=config, ncci=ncci, mue=mue, select=select, ignore=ignore
    )
    fixer = Fixer(checker, FixOptions(unsafe=unsafe, explicit=explicit_codes(checker.config.select)))
    original = bytes(data)
    pieces = [fixed.data for fixed in fixer.fix_events(iter_events([original]))]
    report = fixer.finish()
    out = b"".join(pieces)
    return FixResult(
        original if out == original else out,
        tuple(report.applied),
        tuple(report.withheld_unsafe),
        tuple(report.unfixable),
        tuple(report.remaining),
        tuple(report.lx_maps),
    )
