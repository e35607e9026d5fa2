"""What a rule is, and the read-only views the engine hands to rules.

Theory of operation
-------------------
A rule is one small function plus a row in :mod:`edi_rehab.rules.registry`. The function
looks at one *scope* and yields :class:`Hit` values: what is wrong, where, and the facts a
fixer needs. It never builds a :class:`~edi_rehab.findings.Finding` itself; the engine does
that, applying the rule's code, its (possibly overridden) severity and its fix
applicability. So a rule cannot get its own code or severity wrong, and ``fix`` can call
the same function to recompute a hit. The one exception is a case the rule's doc names
as more (or less) serious than the rest: its hit carries that ``severity`` (U108 on an
evaluation is an error), and a severity the config sets for the code still wins.

Scopes, from small to large (the engine runs each enabled rule once per unit of its scope):

* ``LINE``: one service line, ``check(line: LineView) -> Iterable[Hit]``.
* ``GROUP``: one unit group of a claim: its 15-minute timed lines on one date (and, per
  the payer profile, one discipline and/or rendering provider), with the minutes behind
  them. ``check(group: UnitGroup) -> Iterable[Hit]``.
* ``CLAIM``: one claim (2300 loop), ``check(claim: ClaimContext) -> Iterable[Hit]``.
* ``ENCOUNTER``: the lines of one patient, one rendering provider and one date of service,
  across the claims of one transaction; the NCCI scope. ``check(encounter: Encounter)``.
* ``WARNING``: one tolerated-input :class:`~edi_rehab.x12.errors.ReadWarning` from the
  reader, ``check(warning: ReadWarning) -> Iterable[Hit]``.
* ``TRANSACTION``: one transaction set, ``check(tx: TransactionContext)``.
* ``MINUTES``: one problem with the minutes CSV, ``check(problem: MinutesProblem)``; the
  engine places the hit (on the claim it concerns, or under the CSV's name with its row).

Every doc is the rule's documentation page (``edi-rehab rule CODE``). It must have the
sections ``What it does``, ``Why is this bad?``, ``Source`` (a section of the reference
with its confidence tag) and ``Fix safety``; ``tests/test_registry.py`` enforces that.
No message may carry patient data: claim ids, line numbers, codes and counts only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..findings import Applicability, Severity
from ..threshold import bucket_of

if TYPE_CHECKING:  # pragma: no cover
    from ..claims import Claim, ServiceLine
    from ..mapdata import Maps, PayerProfile
    from ..minutes import MinutesTable, UnbilledService
    from ..units import UnitAssessment
    from ..x12.stream import Transaction

__all__ = [
    "Scope",
    "Rule",
    "Hit",
    "LineKind",
    "SV1Reading",
    "LineView",
    "UnitGroup",
    "ClaimContext",
    "Encounter",
    "TransactionContext",
    "DOC_SECTIONS",
    "DISCIPLINE_LABELS",
]

#: Sections every rule doc must have, in this order.
DOC_SECTIONS = ("What it does", "Why is this bad?", "Source", "Fix safety")

#: How a discipline is named in messages.
DISCIPLINE_LABELS = {"PT": "GP", "OT": "GO", "SLP": "GN", "": "no GP/GO/GN"}


class Scope(str, Enum):
    LINE = "line"
    GROUP = "group"
    CLAIM = "claim"
    ENCOUNTER = "encounter"
    WARNING = "warning"
    TRANSACTION = "transaction"
    MINUTES = "minutes"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its public code, a kebab-case name, a default severity and its check.

    ``doc`` defaults to the check function's docstring; ``summary`` is its first line.
    ``fix`` is the applicability of the fix this rule's hits carry, or None when the rule
    has no fix. ``fix_needs_selection`` marks fixes that raise what is billed: they apply
    only when the code is selected explicitly.
    """

    code: str
    name: str
    severity: Severity
    scope: Scope
    check: Callable[[Any], Iterable[Hit]]
    fix: Applicability | None = None
    fix_needs_selection: bool = False
    #: ``"minutes"`` (silent without minutes), ``"mue"`` (silent without an MUE file)
    needs: frozenset[str] = frozenset()
    #: claim rules: a :data:`~edi_rehab.rules.screens.FACTS` name; when the engine's screen
    #: sets it on a claim, the rule cannot fire there and is not called
    skip_when: str | None = None
    doc: str = ""
    summary: str = ""

    def __post_init__(self) -> None:
        doc = self.doc or inspect.cleandoc(self.check.__doc__ or "")
        object.__setattr__(self, "doc", doc)
        if not self.summary:
            object.__setattr__(self, "summary", doc.split("\n", 1)[0].strip().rstrip("."))

    def section(self, title: str) -> str:
        """The text of one ``## title`` section of the doc ('' when absent)."""
        marker = f"## {title}\n"
        start = self.doc.find(marker)
        if start < 0:
            return ""
        start += len(marker)
        end = self.doc.find("\n## ", start)
        return self.doc[start : None if end < 0 else end].strip()

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "scope": self.scope.value,
            "summary": self.summary,
            "fix": self.fix.value if self.fix else None,
            "source": self.section("Source"),
            "doc": self.doc,
        }


