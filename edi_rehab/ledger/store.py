"""The ledger database: opening it (with migrations and the key check) and writing and
reading its rows. SQLAlchemy Core, on SQLite (embedded, WAL mode) or PostgreSQL (psycopg 3).

Transactions and concurrency
----------------------------
Each input file is one transaction: its file row and every claim, line, finding, payment
and match row commit together or not at all, so a run killed midway leaves no trace of the
file it was writing. Files are keyed by their SHA-256 (unique), so recording a file twice
adds nothing; two processes recording the same file at the same moment both succeed, one
inserting and the other finding the unique key taken and treating the file as known.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time,
waiting up to :data:`BUSY_TIMEOUT_MS` for the lock instead of failing), in WAL mode so that
readers never block the writer. On PostgreSQL, migrations take a transaction-scoped
advisory lock per schema, so two processes opening a new ledger build it once.

Nothing here reads a file: the CLI gives bytes' facts (:mod:`edi_rehab.ledger.facts`).
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import create_engine, event, func, inspect, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from .. import __version__
from . import schema as s
from .facts import ClaimFileFacts, RemitFacts
from .keys import PatientKey

__all__ = ["BUSY_TIMEOUT_MS", "Ledger", "LedgerError", "Recorded", "normalise_url", "safe_url"]

#: how long a SQLite writer waits for another's transaction to end
BUSY_TIMEOUT_MS = 60_000


class LedgerError(Exception):
    """The ledger cannot be used: unreachable, too new, keyed with another key ... (a message
    for the user; never a password or a patient identifier)."""


def safe_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def normalise_url(url: str) -> str:
    """The SQLAlchemy URL for what a user writes: ``postgresql://`` (or ``postgres://``)
    uses psycopg 3; ``sqlite:///PATH`` the standard library. Raises LedgerError otherwise."""
    text = url.strip()
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    if text.startswith("sqlite:///") or text == "sqlite://":
        return text
    raise LedgerError(
        f"ledger {safe_url(text)!r}: not a ledger URL; use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
    )


def _first_line(error: BaseException) -> str:
    inner = getattr(error, "orig", None) or error
    text = str(inner).strip().splitlines()
    return text[0] if text else type(inner).__name__


@dataclass(frozen=True)
class Recorded:
    """What recording one file did: its ledger id and whether it was new."""

    file_id: int
    new: bool


