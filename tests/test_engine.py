"""The engine as a whole: the streaming API, per-claim results, and the speed shortcuts
(line and encounter rules skipped for a signature that was clean before, claim rules
skipped when the claim's screen clears them) never changing what is found."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edi_rehab
from claimkit import D1, ISA, claim, ln, minutes_csv, x12
from edi_rehab.engine import Checker, CheckOptions, CheckUsageError, check_events
from edi_rehab.mapdata import MueEdit, PtpEdit, load_maps
from edi_rehab.minutes import parse_minutes_csv
from edi_rehab.synth import SynthSpec, generate_837p
from edi_rehab.x12 import Transaction, iter_events
from rulecases import all_cases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class _NeverClean(set):
    """Stands in for the engine's sets of clean line and encounter signatures: nothing is
    ever skipped."""

    def __contains__(self, item) -> bool:
        return False

    def add(self, item) -> None:
        pass


class _NeverFired(dict):
    """Stands in for the engine's rules that fired per signature: no signature is ever
    known, so every rule runs every time."""

    def get(self, key, default=None):
        return default

    def __setitem__(self, key, value) -> None:
        pass


class _NeverCleanLines(dict):
    """Stands in for the engine's clean line signatures (per claim part): none is ever clean."""

    def get(self, key, default=None):
        return _NeverClean()


def _key(findings):
    return [(f.code, f.severity, f.segment, f.claim_id, f.line, f.procedure, f.message, f.fix) for f in findings]


def _run(data: bytes, minutes: str | None, shortcut: bool, claim_views: bool = True, **kw):
    table = parse_minutes_csv(minutes, "m.csv") if minutes else None
    checker = Checker(minutes=table, **kw)
    if not shortcut:
        checker._clean_lines = _NeverCleanLines()
        checker._clean_encounters = _NeverClean()
        checker._fired_lines = _NeverFired()
        checker._fired_encounters = _NeverFired()
        checker._screens = False
    found = [f for result in checker.check_events(iter_events([data]), claim_views=claim_views) for f in result.findings]
    return found + checker.minutes_findings()


def fixture_pairs():
    for path in sorted(FIXTURES.glob("*837p*.x12")):
        csv = path.with_name(path.name.replace("-837p.x12", "-minutes.csv"))
        yield pytest.param(path, csv if csv.exists() else None, id=path.name)


@pytest.mark.parametrize("path,csv", list(fixture_pairs()))
def test_clean_signature_shortcut_changes_nothing_on_fixtures(path, csv):
    data = path.read_bytes()
    minutes = csv.read_text() if csv else None
    reference = _key(_run(data, minutes, False))
    assert _key(_run(data, minutes, True)) == reference
    assert _key(_run(data, minutes, True, claim_views=False)) == reference  # claims released as checked


def test_clean_signature_shortcut_changes_nothing_on_rule_cases():
    for case in all_cases():
        if case.options:
            continue  # options need check(); the plain cases cover every line rule
        data = case.data()
        assert _key(_run(data, case.minutes, True)) == _key(_run(data, case.minutes, False)), case.id


def test_shortcuts_warmed_by_every_other_case_change_nothing():
    # One checker sees every rule case in turn, so each case meets signatures that earlier
    # cases left clean: a signature missing something a rule depends on shows up here.
    cases = [case for case in all_cases() if not case.options and not case.minutes]
    warm = Checker()
    for case in cases + cases[::-1]:
        data = case.data()
        found = [f for result in warm.check_events(iter_events([data])) for f in result.findings]
        assert _key(found) == _key(_run(data, None, False)), case.id


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.0, 0.2, 0.6]))
def test_clean_signature_shortcut_changes_nothing_on_generated_files(seed, rate):
    spec = SynthSpec(seed=seed, claims=30, lines_per_claim=(1, 6), dates_per_claim=(1, 3),
                     disciplines=("PT", "OT", "SLP"), filing_indicators=("MB", "MC", "CI"),
                     assistant_share=0.3, minutes_notes=seed % 2 == 0, defect_rate=rate)
    synth = generate_837p(spec)
    minutes = synth.minutes_csv() if seed % 3 else None
    reference = _key(_run(synth.data, minutes, False))
    assert _key(_run(synth.data, minutes, True)) == reference
    assert _key(_run(synth.data, minutes, True, claim_views=False)) == reference


