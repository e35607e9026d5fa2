"""TOML configuration: parsing, clear errors, rule selection and payer profile resolution."""

from __future__ import annotations

import re

import pytest

from edi_rehab import config as config_module
from edi_rehab.config import Config, ConfigError, effective_profiles, parse_config, resolve_profile
from edi_rehab.mapdata import load_maps


@pytest.fixture(scope="module")
def maps():
    return load_maps()


def docstring_example() -> str:
    """The example TOML in config.py's module docstring (the indented block after 'Format')."""
    doc = config_module.__doc__
    block = doc.split("::\n\n", 1)[1].split("\nProfile keys", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


def test_docstring_example_parses_and_resolves(maps):
    cfg = parse_config(docstring_example(), "edi-rehab.toml")
    assert cfg.select == ("U", "N", "M") and cfg.ignore == ("M205",)
    assert dict(cfg.severity) == {"M205": "info", "N1": "error"}
    assert re.search(cfg.note_pattern, "97110 = 23 min").group("minutes") == "23"
    acme = resolve_profile(maps, cfg, "60054", "CI")
    assert (acme.name, acme.unit_method, acme.ncci_modifier) == ("acme-ppo", "per-code", "XU")
    medicaid = resolve_profile(maps, cfg, None, "MC")
    assert (medicaid.name, medicaid.unit_method, medicaid.modifier_order) == ("medicaid", "per-code", None)
    assert medicaid.origin == "edi-rehab.toml"
    assert cfg.max_units_per_line == 16


def test_note_pattern_screen_lets_ordinary_patterns_through(monkeypatch):
    from edi_rehab.config import note_pattern_hazard
    from edi_rehab.minutes import DEFAULT_NOTE_PATTERN

    for pattern in (r"MIN (?P<minutes>\d+)", r"(?:MIN|MINUTES)\s*(?P<minutes>\d{1,4})", r"(?:ab)+(?P<minutes>\d+)"):
        assert note_pattern_hazard(pattern) is None, pattern
    monkeypatch.setattr(config_module, "MAX_NOTE_PATTERN_LENGTH", 10_000)  # its comments make it long
    assert note_pattern_hazard("(?x)" + DEFAULT_NOTE_PATTERN.pattern) is None


def test_a_config_built_in_code_is_screened_too():
    from edi_rehab.engine import Checker

    with pytest.raises(ConfigError, match="nested quantifiers"):
        Checker(config=Config(note_pattern="(?P<minutes>a+)+$"))


def test_fix_unit_cap_is_configurable():
    assert parse_config("[fix]\nmax_units_per_line = 4", "c.toml").max_units_per_line == 4


def test_empty_config_is_the_shipped_behaviour(maps):
    cfg = parse_config("", "empty.toml")
    assert cfg.profiles == () and cfg.select == () and cfg.note_pattern is None
    assert cfg.max_units_per_line == config_module.DEFAULT_MAX_UNITS_PER_LINE == 16
    assert effective_profiles(maps, cfg) == maps.profiles
    assert resolve_profile(maps, None, None, "MB") is maps.profile("medicare")


ERROR_CASES = [
    # toml, message fragment
    ("select = [", "invalid TOML"),
    ("selct = ['U']", "did you mean 'select'"),
    ("select = 'U'", "list of strings"),
    ("select = ['u101']", "not a rule code"),
    ("ignore = ['M-205']", "not a rule code"),
    ("[severity]\nM205 = 'fatal'", "'error', 'warning', 'info'"),
    ("severity = 3", "severity must be a table"),
    ("[minutes]\nnote_pattern = '(unclosed'", "not a valid regular expression"),
    ("[minutes]\npattern = 'x'", "unknown key 'pattern' in [minutes]"),
    ("[profiles.acme]\nunit-method = 'cms'", "did you mean 'unit_method'"),
    ("[profiles.acme]\nunit_method = 'rule-of-8s'", "'cms', 'per-code'"),
    ("[profiles.acme]\nncci_modifier = 'XX'", "ncci_modifier must be one of"),
    ("[profiles.acme]\nwants_g0283 = 'yes'", "true or false"),
    ("[profiles.acme]\nreplacement_frequency = 8", "'7', '1'"),
    ("[profiles.acme]\nunit_grouping = ['discipline']", "must include 'date'"),
    ("[profiles.acme]\nunit_grouping = ['date', 'week']", "unit_grouping must be one of"),
    ("[profiles.acme]\nfiling_indicators = ['Medicare']", "two-character SBR09"),
    ("[profiles.acme]\npayer_ids = ['has space']", "not a payer id"),
    ("[profiles.Acme]\nunit_method = 'cms'", "lower-case"),
    ("profiles = 1", "profiles must be a table"),
    ("fix = 1", "fix must be a table"),
    ("[fix]\nmax_units = 4", "unknown key 'max_units' in [fix]"),
    ("[fix]\nmax_units_per_line = 0", "from 1 to 9999"),
    ("[fix]\nmax_units_per_line = -4", "from 1 to 9999"),
    ("[fix]\nmax_units_per_line = 4.5", "from 1 to 9999"),
    ("[fix]\nmax_units_per_line = true", "from 1 to 9999"),
    ("[fix]\nmax_units_per_line = 10000", "from 1 to 9999"),
    ("[minutes]\nnote_pattern = '(?P<minutes>a+)+$'", "nested quantifiers"),
    ("[minutes]\nnote_pattern = '(?P<minutes>(?:\\d|\\d\\d)*)'", "repeats an alternation"),
    ("[minutes]\nnote_pattern = '(?P<minutes>\\d)\\1'", "backreference"),
    ("[minutes]\nnote_pattern = '(?P<minutes>\\d)(?P=minutes)'", "backreference"),
    ("[minutes]\nnote_pattern = '(?P<minutes>\\d)(?(minutes)a|b)'", "conditional group"),
    ("[minutes]\nnote_pattern = '\\s*\\s*\\s*\\s*(?P<minutes>\\d)'", "more than 3 repeats in a row"),
    ("[minutes]\nnote_pattern = '(?P<minutes>\\d+)" + "x" * 200 + "'", "at most 200"),
]


@pytest.mark.parametrize("text,fragment", ERROR_CASES, ids=[c[1] for c in ERROR_CASES])
def test_config_errors(text, fragment):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "bad.toml")
    assert err.value.source == "bad.toml"
    assert fragment in err.value.message
    assert str(err.value).startswith("bad.toml: ")


