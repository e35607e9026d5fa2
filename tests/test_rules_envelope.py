"""Envelope rules as data: tests/cases/rules/envelope.py."""

from __future__ import annotations

import pytest

from rulecases import load_family, verify

CASES = load_family("envelope")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_envelope_rule_case(case):
    verify(case)
