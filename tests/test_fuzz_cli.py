"""Mutation fuzzing of every command that reads X12 (issues 12 and 16).

Each example takes a committed fixture (or a public sample, when present), mutates it as
a damaged transfer or a careless generator would (bytes cut, inserted or duplicated;
numbers made huge, negative, empty or non-ASCII; separators swapped) and runs the command
in-process. Whatever the input, the command must end with exit 0, 1 or 2, print no
traceback, and keep patient names and member ids out of stderr.

Bounded and derandomized, so CI runs the same examples every time; raise
``EDI_REHAB_FUZZ_EXAMPLES`` to search harder locally.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, mue_csv, sample_files
from edi_rehab.cli import main

EXAMPLES = int(os.environ.get("EDI_REHAB_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

CLAIM_FILES = [FIXTURES / name for name in ("sample-837p.x12", "every-defect-837p.x12", "multi-interchange-837p.x12")]
REMIT_FILES = [FIXTURES / name for name in ("sample-835.x12", "sample-835-variants.x12")]
PUBLIC = [path for path in sample_files() if path.stat().st_size < 200_000 and path.read_bytes()[:3] == b"ISA"]

#: Values that once broke a number reader somewhere (issue 16, item 1).
HOSTILE_NUMBERS = [
    b"1e999999999", b"-1e999999999", b"9" * 40, b"-0", b"", b"NaN", b"Infinity", b"\xb2", b"1,000",
    b"0.0000000000000000001", b"+5", b" 5", b"5.", b"-48", b"10" * 9, b"\xef\xbc\x95",
]


def _segments(data: bytes) -> tuple[bytes, bytes, list[bytes]]:
    terminator = data[105:106] if data.startswith(b"ISA") and len(data) > 106 else b"~"
    element = data[3:4] if data.startswith(b"ISA") else b"*"
    return terminator, element, data.split(terminator)


@st.composite
def mutated(draw, sources: list[Path]) -> bytes:
    """A source file with one to three mutations."""
    data = draw(st.sampled_from(sources)).read_bytes()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["number", "number", "cut", "insert", "duplicate", "drop", "separator"]))
        terminator, element, segments = _segments(data)
        if kind == "number" and len(segments) > 2:
            index = draw(st.integers(1, len(segments) - 2))
            parts = segments[index].split(element)
            if len(parts) > 1:
                at = draw(st.integers(1, len(parts) - 1))
                parts[at] = draw(st.sampled_from(HOSTILE_NUMBERS))
                segments[index] = element.join(parts)
            data = terminator.join(segments)
        elif kind == "cut" and data:
            start = draw(st.integers(0, len(data) - 1))
            data = data[:start] + data[start + draw(st.integers(1, 40)) :]
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=12)) + data[at:]
        elif kind == "duplicate" and len(segments) > 2:
            index = draw(st.integers(1, len(segments) - 2))
            segments.insert(index, segments[index])
            data = terminator.join(segments)
        elif kind == "drop" and len(segments) > 2:
            del segments[draw(st.integers(0, len(segments) - 2))]
            data = terminator.join(segments)
        elif kind == "separator" and len(data) > 106:
            at = draw(st.sampled_from([3, 82, 104, 105]))
            data = data[:at] + draw(st.sampled_from([b"|", b"^", b":", b"~", b"*", b"\n", b"A"])) + data[at + 1 :]
    return data


def names_in(data: bytes) -> set[str]:
    """Patient data in the original file: subscriber and patient names and member ids
    (NM1*IL / NM1*QC), street lines (N3) and birth dates (DMG02)."""
    found = set()
    for match in re.finditer(rb"NM1\*(?:IL|QC)\*1\*([A-Z0-9]{4,})\*([A-Z0-9]{4,})?[^~]*?\*MI\*([A-Z0-9]{4,})", data):
        found.update(value.decode() for value in match.groups() if value)
    found.update(m.group(1).decode() for m in re.finditer(rb"(?:^|~)\s*N3\*([^*~]{6,})", data))
    found.update(m.group(1).decode() for m in re.finditer(rb"(?:^|~)\s*DMG\*D8\*([0-9]{8})", data))
    return found - {"TEST"}  # a common word in messages too


def run(args: list[str], input_bytes: bytes | None = None):
    result = CliRunner().invoke(main, args, input=input_bytes, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args[0]} raised {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output[-500:])
    assert "Traceback" not in result.output, result.output[-2000:]
    return result


def assert_no_patient_data(result, originals: list[Path]) -> None:
    for path in originals:
        for name in names_in(path.read_bytes()):
            assert name not in result.stderr, f"{name!r} (from {path.name}) printed on stderr"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("EDI_REHAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


@FUZZ
@given(data=mutated(CLAIM_FILES + PUBLIC))
@pytest.mark.parametrize("command", ["show", "check", "check-json"])
def test_show_and_check_survive_mutated_files(folder, command, data):
    path = folder / "in.x12"
    path.write_bytes(data)
    args = {"show": ["show", str(path)], "check": ["check", str(path)], "check-json": ["check", "--format", "json", str(path)]}
    result = run(args[command])
    assert_no_patient_data(result, CLAIM_FILES + PUBLIC)


@FUZZ
@given(data=mutated(CLAIM_FILES))
def test_fix_survives_mutated_files_and_never_writes_half_a_file(folder, data):
    path, out = folder / "in.x12", folder / "out.x12"
    path.write_bytes(data)
    out.unlink(missing_ok=True)
    result = run(["fix", "--unsafe-fixes", str(path), "-o", str(out)])
    assert path.read_bytes() == data  # the input is never modified unless asked
    if result.exit_code == 2:
        assert not out.exists()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert_no_patient_data(result, CLAIM_FILES)


@FUZZ
@given(data=mutated(CLAIM_FILES))
def test_split_survives_mutated_files(folder, data):
    path = folder / "in.x12"
    path.write_bytes(data)
    for name in ("clean.x12", "held.x12"):
        (folder / name).unlink(missing_ok=True)
    result = run(["split", str(path), "--clean", str(folder / "clean.x12"), "--held", str(folder / "held.x12")])
    assert_no_patient_data(result, CLAIM_FILES)


@FUZZ
@given(remit=mutated(REMIT_FILES), claims=mutated([FIXTURES / "sample-837p.x12"]))
def test_match_survives_mutated_remits_and_claims(folder, remit, claims):
    remit_path, claims_path = folder / "r.835", folder / "c.x12"
    remit_path.write_bytes(remit)
    claims_path.write_bytes(claims)
    for fmt in ("text", "json"):
        result = run(["match", "--format", fmt, str(remit_path), str(claims_path)])
        assert_no_patient_data(result, [FIXTURES / "sample-837p.x12", *REMIT_FILES])


@pytest.mark.slow
@settings(FUZZ, max_examples=max(5, EXAMPLES // 4))
@given(data=mutated(CLAIM_FILES[:1]))
def test_validate_survives_mutated_files(folder, data):
    path = folder / "in.x12"
    path.write_bytes(data)
    result = run(["validate", str(path)])
    assert_no_patient_data(result, CLAIM_FILES[:1])


# -- every amount, quantity and date element, with every hostile number ------------------------
#: (file, segment id, qualifier element and value or None, element index).
NUMERIC_ELEMENTS = [
    ("sample-837p.x12", b"CLM", None, 2),  # CLM02 total charge
    ("sample-837p.x12", b"SV1", None, 2),  # SV102 line charge
    ("sample-837p.x12", b"SV1", None, 4),  # SV104 units
    ("sample-837p.x12", b"SV1", None, 7),  # SV107 diagnosis pointer
    ("sample-837p.x12", b"DTP", (1, b"472"), 3),  # DTP03 date of service
    ("sample-837p.x12", b"DMG", None, 2),  # DMG02 birth date
    ("sample-837p.x12", b"ISA", None, 9),  # ISA09 interchange date (fixed width: a bad one is unreadable)
    ("sample-837p.x12", b"BHT", None, 4),  # BHT04 creation date
    ("sample-837p.x12", b"GS", None, 4),  # GS04 date
    ("sample-837p.x12", b"GS", None, 6),  # GS06 group control number
    ("sample-837p.x12", b"HL", None, 1),  # HL01
    ("sample-837p.x12", b"LX", None, 1),  # LX01
    ("sample-837p.x12", b"SE", None, 1),  # SE01 segment count
    ("sample-835.x12", b"CLP", None, 3),  # CLP03 charge
    ("sample-835.x12", b"CLP", None, 4),  # CLP04 paid
    ("sample-835.x12", b"CLP", None, 5),  # CLP05 patient responsibility
    ("sample-835.x12", b"SVC", None, 2),  # SVC02 charge
    ("sample-835.x12", b"SVC", None, 3),  # SVC03 paid
    ("sample-835.x12", b"SVC", None, 5),  # SVC05 units paid
    ("sample-835.x12", b"CAS", None, 3),  # CAS03 amount
    ("sample-835.x12", b"CAS", None, 4),  # CAS04 quantity
    ("sample-835.x12", b"CAS", None, 6),  # CAS06 second amount
    ("sample-835.x12", b"SVC", None, 7),  # SVC07 units billed
    ("sample-835.x12", b"AMT", None, 2),  # AMT02 allowed amount
    ("sample-835.x12", b"BPR", None, 16),  # BPR16 payment date
    ("sample-835-variants.x12", b"PLB", None, 3),  # PLB03 fiscal period date
    ("sample-835-variants.x12", b"PLB", None, 4),  # PLB04 adjustment amount
    ("sample-835.x12", b"BPR", None, 2),  # BPR02 payment
    ("sample-835.x12", b"DTM", None, 2),  # DTM02 date
]


def with_every(name: str, segment_id: bytes, qualifier, index: int, value: bytes) -> bytes:
    """The fixture with ``value`` in that element of every such segment."""
    data = (FIXTURES / name).read_bytes()
    terminator, element, segments = _segments(data)
    for i, segment in enumerate(segments):
        parts = segment.lstrip(b"\r\n").split(element)
        if parts[0] != segment_id or len(parts) <= index:
            continue
        if qualifier is not None and parts[qualifier[0]] != qualifier[1]:
            continue
        lead = segment[: len(segment) - len(segment.lstrip(b"\r\n"))]
        parts[index] = value
        segments[i] = lead + element.join(parts)
    return terminator.join(segments)


@pytest.mark.parametrize("where", NUMERIC_ELEMENTS, ids=lambda w: f"{w[1].decode()}{w[3]:02d}")
def test_every_number_element_with_every_hostile_value(folder, where):
    name, segment_id, qualifier, index = where
    claims = FIXTURES / "sample-837p.x12"
    for value in HOSTILE_NUMBERS:
        data = with_every(name, segment_id, qualifier, index, value)
        assert data != (FIXTURES / name).read_bytes() or value == b""
        path = folder / name
        path.write_bytes(data)
        if name.startswith("sample-837p"):
            for args in (["check", "--format", "json", str(path)], ["show", str(path)], ["fix", "--unsafe-fixes", str(path), "-o", str(folder / "o.x12")]):
                assert_no_patient_data(run(args), [claims])
        else:
            for fmt in ("text", "json"):
                assert_no_patient_data(run(["match", "--format", fmt, str(path), str(claims)]), [claims])
            assert_no_patient_data(run(["show", str(path)]), [claims])


@pytest.mark.parametrize("column", [1, 2, 4])  # line, minutes, service_date of sample-minutes.csv
def test_every_minutes_csv_number_with_every_hostile_value(folder, column):
    claims = FIXTURES / "sample-837p.x12"
    header, *rows = (FIXTURES / "sample-minutes.csv").read_bytes().decode().splitlines()
    assert header.split(",")[column] in ("line", "minutes", "service_date")
    for value in HOSTILE_NUMBERS:
        cells = [row.split(",") for row in rows]
        for row in cells:
            row[column] = value.decode("latin-1").replace(",", "")  # a comma would only add a column
        minutes = folder / "m.csv"
        minutes.write_text("\n".join([header, *(",".join(row) for row in cells)]) + "\n", encoding="latin-1")
        for args in (
            ["check", "--format", "json", "--minutes", str(minutes), str(claims)],
            ["fix", "--unsafe-fixes", "--minutes", str(minutes), str(claims), "-o", str(folder / "o.x12")],
        ):
            assert_no_patient_data(run(args), [claims])


def test_the_fuzz_knows_the_patient_names_it_guards():
    # The no-PHI assertions above mean something only if names are found in the sources.
    for path in CLAIM_FILES + REMIT_FILES:
        assert len(names_in(path.read_bytes())) >= 2, path.name


# -- hostile side inputs: CSV cells over the csv module's limit, TOML, zip archives (issue 12) --
@pytest.mark.parametrize(
    "option, name, text, message",
    [
        ("--mue-file", "mue.csv", mue_csv(['"' + "B" * 200_000 + '","2","3 Date","x"']).decode("latin-1"), "unreadable CSV: field larger than field limit"),
        ("--config", "deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n", "invalid TOML: arrays or tables nested too deeply"),
        ("--config", "big.toml", "[fix]\nmax_units_per_line = " + "9" * 5000 + "\n", "invalid TOML: a value cannot be read"),
        ("--minutes", "m.csv", 'claim_id,line,minutes\n"' + "A" * 200_000 + '",1,30\n', None),
    ],
    ids=["mue-cell", "toml-depth", "toml-int", "minutes-cell"],
)
def test_hostile_side_files_are_usage_errors_or_bad_rows_never_tracebacks(folder, option, name, text, message):
    side = folder / name
    side.write_text(text)
    result = run(["check", option, str(side), str(FIXTURES / "sample-837p.x12")])
    if message is None:  # a minutes row the csv module cannot read is a bad row (U109)
        assert result.exit_code in (1, 2)
    else:
        assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("option", ["--carc-file", "--rarc-file"])
def test_a_code_list_cell_over_the_csv_limit_is_a_usage_error(folder, option):
    codes = folder / "codes.csv"
    codes.write_text('code,description\n1,"' + "C" * 200_000 + '"\n')
    result = run(["match", option, str(codes), str(FIXTURES / "sample-835.x12"), str(FIXTURES / "sample-837p.x12")])
    assert result.exit_code == 2 and "codes.csv:2: unreadable CSV" in result.stderr


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return path


@pytest.mark.parametrize("option", ["--ncci-file", "--mue-file"])
def test_zip_archives_are_capped_and_path_like_members_refused(folder, monkeypatch, option):
    from edi_rehab import cms_files

    claims = str(FIXTURES / "sample-837p.x12")
    monkeypatch.setattr(cms_files, "ZIP_MAX_EXPANDED_BYTES", 50_000)
    bomb = _zip(folder / "bomb.zip", {"a.txt": b"0" * 200_000, "a.csv": b"0" * 200_000})
    result = run(["check", option, str(bomb), claims])
    assert result.exit_code == 2 and "zip expands to more than" in result.stderr
    escape = _zip(folder / "escape.zip", {"../evil.txt": b"x", "../evil.csv": b"x"})
    result = run(["check", option, str(escape), claims])
    assert result.exit_code == 2 and "is a path out of the archive; refused" in result.stderr
    monkeypatch.setattr(cms_files, "ZIP_MAX_MEMBERS", 3)
    many = _zip(folder / "many.zip", {f"m{i}.txt": b"x" for i in range(5)})
    result = run(["check", option, str(many), claims])
    assert result.exit_code == 2 and "zip holds 5 entries" in result.stderr
