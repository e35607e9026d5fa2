"""fix: each fix as a case (before/after segments, which findings go), safety, refusals,
byte-exactness on every fixture and public sample, pyx12 validity, and properties.

Cases are data (sqlfluff's ``fail_str``/``fix_str``): a claim file, the options, the
segments that change (``before -> after``; ``after=None`` for a removed segment), the fixes
that apply and the codes that remain. Every case is also run again on its own output
(idempotence) and checked with ``check`` (the output's findings are exactly what fix says
remains).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import edi_rehab
from claimkit import D1, claim, ln, minutes_csv, x12
from conftest import FIXTURES, fixture_files, ids, sample_files
from edi_rehab.engine import Checker
from edi_rehab.mapdata import load_maps
from edi_rehab.fixes import (
    BUILDERS,
    Fixer,
    FixOptions,
    explicit_codes,
    format_amount,
    remap_minutes,
    remap_minutes_csv,
    render_diff,
    render_report,
    summary_line,
)
from edi_rehab.minutes import parse_minutes_csv
from edi_rehab.rules import registry
from edi_rehab.synth import Defect, generate_837p
from edi_rehab.x12 import X12ReadError, iter_events, parse

MB = {"filing": "MB"}  # Medicare profile: CMS total-minutes method, no modifier order, 59
MC = {"filing": "MC"}  # Medicaid profile: CMS total-minutes method, conventional order, 59


def segs(data: bytes) -> list[str]:
    return [s.text.decode("latin-1") for s in parse(data).segments()]


def changes(before: bytes, after: bytes) -> list[tuple[str, str | None]]:
    """Segment-level changes: (old, new) for a rewritten segment, (old, None) for a removed one."""
    old, new = segs(before), segs(after)
    out: list[tuple[str, str | None]] = []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            out += [(s, None) for s in old[a1:a2]]
            continue
        assert tag == "replace", (tag, old[a1:a2], new[b1:b2])
        pairs = list(zip(old[a1:a2], new[b1:b2]))
        out += pairs
        out += [(s, None) for s in old[a1 + len(pairs) : a2]]
        assert b2 - b1 <= a2 - a1, "fix never inserts segments"
    return out


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


@dataclass
class Case:
    id: str
    data: bytes
    options: dict = field(default_factory=dict)
    #: (old segment text, new segment text or None), in file order
    changed: list = field(default_factory=list)
    applied: list = field(default_factory=list)
    remaining: list = field(default_factory=list)
    #: substrings expected in the withheld (w) or unfixable (u) reasons, by code
    withheld: dict = field(default_factory=dict)
    unfixable: dict = field(default_factory=dict)
    #: the whole expected output, for removals (a segment diff cannot tell which LX went)
    expected: bytes | None = None


def m(*rows) -> str:
    return minutes_csv(*rows)


PAIR_BLOCKS = m(("PCN1", 1, 15, "97140", D1, "0900"), ("PCN1", 2, 15, "97530", D1, "0915"))
SAME_BLOCK = m(("PCN1", 1, 15, "97140", D1, "0900"), ("PCN1", 2, 15, "97530", D1, "0900"))
COB = ["SBR*S*18*******CI", "NM1*IL*1*OTHERSUB*TEST****MI*OTHER1", "NM1*PR*2*OTHER PAYER*****PI*OTHERPAYER"]
OT_TAXONOMY = (b"225100000X", b"225X00000X")

CASES = [
    # -- safe -----------------------------------------------------------------------------------
    Case(
        "M205::reorder_to_profile",
        x12(claim(ln("97530:GP:59"), ln("97140:GP"))),
        changed=[("SV1*HC:97530:GP:59*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["M205"],
    ),
    Case(
        "M205::gp_first_profile",
        x12(claim(ln("97530:59:GP"), ln("97140:GP"))),
        options={"config": '[profiles.default]\nmodifier_order = "gp-first"\n'},
        changed=[("SV1*HC:97530:59:GP*100*UN*1***1", "SV1*HC:97530:GP:59*100*UN*1***1")],
        applied=["M205"],
    ),
    Case(
        "M206::drop_duplicate",
        x12(claim(ln("97110:GP:GP"))),
        changed=[("SV1*HC:97110:GP:GP*100*UN*1***1", "SV1*HC:97110:GP*100*UN*1***1")],
        applied=["M206"],
    ),
    Case(
        "M205+M206::same_line_two_passes",
        x12(claim(ln("97530:GP:59:GP"), ln("97140:GP"))),
        changed=[("SV1*HC:97530:GP:59:GP*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["M205", "M206"],
    ),
    Case(
        "M205::description_kept",
        x12(claim(ln("97139:KX:GP", description="UNLISTED TEST"))),
        changed=[("SV1*HC:97139:KX:GP:::UNLISTED TEST*100*UN*1***1", "SV1*HC:97139:GP:KX:::UNLISTED TEST*100*UN*1***1")],
        applied=["M205"],
    ),
    Case(
        "X001::se01",
        x12(claim(ln("97110:GP")), se_count=99),
        changed=[("SE*99*0001", "SE*23*0001")],
        applied=["X001"],
    ),
    Case(
        "X001::ge01",
        x12(claim(ln("97110:GP")), ge_count=4),
        changed=[("GE*4*1", "GE*1*1")],
        applied=["X001"],
    ),
    Case(
        "X001::se01_ignored_stays_as_it_was",
        x12(claim(ln("97110:GP")), se_count=99),
        options={"ignore": "X001"},
        remaining=[],
    ),
    # -- C401 -------------------------------------------------------------------------------------
    Case(
        "C401::alone_is_unsafe",
        x12(claim(ln("97110:GP", charge="48"), ln("97112:GP", charge="52"), charge="110")),
        remaining=["C401"],
        withheld={"C401": "--unsafe-fixes"},
    ),
    Case(
        "C401::unsafe_sets_the_sum",
        x12(claim(ln("97110:GP", charge="48"), ln("97112:GP", charge="52.50"), charge="110")),
        options={"unsafe": True},
        changed=[("CLM*PCN1*110***11:B:1*Y*A*Y*Y", "CLM*PCN1*100.5***11:B:1*Y*A*Y*Y")],
        applied=["C401"],
    ),
    # -- units ------------------------------------------------------------------------------------
    Case(
        "U101::rescale_half_up_cents",
        x12(claim(ln("97110:GP", 3, charge="100"), ln("97140:GP", 1, charge="47"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 33), ("PCN1", 2, 7))},
        changed=[
            ("CLM*PCN1*147***11:B:1*Y*A*Y*Y", "CLM*PCN1*113.67***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97110:GP*100*UN*3***1", "SV1*HC:97110:GP*66.67*UN*2***1"),
        ],
        applied=["U101"],
    ),
    Case(
        "U101::two_decimals_kept",
        x12(claim(ln("97110:GP", 3, charge="150.00"), ln("97140:GP", 1, charge="47.00"), charge="197.00", **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 33), ("PCN1", 2, 7))},
        changed=[
            ("CLM*PCN1*197.00***11:B:1*Y*A*Y*Y", "CLM*PCN1*147.00***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97110:GP*150.00*UN*3***1", "SV1*HC:97110:GP*100.00*UN*2***1"),
        ],
        applied=["U101"],
    ),
    Case(
        "U101::withheld_without_unsafe",
        x12(claim(ln("97110:GP", 3), ln("97140:GP", 1), **MB)),
        options={"minutes": m(("PCN1", 1, 33), ("PCN1", 2, 7))},
        remaining=["U101"],
        withheld={"U101": "--unsafe-fixes"},
    ),
    Case(
        "U101::per_code_only_the_over_service",
        x12(claim(ln("97110:GP", 3, charge="150"), ln("97140:GP", 1, charge="50"), filing="CI")),
        options={"unsafe": True, "unit_method": "per-code", "minutes": m(("PCN1", 1, 30), ("PCN1", 2, 30))},
        changed=[
            ("CLM*PCN1*200***11:B:1*Y*A*Y*Y", "CLM*PCN1*150***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97110:GP*150*UN*3***1", "SV1*HC:97110:GP*100*UN*2***1"),
        ],
        applied=["U101"],
        remaining=["U102"],
        withheld={"U102": "--select U102"},
    ),
    Case(
        "U103::lowers_only_without_u102",
        x12(claim(ln("97110:GP", 1, charge="48"), ln("97140:GP", 2, charge="94"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 33), ("PCN1", 2, 7))},
        changed=[
            ("CLM*PCN1*142***11:B:1*Y*A*Y*Y", "CLM*PCN1*95***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97140:GP*94*UN*2***1", "SV1*HC:97140:GP*47*UN*1***1"),
        ],
        applied=["U103"],
        remaining=["U102"],
        withheld={"U102": "--select U102"},
    ),
    Case(
        "U103::moves_units_with_u102_selected",
        x12(claim(ln("97110:GP", 1, charge="48"), ln("97140:GP", 2, charge="94"), **MB)),
        options={"unsafe": True, "select": "U1,U102", "minutes": m(("PCN1", 1, 33), ("PCN1", 2, 7))},
        changed=[
            ("CLM*PCN1*142***11:B:1*Y*A*Y*Y", "CLM*PCN1*143***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97110:GP*48*UN*1***1", "SV1*HC:97110:GP*96*UN*2***1"),
            ("SV1*HC:97140:GP*94*UN*2***1", "SV1*HC:97140:GP*47*UN*1***1"),
        ],
        applied=["U103"],
    ),
    # issue 10 item 1 / expert review F1 example A: correct CQ billing, so nothing to fix (the
    # old per-part method cut the CQ line from 2 to 1, or with U102 raised the GP line)
    Case(
        "U103::cq_pt20_pta18_gp1_cq2_is_left_alone",
        x12(claim(ln("97110:GP", 1, charge="48"), ln("97110:CQ:GP", 2, charge="96"), **MB)),
        options={"unsafe": True, "select": "U1,U102", "minutes": m(("PCN1", 1, 20), ("PCN1", 2, 18))},
    ),
    # PT 25 + PTA 1: both units are the PT's (1 of 11 minutes is de minimis), but the fix would
    # move the CQ unit to the GP line: refused, and U103 stays
    Case(
        "U103::never_moves_a_unit_off_the_cq_line",
        x12(claim(ln("97110:CQ:GP", 1, charge="48"), ln("97110:GP", 1, charge="48"), **MB)),
        options={"unsafe": True, "select": "U1,U102", "minutes": m(("PCN1", 1, 1), ("PCN1", 2, 25))},
        remaining=["U103"],
        unfixable={"U103": "from a CQ/CO line to a line without it"},
    ),
    # CMS's own example billed GP x1 + CQ x1: U113 has no fix, and nothing is changed
    Case(
        "U113::has_no_fix",
        x12(claim(ln("97110:GP", 1, charge="48"), ln("97110:CQ:GP", 1, charge="48"), ln("97140:GP", 2, charge="94"), **MB)),
        options={"unsafe": True, "select": "U1,U102", "minutes": m(("PCN1", 1, 13), ("PCN1", 2, 23), ("PCN1", 3, 30))},
        remaining=["U113"],
    ),
    Case(
        "U102::needs_explicit_selection",
        x12(claim(ln("97110:GP", 1, charge="48"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 38))},
        remaining=["U102"],
        withheld={"U102": "--select U102"},
    ),
    Case(
        "U102::a_prefix_is_not_explicit",
        x12(claim(ln("97110:GP", 1, charge="48"), **MB)),
        options={"unsafe": True, "select": "U1", "minutes": m(("PCN1", 1, 38))},
        remaining=["U102"],
        withheld={"U102": "--select U102"},
    ),
    Case(
        "U102::selected_raises",
        x12(claim(ln("97110:GP", 1, charge="48"), **MB)),
        options={"unsafe": True, "select": "U102", "minutes": m(("PCN1", 1, 38))},
        changed=[
            ("CLM*PCN1*48***11:B:1*Y*A*Y*Y", "CLM*PCN1*144***11:B:1*Y*A*Y*Y"),
            ("SV1*HC:97110:GP*48*UN*1***1", "SV1*HC:97110:GP*144*UN*3***1"),
        ],
        applied=["U102"],
    ),
    Case(
        "U102::selected_but_not_unsafe",
        x12(claim(ln("97110:GP", 1, charge="48"), **MB)),
        options={"select": "U102", "minutes": m(("PCN1", 1, 38))},
        remaining=["U102"],
        withheld={"U102": "--unsafe-fixes"},
    ),
    Case(
        "U107::mj_to_units",
        x12(claim(ln("97110:GP", 38, basis="MJ", charge="144"), **MB)),
        options={"unsafe": True},
        changed=[("SV1*HC:97110:GP*144*MJ*38***1", "SV1*HC:97110:GP*144*UN*3***1")],
        applied=["U107"],
    ),
    Case(
        "U107::untimed_code_has_no_fix",
        x12(claim(ln("97161:GP", 45, basis="MJ"), **MB)),
        options={"unsafe": True},
        remaining=["U107", "U108"],
        unfixable={"U107": "15-minute timed code"},
    ),
    # -- a 0-unit allocation removes the line (CMS Ex. 4, the 8-minute ultrasound first) -----------
    Case(
        "U101::zero_units_removes_the_line",
        x12(claim(ln("97035:GP", charge="22"), ln("97110:GP", charge="48"), ln("97140:GP", charge="47"),
                  ln("97116:GP", charge="45"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 8), ("PCN1", 2, 18), ("PCN1", 3, 13), ("PCN1", 4, 10))},
        expected=x12(claim(ln("97110:GP", charge="48", ref6r="PCN1-2"), ln("97140:GP", charge="47", ref6r="PCN1-3"),
                           ln("97116:GP", charge="45", ref6r="PCN1-4"), charge="140", **MB)),
        applied=["U101"],
    ),
    Case(
        "U101::default_profile_never_removes_a_line",  # no payer profile matched: the CMS method is a guess
        x12(claim(ln("97035:GP", charge="22"), ln("97110:GP", charge="48"), ln("97140:GP", charge="47"),
                  ln("97116:GP", charge="45"), filing="CI")),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 8), ("PCN1", 2, 18), ("PCN1", 3, 13), ("PCN1", 4, 10))},
        remaining=["U101"],
        unfixable={"U101": "no payer profile matched"},
    ),
    Case(
        "U101::ex5_csv_minutes_stay_on_the_day",
        x12(claim(ln("97112:GP"), ln("97110:GP"), ln("97140:GP"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 7), ("PCN1", 2, 7), ("PCN1", 3, 7))},
        expected=x12(claim(ln("97112:GP"), charge="100", **MB)),
        applied=["U101"],
    ),
    Case(
        "U101::ex5_note_minutes_would_vanish",
        x12(claim(ln("97112:GP", note="MIN 7"), ln("97110:GP", note="MIN 7"), ln("97140:GP", note="MIN 7"), **MB)),
        options={"unsafe": True},
        remaining=["U101"],
        unfixable={"U101": "performed, not billed"},
    ),
    Case(
        "U101::only_line_is_not_removed",
        x12(claim(ln("97110:GP"), **MB)),
        options={"unsafe": True, "minutes": m(("PCN1", 1, 5))},
        remaining=["U101"],
        unfixable={"U101": "no claim to send"},
    ),
    # -- COB: no charge, units or line changes -----------------------------------------------------
    Case(
        "COB::units_refused_modifiers_fixed",
        x12(claim(ln("97110:GP", 3), ln("97530:GP:59"), extra=COB, **MC)),  # MC: a profile with an order
        options={"unsafe": True, "minutes": m(("PCN1", 1, 30), ("PCN1", 2, 15))},
        changed=[("SV1*HC:97530:GP:59*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["M205"],
        remaining=["N304", "U101"],
        unfixable={"U101": "COB"},
    ),
    Case(
        "COB::claim_total_refused",
        x12(claim(ln("97110:GP", charge="48"), charge="50", extra=COB)),
        options={"unsafe": True},
        remaining=["C401"],
        unfixable={"C401": "COB"},
    ),
    # -- N301: only with time-block evidence ----------------------------------------------------
    Case(
        "N301::distinct_blocks_add_59",
        x12(claim(ln("97140:GP"), ln("97530:GP"))),
        options={"unsafe": True, "minutes": PAIR_BLOCKS},
        changed=[("SV1*HC:97530:GP*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["N301"],
    ),
    Case(
        "N301::payer_prefers_xu",
        x12(claim(ln("97140:GP"), ln("97530:GP"))),
        options={"unsafe": True, "minutes": PAIR_BLOCKS, "config": '[profiles.default]\nncci_modifier = "XU"\n'},
        changed=[("SV1*HC:97530:GP*100*UN*1***1", "SV1*HC:97530:XU:GP*100*UN*1***1")],
        applied=["N301"],
    ),
    Case(
        "N301::same_block_names_both_ways_out",
        x12(claim(ln("97140:GP"), ln("97530:GP"))),
        options={"unsafe": True, "minutes": SAME_BLOCK},
        remaining=["N301"],
        unfixable={"N301": "same time block (0900)"},
    ),
    Case(
        "N301::no_minutes_no_modifier",
        x12(claim(ln("97140:GP"), ln("97530:GP"))),
        options={"unsafe": True},
        remaining=["N301"],
        unfixable={"N301": "drop 97530"},
    ),
    Case(
        "N301::no_room_for_a_fifth_modifier",
        x12(claim(ln("97140:GP"), ln("97530:CQ:GP:KX:GY"))),
        options={"unsafe": True, "minutes": PAIR_BLOCKS},
        remaining=["N301"],
        unfixable={"N301": "no room for a fifth modifier"},
        withheld={},
    ),
    # -- N303: to the column-2 code; off column 1 unless another pair needs it -----------------
    Case(
        "N303::move",
        x12(claim(ln("97140:59:GP"), ln("97530:GP"))),
        options={"unsafe": True},
        changed=[
            ("SV1*HC:97140:59:GP*100*UN*1***1", "SV1*HC:97140:GP*100*UN*1***1"),
            ("SV1*HC:97530:GP*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1"),
        ],
        applied=["N303"],
    ),
    Case(
        "N303::kept_for_the_evaluation_pair",
        x12(claim(ln("97161:GP"), ln("97140:59:GP"), ln("97530:GP"))),
        options={"unsafe": True},
        changed=[("SV1*HC:97530:GP*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["N303"],
    ),
    Case(
        "N303::kept_for_the_traction_pair",
        x12(claim(ln("97012:GP"), ln("97140:XU:GP"), ln("97530:GP"))),
        options={"unsafe": True},
        changed=[("SV1*HC:97530:GP*100*UN*1***1", "SV1*HC:97530:XU:GP*100*UN*1***1")],
        applied=["N303"],
    ),
    Case(
        "N303::withheld_without_unsafe",
        x12(claim(ln("97140:59:GP"), ln("97530:GP"))),
        remaining=["N303"],
        withheld={"N303": "--unsafe-fixes"},
    ),
    # -- M201, M204 -----------------------------------------------------------------------------------
    Case(
        "M201::from_the_other_lines",
        x12(claim(ln("97110:GP"), ln("97535"))),
        options={"unsafe": True},
        changed=[("SV1*HC:97535*100*UN*1***1", "SV1*HC:97535:GP*100*UN*1***1")],
        applied=["M201"],
    ),
    Case(
        "M201::from_the_rendering_taxonomy",
        x12(claim(ln("97110"))).replace(*OT_TAXONOMY),
        options={"unsafe": True},
        changed=[("SV1*HC:97110*100*UN*1***1", "SV1*HC:97110:GO*100*UN*1***1")],
        applied=["M201"],
    ),
    Case(
        "M201::in_the_payer_order",
        x12(claim(ln("97110:GP"), ln("97530:59"))),
        options={"unsafe": True},
        changed=[("SV1*HC:97530:59*100*UN*1***1", "SV1*HC:97530:59:GP*100*UN*1***1")],
        applied=["M201"],
        remaining=["N304"],
    ),
    Case(
        "M201::ambiguous_discipline_left",
        x12(claim(ln("97110:GP"), ln("97112:GO"), ln("97535"))),
        options={"unsafe": True},
        # M221: the PT rendering provider on the GO line
        remaining=["M201", "M210", "M221"],
        unfixable={"M201": "ambiguous"},
    ),
    Case(
        "M201::taxonomy_contradicts_the_other_lines",
        x12(claim(ln("97110:GP"), ln("97535"))).replace(*OT_TAXONOMY),
        options={"unsafe": True},
        # M221: the OT rendering provider on the GP line
        remaining=["M201", "M221"],
        unfixable={"M201": "ambiguous"},
    ),
    Case(
        "M201::shared_code_takes_the_ot_lines_discipline",
        x12(claim(ln("97530:GO"), ln("92526"), rendering=None)),
        options={"unsafe": True},
        changed=[("SV1*HC:92526*100*UN*1***1", "SV1*HC:92526:GO*100*UN*1***1")],
        applied=["M201"],
    ),
    Case(
        "M201::shared_code_never_takes_gp",  # 92526 is SLP or OT: the PT lines do not make it PT
        x12(claim(ln("97110:GP"), ln("92526"), rendering=None)),
        options={"unsafe": True},
        remaining=["M201"],
        unfixable={"M201": "ambiguous"},
    ),
    Case(
        "M201::no_room",
        x12(claim(ln("97110:GP"), ln("97535:KX:GY:RT:LT"))),
        options={"unsafe": True},
        remaining=["M201"],
        unfixable={"M201": "no room for a fifth modifier"},
    ),
    Case(
        "M204::drop_59_beside_xu",
        x12(claim(ln("97140:GP"), ln("97530:59:XU:GP"))),
        options={"unsafe": True},
        changed=[("SV1*HC:97530:59:XU:GP*100*UN*1***1", "SV1*HC:97530:XU:GP*100*UN*1***1")],
        applied=["M204"],
    ),
]


def _run(case: Case, data: bytes | None = None, minutes=None):
    options = dict(case.options)
    if minutes is not None:
        options["minutes"] = minutes
    return checked_fix(case.data if data is None else data, **options)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fix_case(case: Case):
    result = _run(case)
    if case.expected is not None:
        assert result.data == case.expected
    else:
        assert changes(case.data, result.data) == case.changed
    assert sorted(a.code for a in result.applied) == sorted(case.applied)
    assert codes(result.remaining) == sorted(case.remaining)
    for code, text in case.withheld.items():
        assert any(w.code == code and text in w.reason for w in result.withheld_unsafe), result.withheld_unsafe
    for code, text in case.unfixable.items():
        assert any(w.code == code and text in w.reason for w in result.unfixable), result.unfixable
    # every remaining finding of a fixable rule says why it was left
    explained = {(w.finding.code, w.finding.segment) for w in (*result.withheld_unsafe, *result.unfixable)}
    for finding in result.remaining:
        if registry.BY_CODE[finding.code].fix is not None:
            assert (finding.code, finding.segment) in explained, finding


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fix_case_is_idempotent_and_check_agrees(case: Case):
    result = _run(case)
    minutes = case.options.get("minutes")
    if minutes is not None:
        minutes = remap_minutes(parse_minutes_csv(minutes, "m.csv"), result.lx_maps)
    again = _run(case, result.data, minutes)
    assert again.data == result.data and not again.applied
    options = {k: v for k, v in case.options.items() if k != "unsafe"}
    if minutes is not None:
        options["minutes"] = minutes
    found = edi_rehab.check(result.data, **options)
    assert [(f.code, f.segment, f.line) for f in found] == [(f.code, f.segment, f.line) for f in result.remaining]


def test_every_fixable_rule_has_a_builder():
    fixable = {rule.code for rule in registry.RULES if rule.fix is not None}
    assert fixable == set(BUILDERS)
    covered = {code for case in CASES for code in case.applied}
    assert fixable <= covered, fixable - covered


def test_applied_fixes_name_input_positions_and_lines():
    case = next(c for c in CASES if c.id == "U101::zero_units_removes_the_line")
    result = _run(case)
    [applied] = result.applied
    assert applied.segment == 22 and applied.line == 1  # the SV1 of the removed 97035, in the input
    assert "remove line 1 (97035, 0 units)" in applied.description
    [lx_map] = result.lx_maps
    assert lx_map.claim_id == "PCN1" and dict(lx_map.numbers) == {1: None, 2: 1, 3: 2, 4: 3}
    assert lx_map.removed == {1: ("97035", "20260105")}
    assert segs(result.data)[lx_map.segment - 1].startswith("CLM*PCN1*")


def test_renumbered_lines_keep_their_minutes():
    case = next(c for c in CASES if c.id == "U101::zero_units_removes_the_line")
    result = _run(case)
    table = remap_minutes(parse_minutes_csv(case.options["minutes"], "m.csv"), result.lx_maps)
    assert [(r.line, r.minutes, r.procedure) for r in table.rows] == [
        (None, 8, "97035"), (1, 18, None), (2, 13, None), (3, 10, None),
    ]
    text = remap_minutes_csv("claim_id,line,minutes\r\nPCN1,1,8\r\nPCN1,2,18\r\nPCN1,3,13\r\nPCN1,4,10\r\nOTHER,1,9\r\n", result.lx_maps)
    assert text == (
        "claim_id,line,minutes,procedure,service_date\r\nPCN1,,8,97035,20260105\r\nPCN1,1,18,,\r\n"
        "PCN1,2,13,,\r\nPCN1,3,10,,\r\nOTHER,1,9,,\r\n"
    )
    # with the columns present, rows of other claims are copied as they are
    full = case.options["minutes"].replace("PCN1,1,8,,,", "PCN1,1,8,97035,20260105,0900")
    out = remap_minutes_csv(full + "OTHER,1,9,97110,20260105,\n", result.lx_maps)
    assert out.splitlines()[1] == "PCN1,,8,97035,20260105,0900" and out.splitlines()[-1] == "OTHER,1,9,97110,20260105,"


def test_claim_already_off_stays_visibly_off():
    """A units fix moves CLM02 by its own change; an earlier mismatch keeps its C401."""
    data = x12(claim(ln("97110:GP", 3, charge="144"), ln("97140:GP", 1, charge="47"), charge="201", **MB))
    minutes = m(("PCN1", 1, 33), ("PCN1", 2, 7))
    result = edi_rehab.fix(data, unsafe=True, minutes=minutes, ignore="C401")
    assert ("CLM*PCN1*201***11:B:1*Y*A*Y*Y", "CLM*PCN1*153***11:B:1*Y*A*Y*Y") in changes(data, result.data)
    result = edi_rehab.fix(data, unsafe=True, minutes=minutes)
    assert [(a.code, a.applicability.value) for a in result.applied] == [("U101", "unsafe"), ("C401", "safe")]
    assert "CLM*PCN1*143***11:B:1*Y*A*Y*Y" in segs(result.data)


def test_unit_count_format_follows_the_file():
    data = x12(claim(ln("97110:GP", "3.00", charge="150"), ln("97140:GP", "1.00", charge="50"), **MB))
    result = edi_rehab.fix(data, unsafe=True, minutes=m(("PCN1", 1, 33), ("PCN1", 2, 7)))
    assert ("SV1*HC:97110:GP*150*UN*3.00***1", "SV1*HC:97110:GP*100*UN*2.00***1") in changes(data, result.data)


@pytest.mark.parametrize(
    ("value", "like", "expected"),
    [
        ("96", "144", "96"),
        ("96", "144.00", "96.00"),
        ("66.666", "100", "66.67"),
        ("66.665", "100", "66.67"),  # half-up, not banker's
        ("66.664", "100.0", "66.66"),
        ("40.5", "121", "40.5"),
        ("40.5", "121.00", "40.50"),
        ("80.5", "120.5", "80.5"),
        ("0.005", "1", "0.01"),
        ("96", "144.000", "96.000"),
        ("113.6666666", " 147 ", "113.67"),
    ],
)
def test_format_amount(value, like, expected):
    assert format_amount(Decimal(value), like) == expected


def test_taxonomy_disciplines():
    # The table lives in maps/modifiers.xml; check, fix and match read it through the maps.
    taxonomy_discipline = load_maps().modifiers.discipline_of_taxonomy
    assert taxonomy_discipline("225100000X") == "PT" and taxonomy_discipline("2251G0304X") == "PT"
    assert taxonomy_discipline("225200000X") == "PT"
    assert taxonomy_discipline("225X00000X") == "OT" and taxonomy_discipline("224Z00000X") == "OT"
    assert taxonomy_discipline("235Z00000X") == "SLP" and taxonomy_discipline("2355S0801X") == "SLP"
    assert taxonomy_discipline("207Q00000X") is None and taxonomy_discipline("") is None


def test_explicit_codes():
    assert explicit_codes("U1,U102", None, ["M205"]) == frozenset({"U102", "M205"})
    assert explicit_codes(("u102 ",)) == frozenset({"U102"})
    assert explicit_codes("U", "N3") == frozenset()


def test_unreadable_input_is_refused():
    with pytest.raises(X12ReadError):
        edi_rehab.fix(b"not x12 at all")
    data = x12(claim(ln("97530:GP:59"), ln("97140:GP")))
    with pytest.raises(X12ReadError):
        edi_rehab.fix(data[: len(data) // 2])
    with pytest.raises(TypeError):
        edi_rehab.fix("ISA*")  # type: ignore[arg-type]


def test_nothing_to_fix_returns_the_same_bytes():
    data = x12(claim(ln("97110:GP")))
    result = edi_rehab.fix(data, unsafe=True)
    assert result.data is data and not result.applied and not result.remaining


def test_non_837_transactions_pass_through():
    data = (FIXTURES / "sample-835.x12").read_bytes()
    result = edi_rehab.fix(data, unsafe=True)
    assert result.data == data and not result.applied
    assert codes(result.remaining) == ["X006"] * len(list(parse(data).transactions()))


def test_multi_transaction_positions_shift_after_removals():
    """Findings after a transaction that lost segments are reported at their output positions."""
    lost = claim(ln("97035:GP", charge="22"), ln("97110:GP", charge="48"), ln("97140:GP", charge="47"),
                 ln("97116:GP", charge="45"), **MB)
    later = claim(ln("97530:GP:59"), ln("97140:GP"), id="PCN2")
    data = x12(transactions=[[lost], [later]])
    minutes = m(("PCN1", 1, 8), ("PCN1", 2, 18), ("PCN1", 3, 13), ("PCN1", 4, 10))
    result = edi_rehab.fix(data, minutes=minutes)  # safe only: M205 in the second set, U101 withheld
    assert [a.code for a in result.applied] == ["M205"]
    unsafe = edi_rehab.fix(data, minutes=minutes, unsafe=True)
    assert sorted(a.code for a in unsafe.applied) == ["M205", "U101"]
    m205 = next(a for a in unsafe.applied if a.code == "M205")
    assert segs(data)[m205.segment - 1].startswith("SV1*HC:97530:GP:59")  # input position
    again = edi_rehab.fix(unsafe.data, minutes=remap_minutes(parse_minutes_csv(minutes, "m"), unsafe.lx_maps))
    assert again.data == unsafe.data


def test_report_lines_and_summary():
    case = next(c for c in CASES if c.id == "U101::zero_units_removes_the_line")
    checker = Checker(minutes=parse_minutes_csv(case.options["minutes"], "m.csv"))
    fixer = Fixer(checker, FixOptions(unsafe=False))
    list(fixer.fix_events(iter_events([case.data])))
    report = fixer.finish()
    lines = list(render_report(report, "in.x12", "out.x12"))
    assert lines[0].startswith("out.x12:") and " U101 " in lines[0]
    assert lines[1] == "    fix withheld: unsafe: it changes what is billed; enable with --unsafe-fixes"
    assert lines[-1] == summary_line(report)
    assert "1 hidden fix can be enabled with --unsafe-fixes." in lines[-1]
    fixer = Fixer(Checker(minutes=parse_minutes_csv(case.options["minutes"], "m.csv")), FixOptions(unsafe=True))
    list(fixer.fix_events(iter_events([case.data])))
    lines = list(render_report(fixer.finish(), "in.x12", "out.x12"))
    assert lines[0].startswith("in.x12:22: fixed U101 (unsafe): remove line 1 (97035, 0 units)")
    assert any("claim PCN1: LX renumbered (1->removed, 2->1, 3->2, 4->3)" in line for line in lines)
    assert lines[-1] == "Applied 1 fix (0 safe, 1 unsafe). No findings remain."
    assert fixer.report.to_json()["summary"]["applied_unsafe"] == 1


def test_diff_is_by_segment_with_the_files_terminator():
    data = x12(claim(ln("97530:GP:59"), ln("97140:GP")), se_count=7)
    fixer = Fixer(Checker())
    diff = "".join(render_diff(fixer.fix_events(iter_events([data])), "a.x12", "b.x12"))
    assert diff.startswith("--- a.x12\n+++ b.x12\n@@ -19,11 +19,11 @@\n NM1*82*1*THERAPIST*TEST****XX*1111111111~\n")
    assert "-SV1*HC:97530:GP:59*100*UN*1***1~\n+SV1*HC:97530:59:GP*100*UN*1***1~\n" in diff
    assert diff.endswith(" REF*6R*PCN1-2~\n-SE*7*0001~\n+SE*27*0001~\n")
    # a newline as the terminator: one segment per line, no doubled line breaks
    fixed = edi_rehab.fix((FIXTURES / "multi-interchange-837p.x12").read_bytes())
    assert not fixed.applied
    data = x12(claim(ln("97530:GP:59"), ln("97140:GP")), terminator="\n")
    diff = "".join(render_diff(Fixer(Checker()).fix_events(iter_events([data])), "a", "b"))
    assert "-SV1*HC:97530:GP:59*100*UN*1***1\n+SV1*HC:97530:59:GP*100*UN*1***1\n" in diff
    assert "\n\n" not in diff
    assert "".join(render_diff(Fixer(Checker()).fix_events(iter_events([x12(claim(ln("97110:GP")))])), "a", "b")) == ""


def test_removed_lines_show_as_deletions_in_the_diff():
    case = next(c for c in CASES if c.id == "U101::zero_units_removes_the_line")
    fixer = Fixer(Checker(minutes=parse_minutes_csv(case.options["minutes"], "m.csv")), FixOptions(unsafe=True))
    diff = "".join(render_diff(fixer.fix_events(iter_events([case.data])), "a", "b")).splitlines()
    assert [line for line in diff if line.startswith("-LX") or line.startswith("+LX")] == [
        "-LX*1~", "-LX*2~", "+LX*1~", "-LX*3~", "+LX*2~", "-LX*4~", "+LX*3~",
    ]
    removed = diff[diff.index("-LX*1~") : diff.index("-LX*1~") + 4]
    assert removed == ["-LX*1~", "-SV1*HC:97035:GP*22*UN*1***1~", "-DTP*472*D8*20260105~", "-REF*6R*PCN1-1~"]


def test_max_passes_bounds_the_work():
    data = x12(claim(ln("97530:GP:59:GP"), ln("97140:GP")))
    result = Fixer(Checker(), FixOptions(max_passes=1))
    list(result.fix_events(iter_events([data])))
    report = result.finish()
    assert [a.code for a in report.applied] == ["M205"]
    assert [w.code for w in report.unfixable] == ["M206"] and "run fix again" in report.unfixable[0].reason


# -- byte-exactness on every fixture and public sample ------------------------------------------


def _owned(segment) -> bytes:
    return segment.leading + segment.text + segment.terminator + segment.trailing


REWRITABLE = {"SV1", "CLM", "LX", "SE", "GE", "IEA"}
LOOP_ENDS = {"LX", "CLM", "HL", "SE"}


def fix_events_of(data: bytes, *, unsafe=False, minutes=None, select=None, ignore=None, unit_method=None, config=None):
    """The Fixer's events for ``data`` (what :func:`edi_rehab.fix` joins), and its report."""
    from edi_rehab.config import parse_config

    if isinstance(minutes, str):
        minutes = parse_minutes_csv(minutes, "m.csv")
    if isinstance(config, str):
        config = parse_config(config, "c.toml")
    checker = Checker(minutes=minutes, select=select, ignore=ignore, unit_method=unit_method, config=config)
    fixer = Fixer(checker, FixOptions(unsafe=unsafe, explicit=explicit_codes(checker.config.select)))
    events = list(fixer.fix_events(iter_events([data])))
    return events, fixer.finish()