PROFILE_ERRORS = [
    ("[profiles.acme]\nextends = 'nonesuch'", "extends unknown profile 'nonesuch'"),
    ("[profiles.acme]\nmodifier_order = 'alphabetical'", "modifier_order 'alphabetical' is not a policy"),
    ("[profiles.medicare]\nextends = 'default'", "only for new profiles"),
]


@pytest.mark.parametrize("text,fragment", PROFILE_ERRORS, ids=[c[1] for c in PROFILE_ERRORS])
def test_profile_errors_need_the_maps(maps, text, fragment):
    cfg = parse_config(text, "bad.toml")  # syntactically fine
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        resolve_profile(maps, cfg, None, None)


RESOLVE_CASES = [
    # config, payer id, filing indicator, expected (name, unit_method, ncci_modifier, modifier_order, wants_g0283)
    ("", None, "MB", ("medicare", "cms", "59", None, True)),  # Medicare sets no modifier order
    ("", "ANY", "CI", ("default", "cms", "59", "conventional", False)),
    ("[profiles.medicare]\nncci_modifier = 'XU'", None, "MA", ("medicare", "cms", "XU", None, True)),
    # new profiles inherit behaviour from "extends" but not its match criteria
    ("[profiles.mac-j5]\nextends = 'medicare'\npayer_ids = ['05102']", "05102", "CI", ("mac-j5", "cms", "59", None, True)),
    ("[profiles.mac-j5]\nextends = 'medicare'\npayer_ids = ['05102']", "99999", "MB", ("medicare", "cms", "59", None, True)),
    # a payer-id match beats a filing-indicator match, even from a shipped profile
    ("[profiles.acme]\npayer_ids = ['acme1']\n[profiles.medicare]\nfiling_indicators = ['MB', 'MA', 'CI']", "ACME1", "CI",
     ("acme", "cms", "59", "conventional", False)),
    ("[profiles.comm]\nextends = 'commercial-per-code'\nfiling_indicators = ['ci', 'BL', 'HM']", None, "HM",
     ("comm", "per-code", "59", "conventional", False)),
    ("[profiles.gp]\nmodifier_order = 'gp-first'\nfiling_indicators = ['BL']", None, "BL", ("gp", "cms", "59", "gp-first", False)),
    ("[profiles.quiet]\nmodifier_order = 'none'\nfiling_indicators = ['BL']", None, "BL", ("quiet", "cms", "59", None, False)),
    # a config profile extending another config profile defined before it
    ("[profiles.a]\nunit_method = 'per-code'\n[profiles.b]\nextends = 'a'\npayer_ids = ['B1']", "B1", None, ("b", "per-code", "59", "conventional", False)),
    ("[profiles.default]\nunit_method = 'per-code'", None, "CI", ("default", "per-code", "59", "conventional", False)),
]