def test_check_events_streams_one_result_per_event_with_claim_results():
    data = x12(transactions=[[claim(ln("97140:GP", 1), ln("97530:GP", 1), id="A")], [claim(ln("97110:GP", 1), id="B")]])
    results = list(check_events(iter_events([data]), CheckOptions()))
    kinds = [type(r.event).__name__ for r in results]
    assert kinds == ["InterchangeHeader", "GroupHeader", "Transaction", "Transaction", "GroupTrailer",
                     "InterchangeTrailer", "EndOfInput"]
    first = results[2]
    event, findings = first  # a result unpacks as (event, findings)
    assert isinstance(event, Transaction) and [f.code for f in findings] == ["N301"]
    assert [(c.claim.claim_id, [f.code for f in c.findings]) for c in first.claims] == [("A", ["N301"])]
    assert first.claims[0].profile.name == "default" and first.claims[0].unit_method == "cms"
    assert first.transaction_findings == []
    assert [(c.claim.claim_id, c.findings) for c in results[3].claims] == [("B", [])]


def test_findings_only_results_count_claims_without_holding_their_views():
    data = x12(transactions=[[claim(ln("97140:GP", 1), ln("97530:GP", 1), id="A"), claim(ln("97110:GP", 1), id="B")]])
    with_views = list(check_events(iter_events([data]), CheckOptions()))
    findings_only = list(check_events(iter_events([data]), CheckOptions(), claim_views=False))
    assert [r.findings for r in findings_only] == [r.findings for r in with_views]
    [transaction] = [r for r in findings_only if isinstance(r.event, Transaction)]
    assert transaction.claims == [] and transaction.claim_count == 2 and transaction.claim_ids == ("A", "B")
    assert [r.claim_count for r in with_views if isinstance(r.event, Transaction)] == [2]


def _findings_only(checker: Checker, data: bytes):
    """What ``checker`` finds in ``data`` asked for findings only (claims released as checked)."""
    return [f for r in checker.check_events(iter_events([data]), claim_views=False) for f in r.findings]


def _streamed_and_held(data: bytes, minutes: str | None = None, warm: Checker | None = None, **kw):
    """Findings of the findings-only path and of the path that holds every view, each from
    its own checker (the findings-only one ``warm`` when given)."""
    held = _key(_run(data, minutes, True, **kw))
    if warm is None:
        return _key(_run(data, minutes, True, claim_views=False, **kw)), held
    return _key(_findings_only(warm, data) + warm.minutes_findings()), held


@pytest.mark.parametrize("path,csv", list(fixture_pairs()))
def test_findings_only_path_finds_what_the_holding_path_finds_on_fixtures(path, csv):
    streamed, held = _streamed_and_held(path.read_bytes(), csv.read_text() if csv else None)
    assert streamed == held


