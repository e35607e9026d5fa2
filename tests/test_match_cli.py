"""`edi-rehab match` and `edi-rehab appeal` from the outside: formats, bad input, files written."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from edi_rehab.match import CSV_COLUMNS
from matchkit import C, L, P, S, claim_file, remit_file

PAID = [("CO", "45", "20"), ("PR", "2", "6")]
#: a commercial payer: corrections go as replacement claims (000123 stays Medicare Part B)
COMMERCIAL = dict(filing="CI", payer_id="ACME1", payer_name="SYNTHETIC COMMERCIAL PPO")
CLAIMS = claim_file(
    [
        C("PCN1", [L("97140", charge="47"), L("97530", charge="55")], **COMMERCIAL),
        C("000123", [L("97110")], member="SYN2"),
        C("../../x", [L("97110", ())], member="SYN3", **COMMERCIAL),
    ]
)
REMIT_PCN1 = P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2")], icn="ICN1")
REMIT = remit_file(
    [
        REMIT_PCN1,
        P("000123", [S("97110", cas=[("PR", "119", "50")], ref6r="000123-1")], icn="=ICN2"),
        P("../../x", [S("97110", (), cas=[("CO", "4", "50")], remarks=("N822",), ref6r="../../x-1")], icn="ICN3"),
        P("GHOST", [S("97110", cas=PAID)], icn="ICN4"),
    ]
)
MINUTES = "claim_id,line,minutes,time_block\nPCN1,1,15,0900-0915\nPCN1,2,15,0915-0930\n"


# -- match ----------------------------------------------------------------------------------------
def test_text_output(run, files):
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ncci-bundling, corrected-claim [PCN1 line 2 via line-control] [N301]" in out
    assert "GHOST (CLP02 1) matches no claim" in out
    assert "    cause: 97530 (column 2) was billed with 97140" in out
    assert out.rstrip().splitlines()[-1].startswith("Matched 5 service payments (3 denied); 1 unmatched claim;")


def test_json_output_shape(run, files):
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS), "--format", "json")
    data = json.loads(result.stdout)
    assert list(data) == ["schema_version", "command", "tool", "lines", "unmatched_claims", "summary"]  # the envelope first
    by_id = {(line["remit_claim_id"], line["procedure"]): line for line in data["lines"]}
    kx = by_id[("000123", "97110")]
    assert kx["category"] == "benefit-limit" and kx["action"] == "reopening" and kx["findings"] == ["R501"]
    assert kx["match"] == {"file": files("c.837", CLAIMS), "claim_id": "000123", "line": 1, "lines": [1], "method": "line-control"}
    modifier = by_id[("../../x", "97110")]
    assert modifier["findings"] == ["M201"] and modifier["remarks"][0]["code"] == "N822"
    assert [u["remit_claim_id"] for u in data["unmatched_claims"]] == ["GHOST"]
    assert data["summary"]["by_action"]["corrected-claim"] == 2 and data["summary"]["by_action"]["reopening"] == 1


def test_csv_is_plain_by_default(run, files):
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS), "--format", "csv")
    raw = result.stdout_bytes
    assert not raw.startswith(b"\xef\xbb\xbf") and b'="' not in raw and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert len(rows) == 5 and list(rows[0]) == list(CSV_COLUMNS)
    # the values as they are: a program reads 000123 and =ICN2 exactly as the 835 holds them
    assert {row["remit_claim_id"] for row in rows} == {"PCN1", "000123", "../../x", "GHOST"}
    assert "=ICN2" in {row["payer_claim_number"] for row in rows}
    assert {row["charge"] for row in rows} >= {"47.00", "55.00", "50.00"}
    assert all(float(row["paid"]) >= 0 for row in rows)


def test_csv_excel_is_guarded_for_a_spreadsheet(run, files):
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS), "--format", "csv", "--excel")
    raw = result.stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 5
    ids = {row["remit_claim_id"] for row in rows}
    assert '="000123"' in ids and "PCN1" in ids
    # text that a spreadsheet would run as a formula is neutralised
    assert "'=ICN2" in {row["payer_claim_number"] for row in rows}
    assert {row["charge"] for row in rows} >= {"47.00", "55.00", "50.00"}


def test_excel_needs_csv(run, files):
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS), "--excel")
    assert result.exit_code == 2 and "--excel needs --format csv" in result.output


def test_minutes_and_code_list_options(run, files):
    carc = files("carc.csv", "code,description\n236,OFFICIAL TEXT 236\n")
    result = run(
        "match", files("r.835", REMIT), files("c.837", CLAIMS), "--format", "json", "--minutes", files("m.csv", MINUTES), "--carc-file", carc
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in json.loads(result.stdout)["lines"] if x["procedure"] == "97530")
    assert line["adjustments"][0]["text"] == "OFFICIAL TEXT 236"


def test_stdin_remit(run, files):
    result = run("match", "-", files("c.837", CLAIMS), input=REMIT)
    assert result.exit_code == 0 and "Matched 5" in result.stdout


@pytest.mark.parametrize("command", ["match", "appeal"])
def test_835_where_837_expected_and_reverse_exit_2(run, files, tmp_path, command):
    extra = ["-o", str(tmp_path / "out")] if command == "appeal" else []
    result = run(command, files("c.837", CLAIMS), files("r.835", REMIT), *extra)
    assert result.exit_code == 2
    assert "is an 837 claim file, but REMIT must be an 835 remittance" in result.stderr
    result = run(command, files("r.835", REMIT), files("r2.835", REMIT.replace(b"SYNCHK", b"SYNCHQ")), *extra)
    assert result.exit_code == 2 and "is an 835 remittance, but CLAIMS must be an 837 claim file" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"not x12 at all", "expected an ISA"), (b"", "the input is empty"), (CLAIMS[:400], "")],
)
def test_unreadable_claims_exit_2(run, files, data, message):
    result = run("match", files("r.835", REMIT), files("bad.837", data))
    assert result.exit_code == 2 and message in result.stderr


def test_missing_file_and_bad_code_list_exit_2(run, files):
    assert run("match", files("r.835", REMIT), "/no/such/file").exit_code == 2
    result = run("match", files("r.835", REMIT), files("c.837", CLAIMS), "--carc-file", files("e.csv", "code,description\n"))
    assert result.exit_code == 2 and "no 'code,description' rows" in result.stderr


def test_duplicate_files_are_read_once(run, files):
    path = files("c.837", CLAIMS)
    copy = files("copy.837", CLAIMS)
    once = json.loads(run("match", files("r.835", REMIT), path, "--format", "json").stdout)
    result = run("match", files("r.835", REMIT), path, path, copy, "--format", "json")
    assert result.exit_code == 0
    assert "given more than once" in result.stderr and "same bytes as" in result.stderr
    assert json.loads(result.stdout) == once


def test_remit_given_again_as_claims_is_refused(run, files):
    remit = files("r.835", REMIT)
    result = run("match", remit, remit)
    assert result.exit_code == 2


# -- appeal ---------------------------------------------------------------------------------------
def test_appeal_writes_packets_inside_dir(run, files, tmp_path):
    out = tmp_path / "packets"
    result = run(
        "appeal", files("r.835", REMIT), files("c.837", CLAIMS), "-o", str(out), "--minutes", files("m.csv", MINUTES),
        "--control-number", "1000", "--date", "2026-03-02",
    )
    assert result.exit_code == 0, result.output
    index = json.loads((out / "index.json").read_text())
    claims = index["claims"]
    assert [c["claim_id"] for c in claims] == ["PCN1", "000123", "../../x"]
    for entry in claims:
        letter = out / entry["letter"]
        assert letter.is_file() and letter.with_name("letter.html").is_file()
        # what to do before sending sits beside the letter, and is printed
        checklist = out / entry["checklist"]
        assert checklist == letter.with_name("checklist.md") and checklist.read_text().startswith("# Before sending the letter")
        assert letter.resolve().is_relative_to(out.resolve())
        assert not Path(entry["letter"]).is_absolute() and ".." not in Path(entry["letter"]).parts
        replacement = entry["replacement_claim"]
        if entry["claim_id"] == "000123":  # Medicare Part B: a reopening request, never a frequency-7 file
            assert replacement is None and not (out / "002-000123" / "replacement-837p.x12").exists()
            assert "Clerical error reopening request" in letter.read_text()
        else:
            assert replacement is not None and (out / replacement).read_bytes().startswith(b"ISA")
    assert claims[2]["letter"] == "003-x/letter.md"
    assert claims[0]["lines"] == [2]
    # nothing escaped the folder, and no temporary file was left behind
    assert not (tmp_path / "x").exists()
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert all(not name.split("/")[-1].startswith(".") for name in written)
    controls = sorted((out / c["replacement_claim"]).read_bytes()[90:99].decode() for c in claims if c["replacement_claim"])
    assert controls == ["000001000", "000001001"]
    assert "3 packets written" in result.stdout
    assert "    to do: Check every statement of the letter against the medical record before sending it." in result.stdout
    assert "    to do: Line 2: confirm the NCCI edit in the CMS PTP file" in result.stdout
    assert "    to gather: 4 documents, listed in" in result.stdout


def test_appeal_to_medicare_writes_a_reopening_request_and_no_frequency_7_file(run, files, tmp_path):
    """CO-236 on 97530 without 59, distinct time blocks, Medicare Part B (issue 11, logic 2)."""
    claims = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")])])
    remit = remit_file([REMIT_PCN1])
    out = tmp_path / "packets"
    result = run("appeal", files("r.835", remit), files("c.837", claims), "-o", str(out), "--minutes", files("m.csv", MINUTES), "--date", "2026-03-02")
    assert result.exit_code == 0, result.output
    assert not any(p.name.endswith(".x12") for p in out.rglob("*"))
    (entry,) = json.loads((out / "index.json").read_text())["claims"]
    assert entry["replacement_claim"] is None and entry["request"] == "reopening-correction"
    page = (out / "001-PCN1" / "letter.html").read_text()
    assert "Clerical error reopening request: claim PCN1" in page and "<td>2</td><td>97530</td><td>add 59 to 97530" in page
    assert "File by:</strong> 2027-02-16" in page
    assert "0 with a replacement claim" in result.stdout
    assert "[practice name]" in page and "to do: Fill in the signature block" in result.stdout


def test_appeal_signs_letters_with_the_configs_practice(run, files, tmp_path):
    config = files("c.toml", '[practice]\nname = "Synthetic PT"\nnpi = "1234567893"\ncontact = "555-555-0100"\nsigner = "Jane Roe, PT"\n')
    out = tmp_path / "packets"
    result = run("appeal", files("r.835", remit_file([REMIT_PCN1])), files("c.837", claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")])])), "-o", str(out), "--config", config)
    assert result.exit_code == 0, result.output
    page = (out / "001-PCN1" / "letter.html").read_text()
    assert "<p>Jane Roe, PT<br>\nSynthetic PT<br>\nNPI 1234567893<br>\n555-555-0100</p>" in page
    assert "<p>SYNTHETIC MEDICARE PART B<br>\nPO BOX 1000<br>\nSPRINGFIELD, IL 62701</p>" in page
    assert "signature block" not in result.stdout
    bad = files("bad.toml", '[practice]\nnpi = "1234567890"\n')
    result = run("appeal", files("r.835", remit_file([REMIT_PCN1])), files("c.837", CLAIMS), "-o", str(out), "--config", bad)
    assert result.exit_code == 2 and "not a valid NPI" in result.output


def test_appeal_rewrites_atomically_and_refuses_links(run, files, tmp_path):
    out = tmp_path / "packets"
    args = ("appeal", files("r.835", REMIT), files("c.837", CLAIMS), "-o", str(out), "--control-number", "5")
    assert run(*args).exit_code == 0
    first = (out / "001-PCN1" / "letter.md").read_bytes()
    assert run(*args).exit_code == 0
    assert (out / "001-PCN1" / "letter.md").read_bytes() == first
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = out / "002-000123"
    for child in target.iterdir():
        child.unlink()
    target.rmdir()
    os.symlink(outside, target)
    result = run(*args)
    assert result.exit_code == 2 and "refusing to write there" in result.stderr
    assert list(outside.iterdir()) == []


def test_appeal_bad_date_and_unwritable_dir(run, files, tmp_path):
    args = (files("r.835", REMIT), files("c.837", CLAIMS))
    assert run("appeal", *args, "-o", str(tmp_path / "o"), "--date", "yesterday").exit_code == 2
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("appeal", *args, "-o", str(blocker))
    assert result.exit_code == 2 and "cannot write" in result.stderr


# -- --sample: the bundled 835 and 837P (fixtures/, shipped as edi_rehab.samples) ----------------
def test_match_sample_pairs_the_bundled_835_and_837(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sample comes from the package, not the working folder
    result = run("match", "--sample", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # the sample 835 answers every claim of the sample 837, line by line
    assert data["unmatched_claims"] == [] and all(line["match"]["line"] for line in data["lines"])
    from edi_rehab.claims import read_claims
    from edi_rehab.cli.files import sample_bytes
    from edi_rehab.x12 import parse

    doc = parse(sample_bytes("sample-837p.x12"))
    claim_ids = {c.claim_id for tx in doc.transactions() for c in read_claims(tx)}
    # all but PCN000006, whose CLM02 disagrees with its lines (C401): a front end rejects it,
    # so it never reaches adjudication and the generated 835 leaves it out (synth.generate_835)
    assert {line["match"]["claim_id"] for line in data["lines"]} == claim_ids - {"PCN000006"}
    assert data["summary"]["denied_lines"] >= 1
    text = run("match", "--sample")
    assert text.exit_code == 0 and text.stdout.splitlines()[0].startswith("sample-835.x12:")
    plain = run("match", "--sample", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(plain.stdout_bytes.decode("utf-8"), newline="")))) == len(data["lines"])


def test_appeal_sample_writes_packets_a_new_user_can_read(run, tmp_path, monkeypatch):
    import re

    monkeypatch.chdir(tmp_path)
    result = run("appeal", "--sample", "-o", "packets", "--date", "2026-03-02")
    assert result.exit_code == 0, result.output
    claims = json.loads((tmp_path / "packets" / "index.json").read_text())["claims"]
    assert claims and "packets written to packets" in result.stdout
    for entry in claims:
        letter = (tmp_path / "packets" / entry["letter"]).read_text()
        assert f"claim {entry['claim_id']}" in letter and "PO BOX 1000" in letter
        assert not re.search(r"\b[UMNCXR]\d{3}\b", re.sub(r"Remark [A-Z]{1,2}\d+", "", letter)) and "edi-rehab" not in letter
        assert (tmp_path / "packets" / entry["checklist"]).is_file()
    assert "to do: Line 2: what resolves it: Add GP." in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("match", "--sample", "r.835"), "give no REMIT, no CLAIMS and no --minutes"),
        (("match", "--sample", "--minutes", "m.csv"), "give no REMIT, no CLAIMS and no --minutes"),
        (("match",), "match needs REMIT and at least one CLAIMS file (or --sample)"),
        (("match", "r.835"), "match needs REMIT and at least one CLAIMS file (or --sample)"),
        (("appeal", "-o", "out"), "appeal needs REMIT and at least one CLAIMS file (or --sample)"),
        (("appeal", "--sample", "r.835", "c.837", "-o", "out"), "give no REMIT, no CLAIMS and no --minutes"),
    ],
)
def test_sample_and_inputs_are_one_or_the_other(run, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2 and message in result.output