@pytest.mark.parametrize("text,payer_id,filing,expected", RESOLVE_CASES, ids=range(len(RESOLVE_CASES)))
def test_resolve_profile(maps, text, payer_id, filing, expected):
    p = resolve_profile(maps, parse_config(text, "c.toml"), payer_id, filing)
    assert (p.name, p.unit_method, p.ncci_modifier, p.modifier_order, p.wants_g0283) == expected


def test_override_unit_method(maps):
    assert resolve_profile(maps, None, None, "MB", override_unit_method="per-code").unit_method == "per-code"
    assert maps.profile("medicare").unit_method == "cms"  # the map is untouched
    with pytest.raises(ConfigError) as err:
        resolve_profile(maps, None, None, "MB", override_unit_method="total")
    assert err.value.source == "--unit-method"


def test_other_profile_fields(maps):
    cfg = parse_config(
        "[profiles.newclaim]\npayer_ids = ['X1']\nreplacement_frequency = 1\nunit_grouping = ['date', 'rendering-provider', 'date']\nwants_g0283 = true",
        "c.toml",
    )
    p = resolve_profile(maps, cfg, "x1", None)
    assert (p.replacement_frequency, p.unit_grouping, p.wants_g0283) == ("1", ("date", "rendering-provider"), True)
    assert p.payer_ids == ("X1",) and p.filing_indicators == ()


SELECT_CASES = [
    # select, ignore, code, enabled
    ((), (), "U101", True),
    ((), ("U",), "U101", False),
    ((), ("U1",), "U201", True),
    (("U",), (), "N101", False),
    (("U",), ("U101",), "U101", False),
    (("U101",), ("U",), "U101", True),  # the more specific select wins
    (("U1",), ("U1",), "U101", False),  # tie: ignore wins
    (("U", "N"), ("N2",), "N201", False),
    (("U", "N"), ("N2",), "N101", True),
]


@pytest.mark.parametrize("select,ignore,code,enabled", SELECT_CASES, ids=range(len(SELECT_CASES)))
def test_is_enabled(select, ignore, code, enabled):
    assert Config(select=select, ignore=ignore).is_enabled(code) is enabled


def test_severity_for_longest_prefix():
    cfg = parse_config("[severity]\nM = 'warning'\nM205 = 'info'\nU1 = 'error'", "c.toml")
    assert [cfg.severity_for(c, "error") for c in ("M205", "M101", "U101", "N101")] == ["info", "warning", "error", "error"]


def test_unknown_rule_codes_are_reported_not_fatal():
    cfg = parse_config("select = ['U', 'Q9']\n[severity]\nZ1 = 'info'", "c.toml")
    assert cfg.unknown_rule_codes(["U101", "M205"]) == ("Q9", "Z1")


