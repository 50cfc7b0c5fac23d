"""Input read by Spark itself: Parquet files or datasets and JSON Lines files.

The records never pass through the driver: Spark reads the files, and the executors
check each record with the local readers' own functions (``plan_columns`` and
``article_from_mapping`` for Parquet rows, ``parse_record`` for JSON lines, then
``enrich``), so a record is stored or rejected for the same reason as with the local
engine, under the same origin (``file:row``, ``file:line``). A repeated id is rejected
naming the first occurrence, as ``accept_records`` does. Articles are numbered in
input order: inputs in the order given, the files of a dataset by name, rows and
lines in file order.

JSON Lines are read as lines (``spark.read.text``), not with ``spark.read.json``: a
schema would drop the fields it does not name (the local reader keeps them as
metadata), and Spark does not say on which line a record was. Lines are numbered from
each file split's line count. Each line is decoded as UTF-8, or in a guessed legacy
encoding with a warning, as the local reader does; UTF-16 and UTF-32 files are not
supported here (their lines are not split on the byte ``\\n``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import numpy as np
import orjson
import pyarrow as pa

from ..ingest import JSONL_SUFFIXES, PARQUET_SUFFIXES
from ..ingest.columns import MappingError, check_column_map, plan_columns
from ..ingest.decode import LineDecoder
from ..ingest.jsonl import _renamer, article_from_mapping, parse_record
from ..ingest.metadata import enrich
from ..model import Article, Rejection
from ..text import body_start_and_place

# A record in input order (``source``: the input's number, ``file``, ``row`` from 0) and what
# the checks made of it: an article (kind "A") or a rejection (kind "R", ``reason``).
RECORD_SCHEMA = (
    "source int, file string, row long, kind string, id string, text string, outlet string, "
    "title string, published_at string, url string, byline string, metadata string, "
    "origin string, reason string, body_start long, dateline_place string"
)
_ORDER = ("source", "file", "row")
BLOCK_ROWS = 1 << 10  # rows of a file numbered as one run: a power of 2
ARTICLE_SCHEMA = (
    "position long, id string, text string, outlet string, title string, published_at string, "
    "url string, byline string, metadata string, origin string, body_start long, "
    "dateline_place string"
)
_RECORD_FIELDS = [c.split()[0] for c in RECORD_SCHEMA.split(", ")]
_RECORD_TYPES = {"source": pa.int32(), "row": pa.int64(), "body_start": pa.int64()}
_ARTICLE_FIELDS = [c.split()[0] for c in ARTICLE_SCHEMA.split(", ")]


@dataclass
class SparkInput:
    """The checked input: ``articles`` (``ARTICLE_SCHEMA``, numbered 0..count-1 in input
    order, in ranges of positions, one range a partition, sorted; persisted),
    ``rejections`` (origin, reason, record_id; in input order; persisted) and their counts."""

    articles: object  # pyspark DataFrame
    rejections: object
    count: int
    rejected: int


def read_input(
    spark,
    inputs: Sequence[str],
    column_map: Mapping[str, str] | None = None,
    partitions_for: Callable[[int], int] = lambda n: 1,
) -> SparkInput:
    """Every record of ``inputs`` read and checked by Spark, numbered in input order, the
    articles in ``partitions_for(count)`` ranges of positions.

    The texts are shuffled once, into those ranges (twice for a narrow Parquet input, whose
    rows are first spread over the cores): repeated ids are found on the records' keys
    alone, and the positions are counted per run of rows of an input split."""
    column_map = check_column_map(column_map)
    parts = [_records(spark, source, path, column_map) for source, path in enumerate(inputs)]
    records = parts[0]
    for part in parts[1:]:
        records = records.unionByName(part)
    records = records.persist()
    repeats = _repeated_ids(records)
    rejections = records.filter("kind = 'R'").select(*_RECORD_FIELDS)
    if repeats is not None:
        repeats = repeats.persist()
        rejections = rejections.unionByName(repeats.mapInArrow(_duplicate_job(), RECORD_SCHEMA))
    rejections = (
        rejections.orderBy(*_ORDER).selectExpr("origin", "reason", "id AS record_id").persist()
    )
    rejected = rejections.count()
    accepted = records.filter("kind = 'A'")
    if repeats is not None:
        keys = repeats.select(*_ORDER)
        dropped = broadcast_if_small(keys)
        accepted = accepted.join(dropped, list(_ORDER), "left_anti")
        if dropped is keys:  # not broadcast: the join shuffles the articles
            # fix that partitioning: the runs are counted on it, the positions given on it
            accepted = accepted.localCheckpoint()
    numbered, count = _numbered(accepted.select(*_RECORD_FIELDS))
    articles = (
        numbered.repartitionByRange(max(1, partitions_for(count)), "position")
        .sortWithinPartitions("position")
        .persist()
    )
    stored = articles.count()
    if stored != count:
        raise RuntimeError(f"numbered {stored} of {count} articles (a wiretrace bug)")
    records.unpersist()
    if repeats is not None:
        repeats.unpersist()
    return SparkInput(articles, rejections, count, rejected)


def _repeated_ids(records):
    """The articles whose id an earlier record already has (input order): their keys, origin,
    the first occurrence's origin and whether the texts are the same; None when no id
    repeats. Only the ids are shuffled, and the keys and a hash of each text of the ids
    that repeat."""
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    first = Window.partitionBy("id").orderBy(*_ORDER)
    articles = records.filter("kind = 'A'")
    # usually none: find the ids first, and hash the texts of theirs only
    repeated = articles.groupBy("id").count().filter("count > 1").select("id")
    count = repeated.count()
    if not count:
        return None
    # hashed before the join: a join on the ids alone would shuffle every text
    keys = articles.select(*_ORDER, "id", "origin", F.sha2("text", 256).alias("digest")).join(
        broadcast_if_small(repeated, count), "id", "left_semi"
    )
    return (
        keys.withColumn("first_origin", F.first("origin").over(first))
        .withColumn("same_text", F.col("digest") == F.first("digest").over(first))
        .withColumn("nth", F.row_number().over(first))
        .filter("nth > 1")
        .select(*_ORDER, "id", "origin", "first_origin", "same_text")
    )


def broadcast_if_small(frame, rows: int | None = None, limit: int = 2_000_000):
    """``frame`` marked for a broadcast join when it has at most ``limit`` rows (``rows``:
    its number of rows, when already counted)."""
    from pyspark.sql import functions as F

    return F.broadcast(frame) if (frame.count() if rows is None else rows) <= limit else frame


def _numbered(accepted):
    """The accepted articles numbered 0..n-1 in input order.

    A run is a partition's rows of one block of a file (``BLOCK_ROWS`` rows in file order).
    The runs of one file in different partitions are expected not to interleave (each
    partition holds input splits, or whole blocks of a narrow scan spread over the cores).
    The runs, sorted, give each its first position, so no text moves. Where runs do
    interleave (a partitioning this does not expect), the articles are sorted into ranges
    by a shuffle instead. ``accepted``'s partitioning must not change between jobs (it
    comes from cached records, or is checkpointed)."""
    from pyspark.sql import functions as F

    spark = accepted.sparkSession
    runs = _runs(accepted)
    if _overlapping(runs):
        partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
        # checkpointed: a range shuffle's bounds come from a sample, which may differ per job
        accepted = accepted.repartitionByRange(partitions, *_ORDER).localCheckpoint()
        runs = _runs(accepted)
    # a row's position: its run's first position, plus its place in the partition (the
    # partition's rows sorted: its runs one after another) less the run's first row's
    total, before = 0, {}
    for run in runs:
        run["first_position"] = total
        total += run["n"]
    for run in sorted(runs, key=lambda r: (r["p"], r["source"], r["file"], r["block"])):
        run["shift"] = run["first_position"] - before.get(run["p"], 0)
        before[run["p"]] = before.get(run["p"], 0) + run["n"]
    shifts = spark.createDataFrame(
        pa.table(
            {
                "_p": pa.array([r["p"] for r in runs], pa.int32()),
                "source": pa.array([r["source"] for r in runs], pa.int32()),
                "file": pa.array([r["file"] for r in runs], pa.string()),
                "_block": pa.array([r["block"] for r in runs], pa.int64()),
                "_shift": pa.array([r["shift"] for r in runs], pa.int64()),
            }
        )
    )
    ordered = (
        accepted.sortWithinPartitions(*_ORDER)
        .withColumn("_p", F.spark_partition_id())
        .withColumn("_block", _block_of("row"))
        .withColumn("_i", F.monotonically_increasing_id())
    )
    # a broadcast join: the rows stay in their partitions, in order; a row of no counted
    # run (were the partitioning to change after all) stops the job rather than vanish
    keys = ["_p", "source", "file", "_block"]
    shift = F.when(F.col("_shift").isNotNull(), F.col("_shift")).otherwise(
        F.raise_error(F.lit("an article outside the counted runs (a wiretrace bug)"))
    )
    numbered = ordered.join(F.broadcast(shifts), keys, "left").withColumn(
        "position", F.col("_i") - F.shiftleft(F.col("_p").cast("long"), 33) + shift
    )
    return numbered.select(*_ARTICLE_FIELDS), total


def _block_of(row_column: str):
    """The block of ``BLOCK_ROWS`` rows (in file order) that a row number falls in."""
    from pyspark.sql import functions as F

    return F.shiftright(F.col(row_column), BLOCK_ROWS.bit_length() - 1)


def _runs(accepted) -> list[dict]:
    """Per (partition, input, file, block): its first and last row and number of rows,
    sorted by input, file and first row."""
    from pyspark.sql import functions as F

    runs = (
        accepted.groupBy(
            F.spark_partition_id().alias("p"), "source", "file", _block_of("row").alias("block")
        )
        .agg(F.min("row").alias("first"), F.max("row").alias("last"), F.count("*").alias("n"))
        .toArrow()
        .to_pylist()
    )
    return sorted(runs, key=lambda r: (r["source"], r["file"], r["first"]))


def _overlapping(runs: list[dict]) -> bool:
    """Whether two runs of one file's rows (sorted by first row) interleave."""
    return any(
        (a["source"], a["file"]) == (b["source"], b["file"]) and b["first"] <= a["last"]
        for a, b in zip(runs, runs[1:])
    )


