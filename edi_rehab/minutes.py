"""Where treatment minutes come from, as pure functions.

Theory of operation
-------------------
An 837P carries units, not minutes (reference §5): the minutes behind a timed therapy
line live in the EMR. This module reads them from the three places they can be found
and says which one to believe. It takes text and values and returns values; opening
files is the CLI's job.

Sources, strongest first (:data:`MINUTES_PRECEDENCE`):

1. ``sidecar``: a CSV exported from the EMR (:func:`parse_minutes_csv`). It is the
   record of care, keyed by the claim's CLM01 and the line's LX01, and it alone can
   record timed services that were performed but not billed, whose minutes still
   count toward the day's CMS total.
2. ``note``: a 2400 ``NTE`` such as ``MIN 38`` (:func:`minutes_from_note`). Some
   companion guides ask for it, but it is free text typed at billing time.
3. ``mj``: ``SV103 = MJ`` puts minutes in SV104 (:func:`minutes_from_mj`). That basis
   is for anesthesia, so rule U107 flags it; the number is still the best evidence
   when nothing else is given.

:func:`line_minutes` applies that order to one line.

Problems in the sidecar are values (:class:`MinutesProblem`), never exceptions and never
silently skipped: a row with a problem is left out of the table and its problem says so.

Sidecar format
--------------
Header ``claim_id,line,minutes`` plus optional ``procedure``, ``service_date``
(CCYYMMDD) and ``time_block``; names match case-insensitively, in any order, and a
UTF-8 byte-order mark is ignored. Example (synthetic)::

    claim_id,line,minutes,procedure,service_date,time_block
    PCN1001,1,38,97110,20260105,0900-0938
    PCN1001,2,23,97140,20260105,0938-1001
    PCN1001,,8,97035,20260105,1001-1009

The last row has no ``line``: 97035 was performed for 8 minutes and not billed.
Blank lines (and rows of only empty cells, as spreadsheets pad) are not records.

Time blocks. ``time_block`` is a label, compared as written and never parsed: within one
claim and date, rows with the same label were delivered in the same time block (one
service interleaved with or during the other), rows with different labels in distinct
blocks. ``0900-0915`` and ``0915-0930`` are two blocks; so are ``A`` and ``B``. A service
split around another (CMS: 10 minutes of manual therapy, 15 of therapeutic activities, then 5
more of manual therapy) gets a label of its own, not the label of the service in the middle.
The label is what 59/XU rests on for an NCCI pair (reference §3.2): different labels are
the evidence N301's fix needs to add 59/XU, and one label under a 59/XU is rule N306. The
file has no start and end columns on purpose: one row per line cannot hold a split
service's two intervals, and a service's first and last minute do not say whether another
service sat between them, so only the clinic's own label can say "same block". An export
that writes the visit's time on every row should leave ``time_block`` empty.

Exports wider than the claim file. An EMR exports every visit of a period; a claim file
holds one batch, so most rows of an export may name claims the run never sees. When the
caller knows beforehand which CLM01s its claim files hold (``claims``), every row is still
checked on its own (U109), but only the rows of those claims are kept: the table's memory
follows the rows the claim files reference, not the export's size. The rows of other claims
are only counted (:class:`UnknownClaims`, bounded): U110 names the first
:data:`UNKNOWN_CLAIMS_NAMED` such claims and counts the rest in one finding. A row of a claim
no checked file has is used by nothing, so it is reported only there, even when it repeats
another row's (claim, line); the table keeps that repeat's claim on its problem
(:attr:`MinutesProblem.claim_id`) so a run that kept every row reports the same.

Whose minutes (assistants, CQ/CO). A billed row's minutes belong to whoever the line
says: a line with CQ/CO carries the assistant's minutes, a line without it the
therapist's. One row per line, as before. The optional ``clinician`` column
(``therapist`` or ``assistant``, empty = the line decides) says it explicitly:

* on a billed row it must agree with the line's CQ/CO (a row saying ``assistant`` for
  a line without CQ/CO is reported, U109, and not used);
* on a row without ``line`` it records the *other* clinician's minutes of a code on
  that date: the minutes count toward the day and toward the code's CQ/CO split
  (:func:`edi_rehab.units.assistant_units`) without a line of their own. Empty means
  ``therapist``.

So PT 10 + PTA 5 minutes of 97110 billed on one 97110-CQ-GP line is::

    claim_id,line,minutes,procedure,service_date,clinician
    PCN1001,1,5,97110,20260105,assistant
    PCN1001,,10,97110,20260105,therapist

Record only the assistant's minutes independent of the therapist (CMS de minimis
standard, reference §4.3). Two rows for one billed line stay a problem: split lines
(97110-GP and 97110-CQ-GP) each get their own row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from .x12.numbers import decimal_number, whole_number

__all__ = [
    "MinutesProblem",
    "MinutesRow",
    "UnbilledService",
    "MinutesTable",
    "UnknownClaims",
    "UNKNOWN_CLAIMS_NAMED",
    "UNKNOWN_ROWS_LISTED",
    "MinutesSource",
    "MINUTES_PRECEDENCE",
    "REQUIRED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "DEFAULT_NOTE_PATTERN",
    "MINUTES_PER_DAY",
    "CLINICIANS",
    "MAX_NOTE_LENGTH",
    "parse_minutes_csv",
    "minutes_from_note",
    "minutes_from_notes",
    "minutes_from_mj",
    "line_minutes",
]

#: Minutes in a day: no line (and no clinician) records more time than that in one day, so a
#: larger number is a typing or export error (10**12 once billed 66,666,666,667 units), and
#: the row, note or MJ quantity holding it is not minutes at all.
MINUTES_PER_DAY = 1440

#: NTE02 is AN 1/80 in 005010X222A1 (pyx12's element dictionary, data element 352); only the
#: first 80 characters of a note are searched for minutes, so a hostile 10 MB note costs no
#: more than a valid one (the config's note pattern is screened too, config.note_pattern_hazard).
MAX_NOTE_LENGTH = 80

#: U110 names at most this many claims that no checked file has, each at its first row, and
#: counts the rows of any others in one more finding: a million-row export checked against a
#: ten-claim file gave 333,325 warnings, one per other claim, which buried everything else.
UNKNOWN_CLAIMS_NAMED = 10
#: Rows listed in the finding of one such claim (the others are counted).
UNKNOWN_ROWS_LISTED = 10

REQUIRED_COLUMNS = ("claim_id", "line", "minutes")
OPTIONAL_COLUMNS = ("procedure", "service_date", "time_block", "clinician")
#: values of the ``clinician`` column: who delivered the row's minutes
CLINICIANS = ("therapist", "assistant")
_KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# As text, compiled by ``re`` on the first row that needs one (and kept in its cache): a run
# without a minutes CSV compiles neither.
_NEGATIVE_WHOLE_NUMBER = r"-[0-9]+"
_CCYYMMDD = r"([0-9]{4})([0-9]{2})([0-9]{2})"


@dataclass(frozen=True, slots=True)
class MinutesProblem:
    """Something wrong in a minutes source, pointing at the CSV line it came from."""

    #: 1-based line number in the CSV, the header being line 1.
    row: int
    message: str
    #: For a problem that matters only when this claim is checked (a second row for a
    #: claim's line): the claim. A run whose claim files lack it reports the row under U110
    #: instead, with the claim's other rows.
    claim_id: str | None = None


@dataclass(frozen=True, slots=True)
class MinutesRow:
    """One accepted sidecar row."""

    #: 1-based CSV line number, the header being line 1.
    row: int
    #: CLM01 of the claim, as written (case kept; CLM01 is matched exactly).
    claim_id: str
    #: LX01 of the billed line; ``None`` for a service performed but not billed.
    line: int | None
    minutes: int
    #: Upper-cased procedure code, when given.
    procedure: str | None
    #: CCYYMMDD, when given.
    service_date: str | None
    #: The time block's label (e.g. ``0900-0915``), when given: rows of one claim and date
    #: with the same label were delivered in the same block (see the module docstring).
    time_block: str | None
    #: ``therapist`` or ``assistant`` from the ``clinician`` column; ``None`` when empty
    #: (a billed line's CQ/CO decides; an unbilled row is the therapist's).
    clinician: str | None = None


@dataclass(frozen=True, slots=True)
class UnbilledService:
    """A timed service performed but not billed; its minutes count toward the day."""

    procedure: str
    service_date: str
    minutes: int
    time_block: str | None
    #: CSV line it came from, for messages.
    row: int
    #: the assistant modifier (CQ/CO) whose part of ``procedure`` these minutes are, ""
    #: for the therapist's. The table leaves it "" and sets ``assistant_row``; the engine
    #: resolves the modifier from the discipline of the day the row joins.
    assistant: str = ""
    #: the row's ``clinician`` is ``assistant``
    assistant_row: bool = False


@dataclass(slots=True)
class UnknownClaim:
    """The rows of one claim that no checked file has."""

    claim_id: str
    first_row: int
    #: its first :data:`UNKNOWN_ROWS_LISTED` rows
    rows: list[int]
    count: int = 1


@dataclass(slots=True)
class UnknownClaims:
    """Rows naming claims that no checked file has, in bounded memory.

    Rows are added in file order. The first :data:`UNKNOWN_CLAIMS_NAMED` claims (by their
    first row) are kept by name with their first rows and a count; the rows of every later
    claim are only counted, with the first of them, since one warning per claim of a
    period's export is a flood, not advice.
    """

    named: dict[str, UnknownClaim] = field(default_factory=dict)
    #: rows of the claims not named, and the first of them
    more_rows: int = 0
    more_first_row: int | None = None

    def add(self, claim_id: str, row: int) -> None:
        entry = self.named.get(claim_id)
        if entry is not None:
            entry.count += 1
            if len(entry.rows) < UNKNOWN_ROWS_LISTED:
                entry.rows.append(row)
        elif len(self.named) < UNKNOWN_CLAIMS_NAMED:
            self.named[claim_id] = UnknownClaim(claim_id, row, [row])
        else:
            self.more_rows += 1
            if self.more_first_row is None:
                self.more_first_row = row

    def merged(self, other: UnknownClaims) -> UnknownClaims:
        """Both, as if their rows (of disjoint claims) had been added in file order.

        Exact: a claim ``self`` only counts has a first row after all of ``self``'s named
        claims, so it could never be among the first :data:`UNKNOWN_CLAIMS_NAMED` of both.
        """
        entries = sorted([*self.named.values(), *other.named.values()], key=lambda entry: entry.first_row)
        rest = entries[UNKNOWN_CLAIMS_NAMED:]
        firsts = [row for row in (self.more_first_row, other.more_first_row) if row is not None]
        firsts += [entry.first_row for entry in rest]
        return UnknownClaims(
            {entry.claim_id: entry for entry in entries[:UNKNOWN_CLAIMS_NAMED]},
            self.more_rows + other.more_rows + sum(entry.count for entry in rest),
            min(firsts, default=None),
        )


@dataclass(frozen=True, slots=True)
class MinutesTable:
    """The minutes of one sidecar file, looked up by claim and line.

    Built by :func:`parse_minutes_csv`; rows with problems are not in ``rows``, their
    problems are in ``problems``. Where two rows name the same (claim, line) only the
    first is kept (the parser reports the second). Rows of claims outside the parser's
    ``claims`` are not in ``rows`` either, only counted in ``unknown``.
    """

    #: Where the text came from (a file name), for messages.
    source: str
    #: Accepted rows, in file order.
    rows: tuple[MinutesRow, ...]
    problems: tuple[MinutesProblem, ...] = ()
    #: Accepted rows naming claims outside the ``claims`` the parser was given.
    unknown: UnknownClaims = field(default_factory=UnknownClaims, compare=False, hash=False)
    _billed: dict[tuple[str, int], MinutesRow] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        billed: dict[tuple[str, int], MinutesRow] = {}
        for row in self.rows:
            if row.line is not None:
                billed.setdefault((row.claim_id, row.line), row)
        object.__setattr__(self, "_billed", billed)

    def row_for(self, claim_id: str, lx: int) -> MinutesRow | None:
        """The row for line ``lx`` (LX01) of claim ``claim_id`` (CLM01), if any."""
        return self._billed.get((claim_id, lx))

    def minutes_for(self, claim_id: str, lx: int) -> int | None:
        """Minutes recorded for one billed line, or ``None`` when the sidecar has none."""
        row = self.row_for(claim_id, lx)
        return None if row is None else row.minutes

    def time_block_for(self, claim_id: str, lx: int) -> str | None:
        """The time block recorded for one billed line, if any."""
        row = self.row_for(claim_id, lx)
        return None if row is None else row.time_block

    def unbilled_for(self, claim_id: str) -> tuple[UnbilledService, ...]:
        """Timed services performed for this claim's patient but not billed, in file order."""
        return tuple(
            UnbilledService(
                procedure=row.procedure or "",
                service_date=row.service_date or "",
                minutes=row.minutes,
                time_block=row.time_block,
                row=row.row,
                assistant_row=row.clinician == "assistant",
            )
            for row in self.rows
            if row.claim_id == claim_id and row.line is None
        )

    def unknown_references(self, known: Mapping[str, set[int]]) -> list[MinutesProblem]:
        """Rows naming a claim, or a line of a claim, that the claim file does not have.

        Args:
            known: CLM01 → the LX01 numbers of that claim, as read from the 837P.

        An unbilled row needs only its claim to exist. One problem per row, in file order.
        """
        problems = []
        for row in self.rows:
            lines = known.get(row.claim_id)
            if lines is None:
                problems.append(
                    MinutesProblem(row.row, f"claim {row.claim_id!r} is not in the claim file")
                )
            elif row.line is not None and row.line not in lines:
                problems.append(
                    MinutesProblem(row.row, f"claim {row.claim_id!r} has no line {row.line} (LX*{row.line})")
                )
        return problems


