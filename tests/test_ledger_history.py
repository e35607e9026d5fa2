"""L701 (a line already sent in an earlier file) and the year-to-date amounts for the KX
threshold, from the ledger's history: table-driven on rows, and through check --ledger on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from edi_rehab.ledger.facts import claim_file_facts
from edi_rehab.ledger.history import DUPLICATE, EarlierLine, duplicate_findings, year_to_date
from edi_rehab.ledger.store import Ledger
from edi_rehab.remits import read_remittance
from edi_rehab.synth import generate_835, generate_837p
from edi_rehab.x12.document import iter_events
from edi_rehab.x12.stream import Transaction
from ledgerkit import ledger_home, ledger_url, pg_schema, the_key  # noqa: F401  (fixtures)

FIRST = generate_837p(claims=3, seed=21, filing_indicators=("MB",))


def resent(data: bytes, *, control: bytes = b"000000002", frequency: bytes | None = None, old: bytes = b"11:B:1") -> bytes:
    """The same claims in a new interchange (another ISA13, so other bytes), optionally
    with every claim's frequency changed."""
    data = data.replace(b"*000000001*", b"*" + control + b"*")
    if frequency is not None:
        data = data.replace(b"*" + old + b"*", b"*11:B:" + frequency + b"*")
    return data


def earlier_rows(data: bytes, *, frequency: str | None = None, resend: bool = False, file_id: int = 1) -> list[EarlierLine]:
    facts = claim_file_facts(data, the_key())
    rows = []
    for item in facts.claims:
        for line in item.lines:
            rows.append(EarlierLine(
                line["patient_hash"], line["rendering_npi"], line["service_date"], line["procedure"], line["modifier_set"],
                line["units"], item.claim["clm01"], frequency or item.claim["frequency"], "first.x12", file_id, resend,
            ))
    return rows


def first_line_changed(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new, 1)


LINES = sum(len(c.lines) for c in FIRST.claims)
FIRST_SV1 = f"SV1*HC:{FIRST.claims[0].lines[0].procedure}:GP*".encode()

# (id, the new file, earlier rows, how many L701)
CASES = [
    ("resent-original-fires-on-every-line", resent(FIRST.data), earlier_rows(FIRST.data), LINES),
    ("replacement-is-silent", resent(FIRST.data, frequency=b"7"), earlier_rows(FIRST.data), 0),
    ("void-is-silent", resent(FIRST.data, frequency=b"8"), earlier_rows(FIRST.data), 0),
    ("earlier-void-does-not-count", resent(FIRST.data), earlier_rows(FIRST.data, frequency="8"), 0),
    ("earlier-returned-unprocessable-does-not-count", resent(FIRST.data), earlier_rows(FIRST.data, resend=True), 0),
    ("no-history-is-silent", resent(FIRST.data), [], 0),
    ("a-76-makes-the-line-differ", first_line_changed(resent(FIRST.data), FIRST_SV1, FIRST_SV1[:-1] + b":76*"), earlier_rows(FIRST.data), LINES - 1),
    ("other-units-differ", first_line_changed(resent(FIRST.data), b"*UN*2*", b"*UN*3*"), earlier_rows(FIRST.data), LINES - 1),
    ("modifier-order-does-not-matter", first_line_changed(resent(FIRST.data), b"SV1*HC:97530:GP*", b"SV1*HC:97530:GP*"), earlier_rows(FIRST.data), LINES),
]


