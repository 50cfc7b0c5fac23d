"""The local engine: every stage in this process, NumPy and numba doing the heavy loops."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from ..align import AlignParams, PassageTable, align_pairs, doc_feature_index
from ..candidates import candidate_pairs
from ..fingerprint import boilerplate_sentences, sentence_features, shingles
from ..lineage import (
    DEFAULT_WIRE_AGENCIES,
    ArticleFacts,
    Lineage,
    Orientation,
    PairEvidence,
    build_lineage,
    is_wire_outlet,
    orient,
)
from ..model import Article, Rejection, RunParams
from ..text import TokenizedBatch, body_start, tokenize_corpus
from ..timestamps import parse_timestamp

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total)

ALIGN_CHUNK = 100_000


@dataclass
class RunResult:
    """Everything a run found, in columnar form; ``store`` and ``export`` read it."""

    articles: list[Article]
    rejections: list[Rejection]
    params: RunParams
    facts: ArticleFacts
    body_starts: list[int]
    evidence: PairEvidence
    orientation: Orientation
    passages: PassageTable  # ``pair`` indexes ``evidence``
    lineage: Lineage
    timings: dict[str, float] = field(default_factory=dict)
    candidate_pairs: int = 0

    @property
    def link_indices(self) -> np.ndarray:
        return np.nonzero(self.evidence.reused)[0]


def accept_records(
    records: Iterable[Article | Rejection], strict: bool = False
) -> tuple[list[Article], list[Rejection]]:
    """Split records into articles and rejections; a repeated id is a rejection."""
    articles: list[Article] = []
    rejections: list[Rejection] = []
    seen: dict[str, Article] = {}
    for record in records:
        if isinstance(record, Article) and record.id in seen:
            first = seen[record.id]
            same = first.text == record.text
            record = Rejection(
                record.origin,
                f"duplicate id {record.id!r} (first at {first.origin}"
                + (", same text)" if same else ", different text)"),
                record.id,
            )
        if isinstance(record, Rejection):
            if strict:
                raise ValueError(f"{record.origin}: {record.reason}")
            rejections.append(record)
            continue
        seen[record.id] = record
        articles.append(record)
    return articles, rejections


def run_articles(
    articles: list[Article],
    rejections: list[Rejection] | None = None,
    params: RunParams = RunParams(),
    progress: Progress | None = None,
) -> RunResult:
    """Run every stage on articles already read."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    texts = [a.text for a in articles]
    starts = [body_start(t) for t in texts]
    batch = tokenize_corpus(
        texts,
        starts,
        progress=(lambda k: progress("tokenise", k, len(texts))) if progress else None,
    )
    lap("tokenise")
    grams = shingles(batch, params.shingle_size)
    pairs = candidate_pairs(
        grams, params.max_df, params.min_shared_shingles, params.min_shared_share
    )
    del grams
    lap("candidates")
    boilerplate = boilerplate_sentences(batch, [a.outlet for a in articles], params.boilerplate)
    features = sentence_features(batch, boilerplate)
    index = doc_feature_index(batch, features)
    align_params = alignment_params(params)
    tables = []
    for start in range(0, len(pairs), ALIGN_CHUNK):
        stop = min(start + ALIGN_CHUNK, len(pairs))
        table = align_pairs(
            batch,
            features,
            index,
            pairs.a[start:stop],
            pairs.b[start:stop],
            align_params,
            boilerplate,
        )
        tables.append(_shift_pairs(table, start))
        if progress:
            progress("align", stop - start, len(pairs))
    passages = (
        _concat_tables(tables)
        if tables
        else align_pairs(batch, features, index, pairs.a, pairs.b, align_params)
    )
    lap("align")
    evidence = measure_pairs(batch, pairs.a, pairs.b, passages, params, texts)
    facts = article_facts(articles, params)
    orientation = orient(facts, evidence, links_only=True)
    lineage = build_lineage(facts, evidence, orientation)
    lap("lineage")
    return RunResult(
        articles=articles,
        rejections=rejections or [],
        params=params,
        facts=facts,
        body_starts=starts,
        evidence=evidence,
        orientation=orientation,
        passages=passages,
        lineage=lineage,
        timings=timings,
        candidate_pairs=len(pairs),
    )


def alignment_params(params: RunParams) -> AlignParams:
    return AlignParams(
        params.min_shared, params.min_overlap, params.merge_overlap, params.neighbour_overlap
    )


