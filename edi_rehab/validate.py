"""Implementation-guide validation with pyx12, and the 999 it writes: bytes in, values out.

Theory of operation
-------------------
pyx12 4.0.0 (``x12n_document``) knows the 005010X222A1 and 005010X221A1 guides, but it is
fussy about what it is fed and reports positions relative to what it was fed. So our own
reader goes first and pyx12 only ever sees text it can read:

1. :func:`plan_validation` parses the input with :mod:`edi_rehab.x12` (BOM, leading
   whitespace and empty segments are tolerated there and reported as issues here) and cuts
   it into :class:`Chunk` values. Each chunk is one interchange-shaped text: the segment
   texts joined by that interchange's own terminator, decoded as latin-1 so every byte
   stays one character (pyx12 raises ``UnicodeDecodeError`` on non-ASCII bytes; fed this
   way it reports them as invalid characters on the element, IK4 code 6). A chunk is

   * a whole interchange (``split=False``), pyx12 sees the real GE and IEA; or
   * one or more consecutive ST..SE of one functional group wrapped in a copy of the
     original ISA and GS and a synthetic ``GE*n*<GS06>`` / ``IEA*1*<ISA13>``
     (``split=True``), so chunks can run in parallel processes.

   Groups whose GS08 pyx12 has no map for (``005010X222A2``...) are left out of every chunk
   and reported as ``no-map``: pyx12 would raise ``EngineError`` half-way through.
2. :func:`validate_chunk` (top level, picklable: the process-pool worker) runs pyx12 on one
   chunk text and returns its findings in *fed-line* terms (pyx12 numbers the segments it
   read from 1), its 999 text, and why it failed or built no 999, never an exception.
3. :func:`assemble` maps fed lines back to segment positions in the file the user gave
   (``Chunk.positions[line - 1]``; synthetic segments map to ``None`` and their findings
   are dropped), adds the envelope checks, and builds the :class:`ValidationResult`.

Invariants:

1. Issues do not depend on how the input was chunked: ``jobs=1`` (whole interchanges) and
   ``jobs=2`` (split) give equal issue tuples. To hold this, the checks a split would lose
   or fake (GE01/IEA01 counts, GE02/IEA02 control numbers, duplicate ISA13/GS06/ST02) come
   from our reader in *both* modes, and pyx12's versions of them are dropped in both.
2. Every issue names a 1-based segment position in the original file, and its message
   carries no element values (pyx12's texts are masked; see :func:`_mask`).
3. Nothing here opens files, prints, or lets a pyx12 exception or traceback out.

Issue codes: pyx12's findings keep its code, prefixed with the 999 segment that carries
that level (``IK3-3`` required segment missing, ``IK4-7`` invalid code value, ``IK5-4``
wrong SE01, ``AK9-5`` wrong GE01, ``TA1-021`` wrong IEA01; pyx12's own extras such as
``IK3-HL1`` keep their name). Issues pyx12 cannot give are plain words: ``unreadable``,
``no-map``, ``pyx12-failed``, ``unlocated``, ``empty-segment``, and the warnings ``bom``,
``leading-whitespace``, ``trailing-bytes``.

The 999: with whole interchanges it is pyx12's text, unchanged. With split chunks pyx12
writes one 999 per chunk; :func:`_merge_acks` keeps its AK2..IK5 blocks verbatim and
rebuilds the frame around them (one ST*999 per original group, AK9 counted over the
group, TA1 code from our envelope checks). pyx12 4.0.0 cannot build a 999 for an 835
without ST03 (``EngineError: err_st.vriic was not set``, swallowed and logged inside
``x12n_document``); the interchange then has no 999 and :attr:`InterchangeAck.problem`
says why, while its issues are reported as usual. For 004010 input pyx12 writes a 997.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from functools import cache

import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from .findings import Finding, Severity
from .x12 import Document, Group, Interchange, Segment, Transaction, X12ReadError, parse
from .x12.numbers import whole_number

__all__ = [
    "ValidationStatus",
    "ValidationIssue",
    "InterchangeAck",
    "ValidationResult",
    "Chunk",
    "ChunkIssue",
    "ChunkOutcome",
    "ValidationPlan",
    "validate_bytes",
    "plan_validation",
    "validate_chunk",
    "assemble",
    "DEFAULT_MIN_CHUNK_BYTES",
]

#: Each chunk is one pyx12 run; with its maps loaded once per process (see
#: :func:`_maps_loaded_once`) a run's setup is small, but a chunk should still be big
#: enough that validation, not handing the chunk over, dominates.
DEFAULT_MIN_CHUNK_BYTES = 128 * 1024
#: With ``jobs`` workers, aim for this many chunks per worker so uneven chunks even out.
CHUNKS_PER_WORKER = 4

_ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})

#: Which 999 segment carries each pyx12 error level (the prefix of an issue code).
_LEVEL_PREFIX = {"isa": "TA1", "gs": "AK9", "st": "IK5", "seg": "IK3", "ele": "IK4"}

#: pyx12 findings replaced by our reader's envelope checks in every mode (invariant 1):
#: IEA02/ISA13 mismatch, IEA01 count, duplicate ISA13; GE02/GS06 mismatch, GE01 count,
#: duplicate GS06 (pyx12 files it under AK9 6); duplicate ST02.
_REPLACED_PYX12_CODES = frozenset({"TA1-001", "TA1-021", "TA1-025", "AK9-4", "AK9-5", "AK9-6", "IK5-23"})

#: Transaction-level codes that are about the ST (the rest are about the SE).
_ST_CODES = frozenset({"1", "6", "7", "23"})

#: Wording for element errors when pyx12's own text cannot be masked safely
#: (IK403 code list of the 999, 005010X231A1).
_ELEMENT_ERRORS = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
}


# -- values ---------------------------------------------------------------------------------
class ValidationStatus(str, Enum):
    VALID = "valid"
    INVALID = "invalid"
    #: Validity could not be decided: not X12, no map for the version, or pyx12 failed.
    UNREADABLE = "unreadable"

    @property
    def rank(self) -> int:
        """Worse is higher; across several inputs the worst wins."""
        return {"valid": 0, "invalid": 1, "unreadable": 2}[self.value]


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One validation error or warning, located in the file the user gave."""

    #: 1-based position of the segment in the original file (0: before any segment).
    segment: int
    #: The id of the segment at that position (``""`` when there is none).
    segment_id: str
    #: ``NM103``, ``SV101-2``... when the issue is about one element.
    element: str | None
    #: See the module docstring (``IK4-7``, ``no-map``...).
    code: str
    #: What is wrong, without element values.
    message: str
    severity: Severity = Severity.ERROR

    def to_json(self) -> dict:
        return {
            "segment": self.segment,
            "segment_id": self.segment_id,
            "element": self.element,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }

    def to_finding(self, prefix: str = "IG-") -> Finding:
        """The issue as a :class:`~edi_rehab.findings.Finding` of its own code family."""
        return Finding(f"{prefix}{self.code}", self.severity, self.message, self.segment)


