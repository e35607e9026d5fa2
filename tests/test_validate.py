"""Implementation-guide validation (pyx12) and the ``validate`` command.

Inline files are synthetic (PATIENT TEST, SYN000001, made-up NPI). The public samples in
``shared/samples/x12`` are used when present (or ``EDI_REHAB_SAMPLES``) and skipped otherwise.
Tests that run pyx12 are marked slow; each pyx12 run costs ~0.2 s of map loading.
"""

from __future__ import annotations

import csv
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_rehab.cli import main
from edi_rehab.findings import Severity
from edi_rehab.validate import (
    ValidationStatus,
    plan_validation,
    validate_bytes,
    validate_chunk,
)

def samples_folder() -> Path:
    """``EDI_REHAB_SAMPLES`` (the samples folder or its ``x12`` subfolder), else ../shared/samples."""
    base = Path(os.environ.get("EDI_REHAB_SAMPLES") or Path(__file__).resolve().parents[2] / "shared" / "samples")
    return base if (base / "MANIFEST.tsv").is_file() else base / "x12"


SAMPLES = samples_folder()
needs_samples = pytest.mark.skipif(not (SAMPLES / "MANIFEST.tsv").is_file(), reason="public samples not present")

# -- a small synthetic 837P that pyx12 accepts -------------------------------------------------
# Written with ``* : ^ ~``; :func:`x12` translates to other delimiters (no data holds them).
ISA = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *260105*1200*^*00501*{isa13}*0*T*:"
GS = "GS*HC*SUBMITTER*RECEIVER*20260105*1200*{gs06}*X*{version}"


def transaction(
    st02: str = "0001",
    *,
    version: str = "005010X222A1",
    se01: int | None = None,
    dos: str = "20260102",
    name: str = "PATIENT",
) -> list[str]:
    body = [
        f"ST*837*{st02}*{version}",
        "BHT*0019*00*BATCH1*20260105*1200*CH",
        "NM1*41*2*SYNTHETIC THERAPY*****46*TAX123",
        "PER*IC*BILLING DESK*TE*5555550100",
        "NM1*40*2*SYNTHETIC PAYER*****46*PAYER1",
        "HL*1**20*1",
        "NM1*85*2*SYNTHETIC THERAPY*****XX*1234567893",
        "N3*1 MAIN ST",
        "N4*ANYTOWN*CA*900010001",
        "REF*EI*123456789",
        "HL*2*1*22*0",
        "SBR*P*18*******MB",
        f"NM1*IL*1*{name}*TEST****MI*SYN000001",
        "N3*2 MAIN ST",
        "N4*ANYTOWN*CA*900010001",
        "DMG*D8*19500101*F",
        "NM1*PR*2*SYNTHETIC PAYER*****PI*PAYER1",
        "CLM*PCN1001*100***11:B:1*Y*A*Y*Y",
        "HI*ABK:M6281",
        "LX*1",
        "SV1*HC:97110:GP*100*UN*2***1",
        f"DTP*472*D8*{dos}",
    ]
    return body + [f"SE*{se01 if se01 is not None else len(body) + 1}*{st02}"]


#: File positions in a one-transaction interchange: ISA 1, GS 2, ST 3 ... DTP 24, SE 25.
SE_POSITION = 25
DTP_OFFSET = 21  # DTP is the 22nd segment of the transaction


def interchange(
    *transactions: list[str],
    isa13: str = "000000001",
    gs06: str = "1",
    version: str = "005010X222A1",
    ge01: int | None = None,
) -> list[str]:
    segments = [ISA.format(isa13=isa13), GS.format(gs06=gs06, version=version)]
    for tx in transactions:
        segments += tx
    count = len(transactions) if ge01 is None else ge01
    return segments + [f"GE*{count}*{gs06}", f"IEA*1*{isa13}"]


def x12(segments: list[str], delimiters: str = "*:^~", line_break: str = "\n") -> bytes:
    """Join segments, then swap in ``delimiters`` (element, component, repetition, terminator)."""
    text = "".join(segment + "~" + line_break for segment in segments)
    return text.translate(str.maketrans("*:^~", delimiters)).encode("utf-8")


VALID = x12(interchange(transaction()))
WRONG_SE01 = x12(interchange(transaction(se01=22)))


@pytest.fixture(autouse=True)
def state_folder(tmp_path_factory, monkeypatch):
    """The control-number counter the acks are numbered from lives in a test folder."""
    folder = tmp_path_factory.mktemp("state") / "edi-rehab"
    monkeypatch.setenv("EDI_REHAB_STATE_DIR", str(folder))
    return folder


