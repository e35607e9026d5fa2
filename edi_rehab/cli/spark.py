"""`edi-rehab spark check|match`: the same answers as Parquet tables, computed by Apache Spark.

Only this module and :mod:`edi_rehab.spark` import PySpark (the ``spark`` extra); a run
without ``--master`` takes the master from ``spark-submit``.
"""

from __future__ import annotations

import os
import sys

import click

from .files import InputProblem
from .inputs import expand_inputs
from .options import CONFIG, IGNORE, MUE, NCCI, UNIT_METHOD
from .output import EXIT_OK, EXIT_UNREADABLE, counted, fail, warn

SPARK_OPTIONS = [
    click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder for the Parquet tables (one sub-folder per table; each replaced whole)."),
    click.option("--partition-by", default="file_date", show_default=True, metavar="COL", help="Partition each table that has this column by it (file_date: GS04 of the file's group)."),
    click.option("--master", default=None, metavar="URL", help="Spark master, e.g. local[2]; default: what spark-submit gives."),
    click.option("--partitions", type=click.IntRange(min=1), default=None, help="Partitions to spread the work over (default: twice the cores)."),
]


def spark_options(function):
    for option in reversed(SPARK_OPTIONS):
        function = option(function)
    return function


@click.group("spark")
def spark_group() -> None:
    """Run check or match as an Apache Spark job writing Parquet tables (pip install 'edi-rehab[spark]')."""


def _session(master: str | None):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        fail("the spark commands need PySpark: pip install 'edi-rehab[spark]' (and a Java 17+ runtime)")
        sys.exit(EXIT_UNREADABLE)
    builder = SparkSession.builder.appName("edi-rehab")
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            # The Python workers must be this interpreter, which has edi-rehab installed.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.config("spark.ui.showConsoleProgress", "false")
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Java missing or the master unreachable: say so, no traceback
        fail(f"Spark did not start: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
        sys.exit(EXIT_UNREADABLE)
    session.sparkContext.setLogLevel("ERROR")
    return session


def _is_url(arg: str) -> bool:
    return "://" in arg and not arg.startswith("file:")


def _paths(args: tuple[str, ...]) -> list[str]:
    if "-" in args:
        fail("spark reads files, not standard input")
        sys.exit(EXIT_UNREADABLE)
    # URLs (s3a://, gs://, http://...) go to the job as given: fsspec reads them there.
    try:
        if not any(_is_url(arg) for arg in args):
            return [inp.path for inp in expand_inputs(args)]
        paths, seen = [], set()
        for arg in args:
            for path in [arg] if _is_url(arg) else [inp.path for inp in expand_inputs((arg,))]:
                key = path if _is_url(path) else os.path.realpath(path)
                if key not in seen:  # named twice: read once, where it first comes
                    seen.add(key)
                    paths.append(path)
        return paths
    except InputProblem as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)


