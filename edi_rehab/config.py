"""The user's TOML configuration: payer profiles, rule selection and severities.

Which file (``--config``, or an ``edi-rehab.toml`` or a pyproject.toml's ``[tool.edi-rehab]``
table found from the working directory) is the command line's choice
(:mod:`edi_rehab.cli.config_file`); here a configuration is text and, for a pyproject.toml,
the table inside it.

Format
------
Every key is optional; anything not listed here is an error, so a typo never silently does nothing::

    # Rule selection, as in ruff: codes or code prefixes. Without ``select`` every rule is on.
    select = ["U", "N", "M"]
    ignore = ["M205"]             # e.g. silence modifier order everywhere

    # Which files a folder argument of ``check`` stands for: globs matched against each
    # file's path inside the folder (or its name, for a glob without "/"). The command
    # line's --include replaces ``include``; --exclude adds to ``exclude``. A file named
    # on the command line is always read.
    include = ["*.837", "*.x12"]
    exclude = ["archive", "*.tmp"]  # an excluded folder is not entered

    # The claim ledger every command records to, as if --ledger URL were given (the option
    # wins), and the file holding its patient key (docs/ledger.md says why and how to rotate).
    ledger = "postgresql://billing@ledger.example.internal/edi"
    ledger_key_file = "/etc/edi-rehab/ledger.key"

    [severity]                    # rule code or prefix -> "error" | "warning" | "info"
    M205 = "info"
    N1 = "error"

    [minutes]
    # Regular expression for minutes written in claim notes (NTE); edi_rehab.minutes defines which
    # named groups it reads. Only checked here for being a valid pattern.
    note_pattern = '(?P<code>\\d{5})\\s*[=:]\\s*(?P<minutes>\\d+)\\s*min'

    [fix]
    # The most units a fix may set on one line when it raises units (U102's unsafe fix, applied
    # only with --unsafe-fixes --select U102). An MUE from --mue-file lowers it for its code.
    # Default 16: four hours of one 15-minute code on one line (a tool choice, not a payer rule).
    max_units_per_line = 16

    # Who signs the letters `appeal` writes; a key not given shows as a placeholder such as
    # [practice name] in the letter, and the packet's checklist asks to fill it.
    [practice]
    name = "Synthetic Physical Therapy"
    npi = "1234567893"                      # 10 digits, the NPI check digit is checked
    contact = "555-555-0100, billing@example.com"
    signer = "Jane Roe, PT, Billing Manager"

    # A new profile: starts from "extends" (default: the shipped "default" profile).
    [profiles.acme-ppo]
    extends = "commercial-per-code"
    payer_ids = ["60054", "ACME1"]          # 2010BB NM1*PR NM109
    filing_indicators = []                  # 2000B SBR09, e.g. "CI", "BL", "HM"
    ncci_modifier = "XU"

    # Changing a shipped profile: only the keys given change.
    [profiles.medicaid]
    unit_method = "per-code"                # this state's Medicaid manual says so
    modifier_order = "none"                 # no order preference: the order rule stays silent

Profile keys (same meaning as the attributes in ``maps/payers.xml``):

============================  ===================================================================
``extends``                   profile to start from (new profiles only; default ``"default"``)
``payer_ids``                 list of NM109 payer ids this profile matches
``filing_indicators``         list of SBR09 codes (two characters, e.g. ``"MB"``, ``"MC"``, ``"CI"``)
``unit_method``               ``"cms"`` (total timed minutes) or ``"per-code"``
``ncci_modifier``             ``"59"``, ``"XE"``, ``"XP"``, ``"XS"`` or ``"XU"``
``modifier_order``            a policy in ``maps/modifiers.xml`` (``"conventional"``, ``"gp-first"``) or ``"none"``
``wants_g0283``               true when the payer pays unattended e-stim as G0283, not 97014
``replacement_frequency``     ``"7"`` (replacement claim with REF*F8) or ``"1"`` (send a new claim)
``unit_grouping``             list drawn from ``"date"``, ``"discipline"``, ``"rendering-provider"``; must include ``"date"``
``therapy_threshold``         true when the payer applies Medicare's therapy threshold (KX; match's R501)
``correction_route``          ``"replacement"``, ``"new-claim"`` or ``"reopening"`` (Medicare Part B)
``correction_days``           days within which a correction may be asked for (1-3660)
``medicare_coverage``         true when Medicare Part B coverage rules decide the claim (M220, M222-M224)
``telehealth_marking``        how the payer wants telehealth shown (M216): ``"pos-and-modifier"``, ``"pos"``, ``"modifier"`` or ``"none"``
============================  ===================================================================

Matching: profiles from the config come before the shipped ones, and a payer-id match beats a
filing-indicator match (see :func:`edi_rehab.mapdata.match_profile`). A shipped profile changed by the
config keeps its place in that order as a config profile.

Errors
------
:func:`parse_config` raises :class:`ConfigError` with the source name and one clear sentence; nothing
else escapes it. Checks that need the maps (``extends`` and ``modifier_order`` names) run in
:func:`effective_profiles` / :func:`resolve_profile` and raise the same error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .mapdata import (
    CORRECTION_ROUTES,
    NCCI_MODIFIERS,
    NO_ORDER,
    REPLACEMENT_FREQUENCIES,
    TELEHEALTH_MARKINGS,
    UNIT_GROUPING_KEYS,
    UNIT_METHODS,
    Maps,
    PayerProfile,
    match_profile,
)

__all__ = [
    "SEVERITIES",
    "Config",
    "ConfigError",
    "DEFAULT_MAX_UNITS_PER_LINE",
    "Practice",
    "ProfileSpec",
    "declares_table",
    "effective_profiles",
    "parse_config",
    "resolve_profile",
]

SEVERITIES = ("error", "warning", "info")

# Patterns as text, compiled by ``re`` on first use (and kept in its cache): a run without a
# config file, as a hook's usually is, compiles none of them.
#: A rule code or prefix: letters then digits, e.g. "U", "M2", "M205".
_RULE_CODE = r"^[A-Z]+[0-9]*$"
_PROFILE_NAME = r"^[a-z0-9][a-z0-9_-]*$"
_PAYER_ID = r"^[0-9A-Za-z-]{1,80}$"
_FILING = r"^[0-9A-Z]{2}$"

_TOP_KEYS = ("select", "ignore", "severity", "minutes", "fix", "profiles", "include", "exclude", "practice", "ledger", "ledger_key_file")
_PRACTICE_KEYS = ("name", "npi", "contact", "signer")
#: the longest value a [practice] key may hold: a letter's signature line, not a document
MAX_PRACTICE_TEXT = 200
_MINUTES_KEYS = ("note_pattern",)
_FIX_KEYS = ("max_units_per_line",)

#: The default of ``[fix] max_units_per_line``: four hours of one 15-minute code on one line.
#: A raise above it is refused rather than billed (issue 16: 10**12 minutes once became
#: 66,666,666,667 units). A choice of this tool [L], not a payer's number: where the MUE of
#: the code is known (``--mue-file``) the lower of the two applies.
DEFAULT_MAX_UNITS_PER_LINE = 16
_PROFILE_KEYS = (
    "extends",
    "payer_ids",
    "filing_indicators",
    "unit_method",
    "ncci_modifier",
    "modifier_order",
    "wants_g0283",
    "replacement_frequency",
    "unit_grouping",
    "therapy_threshold",
    "correction_route",
    "correction_days",
    "medicare_coverage",
    "telehealth_marking",
)


class ConfigError(Exception):
    """The configuration cannot be used. ``str()`` is ``"<source>: <message>"``, ready to print."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(source, message)
        self.source = source
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """One ``[profiles.<name>]`` table. ``None`` means "not given: inherit"."""

    name: str
    extends: str | None = None
    payer_ids: tuple[str, ...] | None = None
    filing_indicators: tuple[str, ...] | None = None
    unit_method: str | None = None
    ncci_modifier: str | None = None
    #: a policy name, or "none"
    modifier_order: str | None = None
    wants_g0283: bool | None = None
    replacement_frequency: str | None = None
    unit_grouping: tuple[str, ...] | None = None
    therapy_threshold: bool | None = None
    correction_route: str | None = None
    correction_days: int | None = None
    medicare_coverage: bool | None = None
    telehealth_marking: str | None = None