def checked_fix(data: bytes, **options):
    """:func:`edi_rehab.fix`, plus the proof that nothing outside the fixes changed."""
    result = edi_rehab.fix(data, **options)
    events, _ = fix_events_of(data, **options)
    assert b"".join(fixed.data for fixed in events) == result.data
    assert_events_changed_only_by_fixes(events)
    assert parse(result.data).to_bytes() == result.data
    return result


def assert_events_changed_only_by_fixes(events) -> None:
    """Outside rewritten elements and removed 2400 loops, every byte is the input's.

    Proved from the fixer's own output -> input segment map, which is checked rather than
    trusted (any map passing these checks proves the claim): every output
    segment is its input segment byte for byte, or that segment with elements rewritten
    (same id, junk, terminator and line break); the input segments with no output segment
    are whole service lines (LX up to the next LX, CLM, HL or SE)."""
    for fixed in events:
        event = fixed.event
        if not fixed.changed:
            assert fixed.data is event.raw or fixed.data == event.raw
            continue
        if fixed.result is None:  # an envelope trailer: one segment rewritten
            old, new = event.segment, parse_segment_like(fixed.data, event.segment)
            assert old.id == new.id and old.id in REWRITABLE
            continue
        old, new = event.segments, fixed.result.segments
        assert b"".join(s.raw for s in new) == fixed.data
        origins = fixed.origins if fixed.origins is not None else tuple(range(len(new)))
        assert len(origins) == len(new) and list(origins) == sorted(set(origins))
        for j, i in enumerate(origins):
            o, n = old[i], new[j]
            if _owned(o) == _owned(n):
                continue
            assert (o.id, o.leading, o.terminator, o.trailing) == (n.id, n.leading, n.terminator, n.trailing)
            assert o.id in REWRITABLE, o.id
            assert len(n.elements) >= len(o.elements)
        gone = sorted(set(range(len(old))) - set(origins))
        runs: list[list[int]] = []
        for i in gone:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            assert old[run[0]].id == "LX" and old[run[-1] + 1].id in LOOP_ENDS, [old[i].id for i in run]