class Ledger:
    """An open ledger. Use :meth:`open`; close with :meth:`close` (or as a context manager)."""

    def __init__(self, engine: Engine, key: PatientKey, url: str) -> None:
        self.engine = engine
        self.key = key
        self.url = url

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, key: PatientKey, *, migrate: bool = True) -> Ledger:
        """Connect, bring the schema up to :data:`~edi_rehab.ledger.schema.SCHEMA_VERSION`,
        and check that the ledger was keyed with ``key``. Raises LedgerError."""
        real = normalise_url(url)
        shown = safe_url(url)
        try:
            engine = _engine(real)
        except (NoSuchModuleError, ModuleNotFoundError, ImportError):
            raise LedgerError(
                f"ledger {shown}: PostgreSQL needs psycopg 3; install it with pip install 'edi-rehab[postgres]'"
            ) from None
        except ArgumentError as error:
            raise LedgerError(f"ledger {shown}: {error}") from None
        ledger = cls(engine, key, shown)
        try:
            with engine.begin() as conn:
                ledger._prepare(conn, migrate)
        except LedgerError:
            engine.dispose()
            raise
        except (DBAPIError, SQLAlchemyError, OSError) as error:
            engine.dispose()
            raise LedgerError(f"ledger {shown}: cannot be opened: {_first_line(error)}") from None
        return ledger

    def _prepare(self, conn: Connection, migrate: bool) -> None:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('edi-rehab ledger ' || current_schema()))")
        version = _version(conn)
        if version > s.SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {self.url}: its schema is version {version}, written by a newer edi-rehab; "
                f"this edi-rehab {__version__} reads versions up to {s.SCHEMA_VERSION}: upgrade edi-rehab"
            )
        if version < s.SCHEMA_VERSION:
            if not migrate:
                raise LedgerError(f"ledger {self.url}: schema version {version} needs upgrading to {s.SCHEMA_VERSION}")
            upgrade(conn, version, s.SCHEMA_VERSION)
        stored = conn.execute(select(s.meta.c.value).where(s.meta.c.name == "key_fingerprint")).scalar()
        if stored is None:
            conn.execute(s.meta.insert().values(name="key_fingerprint", value=self.key.fingerprint))
        elif stored != self.key.fingerprint:
            raise LedgerError(
                f"ledger {self.url}: was keyed with another patient key (fingerprint {stored}, "
                f"this run's is {self.key.fingerprint}); use the ledger's key file (ledger_key_file in the config)"
            )

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return _version(conn)

    # -- writing ---------------------------------------------------------------------------

    def record_claim_file(
        self,
        *,
        name: str,
        sha256: str,
        size: int,
        command: str,
        facts: ClaimFileFacts,
        decisions: dict[int, str] | None = None,
        fixed: Iterable[tuple[str, int]] = (),
    ) -> Recorded:
        """Record an 837P file (one transaction) unless its SHA-256 is known; then set the
        split ``decisions`` (CLM position -> clean/held) and mark ``fixed`` findings
        ((code, segment)), which is the same whether the file was new or not."""

        def insert(conn: Connection) -> int:
            file_id = _insert_file(conn, sha256, name, "837P", size, command, facts.document)
            _insert_claims(conn, file_id, facts)
            return file_id

        recorded = self._once(sha256, insert)
        if decisions or fixed:
            self._write(lambda conn: _mark(conn, recorded.file_id, decisions or {}, fixed))
        return recorded

    def record_remit_file(
        self,
        *,
        name: str,
        sha256: str,
        size: int,
        command: str,
        remits: Sequence[RemitFacts],
        matches: Sequence[dict] = (),
        claim_files: dict[str, int] | None = None,
    ) -> Recorded:
        """Record an 835 file's payments and what match made of them, unless its SHA-256 is
        known. ``claim_files`` maps the claim-file names in ``matches`` to ledger file ids."""

        def insert(conn: Connection) -> int:
            file_id = _insert_file(conn, sha256, name, "835", size, command, None)
            _insert_remits(conn, file_id, remits, matches, claim_files or {}, command)
            return file_id

        return self._once(sha256, insert)

    def _once(self, sha256: str, insert) -> Recorded:
        known = self.file_id(sha256)
        if known is not None:
            return Recorded(known, False)
        try:
            return Recorded(self._write(insert), True)
        except IntegrityError:
            # Another process recorded the same bytes between our look and our insert.
            known = self.file_id(sha256)
            if known is None:
                raise
            return Recorded(known, False)

    def _write(self, work):
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except IntegrityError:
            raise
        except (DBAPIError, SQLAlchemyError) as error:
            raise LedgerError(f"ledger {self.url}: writing failed: {_first_line(error)}") from None

    def _read(self, work):
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except (DBAPIError, SQLAlchemyError) as error:
            raise LedgerError(f"ledger {self.url}: reading failed: {_first_line(error)}") from None

    def rotate_key(self, new_key: bytes) -> Ledger:
        """Move every stored patient hash one step along the key chain to ``new_key`` (one
        transaction: a failure changes nothing) and return the ledger opened with the longer
        chain. The identifiers are not needed: each stored hash is rehashed."""
        from .keys import rehash

        rotated = self.key.rotated(new_key)

        def work(conn: Connection) -> None:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('edi-rehab ledger ' || current_schema()))")
            stored = conn.execute(select(s.meta.c.value).where(s.meta.c.name == "key_fingerprint")).scalar()
            if stored != self.key.fingerprint:
                raise LedgerError(f"ledger {self.url}: its key changed under this run; nothing was rehashed")
            for table in (s.claims, s.lines, s.claim_payments):
                hashes = conn.execute(select(table.c.patient_hash).distinct()).scalars().all()
                for old in hashes:
                    if old:
                        conn.execute(update(table).where(table.c.patient_hash == old).values(patient_hash=rehash(old, new_key)))
            conn.execute(update(s.meta).where(s.meta.c.name == "key_fingerprint").values(value=rotated.fingerprint))

        self._write(work)
        return Ledger(self.engine, rotated, self.url)

    # -- reading ---------------------------------------------------------------------------

    def file_id(self, sha256: str) -> int | None:
        return self._read(lambda conn: conn.execute(select(s.files.c.id).where(s.files.c.sha256 == sha256)).scalar())

    def count(self, table: str) -> int:
        """Rows in one of the ledger's tables (``"claims"``, ``"lines"`` ...)."""
        target = getattr(s, table)
        return self._read(lambda conn: conn.execute(select(func.count()).select_from(target)).scalar_one())

    def claim_documents(self, clp01s: Iterable[str], min_prefixed: int) -> list[tuple[int, str, bytes]]:
        """(file id, name, compressed masked document) of every recorded 837P file holding a
        claim a CLP01 may name (as match looks them up: exact, cut to 20 characters, any case,
        or a payer's prefix before a CLM01 of at least ``min_prefixed`` characters), in the
        order they were recorded."""
        wanted: set[str] = set()
        short: set[str] = set()
        for clp01 in clp01s:
            key = clp01.strip().upper()
            wanted.add(key)
            if len(key) >= 20:
                short.add(key[:20])
            for start in range(1, len(key) - min_prefixed + 1):
                wanted.add(key[start:])

        def work(conn: Connection):
            ids: set[int] = set()
            keys = sorted(wanted)
            for chunk in s.in_batches(keys):
                ids.update(conn.execute(select(s.claims.c.file_id).where(s.claims.c.clm01_folded.in_(chunk)).distinct()).scalars())
            for prefix in sorted(short):
                ids.update(conn.execute(
                    select(s.claims.c.file_id).where(func.substr(s.claims.c.clm01_folded, 1, 20) == prefix).distinct()
                ).scalars())
            if not ids:
                return []
            rows = []
            for chunk in s.in_batches(sorted(ids)):
                rows.extend(conn.execute(
                    select(s.files.c.id, s.files.c.name, s.files.c.document)
                    .where(s.files.c.id.in_(chunk), s.files.c.document.is_not(None))
                ).all())
            return sorted((r.id, r.name, bytes(r.document)) for r in rows)

        return self._read(work)

    def connection(self):
        """A read connection for the history and report queries (``with ledger.connection() as conn``)."""
        return self.engine.connect()

    def query(self, work):
        """``work(conn)`` on a read connection; a database failure is a LedgerError."""
        return self._read(work)


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record) -> None:
            # Transactions are begun explicitly below, not by the driver's guesswork.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _enter_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
    return create_engine(url, connect_args=connect_args, pool_pre_ping=False)


