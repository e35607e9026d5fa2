"""Envelope rules as data: tests/cases/rules/envelope.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("envelope")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_envelope_rule_case(case):
    verify(case)


# -- X007: what the line is read as, and no fix on a misjoined claim -------------------------------
import re  # noqa: E402

import edi_rehab  # noqa: E402
from claimkit import claim, ln  # noqa: E402
from edi_rehab.fixes import fix  # noqa: E402



def _joined(character: bytes, *claims) -> bytes:
    from claimkit import x12

    data = x12(*claims)
    return re.sub(rb"SV1\*([^*~]*)", lambda m: b"SV1*" + m.group(1).replace(b":", character), data)


def test_x007_message_says_how_the_line_was_read():
    (finding,) = [f for f in edi_rehab.check(_joined(b">", claim(ln("97110:GP", 1)))) if f.code == "X007"]
    assert "joined with '>'" in finding.message and "(ISA16) is ':'" in finding.message
    assert "read here as 97110 with GP" in finding.message
    assert finding.details == {"separator": ">", "isa16": ":", "read": True}


def test_x007_line_is_judged_as_meant():
    # 97110-59 alone: N304 (59 without a partner) and M201 (no GP) see the code and modifiers
    codes = {f.code for f in edi_rehab.check(_joined(b">", claim(ln("97110:59", 1))))}
    assert {"X007", "M201", "N304"} <= codes


def test_no_fix_on_a_claim_with_a_misjoined_sv101():
    data = _joined(b">", claim(ln("97110:59", 1)))
    result = fix(data, unsafe=True)
    assert result.data == data
    assert not result.applied
    reasons = {w.finding.code: w.reason for w in result.unfixable}
    assert "X007" in reasons["M201"]