def parse_segment_like(data: bytes, like):
    from edi_rehab.x12.segments import Segment

    text = data[len(like.leading) : len(data) - len(like.terminator) - len(like.trailing)]
    return Segment(text, like.position, like.offset, like.delimiters, like.leading, like.terminator, like.trailing)


FILES = fixture_files() + sample_files("837*") + sample_files("835*")


def _minutes_for(path: Path) -> str | None:
    csv_path = path.with_name(path.name.replace("-837p.x12", "-minutes.csv"))
    return csv_path.read_text() if path.parent == FIXTURES and csv_path.is_file() else None


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_nothing_outside_the_edits_changes(path: Path):
    data = path.read_bytes()
    for unsafe in (False, True):
        try:
            events, report = fix_events_of(data, unsafe=unsafe, minutes=_minutes_for(path))
        except X12ReadError:
            pytest.skip("the reader refuses this sample")
        out = b"".join(fixed.data for fixed in events)
        assert_events_changed_only_by_fixes(events)
        assert (out != data) == bool(report.applied)
        assert out == edi_rehab.fix(data, unsafe=unsafe, minutes=_minutes_for(path)).data


@pytest.mark.parametrize("path", fixture_files(), ids=ids(fixture_files()))
def test_fixtures_fix_to_a_fixed_point(path: Path):
    data = path.read_bytes()
    minutes = _minutes_for(path)
    result = edi_rehab.fix(data, unsafe=True, minutes=minutes)
    table = remap_minutes(parse_minutes_csv(minutes, "m"), result.lx_maps) if minutes else None
    assert edi_rehab.fix(result.data, unsafe=True, minutes=table).data == result.data


