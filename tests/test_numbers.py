"""Numbers read from X12 elements through one guarded reader (issue 16, item 1).

A value such as ``1e999999999`` in an amount or a quantity used to read as a Decimal that
overflowed the first sum it entered (``decimal.Overflow``, a traceback and exit 1). Every
element named in the issue is mutated here, through the API and through the CLI: the value
reads as "not a number", the 837P side reports it as a finding (C401, U112) and the 835 side
as a warning naming the segment; no exception, no traceback, the usual exit codes.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import FIXTURES
from matchkit import run as match_run

import edi_rehab
from edi_rehab.claims import amount_cents, parse_amount
from edi_rehab.remits import read_remittance
from edi_rehab.x12 import parse
from edi_rehab.x12.numbers import MAX_DIGITS, decimal_number

HUGE = "1e999999999"
CLAIMS = (FIXTURES / "sample-837p.x12").read_text("latin-1")
REMIT = (FIXTURES / "sample-835.x12").read_text("latin-1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150", Decimal("150")),
        ("150.00", Decimal("150.00")),
        ("-5.5", Decimal("-5.5")),
        (".5", Decimal("0.5")),
        ("0", Decimal("0")),
        ("9" * MAX_DIGITS, Decimal("9" * MAX_DIGITS)),
        ("-" + "9" * 9 + "." + "9" * 9, Decimal("-999999999.999999999")),  # sign and point do not count
    ],
)
def test_decimal_number_reads_r_type_values(text, expected):
    assert decimal_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        HUGE, "1E5", "1e-999999999", "NaN", "Infinity", "-Infinity", "sNaN", "", "-", ".", "1.", "--1", "+1",
        " 1", "1 ", "1_000", "1,000", "١٢", "9" * (MAX_DIGITS + 1), "0." + "0" * MAX_DIGITS, "1.2.3", "12-",
    ],
)
def test_decimal_number_refuses_what_is_not_an_r_value(text):
    assert decimal_number(text) is None
    assert parse_amount(text) is None
    assert amount_cents(text) is None


def test_decimal_number_honours_a_smaller_element_size():
    assert decimal_number("9" * 15, max_digits=15) == Decimal("9" * 15)
    assert decimal_number("9" * 16, max_digits=15) is None


# -- 837P: SV102, SV104 and CLM02 ----------------------------------------------------------------
MUTANTS_837 = {
    "SV102": ("SV1*HC:97166:GO*165*", f"SV1*HC:97166:GO*{HUGE}*", "C401", 24),
    "SV104": ("SV1*HC:97166:GO*165*UN*1*", f"SV1*HC:97166:GO*165*UN*{HUGE}*", "U112", 24),
    "CLM02": ("CLM*PCN000001*322*", f"CLM*PCN000001*{HUGE}*", "C401", 21),
}


def _mutant_837(element: str) -> bytes:
    old, new, _, _ = MUTANTS_837[element]
    assert old in CLAIMS
    return CLAIMS.replace(old, new, 1).encode("latin-1")


@pytest.mark.parametrize("element", sorted(MUTANTS_837))
def test_huge_837_value_is_a_finding_through_the_api(element):
    _, _, code, segment = MUTANTS_837[element]
    findings = edi_rehab.check(_mutant_837(element))
    assert (code, segment) in {(f.code, f.segment) for f in findings}
    result = edi_rehab.fix(_mutant_837(element), unsafe=True)
    assert HUGE.encode() in result.data  # a value that is not a number is never rewritten on a guess


@pytest.mark.parametrize("element", sorted(MUTANTS_837))
@pytest.mark.parametrize("command", [["check"], ["fix", "--unsafe-fixes"]])
def test_huge_837_value_is_a_finding_through_the_cli(run, files, tmp_path, element, command):
    _, _, code, segment = MUTANTS_837[element]
    path = files("claims.x12", _mutant_837(element))
    args = [*command, path] + (["-o", str(tmp_path / "out.x12")] if command[0] == "fix" else [])
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert f":{segment}: error {code} " in result.output  # PATH:SEGMENT: SEVERITY CODE ...
    assert "Overflow" not in result.output


def test_huge_sv104_with_mj_basis_is_no_minutes():
    from edi_rehab.minutes import minutes_from_mj

    assert minutes_from_mj("MJ", HUGE) is None
    assert minutes_from_mj("MJ", "9" * (MAX_DIGITS + 1)) is None
    assert minutes_from_mj("MJ", "38") == 38


# -- 835: SVC02, SVC03, CLP03, CLP04, CAS03 ------------------------------------------------------
MUTANTS_835 = {
    "SVC02": ("SVC*HC:97166:GO*165*", f"SVC*HC:97166:GO*{HUGE}*", 16),
    "SVC03": ("SVC*HC:97166:GO*165*81.84", f"SVC*HC:97166:GO*165*{HUGE}", 16),
    "CLP03": ("CLP*PCN000001*1*322*", f"CLP*PCN000001*1*{HUGE}*", 13),
    "CLP04": ("CLP*PCN000001*1*322*159.71", f"CLP*PCN000001*1*322*{HUGE}", 13),
    "CAS03": ("CAS*CO*45*62.7", f"CAS*CO*45*{HUGE}", 18),
}


def _mutant_835(element: str, value: str = HUGE) -> bytes:
    old, new, _ = MUTANTS_835[element]
    assert old in REMIT
    return REMIT.replace(old, new.replace(HUGE, value), 1).encode("latin-1")


@pytest.mark.parametrize("element", sorted(MUTANTS_835))
def test_huge_835_value_is_a_warning_through_the_api(element):
    _, _, segment = MUTANTS_835[element]
    data = _mutant_835(element)
    remit = read_remittance(next(parse(data).transactions()))
    assert [(w.kind, w.segment) for w in remit.warnings] == [("not-an-amount", segment)]
    assert remit.warnings[0].message.startswith(f"{element} '1e999999999'")
    result = match_run(data, CLAIMS.encode("latin-1"))  # used to raise decimal.Overflow
    assert len(result.rows) == 16
    assert all(p.segment != segment for p in result.balance)  # no sum is made with it


def test_the_warning_quotes_only_the_start_of_a_long_value():
    data = _mutant_835("SVC03", "1e" + "9" * 5000)
    [warning] = read_remittance(next(parse(data).transactions())).warnings
    assert len(warning.message) < 80 and "..." in warning.message


@pytest.mark.parametrize("element", sorted(MUTANTS_835))
@pytest.mark.parametrize("command", ["match", "appeal"])
def test_huge_835_value_is_a_warning_through_the_cli(run, files, tmp_path, element, command):
    _, _, segment = MUTANTS_835[element]
    remit = files("remit.x12", _mutant_835(element))
    claims = files("claims.x12", CLAIMS)
    extra = ["-o", str(tmp_path / "appeals")] if command == "appeal" else []
    result = run(command, remit, claims, *extra)
    assert result.exit_code == 0, result.output
    assert f"remit.x12:{segment}: {element} '1e999999999' is not an X12 number" in result.stderr


@pytest.mark.parametrize("element", sorted(MUTANTS_835))
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_show_lists_a_huge_835_value_with_its_warning(run, files, element, output_format):
    _, _, segment = MUTANTS_835[element]
    result = run("show", files("remit.x12", _mutant_835(element)), "--format", output_format)
    assert result.exit_code == 0, result.output
    assert f"{element} '1e999999999' is not an X12 number" in result.output
    if output_format == "text":
        assert f"warning: segment {segment}: " in result.output


@pytest.mark.parametrize("element", ["SVC02", "SVC03"])
@pytest.mark.parametrize("value", ["", "ABC"])
def test_show_text_lists_an_empty_or_non_numeric_svc_amount(run, files, element, value):
    # text mode used to crash formatting None; json was fine
    result = run("show", files("remit.x12", _mutant_835(element, value)))
    assert result.exit_code == 0, result.output
    assert "charge        ?" in result.output if element == "SVC02" else "paid        ?" in result.output
    assert ("is not an X12 number" in result.output) == bool(value)