@dataclass(frozen=True, slots=True)
class Practice:
    """``[practice]``: who signs the letters ``appeal`` writes. A key not given is ``None``
    and the letter shows a placeholder (``[practice name]``) the checklist asks to fill."""

    name: str | None = None
    npi: str | None = None
    #: phone, e-mail or postal address for the payer's questions, as one line
    contact: str | None = None
    #: the person who signs, e.g. "Jane Roe, PT, Billing Manager"
    signer: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Config:
    """A parsed configuration file."""

    source: str = "<defaults>"
    #: in file order
    profiles: tuple[ProfileSpec, ...] = ()
    #: rule code or prefix -> "error" | "warning" | "info"
    severity: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    note_pattern: str | None = None
    #: globs for the files a folder argument stands for (the CLI applies them)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    #: the most units a fix may raise one line to (``[fix] max_units_per_line``)
    max_units_per_line: int = DEFAULT_MAX_UNITS_PER_LINE
    #: the letters' signature block (``[practice]``)
    practice: Practice = dataclasses.field(default_factory=Practice)
    #: the claim ledger's URL (``--ledger`` wins) and the file holding its patient key
    ledger: str | None = None
    ledger_key_file: str | None = None

    def is_enabled(self, rule_code: str) -> bool:
        """Whether a rule runs. With no ``select`` every rule is selected. The most specific
        (longest) matching prefix decides between ``select`` and ``ignore``; on a tie, ignore wins."""
        best_select = _longest_prefix(rule_code, self.select) if self.select else 0
        if self.select and best_select < 0:
            return False
        best_ignore = _longest_prefix(rule_code, self.ignore)
        return best_ignore < 0 or best_ignore < best_select

    def severity_for(self, rule_code: str, default: str) -> str:
        """The configured severity for a rule (longest matching code or prefix), else ``default``."""
        best, best_len = default, -1
        for prefix, level in self.severity.items():
            if rule_code.startswith(prefix) and len(prefix) > best_len:
                best, best_len = level, len(prefix)
        return best

    def unknown_rule_codes(self, known: Iterable[str]) -> tuple[str, ...]:
        """Codes or prefixes in select/ignore/severity that match no known rule code; the CLI
        warns about them (this module does not know the registry)."""
        known = tuple(known)
        named = (*self.select, *self.ignore, *self.severity)
        return tuple(dict.fromkeys(c for c in named if not any(k.startswith(c) for k in known)))


