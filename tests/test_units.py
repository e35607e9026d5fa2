"""The 8-minute rule: published examples as data, verdicts as data, invariants as properties."""

from __future__ import annotations

import csv
from collections.abc import Hashable
from dataclasses import dataclass
from math import comb
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from edi_rehab.units import (
    UnitAssessment,
    assess,
    assistant_units,
    closest_allocation,
    cms_allocations,
    cms_allowed_total,
    per_code_units,
    units_for_minutes,
)

CASES = Path(__file__).parent / "cases"


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of a tab-separated table in tests/cases; lines starting with # are notes."""
    text = (CASES / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def service_key(text: str) -> Hashable:
    """``97110`` is the code; ``97110+CQ`` is the CQ-split key ``("97110", "CQ")``."""
    return tuple(text.split("+")) if "+" in text else text


def counts(text: str) -> dict[Hashable, int]:
    """``97110=33 97140=7`` as an ordered mapping; ``-`` is empty."""
    if text == "-":
        return {}
    pairs = (item.split("=") for item in text.split())
    return {service_key(key): int(value) for key, value in pairs}


def services(text: str) -> tuple[Hashable, ...]:
    return () if text == "-" else tuple(service_key(item) for item in text.split())


# --- the CMS chart -----------------------------------------------------------------------

CHART = read_table("unit_chart.tsv")


CHART_IDS = [f"{b['units']}u_{b['from_minutes']}-{b['through_minutes']}min" for b in CHART]


@pytest.mark.parametrize("band", CHART, ids=CHART_IDS)
def test_units_for_minutes_follows_the_cms_chart(band: dict[str, str]) -> None:
    units = int(band["units"])
    for minutes in range(int(band["from_minutes"]), int(band["through_minutes"]) + 1):
        assert units_for_minutes(minutes) == units, minutes


def test_chart_bands_leave_no_gaps() -> None:
    # The 15N-7 .. 15N+7 bands tile the line; check the table itself says so for 0..8 units.
    contiguous = [b for b in CHART if int(b["units"]) <= 9]
    for lower, upper in zip(contiguous, contiguous[1:]):
        assert int(upper["from_minutes"]) == int(lower["through_minutes"]) + 1


# --- published examples ------------------------------------------------------------------

EXAMPLES = read_table("eight_minute_examples.tsv")


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_published_example(example: dict[str, str]) -> None:
    minutes = counts(example["minutes"])
    expected = tuple(counts(part) for part in example["allocations"].split(" | "))
    allowed = int(example["allowed_total"])

    if example["method"] == "cms":
        assert cms_allowed_total(minutes) == allowed
        assert cms_allocations(minutes) == expected
        # Dict equality ignores order; the allocation keeps the caller's service order too.
        assert all(list(a) == list(minutes) for a in cms_allocations(minutes))
    else:
        (only,) = expected
        assert per_code_units(minutes) == only
        assert sum(only.values()) == allowed

    # Billing exactly a published result is never flagged under its own method.
    for allocation in expected:
        assert assess(minutes, allocation, example["method"]).verdicts == frozenset()


def test_every_method_contrast_in_the_reference_is_covered() -> None:
    ids = {e["id"] for e in EXAMPLES}
    for n in range(1, 6):
        assert any(i.startswith(f"cms_ex{n}_") for i in ids)
        assert any(i.startswith(f"spm_der_ex{n}_") for i in ids)
    assert {"aapc_3x8_cms", "aapc_3x8_per_code"} <= ids


def test_cms_ex4_counts_the_unbilled_8_minutes_toward_the_cap() -> None:
    # Without 97035's 8 minutes the day is 41 minutes: still 3 units, but the 8 minutes
    # are in the total, and the service is in every allocation with 0 units.
    minutes = {"97110": 18, "97140": 13, "97116": 10, "97035": 8}
    (allocation,) = cms_allocations(minutes)
    assert allocation["97035"] == 0
    assert cms_allowed_total(minutes) == units_for_minutes(49) == 3


# --- verdicts ----------------------------------------------------------------------------

ASSESSMENTS = read_table("unit_assessments.tsv")


@pytest.mark.parametrize("case", ASSESSMENTS, ids=[c["id"] for c in ASSESSMENTS])
def test_assess(case: dict[str, str]) -> None:
    result = assess(counts(case["minutes"]), counts(case["billed"]), case["method"])
    expected_verdicts = frozenset() if case["verdicts"] == "-" else frozenset(case["verdicts"].split(","))
    assert result.verdicts == expected_verdicts
    assert result.over == services(case["over"])
    assert result.under == services(case["under"])
    assert result.missing_minutes == services(case["missing"])


def test_assessment_ids_name_their_verdicts() -> None:
    for case in ASSESSMENTS:
        named = case["id"].split("::")[0]
        assert named == ("pass" if case["verdicts"] == "-" else case["verdicts"]), case["id"]


def test_assessment_reports_totals_and_the_closest_allocation() -> None:
    result = assess({"97110": 33, "97140": 7}, {"97110": 3, "97140": 1}, "cms")
    assert result == UnitAssessment(
        method="cms",
        allowed_total=3,
        allocations=({"97110": 2, "97140": 1},),
        billed={"97110": 3, "97140": 1},
        billed_total=4,
        closest={"97110": 2, "97140": 1},
        over=("97110",),
        under=(),
        missing_minutes=(),
        verdicts=frozenset({"U101"}),
    )


def test_billed_total_includes_services_without_minutes() -> None:
    result = assess({"97110": 30}, {"97110": 2, "97530": 1}, "cms")
    assert result.billed_total == 3
    assert result.billed == {"97110": 2}
    assert result.allowed_total == 2


def test_per_code_assessment_has_one_allocation() -> None:
    result = assess({"97110": 33, "97140": 7}, {"97110": 2}, "per-code")
    assert result.allocations == ({"97110": 2, "97140": 0},)
    assert result.allowed_total == 2
    assert result.verdicts == frozenset()


def test_assessment_is_hashable_despite_dict_fields() -> None:
    result = assess({"97110": 20}, {"97110": 1}, "cms")
    assert hash(result) == hash(assess({"97110": 20}, {"97110": 1}, "cms"))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: units_for_minutes(-1), ValueError),
        (lambda: units_for_minutes(True), TypeError),
        (lambda: units_for_minutes(8.0), TypeError),
        (lambda: cms_allocations({"97110": -5}), ValueError),
        (lambda: per_code_units({"97110": "38"}), TypeError),
        (lambda: assess({"97110": 20}, {"97110": -1}, "cms"), ValueError),
        (lambda: assess({"97110": 20}, {"97110": 1}, "rule-of-eights"), ValueError),
        (lambda: closest_allocation((), {"97110": 1}), ValueError),
    ],
    ids=[
        "negative_minutes",
        "bool_minutes",
        "float_minutes",
        "negative_minutes_in_map",
        "str_minutes",
        "negative_units",
        "unknown_method",
        "no_allocations",
    ],
)
def test_caller_errors_raise(call, error) -> None:
    with pytest.raises(error):
        call()