def article_facts(articles: list[Article], params: RunParams) -> ArticleFacts:
    agencies = params.wire_agencies or DEFAULT_WIRE_AGENCIES
    return ArticleFacts(
        ids=[a.id for a in articles],
        outlets=[a.outlet for a in articles],
        titles=[a.title for a in articles],
        texts=[a.text for a in articles],
        timestamps=[parse_timestamp(a.published_at) for a in articles],
        wire=[is_wire_outlet(a.outlet, agencies) for a in articles],
    )


def measure_pairs(
    batch: TokenizedBatch,
    a: np.ndarray,
    b: np.ndarray,
    passages: PassageTable,
    params: RunParams,
    texts: list[str],
) -> PairEvidence:
    """Containment both ways and the link decision for every aligned pair.

    For linked pairs, each passage is also compared character by character
    (quotes, spelling, punctuation): a copy of a copy keeps its parent's house
    style, which the normalised comparison cannot see.
    """
    n_pairs = a.shape[0]
    extent = _body_extent(batch)
    a_len = (passages.a_end - passages.a_start).astype(np.float64)
    b_len = (passages.b_end - passages.b_start).astype(np.float64)
    covered_a = np.bincount(passages.pair, a_len, minlength=n_pairs)
    covered_b = np.bincount(passages.pair, b_len, minlength=n_pairs)
    weighted_a = np.bincount(passages.pair, a_len * passages.similarity, minlength=n_pairs)
    weighted_b = np.bincount(passages.pair, b_len * passages.similarity, minlength=n_pairs)
    shared = np.bincount(passages.pair, passages.shared, minlength=n_pairs).astype(np.int64)
    solid = passages.similarity >= params.link_min_similarity
    strength = np.bincount(
        passages.pair,
        np.where(solid, passages.shared * passages.similarity, 0.0),
        minlength=n_pairs,
    )
    count = np.bincount(passages.pair, minlength=n_pairs).astype(np.int64)
    len_a = np.maximum(extent[a], 1)
    len_b = np.maximum(extent[b], 1)
    cont_a = np.minimum(covered_a / len_a, 1.0)
    cont_b = np.minimum(covered_b / len_b, 1.0)
    reused = (
        (shared >= params.min_link_features)
        & (strength >= params.min_link_strength)
        & (
            (np.maximum(cont_a, cont_b) >= params.min_link_containment)
            | (strength >= params.strong_link_strength)
        )
    )
    exact_a, exact_b = _exact_weighted(texts, a, b, passages, reused, len_a, len_b)
    return PairEvidence(
        a=a,
        b=b,
        exact_a=exact_a,
        exact_b=exact_b,
        containment_a=cont_a,
        containment_b=cont_b,
        weighted_a=np.minimum(weighted_a / len_a, 1.0),
        weighted_b=np.minimum(weighted_b / len_b, 1.0),
        shared=shared,
        passages=count,
        reused=reused,
    )


def _exact_weighted(texts, a, b, passages, reused, len_a, len_b):
    n_pairs = a.shape[0]
    rows = np.nonzero(reused[passages.pair])[0]
    ratios = np.zeros(len(passages), dtype=np.float64)
    for row in rows.tolist():
        k = passages.pair[row]
        text_a = texts[a[k]][passages.a_start[row] : passages.a_end[row]]
        text_b = texts[b[k]][passages.b_start[row] : passages.b_end[row]]
        ratios[row] = fuzz.ratio(text_a, text_b) / 100.0
    a_len = (passages.a_end - passages.a_start) * ratios
    b_len = (passages.b_end - passages.b_start) * ratios
    exact_a = np.minimum(np.bincount(passages.pair, a_len, minlength=n_pairs) / len_a, 1.0)
    exact_b = np.minimum(np.bincount(passages.pair, b_len, minlength=n_pairs) / len_b, 1.0)
    return exact_a, exact_b


def _body_extent(batch: TokenizedBatch) -> np.ndarray:
    """Characters from each text's first sentence start to its last sentence end."""
    first = batch.doc_sent_start[:-1]
    last = batch.doc_sent_start[1:] - 1
    has = last >= first
    extent = np.zeros(batch.n_docs, dtype=np.float64)
    extent[has] = batch.sent_end[last[has]] - batch.sent_start[first[has]]
    return extent


def _shift_pairs(table: PassageTable, offset: int) -> PassageTable:
    if offset == 0:
        return table
    return PassageTable(**{**table.__dict__, "pair": table.pair + offset})


def _concat_tables(tables: list[PassageTable]) -> PassageTable:
    if len(tables) == 1:
        return tables[0]
    fields = tables[0].__dict__.keys()
    return PassageTable(
        **{name: np.concatenate([getattr(t, name) for t in tables]) for name in fields}
    )