@dataclass(slots=True)
class Hit:
    """What a rule found. The engine turns it into a Finding.

    ``at`` says where: a :class:`LineView` (the finding points at its SV1), a
    :class:`ClaimContext` (at its CLM), or None with ``segment`` set (envelope findings).
    ``fix`` overrides the rule's default fix description; ``fixable=False`` says this hit
    has no fix even though the rule can have one (no evidence, no room for a modifier).
    ``details`` is for machines (the fixer): never patient data. ``severity``, when set,
    replaces the rule's default severity for this hit (a case the rule's doc names); a
    severity configured for the rule's code still wins over it.
    """

    message: str
    at: LineView | ClaimContext | None = None
    segment: int = 0
    details: dict = field(default_factory=dict)
    fix: str = ""
    fixable: bool = True
    severity: Severity | None = None


class LineKind:
    """What a (procedure, modifiers) pair means, worked out once per run and shared by every
    line that bills it: its code entry, disciplines, assistant and 59/X modifiers."""

    __slots__ = (
        "procedure",
        "modifiers",
        "info",
        "unit_class",
        "disciplines",
        "discipline",
        "assistant",
        "distinct_modifiers",
        "has_ptp_edits",
        "service_key",
        "discipline_set",
        "signature_extras",
        "addon",
        "ncci_modifiers",
        "anatomic_modifiers",
        "foreign_separator",
        "composite_read",
        "retired_modifiers",
        "threshold_bucket",
        "threshold_attested",
        "telehealth",
        "institutional_only",
        "evaluation",
        "unusual",
    )

    def __init__(
        self,
        procedure: str,
        modifiers: tuple[str, ...],
        maps: Maps,
        has_ptp_edits: bool,
        *,
        foreign_separator: str = "",
        composite_read: bool = False,
    ) -> None:
        policy = maps.modifiers
        #: the component separator SV101 was written with when it is not ISA16 ('' when it
        #: is), and whether the code and modifiers above were read with it (X007)
        self.foreign_separator = foreign_separator
        self.composite_read = composite_read
        self.procedure = procedure
        self.modifiers = modifiers
        self.info = info = maps.codes.get(procedure)
        self.unit_class = info.unit_class if info is not None else None
        #: PT/OT/SLP claimed by the line's GP/GO/GN, in modifier order (duplicates kept)
        self.disciplines = tuple(d for d in (policy.discipline_of(m) for m in modifiers) if d)
        self.discipline_set = frozenset(self.disciplines)
        #: (modifier, first date it is no longer valid) for the retired modifiers on the line (M214)
        self.retired_modifiers = tuple(
            (m, mod.retired) for m in modifiers if (mod := policy.info(m)) is not None and mod.retired is not None
        )
        #: whether a line's signature needs the description (C404), deletion (C406) and
        #: retired-modifier (M214) parts
        self.signature_extras = bool(self.retired_modifiers) or (
            info is not None and (info.deleted is not None or info.unit_class == "ambiguous")
        )
        #: whether a modifier on the line is of the telehealth class (95, 93, GT; M216's
        #: screen), and whether one is institutional-only from some date (GT; M215's)
        self.telehealth = any(policy.class_of(m) == "telehealth" for m in modifiers)
        self.institutional_only = any(
            (mod := policy.info(m)) is not None and mod.institutional_only is not None for m in modifiers
        )
        #: whether the code is an add-on code (codes.xml names its primary codes)
        self.addon = info is not None and bool(info.addon_to)
        #: the NCCI-associated modifiers on the line, and the anatomic ones among all its modifiers
        self.ncci_modifiers = tuple(m for m in modifiers if m in policy.ncci_associated)
        self.anatomic_modifiers = frozenset(m for m in modifiers if policy.class_of(m) == "anatomic")
        #: the discipline the line is grouped under: its only discipline modifier, else the
        #: code's own discipline in codes.xml, else ''
        if len(set(self.disciplines)) == 1:
            self.discipline = self.disciplines[0]
        else:
            self.discipline = (info.discipline if info is not None else None) or ""
        #: "CQ" or "CO" when an assistant modifier is on the line, else ""
        self.assistant = next((m for m in modifiers if policy.required_with(m)), "")
        #: the 59/X{EPSU} modifiers on the line
        self.distinct_modifiers = tuple(m for m in modifiers if m in policy.distinct_service)
        #: whether the code is in any PTP edit at all (skips pair lookups)
        self.has_ptp_edits = has_ptp_edits
        #: whether the line carries KX (the `threshold` class), and the therapy threshold bucket
        #: it counts toward (``PT+SLP`` or ``OT``, :mod:`edi_rehab.threshold`): a line with exactly
        #: one of GP/GO/GN and no GA, GY or GZ (an ABN or an expected denial is the other answer
        #: to the threshold, and M212 judges KX beside GA), else None (M217, C413, C414)
        self.threshold_attested = any(policy.class_of(m) == "threshold" for m in modifiers)
        liability = any(policy.class_of(m) == "liability" for m in modifiers)
        self.threshold_bucket = (
            bucket_of(next(iter(self.discipline_set))) if len(self.discipline_set) == 1 and not liability else None
        )
        #: what the 8-minute rule keys this line's service by: the code, or (code, "CQ") for
        #: an assistant's part (CMS CY2022 CQ/CO split), as :mod:`edi_rehab.units` expects
        self.service_key = (procedure, self.assistant) if self.assistant else procedure
        #: whether the code is a complexity-levelled evaluation (C412's screen)
        self.evaluation = info is not None and info.evaluation_kind is not None
        #: whether any of the kind's screen marks is set (add-on, KX, telehealth or
        #: institutional-only modifier, evaluation): a claim screen looks closer only then
        self.unusual = (
            self.addon or self.threshold_attested or self.telehealth or self.institutional_only or self.evaluation
        )