@dataclass(frozen=True, slots=True)
class InterchangeAck:
    """The acknowledgment for one interchange of the input."""

    #: 1-based index of the interchange in the input.
    interchange: int
    #: File position of its ISA.
    segment: int
    #: The 999 (997 for 004010) as pyx12 wrote it, ``ISA`` through ``IEA``; ``None`` when
    #: there is none. Encode with latin-1 to echo non-ASCII input bytes unchanged.
    text: str | None
    #: Why there is no 999 (``None`` when there is one).
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ValidationResult:
    status: ValidationStatus
    issues: tuple[ValidationIssue, ...]
    #: One per interchange of the input, in file order.
    acks: tuple[InterchangeAck, ...]
    interchange_count: int
    transaction_count: int
    #: How many pyx12 runs it took (one per interchange, or per split chunk).
    chunk_count: int = 0
    split: bool = False

    @property
    def valid(self) -> bool:
        return self.status is ValidationStatus.VALID

    @property
    def ack_999(self) -> str | None:
        """Every 999 that was built, concatenated in file order (each is ISA..IEA)."""
        texts = [ack.text for ack in self.acks if ack.text]
        return "".join(texts) if texts else None

    @property
    def notes(self) -> tuple[str, ...]:
        """Why some interchanges have no 999."""
        return tuple(
            f"interchange {ack.interchange} (segment {ack.segment}): {ack.problem}"
            for ack in self.acks
            if ack.problem
        )

    @property
    def error_count(self) -> int:
        return sum(1 for issue in self.issues if issue.severity is Severity.ERROR)

    def to_json(self) -> dict:
        return {
            "status": self.status.value,
            "interchanges": self.interchange_count,
            "transactions": self.transaction_count,
            "issues": [issue.to_json() for issue in self.issues],
            "acks": [
                {
                    "interchange": ack.interchange,
                    "segment": ack.segment,
                    "built": ack.text is not None,
                    "problem": ack.problem,
                }
                for ack in self.acks
            ],
        }


# -- the plan: what pyx12 is fed ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Chunk:
    """One pyx12 run: an interchange-shaped text and where each of its segments came from."""

    #: 0-based index of the original interchange.
    interchange: int
    #: 0-based index of the group inside that interchange (``None``: a whole interchange).
    group: int | None
    text: str
    #: ``positions[line - 1]`` is the file position of the segment pyx12 numbers ``line``;
    #: ``None`` for the synthetic GE and IEA of a split chunk.
    positions: tuple[int | None, ...]
    transaction_count: int


@dataclass(frozen=True, slots=True)
class _GroupFacts:
    """What the split 999 merge needs to know about an original functional group."""

    declared_count: str  # GE01 as written
    received_count: int
    error_codes: tuple[str, ...]  # AK905 codes from our envelope checks
    #: 0-based indexes (in the group) of transactions whose ST02 repeats an earlier one.
    duplicate_transactions: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ValidationPlan:
    """Everything :func:`assemble` needs besides the pyx12 outcomes (no pyx12 run yet)."""

    chunks: tuple[Chunk, ...]
    #: Issues known before pyx12 runs: reader defects, envelope checks, unmapped groups.
    issues: tuple[ValidationIssue, ...]
    #: Per interchange: file position of its ISA.
    isa_positions: tuple[int, ...]
    #: Per interchange: why nothing in it can be validated (``None``: something can).
    skipped: tuple[str | None, ...]
    #: Per interchange, per group (split 999 merge).
    groups: tuple[tuple[_GroupFacts, ...], ...]
    #: Per interchange: TA1 codes from our envelope checks (split 999 merge).
    interchange_codes: tuple[tuple[str, ...], ...]
    transaction_count: int
    split: bool
    #: Set when the input is not readable X12 at all.
    unreadable: bool = False


