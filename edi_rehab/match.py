"""835 service payments matched back to 837P service lines, decoded and triaged.

Theory of operation
-------------------
Pure: claims (already read, with the check findings the claim was built on) and
remittances in, :class:`MatchRow` values out. The CLI reads the files; nothing here does.

1. **Index the 837 side** (:class:`ClaimIndex`). Every claim of every 837 file is indexed
   by CLM01, by CLM01 cut to 20 characters (the TR3 only promises 20 back in CLP01) and
   by its upper-cased form, each lookup O(1). A claim's lines are indexed by REF*6R on
   first use. Findings are placed on their claim and line by segment position (bisect).
2. **Claims.** CLP01 = CLM01 exactly, else cut to 20 characters, else case-insensitively,
   else as a payer's prefix plus CLM01 (a CLM01 of at least :data:`MIN_PREFIXED_ID` characters).
   Several 837 claims sharing a CLM01 (a resubmission, a replacement, the same file twice)
   are told apart by charge (CLP03 = CLM02), dates of service, procedures and REF*6R hits;
   on a tie the claim whose lines take every SVC wins; a tie after that goes to the earliest
   claim for a reversal and to the latest otherwise, and is reported as ambiguous
   (:class:`AmbiguousClaim`: the row's match names the other claims). Several
   CLPs per claim (reversal CLP02 = 22, the correction that follows, crossovers 19-21) all
   match, each on its own.
3. **Lines**, only inside the matched claim (REF*6R is unique only there):

   * ``line-control``: 2110 REF*6R = 2400 REF*6R (also compared cut to 30 characters);
   * ``fallback``: a score over the original procedure (SVC06 when present), the
     modifier *set* (payers drop and reorder modifiers), the date of service, the charge
     and the units; a different date rejects a line outright, and the procedure or
     date+charge must agree. Unused lines win ties, then the line nearest in order. A
     split part (``LQ*HE*N123``, or SVC07 with a part of the charge) may share its line
     with the other parts (1:n);
   * bundles (n:1): an SVC that fits no single line is tried against combinations of
     the unused lines of its date whose charges add up to SVC02;
   * ``unmatched``: none of that; ``claim``: a CLP without any SVC gets one claim row.

4. **Category.** Each CAS reason and remark has a category in ``maps/carc.xml`` and
   ``maps/rarc.xml``. A line is *denied* when an adjustment other than contract or patient
   share (or an unexplained gap between allowed and paid) lowered its payment; a negative
   CAS amount (an earlier adjustment given back, a secondary payer's credit) lowers nothing
   and is never a denial. When a line
   carries several denial reasons, :data:`CATEGORY_PRECEDENCE` picks the one that explains
   the denial: first what makes every other reason moot (filed late, not covered, already
   paid, not authorized), then the coding causes a correction fixes (NCCI pairs, then
   modifiers, then units), then coverage causes that need an appeal (benefit limits,
   necessity), then ``other``. A generic reason (CARC 16, 96 ...) takes its category from
   its remark codes (16 + N822 is ``modifier``, 96 + N657 is ``coding``). A reversal
   (CLP02 = 22) is ``reversal`` whatever its codes.
5. **Cause and action** follow the cause, not the group code: see :func:`assess` and the
   table in :data:`ACTION_RULES`. Units are judged by the day, as check judges them
   (:class:`DayUnits`: the claim's unit groups rebuilt by the checker that checked it): a
   units denial is conceded only when U101/U103 fire on the line's day (per-code payers: on
   its code), and appealed with the day's total minutes otherwise, since under the CMS
   method a 7-minute code may rightly carry the day's last unit (§20.2 Example 3). The
   check findings on the matched line that fit the
   category are listed (for example CO-236/N20 with N301, CO-96/N657 on 97014 with C403);
   a CARC 119 on a line without KX is explained by match itself as :data:`MISSING_KX`
   (``R501``), but only for a payer profile that uses the therapy threshold
   (``therapy_threshold``); elsewhere a 119 is a visit limit. A ``coding`` denial is rebilled with the right code (a person sets its
   charge); an ``enrollment`` denial (CARC 8, 147, 170, 185, B7, RARC N95) asks for
   ``fix-enrollment`` first: nothing goes to the payer until the enrollment is fixed. A
   correction to a payer whose profile's ``correction_route`` is ``reopening`` (Medicare Part B)
   is a ``reopening`` (a clerical-error reopening request naming the changes), not a
   ``corrected-claim``; an MA130 return stays a ``new-claim``.
6. **Balance** (:func:`balance_problems`): line ``SVC02 - sum(CAS) = SVC03``, claim
   ``CLP03 - sum(CAS) = CLP04``, transaction ``BPR02 = sum(CLP04) - sum(PLB)``. Problems are
   reported; matching goes on.

Cost is linear: one dictionary lookup per CLP, and per claim a scoring over its lines
(at most 50 in an 837P) for the SVCs that carry no usable REF*6R.

Unknown CARC, RARC or group codes are reported as unknown (``MatchResult.unknown``) and
categorised ``other``; they never raise.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from .claims import Claim, ServiceLine
from .findings import Edit, Finding
from .gcpause import collector_paused
from .mapdata import Maps, PayerProfile, PtpEdit
from .rules.modifier_rules import discipline_evidence
from .minutes import MinutesTable
from .remits import Adjustment, ClaimPayment, Remittance, ServicePayment, read_remittance
from .units import units_for_minutes
from .x12.stream import Event, Transaction

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Checker

__all__ = [
    "ACTIONS",
    "ACTION_RULES",
    "CATEGORIES",
    "CATEGORY_PRECEDENCE",
    "EXPLAINING_RULES",
    "METHODS",
    "MISSING_KX",
    "AmbiguousClaim",
    "Assessment",
    "BalanceProblem",
    "ClaimIndex",
    "ClaimRecord",
    "CodeBook",
    "CodeList",
    "CodeListError",
    "Correction",
    "DayUnits",
    "DecodedAdjustment",
    "DecodedRemark",
    "LineMatch",
    "MatchResult",
    "MatchRow",
    "UnmatchedClaim",
    "WrongFileType",
    "assess",
    "balance_problems",
    "choose_claim",
    "rank_claims",
    "csv_cell",
    "day_units",
    "index_claim_file",
    "match_remittances",
    "parse_code_list",
    "read_remittance_file",
    "render_csv",
    "render_text",
]

# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

CATEGORIES = (
    "units",
    "ncci-bundling",
    "modifier",
    "medical-necessity",
    "authorization",
    "benefit-limit",
    "duplicate",
    "eligibility",
    "timely-filing",
    "patient-responsibility",
    "contractual",
    "reversal",
    "coding",
    "enrollment",
    "paid",
    "other",
)

#: Denial categories, the one explaining a line first. Why this order: a late, uncovered,
#: already-paid or unauthorised service, or one from a provider the payer has not enrolled
#: for it, makes every coding question moot; among coding causes a wrong code comes first
#: (the corrected code changes every pair, modifier and unit question), then the most
#: specific (an NCCI pair) explains the less specific (a modifier), and a modifier problem
#: explains a unit reduction less often than the reverse is true; limits and necessity are
#: judged on coverage; ``other`` is what no table knows.
CATEGORY_PRECEDENCE = (
    "timely-filing",
    "eligibility",
    "enrollment",
    "duplicate",
    "authorization",
    "coding",
    "ncci-bundling",
    "modifier",
    "units",
    "benefit-limit",
    "medical-necessity",
    "other",
)
_RANK = {c: i for i, c in enumerate(CATEGORY_PRECEDENCE)}
#: Adjustments that are not denials: the contract write-off and the patient's share.
NON_DENIAL = frozenset({"contractual", "patient-responsibility"})

#: ``fix-enrollment``: nothing to send yet; the provider's enrollment or credentialing with
#: the payer is fixed first, then the line is billed again.
ACTIONS = ("corrected-claim", "new-claim", "reopening", "appeal", "bill-patient", "write-off", "none", "fix-enrollment")
METHODS = ("line-control", "fallback", "unmatched", "claim")
#: The shortest CLM01 a prefixed CLP01 may be matched to: a short id such as "7" would end
#: too many unrelated CLP01s.
MIN_PREFIXED_ID = 6

#: The rule codes whose findings explain a denial of each category (check's registry, plus
#: match's own R501). Other findings on the line are not listed: they are not the cause.
EXPLAINING_RULES: Mapping[str, tuple[str, ...]] = {
    "units": ("U101", "U103", "U105", "U106", "U107", "U108", "U111", "U112", "N305"),
    "ncci-bundling": ("N301", "N302", "N303", "M204", "M208", "C405"),
    "modifier": ("M201", "M202", "M203", "M204", "M206", "M207", "M209", "M205"),
    "duplicate": ("U105", "M208"),
    "benefit-limit": ("R501",),
    "other": ("M201", "M202", "M203", "M207", "X002", "C401", "C402", "C405", "C406", "U107", "U111", "U112"),
    "medical-necessity": ("U106",),
    "coding": ("C403", "C404", "C406"),
}

#: Match's own explanation: CARC 119 (benefit maximum) on a line billed without KX.
MISSING_KX = "R501"

#: R501's documentation, in the shape of a rule's (``edi-rehab rule R501``). It is not a check
#: rule: only a remittance can say a benefit maximum was reached.
MISSING_KX_DOC = """A line denied for CARC 119 (benefit maximum reached) was billed without KX.

## What it does
`match` names R501 as the cause of a line adjudicated with CARC 119 (group PR or CO) whose
837P line carries no KX modifier, when the claim's payer profile uses the therapy threshold
(`therapy-threshold="true"` in `maps/payers.xml`: `medicare`, and a Medicare Advantage
profile that extends it). For any other payer KX means nothing and a 119 is a visit or
benefit limit: PR-119 is billed to the patient or the secondary payer, CO-119 is appealed
for more visits with medical necessity or written off.

## Why is this bad?
Medicare therapy services above the annual threshold (PT and SLP combined, OT separately)
need KX to attest that they are medically necessary; without it they are denied once the
threshold is passed (Palmetto GBA: PR-119; some MACs report CO-119).

## Source
Reference §4.2 (Bipartisan Budget Act of 2018 §50202; NGS and Palmetto GBA KX articles [V];
thresholds by year [V]/[S]).

