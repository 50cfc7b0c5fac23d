"""Scale figures: query latency, incremental adds, and memory while reading a large corpus.

    python benchmarks/scale.py query   [--store S] [--queries 50]
    python benchmarks/scale.py add     [--store S] [--count 1000] [--repeat 3]
    python benchmarks/scale.py memory  [--articles 1000000]
    python benchmarks/scale.py write   [--corpus C] [--repeat 3]

``query`` and ``add`` use a store of the 100,000-article bench corpus
(``--corpus``, default ``/work/bench_out/d100k/articles.jsonl``), built with
``wiretrace run`` when it is missing. Queries and added articles come from another
bench corpus (``--other``, default ``/work/bench_out/d1000s2``: other stories of the same
Reuters pool, so many have sources in the store).

* ``query``: opens the store once (reported), then times ``wiretrace.api.query`` on
  ``--queries`` texts after two warm-up queries; prints the median and 90th percentile.
* ``add``: copies the store, times ``wiretrace.api.add`` of ``--count`` new articles in
  a process whose numba kernels are already loaded (one warm-up add of 20 articles to
  another copy), ``--repeat`` times on fresh copies; prints the median. Also times the
  whole ``wiretrace add`` command once (process start and imports included).
* ``write``: runs every stage on ``--corpus`` once in this process (keeping the index),
  then writes the store ``--repeat`` times without and with the n-gram index (alternating,
  into a scratch folder) and prints the medians, their difference (what persisting the
  index costs) and the index's size on disk. The last store written with the index
  replaces ``--store``, so ``query`` and ``add`` then use the current format.
* ``memory``: see ``benchmarks/memory.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "scale"
WIRETRACE = str(Path(sys.executable).with_name("wiretrace"))


def ensure_store(store: Path, corpus: Path) -> None:
    if store.exists():
        return
    store.parent.mkdir(parents=True, exist_ok=True)
    print(f"building {store} from {corpus} (wiretrace run)...", flush=True)
    started = time.perf_counter()
    subprocess.run([WIRETRACE, "run", str(corpus), "--db", str(store)], check=True)
    print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)


def copy_store(store: Path, target: Path) -> Path:
    shutil.copyfile(store, target)
    segments = store.with_name(store.name + ".ngrams")
    shutil.copytree(segments, target.with_name(target.name + ".ngrams"))
    return target


def other_records(other: Path, count: int, seed: int) -> list[dict]:
    lines = (other / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    random.Random(seed).shuffle(lines)
    return [json.loads(line) for line in lines[:count]]


def bench_query(args) -> None:
    from wiretrace.api import open_store, query

    started = time.perf_counter()
    opened = open_store(args.store)
    opening = time.perf_counter() - started
    texts = [r["text"] for r in other_records(args.other, args.queries + 2, args.seed)]
    started = time.perf_counter()
    query(texts[0], opened)  # reads the sentence index and article columns once
    first = time.perf_counter() - started
    query(texts[1], opened)
    times, cpu_times, found = [], [], []
    for text in texts[2:]:
        cpu = time.process_time()
        started = time.perf_counter()
        matches = query(text, opened)
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)
        found.append(len(matches))
    opened.close()
    times.sort()
    print(f"store: {args.store} ({opened.n_docs:,} articles)")
    print(f"opening the store: {opening * 1000:.0f} ms; first query: {first * 1000:.0f} ms")
    print(
        f"query, {len(times)} texts: median {statistics.median(times) * 1000:.1f} ms, "
        f"p90 {times[int(0.9 * (len(times) - 1))] * 1000:.1f} ms, "
        f"max {times[-1] * 1000:.1f} ms (CPU median {statistics.median(cpu_times) * 1000:.1f} ms); "
        f"{sum(1 for f in found if f)} of {len(found)} texts had sources "
        f"({statistics.mean(found):.1f} matches on average)"
    )


def bench_add(args) -> None:
    from wiretrace.api import add

    records = other_records(args.other, args.count + 20, args.seed)
    work = Path(tempfile.mkdtemp(prefix="wt-add-", dir=OUT))
    try:
        warm = work / "warm.jsonl"
        warm.write_text("".join(json.dumps(r) + "\n" for r in records[:20]), encoding="utf-8")
        new = work / "new.jsonl"
        new.write_text("".join(json.dumps(r) + "\n" for r in records[20:]), encoding="utf-8")
        add([warm], db=copy_store(args.store, work / "warm.duckdb"))
        times = []
        for i in range(args.repeat):
            db = copy_store(args.store, work / f"run{i}.duckdb")
            cpu = time.process_time()
            started = time.perf_counter()
            summary = add([new], db=db)
            times.append(time.perf_counter() - started)
            cpu = time.process_time() - cpu
            print(
                f"  add {i + 1}: {times[-1]:.2f} s (CPU {cpu:.2f} s) — {summary.stored} stored, "
                f"{summary.already_stored} already stored, {summary.pairs} pairs aligned, "
                f"{summary.links} links in the store",
                flush=True,
            )
            print("    " + ", ".join(f"{k} {v:.2f}" for k, v in summary.timings.items()))
        db = copy_store(args.store, work / "cli.duckdb")
        started = time.perf_counter()
        subprocess.run(
            [WIRETRACE, "add", str(new), "--db", str(db)], check=True, stdout=subprocess.DEVNULL
        )
        command = time.perf_counter() - started
        print(
            f"add {args.count} articles to {args.store.name}: median {statistics.median(times):.2f} s "
            f"(in-process, kernels loaded); the whole `wiretrace add` command: {command:.2f} s"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.iterdir()) if folder.is_dir() else 0


def bench_write(args) -> None:
    from wiretrace.engines.local import accept_records, run_articles
    from wiretrace.index import segment_dir, write_store_with_index
    from wiretrace.ingest import read_inputs
    from wiretrace.model import RunParams
    from wiretrace.store import write_store

    started = time.perf_counter()
    articles, rejections = accept_records(read_inputs([args.corpus]))
    result = run_articles(articles, rejections, RunParams(), keep_index=True)
    print(f"read and ran {len(articles):,} articles in {time.perf_counter() - started:.1f} s")
    work = Path(tempfile.mkdtemp(prefix="wt-write-", dir=OUT))
    try:
        plain, indexed = [], []
        for i in range(args.repeat):
            db = work / f"plain{i}.duckdb"
            cpu_plain = time.process_time()
            started = time.perf_counter()
            write_store(db, result, rejections)
            plain.append(time.perf_counter() - started)
            cpu_plain = time.process_time() - cpu_plain
            db.unlink()
            db = work / f"indexed{i}.duckdb"
            cpu = time.process_time()
            started = time.perf_counter()
            write_store_with_index(db, result, rejections)
            indexed.append(time.perf_counter() - started)
            cpu = time.process_time() - cpu
            size = folder_bytes(segment_dir(db))
            print(
                f"  write {i + 1}: store {plain[-1]:.2f} s (CPU {cpu_plain:.2f} s), "
                f"store and index {indexed[-1]:.2f} s (CPU {cpu:.2f} s)",
                flush=True,
            )
            if i < args.repeat - 1:
                db.unlink()
                shutil.rmtree(segment_dir(db))
        with_index, without = statistics.median(indexed), statistics.median(plain)
        print(
            f"store of {len(articles):,} articles: median {without:.2f} s without the index, "
            f"{with_index:.2f} s with it (the index adds {with_index - without:.2f} s); "
            f"store file {db.stat().st_size / 1e6:.0f} MB, index folder {size / 1e6:.0f} MB"
        )
        args.store.parent.mkdir(parents=True, exist_ok=True)
        args.store.unlink(missing_ok=True)
        shutil.rmtree(segment_dir(args.store), ignore_errors=True)
        shutil.move(segment_dir(db), segment_dir(args.store))
        shutil.move(db, args.store)
        print(f"kept the last store as {args.store}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["query", "add", "memory", "write"])
    parser.add_argument("--store", type=Path, default=OUT / "d100k.duckdb")
    parser.add_argument("--corpus", type=Path, default=Path("/work/bench_out/d100k/articles.jsonl"))
    parser.add_argument("--other", type=Path, default=Path("/work/bench_out/d1000s2"))
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--articles", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.what == "memory":
        subprocess.run(
            [
                sys.executable,
                str(REPO / "benchmarks" / "memory.py"),
                "--articles",
                str(args.articles),
            ],
            check=True,
        )
        return
    if args.what == "write":
        bench_write(args)
        return
    ensure_store(args.store, args.corpus)
    (bench_query if args.what == "query" else bench_add)(args)


if __name__ == "__main__":
    main()
