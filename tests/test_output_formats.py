"""`check --output-format`: the CI report formats, on the bundled sample and a clean file,
parsed back and their fields checked; the renderers' escaping on hand-made findings."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from claimkit import claim, ln, x12
from edi_rehab import __version__
from edi_rehab.findings import Finding, Severity
from edi_rehab.renderers import (
    github_data,
    github_property,
    gitlab_fingerprint,
    render_github,
    render_gitlab,
    render_junit,
    render_sarif,
)
from edi_rehab.report import FileReport
from edi_rehab.rules import registry

CLEAN = x12(claim(ln("97110:GP", 2), ln("97140:GP", 1)))
WARNING = x12(claim(ln("97140:GP", 1), ln("97530:GP:59", 1)))  # M205 only, a warning
SAMPLE = "sample-837p.x12"


def sample_findings(run) -> list[dict]:
    """The sample's findings as --format json reports them: what every format must carry."""
    result = run("check", "--sample", "--format", "json", "-q")
    return json.loads(result.stdout)["files"][0]["findings"]


# -- the option ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["text", "json", "jsonl"])
def test_output_format_is_format_for_the_old_three(run, name):
    old = run("check", "--sample", "--format", name, "-q")
    new = run("check", "--sample", "--output-format", name, "-q")
    assert new.stdout == old.stdout
    assert new.exit_code == old.exit_code == 1


def test_format_still_refuses_the_ci_formats(run):
    assert run("check", "--sample", "--format", "sarif").exit_code == 2


@pytest.mark.parametrize("name", ["github", "gitlab", "junit", "sarif"])
def test_exit_codes_do_not_change_with_the_format(run, files, name):
    assert run("check", "--sample", "--output-format", name).exit_code == 1
    assert run("check", files("clean.x12", CLEAN), "--output-format", name).exit_code == 0
    warned = files("warn.x12", WARNING)
    assert run("check", warned, "--output-format", name).exit_code == 0
    assert run("check", warned, "--output-format", name, "--fail-on", "warning").exit_code == 1
    assert run("check", files("junk.x12", b"not x12 at all"), "--output-format", name).exit_code == 2


# -- github ----------------------------------------------------------------------------------------
def test_github_annotations_on_the_sample(run):
    expected = sample_findings(run)
    result = run("check", "--sample", "--output-format", "github")
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected) > 0
    for line, finding in zip(lines, expected):
        assert line == (
            f"::{finding['severity']} file={SAMPLE},line={finding['segment']},title={finding['code']}::{finding['message']}"
        )


def test_github_clean_file_prints_nothing(run, files):
    result = run("check", files("clean.x12", CLEAN), "--output-format", "github")
    assert result.stdout == ""


def test_github_escapes_message_and_properties():
    finding = Finding("U101", Severity.WARNING, "100% over\r\nnext: a, b", segment=7)
    out = render_github([FileReport("in,box/a:b.x12", [finding])])
    assert out == "::warning file=in%2Cbox/a%3Ab.x12,line=7,title=U101::100%25 over%0D%0Anext: a, b\n"
    assert out.count("\n") == 1  # the newline in the message cannot end the command early
    assert github_data("%0A") == "%250A"  # % first, so an escape is not escaped twice or forged
    assert github_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_info_is_a_notice_and_a_csv_finding_uses_its_row():
    finding = Finding("U104", Severity.INFO, "no minutes", segment=0, details={"row": 3})
    assert render_github([FileReport("minutes.csv", [finding])]) == "::notice file=minutes.csv,line=3,title=U104::no minutes\n"


def test_github_unreadable_file_is_an_error_annotation():
    out = render_github([FileReport("x.x12", [], error="x.x12: segment 1: not an ISA")])
    assert out == "::error file=x.x12,title=unreadable::x.x12: segment 1: not an ISA\n"  # : escaped only in properties


