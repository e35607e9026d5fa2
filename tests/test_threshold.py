"""The therapy threshold arithmetic (edi_rehab.threshold): the interface a ledger calls with
the year's allowed amounts, and the shipped amounts it reads from maps/payers.xml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from edi_rehab.mapdata import load_maps
from edi_rehab.threshold import OT, PT_SLP, ThresholdLine, assess_buckets, bucket_of

THRESHOLDS = load_maps().therapy_thresholds


def line(ref, bucket=PT_SLP, day=date(2026, 3, 2), amount="100", kx=False) -> ThresholdLine:
    return ThresholdLine(ref, bucket, day, Decimal(amount), kx)


def test_shipped_amounts_by_year():
    # reference 4.2: 2019, 2021-2026; no 2020 amount; review $3,000 for 2024-2027
    assert {year: (t.pt_slp, t.ot, t.review) for year, t in THRESHOLDS.items()} == {
        2019: (2040, 2040, None),
        2021: (2110, 2110, None),
        2022: (2150, 2150, None),
        2023: (2230, 2230, None),
        2024: (2330, 2330, 3000),
        2025: (2410, 2410, 3000),
        2026: (2480, 2480, 3000),
        2027: (None, None, 3000),
    }
    assert all(t.confidence == "V" and t.sources for t in THRESHOLDS.values())


@pytest.mark.parametrize("discipline, bucket", [("PT", PT_SLP), ("SLP", PT_SLP), ("OT", OT), ("", None), ("AT", None)])
def test_pt_and_slp_share_a_bucket_ot_has_its_own(discipline, bucket):
    assert bucket_of(discipline) == bucket


# (year-to-date allowed before the lines, the lines, expected missing-KX refs, expected review line)
CASES = {
    "claim alone under the threshold": ({}, [line(1, amount="2400")], [], None),
    "claim alone passes it on its second line": ({}, [line(1, amount="2400"), line(2, amount="100")], [2], None),
    "year to date takes the first line over": ({(2026, PT_SLP): Decimal("2450")}, [line(1, amount="50")], [1], None),
    "exactly at the threshold is not above it": ({(2026, PT_SLP): Decimal("2430")}, [line(1, amount="50")], [], None),
    "KX on the lines past it": ({(2026, PT_SLP): Decimal("2450")}, [line(1, amount="50", kx=True)], [], None),
    "the OT year to date says nothing of PT": ({(2026, OT): Decimal("5000")}, [line(1, amount="50")], [], None),
    "review amount crossed by the second line": (
        {(2026, PT_SLP): Decimal("2900")},
        [line(1, amount="50", kx=True), line(2, amount="80", kx=True)],
        [],
        2,
    ),
    "review passed before these lines": ({(2026, PT_SLP): Decimal("3100")}, [line(1, amount="50", kx=True)], [], None),
    "lines added by date, not by position": (
        {},
        [line(1, day=date(2026, 3, 9), amount="100"), line(2, day=date(2026, 3, 2), amount="2400")],
        [1],
        None,
    ),
    "a year without an amount is not judged": ({}, [line(1, day=date(2020, 5, 1), amount="9000")], [], None),
}


@pytest.mark.parametrize("name", CASES)
def test_assess_buckets(name):
    year_to_date, lines, missing, review_at = CASES[name]
    [result] = [r for r in assess_buckets(lines, THRESHOLDS, year_to_date) if r.bucket == PT_SLP]
    assert [x.ref for x in result.missing_kx] == missing
    assert (result.review_crossed_at.ref if result.review_crossed_at else None) == review_at
    assert result.after == result.before + sum(x.amount for x in lines)


def test_one_assessment_per_year_and_bucket_in_order():
    lines = [
        line(1, OT, date(2026, 1, 5)),
        line(2, PT_SLP, date(2025, 12, 29)),
        line(3, PT_SLP, date(2026, 1, 5)),
    ]
    results = assess_buckets(lines, THRESHOLDS, {(2025, PT_SLP): Decimal("1000")})
    assert [(r.year, r.bucket, r.before, r.threshold) for r in results] == [
        (2025, PT_SLP, Decimal("1000"), 2410),
        (2026, OT, Decimal("0"), 2480),
        (2026, PT_SLP, Decimal("0"), 2480),
    ]
