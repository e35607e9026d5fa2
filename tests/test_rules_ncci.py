"""Ncci rules as data: tests/cases/rules/ncci.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("ncci")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_ncci_rule_case(case):
    verify(case)