def _longest_prefix(code: str, prefixes: Iterable[str]) -> int:
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


#: Longest ``note_pattern`` accepted; the default pattern is under half of it.
MAX_NOTE_PATTERN_LENGTH = 200
#: Most repeats that can match more than one character (``*``, ``+``, ``{1,9}``) in a row,
#: with no character that must match between them: each one more multiplies the ways to
#: split a failing note (``\s*`` five times took 5 s on 80 spaces, four took 0.3 s).
MAX_REPEATS_IN_A_ROW = 3


def note_pattern_hazard(pattern: str) -> str | None:
    """Why ``pattern`` may take exponential (or high polynomial) time on a hostile note,
    or None when it passes the screen.

    The pattern runs on NTE text from claim files, which anyone can write (``(a+)+$`` hung a
    run for 40 s), and Python's ``re`` backtracks without a time limit. So a note pattern may
    not be longer than :data:`MAX_NOTE_PATTERN_LENGTH`, hold a backreference or a
    conditional group, repeat something that itself repeats or alternates (``(a+)+``,
    ``(a|ab)*``), or put more than :data:`MAX_REPEATS_IN_A_ROW` such repeats in a row. The
    notes it runs on are cut to the TR3's NTE02 size too (``minutes.MAX_NOTE_LENGTH``). A
    screen, not a proof: it refuses the known shapes of catastrophic backtracking.
    """
    if len(pattern) > MAX_NOTE_PATTERN_LENGTH:
        return f"it is {len(pattern)} characters long; at most {MAX_NOTE_PATTERN_LENGTH} are accepted"
    import re._constants as c
    import re._parser as parser

    try:
        tree = parser.parse(pattern)
    except re.error as exc:  # pragma: no cover - compiled above
        return str(exc)
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)
    zero_width = (c.AT, c.ASSERT, c.ASSERT_NOT)

    def walk(items, inside_repeat: bool) -> tuple[str | None, bool]:
        """(hazard, whether ``items`` hold a repeat of more than one character)."""
        run, holds = 0, False
        for op, av in items:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return "it uses a backreference or a conditional group", holds
            subs: list = []
            if op in repeats:
                low, high, sub = av
                many = high > 1 and low != high
                if (high > 1) and inside_repeat:
                    return "it repeats a part that repeats itself (nested quantifiers, as in (a+)+)", holds
                hazard, inner = walk(sub, inside_repeat or high > 1)
                if hazard:
                    return hazard, holds
                if many or inner:
                    run, holds = run + 1, True
                elif sub.getwidth()[0] > 0 and low > 0:
                    run = 0
            elif op in (c.SUBPATTERN, c.ATOMIC_GROUP, c.BRANCH):
                if op == c.BRANCH:
                    if inside_repeat:
                        return "it repeats an alternation (as in (a|ab)*)", holds
                    subs = av[1]
                else:
                    subs = [av[-1]] if op == c.SUBPATTERN else [av]
                inner = False
                for sub in subs:
                    hazard, held = walk(sub, inside_repeat)
                    if hazard:
                        return hazard, holds
                    inner = inner or held
                if inner:
                    run, holds = run + 1, True
                elif min(sub.getwidth()[0] for sub in subs) > 0:
                    run = 0
            elif op in zero_width:
                if op != c.AT:
                    hazard, _ = walk(av[1], inside_repeat)
                    if hazard:
                        return hazard, holds
            else:
                run = 0  # one character that must match
            if run > MAX_REPEATS_IN_A_ROW:
                return f"it has more than {MAX_REPEATS_IN_A_ROW} repeats in a row with nothing between them that must match", holds
        return None, holds

    return walk(tree, False)[0]