def test_findings_only_path_finds_what_the_holding_path_finds_on_rule_cases():
    warm = Checker()
    for case in all_cases():
        if case.options:
            continue
        streamed, held = _streamed_and_held(case.data(), case.minutes)
        assert streamed == held, case.id
        if not case.minutes:
            # a checker warmed by every case before meets signatures already clean or fired
            streamed, held = _streamed_and_held(case.data(), warm=warm)
            assert streamed == held, case.id


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.0, 0.2, 0.6]), per=st.sampled_from([1, 7, 500]))
def test_findings_only_path_finds_what_the_holding_path_finds_on_generated_files(seed, rate, per):
    spec = SynthSpec(seed=seed, claims=30, lines_per_claim=(1, 6), dates_per_claim=(1, 3),
                     disciplines=("PT", "OT", "SLP"), filing_indicators=("MB", "MC", "CI"),
                     assistant_share=0.3, minutes_notes=seed % 2 == 0, defect_rate=rate, claims_per_transaction=per)
    synth = generate_837p(spec)
    streamed, held = _streamed_and_held(synth.data, synth.minutes_csv() if seed % 3 else None)
    assert streamed == held


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([0.0, 0.3]), per=st.sampled_from([1, 500]))
def test_findings_only_path_with_mues_finds_what_the_holding_path_finds(seed, rate, per):
    # with an MUE file an encounter's signature is each line's kind, units and SV103 in line
    # order, which the stand-ins of a released claim must give back exactly
    mue = {code: MueEdit(code, value, 3, "Clinical: Data", "m.csv") for code, value in
           (("97110", 2), ("97140", 2), ("97530", 3), ("97112", 2), ("97116", 2))}
    maps = load_maps().with_cms(mue=mue)
    spec = SynthSpec(seed=seed, claims=30, lines_per_claim=(1, 6), dates_per_claim=(1, 2),
                     disciplines=("PT", "OT"), defect_rate=rate, claims_per_transaction=per)
    streamed, held = _streamed_and_held(generate_837p(spec).data, maps=maps)
    assert streamed == held


def test_units_over_the_mue_across_two_claims_are_found_on_the_findings_only_path():
    # A's 2 units of 97110 are within the MUE of 2, so A is released with its signature;
    # B bills 1 more the same day: the day's 3 units are over, which takes A's line
    maps = load_maps().with_cms(mue={"97110": MueEdit("97110", 2, 3, "Clinical: Data", "m.csv")})
    data = x12(transactions=[[claim(ln("97110:GP", 2), id="A"), claim(ln("97110:GP", 1), id="B")]])
    checker = Checker(maps=maps)
    fallbacks = _counting_fallbacks(checker)
    found = _findings_only(checker, data)
    assert "N305" in {f.code for f in found} and fallbacks == [1]
    assert _key(found) == _streamed_and_held(data, maps=maps)[1]


def _counting_fallbacks(checker: Checker) -> list[int]:
    calls: list[int] = []
    holding = checker._professional_holding

    def counted(*args):
        calls.append(1)
        return holding(*args)

    checker._professional_holding = counted  # type: ignore[method-assign]
    return calls


def test_a_claim_joining_an_encounter_released_clean_gets_the_set_checked_again():
    # Claim A alone is a clean encounter (97140), so its views are released; claim B, same
    # patient, provider and date, adds 97530 without 59/XU: the encounter is now N301's,
    # which needs A's line, so the set is checked again holding every view.
    data = x12(transactions=[[claim(ln("97140:GP", 1), id="A"), claim(ln("97530:GP", 1), id="B")]])
    checker = Checker()
    fallbacks = _counting_fallbacks(checker)
    found = _findings_only(checker, data)
    assert [(f.code, f.claim_id) for f in found] == [("N301", "B")]
    assert fallbacks == [1]
    assert _key(found) == _streamed_and_held(data)[1]


def test_a_claim_joining_an_encounter_still_clean_needs_no_second_pass():
    data = x12(transactions=[[claim(ln("97110:GP", 1), id="A"), claim(ln("97112:GP", 1), id="B")]])
    checker = Checker()
    fallbacks = _counting_fallbacks(checker)
    # the signature of 97110 with 97112 on one date, learnt clean on a claim that bills both
    _findings_only(checker, x12(claim(ln("97110:GP", 1), ln("97112:GP", 1))))
    found = _findings_only(checker, data)
    assert found == [] and fallbacks == []