# -- pyx12's side: one chunk --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChunkIssue:
    """A pyx12 finding in the terms of the chunk it read."""

    #: pyx12's segment number in the chunk (1 is the ISA).
    line: int
    #: The id of the segment pyx12 read at that line.
    segment_id: str
    element: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    #: pyx12's verdict (``x12n_document``'s return value).
    accepted: bool
    issues: tuple[ChunkIssue, ...] = ()
    #: The 999 pyx12 wrote, or ``None``.
    ack: str | None = None
    #: Why pyx12 wrote no (complete) 999.
    ack_problem: str | None = None
    #: Set when pyx12 could not validate the chunk at all (the chunk is unreadable).
    failure: str | None = None


def validate_chunk(text: str) -> ChunkOutcome:
    """Run pyx12 on one interchange-shaped text. The process-pool worker; never raises."""
    try:
        # x12n_document turns an unreadable ISA into a bare False; ask the reader first
        # so the reason is known.
        pyx12.x12file.X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error as error:
        return _failed(f"pyx12 cannot read the interchange: {_first_clause(error)}")
    except Exception as error:  # pragma: no cover - defensive: pyx12 must not escape
        return _failed(f"pyx12 failed reading the interchange ({type(error).__name__})")

    segment_ids: dict[int, str] = {}
    header_lines: dict[str, list[int]] = {"GS": [], "ST": []}
    envelope_issues: list[ChunkIssue] = []

    def on_segment(seg, src, node, valid) -> None:
        # pyx12 keeps element errors of ISA/GS/ST/SE/GE/IEA out of its JSON; the map node
        # can re-check them as values (segment_if.is_valid_errors has no side effects).
        line = src.get_cur_line()
        seg_id = seg.get_seg_id()
        segment_ids[line] = seg_id
        if seg_id in header_lines:
            header_lines[seg_id].append(line)
        if seg_id in _ENVELOPE_IDS and getattr(node, "id", None) == seg_id:
            for refdes, code, text, value in _envelope_errors(node, seg):
                envelope_issues.append(_element_issue(line, seg_id, refdes, code, text, value))

    ack_out = io.StringIO()
    json_out = io.StringIO()
    with _pyx12_log() as log, _maps_loaded_once():
        try:
            accepted = pyx12.x12n_document.x12n_document(
                _default_params(), io.StringIO(text), ack_out, None, None, json_out, callback=on_segment
            )
        except pyx12.errors.EngineError as error:
            return _failed(f"pyx12 could not validate the interchange: {_first_clause(error)}")
        except (pyx12.errors.X12Error, UnicodeDecodeError) as error:
            return _failed(f"pyx12 cannot read the interchange: {_first_clause(error)}")
        except Exception as error:
            reason = f"{type(error).__name__}: {_first_clause(error)}"
            return _failed(f"pyx12 4.0.0 failed validating the interchange ({reason})")
    if log.callback_failed:
        return _failed("pyx12's findings could not be read back (callback failed)")
    try:
        tree = json.loads(json_out.getvalue())
    except ValueError:
        return _failed(f"pyx12 wrote no error report ({log.json_failure or 'empty output'})")
    issues = list(_issues_from_tree(tree, segment_ids, header_lines)) + envelope_issues

    ack: str | None = ack_out.getvalue()
    ack_problem = None
    # A swallowed failure leaves a 999 cut short: it must end with its IEA to be used.
    if log.ack_failure or not ack.rstrip().rsplit("\n", 1)[-1].startswith("IEA"):
        if log.ack_failure:
            ack_problem = f"pyx12 4.0.0 failed to build the 999 ({log.ack_failure})"
        elif not ack:
            ack_problem = "pyx12 wrote no 999 (it writes none for a functional acknowledgment)"
        else:
            ack_problem = "pyx12 wrote an incomplete 999"
        ack = None
    return ChunkOutcome(bool(accepted), tuple(issues), ack, ack_problem)


def _envelope_errors(node, seg) -> tuple[tuple, ...]:
    """``(refdes, code, text, value)`` of each element error pyx12's map node finds in an
    envelope segment, remembered on the node by the segment's text.

    A file of many small interchanges repeats most envelope segments (GS, ST, SE, GE with
    the same numbers), and re-checking each was about a twentieth of validate's time. The
    check depends only on the node and the values, and the memo lives and dies with the
    node (loaded once per process, or afresh for every run).
    """
    # On the node, not in a dict keyed by it: pyx12's nodes compare and hash by their ids,
    # so the 4010 and 5010 control maps' ISA nodes would share one entry.
    memo = getattr(node, "_edi_rehab_envelope_errors", None)
    if memo is None:
        memo = {}
        try:
            node._edi_rehab_envelope_errors = memo
        except AttributeError:  # a node that takes no attributes: check every time
            pass
    key = seg.format()
    found = memo.get(key)
    if found is None:
        _ok, errors = node.is_valid_errors(seg)
        found = tuple((error.refdes, error.err_cde, error.err_str, error.err_val) for error in errors)
        if len(memo) < 4096:  # interchange control numbers differ in every ISA: bound the memo
            memo[key] = found
    return found


