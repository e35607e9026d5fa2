"""The claim screen is conservative: a fact it sets never hides a finding of its rule."""

from __future__ import annotations

import pytest

from edi_rehab.claims import read_claims
from edi_rehab.engine import Checker
from edi_rehab.minutes import parse_minutes_csv
from edi_rehab.rules import registry
from edi_rehab.rules.screens import FACTS
from edi_rehab.synth import SynthSpec, generate_837p
from edi_rehab.x12 import Transaction, iter_events
from rulecases import all_cases

SCREENED = [rule for rule in registry.RULES if rule.skip_when is not None]


def _contexts(data: bytes, minutes: str | None = None):
    checker = Checker(minutes=parse_minutes_csv(minutes, "minutes.csv") if minutes is not None else None)
    for event in iter_events([data]):
        if isinstance(event, Transaction):
            for claim in read_claims(event):
                yield checker._claim_context(claim)


def _inputs():
    for case in all_cases():
        if not case.options:
            yield pytest.param(case.data(), case.minutes, id=case.id)
    for seed in range(6):
        spec = SynthSpec(seed=seed, claims=40, lines_per_claim=(1, 6), dates_per_claim=(1, 3),
                         disciplines=("PT", "OT", "SLP"), filing_indicators=("MB", "MC", "CI"),
                         assistant_share=0.3, defect_rate=0.5)
        synth = generate_837p(spec)
        yield pytest.param(synth.data, None, id=f"synth-{seed}")
        yield pytest.param(synth.data, synth.minutes_csv(), id=f"synth-{seed}-minutes")


@pytest.mark.parametrize("data, minutes", list(_inputs()))
def test_a_cleared_rule_would_have_found_nothing(data, minutes):
    for cc in _contexts(data, minutes):
        for rule in SCREENED:
            if getattr(cc, rule.skip_when):
                assert list(rule.check(cc)) == [], (rule.code, cc.claim_id)
        assert cc.screens_clear == all(getattr(cc, fact) for fact in FACTS)


def test_the_rule_cases_fire_every_screened_rule_past_its_screen():
    # Each screened rule has a fire case, and there its fact is false (else the test above
    # would be vacuous for that rule).
    fired = set()
    for case in all_cases():
        if case.options or not case.fires:
            continue
        for cc in _contexts(case.data(), case.minutes):
            fired.update(rule.code for rule in SCREENED if not getattr(cc, rule.skip_when) and list(rule.check(cc)))
    assert fired == {rule.code for rule in SCREENED}