def test_sample_fixture_fixes_every_finding():
    data = (FIXTURES / "sample-837p.x12").read_bytes()
    minutes = (FIXTURES / "sample-minutes.csv").read_text()
    before = codes(edi_rehab.check(data, minutes=minutes))
    result = edi_rehab.fix(data, unsafe=True, minutes=minutes)
    # no M205: the sample is billed to Medicare, whose profile sets no modifier order
    assert sorted(a.code for a in result.applied) == before == ["C401", "M201", "N301", "U101"]
    assert edi_rehab.check(result.data, minutes=minutes) == []


# -- pyx12: every fixed generated file stays valid ------------------------------------------------

FIX_KINDS = {
    "units-over-minutes": Defect("units-over-minutes", claim=1, line=1),
    "units-under-minutes": Defect("units-under-minutes", claim=1, line=1),
    "mj-units": Defect("mj-units", claim=1, line=1),
    "missing-therapy-modifier": Defect("missing-therapy-modifier", claim=1, line=2),
    "modifier-order": Defect("modifier-order", claim=1, line=2),
    "ncci-no-59": Defect("ncci-no-59", claim=1, line=2),
    "59-on-97140": Defect("59-on-97140", claim=1, line=2),
    "clm02-mismatch": Defect("clm02-mismatch", claim=1),
    "wrong-se01": Defect("wrong-se01", claim=1),
    "wrong-ge01": Defect("wrong-ge01", claim=1),
    "wrong-iea01": Defect("wrong-iea01", claim=1),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FIX_KINDS))
