"""The Spark engine (local mode, 2 cores) gives the local engine's store."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import table_rows
from typer.testing import CliRunner

import wiretrace
from wiretrace.cli import app
from wiretrace.index import INDEX_TABLES
from wiretrace.model import RunParams

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(
        importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
        reason="needs pyspark and a Java runtime",
    ),
]


@pytest.fixture(scope="module")
def spark():
    """One local Spark session (2 cores) for the module; the engine picks it up."""
    from wiretrace.engines.spark import spark_session

    before = os.environ.get("SPARK_MASTER")
    os.environ["SPARK_MASTER"] = "local[2]"
    session = spark_session("wiretrace-tests")
    yield session
    session.stop()
    if before is None:
        os.environ.pop("SPARK_MASTER", None)
    else:
        os.environ["SPARK_MASTER"] = before


def result_tables(db) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
    return {t: table_rows(db, t) for t in tables if t not in INDEX_TABLES}


def test_spark_engine_gives_the_local_engines_store_on_the_sample(
    tmp_path, spark, sample_articles_path
):
    local = tmp_path / "local.duckdb"
    on_spark = tmp_path / "spark.duckdb"
    wiretrace.run([sample_articles_path], db=local)
    result = CliRunner().invoke(
        app, ["run", str(sample_articles_path), "--db", str(on_spark), "--engine", "spark"]
    )
    assert result.exit_code == 0, result.output
    want, got = result_tables(local), result_tables(on_spark)
    assert set(got) == set(want)
    for table in ("articles", "links", "passages", "families", "changes", "boilerplate", "run"):
        assert got[table] == want[table], f"table {table} differs"
    assert len(got["links"]) > 20
    assert len(got["boilerplate"]) >= 10


def test_an_unknown_engine_is_refused(tmp_path, sample_articles_path):
    result = CliRunner().invoke(
        app,
        ["run", str(sample_articles_path), "--db", str(tmp_path / "x.duckdb"), "--engine", "dask"],
    )
    assert result.exit_code == 2
    assert "unknown engine" in result.output


@pytest.mark.slow
def test_spark_engine_gives_the_local_engines_store_on_a_bench_corpus(
    tmp_path, spark, bench_corpus_1000
):
    local = tmp_path / "local.duckdb"
    on_spark = tmp_path / "spark.duckdb"
    summary = wiretrace.run([bench_corpus_1000], db=local)
    wiretrace.run([bench_corpus_1000], db=on_spark, engine="spark")
    assert summary.links > 50
    want, got = result_tables(local), result_tables(on_spark)
    for table in ("articles", "links", "passages", "families", "changes", "boilerplate", "run"):
        assert got[table] == want[table], f"table {table} differs"


# --- the cluster path: Spark reads the input and writes Parquet datasets ---------------------

BENCH_D1000 = Path("/work/bench_out/d1000s1/articles.jsonl")
COMPARED = (
    "articles",
    "links",
    "passages",
    "changes",
    "families",
    "rejections",
    "run",
    "boilerplate",
)


def ordered_rows(con, source: str, table: str) -> list[tuple]:
    """Rows of ``source`` (a table or a ``read_parquet``) as text, in stored order."""
    order = " ORDER BY position" if table == "articles" else ""
    return con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {source}{order}").fetchall()


def assert_parquet_equals_store(out: Path, db: Path) -> None:
    """Each Parquet dataset under ``out`` holds its store table: columns, types, rows, order."""
    with duckdb.connect(str(db), read_only=True) as con:
        for table in COMPARED:
            files = sorted(str(f) for f in (out / table).glob("part-*.parquet"))
            source = f"read_parquet({files!r})"
            assert con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall() == (
                con.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()
            ), f"columns of {table} differ"
            got, want = ordered_rows(con, source, table), ordered_rows(con, table, table)
            assert got == want, f"table {table} differs"


def write_bad_inputs(folder: Path) -> list[str]:
    """A JSONL file and a Parquet file with bad and repeated records, a Parquet file without
    a text column and a missing path: every kind of rejection the readers make."""
    lines = [
        orjson.dumps({"id": "q1", "text": "Quarry workers voted to end the strike on Monday."}),
        b"",
        orjson.dumps({"id": {"nested": 1}, "text": "An id that is an object."}),
        b"{not json",
        orjson.dumps({"id": "q2", "text": "   "}),
        orjson.dumps({"id": "q3", "title": "No text here"}),
        orjson.dumps({"id": "q1", "text": "Quarry workers voted to end the strike on Monday."}),
        orjson.dumps({"id": "q4", "writer": "Kim Ito", "text": "A ferry ran late.", "lang": "en"}),
    ]
    jsonl = folder / "bad.jsonl"
    jsonl.write_bytes(b"\n".join(lines) + b"\n")
    table = pa.table(
        {
            "story_id": ["p1", "p2", "q4", "p3", None],
            "body": ["The river ferry resumed service.", None, "A ferry ran late.", "", "Keyless."],
            "source": ["Harbour Daily", "Harbour Daily", None, "Ferry News", "Ferry News"],
            "pages": [3, 4, 5, 6, 7],
            "writer": ["By Ann Lee", None, None, None, "Bo Ek"],
        }
    )
    pq.write_table(table, folder / "bad.parquet")
    pq.write_table(pa.table({"headline": ["a title only"]}), folder / "notext.parquet")
    names = ["bad.jsonl", "bad.parquet", "notext.parquet", "missing.parquet"]
    return [str(folder / name) for name in names]


def test_spark_reads_and_writes_parquet_like_the_local_store_on_the_sample(
    tmp_path, spark, sample_articles_path
):
    inputs = [str(sample_articles_path), *write_bad_inputs(tmp_path)]
    local, out = tmp_path / "local.duckdb", tmp_path / "out"
    summary = wiretrace.run(inputs, db=local, column_map={"byline": "writer"})
    result = CliRunner().invoke(
        app, ["run", *inputs, "--engine", "spark", "--out", str(out), "--map", "byline=writer"]
    )
    assert result.exit_code == 0, result.output
    assert summary.rejected >= 9 and summary.links > 20
    assert_parquet_equals_store(out, local)
    imported = tmp_path / "imported.duckdb"
    result = CliRunner().invoke(app, ["import-parquet", str(out), "--db", str(imported)])
    assert result.exit_code == 0, result.output
    want, got = result_tables(local), result_tables(imported)
    for table in COMPARED:
        assert got[table] == want[table], f"imported table {table} differs"
    # every record accounted for: stored or rejected (the blank line is no record)
    with duckdb.connect(str(imported), read_only=True) as con:
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        rejected = con.execute("SELECT count(*) FROM rejections").fetchone()[0]
    assert stored + rejected == summary.read


@pytest.mark.parametrize("corpus_name", ["generated", "d1000s1"])
def test_spark_parquet_output_equals_the_local_store_on_a_bench_corpus(
    tmp_path, spark, request, corpus_name
):
    # the generated corpus (1,000 articles) runs wherever ../shared is; the larger d1000s1
    # (over 4,000) where a benchmark run left it
    if corpus_name == "generated":
        source = request.getfixturevalue("bench_corpus_1000")
    elif BENCH_D1000.exists():
        source = BENCH_D1000
    else:
        pytest.skip(f"needs {BENCH_D1000}")
    corpus = tmp_path / "bench.parquet"
    pq.write_table(
        pa.Table.from_pylist([orjson.loads(line) for line in source.read_bytes().splitlines()]),
        corpus,
        row_group_size=300,
    )
    local, out = tmp_path / "local.duckdb", tmp_path / "out"
    summary = wiretrace.run([str(corpus)], db=local, params=RunParams(changes=False), index=False)
    from wiretrace.engines.spark import run_inputs_spark

    done = run_inputs_spark([str(corpus)], str(out), RunParams(changes=False), spark=spark)
    assert summary.stored >= 1000 and summary.links > 50
    assert done.tables["articles"] == summary.stored and done.tables["links"] == summary.links
    assert_parquet_equals_store(out, local)


def test_import_parquet_refuses_an_unfinished_output(tmp_path):
    (tmp_path / "out" / "articles").mkdir(parents=True)
    result = CliRunner().invoke(
        app, ["import-parquet", str(tmp_path / "out"), "--db", str(tmp_path / "x.duckdb")]
    )
    assert result.exit_code == 2
    assert "_SUCCESS" in result.output
    assert not (tmp_path / "x.duckdb").exists()


def test_out_needs_the_spark_engine(tmp_path, sample_articles_path):
    result = CliRunner().invoke(
        app, ["run", str(sample_articles_path), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "--engine spark" in result.output


def test_articles_are_numbered_in_input_order_however_spark_partitions_them(tmp_path, spark):
    from wiretrace.engines.spark_input import _numbered, _overlapping, _records

    lines = [
        orjson.dumps({"id": f"n{i}", "text": f"Story number {i} about rivers."}) for i in range(40)
    ]
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines[:25]) + b"\n")
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(lines[25:]) + b"\n")
    records = _records(spark, 0, str(tmp_path / "a.jsonl"), {}).unionByName(
        _records(spark, 1, str(tmp_path / "b.jsonl"), {})
    )
    # split by Spark's file splits (runs of rows), and scattered by a hash (runs interleave)
    for accepted in (records, records.repartition(3, "id")):
        numbered, count = _numbered(accepted)
        got = numbered.select("position", "id").toArrow().sort_by("position").to_pydict()
        assert count == 40
        assert got["position"] == list(range(40))
        assert got["id"] == [f"n{i}" for i in range(40)]
    runs = [
        {"source": 0, "file": "a", "first": 0, "last": 9},
        {"source": 0, "file": "a", "first": 5, "last": 12},
    ]
    assert _overlapping(runs) and not _overlapping(runs[:1])


def test_posting_blocks_in_article_ranges_need_no_sort_by_article():
    import numpy as np

    from wiretrace.candidates import build_postings
    from wiretrace.engines.spark import _ENTRY, _entries_by_article_range
    from wiretrace.fingerprint import Shingles

    rng = np.random.default_rng(7)

    def block(first: int, bucket: int) -> np.ndarray:
        # a fingerprint task's block: articles first..first+99; a hash has one bucket
        entries = np.zeros(300, dtype=_ENTRY)
        entries["hash"] = (2 * rng.integers(0, 40, 300) + bucket).astype(np.uint64)
        entries["doc"] = rng.integers(first, first + 100, 300)
        return np.unique(entries)  # sorted by hash, then article

    def postings_of(blocks) -> tuple[np.ndarray, bool]:
        batch = pa.RecordBatch.from_pydict(
            {"bucket": [b for b, _ in blocks], "data": [e.tobytes() for _, e in blocks]}
        )
        entries, in_order = _entries_by_article_range(iter([batch]))
        hinted = build_postings(Shingles(entries["hash"].copy(), entries["doc"].copy()), in_order)
        sorted_first = build_postings(Shingles(entries["hash"].copy(), entries["doc"].copy()))
        for field in ("hashes", "docs", "group_start"):
            assert np.array_equal(getattr(hinted, field), getattr(sorted_first, field))
        return in_order

    ranges = [(bucket, block(first, bucket)) for bucket in (1, 0) for first in (200, 0, 100)]
    assert postings_of(ranges)
    overlapping = [(0, block(0, 0)), (0, block(50, 0))]
    assert not postings_of(overlapping)


def test_a_narrow_parquet_file_is_spread_in_blocks_and_numbered_in_order(
    tmp_path, spark, monkeypatch
):
    from wiretrace.engines import spark_input
    from wiretrace.engines.spark import _use_partitions

    # one file, one row group: one task would check every row; blocks of 4 rows instead
    monkeypatch.setattr(spark_input, "BLOCK_ROWS", 4)
    ids = [f"r{i}" for i in range(50)]
    texts = [f"Report {i}: the ferry to the islands ran on time." for i in range(50)]
    texts[7] = "   "  # rejected: later rows keep their order, one position lower
    pq.write_table(pa.table({"id": ids, "text": texts}), tmp_path / "one.parquet")
    _use_partitions(spark, 0, None)
    data = spark_input.read_input(
        spark, [str(tmp_path / "one.parquet")], None, lambda n: _use_partitions(spark, n, None)
    )
    got = data.articles.select("position", "id", "origin").toArrow().to_pydict()
    kept = [i for i in range(50) if i != 7]
    assert data.count == 49 and data.rejected == 1
    assert got["position"] == list(range(49))  # in ranges of positions, partition by partition
    assert got["id"] == [ids[i] for i in kept]
    assert got["origin"] == [f"{tmp_path / 'one.parquet'}:{i + 1}" for i in kept]
    runs = spark_input._runs(
        spark_input._records(spark, 0, str(tmp_path / "one.parquet"), {}).filter("kind = 'A'")
    )
    assert len({run["p"] for run in runs}) > 1  # the checks ran in several tasks
    assert not spark_input._overlapping(runs)


def test_pair_counts_from_sorted_blocks_are_summed_per_pair():
    import numpy as np

    from wiretrace.engines.spark import _COUNT, _summed_by_key

    rng = np.random.default_rng(3)
    blocks = []
    for _ in range(4):  # one sorted block per partition of hashes
        keys = np.unique(rng.integers(0, 500, 300))
        block = np.empty(keys.shape[0], dtype=_COUNT)
        block["key"], block["count"] = keys, rng.integers(1, 6, keys.shape[0])
        blocks.append(block)
    rows = np.concatenate(blocks)
    keys, counts = _summed_by_key(rows)
    want = {}
    for key, count in zip(rows["key"].tolist(), rows["count"].tolist()):
        want[key] = want.get(key, 0) + count
    assert keys.tolist() == sorted(want)
    assert counts.tolist() == [want[k] for k in sorted(want)]
    empty_keys, empty_counts = _summed_by_key(rows[:0])
    assert empty_keys.size == 0 and empty_counts.size == 0


@pytest.mark.parametrize(("groups", "partitions"), [(2, 5), (3, 4), (4, 8), (5, 5)])
def test_groups_of_pairs_go_to_different_tasks(spark, groups, partitions):
    from pyspark.sql import functions as F

    from wiretrace.engines.spark import _group_of

    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    try:
        pairs = spark.range(0, 400).withColumnRenamed("id", "a")
        grouped = pairs.withColumn("g", _group_of(spark, "a", groups))
        # the partitions of the shuffle a groupBy makes: one group each, none empty
        per_task = (
            grouped.repartition(partitions, "g")
            .groupBy(F.spark_partition_id().alias("task"))
            .agg(F.countDistinct("g").alias("groups"), F.count("*").alias("rows"))
            .toArrow()
            .to_pydict()
        )
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
    assert max(per_task["groups"]) == 1
    assert len(per_task["task"]) == groups and sum(per_task["rows"]) == 400


def test_local_java_options_leave_what_the_environment_decides(tmp_path, monkeypatch):
    from wiretrace.engines.spark import LOCAL_JAVA_OPTIONS, _local_java_options

    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    for name in ("JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    assert _local_java_options() == LOCAL_JAVA_OPTIONS
    monkeypatch.setenv("JAVA_TOOL_OPTIONS", "-XX:+UseZGC")
    assert _local_java_options() == "-XX:TieredStopAtLevel=1"  # one collector only
    (tmp_path / "spark-defaults.conf").write_text("spark.driver.extraJavaOptions -Dx=1\n")
    assert _local_java_options() == ""  # a --conf would replace the user's options


def test_numbering_keeps_every_article_when_the_shuffle_partitions_change(tmp_path, spark):
    from wiretrace.engines.spark_input import _numbered, _records

    lines = [orjson.dumps({"id": f"m{i}", "text": f"Note {i} on tides."}) for i in range(30)]
    (tmp_path / "m.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    records = _records(spark, 0, str(tmp_path / "m.jsonl"), {})
    before = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    try:
        # runs counted on 3 hash partitions, positions given on 7: not the same runs
        shuffled = records.repartition("id")
        numbered, count = _numbered(shuffled)
        got = numbered.select("position", "id").toArrow().sort_by("position").to_pydict()
        assert got["position"] == list(range(30)) and count == 30
        spark.conf.set("spark.sql.shuffle.partitions", "7")
        got = numbered.select("position").toArrow().column(0).to_pylist()
        assert sorted(got) == list(range(30))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
