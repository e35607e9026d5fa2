"""Units and minutes rules (U101-U113) as data, plus every published 8-minute example end to end."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("units")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_unit_rule_case(case):
    verify(case)


# -- every published 8-minute example, end to end ---------------------------------------------
import csv  # noqa: E402
from pathlib import Path  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import edi_rehab  # noqa: E402
from claimkit import D1, D2, claim, ln, minutes_csv, x12  # noqa: E402

UNIT_CODES = {"U101", "U102", "U103", "U104"}


def read_examples() -> list[dict[str, str]]:
    text = (Path(__file__).parent / "cases" / "eight_minute_examples.tsv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(rows, delimiter="\t"))


EXAMPLES = read_examples()


def pairs(text: str) -> list[tuple[str, int]]:
    return [(key, int(value)) for key, value in (item.split("=") for item in text.split())]


def build(minutes: list[tuple[str, int]], units: dict[str, int], dos: str = D1, first_lx: int = 1):
    """Lines for the billed services (units > 0), minutes rows for all: unbilled services
    get a row without a line, as a minutes export records them."""
    lines, rows = [], []
    for key, mins in minutes:
        code, _, part = key.partition("+")
        if units.get(key, 0) > 0:
            lines.append(ln(f"{code}:{part}:GP" if part else f"{code}:GP", units[key], dos))
            rows.append(("PCN1", first_lx + len(lines) - 1, mins))
        else:
            rows.append(("PCN1", None, mins, code, dos))
    return lines, rows


def unit_codes(lines, rows, method) -> list[str]:
    findings = edi_rehab.check(x12(claim(*lines)), minutes=minutes_csv(*rows), unit_method=method)
    return sorted(f.code for f in findings if f.code in UNIT_CODES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_published_example_billed_as_published_is_clean(example):
    minutes = pairs(example["minutes"])
    for allocation in example["allocations"].split(" | "):
        lines, rows = build(minutes, dict(pairs(allocation)))
        findings = edi_rehab.check(x12(claim(*lines)), minutes=minutes_csv(*rows), unit_method=example["method"])
        # Units, modifiers and claim data are clean; an NCCI pair (97140 with 97530) may fire.
        assert [f.code for f in findings if f.code[0] != "N"] == [], (allocation, [(f.code, f.message) for f in findings])


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_published_example_one_unit_over_is_u101(example):
    minutes = pairs(example["minutes"])
    units = dict(pairs(example["allocations"].split(" | ")[0]))
    key = max(units, key=lambda k: (units[k], -list(units).index(k)))
    units[key] += 1
    lines, rows = build(minutes, units)
    assert unit_codes(lines, rows, example["method"]) == ["U101"]


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if int(e["allowed_total"]) > 0], ids=lambda e: e["id"]
)
def test_published_example_one_unit_short_is_u102(example):
    minutes = pairs(example["minutes"])
    units = dict(pairs(example["allocations"].split(" | ")[0]))
    key = max(units, key=lambda k: units[k])
    units[key] -= 1
    lines, rows = build(minutes, units)
    assert unit_codes(lines, rows, example["method"]) == ["U102"]


def misallocations(example):
    """Bills with the allowed total that no valid allocation matches (CMS only)."""
    minutes = pairs(example["minutes"])
    valid = [dict(pairs(a)) for a in example["allocations"].split(" | ")]
    first = valid[0]
    for giver in first:
        for taker in first:
            if giver == taker or first[giver] == 0:
                continue
            bill = dict(first)
            bill[giver] -= 1
            bill[taker] += 1
            # An unbilled CQ part cannot be written as a minutes row (no modifier column).
            if bill not in valid and all(units or "+" not in key for key, units in bill.items()):
                yield minutes, bill


CMS_MISALLOCATED = [
    (e["id"], m, bill) for e in EXAMPLES if e["method"] == "cms" for m, bill in misallocations(e)
]


@pytest.mark.parametrize("example_id,minutes,bill", CMS_MISALLOCATED, ids=[f"{i}-{sorted(b.items())}" for i, _, b in CMS_MISALLOCATED])
def test_published_example_moved_unit_is_u103(example_id, minutes, bill):
    lines, rows = build(minutes, bill)
    assert unit_codes(lines, rows, "cms") == ["U103"]


def test_every_published_example_is_covered():
    ids = {e["id"] for e in EXAMPLES}
    assert {"cms_ex1_24_23", "cms_ex2_20_20", "cms_ex3_33_7", "cms_ex4_18_13_10_8", "cms_ex5_7_7_7"} <= ids
    assert len(CMS_MISALLOCATED) >= 5


# -- shuffled lines, untimed lines mixed in, several dates ------------------------------------
UNTIMED = [("97161:GP", 1, 45), ("97010:GP", 1, 10), ("G0283:GP", 1, 20), ("97150:GP", 1, 30)]
CMS_EX1 = [("97112:GP", 2, 24), ("97110:GP", 1, 23)]  # billed as published
CMS_EX3_OVER = [("97110:GP", 3, 33), ("97140:GP", 1, 7)]  # U101


def claim_from(items):
    """items: (code, units, minutes, dos); LX follows the order given."""
    lines = [ln(code, units, dos) for code, units, _, dos in items]
    rows = [("PCN1", n, minutes) for n, (_, _, minutes, _) in enumerate(items, start=1)]
    return claim(*lines), minutes_csv(*rows)


@settings(max_examples=60, deadline=None)
@given(
    st.permutations(
        [(c, u, m, D1) for c, u, m in CMS_EX1]
        + [(c, u, m, D2) for c, u, m in CMS_EX3_OVER]
        + [(c, u, m, D1) for c, u, m in UNTIMED[:2]]
        + [(c, u, m, D2) for c, u, m in UNTIMED[2:]]
    )
)
def test_shuffled_multi_date_claim_judges_each_date(items):
    spec, csv_text = claim_from(items)
    findings = [f for f in edi_rehab.check(x12(spec), minutes=csv_text) if f.code in UNIT_CODES]
    assert [f.code for f in findings] == ["U101"]
    # it points at a line of the over-billed date, never at an untimed line
    flagged = items[findings[0].line - 1]
    assert flagged[3] == D2 and flagged[0] in {"97110:GP", "97140:GP"}
    assert findings[0].details["lines"] == sorted(
        n for n, item in enumerate(items, start=1) if item[3] == D2 and item[0] in {"97110:GP", "97140:GP"}
    )


@pytest.mark.parametrize("filing,named", [("CI", True), ("MB", False)])
def test_default_profile_names_the_method_that_judged_the_units(filing, named):
    spec = claim(ln("97110:GP", 1), ln("97140:GP", 1), ln("97530:GP", 1), filing=filing)
    minutes = minutes_csv(("PCN1", 1, 8), ("PCN1", 2, 8), ("PCN1", 3, 8))
    (finding,) = [f for f in edi_rehab.check(x12(spec), minutes=minutes) if f.code == "U101"]
    assert ("judged by the CMS total-minutes method of the default profile" in finding.message) == named
    assert finding.details["profile"] == ("default" if named else "medicare")


def test_u107_target_splits_a_cq_line_by_the_assistant_procedure():
    # PT 20 on 97110-GP x1 (UN), PTA 18 minutes billed in MJ on 97110-CQ-GP: the code's 38
    # minutes are 3 units, GP 1 + CQ 2 (the last 5 + 3 minutes carry CQ), so the MJ line
    # should carry 2 units; keeping the parts apart gave the CQ line only 1.
    data = x12(claim(ln("97110:GP", 1, note="MIN 20"), ln("97110:CQ:GP", 18, basis="MJ"), filing="MB"))
    found = [f for f in edi_rehab.check(data, minutes=None) if f.code == "U107"]
    assert [f.details["units"] for f in found] == [2]
