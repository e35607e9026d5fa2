"""Ncci rules as data: tests/cases/rules/ncci.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("ncci")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_ncci_rule_case(case):
    verify(case)


# -- issue 10 item 5: pairs whose column order the built-in map has not verified ---------------
import edi_rehab  # noqa: E402
from claimkit import D1, claim, ln, minutes_csv, x12  # noqa: E402
from edi_rehab.findings import Applicability  # noqa: E402

_NCCI = {c.id: c for c in CASES}
EDIT_530_116 = _NCCI["N301::fail_cms_file_confirms_an_unverified_order"].options["ncci"]


def _findings(code, *lines, **options):
    return [f for f in edi_rehab.check(x12(claim(*lines)), **options) if f.code == code]


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        ("N301", (ln("97530:GP", 1), ln("97116:GP", 1))),
        ("N303", (ln("97530:59:GP", 1), ln("97116:GP", 1))),
    ],
)
def test_unverified_order_says_so_and_names_the_cms_file(code, lines):
    (finding,) = _findings(code, *lines)
    assert "column order for 97530/97116 is unverified" in finding.message
    assert "--ncci-file" in finding.message
    assert finding.details["order_confidence"] == "M"


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        ("N301", (ln("97530:GP", 1), ln("97116:GP", 1))),
        ("N303", (ln("97530:59:GP", 1), ln("97116:GP", 1))),
    ],
)
def test_cms_file_row_carries_no_unverified_note(code, lines):
    (finding,) = _findings(code, *lines, ncci=EDIT_530_116)
    assert "unverified" not in finding.message
    assert finding.details["order_confidence"] == "V"


def test_verified_order_carries_no_unverified_note():
    (finding,) = _findings("N301", ln("97140:GP", 1), ln("97530:GP", 1))
    assert "unverified" not in finding.message


def test_fix_on_an_unverified_pair_stays_unsafe():
    minutes = minutes_csv(("PCN1", 1, 15, "97530", D1, "0900-0915"), ("PCN1", 2, 15, "97116", D1, "0915-0930"))
    (finding,) = _findings("N301", ln("97530:GP", 1), ln("97116:GP", 1), minutes=minutes)
    assert finding.severity.value == "warning"
    assert finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE
