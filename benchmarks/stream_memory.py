"""Peak memory and time of ``wiretrace run --stream`` against ``--in-memory``, on one corpus.

    python benchmarks/stream_memory.py [--input FILE] [--mode both|stream|memory]
        [--index on|off|both] [--option=--no-changes]   (options passed to every run)

Each run is ``wiretrace run INPUT --db ...`` in a process of its own (numba kernels cached
by an earlier run); its peak resident memory is that process's (``os.wait4``). ``--index``:
runs with the n-gram index (the default), without it (``--no-index``), or each way. With
``--mode both`` the streamed and in-memory stores of each index setting are then compared
table by table in DuckDB (``EXCEPT ALL`` both ways; ``index_meta`` names random segment
files) and, with the index, file by file (postings segments byte for byte, the texts of
the text segment), so the figures are for the same answer.

The default input is the bench corpus ``make_corpus.py --stories 2000 --total 300000
--seed 1`` (generate it first; see ``../shared/bench/README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
WIRETRACE = REPO / ".venv" / "bin" / "wiretrace"
OUT = REPO / "benchmarks" / "out" / "stream"


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GiB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode})")
    return seconds, usage.ru_maxrss / 1024**2


def differing_rows(a: Path, b: Path) -> dict[str, int]:
    """Per table of store ``a``: rows not matched one for one in store ``b`` (both ways)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        tables = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'a' ORDER BY 1"
            ).fetchall()
        ]
        return {
            name: con.execute(
                f"SELECT (SELECT count(*) FROM (FROM a.{name} EXCEPT ALL FROM b.{name})) + "
                f"(SELECT count(*) FROM (FROM b.{name} EXCEPT ALL FROM a.{name}))"
            ).fetchone()[0]
            for name in tables
        }


def differing_index_files(a: Path, b: Path) -> list[str]:
    """The parts of the two stores' n-gram indexes that differ (segments by content)."""
    metas = []
    for db in (a, b):
        with duckdb.connect(str(db), read_only=True) as con:
            metas.append(dict(con.execute("SELECT key, value FROM index_meta").fetchall()))
    differ = [k for k in ("format", "docs") if metas[0][k] != metas[1][k]]
    for key in ("segments", "bands", "texts"):
        entries = [json.loads(meta[key]) for meta in metas]
        if [e[1:] for e in entries[0]] != [e[1:] for e in entries[1]]:
            differ.append(f"{key} sizes")
            continue
        for first, second in zip(entries[0], entries[1]):
            parts = ("texts.arrow",) if key == "texts" else ("hashes.npy", "docs.npy")
            for part in parts:
                files = [
                    Path(f"{db}.ngrams") / f"{e[0]}.{part}" for db, e in ((a, first), (b, second))
                ]
                if part == "texts.arrow":
                    same = _texts(files[0]) == _texts(files[1])
                else:
                    same = files[0].read_bytes() == files[1].read_bytes()
                if not same:
                    differ.append(f"{key} {part}")
    return differ


def _texts(path: Path) -> pa.ChunkedArray:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().column("text").combine_chunks()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=Path("/work/bench_out/d300k/articles.jsonl"))
    parser.add_argument("--mode", choices=("both", "stream", "memory"), default="both")
    parser.add_argument("--index", choices=("on", "off", "both"), default="on")
    parser.add_argument(
        "--option", action="append", default=[], help="an option for `wiretrace run` (repeatable)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    size = args.input.stat().st_size / 1024**3
    print(f"input: {args.input} ({size:.2f} GiB)")
    modes = ("stream", "memory") if args.mode == "both" else (args.mode,)
    indexes = ("on", "off") if args.index == "both" else (args.index,)
    stores = {}
    for index in indexes:
        for mode in modes:
            db = OUT / f"{mode}-index-{index}.duckdb"
            for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.ngrams")):
                if leftover.is_dir():
                    shutil.rmtree(leftover)
                leftover.unlink(missing_ok=True)
            extra = ["--stream" if mode == "stream" else "--in-memory"]
            extra += [] if index == "on" else ["--no-index"]
            seconds, peak = measure(
                [str(WIRETRACE), "run", str(args.input), "--db", str(db), *extra, *args.option]
            )
            stores[mode, index] = db
            print(f"| `{' '.join(extra)}` | {seconds:.1f} | {peak:.2f} |", flush=True)
    for index in indexes:
        if ("stream", index) in stores and ("memory", index) in stores:
            memory, streaming = stores["memory", index], stores["stream", index]
            differences = differing_rows(memory, streaming)
            differences.pop("index_meta", None)
            print(f"index {index}: rows that differ between the stores, per table:", differences)
            if index == "on":
                print(
                    "index parts that differ:", differing_index_files(memory, streaming) or "none"
                )


if __name__ == "__main__":
    main()