## Fix safety
The action is a corrected claim with KX added on the denied lines when the record supports
medical necessity above the threshold, not a bill to the patient, unless an ABN (GA) is on
the line. appeal writes that replacement claim; check cannot see it before the 835 arrives.
"""


def explanation_json() -> dict:
    """R501 in the shape of ``Rule.to_json()`` (for ``rules --format json``)."""
    return {
        "code": MISSING_KX,
        "name": "benefit-limit-without-kx",
        "severity": "error",
        "scope": "remittance",
        "summary": "a line denied for CARC 119 was billed without KX to a therapy-threshold payer (match only)",
        "fix": None,
        "source": "reference 4.2",
        "doc": MISSING_KX_DOC,
    }

#: How the action follows the cause; :func:`assess` applies these in this order.
ACTION_RULES: tuple[tuple[str, str, str], ...] = (
    ("reversal (CLP02 22)", "none", "the payment was taken back; the CLP that follows it decides"),
    ("MA130 on the line or the claim", "new-claim", "unprocessable claims carry no appeal rights: fix and send a new claim"),
    ("paid, patient share left", "bill-patient", "the remaining PR amount (deductible, coinsurance, copay) is the patient's"),
    ("paid in full of the allowed amount", "none", ""),
    ("patient-responsibility (no payment)", "bill-patient", ""),
    ("contractual (no payment)", "write-off", ""),
    ("ncci-bundling, indicator-0 pair", "write-off", "no modifier can bypass the edit"),
    ("ncci-bundling, 59/X already on the pair", "appeal", "send the record of distinct time blocks"),
    ("ncci-bundling, record shows one time block", "write-off", "CMS: 97530 is not reported with 97140 in one block"),
    ("ncci-bundling, no 59/X, distinct blocks or no minutes", "corrected-claim", "add the payer's 59/XU to the column-2 line if the record shows distinct blocks"),
    ("modifier, a check finding on the line", "corrected-claim", "fix the modifiers the finding names"),
    ("modifier, the line was right", "reopening", "the payer misread a correct line"),
    ("units, U101/U103 fire on the line's day (per-code: on its code)", "corrected-claim / write-off", "correct when nothing was paid, else write off the excess"),
    ("units, SV103 MJ or minutes as units", "corrected-claim", ""),
    ("units, the day's minutes support its units", "appeal", "the day's total timed minutes (Pub. 100-04 Ch. 5 §20.2 and its Example 3 for the CMS method)"),
    ("benefit-limit 119 without KX, GA on the line (therapy-threshold payer)", "bill-patient", "the ABN makes the patient liable"),
    ("benefit-limit 119 without KX (therapy-threshold payer)", "corrected-claim", "add KX when the record supports medical necessity"),
    ("benefit-limit with KX, or another limit", "appeal", "medical necessity above the threshold"),
    ("medical-necessity with GA or M38 (PR), unless M39", "bill-patient", "M38: the payer saw a valid ABN; M39: it found the ABN invalid"),
    ("medical-necessity with GZ", "write-off", "no ABN was obtained"),
    ("medical-necessity", "appeal", ""),
    ("authorization, no REF*G1 on the claim", "corrected-claim", "add the authorization number"),
    ("authorization", "appeal", ""),
    ("duplicate, paid on another CLP", "none", ""),
    ("duplicate, the same code twice on one date", "corrected-claim", "one line per code and date, or 59/76 when distinct"),
    ("duplicate", "reopening", "the line is not a duplicate of anything paid"),
    ("eligibility, PR group", "bill-patient", ""),
    ("eligibility", "new-claim", "to the payer responsible on the date of service, or with the right member id"),
    ("timely-filing", "appeal", "with proof of timely filing"),
    ("other, with an explaining finding", "corrected-claim", ""),
    ("other", "appeal", ""),
    ("any appeal with N211 (no appeal rights)", "write-off", ""),
    ("coding, a code the payer replaces (C403: 97014 to G0283)", "corrected-claim", "rebill with the payer's code for the service; a person sets its charge"),
    ("coding, diagnosis against age or sex (CARC 9, 10)", "corrected-claim", "correct the diagnosis or the patient's date of birth or sex"),
    ("coding, another code asked for (N657 ...)", "corrected-claim", "rebill with the code the payer's policy names"),
    ("enrollment or credentialing (CARC 8, 147, 170, 185, B7; RARC N95)", "fix-enrollment", "fix the enrollment, then rebill"),
    ("benefit-limit 119, payer without the therapy threshold, PR", "bill-patient", "a visit limit: the patient or the secondary payer pays"),
    ("benefit-limit 119, payer without the therapy threshold", "appeal", "a visit-limit appeal with medical necessity, else a write-off"),
    ("a correction to a payer whose correction route is reopening (Medicare Part B)", "reopening", "a clerical-error reopening request within 1 year names the changes; no replacement claim (frequency 7) is sent"),
)


def _why(label: str) -> str:
    """The reason of the :data:`ACTION_RULES` row whose label starts with ``label``."""
    return next(row[2] for row in ACTION_RULES if row[0].startswith(label))

_DISTINCT = frozenset({"59", "XE", "XP", "XS", "XU"})
_ZERO = Decimal(0)
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Code texts: the maps, and the official lists when a user has them
# --------------------------------------------------------------------------------------------


class CodeListError(ValueError):
    """A --carc-file / --rarc-file that holds no usable row."""


@dataclass(frozen=True, slots=True)
class CodeList:
    """An official code list a user loaded: code -> description, plus rows that were skipped."""

    source: str
    texts: Mapping[str, str]
    #: (1-based line, message) for rows that were skipped
    problems: tuple[tuple[int, str], ...] = ()


_CODE_RE = re.compile(r"^[A-Z0-9]{1,6}$")


def parse_code_list(text: str, source: str) -> CodeList:
    """Read an official CARC or RARC list saved as CSV.

    Format: UTF-8 (a byte-order mark is ignored), comma-separated, RFC 4180 quoting. The
    first column is the code, the second its description; further columns (dates, notes)
    are ignored. A first row whose first cell is ``code`` is a header. Blank rows and rows
    whose first cell starts with ``#`` are skipped. Codes are stripped and upper-cased.
    A later row for the same code replaces an earlier one.

    Raises:
        CodeListError: no row holds a code and a description.
    """
    texts: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        rows = list(enumerate(reader, start=1))
    except csv.Error as exc:  # a cell over the csv module's field limit, a NUL byte
        raise CodeListError(f"{source}:{reader.line_num}: unreadable CSV: {exc}") from None
    for number, cells in rows:
        if not cells or not any(c.strip() for c in cells):
            continue
        first = cells[0].strip()
        if first.startswith("#") or (number == 1 and first.lower() == "code"):
            continue
        code = first.upper()
        description = " ".join(cells[1].split()) if len(cells) > 1 else ""
        if not _CODE_RE.match(code):
            problems.append((number, "not a code (1 to 6 letters or digits)"))
            continue
        if not description:
            problems.append((number, f"code {code} has no description"))
            continue
        texts[code] = description
    if not texts:
        raise CodeListError(f"{source}: no 'code,description' rows found")
    return CodeList(source, texts, tuple(problems))


@dataclass(frozen=True, slots=True)
class CodeText:
    code: str
    category: str
    text: str
    known: bool
    alert: bool = False


class CodeBook:
    """Decodes CAS groups, CARCs and RARCs: category from the maps, text from the official
    list when one was loaded, else the maps' own words; unknown codes say so."""

    def __init__(self, maps: Maps, carc_list: CodeList | None = None, rarc_list: CodeList | None = None) -> None:
        self.maps = maps
        self.carc_list = carc_list
        self.rarc_list = rarc_list
        self._carc: dict[str, CodeText] = {}
        self._rarc: dict[str, CodeText] = {}
        self._group: dict[str, tuple[str, bool]] = {}

    def carc(self, code: str) -> CodeText:
        found = self._carc.get(code)
        if found is None:
            found = self._carc[code] = self._decode(code, "CARC", self.maps.carc(code), self.carc_list)
        return found

    def rarc(self, code: str) -> CodeText:
        found = self._rarc.get(code)
        if found is None:
            found = self._rarc[code] = self._decode(code, "RARC", self.maps.rarc(code), self.rarc_list)
        return found

    def group(self, code: str) -> tuple[str, bool]:
        """(description, valid in 5010)."""
        found = self._group.get(code)
        if found is None:
            group = self.maps.group(code)
            found = (f"unknown group code {code!r}", False) if group is None else (group.description, group.valid_5010)
            self._group[code] = found
        return found

    @staticmethod
    def _decode(code, kind, entry, official: CodeList | None) -> CodeText:
        key = code.strip().upper()
        text = official.texts.get(key) if official is not None else None
        if entry is not None:
            return CodeText(key, entry.category, text or entry.description, True, bool(getattr(entry, "alert", False)))
        if text:
            return CodeText(key, "other", text, True)
        hint = "--carc-file" if kind == "CARC" else "--rarc-file"
        return CodeText(key, "other", f"unknown {kind} {key!r}: not in the code list (load the official list with {hint})", False)


# --------------------------------------------------------------------------------------------
# The 837 side
# --------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class ClaimRecord:
    """One 837P claim with where it came from, its payer profile and its findings."""

    file: str
    claim: Claim
    #: order of indexing across every file (ties between duplicate CLM01s use it)
    ordinal: int
    profile: PayerProfile | None = None
    #: position in ``claim.lines`` -> findings on that line
    line_findings: dict[int, list[Finding]] = field(default_factory=dict)
    #: findings on the claim but on none of its lines
    claim_findings: list[Finding] = field(default_factory=list)
    #: the checker that checked the claim: it rebuilds the claim's unit groups on demand
    #: (:func:`day_units`), so match judges units by the day exactly as check did
    checker: Checker | None = None
    _controls: dict[str, list[int]] | None = None
    #: position in ``claim.lines`` -> its day's :class:`DayUnits` (filled on first use)
    _days: dict[int, DayUnits] | None = None
    _line_starts: list[int] | None = None
    _line_index: _LineIndex | None = None

    @property
    def claim_id(self) -> str:
        return self.claim.claim_id

    @property
    def controls(self) -> dict[str, list[int]]:
        """REF*6R -> positions in ``claim.lines`` (also keyed cut to 30 characters)."""
        if self._controls is None:
            controls: dict[str, list[int]] = {}
            for i, line in enumerate(self.claim.lines):
                value = line.control_number.strip()
                if value:
                    controls.setdefault(value, []).append(i)
                    if len(value) > 30:
                        controls.setdefault(value[:30], []).append(i)
            self._controls = controls
        return self._controls

    def lx(self, index: int) -> int | None:
        return self.claim.lines[index].lx

    def line_starts(self) -> list[int]:
        """File position of each line's LX, in line order (computed once)."""
        if self._line_starts is None:
            self._line_starts = [self.claim.position(line.index) for line in self.claim.lines]
        return self._line_starts

    def fallback_lines(self) -> _LineIndex:
        """The claim's lines indexed for matching SVCs without a REF*6R (computed once)."""
        if self._line_index is None:
            self._line_index = _LineIndex(self.claim.lines)
        return self._line_index

    def findings_on(self, index: int) -> list[Finding]:
        return self.line_findings.get(index, [])

    def span(self) -> tuple[int, int]:
        """File positions [CLM, end) of the claim."""
        return self.claim.position(), self.claim.position(self.claim.end_index)


class ClaimIndex:
    """Every 837P claim of a run, looked up by CLP01 in O(1)."""

    def __init__(self) -> None:
        self.records: list[ClaimRecord] = []
        self.files: list[str] = []
        self._exact: dict[str, list[ClaimRecord]] = {}
        self._short: dict[str, list[ClaimRecord]] = {}
        self._folded: dict[str, list[ClaimRecord]] = {}
        self._by_file: dict[str, list[ClaimRecord]] = {}

    def add(
        self,
        file: str,
        claim: Claim,
        findings: Iterable[Finding] = (),
        profile: PayerProfile | None = None,
        checker: Checker | None = None,
    ) -> ClaimRecord:
        """Index one claim (file order) with the findings that ``checker`` gave for it."""
        record = ClaimRecord(file, claim, len(self.records), profile, checker=checker)
        self.records.append(record)
        if file not in self._by_file:
            self.files.append(file)
            self._by_file[file] = []
        self._by_file[file].append(record)
        key = claim.claim_id.strip()
        self._exact.setdefault(key, []).append(record)
        self._short.setdefault(key[:20], []).append(record)
        self._folded.setdefault(key.upper(), []).append(record)
        for finding in findings:
            self._place(record, finding)
        return record

    def add_claims(self, file: str, claims: Iterable[Claim]) -> None:
        for claim in claims:
            self.add(file, claim)

    def add_findings(self, file: str, findings: Iterable[Finding]) -> int:
        """Place findings of ``file`` on their claim and line by segment position; returns
        how many found a claim. Claims must have been added first, in file order."""
        records = self._by_file.get(file, [])
        starts = [r.claim.position() for r in records]
        placed = 0
        for finding in findings:
            k = bisect.bisect_right(starts, finding.segment) - 1
            if k < 0:
                continue
            record = records[k]
            if finding.segment < record.span()[1] or finding.claim_id == record.claim_id:
                self._place(record, finding)
                placed += 1
        return placed

    @staticmethod
    def _place(record: ClaimRecord, finding: Finding) -> None:
        # Lines are in file order, so the line a segment falls in is found by bisection:
        # a scan per finding was quadratic on a claim of thousands of lines (issue 16).
        claim = record.claim
        starts = record.line_starts()
        i = bisect.bisect_right(starts, finding.segment) - 1
        if i >= 0 and finding.segment < claim.position(claim.lines[i].end_index):
            record.line_findings.setdefault(i, []).append(finding)
            return
        record.claim_findings.append(finding)

    def candidates(self, clp01: str) -> tuple[list[ClaimRecord], str]:
        """837 claims a CLP01 may name, and how: ``exact``, ``truncated`` (cut to 20
        characters), ``case``, ``prefixed`` (a payer's characters before CLM01) or ``none``."""
        key = clp01.strip()
        found = self._exact.get(key)
        if found:
            return found, "exact"
        if len(key) >= 20 or key[:20] in self._short:
            found = self._short.get(key[:20])
            if found:
                return found, "truncated"
        found = self._folded.get(key.upper())
        if found:
            return found, "case"
        # A payer that prefixes its own characters to CLP01 (reference §6 "allow for ...
        # payer prefixes"): the longest CLM01 that ends it, if long enough to mean something.
        for start in range(1, len(key) - MIN_PREFIXED_ID + 1):
            found = self._exact.get(key[start:])
            if found:
                return found, "prefixed"
        return [], "none"

    def __len__(self) -> int:
        return len(self.records)


# --------------------------------------------------------------------------------------------
# Line matching
# --------------------------------------------------------------------------------------------


def _dates_of(line: ServiceLine) -> tuple[date | None, date | None]:
    if line.service_date is None:
        return None, None
    return line.service_date.start, line.service_date.end


def _is_split_part(svc: ServicePayment) -> bool:
    return "N123" in svc.remarks


def _line_facts(line: ServiceLine) -> tuple:
    """What :func:`_score` reads of an 837 line: (procedure, start, end, modifiers, charge, units)."""
    start, end = _dates_of(line)
    return line.procedure.strip().upper(), start, end, frozenset(line.modifiers), line.charge, line.units