def ack_body(ack: str) -> list[str]:
    return [line for line in ack.splitlines() if line.split("*")[0] not in ("ISA", "GS", "GE", "IEA")]


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, ["validate", *args], input=input)


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# -- planning (our reader's side; no pyx12) --------------------------------------------------------
def test_whole_chunk_is_the_segment_texts_with_their_positions():
    data = b"\xef\xbb\xbf\r\n" + VALID
    plan = plan_validation(data)
    (chunk,) = plan.chunks
    assert chunk.text.startswith("ISA*") and "\n" not in chunk.text  # BOM, whitespace, line breaks gone
    assert chunk.positions == tuple(range(1, 28))
    assert [issue.code for issue in plan.issues] == ["bom", "leading-whitespace"]
    assert {issue.severity for issue in plan.issues} == {Severity.WARNING}


def test_split_chunks_copy_the_envelope_and_mark_synthetic_trailers():
    data = x12(interchange(transaction("0001"), transaction("0002"), transaction("0003")))
    plan = plan_validation(data, split=True, chunk_bytes=1)
    assert len(plan.chunks) == 3
    second = plan.chunks[1]
    assert second.text.startswith(ISA.format(isa13="000000001") + "~GS*HC*")
    assert second.text.endswith("~GE*1*1~IEA*1*000000001~")
    # ISA and GS are the originals (1, 2); the second ST..SE is 26..48; GE/IEA synthetic.
    assert second.positions == (1, 2, *range(26, 49), None, None)


def test_split_batches_keep_transactions_whole():
    data = x12(interchange(*(transaction(f"{n:04d}") for n in range(1, 6))))
    plan = plan_validation(data, split=True, chunk_bytes=1500)
    assert sum(chunk.transaction_count for chunk in plan.chunks) == 5
    assert 1 < len(plan.chunks) < 5


def test_envelope_counts_come_from_our_reader():
    data = x12(interchange(transaction("0001"), transaction("0001"), ge01=3))
    codes = {(issue.code, issue.segment, issue.element) for issue in plan_validation(data).issues}
    assert ("AK9-5", 49, "GE01") in codes  # GE01 says 3, there are 2
    assert ("IK5-23", 26, "ST02") in codes  # ST02 0001 twice in the group


def test_unknown_version_is_planned_out_with_a_clear_message():
    data = x12(interchange(transaction(version="005010X222A2"), version="005010X222A2"))
    plan = plan_validation(data)
    assert plan.chunks == ()
    (issue,) = plan.issues
    assert (issue.code, issue.segment, issue.element) == ("no-map", 2, "GS08")
    assert "no implementation-guide map for 005010X222A2" in issue.message


def test_a_4010_group_in_a_5010_interchange_names_the_mismatch():
    # ISA12 says 00501 but GS08 names the 4010 professional guide: pyx12 has that guide, only
    # under a 4010 envelope, so "no map" alone would send the user looking for a missing map.
    data = x12(interchange(transaction(version="004010X098A1"), version="004010X098A1"))
    (issue,) = plan_validation(data).issues
    assert (issue.code, issue.segment, issue.element) == ("no-map", 2, "GS08")
    assert issue.message.startswith("GS08 004010X098A1 is a 4010 guide but ISA12 is 00501")


def test_garbage_is_unreadable_without_pyx12():
    result = validate_bytes(b"this is not an X12 file\n")
    assert result.status is ValidationStatus.UNREADABLE
    assert result.ack_999 is None and result.chunk_count == 0
    assert result.issues[0].code == "unreadable"


# -- pyx12 ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_valid_file_exits_0_with_an_accepting_999(tmp_path):
    path = write(tmp_path, "claims.x12", VALID)
    ack = tmp_path / "claims.999"
    result = run(path, "--ack", str(ack))
    assert result.exit_code == 0, result.output + result.stderr
    assert f"{path}: valid (0 errors" in result.stdout
    text = ack.read_text()
    assert text.startswith("ISA*") and "ST*999*" in text
    assert "IK5*A~" in text and "AK9*A*1*1*1~" in text


@pytest.mark.slow
def test_wrong_se01_exits_1_and_the_999_rejects_it(tmp_path):
    path = write(tmp_path, "claims.x12", WRONG_SE01)
    ack = tmp_path / "claims.999"
    result = run(path, "--ack", str(ack))
    assert result.exit_code == 1
    assert f"{path}:{SE_POSITION}: IK5-4 " in result.stdout
    text = ack.read_text()
    assert "IK5*R*4" in text and "AK9*R*1*1*0" in text


