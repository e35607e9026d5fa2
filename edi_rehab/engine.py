"""Run the rules over a stream of X12 events: one transaction at a time, memory flat.

Theory of operation
-------------------
:class:`Checker` holds what does not change during a run: the maps, the configuration
(payer profiles, select/ignore, severity overrides, the NTE minutes pattern), the minutes
table, and the plan (which rules run, at which severity). :meth:`Checker.check_events`
takes the reader's events and yields one :class:`EventResult` per event, so a caller never
holds more than one transaction:

* envelope events (ISA, GS, GE, IEA, end of input): their tolerated-input warnings
  (X001, X003, X004);
* a transaction: :func:`~edi_rehab.claims.read_claims`, then for each claim a
  :class:`~edi_rehab.rules.base.ClaimContext` (payer profile, unit method, line views with
  minutes, unit groups), then the line, group and claim rules, then the encounter (NCCI)
  rules over the claims of the whole transaction. Its result carries one
  :class:`ClaimResult` per claim (the Claim view, its profile and its findings), which is
  what ``fix`` and ``split`` work from. A caller that wants findings only gets each claim's
  views released as soon as its own rules ran, unless an encounter of its may still need
  them (:meth:`Checker._professional_streamed`).

Decisions (documented here because they are behaviour):

1. **Unit groups.** A claim's 15-minute timed lines are grouped by the profile's
   ``unit_grouping``: date of service always, discipline (GP/GO/GN; a line without one
   falls back to its code's discipline, else "none") and optionally rendering provider.
   PT and OT minutes are never pooled under the shipped profiles; a line missing its
   discipline modifier joins the claim's only discipline when it has one. Lines billed over a
   date range, or without a date, stay out of every group (U105, X002 say why). Within a
   group a CQ/CO line is the assistant's part of its code (service key ``(code, "CQ")``);
   under the CMS method :func:`edi_rehab.units.assess` pools a code's parts for the day and
   splits its units by the CMS de minimis procedure (U113), under per-code each part is
   rounded on its own.
2. **Minutes.** For each timed line the first source with a value wins: the minutes CSV
   row for (CLM01, LX01), then the line's NTE notes (the configured pattern; two
   different numbers in a line's notes count as none), then SV104 when SV103 is MJ.
   A CSV row without ``line`` is a timed service performed but not billed: its minutes
   join the group of its date (and of its code's discipline, or of the one discipline
   billed that date); when the claim has timed lines of several disciplines that date
   and the code names none, the row is reported (U109) rather than guessed. A row's
   ``clinician`` must agree with its line's CQ/CO (else U109, row unused); an unbilled row
   with ``clinician = assistant`` is the assistant's part of its code, CQ or CO by the
   discipline of the group it joins (U109 on an SLP day). Unbilled
   rows of untimed codes are ignored: untimed minutes never count (§1.4).
3. **Minutes problems are findings**, never dropped: CSV problems are U109 and rows that
   name a claim or line not in the checked files are U110. Those about a claim that is in
   the file sit on its CLM; the rest (bad rows, unknown claims) come from
   :meth:`Checker.minutes_findings`, called once after every file of a run, with segment
   0 and the CSV row in ``details["row"]``.
4. **NCCI scope.** Pairs and date-of-service MUEs are evaluated over an *encounter*: the
   same patient (the claim's patient, else subscriber, plus its payer), the same rendering
   provider (2420A, else 2310B, else billing) and the same date of service, across all the
   claims of **one transaction set**. Claims in other transaction sets or files are not
   compared, which keeps memory flat; N304 says so in its doc.
5. **Select, ignore, severity** follow :class:`~edi_rehab.config.Config`: codes or
   prefixes, the longest match wins, ignore wins a tie. ``select``/``ignore`` given to the
   checker (the command line) replace the config's select and extend its ignore.
6. **Shortcuts never change what is found.** Most claims are clean, so the engine avoids
   running rules that cannot fire: the line rules run once per line signature
   (:attr:`~edi_rehab.rules.base.LineView.line_key` plus the claim's part), and after that
   only those that fired on it (none for a clean signature); claim rules are skipped when
   the claim's screen clears them (:mod:`edi_rehab.rules.screens`); and the encounter rules
   run once per encounter signature (:meth:`Checker._encounter_signature`), after that only
   those that fired on it. A rule's verdict depends only on the signature, so a rule that
   was silent on a signature is silent on it again; one that fired runs again, since its
   hits name the line or encounter at hand.
   Each shortcut is only ever "this was silent before" or "this cannot fire"; the tests in
   ``tests/test_engine.py`` run fixtures, every rule case (also with a checker warmed by
   all the others) and generated files with every shortcut off and require the same findings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .claims import Claim, ServiceLine, amount_cents, foreign_composite, iter_claims, parse_date, read_claims
from .config import Config, ConfigError, effective_profiles, note_pattern_hazard
from .gcpause import each_with_collector_paused
from .findings import Finding, Fix, Severity
from .mapdata import Maps, MueEdit, PayerProfile, PtpEdit, load_maps, match_profile
from .minutes import (
    DEFAULT_NOTE_PATTERN,
    MINUTES_PER_DAY,
    MinutesProblem,
    MinutesRow,
    MinutesTable,
    UnbilledService,
    UnknownClaims,
    line_minutes,
    minutes_from_mj,
    minutes_from_notes,
    parse_minutes_csv,
)
from .rules import registry
from .rules.modifier_rules import TELEHEALTH_POS
from .rules.screens import screen_claim
from .rules.base import (
    DISCIPLINE_LABELS,
    ClaimContext,
    Encounter,
    Hit,
    LineKind,
    LineView,
    Rule,
    Scope,
    SV1Reading,
    TransactionContext,
    UnitGroup,
)
from .units import METHODS
from .x12.document import iter_events
from .x12.errors import ReadWarning
from .x12.numbers import MAX_DIGITS, whole_number
from .x12.stream import Event, Transaction

__all__ = [
    "CheckOptions",
    "CheckUsageError",
    "Checker",
    "ClaimResult",
    "EventResult",
    "check",
    "check_events",
    "parse_codes",
]


#: Entries the per-run shortcut caches may hold before they are emptied (between transactions).
_CACHE_LIMIT = 100_000
#: The caches are measured before a transaction set once this many segments were checked
#: since the last measure (each segment adds at most an entry or two, so they stay bounded
#: near the limit; measuring before each of thousands of one-claim sets cost more than it saved)
_MEASURE_CACHES_EVERY = 20_000
_UNREAD = object()


class CheckUsageError(ValueError):
    """Options that make no sense (an unknown rule code, an unknown unit method)."""


@dataclass(slots=True)
class ClaimResult:
    """One claim's findings, with the view and profile they were computed from."""

    claim: Claim
    profile: PayerProfile
    #: ``cms`` or ``per-code``: the profile's method, or the run's override
    unit_method: str
    #: in segment order
    findings: list[Finding]


