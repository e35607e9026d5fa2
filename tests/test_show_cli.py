"""`edi-rehab show` on every refused and every tolerated input: the message names the file
and the segment, the exit code is 2 for refused input and 0 for tolerated input, and no
traceback ever reaches the user."""

import json

import pytest
from click.testing import CliRunner
from test_reader import ERROR_CASES, READ_CASES

from edi_rehab.cli import main

TOLERATED = [case for case in READ_CASES if case[3]]


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.mark.parametrize(("data", "fragment", "position"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_refused_input_exits_2_naming_file_and_segment(tmp_path, data, fragment, position):
    path = tmp_path / "claims.x12"
    path.write_bytes(data)
    result = run("show", str(path))
    assert result.exit_code == 2
    assert fragment in result.output
    where = f"segment {position}:" if position else "byte "
    assert f"{path}: {where}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("data", "fragment", "position"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES])
def test_refused_stdin_is_named_stdin(data, fragment, position):
    result = run("show", "-", input=data)
    assert result.exit_code == 2
    assert "<stdin>: " in result.output and fragment in result.output


@pytest.mark.parametrize(("data", "ids", "warnings"), [c[1:] for c in TOLERATED], ids=[c[0] for c in TOLERATED])
def test_tolerated_input_exits_0_with_its_warnings(data, ids, warnings):
    result = run("show", "-", "--format", "json", input=data)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    found = [
        (warning["kind"], warning["segment"])
        for event in shown["files"][0]["events"]
        for warning in event.get("warnings", [])
    ]
    assert sorted(found) == sorted(warnings)


def test_worst_exit_code_wins_across_files(tmp_path):
    good, bad = tmp_path / "good.x12", tmp_path / "bad.x12"
    good.write_bytes(READ_CASES[0][1])
    bad.write_bytes(b"garbage")
    result = run("show", str(good), str(bad), str(tmp_path / "missing.x12"))
    assert result.exit_code == 2
    assert "missing.x12: no such file" in result.output
    assert "bad.x12: segment 1: the input is not X12" in result.output


def test_show_lists_claims_and_lines_of_the_bundled_sample():
    from importlib.resources import files

    sample = files("edi_rehab.samples").joinpath("sample-837p.x12").read_bytes()
    result = run("show", "-", input=sample)
    assert result.exit_code == 0
    assert "claim PCN000001" in result.output
    assert "HC:97530" in result.output
