"""The Spark engine against the local engine: wall time and identical output.

    python benchmarks/spark_speed.py [--corpus FILE] [--cores 2] [--parquet] [--repeat 3]

Runs ``wiretrace run CORPUS --db local.duckdb`` and ``wiretrace run CORPUS --db
spark.duckdb --engine spark`` (Spark in local mode on ``--cores`` cores:
``SPARK_MASTER=local[N]``, the local engine's numba threads limited to the same
number), each in its own process, from process start to the store written. Then
compares the stores' tables (articles, links, passages, families, changes, run) row
for row and prints the ratio of the wall times.

``--parquet``: the cluster's path. The corpus is first converted to Parquet (not timed);
then ``wiretrace run corpus.parquet --db local.duckdb --no-changes --no-index`` against
``wiretrace run corpus.parquet --engine spark --out DIR --no-changes`` (Spark reads the
Parquet and writes Parquet datasets); the datasets are imported into a store (not timed)
and compared with the local one.

``--repeat N``: each engine runs N times, in turn; the medians are compared (the output
of the last runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "spark"
WIRETRACE = str(Path(sys.executable).with_name("wiretrace"))
TABLES = ("articles", "links", "passages", "families", "changes", "run")


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def rows(db: Path, table: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {table}").fetchall()
    return sorted(found, key=repr)


def parquet_runs(corpus: Path, stores: dict[str, Path], env: dict[str, str]) -> dict[str, float]:
    """Both engines on the corpus as Parquet; the Spark engine writes Parquet datasets."""
    import shutil

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = OUT / f"{corpus.stem}.parquet"
    if not table.exists():
        with open(corpus, "rb") as handle:
            pq.write_table(pa.Table.from_pylist([orjson.loads(line) for line in handle]), table)
    datasets = OUT / "spark-out"
    shutil.rmtree(datasets, ignore_errors=True)
    stores["local"].unlink(missing_ok=True)
    local = [WIRETRACE, "run", str(table), "--db", str(stores["local"]), "--no-changes"]
    spark = [WIRETRACE, "run", str(table), "--engine", "spark", "--out", str(datasets)]
    seconds = {
        "local": timed([*local, "--no-index"], env),
        "spark": timed([*spark, "--no-changes"], env),
    }
    stores["spark"].unlink(missing_ok=True)
    subprocess.run(
        [WIRETRACE, "import-parquet", str(datasets), "--db", str(stores["spark"])],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return seconds


def store_runs(corpus: Path, stores: dict[str, Path], env: dict[str, str]) -> dict[str, float]:
    """Both engines on the corpus, each writing a store."""
    for store in stores.values():
        store.unlink(missing_ok=True)
    run = [WIRETRACE, "run", str(corpus), "--db"]
    return {
        "local": timed([*run, str(stores["local"])], env),
        "spark": timed([*run, str(stores["spark"]), "--engine", "spark"], env),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("/work/bench_out/d100k/articles.jsonl"))
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--parquet", action="store_true", help="Parquet in, Parquet out")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each engine (median)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_MASTER": f"local[{args.cores}]",
        "NUMBA_NUM_THREADS": str(args.cores),
    }
    stores = {"local": OUT / "local.duckdb", "spark": OUT / "spark.duckdb"}
    runs = {"local": [], "spark": []}
    for _ in range(args.repeat):  # the engines in turn: a slow spell of the host hits both
        seconds = (parquet_runs if args.parquet else store_runs)(args.corpus, stores, env)
        for engine, taken in seconds.items():
            runs[engine].append(taken)
    seconds = {engine: statistics.median(taken) for engine, taken in runs.items()}
    same = {t: rows(stores["local"], t) == rows(stores["spark"], t) for t in TABLES}
    counts = {t: len(rows(stores["local"], t)) for t in ("articles", "links", "passages")}
    print(f"corpus: {args.corpus} ({counts['articles']:,} articles), {args.cores} cores")
    each = {engine: ", ".join(f"{t:.1f}" for t in taken) for engine, taken in runs.items()}
    print(f"local engine: {seconds['local']:.1f} s (median of {each['local']})")
    path = "Parquet in, Parquet out" if args.parquet else "store"
    print(
        f"spark engine (local[{args.cores}], {path}): {seconds['spark']:.1f} s "
        f"(median of {each['spark']})"
    )
    print(f"ratio spark / local: {seconds['spark'] / seconds['local']:.2f}")
    print(
        f"identical output: {all(same.values())} "
        + ", ".join(f"{t} {'=' if ok else '≠'}" for t, ok in same.items())
        + f" ({counts['links']:,} links, {counts['passages']:,} passages)"
    )


if __name__ == "__main__":
    main()
