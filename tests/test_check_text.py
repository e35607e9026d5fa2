"""`edi-rehab check`'s text for people: each finding's severity and fix mark, the fix
summary, --statistics and colour (on a terminal, never when piped or with NO_COLOR)."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys

import pytest

from claimkit import claim, ln, x12

ERROR = x12(claim(ln("97110:GP", 1), ln("97112", 1)))  # M201, an error with an unsafe fix
PAIR = x12(claim(ln("97140:GP", 1), ln("97530:GP", 1)))  # N301, an error with no fix (no minutes to show distinct blocks)
WARNING = x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)))  # M205, a warning with a safe fix
CLEAN = x12(claim(ln("97110:GP", 2), ln("97140:GP", 1)))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# -- severity and fix marks -------------------------------------------------------------------------
def test_each_line_shows_severity_code_and_fix_mark(run, files):
    bad, warn = files("bad.x12", ERROR), files("warn.x12", WARNING)
    result = run("check", "--quiet", bad, warn)
    lines = result.stdout.splitlines()
    assert re.fullmatch(rf"{re.escape(bad)}:\d+: error M201 \[~\] therapy code 97112 has no discipline modifier \(GP, GO or GN\) \[claim PCN1 line 2 procedure 97112\]", lines[0])
    assert re.fullmatch(rf"{re.escape(warn)}:\d+: warning M205 \[\*\] modifiers on 97530 are GP, 59; .*", lines[1])
    assert lines[2:] == [
        "Found 2 findings (1 error, 1 warning, 0 info) in 2 files.",
        "[*] 1 fixable with `edi-rehab fix`; [~] 1 more with `--unsafe-fixes`.",
    ]


def test_a_finding_without_a_fix_has_no_mark_and_a_clean_run_no_fix_line(run, files):
    minutes = files("m.csv", "claim_id,line,minutes\nPCN9,1,20\n")
    result = run("check", "--minutes", minutes, files("pair.x12", PAIR))
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{minutes}:2: warning U110 claim 'PCN9' is not in the checked claim file(s)") for line in lines)
    assert any(re.search(r"\.x12:\d+: error N301 97530 \(column 2\)", line) for line in lines)
    assert "fixable" not in result.stdout
    assert run("check", files("c.x12", CLEAN)).stdout.splitlines() == ["No findings in 1 file."]


def test_only_unsafe_fixes_name_the_option_that_applies_them(run, files):
    result = run("check", files("bad.x12", ERROR))
    assert result.stdout.splitlines()[-1] == "[~] 1 fixable with `edi-rehab fix --unsafe-fixes`."


def test_the_safe_mark_is_what_fix_applies_by_default(run, files, tmp_path):
    # The [*] count is a promise about `edi-rehab fix`: the same file, fixed with no
    # option, gets exactly that many fixes, and none of the [~] ones.
    path = files("both.x12", x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)), claim(ln("97110:GP", 1), ln("97112", 1), id="PCN2")))
    checked = run("check", path).stdout
    assert checked.splitlines()[-1] == "[*] 1 fixable with `edi-rehab fix`; [~] 1 more with `--unsafe-fixes`."
    fixed = run("fix", path, "-o", str(tmp_path / "out.x12"))
    assert "Applied 1 fix (1 safe, 0 unsafe)" in fixed.output


# -- --statistics -----------------------------------------------------------------------------------
def test_statistics_count_findings_per_code_in_text(run, files):
    both = x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)), claim(ln("97140:GP", 1), ln("97530:GP:59", 1), id="PCN2"))
    result = run("check", "--statistics", files("both.x12", both), files("bad.x12", ERROR))
    assert result.exit_code == 1  # the exit code is check's, whatever is printed
    assert result.stdout.splitlines() == [
        "count  code  severity  fixable  rule",
        "    2  M205  warning   [*] 2    modifier-order",
        "    1  M201  error     [~] 1    missing-discipline-modifier",
        "Found 3 findings (1 error, 2 warnings, 0 info) in 2 files.",
        "[*] 2 fixable with `edi-rehab fix`; [~] 1 more with `--unsafe-fixes`.",
    ]
    clean = run("check", "--statistics", files("clean.x12", CLEAN))
    assert clean.exit_code == 0 and clean.stdout.splitlines() == ["No findings in 1 file."]


def test_statistics_as_json_agree_with_the_findings(run, files):
    paths = [files("both.x12", x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)))), files("pair.x12", PAIR), files("bad.x12", ERROR)]
    listed = json.loads(run("check", "--format", "json", *paths).stdout)
    counted = json.loads(run("check", "--statistics", "--format", "json", *paths).stdout)
    findings = [f for file in listed["files"] for f in file["findings"]]
    assert sum(row["count"] for row in counted["statistics"]) == len(findings)
    for row in counted["statistics"]:
        mine = [f for f in findings if f["code"] == row["code"] and f["severity"] == row["severity"]]
        assert row["count"] == len(mine)
        assert row["safe_fixes"] == sum(1 for f in mine if f["fix"] and f["fix"]["applicability"] == "safe")
        assert row["unsafe_fixes"] == sum(1 for f in mine if f["fix"] and f["fix"]["applicability"] == "unsafe")
        assert row["fixable"] == row["safe_fixes"] + row["unsafe_fixes"]
        assert row["name"]
    assert {r["code"] for r in counted["statistics"]} >= {"M205", "N301", "M201"}
    assert counted["files"] == 3 and counted["summary"] == listed["summary"]
    counts = [r["count"] for r in counted["statistics"]]
    assert counts == sorted(counts, reverse=True)


def test_statistics_refuse_the_formats_they_have_no_shape_for(run, files):
    for output_format in ("jsonl", "sarif"):
        result = run("check", "--statistics", "--output-format", output_format, files("bad.x12", ERROR))
        assert result.exit_code == 2 and f"not {output_format}" in result.stderr


# -- colour -----------------------------------------------------------------------------------------
@pytest.fixture
def coloured(tmp_path, monkeypatch):
    """Run check in-process as if stdout were a terminal (``color=True``) or a pipe."""
    from click.testing import CliRunner

    from edi_rehab.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NO_COLOR", raising=False)

    def invoke(*args, terminal: bool, env: dict | None = None):
        return CliRunner().invoke(main, ["check", *args], color=terminal, env=env, catch_exceptions=False)

    return invoke


def test_colour_on_a_terminal_marks_severity_code_and_fix(coloured, files):
    path = files("warn.x12", WARNING)
    result = coloured(path, terminal=True)
    first = result.stdout.splitlines()[0]
    assert "\x1b[33m\x1b[1mwarning\x1b[0m \x1b[33m\x1b[1mM205\x1b[0m \x1b[32m\x1b[1m[*]\x1b[0m" in first
    # the words are the uncoloured line's, escapes only added
    assert ANSI.sub("", result.stdout) == coloured(path, terminal=False).stdout
    statistics = coloured("--statistics", path, terminal=True).stdout
    assert "\x1b[33m\x1b[1mM205\x1b[0m" in statistics


@pytest.mark.parametrize(
    "args, terminal, env",
    [
        ((), False, None),  # piped
        (("--color", "never"), True, None),
        ((), True, {"NO_COLOR": "1"}),
        ((), True, {"NO_COLOR": "no"}),  # any non-empty value
    ],
)
def test_no_colour_when_piped_with_never_or_no_color(coloured, files, args, terminal, env):
    result = coloured(*args, files("bad.x12", ERROR), terminal=terminal, env=env)
    assert result.exit_code == 1 and "\x1b[" not in result.output


def test_empty_no_color_and_always(coloured, files):
    path = files("bad.x12", ERROR)
    assert "\x1b[" in coloured(path, terminal=True, env={"NO_COLOR": ""}).stdout  # empty means unset
    assert "\x1b[" in coloured("--color", "always", path, terminal=False).stdout
    assert "\x1b[" in coloured("--color", "always", path, terminal=True, env={"NO_COLOR": "1"}).stdout  # the option wins


def test_json_is_never_coloured(coloured, files):
    result = coloured("--format", "json", "--color", "always", files("bad.x12", ERROR), terminal=True)
    json.loads(result.stdout)
    assert "\x1b[" not in result.stdout


def run_real(args, tmp_path, *, stdout, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), **(env_extra or {})})
    code = "import sys\nfrom edi_rehab.cli import main\nmain(sys.argv[1:])\n"
    return subprocess.run([sys.executable, "-c", code, "check", *args], stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=tmp_path, timeout=120)


def read_terminal(args, tmp_path, env_extra=None) -> bytes:
    """Run check with its stdout on a pseudo-terminal and return what the terminal got."""
    leader, follower = pty.openpty()
    try:
        done = run_real(args, tmp_path, stdout=follower, env_extra=env_extra)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert done.returncode == 1, done.stderr
        return b"".join(chunks)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)


def test_a_real_pipe_gets_no_colour_and_a_real_terminal_does(tmp_path, files):
    path = files("bad.x12", ERROR)
    piped = run_real([path], tmp_path, stdout=subprocess.PIPE)
    assert piped.returncode == 1 and b"error M201 [~]" in piped.stdout and b"\x1b[" not in piped.stdout
    terminal = read_terminal([path], tmp_path)
    assert b"\x1b[31m\x1b[1merror\x1b[0m" in terminal
    assert b"\x1b[" not in read_terminal([path], tmp_path, {"NO_COLOR": "1"})