class SV1Reading:
    """What one SV1, as written, says to the rules, worked out once per distinct SV1 text per
    run (within one element and component separator): a file bills the same few code,
    modifier, charge and unit combinations over and over.

    Everything here is a function of the SV1's text alone: the line's kind (SV101), SV103 as
    read, SV104 as a whole number, SV102 in cents and SV105. ``key_with_ref`` and
    ``key_without_ref`` are the line signature (:attr:`LineView.line_key`) of a line with and
    without REF*6R when the kind needs no date-dependent parts (else None: the line builds it).
    """

    __slots__ = (
        "kind",
        "units",
        "basis",
        "cents",
        "place",
        "place_telehealth",
        "key_with_ref",
        "key_without_ref",
    )

    def __init__(
        self, kind: LineKind, units: int | None, basis: str, has_sv1: bool, cents: int | None, place: str,
        place_telehealth: bool,
    ) -> None:
        self.kind = kind
        #: SV104 as a whole number, or None when missing, fractional or negative
        self.units = units
        #: SV103, trimmed and upper-cased
        self.basis = basis
        #: SV102 in whole cents (:func:`edi_rehab.claims.amount_cents`), None when it is no such amount
        self.cents = cents
        #: SV105 as written, and whether it is a telehealth place of service (02, 10)
        self.place = place
        self.place_telehealth = place_telehealth
        if kind.signature_extras:
            self.key_with_ref = self.key_without_ref = None
        else:
            self.key_with_ref = (kind, basis, units, has_sv1, True)
            self.key_without_ref = (kind, basis, units, has_sv1, False)


