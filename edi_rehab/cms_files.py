"""Parse the official CMS NCCI files: practitioner PTP edits and practitioner MUEs.

Theory of operation
-------------------
CMS publishes both files each quarter behind an AMA licence click-through, so the toolkit never ships
or downloads them: the user points the CLI at their copy, the CLI reads the bytes and calls the parsers
here, and caches the result (see the ``encode_*``/``decode_*`` helpers) keyed by path, size and mtime
so a pre-commit hook pays the parse cost once per quarter.

Everything here is pure: bytes in, values out. Bad rows never raise; they come back as
:class:`Problem` values with the member name and 1-based row number, so one odd row in a
few-hundred-thousand-row file does not cost the user the other rows.

PTP layout (reference 3.4): latin-1 text, CRLF, an AMA copyright preamble, then a header row whose
first two cells are "Column 1" / "Column 2" (found within the first 30 rows, matched on those two
cells only because the rest of the header wording changes between releases), then seven
tab-separated columns: column 1, column 2, ``*`` if in existence before 1996, effective date
(YYYYMMDD), deletion date (YYYYMMDD or ``*``), modifier indicator (0/1/9), rationale. A quarter is
split over four files (``...-f1.txt`` to ``-f4.txt``), usually zipped.

MUE layout (reference 3.5): CSV with a quoted copyright line, then the header
``HCPCS/CPT Code, Practitioner Services MUE Values, MUE Adjudication Indicator, MUE Rationale``; the
adjudication cell holds the digit and its meaning (``3 Date of Service Edit: Clinical``).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from .mapdata import MueEdit, PtpEdit
from .x12.numbers import whole_number

__all__ = [
    "CACHE_FORMAT_VERSION",
    "MueEdit",
    "MueLoad",
    "Problem",
    "PtpEdit",
    "PtpLoad",
    "decode_mue_cache",
    "decode_ptp_cache",
    "encode_mue_cache",
    "encode_ptp_cache",
    "normalize_hcpcs",
    "parse_mue_file",
    "parse_ptp_file",
]

#: Bump when the cached JSON shape or the parsing rules change, so stale caches are re-parsed.
CACHE_FORMAT_VERSION = 1

#: How far down a file the header row may sit (CMS preambles are a handful of lines).
HEADER_SEARCH_ROWS = 30

_PTP_CACHE_KIND = "edi-rehab/ptp"
_MUE_CACHE_KIND = "edi-rehab/mue"
_CODE_RE = re.compile(r"^[0-9A-Z]{5}$")
_VERSION_RE = re.compile(r"v(\d{2,3})r(\d+)", re.IGNORECASE)
_MAI_RE = re.compile(r"^\s*([123])\b")
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Problem:
    """A row (or file) that could not be used. ``row`` is 1-based within ``member``; 0 = whole file."""

    member: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.member}:{self.row}: {self.message}" if self.row else f"{self.member}: {self.message}"


@dataclass(frozen=True, slots=True)
class PtpLoad:
    """The result of :func:`parse_ptp_file`."""

    edits: tuple[PtpEdit, ...]
    problems: tuple[Problem, ...]
    #: the text members read (the file name itself for a plain .txt)
    members: tuple[str, ...]
    #: data rows seen across members, and how many survived the ``keep_codes`` filter
    rows_read: int
    rows_kept: int
    #: NCCI versions found in member names, e.g. ``("320r0",)`` for ``ccipra-v320r0-f1.txt``
    versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class MueLoad(Mapping[str, MueEdit]):
    """The result of :func:`parse_mue_file`: a read-only ``code -> MueEdit`` mapping (so it can be
    used wherever the dict is expected, e.g. ``load_maps(mue=...)``) that also carries the
    problems found."""

    edits: Mapping[str, MueEdit]
    problems: tuple[Problem, ...] = ()
    members: tuple[str, ...] = ()
    rows_read: int = 0

    def __getitem__(self, code: str) -> MueEdit:
        return self.edits[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self.edits)

    def __len__(self) -> int:
        return len(self.edits)


def normalize_hcpcs(raw: str) -> str:
    """Trim, upper-case and zero-pad an all-digit code to 5 characters.

    Spreadsheet exports turn 00100 into 100; CPT codes are always five characters.
    """
    code = raw.strip().strip('"').strip().upper()
    if code.isdecimal() and len(code) < 5:
        code = code.zfill(5)
    return code


# --------------------------------------------------------------------------------------------
# Members and text
# --------------------------------------------------------------------------------------------


#: Caps on an archive given as --ncci-file/--mue-file: the official quarterly zips hold a
#: handful of members and expand to a few hundred MB.
ZIP_MAX_MEMBERS = 64
ZIP_MAX_EXPANDED_BYTES = 1 << 30


def _path_like(member: str) -> bool:
    """A member name that would reach outside the archive if extracted (we never extract,
    but such a name is no CMS file)."""
    parts = member.replace("\\", "/").split("/")
    return member.startswith(("/", "\\")) or ".." in parts or (len(member) > 1 and member[1] == ":")


def _members(name: str, data: bytes, suffixes: tuple[str, ...]) -> tuple[list[tuple[str, bytes]], list[Problem]]:
    """Split a zip into its text members (sorted by name, so f1..f4 read in order), or wrap a
    plain file as a single member."""
    if not data.startswith(_ZIP_MAGIC):
        return [(name, data)], []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        return [], [Problem(name, 0, f"not a readable zip archive: {exc}")]
    out: list[tuple[str, bytes]] = []
    problems: list[Problem] = []
    with archive:
        infos = archive.infolist()
        if len(infos) > ZIP_MAX_MEMBERS:
            return [], [Problem(name, 0, f"zip holds {len(infos)} entries; a CMS file has a few (at most {ZIP_MAX_MEMBERS})")]
        expanded = 0
        for info in sorted(infos, key=lambda i: i.filename):
            if info.is_dir():
                continue
            if _path_like(info.filename):
                return [], [Problem(name, 0, f"zip member name {info.filename[:60]!r} is a path out of the archive; refused")]
            base = info.filename.rsplit("/", 1)[-1]
            if base.startswith(".") or info.filename.startswith("__MACOSX/"):
                continue
            if not base.lower().endswith(suffixes):
                continue
            budget = ZIP_MAX_EXPANDED_BYTES - expanded
            try:
                # Read at most the budget (+1 to notice more): the sizes in a zip's directory
                # are the sender's word, and a small archive can expand without bound.
                with archive.open(info) as member:
                    content = member.read(budget + 1)
            except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
                problems.append(Problem(info.filename, 0, f"cannot read zip member: {exc}"))
                continue
            if len(content) > budget:
                limit = ZIP_MAX_EXPANDED_BYTES // (1 << 20)
                return [], [Problem(name, 0, f"zip expands to more than {limit} MiB; refused")]
            expanded += len(content)
            out.append((info.filename, content))
    if not out and not problems:
        problems.append(Problem(name, 0, f"zip holds no {' or '.join(suffixes)} member"))
    return out, problems


def _guarded_rows(reader, member: str, problems: list[Problem]) -> Iterator[list[str]]:
    """The reader's rows until one the csv module cannot read (a cell over its field limit,
    a NUL byte): that is a problem of the file, reported once, and reading stops there."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(member, reader.line_num, f"unreadable CSV: {exc}"))
            return
        yield row