def _failed(reason: str) -> ChunkOutcome:
    return ChunkOutcome(False, failure=reason)


def _issues_from_tree(
    tree: dict, segment_ids: dict[int, str], header_lines: dict[str, list[int]]
) -> Iterator[ChunkIssue]:
    """Walk pyx12's JSON error tree (``errh_json``) into :class:`ChunkIssue` values.

    A closed loop's ``cur_line`` is its trailer's line; the header's line comes from the
    callback, in the same order pyx12 met them.
    """
    gs_lines = iter(header_lines["GS"])
    st_lines = iter(header_lines["ST"])

    def issue(line: int, level: str, code: str, message: str, element: str | None = None) -> ChunkIssue:
        return ChunkIssue(line, segment_ids.get(line, ""), element, f"{_LEVEL_PREFIX[level]}-{code}", message)

    for isa in tree.get("interchanges", []):
        for error in isa["errors"]:
            line = 1 if error["err_cde"] == "025" else isa["cur_line"]
            yield issue(line, "isa", error["err_cde"], error["err_str"])
        for gs in isa["groups"]:
            gs_line = next(gs_lines, gs["cur_line"])
            for error in gs["errors"]:
                line = gs_line if error["err_cde"] == "6" else gs["cur_line"]
                yield issue(line, "gs", error["err_cde"], error["err_str"])
            for st in gs["transactions"]:
                st_line = next(st_lines, st["cur_line"])
                for error in st["errors"]:
                    line = st_line if error["err_cde"] in _ST_CODES else st["cur_line"]
                    yield issue(line, "st", error["err_cde"], error["err_str"])
                for seg in st["segments"]:
                    line = seg["cur_line"]
                    for error in seg["errors"]:
                        message = _segment_message(error["err_str"], error["err_val"], seg["seg_id"])
                        yield issue(line, "seg", error["err_cde"], message)
                    for ele in seg["elements"]:
                        refdes = f"{seg['seg_id']}{ele['ele_pos']:02d}"
                        if ele["subele_pos"]:
                            refdes += f"-{ele['subele_pos']}"
                        for error in ele["errors"]:
                            yield _element_issue(
                                line,
                                segment_ids.get(line, ""),
                                refdes,
                                error["err_cde"],
                                error["err_str"],
                                error["err_val"],
                                ele["name"],
                            )


_CODE_SHAPE = re.compile(r"[A-Z0-9]{1,3}")


def _element_issue(
    line: int,
    segment_id: str,
    refdes: str | None,
    code: str,
    text: str,
    value: str | None,
    name: str | None = None,
) -> ChunkIssue:
    # A bad code value is a code, not patient data, and the user needs to see it (as
    # pyx12's x12valid shows it). Only a code's shape is shown: up to 3 letters or digits,
    # so a name that slid into a code element by a lost separator still stays out.
    shows_code = code == "7" and value is not None and _CODE_SHAPE.fullmatch(value) is not None
    message = text if shows_code else _mask(text, value)
    if message is None:
        what = _ELEMENT_ERRORS.get(code, f"element error {code}")
        message = f'{refdes} "{name}": {what}' if name else f"{refdes}: {what}"
    return ChunkIssue(line, segment_id, refdes, f"IK4-{code}", message)


def _segment_message(text: str, value: str | None, seg_id: str) -> str:
    # Two pyx12 texts quote segment content rather than one element value.
    if text.startswith("Segment ") and " not found." in text:
        searched = text.split("Started at ", 1)[1].strip() if "Started at " in text else None
        return f"Segment {seg_id} not found" + (f" (searched from {searched})" if searched else "")
    if text.startswith('Segment identifier "'):
        return "Segment identifier is invalid"
    if text.startswith('Segment "') and text.endswith(" is empty"):
        return "Segment is empty"
    masked = _mask(text, value)
    return masked if masked is not None else "Segment has data element errors"


