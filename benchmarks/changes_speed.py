"""Speed of the "what changed" stage alone (``changes.lineage_changes``).

``capture`` runs the pipeline once on a corpus and saves what the stage receives
(articles, parents, aligned pairs, passages, sentence spans) to a pickle;
``time`` loads it and times the stage alone, and can save its output or check it
against a saved one (identical rows, field types included).

    python benchmarks/changes_speed.py capture CORPUS.jsonl inputs.pkl [--limit N]
    python benchmarks/changes_speed.py time inputs.pkl [--repeat 3] [--save out.pkl]
        [--check out.pkl]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import statistics
import time

import numpy as np

from wiretrace import changes
from wiretrace.engines import local
from wiretrace.ingest import read_inputs
from wiretrace.model import RunParams

_SENTENCE_FIELDS = ("sent_start", "sent_end", "doc_sent_start")


def capture(corpus: str, target: str, limit: int | None) -> None:
    records = itertools.islice(read_inputs([corpus]), limit)
    articles, rejections = local.accept_records(records)
    seen = {}

    def keep(articles, parent, pair_a, pair_b, passages, batch, body_starts, sources=None):
        # only the sentence arrays of the batch are used: drop the tokens to keep the file small
        empty = np.zeros(0, dtype=np.int64)
        kept = {
            f.name: getattr(batch, f.name) if f.name in _SENTENCE_FIELDS else empty
            for f in dataclasses.fields(batch)
        }
        seen["inputs"] = (
            articles, parent, pair_a, pair_b, passages, type(batch)(**kept), list(body_starts)
        )  # fmt: skip
        return []

    original = local.lineage_changes
    local.lineage_changes = keep
    try:
        local.run_articles(articles, rejections, RunParams())
    finally:
        local.lineage_changes = original
    with open(target, "wb") as out:
        pickle.dump(seen["inputs"], out, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"{len(articles)} articles, {int((seen['inputs'][1] >= 0).sum())} children -> {target}")


def rows(found: list) -> list[tuple]:
    """Each change as its field values and their types, so that 3 and 3.0 differ."""
    return [tuple((type(v).__name__, v) for v in dataclasses.astuple(change)) for change in found]


def time_stage(source: str, repeat: int, save: str | None, check: str | None) -> None:
    with open(source, "rb") as data:
        inputs = pickle.load(data)
    seconds, cpu = [], []
    for _ in range(repeat):
        for name in dir(changes):  # start cold: no text seen before
            if hasattr(getattr(changes, name), "cache_clear"):
                getattr(changes, name).cache_clear()
        began, began_cpu = time.perf_counter(), time.process_time()
        found = changes.lineage_changes(*inputs)
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    print(
        f"{len(found)} changes; wall seconds {[round(s, 3) for s in seconds]}, "
        f"median {statistics.median(seconds):.3f}; CPU seconds {[round(s, 3) for s in cpu]}, "
        f"median {statistics.median(cpu):.3f}"
    )
    if save:
        with open(save, "wb") as out:
            pickle.dump(rows(found), out, protocol=pickle.HIGHEST_PROTOCOL)
    if check:
        with open(check, "rb") as data:
            expected = pickle.load(data)
        got = rows(found)
        if got != expected:
            first = next(
                (i for i, (g, e) in enumerate(zip(got, expected)) if g != e),
                min(len(got), len(expected)),
            )
            raise SystemExit(
                f"DIFFERENT: {len(got)} vs {len(expected)} rows; first difference at {first}:\n"
                f"  got      {got[first] if first < len(got) else None}\n"
                f"  expected {expected[first] if first < len(expected) else None}"
            )
        print("identical to", check)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture")
    cap.add_argument("corpus")
    cap.add_argument("target")
    cap.add_argument("--limit", type=int)
    tim = sub.add_parser("time")
    tim.add_argument("inputs")
    tim.add_argument("--repeat", type=int, default=3)
    tim.add_argument("--save")
    tim.add_argument("--check")
    args = parser.parse_args()
    if args.command == "capture":
        capture(args.corpus, args.target, args.limit)
    else:
        time_stage(args.inputs, args.repeat, args.save, args.check)


if __name__ == "__main__":
    main()