class LineView:
    """One service line as the rules see it: the claim view's line plus what the maps,
    the modifiers and the minutes sources say about it. Built once per line by the engine.

    Line-scope rules may read only what :attr:`line_key` covers (the engine skips them
    for a signature that was clean before); anything else belongs in a claim-scope rule.
    """

    __slots__ = (
        "line",
        "claim",
        "procedure",
        "modifiers",
        "info",
        "unit_class",
        "disciplines",
        "discipline",
        "assistant",
        "distinct_modifiers",
        "has_ptp_edits",
        "service_key",
        "kind",
        "reading",
        "units",
        "basis",
        "minutes",
        "minutes_source",
        "time_block",
        "npi",
        "dos",
        "segment",
        "lx",
        "line_key",
    )

    def __init__(
        self,
        line: ServiceLine,
        claim: ClaimContext,
        reading: SV1Reading,
        npi: str,
        segment: int,
    ) -> None:
        kind = reading.kind
        self.line = line
        self.claim = claim
        self.procedure = kind.procedure
        self.modifiers = kind.modifiers
        self.info = kind.info
        self.unit_class = kind.unit_class
        self.disciplines = kind.disciplines
        self.discipline = kind.discipline
        self.assistant = kind.assistant
        self.distinct_modifiers = kind.distinct_modifiers
        self.has_ptp_edits = kind.has_ptp_edits
        self.service_key = kind.service_key
        self.kind = kind
        self.reading = reading
        #: SV104 as a whole number, or None when missing, fractional or negative
        self.units = units = reading.units
        #: SV103, trimmed and upper-cased (UN, MJ ...)
        self.basis = reading.basis
        self.minutes: int | None = None
        self.minutes_source: str | None = None
        self.time_block: str | None = None
        self.npi = npi
        service_date = line.service_date
        self.dos: date | None = service_date.start if service_date is not None else None
        #: file position of the SV1 (of the LX when the line has no SV1)
        self.segment = segment
        #: LX01 as a number (None when it is not one)
        self.lx: int | None = line.lx
        #: The line's part of its signature: everything a line-scope rule may depend on, with
        #: the claim's part (:meth:`ClaimContext.line_rule_key`). Two lines with the same
        #: signature get the same line-rule verdicts, so the engine runs the line rules once
        #: per signature and then only those that fired on it (a file repeats the same code,
        #: modifiers and units thousands of times). The kind stands for the code and
        #: modifiers; then SV103 and SV104 (as read), whether SV1 and REF*6R are there, and
        #: for the few codes that need them the unlisted code's description (C404), the
        #: deletion check (C406) and whether each retired modifier is past its date (M214).
        #: The reading holds the first five for most kinds.
        key = reading.key_with_ref if line.ref_6r_index is not None else reading.key_without_ref
        if key is None:
            key = (kind, reading.basis, units, line.sv1_index is not None, line.ref_6r_index is not None)
            info = kind.info
            dos = self.dos
            deleted = None if info is None or info.deleted is None else (dos is None or info.valid_on(dos))
            description = bool(line.description.strip()) if info is not None and info.unit_class == "ambiguous" else None
            retired = tuple(dos is not None and dos >= day for _, day in kind.retired_modifiers)
            key += (description, deleted, retired)
        self.line_key = key

    @property
    def is_timed15(self) -> bool:
        return self.unit_class == "timed15"

    @property
    def lx_text(self) -> str:
        return str(self.lx) if self.lx is not None else (self.line.lx_raw or "?")

    def ref(self) -> dict:
        """Where the line is, for details: claim id, LX and SV1 position."""
        return {"claim_id": self.claim.claim_id, "line": self.lx, "segment": self.segment}

    def name_of(self, other: LineView) -> str:
        """How this line's message names ``other``: ``line 2``, or ``claim X line 2``."""
        if other.claim is self.claim:
            return f"line {other.lx_text}"
        return f"claim {other.claim.claim_id} line {other.lx_text}"

    def __repr__(self) -> str:
        return f"LineView({self.claim.claim_id} LX {self.lx_text} {self.procedure} {self.modifiers})"


