"""The Python API: the same verbs as the command line."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .align import align_texts
from .engines.local import (
    Progress,
    RunResult,
    accept_records,
    alignment_params,
    article_facts,
    measure_pairs,
    run_articles,
)
from .ingest import read_inputs
from .lineage import orient
from .model import Article, Comparison, Direction, Passage, Rejection, RunParams
from .store import load_articles, load_rejections, write_store


@dataclass
class RunSummary:
    """What ``run`` did: counts for the closing summary, and the full result."""

    read: int
    stored: int
    rejected: int
    already_stored: int
    pairs: int
    links: int
    passages: int
    families: int
    multi_article_families: int
    seconds: float
    rejections: list[Rejection] = field(default_factory=list)
    result: RunResult | None = None


def run(
    inputs: Iterable[str | Path],
    db: str | Path | None = None,
    params: RunParams | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Read ``inputs``, find reuse, families and lineage; write the store at ``db`` if given.

    Articles already in the store are kept and analysed together with the new ones,
    so running again on the same input gives the same store.
    """
    started = time.perf_counter()
    params = params or RunParams()
    stored = load_articles(db) if db is not None else []
    stored_by_id = {a.id: a for a in stored}
    records, already = [], 0
    read = 0
    for record in read_inputs(inputs):
        read += 1
        if isinstance(record, Article) and record.id in stored_by_id:
            if stored_by_id[record.id].text == record.text:
                already += 1
                continue
            record = Rejection(
                record.origin,
                f"id {record.id!r} is already stored with a different text",
                record.id,
            )
        records.append(record)
        if progress:
            progress("read", 1, None)
    new_articles, rejections = accept_records(records, strict=strict)
    articles = stored + new_articles
    result = run_articles(articles, rejections, params, progress)
    if db is not None:
        write_store(db, result, load_rejections(db) + rejections)
    family_sizes = np.bincount(result.lineage.family) if articles else np.zeros(0, np.int64)
    return RunSummary(
        read=read,
        stored=len(new_articles),
        rejected=len(rejections),
        already_stored=already,
        pairs=result.candidate_pairs,
        links=len(result.link_indices),
        passages=int(np.isin(result.passages.pair, result.link_indices).sum()),
        families=int(family_sizes.shape[0]),
        multi_article_families=int((family_sizes > 1).sum()),
        seconds=time.perf_counter() - started,
        rejections=rejections,
        result=result,
    )


def compare(a: str | Article, b: str | Article, params: RunParams | None = None) -> Comparison:
    """Align two texts (or articles): passages, containment both ways, and which is the source."""
    params = params or RunParams()
    article_a = a if isinstance(a, Article) else Article(id="a", text=a)
    article_b = b if isinstance(b, Article) else Article(id="b", text=b)
    batch, table = align_texts(article_a.text, article_b.text, alignment_params(params))
    pair_a, pair_b = np.array([0]), np.array([1])
    evidence = measure_pairs(batch, pair_a, pair_b, table, params, [article_a.text, article_b.text])
    facts = article_facts([article_a, article_b], params)
    orientation = orient(facts, evidence)
    reused = bool(evidence.reused[0])
    passages = [
        Passage(
            int(table.a_start[i]),
            int(table.a_end[i]),
            int(table.b_start[i]),
            int(table.b_end[i]),
            "verbatim" if table.verbatim[i] else "edited",
            round(float(table.similarity[i]), 4),
        )  # fmt: skip
        for i in range(len(table))
    ]
    source = None
    reason = "no reuse found"
    if passages:
        source = "a" if orientation.source_is_a[0] else "b"
        reason = orientation.reason[0]
        if reason.startswith("undetermined"):
            source = None
    similarity = float((evidence.weighted_a[0] + evidence.weighted_b[0]) / 2)
    return Comparison(
        passages=passages,
        containment_a=float(evidence.containment_a[0]),
        containment_b=float(evidence.containment_b[0]),
        source=source,
        reused=reused,
        similarity=round(similarity, 4),
        direction=Direction(source, reason),
    )