def _svc_facts(svc: ServicePayment) -> tuple:
    """What :func:`_score` reads of an 835 SVC: (first, last, submitted procedure,
    adjudicated procedure, modifiers, charge, units)."""
    first, last = svc.dates
    charge = abs(svc.charge) if svc.charge is not None else None
    return (
        first,
        last,
        svc.submitted_procedure.strip().upper(),
        svc.procedure.strip().upper(),
        frozenset(svc.submitted_modifiers),
        charge,
        abs(svc.submitted_units),
    )


def _score(svc: ServicePayment, line: ServiceLine) -> int | None:
    """How well an SVC fits an 837 line; None when it cannot be that line."""
    return _score_facts(_svc_facts(svc), _line_facts(line))


def _score_facts(svc: tuple, line: tuple) -> int | None:
    first, last, procedure, adjudicated, mods, charge, units = svc
    line_procedure, start, end, line_mods, line_charge, line_units = line
    date_score = 0
    if first is not None and start is not None:
        if (first, last or first) == (start, end or start):
            date_score = 4
        elif first <= (end or start) and start <= (last or first):
            date_score = 2
        else:
            return None  # a different date of service is never the same line
    score = date_score
    same_procedure = bool(procedure) and procedure == line_procedure
    if same_procedure:
        score += 8
    elif adjudicated == line_procedure:
        same_procedure = True
        score += 6
    if mods == line_mods:
        score += 3
    elif mods <= line_mods:
        score += 2  # the payer dropped some
    elif line_mods <= mods:
        score += 1
    same_charge = charge is not None and line_charge is not None and charge == line_charge
    if same_charge:
        score += 3
    if line_units is not None and units == line_units:
        score += 2
    if not same_procedure and not (date_score and same_charge):
        return None
    return score


class _LineIndex:
    """A claim's lines by what :func:`_score` requires of a fallback match, so each SVC is
    scored only against lines it could be: the same procedure, or the same charge on an
    overlapping date. Scoring every line for every SVC was quadratic (a 4,000-line claim
    took 10 s). Lines without a date or spanning several days are always candidates."""

    def __init__(self, lines: Sequence[ServiceLine]) -> None:
        self.by_code: dict[str, list[int]] = {}
        self.by_code_day: dict[tuple[str, date], list[int]] = {}
        self.by_charge: dict[Decimal, list[int]] = {}
        self.by_charge_day: dict[tuple[Decimal, date], list[int]] = {}
        self.loose: list[int] = []
        #: :func:`_line_facts` of each line, read once
        self.facts = [_line_facts(line) for line in lines]
        for i, line in enumerate(lines):
            code, start, end = self.facts[i][:3]
            self.by_code.setdefault(code, []).append(i)
            if line.charge is not None:
                self.by_charge.setdefault(line.charge, []).append(i)
            if start is None or (end is not None and end != start):
                self.loose.append(i)
                continue
            self.by_code_day.setdefault((code, start), []).append(i)
            if line.charge is not None:
                self.by_charge_day.setdefault((line.charge, start), []).append(i)

    def candidates(self, svc: ServicePayment) -> set[int]:
        """A superset of the lines :func:`_score` does not rule out for ``svc``."""
        codes = {svc.procedure.strip().upper()}
        submitted = svc.submitted_procedure.strip().upper()
        if submitted:
            codes.add(submitted)
        charge = abs(svc.charge) if svc.charge is not None else None
        first, last = svc.dates
        found: set[int] = set()
        if first is None:
            # no date: only the same procedure can match
            for code in codes:
                found.update(self.by_code.get(code, ()))
        elif last is not None and last != first:
            for code in codes:
                found.update(self.by_code.get(code, ()))
            if charge is not None:
                found.update(self.by_charge.get(charge, ()))
        else:
            for code in codes:
                found.update(self.by_code_day.get((code, first), ()))
            if charge is not None:
                found.update(self.by_charge_day.get((charge, first), ()))
            found.update(self.loose)
        return found


@dataclass(frozen=True, slots=True)
class LineMatch:
    """Where an SVC (or a claim without SVCs) landed on the 837 side."""

    method: str
    record: ClaimRecord | None = None
    #: positions in ``record.claim.lines``
    indexes: tuple[int, ...] = ()
    #: how the claim was found: ``exact``, ``truncated``, ``case``, ``prefixed`` or ``none``
    claim_method: str = "none"
    #: other 837 claims with the same CLM01 that fit the CLP exactly as well as ``record``
    ambiguous_with: tuple[ClaimRecord, ...] = ()

    @property
    def lines(self) -> tuple[int, ...]:
        """Every matched LX01 (a line without a readable LX01 is left out)."""
        if self.record is None:
            return ()
        return tuple(lx for lx in (self.record.lx(i) for i in self.indexes) if lx is not None)

    @property
    def line(self) -> int | None:
        lines = self.lines
        return lines[0] if lines else None

    def service_lines(self) -> list[ServiceLine]:
        return [self.record.claim.lines[i] for i in self.indexes] if self.record else []

    def to_json(self) -> dict:
        out = {
            "file": self.record.file if self.record else None,
            "claim_id": self.record.claim_id if self.record else None,
            "line": self.line,
            "lines": list(self.lines),
            "method": self.method,
        }
        if self.ambiguous_with:
            # only when the claim was a guess, so the usual shape stays as it was
            out["ambiguous_with"] = [{"file": r.file, "segment": r.claim.position()} for r in self.ambiguous_with]
        return out


def match_lines(record: ClaimRecord, services: Sequence[ServicePayment]) -> list[tuple[str, tuple[int, ...]]]:
    """(method, line positions) for each SVC of one CLP matched to ``record``."""
    lines = record.claim.lines
    result: list[tuple[str, tuple[int, ...]] | None] = [None] * len(services)
    used: Counter[int] = Counter()
    split_used: set[int] = set()
    controls = record.controls if any(s.control_number for s in services) else {}
    pending: list[int] = []
    for j, svc in enumerate(services):
        key = svc.control_number.strip()
        hits = controls.get(key) or controls.get(key[:30]) if key else None
        if hits:
            if len(hits) == 1:
                pick = hits[0]
            else:  # a REF*6R repeated in the 837: the best-fitting of its lines
                scored = [(_score(svc, lines[i]) or -1, -used[i], -i, i) for i in hits]
                pick = max(scored)[3]
            result[j] = ("line-control", (pick,))
            used[pick] += 1
            if _is_split_part(svc):
                split_used.add(pick)
        else:
            pending.append(j)
    unmatched: list[int] = []
    index = record.fallback_lines() if pending else None
    for j in pending:
        svc = services[j]
        split = _is_split_part(svc) or (svc.original_units is not None and svc.original_procedure != "")
        best = None
        facts = _svc_facts(svc)
        for i in index.candidates(svc):
            score = _score_facts(facts, index.facts[i])
            if score is None:
                continue
            fresh = used[i] == 0 or (split and i in split_used)
            rank = (fresh, score, -abs(i - j), -i)
            if best is None or rank > best[0]:
                best = (rank, i)
        if best is None or (not best[0][0] and not split and best[0][1] < 15):
            unmatched.append(j)
            continue
        i = best[1]
        charge = abs(svc.charge) if svc.charge is not None else None
        if not split and charge is not None and lines[i].charge != charge:
            # n:1: several unused lines of the date that add up to the SVC beat one line
            # that does not
            bundle = _bundle(svc, lines, used)
            if bundle:
                result[j] = ("fallback", bundle)
                for k in bundle:
                    used[k] += 1
                continue
        result[j] = ("fallback", (i,))
        used[i] += 1
        if split:
            split_used.add(i)
    for j in unmatched:
        bundle = _bundle(services[j], lines, used)
        if bundle:
            result[j] = ("fallback", bundle)
            for i in bundle:
                used[i] += 1
        else:
            result[j] = ("unmatched", ())
    return result  # type: ignore[return-value]


def _bundle(svc: ServicePayment, lines: Sequence[ServiceLine], used: Counter) -> tuple[int, ...] | None:
    """Unused lines of the SVC's date whose charges add up to SVC02 (n:1), the same
    procedure first; at most 10 candidates and 4 lines per bundle."""
    if svc.charge is None:
        return None
    target = abs(svc.charge)
    first, _ = svc.dates
    procedure = svc.submitted_procedure.strip().upper()
    pool = [
        i
        for i, line in enumerate(lines)
        if not used[i] and line.charge is not None and (first is None or _dates_of(line)[0] in (None, first))
    ]
    same = [i for i in pool if lines[i].procedure.strip().upper() == procedure]
    for candidates in (same, pool):
        candidates = candidates[:10]
        for size in range(2, min(4, len(candidates)) + 1):
            for combo in itertools.combinations(candidates, size):
                if sum((lines[i].charge for i in combo), _ZERO) == target:  # type: ignore[misc]
                    return combo
    return None


def _claim_score(record: ClaimRecord, clp: ClaimPayment) -> tuple:
    claim = record.claim
    score = 0
    if clp.charge is not None and claim.charge is not None and abs(clp.charge) == claim.charge:
        score += 4
    line_dates = {d for line in claim.lines for d in _dates_of(line) if d is not None}
    svc_dates = {d for svc in clp.services for d in svc.dates if d is not None}
    if svc_dates and line_dates:
        if svc_dates <= line_dates:
            score += 4
        elif svc_dates & line_dates:
            score += 1
    procedures = Counter(line.procedure.strip().upper() for line in claim.lines)
    wanted = Counter(svc.submitted_procedure.strip().upper() for svc in clp.services)
    if wanted and not (wanted - procedures):
        score += 2
    controls = record.controls
    hits = sum(1 for svc in clp.services if svc.control_number and svc.control_number.strip() in controls)
    if clp.services and hits == len(clp.services):
        score += 3
    if clp.frequency_code and clp.frequency_code == claim.frequency_code:
        score += 1
    order = -record.ordinal if clp.is_reversal else record.ordinal
    return (score, order)


def _takes_every_service(record: ClaimRecord, clp: ClaimPayment) -> bool:
    return all(method != "unmatched" for method, _ in match_lines(record, clp.services))


def rank_claims(candidates: Sequence[ClaimRecord], clp: ClaimPayment) -> tuple[ClaimRecord, tuple[ClaimRecord, ...]]:
    """The 837 claim among same-CLM01 candidates that a CLP most likely pays, and the other
    candidates that fit it exactly as well (empty unless the choice was a guess).

    Candidates tied on :func:`_claim_score` are told apart by whether the claim's lines take
    every SVC of the CLP (a claim that leaves a payment line unmatched is the wrong one);
    what is still tied after that goes by file order (earliest for a reversal, else latest).
    """
    if len(candidates) == 1:
        return candidates[0], ()
    scores = {id(r): _claim_score(r, clp) for r in candidates}
    best = max(score for score, _ in scores.values())
    tied = [r for r in candidates if scores[id(r)][0] == best]
    if len(tied) > 1 and clp.services:
        complete = [r for r in tied if _takes_every_service(r, clp)]
        if complete:
            tied = complete
    chosen = max(tied, key=lambda r: scores[id(r)][1])
    return chosen, tuple(r for r in tied if r is not chosen)


def choose_claim(candidates: Sequence[ClaimRecord], clp: ClaimPayment) -> ClaimRecord:
    """The 837 claim among same-CLM01 candidates that a CLP most likely pays."""
    return rank_claims(candidates, clp)[0]


# --------------------------------------------------------------------------------------------
# Decoding and triage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedAdjustment:
    group: str
    carc: str
    amount: Decimal | None
    quantity: Decimal | None
    text: str
    category: str
    known: bool
    #: ``line`` or ``claim`` (a claim-level CAS used because the line carries none)
    level: str = "line"

    @property
    def label(self) -> str:
        return f"{self.group}-{self.carc}"

    @property
    def is_denial(self) -> bool:
        """True when this adjustment took money for a reason other than the contract or the
        patient's share. A negative amount gives money back (an earlier adjustment reversed,
        a secondary payer's credit), so it never denies anything."""
        return self.category not in NON_DENIAL and self.amount is not None and self.amount > 0

    def to_json(self) -> dict:
        text = self.text if self.level == "line" else f"{self.text} (claim level)"
        return {"group": self.group, "carc": self.carc, "amount": _money(self.amount), "text": text}


@dataclass(frozen=True, slots=True)
class DecodedRemark:
    code: str
    text: str
    category: str
    known: bool
    alert: bool
    #: ``line`` (LQ*HE) or ``claim`` (MOA)
    level: str = "line"

    def to_json(self) -> dict:
        return {"code": self.code, "text": self.text if self.level == "line" else f"{self.text} (claim level)"}


