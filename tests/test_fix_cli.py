"""edi-rehab fix on the command line: exit codes, what gets written (and what never does)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import edi_rehab
from claimkit import claim, ln, minutes_csv, x12
from conftest import FIXTURES, mue_csv
from edi_rehab.cli import files as cli_files
from edi_rehab.cli import main

#: The README sample billed to Medicaid instead of Medicare: the medicaid profile keeps the
#: conventional modifier order, so claim 5's GP:59 still gets the one safe fix these tests need
#: (Medicare sets no order, so on the sample as shipped M205 is silent).
SAMPLE_DATA = (FIXTURES / "sample-837p.x12").read_bytes().replace(b"*******MB~", b"*******MC~")
MINUTES = FIXTURES / "sample-minutes.csv"
REMOVAL = x12(claim(ln("97035:GP", charge="22"), ln("97110:GP", charge="48"), ln("97140:GP", charge="47"),
                    ln("97116:GP", charge="45"), filing="MB"))
REMOVAL_MINUTES = minutes_csv(("PCN1", 1, 8, "97035", "20260105", "0900"), ("PCN1", 2, 18), ("PCN1", 3, 13), ("PCN1", 4, 10))


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, ["fix", *args], input=input, catch_exceptions=False)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "in.x12").write_bytes(SAMPLE_DATA)
    return tmp_path


def test_safe_fixes_exit_1_while_errors_remain(work: Path):
    out = work / "out.x12"
    result = run(str(work / "in.x12"), "-o", str(out), "--minutes", str(MINUTES))
    assert result.exit_code == 1, result.output
    assert "fixed M205 (safe): reorder to 59, GP [claim PCN000005 line 2 procedure 97530]" in result.output
    assert "4 hidden fixes can be enabled with --unsafe-fixes." in result.output
    assert result.output.rstrip().endswith("4 findings remain (4 errors, 0 warnings, 0 info).")
    assert b"SV1*HC:97530:59:GP*" in out.read_bytes()
    assert (work / "in.x12").read_bytes() == SAMPLE_DATA  # the input is never touched
    assert listing(work) == ["in.x12", "out.x12"]


def test_unsafe_fixes_exit_0_and_check_agrees(work: Path):
    out = work / "out.x12"
    result = run(str(work / "in.x12"), "-o", str(out), "--minutes", str(MINUTES), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert "Applied 5 fixes (1 safe, 4 unsafe). No findings remain." in result.output
    checked = CliRunner().invoke(main, ["check", str(out), "--minutes", str(MINUTES)])
    assert checked.exit_code == 0 and "No findings" in checked.output


def test_output_has_ordinary_permissions(work: Path):
    out = work / "out.x12"
    run(str(work / "in.x12"), "-o", str(out))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_diff_writes_nothing(work: Path):
    before = listing(work)
    result = CliRunner().invoke(
        main, ["fix", str(work / "in.x12"), "-o", str(work / "out.x12"), "--diff", "--unsafe-fixes", "--minutes", str(MINUTES)]
    )
    assert result.exit_code == 0, result.stderr
    assert listing(work) == before
    assert result.stdout.startswith(f"--- {work / 'in.x12'}\n+++ {work / 'in.x12'} (fixed)\n@@ ")
    assert "-SV1*HC:97530:GP:59*110*UN*2***1~\n+SV1*HC:97530:59:GP*110*UN*2***1~\n" in result.stdout
    assert "No findings remain." in result.stderr  # the report goes to stderr, the diff alone to stdout


def test_diff_without_changes_is_empty(tmp_path: Path):
    clean = tmp_path / "clean.x12"
    clean.write_bytes(x12(claim(ln("97110:GP"))))
    result = CliRunner().invoke(main, ["fix", str(clean), "--diff"])
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is not X12\n", SAMPLE_DATA[:2000], SAMPLE_DATA.replace(b"~\nSE*", b"~\nXX*", 1)],
    ids=["empty", "garbage", "truncated", "missing-se"],
)
def test_unusable_input_exits_2_and_creates_nothing(tmp_path: Path, content: bytes):
    bad = tmp_path / "bad.x12"
    bad.write_bytes(content)
    result = run(str(bad), "-o", str(tmp_path / "out.x12"))
    assert result.exit_code == 2
    assert "fix refuses input it cannot read, so nothing was written" in result.output
    assert listing(tmp_path) == ["bad.x12"]  # no OUT, no temporary file


def test_an_existing_out_is_left_alone_when_input_is_unusable(tmp_path: Path):
    bad = tmp_path / "bad.x12"
    bad.write_bytes(b"ISA*garbage")
    out = tmp_path / "out.x12"
    out.write_bytes(b"previous run")
    assert run(str(bad), "-o", str(out)).exit_code == 2
    assert out.read_bytes() == b"previous run" and listing(tmp_path) == ["bad.x12", "out.x12"]


def test_a_failed_rename_leaves_no_temporary_file(work: Path, monkeypatch):
    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli_files.os, "replace", broken)
    result = run(str(work / "in.x12"), "-o", str(work / "out.x12"))
    assert result.exit_code == 2 and "cannot write: No space left on device" in result.output
    assert listing(work) == ["in.x12"]


def test_in_place_keeps_a_backup(work: Path):
    target = work / "in.x12"
    result = run(str(target), "--in-place")
    assert result.exit_code == 1
    assert (work / "in.x12.orig").read_bytes() == SAMPLE_DATA
    assert target.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data
    assert listing(work) == ["in.x12", "in.x12.orig"]
    # nothing left to change: the file and its backup are left as they are
    result = run(str(target), "--in-place")
    assert "nothing to change; left as it was" in result.output
    assert (work / "in.x12.orig").read_bytes() == SAMPLE_DATA


def test_in_place_keeps_the_file_present_at_every_step(work: Path, monkeypatch):
    """Issue 16 item 3: the backup is made beside FILE before the new file replaces it, so
    there is no moment without FILE; a rename that fails leaves FILE as it was."""
    target, backup = work / "in.x12", work / "in.x12.orig"
    seen = []

    def crash(source, destination):
        # The moment a crash would hurt most: just before the new file takes FILE's name.
        seen.append((target.read_bytes(), backup.read_bytes(), os.path.samefile(target, backup)))
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(cli_files.os, "replace", crash)
    result = run(str(target), "--in-place")
    assert seen == [(SAMPLE_DATA, SAMPLE_DATA, True)]  # FILE and FILE.orig, one file, the original bytes
    assert result.exit_code == 2 and "cannot write" in result.output
    assert target.read_bytes() == SAMPLE_DATA
    assert listing(work) == ["in.x12"]  # the backup this run made and its temporary are gone


def test_in_place_copies_the_backup_where_hard_links_fail(work: Path, monkeypatch):
    def no_links(*args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(cli_files.os, "link", no_links)
    target = work / "in.x12"
    original_mode = target.stat().st_mode
    result = run(str(target), "--in-place")
    assert result.exit_code == 1, result.output
    assert (work / "in.x12.orig").read_bytes() == SAMPLE_DATA
    assert (work / "in.x12.orig").stat().st_mode == original_mode
    assert target.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data
    assert listing(work) == ["in.x12", "in.x12.orig"]


KILLED_RUN = """
import os, sys
from edi_rehab.cli import files, main
real_replace = os.replace
def die(source, destination):
    if str(destination).endswith("in.x12"):
        os._exit(9)  # as kill -9: no cleanup runs
    real_replace(source, destination)