@pytest.mark.parametrize("data, earlier, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_duplicate_submission_cases(data, earlier, expected):
    found = duplicate_findings(claim_file_facts(data, the_key()), earlier)
    assert len(found) == expected
    for finding in found:
        assert finding.code == DUPLICATE and finding.severity.value == "error"
        assert "CARC 18" in finding.message and finding.claim_id and finding.line


def test_another_patient_is_not_a_duplicate():
    other = generate_837p(claims=3, seed=21, filing_indicators=("MB",))
    data = other.data.replace(b"SYN000001", b"SYN000901").replace(b"PATIENT0001", b"PATIENT0901")
    found = duplicate_findings(claim_file_facts(resent(data), the_key()), earlier_rows(FIRST.data))
    assert found and all(f.claim_id != FIRST.claims[0].claim_id for f in found)


def test_a_reordered_modifier_set_is_the_same_line():
    one = generate_837p(claims=1, seed=4, assistant_share=1.0, filing_indicators=("MB",))
    sv1 = next(s for s in one.data.split(b"~") if s.startswith(b"SV1*HC:") and s.count(b":") >= 3)
    composite = sv1.split(b"*")[1]
    parts = composite.split(b":")
    swapped = b":".join([parts[0], parts[1], *reversed(parts[2:])])
    again = resent(one.data).replace(composite, swapped, 1)
    assert len(duplicate_findings(claim_file_facts(again, the_key()), earlier_rows(one.data))) == sum(len(c.lines) for c in one.claims)


# -- through check --ledger --------------------------------------------------------------------


def test_check_reports_a_resent_file_as_duplicates(run, ledger_url, files):
    first = files("first.x12", FIRST.data)
    second = files("second.x12", resent(FIRST.data))
    assert run("check", first, "--ledger", ledger_url, "-q").exit_code == 0
    done = run("check", second, "--ledger", ledger_url, "--format", "json")
    assert done.exit_code == 1
    found = [f for f in json.loads(done.output)["files"][0]["findings"] if f["code"] == DUPLICATE]
    assert len(found) == LINES and f"in {first}" in found[0]["message"]
    # the first file checked again is not a duplicate of itself, nor of the later file
    assert run("check", first, "--ledger", ledger_url, "-q").exit_code == 0
    # the L701 findings were recorded with the second file
    from sqlalchemy import select

    from edi_rehab.ledger import schema as s

    with Ledger.open(ledger_url, the_key()) as ledger:
        with ledger.connection() as conn:
            codes = conn.execute(select(s.findings.c.code)).scalars().all()
    assert codes.count(DUPLICATE) == LINES


def test_a_replacement_passes_and_ignore_silences(run, ledger_url, files):
    first = files("first.x12", FIRST.data)
    run("check", first, "--ledger", ledger_url, "-q")
    replacement = files("replacement.x12", resent(FIRST.data, frequency=b"7"))
    assert DUPLICATE not in run("check", replacement, "--ledger", ledger_url, "--format", "json").output
    second = files("second.x12", resent(FIRST.data, control=b"000000003"))
    assert DUPLICATE not in run("check", second, "--ledger", ledger_url, "--ignore", DUPLICATE, "-q").output
    table = run("check", files("third.x12", resent(FIRST.data, control=b"000000004")), first, "--ledger", ledger_url)
    assert table.exit_code == 1 and DUPLICATE in table.output


def test_jsonl_counts_the_duplicates(run, ledger_url, files):
    run("check", files("first.x12", FIRST.data), "--ledger", ledger_url, "-q")
    done = run("check", files("second.x12", resent(FIRST.data)), "--ledger", ledger_url, "--format", "jsonl")
    records = [json.loads(line) for line in done.output.splitlines()]
    alone = json.loads(run("check", files("third.x12", resent(FIRST.data, control=b"000000005")), "--format", "json").output)
    others = sum(1 for f in alone["files"][0]["findings"] if f["severity"] == "error")
    assert records[0]["counts"]["error"] == LINES + others and records[0]["status"] == "fail"
    assert sum(1 for f in records[0]["findings"] if f["code"] == DUPLICATE) == LINES
    assert records[-1]["exit_code"] == 1


# -- year to date ----------------------------------------------------------------------------


def test_year_to_date_sums_allowed_from_835s_and_pending_from_837s(run, ledger_url, files):
    paid_file = generate_837p(claims=4, seed=31, filing_indicators=("MB",), disciplines=("PT", "OT"))
    pending_file = generate_837p(claims=4, seed=32, filing_indicators=("MB",), disciplines=("PT", "OT"), start_date=date(2026, 3, 2))
    remit = generate_835(paid_file)
    paid_path = files("paid.x12", paid_file.data)
    run("check", paid_path, "--ledger", ledger_url, "-q")
    run("match", files("paid.835", remit.data), "--ledger", ledger_url)
    run("check", files("pending.x12", pending_file.data), "--ledger", ledger_url, "-q")

    # what the 835 says each patient was allowed, from the 835 itself
    allowed: dict[tuple[str, int, str], Decimal] = {}
    by_claim = {c.claim_id: c for c in paid_file.claims}
    for event in iter_events([remit.data]):
        if isinstance(event, Transaction):
            for clp in read_remittance(event).claims:
                claim = by_claim[clp.claim_id]
                for svc in clp.services:
                    bucket = "OT" if "GO" in svc.modifiers else "PT+SLP"
                    key = (claim.subscriber_id, svc.dates[0].year, bucket)
                    allowed[key] = allowed.get(key, Decimal(0)) + svc.allowed
    pending: dict[tuple[str, int, str], Decimal] = {}
    for claim in pending_file.claims:
        for line in claim.lines:
            bucket = "OT" if "GO" in line.modifiers else "PT+SLP"
            key = (claim.subscriber_id, line.service_date.year, bucket)
            pending[key] = pending.get(key, Decimal(0)) + line.charge

    key = the_key()
    members = {c.subscriber_id for c in (*paid_file.claims, *pending_file.claims)}
    hashes = {key.patient(member, "SYNMB0001"): member for member in members}
    with Ledger.open(ledger_url, key) as ledger:
        totals = ledger.query(lambda conn: year_to_date(conn, hashes))
    got_allowed = {(hashes[h], y, b): v for h, ytd in totals.items() for (y, b), v in ytd.allowed.items()}
    got_pending = {(hashes[h], y, b): v for h, ytd in totals.items() for (y, b), v in ytd.pending.items()}
    assert got_allowed == allowed and got_pending == pending
    assert allowed and pending
    some = next(iter(totals.values()))
    assert some.amounts() == {k: some.allowed.get(k, 0) + some.pending.get(k, 0) for k in {*some.allowed, *some.pending}}


def test_rule_l701_prints_its_doc_without_a_database_layer(run):
    import subprocess
    import sys

    result = run("rule", "L701")
    assert result.exit_code == 0
    for section in ("## What it does", "## Why is this bad?", "## Source", "## Fix safety"):
        assert section in result.stdout
    assert "Reference §7" in result.stdout and "[V]" in result.stdout
    code = "import sys\nfrom edi_rehab.cli import main\ntry:\n    main(['rule', 'L701'])\nexcept SystemExit:\n    pass\nprint('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip().endswith("False")