@pytest.mark.slow
def test_bom_file_validates_and_keeps_positions(tmp_path):
    valid = run(write(tmp_path, "valid.x12", b"\xef\xbb\xbf" + VALID))
    assert valid.exit_code == 0
    assert ":1: bom warning: " in valid.stdout
    wrong = validate_bytes(b"\xef\xbb\xbf\n" + WRONG_SE01)
    errors = [(i.segment, i.code) for i in wrong.issues if i.severity is Severity.ERROR]
    assert errors == [(SE_POSITION, "IK5-4")]


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_two_interchanges_with_different_delimiters_map_back(jobs):
    first = x12(interchange(transaction()))
    # Second interchange: element '|', component '>', repetition '!', terminator newline.
    second = x12(interchange(transaction(dos="20261399"), isa13="000000002"), "|>!\n", line_break="")
    result = validate_bytes(first + second, jobs=jobs, chunk_bytes=1 if jobs > 1 else None)
    assert result.interchange_count == 2 and len(result.acks) == 2
    # Interchange 2 starts at segment 28 (27 segments before it); its ST is 30.
    dtp = 30 + DTP_OFFSET
    located = [(i.segment, i.segment_id, i.element, i.code) for i in result.issues]
    assert located == [(dtp, "DTP", "DTP03", "IK4-8")]
    assert result.status is ValidationStatus.INVALID
    first_ack, second_ack = (ack.text for ack in result.acks)
    assert "AK9*A*1*1*1~" in first_ack and "AK9*R*1*1*0~" in second_ack


@pytest.mark.slow
def test_unknown_version_exits_2_with_a_clear_message(tmp_path):
    data = x12(interchange(transaction(version="005010X222A2"), version="005010X222A2"))
    ack = tmp_path / "out.999"
    result = run(write(tmp_path, "a2.x12", data), "--ack", str(ack))
    assert result.exit_code == 2
    assert "no implementation-guide map for 005010X222A2" in result.stderr  # the cause, where check puts it
    assert "no implementation-guide map" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert not ack.exists()


@pytest.mark.slow
def test_garbage_exits_2_without_traceback_or_ack(tmp_path):
    ack = tmp_path / "out.999"
    result = run(write(tmp_path, "junk.x12", b"\x00\x01 hello\n"), "--ack", str(ack))
    assert result.exit_code == 2
    assert "junk.x12: unreadable (1 error" in result.stdout  # the verdict on stdout
    assert "junk.x12: segment 1: the input is not X12" in result.stderr  # the cause on stderr, as check
    assert "not X12" not in result.stdout
    jsonl = run("--format", "jsonl", str(tmp_path / "junk.x12"))
    assert "junk.x12: segment 1: the input is not X12" in jsonl.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not ack.exists()


@pytest.mark.slow
def test_stdin_and_the_worst_exit_code_wins(tmp_path):
    acks = tmp_path / "acks"
    result = run("-", write(tmp_path, "bad.x12", WRONG_SE01), "--ack", str(acks), input=VALID)
    assert result.exit_code == 1
    assert "<stdin>: valid" in result.stdout
    assert sorted(p.name for p in acks.iterdir()) == ["bad.x12.999", "stdin.999"]
    worst = run(write(tmp_path, "ok.x12", VALID), write(tmp_path, "junk.x12", b"junk"))
    assert worst.exit_code == 2


@pytest.mark.slow
def test_non_ascii_is_reported_on_the_element_without_the_value():
    result = validate_bytes(x12(interchange(transaction(name="JOSÉ"))))
    (issue,) = result.issues
    assert (issue.segment, issue.element, issue.code) == (15, "NM103", "IK4-6")
    assert "JOS" not in issue.message
    # The 999 echoes the bad bytes as they came in (latin-1 round trip).
    assert "JOSÉ".encode() in result.ack_999.encode("latin-1")