def parse_minutes_csv(text: str | Iterable[str], source: str, *, claims: Container[str] | None = None) -> MinutesTable:
    """Read a sidecar minutes CSV exported from an EMR.

    Args:
        text: the whole file, decoded, or its lines (each with its line ending, as a text
            file opened with ``newline=""`` yields them). A leading byte-order mark is ignored.
        source: a name for the text (usually the file name); kept on the table.
        claims: the CLM01s the run's claim files hold, when known before the rows are read
            (a superset is fine; ``None``: unknown, every row is kept). The accepted rows of
            other claims are counted in ``table.unknown`` instead of kept, and a repeated
            (claim, line) among them is not looked for.

    Returns:
        A :class:`MinutesTable`. Every problem is in ``table.problems``, ordered by row:
        an unknown, empty or repeated column name (the other columns are still read), a
        missing required column (then no row is read), a row with the wrong number of
        fields, an empty ``claim_id``, a ``line`` that is not a positive whole number,
        missing/non-numeric/negative ``minutes`` or more than a day of them
        (:data:`MINUTES_PER_DAY`), a ``service_date`` that is not a real
        CCYYMMDD date, a ``clinician`` other than ``therapist``/``assistant``, an
        unbilled row without ``procedure`` or ``service_date``, a
        second row for the same (claim_id, line), and text the csv module cannot read
        (reading stops there). A row with any problem is left out.
    """
    records = _records(text)
    header = next(records, None)
    if header is None:
        return MinutesTable(
            source, (), (MinutesProblem(1, f"no header; expected columns {', '.join(REQUIRED_COLUMNS)}"),)
        )
    if isinstance(header, MinutesProblem):
        return MinutesTable(source, (), (header,))
    header_row, header_cells = header
    columns, problems = _read_header(header_row, header_cells)
    if not all(name in columns for name in REQUIRED_COLUMNS):
        # Without claim_id, line and minutes no row can be placed; the header problems say why.
        return MinutesTable(source, (), tuple(problems))

    names, places = tuple(columns), tuple(columns.values())
    rows: list[MinutesRow] = []
    unknown = UnknownClaims()
    first_row_of: dict[tuple[str, int], int] = {}
    for record in records:
        if isinstance(record, MinutesProblem):
            problems.append(record)
            break
        row_number, cells = record
        if len(cells) != len(header_cells):
            problems.append(
                MinutesProblem(row_number, f"expected {len(header_cells)} fields, found {len(cells)}")
            )
            continue
        values = dict(zip(names, [cells[index].strip() for index in places]))
        row, row_problems = _read_row(row_number, values)
        problems.extend(row_problems)
        if row is None:
            continue
        if claims is not None and row.claim_id not in claims:
            unknown.add(row.claim_id, row_number)
            continue
        if row.line is not None:
            key = (row.claim_id, row.line)
            if key in first_row_of:
                problems.append(
                    MinutesProblem(
                        row_number,
                        f"claim {row.claim_id!r} line {row.line} already has minutes on row "
                        f"{first_row_of[key]}; this row is ignored",
                        row.claim_id,
                    )
                )
                continue
            first_row_of[key] = row_number
        rows.append(row)
    # Free the duplicate check's index (one entry per billed row) before the table builds
    # its own, and the row list before its tuple: on a million-row export they are a
    # third of the peak.
    del first_row_of
    kept = tuple(rows)
    del rows
    return MinutesTable(source, kept, tuple(problems), unknown)