def test_pyx12_validates_fixed_generated_files(kind):
    from edi_rehab.validate import validate_bytes

    # modifier order is a defect only for a payer whose profile has an order (Medicaid here, not Medicare)
    payers = ("MC",) if kind == "modifier-order" else ("MB",)
    generated = generate_837p(
        seed=5, claims=2, lines_per_claim=(2, 3), defects=(FIX_KINDS[kind],), line_break="\n", filing_indicators=payers
    )
    minutes = generated.minutes_csv()
    result = edi_rehab.fix(generated.data, unsafe=True, select="U,M,N,C,X,U102", minutes=minutes)
    assert result.applied, kind
    assert validate_bytes(result.data).valid, [(i.code, i.message) for i in validate_bytes(result.data).issues]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pyx12_validates_every_fixed_case(case: Case):
    """Line removals, LX renumbering, SE01/GE01 recounts, CLM02 and SV1 rewrites: a valid
    case stays valid, and a case invalid only by its counts becomes valid."""
    from edi_rehab.validate import validate_bytes

    result = _run(case)
    if case.id.startswith("X001::") and "ignored" not in case.id:
        assert not validate_bytes(case.data).valid and validate_bytes(result.data).valid
    elif validate_bytes(case.data).valid:
        assert validate_bytes(result.data).valid, [i.message for i in validate_bytes(result.data).issues]