@pytest.mark.slow
def test_a_835_reports_its_errors_even_when_pyx12_cannot_build_the_999(tmp_path):
    # pyx12 4.0.0 raises inside its 999 writer for an 835 without ST03 and swallows it.
    remit = [
        "ST*835*0001",
        "BPR*I*100*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20261399",
        "TRN*1*12345*1512345678",
        "DTM*405*20260110",
        "N1*PR*SYNTHETIC PAYER",
        "N3*1 PAYER WAY",
        "N4*ANYTOWN*CA*900010001",
        "PER*BL*TECH DESK*TE*5555550199",
        "N1*PE*SYNTHETIC THERAPY*XX*1234567893",
        "LX*1",
        "CLP*PCN1001*1*100*100**MB*CLAIM1*11*1",
        "NM1*QC*1*PATIENT*TEST****MI*SYN000001",
        "SVC*HC:97110:GP*100*100**2",
        "DTM*472*20260102",
        "SE*15*0001",
    ]
    isa = ISA.format(isa13="000000009")
    gs = "GS*HP*PAYER*RECEIVER*20260110*1200*9*X*005010X221A1"
    data = x12([isa, gs, *remit, "GE*1*9", "IEA*1*000000009"])
    ack = tmp_path / "remit.999"
    result = run(write(tmp_path, "remit.835", data), "--ack", str(ack))
    assert result.exit_code == 1
    assert ":4: IK4-8 " in result.stdout  # BPR16 is not a date; segment 4 of the file
    assert "no 999" in result.stderr and "Traceback" not in result.stderr
    assert not ack.exists()


@pytest.mark.slow
def test_jobs_2_gives_the_same_issues_as_jobs_1(tmp_path):
    data = x12(
        interchange(
            transaction("0001"),
            transaction("0002", se01=5),
            transaction("0003", dos="20260230"),
            transaction("0003"),
            ge01=5,
        )
    )
    one = validate_bytes(data, jobs=1)
    two = validate_bytes(data, jobs=2, chunk_bytes=1)
    assert two.chunk_count == 4 and one.chunk_count == 1
    assert one.issues == two.issues
    assert {i.code for i in one.issues} == {"IK5-4", "IK4-8", "IK5-23", "AK9-5"}
    assert one.status is two.status is ValidationStatus.INVALID
    # The split 999 is the one pyx12 writes for the whole interchange, but for the
    # envelope's dates and control numbers (ISA, GS, GE, IEA).
    assert ack_body(two.ack_999) == ack_body(one.ack_999)
    assert sum(line.startswith("AK2*837*") for line in ack_body(one.ack_999)) == 4
    assert "IK5*R*23~" in one.ack_999 and "AK9*R*5*4*1*5~" in one.ack_999
    path = write(tmp_path, "four.x12", data)
    assert run(path, "--jobs", "2").stdout == run(path).stdout


@pytest.mark.slow
def test_json_output(tmp_path):
    import json

    result = run(write(tmp_path, "bad.x12", WRONG_SE01), "--format", "json")
    report = json.loads(result.stdout)["files"][0]
    assert report["status"] == "invalid"
    first = report["issues"][0]
    assert (first["segment"], first["segment_id"], first["code"], first["severity"]) == (SE_POSITION, "SE", "IK5-4", "error")


@pytest.mark.slow
def test_validate_chunk_turns_pyx12_failures_into_values():
    outcome = validate_chunk("ISA*00*short~")
    assert not outcome.accepted and outcome.failure.startswith("pyx12 cannot read the interchange")