class UnitGroup:
    """The 15-minute timed lines of one claim on one date (and one discipline and/or
    rendering provider, per the profile's ``unit_grouping``), with their minutes.

    The 8-minute rule judges a group as a whole (:attr:`assessment`), computed once and
    shared by U101, U102 and U103.
    """

    __slots__ = ("claim", "key", "dos", "discipline", "npi", "lines", "unbilled", "__dict__")

    def __init__(self, claim: ClaimContext, key: tuple, dos: date, discipline: str | None, npi: str | None) -> None:
        self.claim = claim
        self.key = key
        self.dos = dos
        #: the discipline when the profile groups by discipline, else None (pooled)
        self.discipline = discipline
        self.npi = npi
        self.lines: list[LineView] = []
        self.unbilled: list[UnbilledService] = []

    @property
    def method(self) -> str:
        return self.claim.unit_method

    @property
    def missing_minutes(self) -> list[LineView]:
        return [lv for lv in self.lines if lv.minutes is None]

    @property
    def has_minutes_source(self) -> bool:
        """A minutes CSV was given, or some line of the group carries minutes (NTE, MJ)."""
        return self.claim.minutes_given or any(lv.minutes is not None for lv in self.lines)

    @property
    def judgeable(self) -> bool:
        """Every line has minutes and whole units billed in UN, and there are minutes: the
        8-minute rule can judge. (A group of unbilled services only is judged too: its
        minutes were performed and nothing was billed for them.)"""
        return all(
            lv.minutes is not None and lv.units is not None and lv.basis == "UN" for lv in self.lines
        ) and bool(self.minutes_by_service)

    @cached_property
    def minutes_by_service(self) -> dict:
        minutes: dict = {}
        for lv in self.lines:
            if lv.minutes is not None:
                minutes[lv.service_key] = minutes.get(lv.service_key, 0) + lv.minutes
        for service in self.unbilled:
            # an assistant's unbilled minutes are the assistant's part of the code (CQ/CO split)
            key = (service.procedure, service.assistant) if service.assistant else service.procedure
            minutes[key] = minutes.get(key, 0) + service.minutes
        return minutes

    @cached_property
    def billed_by_service(self) -> dict:
        billed: dict = {}
        for lv in self.lines:
            billed[lv.service_key] = billed.get(lv.service_key, 0) + (lv.units or 0)
        return billed

    @cached_property
    def assessment(self) -> UnitAssessment | None:
        """The 8-minute-rule verdict for the group, or None when it cannot be judged."""
        if not self.judgeable:
            return None
        from ..units import assess

        return assess(self.minutes_by_service, self.billed_by_service, self.method)  # type: ignore[arg-type]

    def lines_of(self, service) -> list[LineView]:
        return [lv for lv in self.lines if lv.service_key == service]

    @property
    def where(self) -> str:
        """``lines 1, 2 (GP)`` for messages (no date: dates of service are PHI)."""
        if not self.lines:
            return "no billed line"
        numbers = ", ".join(lv.lx_text for lv in self.lines)
        word = "line" if len(self.lines) == 1 else "lines"
        disc = f" ({DISCIPLINE_LABELS.get(self.discipline, self.discipline)})" if self.discipline is not None else ""
        return f"{word} {numbers}{disc}"

    @property
    def first_line(self) -> LineView | None:
        return self.lines[0] if self.lines else None

    def __repr__(self) -> str:
        return f"UnitGroup({self.claim.claim_id} {self.key} {[lv.lx for lv in self.lines]})"