VALID_SAMPLES = sample_files("837*")


@pytest.mark.slow
@pytest.mark.parametrize("path", fixture_files() + VALID_SAMPLES, ids=ids(fixture_files() + VALID_SAMPLES))
def test_pyx12_validity_is_preserved(path: Path):
    from edi_rehab.validate import validate_bytes

    data = path.read_bytes()
    if not validate_bytes(data).valid:
        pytest.skip("the input does not pass pyx12")
    result = edi_rehab.fix(data, unsafe=True, minutes=_minutes_for(path))
    assert validate_bytes(result.data).valid


# -- properties ------------------------------------------------------------------------------------

_KINDS = sorted(FIX_KINDS) + ["minutes-as-units"]


@st.composite
def defective_files(draw):
    seed = draw(st.integers(0, 5000))
    claims = draw(st.integers(1, 3))
    defects = []
    for number in range(1, claims + 1):
        for kind in draw(st.lists(st.sampled_from(_KINDS), max_size=2, unique=True)):
            level = "line" if kind not in ("clm02-mismatch", "wrong-se01", "wrong-ge01", "wrong-iea01") else "claim"
            line = draw(st.integers(1, 2)) if level == "line" else None
            defects.append(Defect(kind, claim=number, line=line))
    try:
        return _generate(draw, seed, claims, defects)
    except ValueError:  # two unit defects on one line, an NCCI defect with no room ...
        reject()