def test_no_services_is_one_empty_allocation() -> None:
    assert cms_allocations({}) == ({},)
    assert assess({}, {}, "cms").verdicts == frozenset()


# --- closest allocation ------------------------------------------------------------------

EX2 = cms_allocations({"97112": 20, "97110": 20})
EX5 = cms_allocations({"97112": 7, "97110": 7, "97140": 7})


@dataclass(frozen=True, slots=True)
class ClosestCase:
    id: str
    allocations: tuple[dict[str, int], ...]
    billed: dict[str, int]
    expected: dict[str, int]


CLOSEST_CASES = [
    ClosestCase("exact_match_wins", EX2, {"97112": 1, "97110": 2}, {"97112": 1, "97110": 2}),
    ClosestCase("fewest_changes", EX2, {"97112": 0, "97110": 3}, {"97112": 1, "97110": 2}),
    ClosestCase("tie_takes_first", EX2, {"97112": 2, "97110": 2}, {"97112": 2, "97110": 1}),
    ClosestCase("missing_billed_key_is_zero", EX2, {"97110": 3}, {"97112": 1, "97110": 2}),
    ClosestCase("ex5_nothing_billed_takes_first", EX5, {}, {"97112": 1, "97110": 0, "97140": 0}),
    ClosestCase("ex5_follows_the_billed_code", EX5, {"97140": 2}, {"97112": 0, "97110": 0, "97140": 1}),
    # Same distance (2): the first raises 97110 above its billed unit, the second only
    # lowers. (CMS allocations all share one total, so among them equal distance always
    # means equal raising; this tie-break matters only for other allocation sets.)
    ClosestCase(
        "prefers_lowering_to_raising",
        ({"97110": 2, "97140": 0}, {"97110": 0, "97140": 0}),
        {"97110": 1, "97140": 1},
        {"97110": 0, "97140": 0},
    ),
]


