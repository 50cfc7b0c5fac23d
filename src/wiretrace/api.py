"""The Python API: the same verbs as the command line."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .align import align_texts
from .engines.local import (
    Progress,
    RunResult,
    accept_records,
    against_stored,
    alignment_params,
    article_facts,
    measure_pairs,
    run_articles,
)
from .engines.streamed import run_streamed, should_stream
from .index import StoreIndex, write_store_with_index
from .ingest import read_inputs
from .ingest.metadata import warnings_of
from .lineage import PairEvidence, orient
from .model import Article, Comparison, Direction, Passage, QueryMatch, Rejection, RunParams
from .similarity import SentencePair, compare_sentences
from .store import load_articles, load_rejections

PROGRESS_EVERY = 500  # records between progress-bar updates: an update costs microseconds


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
    warnings: list[tuple[str, str]] = field(
        default_factory=list
    )  # (origin, warning) of kept records
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    boilerplate_lines: int = 0  # rows of the store's boilerplate table
    boilerplate_articles: int = 0  # articles with a boilerplate sentence
    streamed: bool = False  # run in bounded memory (``engines/streamed.py``)


def run(
    inputs: Iterable[str | Path],
    db: str | Path | None = None,
    params: RunParams | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    column_map: Mapping[str, str] | None = None,
    engine: str = "local",
    index: bool = True,
    stream: bool | None = None,
) -> RunSummary:
    """Read ``inputs``, find reuse, families and lineage; write the store at ``db`` if given.

    ``index``: also persist the n-gram index that ``query`` and ``add`` need.
    ``stream``: run in bounded memory (texts stay on disk; the same store and index);
    ``None`` streams when the inputs and the store exceed 1 GiB
    (``engines.streamed.STREAM_ABOVE_BYTES``). Local engine only.

    Articles already in the store are kept and analysed together with the new ones,
    so running again on the same input gives the same store. ``column_map`` names the
    column of each article field in tables (``{"text": "body"}``). ``strict`` stops
    (``ValueError``) at the first record that would be rejected.
    """
    started = time.perf_counter()
    params = params or RunParams()
    inputs = list(inputs)
    if stream is None:
        stream = engine == "local" and should_stream(inputs, db)
    if stream:
        if engine != "local":
            raise ValueError(f"the {engine} engine does not stream: use the local engine")
        return _run_streamed(inputs, db, params, strict, progress, column_map, started, index)
    stored = load_articles(db) if db is not None else []
    stored_by_id = {a.id: a for a in stored}
    read = already = 0

    def new_records() -> Iterator[Article | Rejection]:
        nonlocal read, already
        for record in read_inputs(inputs, column_map):
            read += 1
            stored_article = stored_by_id.get(record.id) if isinstance(record, Article) else None
            record = against_stored(record, stored_article.text if stored_article else None)
            if record is None:
                already += 1
                continue
            yield record
            if progress and read % PROGRESS_EVERY == 0:
                progress("read", PROGRESS_EVERY, None)
        if progress and read % PROGRESS_EVERY:
            progress("read", read % PROGRESS_EVERY, None)

    # accept_records consumes the stream, so --strict stops at the first bad record
    new_articles, rejections = accept_records(new_records(), strict=strict)
    articles = stored + new_articles
    if engine == "spark":  # the same stages on Apache Spark (engines/spark.py); no n-gram index
        from .engines.spark import run_articles_spark

        result = run_articles_spark(articles, rejections, params, progress)
    elif engine == "local":
        keep_index = db is not None and index
        result = run_articles(
            articles, rejections, params, progress, keep_index=keep_index, defer_changes=True
        )
        if db is None and result.pending_changes is not None:
            result.changes, result.pending_changes = result.pending_changes(), None
    else:
        raise ValueError(f"unknown engine {engine!r}: use 'local' or 'spark'")
    if db is not None:
        # a rerun meets the same bad records again: one rejection per origin, the latest
        known = {r.origin: r for r in load_rejections(db)}
        known.update((r.origin, r) for r in rejections)
        write_store_with_index(db, result, list(known.values()))
        result.index = None  # persisted; not kept in memory
    return _summary(
        result,
        started,
        read=read,
        stored=len(new_articles),
        already_stored=already,
        rejections=rejections,
        warnings=[(a.origin, w) for a in new_articles for w in warnings_of(a)],
    )


def _summary(result: RunResult, started: float, **counts) -> RunSummary:
    """A run's summary from its result and what reading counted."""
    family_sizes = np.bincount(result.lineage.family) if result.articles else np.zeros(0, np.int64)
    boilerplate = result.boilerplate
    return RunSummary(
        rejected=len(counts["rejections"]),
        pairs=result.candidate_pairs,
        links=len(result.link_indices),
        passages=int(np.isin(result.passages.pair, result.link_indices).sum()),
        families=int(family_sizes.shape[0]),
        multi_article_families=int((family_sizes > 1).sum()),
        seconds=time.perf_counter() - started,
        result=result,
        timings=result.timings,
        boilerplate_lines=len(boilerplate) if boilerplate is not None else 0,
        boilerplate_articles=boilerplate.articles_affected if boilerplate is not None else 0,
        **counts,
    )