def _mask(text: str, value: str | None) -> str | None:
    """pyx12's message with the element value taken out, or ``None`` if it still shows.

    pyx12 quotes the value as ``(value)`` or ``"value"``; values are patient data as often
    as not, so a message that would still contain one is not used at all.
    """
    if not value:
        return text
    masked = text.replace(f"({value})", "(…)").replace(f'"{value}"', '"…"')
    if re.search(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", masked):
        return None
    return masked


def _first_clause(error: BaseException) -> str:
    # pyx12 appends the whole ISA to some messages ("... unknown: 00502 for ISA*..."):
    # keep the part that says what is wrong.
    text = str(error).strip() or type(error).__name__
    return text.split(" for ISA", 1)[0].split("\n", 1)[0]


class _LogWatch(logging.Handler):
    """Collects what pyx12 logs about failures it swallowed, from this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.ack_failure: str | None = None
        self.json_failure: str | None = None
        self.callback_failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        message = record.getMessage()
        reason = _first_clause(record.exc_info[1]) if record.exc_info and record.exc_info[1] else message
        if message.startswith(("Failed to create 999", "Failed to create 997")):
            self.ack_failure = reason
        elif message.startswith("Failed to write JSON"):
            self.json_failure = reason
        elif message == "callback failed":
            self.callback_failed = True


# pyx12 parses its XML map (about 0.2 s for the 837P guide) and its map index on every
# x12n_document call, and this module calls it once per interchange or chunk: a file of 300
# small interchanges spent ~100 s loading maps against pyx12's own 2.4 s for the whole file
# (issue 12). A loaded map is only read while validating (the walker keeps its counts
# outside the map), so one per (map file, map folder) serves every run in the process.
_map_lock = threading.Lock()
_map_users = 0
_pyx12_loaders: tuple = ()


@cache
def _default_params() -> pyx12.params.ParamsBase:
    # pyx12 reads its defaults (and looks for config files on disk) for every params();
    # they are only read during a run, so one serves the process.
    return pyx12.params.params()


@cache
def _loaded_map(map_file: str, map_path: str | None):
    load, _index = _pyx12_loaders
    return load(map_file, _default_params(), map_path)


@cache
def _loaded_index(map_path: str | None):
    _load, index = _pyx12_loaders
    return index(map_path)


def _load_map_once(map_file: str, param, map_path: str | None = None):
    # Every run here passes pyx12's default params, so the first load's params serve all.
    return _loaded_map(map_file, map_path)


def _index_once(base_path: str | None = None):
    return _loaded_index(base_path)


@contextmanager
def _maps_loaded_once() -> Iterator[None]:
    """While pyx12 runs here, its map loaders answer from a per-process cache.

    The loaders are swapped only for the duration (and put back when the last concurrent
    run ends), so other code in the process that uses pyx12 directly sees pyx12 as it is.
    """
    global _map_users, _pyx12_loaders
    with _map_lock:
        if _map_users == 0:
            _pyx12_loaders = (pyx12.map_if.load_map_file, pyx12.map_index.map_index)
            pyx12.map_if.load_map_file = _load_map_once
            pyx12.map_index.map_index = _index_once
        _map_users += 1
    try:
        yield
    finally:
        with _map_lock:
            _map_users -= 1
            if _map_users == 0:
                pyx12.map_if.load_map_file, pyx12.map_index.map_index = _pyx12_loaders


@contextmanager
def _pyx12_log() -> Iterator[_LogWatch]:
    """Listen to pyx12's logger while it runs.

    pyx12 logs every finding, and the tracebacks of the 999 failures it swallows, at ERROR;
    with no handler of its own Python would print them all to stderr. A handler on the
    ``pyx12`` logger keeps them off stderr (and tells us about the swallowed failures)
    without touching the application's logging configuration. The logger's level is
    lowered to ERROR for the run (and restored), because a caller that silenced pyx12 by
    raising its level would otherwise hide the 999 failures from us too.
    """
    watch = _LogWatch()
    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.addHandler(watch)
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    try:
        yield watch
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)


# -- our side: plan and assemble ----------------------------------------------------------------
def validate_bytes(
    data: bytes, *, jobs: int = 1, chunk_bytes: int | None = None, executor: Executor | None = None
) -> ValidationResult:
    """Validate an X12 input against its implementation guide.

    Args:
        data: the input, exactly as received (a BOM or leading whitespace is fine).
        jobs: worker processes. ``1`` validates whole interchanges in this process and
            returns pyx12's own 999s; more splits the input by transaction (see the
            module docstring) and validates the chunks in parallel.
        chunk_bytes: split chunks hold whole transactions up to about this many bytes
            (``1``: one transaction per chunk). Giving it splits even with ``jobs=1``.
            Default: the input divided among ``4 * jobs`` chunks, at least
            :data:`DEFAULT_MIN_CHUNK_BYTES`.
        executor: run chunks here instead of a new process pool (batch runs share one).

    Returns:
        A :class:`ValidationResult`; unreadable input is a result too, never an exception.
    """
    if jobs < 1:
        raise ValueError("jobs must be 1 or more")
    split = jobs > 1 or chunk_bytes is not None
    if split and chunk_bytes is None:
        chunk_bytes = max(DEFAULT_MIN_CHUNK_BYTES, len(data) // (CHUNKS_PER_WORKER * jobs))
    plan = plan_validation(data, split=split, chunk_bytes=chunk_bytes or 0)
    texts = [chunk.text for chunk in plan.chunks]
    if executor is not None and texts:
        outcomes = list(executor.map(validate_chunk, texts))
    elif jobs > 1 and len(texts) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(texts))) as pool:
            outcomes = list(pool.map(validate_chunk, texts))
    else:
        outcomes = [validate_chunk(text) for text in texts]
    return assemble(plan, outcomes)


def plan_validation(data: bytes, *, split: bool = False, chunk_bytes: int = 0) -> ValidationPlan:
    """Read ``data`` with our reader and cut it into the chunks pyx12 will be fed."""
    try:
        document = parse(data)
    except X12ReadError as error:
        issue = ValidationIssue(error.segment, "", None, "unreadable", error.message)
        return ValidationPlan((), (issue,), (), (), (), (), 0, split, unreadable=True)
    issues = list(_reader_issues(document)) + list(_envelope_issues(document))
    chunks: list[Chunk] = []
    skipped: list[str | None] = []
    groups: list[tuple[_GroupFacts, ...]] = []
    interchange_codes: list[tuple[str, ...]] = []
    for index, interchange in enumerate(document.interchanges):
        mapped = []
        for group in interchange.groups:
            problem = _missing_map(interchange, group.header.segment)
            if problem:
                issues.append(ValidationIssue(group.header.segment.position, "GS", "GS08", "no-map", problem))
            else:
                mapped.append(group)
        if interchange.groups and not mapped:
            skipped.append("no 999: pyx12 has no map for any functional group in this interchange")
        else:
            skipped.append(None)
            if split:
                chunks += _split_chunks(index, interchange, mapped, chunk_bytes)
            else:
                chunks.append(_whole_chunk(index, interchange, mapped))
        groups.append(tuple(_group_facts(group, issues) for group in interchange.groups))
        interchange_codes.append(_interchange_codes(interchange, issues))
    return ValidationPlan(
        tuple(chunks),
        tuple(issues),
        tuple(ic.header.segment.position for ic in document.interchanges),
        tuple(skipped),
        tuple(groups),
        tuple(interchange_codes),
        sum(1 for _ in document.transactions()),
        split,
    )


def assemble(plan: ValidationPlan, outcomes: Iterable[ChunkOutcome]) -> ValidationResult:
    """Map each chunk's findings back to file positions and decide the status."""
    outcomes = list(outcomes)
    if len(outcomes) != len(plan.chunks):
        raise ValueError(f"{len(plan.chunks)} chunks but {len(outcomes)} outcomes")
    issues = list(plan.issues)
    failed = plan.unreadable or any(issue.code == "no-map" for issue in plan.issues)
    for chunk, outcome in zip(plan.chunks, outcomes):
        isa_position = plan.isa_positions[chunk.interchange]
        if outcome.failure:
            failed = True
            issues.append(ValidationIssue(isa_position, "ISA", None, "pyx12-failed", outcome.failure))
            continue
        for found in outcome.issues:
            position = chunk.positions[found.line - 1] if 0 < found.line <= len(chunk.positions) else None
            if position is None or found.code in _REPLACED_PYX12_CODES:
                continue
            issues.append(ValidationIssue(position, found.segment_id, found.element, found.code, found.message))
        if not outcome.accepted and not outcome.issues:
            message = "pyx12 rejected the interchange without naming a segment"
            issues.append(ValidationIssue(isa_position, "ISA", None, "unlocated", message))
    issues = sorted(set(issues), key=lambda i: (i.segment, i.element or "", i.code, i.message))
    if failed or not plan.chunks:
        status = ValidationStatus.UNREADABLE
    elif any(issue.severity is Severity.ERROR for issue in issues):
        status = ValidationStatus.INVALID
    else:
        status = ValidationStatus.VALID
    return ValidationResult(
        status,
        tuple(issues),
        tuple(_acks(plan, outcomes)),
        len(plan.isa_positions),
        plan.transaction_count,
        len(plan.chunks),
        plan.split,
    )


