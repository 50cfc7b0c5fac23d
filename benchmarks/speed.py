"""Speed and memory at scale: wiretrace against the bench baseline, in the same run.

Generates bench corpora of growing size (stories = articles / 50, padded with
distractors, as ``make_corpus.py --stories 2000 --total 100000`` does at the top),
then times read -> exported answer for ``wiretrace run`` + ``wiretrace export
--format bench`` and for ``baseline.py``, each in its own process, reporting
wall time, articles per second, microseconds per article and peak memory.

    python benchmarks/speed.py --sizes 10000 30000 100000 [--repeat 3] [--no-baseline]
        [--option=--no-changes]   (options passed to ``wiretrace run``)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import BENCH, REPO, REUTERS, WIRETRACE, generate  # noqa: E402

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "for cmd in sys.argv[1].split(' && '):\n"
    "    subprocess.run(cmd.split(' '), check=True, stdout=subprocess.DEVNULL)\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def measure(commands: list[list[str]]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (GB) of commands run one after another."""
    joined = " && ".join(" ".join(c) for c in commands)
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, joined], check=True, capture_output=True, text=True
    )
    seconds, max_kb = done.stdout.split()
    return float(seconds), int(max_kb) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the median is reported"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--option", action="append", default=[], help="an option for `wiretrace run` (repeatable)"
    )
    args = parser.parse_args()
    if not REUTERS.exists():
        sys.exit(f"Reuters-21578 not found at {REUTERS}")
    rows = []
    for size in args.sizes:
        started = time.perf_counter()
        corpus = generate(args.out, max(size // 50, 1), args.seed, "default", size)
        print(
            f"corpus {corpus.name}: generated in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        with open(corpus / "articles.jsonl", "rb") as handle:
            articles = sum(1 for _ in handle)
        work = corpus.with_name(corpus.name + "-speed")
        work.mkdir(parents=True, exist_ok=True)
        db = work / "wiretrace.duckdb"
        jobs = {
            "wiretrace": [
                [*WIRETRACE, "run", str(corpus / "articles.jsonl"), "--db", str(db), *args.option],
                [
                    *WIRETRACE,
                    "export",
                    "--db",
                    str(db),
                    "--out",
                    str(work / "wiretrace"),
                    "--format",
                    "bench",
                ],
            ]
        }
        if not args.no_baseline:
            jobs["baseline"] = [
                [
                    sys.executable,
                    str(BENCH / "baseline.py"),
                    "--articles",
                    str(corpus / "articles.jsonl"),
                    "--out",
                    str(work / "baseline"),
                ]
            ]
        for name, commands in jobs.items():
            runs = []
            for _ in range(args.repeat):
                for leftover in work.glob("wiretrace.duckdb*"):
                    shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
                runs.append(measure(commands))
            seconds = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            rows.append((size, articles, name, seconds, peak))
            print(f"{name} {articles} articles: {seconds:.1f} s, {peak:.2f} GB", file=sys.stderr)
    print("| articles | system | time (s, median) | articles/s | µs/article | peak memory (GB) |")
    print("|---|---|---|---|---|---|")
    for _size, articles, name, seconds, peak in rows:
        print(
            f"| {articles:,} | {name} | {seconds:.1f} | {articles / seconds:,.0f} | {seconds / articles * 1e6:,.0f} | {peak:.2f} |"
        )
    by_size = {}
    for size, _articles, name, seconds, _ in rows:
        by_size.setdefault(size, {})[name] = seconds
    for size, times in by_size.items():
        if "baseline" in times:
            print(
                f"\n{size:,} articles: wiretrace is {times['baseline'] / times['wiretrace']:.1f}x the baseline's throughput"
            )


if __name__ == "__main__":
    main()