def _generate(draw, seed, claims, defects):
    return generate_837p(
        seed=seed,
        claims=claims,
        lines_per_claim=(2, 5),
        disciplines=draw(st.sampled_from([("PT",), ("PT", "OT")])),
        filing_indicators=draw(st.sampled_from([("MB",), ("CI",), ("MB", "MC")])),
        defects=tuple(defects),
        **draw(st.sampled_from([
            {"delimiters": "*:^~", "line_break": ""},
            {"delimiters": "*:^~", "line_break": "\r\n"},
            {"delimiters": "|>!\n", "line_break": ""},
            {"delimiters": "!}{'", "line_break": "\n"},
        ])),
    )


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(generated=defective_files(), unsafe=st.booleans(), explicit=st.booleans(), notes=st.booleans())
def test_fix_is_idempotent_and_check_finds_nothing_fixed(generated, unsafe, explicit, notes):
    minutes = None if notes else parse_minutes_csv(generated.minutes_csv(), "m.csv")
    select = "U,M,N,C,X,U102" if explicit else None
    result = checked_fix(generated.data, unsafe=unsafe, minutes=minutes, select=select)
    follow = remap_minutes(minutes, result.lx_maps) if minutes is not None else None
    again = edi_rehab.fix(result.data, unsafe=unsafe, minutes=follow, select=select)
    assert again.data == result.data and not again.applied
    found = edi_rehab.check(result.data, minutes=follow, select=select)
    assert [(f.code, f.segment) for f in found] == [(f.code, f.segment) for f in result.remaining]
    # no finding that was fixed comes back: a remaining finding of a fixable rule was withheld or refused
    left = {(w.finding.code, w.finding.segment) for w in (*result.withheld_unsafe, *result.unfixable)}
    for finding in found:
        if registry.BY_CODE[finding.code].fix is not None:
            assert (finding.code, finding.segment) in left


_TIMED = ["97110", "97112", "97140", "97116", "97035", "97530"]