# -- chunks -------------------------------------------------------------------------------------
def _whole_chunk(index: int, interchange: Interchange, groups: list[Group]) -> Chunk:
    segments: list[Segment | bytes] = [interchange.header.segment]
    count = 0
    for group in groups:
        segments.append(group.header.segment)
        for transaction in group.transactions:
            segments += transaction.segments
            count += 1
        segments.append(group.trailer.segment)
    segments.append(interchange.trailer.segment)
    return _chunk(index, None, interchange, segments, count)


def _split_chunks(index: int, interchange: Interchange, groups: list[Group], chunk_bytes: int) -> Iterator[Chunk]:
    delimiters = interchange.delimiters
    el = delimiters.element
    isa13 = interchange.header.segment.elements[13] if len(interchange.header.segment.elements) > 13 else b""
    iea = b"IEA" + el + b"1" + el + isa13
    if not groups:
        empty_iea = b"IEA" + el + b"0" + el + isa13
        yield _chunk(index, None, interchange, [interchange.header.segment, empty_iea], 0)
        return
    group_index = {id(group): n for n, group in enumerate(interchange.groups)}
    for group in groups:
        gs06 = group.header.segment.elements[6] if len(group.header.segment.elements) > 6 else b""
        for batch in _batches(group.transactions, chunk_bytes):
            segments: list[Segment | bytes] = [interchange.header.segment, group.header.segment]
            for transaction in batch:
                segments += transaction.segments
            segments += [b"GE" + el + str(len(batch)).encode() + el + gs06, iea]
            yield _chunk(index, group_index[id(group)], interchange, segments, len(batch))


def _batches(transactions: list[Transaction], chunk_bytes: int) -> Iterator[list[Transaction]]:
    """Consecutive transactions, cut once a batch reaches ``chunk_bytes``; at least one."""
    batch: list[Transaction] = []
    size = 0
    for transaction in transactions:
        batch.append(transaction)
        size += len(transaction.raw)
        if size >= chunk_bytes:
            yield batch
            batch, size = [], 0
    if batch or not transactions:
        yield batch


def _chunk(
    index: int, group: int | None, interchange: Interchange, segments: list[Segment | bytes], count: int
) -> Chunk:
    terminator = interchange.delimiters.segment
    texts = [item.text if isinstance(item, Segment) else item for item in segments]
    positions = tuple(item.position if isinstance(item, Segment) else None for item in segments)
    # Only the segment texts: no BOM, no whitespace, no empty segments (pyx12 stops
    # reading silently at ``~~``). latin-1 keeps one character per byte.
    text = (terminator.join(texts) + terminator).decode("latin-1")
    return Chunk(index, group, text, positions, count)