# --- per input: a frame of records ----------------------------------------------------------


def _records(spark, source: int, path: str, column_map: dict[str, str]):
    from pyspark.errors import AnalysisException

    suffix = Path(path).suffix.lower()
    if suffix not in JSONL_SUFFIXES and suffix not in PARQUET_SUFFIXES and suffix:
        return _rejected(
            spark, source, path,
            f"unsupported input type {suffix} for the Spark engine: expected .parquet files "
            "or folders of them (Parquet datasets), or .jsonl files",
        )  # fmt: skip
    try:
        if suffix in JSONL_SUFFIXES:
            return _jsonl_records(spark, source, path, column_map)
        return _parquet_records(spark, source, path, column_map)
    except AnalysisException as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        if "PATH_NOT_FOUND" in message:
            return _rejected(spark, source, path, "no such file or folder")
        return _rejected(spark, source, path, f"not readable by Spark ({message})")
    except MappingError as problem:
        return _rejected(spark, source, path, str(problem))


def _rejected(spark, source: int, path: str, reason: str):
    row = {name: None for name in _RECORD_FIELDS}
    row.update(source=source, file="", row=-1, kind="R", origin=_local_name(path), reason=reason)
    return spark.createDataFrame([tuple(row[name] for name in _RECORD_FIELDS)], RECORD_SCHEMA)