def _run_streamed(
    inputs, db, params, strict, progress, column_map, started, index=True
) -> RunSummary:
    """``run`` through ``engines.streamed``: the same summary."""
    done = run_streamed(inputs, db, params, strict, progress, column_map, index=index)
    return _summary(
        done.result,
        started,
        read=done.read,
        stored=done.stored,
        already_stored=done.already_stored,
        rejections=done.rejections,
        warnings=done.warnings,
        streamed=True,
    )


def compare(a: str | Article, b: str | Article, params: RunParams | None = None) -> Comparison:
    """Align two texts (or articles): passages, containment both ways, and which is the source.

    Two texts of one or two sentences each are compared as sentences (``similarity.py``):
    ``reused`` says whether one restates or trims the other, ``similarity`` how closely, and
    a reused pair has one passage spanning both.
    """
    params = params or RunParams()
    article_a = a if isinstance(a, Article) else Article(id="a", text=a)
    article_b = b if isinstance(b, Article) else Article(id="b", text=b)
    sentences = compare_sentences(
        article_a.text, article_b.text, variants=params.variants, semantic=params.semantic
    )
    if sentences is not None:
        return _sentence_comparison(article_a, article_b, sentences, params)
    batch, table = align_texts(
        article_a.text, article_b.text, alignment_params(params), params.variants
    )
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


def _sentence_comparison(
    article_a: Article, article_b: Article, pair: SentencePair, params: RunParams
) -> Comparison:
    """``compare``'s answer for two texts of one or two sentences: one passage if reused."""
    passages = []
    if pair.reused:
        passages.append(
            Passage(*pair.a_span, *pair.b_span, "verbatim" if pair.same_words else "edited",
                    round(pair.similarity, 4))
        )  # fmt: skip
    containment_a = pair.containment_a if pair.reused else 0.0
    containment_b = pair.containment_b if pair.reused else 0.0
    source, reason = None, "no reuse found"
    if pair.reused:
        evidence = PairEvidence(
            a=np.array([0]), b=np.array([1]),
            containment_a=np.array([containment_a]), containment_b=np.array([containment_b]),
            weighted_a=np.array([pair.similarity]), weighted_b=np.array([pair.similarity]),
            exact_a=np.zeros(1), exact_b=np.zeros(1), shared=np.zeros(1, np.int64),
            passages=np.ones(1, np.int64), reused=np.ones(1, bool),
        )  # fmt: skip
        orientation = orient(article_facts([article_a, article_b], params), evidence)
        reason = orientation.reason[0]
        if not reason.startswith("undetermined"):
            source = "a" if orientation.source_is_a[0] else "b"
    return Comparison(
        passages=passages,
        containment_a=round(containment_a, 4),
        containment_b=round(containment_b, 4),
        source=source,
        reused=pair.reused,
        similarity=round(pair.similarity, 4),
        direction=Direction(source, reason),
    )


def add(
    inputs: Iterable[str | Path],
    db: str | Path,
    params: RunParams | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    column_map: Mapping[str, str] | None = None,
) -> RunSummary:
    """Add ``inputs`` to the store at ``db``, comparing only the new articles with the stored
    ones and each other; the store ends as a full ``run`` over all of them would leave it.

    ``pairs`` in the summary counts the pairs aligned by this call; links, passages and
    families are the store's totals. A store without an n-gram index gets a full run.
    """
    from .incremental import add_articles

    return add_articles(inputs, db, params, strict, progress, column_map)


def query(
    text: str, db: str | Path | StoreIndex, params: RunParams | None = None
) -> list[QueryMatch]:
    """The stored articles that ``text`` (not in the store) likely reuses, best evidence first.

    ``db`` is a store path, or a store opened once with ``open_store`` for many queries.
    Only the persisted n-gram index and the candidates' texts are read.
    """
    from .querying import query as query_store

    return query_store(text, db, params)


def open_store(db: str | Path) -> StoreIndex:
    """Open a store for repeated ``query`` calls (close it, or use it in a ``with`` block)."""
    return StoreIndex(db)