# -- checks our reader makes --------------------------------------------------------------------
_READER_WARNINGS = {
    "bom": Severity.WARNING,
    "leading-whitespace": Severity.WARNING,
    "trailing-bytes": Severity.WARNING,
    # pyx12 never sees an empty segment (it would stop reading there), so report it here.
    "empty-segment": Severity.ERROR,
}


def _reader_issues(document: Document) -> Iterator[ValidationIssue]:
    ids = _segment_ids(document)
    for warning in document.warnings:
        severity = _READER_WARNINGS.get(warning.kind)
        if severity is not None:
            segment_id = ids.get(warning.segment, "")
            yield ValidationIssue(warning.segment, segment_id, None, warning.kind, warning.message, severity)


#: The reader's trailer warnings as the 999 codes pyx12 uses for them in a whole interchange.
_TRAILER_CODES = {
    ("GE", "count-mismatch"): "AK9-5",
    ("GE", "control-mismatch"): "AK9-4",
    ("IEA", "count-mismatch"): "TA1-021",
    ("IEA", "control-mismatch"): "TA1-001",
}


def _envelope_issues(document: Document) -> Iterator[ValidationIssue]:
    """Counts, control numbers and uniqueness of the envelopes: what a split would lose."""
    seen_isa13: set[str] = set()
    for interchange in document.interchanges:
        isa = interchange.header.segment
        isa13 = isa.element(13)
        if isa13 in seen_isa13:
            message = f"ISA13 {isa13} is not unique within the file"
            yield ValidationIssue(isa.position, "ISA", "ISA13", "TA1-025", message)
        seen_isa13.add(isa13)
        seen_gs06: set[str] = set()
        trailers = [interchange.trailer]
        for group in interchange.groups:
            gs = group.header.segment
            gs06 = gs.element(6)
            if gs06 in seen_gs06:
                message = f"GS06 {gs06} is not unique within the interchange"
                yield ValidationIssue(gs.position, "GS", "GS06", "AK9-19", message)
            seen_gs06.add(gs06)
            seen_st02: set[str] = set()
            for transaction in group.transactions:
                st02 = transaction.control_number
                if st02 in seen_st02:
                    message = f"ST02 {st02} is not unique within the functional group"
                    yield ValidationIssue(transaction.first_position, "ST", "ST02", "IK5-23", message)
                seen_st02.add(st02)
            trailers.append(group.trailer)
        for trailer in trailers:
            if trailer is None:
                continue
            seg_id = trailer.segment.id
            for warning in trailer.warnings:
                code = _TRAILER_CODES.get((seg_id, warning.kind))
                if code:
                    element = warning.element or f"{seg_id}02"
                    yield ValidationIssue(trailer.segment.position, seg_id, element, code, warning.message)


def _group_facts(group: Group, issues: list[ValidationIssue]) -> _GroupFacts:
    positions = {group.header.segment.position, group.trailer.segment.position if group.trailer else -1}
    codes = sorted({i.code[4:] for i in issues if i.code.startswith("AK9-") and i.segment in positions}, key=int)
    declared = group.trailer.segment.element(1) if group.trailer else ""
    duplicated = {i.segment for i in issues if i.code == "IK5-23"}
    duplicates = frozenset(n for n, tx in enumerate(group.transactions) if tx.first_position in duplicated)
    return _GroupFacts(declared, len(group.transactions), tuple(codes), duplicates)


def _interchange_codes(interchange: Interchange, issues: list[ValidationIssue]) -> tuple[str, ...]:
    # Only what pyx12 sees itself in a whole interchange (IEA02, IEA01): a duplicate ISA13
    # across interchanges is never in its TA1, so the split 999 leaves it out too.
    position = interchange.trailer.segment.position if interchange.trailer else -1
    codes = {i.code[4:] for i in issues if i.code in ("TA1-001", "TA1-021") and i.segment == position}
    return tuple(sorted(codes))


def _segment_ids(document: Document) -> dict[int, str]:
    ids: dict[int, str] = {}
    for interchange in document.interchanges:
        for event in interchange.events():
            if isinstance(event, Transaction):
                separator = event.delimiters.element
                for offset, text in enumerate(event.texts):
                    ids[event.first_position + offset] = text.split(separator, 1)[0].decode("latin-1")
            else:
                ids[event.segment.position] = event.segment.id
    return ids


@cache
def _map_index() -> pyx12.map_index.map_index:
    return pyx12.map_index.map_index()


def _missing_map(interchange: Interchange, gs: Segment) -> str | None:
    """Why pyx12 cannot validate this group, or ``None`` when it has a map for it."""
    icvn = interchange.header.segment.element(12)
    fic, vriic = gs.element(1), gs.element(8)
    if icvn not in ("00401", "00501"):
        return f"no implementation-guide map for ISA12 version {icvn or '(empty)'}"
    if _map_index().get_filename(icvn, vriic, fic) is None:
        other = "00401" if icvn == "00501" else "00501"
        if _map_index().get_filename(other, vriic, fic) is not None:
            # The guide exists, under the other envelope version: the real defect is the
            # mismatch (a 4010 group in a 5010 interchange, or the reverse).
            release = "4010" if other == "00401" else "5010"
            return (
                f"GS08 {vriic} is a {release} guide but ISA12 is {icvn}: the interchange's version "
                f"and the group's disagree, so no implementation-guide map applies"
            )
        return f"no implementation-guide map for {vriic or '(empty GS08)'} (GS01 {fic or '(empty)'})"
    return None