def _decode(data: bytes) -> str:
    # CMS ships latin-1 text written on Windows, so bytes 0x80-0x9F are cp1252 punctuation (an
    # ellipsis, curly quotes) rather than latin-1 control characters; cp1252 is tried first and
    # latin-1, which decodes anything, is the fallback. A UTF-8 BOM means someone re-saved the file.
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :].decode("utf-8", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _norm_cell(cell: str) -> str:
    return re.sub(r"[\s_]+", "", cell.strip().strip('"')).lower()


def _parse_yyyymmdd(raw: str) -> date | None:
    """YYYYMMDD as CMS writes it; also YYYY-MM-DD and MM/DD/YYYY from re-saved spreadsheets."""
    s = raw.strip()
    try:
        if len(s) == 8 and s.isdecimal():
            return date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if len(s) == 10 and s[4] == "-":
            return date.fromisoformat(s)
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s)
        if m:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    return None


# --------------------------------------------------------------------------------------------
# PTP
# --------------------------------------------------------------------------------------------


def _is_ptp_header(cells: list[str]) -> bool:
    return len(cells) >= 2 and _norm_cell(cells[0]) == "column1" and _norm_cell(cells[1]) == "column2"


def parse_ptp_file(name: str, data: bytes, keep_codes: Iterable[str] | None) -> PtpLoad:
    """Parse a CMS practitioner PTP file (.txt) or a zip of them.

    Args:
        name: the file name, used in :class:`PtpEdit.source` and problems.
        data: the file's bytes.
        keep_codes: keep only rows whose column 1 or column 2 is in this set (typically
            ``maps.all_codes``); None keeps every row.

    Returns:
        A :class:`PtpLoad`. Indicator-9 rows are kept (they never fire; see ``PtpEdit.fires_on``).
    """
    keep = None if keep_codes is None else frozenset(normalize_hcpcs(c) for c in keep_codes)
    members, problems = _members(name, data, (".txt", ".tsv"))
    edits: list[PtpEdit] = []
    rows_read = rows_kept = 0
    versions: list[str] = []
    for member, raw in members:
        m = _VERSION_RE.search(member.rsplit("/", 1)[-1]) or (_VERSION_RE.search(name) if member == name else None)
        if m and f"{m.group(1)}r{m.group(2)}" not in versions:
            versions.append(f"{m.group(1)}r{m.group(2)}")
        got, seen, kept = _parse_ptp_member(member, _decode(raw), keep, problems)
        edits.extend(got)
        rows_read += seen
        rows_kept += kept
    return PtpLoad(
        edits=tuple(edits),
        problems=tuple(problems),
        members=tuple(m for m, _ in members),
        rows_read=rows_read,
        rows_kept=rows_kept,
        versions=tuple(versions),
    )


