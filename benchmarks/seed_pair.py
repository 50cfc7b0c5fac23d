"""The seed pair: a Reuters report and another outlet's rewrite of it (``../shared/seeds``).

Reports what ``wiretrace compare`` finds: passages, how many of the rewrite's
sentences lie in them, the share of each text in reused passages, and the source;
then what the derivative changed against its source (``describe_changes``), by kind.

    python benchmarks/seed_pair.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import wiretrace
from wiretrace.changes import KIND_ORDER, describe_changes
from wiretrace.ingest import read_text_file
from wiretrace.model import Article
from wiretrace.text import body_start, sentences

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def main() -> None:
    files = sorted(SEEDS.glob("*.txt"))
    if len(files) != 2:
        sys.exit(f"expected two seed files in {SEEDS}")
    report, rewrite = (read_text_file(path) for path in files)
    result = wiretrace.compare(report, rewrite)
    spans = sentences(rewrite.text, body_start(rewrite.text))
    covered = [
        (start, end)
        for start, end in spans
        if any(p.b_start <= start and end <= p.b_end for p in result.passages)
    ]
    report_spans = sentences(report.text, body_start(report.text))
    reused_report = [
        (start, end)
        for start, end in report_spans
        if any(p.a_start <= start and end <= p.a_end for p in result.passages)
    ]
    print(f"A = {files[0].name} (report), B = {files[1].name} (rewrite)")
    print(f"report sentences found reused: {len(reused_report)}")
    for start, end in reused_report:
        print(f"  - {report.text[start:end][:90]}…")
    print(
        f"passages: {len(result.passages)}; rewrite sentences inside them: {len(covered)} of {len(spans)}"
    )
    for start, end in covered:
        print(f"  - {rewrite.text[start:end][:90]}…")
    print(f"share of the report in reused passages: {result.containment_a:.0%}")
    print(f"share of the rewrite in reused passages: {result.containment_b:.0%}")
    print(f"reused: {result.reused}; source: {result.source} ({result.direction.reason})")
    source, derivative = (rewrite, report) if result.source == "b" else (report, rewrite)
    print_changes(derivative, source)


def print_changes(derivative: Article, source: Article) -> None:
    passages = wiretrace.compare(derivative, source).passages
    changes = describe_changes(derivative, source, passages)
    print(f"\nwhat {derivative.id} changed against {source.id}: {len(changes)} changes")
    for kind in KIND_ORDER:
        found = [c for c in changes if c.kind == kind]
        if found:
            print(f"{kind} ({len(found)}):")
        for change in found:
            text = " ".join(change.text.split())
            text = text if len(text) <= 150 else text[:149] + "…"
            detail = f"  [{change.detail}]" if change.detail else ""
            print(f"  - {text}{detail}")


if __name__ == "__main__":
    main()