# -- acknowledgments ----------------------------------------------------------------------------
def _acks(plan: ValidationPlan, outcomes: list[ChunkOutcome]) -> Iterator[InterchangeAck]:
    by_interchange: dict[int, list[tuple[Chunk, ChunkOutcome]]] = {}
    for chunk, outcome in zip(plan.chunks, outcomes):
        by_interchange.setdefault(chunk.interchange, []).append((chunk, outcome))
    for index, position in enumerate(plan.isa_positions):
        number = index + 1
        runs = by_interchange.get(index, [])
        if not runs:
            problem = plan.skipped[index] or "no 999: nothing in it was validated"
            yield InterchangeAck(number, position, None, problem)
            continue
        problems = [outcome.failure or outcome.ack_problem for _, outcome in runs if outcome.ack is None]
        if problems:
            yield InterchangeAck(number, position, None, f"no 999: {problems[0]}")
        elif not plan.split:
            yield InterchangeAck(number, position, runs[0][1].ack)
        else:
            merged = _merge_acks(runs, plan.groups[index], plan.interchange_codes[index])
            problem = None if merged else "no 999: the 999s of its split chunks could not be merged"
            yield InterchangeAck(number, position, merged, problem)


_ACK_TERMINATOR = "~\n"  # pyx12 always writes ``~ * :`` and a newline after each segment


def _merge_acks(
    runs: list[tuple[Chunk, ChunkOutcome]],
    groups: tuple[_GroupFacts, ...],
    interchange_codes: tuple[str, ...],
) -> str | None:
    """One 999 for an interchange from the 999s pyx12 wrote for its split chunks.

    pyx12's AK2..IK5 blocks are kept verbatim, except that a transaction whose ST02 repeats
    gets the ``IK5*R*23`` pyx12 gives it in a whole interchange. The frame (ST, AK1, AK9,
    SE, GE, TA1, IEA) is rebuilt the way pyx12 builds it, with the group counts and the
    envelope codes our reader found.
    """
    parsed = []
    for chunk, outcome in runs:
        segments = [s for s in (outcome.ack or "").split(_ACK_TERMINATOR) if s]
        ids = [s.split("*", 1)[0] for s in segments]
        if ids[:4] != ["ISA", "GS", "ST", "AK1"] or "AK9" not in ids or ids[-1] != "IEA":
            return None
        ak9 = segments[ids.index("AK9")].split("*")
        parsed.append((chunk, segments[4 : ids.index("AK9")], ak9, segments[3]))
    first = [s for s in (runs[0][1].ack or "").split(_ACK_TERMINATOR) if s]
    isa, gs = first[0], first[1]
    out = [isa, gs]
    by_group: dict[int | None, list] = {}
    for item in parsed:
        by_group.setdefault(item[0].group, []).append(item)
    for st_number, (group_index, items) in enumerate(by_group.items(), start=1):
        facts = groups[group_index] if group_index is not None else _GroupFacts("0", 0, ())
        codes = set(facts.error_codes)
        body: list[str] = []
        for _chunk, chunk_body, ak9, _ak1 in items:
            body += chunk_body
            codes.update(ak9[5:])
        body = list(_mark_duplicates(body, facts.duplicate_transactions))
        accepted = sum(1 for segment in body if segment.split("*")[:2] in (["IK5", "A"], ["IK5", "E"]))
        received = facts.received_count
        declared = facts.declared_count.strip()
        number = whole_number(declared)
        declared = str(number) if number is not None else str(received)
        status = "A" if accepted == received and not codes else "R"
        group_codes = sorted(codes, key=_code_key)[:5]
        ak9_out = "*".join(["AK9", status, declared, str(received), str(accepted), *group_codes])
        segments_out = [f"ST*999*{st_number:04d}*005010X231", items[0][3], *body, ak9_out]
        out += segments_out + [f"SE*{len(segments_out) + 1}*{st_number:04d}"]
    gs06 = gs.split("*")[6] if gs.count("*") >= 6 else ""
    out.append(f"GE*{len(by_group)}*{gs06}")
    ta1 = next((s for s in first if s.startswith("TA1*")), None)
    if ta1 is not None:
        parts = ta1.split("*")
        if interchange_codes and parts[4:5] == ["A"]:
            parts[4:6] = ["R", interchange_codes[0]]
        out.append("*".join(parts))
    isa13 = isa.split("*")[13] if isa.count("*") >= 13 else ""
    out.append(f"IEA*1*{isa13}")
    return "".join(segment + _ACK_TERMINATOR for segment in out)


def _mark_duplicates(body: list[str], duplicates: frozenset[int]) -> Iterator[str]:
    """Add IK5 code 23 to the transactions (by index) whose ST02 repeats."""
    index = -1
    for segment in body:
        fields = segment.split("*")
        if fields[0] == "AK2":
            index += 1
        elif fields[0] == "IK5" and index in duplicates:
            # pyx12 sorts IK5 codes as text and keeps five.
            codes = sorted(set(fields[2:]) | {"23"})[:5]
            segment = "*".join(["IK5", "R", *codes])
        yield segment


def _code_key(code: str) -> tuple[int, str]:
    number = whole_number(code)
    return (number, "") if number is not None else (10**6, code)
