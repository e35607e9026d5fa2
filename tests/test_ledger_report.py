"""edi-rehab report on a generated history (thousands of claims and their 835s, built by
synth): each number is worked out again here from check's and match's own results, and the
HTML report is rendered in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

import pytest

import edi_rehab
from edi_rehab.match import EXPLAINING_RULES, ClaimIndex, CodeBook, index_claim_file, match_remittances, read_remittance_file
from edi_rehab.minutes import parse_minutes_csv
from edi_rehab.synth import generate_835, generate_837p, minutes_csv
from edi_rehab.x12.document import iter_events
from ledgerkit import ledger_home, ledger_url, pg_schema  # noqa: F401  (fixtures)

CLAIMS = 2500


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A generated 837P of CLAIMS claims (three payers, three disciplines, defects here and
    there), its minutes and the 835 that answers it, on disk."""
    folder = tmp_path_factory.mktemp("history")
    synth = generate_837p(claims=CLAIMS, seed=2026, defect_rate=0.12, filing_indicators=("MB", "CI", "MC"),
                          disciplines=("PT", "OT", "SLP"), date_span_days=40, claims_per_transaction=1000)
    remit = generate_835(synth)
    minutes = minutes_csv(synth.claims)
    paths = {}
    for name, data in (("claims.x12", synth.data), ("remit.835", remit.data), ("minutes.csv", minutes.encode())):
        (folder / name).write_bytes(data)
        paths[name] = str(folder / name)
    return synth, remit, minutes, paths


_EXPECTED: dict = {}


def expected(synth, remit, minutes_text, since: date | None = None) -> dict:
    """The report's numbers from check's findings and match's rows, counted here (once per
    history and date)."""
    key = (id(synth), since)
    if key not in _EXPECTED:
        _EXPECTED[key] = _count(synth, remit, minutes_text, since)
    return _EXPECTED[key]


def _count(synth, remit, minutes_text, since):
    minutes = parse_minutes_csv(minutes_text, "minutes.csv")
    checker = edi_rehab.engine.Checker(minutes=minutes)
    index = ClaimIndex()
    index_claim_file(index, "claims.x12", iter_events([synth.data]), checker)
    result = match_remittances([("remit.835", r) for r in read_remittance_file("remit.835", iter_events([remit.data]))],
                               index, CodeBook(checker.maps), minutes=minutes)
    findings = edi_rehab.check(synth.data, minutes=minutes_text)
    payer = {c.claim_id: c.payer_id for c in synth.claims}
    line_codes: dict[tuple[str, int], set[str]] = defaultdict(set)
    claim_codes: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        (line_codes[(f.claim_id, f.line)] if f.line is not None else claim_codes[f.claim_id]).add(f.code)
    out = {"lines": 0, "denied": 0, "payer": Counter(), "payer_denied": Counter(), "carc": Counter(),
           "category": Counter(), "stake": Counter(), "sent": Counter(), "cause": Counter()}
    for row in result.rows:
        if row.service is None or row.match.record is None or not row.match.indexes:
            continue
        day = row.service.dates[0]
        if since is not None and day < since:
            continue
        claim_id, lx = row.match.record.claim_id, row.match.line
        out["lines"] += 1
        out["payer"][payer[claim_id]] += 1
        codes = line_codes[(claim_id, lx)] | claim_codes[claim_id]
        for code in codes:
            out["sent"][code] += 1
        if row.denied:
            out["denied"] += 1
            out["payer_denied"][payer[claim_id]] += 1
            out["category"][row.category] += 1
            out["stake"][row.category] += max(row.charge - (row.paid or 0), 0)
            for code in codes:
                out["cause"][code] += code in EXPLAINING_RULES.get(row.category, ())
            for key in {f"{a.group}-{a.reason}" for a in row.service.adjustments if a.group != "PR" and not (a.group == "CO" and a.reason == "45")}:
                out["carc"][key] += 1
    return out


def record(run, paths, url):
    assert run("check", paths["claims.x12"], "--minutes", paths["minutes.csv"], "--ledger", url, "-q").exit_code in (0, 1)
    assert run("match", paths["remit.835"], "--minutes", paths["minutes.csv"], "--ledger", url, "--format", "csv").exit_code == 0


