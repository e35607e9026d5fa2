"""maps/ loads, validates and answers lookups; broken maps fail loudly with file and line."""

from __future__ import annotations

import shutil
from datetime import date
from importlib import resources

import pytest

from edi_rehab import mapdata
from edi_rehab.mapdata import MAP_FILES, MapError, MueEdit, PtpEdit, build_maps, load_maps, parse_map


@pytest.fixture(scope="module")
def maps() -> mapdata.Maps:
    return load_maps()


def shipped_bytes() -> dict[str, bytes]:
    root = resources.files("edi_rehab.maps")
    return {name: root.joinpath(name).read_bytes() for name in MAP_FILES}


def replace_once(data: bytes, old: str, new: str) -> bytes:
    assert data.count(old.encode()) >= 1, old
    return data.replace(old.encode(), new.encode(), 1)


def line_of(data: bytes, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``."""
    return data[: data.index(needle.encode())].count(b"\n") + 1


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def test_every_map_has_a_schema_and_provenance(maps):
    root = resources.files("edi_rehab.maps")
    for name in MAP_FILES:
        assert root.joinpath("schema", name.replace(".xml", ".xsd")).is_file(), name
        prov = maps.provenance[name]
        assert prov.version and prov.date >= date(2026, 1, 1)
        assert prov.sources, name
    assert root.joinpath("PROVENANCE.md").is_file()


# -- the release (release.xml) --------------------------------------------------------------------
def test_the_release_names_every_file_at_its_own_version(maps):
    assert maps.release.version == "2026.12.0" and maps.release.date == date(2026, 12, 4)
    listed = parse_map("release.xml", shipped_bytes()["release.xml"]).content
    assert dict(listed) == {name: maps.provenance[name].version for name in MAP_FILES if name != "release.xml"}


def test_provenance_md_names_the_release():
    text = resources.files("edi_rehab.maps").joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    release = load_maps().release
    assert f"Maps release **{release.version}**, dated {release.date.isoformat()}" in text


@pytest.mark.parametrize(
    "file,old,new,why",
    [
        # a file edited and re-versioned without a new release
        ("payers.xml", '<provenance version="2026.12.0"', '<provenance version="2026.12.1"', "payers.xml is listed at version 2026.12.0 but the file's provenance says 2026.12.1"),
        # a file left out of the release
        ("release.xml", '<file name="rarc.xml" version="2026.12.0"/>', "", "rarc.xml is not listed"),
        # a file dated after the release that claims to hold it
        ("codes.xml", '<provenance version="2026.12.0" date="2026-12-04">', '<provenance version="2026.12.0" date="2026-12-05">', "dated 2026-12-05, after the release's date 2026-12-04"),
    ],
)
def test_a_release_that_does_not_match_its_files_fails(file, old, new, why):
    files = shipped_bytes()
    files[file] = replace_once(files[file], old, new)
    with pytest.raises(MapError, match=why.replace(".", r"\.")) as error:
        build_maps(files)
    assert error.value.file == "release.xml"


@pytest.mark.parametrize(
    "old,new",
    [
        ('<release>\n  <provenance version="2026.12.0"', '<release>\n  <provenance version="december"'),  # not YEAR.MONTH.N
        ('<file name="rarc.xml"', '<file name="rarcs.xml"'),  # not a map file
        ('<file name="rarc.xml"', '<file name="carc.xml"'),  # listed twice
    ],
)
def test_the_release_schema_refuses(old, new):
    files = shipped_bytes()
    files["release.xml"] = replace_once(files["release.xml"], old, new)
    with pytest.raises(MapError, match="schema violation"):
        build_maps(files)


def test_default_load_is_cached():
    assert load_maps() is load_maps()


def test_a_cold_load_parses_each_file_once_and_compiles_each_schema_once(monkeypatch):
    # What would make loading slow is work done again: a file parsed twice, a schema compiled
    # per use. Counted, not timed: a wall-clock bound here failed on a loaded machine.
    files = shipped_bytes()
    mapdata._schema.cache_clear()
    parsed = []
    parse_xml = mapdata._parse_xml
    monkeypatch.setattr(mapdata, "_parse_xml", lambda name, data: parsed.append(name) or parse_xml(name, data))
    build_maps(files)
    assert sorted(parsed) == sorted(MAP_FILES)
    assert mapdata._schema.cache_info().misses == len(MAP_FILES)
    build_maps(files)  # a second build compiles no schema again
    assert mapdata._schema.cache_info().misses == len(MAP_FILES)
    assert mapdata._schema.cache_info().hits == len(MAP_FILES)


def test_maps_dir_loads_a_copy(tmp_path):
    src = resources.files("edi_rehab.maps")
    for name in MAP_FILES:
        (tmp_path / name).write_bytes(src.joinpath(name).read_bytes())
    maps = load_maps(maps_dir=tmp_path)
    assert maps is not load_maps()
    assert maps.code("97110").unit_class == "timed15"


def test_maps_dir_missing_file_is_a_map_error(tmp_path):
    with pytest.raises(MapError) as err:
        load_maps(maps_dir=tmp_path)
    assert err.value.file == "codes.xml"


# ------------------------------------------------------------------------------------------------
# codes.xml
# ------------------------------------------------------------------------------------------------

CODE_CASES = [
    # code, class, therapy list, discipline
    ("97110", "timed15", "always", None),
    ("97140", "timed15", "always", None),
    ("97530", "timed15", "always", None),
    ("97033", "timed15", "always", None),  # one site says untimed; descriptor says 15 min
    ("97545", "timed-other", "always", None),
    ("97546", "timed-other", "always", None),
    ("96125", "timed-other", "sometimes", None),
    ("92605", "timed-other", "always", "SLP"),
    ("92618", "timed-other", "always", "SLP"),
    ("92607", "timed-other", "always", "SLP"),
    ("92608", "timed-other", "always", "SLP"),
    ("92626", "timed-other", "sometimes", None),
    ("92627", "timed-other", "sometimes", None),
    ("98980", "timed-other", "sometimes", None),
    ("98981", "timed-other", "sometimes", None),
    ("97161", "untimed", "always", "PT"),
    ("97163", "untimed", "always", "PT"),
    ("97164", "untimed", "always", "PT"),
    ("97165", "untimed", "always", "OT"),
    ("97168", "untimed", "always", "OT"),
    ("97169", "untimed", "no", None),
    ("97172", "untimed", "no", None),
    ("97150", "untimed", "always", None),  # expressmbs calls it timed; it is not
    ("97010", "untimed", "always", None),
    ("97014", "untimed", "always", None),
    ("G0283", "untimed", "always", None),
    ("92507", "untimed", "always", "SLP"),
    ("92508", "untimed", "always", "SLP"),
    ("92526", "untimed", "always", None),  # SLP or OT: no one discipline
    ("92521", "untimed", "always", "SLP"),
    ("92524", "untimed", "always", "SLP"),
    ("92610", "untimed", "always", None),  # SLP or OT
    ("97039", "ambiguous", "always", None),
    ("97139", "ambiguous", "always", None),
]


@pytest.mark.parametrize("code,unit_class,therapy,discipline", CODE_CASES, ids=[c[0] for c in CODE_CASES])
def test_code_classification(maps, code, unit_class, therapy, discipline):
    info = maps.code(code)
    assert info is not None
    assert (info.unit_class, info.therapy_list, info.discipline) == (unit_class, therapy, discipline)
    assert info.always_therapy == (therapy == "always")


@pytest.mark.parametrize(
    "code,disciplines",
    [("92526", ("SLP", "OT")), ("92610", ("SLP", "OT")), ("92507", ("SLP",)), ("97161", ("PT",)), ("97110", ())],
)
def test_who_furnishes_a_code(maps, code, disciplines):
    # swallowing is furnished by SLPs and OTs (issue 10, expert review F10 [M])
    assert maps.code(code).disciplines == disciplines


def test_a_repeated_discipline_fails():
    files = shipped_bytes()
    files["codes.xml"] = replace_once(files["codes.xml"], 'discipline="SLP OT"', 'discipline="SLP SLP"')
    with pytest.raises(MapError, match="repeats a discipline"):
        build_maps(files)


@pytest.mark.parametrize(
    "code,kind",
    [("97161", "initial"), ("97164", "re"), ("97167", "initial"), ("97168", "re"), ("97172", "re"),
     ("92523", None), ("92610", None), ("97110", None)],
)
def test_evaluation_kind(maps, code, kind):
    # C412 reads it: one PT/OT/AT evaluation or re-evaluation per discipline and date; SLP evaluations have none
    assert maps.code(code).evaluation_kind == kind


def test_evaluation_kind_needs_an_evaluation():
    files = shipped_bytes()
    files["codes.xml"] = replace_once(
        files["codes.xml"], 'evaluation="true" evaluation-kind="re"', 'evaluation="false" evaluation-kind="re"'
    )
    with pytest.raises(MapError, match="evaluation-kind needs"):
        build_maps(files)


def test_reference_code_lists_are_complete(maps):
    timed15 = "97032 97033 97034 97035 97036 97110 97112 97113 97116 97124 97140 97129 97130 97530 97533 97535 97537 97542 97750 97755 97760 97761 97763"
    untimed = "97161 97162 97163 97164 97165 97166 97167 97168 97169 97170 97171 97172 97010 97012 97014 97016 97018 97022 97024 97026 97028 97150 G0283 92507 92508 92526 92521 92522 92523 92524 92610"
    assert set(timed15.split()) <= maps.codes_in_class("timed15")
    assert set(untimed.split()) <= maps.codes_in_class("untimed")
    assert maps.codes_in_class("ambiguous") == {"97039", "97139"}


@pytest.mark.parametrize(
    "code,unit_class,therapy,discipline,addon_to",
    [("97550", "timed-other", "sometimes", None, ()), ("97551", "timed-other", "sometimes", None, ("97550",)),
     ("97552", "untimed", "sometimes", None, ()), ("97597", "measured", "sometimes", None, ()),
     ("97598", "measured", "sometimes", None, ("97597",)), ("97605", "untimed", "sometimes", None, ()),
     ("97610", "untimed", "sometimes", None, ()), ("29581", "untimed", "sometimes", None, ()),
     ("29584", "untimed", "sometimes", None, ()), ("92609", "untimed", "always", "SLP", ()),
     ("92611", "untimed", "sometimes", "SLP", ()), ("92612", "untimed", "sometimes", "SLP", ()),
     ("98975", "untimed", "sometimes", None, ()), ("98977", "untimed", "sometimes", None, ())],
)
def test_codes_billers_use(maps, code, unit_class, therapy, discipline, addon_to):
    # issue 10 and expert review F15: codes the map lacked; from general coding knowledge [M]
    info = maps.code(code)
    assert (info.unit_class, info.therapy_list, info.discipline, info.addon_to) == (unit_class, therapy, discipline, addon_to)
    assert info.confidence == "M" and "billers-use" in info.sources


@pytest.mark.parametrize(
    "code,unit_class,therapy,addon_to,deleted,replaced_by",
    [("20560", "untimed", "sometimes", (), None, ()), ("20561", "untimed", "sometimes", (), None, ()),
     ("95851", "measured", "sometimes", (), None, ()), ("95852", "untimed", "sometimes", (), None, ()),
     ("96110", "measured", "sometimes", (), None, ()), ("96112", "timed-other", "sometimes", (), None, ()),
     ("96113", "timed-other", "sometimes", ("96112",), None, ()),
     ("96111", "untimed", "sometimes", (), "2019-01-01", ("96112", "96113")),
     ("97762", "timed15", "always", (), "2018-01-01", ("97763",))],
)
def test_further_codes_the_review_names(maps, code, unit_class, therapy, addon_to, deleted, replaced_by):
    # expert review F15 (20560/20561, 95851/95852, 96110-96113) and the deleted predecessors of
    # 97763 (the reference's 97750-97762 range) and 96112/96113; general coding knowledge [M]
    info = maps.code(code)
    assert (info.unit_class, info.therapy_list, info.addon_to, info.replaced_by) == (unit_class, therapy, addon_to, replaced_by)
    assert (info.deleted.isoformat() if info.deleted else None) == deleted
    assert info.confidence == "M" and {"review-codes", "review-deleted"} & set(info.sources)
    assert info.discipline is None  # any therapy discipline (or a physician) may bill them


def test_measured_codes_say_what_a_unit_counts(maps):
    assert maps.codes_in_class("measured") == {"97597", "97598", "95851", "96110"}
    assert "20 sq cm" in maps.code("97598").unit_basis
    files = shipped_bytes()
    files["codes.xml"] = replace_once(
        files["codes.xml"], "<unit-basis>first 20 sq cm of wound surface or less</unit-basis>", ""
    )
    with pytest.raises(MapError, match="measured codes need a <unit-basis>"):
        build_maps(files)


def test_92627_is_per_15_minutes(maps):
    # expert review F18 [M]: each further 15 minutes after 92626's first hour, not 30
    info = maps.code("92627")
    assert info.time_basis == "each further 15 minutes"
    assert info.addon_to == ("92626",)


def test_code_lookup_normalises_and_misses(maps):
    assert maps.code(" g0283 ").code == "G0283"
    assert maps.code("99213") is None


def test_medicare_replacement_and_addons(maps):
    assert maps.code("97014").medicare_replacement == "G0283"
    assert maps.code("97110").medicare_replacement is None
    assert maps.code("97130").addon_to == ("97129",)
    assert maps.code("92618").addon_to == ("92605",)
    for info in maps.codes.values():
        if info.unit_class == "timed-other":
            assert info.time_basis, info.code


def test_deleted_codes(maps):
    old = maps.code("92506")
    assert old.deleted == date(2014, 1, 1)
    assert old.replaced_by == ("92521", "92522", "92523", "92524")
    assert old.valid_on(date(2013, 12, 31)) and not old.valid_on(date(2014, 1, 1))
    assert maps.code("97110").valid_on(date(2030, 1, 1))


def test_labels_are_short_own_words(maps):
    # A guard against pasting CPT descriptors: ours are one short phrase.
    for info in maps.codes.values():
        assert 3 <= len(info.label) <= 90, info.code


# ------------------------------------------------------------------------------------------------
# ncci-ptp.xml
# ------------------------------------------------------------------------------------------------


def test_97140_97530_regression(maps):
    """Reference 3.2 / 9.1: 97140 is column 1, 97530 column 2, modifier allowed, from 2020-01-01."""
    for a, b in (("97140", "97530"), ("97530", "97140")):
        (edit,) = maps.ptp_pairs_between(a, b, date(2024, 6, 1))
        assert (edit.column1, edit.column2, edit.modifier_indicator) == ("97140", "97530", "1")
        assert edit.effective == date(2020, 1, 1) and edit.deletion is None
        assert edit.modifier_allowed
    assert maps.ptp_pairs_between("97140", "97530", date(2019, 12, 31)) == []


PAIR_CASES = [
    # column1, column2, indicator, a DOS on which it fires
    ("97161", "97140", "1", date(2024, 1, 2)),
    ("97162", "97140", "1", date(2024, 1, 2)),
    ("97163", "97140", "1", date(2024, 1, 2)),
    ("97112", "97164", "1", date(2024, 1, 2)),
    ("97530", "97164", "1", date(2024, 1, 2)),
    ("97535", "97164", "1", date(2024, 1, 2)),
    ("97012", "97140", "1", date(2024, 1, 2)),
    ("97530", "97116", "1", date(2024, 1, 2)),
    ("97110", "97150", "1", date(2024, 1, 2)),
    ("97161", "97530", "0", date(2020, 2, 1)),
    ("97167", "97150", "0", date(2020, 2, 1)),
]


@pytest.mark.parametrize("col1,col2,indicator,dos", PAIR_CASES, ids=[f"{c[0]}-{c[1]}" for c in PAIR_CASES])
def test_reference_pairs(maps, col1, col2, indicator, dos):
    edits = maps.ptp_pairs_between(col2, col1, dos)
    assert [(e.column1, e.column2, e.modifier_indicator) for e in edits] == [(col1, col2, indicator)]


def test_deleted_2020_evaluation_edits(maps):
    """Indicator-0 eval/97530 edits of January 2020, deleted April 2020 (reference 3.3, 9.4)."""
    (edit,) = maps.ptp_pairs_between("97161", "97530")
    assert edit.modifier_indicator == "0"
    assert (edit.effective, edit.deletion) == (date(2020, 1, 1), date(2020, 4, 1))
    assert maps.ptp_pairs_between("97161", "97530", date(2020, 3, 31)) == [edit]
    assert maps.ptp_pairs_between("97161", "97530", date(2020, 4, 1)) == []
    assert maps.ptp_pairs_between("97161", "97530", date(2025, 1, 1)) == []


def test_unverified_column_orders_are_marked(maps):
    by_pair = {(e.column1, e.column2): e for e in maps.ptp_edits}
    for pair in [("97530", "97116"), ("97110", "97150"), ("97161", "97140"), ("97150", "97164")]:
        assert by_pair[pair].order_confidence == "M", pair
    for edit in maps.ptp_edits:
        assert edit.source == "ncci-ptp.xml"
        assert {edit.confidence, edit.order_confidence, edit.date_confidence} <= {"V", "S", "M", "D"}
        assert edit.evidence and edit.rationale


ACTIVE_CASES = [
    # effective, deletion, indicator, dos, active_on, fires_on
    ("2020-01-01", None, "1", "2019-12-31", False, False),
    ("2020-01-01", None, "1", "2020-01-01", True, True),
    ("2020-01-01", "2020-04-01", "0", "2020-03-31", True, True),
    ("2020-01-01", "2020-04-01", "0", "2020-04-01", False, False),  # deletion is exclusive
    ("2020-01-01", "2020-01-01", "9", "2020-01-01", False, False),  # retroactive deletion: never active
    ("2020-01-01", None, "9", "2024-01-01", True, False),  # indicator 9 never fires
]


@pytest.mark.parametrize("eff,dele,ind,dos,active,fires", ACTIVE_CASES)
def test_active_on_semantics(eff, dele, ind, dos, active, fires):
    edit = PtpEdit(
        "97140",
        "97530",
        date.fromisoformat(eff),
        date.fromisoformat(dele) if dele else None,
        ind,
        "test",
        "test",
    )
    assert edit.active_on(date.fromisoformat(dos)) is active
    assert edit.fires_on(date.fromisoformat(dos)) is fires


def test_ptp_edits_for_code(maps):
    edits = maps.ptp_edits_for("97164", date(2024, 1, 1))
    assert {e.column1 for e in edits} == {"97112", "97530", "97535", "97150"}
    assert all(e.column2 == "97164" for e in edits)


def test_indicator_9_only_on_request():
    maps = load_maps(extra_ptp=[PtpEdit("97110", "97124", date(2020, 1, 1), None, "9", "r", "f.txt")])
    assert maps.ptp_pairs_between("97110", "97124", date(2024, 1, 1)) == []
    assert len(maps.ptp_pairs_between("97110", "97124", date(2024, 1, 1), include_inapplicable=True)) == 1


def test_cms_edits_supersede_map_pairs():
    official = PtpEdit("97530", "97140", date(2021, 1, 1), None, "1", "CMS row", "ccipra-f1.txt")
    maps = load_maps(extra_ptp=[official])
    assert maps.ptp_pairs_between("97140", "97530") == [official]
    # pairs the file does not mention stay
    assert maps.ptp_pairs_between("97012", "97140")
    only = load_maps(extra_ptp=[official], ptp_authoritative=True)
    assert only.ptp_edits == (official,)
    # the cached default is untouched
    assert load_maps().ptp_pairs_between("97140", "97530")[0].source == "ncci-ptp.xml"


def test_mue_merge():
    edit = MueEdit("97110", 8, 3, "Clinical: Data", "mue.csv")
    maps = load_maps(mue={"97110": edit})
    assert maps.mue("97110") == edit
    assert maps.mue("97140") is None
    assert load_maps().mue("97110") is None


# ------------------------------------------------------------------------------------------------
# modifiers.xml
# ------------------------------------------------------------------------------------------------

ORDER_CASES = [
    # policy, input, expected
    ("conventional", ("GP", "59"), ("59", "GP")),
    ("conventional", ("59", "GP"), ("59", "GP")),
    ("conventional", ("KX", "GP", "CQ"), ("CQ", "GP", "KX")),
    ("conventional", ("RT", "GA", "KX", "GP", "XU", "CQ", "52"), ("52", "CQ", "XU", "GP", "KX", "GA", "RT")),
    ("conventional", ("ZZ", "GP", "59"), ("59", "GP", "ZZ")),  # unknown goes last
    ("conventional", ("ZZ", "GP", "YY", "59"), ("59", "GP", "ZZ", "YY")),  # unknowns keep their order
    ("conventional", ("RT", "LT"), ("RT", "LT")),  # same class keeps its order
    ("conventional", ("gp", "59"), ("59", "gp")),  # strings returned as given
    ("conventional", ("25", "GP", "59"), ("59", "25", "GP")),  # payment after 59 (CCO)
    ("gp-first", ("59", "GP"), ("GP", "59")),
    ("gp-first", ("CQ", "KX", "GP"), ("GP", "CQ", "KX")),
    (None, ("GP", "59"), ("GP", "59")),
    ("none", ("KX", "GP"), ("KX", "GP")),
    ("conventional", (), ()),
]


@pytest.mark.parametrize("policy,mods,expected", ORDER_CASES, ids=[f"{c[0]}:{':'.join(c[1])}" for c in ORDER_CASES])
def test_modifier_order(maps, policy, mods, expected):
    assert maps.modifiers.order(mods, policy) == expected


def test_97530_59_gp_reads_conventionally(maps):
    assert ":".join(("HC", "97530", *maps.modifiers.order(["GP", "59"], "conventional"))) == "HC:97530:59:GP"


def test_unknown_policy_is_a_key_error(maps):
    with pytest.raises(KeyError, match="no-such"):
        maps.modifiers.order(["GP"], "no-such")


def test_modifier_facts(maps):
    mods = maps.modifiers
    assert {m: mods.discipline_of(m) for m in ("GP", "GO", "GN", "59")} == {"GP": "PT", "GO": "OT", "GN": "SLP", "59": None}
    assert (mods.required_with("CQ"), mods.required_with("CO"), mods.required_with("GP")) == ("GP", "GO", None)
    assert mods.distinct_service == {"59", "XE", "XS", "XP", "XU"}
    anatomic = "E1 E2 E3 E4 FA F1 F2 F3 F4 F5 F6 F7 F8 F9 TA T1 T2 T3 T4 T5 T6 T7 T8 T9 LT RT LC LD RC LM RI".split()
    expected = {*anatomic, "24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU"}
    assert mods.ncci_associated == expected
    assert mods.is_ncci_associated("xu") and not mods.is_ncci_associated("GP")
    assert mods.disciplines(["59", "GP", "GO"]) == ("PT", "OT")
    assert [mods.class_of(m) for m in ("22", "CQ", "XU", "GN", "KX", "GZ", "RT", "ZZ")] == [
        "pricing", "assistant", "ncci-distinct", "discipline", "threshold", "liability", "anatomic", None,
    ]


# ------------------------------------------------------------------------------------------------
# payers.xml
# ------------------------------------------------------------------------------------------------

PROFILE_CASES = [
    # payer id, filing indicator, expected profile
    (None, "MB", "medicare"),
    (None, "MA", "medicare"),
    ("", " mb ", "medicare"),
    (None, "MC", "medicaid"),
    (None, "CI", "default"),
    (None, "BL", "default"),
    ("12345", None, "default"),
    (None, None, "default"),
]


@pytest.mark.parametrize("payer_id,filing,expected", PROFILE_CASES)
def test_profile_for(maps, payer_id, filing, expected):
    assert maps.profile_for(payer_id, filing).name == expected


def test_shipped_profiles(maps):
    default, medicare, medicaid, per_code = (maps.profile(n) for n in ("default", "medicare", "medicaid", "commercial-per-code"))
    assert (default.unit_method, default.ncci_modifier, default.modifier_order) == ("cms", "59", "conventional")
    assert (default.replacement_frequency, default.unit_grouping) == ("7", ("date", "discipline"))
    assert medicare.wants_g0283 and medicare.unit_method == "cms"
    assert not default.wants_g0283
    assert medicaid.unit_method == "cms" and any("1.6" in n and "9.2" in n for n in medicaid.notes)
    assert per_code.unit_method == "per-code" and not per_code.payer_ids and not per_code.filing_indicators
    assert maps.profile("nope") is None


def test_payer_id_beats_filing_indicator():
    profiles = (
        mapdata.PayerProfile(name="by-filing", filing_indicators=("CI",)),
        mapdata.PayerProfile(name="by-id", payer_ids=("ACME1",)),
        mapdata.PayerProfile(name="default"),
    )
    assert mapdata.match_profile(profiles, "acme1", "CI").name == "by-id"
    assert mapdata.match_profile(profiles, "other", "CI").name == "by-filing"
    with pytest.raises(LookupError):
        mapdata.match_profile(profiles[:1], None, None)


# ------------------------------------------------------------------------------------------------
# carc.xml / rarc.xml
# ------------------------------------------------------------------------------------------------

REQUIRED_CARCS = "1 2 3 4 5 16 18 22 23 27 29 31 45 50 96 97 109 119 125 129 146 150 151 167 170 181 182 185 197 198 204 222 226 227 234 236 242 253 273 B7 B15 B16 94 147 176 251".split()
REQUIRED_RARCS = "N20 M80 M15 M86 N130 N362 N640 MA130 N115 N211 N657 M62 N822 N823 N519 M53 N123 M127 N29 N102 MA01 MA02 N386 M25 N56 M38 M39".split()
CATEGORIES = {
    "units", "ncci-bundling", "modifier", "medical-necessity", "authorization", "benefit-limit", "duplicate",
    "eligibility", "timely-filing", "patient-responsibility", "contractual", "reversal", "other", "coding", "enrollment",
}


def test_only_medicare_uses_the_therapy_threshold(maps):
    assert {p.name: p.therapy_threshold for p in maps.profiles} == {
        "default": False,
        "medicare": True,
        "medicaid": False,
        "commercial-per-code": False,
    }


def test_required_remittance_codes_present(maps):
    assert [c for c in REQUIRED_CARCS if maps.carc(c) is None] == []
    assert [c for c in REQUIRED_RARCS if maps.rarc(c) is None] == []
    for entry in (*maps.carcs.values(), *maps.rarcs.values()):
        assert entry.category in CATEGORIES
        assert 5 <= len(entry.description) <= 220, entry.code


CATEGORY_CASES = [
    ("carc", "97", "ncci-bundling"),
    ("carc", "236", "ncci-bundling"),
    ("carc", "151", "units"),
    ("carc", "4", "modifier"),
    ("carc", "119", "benefit-limit"),
    ("carc", "197", "authorization"),
    ("carc", "18", "duplicate"),
    ("carc", "29", "timely-filing"),
    ("carc", "1", "patient-responsibility"),
    ("carc", "45", "contractual"),
    ("rarc", "N362", "units"),
    ("rarc", "N822", "modifier"),
    ("rarc", "N20", "ncci-bundling"),
    ("rarc", "N115", "medical-necessity"),
    ("carc", "9", "coding"),
    ("carc", "10", "coding"),
    ("carc", "8", "enrollment"),
    ("carc", "170", "enrollment"),
    ("carc", "185", "enrollment"),
    ("carc", "B7", "enrollment"),
    ("carc", "94", "contractual"),
    ("rarc", "N657", "coding"),
    ("rarc", "N95", "enrollment"),
    ("rarc", "M38", "patient-responsibility"),
]


@pytest.mark.parametrize("kind,code,category", CATEGORY_CASES, ids=[f"{c[0]}-{c[1]}" for c in CATEGORY_CASES])
def test_categories(maps, kind, code, category):
    entry = maps.carc(code) if kind == "carc" else maps.rarc(code)
    assert entry.category == category


def test_groups_and_alerts(maps):
    assert {g for g, info in maps.groups.items() if info.valid_5010} == {"CO", "OA", "PI", "PR"}
    assert maps.group("CR").valid_5010 is False
    assert maps.rarc("N211").alert and maps.rarc("N123").alert and not maps.rarc("N362").alert
    assert "KX" in maps.carc("119").therapy_note


# ------------------------------------------------------------------------------------------------
# Broken maps
# ------------------------------------------------------------------------------------------------


def test_malformed_xml_names_file_and_line():
    data = b'<?xml version="1.0"?>\n<codes>\n  <provenance version="1" date="2026-01-01">\n  </oops>\n</codes>\n'
    with pytest.raises(MapError) as err:
        parse_map("codes.xml", data)
    assert (err.value.file, err.value.line) == ("codes.xml", 4)
    assert "not well-formed" in err.value.message
    assert str(err.value).startswith("codes.xml:4: ")


def test_schema_violation_names_the_element_line():
    data = shipped_bytes()["codes.xml"]
    broken = replace_once(data, 'value="97110" class="timed15"', 'value="97110" class="timed16"')
    with pytest.raises(MapError) as err:
        parse_map("codes.xml", broken)
    assert err.value.line == line_of(broken, 'value="97110"')
    assert "schema violation" in err.value.message and "timed16" in err.value.message


def test_unknown_source_id_is_rejected():
    data = shipped_bytes()["ncci-ptp.xml"]
    broken = replace_once(data, 'source="cms-mod59 ref"', 'source="cms-mod59 nowhere"')
    with pytest.raises(MapError) as err:
        parse_map("ncci-ptp.xml", broken)
    assert "nowhere" in err.value.message
    start = line_of(broken, 'column1="97140" column2="97530"')
    assert start <= err.value.line <= start + 1


def test_duplicate_code_is_rejected():
    data = shipped_bytes()["codes.xml"]
    broken = replace_once(data, 'value="97112"', 'value="97110"')
    with pytest.raises(MapError, match="schema violation"):
        parse_map("codes.xml", broken)


HOSTILE_XML = [
    b'<?xml version="1.0"?>\n<!DOCTYPE codes [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<codes>&x;</codes>\n',
    b'<?xml version="1.0"?>\n<!DOCTYPE codes [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n<codes>&b;</codes>\n',
    b'<?xml version="1.0"?>\n<!DOCTYPE codes SYSTEM "http://example.invalid/codes.dtd">\n<codes/>\n',
]


@pytest.mark.parametrize("data", HOSTILE_XML, ids=["external-entity", "entity-expansion", "external-dtd"])
def test_entities_and_doctype_are_refused(data):
    with pytest.raises(MapError) as err:
        parse_map("codes.xml", data)
    assert (err.value.file, err.value.line) == ("codes.xml", 2)
    assert "DOCTYPE" in err.value.message


@pytest.mark.parametrize("data", [b"", b"<codes>", b"\xff\xfe<"], ids=["empty", "truncated", "garbage"])
def test_not_xml_at_all(data):
    with pytest.raises(MapError, match="not well-formed"):
        parse_map("codes.xml", data)


SEMANTIC_CASES = [
    # file, old, new, message fragment
    ("ncci-ptp.xml", 'effective="2022-01-01" modifier-indicator', 'effective="2022-01-01" deletion="2021-01-01" modifier-indicator', "before effective"),
    ("ncci-ptp.xml", 'column1="97140" column2="97530"', 'column1="97530" column2="97530"', "two different codes"),
    ("codes.xml", 'addon-to="97129"', 'addon-to="97128"', "97128"),
    ("codes.xml", "<time-basis>first 2 hours</time-basis>", "", "time-basis"),
    ("modifiers.xml", 'order="discipline pricing', 'order="discipline bogus pricing', "bogus"),
    ("modifiers.xml", 'requires="GP"', 'requires="KX"', "not a discipline modifier"),
    ("modifiers.xml", 'code="GP" class="discipline"', 'code="GP" class="threshold"', "discipline"),
    ("payers.xml", 'profile name="default"', 'profile name="fallback"', "'default' is required"),
    ("payers.xml", 'unit-grouping="date discipline" confidence="S" source="ref cms-ch5"', 'unit-grouping="discipline" confidence="S" source="ref cms-ch5"', "must include 'date'"),
    ("carc.xml", '<group code="PI"', '<group code="PX"', "PI"),
    # the schema: one amount per year, whole dollars, a known telehealth marking
    ("payers.xml", 'year="2025" pt-slp', 'year="2026" pt-slp', "schema violation"),
    ("payers.xml", 'pt-slp="2480"', 'pt-slp="2480.00"', "schema violation"),
    ("payers.xml", 'telehealth-marking="pos-and-modifier"', 'telehealth-marking="95"', "schema violation"),
    ("payers.xml", 'review="3000" confidence="V" source="ref-kx"/>\n  <therapy-threshold year="2027"',
     'review="3000" confidence="V" source="ref-kx nowhere"/>\n  <therapy-threshold year="2027"', "nowhere"),
]


@pytest.mark.parametrize("name,old,new,fragment", SEMANTIC_CASES, ids=[f"{c[0]}:{c[3]}" for c in SEMANTIC_CASES])
def test_semantic_errors(name, old, new, fragment):
    broken = replace_once(shipped_bytes()[name], old, new)
    with pytest.raises(MapError) as err:
        parse_map(name, broken)
    assert err.value.file == name
    assert fragment in err.value.message
    assert err.value.line is not None


def test_profile_naming_an_unknown_policy_fails_across_files():
    files = shipped_bytes()
    files["payers.xml"] = replace_once(files["payers.xml"], 'modifier-order="none" wants-g0283="true"', 'modifier-order="pt-last" wants-g0283="true"')
    with pytest.raises(MapError) as err:
        build_maps(files)
    assert err.value.file == "payers.xml"
    assert "pt-last" in err.value.message
    # libxml2 reports the line where a multi-line start tag ends
    start = line_of(files["payers.xml"], 'profile name="medicare"')
    assert start <= err.value.line <= start + 1


def test_modifier_order_none_means_no_preference():
    # the shipped medicare profile sets no order (CMS fixes none); a policy name gives one back
    assert build_maps(shipped_bytes()).profile("medicare").modifier_order is None
    files = shipped_bytes()
    files["payers.xml"] = replace_once(files["payers.xml"], 'modifier-order="none" wants-g0283="true"', 'modifier-order="conventional" wants-g0283="true"')
    assert build_maps(files).profile("medicare").modifier_order == "conventional"


def test_unknown_map_name_and_wrong_root():
    with pytest.raises(MapError, match="unknown map file"):
        parse_map("things.xml", b"<things/>")
    with pytest.raises(MapError, match="schema violation"):
        parse_map("payers.xml", shipped_bytes()["codes.xml"])


def test_shipped_maps_copy_survives_shutil(tmp_path):
    # maps_dir also accepts a str path
    shutil.copytree(str(resources.files("edi_rehab.maps")), tmp_path / "m", ignore=shutil.ignore_patterns("__pycache__"))
    assert load_maps(maps_dir=str(tmp_path / "m")).profile("medicare").wants_g0283


def test_ptp_period_changes_exactly_where_an_edit_starts_or_stops():
    edit = PtpEdit("97110", "97124", date(2026, 1, 6), date(2026, 1, 8), "1", "r", "f.txt")
    maps = load_maps().with_cms([edit], ptp_authoritative=True)
    periods = [maps.ptp_period(date(2026, 1, day)) for day in (4, 5, 6, 7, 8, 9)]
    assert periods[0] == periods[1] != periods[2] == periods[3] != periods[4] == periods[5]
    for day in range(4, 10):  # same period, same active edits
        same = [d for d in range(4, 10) if maps.ptp_period(date(2026, 1, d)) == maps.ptp_period(date(2026, 1, day))]
        actives = {tuple(maps.ptp_pairs_between("97110", "97124", date(2026, 1, d))) for d in same}
        assert len(actives) == 1


def test_official_ptp_says_whether_a_cms_file_is_merged_in():
    # N304 judges a therapy code beside codes outside codes.xml only when the CMS file is in
    assert not load_maps().official_ptp
    edit = PtpEdit("97110", "97124", date(2026, 1, 6), None, "1", "r", "ccipra-v320r0-f1.txt")
    assert load_maps().with_cms([edit]).official_ptp
    assert not load_maps().with_cms([]).official_ptp


def test_gt_is_institutional_only_from_2018(maps):
    # M215 reads it (issue 10, expert review F14 [M]); 95 and 93 stay valid on professional claims
    assert maps.modifiers.info("GT").institutional_only == date(2018, 1, 1)
    assert maps.modifiers.info("95").institutional_only is None
    assert {maps.modifiers.class_of(m) for m in ("95", "93", "GT")} == {"telehealth"}


# -- places.xml: places of service, the Medicare telehealth list, the therapists' authority ---------------


def test_places_of_service_by_setting(maps):
    assert {pos: maps.places.setting(pos) for pos in ("02", "10", "19", "22", "31", "32", "11")} == {
        "02": "telehealth", "10": "telehealth", "19": "hospital-outpatient", "22": "hospital-outpatient",
        "31": "skilled-nursing", "32": "nursing-facility", "11": None,
    }


def test_telehealth_list_by_date(maps):
    listing = maps.places.telehealth
    assert listing["97110"].listed_on(date(2026, 1, 5)) and not listing["97110"].listed_on(date(2020, 2, 28))
    assert not listing["97140"].listed and listing["97140"].confidence == "S"  # expert review F14, APTA 2020
    assert not listing["97550"].listed_on(date(2024, 12, 31)) and listing["97550"].listed_on(date(2025, 1, 1))
    assert "97129" not in listing  # not judged


def test_therapist_telehealth_authority_periods(maps):
    on = maps.places.authority_on
    assert on(date(2020, 2, 29)) is None and on(date(2028, 1, 1)) is None
    assert on(date(2020, 3, 1)).status == "in-force"
    # the 2025 shutdown lapse (expert review F14), restored retroactively by H.R. 5371
    assert on(date(2025, 10, 1)).status == on(date(2025, 11, 11)).status == "lapsed-restored"
    assert on(date(2025, 11, 12)).status == "in-force"
    assert on(date(2026, 2, 1)).status == "lapsed-restored" and on(date(2027, 12, 31)).status == "in-force"


def test_overlapping_authority_periods_fail():
    files = shipped_bytes()
    files["places.xml"] = replace_once(files["places.xml"], 'from="2025-11-12" through="2026-01-30"',
                                       'from="2025-11-01" through="2026-01-30"')
    with pytest.raises(MapError, match="overlap"):
        build_maps(files)


def test_a_code_never_listed_has_no_dates():
    files = shipped_bytes()
    files["places.xml"] = replace_once(files["places.xml"], '<telehealth code="97140" listed="false"',
                                       '<telehealth code="97140" listed="false" from="2020-03-01"')
    with pytest.raises(MapError, match="never listed has no dates"):
        build_maps(files)


def test_assistant_taxonomies(maps):
    policy = maps.modifiers
    assert [policy.is_assistant_taxonomy(t) for t in ("225200000X", "224ZR0403X", "2355S0801X")] == [True] * 3
    assert [policy.is_assistant_taxonomy(t) for t in ("225100000X", "225X00000X", "235Z00000X", "")] == [False] * 4


def test_only_medicare_has_medicare_coverage(maps):
    assert {p.name for p in maps.profiles if p.medicare_coverage} == {"medicare"}


# -- the records behave as the frozen slotted dataclasses they were (issue 13) ------------------
def _record_classes():
    return [value for value in vars(mapdata).values()
            if isinstance(value, type) and issubclass(value, mapdata._FrozenRecord)
            and value not in (mapdata._FrozenRecord, mapdata._Record)]


def _as_dataclass(cls):
    """The ``@dataclass(frozen=True, slots=True)`` with the record's fields and defaults."""
    import dataclasses
    import inspect

    fields = []
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.default is inspect.Parameter.empty:
            fields.append((parameter.name, object))
        elif parameter.default is mapdata._FRESH:
            def fresh(name=parameter.name):
                return getattr(cls(*_required(cls)), name)

            fields.append((parameter.name, object, dataclasses.field(default_factory=fresh)))
        else:
            fields.append((parameter.name, object, dataclasses.field(default=parameter.default)))
    eq = cls.__eq__ is not object.__eq__
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True, eq=eq)


