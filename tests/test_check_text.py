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
    assert f"{minutes}:2: warning U110 claim 'PCN9' is not in the checked claim file(s) [row 2]" in lines
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