def test_a_medicare_advantage_plan_sets_its_own_threshold_and_correction_route():
    maps = load_maps()
    cfg = parse_config(
        '[profiles.ma-plan]\nextends = "medicare"\npayer_ids = ["SYNMA01"]\n'
        'correction_route = "replacement"\ncorrection_days = 90\n'
        '[profiles.acme]\npayer_ids = ["ACME1"]\ntherapy_threshold = true\n',
        "c.toml",
    )
    plan = resolve_profile(maps, cfg, "SYNMA01", "16")
    assert (plan.name, plan.correction_route, plan.correction_days, plan.therapy_threshold) == ("ma-plan", "replacement", 90, True)
    assert resolve_profile(maps, cfg, "ACME1", "CI").therapy_threshold is True
    medicare = resolve_profile(maps, cfg, None, "MB")  # the shipped profile is untouched
    assert (medicare.correction_route, medicare.correction_days) == ("reopening", 365)


@pytest.mark.parametrize(
    "line, message",
    [
        ('correction_route = "fax"', "correction_route must be one of 'replacement', 'new-claim', 'reopening'"),
        ("correction_days = 0", "correction_days must be a whole number of days from 1 to 3660"),
        ("correction_days = true", "correction_days must be a whole number of days from 1 to 3660"),
        ('therapy_threshold = "yes"', "therapy_threshold must be true or false"),
        ('telehealth_marking = "95"', "telehealth_marking must be one of 'pos-and-modifier', 'pos', 'modifier', 'none'"),
    ],
)
def test_bad_correction_and_threshold_values_are_config_errors(line, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(f"[profiles.p]\n{line}\n", "c.toml")


def test_telehealth_marking_is_set_per_payer_and_inherited():
    maps = load_maps()
    assert {p.name: p.telehealth_marking for p in maps.profiles}["medicare"] == "pos-and-modifier"
    cfg = parse_config(
        '[profiles.ma-plan]\nextends = "medicare"\npayer_ids = ["SYNMA01"]\ntelehealth_marking = "pos"\n'
        '[profiles.mc-plan]\nextends = "medicare"\npayer_ids = ["SYNMC01"]\n',
        "c.toml",
    )
    assert resolve_profile(maps, cfg, "SYNMA01", "16").telehealth_marking == "pos"
    assert resolve_profile(maps, cfg, "SYNMC01", "16").telehealth_marking == "pos-and-modifier"
    assert resolve_profile(maps, cfg, None, "MB").telehealth_marking == "pos-and-modifier"


def test_practice_table_is_read_and_checked():
    cfg = parse_config('[practice]\nname = " Synthetic PT "\nnpi = "1234567893"\ncontact = "555-555-0100"\nsigner = "Jane Roe, PT"\n', "c.toml")
    assert (cfg.practice.name, cfg.practice.npi, cfg.practice.contact, cfg.practice.signer) == ("Synthetic PT", "1234567893", "555-555-0100", "Jane Roe, PT")
    assert parse_config("", "c.toml").practice == config_module.Practice()


@pytest.mark.parametrize(
    "toml, message",
    [
        ('[practice]\nnpi = "1234567890"', "not a valid NPI"),
        ('[practice]\nnpi = "12345"', "not a valid NPI"),
        ('[practice]\nnmae = "x"', "did you mean 'name'"),
        ("[practice]\nname = 3", "[practice] name must be a non-empty string"),
        ('[practice]\nsigner = "  "', "[practice] signer must be a non-empty string"),
        ('[practice]\ncontact = "a\\nb"', "one line of at most 200 characters"),
        ('practice = "Synthetic PT"', "practice must be a table"),
    ],
)
def test_practice_errors(toml, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(toml, "c.toml")


def test_medicare_coverage_is_inherited_and_can_be_turned_off():
    maps = load_maps()
    cfg = parse_config(
        '[profiles.ma-plan]\nextends = "medicare"\npayer_ids = ["SYNMA01"]\n'
        '[profiles.ma-telehealth]\nextends = "medicare"\npayer_ids = ["SYNMA02"]\nmedicare_coverage = false\n',
        "c.toml",
    )
    assert resolve_profile(maps, cfg, "SYNMA01", "16").medicare_coverage is True
    assert resolve_profile(maps, cfg, "SYNMA02", "16").medicare_coverage is False
    assert resolve_profile(maps, cfg, None, "CI").medicare_coverage is False
    with pytest.raises(ConfigError, match="medicare_coverage must be true or false"):
        parse_config('[profiles.p]\nmedicare_coverage = "yes"\n', "c.toml")