# -- gitlab ----------------------------------------------------------------------------------------
def test_gitlab_code_quality_on_the_sample(run):
    expected = sample_findings(run)
    issues = json.loads(run("check", "--sample", "--output-format", "gitlab").stdout)
    assert len(issues) == len(expected) > 0
    for issue, finding in zip(issues, expected):
        assert issue["check_name"] == finding["code"]
        assert finding["message"] in issue["description"]
        assert issue["severity"] == {"error": "major", "warning": "minor", "info": "info"}[finding["severity"]]
        assert issue["location"] == {"path": SAMPLE, "lines": {"begin": finding["segment"]}}
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    again = json.loads(run("check", "--sample", "--output-format", "gitlab").stdout)
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]


def test_gitlab_clean_file_is_an_empty_list(run, files):
    result = run("check", files("clean.x12", CLEAN), "--output-format", "gitlab")
    assert json.loads(result.stdout) == []


def test_gitlab_fingerprint_depends_on_path_code_segment_and_message():
    base = Finding("U101", Severity.ERROR, "m", segment=5)
    print_ = gitlab_fingerprint("a.x12", base)
    assert print_ == gitlab_fingerprint("a.x12", Finding("U101", Severity.ERROR, "m", segment=5, claim_id="other"))
    assert print_ != gitlab_fingerprint("b.x12", base)
    assert print_ != gitlab_fingerprint("a.x12", Finding("U102", Severity.ERROR, "m", segment=5))
    assert print_ != gitlab_fingerprint("a.x12", Finding("U101", Severity.ERROR, "m", segment=6))
    assert print_ != gitlab_fingerprint("a.x12", Finding("U101", Severity.ERROR, "n", segment=5))
    warning = json.loads(render_gitlab([FileReport("a.x12", [Finding("M205", Severity.WARNING, "w", segment=2)])]))
    assert warning[0]["severity"] == "minor"


# -- junit -----------------------------------------------------------------------------------------
def test_junit_on_the_sample(run):
    expected = sample_findings(run)
    root = ET.fromstring(run("check", "--sample", "--output-format", "junit").stdout)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == SAMPLE
    cases = suite.findall("testcase")
    assert len(cases) == len(expected) == int(suite.get("tests")) == int(suite.get("failures"))
    for case, finding in zip(cases, expected):
        assert case.get("classname") == SAMPLE
        assert case.get("name") == f"{finding['code']} segment {finding['segment']}"
        failure = case.find("failure")
        assert failure.get("type") == finding["code"]
        assert failure.get("message") == finding["message"]


def test_junit_clean_file_is_one_passing_testcase(run, files):
    path = files("clean.x12", CLEAN)
    root = ET.fromstring(run("check", path, "--output-format", "junit").stdout)
    (suite,) = root.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert case.find("failure") is None and case.find("error") is None
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")


def test_junit_fails_only_at_or_above_fail_on(run, files):
    path = files("warn.x12", WARNING)
    below = ET.fromstring(run("check", path, "--output-format", "junit").stdout)
    assert below.find("testsuite/testcase/failure") is None
    assert "M205" in below.find("testsuite/testcase/system-out").text
    at = ET.fromstring(run("check", path, "--output-format", "junit", "--fail-on", "warning").stdout)
    assert at.find("testsuite/testcase/failure").get("type") == "M205"


def test_junit_escapes_markup_and_reports_unreadable_files():
    finding = Finding("C401", Severity.ERROR, 'a <b> & "c" ]]>', segment=1)
    text = render_junit([FileReport("a&b.x12", [finding]), FileReport("bad.x12", [], error="bad.x12: not X12")], Severity.ERROR)
    root = ET.fromstring(text)
    first, second = root.findall("testsuite")
    assert first.get("name") == "a&b.x12"
    assert first.find("testcase/failure").get("message") == 'a <b> & "c" ]]>'
    assert second.find("testcase/error").get("message") == "bad.x12: not X12"
    assert root.get("errors") == "1" and root.get("failures") == "1"


# -- sarif -----------------------------------------------------------------------------------------
SARIF_LEVELS = {"error", "warning", "note", "none"}