@dataclass(frozen=True, slots=True)
class Correction:
    """A change to the 837 claim that resolves a denial.

    ``modifiers`` sets a line's SV101 modifiers, ``units`` its SV104 (0 removes the line);
    ``edits`` are ready byte splices on the original file (from check's fixes).
    """

    description: str
    #: position in ``claim.lines``; None for a claim-level change
    line: int | None = None
    modifiers: tuple[str, ...] | None = None
    units: int | None = None
    edits: tuple[Edit, ...] = ()
    #: the rule code the correction comes from
    rule: str = ""

    @property
    def ready(self) -> bool:
        """True when the change can be made without a person deciding anything."""
        return self.modifiers is not None or self.units is not None or bool(self.edits)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What a row means: its category, why it was denied and what to do."""

    category: str
    denied: bool
    action: str
    #: the cause, in words (no patient data)
    cause: str = ""
    #: what resolves it
    fix: str = ""
    #: why this action (the row of ACTION_RULES that applied)
    why: str = ""
    findings: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()
    #: facts for the letter: the PTP edit, minutes, time blocks ... (codes and numbers only)
    facts: Mapping[str, object] = field(default_factory=dict)
    #: the adjustment or remark that decided the category, e.g. ``CO-236`` or ``N822``
    reason: str = ""


@dataclass(slots=True)
class MatchRow:
    """One 835 service payment (or a claim without any) with its 837 line and triage."""

    remit_file: str
    #: 1-based position of the SVC (or CLP) segment in the 835 file
    segment: int
    remit: Remittance
    payment: ClaimPayment
    service: ServicePayment | None
    match: LineMatch
    adjustments: tuple[DecodedAdjustment, ...]
    remarks: tuple[DecodedRemark, ...]
    assessment: Assessment

    # -- the 835 facts ---------------------------------------------------------------------
    @property
    def remit_claim_id(self) -> str:
        return self.payment.claim_id

    @property
    def payer_claim_number(self) -> str:
        return self.payment.payer_claim_number

    @property
    def claim_status(self) -> str:
        return self.payment.status

    @property
    def procedure(self) -> str | None:
        return self.service.procedure if self.service else None

    @property
    def modifiers(self) -> tuple[str, ...]:
        return self.service.modifiers if self.service else ()

    @property
    def service_date(self) -> str | None:
        if self.service is None:
            return None
        first, last = self.service.dates
        if first is None:
            return None
        return first.isoformat() if last in (None, first) else f"{first.isoformat()}/{last.isoformat()}"

    @property
    def charge(self) -> Decimal | None:
        return self.service.charge if self.service else self.payment.charge

    @property
    def paid(self) -> Decimal | None:
        return self.service.paid if self.service else self.payment.paid

    @property
    def units_billed(self) -> Decimal | None:
        return self.service.submitted_units if self.service else None

    @property
    def units_paid(self) -> Decimal | None:
        if self.service is None:
            return None
        return self.service.units_paid if self.service.units_paid is not None else Decimal(1)

    @property
    def category(self) -> str:
        return self.assessment.category

    @property
    def action(self) -> str:
        return self.assessment.action

    @property
    def denied(self) -> bool:
        return self.assessment.denied

    def to_json(self) -> dict:
        return {
            "remit_claim_id": self.remit_claim_id,
            "payer_claim_number": self.payer_claim_number,
            "claim_status": self.claim_status,
            "procedure": self.procedure,
            "modifiers": list(self.modifiers),
            "service_date": self.service_date,
            "charge": _money(self.charge),
            "paid": _money(self.paid),
            "units_billed": _money(self.units_billed),
            "units_paid": _money(self.units_paid),
            "adjustments": [a.to_json() for a in self.adjustments],
            "remarks": [r.to_json() for r in self.remarks],
            "category": self.category,
            "match": self.match.to_json(),
            "findings": list(self.assessment.findings),
            "action": self.action,
        }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decode_adjustments(codes: CodeBook, adjustments: Iterable[Adjustment], level: str, unknown: dict) -> list[DecodedAdjustment]:
    out = []
    for a in adjustments:
        info = codes.carc(a.reason)
        if not info.known:
            unknown["carc"].add(info.code)
        _, valid = codes.group(a.group)
        if not valid:
            unknown["group"].add(a.group)
        out.append(DecodedAdjustment(a.group, a.reason, a.amount, a.quantity, info.text, info.category, info.known, level))
    return out


def _decode_remarks(codes: CodeBook, remarks: Iterable[str], level: str, unknown: dict) -> list[DecodedRemark]:
    out = []
    for code in remarks:
        info = codes.rarc(code)
        if not info.known:
            unknown["rarc"].add(info.code)
        out.append(DecodedRemark(info.code, info.text, info.category, info.known, info.alert, level))
    return out


def _nonzero(amount: Decimal | None) -> bool:
    return amount is not None and amount != 0


def _categorise(
    payment: ClaimPayment,
    paid: Decimal | None,
    charge: Decimal | None,
    adjustments: Sequence[DecodedAdjustment],
    remarks: Sequence[DecodedRemark],
    own: Sequence[DecodedAdjustment] = (),
) -> tuple[str, bool, str]:
    """(category, denied, deciding code) for one row; ``own`` are the adjustments that
    balance the row's own amounts (the line's CAS for an SVC)."""
    if payment.is_reversal:
        return "reversal", False, "CLP02-22"
    denials = [a for a in adjustments if a.is_denial]
    if denials:
        best = min(denials, key=lambda a: _RANK.get(a.category, _RANK["other"]))
        category, reason = best.category, best.label
        if category == "other":
            refined = [r for r in remarks if not r.alert and r.category in _RANK and r.category != "other"]
            if refined:
                top = min(refined, key=lambda r: _RANK[r.category])
                category, reason = top.category, f"{best.label}/{top.code}"
        return category, True, reason
    paid = paid or _ZERO
    patient = sum((a.amount or _ZERO for a in adjustments if a.category == "patient-responsibility"), _ZERO)
    if charge is not None and all(a.amount is not None for a in own):
        # Contract and patient share explain charge - paid on a balanced line; what is
        # left over is a reduction no code explains.
        explained = sum((a.amount for a in own), _ZERO)  # type: ignore[misc]
        if charge - explained - paid > _CENT and charge > 0:
            return "other", True, "unexplained"
    if payment.status == "4" and paid == 0 and not adjustments:
        return "other", True, "CLP02-4"
    if paid > 0:
        return "paid", False, ""
    if patient > 0:
        return "patient-responsibility", False, "PR"
    if any(a.category == "contractual" and _nonzero(a.amount) for a in adjustments):
        return "contractual", False, "CO"
    return "paid", False, ""


# -- units by the day -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DayUnits:
    """One day's timed units (one unit group of check's engine: date, and discipline or
    rendering provider as the payer profile groups them) as check judged them.

    Units are judged by the day, not the line: under the CMS total-minutes method a code of
    7 minutes may carry the day's last unit (Pub. 100-04 Ch. 5 §20.2, Example 3), so the
    only honest verdict on a line is its group's. ``verdicts`` are the assessment's
    (:func:`edi_rehab.units.assess`): U101 over-billed, U102 under-billed, U103 misallocated.
    """

    #: ``cms`` or ``per-code``: the unit method check used for the claim
    method: str
    #: LX01 of the day's billed timed lines
    lines: tuple[int, ...]
    #: service (``97110``, ``97110+CQ``) -> minutes, services performed but not billed included
    minutes: Mapping[str, int]
    #: service -> units billed
    billed: Mapping[str, int]
    #: the units the day's minutes allow (CMS: the pooled cap; per-code: the sum of each
    #: code's own rounding); None when the day could not be judged
    allowed_total: int | None
    billed_total: int
    verdicts: frozenset[str]
    #: services billed above the allocation closest to the bill
    over: tuple[str, ...]
    #: the allocation closest to the bill (what a units correction moves to)
    target: Mapping[str, int]
    #: SV104 changes per line that bill ``target``: {"line": LX, "units": n, ...}
    line_units: tuple[Mapping[str, object], ...]
    #: the service of the line asked about
    service: str
    #: LX01 of the day's timed lines without minutes (the day cannot be judged then)
    missing_minutes: tuple[int, ...]

    @property
    def judged(self) -> bool:
        return self.allowed_total is not None

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())

    @property
    def over_billed(self) -> bool:
        """True when check's U101 or U103 fires for the line: under the CMS method on its
        day as a whole, under the per-code method on its own code."""
        if self.method == "per-code":
            return "U101" in self.verdicts and self.service in self.over
        return bool(self.verdicts & {"U101", "U103"})

    @property
    def pooled(self) -> bool:
        """True when the line's code carries more units than its own minutes would give
        alone: the day's pooled minutes earn them (the case of §20.2 Example 3)."""
        own = self.minutes.get(self.service)
        return own is not None and self.billed.get(self.service, 0) > units_for_minutes(own)

    def services_text(self) -> str:
        """``97110: 33 min, 2 units; 97140: 7 min, 1 unit``."""
        return "; ".join(
            f"{s}: {m} min, {_count(self.billed.get(s, 0), 'unit')}" for s, m in self.minutes.items()
        )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _count_were(n: int, word: str) -> str:
    """``1 unit was`` / ``2 units were``."""
    return f"{_count(n, word)} {'was' if n == 1 else 'were'}"


def day_units(record: ClaimRecord, index: int, fallback: Checker | None = None) -> DayUnits | None:
    """The day of timed units line ``index`` of ``record`` belongs to, judged as check
    judges it, or None (an untimed line, no minutes anywhere, no checker).

    The claim's unit groups are rebuilt by the checker that checked the claim (same maps,
    minutes CSV, NTE pattern, profiles and unit method), else by ``fallback``; they are not
    kept from the check itself because the engine frees them per transaction. Built once per
    claim, on the first units denial that asks.
    """
    if record._days is None:
        checker = record.checker or fallback
        record._days = _claim_days(record, checker) if checker is not None else {}
    return record._days.get(index)


def _claim_days(record: ClaimRecord, checker: Checker) -> dict[int, DayUnits]:
    from .rules.unit_rules import service_id, unit_details

    claim = record.claim
    position = {id(line): i for i, line in enumerate(claim.lines)}
    # The engine's own claim view (the one its unit rules judge); only the engine builds it.
    cc = checker._claim_context(claim)
    days: dict[int, DayUnits] = {}
    try:
        for group in cc.groups:
            assessment = group.assessment
            lines = tuple(lv.lx for lv in group.lines if lv.lx is not None)
            missing = tuple(lv.lx for lv in group.missing_minutes if lv.lx is not None)
            if assessment is not None:
                details = unit_details(group, assessment)
                minutes, billed = details["minutes"], details["billed"]
                common = dict(
                    allowed_total=assessment.allowed_total,
                    billed_total=assessment.billed_total,
                    verdicts=frozenset(assessment.verdicts),
                    over=tuple(service_id(s) for s in assessment.over),
                    target=details["target"],
                    line_units=tuple(details["line_units"]),
                )
            else:
                minutes = {service_id(s): m for s, m in group.minutes_by_service.items()}
                billed = {service_id(s): u for s, u in group.billed_by_service.items()}
                common = dict(
                    allowed_total=None,
                    billed_total=sum(billed.values()),
                    verdicts=frozenset(),
                    over=(),
                    target={},
                    line_units=(),
                )
            for lv in group.lines:
                i = position.get(id(lv.line))
                if i is not None:
                    days[i] = DayUnits(
                        group.method, lines, minutes, billed, service=service_id(lv.service_key), missing_minutes=missing, **common
                    )
    finally:
        cc.release()
    return days


# -- cause analysis ------------------------------------------------------------------------------
@dataclass(slots=True)
class _Context:
    maps: Maps
    minutes: MinutesTable | None
    #: a checker for claims indexed without one (:meth:`ClaimIndex.add` from the API)
    _fallback: Checker | None = None

    def fallback_checker(self) -> Checker:
        if self._fallback is None:
            from .engine import Checker

            self._fallback = Checker(maps=self.maps, minutes=self.minutes)
        return self._fallback


def _line_mods(match: LineMatch, svc: ServicePayment | None) -> set[str]:
    lines = match.service_lines()
    if lines:
        return {m.strip().upper() for line in lines for m in line.modifiers}
    return {m.strip().upper() for m in svc.submitted_modifiers} if svc else set()


def _explaining(record: ClaimRecord | None, indexes: Sequence[int], category: str) -> list[Finding]:
    if record is None:
        return []
    wanted = EXPLAINING_RULES.get(category, ())
    found: list[Finding] = []
    for i in indexes:
        found += [f for f in record.findings_on(i) if f.code in wanted]
    if category in ("other", "units", "duplicate"):
        found += [f for f in record.claim_findings if f.code in wanted]
    if category == "ncci-bundling":
        # an NCCI finding sits on the column-2 line; it explains its partner's denial too
        lxs = {record.lx(i) for i in indexes}
        for i, items in record.line_findings.items():
            if i in indexes:
                continue
            for f in items:
                partner = f.details.get("partner") if f.details else None
                if f.code in wanted and isinstance(partner, dict) and partner.get("line") in lxs:
                    found.append(f)
    return found


