"""Issue 16 item 7: a minutes export far wider than the claim file.

Memory follows the rows the claim files reference (the structure proves it: the rows kept
are exactly the referenced rows, and what is counted of the others is bounded), the findings
are the same whether or not the parser was told the claims, and U110 summarises instead of
flooding. Peak memory itself is measured by ``bench/bench_minutes.py``, not here.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edi_rehab
from claimkit import claim, ln, minutes_csv, x12
from edi_rehab.claims import claim_ids
from edi_rehab.cli import minutes_file
from edi_rehab.engine import Checker
from edi_rehab.minutes import UNKNOWN_CLAIMS_NAMED, UNKNOWN_ROWS_LISTED, UnknownClaims, parse_minutes_csv
from edi_rehab.x12.document import iter_events
from edi_rehab.x12.stream import Transaction
from rulecases import all_cases

CLAIMS = x12(claim(ln("97110:GP", 2), ln("97140:GP", 1), id="PCN1"), claim(ln("97530:GP", 2), id="PCN2"))


def ids_of(data: bytes) -> set[str]:
    return {i for event in iter_events([data]) if isinstance(event, Transaction) for i in claim_ids(event)}


def export(own: list[tuple], others: int, per_claim: int = 3) -> str:
    """The claim file's own rows, then ``others`` claims of an EMR export, ``per_claim`` rows each."""
    rows = list(own)
    for number in range(1, others + 1):
        rows += [(f"EMR{number:06d}", line, 20, "97110", "20260105") for line in range(1, per_claim + 1)]
    return minutes_csv(*rows)


OWN = [("PCN1", 1, 30, "97110", "20260105"), ("PCN1", 2, 8, "97140", "20260105"), ("PCN2", 1, 30, "97530", "20260105")]


def findings(data: bytes, table) -> list[tuple]:
    checker = Checker(minutes=table)
    found = [f for result in checker.check_events(iter_events([data]), claim_views=False) for f in result.findings]
    found += checker.minutes_findings()
    return [(f.code, f.segment, f.message, f.claim_id, f.line, f.details.get("row")) for f in found]


# -- memory, structurally ---------------------------------------------------------------------


def test_only_the_rows_of_the_claim_files_claims_are_kept():
    text = export(OWN, others=5000)  # 15,003 rows
    table = parse_minutes_csv(text, "m.csv", claims=ids_of(CLAIMS))
    assert [(r.claim_id, r.line) for r in table.rows] == [("PCN1", 1), ("PCN1", 2), ("PCN2", 1)]
    # what is held of the 15,000 other rows is bounded, however many there are
    assert len(table.unknown.named) == UNKNOWN_CLAIMS_NAMED
    assert all(len(entry.rows) <= UNKNOWN_ROWS_LISTED for entry in table.unknown.named.values())
    assert table.unknown.more_rows == 15000 - 3 * UNKNOWN_CLAIMS_NAMED
    assert table.problems == ()


def test_without_the_claims_every_row_is_kept():
    table = parse_minutes_csv(export(OWN, others=50), "m.csv")
    assert len(table.rows) == 153 and not table.unknown.named


def test_claim_ids_are_a_superset_of_the_claims_the_views_read():
    # two transaction sets; then an interchange with other separators and CRLF
    data = x12(transactions=[[claim(ln("97110:GP"), id="A")], [claim(ln("97110:GP"), id="B")]])
    data += x12(claim(ln("97110:GP"), id="C D"), terminator="~\r\n").replace(b"*", b"|")
    from edi_rehab.claims import read_claims

    for event in iter_events([data]):
        if isinstance(event, Transaction):
            assert {c.claim_id for c in read_claims(event)} <= claim_ids(event)
    assert {"A", "B", "C D"} <= ids_of(data)


# -- the same findings either way -------------------------------------------------------------