def _records(text: str | Iterable[str]) -> Iterator[tuple[int, list[str]] | MinutesProblem]:
    """Yield (first CSV line number, cells) for each record that is not blank.

    Input the csv module cannot read (an unclosed quote, text after a closing quote, a
    huge field) ends the records with one problem: where that record ends is unknown, so
    nothing after it can be trusted.
    """
    import csv  # here: a check without a minutes CSV, as a hook's usually is, reads none

    # newline="" lets csv see \r\n and bare \r itself, as the csv docs require; strict
    # turns an unclosed quote into an error instead of a field that eats the file.
    lines = io.StringIO(text.removeprefix("\ufeff"), newline="") if isinstance(text, str) else _without_bom(text)
    reader = csv.reader(lines, strict=True)
    lines_read = 0
    while True:
        first_line = lines_read + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield MinutesProblem(first_line, f"unreadable CSV ({error}); no row from here on is read")
            return
        lines_read = reader.line_num
        if any(cell.strip() for cell in cells):
            yield first_line, cells


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return
    yield first.removeprefix("\ufeff")
    yield from lines


def _read_header(row: int, cells: list[str]) -> tuple[dict[str, int], list[MinutesProblem]]:
    columns: dict[str, int] = {}
    problems: list[MinutesProblem] = []
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        if not name:
            problems.append(MinutesProblem(row, f"column {index + 1} has no name"))
        elif name not in _KNOWN_COLUMNS:
            problems.append(
                MinutesProblem(row, f"unknown column {cell.strip()!r}; known: {', '.join(_KNOWN_COLUMNS)}")
            )
        elif name in columns:
            problems.append(MinutesProblem(row, f"column {name!r} appears twice"))
        else:
            columns[name] = index
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(MinutesProblem(row, f"missing required column {name!r}"))
    return columns, problems