@dataclass(slots=True)
class EventResult:
    """What the rules found in one reader event."""

    event: Event
    #: every finding of the event in segment order, the claims' included
    findings: list[Finding]
    #: 837P transactions only: one entry per claim, in file order (empty when the checker
    #: was asked for findings only: ``check_events(..., claim_views=False)``)
    claims: list[ClaimResult] = field(default_factory=list)
    #: 837P transactions only: CLM01 of every claim checked, in file order (with or without
    #: their views)
    claim_ids: tuple[str, ...] = ()

    def __iter__(self):
        """``for event, findings in check_events(...)``: a result unpacks as that pair."""
        return iter((self.event, self.findings))

    @property
    def claim_count(self) -> int:
        return len(self.claim_ids)

    @property
    def transaction_findings(self) -> list[Finding]:
        """Findings about the transaction set itself (no claim): envelope counts and the like."""
        return [f for f in self.findings if f.claim_id is None]


def parse_codes(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """Rule codes or prefixes from ``"U1,M205"`` or ``["U1", "M205"]``, upper-cased."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    codes: list[str] = []
    for value in values:
        codes.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(codes)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _clinician_contradicts(clinician: str | None, assistant: str) -> bool:
    """A minutes row's ``clinician`` disagrees with its line's CQ/CO (empty never does)."""
    if clinician is None:
        return False
    return (clinician == "assistant") != bool(assistant)


def _whole(value: Decimal | None) -> int | None:
    """A whole, non-negative SV104 such as ``2.0`` as an int (None for 1.5, -1 or 1E+999)."""
    if value is None or value < 0 or value != value.to_integral_value() or value.adjusted() >= MAX_DIGITS:
        return None
    return int(value)


#: rule codes checked outside the engine that select, ignore and severity may still name: the
#: claim ledger's duplicate submission (edi_rehab.ledger.history, run by check --ledger)
OUTSIDE_CODES = ("L701",)


class Checker:
    """Runs the registered rules; see the module docstring.

    Args:
        maps: the rule data (default: the shipped maps, cached per process).
        config: a parsed configuration (profiles, select/ignore, severities, note pattern).
        minutes: the minutes CSV, parsed (:func:`edi_rehab.minutes.parse_minutes_csv`).
        unit_method: ``cms`` or ``per-code`` for every claim, beating the payer profiles.
        select: rule codes or prefixes to run, replacing the config's ``select``.
        ignore: rule codes or prefixes to skip, added to the config's ``ignore``.

    Raises:
        CheckUsageError: an unknown rule code or prefix, or an unknown unit method.
        ConfigError: the config names an unknown profile or order policy, or its note
            pattern has no ``minutes`` group.
    """

    def __init__(
        self,
        *,
        maps: Maps | None = None,
        config: Config | None = None,
        minutes: MinutesTable | None = None,
        unit_method: str | None = None,
        select: str | Iterable[str] | None = None,
        ignore: str | Iterable[str] | None = None,
    ) -> None:
        self.maps = maps if maps is not None else load_maps()
        config = config if config is not None else Config()
        selected, ignored = parse_codes(select), parse_codes(ignore)
        for code in (*selected, *ignored):
            if not registry.matching(code) and not any(c.startswith(code) for c in OUTSIDE_CODES):
                raise CheckUsageError(f"unknown rule code or prefix {code!r} (see `edi-rehab rules`)")
        if selected:
            config = dataclasses.replace(config, select=selected)
        if ignored:
            config = dataclasses.replace(config, ignore=(*config.ignore, *ignored))
        self.config = config
        if unit_method is not None and unit_method not in METHODS:
            raise CheckUsageError(f"unknown unit method {unit_method!r}; expected one of {', '.join(METHODS)}")
        self.unit_method = unit_method
        self.profiles = effective_profiles(self.maps, config)
        hazard = note_pattern_hazard(config.note_pattern) if config.note_pattern else None
        if hazard is not None:  # a Config built in code skips parse_config's screen
            raise ConfigError(config.source, f"[minutes] note_pattern is refused: {hazard}")
        self.note_pattern = (
            re.compile(config.note_pattern, re.IGNORECASE) if config.note_pattern else DEFAULT_NOTE_PATTERN
        )
        if "minutes" not in self.note_pattern.groupindex:
            raise ConfigError(config.source, "[minutes] note_pattern needs a named group 'minutes', e.g. (?P<minutes>\\d+)")
        self.minutes = minutes

        #: scope -> [(rule, severity)] for the enabled rules, in registry order
        self.plan: dict[Scope, list[tuple[Rule, Severity]]] = {scope: [] for scope in Scope}
        for rule in registry.RULES:
            if config.is_enabled(rule.code):
                severity = Severity(config.severity_for(rule.code, rule.severity.value))
                self.plan[rule.scope].append((rule, severity))
        self._minutes_rules = {rule.code: (rule, sev) for rule, sev in self.plan[Scope.MINUTES]}
        #: the claim rules no screen fact can clear: what a claim whose screens are clear still runs
        self._unscreened_claim_rules = [(rule, sev) for rule, sev in self.plan[Scope.CLAIM] if rule.skip_when is None]
        #: codes whose severity the config sets: a hit's own severity (Hit.severity) yields to it
        self._configured_severity = frozenset(
            rule.code for rule in registry.RULES if config.severity_for(rule.code, "") != ""
        )

        #: component separator -> SV101 as written -> LineKind
        self._kinds: dict[bytes, dict[str, LineKind]] = {}
        #: (element separator, component separator) -> SV1 as written -> SV1Reading
        self._readings: dict[tuple[bytes, bytes], dict[str, SV1Reading]] = {}
        #: claim part of a line signature -> the line parts no line rule fired on
        self._clean_lines: dict[tuple, set[tuple]] = {}
        #: (claim part, line part) of a signature some line rule fired on -> the rules that fired
        self._fired_lines: dict[tuple, tuple[tuple[Rule, Severity], ...]] = {}
        #: whether claims are screened (:mod:`edi_rehab.rules.screens`) so cleared claim rules are skipped
        self._screens = True
        #: encounter signatures (:meth:`_encounter_signature`) no encounter rule fired on
        self._clean_encounters: set[tuple] = set()
        #: encounter signature some encounter rule fired on -> the rules that fired
        self._fired_encounters: dict[tuple, tuple[tuple[Rule, Severity], ...]] = {}
        self._with_mue = bool(self.maps.mue_edits)
        #: date of service -> its PTP period (Maps.ptp_period)
        self._periods: dict[date, int] = {}
        self._pair_cache: dict[tuple, list] = {}
        #: SV103 as written -> trimmed and upper-cased; SV104 as written -> a whole number or None
        self._bases: dict[str, str] = {}
        self._units: dict[str, int | None] = {}
        self._ptp_codes = frozenset(code for edit in self.maps.ptp_edits for code in (edit.column1, edit.column2))
        self._profile_cache: dict[tuple[str, str], PayerProfile] = {}
        #: segments checked since the caches were last measured (_MEASURE_CACHES_EVERY)
        self._segments_unmeasured = _MEASURE_CACHES_EVERY

        # minutes indexes, built once: billed rows by claim, unbilled rows by claim
        self._rows_by_claim: dict[str, list[MinutesRow]] = {}
        self._unbilled_by_claim: dict[str, list[UnbilledService]] = {}
        self._seen_claims: set[str] = set()
        if minutes is not None:
            for row in minutes.rows:
                if row.line is None:
                    self._unbilled_by_claim.setdefault(row.claim_id, []).append(
                        UnbilledService(
                            row.procedure or "", row.service_date or "", row.minutes, row.time_block, row.row,
                            assistant_row=row.clinician == "assistant",
                        )
                    )
                else:
                    self._rows_by_claim.setdefault(row.claim_id, []).append(row)

    # -- public -------------------------------------------------------------------------------
    def check_events(self, events: Iterable[Event], *, claim_views: bool = True) -> Iterator[EventResult]:
        """One :class:`EventResult` per event, as the events come (streaming).

        The cyclic garbage collector is paused while the next event is read and checked
        (see :mod:`edi_rehab.gcpause`): :meth:`~edi_rehab.rules.base.ClaimContext.release`
        breaks the only cycles, so reference counting frees every transaction.

        ``claim_views=False`` is for callers that want findings only (``check``, the hook):
        each result then carries :attr:`EventResult.claim_ids` but no claim views, so a
        transaction's views are freed before the result is handed over. Holding them (about
        twenty objects per claim) makes the collector walk them all as soon as it runs
        again; measured on a 10 MB file, that walk was a tenth of the check's time.
        """
        yield from each_with_collector_paused(lambda event: self.check_event(event, claim_views=claim_views), events)

    def check_event(self, event: Event, *, claim_views: bool = True) -> EventResult:
        if isinstance(event, Transaction):
            return self._transaction(event, claim_views)
        return EventResult(event, self._warning_findings(event.warnings))

    @property
    def seen_claims(self) -> frozenset[str]:
        """CLM01 of the checked claims that the minutes table names (empty without a table)."""
        return frozenset(self._seen_claims)

    def note_claims_seen(self, claim_ids: Iterable[str]) -> None:
        """Record claims other checkers saw (``--jobs`` workers) before :meth:`minutes_findings`,
        so rows naming them are not reported as unknown (U110)."""
        self._seen_claims.update(claim_ids)

    def minutes_findings(self) -> list[Finding]:
        """U109 for the CSV's own problems and U110 for rows naming claims no checked file
        had. Call once, after every file of the run; segment 0, row in ``details``.

        U110 names the first :data:`~edi_rehab.minutes.UNKNOWN_CLAIMS_NAMED` such claims
        (by first row) and counts the rows of the rest in one more finding. A repeated row
        of such a claim is one of its rows there, not a U109: nothing would use either row.
        Whether the parser was told the run's claims (and so kept only theirs) changes
        nothing here.
        """
        table = self.minutes
        if table is None:
            return []
        seen = self._seen_claims
        findings = [
            f
            for p in table.problems
            if p.claim_id is None or p.claim_id in seen
            for f in self._minutes_hits("U109", p, None)
        ]
        late = [(row.row, row.claim_id) for row in table.rows if row.claim_id not in seen]
        late += [(p.row, p.claim_id) for p in table.problems if p.claim_id is not None and p.claim_id not in seen]
        kept_unseen = UnknownClaims()
        for row, claim_id in sorted(late):
            kept_unseen.add(claim_id, row)
        unknown = table.unknown.merged(kept_unseen)
        # rows naming a checked claim (its repeats too), for perspective on the unknown ones
        referenced = sum(1 for row in table.rows if row.claim_id in seen)
        referenced += sum(1 for p in table.problems if p.claim_id is not None and p.claim_id in seen)
        hint = (
            "; no row of the minutes file names a checked claim: claim_id must be the claim's CLM01 (patient control number)"
            if unknown.named and not referenced
            else ""
        )
        for entry in unknown.named.values():  # one finding per claim, at its first row
            more = ""
            if entry.count > 1:
                listed = ", ".join(map(str, entry.rows))
                unlisted = entry.count - len(entry.rows)
                more = f" (rows {listed}{f' and {unlisted} more' if unlisted else ''})"
            message = f"claim {entry.claim_id!r} is not in the checked claim file(s){more}{hint}"
            hint = ""
            findings.extend(self._minutes_hits("U110", MinutesProblem(entry.first_row, message), None))
        if unknown.more_rows and unknown.more_first_row is not None:
            message = (
                f"{unknown.more_rows} more {'row' if unknown.more_rows == 1 else 'rows'}, the first on this one, name claims not in the checked claim "
                f"file(s) (only the first {len(unknown.named)} such claims are named); an export wider than the "
                f"claim files is expected; {_rows(referenced)} name checked claims"
            )
            findings.extend(self._minutes_hits("U110", MinutesProblem(unknown.more_first_row, message), None))
        findings.sort(key=lambda f: (f.details.get("row", 0), f.code))
        return findings

    def profile_for(self, claim: Claim) -> PayerProfile:
        key = (claim.payer_id, claim.filing_indicator)
        profile = self._profile_cache.get(key)
        if profile is None:
            profile = match_profile(self.profiles, claim.payer_id, claim.filing_indicator)
            self._profile_cache[key] = profile
        return profile

    def claim_findings_with_history(self, claim: Claim, year_to_date, codes: Iterable[str]) -> list[Finding]:
        """The findings of the claim rules ``codes`` (those enabled) on ``claim`` when the
        patient's recorded year-to-date is known (``check --ledger``: C413 and C414), in the
        order of the rule table. No screen skips them: the claim alone says nothing about
        the year."""
        wanted = set(codes)
        cc = self._claim_context(claim)
        cc.year_to_date = year_to_date
        found = [
            self._finding(rule, severity, hit)
            for rule, severity in self.plan[Scope.CLAIM]
            if rule.code in wanted
            for hit in rule.check(cc)
        ]
        cc.release()
        return found

    # -- events -------------------------------------------------------------------------------
    def _warning_findings(self, warnings: Iterable[ReadWarning]) -> list[Finding]:
        findings = []
        for warning in warnings:
            for rule, severity in self.plan[Scope.WARNING]:
                findings.extend(self._finding(rule, severity, hit) for hit in rule.check(warning))
        return findings

    def _transaction(self, tx: Transaction, claim_views: bool = True) -> EventResult:
        self._segments_unmeasured += tx.count
        if self._segments_unmeasured >= _MEASURE_CACHES_EVERY:
            self._segments_unmeasured = 0
            self._bound_caches()
        loose = self._warning_findings(tx.warnings) if tx.warnings else []
        tctx = TransactionContext(tx, [])
        for rule, severity in self.plan[Scope.TRANSACTION]:
            loose.extend(self._finding(rule, severity, hit) for hit in rule.check(tctx))
        if tx.set_id != "837" or not tx.version.startswith("005010X222"):
            loose.sort(key=_order)
            return EventResult(tx, loose)
        return self._professional(tx, loose, tctx, claim_views)

    def _bound_caches(self) -> None:
        caches = (
            self._clean_lines, self._fired_lines, self._clean_encounters, self._fired_encounters, self._kinds,
            self._readings, self._pair_cache, self._periods,
            self._bases, self._profile_cache,
        )
        nested = sum(
            len(entries) for cache in (self._clean_lines, self._kinds, self._readings) for entries in cache.values()
        )
        if nested > _CACHE_LIMIT or any(len(cache) > _CACHE_LIMIT for cache in caches):
            # Caches are only shortcuts; a file of endlessly varied lines must not grow them
            # forever. They are emptied together: signatures hold the kinds they name.
            for cache in caches:
                cache.clear()

    def _professional(self, tx: Transaction, loose: list[Finding], tctx: TransactionContext, claim_views: bool) -> EventResult:
        """The rules on the claims of an 837P transaction set."""
        if not claim_views:
            streamed = self._professional_streamed(tx, list(loose))
            if streamed is not None:
                return streamed
        return self._professional_holding(tx, loose, tctx, claim_views)

    def _professional_holding(
        self, tx: Transaction, loose: list[Finding], tctx: TransactionContext, claim_views: bool
    ) -> EventResult:
        """The rules on the claims of an 837P transaction set, every claim's views held until
        the set's encounter rules have run (what a caller that wants the views gets)."""
        encounter_rules = self.plan[Scope.ENCOUNTER]
        #: (patient, rendering NPI, date) -> its lines: the encounters, gathered as the views are built
        encounters: dict[tuple, list[LineView]] | None = {} if encounter_rules else None
        contexts = [self._claim_context(claim, encounters) for claim in read_claims(tx)]
        tctx.claims = contexts
        #: id(claim context) -> its findings (only claims with some)
        per_claim: dict[int, list[Finding]] = {}
        emit = self._emitter(per_claim, loose)
        rules = self._claim_plan()
        for cc in contexts:
            self._claim_rules(cc, rules, per_claim, emit)

        if encounters:
            clean_encounters = self._clean_encounters
            for (_, _, dos), lines in encounters.items():
                signature = self._encounter_signature(dos, lines)
                if signature not in clean_encounters:
                    self._encounter_rules(dos, lines, signature, emit)

        claims = []
        everything = loose
        for cc in contexts:
            findings = per_claim.get(id(cc), [])
            if claim_views:
                findings.sort(key=_order)
                claims.append(ClaimResult(cc.claim, cc.profile, cc.unit_method, findings))
            everything.extend(findings)
            cc.release()
        everything.sort(key=_order)
        return EventResult(tx, everything, claims, tuple(cc.claim_id for cc in contexts))

    def _professional_streamed(self, tx: Transaction, loose: list[Finding]) -> EventResult | None:
        """The findings of an 837P transaction set, each claim's views freed as soon as its
        own rules ran, unless an encounter of its may still need them; None when one does
        after all (see below), and the caller then checks the set holding every view.

        Holding the views of a 5,000-claim set until its encounter rules ran made such sets
        cost a fifth more CPU than the same claims in sets of 50 (their pages are touched
        once more, long after they were built). An encounter needs its lines' views only when
        its rules must run, that is when its signature is not known to be clean
        (:meth:`_encounter_signature`), and a claim's own lines tell that at once
        (:meth:`_silent_so_far`). An encounter of one claim whose signature is clean keeps
        only its signature, and a claim with no other encounter is released. Should a later
        claim of the set join such an encounter (the same patient, rendering provider and
        date on two claims), the signature's stand-ins (:class:`_SignatureLine`) join the new
        lines, and when the encounter's signature is then not known to be clean, the released
        views would be needed: the set is checked again by :meth:`_professional_holding`.
        That happens only for a signature of several claims not seen clean before in the
        run (the first time a patient's day is billed as such a pair of claims, say); from
        then on the signature is known clean. Both paths run the same rules on the same views, so
        they find the same things (``tests/test_engine.py`` compares them)."""
        encounter_rules = self.plan[Scope.ENCOUNTER]
        clean_encounters = self._clean_encounters
        signature_of = self._encounter_signature
        #: (patient, rendering NPI, date) -> its lines (views, and stand-ins for the lines of
        #: released claims), or its signature while it is one released claim's and clean
        encounters: dict[tuple, list | tuple] = {}
        #: id(claim context) -> its findings, for the claims alive (held or being checked)
        per_claim: dict[int, list[Finding]] = {}
        emit = self._emitter(per_claim, loose)
        #: each claim's findings in file order, and its CLM01
        claim_findings: list[list[Finding]] = []
        claim_ids: list[str] = []
        held: list[ClaimContext] = []
        rules = self._claim_plan()
        claim_context, claim_rules = self._claim_context, self._claim_rules
        for claim in iter_claims(tx):
            local: dict[tuple, list[LineView]] | None = {} if encounter_rules else None
            cc = claim_context(claim, local)
            per_claim[id(cc)] = findings = []
            claim_findings.append(findings)
            claim_ids.append(cc.claim_id)
            claim_rules(cc, rules, per_claim, emit)
            keep = False
            if local:
                for key, lines in local.items():
                    gathered = encounters.get(key)
                    if gathered is None:
                        signature = signature_of(key[2], lines)
                        if signature in clean_encounters or self._silent_so_far(key[2], lines, signature):
                            encounters[key] = signature
                        else:
                            encounters[key] = lines
                            keep = True
                    else:
                        if type(gathered) is tuple:
                            encounters[key] = gathered = self._signature_lines(gathered)
                        gathered.extend(lines)
                        keep = True
            if keep:
                held.append(cc)
            else:
                del per_claim[id(cc)]
                cc.release()

        to_run = []
        for (_, _, dos), lines in encounters.items():
            if type(lines) is tuple:
                continue  # one released claim's, and clean
            signature = signature_of(dos, lines)
            if signature in clean_encounters:
                continue
            if any(type(lv) is _SignatureLine for lv in lines):
                for cc in held:
                    cc.release()
                return None  # decided before any encounter rule runs, so none runs twice
            to_run.append((dos, lines, signature))
        for dos, lines, signature in to_run:
            self._encounter_rules(dos, lines, signature, emit)

        for cc in held:
            cc.release()
        everything = loose
        for findings in claim_findings:
            everything.extend(findings)
        everything.sort(key=_order)
        return EventResult(tx, everything, [], tuple(claim_ids))

    def _silent_so_far(self, dos: date, lines: list[LineView], signature: tuple) -> bool:
        """Whether the encounter rules are silent on one claim's lines of an encounter, as they
        stand (``signature`` is theirs and not known clean): known when it fired before, else
        found by running the rules with their hits thrown away. The signature is then
        remembered as clean or as fired, which is all a later run needs; the encounter's own
        findings come when the set ends."""
        if signature in self._fired_encounters:
            return False
        return self._encounter_rules(dos, lines, signature, _any_hit)

    def _signature_lines(self, signature: tuple) -> list[_SignatureLine]:
        """Stand-ins for the lines an encounter signature was made of, so that it can be
        made again with more lines (:meth:`_encounter_signature`)."""
        if self._with_mue:
            return [_SignatureLine(kind, units, basis) for kind, units, basis in signature[1:]]
        return [_SignatureLine(kind, None, "") for kind in signature[1:]]

    def _emitter(self, per_claim: dict[int, list[Finding]], loose: list[Finding]):
        """``emit(rule, severity, hits)``: each hit as a finding in its claim's list of
        ``per_claim`` (by the claim context's id), or in ``loose`` when it names no claim;
        True when there was a hit."""
        finding = self._finding

        def emit(rule: Rule, severity: Severity, hits: Iterable[Hit]) -> bool:
            found = False
            for hit in hits:
                found = True
                at = hit.at
                owner = at.claim if isinstance(at, LineView) else at
                sink = per_claim.setdefault(id(owner), []) if owner is not None else loose
                sink.append(finding(rule, severity, hit))
            return found

        return emit

    def _claim_plan(self) -> tuple:
        """What :meth:`_claim_rules` runs, looked up in :attr:`plan` once per transaction set
        rather than once per claim: the line, group and claim rules, and the claim rules no
        screen fact can clear."""
        plan = self.plan
        return plan[Scope.LINE], plan[Scope.GROUP], plan[Scope.CLAIM], self._unscreened_claim_rules

    def _claim_rules(self, cc: ClaimContext, rules: tuple, per_claim: dict[int, list[Finding]], emit) -> None:
        """The line, group and claim rules (and the minutes placement findings) on one claim;
        ``rules`` is :meth:`_claim_plan`."""
        line_rules, group_rules, claim_rules, unscreened_claim_rules = rules
        claim_key = cc.line_rule_key()
        clean_lines = self._clean_lines
        clean = clean_lines.get(claim_key)
        if clean is None:
            clean = clean_lines[claim_key] = set()
        fired_lines = self._fired_lines
        for lv in cc.lines:
            line_key = lv.line_key
            if line_key in clean:
                continue
            if self._run_remembering(line_rules, lv, (claim_key, line_key), fired_lines, emit):
                clean.add(line_key)
        for group in cc.groups:
            if not group.has_minutes_source:
                continue  # every group rule is about minutes (needs={"minutes"})
            for rule, severity in group_rules:
                emit(rule, severity, rule.check(group))
        for rule, severity in unscreened_claim_rules if cc.screens_clear else claim_rules:
            if rule.skip_when is not None and getattr(cc, rule.skip_when):
                continue  # the claim's screen proved the rule has nothing to report
            for hit in rule.check(cc):
                emit(rule, severity, (hit,))
        if self.minutes is not None:
            self._claim_minutes_findings(cc, per_claim.setdefault(id(cc), []))

    def _encounter_rules(self, dos: date, lines: list[LineView], signature: tuple, emit) -> bool:
        """The encounter rules on one encounter whose signature is not known to be clean,
        hits to ``emit``; True (and the signature remembered as clean) when none fired."""
        encounter = Encounter(dos, lines, self.maps, pair_cache=self._pair_cache)
        if self._run_remembering(self.plan[Scope.ENCOUNTER], encounter, signature, self._fired_encounters, emit):
            self._clean_encounters.add(signature)
            return True
        return False

    @staticmethod
    def _run_remembering(rules: list[tuple[Rule, Severity]], scope, signature: tuple, fired_by_signature: dict, emit) -> bool:
        """Run on ``scope`` the rules that fired on its ``signature`` before, or, the first
        time the signature is seen, every rule of ``rules``, remembering those that fire; hits
        go to ``emit``. True when the signature is clean (none fired on its first run), which
        the caller remembers so as not to come here again for it."""
        fired = fired_by_signature.get(signature)
        if fired is not None:
            for rule, severity in fired:
                emit(rule, severity, rule.check(scope))
            return False
        fired = ()
        for rule, severity in rules:
            if emit(rule, severity, rule.check(scope)):
                fired += ((rule, severity),)
        if fired:
            fired_by_signature[signature] = fired
        return not fired

    # -- building the rules' view ------------------------------------------------------------
    def _claim_context(self, claim: Claim, encounters: dict[tuple, list[LineView]] | None = None) -> ClaimContext:
        """The rules' view of ``claim``; its lines also join ``encounters`` (when given) under
        (patient, rendering NPI, date): lines without one date of service or a code join none."""
        profile = self.profile_for(claim)
        method = self.unit_method or profile.unit_method
        maps = self.maps
        cc = ClaimContext(claim, profile, method, maps, self.minutes)
        ptp_codes = self._ptp_codes
        table = self.minutes
        claim_id = claim.claim_id
        claim_npi = claim.rendering_npi
        if table is not None and (claim_id in self._rows_by_claim or claim_id in self._unbilled_by_claim):
            self._seen_claims.add(claim_id)
        # An SV1 as written stands for its code, modifiers, units and charge (a reading per
        # spelling), within one pair of element and component separators: the same text means
        # another thing under another ISA.
        delims = claim.transaction.delimiters
        separator = delims.component
        readings_key = (delims.element, separator)
        readings = self._readings.get(readings_key)
        if readings is None:
            readings = self._readings[readings_key] = {}
        disciplines = cc.disciplines
        first_position = claim.transaction.first_position
        lines = cc.lines
        patient = claim.patient_key if encounters is not None else None
        has_minutes = False
        for line in claim.lines:
            text = line.sv1_text
            reading = readings.get(text)
            if reading is None:  # '' is the reading of a line without SV1 (ServiceLine.sv1_text)
                reading = readings[text] = self._sv1_reading(line, separator)
            kind = reading.kind
            index = line.sv1_index
            lv = LineView(
                line, cc, reading, line.line_rendering_npi or claim_npi,
                first_position + (index if index is not None else line.index),
            )
            basis = reading.basis
            sidecar = None
            if table is not None:
                lx = lv.lx
                row = table.row_for(claim_id, lx) if lx is not None else None
                if row is not None and _clinician_contradicts(row.clinician, kind.assistant):
                    # whose minutes they are decides the line's CQ/CO split: a contradiction is
                    # the clinic's to resolve, so the row is not used (U109) and the line has none
                    cc.placement_problems.append(
                        (
                            row.row,
                            f"the row says the {row.clinician}'s minutes, but line {lx} ({kind.procedure}) "
                            f"{'has' if kind.assistant else 'has no'} CQ/CO; record the other clinician's "
                            f"minutes in a row without a line; this row is not used",
                        )
                    )
                elif row is not None:
                    lv.time_block = row.time_block
                    sidecar = row.minutes
            if kind.unit_class == "timed15" and (sidecar is not None or line.notes or basis == "MJ"):
                note = minutes_from_notes(line.notes, self.note_pattern) if line.notes else None
                mj = minutes_from_mj(line.sv1[3], line.sv1[4]) if basis == "MJ" else None
                if sidecar is not None or note is not None or mj is not None:
                    found = line_minutes(sidecar, note, mj)
                    lv.minutes, lv.minutes_source = found[0], found[1].value
                    has_minutes = True
            lines.append(lv)
            if kind.disciplines:
                disciplines |= kind.discipline_set
            if encounters is not None and lv.dos is not None and kind.procedure and not line.service_date.is_range:
                key = (patient, lv.npi, lv.dos)
                same = encounters.get(key)
                if same is None:
                    encounters[key] = [lv]
                else:
                    same.append(lv)
        if table is not None and has_minutes:
            self._drop_overfull_days(cc, table)
        if table is not None or has_minutes:
            cc.groups = self._unit_groups(cc)  # without minutes no group rule can say anything
        if self._screens:
            screen_claim(cc)
        return cc

    def _sv1_reading(self, line: ServiceLine, separator: bytes) -> SV1Reading:
        """What ``line``'s SV1 says (:class:`~edi_rehab.rules.base.SV1Reading`); its kind is
        shared by every SV1 with the same SV101 under ``separator`` (ISA16)."""
        kinds = self._kinds.get(separator)
        if kinds is None:
            kinds = self._kinds[separator] = {}
        sv1 = line.sv1
        kind = kinds.get(sv1[1])
        if kind is None:
            kind = kinds[sv1[1]] = self._line_kind(line)
        raw = sv1[4]
        units = self._units.get(raw, _UNREAD)
        if units is _UNREAD:
            units = whole_number(raw)
            if units is None:
                units = _whole(line.units)
            if len(self._units) < _CACHE_LIMIT:
                self._units[raw] = units
        written = sv1[3]
        basis = self._bases.get(written)
        if basis is None:
            basis = self._bases[written] = written.strip().upper()
        has_sv1 = line.sv1_index is not None
        cents = amount_cents(sv1[2]) if has_sv1 else None
        place = sv1[5]
        return SV1Reading(kind, units, basis, has_sv1, cents, place, place in TELEHEALTH_POS)

    def _line_kind(self, line: ServiceLine) -> LineKind:
        """What SV101 means. Written with a component separator other than ISA16, it is read
        with that character when the reading is unambiguous: one candidate splits it into HC,
        a code of codes.xml or of a PTP edit, and two-character modifiers (X007 reports it
        either way, at error level, so the line never passes silently)."""
        maps = self.maps
        procedure = line.procedure.strip().upper()
        modifiers = tuple(m.strip().upper() for m in line.modifiers)
        foreign = foreign_composite(line.sv1[1], line.component_separator) if line.sv1_index is not None else None
        if foreign is None:
            return LineKind(procedure, modifiers, maps, procedure in self._ptp_codes)
        separator, parts = foreign
        code = parts[1].strip().upper()
        written = tuple(m.strip().upper() for m in parts[2:6] if m.strip())
        readable = (
            parts[0].strip().upper() == "HC"
            and (code in maps.codes or code in self._ptp_codes)
            and len(parts) <= 7
            and all(len(m) == 2 and m.isalnum() for m in written)
        )
        if readable:
            procedure, modifiers = code, written
        return LineKind(
            procedure, modifiers, maps, procedure in self._ptp_codes,
            foreign_separator=separator, composite_read=readable,
        )

    def _drop_overfull_days(self, cc: ClaimContext, table: MinutesTable) -> None:
        """CSV rows that give one rendering clinician more than a day of minutes on one date
        of this claim are not used (U109 names each row): one of them is wrong, and which
        one is the clinic's to say, so none becomes evidence for units (engine decision 3)."""
        days: dict[tuple[str, date], list[LineView]] = {}
        for lv in cc.lines:
            if lv.minutes_source == "sidecar" and lv.dos is not None:
                days.setdefault((lv.npi, lv.dos), []).append(lv)
        for (npi, dos), lvs in days.items():
            total = sum(lv.minutes or 0 for lv in lvs)
            if total <= MINUTES_PER_DAY:
                continue
            for lv in lvs:
                row = table.row_for(cc.claim_id, lv.lx)  # type: ignore[arg-type]
                lv.minutes = lv.minutes_source = None
                if row is not None:
                    cc.placement_problems.append(
                        (
                            row.row,
                            f"the rows of claim {cc.claim_id!r} give rendering provider {npi or '?'} {total} minutes on "
                            f"{dos:%Y%m%d}, more than a day ({MINUTES_PER_DAY}); this row is not used",
                        )
                    )

    def _unit_groups(self, cc: ClaimContext) -> list[UnitGroup]:
        grouping = cc.profile.unit_grouping
        by_discipline = "discipline" in grouping
        by_provider = "rendering-provider" in grouping
        groups: dict[tuple, UnitGroup] = {}
        # A line missing its GP/GO/GN (M201) joins the one discipline the rest of the claim
        # claims, rather than opening a group of its own and skewing both groups' minutes.
        sole = next(iter(cc.disciplines)) if len(cc.disciplines) == 1 else ""
        for lv in cc.lines:
            if not lv.is_timed15 or lv.dos is None or lv.line.service_date.is_range:
                continue
            discipline = (lv.discipline or sole) if by_discipline else None
            key = (lv.dos, discipline, lv.npi if by_provider else None)
            group = groups.get(key)
            if group is None:
                group = groups[key] = UnitGroup(cc, key, lv.dos, key[1], key[2])
            group.lines.append(lv)
        for service in self._unbilled_by_claim.get(cc.claim_id, ()):
            self._place_unbilled(cc, groups, service, by_discipline, by_provider)
        return list(groups.values())

    def _place_unbilled(
        self, cc: ClaimContext, groups: dict, service: UnbilledService, by_discipline: bool, by_provider: bool
    ) -> None:
        info = self.maps.codes.get(service.procedure)
        if info is None or info.unit_class != "timed15":
            return  # untimed minutes never count toward the timed total (reference 1.4)
        dos = parse_date(service.service_date)
        candidates = [
            g
            for g in groups.values()
            if g.dos == dos and (not by_discipline or not info.discipline or g.discipline == info.discipline)
        ]
        if len(candidates) == 1:
            if service.assistant_row:
                service = self._as_assistant_part(cc, service, candidates[0].discipline)
                if service is None:
                    return
            candidates[0].unbilled.append(service)
            return
        if candidates:
            kinds = sorted({DISCIPLINE_LABELS.get(g.discipline or "", g.discipline or "") for g in candidates})
            cc.placement_problems.append(
                (
                    service.row,
                    f"the unbilled {service.procedure} row cannot be placed: claim {cc.claim_id!r} has timed lines "
                    f"of {' and '.join(kinds)} on that date and the row does not say which it belongs to",
                )
            )
            return
        discipline = None
        if by_discipline:
            discipline = info.discipline or (next(iter(cc.disciplines)) if len(cc.disciplines) == 1 else "")
        npi = cc.claim.rendering_npi if by_provider else None
        if service.assistant_row:
            service = self._as_assistant_part(cc, service, discipline or info.discipline)
            if service is None:
                return
        key = (dos, discipline, npi)
        group = groups[key] = UnitGroup(cc, key, dos, discipline, npi)
        group.unbilled.append(service)

    def _as_assistant_part(
        self, cc: ClaimContext, service: UnbilledService, discipline: str | None
    ) -> UnbilledService | None:
        """An unbilled row of the assistant's minutes as the assistant's part of its code:
        CQ for PT, CO for OT (the modifier whose discipline modifier is the day's). A day of
        another discipline has no assistant modifier (SLP), so the row is reported (U109)."""
        policy = self.maps.modifiers
        for code, info in policy.modifiers.items():
            if info.requires and policy.discipline_of(info.requires) == discipline:
                return dataclasses.replace(service, assistant=code)
        cc.placement_problems.append(
            (
                service.row,
                f"the unbilled {service.procedure} row records an assistant's minutes, but its day on claim "
                f"{cc.claim_id!r} is {DISCIPLINE_LABELS.get(discipline or '', discipline or '?')}, which has no "
                f"assistant modifier (CQ is for PT, CO for OT); this row is not used",
            )
        )
        return None

    def _claim_minutes_findings(self, cc: ClaimContext, sink: list[Finding]) -> None:
        for row, message in cc.placement_problems:
            sink.extend(self._minutes_hits("U109", MinutesProblem(row, message), cc))
        rows = self._rows_by_claim.get(cc.claim_id)
        if not rows:
            return
        numbers = {lv.lx for lv in cc.lines}
        for row in rows:
            if row.line not in numbers:
                problem = MinutesProblem(row.row, f"claim {cc.claim_id!r} has no line {row.line} (LX*{row.line})")
                sink.extend(self._minutes_hits("U110", problem, cc))

    def _minutes_hits(self, code: str, problem: MinutesProblem, cc: ClaimContext | None) -> list[Finding]:
        planned = self._minutes_rules.get(code)
        if planned is None or self.minutes is None:
            return []
        rule, severity = planned
        findings = []
        for hit in rule.check(problem):
            hit.at = cc
            hit.details = {**hit.details, "row": problem.row, "source": self.minutes.source}
            findings.append(self._finding(rule, severity, hit))
        return findings

    def _encounter_signature(self, dos: date, lines: list[LineView]) -> tuple:
        """Everything an encounter rule's verdict depends on, so that an encounter like one
        that was clean before is skipped (clinics bill the same few code combinations all
        day): the PTP period of the date (:meth:`~edi_rehab.mapdata.Maps.ptp_period`: dates
        with the same active edits) and the kinds (code and modifiers) of the lines as a
        multiset; with an MUE file also each line's units and SV103, in line order. Which
        claim a line is on, its line number and the payer profile only shape a message, never
        whether a rule fires; a rule that starts to depend on more must add it here."""
        period = self._periods.get(dos)
        if period is None:
            period = self._periods[dos] = self.maps.ptp_period(dos)
        if self._with_mue:
            return (period, *[(lv.kind, lv.units, lv.basis) for lv in lines])
        if len(lines) == 1:
            return (period, lines[0].kind)
        return (period, *sorted([lv.kind for lv in lines], key=id))

    # -- findings -----------------------------------------------------------------------------
    def _finding(self, rule: Rule, severity: Severity, hit: Hit) -> Finding:
        if hit.severity is not None and rule.code not in self._configured_severity:
            severity = hit.severity
        fix = None
        if rule.fix is not None and hit.fixable:
            fix = Fix(rule.fix, hit.fix or rule.summary, requires_explicit_selection=rule.fix_needs_selection)
        at = hit.at
        if isinstance(at, LineView):
            return Finding(
                rule.code, severity, hit.message, at.segment, at.claim.claim_id, at.lx, at.procedure or None, fix, hit.details
            )
        if isinstance(at, ClaimContext):
            return Finding(rule.code, severity, hit.message, at.segment, at.claim_id, None, None, fix, hit.details)
        return Finding(rule.code, severity, hit.message, hit.segment, None, None, None, fix, hit.details)


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """The :class:`Checker` arguments as one value (for callers that pass options around)."""

    maps: Maps | None = None
    config: Config | None = None
    minutes: MinutesTable | None = None
    unit_method: str | None = None
    select: str | tuple[str, ...] | None = None
    ignore: str | tuple[str, ...] | None = None