def _profile(record: ClaimRecord | None, maps: Maps) -> PayerProfile | None:
    if record is None:
        return None
    if record.profile is not None:
        return record.profile
    return maps.profile_for(record.claim.payer_id, record.claim.filing_indicator)


def _ptp_partners(record: ClaimRecord, index: int, maps: Maps) -> list[tuple[PtpEdit, int]]:
    """Active PTP edits between line ``index`` and the claim's other lines on its date."""
    lines = record.claim.lines
    line = lines[index]
    dos = _dates_of(line)[0]
    if dos is None:
        return []
    out = []
    for k, other in enumerate(lines):
        if k == index or _dates_of(other)[0] != dos:
            continue
        for edit in maps.ptp_pairs_between(line.procedure, other.procedure, dos):
            out.append((edit, k))
    return out


def _time_block(ctx: _Context, record: ClaimRecord, index: int) -> str | None:
    lx = record.lx(index)
    if ctx.minutes is None or lx is None:
        return None
    return ctx.minutes.time_block_for(record.claim_id, lx)


def _minutes(ctx: _Context, record: ClaimRecord, index: int) -> int | None:
    lx = record.lx(index)
    if ctx.minutes is None or lx is None:
        return None
    return ctx.minutes.minutes_for(record.claim_id, lx)


def _modifier_correction(
    finding: Finding, record: ClaimRecord, index: int, maps: Maps, profile: PayerProfile | None
) -> Correction | None:
    """The correction a check finding offers for line ``index``: its fix's edits, else the
    modifiers its details target; for M201 without a target, the discipline the claim's
    other lines or the rendering taxonomy name."""
    target = finding.details.get("target_modifiers") if finding.details else None
    edits = tuple(finding.fix.edits) if finding.fix is not None else ()
    if edits:
        return Correction(finding.fix.description, index, edits=edits, rule=finding.code)  # type: ignore[union-attr]
    if target:
        what = finding.fix.description if finding.fix is not None else f"set modifiers to {':'.join(target)}"
        return Correction(f"line {record.lx(index)}: {what}", index, modifiers=tuple(target), rule=finding.code)
    if finding.code == "M201":
        missing = _missing_discipline(record, (index,), maps)
        new = missing_mods(record, index, missing, maps, profile) if missing else None
        if new is not None:
            return Correction(f"line {record.lx(index)}: add {missing}", index, modifiers=new, rule="M201")
    return None


def _unit_corrections(finding: Finding, record: ClaimRecord) -> list[Correction]:
    if finding.fix is not None and finding.fix.edits:
        return [Correction(finding.fix.description, None, edits=tuple(finding.fix.edits), rule=finding.code)]
    targets = finding.details.get("line_units") if finding.details else None
    return _target_corrections(targets or (), record, finding.code)


def _target_corrections(targets: Iterable[Mapping], record: ClaimRecord, rule: str) -> list[Correction]:
    """Corrections for SV104 targets ``{"line": LX, "units": n}`` (units 0: remove the line)."""
    out = []
    for target in targets:
        lx = target.get("line")
        index = next((i for i, line in enumerate(record.claim.lines) if line.lx == lx), None)
        if index is None or target.get("units") is None:
            continue
        units = int(target["units"])
        words = f"remove line {lx}" if units == 0 else f"line {lx}: bill {units} unit{'s' if units != 1 else ''}"
        out.append(Correction(words, index, units=units, rule=rule))
    return out


def assess(
    row_payment: ClaimPayment,
    service: ServicePayment | None,
    match: LineMatch,
    adjustments: Sequence[DecodedAdjustment],
    remarks: Sequence[DecodedRemark],
    ctx: _Context,
) -> Assessment:
    """Category, cause and action for one row (the duplicate-elsewhere check comes later,
    in :func:`match_remittances`, once every row is known)."""
    paid = service.paid if service else row_payment.paid
    charge = service.charge if service else row_payment.charge
    level = [a for a in adjustments if a.level == "line"] if service else adjustments
    category, denied, reason = _categorise(row_payment, paid, charge, adjustments, remarks, level)
    if category == "reversal":
        return Assessment(category, False, "none", "the payer reversed an earlier payment (CLP02 22)", "", ACTION_RULES[0][2], reason=reason)
    patient = sum((a.amount or _ZERO for a in adjustments if a.category == "patient-responsibility"), _ZERO)
    remark_codes = {r.code for r in remarks}
    if not denied:
        if category == "paid":
            if patient > 0:
                return Assessment(category, False, "bill-patient", "", "", "the patient's share (PR) remains", reason=reason)
            return Assessment(category, False, "none", reason=reason)
        if category == "patient-responsibility":
            return Assessment(category, False, "bill-patient", "the whole amount is the patient's share", "", "", reason=reason)
        return Assessment(category, False, "write-off", "the contract reduces the payment to zero", "", "", reason=reason)

    record = match.record
    indexes = match.indexes
    mods = _line_mods(match, service)
    groups = {a.group for a in adjustments if a.is_denial}
    explaining = _explaining(record, indexes, category)
    codes = [f.code for f in explaining]
    facts: dict[str, object] = {}
    corrections: list[Correction] = []
    procedure = (match.service_lines()[0].procedure if match.service_lines() else (service.submitted_procedure if service else "")) or ""

    def done(action: str, cause: str, fix: str, why: str) -> Assessment:
        if action == "appeal" and "N211" in remark_codes:
            action, why = "write-off", "remark N211: this decision cannot be appealed"
        if action == "corrected-claim" and profile is not None and profile.correction_route == "reopening":
            # Medicare Part B takes no replacement claims from professional billers: the same
            # corrections go to the payer as a clerical-error reopening request.
            action, why = "reopening", _why("a correction to a payer whose correction route is reopening")
            facts["correction_route"] = "reopening"
        return Assessment(
            category, True, action, cause, fix, why, tuple(dict.fromkeys(codes)), tuple(corrections), facts, reason
        )

    profile = _profile(record, ctx.maps)
    if profile is None and row_payment.filing_indicator:
        # no 837 claim: the 835's CLP06 (MB, MC ...) still names the kind of payer
        profile = ctx.maps.profile_for(None, row_payment.filing_indicator)
    if "MA130" in remark_codes:
        fixable = [f for f in _explaining(record, indexes, "other") if f.code not in codes]
        codes.extend(f.code for f in fixable)
        for f in fixable:
            if record is not None and indexes:
                c = _modifier_correction(f, record, indexes[0], ctx.maps, profile)
                if c:
                    corrections.append(c)
        if not fixable and record is not None and indexes:
            missing = _missing_discipline(record, indexes, ctx.maps)
            if missing is not None:
                codes.append("M201")
                new = missing_mods(record, indexes[0], missing, ctx.maps, _profile(record, ctx.maps))
                corrections.append(Correction(f"line {record.lx(indexes[0])}: add {missing}", indexes[0], modifiers=new, rule="M201"))
        cause = "the claim was returned as unprocessable (MA130): information was missing or invalid"
        if codes:
            cause += f"; check finds {', '.join(dict.fromkeys(codes))}"
        return done("new-claim", cause, "correct the claim and send it as a new claim (frequency 1)", ACTION_RULES[1][2])

    # A signed advance notice (GA on the line, or the payer's M38) makes the patient liable,
    # unless the payer found the notice invalid (M39).
    abn = ("GA" in mods or "M38" in remark_codes) and "M39" not in remark_codes
    if groups == {"PR"} and (abn or "GY" in mods) and category not in ("benefit-limit", "units"):
        notice = "an advance notice (ABN) signed by the patient is on file" if abn else "the service is statutorily excluded (GY)"
        return done("bill-patient", f"the payer assigned the amount to the patient: {notice}", "bill the patient", "PR with GA or GY")
    if category == "coding":
        return _assess_coding(ctx, record, indexes, adjustments, explaining, codes, corrections, facts, profile, done, procedure)
    if category == "enrollment":
        if record is not None and indexes:
            npi, taxonomy = record.claim.line_rendering(record.claim.lines[indexes[0]])
            facts.update(rendering_npi=npi, rendering_taxonomy=taxonomy)
        return done(
            "fix-enrollment",
            "the payer's enrollment, credentialing or contract record for the provider does not cover this service on the date of service",
            "fix the rendering and billing provider's enrollment or credentialing with the payer (Medicare: PECOS), then rebill the line",
            _why("enrollment or credentialing"),
        )
    if category == "ncci-bundling":
        return _assess_ncci(ctx, record, indexes, service, mods, explaining, codes, corrections, facts, profile, done, procedure)
    if category == "modifier":
        for f in explaining:
            if record is not None and indexes:
                c = _modifier_correction(f, record, indexes[0], ctx.maps, profile)
                if c:
                    corrections.append(c)
        if explaining:
            cause = "; ".join(dict.fromkeys(f.message for f in explaining))
            fix = "; ".join(c.description for c in corrections) or "correct the modifiers the findings name"
            return done("corrected-claim", cause, fix, "the claim as sent had a modifier error")
        if record is None:
            return done("appeal", "the payer found the modifiers inconsistent with the procedure", "check the modifiers against the record", "the 837 line was not found")
        missing = _missing_discipline(record, indexes, ctx.maps)
        if missing is not None:
            codes.append("M201")
            corrections.append(Correction(f"line {record.lx(indexes[0])}: add {missing}", indexes[0], modifiers=missing_mods(record, indexes[0], missing, ctx.maps, profile), rule="M201"))
            return done("corrected-claim", f"{procedure} has no discipline modifier (GP, GO or GN)", f"add {missing}", "the claim as sent lacked a modifier")
        sent = ":".join(sorted(mods)) or "none"
        return done(
            "reopening",
            f"the line carried the modifiers {sent}, which agree with {procedure}; the payer appears to have misread them",
            "ask the payer to reprocess the line as sent",
            ACTION_RULES[11][2],
        )
    if category == "units":
        return _assess_units(ctx, record, indexes, service, explaining, codes, corrections, facts, paid, done, procedure, remark_codes)
    if category == "benefit-limit":
        carcs = {a.carc for a in adjustments if a.category == "benefit-limit" and a.is_denial}
        if "119" in carcs and not (profile is not None and profile.therapy_threshold):
            # KX means nothing to this payer: a 119 is a visit or benefit limit (N640, N130)
            facts["limit"] = "visit"
            if "PR" in groups:
                return done(
                    "bill-patient",
                    "the plan's visit or benefit limit for the period was reached, and the payer assigned the amount to the patient",
                    "bill the patient, or the secondary payer when there is one",
                    _why("benefit-limit 119, payer without the therapy threshold, PR"),
                )
            return done(
                "appeal",
                "the plan's visit or benefit limit for the period was applied",
                "ask the plan for more visits with the documentation of medical necessity; if the limit stands, write the amount off",
                _why("benefit-limit 119, payer without the therapy threshold"),
            )
        if "119" in carcs:
            facts["limit"] = "therapy-threshold"
            if abn:
                return done("bill-patient", "the benefit maximum was reached and an ABN (GA) is on file", "bill the patient under the ABN", ACTION_RULES[15][2])
            if "KX" not in mods:
                codes.append(MISSING_KX)
                if record is not None and indexes:
                    for i in indexes:
                        new = missing_mods(record, i, "KX", ctx.maps, profile)
                        if new is not None:
                            corrections.append(Correction(f"line {record.lx(i)}: add KX", i, modifiers=new, rule=MISSING_KX))
                return done(
                    "corrected-claim",
                    f"{procedure or 'the line'} was billed without KX after the annual therapy threshold was passed",
                    "add KX to the line (the record must support medical necessity above the threshold)",
                    ACTION_RULES[16][2],
                )
            return done("appeal", "the benefit maximum was applied although KX attests medical necessity", "send the documentation of medical necessity", ACTION_RULES[17][2])
        if "PR" in groups:
            return done("bill-patient", "the plan's benefit limit for the period was reached", "bill the patient (or the secondary payer)", "the payer assigned the amount to the patient")
        return done("appeal", "the plan's benefit limit for the period was applied", "send the documentation of medical necessity", ACTION_RULES[17][2])
    if category == "medical-necessity":
        if abn and "PR" in groups:
            return done("bill-patient", "not covered as medically necessary; an ABN (GA) is on file", "bill the patient under the ABN", "")
        if "GZ" in mods:
            return done("write-off", "not covered as medically necessary and no ABN was obtained (GZ)", "", ACTION_RULES[19][2])
        if "M39" in remark_codes:
            return done(
                "appeal",
                "the payer found the service not medically necessary and the advance notice (ABN) invalid, so the patient cannot be billed",
                "send the plan of care, evaluation and treatment notes; do not bill the patient under the ABN",
                "",
            )
        return done("appeal", "the payer found the service not medically necessary", "send the plan of care, evaluation and treatment notes", "")
    if category == "authorization":
        if record is not None and not _has_ref(record, b"G1"):
            return done("corrected-claim", "the claim carries no prior authorization number (REF*G1)", "add the authorization number (REF*G1) if one was obtained; otherwise appeal with the authorization record", ACTION_RULES[21][2])
        return done("appeal", "the payer found no authorization covering the service", "send the authorization record (number, dates, visits or units)", "")
    if category == "duplicate":
        if record is not None and indexes and _same_code_same_date(record, indexes[0]):
            return done("corrected-claim", f"{procedure} is billed on more than one line for the same date", "bill the code once per date (or add 59/76 when the sessions were distinct)", ACTION_RULES[24][2])
        return done("reopening", "the payer treated the line as a duplicate", "ask the payer to reprocess: no earlier payment for this line was found in the remittance", ACTION_RULES[25][2])
    if category == "eligibility":
        if "PR" in groups:
            return done("bill-patient", "the patient was not covered for the service", "bill the patient or the responsible payer", "")
        return done("new-claim", "the payer is not responsible for the service on that date", "verify coverage and send a new claim to the responsible payer (or with the right member id)", ACTION_RULES[27][2])
    if category == "timely-filing":
        return done("appeal", "the payer found the claim filed after its time limit", "send proof of timely filing (999/277CA acceptance reports)", ACTION_RULES[28][2])
    # other
    fixable = _explaining(record, indexes, "other")
    if fixable:
        codes.extend(f.code for f in fixable)
        if record is not None and indexes:
            for f in fixable:
                c = _modifier_correction(f, record, indexes[0], ctx.maps, profile)
                if c:
                    corrections.append(c)
        return done("corrected-claim", "; ".join(dict.fromkeys(f.message for f in fixable)), "correct what the findings name", ACTION_RULES[29][2])
    return done("appeal", "the payer reduced the payment for a reason the codes do not pin down", "ask the payer for the reason and send the supporting documentation", "")