def _recipe(*, select, ignore, unit_method, ncci_files, mue_file, config_path):
    from ..config import ConfigError
    from ..engine import CheckUsageError
    from ..mapdata import MapError
    from .options import build_recipe

    try:
        recipe, _config = build_recipe(
            minutes_path=None, minutes_text=None, unit_method=unit_method, ncci_files=ncci_files,
            mue_file=mue_file, config_path=config_path, select=select, ignore=ignore,
        )
        recipe.build()  # refuses unknown rule codes here, not on every executor
    except (InputProblem, MapError, ConfigError, CheckUsageError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    return recipe


def _write(frames: dict, out_dir: str, partition_by: str) -> dict[str, int]:
    """Write each table as Parquet under ``out_dir/<table>``, replacing the old one only
    once the new one is complete (written beside it, then renamed). Returns row counts."""
    import shutil
    import uuid

    os.makedirs(out_dir, exist_ok=True)
    counts = {}
    for name, frame in frames.items():
        final = os.path.join(out_dir, name)
        temporary = os.path.join(out_dir, f".{name}.{uuid.uuid4().hex}.tmp")
        writer = frame.write.mode("overwrite")
        if partition_by in frame.columns:
            writer = writer.partitionBy(partition_by)
        writer.parquet(temporary)
        old = None
        if os.path.exists(final):
            old = os.path.join(out_dir, f".{name}.{uuid.uuid4().hex}.old")
            os.replace(final, old)
        os.replace(temporary, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        # Counted from the Parquet footers: counting the frame would run its pass again.
        counts[name] = frame.sparkSession.read.parquet(final).count()
    return counts


def _finish(counts: dict[str, int], out_dir: str) -> None:
    summary = ", ".join(f"{name} {number}" for name, number in counts.items())
    click.echo(f"Wrote {out_dir}: {summary} rows.")
    if counts.get("errors"):
        warn(f"{counted(counts['errors'], 'input problem')} in {os.path.join(out_dir, 'errors')}")
        sys.exit(EXIT_UNREADABLE)
    sys.exit(EXIT_OK)


def _check_partition(partition_by: str, tables: tuple[str, ...]) -> None:
    from ..spark import TABLES

    if not any(partition_by == column for table in tables for column, _kind in TABLES[table]):
        raise click.UsageError(f"--partition-by {partition_by}: no table has that column")


def _refuse_unsupported(minutes_path: str | None, validate_too: bool) -> None:
    """Refuse what the Spark job cannot do with check's answers (exit 2, before Spark starts)."""
    if minutes_path is not None:
        # U110 and the minutes rules look at the minutes table against every claim of the
        # run; the tasks check transaction sets apart and share no run-wide set of claims.
        fail("spark check does not take --minutes yet: the minutes findings (U110 among them) need the whole run's "
             "claims in one place, which the Spark tasks do not share; run `edi-rehab check --minutes CSV FILES`")
        sys.exit(EXIT_UNREADABLE)
    if validate_too:
        # pyx12 validates a whole file in memory; it cannot be cut by transaction set.
        fail("spark check does not take --validate: pyx12 validates whole files in memory, not the transaction sets "
             "the Spark tasks check; run `edi-rehab check --validate FILES` (or `edi-rehab validate`)")
        sys.exit(EXIT_UNREADABLE)


@spark_group.command("check")
@click.argument("inputs", nargs=-1, required=True)
@spark_options
@click.option("--select", multiple=True, metavar="CODES", help="Only these rule codes or prefixes (comma-separated; repeatable).")
@IGNORE
@UNIT_METHOD
@NCCI
@MUE
@CONFIG
@click.option("--minutes", "minutes_path", metavar="CSV", help="Not supported by spark check (refused, exit 2): run `edi-rehab check --minutes`.")
@click.option("--validate", "validate_too", is_flag=True, help="Not supported by spark check (refused, exit 2): run `edi-rehab check --validate`.")
def spark_check(inputs, out_dir, partition_by, master, partitions, select, ignore, unit_method, ncci_files, mue_file, config_path,
                minutes_path, validate_too) -> None:
    """Check 837P INPUTS (files or folders) on Spark; write the tables findings, claims,
    lines and errors under --out. The findings are check's, each with its path and byte
    offset. Exit 0, or 2 when some input could not be read (it is a row of errors; the
    other tables are written all the same)."""
    from .. import spark as job

    _refuse_unsupported(minutes_path, validate_too)
    _check_partition(partition_by, ("findings", "claims", "lines", "errors"))
    paths = _paths(inputs)
    recipe = _recipe(select=select, ignore=ignore, unit_method=unit_method, ncci_files=ncci_files, mue_file=mue_file, config_path=config_path)
    session = _session(master)
    tables = job.check(session, paths, recipe=recipe, partitions=partitions)
    counts = _write(
        {"findings": tables.findings, "claims": tables.claims, "lines": tables.lines, "errors": tables.errors},
        out_dir, partition_by,
    )
    _finish(counts, out_dir)


@spark_group.command("match")
@click.argument("remits", nargs=-1, required=True)
@click.option("--claims", "claims", multiple=True, required=True, metavar="PATH", help="837P claim file or folder; repeatable.")
@spark_options
@UNIT_METHOD
@NCCI
@MUE
@CONFIG
@click.option("--carc-file", metavar="CSV", help="Official CARC list as CSV: code,description.")
@click.option("--rarc-file", metavar="CSV", help="Official RARC list as CSV: code,description.")
def spark_match(remits, claims, out_dir, partition_by, master, partitions, unit_method, ncci_files, mue_file, config_path, carc_file, rarc_file) -> None:
    """Match every service payment of the 835 REMITS to its 837P line in --claims on
    Spark; write the tables payments, matches and errors under --out. Each remittance file
    gets the rows `edi-rehab match REMIT CLAIMS...` gives it. Exit 0, or 2 when some input
    could not be read (a row of errors)."""
    from .. import spark as job
    from ..match import CodeListError, parse_code_list
    from .files import display_name, read_text

    _check_partition(partition_by, ("payments", "matches", "errors"))
    remit_paths = _paths(remits)
    claim_paths = _paths(claims)
    recipe = _recipe(select=(), ignore=(), unit_method=unit_method, ncci_files=ncci_files, mue_file=mue_file, config_path=config_path)
    lists = []
    try:
        for path in (carc_file, rarc_file):
            lists.append(parse_code_list(read_text(path), display_name(path)) if path else None)
    except (InputProblem, CodeListError) as problem:
        fail(str(problem))
        sys.exit(EXIT_UNREADABLE)
    session = _session(master)
    tables = job.match(session, remit_paths, claim_paths, recipe=recipe, carc_list=lists[0], rarc_list=lists[1], partitions=partitions)
    counts = _write({"payments": tables.payments, "matches": tables.matches, "errors": tables.errors}, out_dir, partition_by)
    _finish(counts, out_dir)