files.os.replace = die
sys.argv = ["edi-rehab", "fix", sys.argv[1], "--in-place"]
main()
"""


def test_a_temporary_left_by_a_killed_run_is_removed_by_the_next(work: Path):
    import subprocess
    import sys

    target = work / "in.x12"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(target)], capture_output=True, env={**os.environ, "XDG_CACHE_HOME": str(work / ".cache")})
    assert killed.returncode == 9
    assert target.read_bytes() == SAMPLE_DATA  # FILE survived the kill
    (stale,) = [p for p in work.iterdir() if p.name.startswith(".in.x12.edi-rehab-")]
    assert stale.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data  # the killed run's whole output
    fresh = work / ".in.x12.edi-rehab-another-live-run.tmp"
    fresh.write_bytes(b"a run still writing")
    old = os.stat(stale).st_mtime - cli_files.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    assert os.path.samefile(work / "in.x12.orig", target)  # the killed run's backup: a link to FILE
    result = run(str(target), "--in-place")
    assert result.exit_code == 1, result.output
    assert not stale.exists()
    assert fresh.exists()  # a temporary too young to be stale may be a live run's
    assert target.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data
    assert (work / "in.x12.orig").read_bytes() == SAMPLE_DATA  # that backup, reused


def test_stale_temporaries_of_other_files_and_other_tools_are_left_alone(work: Path):
    old = 1_000_000_000
    names = [".in.x12.edi-rehab-x.tmp", ".other.x12.edi-rehab-x.tmp", ".in.x12.abc.tmp", ".in.x12.edi-rehab-x.part"]
    for name in names:
        (work / name).write_bytes(b"x")
        os.utime(work / name, (old, old))
    assert cli_files.remove_stale_temps(work / "in.x12") == [".in.x12.edi-rehab-x.tmp"]
    assert sorted(p.name for p in work.iterdir() if p.name.startswith(".")) == sorted(names[1:])


def test_in_place_never_overwrites_an_earlier_backup(work: Path):
    target = work / "in.x12"
    (work / "in.x12.orig").write_bytes(b"the real original")
    result = run(str(target), "--in-place")
    assert result.exit_code == 2 and "in.x12.orig already exists" in result.output
    assert target.read_bytes() == SAMPLE_DATA
    assert (work / "in.x12.orig").read_bytes() == b"the real original"
    assert listing(work) == ["in.x12", "in.x12.orig"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["IN"], "fix needs -o OUT, --in-place or --diff"),
        (["IN", "-o", "OUT", "--in-place"], "give -o OUT or --in-place, not both"),
        (["-", "--in-place"], "--in-place needs a file"),
        (["IN", "-o", "IN"], "is the input file; use --in-place"),
        (["IN", "-o", "OUT", "--minutes-out", "m.csv"], "--minutes-out needs --minutes"),
        (["IN", "--diff", "--format", "json"], "cannot be combined with --format json"),
        (["IN", "-o", "OUT", "--select", "Q9"], "unknown rule code"),
        (["IN", "-o", "OUT", "--minutes", "missing.csv"], "missing.csv: no such file"),
        (["missing.x12", "-o", "OUT"], "missing.x12: no such file"),
    ],
)
def test_usage_errors_exit_2(work: Path, args, message):
    args = [str(work / "in.x12") if a == "IN" else str(work / "out.x12") if a == "OUT" else a for a in args]
    result = run(*args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert listing(work) == ["in.x12"]


def test_standard_input(tmp_path: Path):
    out = tmp_path / "out.x12"
    result = run("-", "-o", str(out), input=SAMPLE_DATA)
    assert result.exit_code == 1
    assert out.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data
    assert "<stdin>:132: fixed M205" in result.output


def test_u102_needs_select_and_unsafe(tmp_path: Path):
    path = tmp_path / "under.x12"
    path.write_bytes(x12(claim(ln("97110:GP", 1, charge="48"), filing="MB")))
    minutes = tmp_path / "m.csv"
    minutes.write_text(minutes_csv(("PCN1", 1, 38)))
    out = tmp_path / "out.x12"
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes")
    assert result.exit_code == 0  # U102 is a warning
    assert "fix withheld: it raises what is billed: applies only with --select U102" in result.output
    assert "1 fix withheld because raising what is billed needs the code selected explicitly (--select U102)" in result.output
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U1,U102")
    assert "fixed U102 (unsafe)" in result.output and b"*144*UN*3*" in out.read_bytes()


def test_line_removal_reports_the_lx_map_and_writes_minutes_that_follow(tmp_path: Path):
    path, minutes = tmp_path / "in.x12", tmp_path / "m.csv"
    path.write_bytes(REMOVAL)
    minutes.write_text(REMOVAL_MINUTES)
    out, follow = tmp_path / "out.x12", tmp_path / "follow.csv"
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--minutes-out", str(follow))
    assert result.exit_code == 0, result.output
    assert "claim PCN1: LX renumbered (1->removed, 2->1, 3->2, 4->3)" in result.output
    assert follow.read_text().splitlines()[1:3] == ["PCN1,,8,97035,20260105,0900", "PCN1,1,18,,,"]
    checked = CliRunner().invoke(main, ["check", str(out), "--minutes", str(follow)])
    assert checked.exit_code == 0, checked.output


def test_json_report(tmp_path: Path):
    path, minutes = tmp_path / "in.x12", tmp_path / "m.csv"
    path.write_bytes(REMOVAL)
    minutes.write_text(REMOVAL_MINUTES)
    result = run(str(path), "-o", str(tmp_path / "out.x12"), "--minutes", str(minutes), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["written"] is True and document["applied"] == []
    assert document["summary"]["hidden_unsafe"] == 1
    [withheld] = document["withheld_unsafe"]
    assert withheld["code"] == "U101" and withheld["needs"] == ["unsafe-fixes"]
    result = run(str(path), "-o", str(tmp_path / "out.x12"), "--minutes", str(minutes), "--format", "json", "--unsafe-fixes")
    document = json.loads(result.output)
    assert document["lx_maps"] == [
        {"claim_id": "PCN1", "segment": 17, "lines": {"1": None, "2": 1, "3": 2, "4": 3},
         "removed": {"1": {"procedure": "97035", "service_date": "20260105"}}}
    ]
    assert document["applied"][0]["segment"] == 22 and document["remaining"] == []


def test_reader_errors_name_the_segment(tmp_path: Path):
    bad = tmp_path / "bad.x12"
    bad.write_bytes(SAMPLE_DATA[:2000])
    result = run(str(bad), "-o", str(tmp_path / "out.x12"))
    assert result.output.startswith(f"edi-rehab: {bad}: segment ")


def test_an_unwritable_out_exits_2(work: Path):
    result = run(str(work / "in.x12"), "-o", str(work / "no" / "such" / "dir" / "out.x12"))
    assert result.exit_code == 2 and "cannot write" in result.output
    assert listing(work) == ["in.x12"]


def test_minutes_csv_without_its_header_exits_2_and_writes_nothing(work: Path):
    minutes = work / "m.csv"
    minutes.write_text("PCN1,1,38\n")
    out = work / "out.x12"
    result = run(str(work / "in.x12"), "-o", str(out), "--minutes", str(minutes))
    assert result.exit_code == 2
    assert f"{minutes}: not a minutes CSV: " in result.stderr and "lacks 'claim_id', 'line', 'minutes'" in result.stderr
    assert not out.exists()


def test_dash_output_writes_the_fixed_file_to_stdout_and_the_report_to_stderr(work: Path, monkeypatch):
    monkeypatch.chdir(work)
    reference = work / "out.x12"
    run(str(work / "in.x12"), "-o", str(reference))
    result = run("-", "-o", "-", input=SAMPLE_DATA)
    assert result.exit_code == 1  # errors remain, as with -o OUT
    assert result.stdout_bytes == reference.read_bytes()
    assert "Applied 1 fix" in result.stderr and "<stdout>:" in result.stderr
    assert not (work / "-").exists()


def test_dash_output_writes_nothing_when_the_input_is_unreadable(work: Path):
    result = run("-", "-o", "-", input=SAMPLE_DATA[:-30])
    assert result.exit_code == 2 and result.stdout_bytes == b""
    assert "nothing was written" in result.stderr


def test_dash_output_and_json_report_are_a_usage_error(work: Path):
    result = run(str(work / "in.x12"), "-o", "-", "--format", "json")
    assert result.exit_code == 2 and result.stdout_bytes == b""
    assert "-o - writes the fixed file to standard output" in result.stderr


# -- absurd minutes never bill absurd units (issue 16, item 2) ------------------------------------
UNDER = x12(claim(ln("97110:GP", 1, charge="48"), filing="MB"))


def test_a_trillion_minutes_disable_their_row_and_bill_nothing_more(tmp_path: Path):
    path, minutes, out = tmp_path / "under.x12", tmp_path / "m.csv", tmp_path / "out.x12"
    path.write_bytes(UNDER)
    minutes.write_text(minutes_csv(("PCN1", 1, 10**12)))
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U102")
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == UNDER  # it once billed 66,666,666,667 units
    assert "m.csv:2: minutes 1000000000000 are more than a day (1440) on one line; this row is not used" in result.stderr


def test_a_raise_above_the_configured_cap_is_refused(tmp_path: Path):
    path, minutes, out = tmp_path / "under.x12", tmp_path / "m.csv", tmp_path / "out.x12"
    path.write_bytes(UNDER)
    minutes.write_text(minutes_csv(("PCN1", 1, 1440)))  # a day is readable: 96 units
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U1,U102")
    assert out.read_bytes() == UNDER
    assert "line 1 97110 would go from 1 to 96 units, above the cap of 16 units per line" in result.output
    config = tmp_path / "c.toml"
    config.write_text("[fix]\nmax_units_per_line = 2\n")
    minutes.write_text(minutes_csv(("PCN1", 1, 38)))  # 3 units: within the default cap, above 2
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U1,U102", "--config", str(config))
    assert out.read_bytes() == UNDER
    assert "would go from 1 to 3 units, above the cap of 2 units per line ([fix] max_units_per_line)" in result.output
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U1,U102")
    assert "fixed U102 (unsafe)" in result.output and b"*144*UN*3*" in out.read_bytes()


def test_a_raise_above_the_mue_is_refused(tmp_path: Path):
    path, minutes, out, mue = tmp_path / "under.x12", tmp_path / "m.csv", tmp_path / "out.x12", tmp_path / "mue.csv"
    path.write_bytes(UNDER)
    minutes.write_text(minutes_csv(("PCN1", 1, 38)))
    mue.write_bytes(mue_csv(['"97110","2","3 Date of Service Edit: Clinical","Clinical: Data"']))
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--mue-file", str(mue), "--unsafe-fixes", "--select", "U1,U102")
    assert out.read_bytes() == UNDER
    assert "would go from 1 to 3 units, above the MUE of 2 for 97110" in result.output


def test_a_negative_mue_is_refused(tmp_path: Path):
    path, minutes, out, mue = tmp_path / "under.x12", tmp_path / "m.csv", tmp_path / "out.x12", tmp_path / "mue.csv"
    path.write_bytes(UNDER)
    minutes.write_text(minutes_csv(("PCN1", 1, 38)))
    mue.write_bytes(mue_csv(['"97110","-3","3 Date of Service Edit: Clinical","Clinical: Data"']))
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--mue-file", str(mue), "--unsafe-fixes", "--select", "U1,U102")
    assert "MUE value must not be negative: '-3'" in result.output
    assert "fixed U102 (unsafe)" in result.output and b"*144*UN*3*" in out.read_bytes()  # no MUE: the default cap


def test_more_than_a_day_for_one_clinician_disables_those_rows(tmp_path: Path):
    path, minutes, out = tmp_path / "two.x12", tmp_path / "m.csv", tmp_path / "out.x12"
    data = x12(claim(ln("97110:GP", 1, charge="48"), ln("97530:GP", 1, charge="48"), filing="MB"))
    path.write_bytes(data)
    minutes.write_text(minutes_csv(("PCN1", 1, 800), ("PCN1", 2, 800)))  # each under a day, together over
    result = run(str(path), "-o", str(out), "--minutes", str(minutes), "--unsafe-fixes", "--select", "U1,U102")
    assert out.read_bytes() == data
    message = "give rendering provider 1111111111 1600 minutes on 20260105, more than a day (1440); this row is not used"
    assert result.output.count(message) == 2
    check = edi_rehab.check(data, minutes=minutes_csv(("PCN1", 1, 800), ("PCN1", 2, 800)))
    assert sorted(f.details["row"] for f in check if f.code == "U109") == [2, 3]
    assert not [f for f in check if f.code in ("U101", "U102", "U103")]


# -- -o over a symlink, a FIFO or a device (issue 16, item 5) --------------------------------------
def test_output_through_a_symlink_replaces_the_file_it_points_to(work: Path):
    real, link = work / "real.x12", work / "link.x12"
    real.write_bytes(b"old")
    link.symlink_to(real.name)
    result = run(str(work / "in.x12"), "-o", str(link))
    assert result.exit_code == 1, result.output
    assert link.is_symlink() and os.readlink(link) == "real.x12"
    assert real.read_bytes() == edi_rehab.fix(SAMPLE_DATA).data


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_output_that_is_not_a_regular_file_is_refused(work: Path, kind: str):
    import stat

    if kind == "fifo":
        target = work / "pipe"
        os.mkfifo(target)
    elif kind == "device":
        target = Path(os.devnull)
    else:
        target = work / "folder"
        target.mkdir()
    before = os.lstat(target)
    result = run(str(work / "in.x12"), "-o", str(target))
    assert result.exit_code == 2, result.output
    assert f"{target}: cannot write: it is a " in result.output and "only a regular file is replaced" in result.output
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert not [p for p in work.iterdir() if p.name.endswith(".tmp")]
