"""The Spark job gives the single-machine answers (issue 15): findings row for row with
``check --format json`` and matches row for row with ``match --format json``, on generated
files of many transaction sets, large ones split into byte ranges, an 835 and bad files.

PySpark runs in local mode (``local[2]``) with one session for the whole module; it needs a
Java runtime (``.ci/run`` checks for one). The plan and range reader are also tested
without Spark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from edi_rehab.synth import Defect, RemitSpec, SynthSpec, generate_835, generate_837p
from edi_rehab.x12 import Transaction
from edi_rehab.x12.document import iter_events, parse

pytestmark = pytest.mark.slow

#: Files above this size are planned and read by ranges in these tests (most of them).
SPLIT = 20_000
BATCH = 4_000


def _claims(seed: int, **changes) -> bytes:
    spec = SynthSpec(seed=seed, claims=40, claims_per_transaction=6, defect_rate=0.3, **changes)
    return generate_837p(spec).data


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Three 837P files (several interchanges and delimiters, many sets), a small one read
    whole, two 835s (one with reversals), a truncated file and a file that is not X12."""
    folder = tmp_path_factory.mktemp("lake")
    made = {
        "a.837": generate_837p(SynthSpec(seed=11, claims=40, claims_per_transaction=6, defect_rate=0.3, interchanges=2)),
        "b.837": generate_837p(SynthSpec(seed=12, claims=40, claims_per_transaction=5, defect_rate=0.3, line_break="\r\n",
                                         delimiters=("*:^~", "|>!'"), interchanges=2, defects=(Defect("wrong-se01", 4),))),
        "c.837": generate_837p(SynthSpec(seed=13, claims=8, claims_per_transaction=3, defect_rate=0.5)),
        # a.837 sent again a week later: the same CLM01s, so 835 claims have two candidates
        "a2.837": generate_837p(SynthSpec(seed=11, claims=40, claims_per_transaction=6, defect_rate=0.3, interchanges=2,
                                          created=date(2026, 2, 9))),
    }
    paths = {}
    for name, synth in made.items():
        paths[name] = folder / name
        paths[name].write_bytes(synth.data)
    remits = {
        "a.835": generate_835(made["a.837"], RemitSpec(reversals=(2, 5))),
        "b.835": generate_835(made["b.837"]),
    }
    for name, synth in remits.items():
        paths[name] = folder / name
        paths[name].write_bytes(synth.data)
    paths["cut.837"] = folder / "cut.837"
    paths["cut.837"].write_bytes(made["b.837"].data[: len(made["b.837"].data) * 2 // 3])
    paths["notes.837"] = folder / "notes.837"
    paths["notes.837"].write_bytes(b"these are not claims\n")
    assert os.path.getsize(paths["a.837"]) > SPLIT and os.path.getsize(paths["c.837"]) < SPLIT
    return {name: str(path) for name, path in paths.items()}


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("edi-rehab-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def edi_rehab(*args: str) -> dict:
    command = os.path.join(os.path.dirname(sys.executable), "edi-rehab")
    done = subprocess.run([command, *args], capture_output=True, text=True)
    return json.loads(done.stdout)


def finding_json(row) -> dict:
    fix = {"applicability": row.fix_applicability, "description": row.fix_description} if row.fix_applicability else None
    return {"code": row.code, "severity": row.severity, "message": row.message, "claim_id": row.claim_id, "line": row.line,
            "procedure": row.procedure, "segment": row.segment, "fix": fix}


# -- without Spark: the plan and the range reader ------------------------------------------------------
def test_spans_read_back_the_transactions_of_a_whole_file_read(inputs):
    from edi_rehab.spark.tasks import EnvelopeItem, Source, Span, plan_file, read_range, span_transactions

    path = inputs["b.837"]
    data = open(path, "rb").read()
    source = Source(0, path, path, len(data))
    whole = [event for event in iter_events([data]) if isinstance(event, Transaction)]
    items = list(plan_file(source, [data[i : i + 777] for i in range(0, len(data), 777)], BATCH))
    spans = [item for item in items if isinstance(item, Span)]
    assert len(spans) > 3 and any(isinstance(item, EnvelopeItem) for item in items)
    read = [tx for span in spans for tx in span_transactions(read_range(path, span.start, span.end), span)]
    assert [(t.raw, t.offset, t.first_position, t.warnings) for t in read] == [
        (t.raw, t.offset, t.first_position, t.warnings) for t in whole
    ]
    assert any(t.warnings for t in read)  # the wrong SE01 is seen by the range reader too


def test_a_file_unreadable_halfway_plans_what_it_can_and_says_where(inputs):
    from edi_rehab.spark.tasks import ErrorItem, Source, Span, plan_file

    data = open(inputs["cut.837"], "rb").read()
    items = list(plan_file(Source(0, "cut.837", inputs["cut.837"], len(data)), [data], BATCH))
    assert isinstance(items[-1], ErrorItem) and items[-1].message.startswith("cut.837: ")
    assert any(isinstance(item, Span) for item in items)


# -- with Spark -------------------------------------------------------------------------------------------
CHECKED = ("a.837", "b.837", "c.837", "a.835", "cut.837", "notes.837")


@pytest.fixture(scope="module")
def checked(spark, inputs):
    import edi_rehab.spark as job

    paths = [inputs[name] for name in CHECKED] + [inputs["a.837"] + ".missing"]
    tables = job.check(spark, paths, split_bytes=SPLIT, batch_bytes=BATCH)
    return paths, tables


def test_spark_check_gives_checks_findings_row_for_row(inputs, checked):
    paths, tables = checked
    single = edi_rehab("check", "--format", "json", "-q", *paths[:-1])
    rows = tables.findings.orderBy("path", "item", "seq").collect()
    by_path = {path: [finding_json(r) for r in rows if r.path == path] for path in paths[:-1]}
    assert sum(len(f["findings"]) for f in single["files"]) > 50
    for report in single["files"]:
        assert by_path[report["path"]] == report["findings"], report["path"]
    assert len(rows) == sum(len(f["findings"]) for f in single["files"])


def test_each_finding_carries_the_byte_offset_of_its_segment(inputs, checked):
    _, tables = checked
    for path in (inputs["a.837"], inputs["b.837"]):
        segments = {s.position: s.offset for s in _segments(open(path, "rb").read())}
        rows = tables.findings.where(f"path = '{path}'").select("segment", "offset").collect()
        assert rows and all(segments[r.segment] == r.offset for r in rows)


def _segments(data: bytes):
    for interchange in parse(data).interchanges:
        yield interchange.header.segment
        for group in interchange.groups:
            yield group.header.segment
            for tx in group.transactions:
                yield from tx.segments
            yield group.trailer.segment
        yield interchange.trailer.segment


def test_bad_inputs_are_rows_of_errors_not_a_failed_job(inputs, checked):
    paths, tables = checked
    single = {f["path"]: f.get("error") for f in edi_rehab("check", "--format", "json", "-q", *paths[:-1])["files"]}
    errors = {r.path: r for r in tables.errors.collect()}
    assert set(errors) == {inputs["cut.837"], inputs["notes.837"], paths[-1]}
    for name in ("cut.837", "notes.837"):
        assert errors[inputs[name]].message == single[inputs[name]]
    assert errors[inputs["cut.837"]].offset > 0
    assert "cannot be read" in errors[paths[-1]].message


def test_claims_and_lines_are_those_show_lists(inputs, checked):
    _, tables = checked
    for name in ("a.837", "b.837"):
        path = inputs[name]
        shown = edi_rehab("show", "--format", "json", path)
        claims = [c for item in _walk(shown) for c in item.get("claims", []) if "lines" in c]
        rows = tables.claims.where(f"path = '{path}'").orderBy("segment").collect()
        assert [(r.claim_id, r.segment, r.charge, r.lines) for r in rows] == [
            (c["claim_id"], c["segment"], c["charge"], len(c["lines"])) for c in claims
        ]
        lines = tables.lines.where(f"path = '{path}'").orderBy("segment").collect()
        assert [(r.procedure, r.modifiers, r.units) for r in lines] == [
            (line["procedure"], line["modifiers"], line["units"]) for c in claims for line in c["lines"]
        ]


def _walk(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


@pytest.fixture(scope="module")
def matched(spark, inputs):
    import edi_rehab.spark as job

    claims = [inputs[name] for name in ("a.837", "b.837", "c.837", "a2.837", "notes.837")]
    remits = [inputs["a.835"], inputs["b.835"], inputs["cut.837"]]
    return claims, remits, job.match(spark, remits, claims, split_bytes=SPLIT, batch_bytes=BATCH)


def test_spark_match_gives_matchs_rows_for_each_remittance(inputs, matched):
    claims, remits, tables = matched
    rows = tables.matches.orderBy("path", "seq").collect()
    for remit in remits[:2]:
        single = edi_rehab("match", "--format", "json", remit, *claims[:4])
        mine = [json.loads(r.row) for r in rows if r.path == remit]
        assert len(mine) > 100 and mine == single["lines"], remit
    found = [json.loads(r.row)["match"] for r in rows]
    assert "line-control" in {m["method"] for m in found}
    # ties between a.837 and its resubmission (equal above) were there to break: reversals
    # went to the earlier file, the rest to the later one
    assert any("ambiguous_with" in m for m in found)
    assert {inputs["a.837"], inputs["a2.837"]} <= {m["file"] for m in found}


def test_spark_match_reports_bad_claim_and_remittance_files_as_errors(inputs, matched):
    claims, remits, tables = matched
    errors = {r.path: r.message for r in tables.errors.collect()}
    assert inputs["cut.837"] in errors and inputs["notes.837"] in errors
    payments = tables.payments.where(f"path = '{remits[0]}'").count()
    assert payments == tables.matches.where(f"path = '{remits[0]}'").count()


def test_the_command_writes_the_parquet_tables(spark, inputs, tmp_path, run):
    out = tmp_path / "out"
    result = run("spark", "check", inputs["a.837"], inputs["c.837"], "--out", str(out), "--master", "local[2]")
    assert result.exit_code == 0, result.output
    findings = spark.read.parquet(str(out / "findings"))
    assert "file_date=2026-02-02" in os.listdir(out / "findings")
    single = edi_rehab("check", "--format", "json", "-q", inputs["a.837"], inputs["c.837"])
    assert findings.count() == sum(len(f["findings"]) for f in single["files"])
    assert {"claims", "lines", "errors"} <= set(os.listdir(out))
    result = run("spark", "match", inputs["a.835"], "--claims", inputs["a.837"], "--out", str(out), "--master", "local[2]")
    assert result.exit_code == 0, result.output
    assert spark.read.parquet(str(out / "matches")).count() == len(edi_rehab("match", "--format", "json", inputs["a.835"], inputs["a.837"])["lines"])
    result = run("spark", "check", inputs["cut.837"], "--out", str(out), "--master", "local[2]")
    assert result.exit_code == 2 and "1 input problem" in result.output


def test_no_other_command_imports_spark(tmp_path):
    code = (
        "import json, sys\n"
        "from edi_rehab.cli import main\n"
        "for args in (['--help'], ['spark', '--help'], ['check', '--sample', '-q']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not {name for name in loaded if name.startswith(("pyspark", "py4j", "edi_rehab.spark"))}


@pytest.mark.parametrize("option, words", [(["--minutes", "m.csv"], "--minutes"), (["--validate"], "--validate")])
def test_spark_check_refuses_minutes_and_validate_before_spark_starts(inputs, tmp_path, run, option, words):
    out = tmp_path / "out"
    result = run("spark", "check", inputs["c.837"], "--out", str(out), *option)
    assert result.exit_code == 2
    assert f"spark check does not take {words}" in result.output and "edi-rehab check" in result.output
    assert not out.exists()  # refused before any Spark session or table


def test_claim_and_line_rows_are_claim_to_json_values(inputs):
    """The rows built straight off the claims equal what ``claim_to_json`` says of them."""
    from edi_rehab.batch import CheckRecipe
    from edi_rehab.claims import read_claims
    from edi_rehab.inventory import claim_to_json
    from edi_rehab.spark.tasks import Source, check_whole

    checker = CheckRecipe().build()
    for name in ("a.837", "b.837"):
        data = open(inputs[name], "rb").read()
        rows = check_whole(Source(0, name, inputs[name], len(data)), data, checker)
        claims = [r for table, r in rows if table == "claims"]
        lines = [r for table, r in rows if table == "lines"]
        expected_claims, expected_lines = [], []
        for tx in (e for e in iter_events([data]) if isinstance(e, Transaction)):
            segments = {s.position: s.offset for s in tx.segments}
            for claim in read_claims(tx):
                d = claim_to_json(claim)
                expected_claims.append((d["claim_id"], segments[d["segment"]], d["segment"], tx.control_number, d["charge"],
                                        d["place_of_service"], d["frequency_code"], d["payer"]["id"], d["filing_indicator"],
                                        d["rendering"]["npi"], d["payer_claim_number"], d["has_cob"], len(d["lines"])))
                for line, f in zip(claim.lines, d["lines"]):
                    expected_lines.append((segments[claim.position(line.index)], f["segment"], d["claim_id"], d["segment"], f["line"],
                                           f["qualifier"], f["procedure"], f["modifiers"], f["charge"], f["unit_basis"], f["units"],
                                           f["service_date"], f["control_number"], f["rendering"]["npi"]))
        assert len(expected_lines) > 100
        assert [(r[5], r[2], r[3], r[4], *r[6:15]) for r in claims] == expected_claims
        assert [r[2:] for r in lines] == expected_lines


# -- inputs by URL: fsspec's filesystems read the byte ranges ---------------------------------------------
@pytest.fixture(scope="module")
def http_lake(inputs):
    """The lake's folder served over HTTP by a server that honours Range requests (as object
    stores do), in a thread of this process."""
    import http.server
    import re
    import threading

    folder = os.path.dirname(inputs["a.837"])
    ranges: list[str] = []

    class RangeHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=folder, **kwargs)

        def log_message(self, *args):  # quiet
            pass

        def do_GET(self):
            wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            path = self.translate_path(self.path)
            if wanted and self.path.endswith("?fail=500") and int(wanted.group(1)) > 0:
                return self.send_error(500)  # a store failing after the first range (s3 throttling, say)
            if not wanted or not os.path.isfile(path):
                return super().do_GET()
            data = open(path, "rb").read()
            start = int(wanted.group(1))
            end = min(int(wanted.group(2)) + 1 if wanted.group(2) else len(data), len(data))
            ranges.append(self.headers["Range"])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            self.wfile.write(data[start:end])

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ranges
    server.shutdown()


def test_urls_are_read_by_range_and_give_the_local_findings(spark, inputs, http_lake):
    """http:// (fsspec's HTTP filesystem, Range requests) and file:// inputs give the same
    findings as the local paths; a missing URL is a row of errors."""
    import pathlib

    import edi_rehab.spark as job

    base, ranges = http_lake
    names = ("a.837", "b.837", "c.837")
    local = job.check(spark, [inputs[n] for n in names], split_bytes=SPLIT, batch_bytes=BATCH)
    expected = [(os.path.basename(r.path), r.offset, r.segment, r.code, r.message)
                for r in local.findings.orderBy("path", "item", "seq").collect()]
    assert len(expected) > 50
    for urls in ([f"{base}/{n}" for n in names], [pathlib.Path(inputs[n]).as_uri() for n in names]):
        tables = job.check(spark, urls + [urls[0] + ".missing"], split_bytes=SPLIT, batch_bytes=BATCH)
        found = [(r.path.rsplit("/", 1)[-1], r.offset, r.segment, r.code, r.message)
                 for r in tables.findings.orderBy("path", "item", "seq").collect()]
        assert found == expected
        errors = tables.errors.collect()
        assert [r.path for r in errors] == [urls[0] + ".missing"] and "cannot be read" in errors[0].message
    assert ranges and any(not r.startswith("bytes=0-") for r in ranges)  # spans were fetched by range


def test_a_span_of_a_url_is_fetched_as_exactly_its_range(inputs, http_lake):
    """One ranged GET for the span's bytes, not fsspec's 5 MB read-ahead blocks."""
    from edi_rehab.spark.tasks import Source, Span, plan_file, read_range

    base, ranges = http_lake
    data = open(inputs["a.837"], "rb").read()
    span = [item for item in plan_file(Source(0, "a.837", inputs["a.837"], len(data)), [data], BATCH) if isinstance(item, Span)][1]
    before = len(ranges)
    assert read_range(f"{base}/a.837", span.start, span.end) == data[span.start : span.end]
    assert ranges[before:] == [f"bytes={span.start}-{span.end - 1}"]


def test_a_url_failing_in_the_middle_of_a_job_is_a_row_of_errors_not_a_failed_task(inputs, http_lake):
    """fsspec's HTTP filesystem raises aiohttp's errors (not OSError) for a 500: the task
    still ends with its rows, the read failure among them."""
    from edi_rehab.batch import CheckRecipe
    from edi_rehab.spark.tasks import Source, Span, check_item, plan_file

    base, _ranges = http_lake
    data = open(inputs["b.837"], "rb").read()
    url = f"{base}/b.837?fail=500"
    source = Source(0, url, url, len(data))
    span = next(item for item in plan_file(source, [data], BATCH) if isinstance(item, Span) and item.start > 0)
    rows = check_item(source, span, CheckRecipe().build())
    assert [table for table, _row in rows] == ["errors"]
    name, offset, message = rows[0][1]
    assert (name, offset) == (url, span.start)
    assert message.startswith(f"{url}: cannot be read: ") and "500" in message


def test_a_local_read_fails_only_with_oserror_anything_else_is_raised():
    from edi_rehab.spark.tasks import Source, cannot_be_read

    local, remote = Source(0, "a.837", "/lake/a.837", 10), Source(1, "s3://lake/a.837", "s3://lake/a.837", 10)
    assert cannot_be_read(local, FileNotFoundError(2, "No such file or directory")) == "a.837: cannot be read: No such file or directory"
    assert cannot_be_read(remote, ValueError("throttled")) == "s3://lake/a.837: cannot be read: ValueError: throttled"
    with pytest.raises(ValueError):
        cannot_be_read(local, ValueError("a bug, not the file"))


def test_the_command_takes_urls(spark, inputs, http_lake, tmp_path, run):
    base, _ranges = http_lake
    out = tmp_path / "out"
    result = run("spark", "check", f"{base}/a.837", inputs["c.837"], "--out", str(out), "--master", "local[2]")
    assert result.exit_code == 0, result.output
    single = edi_rehab("check", "--format", "json", "-q", inputs["a.837"], inputs["c.837"])
    assert spark.read.parquet(str(out / "findings")).count() == sum(len(f["findings"]) for f in single["files"])