def _parse_ptp_member(
    member: str, text: str, keep: frozenset[str] | None, problems: list[Problem]
) -> tuple[list[PtpEdit], int, int]:
    # Not str.splitlines(): it also splits on \x85 and \x1c-\x1e, which latin-1 text may hold inside a
    # rationale (cp1252 ellipsis), and that would shift every later row number.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header_at = None
    for i, line in enumerate(lines[:HEADER_SEARCH_ROWS]):
        if _is_ptp_header(line.split("\t")):
            header_at = i
            break
    if header_at is None:
        problems.append(
            Problem(member, 0, f"no header row starting 'Column 1', 'Column 2' in the first {HEADER_SEARCH_ROWS} rows")
        )
        return [], 0, 0
    edits: list[PtpEdit] = []
    seen = kept = 0
    for row_no, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        if not line.strip():
            continue
        # Split off only the two code cells first: most of the file's rows never touch a kept code.
        head = line.split("\t", 2)
        c1_raw = head[0]
        c2_raw = head[1] if len(head) > 1 else ""
        if not c1_raw.strip() and not c2_raw.strip():
            # Legend rows under the header ("0=not allowed", "*=no data") leave the code cells empty.
            continue
        seen += 1
        # normalize_hcpcs inlined for the common clean case: this loop runs ~1M times a quarter.
        c1 = c1_raw.strip().upper()
        if len(c1) != 5:
            c1 = normalize_hcpcs(c1)
        c2 = c2_raw.strip().upper()
        if len(c2) != 5:
            c2 = normalize_hcpcs(c2)
        if keep is not None and c1 not in keep and c2 not in keep:
            continue
        edit = _ptp_row(member, row_no, line.split("\t"), c1, c2, problems)
        if edit is not None:
            edits.append(edit)
            kept += 1
    return edits, seen, kept