def _read_row(row: int, values: dict[str, str]) -> tuple[MinutesRow | None, list[MinutesProblem]]:
    problems: list[MinutesProblem] = []

    def problem(message: str) -> None:
        problems.append(MinutesProblem(row, message))

    claim_id = values["claim_id"]
    if not claim_id:
        problem("claim_id is empty")

    line: int | None = None
    if values["line"]:
        number = whole_number(values["line"])
        if number is not None and number > 0:
            line = number
        else:
            problem(f"line must be a positive whole number (LX01), got {values['line']!r}")

    minutes = whole_number(values["minutes"])
    if minutes is None:
        if not values["minutes"]:
            problem("minutes is empty")
        elif re.fullmatch(_NEGATIVE_WHOLE_NUMBER, values["minutes"]):
            problem(f"minutes must not be negative, got {values['minutes']!r}")
        else:
            problem(f"minutes must be a whole number, got {values['minutes']!r}")
    elif minutes > MINUTES_PER_DAY:
        problem(f"minutes {minutes} are more than a day ({MINUTES_PER_DAY}) on one line; this row is not used")

    procedure = values.get("procedure", "").upper() or None
    service_date = values.get("service_date", "") or None
    if service_date is not None and not _is_ccyymmdd(service_date):
        problem(f"service_date must be a real date written CCYYMMDD, got {service_date!r}")
    time_block = values.get("time_block", "") or None
    clinician = values.get("clinician", "").lower() or None
    if clinician is not None and clinician not in CLINICIANS:
        problem(f"clinician must be {' or '.join(CLINICIANS)} (or empty), got {values['clinician']!r}")

    if not values["line"]:
        # A row without a line stands for a service nobody billed; without its code and
        # date the engine cannot place its minutes in a day's total.
        if procedure is None:
            problem("a row without a line (an unbilled service) needs a procedure")
        if service_date is None:
            problem("a row without a line (an unbilled service) needs a service_date")

    if problems:
        return None, problems
    return MinutesRow(row, claim_id, line, minutes, procedure, service_date, time_block, clinician), []