@st.composite
def unit_days(draw):
    """Claims of timed lines with random minutes and units: over, under and misallocated days,
    ties (CMS Ex. 2, 5), 0-unit allocations, assistants' parts, minutes in the CSV or in NTE."""
    claims, rows = [], []
    notes = draw(st.booleans())
    for number in range(1, draw(st.integers(1, 3)) + 1):
        claim_id = f"PCN{number}"
        codes = draw(st.lists(st.sampled_from(_TIMED), min_size=1, max_size=4, unique=True))
        lines = []
        for lx, code in enumerate(codes, start=1):
            minutes = draw(st.integers(0, 45))
            units = draw(st.integers(1, 4))
            mods = draw(st.sampled_from(["GP", "GP", "59:GP", "CQ:GP", "GP:KX"]))
            charge = draw(st.sampled_from(["48", "52.50", "150.00", "33.33"]))
            note = f"MIN {minutes}" if notes else None
            lines.append(ln(f"{code}:{mods}", units, charge=charge, note=note))
            rows.append((claim_id, lx, minutes, code, D1, f"{draw(st.integers(8, 9)):02d}00"))
        if draw(st.booleans()):
            rows.append((claim_id, None, draw(st.integers(1, 14)), draw(st.sampled_from(_TIMED)), D1, "1000"))
        filing = draw(st.sampled_from(["MB", "CI"]))
        extra = COB if draw(st.integers(0, 5)) == 0 else []
        claims.append(claim(*lines, id=claim_id, filing=filing, extra=extra, patient=f"M{number}"))
    return x12(*claims), (None if notes else m(*rows))


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(unit_days(), st.booleans(), st.sampled_from([None, "cms", "per-code"]))
def test_units_fixes_are_idempotent_and_check_agrees(day, explicit, method):
    data, minutes_text = day
    table = parse_minutes_csv(minutes_text, "m.csv") if minutes_text else None
    select = "U,M,N,C,X,U102" if explicit else None
    result = checked_fix(data, unsafe=True, minutes=table, select=select, unit_method=method)
    follow = remap_minutes(table, result.lx_maps) if table is not None else None
    again = edi_rehab.fix(result.data, unsafe=True, minutes=follow, select=select, unit_method=method)
    assert again.data == result.data and not again.applied
    found = edi_rehab.check(result.data, minutes=follow, select=select, unit_method=method)
    assert [(f.code, f.segment) for f in found] == [(f.code, f.segment) for f in result.remaining]
    # the units fixes never leave a day over-billed or misallocated unless they said why
    left = {(w.finding.code, w.finding.segment) for w in result.unfixable}
    for finding in found:
        if finding.code in ("U101", "U103"):
            assert (finding.code, finding.segment) in left, finding
    # the claim total follows the lines it was balanced with
    before = {f.claim_id for f in edi_rehab.check(data, minutes=table, select="C401")}
    after = {f.claim_id for f in edi_rehab.check(result.data, select="C401")}
    assert after <= before


def _units_by_part(data: bytes) -> dict[tuple[str, bool], int]:
    """SV104 summed per (code, has CQ/CO) over the file's SV1 segments."""
    totals: dict[tuple[str, bool], int] = {}
    for text in segs(data):
        if not text.startswith("SV1*"):
            continue
        elements = text.split("*")
        composite = elements[1].split(":")
        key = (composite[1], bool({"CQ", "CO"} & set(composite[2:])))
        totals[key] = totals.get(key, 0) + int(elements[4])
    return totals


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 45), st.integers(0, 45), st.integers(1, 4), st.integers(1, 4),
    st.sampled_from([None, ("97140", 0), ("97140", 8), ("97140", 30)]), st.booleans(),
)
def test_unit_fix_never_moves_a_unit_from_a_cq_line(pt, pta, gp_units, cq_units, other, explicit):
    lines = [ln("97110:GP", gp_units, charge="48"), ln("97110:CQ:GP", cq_units, charge="48")]
    rows = [("PCN1", 1, pt), ("PCN1", 2, pta)]
    if other is not None:
        lines.append(ln(f"{other[0]}:GP", 1, charge="47"))
        rows.append(("PCN1", 3, other[1]))
    data = x12(claim(*lines, **MB))
    select = "U,M,N,C,X,U102" if explicit else None
    result = checked_fix(data, unsafe=True, minutes=m(*rows), select=select)
    before, after = _units_by_part(data), _units_by_part(result.data)
    for code in {code for code, _ in before}:
        gained_without = after.get((code, False), 0) > before.get((code, False), 0)
        lost_with = after.get((code, True), 0) < before.get((code, True), 0)
        assert not (gained_without and lost_with), (before, after)


_BASES = [
    generate_837p(seed=seed, claims=2, lines_per_claim=(2, 3), delimiters=delims, line_break=brk,
                  defects=(Defect("units-over-minutes", claim=1, line=1), Defect("modifier-order", claim=2, line=2),
                           Defect("wrong-se01", claim=2)))
    for seed, (delims, brk) in enumerate([("*:^~", ""), ("|>^\n", ""), ("*:^~", "\r\n")])
]
_INTERESTING = b"~*:^|>\r\n 0123456789LXSVGEIEA"


@st.composite
def mutated(draw):
    base = draw(st.sampled_from(_BASES))
    data = bytearray(base.data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "truncate", "splice"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data.insert(at, draw(st.one_of(st.sampled_from(list(_INTERESTING)), st.integers(0, 255))))
        elif op == "delete" and at < len(data):
            del data[at : at + draw(st.integers(1, 30))]
        elif op == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "splice":
            other = draw(st.integers(0, len(data)))
            data[at:at] = data[other : other + draw(st.integers(1, 80))]
    return bytes(data), base.minutes_csv()


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_fix_never_raises_on_mutated_input(sample, unsafe):
    data, minutes = sample
    try:
        checked_fix(data, unsafe=unsafe, minutes=minutes, select="U,M,N,C,X,U102")
    except X12ReadError:
        return


def test_single_segments_have_the_bytes_tiling_gives_them():
    """Fix builds only the segments it edits; each must own exactly what the reader's tiling
    gives it (junk before it, terminator, line breaks), or a splice would land off by a byte."""
    from edi_rehab.fixes import _segment_at

    junk = (FIXTURES / "sample-837p.x12").read_bytes().replace(b"~\nLX", b"~\n~\r\n\nLX").replace(b"~\nSE", b"~~SE")
    for data in [junk] + [p.read_bytes() for p in fixture_files()]:
        for tx in parse(data).transactions():
            raw, offsets, cursor = tx.raw, [], 0
            for text in tx.texts:
                offsets.append(raw.find(text, cursor))
                cursor = offsets[-1] + len(text)
            for i, tiled in enumerate(tx.segments):
                alone = _segment_at(tx, offsets, i)
                assert (alone.text, alone.position, alone.offset, alone.leading, alone.terminator, alone.trailing) == (
                    tiled.text, tiled.position, tiled.offset, tiled.leading, tiled.terminator, tiled.trailing
                )


def test_tolerated_input_is_kept_byte_for_byte():
    """A BOM, whitespace before the ISA, an empty segment and CRLF stay exactly as they were."""
    body = x12(claim(ln("97530:GP:59"), ln("97140:GP")), terminator="~\r\n")
    data = b"\xef\xbb\xbf  " + body.replace(b"~\r\nLX*2", b"~~\r\nLX*2")
    result = checked_fix(data)
    assert [a.code for a in result.applied] == ["M205"]
    assert result.data == data.replace(b"SV1*HC:97530:GP:59*", b"SV1*HC:97530:59:GP*")
    assert sorted(f.code for f in result.remaining) == ["X003"] * 3  # BOM, whitespace, empty segment: reported, never "fixed"
