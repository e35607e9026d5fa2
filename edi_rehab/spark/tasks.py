"""What a Spark task runs: plain Python on one file or one run of transaction sets, no Spark.

The Spark job (:mod:`edi_rehab.spark.job`) only moves these values around; everything here
can be called, and is tested, without a cluster. A task gets either a whole small file's
bytes or a :class:`Span` (a byte range of whole transaction sets, found by
:func:`plan_file` from the ISA/GS/ST offsets), checks it with the same
:class:`~edi_rehab.engine.Checker` a plain ``check`` builds, and returns table rows.

A span knows its interchange, group, delimiters and the file position of its first segment,
so the reader resumes inside the group (:meth:`X12Stream.inside_group`) and every finding,
position and byte offset is the one a whole-file check gives. NCCI pairs and MUEs are scoped
to one transaction set (engine decision 4), which is why a transaction set is never cut.

Reading a span opens the file and reads its range (:func:`read_range`): this module and
the CLI are the only places that touch files, and the range reads need a path each executor
can open (local mode, or a shared mount on a cluster).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from ..gcpause import collector_paused
from ..x12 import EndOfInput, Transaction, X12ReadError
from ..x12.document import iter_events
from ..x12.stream import InterchangeHeader, X12Stream

if TYPE_CHECKING:  # pragma: no cover
    from ..batch import CheckRecipe
    from ..claims import Claim
    from ..engine import Checker
    from ..findings import Finding
    from ..x12.delimiters import Delimiters
    from ..x12.segments import Segment

__all__ = [
    "Source",
    "Span",
    "EnvelopeItem",
    "ErrorItem",
    "FINDING_COLUMNS",
    "CLAIM_COLUMNS",
    "LINE_COLUMNS",
    "PAYMENT_COLUMNS",
    "MATCH_COLUMNS",
    "ERROR_COLUMNS",
    "checker_for",
    "plan_file",
    "read_range",
    "span_transactions",
    "check_whole",
    "check_item",
    "cannot_be_read",
    "claim_keys",
    "remit_keys",
    "remit_rows",
    "match_remit_file",
]

#: The most entries a task's small lookup tables keep (a lake of endlessly varied codes
#: must not grow them without bound).
_CACHE_LIMIT = 50_000
#: Reading a file to plan it: in chunks of this size, so memory stays bounded by one transaction set.
READ_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Source:
    """One input of the job: its place in the run, how results name it, where to read it."""

    index: int
    #: the name the single-machine commands print (the path as given)
    name: str
    #: what an executor opens (a local path)
    location: str
    size: int


@dataclass(frozen=True, slots=True)
class Span:
    """Consecutive whole transaction sets of one file: bytes ``[start, end)``."""

    source: int
    start: int
    end: int
    #: file position of the first segment of the first transaction set
    first_position: int
    #: how many transaction sets the range holds
    count: int
    interchange: Segment
    group: Segment
    delimiters: Delimiters


@dataclass(frozen=True, slots=True)
class EnvelopeItem:
    """An envelope event of a planned file (ISA, GS, GE, IEA, end of input), checked as it is."""

    source: int
    event: Any

    @property
    def start(self) -> int:
        return _event_offset(self.event)


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """Where a file turned out unreadable: the findings before it stand."""

    source: int
    start: int
    message: str


# -- table columns (the job turns these into Spark schemas) --------------------------------------
#: ``item`` is the byte offset where the task's piece of the file starts and ``seq`` the
#: finding's place in it: sorted by (path, item, seq), findings come in check's order.
FINDING_COLUMNS = (
    ("path", "string"), ("file_date", "string"), ("offset", "long"), ("segment", "long"),
    ("item", "long"), ("seq", "long"),
    ("code", "string"), ("severity", "string"), ("message", "string"), ("claim_id", "string"),
    ("line", "long"), ("procedure", "string"), ("fix_applicability", "string"), ("fix_description", "string"),
    ("details", "string"),
)
CLAIM_COLUMNS = (
    ("path", "string"), ("file_date", "string"), ("offset", "long"), ("segment", "long"),
    ("transaction", "string"), ("claim_id", "string"), ("charge", "string"), ("place_of_service", "string"),
    ("frequency_code", "string"), ("payer_id", "string"), ("filing_indicator", "string"),
    ("rendering_npi", "string"), ("payer_claim_number", "string"), ("has_cob", "boolean"),
    ("lines", "long"), ("findings", "long"),
)
LINE_COLUMNS = (
    ("path", "string"), ("file_date", "string"), ("offset", "long"), ("segment", "long"),
    ("claim_id", "string"), ("claim_segment", "long"), ("line", "long"), ("qualifier", "string"),
    ("procedure", "string"), ("modifiers", "array<string>"), ("charge", "string"), ("unit_basis", "string"),
    ("units", "string"), ("service_date", "string"), ("control_number", "string"), ("rendering_npi", "string"),
)
PAYMENT_COLUMNS = (
    ("path", "string"), ("file_date", "string"), ("offset", "long"), ("segment", "long"),
    ("trace_number", "string"), ("payment_date", "string"), ("payer_id", "string"),
    ("remit_claim_id", "string"), ("claim_status", "string"), ("payer_claim_number", "string"),
    ("claim_charge", "string"), ("claim_paid", "string"), ("procedure", "string"), ("modifiers", "array<string>"),
    ("service_date", "string"), ("charge", "string"), ("paid", "string"), ("units_paid", "string"),
    ("control_number", "string"),
)
MATCH_COLUMNS = (
    ("path", "string"), ("file_date", "string"), ("segment", "long"), ("seq", "long"),
    ("remit_claim_id", "string"), ("procedure", "string"), ("service_date", "string"),
    ("charge", "string"), ("paid", "string"), ("category", "string"), ("action", "string"),
    ("method", "string"), ("claim_file", "string"), ("claim_id", "string"), ("line", "long"),
    ("findings", "array<string>"), ("row", "string"),
)
ERROR_COLUMNS = (("path", "string"), ("offset", "long"), ("message", "string"))


# -- the checker, built once per executor process --------------------------------------------------
_CHECKERS: dict[Any, Checker] = {}


def checker_for(key: Any, recipe: CheckRecipe) -> Checker:
    """The checker of ``recipe``, built once per Python worker (Spark reuses its workers)."""
    checker = _CHECKERS.get(key)
    if checker is None:
        _CHECKERS.clear()
        checker = _CHECKERS[key] = recipe.build()
    return checker


# -- planning a large file -------------------------------------------------------------------------
def plan_file(source: Source, chunks: Iterable[bytes], batch_bytes: int) -> Iterator[Span | EnvelopeItem | ErrorItem]:
    """Cut one input into spans of whole transaction sets of about ``batch_bytes`` each,
    with its envelope events in between, in file order (the reader's own offsets and
    positions, so nothing is guessed). An unreadable part ends the plan with an
    :class:`ErrorItem`."""
    run: list[Transaction] = []
    size = 0

    def flush() -> Span:
        nonlocal run, size
        first, last = run[0], run[-1]
        span = Span(source.index, first.offset, last.offset + len(last.raw), first.first_position, len(run),
                    first.interchange, first.group, first.delimiters)
        run, size = [], 0
        return span

    events = iter_events(chunks)
    while True:
        try:
            event = next(events, None)
        except X12ReadError as error:
            if run:
                yield flush()
            yield ErrorItem(source.index, error.offset, f"{source.name}: {error}")
            return
        if event is None:
            break
        if isinstance(event, Transaction):
            # A run never crosses a group: a span has one ISA and GS.
            if run and run[-1].group is not event.group:
                yield flush()
            run.append(event)
            size += len(event.raw)
            if size >= batch_bytes:
                yield flush()
            continue
        if run:
            yield flush()
        yield EnvelopeItem(source.index, event)
        if isinstance(event, EndOfInput):
            break
    if run:
        yield flush()


def is_remote(location: str) -> bool:
    """True for a URL read through fsspec (s3://, s3a://, gs://, abfss://, http(s)://...)."""
    return "://" in location and not location.startswith("file:")


def open_input(location: str):
    """A binary file object for ``location``: a local path by ``open``, a URL through fsspec
    (its filesystem reads ranges: HTTP Range requests, S3/GCS/ADLS ranged GETs)."""
    if is_remote(location):
        import fsspec

        return fsspec.open(location, "rb").open()
    return open(location, "rb")


def read_chunks(location: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The bytes of ``location`` from ``start`` to ``end`` in chunks (a task's only file I/O)."""
    with open_input(location) as handle:
        handle.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            chunk = handle.read(READ_CHUNK if left is None else min(READ_CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def read_range(location: str, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of ``location``. A URL's range is fetched as exactly that range
    (one ranged GET): a file object opened through fsspec reads ahead in blocks (5 MB for
    HTTP and S3 by default), which for a span of ~1 MiB would fetch several times the span."""
    if is_remote(location):
        import fsspec

        filesystem, inner = fsspec.core.url_to_fs(location)
        return filesystem.cat_file(inner, start, end)
    return b"".join(read_chunks(location, start, end))


def span_transactions(data: bytes, span: Span) -> Iterator[Transaction]:
    """The transaction sets of ``span`` from its bytes, as the whole-file reader gives them."""
    stream = X12Stream.inside_group(span.interchange, span.group, span.delimiters, span.start, span.first_position - 1)
    stream.receive_data(data)
    stream.receive_data(b"")
    for _ in range(span.count):
        event = stream.next_event()
        if not isinstance(event, Transaction):  # the file changed since it was planned
            raise X12ReadError("the file changed while the job read it: no transaction set where the plan put one", offset=span.start)
        yield event


# -- checking ----------------------------------------------------------------------------------------
def _event_offset(event) -> int:
    if isinstance(event, Transaction):
        return event.offset
    if isinstance(event, EndOfInput):
        return event.offset
    return event.segment.offset


def _date_of(event) -> str | None:
    """The file date for partitioning: GS04 (CCYYMMDD) of the group, else ISA09 (YYMMDD)."""
    group = getattr(event, "group", None)
    if group is not None:
        value = group.element(4).strip()
        if len(value) == 8 and value.isdigit():
            return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    isa = getattr(event, "interchange", None) or (event.segment if isinstance(event, InterchangeHeader) else None)
    if isa is not None:
        value = isa.element(9).strip()
        if len(value) == 6 and value.isdigit():
            return f"20{value[:2]}-{value[2:4]}-{value[4:]}"
    return None


def _offset_of(event, position: int, offsets: dict) -> int:
    """Byte offset of the segment at file ``position`` inside ``event``."""
    if isinstance(event, Transaction) and event.first_position <= position <= event.last_position:
        return _offsets_of(event, offsets)[position - event.first_position]
    return _event_offset(event)


def _offsets_of(tx: Transaction, offsets: dict) -> list[int]:
    """The segment offsets of ``tx``, worked out once per task and transaction."""
    table = offsets.get(id(tx))
    if table is None:
        table = offsets[id(tx)] = _segment_offsets(tx)
    return table


def _segment_offsets(tx: Transaction) -> list[int]:
    """The byte offset of every segment of ``tx``. When the transaction is its segment texts
    each followed by the terminator and the interchange's line break, and nothing else (the
    lengths add up exactly), the offsets are running sums (in C: ``accumulate``); otherwise
    the segments are tiled (measured: tiling a 500-claim set cost as much as checking it)."""
    texts = tx.texts
    joint = len(tx.delimiters.segment + tx.interchange.trailing)
    if texts and tx.raw.startswith(texts[0]) and sum(map(len, texts)) + joint * len(texts) == len(tx.raw):
        offsets = list(accumulate(map(joint.__add__, map(len, texts)), initial=tx.offset))
        offsets.pop()  # the end of the SE
        return offsets
    return [segment.offset for segment in tx.segments]


class _Rows:
    """Rows of one task, tagged by table.

    Claims and lines are read straight off the :class:`~edi_rehab.claims.Claim` the checker
    already built, as plain tuples: going through :func:`~edi_rehab.inventory.claim_to_json`
    (dicts per line, fields no table has) cost as much as the rules (cProfile, one 4 MB
    file). ``tests/test_spark.py`` holds these rows equal to ``claim_to_json``'s values.
    """

    def __init__(self, name: str, item: int) -> None:
        self.name = name
        self.item = item
        self.seq = 0
        self.out: list[tuple[str, tuple]] = []
        #: id(transaction) -> its segment offsets (the transaction is alive while it is used)
        self.offsets: dict[int, list[int]] = {}
        #: (component separator, SV101 as written) -> [qualifier, procedure, modifiers]: a
        #: file repeats a few hundred codes, so each is split once per task
        self.procedures: dict[tuple[str, str], tuple[str, str, list[str]]] = {}

    def forget(self) -> None:
        """Drop what was kept for the transaction just done (its ``id`` may be reused)."""
        self.offsets.clear()

    def finding(self, event, finding: Finding, date: str | None) -> None:
        fix = finding.fix
        self.out.append(("findings", (
            self.name, date, _offset_of(event, finding.segment, self.offsets), finding.segment, self.item, self.seq,
            finding.code, finding.severity.value, finding.message, finding.claim_id, finding.line, finding.procedure,
            fix.applicability.value if fix else None, fix.description if fix else None,
            json.dumps(finding.details, sort_keys=True, default=str) if finding.details else None,
        )))
        self.seq += 1

    def claim(self, tx: Transaction, claim: Claim, findings: int, date: str | None) -> None:
        name, out = self.name, self.out
        offsets = _offsets_of(tx, self.offsets)
        control = tx.control_number  # read once per transaction by the Transaction itself
        first = tx.first_position
        claim_id = claim.claim_id
        claim_segment = first + claim.index
        claim_npi = claim.rendering_npi
        lines = claim.lines
        out.append(("claims", (
            name, date, offsets[claim.index], claim_segment, control,
            claim_id, claim.charge_raw, claim.place_of_service, claim.frequency_code, claim.payer_id,
            claim.filing_indicator, claim_npi, claim.payer_claim_number or None, claim.has_cob,
            len(lines), findings,
        )))
        procedures = self.procedures
        for line in lines:
            sv1 = line.sv1
            at = line.sv1_index
            known = procedures.get((line.component_separator, sv1[1])) if at is not None else None
            if known is None:
                known = (line.qualifier, line.procedure, list(line.modifiers))
                if at is not None and len(procedures) < _CACHE_LIMIT:
                    procedures[(line.component_separator, sv1[1])] = known
            service_date = line.service_date
            out.append(("lines", (
                name, date, offsets[line.index], first + (line.index if at is None else at), claim_id, claim_segment,
                line.lx, known[0], known[1], known[2], sv1[2],
                sv1[3], sv1[4], service_date.raw if service_date else None, line.control_number or None,
                line.line_rendering_npi or claim_npi,
            )))

    def error(self, offset: int, message: str) -> None:
        self.out.append(("errors", (self.name, offset, message)))


def _check_events(rows: _Rows, checker: Checker, events: Iterable) -> None:
    """Check ``events`` into ``rows``, the cyclic collector paused throughout: rows are
    tuples of strings and numbers (no cycles), and with it running, building them while a
    transaction's views are alive made it walk those views again and again (measured: a
    sixth of the task's time on a 4 MB file)."""
    with collector_paused():
        _check_into(rows, checker, events)


def _check_into(rows: _Rows, checker: Checker, events: Iterable) -> None:
    try:
        for result in checker.check_events(events, claim_views=True):
            event = result.event
            date = _date_of(event)
            for finding in result.findings:
                rows.finding(event, finding, date)
            for item in result.claims:
                rows.claim(event, item.claim, len(item.findings), date)
            rows.forget()
    except X12ReadError as error:
        rows.error(error.offset, f"{rows.name}: {error}")


def check_whole(source: Source, data: bytes, checker: Checker) -> list[tuple[str, tuple]]:
    """A whole (small) input: the rows of every table it fills."""
    rows = _Rows(source.name, 0)
    _check_events(rows, checker, iter_events([data]))
    return rows.out


def check_item(source: Source, item: Span | EnvelopeItem | ErrorItem, checker: Checker) -> list[tuple[str, tuple]]:
    """One planned piece of a large input."""
    rows = _Rows(source.name, item.start)
    if isinstance(item, ErrorItem):
        rows.error(item.start, item.message)
    elif isinstance(item, EnvelopeItem):
        _check_events(rows, checker, [item.event])
    else:
        try:
            data = read_range(source.location, item.start, item.end)
        except Exception as error:  # noqa: BLE001 - what cannot_be_read does not take is raised again
            rows.error(item.start, cannot_be_read(source, error))
            return rows.out
        _check_events(rows, checker, span_transactions(data, item))
    return rows.out


def cannot_be_read(source: Source, error: Exception) -> str:
    """The ``errors`` message for a read that failed. A local file fails with ``OSError``;
    a URL's filesystem raises its own kinds too (fsspec's HTTP filesystem an aiohttp error,
    s3fs botocore's), and the job must not fail on input, so those are messages as well.
    Anything else on a local file is a bug and is raised again."""
    if isinstance(error, OSError):
        return f"{source.name}: cannot be read: {error.strerror or error}"
    if is_remote(source.location):
        return f"{source.name}: cannot be read: {type(error).__name__}: {error}"
    raise error


# -- matching ----------------------------------------------------------------------------------------
def _transactions(source: Source, data: bytes | None, span: Span | None) -> Iterator[Transaction]:
    """The transaction sets of a whole input (``data``) or of one span."""
    if span is not None:
        yield from span_transactions(read_range(source.location, span.start, span.end), span)
        return
    for event in iter_events([data]):
        if isinstance(event, Transaction):
            yield event


def _tx_span(source: Source, tx: Transaction) -> Span:
    return Span(source.index, tx.offset, tx.offset + len(tx.raw), tx.first_position, 1, tx.interchange, tx.group, tx.delimiters)


def claim_keys(source: Source, transactions: Iterable[Transaction]) -> Iterator[tuple]:
    """Every claim of some 837P transaction sets as the keys a CLP01 may name it by (the
    join keys of :meth:`~edi_rehab.match.ClaimIndex.candidates`): ``(kind, key, span)``
    with kind ``exact`` (CLM01 stripped; the prefixed lookup uses it too), ``short`` (cut to
    20) and ``folded`` (upper-cased). The span is the transaction set to read again."""
    from ..claims import read_claims

    for tx in transactions:
        if tx.set_id != "837" or not tx.version.startswith("005010X222"):
            continue
        span = _tx_span(source, tx)
        for claim in read_claims(tx):
            key = claim.claim_id.strip()
            yield ("exact", key, span)
            yield ("short", key[:20], span)
            yield ("folded", key.upper(), span)


def remit_keys(source: Source, remits) -> Iterator[tuple[str, str]]:
    """The keys each CLP01 of ``remits`` is looked up by, as :meth:`ClaimIndex.candidates`
    tries them: exact, cut to 20, upper-cased, and every suffix long enough to be a CLM01
    behind a payer's prefix."""
    from ..match import MIN_PREFIXED_ID

    for remit in remits:
        for clp in remit.claims:
            key = clp.claim_id.strip()
            yield ("exact", key)
            yield ("short", key[:20])
            yield ("folded", key.upper())
            for start in range(1, len(key) - MIN_PREFIXED_ID + 1):
                yield ("exact", key[start:])


def read_remits(name: str, data: bytes):
    """The 835 transaction sets of one remittance file. Raises what
    :func:`~edi_rehab.match.read_remittance_file` raises."""
    from ..match import read_remittance_file

    return read_remittance_file(name, iter_events([data]))


def remit_rows(name: str, remits) -> list[tuple]:
    """The payments table: one row per service payment (a CLP without SVCs gets one row)."""
    from ..inventory import remittance_to_json

    rows = []
    for remit in remits:
        data = remittance_to_json(remit)
        tx = remit.transaction
        date = _date_of(tx)
        offsets = _segment_offsets(tx)
        for clp, claim in zip(remit.claims, data["claims"]):
            head = (data["trace_number"], data["payment_date"], data["payer"]["id"], claim["claim_id"], claim["status"],
                    claim["payer_claim_number"], claim["charge"], claim["paid"])
            if not claim["services"]:
                rows.append((name, date, offsets[clp.index], claim["segment"], *head,
                             None, [], None, None, None, None, None))
            for svc, facts in zip(clp.services, claim["services"]):
                rows.append((name, date, offsets[svc.index], facts["segment"], *head,
                             facts["procedure"], facts["modifiers"], facts["service_date"], facts["charge"], facts["paid"],
                             facts["units_paid"], facts["control_number"]))
    return rows


def match_remit_file(
    name: str,
    remits,
    spans: Iterable[Span],
    sources: dict[int, Source],
    checker: Checker,
    carc_list=None,
    rarc_list=None,
) -> list[tuple]:
    """Match one remittance file exactly as ``match REMIT CLAIMS...`` does, on an index of
    only the 837P transaction sets the join found for its CLPs (read again and checked by
    the same checker). The index keeps the run's claim order (input, then file order), so
    ties between same-CLM01 claims go as they go on one machine; an index that holds every
    candidate of every CLP and nothing outside the run gives the same candidates
    (:meth:`ClaimIndex.candidates` tries the lookups in order and stops at the first hit)."""
    from ..match import ClaimIndex, CodeBook, match_remittances

    index = ClaimIndex()
    unique = {(span.source, span.start): span for span in spans}
    for _, span in sorted(unique.items(), key=lambda item: item[0]):
        source = sources[span.source]
        for result in checker.check_events(_transactions(source, None, span)):
            for item in result.claims:
                index.add(source.name, item.claim, item.findings, item.profile, checker)
    codes = CodeBook(checker.maps, carc_list, rarc_list)
    result = match_remittances([(name, r) for r in remits], index, codes, minutes=checker.minutes)
    rows = []
    date = _date_of(remits[0].transaction) if remits else None
    for seq, row in enumerate(result.rows):
        data = row.to_json()
        m = data["match"]
        rows.append((
            name, date, row.segment, seq, data["remit_claim_id"], data["procedure"], data["service_date"],
            data["charge"], data["paid"], data["category"], data["action"], m["method"], m["file"], m["claim_id"],
            m["line"], data["findings"], json.dumps(data, sort_keys=True),
        ))
    return rows