@lru_cache(maxsize=4096)  # an export has a few hundred distinct dates in a million rows
def _is_ccyymmdd(text: str) -> bool:
    match = re.fullmatch(_CCYYMMDD, text)
    if match is None:
        return False
    try:
        date(*(int(part) for part in match.groups()))
    except ValueError:
        return False
    return True


#: Minutes in a 2400 NTE line note. Case-insensitive; the number is the named group
#: ``minutes``. It reads a number after MIN/MINS/MINUTE/MINUTES (optionally followed by
#: ``:``, ``=``, ``-`` or ``#``), as in ``MIN 38``, ``MINUTES:38``, ``TIMED MINUTES 38``,
#: or a number before them, as in ``38 MIN`` and ``38MIN``. ``\b`` keeps ``ADMIN`` and
#: ``MINIMAL`` out; ``MIN ASSIST`` has no number and does not match. Pass another
#: pattern (a payer's companion-guide format) to :func:`minutes_from_note`.
DEFAULT_NOTE_PATTERN = re.compile(
    r"""
    (?:
        \bMIN(?:UTE)?S?\b \s* [:=#-]? \s*          # MIN 38, MINUTES:38, TIMED MINUTES 38
      | \b(?=[0-9]{1,4} \s* MIN(?:UTE)?S?\b)       # 38 MIN: look ahead, then take the number
    )
    (?P<minutes>[0-9]{1,4})(?![0-9])              # not \b: 38MIN has no boundary after 38
    """,
    re.IGNORECASE | re.VERBOSE,
)