def missing_mods(record: ClaimRecord, index: int, modifier: str, maps: Maps, profile: PayerProfile | None) -> tuple[str, ...] | None:
    """The line's modifiers with ``modifier`` added in the payer's order (None: no room)."""
    mods = tuple(m.strip().upper() for m in record.claim.lines[index].modifiers)
    if modifier in mods:
        return mods
    if len(mods) >= 4:
        return None
    order = profile.modifier_order if profile is not None else "conventional"
    return maps.modifiers.order((*mods, modifier), order)


def _missing_discipline(record: ClaimRecord, indexes: Sequence[int], maps: Maps) -> str | None:
    """GP/GO/GN to add when a therapy line has none and its discipline is beyond doubt (the
    same evidence check and fix use: the code, the claim's other lines, the taxonomy)."""
    if not indexes:
        return None
    line = record.claim.lines[indexes[0]]
    own = {m.strip().upper() for m in line.modifiers}
    if own & {"GP", "GO", "GN"}:
        return None
    info = maps.code(line.procedure)
    if info is None or info.therapy_list == "no":
        return None
    policy = maps.modifiers
    others = (d for other in record.claim.lines if other is not line for d in policy.disciplines(other.modifiers))
    evidence = discipline_evidence(maps, line.procedure, others, record.claim.line_rendering(line)[1])
    if len(evidence) != 1:
        return None  # none or several disciplines: a person decides, as fix does
    discipline = next(iter(evidence))
    return next((code for code, m in policy.modifiers.items() if m.discipline == discipline), None)


def _has_ref(record: ClaimRecord, qualifier: bytes) -> bool:
    tx = record.claim.transaction
    el = tx.delimiters.element
    wanted = b"REF" + el + qualifier + el
    return any(text.startswith(wanted) for text in tx.texts[record.claim.index : record.claim.end_index])


def _same_code_same_date(record: ClaimRecord, index: int) -> bool:
    lines = record.claim.lines
    line = lines[index]
    key = (line.procedure.strip().upper(), _dates_of(line)[0])
    return sum(1 for other in lines if (other.procedure.strip().upper(), _dates_of(other)[0]) == key) > 1


def _assess_coding(ctx, record, indexes, adjustments, explaining, codes, corrections, facts, profile, done, procedure):
    """A code the payer does not pay for the service (97014 to Medicare: G0283), or a
    diagnosis that does not fit the patient. The action is a corrected claim the biller
    finishes: the new code's charge is the practice's to set, so nothing is built on a guess."""
    carcs = {a.carc for a in adjustments if a.is_denial}
    index = indexes[0] if record is not None and indexes else None
    where = f"line {record.lx(index)}" if index is not None else "the line"  # type: ignore[union-attr]
    c403 = [f for f in explaining if f.code == "C403"]
    info = ctx.maps.code(procedure) if procedure else None
    replacement = (c403[0].details or {}).get("replacement") if c403 else None
    if replacement is None and info is not None and info.medicare_replacement and profile is not None and profile.wants_g0283:
        # check's C403 was not run (ignored in the config): the maps say the same
        replacement = info.medicare_replacement
        codes.append("C403")
    if replacement:
        facts.update(billed_code=procedure, payer_code=replacement)
        corrections.append(Correction(f"{where}: bill {replacement} in place of {procedure}, with the practice's charge for {replacement}", index, rule="C403"))
        return done(
            "corrected-claim",
            f"{procedure} is not the code this payer pays for the service; it pays the same service as {replacement}",
            f"rebill {where} with {replacement} in place of {procedure} (the same service; set the charge for {replacement})",
            _why("coding, a code the payer replaces"),
        )
    if carcs & {"9", "10"}:
        what = " or ".join(w for c, w in (("9", "age"), ("10", "sex")) if c in carcs)
        return done(
            "corrected-claim",
            f"the payer found a diagnosis on the claim that does not fit the patient's {what} as reported",
            "check the diagnosis codes and the patient's date of birth and sex against the record, correct whichever is wrong and rebill",
            _why("coding, diagnosis"),
        )
    if explaining:
        return done("corrected-claim", "; ".join(dict.fromkeys(f.message for f in explaining)), "correct the code the findings name and rebill", _why("coding, another code"))
    return done(
        "corrected-claim",
        f"the payer asks for a different code for the service billed as {procedure or 'this line'}",
        "check the code against the record and the payer's coding policy, and rebill with the code it names",
        _why("coding, another code"),
    )


def _assess_ncci(ctx, record, indexes, service, mods, explaining, codes, corrections, facts, profile, done, procedure):
    preferred = profile.ncci_modifier if profile is not None else "59"
    if record is None or not indexes:
        return done("appeal", "the payer bundled the service into another one billed the same day", "send the record showing the services were distinct", "the 837 line was not found")
    index = indexes[0]
    partners = _ptp_partners(record, index, ctx.maps)
    n30x = [f for f in explaining if f.code.startswith("N3")]
    if partners:
        edit, k = partners[0]
        partner = record.claim.lines[k]
        facts.update(
            column1=edit.column1,
            column2=edit.column2,
            modifier_indicator=edit.modifier_indicator,
            edit_source=edit.source,
            partner_line=partner.lx,
            partner_procedure=partner.procedure,
            preferred_modifier=preferred,
        )
        c2_index = index if record.claim.lines[index].procedure.strip().upper() == edit.column2 else k
        blocks = (_time_block(ctx, record, index), _time_block(ctx, record, k))
        if all(blocks):
            facts["time_blocks"] = {str(record.lx(index)): blocks[0], str(partner.lx): blocks[1]}
        pair_mods = mods | {m.strip().upper() for m in partner.modifiers}
        evaluation = next(
            (code for code in (edit.column1, edit.column2) if (info := ctx.maps.codes.get(code)) is not None and info.evaluation),
            None,
        )
        if evaluation is not None:
            # Evaluations are not timed: what makes the pair payable is a separately
            # identifiable evaluation, so time blocks neither prove nor disprove it.
            facts["evaluation_pair"] = evaluation
            facts.pop("time_blocks", None)
            blocks = (None, None)
        if edit.modifier_indicator == "0":
            return done(
                "write-off",
                f"{edit.column2} is column 2 of an NCCI edit with {edit.column1} that no modifier can bypass (indicator 0)",
                f"remove {edit.column2} from the claim",
                ACTION_RULES[6][2],
            )
        if pair_mods & _DISTINCT:
            proof = (
                f"send the {evaluation} note showing a separately identifiable evaluation, apart from the treatment that day"
                if evaluation
                else "send the treatment notes showing the two services in distinct time blocks"
            )
            return done(
                "appeal",
                f"{edit.column2} was billed with {edit.column1} on the same date with "
                f"{', '.join(sorted(pair_mods & _DISTINCT))}, and the payer did not accept the distinct-service modifier",
                proof,
                ACTION_RULES[7][2],
            )
        if all(blocks) and blocks[0] == blocks[1]:
            return done(
                "write-off",
                f"{edit.column2} and {edit.column1} were performed in the same time block; NCCI pays only {edit.column1}",
                f"do not bill {edit.column2} with {edit.column1} for one time block",
                ACTION_RULES[8][2],
            )
        if not n30x:
            codes.append("N301")
        for f in n30x:
            c = _modifier_correction(f, record, c2_index, ctx.maps, profile)
            if c and (f.details or {}).get("evidence") or (c and c.edits):
                corrections.append(c)
        if all(blocks) and not corrections:
            new = missing_mods(record, c2_index, preferred, ctx.maps, profile)
            if new is not None:
                corrections.append(
                    Correction(f"line {record.lx(c2_index)}: add {preferred} to {edit.column2}", c2_index, modifiers=new, rule="N301")
                )
        if evaluation:
            evidence = f"only if the record shows the {evaluation} was a separately identifiable evaluation; otherwise the denial stands"
        elif all(blocks):
            evidence = "the minutes file puts them in distinct time blocks"
        else:
            evidence = "only if the record shows distinct 15-minute time blocks; otherwise the denial stands"
        return done(
            "corrected-claim",
            f"{edit.column2} (column 2) was billed with {edit.column1} (column 1, line {partner.lx}) on the same date "
            f"without an NCCI-associated modifier (59 or XE/XP/XS/XU), so the NCCI edit denied {edit.column2}",
            f"add {preferred} to {edit.column2} (line {record.lx(c2_index)}) and "
            f"{'ask for a clerical-error reopening' if profile is not None and profile.correction_route == 'reopening' else 'send a corrected claim'}: {evidence}",
            ACTION_RULES[9][2],
        )
    if explaining:
        return done("corrected-claim", "; ".join(dict.fromkeys(f.message for f in explaining)), "correct what the findings name", ACTION_RULES[9][2])
    return done(
        "appeal",
        f"the payer bundled {procedure} into another service; no NCCI pair in the maps explains it on this claim",
        "ask which service it was bundled into and send the record showing the services were distinct",
        "no known pair",
    )


def _assess_units(ctx, record, indexes, service, explaining, codes, corrections, facts, paid, done, procedure, remark_codes):
    """Units are judged by the day, as check judges them (:class:`DayUnits`): the payer's
    reduction is conceded only when check's U101/U103 fire for the line's day (per-code: for
    its code); a day billed as its total minutes allow is appealed with those minutes."""
    if record is None or not indexes:
        return done("appeal", "the payer reduced the units", "send the treatment minutes", "the 837 line was not found")
    line = record.claim.lines[indexes[0]]
    facts["units_billed"] = str(sum((record.claim.lines[i].units or _ZERO for i in indexes), _ZERO))
    basis = [f for f in explaining if f.code in ("U107", "U106", "U111", "U112")]
    if basis:
        for f in basis:
            if f.fix is not None and f.fix.edits:
                corrections.append(Correction(f.fix.description, indexes[0], edits=tuple(f.fix.edits), rule=f.code))
        return done("corrected-claim", "; ".join(dict.fromkeys(f.message for f in basis)), "bill 15-minute units (UN) from the treatment minutes", ACTION_RULES[13][2])
    fallback = ctx.fallback_checker() if record.checker is None else None
    day = next((d for d in (day_units(record, i, fallback) for i in indexes) if d is not None), None)
    if day is not None and day.judged:
        return _assess_unit_day(record, indexes, day, codes, corrections, facts, paid, done, procedure)
    over = [f for f in explaining if f.code in ("U101", "U103")]
    if over:  # check judged the day although match could not rebuild it (a claim indexed by hand)
        for f in over:
            corrections.extend(_unit_corrections(f, record))
        cause = "; ".join(dict.fromkeys(f.message for f in over))
        if paid:
            return done("write-off", cause, "the payer paid the units the minutes support; write off the excess and bill correctly from now on", ACTION_RULES[12][2])
        return done("corrected-claim", cause, "bill the units the minutes support", ACTION_RULES[12][2])
    if "M53" in remark_codes and (line.units is None or line.unit_basis.strip().upper() != "UN"):
        return done("corrected-claim", "the units field was missing or invalid", "bill whole UN units", ACTION_RULES[13][2])
    if day is not None and day.missing_minutes:
        facts["day_lines_without_minutes"] = list(day.missing_minutes)
        return done(
            "appeal",
            f"the payer reduced the units; the day's units cannot be judged because {_lines_text(day.missing_minutes)} "
            f"{'has' if len(day.missing_minutes) == 1 else 'have'} no minutes",
            "send the treatment note with the day's total timed minutes, once every timed line of the day has its minutes",
            ACTION_RULES[14][2],
        )
    if "N362" in remark_codes or "N640" in remark_codes:
        return done("appeal", "the units exceed the payer's maximum for the service (MUE or policy)", "send the documentation of medical necessity for the units", "")
    return done("appeal", "the payer reduced the units; no minutes were given to check them", "send the treatment note with the timed minutes (give --minutes to check them first)", ACTION_RULES[14][2])


