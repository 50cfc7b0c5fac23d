"""Quality on the news-reuse benchmark: wiretrace against the bench baseline.

For each seed: generate a corpus with ``shared/bench/make_corpus.py``, run
``wiretrace run`` and ``wiretrace export --format bench`` through the real CLI,
run the bench baseline, score both with ``shared/bench/score.py``, and print a
Markdown table (median over seeds last).

    python benchmarks/quality.py --stories 1000 --seeds 1 2 3 [--profile hard] [--rewrites]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BENCH = SHARED / "bench"
REUTERS = SHARED / "data" / "reuters21578"
WIRETRACE = [sys.executable, "-m", "wiretrace.cli"]

COLUMNS = (
    ("ARI", ("families", "ari")),
    ("pair F1", ("families", "pair_f1")),
    ("parent acc.", ("lineage", "parent_accuracy")),
    ("root acc.", ("lineage", "root_accuracy")),
    ("spurious parent", ("lineage", "spurious_parent_rate")),
    ("plagdet", ("passages", "all", "plagdet")),
    ("verbatim plagdet", ("passages", "verbatim", "plagdet")),
    ("paraphrase plagdet", ("passages", "paraphrase", "plagdet")),
    ("granularity", ("passages", "all", "granularity")),
)


def generate(out: Path, stories: int, seed: int, profile: str, total: int | None) -> Path:
    name = f"{profile}-s{stories}-seed{seed}" + (f"-t{total}" if total else "")
    corpus = out / name
    if not (corpus / "articles.jsonl").exists():
        cmd = [sys.executable, str(BENCH / "make_corpus.py"), "--reuters", str(REUTERS), "--out", str(corpus),
               "--stories", str(stories), "--seed", str(seed), "--profile", profile]  # fmt: skip
        if total:
            cmd += ["--total", str(total)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return corpus


def run_wiretrace(corpus: Path, workdir: Path, options: list[str]) -> tuple[Path, float]:
    db = workdir / "wiretrace.duckdb"
    answer = workdir / "wiretrace"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [*WIRETRACE, "run", str(corpus / "articles.jsonl"), "--db", str(db), *options],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*WIRETRACE, "export", "--db", str(db), "--out", str(answer), "--format", "bench"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return answer, time.perf_counter() - started


def run_baseline(corpus: Path, workdir: Path) -> tuple[Path, float]:
    answer = workdir / "baseline"
    started = time.perf_counter()
    subprocess.run([sys.executable, str(BENCH / "baseline.py"), "--articles", str(corpus / "articles.jsonl"), "--out", str(answer)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return answer, time.perf_counter() - started


def score(corpus: Path, answer: Path) -> dict:
    done = subprocess.run([sys.executable, str(BENCH / "score.py"), "--gold", str(corpus / "gold"), "--system", str(answer), "--json"],
                          check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(done.stdout)


def pick(report: dict, path: tuple[str, ...]) -> float:
    value = report
    for key in path:
        value = value[key]
    return float(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--profile", default="default", choices=["default", "hard"])
    parser.add_argument(
        "--total", type=int, default=None, help="pad with distractors to this many articles"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--rewrites", action="store_true", help="run wiretrace with --rewrites (sentence channel)"
    )
    args = parser.parse_args()
    if not REUTERS.exists():
        sys.exit(f"Reuters-21578 not found at {REUTERS}")
    rows = []
    for seed in args.seeds:
        corpus = generate(args.out, args.stories, seed, args.profile, args.total)
        workdir = corpus.with_name(corpus.name + "-answers")
        workdir.mkdir(parents=True, exist_ok=True)
        options = ["--rewrites"] if args.rewrites else []
        systems = [("wiretrace", *run_wiretrace(corpus, workdir, options))]
        if not args.no_baseline:
            systems.append(("baseline", *run_baseline(corpus, workdir)))
        for name, answer, seconds in systems:
            report = score(corpus, answer)
            values = [pick(report, path) for _, path in COLUMNS]
            rows.append((name, seed, report["articles"], values, seconds))
            print(
                f"{name} seed {seed}: "
                + ", ".join(f"{c} {v:.3f}" for (c, _), v in zip(COLUMNS, values)),
                file=sys.stderr,
            )
    header = "| system | seed | articles | " + " | ".join(c for c, _ in COLUMNS) + " | time (s) |"
    flags = " (wiretrace --rewrites)" if args.rewrites else ""
    print(f"\n{args.profile} profile, {args.stories} stories{flags}\n")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, seed, n, values, seconds in rows:
        print(
            f"| {name} | {seed} | {n:,} | "
            + " | ".join(f"{v:.3f}" for v in values)
            + f" | {seconds:.1f} |"
        )
    for name in sorted({r[0] for r in rows}, reverse=True):
        mine = [r for r in rows if r[0] == name]
        medians = [statistics.median(r[3][i] for r in mine) for i in range(len(COLUMNS))]
        print(f"| **{name} median** | | | " + " | ".join(f"**{v:.3f}**" for v in medians)
              + f" | {statistics.median(r[4] for r in mine):.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