MIXED = minutes_csv(
    ("PCN1", 1, 30, "97110", "20260105"),
    ("EMR1", 1, 20), ("EMR1", 1, 25),  # a repeat of a claim no file has: part of its U110, not a U109
    ("PCN1", 1, 31),  # a repeat of a checked claim's line: U109
    ("PCN1", 7, 10),  # no such line: U110 on the claim
    ("PCN2", "x", 10),  # a bad row: U109 whatever its claim
    ("EMR2", "", 10, "97110", "20260105"),  # unbilled row of another claim
    *[(f"EMR{n}", line, 10) for n in range(3, 20) for line in (1, 2)],
    *[("EMR3", line, 5) for line in range(3, 20)],  # EMR3 gets more rows than are listed
    ("PCN2", 1, 30, "97530", "20260105"),
)


@pytest.mark.parametrize("text", [MIXED, export(OWN, 30), export([], 12)], ids=["mixed", "export", "nothing-referenced"])
def test_findings_do_not_depend_on_knowing_the_claims(text):
    every_row = findings(CLAIMS, parse_minutes_csv(text, "m.csv"))
    exact = findings(CLAIMS, parse_minutes_csv(text, "m.csv", claims=ids_of(CLAIMS)))
    # a superset (claims of another file of the run) keeps a few more rows, reported at the end
    wider = findings(CLAIMS, parse_minutes_csv(text, "m.csv", claims=ids_of(CLAIMS) | {"EMR5", "EMR15", "EMR1"}))
    assert every_row == exact == wider


def test_every_rule_case_with_minutes_finds_the_same_with_the_claims_known():
    cases = [case for case in all_cases() if isinstance(case.minutes, str)]
    assert len(cases) > 50
    for case in cases:
        data = case.data()
        options = {k: v for k, v in case.options.items()}
        plain = edi_rehab.check(data, minutes=parse_minutes_csv(case.minutes, "m.csv"), **options)
        known = edi_rehab.check(data, minutes=parse_minutes_csv(case.minutes, "m.csv", claims=ids_of(data)), **options)
        assert [(f.code, f.segment, f.message, f.details) for f in plain] == [
            (f.code, f.segment, f.message, f.details) for f in known
        ], case.id


# -- U110 summarises ----------------------------------------------------------------------------


def test_u110_names_the_first_claims_and_counts_the_rest():
    text = export(OWN, others=25)
    unknown = [f for f in findings(CLAIMS, parse_minutes_csv(text, "m.csv", claims=ids_of(CLAIMS))) if f[0] == "U110"]
    assert len(unknown) == UNKNOWN_CLAIMS_NAMED + 1
    assert unknown[0][2] == "claim 'EMR000001' is not in the checked claim file(s) (rows 5, 6, 7)"
    assert unknown[0][5] == 5
    summary = unknown[-1]
    assert summary[5] == 5 + 3 * UNKNOWN_CLAIMS_NAMED  # the first row of the first claim not named
    assert summary[2].startswith(f"{3 * (25 - UNKNOWN_CLAIMS_NAMED)} more rows, the first on this one, name claims")
    assert summary[2].endswith("an export wider than the claim files is expected; 3 rows name checked claims")


def test_u110_lists_a_claims_first_rows_and_counts_the_others():
    text = minutes_csv(*OWN, *[("EMR1", line, 5) for line in range(1, 15)])
    (finding,) = [f for f in findings(CLAIMS, parse_minutes_csv(text, "m.csv")) if f[0] == "U110"]
    assert finding[2] == "claim 'EMR1' is not in the checked claim file(s) (rows 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 and 4 more)"


def test_u110_says_so_when_no_row_names_a_checked_claim():
    # the harmful case: the export's claim_id is not the claim's CLM01, so no line got minutes
    text = minutes_csv(("1001", 1, 30), ("1002", 1, 30))
    unknown = [f for f in findings(CLAIMS, parse_minutes_csv(text, "m.csv")) if f[0] == "U110"]
    assert unknown[0][2].endswith("no row of the minutes file names a checked claim: claim_id must be the claim's CLM01 (patient control number)")
    assert "CLM01" not in unknown[1][2]  # said once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), max_size=120), st.sets(st.integers(min_value=0, max_value=30)))