def _lines_text(numbers: Sequence[int]) -> str:
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(map(str, numbers))


def _assess_unit_day(record, indexes, day: DayUnits, codes, corrections, facts, paid, done, procedure):
    facts.update(
        unit_method=day.method,
        day_lines=list(day.lines),
        day_minutes=day.total_minutes,
        day_units_allowed=day.allowed_total,
        day_units_billed=day.billed_total,
        day_services=[{"service": s, "minutes": m, "units": day.billed.get(s, 0)} for s, m in day.minutes.items()],
        pooled=day.pooled,
    )
    cms = day.method == "cms"
    where = _lines_text(day.lines)
    if day.over_billed:
        verdicts = sorted(day.verdicts & {"U101", "U103"})
        codes.extend(verdicts)
        for f in _day_findings(record, day, verdicts):
            corrections.extend(_unit_corrections(f, record))
        if not corrections:  # the U101/U103 finding was ignored in the config: the day says the same
            corrections.extend(_day_corrections(record, day))
        facts["day_target"] = dict(day.target)
        if cms and "U101" in day.verdicts:
            cause = (
                f"{_count_were(day.billed_total, 'timed unit')} billed on {where}, but the day's {_count(day.total_minutes, 'timed minute')} "
                f"allow {day.allowed_total} under the CMS total-minutes method ({day.services_text()})"
            )
        elif cms:
            cause = (
                f"the day's units on {where} are split in a way the CMS total-minutes method does not allow for "
                f"these minutes ({day.services_text()})"
            )
        else:
            own = day.minutes[day.service]
            cause = (
                f"{_count(day.billed.get(day.service, 0), 'unit')} of {day.service} billed for {own} minutes; rounded on "
                f"its own (the payer's per-code method) that is {_count(day.target.get(day.service, 0), 'unit')}"
            )
        target = ", ".join(f"{_count(u, 'unit')} of {s}" for s, u in day.target.items() if u) or "no timed units"
        if paid:
            return done("write-off", cause, "the payer paid the units the minutes support; write off the excess and bill correctly from now on", ACTION_RULES[12][2])
        return done("corrected-claim", cause, f"bill {target} for the day", ACTION_RULES[12][2])
    if cms:
        cause = (
            f"the payer reduced the units of {procedure}, but the day's {_count(day.total_minutes, 'timed minute')} on {where} "
            f"allow {_count(day.allowed_total, 'unit')} under the CMS total-minutes method and {_count_were(day.billed_total, 'unit')} billed, "
            f"allocated as that method directs ({day.services_text()})"
        )
        fix = "send the treatment note with the day's total timed minutes and the minutes of each timed service"
    else:
        own = day.minutes[day.service]
        allowed = units_for_minutes(own)
        cause = (
            f"the payer reduced the units of {procedure}, but its {own} timed minutes support {_count(allowed, 'unit')} "
            f"rounded on their own (the payer's per-code method), and {_count_were(day.billed.get(day.service, 0), 'unit')} billed"
        )
        fix = f"send the treatment note with the timed minutes of {procedure}"
    return done("appeal", cause, fix, ACTION_RULES[14][2])


def _day_findings(record: ClaimRecord, day: DayUnits, codes: Sequence[str]) -> list[Finding]:
    """check's U101/U103 findings about ``day`` (on whichever of its lines they sit)."""
    found = []
    for items in (*record.line_findings.values(), record.claim_findings):
        for f in items:
            lines = (f.details or {}).get("lines")
            if f.code in codes and isinstance(lines, list) and set(lines) & set(day.lines):
                if day.method != "per-code" or (f.details or {}).get("service") == day.service:
                    found.append(f)
    return found


def _day_corrections(record: ClaimRecord, day: DayUnits) -> list[Correction]:
    """The day's SV104 targets as corrections; per-code, only those of the line's code."""
    targets = day.line_units
    if day.method == "per-code":
        own = _lines_of_service(record, day)
        targets = tuple(t for t in targets if t.get("line") in own)
    rule = "U101" if "U101" in day.verdicts else "U103"
    return _target_corrections(targets, record, rule)


def _lines_of_service(record: ClaimRecord, day: DayUnits) -> set[int | None]:
    code = day.service.split("+")[0]
    return {line.lx for line in record.claim.lines if line.procedure.strip().upper() == code and line.lx in day.lines}


# --------------------------------------------------------------------------------------------
# Balance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BalanceProblem:
    """An 835 amount that does not add up (TR3 §1.10 balancing)."""

    file: str
    #: ``line``, ``claim`` or ``transaction``
    level: str
    #: 1-based segment position (SVC, CLP or BPR)
    segment: int
    claim_id: str | None
    expected: Decimal
    found: Decimal

    @property
    def message(self) -> str:
        what = {
            "line": "SVC03 should be SVC02 minus the line's CAS amounts",
            "claim": "CLP04 should be CLP03 minus every CAS amount of the claim",
            "transaction": "BPR02 should be the sum of CLP04 minus the PLB amounts",
        }[self.level]
        return f"{what}: expected {self.expected}, found {self.found}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "level": self.level,
            "segment": self.segment,
            "claim_id": self.claim_id,
            "expected": str(self.expected),
            "found": str(self.found),
            "message": self.message,
        }


def _total(adjustments: Iterable[Adjustment]) -> Decimal | None:
    total = _ZERO
    for a in adjustments:
        if a.amount is None:
            return None
        total += a.amount
    return total


def balance_problems(file: str, remit: Remittance) -> list[BalanceProblem]:
    """Every line, claim and transaction of ``remit`` that does not balance."""
    problems = []
    clp_total = _ZERO
    readable = True
    for clp in remit.claims:
        line_cas = _ZERO
        for svc in clp.services:
            cas = _total(svc.adjustments)
            if cas is None or svc.charge is None or svc.paid is None:
                readable = False
                continue
            line_cas += cas
            if svc.charge - cas != svc.paid:
                problems.append(BalanceProblem(file, "line", remit.position(svc.index), clp.claim_id, svc.charge - cas, svc.paid))
        cas = _total(clp.adjustments)
        if cas is None or clp.charge is None or clp.paid is None:
            readable = False
            continue
        clp_total += clp.paid
        expected = clp.charge - cas - line_cas
        if expected != clp.paid:
            problems.append(BalanceProblem(file, "claim", remit.position(clp.index), clp.claim_id, expected, clp.paid))
    plb = _ZERO
    for adj in remit.provider_adjustments:
        if adj.amount is None:
            readable = False
        else:
            plb += adj.amount
    if readable and remit.total_paid is not None:
        total = -remit.total_paid if remit.credit_debit == "D" else remit.total_paid
        expected = clp_total - plb
        if expected != total:
            bpr = next((i for i, t in enumerate(remit.transaction.texts) if t.startswith(b"BPR")), 0)
            problems.append(BalanceProblem(file, "transaction", remit.position(bpr), None, expected, total))
    return problems


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnmatchedClaim:
    """An 835 claim whose CLP01 names no 837 claim given."""

    file: str
    segment: int
    claim_id: str
    payer_claim_number: str
    status: str
    charge: Decimal | None
    paid: Decimal | None
    services: int

    def to_json(self) -> dict:
        return {
            "remit_claim_id": self.claim_id,
            "payer_claim_number": self.payer_claim_number,
            "claim_status": self.status,
            "charge": _money(self.charge),
            "paid": _money(self.paid),
            "services": self.services,
            "segment": self.segment,
            "file": self.file,
        }


@dataclass(frozen=True, slots=True)
class AmbiguousClaim:
    """An 835 claim that several 837 claims with its CLM01 fit equally well: the match took
    ``chosen`` by file order, and a person should check which one the payer adjudicated."""

    file: str
    segment: int
    claim_id: str
    chosen: ClaimRecord
    others: tuple[ClaimRecord, ...]
    reversal: bool = False

    @property
    def message(self) -> str:
        where = ", ".join(f"{r.file}:{r.claim.position()}" for r in (self.chosen, *self.others))
        rule = "the earliest, as for a reversal" if self.reversal else "the latest"
        return (
            f"{self.claim_id} fits {1 + len(self.others)} claims of the 837 files equally well ({where}); "
            f"matched to {self.chosen.file}:{self.chosen.claim.position()}, {rule}: check which one the payer adjudicated"
        )

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "segment": self.segment,
            "remit_claim_id": self.claim_id,
            "chosen": {"file": self.chosen.file, "segment": self.chosen.claim.position()},
            "others": [{"file": r.file, "segment": r.claim.position()} for r in self.others],
            "message": self.message,
        }


@dataclass(slots=True)
class MatchResult:
    rows: list[MatchRow] = field(default_factory=list)
    unmatched_claims: list[UnmatchedClaim] = field(default_factory=list)
    #: 835 claims whose 837 claim was chosen by file order among equally good ones
    ambiguous_claims: list[AmbiguousClaim] = field(default_factory=list)
    balance: list[BalanceProblem] = field(default_factory=list)
    #: unknown codes by kind: ``carc``, ``rarc``, ``group``
    unknown: dict[str, set[str]] = field(default_factory=lambda: {"carc": set(), "rarc": set(), "group": set()})
    #: per 837 claim (by ordinal): its CLPs in remittance order, as (file, remittance, CLP)
    history: dict[int, list[tuple[str, Remittance, ClaimPayment]]] = field(default_factory=dict)
    remittances: list[tuple[str, Remittance]] = field(default_factory=list)
    _by_payment: dict[int, list[MatchRow]] = field(default_factory=dict, repr=False)

    def add(self, row: MatchRow) -> None:
        self.rows.append(row)
        self._by_payment.setdefault(id(row.payment), []).append(row)

    def rows_of(self, payment: ClaimPayment) -> list[MatchRow]:
        """The rows of one CLP, in order."""
        return self._by_payment.get(id(payment), [])

    def claim_history(self, record: ClaimRecord) -> list[tuple[str, Remittance, ClaimPayment]]:
        return self.history.get(record.ordinal, [])

    def latest_payer_claim_number(self, record: ClaimRecord) -> str:
        """CLP07 to send in REF*F8: the last adjudication that is not a reversal, else the
        last CLP07 seen."""
        history = self.claim_history(record)
        for _, _, clp in reversed(history):
            if not clp.is_reversal and clp.payer_claim_number:
                return clp.payer_claim_number
        for _, _, clp in reversed(history):
            if clp.payer_claim_number:
                return clp.payer_claim_number
        return ""

    def summary(self) -> dict:
        categories = Counter(row.category for row in self.rows)
        actions = Counter(row.action for row in self.rows)
        methods = Counter(row.match.method for row in self.rows)
        denied = [row for row in self.rows if row.denied]
        return {
            "lines": len(self.rows),
            "denied_lines": len(denied),
            # what the denial reasons took (contract write-offs and patient shares left out)
            "denied_amount": str(
                sum((a.amount for r in denied for a in r.adjustments if a.is_denial), _ZERO)  # type: ignore[misc]
            ),
            "matched_claims": len(self.history),
            "unmatched_claims": len(self.unmatched_claims),
            "ambiguous_claims": [a.to_json() for a in self.ambiguous_claims],
            "by_category": {c: categories[c] for c in CATEGORIES if categories[c]},
            "by_action": {a: actions[a] for a in ACTIONS if actions[a]},
            "by_method": {m: methods[m] for m in METHODS if methods[m]},
            "balance_problems": [p.to_json() for p in self.balance],
            "unknown_codes": {k: sorted(v) for k, v in self.unknown.items() if v},
        }

    def to_json(self) -> dict:
        return {
            "lines": [row.to_json() for row in self.rows],
            "unmatched_claims": [u.to_json() for u in self.unmatched_claims],
            "summary": self.summary(),
        }