def _ptp_row(member: str, row_no: int, cells: list[str], c1: str, c2: str, problems: list[Problem]) -> PtpEdit | None:
    def bad(message: str) -> None:
        problems.append(Problem(member, row_no, message))

    if len(cells) < 6:
        bad(f"expected 7 tab-separated columns, found {len(cells)}")
        return None
    if not _CODE_RE.match(c1) or not _CODE_RE.match(c2):
        bad(f"not a 5-character code pair: {cells[0].strip()!r} / {cells[1].strip()!r}")
        return None
    effective = _parse_yyyymmdd(cells[3])
    if effective is None:
        bad(f"bad effective date {cells[3].strip()!r}")
        return None
    deletion_raw = cells[4].strip()
    deletion = None if deletion_raw in ("", "*") else _parse_yyyymmdd(deletion_raw)
    if deletion_raw not in ("", "*") and deletion is None:
        bad(f"bad deletion date {deletion_raw!r}")
        return None
    if deletion is not None and deletion < effective:
        bad(f"deletion date {deletion} is before effective date {effective}")
        return None
    indicator = cells[5].strip()
    if indicator not in ("0", "1", "9"):
        bad(f"modifier indicator must be 0, 1 or 9, found {indicator!r}")
        return None
    rationale = " ".join("\t".join(cells[6:]).split()) if len(cells) > 6 else ""
    return PtpEdit(
        column1=c1,
        column2=c2,
        effective=effective,
        deletion=deletion,
        modifier_indicator=indicator,
        rationale=rationale,
        source=member,
        pre_1996=cells[2].strip() == "*",
    )


# --------------------------------------------------------------------------------------------
# MUE
# --------------------------------------------------------------------------------------------


def _is_mue_header(cells: list[str]) -> bool:
    if len(cells) < 3:
        return False
    first, second = _norm_cell(cells[0]), _norm_cell(cells[1])
    return ("hcpcs" in first or "cpt" in first) and "mue" in second


def parse_mue_file(name: str, data: bytes, keep_codes: Iterable[str] | None) -> MueLoad:
    """Parse a CMS practitioner MUE file (.csv) or a zip holding one.

    Args:
        name: the file name, used in :class:`MueEdit.source` and problems.
        data: the file's bytes.
        keep_codes: keep only these codes; None keeps every row.

    Returns:
        A :class:`MueLoad`, a ``code -> MueEdit`` mapping with ``.problems``. When a code appears
        twice the first row wins and the second is reported.
    """
    keep = None if keep_codes is None else frozenset(normalize_hcpcs(c) for c in keep_codes)
    members, problems = _members(name, data, (".csv", ".txt"))
    edits: dict[str, MueEdit] = {}
    rows_read = 0
    for member, raw in members:
        rows_read += _parse_mue_member(member, _decode(raw), keep, edits, problems)
    return MueLoad(edits=edits, problems=tuple(problems), members=tuple(m for m, _ in members), rows_read=rows_read)


def _parse_mue_member(
    member: str, text: str, keep: frozenset[str] | None, edits: dict[str, MueEdit], problems: list[Problem]
) -> int:
    reader = csv.reader(io.StringIO(text, newline=""))
    header_found = False
    seen = 0
    for row_no, cells in enumerate(_guarded_rows(reader, member, problems), start=1):
        if not header_found:
            if _is_mue_header(cells):
                header_found = True
            elif row_no >= HEADER_SEARCH_ROWS:
                break
            continue
        if not any(c.strip() for c in cells):
            continue
        seen += 1
        code = normalize_hcpcs(cells[0])
        if keep is not None and code not in keep:
            continue

        def bad(message: str) -> None:
            problems.append(Problem(member, reader.line_num, message))

        if len(cells) < 3:
            bad(f"expected 4 columns, found {len(cells)}")
            continue
        if not _CODE_RE.match(code):
            bad(f"not a 5-character code: {cells[0].strip()!r}")
            continue
        value = whole_number(cells[1].strip())
        if value is None:
            # int() would take "-3" (and Unicode digits): a negative MUE allows no units and
            # reads as "every unit is over", so the row is refused, not believed.
            shown = cells[1].strip()
            negative = shown.startswith("-") and whole_number(shown[1:]) is not None
            bad(f"MUE value {'must not be negative' if negative else 'is not a whole number'}: {shown[:20]!r}")
            continue
        mai = _MAI_RE.match(cells[2])
        if mai is None:
            bad(f"adjudication indicator must start with 1, 2 or 3: {cells[2].strip()!r}")
            continue
        if code in edits:
            bad(f"{code} listed again; keeping the first row")
            continue
        edits[code] = MueEdit(
            code=code,
            value=value,
            adjudication_indicator=int(mai.group(1)),
            rationale=" ".join(cells[3].split()) if len(cells) > 3 else "",
            source=member,
        )
    if not header_found:
        problems.append(
            Problem(member, 0, f"no 'HCPCS/CPT Code', '... MUE Values' header in the first {HEADER_SEARCH_ROWS} rows")
        )
    return seen