def _parquet_records(spark, source: int, path: str, column_map: dict[str, str]):
    from pyspark.sql import functions as F

    frame = spark.read.parquet(path)
    columns = frame.columns
    plan = plan_columns(columns, column_map)
    raw = frame.select(
        *[F.col(f"`{c}`") for c in columns],
        F.col("_metadata.file_path").alias("_wiretrace_file"),
        F.col("_metadata.row_index").alias("_wiretrace_row"),
    )
    cores = spark.sparkContext.defaultParallelism
    if raw.rdd.getNumPartitions() < 2 * cores:
        # few splits (a row group is read whole: one file of one group is one task): spread
        # whole blocks of rows over the cores before the checks, which are Python's work
        raw = raw.repartition(2 * cores, "_wiretrace_file", _block_of("_wiretrace_row"))

    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        names: dict[str, str] = {}
        for batch in batches:
            files = batch.column("_wiretrace_file").to_pylist()
            rows = batch.column("_wiretrace_row").to_pylist()
            values = batch.select(columns).to_pylist()
            out = []
            for file, row, value in zip(files, rows, values):
                name = names.get(file) or names.setdefault(file, _file_name(path, file))
                origin = f"{name}:{row + 1}"
                out.append(_record_row(article_from_mapping(plan.record(value), origin)))
            yield _record_batch(source, files, rows, out)

    return raw.mapInArrow(job, RECORD_SCHEMA)


