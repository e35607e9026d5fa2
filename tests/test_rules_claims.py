"""Claims rules as data: tests/cases/rules/claims.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("claims")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_claims_rule_case(case):
    verify(case)
