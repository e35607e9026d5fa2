"""The ledger's tables (SQLAlchemy Core) and the migrations that build them, step by step.

A ledger records its schema version in ``ledger_meta``. :data:`MIGRATIONS` lists the steps
in order; step *n* takes a version *n-1* ledger to version *n*. Opening a ledger runs every
step it lacks, in one transaction (so two processes opening a new ledger at once cannot
both build it: the store serialises migrations with a lock). A ledger whose version is
above :data:`SCHEMA_VERSION` was written by a newer edi-rehab and is refused, since this
version cannot know what the newer columns mean.

Storage choices, the same on SQLite and PostgreSQL:

* money is integer cents (no float rounding; SQLite has no exact decimal type);
* units are the decimal text as written, normalised (``2``, ``1.5``): they are compared,
  never summed in SQL;
* patient identifiers are never stored: ``patient_hash`` is the keyed hash of
  :mod:`edi_rehab.ledger.keys`;
* ``files.document`` is the 837P as sent with the patient's name, address, birth date and
  identifiers blanked (:mod:`edi_rehab.ledger.facts`), compressed; it lets ``match``
  rebuild the claims without the original file.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Connection

__all__ = ["SCHEMA_VERSION", "MIGRATIONS", "metadata", "meta", "files", "claims", "lines", "findings",
           "remits", "claim_payments", "service_payments", "adjustments", "remarks", "matches"]

metadata = MetaData()

#: key/value facts about the ledger itself: ``schema_version``, ``key_fingerprint``
meta = Table(
    "ledger_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: one row per input file recorded, whatever its kind; ``sha256`` makes recording idempotent
files = Table(
    "ledger_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("kind", String(8), nullable=False),  # "837P" or "835"
    Column("size", BigInteger, nullable=False),
    Column("command", String(16), nullable=False),
    Column("recorded_at", String(32), nullable=False),  # ISO 8601 UTC
    Column("tool_version", String(32), nullable=False),
    Column("document", LargeBinary, nullable=True),
)

#: every 837P claim (loop 2300) as sent
claims = Table(
    "ledger_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),  # claim order in the file
    Column("clm01", Text, nullable=False),
    Column("clm01_folded", Text, nullable=False),  # upper-cased, stripped: what CLP01 is looked up by
    Column("payer_id", Text, nullable=False),
    Column("filing_indicator", String(4), nullable=False),
    Column("patient_hash", String(64), nullable=False),
    Column("billing_npi", String(16), nullable=False),
    Column("rendering_npi", String(16), nullable=False),
    Column("frequency", String(2), nullable=False),  # CLM05-3
    Column("original_reference", Text, nullable=False),  # REF*F8
    Column("charge_cents", BigInteger, nullable=True),
    Column("first_date", Date, nullable=True),
    Column("last_date", Date, nullable=True),
    Column("start_segment", Integer, nullable=False),
    Column("end_segment", Integer, nullable=False),
    Column("start_byte", BigInteger, nullable=False),
    Column("end_byte", BigInteger, nullable=False),
    Column("split_decision", String(8), nullable=True),  # "clean" / "held" when split ran
    Index("ix_ledger_claims_clm01", "clm01_folded"),
    Index("ix_ledger_claims_file", "file_id"),
)

#: every 837P service line (loop 2400) as sent
lines = Table(
    "ledger_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", Integer, ForeignKey("ledger_claims.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # index in the claim's lines
    Column("lx", Integer, nullable=True),
    Column("procedure", String(48), nullable=False),
    Column("modifiers", String(48), nullable=False),  # as sent, comma-joined
    Column("modifier_set", String(48), nullable=False),  # sorted, comma-joined: order never matters to a payer
    Column("units", String(24), nullable=False),
    Column("unit_basis", String(4), nullable=False),
    Column("charge_cents", BigInteger, nullable=True),
    Column("service_date", Date, nullable=True),
    Column("service_end", Date, nullable=True),
    Column("control_number", Text, nullable=False),  # REF*6R
    Column("rendering_npi", String(16), nullable=False),
    Column("patient_hash", String(64), nullable=False),
    Column("payer_id", Text, nullable=False),
    Column("start_segment", Integer, nullable=False),
    Index("ix_ledger_lines_service", "patient_hash", "service_date", "procedure"),
    Index("ix_ledger_lines_claim", "claim_id"),
)

#: check's findings on the files recorded, and whether ``fix`` applied their fix
findings = Table(
    "ledger_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("claim_id", Integer, ForeignKey("ledger_claims.id", ondelete="CASCADE"), nullable=True),
    Column("line_id", Integer, ForeignKey("ledger_lines.id", ondelete="CASCADE"), nullable=True),
    Column("code", String(24), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("segment", Integer, nullable=False),
    Column("fix", String(8), nullable=True),  # "safe" / "unsafe" / None
    Column("fixed", Boolean, nullable=False, default=False),
    Index("ix_ledger_findings_code", "code"),
    Index("ix_ledger_findings_line", "line_id"),
)

#: one row per 835 transaction
remits = Table(
    "ledger_remits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("ordinal", Integer, nullable=False),
    Column("payer_id", Text, nullable=False),
    Column("payer_name", Text, nullable=False),
    Column("payment_method", String(4), nullable=False),  # BPR04: CHK, ACH ...
    Column("total_paid_cents", BigInteger, nullable=True),
    Column("payment_date", Date, nullable=True),
    Column("trace_number", Text, nullable=False),  # TRN02: check or EFT trace
    Column("trace_payer_id", Text, nullable=False),  # TRN03
)

#: 835 loop 2100
claim_payments = Table(
    "ledger_claim_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("remit_id", Integer, ForeignKey("ledger_remits.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("segment", Integer, nullable=False),
    Column("clp01", Text, nullable=False),
    Column("status", String(4), nullable=False),
    Column("charge_cents", BigInteger, nullable=True),
    Column("paid_cents", BigInteger, nullable=True),
    Column("patient_responsibility_cents", BigInteger, nullable=True),
    Column("payer_claim_number", Text, nullable=False),  # CLP07
    Column("frequency", String(2), nullable=False),
    Column("patient_hash", String(64), nullable=False),  # of the matched 837 claim, "" unmatched
)

#: 835 loop 2110
service_payments = Table(
    "ledger_service_payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_payment_id", Integer, ForeignKey("ledger_claim_payments.id", ondelete="CASCADE"), nullable=False),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("segment", Integer, nullable=False),
    Column("procedure", String(48), nullable=False),
    Column("modifiers", String(48), nullable=False),
    Column("submitted_procedure", String(48), nullable=False),
    Column("charge_cents", BigInteger, nullable=True),
    Column("paid_cents", BigInteger, nullable=True),
    Column("allowed_cents", BigInteger, nullable=True),  # AMT*B6
    Column("units_paid", String(24), nullable=False),
    Column("service_date", Date, nullable=True),
    Column("control_number", Text, nullable=False),
)

#: CAS triplets, on a claim payment (service_payment_id NULL) or a service payment
adjustments = Table(
    "ledger_adjustments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_payment_id", Integer, ForeignKey("ledger_claim_payments.id", ondelete="CASCADE"), nullable=False),
    Column("service_payment_id", Integer, ForeignKey("ledger_service_payments.id", ondelete="CASCADE"), nullable=True),
    Column("group_code", String(4), nullable=False),
    Column("reason", String(8), nullable=False),
    Column("amount_cents", BigInteger, nullable=True),
    Column("quantity", String(24), nullable=False),
    Index("ix_ledger_adjustments_reason", "reason"),
)

#: RARC remark codes (MOA/MIA at claim level, LQ*HE at service level)
remarks = Table(
    "ledger_remarks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_payment_id", Integer, ForeignKey("ledger_claim_payments.id", ondelete="CASCADE"), nullable=False),
    Column("service_payment_id", Integer, ForeignKey("ledger_service_payments.id", ondelete="CASCADE"), nullable=True),
    Column("code", String(8), nullable=False),
)

#: what ``match`` (and ``appeal``) made of each payment: the 837 line, the category, the action
matches = Table(
    "ledger_matches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_id", Integer, ForeignKey("ledger_files.id", ondelete="CASCADE"), nullable=False),
    Column("claim_payment_id", Integer, ForeignKey("ledger_claim_payments.id", ondelete="CASCADE"), nullable=False),
    Column("service_payment_id", Integer, ForeignKey("ledger_service_payments.id", ondelete="CASCADE"), nullable=True),
    Column("claim_id", Integer, ForeignKey("ledger_claims.id", ondelete="SET NULL"), nullable=True),
    Column("line_id", Integer, ForeignKey("ledger_lines.id", ondelete="SET NULL"), nullable=True),
    Column("method", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("action", String(24), nullable=False),
    Column("denied", Boolean, nullable=False),
    Column("explaining", Text, nullable=False),  # rule codes that explain the denial, comma-joined
    Column("charge_cents", BigInteger, nullable=True),
    Column("paid_cents", BigInteger, nullable=True),
    Column("command", String(16), nullable=False),
    Index("ix_ledger_matches_line", "line_id"),
)


def _create(*tables: Table) -> Callable[[Connection], None]:
    def step(conn: Connection) -> None:
        for table in tables:
            table.create(conn)

    return step


def _index_trace(conn: Connection) -> None:
    # Payments are looked up by their check/EFT trace number. Plain DDL: an Index object would
    # attach itself to the table, and the table's own creation (step 2) would then make it too.
    conn.exec_driver_sql("CREATE INDEX ix_ledger_remits_trace ON ledger_remits (trace_number)")


#: (version, what it adds, step): step n takes a version n-1 ledger to version n
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "files, 837P claims and lines, findings", _create(meta, files, claims, lines, findings)),
    (2, "835 payments, adjustments, remarks and matches", _create(remits, claim_payments, service_payments, adjustments, remarks, matches)),
    (3, "index remittances by check/EFT trace number", _index_trace),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]


#: How many values one ``IN (...)`` list carries: SQLite allows 999 bound parameters per
#: statement in older builds, and PostgreSQL plans long lists poorly.
IN_LIST_SIZE = 500


def in_batches(values, size: int = IN_LIST_SIZE):
    """``values`` in lists of at most ``size``, for queries that filter with ``IN``."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
