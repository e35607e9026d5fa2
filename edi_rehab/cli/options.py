"""The options several commands share, and reading what they name (CMS files, config,
minutes) into the Checker the commands run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

import click

from .cache import cache_dir, read_private
from .config_file import CONFIG, ISOLATED, ConfigChoice
from .files import InputProblem, display_name, read_all, read_text, write_atomically
from .minutes_file import PRESCAN_BYTES, claim_ids_in, minutes_header_problem, minutes_text as read_minutes
from .output import EXIT_UNREADABLE, counted, fail, warn

#: ``config -> the chunks of each claim file of the run`` (``None`` for one that cannot be read
#: twice), for :func:`build_recipe`
ClaimFiles = Callable[[object], Iterable[Iterable[bytes] | None]]

SAMPLE_FILE = "sample-837p.x12"
SAMPLE_MINUTES = "sample-minutes.csv"


COMPILED_MAPS = "maps-compiled.pickle"


def use_compiled_maps() -> None:
    """Load the shipped maps from the compiled cache, or build them and refresh the cache.

    Saves parsing and validating maps/ (and importing lxml) on every run after the first;
    the blob is keyed by the maps' content, the package version and Python
    (``edi_rehab/compiled_maps.py``), so a stale one is rebuilt, never used. Raises
    MapError when the shipped maps themselves are broken. An unwritable cache folder only
    means no cache.
    """
    from .. import mapdata
    from ..compiled_maps import compiled_key, decode_compiled, encode_compiled

    if mapdata.shipped_maps_ready():
        return
    files = mapdata.shipped_map_files()
    key = compiled_key(files)
    if key is None:  # the building code's source is not readable: build, and cache nothing
        mapdata.use_shipped_maps(mapdata.build_maps(files))
        return
    folder = cache_dir()
    entry = os.path.join(folder, COMPILED_MAPS)
    blob = read_private(entry)
    maps = decode_compiled(blob, key) if blob is not None else None
    if maps is None:
        maps = mapdata.build_maps(files)
        blob = encode_compiled(maps, key)
        try:
            if blob is not None:
                os.makedirs(folder, mode=0o700, exist_ok=True)
                write_atomically(entry, blob)
        except OSError:
            pass  # no cache this time
    mapdata.use_shipped_maps(maps)


def load_cms_file(path: str, kind: str, keep_codes: frozenset[str]):
    """Parse an official CMS PTP (``kind="ptp"``) or MUE (``"mue"``) file, through the cache.

    The cache entry is keyed by the absolute path, size, mtime_ns and the codes kept, so a
    hook pays the parse once per quarterly file. An unwritable cache folder only means no
    cache. Returns the edits (PTP: a tuple of PtpEdit; MUE: a code -> MueEdit mapping).
    """
    import hashlib

    from .. import cms_files

    try:
        resolved = os.path.abspath(path)
        stat = os.stat(resolved)
    except OSError as error:
        raise InputProblem(f"{path}: cannot open: {error.strerror}") from None
    codes_digest = hashlib.sha256(" ".join(sorted(keep_codes)).encode()).hexdigest()[:16]
    key = f"{kind}|{cms_files.CACHE_FORMAT_VERSION}|{resolved}|{stat.st_size}|{stat.st_mtime_ns}|{codes_digest}"
    folder = cache_dir()
    entry = os.path.join(folder, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json")
    decode = cms_files.decode_ptp_cache if kind == "ptp" else cms_files.decode_mue_cache
    try:
        with open(entry, "rb") as handle:
            cached = decode(handle.read(), key=key)
    except OSError:
        cached = None
    if cached is not None:
        return cached
    data = read_all(path)
    if kind == "ptp":
        load = cms_files.parse_ptp_file(os.path.basename(path), data, keep_codes)
        edits, empty = load.edits, not load.edits
    else:
        load = cms_files.parse_mue_file(os.path.basename(path), data, keep_codes)
        edits, empty = dict(load), not load.rows_read
    if load.problems and empty:
        what = "NCCI PTP" if kind == "ptp" else "MUE"
        raise InputProblem(f"{path}: not a usable CMS {what} file: {load.problems[0]}")
    if load.problems:
        warn(f"{path}: {counted(len(load.problems), 'row')} skipped; first: {load.problems[0]}")
    encode = cms_files.encode_ptp_cache if kind == "ptp" else cms_files.encode_mue_cache
    try:
        os.makedirs(folder, exist_ok=True)
        write_atomically(entry, encode(edits, key=key))
    except OSError:
        pass  # no cache this time
    return edits


def build_recipe(
    *,
    minutes_path: str | None,
    minutes_text: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: ConfigChoice | str | None,
    select: Iterable[str],
    ignore: Iterable[str],
    rules_off: bool = False,
    claim_files: ClaimFiles | None = None,
):
    """Read everything ``check`` needs before reading a claim file (CMS files through the
    cache, config, minutes) into a :class:`~edi_rehab.batch.CheckRecipe`, from which the
    parent and each worker build the same Checker. Returns ``(recipe, config)``. Raises
    InputProblem, MapError or ConfigError, all reported as exit 2.

    ``claim_files(config)`` gives the chunks of each claim file of the run (``None`` for
    one that cannot be read twice); it is called only for a minutes file of
    :data:`~edi_rehab.cli.minutes_file.PRESCAN_BYTES` or more, whose rows are then kept
    only for the claims those files hold."""
    from ..batch import CheckRecipe
    from ..config import parse_config
    from ..engine import parse_codes
    from ..ig import PREFIX
    from ..mapdata import load_maps
    from ..minutes import parse_minutes_csv
    from ..rules import registry

    use_compiled_maps()
    maps = load_maps()
    extra_ptp: list = []
    for path in ncci_files:
        extra_ptp.extend(load_cms_file(path, "ptp", maps.all_codes))
    mue = load_cms_file(mue_file, "mue", maps.all_codes) if mue_file else None
    choice = config_path if isinstance(config_path, ConfigChoice) else ConfigChoice(config_path, (), "given" if config_path else "none")
    config = config_text = None
    if choice.path is not None:
        config_text = read_text(choice.path)
        config = parse_config(config_text, choice.source, choice.table)
        from ..engine import OUTSIDE_CODES

        for code in config.unknown_rule_codes((*registry.CODES, *OUTSIDE_CODES, PREFIX)):
            warn(f"{choice.source}: {code!r} matches no rule code")
    minutes = None
    size: int | None = len(minutes_text) if minutes_text is not None else None
    text = minutes_text
    if text is None and minutes_path is not None:
        text, size = read_minutes(minutes_path)
    if text is not None:
        source = display_name(minutes_path) if minutes_path else "minutes.csv"
        # A file given on purpose that places no row would silently turn the minutes rules
        # off: that is a usage error, not a finding.
        reason = minutes_header_problem(text if isinstance(text, str) else text())
        if reason is not None:
            raise InputProblem(f"{source}: not a minutes CSV: {reason}")
        claims = None
        if claim_files is not None and size is not None and size >= PRESCAN_BYTES:
            claims = claim_ids_in(claim_files(config))
        minutes = parse_minutes_csv(text if isinstance(text, str) else text(), source, claims=claims)
    recipe = CheckRecipe(
        extra_ptp=tuple(extra_ptp),
        mue=mue,
        config_text=config_text,
        config_source=choice.source,
        config_table=choice.table,
        minutes=minutes,
        unit_method=unit_method,
        select=parse_codes(select),
        ignore=parse_codes(ignore),
        rules_off=rules_off,
    )
    return recipe, config


def build_checker(
    *,
    minutes_path: str | None,
    minutes_text: str | None,
    unit_method: str | None,
    ncci_files: tuple[str, ...],
    mue_file: str | None,
    config_path: ConfigChoice | str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    claim_files: ClaimFiles | None = None,
):
    """Everything ``check`` needs before reading a claim file. Raises InputProblem,
    MapError, ConfigError or CheckUsageError, all reported as exit 2."""
    recipe, _ = build_recipe(
        minutes_path=minutes_path,
        minutes_text=minutes_text,
        unit_method=unit_method,
        ncci_files=ncci_files,
        mue_file=mue_file,
        config_path=config_path,
        select=select,
        ignore=ignore,
        claim_files=claim_files,
    )
    return recipe.build()


def warn_unused_minutes_rows(checker) -> None:
    """When U109 is not selected, the minutes rows it would report (a bad row, more than a
    day of minutes) still go unused; say so on stderr, naming each row, rather than let a
    ``--select U102`` run look as if every row was believed."""
    table = checker.minutes
    if table is None or checker.config.is_enabled("U109"):
        return
    for problem in table.problems:
        warn(f"{table.source}:{problem.row}: {problem.message}")


def in_order(*decorators):
    """Apply click options in the order given (top to bottom in --help)."""

    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


# What decides the findings: every command that reproduces check's findings takes these.
MINUTES = click.option("--minutes", "minutes_path", metavar="CSV", help="Minutes exported from the EMR: claim_id,line,minutes[,procedure,service_date,time_block,clinician]; rows of one claim and date with the same time_block label were delivered in one time block.")
UNIT_METHOD = click.option("--unit-method", type=click.Choice(["cms", "per-code"]), help="8-minute-rule method for every claim, overriding the payer profiles.")
NCCI = click.option("--ncci-file", "ncci_files", multiple=True, metavar="PATH", help="Official CMS practitioner PTP file (.txt or .zip); repeatable. Parsed once and cached.")
MUE = click.option("--mue-file", metavar="PATH", help="Official CMS practitioner MUE file (.csv or .zip). Enables N305.")
RULE_DATA = (MINUTES, UNIT_METHOD, NCCI, MUE, CONFIG, ISOLATED)
IGNORE = click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rule codes or prefixes (comma-separated; repeatable); added to the config's ignore. The longest matching prefix wins.")

#: The options that decide check's findings; split takes them too.
check_options = in_order(
    click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; repeatable); replaces the config's select. IG codes (IG, IG-IK4-7) narrow --validate."),
    IGNORE,
    *RULE_DATA,
    click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error", show_default=True, help="Lowest severity that makes the exit code 1 (split: that holds a claim)."),
    click.option("--validate", "validate_too", is_flag=True, help="Also validate against the implementation guide (pyx12): its errors become IG-... findings (see `edi-rehab rule IG`). Each file is then held in memory."),
    click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes: files run in parallel; large files are split by transaction (findings stay in file order)."),
)


def prepare_check(
    *, select, ignore, validate_too, minutes_path, minutes_text, unit_method, ncci_files, mue_file, config_path,
    claim_files: ClaimFiles | None = None,
):
    """``(recipe, checker, ig_filter)`` for check and split; exits 2 with a message on any problem."""
    from ..config import ConfigError
    from ..engine import CheckUsageError, parse_codes
    from ..ig import IgFilter, split_codes
    from ..mapdata import MapError

    selected = parse_codes(select)
    rule_select, ig_select = split_codes(selected)
    rule_ignore, ig_ignore = split_codes(parse_codes(ignore))
    rules_off = bool(ig_select) and not rule_select
    if (ig_select or ig_ignore) and not validate_too:
        if rules_off:
            fail("--select names only IG codes, which need --validate")
            sys.exit(EXIT_UNREADABLE)
        warn("IG codes in --select/--ignore only matter with --validate")
    try:
        recipe, config = build_recipe(
            minutes_path=minutes_path,
            minutes_text=minutes_text,
            unit_method=unit_method,
            ncci_files=ncci_files,
            mue_file=mue_file,
            config_path=config_path,
            select=rule_select,
            ignore=rule_ignore,
            rules_off=rules_off,
            claim_files=claim_files,
        )
        checker = recipe.build()
    except (InputProblem, MapError, ConfigError, CheckUsageError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    warn_unused_minutes_rows(checker)
    ig_filter = IgFilter(config, cli_select=selected, cli_ignore=ig_ignore) if validate_too else None
    from ..gcpause import end_of_start_up

    end_of_start_up()  # the checker is built: what is made from here on is per input
    return recipe, checker, ig_filter


#: what ``--ledger`` given without a URL stands for (``ledger.ledger_url_for``)
DEFAULT_LEDGER = "default"

#: ``--ledger``: check, fix, split, match, appeal, report and rekey take it; ``cli/ledger.py``
#: (imported only when a ledger is asked for) resolves it.
LEDGER_OPTION = click.option(
    "--ledger",
    "ledger_url",
    is_flag=False,
    flag_value=DEFAULT_LEDGER,
    default=None,
    metavar="URL",
    help="Record this run in the claim ledger: sqlite:///PATH or postgresql://USER@HOST/DB; alone (after the files, "
    "or as --ledger=default), a SQLite file in the user data folder. Default: the config's ledger.",
)

#: The options match and appeal share with check (so the findings are reproduced).
match_options = in_order(
    *RULE_DATA,
    click.option("--carc-file", metavar="CSV", help="Official CARC list as CSV: code,description (header optional, extra columns ignored)."),
    click.option("--rarc-file", metavar="CSV", help="Official RARC list as CSV: code,description (header optional, extra columns ignored)."),
    LEDGER_OPTION,
)
