"""`edi-rehab check`, `rule` and `rules` from the outside: exit codes, formats, inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claimkit import D1, claim, ln, minutes_csv, x12
from edi_rehab.rules import registry
from edi_rehab.mapdata import load_maps

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CLEAN = x12(claim(ln("97110:GP", 2), ln("97140:GP", 1)))
ERROR = x12(claim(ln("97140:GP", 1), ln("97530:GP", 1)))  # N301, an error
WARNING = x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)))  # M205 only, a warning
PTP_FILE = (
    "CPT only copyright 2025 American Medical Association. All rights reserved.\r\n\r\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\tDeletion Date\tModifier\tRationale\r\n"
    "97110\t97112\t\t20200101\t*\t1\tMisuse of column two code with column one code\r\n"
).encode("latin-1")
MUE_FILE = (
    '"copyright"\n"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\n'
    '"97110","4","3 Date of Service Edit: Clinical","Clinical: Data"\n'
).encode()


# -- exit codes -----------------------------------------------------------------------------------
def test_clean_file_exits_0(run, files):
    result = run("check", files("clean.x12", CLEAN))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("No findings in 1 file.")


def test_error_exits_1_with_linter_lines(run, files):
    path = files("bad.x12", ERROR)
    result = run("check", path)
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{path}:") and " N301 " in first
    assert first.endswith("[claim PCN1 line 2 procedure 97530]")
    assert result.stdout.splitlines()[-1].startswith("Found 1 finding (1 error, 0 warnings, 0 info) in 1 file")


def test_warning_exits_0_unless_fail_on_warning(run, files):
    path = files("warn.x12", WARNING)
    assert run("check", path).exit_code == 0
    assert run("check", "--fail-on", "warning", path).exit_code == 1


def test_exit_zero_keeps_findings_but_exits_0(run, files):
    result = run("check", "--exit-zero", files("bad.x12", ERROR))
    assert result.exit_code == 0 and "N301" in result.stdout


def test_stdin(run):
    result = run("check", "-", input=ERROR)
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:")


def test_several_files_worst_wins(run, files):
    clean, bad = files("a.x12", CLEAN), files("b.x12", ERROR)
    assert run("check", clean, bad).exit_code == 1
    result = run("check", clean, bad, files("c.x12", b"not x12 at all"))
    assert result.exit_code == 2
    assert "N301" in result.stdout  # findings of readable files are still reported
    assert "c.x12" in result.stderr and "not X12" in result.stderr
    assert "1 could not be read" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "data,what",
    [
        (b"", "empty"),
        (b"ISA*00*", "truncated"),
        (CLEAN[:-40], "missing"),
    ],
    ids=["empty", "truncated-isa", "cut-off"],
)
def test_unreadable_input_exits_2_with_a_message(run, files, data, what):
    path = files("broken.x12", data)
    result = run("check", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edi-rehab: {path}:")
    assert "segment" in result.stderr or "byte" in result.stderr


def test_missing_file_and_empty_directory_exit_2(run, tmp_path):
    result = run("check", str(tmp_path / "nope.x12"))
    assert result.exit_code == 2 and "no such file" in result.stderr
    # A folder is walked (tests/test_batch.py); one with nothing to read is a usage error.
    result = run("check", str(tmp_path))
    assert result.exit_code == 2 and "no files to read in this folder" in result.stderr


# -- options ----------------------------------------------------------------------------------------
def test_select_and_ignore_take_codes_and_prefixes(run, files):
    path = files("many.x12", x12(claim(ln("97140:GP", 1), ln("97530", 1))))  # N301 and M201
    # PATH:SEGMENT: SEVERITY CODE ...; the summary lines do not start with the path
    codes = lambda result: sorted({line.split()[2] for line in result.stdout.splitlines() if line.startswith(path)})  # noqa: E731
    assert codes(run("check", path)) == ["M201", "N301"]
    assert codes(run("check", "--select", "N", path)) == ["N301"]
    assert codes(run("check", "--ignore", "N3,M20", path)) == []
    assert codes(run("check", "--select", "M,N", "--ignore", "M", path)) == ["N301"]
    assert codes(run("check", "--select", "M201", "--ignore", "M", path)) == ["M201"]  # longest wins


def test_unknown_rule_code_is_a_usage_error(run, files):
    result = run("check", "--select", "Q9", files("a.x12", CLEAN))
    assert result.exit_code == 2 and "unknown rule code or prefix 'Q9'" in result.stderr


def test_json_shape(run, files):
    path = files("bad.x12", ERROR)
    result = run("check", "--format", "json", path, files("clean.x12", CLEAN))
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    # the shared envelope (docs/json-output.md) first, then check's own fields as before
    assert list(doc) == ["schema_version", "command", "tool", "files", "summary"]
    assert doc["command"] == "check" and doc["tool"]["maps"]["version"] == load_maps().release.version
    assert doc["summary"] == {"error": 1, "warning": 0, "info": 0}
    assert [f["path"] for f in doc["files"]] == [path, path.replace("bad", "clean")]
    finding = doc["files"][0]["findings"][0]
    assert set(finding) == {"code", "severity", "message", "claim_id", "line", "procedure", "segment", "fix"}
    assert finding["code"] == "N301" and finding["line"] == 2 and finding["claim_id"] == "PCN1"
    assert isinstance(finding["segment"], int) and finding["fix"] is None
    assert doc["files"][1]["findings"] == []


def test_json_fix_and_unreadable_file(run, files):
    minutes = files("m.csv", minutes_csv(("PCN1", 1, 15, "97140", D1, "A"), ("PCN1", 2, 15, "97530", D1, "B")))
    result = run("check", "--format", "json", "--minutes", minutes, files("bad.x12", ERROR), files("x.x12", b"junk"))
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["files"][0]["findings"][0]["fix"] == {
        "applicability": "unsafe",
        "description": "add 59 to 97530: the minutes file puts the two services in distinct time blocks",
    }
    assert "error" in doc["files"][1] and doc["files"][1]["findings"] == []


def test_bad_minutes_rows_are_reported_with_row_numbers(run, files):
    minutes = files(
        "m.csv",
        "claim_id,line,minutes\nPCN1,1,30\nPCN1,2,abc\nPCN9,1,20\nPCN1,7,10\n",
    )
    result = run("check", "--minutes", minutes, files("a.x12", CLEAN))
    lines = result.stdout.splitlines()
    assert f"{minutes}:3: warning U109 minutes must be a whole number, got 'abc' [row 3]" in lines
    assert f"{minutes}:4: warning U110 claim 'PCN9' is not in the checked claim file(s) [row 4]" in lines
    assert any(" U110 claim 'PCN1' has no line 7 (LX*7) [claim PCN1]" in line for line in lines)
    assert any(" U104 " in line for line in lines)  # line 2 lost its minutes to the bad row
    assert result.exit_code == 0  # warnings and info only

    doc = json.loads(run("check", "--format", "json", "--minutes", minutes, files("a.x12", CLEAN)).stdout)
    csv_entry = doc["files"][-1]
    assert csv_entry["path"] == minutes
    assert [(f["code"], f["row"], f["segment"]) for f in csv_entry["findings"]] == [("U109", 3, 0), ("U110", 4, 0)]


def test_minutes_file_that_cannot_be_opened(run, files, tmp_path):
    result = run("check", "--minutes", str(tmp_path / "none.csv"), files("a.x12", CLEAN))
    assert result.exit_code == 2 and "none.csv: no such file" in result.stderr


def test_unit_method_override(run, files):
    data = x12(claim(ln("97110:GP", 1), ln("97140:GP", 1), ln("97530:GP:59", 1)))
    minutes = files("m.csv", minutes_csv(("PCN1", 1, 8), ("PCN1", 2, 8), ("PCN1", 3, 8)))
    path = files("a.x12", data)
    assert " U101 " in run("check", "--minutes", minutes, path).stdout
    assert run("check", "--minutes", minutes, "--unit-method", "per-code", path).exit_code == 0
    assert run("check", "--unit-method", "weekly", path).exit_code == 2


def test_config_profiles_severity_and_errors(run, files):
    path = files("warn.x12", WARNING)
    config = files("c.toml", '[severity]\nM205 = "error"\n')
    assert run("check", "--config", config, path).exit_code == 1
    config = files("quiet.toml", '[profiles.default]\nmodifier_order = "none"\nignore = []\n')
    result = run("check", "--config", config, path)
    assert result.exit_code == 2 and "quiet.toml" in result.stderr  # ignore inside a profile table
    config = files("none.toml", '[profiles.default]\nmodifier_order = "none"\n')
    assert run("check", "--config", config, path).stdout.startswith("No findings")
    broken = files("broken.toml", "select = [")
    result = run("check", "--config", broken, path)
    assert result.exit_code == 2 and "invalid TOML" in result.stderr
    typo = files("typo.toml", 'select = ["Q1"]\n')
    result = run("check", "--config", typo, path)
    assert "'Q1' matches no rule code" in result.stderr


def test_ncci_file_is_loaded_and_cached(run, files, tmp_path, monkeypatch):
    from edi_rehab import cms_files

    data = x12(claim(ln("97110:GP", 1), ln("97112:GP", 1)))
    path, ptp = files("a.x12", data), files("ptp.txt", PTP_FILE)
    assert run("check", path).exit_code == 0
    result = run("check", "--ncci-file", ptp, path)
    assert result.exit_code == 1 and " N301 " in result.stdout
    cached = list((tmp_path / "cache" / "edi-rehab").glob("ptp-*.json"))
    assert len(cached) == 1

    parsed = []
    real = cms_files.parse_ptp_file
    monkeypatch.setattr(cms_files, "parse_ptp_file", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    assert " N301 " in run("check", "--ncci-file", ptp, path).stdout
    assert parsed == []  # answered from the cache
    stat = os.stat(ptp)
    os.utime(ptp, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert " N301 " in run("check", "--ncci-file", ptp, path).stdout
    assert parsed == ["ptp.txt"]  # a new mtime is a new quarter's file: parsed again


def test_unwritable_cache_is_no_cache(run, files, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    data = x12(claim(ln("97110:GP", 1), ln("97112:GP", 1)))
    result = run("check", "--ncci-file", files("ptp.txt", PTP_FILE), files("a.x12", data))
    assert result.exit_code == 1 and " N301 " in result.stdout


def test_bad_ncci_and_mue_files_exit_2(run, files):
    path = files("a.x12", CLEAN)
    result = run("check", "--ncci-file", files("ptp.txt", b"hello\n"), path)
    assert result.exit_code == 2 and "not a usable CMS NCCI PTP file" in result.stderr
    result = run("check", "--mue-file", files("mue.csv", b"hello\n"), path)
    assert result.exit_code == 2 and "not a usable CMS MUE file" in result.stderr


def test_mue_file_enables_n305(run, files):
    path = files("a.x12", x12(claim(ln("97110:GP", 5))))
    assert run("check", path).exit_code == 0
    result = run("check", "--mue-file", files("mue.csv", MUE_FILE), path)
    assert result.exit_code == 1 and " N305 " in result.stdout


def test_sample(run):
    result = run("check", "--sample")
    assert result.exit_code == 1
    assert result.stdout.startswith("sample-837p.x12:")
    codes = {line.split()[2] for line in result.stdout.splitlines() if line.startswith("sample-837p.x12:")}
    assert {"N301", "U101", "M201", "C401"} <= codes
    assert "M205" not in codes  # claim 5's GP:59 is no defect on Medicare, which sets no modifier order
    assert run("check", "--sample", "x.x12").exit_code == 2
    assert run("check").exit_code == 2


def test_stdin_only_once(run):
    assert run("check", "-", "-", input=CLEAN).exit_code == 2


# -- rule / rules ------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", registry.CODES)
def test_rule_prints_each_rules_doc(run, code):
    result = run("rule", code.lower())
    assert result.exit_code == 0
    rule = registry.BY_CODE[code]
    assert result.stdout.startswith(f"{code} {rule.name} ({rule.severity.value}, ")
    for title in ("What it does", "Why is this bad?", "Source", "Fix safety"):
        assert f"## {title}" in result.stdout


def test_rule_unknown_code(run):
    result = run("rule", "U9")
    assert result.exit_code == 2 and "no rule 'U9'" in result.stderr
    result = run("rule", "N3")
    assert result.exit_code == 2 and "did you mean N301" in result.stderr


def test_rules_lists_all(run):
    text = run("rules").stdout.splitlines()
    # IG: check --validate; R501: the cause only match can name; L701: check --ledger's
    assert [line.split()[0] for line in text] == [*registry.CODES, "IG-*", "R501", "L701"]
    doc = json.loads(run("rules", "--format", "json").stdout)
    assert [r["code"] for r in doc["rules"]] == list(registry.CODES)
    assert all(r["source"].startswith("Reference §") for r in doc["rules"])
    assert [r["code"] for r in doc["remittance"]] == ["R501"]
    assert [r["code"] for r in doc["ledger"]] == ["L701"]


def test_rule_r501_prints_matchs_own_explanation(run):
    result = run("rule", "R501")
    assert result.exit_code == 0
    assert "## Why is this bad?" in result.stdout and "KX" in result.stdout and "§4.2" in result.stdout


def test_ncci_zip_and_several_files(run, files, tmp_path):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ccipra-v320r0-f1.txt", PTP_FILE)
    second = PTP_FILE.replace(b"97110\t97112", b"97116\t97113")
    data = x12(claim(ln("97110:GP", 1), ln("97112:GP", 1), ln("97116:GP", 1, "20260106"), ln("97113:GP", 1, "20260106")))
    result = run(
        "check", "--ncci-file", files("ptp.zip", buffer.getvalue()), "--ncci-file", files("ptp2.txt", second),
        files("a.x12", data),
    )
    assert result.exit_code == 1
    assert [line.split()[1:3] for line in result.stdout.splitlines() if " N301 " in line] == [["error", "N301"]] * 2


def test_an_835_is_reported_not_silently_passed(run):
    path = str(FIXTURES / "sample-835.x12")
    result = run("check", path)
    assert result.exit_code == 2  # a hook given only remittances must not pass
    assert " X006 transaction set 835 " in result.stdout
    assert f"{path}: holds no 837P (005010X222) transaction set" in result.stderr
    assert "no input holds an 837P transaction set" in result.stderr
    assert run("check", "--fail-on", "warning", path).exit_code == 2


def test_an_835_beside_an_837p_is_named_but_the_run_goes_on(run, files):
    remit = str(FIXTURES / "sample-835.x12")
    result = run("check", files("a.x12", CLEAN), remit)
    assert result.exit_code == 0, result.output
    assert f"{remit}: holds no 837P" in result.stderr
    assert "no input holds" not in result.stderr
    table = {line.split()[0]: line.split()[-1] for line in result.stdout.splitlines() if line.endswith(("pass", "no-837p"))}
    assert table[remit] == "no-837p"

    records = [json.loads(line) for line in run("check", "--format", "jsonl", remit).stdout.splitlines()]
    assert records[0]["status"] == "no-837p" and records[-1]["exit_code"] == 2


@pytest.mark.parametrize(
    "text,why",
    [
        ("claim,line,min\nPCN1,1,30\n", "lacks 'claim_id', 'minutes'"),
        ("PCN1,1,30\nPCN1,2,15\n", "lacks 'claim_id', 'line', 'minutes'"),
        ("", "it is empty"),
        ('"claim_id,line\n', "header is not readable CSV"),
    ],
    ids=["misnamed-columns", "no-header", "empty", "unclosed-quote"],
)
def test_minutes_csv_without_a_usable_header_exits_2(run, files, text, why):
    minutes = files("m.csv", text)
    result = run("check", "--minutes", minutes, files("a.x12", CLEAN))
    assert result.exit_code == 2
    assert f"{minutes}: not a minutes CSV: " in result.stderr and why in result.stderr
    assert "PCN1" not in result.stderr  # the rows are care data: never echoed
    assert result.stdout == ""  # refused before any claim file was read


def test_minutes_header_with_an_unknown_extra_column_still_runs(run, files):
    minutes = files("m.csv", "Claim_ID,line,minutes,therapist\nPCN1,1,30,x\n")
    result = run("check", "--minutes", minutes, files("a.x12", CLEAN))
    assert result.exit_code == 0, result.output
    assert " U109 unknown column 'therapist'" in result.stdout


def test_broken_maps_exit_2_with_the_map_named(run, files, monkeypatch):
    from edi_rehab import mapdata

    def broken(**kwargs):
        raise mapdata.MapError("codes.xml", 12, "schema violation: element 'code' missing 'class'")

    monkeypatch.setattr(mapdata, "load_maps", broken)
    result = run("check", files("a.x12", CLEAN))
    assert result.exit_code == 2
    assert result.stderr.strip() == "edi-rehab: codes.xml:12: schema violation: element 'code' missing 'class'"


# -- folders: --include/--exclude, non-X12 files beside the claims ----------------------------------
def claims_folder(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    (root / "archive").mkdir(parents=True)
    (root / "a.x12").write_bytes(CLEAN)
    (root / "b.837").write_bytes(ERROR)
    (root / "archive" / "old.x12").write_bytes(ERROR)
    (root / "README.md").write_text("# Claims dropped here by the PM system\n")
    (root / "MANIFEST").write_text("a.x12\tPCN1\n")
    return root


def checked_paths(result) -> list[str]:
    return [Path(f["path"]).name for f in json.loads(result.stdout)["files"]]


def test_readme_and_manifest_in_a_folder_are_skipped_with_a_warning(run, tmp_path):
    root = claims_folder(tmp_path)
    result = run("check", "--format", "json", str(root))
    assert result.exit_code == 1, result.stderr  # b.837's N301, not 2 for the README
    assert checked_paths(result) == ["a.x12", "old.x12", "b.837"]
    for name in ("README.md", "MANIFEST"):
        assert f"{root / name}: not X12 (it does not start with ISA); skipped" in result.stderr
    assert "PCN1" not in result.stderr  # the skipped file's content is not echoed


def test_strict_makes_a_non_x12_file_in_a_folder_exit_2(run, tmp_path):
    root = claims_folder(tmp_path)
    result = run("check", "--strict", str(root))
    assert result.exit_code == 2
    assert f"{root / 'README.md'}: " in result.stderr and "skipped" not in result.stderr
    assert "N301" in result.stdout  # the claim files are still checked and reported


def test_a_non_x12_file_named_on_the_command_line_stays_exit_2(run, tmp_path):
    root = claims_folder(tmp_path)
    result = run("check", str(root / "a.x12"), str(root / "README.md"))
    assert result.exit_code == 2 and "README.md" in result.stderr and "skipped" not in result.stderr
    # --exclude narrows folders only: a file named outright is still read
    assert run("check", "--exclude", "README*", str(root / "README.md")).exit_code == 2


def test_include_and_exclude_narrow_a_folder(run, tmp_path):
    root = claims_folder(tmp_path)
    included = run("check", "--format", "json", "--include", "*.x12", str(root))
    assert checked_paths(included) == ["a.x12", "old.x12"]
    assert "README" not in included.stderr  # not included: not even looked at
    excluded = run("check", "--format", "json", "--exclude", "archive", "--exclude", "README.md", "--exclude", "MANIFEST", str(root))
    assert checked_paths(excluded) == ["a.x12", "b.837"] and excluded.stderr == ""
    by_path = run("check", "--format", "json", "--exclude", "archive/*.x12", "--include", "*.x12", str(root))
    assert checked_paths(by_path) == ["a.x12"]
    nothing = run("check", "--include", "*.edi", str(root))
    assert nothing.exit_code == 2
    assert "no files to read in this folder (5 files not matched by --include)" in nothing.stderr


def test_a_folder_of_only_non_x12_files_is_not_a_pass(run, tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "README.md").write_text("nothing to send\n")
    result = run("check", str(root))
    assert result.exit_code == 2 and "(1 file not X12, skipped)" in result.stderr


def test_config_include_and_exclude(run, files, tmp_path):
    root = claims_folder(tmp_path)
    config = files("c.toml", 'include = ["*.x12", "*.837"]\nexclude = ["archive"]\n')
    result = run("check", "--format", "json", "--config", config, str(root))
    assert checked_paths(result) == ["a.x12", "b.837"] and result.stderr == ""
    # the command line's --include replaces the config's; --exclude adds to it
    narrowed = run("check", "--format", "json", "--config", config, "--include", "*.837", "--exclude", "b*", str(root))
    assert narrowed.exit_code == 2 and "no files to read" in narrowed.stderr
    bad = run("check", "--config", files("bad.toml", 'exclude = "README"\n'), str(root))
    assert bad.exit_code == 2 and "exclude must be a list of strings" in bad.stderr


# -- a reader that goes away ------------------------------------------------------------------------
def closed_pipe(*args: str) -> tuple[int, str]:
    """Run edi-rehab with stdout into a pipe whose reader takes one line and closes it, as
    ``edi-rehab ... | head -1`` does; ``(exit code, stderr)``."""
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", "from edi_rehab.cli import main; main()", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    return process.wait(timeout=120), stderr


@pytest.mark.parametrize("command", [("check",), ("check", "--format", "jsonl"), ("check", "--jobs", "2"), ("show",), ("fix", "--diff")], ids=" ".join)
def test_a_closed_pipe_ends_quietly(tmp_path, command):
    big = tmp_path / "big.x12"
    big.write_bytes((FIXTURES / "every-defect-837p.x12").read_bytes() * 60)  # far more output than a pipe holds
    code, stderr = closed_pipe(*command, str(big))
    assert "Traceback" not in stderr and "Exception ignored" not in stderr and "Broken pipe" not in stderr, stderr
    assert code == 1  # cut short: not a pass


# -- a hostile note pattern or note (issue 16, item 4) ---------------------------------------------
@pytest.mark.parametrize("command", ["check", "fix", "match"])
def test_a_backtracking_note_pattern_is_a_config_error(run, files, tmp_path, command):
    config = files("c.toml", "[minutes]\nnote_pattern = '(?P<minutes>a+)+$'\n")
    claims = files("c.x12", x12(claim(ln("97110:GP", 2, note="a" * 40 + "b"))))
    args = {"check": [claims], "fix": [claims, "-o", str(tmp_path / "out.x12")], "match": [claims, claims]}[command]
    result = run(command, *args, "--config", config)
    assert result.exit_code == 2, result.output
    assert "c.toml: [minutes] note_pattern is refused: it repeats a part that repeats itself" in result.stderr


def test_a_huge_note_costs_no_more_than_a_valid_one(run, files):
    import time

    config = files("c.toml", "[minutes]\nnote_pattern = '\\s*\\s*\\s*x(?P<minutes>[0-9]+)'\n")  # passes the screen
    claims = files("c.x12", x12(claim(ln("97110:GP", 2, note=" " * 3000 + "1"))))
    started = time.monotonic()
    result = run("check", claims, "--config", config)
    assert result.exit_code in (0, 1), result.output
    assert time.monotonic() - started < 10  # cubic in 3,000 spaces takes minutes; the note is cut to 80


@pytest.mark.parametrize("command", ["check", "show", "validate", "fix"])
def test_a_segment_without_separators_keeps_its_patient_name_out_of_stderr(run, files, tmp_path, command):
    # the patient's NM1 lost its element separators and slipped between GS and ST
    data = x12(claim(ln("97110:GP", 1), patient="SYN000001"))
    head, gs, rest = data.partition(b"GS*")
    gs_segment, _, after = rest.partition(b"~")
    mutated = head + gs + gs_segment + b"~\nNM1IL1TESTLAST TESTFIRST MI SYN000001~" + after
    path = files("c.x12", mutated)
    extra = ["-o", str(tmp_path / "out.x12")] if command == "fix" else []
    result = run(command, path, *extra)
    assert result.exit_code == 2, result.output
    said = result.stdout + result.stderr  # validate reports on stdout, the others on stderr
    assert "expected ST or GE, found 'NM1'... (a segment with no element separator, 37 characters)" in said
    for fragment in ("TESTLAST", "TESTFIRST", "SYN000001"):
        assert fragment not in said