def check_events(
    events: Iterable[Event], options: CheckOptions | Checker | None = None, *, claim_views: bool = True
) -> Iterator[EventResult]:
    """Stream :class:`EventResult` values (each unpacks as ``(event, findings)``).

    Pass a :class:`Checker` to share its state across several inputs (minutes references
    are only complete after :meth:`Checker.minutes_findings`), or :class:`CheckOptions`.
    ``claim_views=False``: findings only, see :meth:`Checker.check_events`.
    """
    if not isinstance(options, Checker):
        options = options or CheckOptions()
        options = Checker(**{f.name: getattr(options, f.name) for f in dataclasses.fields(options)})
    return options.check_events(events, claim_views=claim_views)


def _any_hit(rule: Rule, severity: Severity, hits: Iterable[Hit]) -> bool:
    """An emitter (:meth:`Checker._emitter`) that keeps nothing: whether there was a hit."""
    return any(True for _ in hits)


class _SignatureLine:
    """What an encounter's signature reads of a line (:meth:`Checker._encounter_signature`),
    kept in place of the view of a line whose claim was released."""

    __slots__ = ("kind", "units", "basis")

    def __init__(self, kind: LineKind, units: int | None, basis: str) -> None:
        self.kind = kind
        self.units = units
        self.basis = basis