def test_clean_sets_are_checked_once_releasing_their_claims(monkeypatch):
    from edi_rehab.rules.base import ClaimContext

    synth = generate_837p(SynthSpec(seed=3, claims=400, lines_per_claim=(2, 6), claims_per_transaction=200))
    checker = Checker()
    fallbacks = _counting_fallbacks(checker)
    released: list[str] = []
    release = ClaimContext.release

    def counted(self):
        released.append(self.claim_id)
        release(self)

    monkeypatch.setattr(ClaimContext, "release", counted)
    results = list(checker.check_events(iter_events([synth.data]), claim_views=False))
    assert fallbacks == []
    assert sum(r.claim_count for r in results) == 400 and sorted(released) == sorted(set(released))
    assert len(released) == 400


def test_findings_carry_what_a_fixer_needs():
    data = x12(claim(ln("97110:GP", 3), ln("97140:GP", 1)))
    [finding] = edi_rehab.check(data, minutes=minutes_csv(("PCN1", 1, 33), ("PCN1", 2, 7)))
    assert finding.code == "U101" and finding.fix.applicability.value == "unsafe"
    details = finding.details
    assert details["target"] == {"97110": 2, "97140": 1}
    assert details["line_units"] == [{"line": 1, "segment": finding.segment, "billed": 3, "units": 2}]
    assert details["allocations"] == [{"97110": 2, "97140": 1}]

    data = x12(claim(ln("97140:GP", 1), ln("97530:GP", 1)))
    minutes = minutes_csv(("PCN1", 1, 15, "97140", D1, "0900"), ("PCN1", 2, 15, "97530", D1, "0915"))
    [finding] = edi_rehab.check(data, minutes=minutes, config='[profiles.default]\nncci_modifier = "XU"\n')
    assert finding.code == "N301" and finding.fix is not None
    assert finding.details["modifier"] == "XU"
    assert finding.details["target_modifiers"] == ("XU", "GP")
    assert finding.details["evidence"] == {"time_blocks": ["0900", "0915"]}
    assert finding.details["partner"]["line"] == 1


def test_same_time_block_gives_no_n301_fix():
    data = x12(claim(ln("97140:GP", 1), ln("97530:GP", 1)))
    minutes = minutes_csv(("PCN1", 1, 15, "97140", D1, "0900"), ("PCN1", 2, 15, "97530", D1, "0900"))
    [finding] = edi_rehab.check(data, minutes=minutes)
    assert finding.code == "N301" and finding.fix is None


def test_u102_fix_needs_explicit_selection_and_u107_gets_units():
    [finding] = edi_rehab.check(x12(claim(ln("97110:GP", 1))), minutes=minutes_csv(("PCN1", 1, 38)))
    assert finding.code == "U102" and finding.fix.requires_explicit_selection
    findings = edi_rehab.check(x12(claim(ln("97110:GP", 38, basis="MJ"))))
    u107 = next(f for f in findings if f.code == "U107")
    assert u107.details == {"minutes": 38, "units": 3} and u107.fix is not None


def test_api_options_errors():
    with pytest.raises(CheckUsageError):
        edi_rehab.check(x12(claim(ln("97110:GP", 1))), select="Q1")
    with pytest.raises(CheckUsageError):
        edi_rehab.check(x12(claim(ln("97110:GP", 1))), unit_method="hourly")
    with pytest.raises(edi_rehab.X12ReadError):
        edi_rehab.check(b"not x12")


def test_messages_carry_no_names_or_dates():
    spec = SynthSpec(seed=5, claims=40, lines_per_claim=(1, 6), dates_per_claim=(1, 3), defect_rate=0.5,
                     disciplines=("PT", "OT"), filing_indicators=("MB", "CI"))
    synth = generate_837p(spec)
    findings = edi_rehab.check(synth.data, minutes=synth.minutes_csv())
    assert findings
    for finding in findings:
        assert "PATIENT" not in finding.message and "SYN0" not in finding.message
        assert "2026" not in finding.message, finding.message