# -- public samples ---------------------------------------------------------------------------------
def manifest() -> list[tuple[str, str]]:
    if not (SAMPLES / "MANIFEST.tsv").is_file():
        return []
    with open(SAMPLES / "MANIFEST.tsv", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return [(row["file"], row["pyx12_4.0.0_validation"]) for row in rows]


EXPECTED_STATUS = {
    "OK": ValidationStatus.VALID,
    "FAIL": ValidationStatus.INVALID,
    "EXC": ValidationStatus.UNREADABLE,
}
#: Big enough to cost seconds in pyx12; the small samples cover the same ground.
SLOW_SAMPLES = ("837p_imsweb_many_claims.txt",)


@needs_samples
@pytest.mark.slow
@pytest.mark.parametrize("name, verdict", [row for row in manifest() if row[0] not in SLOW_SAMPLES] or [("-", "OK")])
def test_our_verdict_agrees_with_pyx12_on_the_public_samples(name, verdict):
    result = validate_bytes((SAMPLES / name).read_bytes())
    assert result.status is EXPECTED_STATUS[verdict.split()[0]], [i.code for i in result.issues]


@needs_samples
@pytest.mark.slow
def test_public_835_with_errors_and_no_999():
    result = validate_bytes((SAMPLES / "835_lfh_managed_care.835").read_bytes())
    located = [(i.segment, i.element, i.code) for i in result.issues]
    assert located == [(4, "BPR16", "IK4-8"), (10, None, "IK3-3")]
    assert result.ack_999 is None and "failed to build the 999" in result.notes[0]


# -- pyx12's maps are loaded once per process (issue 12) ----------------------------------------
def many_interchanges(count: int, *, bad_every: int = 3) -> bytes:
    """``count`` interchanges of one transaction each, every ``bad_every``-th with a wrong SE01."""
    parts = []
    for n in range(1, count + 1):
        tx = transaction(se01=22) if n % bad_every == 0 else transaction()
        parts.append(x12(interchange(tx, isa13=f"{n:09d}", gs06=str(n))))
    return b"".join(parts)


@pytest.mark.slow
def test_each_pyx12_map_is_loaded_once_for_many_interchanges(monkeypatch):
    import pyx12.map_if
    import pyx12.map_index

    from edi_rehab import validate

    original_load, original_index = pyx12.map_if.load_map_file, pyx12.map_index.map_index
    loads: list[str] = []

    def counting_load(map_file, param, map_path=None):
        loads.append(map_file)
        return original_load(map_file, param, map_path)

    monkeypatch.setattr(pyx12.map_if, "load_map_file", counting_load)
    validate._loaded_map.cache_clear()
    validate._loaded_index.cache_clear()
    data = many_interchanges(4, bad_every=2)
    cached = validate_bytes(data)
    assert sorted(set(loads)) == sorted(loads)  # the control map and the 837P map, once each
    assert cached.interchange_count == 4 and cached.chunk_count == 4
    # pyx12 is itself again outside our runs.
    assert pyx12.map_if.load_map_file is counting_load and pyx12.map_index.map_index is original_index

    # The same answers as pyx12 loading its maps afresh for every interchange.
    @contextmanager
    def fresh_maps():
        yield

    monkeypatch.setattr(validate, "_maps_loaded_once", fresh_maps)
    fresh = validate_bytes(data)
    assert cached.to_json() == fresh.to_json()
    # pyx12 numbers each 999's envelope from the clock and at random: compare what is inside.
    assert [ack_body(ack.text) for ack in cached.acks] == [ack_body(ack.text) for ack in fresh.acks]
    # Every third interchange has a wrong SE01, so the comparison covers findings too.
    assert cached.status is ValidationStatus.INVALID and len({issue.segment for issue in cached.issues}) >= 2


@pytest.mark.slow
def test_a_readme_in_a_folder_is_skipped_unless_strict(tmp_path):
    root = tmp_path / "inbox"
    root.mkdir()
    write(root, "claims.x12", VALID)
    write(root, "README.txt", b"drop 837P files here\n")
    result = run(str(root))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"{root / 'README.txt'}: not X12 (it does not start with ISA); skipped" in result.stderr
    assert "README" not in result.stdout
    assert run("--strict", str(root)).exit_code == 2
    excluded = run("--exclude", "*.txt", str(root))
    assert excluded.exit_code == 0 and "README" not in excluded.stdout + excluded.stderr
    assert run("--include", "*.txt", "--strict", str(root)).exit_code == 2


def interchange_4010() -> bytes:
    """The synthetic claim in a 004010X098A1 envelope (ISA12 00401, no ST03): pyx12 answers with a 997."""
    segments = interchange(transaction(version="004010X098A1"), version="004010X098A1")
    segments[0] = segments[0].replace("*^*00501*", "*U*00401*")
    segments = [s.removesuffix("*004010X098A1") if s.startswith("ST*") else s for s in segments]
    return x12(segments)


@pytest.mark.slow
def test_the_ack_is_named_997_when_it_is_one(tmp_path):
    ack = tmp_path / "old.ack"
    result = run(write(tmp_path, "old.x12", interchange_4010()), "--ack", str(ack))
    assert "ST*997*" in ack.read_text()
    assert f"997 written to {ack}" in result.stdout and "999" not in result.stdout
    current = run(write(tmp_path, "new.x12", VALID), "--ack", str(tmp_path / "new.ack"))
    assert "999 written to" in current.stdout


def test_ack_kind_reads_st01_with_the_interchanges_separator():
    from edi_rehab.cli.acks import ack_kind

    assert ack_kind("ISA|00|...~GS|FA|...~ST|997|0001~AK1|HC|1~") == "997"
    assert ack_kind("ISA*00*...~GS*FA*...~ST*999*0001~") == "999"
    assert ack_kind("ISA*00*...~NTE*ST*997*~ST*999*0001~") == "999"


def test_a_bad_code_value_is_shown_but_a_name_in_a_code_element_is_not():
    tx = [s.replace("SBR*P*18*******MB", "SBR*P*18*******Q9").replace("NM1*IL*1*", "NM1*IL*SMITHSON*") for s in transaction()]
    messages = {issue.element: issue.message for issue in validate_bytes(x12(interchange(tx))).issues}
    assert messages["SBR09"].startswith("(Q9) is not a valid code")  # a code: shown, as x12valid does
    assert "SMITHSON" not in " ".join(messages.values()) and "NM102" in messages


# -- every ack the tool writes is one it accepts (issue 12 item 2) ----------------------------------
#: Three interchanges, the second with a wrong SE01 (so its 999 rejects with detail), the
#: third with two transaction sets.
THREE = x12(
    interchange(transaction("0001"), isa13="000000011", gs06="11")
    + interchange(transaction("0001", se01=22), isa13="000000012", gs06="12")
    + interchange(transaction("0001"), transaction("0002"), isa13="000000013", gs06="13")
)


def pyx12_accepts(text: str) -> bool:
    """pyx12 itself, on the whole ack file as written."""
    import io

    import pyx12.params
    import pyx12.x12n_document

    return bool(pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), io.StringIO(), None, None))