def _order(finding: Finding) -> tuple[int, str]:
    return (finding.segment, finding.code)


def check(
    data: bytes,
    *,
    minutes: MinutesTable | str | bytes | None = None,
    unit_method: str | None = None,
    config: Config | str | None = None,
    ncci: Iterable[PtpEdit] | bytes | None = None,
    mue: Mapping[str, MueEdit] | bytes | None = None,
    select: str | Iterable[str] | None = None,
    ignore: str | Iterable[str] | None = None,
) -> list[Finding]:
    """Check an 837P file held in memory and return its findings in segment order.

    Args:
        data: the file's bytes.
        minutes: a parsed :class:`~edi_rehab.minutes.MinutesTable`, or the CSV's text/bytes.
        unit_method: ``"cms"`` or ``"per-code"`` for every claim (default: per payer profile).
        config: a parsed :class:`~edi_rehab.config.Config` or TOML text.
        ncci: extra PTP edits: parsed :class:`~edi_rehab.mapdata.PtpEdit` values or the bytes
            of an official CMS practitioner PTP file (.txt or .zip).
        mue: MUEs: a ``code -> MueEdit`` mapping or the bytes of a CMS practitioner MUE file.
        select, ignore: rule codes or prefixes (``"U1,M205"`` or a list).

    Findings about the minutes CSV itself (U109/U110 not tied to a claim) come last, with
    segment 0 and the CSV row in ``details["row"]``.

    Raises:
        X12ReadError: the data cannot be read as X12.
        ConfigError, MapError, CheckUsageError: unusable options.
    """
    checker = checker_from_values(
        minutes=minutes, unit_method=unit_method, config=config, ncci=ncci, mue=mue, select=select, ignore=ignore
    )
    results = checker.check_events(iter_events([bytes(data)]), claim_views=False)
    findings = [f for result in results for f in result.findings]
    return findings + checker.minutes_findings()


def checker_from_values(*, minutes=None, unit_method=None, config=None, ncci=None, mue=None, select=None, ignore=None) -> Checker:
    """A :class:`Checker` from the Python API's loose options, as :func:`check` and
    :func:`edi_rehab.fixes.fix` take them: file contents as bytes or text (a CMS PTP or MUE
    file, a TOML config, a minutes CSV) or already-parsed values."""
    from .cms_files import parse_mue_file, parse_ptp_file
    from .config import parse_config

    maps = load_maps()
    if isinstance(ncci, (bytes, bytearray)):
        ncci = parse_ptp_file("<ncci>", bytes(ncci), maps.all_codes).edits
    if isinstance(mue, (bytes, bytearray)):
        mue = parse_mue_file("<mue>", bytes(mue), maps.all_codes)
    if ncci or mue:
        maps = load_maps(extra_ptp=ncci or (), mue=mue)
    if isinstance(config, str):
        config = parse_config(config, "<config>")
    if isinstance(minutes, bytes):
        minutes = minutes.decode("utf-8-sig")
    if isinstance(minutes, str):
        minutes = parse_minutes_csv(minutes, "<minutes>")
    return Checker(maps=maps, config=config, minutes=minutes, unit_method=unit_method, select=select, ignore=ignore)