def _enter_wal(cursor) -> None:
    """Switch a SQLite database to WAL, waiting out another connection doing the same.

    SQLite does not call its busy handler for a journal-mode change: when two processes open a
    new ledger at once, the loser's ``PRAGMA journal_mode = WAL`` fails at once with "database
    is locked" (2 of 3 simultaneous pairs here). Retrying until the busy timeout gives the same
    patience every other statement gets.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _version(conn: Connection) -> int:
    if not inspect(conn).has_table(s.meta.name):
        return 0
    value = conn.execute(select(s.meta.c.value).where(s.meta.c.name == "schema_version")).scalar()
    return int(value) if value is not None else 0


def upgrade(conn: Connection, current: int, target: int) -> None:
    """Run the migration steps after ``current`` up to ``target`` (inside the caller's
    transaction) and record the version."""
    for version, _what, step in s.MIGRATIONS:
        if current < version <= target:
            step(conn)
    done = conn.execute(update(s.meta).where(s.meta.c.name == "schema_version").values(value=str(target)))
    if done.rowcount == 0:
        conn.execute(s.meta.insert().values(name="schema_version", value=str(target)))


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _insert_file(conn: Connection, sha256: str, name: str, kind: str, size: int, command: str, document) -> int:
    return conn.execute(
        s.files.insert().returning(s.files.c.id),
        {"sha256": sha256, "name": name, "kind": kind, "size": size, "command": command,
         "recorded_at": _now(), "tool_version": __version__, "document": document},
    ).scalar_one()


def _returning_ids(conn: Connection, table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    return list(conn.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _insert_claims(conn: Connection, file_id: int, facts: ClaimFileFacts) -> None:
    claim_ids = _returning_ids(conn, s.claims, [{**c.claim, "file_id": file_id} for c in facts.claims])
    line_rows = []
    owners = []
    for claim_id, item in zip(claim_ids, facts.claims):
        for line in item.lines:
            line_rows.append({**line, "claim_id": claim_id, "file_id": file_id})
            owners.append(claim_id)
    line_ids = _returning_ids(conn, s.lines, line_rows)
    finding_rows = []
    at = 0
    for claim_id, item in zip(claim_ids, facts.claims):
        ids = line_ids[at : at + len(item.lines)]
        at += len(item.lines)
        for on_line, row in item.findings:
            finding_rows.append({**row, "file_id": file_id, "claim_id": claim_id,
                                 "line_id": ids[on_line] if on_line is not None else None})
    finding_rows.extend({**row, "file_id": file_id, "claim_id": None, "line_id": None} for row in facts.loose_findings)
    if finding_rows:
        conn.execute(s.findings.insert(), finding_rows)


def _mark(conn: Connection, file_id: int, decisions: dict[int, str], fixed: Iterable[tuple[str, int]]) -> None:
    for segment, decision in decisions.items():
        conn.execute(
            update(s.claims)
            .where(s.claims.c.file_id == file_id, s.claims.c.start_segment == segment)
            .values(split_decision=decision)
        )
    for code, segment in fixed:
        conn.execute(
            update(s.findings)
            .where(s.findings.c.file_id == file_id, s.findings.c.code == code, s.findings.c.segment == segment)
            .values(fixed=True)
        )


def _insert_remits(conn: Connection, file_id: int, remits: Sequence[RemitFacts], matches: Sequence[dict], claim_files: dict[str, int], command: str) -> None:
    claim_lookup = _claim_lookup(conn, matches, claim_files)
    payment_ids: dict[int, int] = {}  # CLP segment -> id
    service_ids: dict[int, int] = {}  # SVC segment -> id
    # the patient of the 837 claim each CLP matched, so that 835 rows join by patient too
    patient_of: dict[int, str] = {
        m["payment_segment"]: claim_lookup.get((m["claim_file"], m["claim_segment"]), (None, [], ""))[2] for m in matches
    }
    for remit in remits:
        remit_id = conn.execute(s.remits.insert().returning(s.remits.c.id), {**remit.row, "file_id": file_id}).scalar_one()
        clp_rows = [{**c.row, "remit_id": remit_id, "file_id": file_id, "patient_hash": patient_of.get(c.row["segment"]) or ""} for c in remit.claims]
        clp_ids = _returning_ids(conn, s.claim_payments, clp_rows)
        svc_rows = []
        svc_owner = []
        for clp_id, clp in zip(clp_ids, remit.claims):
            payment_ids[clp.row["segment"]] = clp_id
            for svc in clp.services:
                svc_rows.append({**svc.row, "claim_payment_id": clp_id, "file_id": file_id})
                svc_owner.append(svc)
        svc_ids = _returning_ids(conn, s.service_payments, svc_rows)
        adjustment_rows = []
        remark_rows = []
        for clp_id, clp in zip(clp_ids, remit.claims):
            adjustment_rows.extend({**a, "claim_payment_id": clp_id, "service_payment_id": None} for a in clp.adjustments)
            remark_rows.extend({"code": r, "claim_payment_id": clp_id, "service_payment_id": None} for r in clp.remarks)
        for svc_id, svc, row in zip(svc_ids, svc_owner, svc_rows):
            service_ids[svc.row["segment"]] = svc_id
            adjustment_rows.extend({**a, "claim_payment_id": row["claim_payment_id"], "service_payment_id": svc_id} for a in svc.adjustments)
            remark_rows.extend({"code": r, "claim_payment_id": row["claim_payment_id"], "service_payment_id": svc_id} for r in svc.remarks)
        if adjustment_rows:
            conn.execute(s.adjustments.insert(), adjustment_rows)
        if remark_rows:
            conn.execute(s.remarks.insert(), remark_rows)
    match_rows = []
    for m in matches:
        claim_id, line_ids, _patient = claim_lookup.get((m["claim_file"], m["claim_segment"]), (None, [], ""))
        positions = m["line_positions"]
        line_id = line_ids[positions[0]] if claim_id is not None and positions and positions[0] < len(line_ids) else None
        match_rows.append({
            "file_id": file_id,
            "claim_payment_id": payment_ids[m["payment_segment"]],
            "service_payment_id": service_ids.get(m["service_segment"]) if m["service_segment"] is not None else None,
            "claim_id": claim_id,
            "line_id": line_id,
            "method": m["method"],
            "category": m["category"],
            "action": m["action"],
            "denied": m["denied"],
            "explaining": m["explaining"],
            "charge_cents": m["charge_cents"],
            "paid_cents": m["paid_cents"],
            "command": command,
        })
    if match_rows:
        conn.execute(s.matches.insert(), match_rows)


def _claim_lookup(conn: Connection, matches: Sequence[dict], claim_files: dict[str, int]) -> dict:
    """(claim file name, CLM position) -> (ledger claim id, its line ids by position, patient hash)."""
    wanted = {(m["claim_file"], m["claim_segment"]) for m in matches if m["claim_file"] is not None}
    by_file: dict[int, set[int]] = {}
    for name, segment in wanted:
        if name in claim_files:
            by_file.setdefault(claim_files[name], set()).add(segment)
    names = {file_id: name for name, file_id in claim_files.items()}
    out = {}
    for file_id, segments in by_file.items():
        claim_rows = conn.execute(
            select(s.claims.c.id, s.claims.c.start_segment, s.claims.c.patient_hash).where(s.claims.c.file_id == file_id)
        ).all()
        ids = {r.start_segment: (r.id, r.patient_hash) for r in claim_rows if r.start_segment in segments}
        if not ids:
            continue
        line_rows = conn.execute(
            select(s.lines.c.claim_id, s.lines.c.position, s.lines.c.id)
            .where(s.lines.c.file_id == file_id)
            .order_by(s.lines.c.claim_id, s.lines.c.position)
        ).all()
        lines_of: dict[int, list[int]] = {}
        for r in line_rows:
            lines_of.setdefault(r.claim_id, []).append(r.id)
        for segment, (claim_id, patient) in ids.items():
            out[(names[file_id], segment)] = (claim_id, lines_of.get(claim_id, []), patient)
    return out