class ClaimContext:
    """One claim with its payer profile, the views of its lines and its unit groups."""

    __slots__ = (
        "claim",
        "claim_id",
        "profile",
        "unit_method",
        "maps",
        "minutes",
        "minutes_given",
        "lines",
        "groups",
        "segment",
        "disciplines",
        "placement_problems",
        "year_to_date",
        # screen facts (edi_rehab.rules.screens.FACTS): False until the screen proves them
        "screens_clear",
        "corrections_referenced",
        "claim_id_short",
        "one_discipline",
        "charges_balance",
        "no_addon_codes",
        "control_numbers_distinct",
        "lines_dated",
        "lx_in_sequence",
        "timed_codes_distinct",
        "timed_units_plausible",
        "untimed_units_single",
        "charges_nonzero",
        "renderer_is_no_assistant",
        "renderer_discipline_agrees",
        "telehealth_plain",
        "hospital_plain",
        "nursing_plain",
        "no_threshold_attestation",
        "charges_under_threshold",
        "charges_under_review_amount",
        "time_blocks_distinct",
        "no_institutional_modifiers",
        "no_telehealth",
        "evaluations_single",
    )

    def __init__(
        self,
        claim: Claim,
        profile: PayerProfile,
        unit_method: str,
        maps: Maps,
        minutes: MinutesTable | None,
    ) -> None:
        self.claim = claim
        self.claim_id = claim.claim_id
        self.profile = profile
        self.unit_method = unit_method
        self.maps = maps
        self.minutes = minutes
        self.minutes_given = minutes is not None
        self.lines: list[LineView] = []
        self.groups: list[UnitGroup] = []
        #: the patient's recorded amounts before this claim (``check --ledger``:
        #: ``edi_rehab.ledger.history.YearToDate``, with ``allowed``, ``pending`` and
        #: ``amounts()``), else None: C413 and C414 then count the claim alone from 0
        self.year_to_date = None
        self.segment = claim.position()
        #: the disciplines (PT/OT/SLP) the claim's lines claim with GP/GO/GN
        self.disciplines: set[str] = set()
        #: unbilled minutes rows the engine could not place in a group: (row, reason)
        self.placement_problems: list[tuple[int, str]] = []
        self.screens_clear = self.corrections_referenced = self.claim_id_short = self.one_discipline = False
        self.charges_balance = self.no_addon_codes = self.control_numbers_distinct = False
        self.lines_dated = self.lx_in_sequence = self.timed_codes_distinct = False
        self.timed_units_plausible = self.untimed_units_single = self.charges_nonzero = False
        self.renderer_is_no_assistant = self.renderer_discipline_agrees = False
        self.telehealth_plain = self.hospital_plain = self.nursing_plain = False
        self.no_threshold_attestation = self.charges_under_threshold = self.time_blocks_distinct = False
        self.charges_under_review_amount = False
        self.no_institutional_modifiers = self.no_telehealth = self.evaluations_single = False

    def line_rule_key(self) -> tuple:
        """The claim's part of every line signature (:attr:`LineView.line_key`): the payer
        profile (M205, C403) and whether the claim claims any discipline (M201)."""
        return (id(self.profile), not self.disciplines)

    def release(self) -> None:
        """Drop the line views and groups (they point back here), so the claim's objects are
        freed as soon as the engine is done with them instead of waiting for the cyclic GC."""
        self.lines = []
        self.groups = []

    def __repr__(self) -> str:
        return f"ClaimContext({self.claim_id})"


@dataclass(slots=True)
class Encounter:
    """The lines of one patient with one rendering provider on one date of service, across
    the claims of one transaction: where NCCI PTP edits and date-of-service MUEs apply."""

    dos: date
    lines: list[LineView]
    maps: Maps
    #: (edit, column-1 line, column-2 line), computed once by ``ncci_rules.active_pairs``
    pairs: list | None = None
    #: (code, code, date) -> active edits, shared by the encounters of a run
    pair_cache: dict = field(default_factory=dict)


@dataclass(slots=True)
class TransactionContext:
    transaction: Transaction
    claims: list[ClaimContext]
