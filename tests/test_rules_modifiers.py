"""Modifiers rules as data: tests/cases/rules/modifiers.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("modifiers")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_modifiers_rule_case(case):
    verify(case)