def minutes_from_note(text: str, pattern: re.Pattern[str] | str = DEFAULT_NOTE_PATTERN) -> int | None:
    """Minutes written in a line note (NTE02), or ``None``.

    Every match of ``pattern`` is read. One value (however often repeated) is the answer.
    No match, or two different values (``6 MIN WALK TEST, 38 MIN``; ``TIMED MIN 38
    TOTAL MIN 53``), gives ``None``: a note that names two numbers is not evidence for
    either. A number above :data:`MINUTES_PER_DAY` is not minutes of one line either. Only
    the first :data:`MAX_NOTE_LENGTH` characters are read.

    Args:
        text: the note text.
        pattern: a compiled pattern, or a string compiled case-insensitively. Either must
            have a named group ``minutes`` matching digits.

    Raises:
        ValueError: the pattern has no group named ``minutes`` (a configuration error).
    """
    compiled = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
    if "minutes" not in compiled.groupindex:
        raise ValueError(f"note pattern {compiled.pattern!r} has no named group 'minutes'")
    text = text[:MAX_NOTE_LENGTH]  # a pattern's time grows with the text; the TR3 allows 80
    found = {_day_minutes(match.group("minutes")) for match in compiled.finditer(text)}
    return found.pop() if len(found) == 1 else None  # {None}: not a number, or more than a day