# --------------------------------------------------------------------------------------------
# Cache encoding
# --------------------------------------------------------------------------------------------
# The CLI stores these bytes next to its key (path, size, mtime). decode_* returns None for anything
# it does not recognise (another format version, another key, corrupt JSON): the caller re-parses.


def _encode(kind: str, key: str, rows: list) -> bytes:
    doc = {"kind": kind, "format": CACHE_FORMAT_VERSION, "key": key, "rows": rows}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _decode_doc(kind: str, data: bytes, key: str | None) -> list | None:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("kind") != kind or doc.get("format") != CACHE_FORMAT_VERSION:
        return None
    if key is not None and doc.get("key") != key:
        return None
    rows = doc.get("rows")
    return rows if isinstance(rows, list) else None


def encode_ptp_cache(edits: Iterable[PtpEdit], *, key: str = "") -> bytes:
    """Serialise PTP edits (e.g. ``PtpLoad.edits``) for the CLI's cache. ``key`` is stored as given."""
    rows = [
        [
            e.column1,
            e.column2,
            e.effective.isoformat(),
            e.deletion.isoformat() if e.deletion else None,
            e.modifier_indicator,
            e.rationale,
            e.source,
            e.pre_1996,
        ]
        for e in edits
    ]
    return _encode(_PTP_CACHE_KIND, key, rows)


def decode_ptp_cache(data: bytes, *, key: str | None = None) -> tuple[PtpEdit, ...] | None:
    """The edits stored by :func:`encode_ptp_cache`, or None when the cache is unusable (other
    format version, ``key`` given and different, corrupt)."""
    rows = _decode_doc(_PTP_CACHE_KIND, data, key)
    if rows is None:
        return None
    try:
        return tuple(
            PtpEdit(
                column1=c1,
                column2=c2,
                effective=date.fromisoformat(eff),
                deletion=date.fromisoformat(dele) if dele else None,
                modifier_indicator=ind,
                rationale=rat,
                source=src,
                pre_1996=bool(pre),
            )
            for c1, c2, eff, dele, ind, rat, src, pre in rows
        )
    except (TypeError, ValueError):
        return None


def encode_mue_cache(edits: Mapping[str, MueEdit] | Iterable[MueEdit], *, key: str = "") -> bytes:
    """Serialise MUEs (a :class:`MueLoad`, a dict, or an iterable of :class:`MueEdit`)."""
    values = edits.values() if isinstance(edits, Mapping) else edits
    rows = [[e.code, e.value, e.adjudication_indicator, e.rationale, e.source] for e in values]
    return _encode(_MUE_CACHE_KIND, key, rows)


def decode_mue_cache(data: bytes, *, key: str | None = None) -> dict[str, MueEdit] | None:
    """The MUEs stored by :func:`encode_mue_cache`, or None when the cache is unusable."""
    rows = _decode_doc(_MUE_CACHE_KIND, data, key)
    if rows is None:
        return None
    try:
        out: dict[str, MueEdit] = {}
        for code, value, mai, rationale, source in rows:
            if not isinstance(value, int) or value < 0:
                return None  # not what encode_mue_cache writes: parse the file again
            out[code] = MueEdit(
                code=code, value=int(value), adjudication_indicator=int(mai), rationale=rationale, source=source
            )
        return out
    except (TypeError, ValueError):
        return None
