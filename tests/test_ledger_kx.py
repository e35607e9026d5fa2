"""C413/C414 from the patient's recorded year-to-date (``check --ledger``): the allowed amounts
of recorded 835s plus the charges of recorded, unanswered 837 lines, never the file or claim
being checked. Table-driven on rows, and through the CLI on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from claimkit import claim, ln, x12
from edi_rehab.ledger.history import RecordedLine, claim_year_to_date, superseded_claims, year_to_date
from edi_rehab.ledger.store import Ledger
from edi_rehab.synth import generate_835, generate_837p
from ledgerkit import ledger_home, ledger_url, pg_schema, the_key  # noqa: F401  (fixtures)

THRESHOLD_2026 = Decimal(2480)  # maps/payers.xml, reference §4.2
MEMBER, PAYER = "SYN000001", "SYNMB0001"
PAID = generate_837p(claims=3, seed=41, filing_indicators=("MB",), disciplines=("PT",))


# -- pure: which recorded claims count ------------------------------------------------------------


def row(claim_row, *, clm01="PCN1", file_id=1, frequency="1", f8="", clp07="", day=date(2026, 1, 5), cents=10000,
        allowed=None, patient="p1", bucket="PT+SLP", last=None) -> RecordedLine:
    return RecordedLine(patient, day, bucket, cents, allowed, claim_row, file_id, clm01, frequency, f8, clp07, day, last or day)


JAN, FEB = date(2026, 1, 5), date(2026, 2, 9)

# (id, recorded rows, the claim checked (clm01, span, REF*F8), expected (allowed, pending) in dollars)
CASES = [
    ("answered-and-pending", [row(1, allowed=8000), row(2, clm01="PCN2", day=FEB)], ("NEW", (FEB, FEB), ""), (80, 100)),
    ("a-resent-copy-counts-once", [row(1), row(2, file_id=2)], ("NEW", (FEB, FEB), ""), (0, 100)),
    ("the-last-copy-wins", [row(1, allowed=5000), row(2, file_id=2, cents=12000)], ("NEW", (FEB, FEB), ""), (0, 120)),
    ("one-account-number-on-claims-of-two-months", [row(1), row(2, file_id=2, day=FEB)], ("NEW", (FEB, FEB), ""), (0, 200)),
    ("the-claim-checked-stands-for-its-earlier-copy", [row(1, allowed=8000), row(2, clm01="PCN2", day=FEB)],
     ("PCN1", (JAN, JAN), ""), (0, 100)),
    ("a-void-counts-nothing-nor-what-it-voids", [row(1, allowed=8000), row(2, file_id=2, frequency="8")],
     ("NEW", (FEB, FEB), ""), (0, 0)),
    ("a-replacement-by-ref-f8-stands-for-the-original",
     [row(1, allowed=8000, clp07="ICN1"), row(2, clm01="PCN1B", file_id=2, frequency="7", f8="ICN1", cents=9000)],
     ("NEW", (FEB, FEB), ""), (0, 90)),
    ("the-replacement-checked-stands-for-the-original", [row(1, allowed=8000, clp07="ICN1")], ("PCN1B", (JAN, JAN), "ICN1"), (0, 0)),
    ("another-patient-does-not-count", [row(1, patient="p2", allowed=8000)], ("NEW", (FEB, FEB), ""), (0, 0)),
]


@pytest.mark.parametrize("rows, checked, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_claim_year_to_date_cases(rows, checked, expected):
    clm01, span, f8 = checked
    got = claim_year_to_date(rows, "p1", clm01, span, f8, superseded=superseded_claims(rows))
    key = (2026, "PT+SLP")
    assert (got.allowed.get(key, 0), got.pending.get(key, 0)) == tuple(Decimal(v) for v in expected)


# -- through check --ledger -----------------------------------------------------------------------


def history(run, files, url) -> Decimal:
    """PAID checked and its 835 matched, then a pending claim for MEMBER that brings the year
    to $10 under the 2026 threshold; returns the allowed amount the 835 gave MEMBER."""
    run("check", files("paid.x12", PAID.data), "--ledger", url, "-q")
    run("match", files("paid.835", generate_835(PAID).data), "--ledger", url)
    with Ledger.open(url, the_key()) as ledger:
        patient = the_key().patient(MEMBER, PAYER)
        allowed = ledger.query(lambda conn: year_to_date(conn, [patient]))[patient].allowed[(2026, "PT+SLP")]
    assert 0 < allowed < THRESHOLD_2026 - 10
    pending = THRESHOLD_2026 - 10 - allowed
    run("check", files("pending.x12", pending_file(pending)), "--ledger", url, "-q")
    return allowed


def pending_file(charge: Decimal, control: str = "000000001") -> bytes:
    data = x12(claim(ln("97110:GP", 1, "20260216", charge=f"{charge:.2f}"), id="KXPEND1", patient=MEMBER, payer_id=PAYER,
                     filing="MB"))
    return data.replace(b"*000000001*", f"*{control}*".encode())


def new_claim(procedure="97110:GP", charge="60", dos="20260302", patient=MEMBER, id="KXNEW1", **kw) -> bytes:
    return x12(claim(ln(procedure, 1, dos, charge=charge), id=id, patient=patient, payer_id=PAYER, filing="MB", **kw))


def found(run, path, url, code="C413", *more):
    done = run("check", path, *(("--ledger", url) if url else ()), "--format", "json", *more)
    assert done.exit_code in (0, 1), done.output
    return [f for f in json.loads(done.output)["files"][0]["findings"] if f["code"] == code]


def test_a_claim_that_crosses_the_recorded_year_without_kx_fires(run, ledger_url, files):
    allowed = history(run, files, ledger_url)
    crossing = files("new.x12", new_claim())
    assert found(run, crossing, None) == []  # $60 alone is far under the threshold
    [hit] = found(run, crossing, ledger_url)
    assert hit["severity"] == "warning" and hit["line"] == 1
    pending = THRESHOLD_2026 - 10 - allowed
    assert hit["message"].startswith(
        f"the ledger's 2026 PT+SLP year-to-date for this patient, $2,470.00 (${allowed:,.2f} allowed on recorded 835s, "
        f"${pending:,.2f} charged on recorded claims no 835 has answered yet), and this claim's charges bring the year "
        "to $2,530.00, above that year's $2,480 therapy threshold, and line 1 past it carries no KX"
    ), hit["message"]
    # the same claim with KX on its line is silent
    assert found(run, files("kx.x12", new_claim("97110:GP:KX")), ledger_url) == []


def test_rerunning_files_counts_nothing_twice(run, ledger_url, files):
    allowed = history(run, files, ledger_url)
    crossing = files("new.x12", new_claim())
    first = found(run, crossing, ledger_url)
    # the file is recorded now: checked again, it does not count itself
    assert found(run, crossing, ledger_url) == first and len(first) == 1
    # the 835 and the first file again add nothing
    run("match", files("paid-again.835", generate_835(PAID).data), "--ledger", ledger_url)
    run("check", files("paid.x12", PAID.data), "--ledger", ledger_url, "-q")
    assert found(run, crossing, ledger_url) == first
    # the pending claim sent again in another interchange is one claim, not two
    run("check", files("pending-again.x12", pending_file(THRESHOLD_2026 - 10 - allowed, control="000000002")),
        "--ledger", ledger_url, "-q")
    assert found(run, crossing, ledger_url) == first
    # checking the pending claim itself again: the year before it is the 835's allowed amount alone
    again = files("pending-third.x12", pending_file(Decimal(100), control="000000003"))
    assert found(run, again, ledger_url) == []


# each would cross the threshold ($60 without KX) or the review amount ($600 with KX) if the
# patient's 2026 PT+SLP history ($2,470) counted; 2025's threshold is $2,410
@pytest.mark.parametrize("what, changed, procedure", [
    ("another-patient", {"patient": "SYN000901"}, "97110:GP"),
    ("another-year", {"dos": "20251229"}, "97110:GP"),
    ("the-ot-bucket", {"taxonomy": "225X00000X"}, "97530:GO"),
])
def test_history_of_another_patient_year_or_bucket_does_not_count(run, ledger_url, files, what, changed, procedure):
    history(run, files, ledger_url)
    assert found(run, files(f"{what}.x12", new_claim(procedure, **changed)), ledger_url) == []
    review = files(f"{what}-review.x12", new_claim(f"{procedure}:KX", charge="600", **changed))
    assert found(run, review, ledger_url, "C414") == []
    # the same claims for the patient, year and bucket of the history do cross
    assert len(found(run, files(f"{what}-control.x12", new_claim(id="KXCTRL1")), ledger_url)) == 1


def test_the_review_amount_is_noted_from_the_recorded_year(run, ledger_url, files):
    history(run, files, ledger_url)
    passing = files("review.x12", new_claim("97110:GP:KX", charge="600"))
    assert found(run, passing, None, "C414") == []
    [note] = found(run, passing, ledger_url, "C414")
    assert note["severity"] == "info" and note["message"].startswith("the ledger's 2026 PT+SLP year-to-date for this patient, $2,470.00")
    assert note["message"].endswith(
        "pass that year's $3,000 targeted medical review amount at line 1 ($3,070.00 with them); the MAC may review the "
        "records behind them"
    ), note["message"]
    assert found(run, passing, ledger_url) == []  # KX: no C413
    # --ignore and the config still decide whether the rules run
    assert found(run, passing, ledger_url, "C414", "--ignore", "C414") == []


def test_a_commercial_payer_is_not_judged(run, ledger_url, files):
    history(run, files, ledger_url)
    assert found(run, files("ci.x12", new_claim().replace(b"*******MB~", b"*******CI~")), ledger_url) == []


def test_a_replacement_does_not_count_the_claim_it_replaces(run, ledger_url, files):
    allowed = history(run, files, ledger_url)
    original = next(c for c in PAID.claims if c.subscriber_id == MEMBER)
    clp07 = f"SYNICN{original.number:08d}1"  # what generate_835 gives a claim paid at once
    assert clp07.encode() in generate_835(PAID).data
    # a new claim for the day is counted on top of the original: it crosses (and is pending from now on)
    assert len(found(run, files("new.x12", new_claim(dos="20260121", id="KXOTHER1")), ledger_url)) == 1
    # the replacement stands for the original: $2,470 - its allowed amount + $60 pending + $60 stays under
    assert allowed > 110
    replacement = files("replacement.x12", new_claim(dos="20260121", frequency="7", f8=clp07))
    assert found(run, replacement, ledger_url) == []


def test_with_an_empty_ledger_the_claim_alone_decides_as_without_one(run, ledger_url, files):
    four = x12(claim(*(ln("97110:GP", 3, f"202601{day:02d}", charge="650") for day in (5, 12, 19, 26)), id="PCN1", filing="MB"))
    path = files("four.x12", four)
    [alone] = found(run, path, None)
    [recorded] = found(run, path, ledger_url)
    assert (recorded["segment"], recorded["line"]) == (alone["segment"], alone["line"])
    assert "year-to-date for this patient, $0.00" in recorded["message"]
    # the counts follow the replaced findings: one C413 warning, not two
    done = run("check", files("four-again.x12", four.replace(b"*000000001*", b"*000000002*")), "--ledger", ledger_url,
               "--format", "jsonl")
    record = json.loads(done.output.splitlines()[0])
    assert [f["code"] for f in record["findings"]].count("C413") == 1
    assert record["counts"]["warning"] == sum(1 for f in record["findings"] if f["severity"] == "warning")
