"""The Spark engine: the local engine's stage functions, run per partition on Apache Spark.

Every stage calls the functions the local engine calls, on Arrow batches:

1. **fingerprint** (articles partitioned by position): ``tokenize_batch``, ``shingles``,
   ``build_postings`` (distinct shingle/article entries), ``sentence_keys``;
2. **boilerplate** (sentence keys partitioned by sentence hash): ``boilerplate_flags``,
   exact per partition since a flag depends only on the rows of its hash;
3. **candidates** (postings partitioned by hash, so all articles of a shingle meet in one
   partition): ``build_postings`` and ``shared_counts``; a pair's counts from different
   partitions are summed, then ``select_candidates`` applies the thresholds; the same for
   the sentence bands (``sentence_band_hashes`` on the flagged articles), and the union;
4. **align** (pairs grouped by a bucket of their first article, cogrouped with the texts
   and flags of the articles they need): ``align_pairs``, ``measure_pairs``, ``orient``;
5. **lineage** on the driver, over the links only: ``build_lineage``;
6. **changes** (children grouped by a bucket of their parent): ``lineage_changes``.

So links, passages, families, lineage and changes are those of the local engine on the
same input. Spark runs in local mode (``local[*]``) unless a master is configured: the
``spark.master`` setting (``spark-submit --master``, ``spark-defaults.conf``) or the
``SPARK_MASTER`` environment variable. The driver reads and checks the input (every
record accounted for, as with the local engine) and writes the store; the stages run on
the executors, which need wiretrace installed (or shipped with ``--py-files``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..align import PassageTable, align_pairs, doc_feature_index
from ..boilerplate import BoilerplateLines, boilerplate_groups, lines_of, samples
from ..candidates import build_postings, select_candidates, sentence_band_hashes, shared_counts
from ..changes import lineage_changes
from ..fingerprint import (
    SentenceKeys,
    Shingles,
    boilerplate_rules,
    outlet_codes,
    sentence_features,
    sentence_keys,
    shingles,
)
from ..index import tokenize_texts
from ..lineage import Orientation, PairEvidence, build_lineage, names_outlet, orient
from ..model import Article, Change, Rejection, RunParams
from ..text import body_start
from .local import (
    ALIGN_CHUNK,
    MeasuredPairs,
    Progress,
    RunResult,
    StageClock,
    alignment_params,
    article_facts,
    measure_candidates,
    settle_links,
)
from .spark_input import broadcast_if_small

ARTICLES_PER_PARTITION = 20_000
PAIRS_PER_ALIGN_GROUP = 250_000
ARTICLES_PER_ALIGN_GROUP = 100_000
LOCAL_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseParallelGC"

# Postings and sentence keys travel as blocks: one row per (partition, hash bucket) holding a
# NumPy record array's bytes, so Spark moves tens of millions of entries as a few hundred rows.
_BLOCK_SCHEMA = "kind byte, bucket int, data binary"
_POSTING, _DOC_SHINGLES, _SENTENCE = 0, 1, 2
_ENTRY = np.dtype([("hash", "<u8"), ("doc", "<i8")])
_COUNT = np.dtype([("key", "<i8"), ("count", "<i8")])
_SENTENCE_ROW = np.dtype(
    [("hash", "<u8"), ("doc", "<i8"), ("sentence", "<i4"), ("from_end", "<i4"),
     ("length", "<i4"), ("code", "<i4"), ("credit", "?")]
)  # fmt: skip

# a boilerplate sentence: where it is, its hash (as a signed long), rule and outlet code
_FLAG_SCHEMA = "doc long, sentence int, hash long, rule byte, code int"

_EVIDENCE_FIELDS = (
    "containment_a", "containment_b", "weighted_a", "weighted_b", "exact_a", "exact_b",
)  # fmt: skip
_PASSAGE_FIELDS = (
    "a_start", "a_end", "b_start", "b_end", "shared",
    "a_first_sentence", "a_last_sentence", "b_first_sentence", "b_last_sentence",
)  # fmt: skip
_ALIGN_SCHEMA = (
    "kind string, a long, b long, seq long, "
    + ", ".join(f"{f} double" for f in _EVIDENCE_FIELDS)
    + ", features long, passages long, source_is_a boolean, reason string, "
    + "solid boolean, thin boolean, contact boolean, "
    + ", ".join(f"p_{f} long" for f in _PASSAGE_FIELDS)
    + ", verbatim boolean, similarity double, a_credits_b boolean, b_credits_a boolean"
)
_CHANGE_SCHEMA = (
    "child long, seq long, article string, parent string, kind string, text string, "
    "detail string, side string, start long, `end` long"
)


def spark_session(app_name: str = "wiretrace"):
    """A Spark session: the configured master, or ``local[*]`` when none is configured."""
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    conf = SparkConf()
    if os.environ.get("SPARK_MASTER"):
        conf.setMaster(os.environ["SPARK_MASTER"])
    elif not conf.contains("spark.master"):
        conf.setMaster("local[*]")
    if conf.get("spark.master", "").startswith("local"):
        # the workers must import this wiretrace: run them with this interpreter
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        conf.setIfMissing("spark.ui.enabled", "false")
        # in local mode the driver is the executor too (the default 1 GiB spills to disk)
        conf.setIfMissing("spark.driver.memory", "4g")
        # a run of minutes: the optimising compiler and G1's concurrent threads cost more
        # CPU than they save (at 100,000 articles on 2 cores, 120 CPU s become 85)
        options = _local_java_options()
        if options:
            conf.setIfMissing("spark.driver.extraJavaOptions", options)
    conf.setIfMissing("spark.sql.execution.arrow.pyspark.enabled", "true")
    conf.setIfMissing("spark.ui.showConsoleProgress", "false")
    conf.setIfMissing("spark.sql.adaptive.enabled", "false")  # keep our partition counts
    return SparkSession.builder.appName(app_name).config(conf=conf).getOrCreate()


def _local_java_options() -> str:
    """``LOCAL_JAVA_OPTIONS``, less what the environment already decides: nothing when
    ``spark-defaults.conf`` sets the driver's Java options (a ``--conf`` would replace
    them), no collector when ``JAVA_TOOL_OPTIONS`` or the like picks one (two would stop
    the JVM from starting)."""
    conf_dir = os.environ.get("SPARK_CONF_DIR") or os.path.join(
        os.environ.get("SPARK_HOME", ""), "conf"
    )
    defaults = Path(conf_dir) / "spark-defaults.conf"
    if defaults.is_file() and "spark.driver.extraJavaOptions" in defaults.read_text(
        errors="replace"
    ):
        return ""
    chosen = " ".join(
        os.environ.get(name, "")
        for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS")
    )
    return " ".join(
        option for option in LOCAL_JAVA_OPTIONS.split() if "GC" not in option or "GC" not in chosen
    )


def run_articles_spark(
    articles: list[Article],
    rejections: list[Rejection] | None = None,
    params: RunParams = RunParams(),
    progress: Progress | None = None,
    spark=None,
    partitions: int | None = None,
) -> RunResult:
    """``run_articles`` on Spark: the same result, the stages run by Spark executors."""

    spark = spark or spark_session()
    clock = StageClock((lambda stage: progress(f"spark {stage}", 1, 1)) if progress else None)
    n = len(articles)
    parts = _use_partitions(spark, n, partitions)
    # every stage reads the texts: shuffled into their ranges once
    body_starts = [body_start(a.text) for a in articles]
    frame = _articles_frame(spark, articles, body_starts, params, parts).persist()
    found = _find_links(spark, frame, n, params, clock)
    facts = article_facts(articles, params)
    lineage = build_lineage(facts, found.evidence, found.orientation)
    clock.lap("lineage")
    changes = []
    if params.changes:
        changed = _changes_frame(
            spark, frame, lineage.parent, found.evidence, found.passages, params
        )
        changes = _collect_changes(changed)
        clock.lap("changes")
    frame.unpersist()
    return RunResult(
        articles=articles,
        rejections=rejections or [],
        params=params,
        facts=facts,
        body_starts=body_starts,
        evidence=found.evidence,
        orientation=found.orientation,
        passages=found.passages,
        lineage=lineage,
        timings=clock.timings,
        candidate_pairs=found.candidate_pairs,
        changes=changes,
        boilerplate=found.boilerplate,
    )


@dataclass
class ParquetRun:
    """What ``run_inputs_spark`` wrote: rows per table, and seconds per stage."""

    tables: dict[str, int]
    candidate_pairs: int
    timings: dict[str, float]
    first_rejections: list[Rejection]


def run_inputs_spark(
    inputs: list[str],
    out: str,
    params: RunParams = RunParams(),
    column_map: dict[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    spark=None,
    partitions: int | None = None,
) -> ParquetRun:
    """Read ``inputs`` with Spark (``spark_input``), run every stage, and write each store
    table as a Parquet dataset ``out/TABLE/``: the cluster's path, where neither the input
    nor the output passes through the driver (it holds the links and per-article facts
    that lineage needs: ids, outlets, titles, dates, no texts).

    ``strict``: stop (``ValueError``) if any record would be rejected, before the stages.
    """
    from .spark_input import read_input

    spark = spark or spark_session()
    clock = StageClock((lambda stage: progress(f"spark {stage}", 1, 1)) if progress else None)
    # until the articles are counted: shuffles of the records into twice as many parts as cores
    _use_partitions(spark, 0, partitions)
    data = read_input(
        spark, inputs, column_map, lambda count: _use_partitions(spark, count, partitions)
    )
    rejections, rejected = data.rejections, data.rejected
    first_rejections = [Rejection(**r) for r in rejections.limit(20).toArrow().to_pylist()]
    if strict and rejected:
        first = first_rejections[0]
        rejections.unpersist()
        data.articles.unpersist()
        raise ValueError(f"{first.origin}: {first.reason}")
    n = data.count
    clock.lap("read")
    # a broadcast join: the articles stay in their ranges of positions
    frame = _with_outlet_codes(spark, data.articles)
    found = _find_links(spark, frame, n, params, clock)
    small = (
        data.articles.select("position", "id", "outlet", "title", "published_at", "dateline_place")
        .toArrow()
        .sort_by("position")
        .to_pydict()
    )
    # lineage reads the texts only to ask whether a child credits a linked source's outlet:
    # the executors answered that for every link
    ev = found.evidence
    credited = {(int(a), int(b)) for a, b in zip(ev.a[found.a_credits_b], ev.b[found.a_credits_b])}
    credited |= {(int(b), int(a)) for a, b in zip(ev.a[found.b_credits_a], ev.b[found.b_credits_a])}
    stand_ins = [
        Article(id=i, text="", outlet=o, title=t, published_at=p)
        for i, o, t, p in zip(small["id"], small["outlet"], small["title"], small["published_at"])
    ]
    facts = dataclasses.replace(
        article_facts(stand_ins, params, small["dateline_place"]),
        credits=lambda reader, named: (reader, named) in credited,
    )
    lineage = build_lineage(facts, ev, found.orientation)
    clock.lap("lineage")
    result = RunResult(
        articles=stand_ins, rejections=[], params=params, facts=facts, body_starts=[],
        evidence=ev, orientation=found.orientation, passages=found.passages, lineage=lineage,
        candidate_pairs=found.candidate_pairs, boilerplate=found.boilerplate,
    )  # fmt: skip
    changed = None
    if params.changes:
        changed = _changes_frame(spark, frame, lineage.parent, ev, found.passages, params)
    tables = write_tables(spark, out, result, data.articles, rejections, changed, rejected)
    clock.lap("changes and write" if params.changes else "write")
    rejections.unpersist()
    data.articles.unpersist()
    return ParquetRun(tables, found.candidate_pairs, clock.timings, first_rejections)


def _with_outlet_codes(spark, articles):
    """The articles with a number per outlet (-1 for none), as ``outlet_codes`` gives, for the
    boilerplate rules (which only ask whether two outlets are the same)."""
    from pyspark.sql import functions as F

    outlets = articles.select("outlet").where("outlet IS NOT NULL").distinct().toArrow()
    names = sorted(outlets.column("outlet").to_pylist())
    codes = spark.createDataFrame(
        pa.table(
            {
                "outlet": pa.array(names, pa.string()),
                "code": pa.array(range(len(names)), pa.int32()),
            }
        )
    )
    return (
        articles.join(F.broadcast(codes), "outlet", "left")
        .fillna(-1, ["code"])
        .select("position", "code", "id", "text", "outlet", "title", "published_at", "body_start")
    )


def write_tables(
    spark, out: str, result: RunResult, articles, rejections, changed, rejected: int
) -> dict[str, int]:
    """The store's tables (``store.py``, same columns and order) as Parquet datasets under
    ``out``: the texts and changes written by the executors, the links, passages and
    lineage columns from the driver."""
    import duckdb
    import orjson
    from pyspark.sql import functions as F

    from ..export import article_columns, link_columns, passage_columns
    from ..store import SCHEMA_VERSION, boilerplate_columns, parquet_tables

    columns = {name: table_columns for name, (table_columns, _) in parquet_tables().items()}
    # timestamps as INT64 microseconds marked UTC: read back as TIMESTAMPTZ, as in the store
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    facts = result.facts
    n = len(facts.ids)
    lineage_columns = {
        k: v
        for k, v in article_columns(result).items()
        if k in ("family", "parent", "root", "parent_score", "parent_reason", "relation")
    }
    types = columns["articles"]
    per_article = pa.table(
        {
            "position": pa.array(np.arange(n, dtype=np.int64)),
            "published_utc": pa.array([ts.utc for ts in facts.timestamps], types["published_utc"]),
            "time_precision": pa.array([ts.precision for ts in facts.timestamps], pa.string()),
            "time_problem": pa.array([ts.problem for ts in facts.timestamps], pa.string()),
            "wire": pa.array(np.asarray(facts.wire, dtype=bool)),
            **{k: pa.array(v, types[k]) for k, v in lineage_columns.items()},
        }
    )
    # the articles are in ranges of positions, one range a partition, in order: a broadcast
    # join keeps that, so no shuffle of the texts is needed to write them in order
    joined = articles.join(F.broadcast(spark.createDataFrame(per_article)), "position")
    written = {
        "articles": _write(
            joined.sortWithinPartitions("position").select(*types), out, "articles", n
        ),
        "links": _write_table(spark, link_columns(result), columns["links"], out, "links"),
        "passages": _write_table(
            spark, passage_columns(result), columns["passages"], out, "passages"
        ),
    }
    if changed is None:
        empty = {k: [] for k in columns["changes"]}
        written["changes"] = _write_table(spark, empty, columns["changes"], out, "changes")
    else:
        ordered = changed.orderBy("child", "seq").select(*columns["changes"])
        written["changes"] = _write(ordered, out, "changes")
    with duckdb.connect() as con:  # the store's own query, over the per-article columns
        con.register("articles", per_article.append_column("outlet", pa.array(facts.outlets)))
        families = con.sql(
            "SELECT family, count(*) AS size, min(published_utc) AS first_published, "
            "max(published_utc) AS last_published, count(DISTINCT outlet) AS outlets "
            "FROM articles GROUP BY family ORDER BY family"
        ).to_arrow_table()
    families = families.cast(pa.schema(list(columns["families"].items())))
    written["families"] = _write(
        spark.createDataFrame(families), out, "families", families.num_rows
    )
    written["rejections"] = _write(rejections, out, "rejections", rejected)
    run = {
        "key": ["schema_version", "params", "articles", "rejected", "candidate_pairs"],
        "value": [
            str(SCHEMA_VERSION), orjson.dumps(dataclasses.asdict(result.params)).decode(),
            str(n), str(rejected), str(result.candidate_pairs),
        ],
    }  # fmt: skip
    written["run"] = _write_table(spark, run, columns["run"], out, "run")
    written["boilerplate"] = _write_table(
        spark, boilerplate_columns(result), columns["boilerplate"], out, "boilerplate"
    )
    return written


def _write_table(spark, data: dict, columns: dict, out: str, name: str) -> int:
    table = pa.table({k: pa.array(data[k], type=t) for k, t in columns.items()})
    return _write(spark.createDataFrame(table), out, name, table.num_rows)


def _write(frame, out: str, name: str, rows: int | None = None) -> int:
    """Write ``frame`` to ``out/name/``, its partitions in order (part-00000 first)."""
    path = f"{out.rstrip('/')}/{name}"
    frame.write.mode("overwrite").parquet(path)
    # counted from the files' footers, not by running the frame again
    return rows if rows is not None else frame.sparkSession.read.parquet(path).count()


@dataclass
class FoundLinks:
    """The links (in the local engine's order), their passages, and for each link whether
    each side's text credits the other side's outlet (``a_credits_b``, ``b_credits_a``)."""

    evidence: PairEvidence
    orientation: Orientation
    passages: PassageTable
    a_credits_b: np.ndarray
    b_credits_a: np.ndarray
    candidate_pairs: int
    boilerplate: BoilerplateLines | None = None


def _use_partitions(spark, n: int, partitions: int | None) -> int:
    """Article partitions for ``n`` articles; sets the shuffle partitions to match."""
    cores = spark.sparkContext.defaultParallelism
    parts = partitions or max(cores, -(-n // ARTICLES_PER_PARTITION))
    spark.conf.set("spark.sql.shuffle.partitions", str(max(2 * cores, parts)))
    return parts


def _find_links(spark, frame, n: int, params: RunParams, clock: StageClock) -> FoundLinks:
    """Fingerprints, boilerplate, candidates and alignment of the articles of ``frame``
    (position, code, id, text, outlet, title, published_at; positions 0..n-1)."""
    shuffle = int(spark.conf.get("spark.sql.shuffle.partitions"))
    fingerprints = frame.select("position", "text", "code", "body_start").mapInArrow(
        _fingerprint_job(params, shuffle), _BLOCK_SCHEMA
    )
    fingerprints = fingerprints.persist()
    doc_shingles = _doc_shingles(fingerprints, n)
    clock.lap("fingerprint")
    flagged, flag_rows = _boilerplate(fingerprints, params, shuffle)
    flagged = flagged.persist()
    lines = _boilerplate_lines(spark, frame, flag_rows, params)
    candidates = _candidates(spark, fingerprints, doc_shingles, params, shuffle)
    if params.sentence_bands is not None:
        bands = _band_pairs(frame, flagged, params, shuffle)
        # the union of both channels; ``shared`` stays 0 for pairs of bands only
        candidates = candidates.join(bands, ["a", "b"], "full").fillna(0, ["shared"])
    candidates = candidates.persist()
    n_candidates = candidates.count()
    clock.lap("candidates")
    found = _align(candidates, frame, flagged, params, _align_groups(spark, n_candidates, n), n)
    flagged.unpersist()
    flag_rows.unpersist()
    fingerprints.unpersist()
    candidates.unpersist()
    clock.lap("align")
    return FoundLinks(*found, candidate_pairs=n_candidates, boilerplate=lines)


# --- the driver's side ---------------------------------------------------------------------


def _articles_frame(
    spark, articles: list[Article], body_starts: list[int], params: RunParams, partitions: int
):
    codes = outlet_codes([a.outlet for a in articles])
    table = pa.table(
        {
            "position": pa.array(np.arange(len(articles), dtype=np.int64)),
            "code": pa.array(codes.astype(np.int32)),
            "id": pa.array([a.id for a in articles], pa.string()),
            "text": pa.array([a.text for a in articles], pa.string()),
            "outlet": pa.array([a.outlet for a in articles], pa.string()),
            "title": pa.array([a.title for a in articles], pa.string()),
            "published_at": pa.array([a.published_at for a in articles], pa.string()),
            "body_start": pa.array(body_starts, pa.int64()),
        }
    )
    frame = spark.createDataFrame(table)
    return frame.repartitionByRange(partitions, "position")


def _doc_shingles(fingerprints, n: int) -> np.ndarray:
    blocks = fingerprints.filter(f"kind = {_DOC_SHINGLES}").select("data").toArrow()
    rows = _unpack(blocks.column("data").to_pylist(), _COUNT)
    counts = np.zeros(n, dtype=np.int64)
    counts[rows["key"]] = rows["count"]
    return counts


def _candidates(spark, fingerprints, doc_shingles: np.ndarray, params: RunParams, shuffle: int):
    postings = fingerprints.filter(f"kind = {_POSTING}").select("bucket", "data")
    partial = postings.repartition(shuffle, "bucket").mapInArrow(
        _pair_count_job(params.max_df, shuffle), _BLOCK_SCHEMA
    )
    per_doc = spark.sparkContext.broadcast(doc_shingles)
    return partial.repartition(shuffle, "bucket").mapInArrow(
        _select_job(per_doc, params.min_shared_shingles, params.min_shared_share),
        "a long, b long, shared long",
    )


def _band_pairs(frame, flagged, params: RunParams, shuffle: int):
    """Pairs sharing a sentence band (``candidates.sentence_pairs``, partitioned by band)."""
    docs = frame.select("position", "text", "body_start").join(
        broadcast_if_small(flagged.withColumnRenamed("doc", "position")), "position", "left"
    )
    entries = docs.mapInArrow(_band_job(params, shuffle), _BLOCK_SCHEMA)
    partial = entries.repartition(shuffle, "bucket").mapInArrow(
        _pair_count_job(params.sentence_bands.max_df, shuffle), _BLOCK_SCHEMA
    )
    # at least one band shared: a candidate
    pairs = partial.repartition(shuffle, "bucket").mapInArrow(
        _select_job(None, 1, 0.0), "a long, b long, shared long"
    )
    return pairs.select("a", "b")


def _boilerplate(fingerprints, params: RunParams, shuffle: int):
    """Per article, its boilerplate sentences (numbered within it); and the rows of those
    sentences (``_FLAG_SCHEMA``, persisted) for the boilerplate table."""
    from pyspark.sql import functions as F

    sentences = fingerprints.filter(f"kind = {_SENTENCE}").select("bucket", "data")
    flags = sentences.repartition(shuffle, "bucket").mapInArrow(
        _flag_job(params.boilerplate), _FLAG_SCHEMA
    )
    flags = flags.persist()
    return flags.groupBy("doc").agg(F.collect_list("sentence").alias("flagged")), flags


def _boilerplate_lines(spark, frame, flag_rows, params: RunParams) -> BoilerplateLines:
    """The boilerplate table from the flagged sentences' rows (few: grouped on the driver),
    with samples read from the example articles only."""
    from pyspark.sql import functions as F

    rows = flag_rows.toArrow()
    doc = rows.column("doc").to_numpy()
    groups = boilerplate_groups(
        rows.column("hash").to_numpy().view(np.uint64), doc, rows.column("sentence").to_numpy(),
        rows.column("code").to_numpy(), rows.column("rule").to_numpy(),
    )  # fmt: skip
    examples = np.unique(groups.doc)
    ids: list[str] = []
    texts: list[str] = []
    names: dict[int, str] = {}
    if examples.size:
        wanted = spark.createDataFrame(pa.table({"position": pa.array(examples, pa.int64())}))
        found = (
            frame.join(F.broadcast(wanted), "position")
            .select("position", "id", "text").toArrow().sort_by("position")
        )  # fmt: skip
        ids, texts = found.column("id").to_pylist(), found.column("text").to_pylist()
        outlets = frame.select("code", "outlet").where("code >= 0").distinct().toArrow()
        names = dict(zip(outlets.column("code").to_pylist(), outlets.column("outlet").to_pylist()))
    at = np.searchsorted(examples, groups.doc)
    batch, _ = tokenize_texts(texts, params)
    return lines_of(
        groups, [ids[i] for i in at.tolist()], names,
        samples(batch, at, groups.sentence, [texts[i] for i in at.tolist()]),
        sentences=int(doc.shape[0]), articles_affected=int(np.unique(doc).shape[0]),
    )  # fmt: skip


def _align_groups(spark, pairs: int, articles: int) -> int:
    """Groups of pairs to align: as few as keep every core busy and each group's pairs and
    texts within bounds (a text is sent to each group that has a pair of it: at 100,000
    articles, 1.5 copies in 2 groups, 2.1 in 5)."""
    return max(
        spark.sparkContext.defaultParallelism,
        -(-pairs // PAIRS_PER_ALIGN_GROUP),
        -(-articles // ARTICLES_PER_ALIGN_GROUP),
    )


def _group_of(spark, column: str, groups: int):
    """Each row's group, by a hash of ``column``: one of ``groups`` labels that the shuffle
    of a ``groupBy`` sends to different partitions (numbers 0..groups-1 may share one, and
    its task would then work through two groups while a core waits)."""
    from pyspark.sql import functions as F

    index = F.pmod(F.xxhash64(column), F.lit(groups))
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    if groups > partitions:
        return index
    # the shuffle's partition of a label: pmod(hash(label), partitions), as Spark computes it
    found = (
        spark.range(0, 16 * partitions)
        .select("id", F.pmod(F.hash("id"), F.lit(partitions)).alias("part"))
        .toArrow()
        .to_pydict()
    )
    first_of: dict[int, int] = {}
    for label, part in zip(found["id"], found["part"]):
        first_of.setdefault(part, label)
    labels = sorted(first_of.values())[:groups]
    if len(labels) < groups:
        return index
    array = F.array(*[F.lit(label).cast("long") for label in labels])  # hashed as ids are
    return F.element_at(array, (index + 1).cast("int"))


def _align(candidates, frame, flagged, params: RunParams, groups: int, n_docs: int):
    from pyspark.sql import functions as F

    pairs = candidates.withColumn("g", _group_of(candidates.sparkSession, "a", groups))
    needed = (
        pairs.select(F.col("g").alias("group"), F.col("a").alias("position"))
        .union(pairs.select(F.col("g").alias("group"), F.col("b").alias("position")))
        .distinct()
    )
    docs = frame.drop("code").join(
        broadcast_if_small(flagged.withColumnRenamed("doc", "position")), "position", "left"
    )
    needed_docs = needed.join(docs, "position")
    found = (
        pairs.groupBy("g")
        .cogroup(needed_docs.groupBy("group"))
        .applyInPandas(_align_job(params), _ALIGN_SCHEMA)
        .toArrow()
    )
    return _collect_alignments(found, n_docs)


def _collect_alignments(
    found: pa.Table, n_docs: int
) -> tuple[PairEvidence, Orientation, PassageTable, np.ndarray, np.ndarray]:
    """The links in the local engine's order (by article numbers), their passages and
    credits: ``settle_links`` over every pair the groups measured."""
    kind = np.asarray(found.column("kind").to_pylist())
    col = {name: found.column(name).to_numpy(zero_copy_only=False) for name in found.column_names}
    ev_rows = np.flatnonzero(kind == "E")
    order = ev_rows[np.lexsort((col["b"][ev_rows], col["a"][ev_rows]))]
    a, b = col["a"][order].astype(np.int64), col["b"][order].astype(np.int64)
    evidence = PairEvidence(
        a=a,
        b=b,
        **{f: col[f][order].astype(np.float64) for f in _EVIDENCE_FIELDS},
        shared=col["features"][order].astype(np.int64),
        passages=col["passages"][order].astype(np.int64),
        reused=(col["solid"][order] | col["thin"][order]).astype(bool),
    )
    flags = [col[f][order].astype(bool) for f in ("solid", "thin", "contact")]
    settled = settle_links(MeasuredPairs(evidence, *flags), n_docs)
    links = np.flatnonzero(settled.reused)
    evidence = PairEvidence(**{f: v[links] for f, v in settled.__dict__.items()})
    order = order[links]
    a, b = a[links], b[links]
    orientation = Orientation(
        col["source_is_a"][order].astype(bool), [str(r) for r in col["reason"][order].tolist()]
    )
    p_rows = np.flatnonzero(kind == "P")
    keys = (a << 32) | b
    p_keys = (col["a"][p_rows].astype(np.int64) << 32) | col["b"][p_rows].astype(np.int64)
    at = np.minimum(np.searchsorted(keys, p_keys), max(keys.shape[0] - 1, 0))
    is_link = (keys[at] == p_keys) if keys.size else np.zeros(p_keys.shape[0], dtype=bool)
    p_rows, pair = p_rows[is_link], at[is_link]
    p_order = np.lexsort((col["seq"][p_rows], pair))
    rows = p_rows[p_order]
    passages = PassageTable(
        pair=pair[p_order],
        **{f: col[f"p_{f}"][rows].astype(np.int64) for f in _PASSAGE_FIELDS},
        verbatim=col["verbatim"][rows].astype(bool),
        similarity=col["similarity"][rows].astype(np.float64),
    )
    credits = [col[f][order].astype(bool) for f in ("a_credits_b", "b_credits_a")]
    return evidence, orientation, passages, *credits


def _changes_frame(spark, frame, parent, evidence, passages, params):
    """What each child changed against its parent (``_CHANGE_SCHEMA``; ``child`` and ``seq``
    give the local engine's order), or None when no article has a parent."""
    from pyspark.sql import functions as F

    groups = int(spark.conf.get("spark.sql.shuffle.partitions"))
    children = np.flatnonzero(parent >= 0)
    if children.shape[0] == 0:
        return None
    keys = (evidence.a << 32) | evidence.b
    parents = parent[children]
    link = np.searchsorted(
        keys, (np.minimum(children, parents) << 32) | np.maximum(children, parents)
    )
    order = np.argsort(passages.pair, kind="stable")
    bounds = np.searchsorted(passages.pair[order], np.arange(keys.shape[0] + 1))
    spans_a, spans_b = [], []
    for k in link.tolist():
        rows = order[bounds[k] : bounds[k + 1]]
        spans_a.append(
            np.column_stack([passages.a_start[rows], passages.a_end[rows]]).ravel().tolist()
        )
        spans_b.append(
            np.column_stack([passages.b_start[rows], passages.b_end[rows]]).ravel().tolist()
        )
    tasks = spark.createDataFrame(
        pa.table(
            {
                "child": pa.array(children.astype(np.int64)),
                "parent": pa.array(parents.astype(np.int64)),
                "pair_a": pa.array(evidence.a[link].astype(np.int64)),
                "pair_b": pa.array(evidence.b[link].astype(np.int64)),
                "spans_a": pa.array(spans_a, pa.list_(pa.int64())),
                "spans_b": pa.array(spans_b, pa.list_(pa.int64())),
            }
        )
    ).withColumn("g", _group_of(spark, "parent", groups))
    needed = (
        tasks.select(F.col("g").alias("group"), F.col("child").alias("position"))
        .union(tasks.select(F.col("g").alias("group"), F.col("parent").alias("position")))
        .distinct()
    )
    needed_docs = needed.join(frame.select("position", "id", "title", "text"), "position")
    return (
        tasks.groupBy("g")
        .cogroup(needed_docs.groupBy("group"))
        .applyInPandas(_changes_job(params), _CHANGE_SCHEMA)
    )


def _collect_changes(changed) -> list[Change]:
    if changed is None:
        return []
    found = changed.toArrow()
    rows = found.sort_by([("child", "ascending"), ("seq", "ascending")]).to_pylist()
    return [
        Change(
            r["article"],
            r["parent"],
            r["kind"],
            r["text"],
            r["detail"],
            r["side"],
            r["start"],
            r["end"],
        )  # fmt: skip
        for r in rows
    ]


# --- the executors' side: functions shipped to Spark ----------------------------------------


def _whole_partition(batches: Iterator[pa.RecordBatch]) -> pa.Table | None:
    batches = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(batches) if batches else None


def _blocks(kind: int, rows: np.ndarray, buckets: int, bucket: np.ndarray) -> pa.RecordBatch:
    """``rows`` split by ``bucket`` (each row's, ``0..buckets-1``): one row per bucket, with
    the part's bytes. Rows already in bucket order are not sorted again."""
    if bucket.shape[0] > 1 and np.any(bucket[1:] < bucket[:-1]):
        # a stable sort of 16-bit numbers is a radix sort in NumPy
        order = np.argsort(
            bucket.astype(np.uint16 if buckets <= 1 << 16 else np.int64), kind="stable"
        )
        rows, bucket = rows[order], bucket[order]
    bounds = np.searchsorted(bucket, np.arange(buckets + 1, dtype=bucket.dtype))
    present = np.flatnonzero(bounds[1:] > bounds[:-1]).tolist()
    return pa.RecordBatch.from_pydict(
        {
            "kind": pa.array(np.full(len(present), kind, dtype=np.int8)),
            "bucket": pa.array(np.array(present, dtype=np.int32)),
            "data": pa.array(
                [rows[bounds[k] : bounds[k + 1]].tobytes() for k in present], pa.binary()
            ),
        }
    )


def _posting_blocks(postings, buckets: int) -> pa.RecordBatch:
    """A partition's postings (sorted by hash) as entry blocks, one per hash bucket."""
    entries = np.empty(postings.hashes.shape[0], dtype=_ENTRY)
    entries["hash"], entries["doc"] = postings.hashes, postings.docs
    # bucketed from the contiguous hashes, not the entries' strided field (a copy)
    return _blocks(_POSTING, entries, buckets, _hash_buckets(postings.hashes, buckets))


def _hash_buckets(hashes: np.ndarray, buckets: int) -> np.ndarray:
    """Buckets of hashes by their top bits: sorted hashes are in bucket order."""
    top = np.ascontiguousarray(hashes).view(np.uint64) >> np.uint64(32)
    return (top * np.uint64(buckets)) >> np.uint64(32)


def _key_buckets(keys: np.ndarray, buckets: int) -> np.ndarray:
    """Buckets of pair keys (not spread like hashes): the key modulo the buckets."""
    return np.ascontiguousarray(keys).view(np.uint64) % np.uint64(buckets)


def _unpack(blobs: list[bytes], dtype: np.dtype) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype=dtype) if blobs else np.zeros(0, dtype=dtype)


def _entries_by_article_range(batches: Iterator[pa.RecordBatch]) -> tuple[np.ndarray, bool]:
    """Posting entries from blocks (each sorted by hash, then article), ordered by bucket and
    then by first article; and whether, within each bucket, the articles then ascend from
    block to block (each block from one range of articles), so that each hash's articles
    ascend (a hash has one bucket)."""
    blocks = []
    for batch in batches:
        for bucket, blob in zip(
            batch.column("bucket").to_pylist(), batch.column("data").to_pylist()
        ):
            entries = np.frombuffer(blob, dtype=_ENTRY)
            if entries.shape[0]:
                blocks.append((bucket, int(entries["doc"].min()), entries))
    if not blocks:
        return np.zeros(0, dtype=_ENTRY), True
    blocks.sort(key=lambda block: block[:2])
    in_order = all(a[0] != b[0] or a[2]["doc"].max() < b[1] for a, b in zip(blocks, blocks[1:]))
    return np.concatenate([entries for _, _, entries in blocks]), in_order


def _partition_blobs(batches: Iterator[pa.RecordBatch]) -> list[bytes]:
    return [blob for batch in batches for blob in batch.column("data").to_pylist()]


def _fingerprint_job(params: RunParams, buckets: int):
    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _whole_partition(batches)
        if table is None:
            return
        positions = table.column("position").to_numpy()
        codes = table.column("code").to_numpy()
        texts = table.column("text").to_pylist()
        batch, _ = tokenize_texts(texts, params, starts=table.column("body_start").to_pylist())
        grams = shingles(batch, params.shingle_size)
        per_doc = np.bincount(grams.docs, minlength=len(texts))
        postings = build_postings(Shingles(grams.hashes, positions[grams.docs]))
        del grams
        yield _posting_blocks(postings, buckets)
        del postings
        counts = np.empty(len(texts), dtype=_COUNT)
        counts["key"], counts["count"] = positions, per_doc
        yield _blocks(_DOC_SHINGLES, counts, 1, np.zeros(len(texts), np.uint64))
        keys = sentence_keys(batch)
        rows = np.empty(keys.hashes.shape[0], dtype=_SENTENCE_ROW)
        rows["hash"], rows["doc"] = keys.hashes, positions[keys.doc]
        rows["sentence"] = np.arange(keys.doc.shape[0]) - batch.doc_sent_start[keys.doc]
        rows["from_end"], rows["length"] = keys.from_end, keys.lengths
        rows["code"] = codes[keys.doc]
        rows["credit"] = False if keys.credit is None else keys.credit
        yield _blocks(_SENTENCE, rows, buckets, _hash_buckets(keys.hashes, buckets))

    return job


def _flags_of(batch, flagged: list) -> np.ndarray:
    """Boilerplate flags of a batch from each article's flagged sentence numbers."""
    flags = np.zeros(batch.sent_start.shape[0], dtype=bool)
    for i, sentences in enumerate(flagged):
        if sentences is not None and len(sentences):
            flags[batch.doc_sent_start[i] + np.asarray(sentences, dtype=np.int64)] = True
    return flags


def _band_job(params: RunParams, buckets: int):
    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _whole_partition(batches)
        if table is None:
            return
        positions = table.column("position").to_numpy()
        batch, _ = tokenize_texts(
            table.column("text").to_pylist(), params, starts=table.column("body_start").to_pylist()
        )
        features = sentence_features(batch, _flags_of(batch, table.column("flagged").to_pylist()))
        found = sentence_band_hashes(
            features.sent_feat_start, features.hashes, batch.doc_sent_start,
            params.sentence_bands,
        )  # fmt: skip
        postings = build_postings(Shingles(found.hashes, positions[found.docs]))
        yield _posting_blocks(postings, buckets)

    return job


def _pair_count_job(max_df: int, buckets: int):
    """Per partition of hashes: each pair's shared count over them, in blocks by pair."""

    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        entries, in_order = _entries_by_article_range(batches)
        if entries.shape[0] == 0:
            return
        postings = build_postings(Shingles(entries["hash"].copy(), entries["doc"].copy()), in_order)
        keys, counts = shared_counts(postings, max_df)
        rows = np.empty(keys.shape[0], dtype=_COUNT)
        rows["key"], rows["count"] = keys, counts
        yield _blocks(_POSTING, rows, buckets, _key_buckets(keys, buckets))

    return job


def _select_job(per_doc, min_shared: int, min_share: float):
    """Per partition of pairs: counts summed over the hash partitions, then the rules."""

    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = _unpack(_partition_blobs(batches), _COUNT)
        if rows.shape[0] == 0:
            return
        keys, counts = _summed_by_key(rows)
        table = per_doc.value if per_doc is not None else np.zeros(0)
        pairs = select_candidates(keys, counts, table, min_shared, min_share)
        yield pa.RecordBatch.from_pydict(
            {"a": pa.array(pairs.a), "b": pa.array(pairs.b), "shared": pa.array(pairs.shared)}
        )

    return job


def _summed_by_key(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys, ascending, and each one's counts summed. The rows come in blocks
    sorted by key (one per partition of hashes): a stable sort (a merge of sorted runs
    in NumPy) is several times faster than ``np.unique``'s."""
    if rows.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = np.ascontiguousarray(rows["key"])
    order = np.argsort(keys, kind="stable")
    keys, counts = keys[order], np.ascontiguousarray(rows["count"])[order]
    starts = np.empty(keys.shape[0], dtype=bool)
    starts[0] = True
    np.not_equal(keys[1:], keys[:-1], out=starts[1:])
    first = np.flatnonzero(starts)
    return keys[first], np.add.reduceat(counts, first)


def _flag_job(rules):
    def job(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = _unpack(_partition_blobs(batches), _SENTENCE_ROW)
        if rows.shape[0] == 0:
            return
        keys = SentenceKeys(
            hashes=rows["hash"].copy(),
            doc=rows["doc"].copy(),
            from_end=rows["from_end"].astype(np.int64),
            lengths=rows["length"].astype(np.int64),
            credit=rows["credit"].copy(),
        )
        rule = boilerplate_rules(keys, rows["code"].astype(np.int64), rules)
        flags = rule > 0
        yield pa.RecordBatch.from_pydict(
            {
                "doc": pa.array(keys.doc[flags]),
                "sentence": pa.array(rows["sentence"][flags]),
                "hash": pa.array(keys.hashes[flags].view(np.int64)),
                "rule": pa.array(rule[flags]),
                "code": pa.array(rows["code"][flags]),
            }
        )

    return job


def _align_job(params: RunParams):
    import pandas as pd

    def job(pairs, docs):
        if pairs.empty:
            return pd.DataFrame(
                columns=[c.split()[0].strip("`") for c in _ALIGN_SCHEMA.split(", ")]
            )
        docs = docs.sort_values("position", kind="stable")
        positions = docs["position"].to_numpy(dtype=np.int64)
        articles = [
            Article(id=i, text=t, outlet=o, title=ti, published_at=p)
            for i, t, o, ti, p in zip(
                docs["id"], docs["text"], _nones(docs["outlet"]), _nones(docs["title"]),
                _nones(docs["published_at"]),
            )
        ]  # fmt: skip
        texts = [a.text for a in articles]
        batch, _ = tokenize_texts(texts, params, starts=docs["body_start"].tolist())
        boilerplate = _flags_of(batch, docs["flagged"].tolist())
        features = sentence_features(batch, boilerplate)
        index = doc_feature_index(batch, features)
        pairs = pairs.sort_values(["a", "b"], kind="stable")
        ga, gb = pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64)
        a, b = np.searchsorted(positions, ga), np.searchsorted(positions, gb)
        tables = []
        for start in range(0, a.shape[0], ALIGN_CHUNK):
            stop = min(start + ALIGN_CHUNK, a.shape[0])
            table = align_pairs(
                batch, features, index, a[start:stop], b[start:stop], alignment_params(params),
                boilerplate,
            )  # fmt: skip
            tables.append(PassageTable(**{**table.__dict__, "pair": table.pair + start}))
        passages = PassageTable(
            **{f: np.concatenate([getattr(t, f) for t in tables]) for f in tables[0].__dict__}
        )
        shared = pairs["shared"].to_numpy(np.int64)
        measured = measure_candidates(batch, a, b, passages, params, texts, shared)
        evidence = measured.evidence  # ``reused``: would-be links, before settle_links
        # lineage facts of the articles of would-be links only: the others are not oriented
        linked_articles = np.zeros(len(articles), dtype=bool)
        linked_articles[a[evidence.reused]] = linked_articles[b[evidence.reused]] = True
        facts = article_facts(articles, params, only=linked_articles)
        orientation = orient(facts, evidence, links_only=True)
        linked = np.flatnonzero(measured.solid | measured.thin | measured.contact)
        # whether each side's text credits the other's outlet: lineage on the driver asks
        # this of links (``_credits``), where the texts are not at hand
        a_credits_b = [names_outlet(texts[a[k]], articles[b[k]].outlet) for k in linked.tolist()]
        b_credits_a = [names_outlet(texts[b[k]], articles[a[k]].outlet) for k in linked.tolist()]
        frames = [
            pd.DataFrame(
                {
                    "kind": "E",
                    "a": ga[linked],
                    "b": gb[linked],
                    "seq": 0,
                    **{f: getattr(evidence, f)[linked] for f in _EVIDENCE_FIELDS},
                    "features": evidence.shared[linked],
                    "passages": evidence.passages[linked],
                    "source_is_a": orientation.source_is_a[linked],
                    "reason": [orientation.reason[k] for k in linked.tolist()],
                    "solid": measured.solid[linked],
                    "thin": measured.thin[linked],
                    "contact": measured.contact[linked],
                    "a_credits_b": np.array(a_credits_b, dtype=bool),
                    "b_credits_a": np.array(b_credits_a, dtype=bool),
                }
            )  # fmt: skip
        ]
        rows = np.flatnonzero(evidence.reused[passages.pair])
        pair = passages.pair[rows]
        frames.append(
            pd.DataFrame(
                {
                    "kind": "P",
                    "a": ga[pair],
                    "b": gb[pair],
                    "seq": rows,
                    **{f"p_{f}": getattr(passages, f)[rows] for f in _PASSAGE_FIELDS},
                    "verbatim": passages.verbatim[rows],
                    "similarity": passages.similarity[rows],
                }
            )  # fmt: skip
        )
        return pd.concat(frames, ignore_index=True)

    return job


def _changes_job(params: RunParams):
    def job(tasks, docs):
        return _changes_of(tasks, docs, params)

    return job


def _changes_of(tasks, docs, params: RunParams):
    import pandas as pd

    columns = [c.split()[0].strip("`") for c in _CHANGE_SCHEMA.split(", ")]
    if tasks.empty:
        return pd.DataFrame(columns=columns)
    docs = docs.sort_values("position", kind="stable")
    positions = docs["position"].to_numpy(dtype=np.int64)
    articles = [
        Article(id=i, text=t, title=ti)
        for i, t, ti in zip(docs["id"], docs["text"], _nones(docs["title"]))
    ]
    batch, starts = tokenize_texts([a.text for a in articles], params)
    child = np.searchsorted(positions, tasks["child"].to_numpy(np.int64))
    parent = np.full(len(articles), -1, dtype=np.int64)
    parent[child] = np.searchsorted(positions, tasks["parent"].to_numpy(np.int64))
    pair_a = np.searchsorted(positions, tasks["pair_a"].to_numpy(np.int64))
    pair_b = np.searchsorted(positions, tasks["pair_b"].to_numpy(np.int64))
    spans_a = [np.asarray(s, dtype=np.int64).reshape(-1, 2) for s in tasks["spans_a"]]
    spans_b = [np.asarray(s, dtype=np.int64).reshape(-1, 2) for s in tasks["spans_b"]]
    counts = np.array([s.shape[0] for s in spans_a], dtype=np.int64)
    both_a = np.concatenate(spans_a) if spans_a else np.zeros((0, 2), np.int64)
    both_b = np.concatenate(spans_b) if spans_b else np.zeros((0, 2), np.int64)
    zeros = np.zeros(both_a.shape[0], dtype=np.int64)
    passages = PassageTable(
        pair=np.repeat(np.arange(counts.shape[0]), counts), a_start=both_a[:, 0],
        a_end=both_a[:, 1], b_start=both_b[:, 0], b_end=both_b[:, 1],
        verbatim=zeros.astype(bool), similarity=zeros.astype(np.float64), shared=zeros,
        a_first_sentence=zeros, a_last_sentence=zeros, b_first_sentence=zeros,
        b_last_sentence=zeros,
    )  # fmt: skip
    changes = lineage_changes(articles, parent, pair_a, pair_b, passages, batch, starts)
    child_position = {a.id: int(p) for a, p in zip(articles, positions.tolist())}
    seq: dict[str, int] = {}
    rows = []
    for c in changes:
        k = seq.get(c.article, 0)
        seq[c.article] = k + 1
        rows.append(
            (child_position[c.article], k, c.article, c.parent, c.kind, c.text, c.detail,
             c.side, c.start, c.end)
        )  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("start", "end"):
        frame[name] = frame[name].astype("Int64")
    return frame


def _nones(series) -> list:
    """A pandas column as a list with ``None`` for missing values (not NaN)."""
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in series]