def _jsonl_records(spark, source: int, path: str, column_map: dict[str, str]):
    from pyspark.sql import functions as F

    lines = (
        spark.read.option("lineSep", "\n")
        .text(path)
        .select(
            F.col("value").cast("binary").alias("line"),
            F.col("_metadata.file_path").alias("file"),
            F.col("_metadata.file_block_start").alias("block"),
        )
    )
    # a line's number: the lines of the file's splits before its own, then its place in it
    counts = lines.groupBy("file", "block").count().toArrow().to_pylist()
    before: dict[tuple[str, int], int] = {}
    running: dict[str, int] = {}
    for split in sorted(counts, key=lambda r: (r["file"], r["block"])):
        before[(split["file"], split["block"])] = running.get(split["file"], 0)
        running[split["file"]] = running.get(split["file"], 0) + split["count"]
    rename = _renamer(column_map)

    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        seen: dict[tuple[str, int], int] = {}
        decoders: dict[str, LineDecoder] = {}
        names: dict[str, str] = {}
        for batch in batches:
            files, rows, out = [], [], []
            for raw, file, block in zip(
                batch.column("line").to_pylist(),
                batch.column("file").to_pylist(),
                batch.column("block").to_pylist(),
            ):
                index = seen.get((file, block), 0)
                seen[(file, block)] = index + 1
                number = before[(file, block)] + index + 1
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                name = names.get(file) or names.setdefault(file, _file_name(path, file))
                decoder = decoders.setdefault(file, LineDecoder((), name))
                text, warning = decoder.decode(raw)
                if not text.strip():
                    continue
                record = parse_record(
                    text, f"{name}:{number}", rename, [warning] if warning else None
                )
                files.append(file)
                rows.append(number - 1)
                out.append(_record_row(record))
            yield _record_batch(source, files, rows, out)

    return lines.mapInArrow(job, RECORD_SCHEMA)


# --- the executors' side ----------------------------------------------------------------------


def _record_row(record: Article | Rejection) -> tuple:
    """(kind, id, text, outlet, title, published_at, url, byline, metadata, origin, reason,
    body_start, dateline_place)."""
    if isinstance(record, Rejection):
        return ("R", record.record_id, None, None, None, None, None, None, None,
                record.origin, record.reason, None, None)  # fmt: skip
    a = enrich(record)
    metadata = orjson.dumps(a.metadata).decode() if a.metadata else None
    start, place = body_start_and_place(a.text)
    return ("A", a.id, a.text, a.outlet, a.title, a.published_at, a.url, a.byline, metadata,
            a.origin, None, start, place)  # fmt: skip


def _record_batch(source: int, files: list, rows: list, out: list[tuple]) -> pa.RecordBatch:
    columns = list(zip(*out)) if out else [[] for _ in range(13)]
    data = {
        "source": pa.array(np.full(len(out), source, dtype=np.int32)),
        "file": pa.array(files, pa.string()),
        "row": pa.array(rows, pa.int64()),
    }
    for name, values in zip(_RECORD_FIELDS[3:], columns):
        data[name] = pa.array(list(values), _RECORD_TYPES.get(name, pa.string()))
    return pa.RecordBatch.from_pydict(data)


def _duplicate_job():
    """Rejections of the repeated ids (``_repeated_ids``' rows)."""

    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            table = batch.to_pydict()
            reasons = [
                f"duplicate id {i!r} (first at {first}"
                + (", same text)" if same else ", different text)")
                for i, first, same in zip(table["id"], table["first_origin"], table["same_text"])
            ]
            data = {name: table.get(name, [None] * len(reasons)) for name in _RECORD_FIELDS}
            data.update(kind=["R"] * len(reasons), reason=reasons)
            yield pa.RecordBatch.from_pydict(
                {
                    name: pa.array(data[name], _RECORD_TYPES.get(name, pa.string()))
                    for name in _RECORD_FIELDS
                }
            )

    return job


def _local_name(path: str) -> str:
    """How the local readers name an input: the path as given (``Path`` normalises it)."""
    return path if "://" in path else str(Path(path))


def _file_name(given: str, uri: str) -> str:
    """A file's name in origins: the input as given when it is that file, else its path
    (a file of a dataset folder), or its URI when it is not a local file."""
    parts = urlsplit(uri)
    if parts.scheme not in ("", "file"):
        return uri
    local = unquote(parts.path)
    if "://" not in given and os.path.abspath(given) == os.path.abspath(local):
        return _local_name(given)
    return local