def test_merging_two_counts_is_adding_every_row_in_file_order(claims, first_group):
    rows = [(row, f"C{c}") for row, c in enumerate(claims, start=2)]
    every, left, right = UnknownClaims(), UnknownClaims(), UnknownClaims()
    for row, claim_id in rows:
        every.add(claim_id, row)
        (left if int(claim_id[1:]) in first_group else right).add(claim_id, row)
    merged = left.merged(right)
    assert merged.named == every.named and list(merged.named) == list(every.named)
    assert (merged.more_rows, merged.more_first_row) == (every.more_rows, every.more_first_row)


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def big_export(files):
    claims = files("claims.x12", CLAIMS)
    minutes = files("minutes.csv", MIXED.replace("EMR19,2,10", "EMR19,2,10,,,caf\xe9").encode("latin-1"))
    return claims, minutes


def without_control_numbers(doc: dict) -> dict:
    """split numbers each output interchange from its counter, so two runs differ there."""
    for key in ("clean", "held"):
        if key in doc:
            doc[key].pop("interchanges", None)
    return doc


@pytest.mark.parametrize("command", ["check", "split", "fix"])
def test_cli_reports_the_same_when_the_file_is_read_for_its_claims(run, big_export, monkeypatch, tmp_path, command):
    claims, minutes = big_export
    out = {
        "check": ("--format", "json"),
        "split": ("--clean", str(tmp_path / "c.x12"), "--held", str(tmp_path / "h.x12"), "--format", "json"),
        "fix": ("-o", str(tmp_path / "f.x12"), "--format", "json"),
    }[command]
    whole = run(command, claims, "--minutes", minutes, *out)
    kept: list = []
    real = minutes_file.claim_ids_in
    monkeypatch.setattr(minutes_file, "PRESCAN_BYTES", 0)
    monkeypatch.setattr("edi_rehab.cli.options.PRESCAN_BYTES", 0)
    monkeypatch.setattr("edi_rehab.cli.options.claim_ids_in", lambda sources: kept.append(real(sources)) or kept[-1])
    streamed = run(command, claims, "--minutes", minutes, *out)
    assert kept == [frozenset({"PCN1", "PCN2"})]  # the claims were read first
    assert streamed.exit_code == whole.exit_code
    assert without_control_numbers(json.loads(streamed.stdout)) == without_control_numbers(json.loads(whole.stdout))
    assert streamed.stderr == whole.stderr


def test_cli_keeps_every_row_when_a_claim_file_is_standard_input(run, big_export, monkeypatch):
    claims, minutes = big_export
    monkeypatch.setattr("edi_rehab.cli.options.PRESCAN_BYTES", 0)
    monkeypatch.setattr(minutes_file, "PRESCAN_BYTES", 0)
    kept: list = []
    real = minutes_file.claim_ids_in
    monkeypatch.setattr("edi_rehab.cli.options.claim_ids_in", lambda sources: kept.append(real(sources)) or kept[-1])
    with open(claims, "rb") as handle:
        piped = run("check", "-", "--minutes", minutes, "--format", "json", input=handle.read())
    assert kept == [None]  # standard input cannot be read twice: its claims are not known before
    named = run("check", claims, "--minutes", minutes, "--format", "json")
    assert kept == [None, frozenset({"PCN1", "PCN2"})]
    assert piped.exit_code == named.exit_code
    assert json.loads(piped.stdout)["files"][-1]["findings"] == json.loads(named.stdout)["files"][-1]["findings"]


def test_a_large_minutes_file_is_read_line_by_line_in_its_encoding(files, monkeypatch):
    monkeypatch.setattr(minutes_file, "PRESCAN_BYTES", 0)
    latin = files("latin.csv", "claim_id,line,minutes,time_block\nPCN1,1,30,caf\xe9\n".encode("latin-1"))
    utf8 = files("utf8.csv", "\ufeffclaim_id,line,minutes,time_block\r\nPCN1,1,30,caf\xe9\r\n".encode("utf-8"))
    for path in (latin, utf8):
        text, size = minutes_file.minutes_text(path)
        assert callable(text) and size > 0
        assert minutes_file.minutes_header_problem(text()) is None
        (row,) = parse_minutes_csv(text(), path).rows
        assert row.time_block == "caf\xe9"
