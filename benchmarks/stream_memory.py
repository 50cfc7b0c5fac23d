"""Peak memory and time of ``wiretrace run --stream`` against ``--in-memory``, on one corpus.

    python benchmarks/stream_memory.py [--input FILE] [--mode both|stream|memory]
        [--option=--no-changes]   (options passed to both runs)

Each run is ``wiretrace run INPUT --db ...`` in a process of its own (numba kernels cached
by an earlier run); its peak resident memory is that process's (``os.wait4``). The
in-memory run gets ``--no-index``, as the streaming path writes no n-gram index. With
``--mode both`` the two stores are then compared table by table in DuckDB (``EXCEPT ALL``
both ways), so the figures are for the same answer.

The default input is the bench corpus ``make_corpus.py --stories 2000 --total 300000
--seed 1`` (generate it first; see ``../shared/bench/README.md``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", type=Path, default=Path("/work/bench_out/d300k/articles.jsonl"))
    parser.add_argument("--mode", choices=("both", "stream", "memory"), default="both")
    parser.add_argument(
        "--option", action="append", default=[], help="an option for `wiretrace run` (repeatable)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    size = args.input.stat().st_size / 1024**3
    print(f"input: {args.input} ({size:.2f} GiB)")
    modes = ("stream", "memory") if args.mode == "both" else (args.mode,)
    stores = {}
    for mode in modes:
        db = OUT / f"{mode}.duckdb"
        for leftover in (db, Path(f"{db}.wal"), Path(f"{db}.ngrams")):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            leftover.unlink(missing_ok=True)
        extra = ["--stream"] if mode == "stream" else ["--in-memory", "--no-index"]
        seconds, peak = measure(
            [str(WIRETRACE), "run", str(args.input), "--db", str(db), *extra, *args.option]
        )
        stores[mode] = db
        print(
            f"| `--{'stream' if mode == 'stream' else 'in-memory'}` | {seconds:.1f} | {peak:.2f} |"
        )
    if len(stores) == 2:
        differences = differing_rows(stores["memory"], stores["stream"])
        print("rows that differ between the stores, per table:", differences)


if __name__ == "__main__":
    main()
