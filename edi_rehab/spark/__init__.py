"""``check`` and ``match`` as an Apache Spark job: the same answers, as DataFrames.

Install with ``pip install 'edi-rehab[spark]'`` (PySpark; Spark needs a Java runtime).
Nothing outside this package and ``cli/spark.py`` imports PySpark.

Theory of operation
-------------------
The unit of work is the transaction set, as with ``--jobs`` (:mod:`edi_rehab.batch`),
because NCCI pairs and MUEs are scoped to one (engine decision 4):

1. **Inputs.** The driver names each input (:class:`~edi_rehab.spark.tasks.Source`: the
   path as given, its size). An input that does not exist becomes a row of ``errors``.
2. **Small inputs** (at most ``split_bytes``) are read whole by Spark's ``binaryFile``
   source, one task checking several files; **large ones** get one planning task each,
   which streams the file once and cuts it into spans of whole transaction sets of about
   ``batch_bytes`` (:func:`~edi_rehab.spark.tasks.plan_file`, the reader's own offsets);
   the spans are spread over the partitions and each task reads only its byte range.
3. Each task checks with the checker built once per Python worker from the broadcast
   :class:`~edi_rehab.batch.CheckRecipe` (maps, CMS files, config: shipped once), and
   returns rows tagged by table. An unreadable file or transaction set becomes an
   ``errors`` row (path, byte offset, message); the findings before it stand, as in
   ``check``. The job never fails on input.
4. **Match** is a distributed join: every 837P claim is keyed by CLM01 (stripped, cut to
   20, upper-cased) and every CLP01 by the same keys plus each suffix a payer's prefix may
   hide; joined, they give each remittance file the 837P transaction sets its claims may
   name. One task per remittance file then reads those sets again (by range), checks them
   and runs the single-machine :func:`~edi_rehab.match.match_remittances` on an index of
   just them, so the candidates, the tie-breaks (claim order across files), the line
   methods (REF*6R, the fallback score, bundles) and the assessments are the ones ``match
   REMIT CLAIMS...`` gives for that file.

Range reads (large files, and match's second read of the claim sets) open the input on the
executor: a local path (on a cluster, a shared mount: NFS, /dbfs, a FUSE bucket), or a URL
through fsspec (``s3://``/``s3a://`` with s3fs, ``gs://`` with gcsfs, ``abfss://`` with adlfs,
``http(s)://``), whose filesystems fetch byte ranges. ``binaryFile`` reads small local inputs
through Spark; URLs are all planned and read by range, so no Hadoop connector is needed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from .tasks import (
    CLAIM_COLUMNS,
    ERROR_COLUMNS,
    FINDING_COLUMNS,
    LINE_COLUMNS,
    MATCH_COLUMNS,
    PAYMENT_COLUMNS,
    Source,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from ..batch import CheckRecipe

__all__ = ["CheckTables", "MatchTables", "check", "match", "sources", "schema", "TABLES"]

#: Inputs up to this size are read whole (by ``binaryFile``); larger ones are planned and
#: read by ranges (as ``--jobs`` splits them: :data:`edi_rehab.batch.SPLIT_CHECK_BYTES`).
SPLIT_BYTES = 4 << 20
#: A span of a large file holds whole transaction sets of about this many bytes.
BATCH_BYTES = 1 << 20

#: table name -> columns
TABLES = {
    "findings": FINDING_COLUMNS,
    "claims": CLAIM_COLUMNS,
    "lines": LINE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "matches": MATCH_COLUMNS,
    "errors": ERROR_COLUMNS,
}


@dataclass(frozen=True)
class CheckTables:
    findings: DataFrame
    claims: DataFrame
    lines: DataFrame
    errors: DataFrame


@dataclass(frozen=True)
class MatchTables:
    payments: DataFrame
    matches: DataFrame
    errors: DataFrame


def schema(table: str):
    """The Spark schema of one output table."""
    from pyspark.sql.types import _parse_datatype_string

    return _parse_datatype_string(", ".join(f"{name}: {kind}" for name, kind in TABLES[table]))


def sources(paths: Iterable[str], first: int = 0) -> tuple[list[Source], list[tuple]]:
    """``(sources, error rows)``: each path that names a regular file, and a row of
    ``errors`` for each that does not. Names are the paths as given."""
    from .tasks import is_remote

    found, errors = [], []
    for path in paths:
        if is_remote(path):
            source = _remote_source(first + len(found), path, errors)
            if source is not None:
                found.append(source)
            continue
        location = _local_path(path)
        try:
            size = os.stat(location).st_size
        except OSError as error:
            errors.append((path, 0, f"{path}: cannot be read: {error.strerror or error}"))
            continue
        if not os.path.isfile(location):
            errors.append((path, 0, f"{path}: is not a regular file"))
            continue
        found.append(Source(first + len(found), path, os.path.abspath(location), size))
    return found, errors


def _remote_source(index: int, url: str, errors: list) -> Source | None:
    """A URL's size from its fsspec filesystem, or a row of ``errors``."""
    try:
        import fsspec

        filesystem, inner = fsspec.core.url_to_fs(url)
        info = filesystem.info(inner)
    except ImportError as error:
        errors.append((url, 0, f"{url}: cannot be read: {error} (install the filesystem's package, e.g. s3fs, gcsfs, adlfs)"))
        return None
    except Exception as error:  # each filesystem raises its own kinds; the job must not fail on input
        errors.append((url, 0, f"{url}: cannot be read: {type(error).__name__}: {error}"))
        return None
    if info.get("type") not in (None, "file") or info.get("size") is None:
        errors.append((url, 0, f"{url}: is not a file of known size"))
        return None
    return Source(index, url, url, int(info["size"]))


