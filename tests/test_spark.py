"""The Spark engine (local mode, 2 cores) gives the local engine's store."""

from __future__ import annotations

import importlib.util
import os
import shutil

import duckdb
import pytest
from conftest import table_rows
from typer.testing import CliRunner

import wiretrace
from wiretrace.cli import app
from wiretrace.index import INDEX_TABLES

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
    for table in ("articles", "links", "passages", "families", "changes", "run"):
        assert got[table] == want[table], f"table {table} differs"
    assert len(got["links"]) > 20


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
    for table in ("articles", "links", "passages", "families", "changes", "run"):
        assert got[table] == want[table], f"table {table} differs"