def _required(cls) -> list:
    import inspect

    return [f"<{p.name}>" for p in list(inspect.signature(cls.__init__).parameters.values())[1:] if p.default is inspect.Parameter.empty]


def _hash_or_error(value):
    try:
        return hash(value)
    except TypeError as error:  # a dict in a field (Places): unhashable, as a dataclass's is
        return str(error)


def test_there_are_the_nineteen_records():
    assert len(_record_classes()) == 19
    assert not dataclasses_is_dataclass(mapdata._FrozenRecord)


def dataclasses_is_dataclass(value) -> bool:
    import dataclasses

    return dataclasses.is_dataclass(value)


@pytest.mark.parametrize("cls", _record_classes(), ids=lambda cls: cls.__name__)
def test_a_record_behaves_as_its_frozen_dataclass(cls):
    import dataclasses
    import pickle

    reference = _as_dataclass(cls)
    values = _required(cls)
    record, twin, made = cls(*values), cls(*values), reference(*values)
    assert cls.__slots__ == reference.__slots__ and cls.__match_args__ == reference.__match_args__
    assert repr(record) == repr(made).replace(reference.__qualname__, cls.__qualname__, 1)
    assert [getattr(record, name) for name in cls.__slots__] == [getattr(made, name) for name in cls.__slots__]
    if cls.__eq__ is object.__eq__:  # eq=False: identity
        assert record != twin and hash(record) != hash(twin)
    else:
        assert record == twin and _hash_or_error(record) == _hash_or_error(made) and record != made
        changed = dataclasses.replace(record, **{cls.__slots__[0]: "other"})
        replaced = dataclasses.replace(made, **{cls.__slots__[0]: "other"})
        assert changed != record and _hash_or_error(changed) == _hash_or_error(replaced)
        assert repr(changed) == repr(replaced).replace(reference.__qualname__, cls.__qualname__, 1)
    for name in cls.__slots__:
        if isinstance(getattr(record, name), dict):  # a fresh default each time, as a default_factory
            assert getattr(record, name) is not getattr(twin, name)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
        record.x = 1
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{cls.__slots__[0]}'"):
        delattr(record, cls.__slots__[0])
    try:
        copied = pickle.loads(pickle.dumps(record))
    except TypeError as error:  # a read-only table in a field (Maps): compiled_maps pickles those
        assert "mappingproxy" in str(error)
    else:
        assert repr(copied) == repr(record) and type(copied) is cls
    # the dataclasses functions work on a record as on its dataclass
    assert dataclasses.is_dataclass(cls) and dataclasses.is_dataclass(record)

    def described(fields):
        return [(f.name, f.default, f.default_factory is dataclasses.MISSING, f.init, f.repr, f.compare) for f in fields]

    assert described(dataclasses.fields(record)) == described(dataclasses.fields(reference))
    assert [f.type for f in dataclasses.fields(cls)] == list(cls.__annotations__.values())
    first = cls.__slots__[0]
    assert getattr(dataclasses.replace(record, **{first: "other"}), first) == "other"
    assert repr(dataclasses.replace(record)) == repr(record)
    with pytest.raises(TypeError):
        dataclasses.replace(record, no_such_field=1)
    if cls is not mapdata.Maps:  # deep-copies its read-only tables, which do not copy
        assert dataclasses.asdict(record) == dataclasses.asdict(made)