def test_the_report_counts_what_check_and_match_found(run, ledger_url, history):
    synth, remit, minutes, paths = history
    record(run, paths, ledger_url)
    done = run("report", "--ledger", ledger_url, "--format", "json")
    assert done.exit_code == 0
    got = json.loads(done.output)
    want = expected(synth, remit, minutes)
    assert want["lines"] > 5000 and want["denied"] > 100  # a history worth the name
    assert got["lines"] == want["lines"] and got["denied"] == want["denied"]
    assert {g["key"]: (g["lines"], g["denied"]) for g in got["by_payer"]} == {
        p: (n, want["payer_denied"][p]) for p, n in want["payer"].items()
    }
    assert {g["key"]: g["denied"] for g in got["by_carc"]} == dict(want["carc"])
    assert {g["key"]: (g["lines"], Decimal(g["at_stake"])) for g in got["at_stake_by_category"]} == {
        k: (n, want["stake"][k]) for k, n in want["category"].items()
    }
    rules = {r["rule"]: r for r in got["by_rule"]}
    assert {k: r["lines_sent"] for k, r in rules.items()} == dict(want["sent"])
    assert {k: r["denied_for_cause"] for k, r in rules.items()} == {k: want["cause"][k] for k in want["sent"]}
    for r in rules.values():
        assert r["precision"] == round(r["denied_for_cause"] / r["lines_sent"], 4)
    # rules that the synthetic payer denies for, and one it never denies for
    assert rules["U101"]["precision"] > 0.9 and rules["N301"]["precision"] > 0.9
    assert any(r["precision"] == 0 for r in rules.values())
    assert got["denial_rate"] == round(want["denied"] / want["lines"], 4)


def test_since_keeps_the_later_lines(run, ledger_url, history):
    synth, remit, minutes, paths = history
    record(run, paths, ledger_url)
    since = date(2026, 1, 26)
    got = json.loads(run("report", "--ledger", ledger_url, "--since", since.isoformat(), "--format", "json").output)
    want = expected(synth, remit, minutes, since)
    assert 0 < got["lines"] == want["lines"] < expected(synth, remit, minutes)["lines"]
    assert got["denied"] == want["denied"] and got["since"] == since.isoformat()


def test_text_and_csv_say_the_same(run, ledger_url, history):
    _synth, _remit, _minutes, paths = history
    record(run, paths, ledger_url)
    got = json.loads(run("report", "--ledger", ledger_url, "--format", "json").output)
    text = run("report", "--ledger", ledger_url).output
    assert text.startswith(f"{got['lines']} answered lines: {got['denied']} denied")
    for title in ("Denial rate by payer", "Denials by CARC", "Denial rate by procedure code", "Rule precision", "Money at stake by category"):
        assert title in text
    rows = list(csv.DictReader(io.StringIO(run("report", "--ledger", ledger_url, "--format", "csv").output)))
    total = next(r for r in rows if r["section"] == "total")
    assert int(total["lines"]) == got["lines"] and int(total["denied"]) == got["denied"]
    assert {r["key"]: float(r["precision"]) for r in rows if r["section"] == "rule"} == {r["rule"]: r["precision"] for r in got["by_rule"]}


def test_an_empty_ledger_reports_nothing_without_failing(run, ledger_url):
    done = run("report", "--ledger", ledger_url, "--format", "html")
    assert done.exit_code == 0 and "0 answered lines" in done.output


def test_report_needs_a_ledger(run):
    done = run("report")
    assert done.exit_code == 2 and "--ledger" in done.output


def test_a_bad_since_is_exit_2(run, ledger_home, tmp_path):
    done = run("report", "--ledger", f"sqlite:///{tmp_path / 'l.db'}", "--since", "last week")
    assert done.exit_code == 2 and "not a date" in done.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_is_one_file_chromium_renders_with_its_charts(run, history, tmp_path, ledger_home):
    if CHROMIUM is None:
        if os.environ.get("EDI_REHAB_REQUIRE_BROWSER") == "1":
            pytest.fail("EDI_REHAB_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    _synth, _remit, _minutes, paths = history
    url = f"sqlite:///{tmp_path / 'l.db'}"
    record(run, paths, url)
    page = tmp_path / "report.html"
    assert run("report", "--ledger", url, "--format", "html", "-o", str(page)).exit_code == 0
    html = page.read_text()
    # self-contained: no script, nothing fetched (the only URLs are the SVG namespaces and pygal's credit comment)
    import re

    assert "<script" not in html
    assert not [u for u in re.findall(r"(?:src|href)=\"([^\"#]+)", html)]
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}")
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0 and "<body" in dom.stdout, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 3 and "Rule precision" in dom.stdout and "answered lines" in dom.stdout
    shot = tmp_path / "report.png"
    done = subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 10_000  # a page with charts drawn, not a blank one