def assert_sarif_shape(log: dict) -> None:
    """The keys SARIF 2.1.0 requires (the full schema is not available offline)."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and log["runs"]
    for sarif_run in log["runs"]:
        driver = sarif_run["tool"]["driver"]
        assert isinstance(driver["name"], str) and driver["name"]
        ids = [rule["id"] for rule in driver.get("rules", [])]
        assert len(ids) == len(set(ids))
        for result in sarif_run["results"]:
            assert isinstance(result["ruleId"], str)
            assert result["level"] in SARIF_LEVELS
            assert isinstance(result["message"]["text"], str) and result["message"]["text"]
            if "ruleIndex" in result:
                assert ids[result["ruleIndex"]] == result["ruleId"]
            for location in result["locations"]:
                physical = location["physicalLocation"]
                assert isinstance(physical["artifactLocation"]["uri"], str)
                if "region" in physical:
                    assert physical["region"]["startLine"] >= 1


def test_sarif_on_the_sample(run):
    expected = sample_findings(run)
    log = json.loads(run("check", "--sample", "--output-format", "sarif").stdout)
    assert_sarif_shape(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("edi-rehab", __version__)
    assert [rule["id"] for rule in driver["rules"]] == list(registry.CODES)
    assert all(rule["name"] == registry.BY_CODE[rule["id"]].name for rule in driver["rules"])
    results = log["runs"][0]["results"]
    assert len(results) == len(expected) > 0
    for result, finding in zip(results, expected):
        assert result["ruleId"] == finding["code"]
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding["severity"]]
        assert result["message"]["text"] == finding["message"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == SAMPLE
        assert physical["region"]["startLine"] == finding["segment"]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_clean_file_has_no_results(run, files):
    log = json.loads(run("check", files("clean.x12", CLEAN), "--output-format", "sarif").stdout)
    assert_sarif_shape(log)
    assert log["runs"][0]["results"] == []


def test_sarif_unreadable_file_is_a_notification_and_levels_map():
    findings = [Finding("M205", Severity.WARNING, "w", segment=3), Finding("U104", Severity.INFO, "i", segment=0)]
    log = json.loads(
        render_sarif([FileReport("a b.x12", findings), FileReport("bad.x12", [], error="bad.x12: not X12")], rules=registry.RULES, version="9")
    )
    assert_sarif_shape(log)
    warning, info = log["runs"][0]["results"]
    assert (warning["level"], info["level"]) == ("warning", "note")
    assert warning["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b.x12"
    assert "region" not in info["locations"][0]["physicalLocation"]  # segment 0 and no row: no line to point at
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"] == "bad.x12: not X12"


# -- several files and the minutes CSV's own findings ------------------------------------------------
def test_minutes_csv_findings_point_at_their_row_in_every_format(run, files):
    minutes = files("m.csv", "claim_id,line,minutes\nPCN1,1,30\nPCN1,2,abc\nPCN9,1,20\n")
    claims = files("a.x12", CLEAN)
    args = ("check", "--minutes", minutes, claims, "--output-format")

    github = run(*args, "github").stdout.splitlines()
    assert f"::warning file={github_property(minutes)},line=3,title=U109::minutes must be a whole number, got 'abc'" in github

    issues = json.loads(run(*args, "gitlab").stdout)
    by_code = {issue["check_name"]: issue for issue in issues if issue["location"]["path"] == minutes}
    assert by_code["U109"]["location"]["lines"]["begin"] == 3
    assert by_code["U110"]["location"]["lines"]["begin"] == 4

    root = ET.fromstring(run(*args, "junit").stdout)
    assert [suite.get("name") for suite in root.findall("testsuite")] == [claims, minutes]
    assert "U109 row 3" in [case.get("name") for case in root.findall("testsuite")[1].findall("testcase")]

    log = json.loads(run(*args, "sarif").stdout)
    assert_sarif_shape(log)
    rows = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["region"]["startLine"]
        for r in log["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("m.csv")
    }
    assert rows == {"U109": 3, "U110": 4}
