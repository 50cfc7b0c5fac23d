"""Query mode: the likely sources of a text that is not in the store.

The text is treated as if it were added to the store as its last article: its
shingles are looked up in the persisted postings (``index.py``), the stored articles
sharing enough of them (the run's candidate rules, document frequencies counting the
query) are aligned with it, and those the run would link to it are returned. Only the
candidates' texts are read from the store (and tokenised again); the corpus is never
rescanned.

Stored articles keep the boilerplate flags of the store; the query's sentences are
flagged by the rules that need no outlet (a sentence in ``any_docs`` articles, a short
one in ``short_docs``), counting the stored articles and the query.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .align import align_pairs, doc_feature_index
from .candidates import select_candidates, sentence_band_hashes
from .engines.local import alignment_params, measure_pairs
from .fingerprint import SentenceKeys, boilerplate_flags, sentence_features, sentence_keys, shingles
from .index import StoreIndex, tokenize_texts
from .model import Passage, QueryMatch, RunParams
from .text import concat_batches


def open_index(db: str | Path) -> StoreIndex:
    """Open a store for repeated queries (``query(text, opened)``); close it when done."""
    return StoreIndex(db)


def query(
    text: str, db: str | Path | StoreIndex, params: RunParams | None = None
) -> list[QueryMatch]:
    """Stored articles that ``text`` likely reuses (or that reuse it), best evidence first.

    ``db`` is a store path or a store opened with ``open_index``. ``params`` default to
    the store's; the shingle size and ``max_df`` must be the store's (the index is built
    with them).
    """
    if isinstance(db, StoreIndex):
        return _query(db, text, params)
    with StoreIndex(db) as index:
        return _query(index, text, params)


def _query(index: StoreIndex, text: str, params: RunParams | None) -> list[QueryMatch]:
    stored = index.params
    params = params or stored
    for name in _INDEX_PARAMS:
        if getattr(params, name) != getattr(stored, name):
            raise ValueError(
                f"the store's n-gram index was built with {name}={getattr(stored, name)!r}; "
                "a query must use the same"
            )
    query_batch, _ = tokenize_texts([text], params)
    query_flags = _query_flags(index, query_batch, params)
    candidates, shared = _candidates(index, query_batch, query_flags, params)
    if candidates.shape[0] == 0:
        return []
    rows = _fetch(index, candidates)
    texts = [r[3] for r in rows] + [text]
    # the candidates tokenised as the run did (the index keeps their texts, not tokens)
    stored_batch, _ = tokenize_texts(texts[:-1], params)
    batch = concat_batches([stored_batch, query_batch])
    boilerplate = np.concatenate([_stored_flags(index, candidates, batch), query_flags])
    features = sentence_features(batch, boilerplate)
    feature_index = doc_feature_index(batch, features)
    # the stored article is side a, as in a run where the query came last
    k = candidates.shape[0]
    a = np.arange(k, dtype=np.int64)
    b = np.full(k, k, dtype=np.int64)
    table = align_pairs(batch, features, feature_index, a, b, alignment_params(params), boilerplate)
    evidence = measure_pairs(batch, a, b, table, params, texts, shared)
    matches = []
    for i in np.nonzero(evidence.reused)[0].tolist():
        passages = [
            Passage(
                int(table.b_start[r]),
                int(table.b_end[r]),
                int(table.a_start[r]),
                int(table.a_end[r]),
                "verbatim" if table.verbatim[r] else "edited",
                round(float(table.similarity[r]), 4),
            )  # fmt: skip
            for r in np.nonzero(table.pair == i)[0].tolist()
        ]
        similarity = float((evidence.weighted_a[i] + evidence.weighted_b[i]) / 2)
        match = QueryMatch(
            article_id=rows[i][0],
            title=rows[i][1],
            outlet=rows[i][2],
            containment_query=float(evidence.containment_b[i]),
            containment_source=float(evidence.containment_a[i]),
            similarity=round(similarity, 4),
            passages=passages,
        )
        matches.append((float(evidence.exact_b[i]), match))
    # best evidence: the share of the query the article explains, character for character
    matches.sort(key=lambda m: (-m[0], -m[1].containment_query, -m[1].similarity, m[1].article_id))
    return [m for _, m in matches]


_INDEX_PARAMS = ("shingle_size", "max_df", "boilerplate", "sentence_bands", "variants")


def _candidates(
    index: StoreIndex, query_batch, query_flags, params: RunParams
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the stored articles the run's candidate rules pair with the query (by
    shared shingles, or by a shared sentence band), and the shingles each shares as the
    run counts them (0 for a pair proposed by bands only)."""
    found = np.zeros(0, dtype=np.int64)
    by_shingles = select_candidates(found, found, found)
    grams = shingles(query_batch, params.shingle_size)
    if grams.hashes.size:
        docs, counts = _shared_with_query(*index.lookup(np.unique(grams.hashes)), params.max_df)
        keys = (docs << 32) | index.n_docs
        per_doc = np.append(index.doc_shingles, grams.hashes.shape[0])
        by_shingles = select_candidates(
            keys, counts, per_doc, params.min_shared_shingles, params.min_shared_share
        )
        found = by_shingles.a
    if params.sentence_bands is not None:
        features = sentence_features(query_batch, query_flags)
        bands = sentence_band_hashes(
            features.sent_feat_start, features.hashes, query_batch.doc_sent_start,
            params.sentence_bands,
        )  # fmt: skip
        if bands.hashes.size:
            docs, _ = _shared_with_query(
                *index.lookup_bands(np.unique(bands.hashes)), params.sentence_bands.max_df
            )
            found = np.union1d(found, docs)
    at = np.searchsorted(by_shingles.a, found)
    hit = at < by_shingles.a.shape[0]
    hit[hit] = by_shingles.a[at[hit]] == found[hit]
    shared = np.zeros(found.shape[0], dtype=np.int64)
    shared[hit] = by_shingles.shared[at[hit]]
    return found, shared