def _unknown_key(source: str, where: str, key: str, allowed: tuple[str, ...]) -> ConfigError:
    hint = ""
    import difflib  # only for a misspelt key

    close = difflib.get_close_matches(key.replace("-", "_"), allowed, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    return ConfigError(source, f"unknown key {key!r} in {where} (allowed: {', '.join(allowed)}){hint}")


def _str_list(source: str, where: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(source, f"{where} must be a list of strings")
    return tuple(value)


def _rule_codes(source: str, where: str, value: object) -> tuple[str, ...]:
    codes = _str_list(source, where, value)
    for code in codes:
        if not re.match(_RULE_CODE, code):
            raise ConfigError(
                source, f"{where}: {code!r} is not a rule code or prefix (upper-case letters then digits, e.g. 'M205' or 'U')"
            )
    return codes


def _choice(source: str, where: str, value: object, allowed: tuple[str, ...]) -> str:
    # TOML users write replacement_frequency = 7 as often as "7"; accept integers for digit choices.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(source, f"{where} must be one of {', '.join(repr(a) for a in allowed)}, not {value!r}")
    return value


def _parse_profile(source: str, name: str, table: object) -> ProfileSpec:
    where = f"[profiles.{name}]"
    if not re.match(_PROFILE_NAME, name):
        raise ConfigError(source, f"{where}: profile names use lower-case letters, digits, '-' and '_'")
    if not isinstance(table, dict):
        raise ConfigError(source, f"profiles.{name} must be a table")
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in _PROFILE_KEYS:
            raise _unknown_key(source, where, key, _PROFILE_KEYS)
        at = f"{where} {key}"
        if key == "extends":
            if not isinstance(value, str) or not re.match(_PROFILE_NAME, value):
                raise ConfigError(source, f"{at} must be a profile name")
            values[key] = value
        elif key == "payer_ids":
            ids = _str_list(source, at, value)
            for pid in ids:
                if not re.match(_PAYER_ID, pid.strip()):
                    raise ConfigError(source, f"{at}: {pid!r} is not a payer id (letters, digits and '-', up to 80)")
            values[key] = tuple(p.strip().upper() for p in ids)
        elif key == "filing_indicators":
            codes = tuple(c.strip().upper() for c in _str_list(source, at, value))
            for code in codes:
                if not re.match(_FILING, code):
                    raise ConfigError(source, f"{at}: {code!r} is not a two-character SBR09 code such as 'MB' or 'CI'")
            values[key] = codes
        elif key == "unit_method":
            values[key] = _choice(source, at, value, UNIT_METHODS)
        elif key == "ncci_modifier":
            values[key] = _choice(source, at, value, NCCI_MODIFIERS)
        elif key == "modifier_order":
            if not isinstance(value, str) or not value:
                raise ConfigError(source, f"{at} must be a policy name or 'none'")
            values[key] = value
        elif key in ("wants_g0283", "therapy_threshold", "medicare_coverage"):
            if not isinstance(value, bool):
                raise ConfigError(source, f"{at} must be true or false")
            values[key] = value
        elif key == "correction_route":
            values[key] = _choice(source, at, value, CORRECTION_ROUTES)
        elif key == "telehealth_marking":
            values[key] = _choice(source, at, value, TELEHEALTH_MARKINGS)
        elif key == "correction_days":
            # bool is an int in Python; a day count is neither true nor huge
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3660:
                raise ConfigError(source, f"{at} must be a whole number of days from 1 to 3660")
            values[key] = value
        elif key == "replacement_frequency":
            values[key] = _choice(source, at, value, REPLACEMENT_FREQUENCIES)
        elif key == "unit_grouping":
            keys = _str_list(source, at, value)
            for k in keys:
                _choice(source, at, k, UNIT_GROUPING_KEYS)
            if "date" not in keys:
                raise ConfigError(source, f"{at} must include 'date': minutes are counted per calendar day")
            values[key] = tuple(dict.fromkeys(keys))
    return ProfileSpec(name=name, **values)  # type: ignore[arg-type]


def _subtable(source: str, doc: dict, name: str, allowed: tuple[str, ...]) -> dict:
    """The ``[name]`` table, refused when it is not a table or has a key outside ``allowed``."""
    table = doc[name]
    if not isinstance(table, dict):
        raise ConfigError(source, f"{name} must be a table")
    for key in table:
        if key not in allowed:
            raise _unknown_key(source, f"[{name}]", key, allowed)
    return table


def _load_toml(text: str, source: str) -> dict:
    import tomllib  # only a run that reads a config parses TOML

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(source, "invalid TOML: arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        raise ConfigError(source, f"invalid TOML: a value cannot be read ({str(exc).split(':')[0]})") from None


def _table_at(doc: dict, table: tuple[str, ...]) -> object:
    """The value at the dotted key ``table`` (``("tool", "edi-rehab")``), or None."""
    value: object = doc
    for key in table:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def declares_table(text: str, source: str, table: tuple[str, ...]) -> bool:
    """Whether the TOML ``text`` (a ``pyproject.toml``) holds the table ``table``.

    A file that does not even contain the table's last key as text cannot hold it, and is not
    parsed (most pyproject.toml files name no edi-rehab table; TOML's escapes in quoted keys
    are the one way to spell it otherwise, and nobody writes a tool name that way).

    Raises:
        ConfigError: the file names the key but is not valid TOML.
    """
    if table and table[-1] not in text:
        return False
    return _table_at(_load_toml(text, source), table) is not None


def parse_config(text: str, source: str, table: tuple[str, ...] = ()) -> Config:
    """Parse configuration TOML (see the module docstring for the format).

    Args:
        text: the file's text.
        source: a name for messages, normally the file path.
        table: where in the document the configuration is: ``()`` for the whole file
            (``edi-rehab.toml``, ``--config``), ``("tool", "edi-rehab")`` in a pyproject.toml.

    Raises:
        ConfigError: invalid TOML, an unknown key, or a bad value (or no ``table``).
    """
    doc = _load_toml(text, source)
    if table:
        found = _table_at(doc, table)
        if not isinstance(found, dict):
            raise ConfigError(source, f"[{'.'.join(table)}] must be a table")
        doc = found
    for key in doc:
        if key not in _TOP_KEYS:
            raise _unknown_key(source, "the top level", key, _TOP_KEYS)

    select = _rule_codes(source, "select", doc["select"]) if "select" in doc else ()
    ignore = _rule_codes(source, "ignore", doc["ignore"]) if "ignore" in doc else ()

    severity: dict[str, str] = {}
    if "severity" in doc:
        table = doc["severity"]
        if not isinstance(table, dict):
            raise ConfigError(source, "severity must be a table of rule code = \"error\" | \"warning\" | \"info\"")
        for code, level in table.items():
            _rule_codes(source, "[severity]", [code])
            severity[code] = _choice(source, f"[severity] {code}", level, SEVERITIES)

    note_pattern = None
    if "minutes" in doc:
        table = _subtable(source, doc, "minutes", _MINUTES_KEYS)
        if "note_pattern" in table:
            note_pattern = table["note_pattern"]
            if not isinstance(note_pattern, str) or not note_pattern:
                raise ConfigError(source, "[minutes] note_pattern must be a non-empty string")
            try:
                re.compile(note_pattern)
            except re.error as exc:
                raise ConfigError(source, f"[minutes] note_pattern is not a valid regular expression: {exc}") from None
            hazard = note_pattern_hazard(note_pattern)
            if hazard is not None:
                raise ConfigError(source, f"[minutes] note_pattern is refused: {hazard}")

    max_units_per_line = DEFAULT_MAX_UNITS_PER_LINE
    if "fix" in doc:
        table = _subtable(source, doc, "fix", _FIX_KEYS)
        if "max_units_per_line" in table:
            value = table["max_units_per_line"]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999:
                raise ConfigError(source, f"[fix] max_units_per_line must be a whole number from 1 to 9999, not {value!r}")
            max_units_per_line = value

    practice = _parse_practice(source, doc["practice"]) if "practice" in doc else Practice()
    ledger = {}
    for key in ("ledger", "ledger_key_file"):
        if key in doc:
            if not isinstance(doc[key], str) or not doc[key].strip():
                raise ConfigError(source, f"{key} must be a non-empty string")
            ledger[key] = doc[key].strip()

    profiles: list[ProfileSpec] = []
    if "profiles" in doc:
        table = doc["profiles"]
        if not isinstance(table, dict):
            raise ConfigError(source, "profiles must be a table of [profiles.<name>] tables")
        profiles = [_parse_profile(source, name, sub) for name, sub in table.items()]

    return Config(
        source=source,
        profiles=tuple(profiles),
        severity=MappingProxyType(severity),
        select=select,
        ignore=ignore,
        note_pattern=note_pattern,
        include=_globs(source, "include", doc["include"]) if "include" in doc else (),
        exclude=_globs(source, "exclude", doc["exclude"]) if "exclude" in doc else (),
        max_units_per_line=max_units_per_line,
        practice=practice,
        **ledger,
    )


_CONTROL_CHARS = r"[\x00-\x1f\x7f]"  # compiled on first use, as the patterns above


def _parse_practice(source: str, table: object) -> Practice:
    """``[practice]``: short one-line texts; ``npi`` a 10-digit NPI whose check digit is right
    (a typo there would send the payer to another provider)."""
    from .synth import is_valid_npi

    if not isinstance(table, dict):
        raise ConfigError(source, "practice must be a table with name, npi, contact and signer")
    values: dict[str, str] = {}
    for key, value in table.items():
        if key not in _PRACTICE_KEYS:
            raise _unknown_key(source, "[practice]", key, _PRACTICE_KEYS)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(source, f"[practice] {key} must be a non-empty string")
        if re.search(_CONTROL_CHARS, value) or len(value) > MAX_PRACTICE_TEXT:
            raise ConfigError(source, f"[practice] {key} must be one line of at most {MAX_PRACTICE_TEXT} characters")
        values[key] = value.strip()
    npi = values.get("npi")
    if npi is not None and not is_valid_npi(npi):
        raise ConfigError(source, f"[practice] npi {npi!r} is not a valid NPI (10 digits with the right check digit)")
    return Practice(**values)


def _globs(source: str, where: str, value: object) -> tuple[str, ...]:
    globs = _str_list(source, where, value)
    for glob in globs:
        if not glob.strip():
            raise ConfigError(source, f"{where}: an empty glob matches nothing; remove it")
    return globs


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


def effective_profiles(maps: Maps, config: Config | None) -> tuple[PayerProfile, ...]:
    """All payer profiles in match order: the config's (new or changed) first, then the shipped
    ones it did not change.

    Raises:
        ConfigError: ``extends`` names an unknown profile, or ``modifier_order`` an unknown policy.
    """
    if config is None or not config.profiles:
        return maps.profiles
    shipped = {p.name: p for p in maps.profiles}
    built: dict[str, PayerProfile] = {}
    for spec in config.profiles:
        where = f"[profiles.{spec.name}]"
        if spec.name in shipped:
            if spec.extends is not None and spec.extends != spec.name:
                raise ConfigError(
                    config.source, f"{where}: 'extends' is only for new profiles; {spec.name!r} is a shipped profile"
                )
            base = shipped[spec.name]
        else:
            parent = spec.extends or "default"
            if parent in built:
                base = built[parent]
            elif parent in shipped:
                base = shipped[parent]
            else:
                known = ", ".join(dict.fromkeys([*built, *shipped]))
                raise ConfigError(config.source, f"{where}: extends unknown profile {parent!r} (known: {known})")
        built[spec.name] = _apply(config.source, maps, base, spec)
    rest = tuple(p for p in maps.profiles if p.name not in built)
    return tuple(built.values()) + rest


def _apply(source: str, maps: Maps, base: PayerProfile, spec: ProfileSpec) -> PayerProfile:
    changes: dict[str, object] = {"name": spec.name, "origin": source}
    if spec.name != base.name:
        # A new profile inherits behaviour, not the parent's match criteria: extending "medicare"
        # must not also capture every MB claim under the new name.
        changes.update(payer_ids=(), filing_indicators=(), notes=(), sources=(), confidence="M")
    for key in (
        "payer_ids",
        "filing_indicators",
        "unit_method",
        "ncci_modifier",
        "wants_g0283",
        "replacement_frequency",
        "unit_grouping",
        "therapy_threshold",
        "correction_route",
        "correction_days",
        "medicare_coverage",
        "telehealth_marking",
    ):
        value = getattr(spec, key)
        if value is not None:
            changes[key] = value
    if spec.modifier_order is not None:
        if spec.modifier_order == NO_ORDER:
            changes["modifier_order"] = None
        elif spec.modifier_order in maps.modifiers.policies:
            changes["modifier_order"] = spec.modifier_order
        else:
            known = ", ".join([*maps.modifiers.policies, NO_ORDER])
            raise ConfigError(
                source, f"[profiles.{spec.name}] modifier_order {spec.modifier_order!r} is not a policy (known: {known})"
            )
    return dataclasses.replace(base, **changes)


def resolve_profile(
    maps: Maps,
    config: Config | None,
    payer_id: str | None,
    filing_indicator: str | None,
    override_unit_method: str | None = None,
) -> PayerProfile:
    """The payer profile for one claim.

    Args:
        maps: from :func:`edi_rehab.mapdata.load_maps`.
        config: from :func:`parse_config`, or None for the shipped profiles only.
        payer_id: 2010BB NM1*PR NM109.
        filing_indicator: 2000B SBR09.
        override_unit_method: a command-line ``--unit-method`` that beats every profile.

    Raises:
        ConfigError: the config names an unknown profile or policy, or ``override_unit_method`` is
            not ``cms`` / ``per-code``.
    """
    profile = match_profile(effective_profiles(maps, config), payer_id, filing_indicator)
    if override_unit_method is not None:
        method = _choice("--unit-method", "the unit method", override_unit_method, UNIT_METHODS)
        profile = dataclasses.replace(profile, unit_method=method)
    return profile
