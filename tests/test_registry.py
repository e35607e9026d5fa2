"""The rule registry: one table, stable codes, a documented source for every rule, and cases
that make every rule fire and stay silent."""

from __future__ import annotations

import re

import pytest

from edi_rehab.findings import Applicability, Severity
from edi_rehab.rules import registry
from edi_rehab.rules.base import DOC_SECTIONS, Scope
from rulecases import all_cases

RULES = registry.RULES
CASES = all_cases()

#: Issue 4's classification of fixes: what each fixable rule's fix may be.
FIX_CLASSES = {
    "M205": Applicability.SAFE,
    "M206": Applicability.SAFE,
    "X001": Applicability.SAFE,
    "U101": Applicability.UNSAFE,
    "U102": Applicability.UNSAFE,
    "U103": Applicability.UNSAFE,
    "U107": Applicability.UNSAFE,
    "N301": Applicability.UNSAFE,
    "N303": Applicability.UNSAFE,
    "M201": Applicability.UNSAFE,
    "M204": Applicability.UNSAFE,
    "C401": Applicability.UNSAFE,
}

#: The issue's table: code -> default severity.
ISSUE_TABLE = {
    "U101": "error", "U102": "warning", "U103": "warning", "U104": "info", "U105": "warning",
    "U106": "warning", "U107": "error", "U108": "warning", "M201": "error", "M202": "error",
    "M203": "error", "M204": "warning", "M205": "warning", "M206": "warning", "N301": "error",
    "N302": "error", "N303": "warning", "N304": "warning", "N305": "error", "C401": "error",
    "C402": "error", "C403": "warning", "X001": "error", "X002": "error", "X003": "warning",
}


def test_codes_are_unique_and_well_formed():
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[UMNCX][0-9]{3}", code), code
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


def test_the_issue_table_is_all_there_with_its_severities():
    for code, severity in ISSUE_TABLE.items():
        assert registry.BY_CODE[code].severity is Severity(severity), code


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_doc_has_every_section_in_order(rule):
    assert rule.summary and not rule.summary.endswith(".")
    positions = [rule.doc.find(f"\n## {title}\n") for title in DOC_SECTIONS]
    assert all(p > 0 for p in positions), (rule.code, positions)
    assert positions == sorted(positions), rule.code
    for title in DOC_SECTIONS:
        assert len(rule.section(title)) > 20, (rule.code, title)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_cites_a_reference_section_and_confidence(rule):
    source = rule.section("Source")
    assert re.search(r"Reference §[0-9]", source), (rule.code, source)
    assert re.search(r"\[(V|S|M|D)\b", source), (rule.code, source)


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_fix_applicability_follows_the_classification(rule):
    assert rule.fix == FIX_CLASSES.get(rule.code), rule.code
    assert rule.fix_needs_selection == (rule.code == "U102")
    safety = rule.section("Fix safety")
    if rule.fix is None:
        assert safety.startswith("No fix"), rule.code
    else:
        assert safety.lower().startswith(rule.fix.value), rule.code


def test_scopes_and_lookups():
    assert {r.scope for r in RULES} == set(Scope)
    assert registry.get("u101") is registry.BY_CODE["U101"]
    assert registry.get("Z999") is None
    assert [r.code for r in registry.matching("N30")] == ["N301", "N302", "N303", "N304", "N305", "N306"]


def test_every_case_names_a_registered_rule():
    unknown = sorted({c.code for c in CASES} - set(registry.CODES))
    assert not unknown
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_every_rule_has_fire_and_pass_cases(rule):
    mine = [c for c in CASES if c.code == rule.code]
    assert any(c.fires for c in mine), f"{rule.code}: no fail case"
    assert any(not c.fires for c in mine), f"{rule.code}: no pass case"


def test_every_screen_fact_clears_exactly_one_claim_rule():
    from edi_rehab.rules.base import ClaimContext
    from edi_rehab.rules.screens import FACTS

    screened = {rule.skip_when: rule.code for rule in RULES if rule.skip_when is not None}
    assert all(registry.get(code).scope is Scope.CLAIM for code in screened.values())
    assert sorted(screened) == sorted(FACTS)
    assert all(FACTS[fact].startswith(code + ":") for fact, code in screened.items())
    assert set(FACTS) <= set(ClaimContext.__slots__)