def test_every_reader_warning_kind_lands_in_exactly_one_rule():
    from edi_rehab.rules.envelope_rules import KIND_RULES
    from edi_rehab.x12.errors import WARNING_KINDS, ReadWarning

    checker = Checker()
    assert set(KIND_RULES) == set(WARNING_KINDS)
    for kind in WARNING_KINDS:
        findings = checker._warning_findings([ReadWarning(kind, f"a {kind} warning", 7)])
        assert [(f.code, f.segment, f.message) for f in findings] == [(KIND_RULES[kind], 7, f"a {kind} warning")]
    # a kind the reader may add later is reported as tolerated input rather than dropped
    [finding] = checker._warning_findings([ReadWarning("brand-new-kind", "new", 3)])
    assert finding.code == "X003"


def test_digits_that_int_does_not_take_are_not_numbers():
    # Latin-1 0xB2 is "²": str.isdigit() says yes and int() raises. Found by the fix fuzz test.
    data = x12(claim(ln("97110:GP", "\u00b2"))).replace(b"LX*1~", b"LX*\xb2~")
    codes = {f.code for f in edi_rehab.check(data)}
    assert {"U112", "X005"} <= codes


def test_a_clean_encounter_does_not_clear_the_same_codes_on_a_date_an_edit_covers():
    # 97110/97124 pair only on 2026-01-06: the same codes on 01-05 are clean, then must fire on 01-06.
    edit = PtpEdit("97110", "97124", date(2026, 1, 6), date(2026, 1, 7), "1", "r", "f.txt")
    maps = load_maps().with_cms([edit], ptp_authoritative=True)
    before = claim(ln("97110:GP", 1, dos="20260105"), ln("97124:GP", 1, dos="20260105"), id="A")
    covered = claim(ln("97110:GP", 1, dos="20260106"), ln("97124:GP", 1, dos="20260106"), id="B")
    results = Checker(maps=maps).check_events(iter_events([x12(before, covered)]))
    found = [(f.code, f.claim_id) for result in results for f in result.findings]
    assert found == [("N301", "B")]


# -- found by review: shortcuts must hold on input no real file has ------------------------------
@pytest.mark.parametrize("charge", ["1E+999999", "100.000000000000000000000000001", "1E+30"])
def test_amounts_no_x12_file_carries_are_left_to_c401(charge):
    data = x12(claim(ln("97110:GP", 1, charge="100"), id="A", charge=charge))
    found = _run(data, None, True)
    assert "C401" in {f.code for f in found}
    assert _key(found) == _key(_run(data, None, False))


def test_the_same_sv101_text_under_another_component_separator_is_another_kind():
    good = x12(claim(ln("97110:GP", 3), ln("97014", 1), id="A", filing="MB"))
    other = good.replace(ISA.encode(), ISA[:-1].encode() + b">")  # ISA16 '>': "97110:GP" is one code
    warm = Checker()
    list(warm.check_events(iter_events([other])))
    found = [f for result in warm.check_events(iter_events([good])) for f in result.findings]
    assert _key(found) == _key(_run(good, None, False))
    assert {"C403"} <= {f.code for f in found}


def test_digit_runs_too_long_for_int_are_not_numbers():
    # Python's int() refuses more than 4,300 digits; such an element is simply not a number.
    huge = "9" * 5000
    data = x12(claim(ln("97110:GP", huge), ln("97112:GP", 1, lx=huge), id="A"))
    codes = {f.code for f in edi_rehab.check(data)}
    assert {"U112", "X005"} <= codes
    se_count = x12(claim(ln("97110:GP", 1)), se_count=int(huge[:30]))
    assert "X001" in {f.code for f in edi_rehab.check(se_count)}
    table = minutes_csv(("PCN1", huge, 30))
    assert "U109" in {f.code for f in edi_rehab.check(x12(claim(ln("97110:GP", 2))), minutes=table)}