def _shared_with_query(
    hashes: np.ndarray, docs: np.ndarray, max_df: int
) -> tuple[np.ndarray, np.ndarray]:
    """Stored articles sharing hashes with the query, and how many, counting only hashes in
    at most ``max_df`` articles with the query (stored postings sorted by hash)."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    sizes = np.diff(np.r_[starts, hashes.shape[0]])
    useful = np.repeat(sizes + 1 <= max_df, sizes)
    shared, counts = np.unique(docs[useful], return_counts=True)
    return shared.astype(np.int64), counts.astype(np.int64)


def _fetch(index: StoreIndex, positions: np.ndarray) -> list[tuple]:
    """(id, title, outlet, text) of the articles at ``positions`` (texts from the index:
    the store's compressed text column is slow to read a few rows from)."""
    texts = index.texts(positions)
    return [(*info, text) for info, text in zip(index.article_info(positions), texts)]


def _stored_flags(index: StoreIndex, positions: np.ndarray, batch) -> np.ndarray:
    """The stored boilerplate flags of the articles at ``positions``, in order."""
    table = index.sentences()
    lo, hi = table["doc_start"][positions], table["doc_start"][positions + 1]
    if not np.array_equal(hi - lo, np.diff(batch.doc_sent_start)[: len(positions)]):
        raise RuntimeError("the store's sentence index does not match its texts; rebuild it")
    rows = np.concatenate([np.arange(a, b) for a, b in zip(lo.tolist(), hi.tolist())])
    return table["boilerplate"][rows.astype(np.int64)].astype(bool)


def _query_flags(index: StoreIndex, query_batch, params: RunParams) -> np.ndarray:
    keys = sentence_keys(query_batch, first_doc=index.n_docs)
    if keys.hashes.size == 0:
        return np.zeros(0, dtype=bool)
    table = index.sentences()
    distinct = np.unique(keys.hashes)
    lo = np.searchsorted(table["sorted_hash"], distinct, side="left")
    hi = np.searchsorted(table["sorted_hash"], distinct, side="right")
    found = table["by_hash"][np.concatenate([np.arange(a, b) for a, b in zip(lo, hi)])]
    found = found.astype(np.int64)
    credit = np.zeros(keys.hashes.shape[0], bool) if keys.credit is None else keys.credit
    rows = SentenceKeys(
        hashes=np.concatenate([table["hash"][found].astype(np.uint64), keys.hashes]),
        doc=np.concatenate([table["doc"][found].astype(np.int64), keys.doc]),
        from_end=np.concatenate([table["from_end"][found].astype(np.int64), keys.from_end]),
        lengths=np.concatenate([table["length"][found].astype(np.int64), keys.lengths]),
        credit=np.concatenate([table["credit"][found].astype(bool), credit]),
    )
    # no outlet for the query: only the rules that count articles of any outlet apply to it
    flags = boilerplate_flags(rows, np.full(rows.doc.shape[0], -1), params.boilerplate)
    return flags[-keys.hashes.shape[0] :]
