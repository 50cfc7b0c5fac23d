"""Peak memory while reading and fingerprinting a large corpus (``wiretrace.stream``).

    python benchmarks/memory.py [--articles 1000000] [--source FILE]

The corpus is the 100,000-article bench corpus (``--source``) replicated: copy k > 0
shifts every letter k places in the alphabet (ids get ``-k``), so the copies are
unrelated texts of the same shape and every copy keeps its own story families. It is
written once to ``benchmarks/out/scale/``.

A child process streams the corpus through ``wiretrace.stream.fingerprint_corpus``
(reading, accepting, tokenising, shingles and sentence keys spilled by hash partition,
boilerplate flags, candidate pairs); the parent reports the child's peak resident
memory, the bytes of its largest pair-count arrays (what the candidate pairs need) and
the difference.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out" / "scale"

_CHILD = r"""
import sys, time
from pathlib import Path
from wiretrace.ingest import read_inputs
from wiretrace.model import RunParams
from wiretrace.stream import fingerprint_corpus
started = time.perf_counter()
corpus, pairs = fingerprint_corpus(read_inputs([sys.argv[1]]), RunParams(), Path(sys.argv[2]))
print(corpus.n_docs, len(corpus.rejections), len(pairs), corpus.pair_bytes_peak,
      time.perf_counter() - started)
"""


def shifted(text: str, k: int) -> str:
    lower = "abcdefghijklmnopqrstuvwxyz"
    table = str.maketrans(
        lower + lower.upper(), lower[k:] + lower[:k] + (lower[k:] + lower[:k]).upper()
    )
    return text.translate(table)


def build_corpus(source: Path, articles: int, target: Path) -> None:
    import orjson

    lines = source.read_bytes().splitlines()
    tmp = target.with_suffix(".tmp")
    written = 0
    with open(tmp, "wb") as out:
        for k in range(-(-articles // len(lines))):
            for line in lines:
                if written == articles:
                    break
                record = orjson.loads(line)
                if k:
                    record["id"] = f"{record['id']}-{k}"
                    for field in ("text", "title", "outlet"):
                        if record.get(field):
                            record[field] = shifted(record[field], k)
                out.write(orjson.dumps(record) + b"\n")
                written += 1
    tmp.replace(target)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--source", type=Path, default=Path("/work/bench_out/d100k/articles.jsonl"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = OUT / f"replicated-{args.articles}.jsonl"
    if not corpus.exists():
        started = time.perf_counter()
        build_corpus(args.source, args.articles, corpus)
        print(f"wrote {corpus} in {time.perf_counter() - started:.0f} s", flush=True)
    with tempfile.TemporaryDirectory(dir=OUT) as spill:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(corpus), spill],
            check=True,
            capture_output=True,
            text=True,
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    n_docs, rejected, n_pairs, pair_bytes, seconds = done.stdout.split()
    gib = 1024**3
    print(f"corpus: {corpus} ({int(n_docs):,} articles, {corpus.stat().st_size / gib:.2f} GiB)")
    print(f"read and fingerprinted in {float(seconds):.0f} s; {int(rejected)} rejected")
    print(
        f"candidate pairs: {int(n_pairs):,}; pair counts at their largest: "
        f"{int(pair_bytes) / gib:.2f} GiB"
    )
    print(f"peak resident memory: {peak / gib:.2f} GiB")
    print(f"peak above what the candidate pairs need: {(peak - int(pair_bytes)) / gib:.2f} GiB")


if __name__ == "__main__":
    main()