def ack_numbers(text: str) -> tuple[list[str], list[str]]:
    segments = [segment.strip().split("*") for segment in text.split("~") if segment.strip()]
    isa = [s[13] for s in segments if s[0] == "ISA"]
    iea = [s[2] for s in segments if s[0] == "IEA"]
    assert isa == iea
    gs = [s[6] for s in segments if s[0] == "GS"]
    ge = [s[2] for s in segments if s[0] == "GE"]
    assert gs == ge
    return isa, gs


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["validate", "{src}", "--ack", "{ack}"],
        ["validate", "{src}", "--ack", "{ack}", "--jobs", "2"],
        ["check", "{src}", "--validate", "--ack", "{ack}"],
        ["split", "{src}", "--validate", "--ack", "{ack}", "--clean", "{dir}/c.x12", "--held", "{dir}/h.x12"],
    ],
    ids=["validate", "validate-jobs2", "check", "split"],
)
def test_every_ack_written_for_a_multi_interchange_file_validates(tmp_path, command):
    src, ack = write(tmp_path, "three.x12", THREE), tmp_path / "three.999"
    args = [part.format(src=src, ack=ack, dir=tmp_path) for part in command]
    written = CliRunner().invoke(main, args, catch_exceptions=False)
    assert written.exit_code in (0, 1), written.output
    text = ack.read_text(encoding="latin-1")
    isa13s, gs06s = ack_numbers(text)
    assert len(isa13s) == 3 and len(set(isa13s)) == 3
    assert gs06s == [str(int(n)) for n in isa13s]
    assert "IK5*R*" in text  # the second interchange's rejection is still there
    mine = run(str(ack))
    assert mine.exit_code == 0, mine.output
    assert pyx12_accepts(text)


@pytest.mark.slow
def test_two_runs_never_give_an_ack_the_same_isa13(tmp_path):
    src = write(tmp_path, "three.x12", THREE)
    run(src, "--ack", str(tmp_path / "a.999"))
    run(src, "--ack", str(tmp_path / "b.999"))
    first, second = (ack_numbers((tmp_path / name).read_text())[0] for name in ("a.999", "b.999"))
    assert not set(first) & set(second)


def test_a_damaged_counter_means_no_ack_and_exit_2(tmp_path, state_folder):
    state_folder.mkdir(parents=True)
    (state_folder / "control-numbers.json").write_text("[1, 2")
    ack = tmp_path / "out.999"
    result = run(write(tmp_path, "ok.x12", VALID), "--ack", str(ack))
    assert result.exit_code == 2
    assert "control-number state is damaged" in result.stderr and "Traceback" not in result.output
    assert not ack.exists()


def test_renumbered_ack_keeps_every_other_byte():
    from edi_rehab.cli.acks import renumbered_ack

    text = THREE.decode()
    out = renumbered_ack(text, [5, 6, 7])
    assert ack_numbers(out) == (["000000005", "000000006", "000000007"], ["5", "6", "7"])
    assert len(out) == len(text) - 6  # three GS06 and three GE02 lost a digit; ISA13 is fixed-width
    assert ack_body(out) == ack_body(text)