def match_remittances(
    remittances: Iterable[tuple[str, Remittance]],
    index: ClaimIndex,
    codes: CodeBook,
    *,
    minutes: MinutesTable | None = None,
) -> MatchResult:
    """Match every service payment of ``remittances`` (name, remittance) to ``index``."""
    ctx = _Context(codes.maps, minutes)
    result = MatchResult()
    for file, remit in remittances:
        with collector_paused():
            result.remittances.append((file, remit))
            result.balance.extend(balance_problems(file, remit))
            for clp in remit.claims:
                _match_claim(result, file, remit, clp, index, codes, ctx)
    with collector_paused():
        _settle_duplicates(result)
    return result


def _match_claim(result: MatchResult, file: str, remit: Remittance, clp: ClaimPayment, index: ClaimIndex, codes: CodeBook, ctx: _Context) -> None:
    unknown = result.unknown
    candidates, claim_method = index.candidates(clp.claim_id)
    record, doubt = rank_claims(candidates, clp) if candidates else (None, ())
    if record is not None and doubt:
        result.ambiguous_claims.append(AmbiguousClaim(file, remit.position(clp.index), clp.claim_id, record, doubt, clp.is_reversal))
    claim_remarks = _decode_remarks(codes, clp.remarks, "claim", unknown)
    claim_adjustments = _decode_adjustments(codes, clp.adjustments, "claim", unknown)
    if record is None:
        result.unmatched_claims.append(
            UnmatchedClaim(file, remit.position(clp.index), clp.claim_id, clp.payer_claim_number, clp.status, clp.charge, clp.paid, len(clp.services))
        )
    else:
        result.history.setdefault(record.ordinal, []).append((file, remit, clp))
    if not clp.services:
        match = LineMatch("claim" if record else "unmatched", record, tuple(range(len(record.claim.lines))) if record else (), claim_method, doubt)
        assessment = assess(clp, None, match, claim_adjustments, claim_remarks, ctx)
        result.add(MatchRow(file, remit.position(clp.index), remit, clp, None, match, tuple(claim_adjustments), tuple(claim_remarks), assessment))
        return
    placed = match_lines(record, clp.services) if record else [("unmatched", ())] * len(clp.services)
    claim_denials = [a for a in claim_adjustments if a.is_denial]
    for svc, (method, indexes) in zip(clp.services, placed):
        match = LineMatch(method, record, indexes, claim_method, doubt)
        adjustments = _decode_adjustments(codes, svc.adjustments, "line", unknown)
        if claim_denials and not any(a.is_denial for a in adjustments) and (svc.paid or _ZERO) < (svc.charge or _ZERO):
            adjustments += claim_denials
        remarks = _decode_remarks(codes, svc.remarks, "line", unknown) + claim_remarks
        assessment = assess(clp, svc, match, adjustments, remarks, ctx)
        result.add(MatchRow(file, remit.position(svc.index), remit, clp, svc, match, tuple(adjustments), tuple(remarks), assessment))


def _settle_duplicates(result: MatchResult) -> None:
    """A line denied as a duplicate that another CLP paid needs nothing more."""
    duplicates = [row for row in result.rows if row.category == "duplicate" and row.match.record is not None]
    if not duplicates:
        return
    wanted = {row.match.record.ordinal for row in duplicates}  # type: ignore[union-attr]
    paid: set[tuple[int, int]] = set()
    for ordinal in wanted:
        for _, _, clp in result.history.get(ordinal, ()):
            if clp.is_reversal:
                continue
            for row in result.rows_of(clp):
                if (row.paid or _ZERO) > 0:
                    paid.update((ordinal, i) for i in row.match.indexes)
    for row in duplicates:
        if any((row.match.record.ordinal, i) in paid for i in row.match.indexes):  # type: ignore[union-attr]
            a = row.assessment
            row.assessment = Assessment(
                a.category, a.denied, "none", a.cause, "nothing: another adjudication in this remittance paid the line",
                ACTION_RULES[23][0], a.findings, (), a.facts, a.reason,
            )


# --------------------------------------------------------------------------------------------
# Rendering (strings only)
# --------------------------------------------------------------------------------------------


def _adjustment_words(row: MatchRow) -> str:
    parts = [f"{a.label} {money_text(a.amount)}" if a.amount is not None else a.label for a in row.adjustments]
    return ", ".join(parts) or "no adjustments"


def money_text(value: Decimal | None) -> str:
    """An amount for people: two decimals (``47.00``, ``-20.50``); an amount with more places
    than cents is shown as written rather than rounded. ``""`` for none."""
    if value is None:
        return ""
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def render_text(result: MatchResult) -> Iterator[str]:
    """One line per row (a second, indented, with the cause for a denied one), then a summary."""
    for row in result.rows:
        m = row.match
        where = f"{m.record.claim_id} line {','.join(map(str, m.lines)) or '?'}" if m.record and m.lines else (
            m.record.claim_id if m.record else "no 837 claim"
        )
        what = row.procedure or "claim"
        if row.modifiers:
            what += ":" + ":".join(row.modifiers)
        remarks = " ".join(r.code for r in row.remarks)
        findings = f" [{', '.join(row.assessment.findings)}]" if row.assessment.findings else ""
        yield (
            f"{row.remit_file}:{row.segment}: {row.remit_claim_id} {what} {row.service_date or ''} "
            f"charge {money_text(row.charge) or '-'} paid {money_text(row.paid) or '-'} ({_adjustment_words(row)}{'; ' + remarks if remarks else ''}) "
            f"-> {row.category}, {row.action} [{where} via {m.method}]{findings}"
        ).replace("  ", " ")
        if row.denied and row.assessment.cause:
            yield f"    cause: {row.assessment.cause}"
            if row.assessment.fix:
                yield f"    fix: {row.assessment.fix}"
    for claim in result.unmatched_claims:
        yield f"{claim.file}:{claim.segment}: {claim.claim_id} (CLP02 {claim.status}) matches no claim in the 837 files given"
    for doubt in result.ambiguous_claims:
        yield f"{doubt.file}:{doubt.segment}: ambiguous claim: {doubt.message}"
    for problem in result.balance:
        where = f" claim {problem.claim_id}" if problem.claim_id else ""
        yield f"{problem.file}:{problem.segment}: unbalanced {problem.level}{where}: {problem.message}"
    for kind, values in result.unknown.items():
        if values:
            yield f"unknown {kind.upper()} codes: {', '.join(sorted(values))}"
    summary = result.summary()
    by_category = ", ".join(f"{k} {v}" for k, v in summary["by_category"].items()) or "none"
    by_action = ", ".join(f"{k} {v}" for k, v in summary["by_action"].items()) or "none"
    yield (
        f"Matched {_counted(summary['lines'], 'service payment')} ({summary['denied_lines']} denied); "
        f"{_counted(summary['unmatched_claims'], 'unmatched claim')}; {_counted(len(result.balance), 'balance problem')}. "
        f"Categories: {by_category}. Actions: {by_action}."
    )


CSV_COLUMNS = (
    "remit_claim_id",
    "payer_claim_number",
    "claim_status",
    "procedure",
    "modifiers",
    "service_date",
    "charge",
    "paid",
    "units_billed",
    "units_paid",
    "adjustments",
    "adjustment_text",
    "remarks",
    "remark_text",
    "category",
    "action",
    "file",
    "claim_id",
    "line",
    "lines",
    "method",
    "findings",
    "cause",
    "fix",
)
#: Columns written as numbers: never guarded, so a spreadsheet can add them up.
_NUMERIC = frozenset({"charge", "paid", "units_billed", "units_paid", "line"})
#: Identifier columns a spreadsheet would turn into numbers (dropping leading zeros).
_IDENTIFIER = frozenset({"remit_claim_id", "payer_claim_number", "claim_id", "procedure", "claim_status", "lines"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$|^\s*\d[\d\s/:-]*\s*$")


def csv_cell(column: str, value: object) -> str:
    """One CSV cell, safe to open in a spreadsheet.

    Numbers stay numbers. An identifier a spreadsheet would read as a number (``000123``,
    ``1E5``, ``2026-01-05``) is written as the text formula ``="000123"``, which keeps it
    exactly. Any other text starting with ``= + - @``, a tab or a carriage return is
    prefixed with ``'`` so that it is never evaluated as a formula (OWASP CSV injection).
    """
    if value is None:
        return ""
    text = str(value)
    if column in _NUMERIC:
        return text
    if column in _IDENTIFIER and text and _NUMBER_LIKE.match(text):
        return '="' + text.replace('"', '""') + '"'
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv_values(row: MatchRow) -> dict[str, object]:
    m = row.match
    return {
        "remit_claim_id": row.remit_claim_id,
        "payer_claim_number": row.payer_claim_number,
        "claim_status": row.claim_status,
        "procedure": row.procedure,
        "modifiers": " ".join(row.modifiers),
        "service_date": row.service_date,
        "charge": money_text(row.charge),
        "paid": money_text(row.paid),
        "units_billed": row.units_billed,
        "units_paid": row.units_paid,
        "adjustments": "; ".join(f"{a.label} {money_text(a.amount)}" for a in row.adjustments),
        "adjustment_text": "; ".join(f"{a.label}: {a.to_json()['text']}" for a in row.adjustments),
        "remarks": " ".join(r.code for r in row.remarks),
        "remark_text": "; ".join(f"{r.code}: {r.to_json()['text']}" for r in row.remarks),
        "category": row.category,
        "action": row.action,
        "file": m.record.file if m.record else None,
        "claim_id": m.record.claim_id if m.record else None,
        "line": m.line,
        "lines": " ".join(map(str, m.lines)),
        "method": m.method,
        "findings": " ".join(row.assessment.findings),
        "cause": row.assessment.cause if row.denied else "",
        "fix": row.assessment.fix if row.denied else "",
    }


def render_csv(result: MatchResult, *, excel: bool = False) -> str:
    """Every row as CSV (RFC 4180, CRLF line ends), with a header row.

    By default the cells are the values as they are, for programs (Python's csv, pandas):
    ``000123`` stays ``000123`` and nothing is wrapped. ``excel=True`` guards the cells for a
    spreadsheet (:func:`csv_cell`): identifiers that look like numbers as ``="000123"``, text
    starting with ``= + - @`` neutralised with ``'``; the CLI adds the byte-order mark Excel
    needs to read UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        values = _csv_values(row)
        if excel:
            writer.writerow([csv_cell(c, values[c]) for c in CSV_COLUMNS])
        else:
            writer.writerow(["" if values[c] is None else str(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Reading the inputs (events in, values out; the CLI supplies the events)
# --------------------------------------------------------------------------------------------


class WrongFileType(ValueError):
    """An 835 where an 837P is expected, or the reverse (message names the file)."""


_KINDS = {"835": "an 835 remittance", "837": "an 837 claim file"}


def _kind(tx: Transaction) -> str:
    return _KINDS.get(tx.set_id, f"a {tx.set_id or 'unknown'} transaction set")


def index_claim_file(index: ClaimIndex, name: str, events: Iterable[Event], checker: Checker) -> int:
    """Check every 837P transaction of one file and index its claims with their findings.

    Returns the number of claims indexed.

    Raises:
        WrongFileType: the file holds an 835 (or another set, or an 837 that is not
            professional), or no transaction at all.
        X12ReadError: the file cannot be read.
    """
    claims = 0
    seen = False
    for result in checker.check_events(_typed(events, name, "837")):
        if isinstance(result.event, Transaction):
            seen = True
            for item in result.claims:
                index.add(name, item.claim, item.findings, item.profile, checker)
                claims += 1
    if not seen:
        raise WrongFileType(f"{name}: holds no transaction set; expected an 837P claim file")
    return claims


def read_remittance_file(name: str, events: Iterable[Event]) -> list[Remittance]:
    """The 835 transactions of one file.

    Raises:
        WrongFileType: the file holds an 837 (or another set) or no transaction at all.
        X12ReadError: the file cannot be read.
    """
    remits = []
    for event in _typed(events, name, "835"):
        if isinstance(event, Transaction):
            with collector_paused():
                remits.append(read_remittance(event))
    if not remits:
        raise WrongFileType(f"{name}: holds no transaction set; expected an 835 remittance")
    return remits


def _typed(events: Iterable[Event], name: str, wanted: str) -> Iterator[Event]:
    for event in events:
        if isinstance(event, Transaction):
            if event.set_id != wanted:
                where = "REMIT" if wanted == "835" else "CLAIMS"
                hint = (
                    "give the 835 first, then the 837P files: edi-rehab match REMIT.835 CLAIMS.837..."
                    if event.set_id in _KINDS
                    else ""
                )
                raise WrongFileType(
                    f"{name}: is {_kind(event)}, but {where} must be {_KINDS[wanted]}" + (f"; {hint}" if hint else "")
                )
            if wanted == "837" and not event.version.startswith("005010X222"):
                raise WrongFileType(
                    f"{name}: is an 837 of version {event.version or 'unknown'}; match reads professional claims (005010X222A1)"
                )
        yield event