@pytest.mark.parametrize("case", CLOSEST_CASES, ids=[c.id for c in CLOSEST_CASES])
def test_closest_allocation(case: ClosestCase) -> None:
    assert closest_allocation(case.allocations, case.billed) == case.expected


def test_closest_allocation_returns_a_copy() -> None:
    chosen = closest_allocation(EX2, {"97112": 2, "97110": 1})
    chosen["97112"] = 99
    assert EX2[0]["97112"] == 2


# --- properties --------------------------------------------------------------------------

TIMED_CODES = ("97110", "97112", "97116", "97140", "97530", "97035", ("97110", "CQ"))
minutes_maps = st.dictionaries(st.sampled_from(TIMED_CODES), st.integers(0, 130), max_size=6)
PROPERTY_SETTINGS = settings(deadline=None, max_examples=200)


@PROPERTY_SETTINGS
@given(minutes_maps)
def test_every_allocation_sums_to_the_cap(minutes) -> None:
    cap = cms_allowed_total(minutes)
    assert cap == units_for_minutes(sum(minutes.values()))
    allocations = cms_allocations(minutes)
    assert allocations
    assert all(sum(a.values()) == cap for a in allocations)


@PROPERTY_SETTINGS
@given(minutes_maps)
def test_each_service_gets_its_full_units_or_one_more(minutes) -> None:
    allocations = cms_allocations(minutes)
    assert len(set(map(lambda a: tuple(a.items()), allocations))) == len(allocations)
    for allocation in allocations:
        assert allocation.keys() == minutes.keys()
        for key, m in minutes.items():
            assert allocation[key] in (m // 15, m // 15 + 1)
            if m % 15 == 0:
                assert allocation[key] == m // 15


@PROPERTY_SETTINGS
@given(minutes_maps)
def test_extra_units_go_to_the_largest_leftovers(minutes) -> None:
    for allocation in cms_allocations(minutes):
        got = [m % 15 for key, m in minutes.items() if allocation[key] > m // 15]
        passed_over = [m % 15 for key, m in minutes.items() if allocation[key] == m // 15 and m % 15]
        if got and passed_over:
            assert min(got) >= max(passed_over)


@PROPERTY_SETTINGS
@given(minutes_maps)
def test_ties_give_every_choice(minutes) -> None:
    # The number of allocations is C(tied, units still to give among the tied).
    full = sum(m // 15 for m in minutes.values())
    left = cms_allowed_total(minutes) - full
    leftovers = sorted((m % 15 for m in minutes.values() if m % 15), reverse=True)
    if left == 0:
        assert len(cms_allocations(minutes)) == 1
        return
    threshold = leftovers[left - 1]
    tied = leftovers.count(threshold)
    above = sum(1 for r in leftovers if r > threshold)
    assert len(cms_allocations(minutes)) == comb(tied, left - above)


@PROPERTY_SETTINGS
@given(minutes_maps, st.sampled_from(TIMED_CODES), st.integers(0, 60))
def test_cap_never_falls_when_minutes_are_added(minutes, key, extra) -> None:
    more = dict(minutes)
    more[key] = more.get(key, 0) + extra
    assert cms_allowed_total(more) >= cms_allowed_total(minutes)


@PROPERTY_SETTINGS
@given(minutes_maps, st.sampled_from(TIMED_CODES), st.integers(0, 130))
def test_per_code_never_pools(minutes, key, other_minutes) -> None:
    units = per_code_units(minutes)
    assert units == {k: units_for_minutes(m) for k, m in minutes.items()}
    with_another = {**minutes, key: other_minutes}
    again = per_code_units(with_another)
    assert all(again[k] == units[k] for k in minutes if k != key)


@PROPERTY_SETTINGS
@given(st.sampled_from(TIMED_CODES), st.integers(0, 200))
def test_one_service_rounds_the_same_under_both_methods(key, minutes) -> None:
    assert cms_allocations({key: minutes}) == (per_code_units({key: minutes}),)


@PROPERTY_SETTINGS
@given(minutes_maps, st.data())
def test_billing_any_valid_allocation_is_silent(minutes, data) -> None:
    # The assessment's own allocations: with a CQ part they are the pooled, per-part ones.
    allocation = data.draw(st.sampled_from(assess(minutes, {}, "cms").allocations))
    # Leaving 0-unit services off the bill is the same bill.
    billed = {k: u for k, u in allocation.items() if u}
    assert assess(minutes, billed, "cms").verdicts == frozenset()
    assert assess(minutes, per_code_units(minutes), "per-code").verdicts == frozenset()


@PROPERTY_SETTINGS
@given(minutes_maps, st.data())
def test_closest_allocation_is_a_valid_one_at_least_distance(minutes, data) -> None:
    billed = {k: data.draw(st.integers(0, 10), label=f"billed {k}") for k in minutes}
    allocations = cms_allocations(minutes)
    chosen = closest_allocation(allocations, billed)
    assert chosen in allocations

    def distance(a):
        return sum(abs(a[k] - billed[k]) for k in minutes)

    assert distance(chosen) == min(distance(a) for a in allocations)


@PROPERTY_SETTINGS
@given(minutes_maps, st.data())
def test_cms_verdicts_follow_the_billed_total(minutes, data) -> None:
    billed = {k: data.draw(st.integers(0, 10), label=f"billed {k}") for k in minutes}
    result = assess(minutes, billed, "cms")
    total, cap = sum(billed.values()), result.allowed_total
    assert ("U101" in result.verdicts) == (total > cap)
    assert ("U102" in result.verdicts) == (total < cap)
    if total == cap:
        assert bool(result.verdicts & {"U103", "U113"}) == (billed not in result.allocations)


@PROPERTY_SETTINGS
@given(minutes_maps)
def test_assistant_parts_of_a_code_are_one_service_for_the_day(minutes) -> None:
    # The CQ part and the plain part of 97110 add up, per allocation, to what the code's
    # pooled minutes earn; each part keeps at least its own full 15-minute blocks.
    assume(("97110", "CQ") in minutes)
    pooled: dict = {}
    for key, m in minutes.items():
        code = key[0] if isinstance(key, tuple) else key
        pooled[code] = pooled.get(code, 0) + m
    result = assess(minutes, {}, "cms")
    code_totals = set()
    for allocation in result.allocations:
        assert allocation.keys() == minutes.keys()
        for key in minutes:
            assert allocation[key] >= minutes[key] // 15
        totals: dict = {}
        for key, units in allocation.items():
            code = key[0] if isinstance(key, tuple) else key
            totals[code] = totals.get(code, 0) + units
        code_totals.add(tuple(sorted(totals.items())))
    assert code_totals == {tuple(sorted(a.items())) for a in cms_allocations(pooled)}


@PROPERTY_SETTINGS
@given(st.integers(0, 130), st.integers(0, 130), st.sampled_from((0, 1, 2)))
def test_assistant_units_follow_the_de_minimis_standard(therapist, assistant, extra) -> None:
    full = therapist // 15 + assistant // 15
    rest = therapist % 15 + assistant % 15
    units = full + extra
    if (extra == 1 and rest == 0) or (extra == 2 and (rest < 15 or not therapist % 15 or not assistant % 15)):
        with pytest.raises(ValueError):
            assistant_units(units, therapist, assistant)
        return
    without, with_assistant = assistant_units(units, therapist, assistant)
    assert without + with_assistant == units
    assert without >= therapist // 15 and with_assistant >= assistant // 15
    if extra == 1:
        # the remaining unit carries CQ exactly when the assistant has more than 10% of it
        assert (with_assistant > assistant // 15) == (assistant % 15 * 10 > rest)
    if extra == 2:
        assert (without, with_assistant) == (therapist // 15 + 1, assistant // 15 + 1)
    if assistant == 0:
        assert with_assistant == 0