def _local_path(path: str) -> str:
    if path.startswith("file:"):
        return unquote(urlparse(path).path)
    return path


def _checker_key() -> str:
    return uuid.uuid4().hex


def _parallelism(spark: SparkSession, partitions: int | None) -> int:
    return partitions or 2 * spark.sparkContext.defaultParallelism


def _whole_files(spark: SparkSession, small: Sequence[Source], partitions: int):
    """An RDD of ``(source, bytes)`` for the small inputs, read by ``binaryFile``, about
    ``partitions`` partitions of similar byte counts."""
    from pathlib import Path

    if not small:
        return spark.sparkContext.emptyRDD()
    by_location = {source.location: source for source in small}
    total = sum(source.size for source in small)
    conf = spark.conf
    saved = {key: conf.get(key, None) for key in ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")}
    try:
        conf.set("spark.sql.files.maxPartitionBytes", str(max(total // partitions, 1 << 16)))
        conf.set("spark.sql.files.openCostInBytes", str(1 << 12))
        frame = spark.read.format("binaryFile").load([Path(s.location).as_uri() for s in small])
        rdd = frame.select("path", "content").rdd
        rdd.getNumPartitions()  # the file splits are fixed now, under these settings
    finally:
        for key, value in saved.items():
            if value is None:
                conf.unset(key)
            else:
                conf.set(key, value)

    def pair(row):
        return by_location[_local_path(row.path)], bytes(row.content)

    return rdd.map(pair)


def _planned_items(spark: SparkSession, large: Sequence[Source], batch_bytes: int, partitions: int):
    """An RDD of ``(source, item)`` for the large inputs: one planning task per input, its
    spans then spread over ``partitions``."""
    from .tasks import ErrorItem, cannot_be_read, plan_file, read_chunks

    if not large:
        return spark.sparkContext.emptyRDD()

    def plan(source: Source):
        try:
            for item in plan_file(source, read_chunks(source.location), batch_bytes):
                yield source, item
        except Exception as error:  # noqa: BLE001 - cannot_be_read raises again what is not a read failure
            yield source, ErrorItem(source.index, 0, cannot_be_read(source, error))

    planned = spark.sparkContext.parallelize(list(large), len(large)).flatMap(plan)
    return planned.repartition(partitions)


def _frames(spark: SparkSession, tagged, tables: Sequence[str]) -> dict[str, DataFrame]:
    tagged = tagged.persist()
    return {
        name: spark.createDataFrame(tagged.filter(lambda row, name=name: row[0] == name).map(lambda row: row[1]), schema(name), verifySchema=False)
        for name in tables
    }


def check(
    spark: SparkSession,
    paths: Iterable[str],
    *,
    recipe: CheckRecipe | None = None,
    partitions: int | None = None,
    split_bytes: int = SPLIT_BYTES,
    batch_bytes: int = BATCH_BYTES,
) -> CheckTables:
    """Check 837P files on Spark: ``findings``, ``claims``, ``lines`` and ``errors``.

    ``recipe`` is the checker to build on each executor (default: the shipped maps, no
    config). The DataFrames are lazy; they share one cached pass over the inputs.
    """
    from ..batch import CheckRecipe
    from .tasks import check_item, check_whole, checker_for, is_remote

    recipe = recipe if recipe is not None else CheckRecipe()
    found, missing = sources(paths)
    context = spark.sparkContext
    shipped = context.broadcast(recipe)
    key = _checker_key()
    width = _parallelism(spark, partitions)
    # URLs are all planned and read by range through fsspec (Spark's binaryFile would need
    # the matching Hadoop connector, and reads no http:// at all).
    small = [s for s in found if s.size <= split_bytes and not is_remote(s.location)]
    large = [s for s in found if s.size > split_bytes or is_remote(s.location)]

    def whole(pair):
        source, data = pair
        return check_whole(source, data, checker_for(key, shipped.value))

    def piece(pair):
        source, item = pair
        return check_item(source, item, checker_for(key, shipped.value))

    tagged = _whole_files(spark, small, width).flatMap(whole).union(_planned_items(spark, large, batch_bytes, width).flatMap(piece))
    if missing:
        tagged = tagged.union(context.parallelize([("errors", row) for row in missing], 1))
    frames = _frames(spark, tagged, ("findings", "claims", "lines", "errors"))
    return CheckTables(**frames)


def match(
    spark: SparkSession,
    remit_paths: Iterable[str],
    claim_paths: Iterable[str],
    *,
    recipe: CheckRecipe | None = None,
    carc_list: Any = None,
    rarc_list: Any = None,
    partitions: int | None = None,
    split_bytes: int = SPLIT_BYTES,
    batch_bytes: int = BATCH_BYTES,
) -> MatchTables:
    """Match every 835 service payment of ``remit_paths`` to its 837P line in
    ``claim_paths`` on Spark: ``payments``, ``matches`` and ``errors``.

    Each remittance file is matched as ``match REMIT CLAIMS...`` matches it (its rows in
    ``matches`` are that command's ``lines``, in order by ``(path, seq)``); ``carc_list``
    and ``rarc_list`` are :func:`~edi_rehab.match.parse_code_list` values.
    """
    from ..batch import CheckRecipe

    recipe = recipe if recipe is not None else CheckRecipe()
    claim_sources, claim_missing = sources(_unique(claim_paths))
    remit_sources, remit_missing = sources(remit_paths, first=len(claim_sources))
    context = spark.sparkContext
    shipped = context.broadcast((recipe, carc_list, rarc_list))
    by_index = context.broadcast({s.index: s for s in claim_sources})
    key = _checker_key()
    width = _parallelism(spark, partitions)

    # 1. The claim keys, per transaction set (small files whole, large ones by span).
    small = [s for s in claim_sources if s.size <= split_bytes]
    large = [s for s in claim_sources if s.size > split_bytes]
    claim_pieces = context.parallelize([(s, None) for s in small], max(1, min(width, len(small)))).union(
        _planned_items(spark, large, batch_bytes, width)
    )
    keyed = claim_pieces.flatMap(_claim_key_rows)
    claim_keys = keyed.filter(lambda row: row[0] == "key").map(lambda row: row[1])

    # 2. The remittances: payments rows and the keys their CLP01s are looked up by.
    remits = context.parallelize(remit_sources, max(1, min(width, len(remit_sources)))).flatMap(_remit_stage).persist()
    remit_keys = remits.filter(lambda row: row[0] == "key").map(lambda row: row[1]).distinct()

    # 3. The join: each remittance file and the 837P transaction sets it needs.
    needed = remit_keys.join(claim_keys).map(lambda pair: (pair[1][0], pair[1][1])).groupByKey()
    everyone = context.parallelize([(s.index, s) for s in remit_sources], max(1, min(width, len(remit_sources))))

    def matched(pair):
        _index, (sources_, spans) = pair
        remit_source = next(iter(sources_))
        spans = [span for group in spans for span in group]
        return _match_stage(remit_source, spans, by_index.value, key, shipped.value)

    rows = everyone.cogroup(needed).filter(lambda pair: len(pair[1][0]) > 0).flatMap(matched)
    tagged = (
        keyed.filter(lambda row: row[0] == "errors")
        .union(remits.filter(lambda row: row[0] in ("payments", "errors")))
        .union(rows)
    )
    missing = claim_missing + remit_missing
    if missing:
        tagged = tagged.union(context.parallelize([("errors", row) for row in missing], 1))
    frames = _frames(spark, tagged, ("payments", "matches", "errors"))
    return MatchTables(**frames)


def _unique(paths: Iterable[str]) -> list[str]:
    """Each claim file once (a path given twice is read once, as ``match`` reads it)."""
    seen, kept = set(), []
    for path in paths:
        real = path if "://" in path and not path.startswith("file:") else os.path.realpath(_local_path(path))
        if real not in seen:
            seen.add(real)
            kept.append(path)
    return kept


def _claim_key_rows(pair):
    """Task: the join keys of one claim file (or span), or why it cannot be indexed."""
    from ..x12 import Transaction, X12ReadError
    from ..x12.document import iter_events
    from .tasks import EnvelopeItem, ErrorItem, cannot_be_read, claim_keys, read_range, span_transactions

    source, item = pair
    if isinstance(item, EnvelopeItem):
        return []
    if isinstance(item, ErrorItem):
        return [("errors", (source.name, item.start, item.message))]
    out: list[tuple] = []
    start, end = (0, source.size) if item is None else (item.start, item.end)
    try:
        data = read_range(source.location, start, end)
    except Exception as error:  # noqa: BLE001 - cannot_be_read raises again what is not a read failure
        return [("errors", (source.name, start, cannot_be_read(source, error)))]
    try:
        if item is None:
            transactions = (event for event in iter_events([data]) if isinstance(event, Transaction))
        else:
            transactions = span_transactions(data, item)
        for kind, value, span in claim_keys(source, _professional_only(source, transactions, out)):
            out.append(("key", ((kind, value), span)))
    except X12ReadError as error:
        out.append(("errors", (source.name, error.offset, f"{source.name}: {error}")))
    return out


def _professional_only(source: Source, transactions, out: list):
    """The 837P sets; any other set in a claim file becomes an ``errors`` row (``match``
    refuses the file)."""
    for tx in transactions:
        if tx.set_id == "837" and tx.version.startswith("005010X222"):
            yield tx
        else:
            kind = f"an 837 of version {tx.version or 'unknown'}" if tx.set_id == "837" else f"a {tx.set_id or 'unknown'} transaction set"
            out.append(("errors", (source.name, tx.offset, f"{source.name}: holds {kind}; match reads professional claims (005010X222A1)")))


def _remit_stage(source: Source):
    """Task: one remittance file's payments and its lookup keys, or why it cannot be read."""
    from ..match import WrongFileType
    from ..x12 import X12ReadError
    from .tasks import cannot_be_read, read_range, read_remits, remit_keys, remit_rows

    try:
        data = read_range(source.location, 0, source.size)
    except Exception as error:  # noqa: BLE001 - cannot_be_read raises again what is not a read failure
        return [("errors", (source.name, 0, cannot_be_read(source, error)))]
    try:
        remits = read_remits(source.name, data)
    except X12ReadError as error:
        return [("errors", (source.name, error.offset, f"{source.name}: {error}"))]
    except WrongFileType as error:
        return [("errors", (source.name, 0, str(error)))]
    out: list[tuple] = [("payments", row) for row in remit_rows(source.name, remits)]
    out.extend(("key", (key, source.index)) for key in set(remit_keys(source, remits)))
    return out


def _match_stage(source: Source, spans, claim_sources, key: str, shipped):
    """Task: match one remittance file on the 837P sets the join gave it."""
    from ..x12 import X12ReadError
    from .tasks import checker_for, match_remit_file, read_range, read_remits

    recipe, carc_list, rarc_list = shipped
    try:
        remits = read_remits(source.name, read_range(source.location, 0, source.size))
    except Exception:  # noqa: BLE001 - the remittance stage read the same file and made its errors row
        return []
    try:
        rows = match_remit_file(source.name, remits, spans, claim_sources, checker_for(key, recipe), carc_list, rarc_list)
    except (OSError, X12ReadError) as error:
        # A claim file the key stage read has changed or gone since: say so rather than
        # leave this remittance's matches out without a word.
        return [("errors", (source.name, 0, f"{source.name}: not matched: a claim file could not be read again: {error}"))]
    return [("matches", row) for row in rows]