def _day_minutes(text: str) -> int | None:
    """``text`` as minutes: a whole number no larger than :data:`MINUTES_PER_DAY`."""
    minutes = whole_number(text)
    return minutes if minutes is not None and minutes <= MINUTES_PER_DAY else None


def minutes_from_notes(notes: Iterable[str], pattern: re.Pattern[str] | str = DEFAULT_NOTE_PATTERN) -> int | None:
    """The minutes a line's notes (2400 NTE02) record: the one number they agree on, or
    ``None`` when none records minutes or two record different numbers (which to believe
    is the clinician's call, not ours)."""
    found = {m for m in (minutes_from_note(note, pattern) for note in notes) if m is not None}
    return found.pop() if len(found) == 1 else None


def minutes_from_mj(unit_basis: str, quantity: str | Decimal) -> int | None:
    """Minutes carried in SV104 when SV103 is ``MJ``, or ``None``.

    ``MJ`` (minutes) is the anesthesia basis; therapy lines should bill ``UN`` units, and
    rule U107 says so. When a line uses it anyway, SV104 is the only record of time.
    Returns ``None`` for any other basis, for a quantity that is not a non-negative whole
    number (``61.5`` minutes is not something to round for the clinician), and for one
    above :data:`MINUTES_PER_DAY`.
    """
    if unit_basis.strip().upper() != "MJ":
        return None
    value = decimal_number(quantity.strip()) if isinstance(quantity, str) else quantity
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value != value.to_integral_value():
        return None
    if value > MINUTES_PER_DAY:
        return None  # more than a day is not minutes of one line
    return int(value)


class MinutesSource(StrEnum):
    """Where a line's minutes were found."""

    SIDECAR = "sidecar"
    NOTE = "note"
    MJ = "mj"


#: Strongest first: the EMR's record of care, then what billing staff wrote in the
#: claim, then a misused unit basis.
MINUTES_PRECEDENCE: tuple[MinutesSource, ...] = (
    MinutesSource.SIDECAR,
    MinutesSource.NOTE,
    MinutesSource.MJ,
)


def line_minutes(
    sidecar: int | None = None,
    note: int | None = None,
    mj: int | None = None,
) -> tuple[int, MinutesSource] | None:
    """The minutes to believe for one line and where they came from.

    Pass what each source gave for the line (``MinutesTable.minutes_for``,
    :func:`minutes_from_note`, :func:`minutes_from_mj`); ``None`` means it had nothing.
    The first source in :data:`MINUTES_PRECEDENCE` with a value wins, even when it is 0.
    Returns ``None`` when no source has minutes.
    """
    found = {MinutesSource.SIDECAR: sidecar, MinutesSource.NOTE: note, MinutesSource.MJ: mj}
    for source in MINUTES_PRECEDENCE:
        minutes = found[source]
        if minutes is not None:
            return minutes, source
    return None
