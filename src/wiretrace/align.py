"""Passage alignment between two articles.

News is reused a sentence at a time: outlets keep, trim, reorder, merge and
rewrite the wire's sentences. So alignment works on sentences:

1. For every sentence pair, count shared *features* (content words; character
   bigrams for unspaced scripts) with one merge-join over the two articles'
   sorted features.
2. Match sentences one to one, best Dice score first, among pairs whose overlap
   coefficient (shared / smaller sentence) reaches ``min_overlap``. A sentence
   that a rewrite merged with its neighbour is then attached to the same partner.
3. Grow matched runs into neighbouring sentence pairs that are weaker alone but
   sit between or beside matched ones (short sentences, heavy edits).
4. Sentences matched in the same order in both texts form one passage. A passage
   is *verbatim* when its sentences are one to one and token for token equal
   after normalisation, otherwise *edited*.

The kernel is compiled (numba) and aligns a whole batch of pairs in one call.
The overlap coefficient and sentence-level reuse units follow the PAN text
alignment task (Potthast et al., 2013) and the way news rewrites are annotated in
the METER corpus (Clough et al., 2002).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .fingerprint import SentenceFeatures, sentence_features
from .text import TokenizedBatch, body_start, tokenize_batch


@dataclass(frozen=True)
class AlignParams:
    """Thresholds for sentence matching.

    ``min_shared``: features two sentences must share to be matched on their own (count).
    ``min_overlap``: shared features over the smaller sentence's, for a match (0..1).
    ``merge_overlap``: share of a neighbouring sentence's features found in the
    partner, to count it as merged into the same sentence (0..1).
    ``neighbour_overlap``: overlap that suffices for a sentence pair next to a match (0..1).
    """

    min_shared: int = 3
    min_overlap: float = 0.5
    merge_overlap: float = 0.6
    neighbour_overlap: float = 0.34


@dataclass(frozen=True)
class PassageTable:
    """Aligned passages of many pairs, as parallel arrays (one row a passage).

    ``pair`` indexes the aligned pair list; offsets are characters in each text,
    end exclusive; sentence numbers are local to each text.
    """

    pair: np.ndarray
    a_start: np.ndarray
    a_end: np.ndarray
    b_start: np.ndarray
    b_end: np.ndarray
    verbatim: np.ndarray
    similarity: np.ndarray
    shared: np.ndarray
    a_first_sentence: np.ndarray
    a_last_sentence: np.ndarray
    b_first_sentence: np.ndarray
    b_last_sentence: np.ndarray

    def __len__(self) -> int:
        return int(self.pair.shape[0])


@dataclass(frozen=True)
class DocFeatureIndex:
    """Per text, its sentence features sorted by value, for merge-joins between texts."""

    hashes: np.ndarray
    local_sentence: np.ndarray
    doc_start: np.ndarray


def doc_feature_index(batch: TokenizedBatch, features: SentenceFeatures) -> DocFeatureIndex:
    counts = np.diff(features.sent_feat_start)
    sentence = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    sent_doc = np.repeat(np.arange(batch.n_docs, dtype=np.int64), np.diff(batch.doc_sent_start))
    doc_start = features.sent_feat_start[batch.doc_sent_start].astype(np.int64)
    local = (sentence - batch.doc_sent_start[sent_doc[sentence]]).astype(np.int32)
    hashes, local = _sort_pairs_by_segment(features.hashes.copy(), local, doc_start)
    return DocFeatureIndex(hashes, local, doc_start)


@njit(parallel=True, cache=True)
def _sort_pairs_by_segment(values, payload, starts):
    for i in prange(starts.shape[0] - 1):
        lo, hi = starts[i], starts[i + 1]
        if hi - lo > 1:
            order = np.argsort(values[lo:hi])
            values[lo:hi] = values[lo:hi][order]
            payload[lo:hi] = payload[lo:hi][order]
    return values, payload


def align_pairs(
    batch: TokenizedBatch,
    features: SentenceFeatures,
    index: DocFeatureIndex,
    a: np.ndarray,
    b: np.ndarray,
    params: AlignParams = AlignParams(),
    boilerplate: np.ndarray | None = None,
) -> PassageTable:
    """Align every pair ``(a[i], b[i])`` of texts in ``batch``.

    Sentences flagged in ``boilerplate`` are never part of a passage.
    """
    if boilerplate is None:
        boilerplate = np.zeros(batch.sent_start.shape[0], dtype=bool)
    a = np.ascontiguousarray(a, dtype=np.int64)
    b = np.ascontiguousarray(b, dtype=np.int64)
    sent_counts = np.diff(batch.doc_sent_start)
    capacity = np.zeros(a.shape[0] + 1, dtype=np.int64)
    if a.shape[0]:
        capacity[1:] = np.cumsum(np.minimum(sent_counts[a], sent_counts[b]) + 1)
    out = np.zeros((int(capacity[-1]), 11), dtype=np.int64)
    similarity = np.zeros(int(capacity[-1]), dtype=np.float64)
    written = np.zeros(a.shape[0], dtype=np.int64)
    _align_all(
        a,
        b,
        capacity,
        batch.doc_sent_start,
        features.sent_feat_start,
        index.hashes,
        index.local_sentence,
        index.doc_start,
        batch.sent_first_tok,
        batch.tok_hash,
        batch.sent_start,
        batch.sent_end,
        boilerplate,
        params.min_shared,
        params.min_overlap,
        params.merge_overlap,
        params.neighbour_overlap,
        out,
        similarity,
        written,
    )
    rows = (
        np.concatenate(
            [np.arange(capacity[i], capacity[i] + written[i]) for i in range(a.shape[0])]
        )
        if a.shape[0]
        else np.zeros(0, np.int64)
    )
    rows = rows.astype(np.int64)
    table = out[rows]
    return PassageTable(
        pair=table[:, 0],
        a_start=table[:, 1],
        a_end=table[:, 2],
        b_start=table[:, 3],
        b_end=table[:, 4],
        verbatim=table[:, 5].astype(bool),
        similarity=similarity[rows],
        shared=table[:, 6],
        a_first_sentence=table[:, 7],
        a_last_sentence=table[:, 8],
        b_first_sentence=table[:, 9],
        b_last_sentence=table[:, 10],
    )


@njit(parallel=True, cache=True)
def _align_all(
    a, b, capacity, doc_sent_start, sent_feat_start, feat_hash, feat_sent, feat_doc_start,
    sent_first_tok, tok_hash, sent_start, sent_end, boilerplate,
    min_shared, min_overlap, merge_overlap, neighbour_overlap,
    out, similarity, written,
):  # fmt: skip
    for p in prange(a.shape[0]):
        written[p] = _align_one(
            p, a[p], b[p], capacity[p], doc_sent_start, sent_feat_start, feat_hash, feat_sent,
            feat_doc_start, sent_first_tok, tok_hash, sent_start, sent_end, boilerplate,
            min_shared, min_overlap, merge_overlap, neighbour_overlap, out, similarity,
        )  # fmt: skip


@njit(cache=True)
def _shared_matrix(da, db, n_a, n_b, feat_hash, feat_sent, feat_doc_start):
    shared = np.zeros((n_a, n_b), dtype=np.int32)
    i = feat_doc_start[da]
    i_end = feat_doc_start[da + 1]
    j = feat_doc_start[db]
    j_end = feat_doc_start[db + 1]
    while i < i_end and j < j_end:
        fa = feat_hash[i]
        fb = feat_hash[j]
        if fa < fb:
            i += 1
        elif fa > fb:
            j += 1
        else:
            i2 = i
            while i2 < i_end and feat_hash[i2] == fa:
                i2 += 1
            j2 = j
            while j2 < j_end and feat_hash[j2] == fa:
                j2 += 1
            for x in range(i, i2):
                for y in range(j, j2):
                    shared[feat_sent[x], feat_sent[y]] += 1
            i = i2
            j = j2
    return shared


@njit(cache=True)
def _same_tokens(sa, sb, sent_first_tok, tok_hash):
    la = sent_first_tok[sa + 1] - sent_first_tok[sa]
    lb = sent_first_tok[sb + 1] - sent_first_tok[sb]
    if la != lb:
        return False
    oa = sent_first_tok[sa]
    ob = sent_first_tok[sb]
    for k in range(la):
        if tok_hash[oa + k] != tok_hash[ob + k]:
            return False
    return True


@njit(cache=True)
def _align_one(
    p, da, db, slot, doc_sent_start, sent_feat_start, feat_hash, feat_sent, feat_doc_start,
    sent_first_tok, tok_hash, sent_start, sent_end, boilerplate,
    min_shared, min_overlap, merge_overlap, neighbour_overlap, out, similarity,
):  # fmt: skip
    base_a = doc_sent_start[da]
    base_b = doc_sent_start[db]
    n_a = doc_sent_start[da + 1] - base_a
    n_b = doc_sent_start[db + 1] - base_b
    if n_a == 0 or n_b == 0:
        return 0
    shared = _shared_matrix(da, db, n_a, n_b, feat_hash, feat_sent, feat_doc_start)
    nf_a = np.empty(n_a, dtype=np.int64)
    nf_b = np.empty(n_b, dtype=np.int64)
    for x in range(n_a):
        nf_a[x] = sent_feat_start[base_a + x + 1] - sent_feat_start[base_a + x]
    for y in range(n_b):
        nf_b[y] = sent_feat_start[base_b + y + 1] - sent_feat_start[base_b + y]

    # 1. one-to-one matches, best Dice first
    n_cand = 0
    for x in range(n_a):
        for y in range(n_b):
            if shared[x, y] >= min_shared:
                n_cand += 1
    cand_x = np.empty(n_cand, dtype=np.int64)
    cand_y = np.empty(n_cand, dtype=np.int64)
    cand_score = np.empty(n_cand, dtype=np.float64)
    c = 0
    for x in range(n_a):
        for y in range(n_b):
            s = shared[x, y]
            if s >= min_shared:
                smaller = min(nf_a[x], nf_b[y])
                if s / smaller >= min_overlap:
                    cand_x[c] = x
                    cand_y[c] = y
                    # Dice first; prefer the diagonal on ties so repeated sentences pair in order
                    cand_score[c] = 2.0 * s / (nf_a[x] + nf_b[y]) - 1e-6 * abs(x - y)
                    c += 1
    order = np.argsort(-cand_score[:c], kind="mergesort")
    match_a = np.full(n_a, -1, dtype=np.int64)
    match_b = np.full(n_b, -1, dtype=np.int64)
    pair_x = np.empty(n_a + n_b, dtype=np.int64)
    pair_y = np.empty(n_a + n_b, dtype=np.int64)
    n_pairs = 0
    for k in order:
        x = cand_x[k]
        y = cand_y[k]
        if match_a[x] < 0 and match_b[y] < 0:
            match_a[x] = y
            match_b[y] = x
            pair_x[n_pairs] = x
            pair_y[n_pairs] = y
            n_pairs += 1
    if n_pairs == 0:
        return 0

    # 2. a sentence merged into its neighbour's partner (two source sentences joined by ", and")
    n_one_to_one = n_pairs
    for k in range(n_one_to_one):
        x = pair_x[k]
        y = pair_y[k]
        for dx in (-1, 1):
            nx = x + dx
            if 0 <= nx < n_a and match_a[nx] < 0 and nf_a[nx] > 0:
                if shared[nx, y] >= 2 and shared[nx, y] / nf_a[nx] >= merge_overlap:
                    match_a[nx] = y
                    pair_x[n_pairs] = nx
                    pair_y[n_pairs] = y
                    n_pairs += 1
        for dy in (-1, 1):
            ny = y + dy
            if 0 <= ny < n_b and match_b[ny] < 0 and nf_b[ny] > 0:
                if shared[x, ny] >= 2 and shared[x, ny] / nf_b[ny] >= merge_overlap:
                    match_b[ny] = x
                    pair_x[n_pairs] = x
                    pair_y[n_pairs] = ny
                    n_pairs += 1

    # 3. grow along the diagonal into weaker neighbours
    changed = True
    while changed:
        changed = False
        for k in range(n_pairs):
            for step in (-1, 1):
                nx = pair_x[k] + step
                ny = pair_y[k] + step
                if nx < 0 or ny < 0 or nx >= n_a or ny >= n_b:
                    continue
                if match_a[nx] >= 0 or match_b[ny] >= 0:
                    continue
                if boilerplate[base_a + nx] or boilerplate[base_b + ny]:
                    continue
                accept = False
                if _same_tokens(base_a + nx, base_b + ny, sent_first_tok, tok_hash):
                    accept = sent_first_tok[base_a + nx + 1] > sent_first_tok[base_a + nx]
                elif shared[nx, ny] >= 1:
                    smaller = min(nf_a[nx], nf_b[ny])
                    accept = shared[nx, ny] / smaller >= neighbour_overlap
                if accept:
                    match_a[nx] = ny
                    match_b[ny] = nx
                    pair_x[n_pairs] = nx
                    pair_y[n_pairs] = ny
                    n_pairs += 1
                    changed = True

    # 4. runs that advance together in both texts become passages
    keys = np.empty(n_pairs, dtype=np.int64)
    for k in range(n_pairs):
        keys[k] = pair_x[k] * (n_b + 1) + pair_y[k]
    order = np.argsort(keys)
    written = 0
    k = 0
    while k < n_pairs:
        first = order[k]
        x0 = pair_x[first]
        y0 = pair_y[first]
        x_lo = x0
        x_hi = x0
        y_lo = y0
        y_hi = y0
        verbatim = _same_tokens(base_a + x0, base_b + y0, sent_first_tok, tok_hash)
        shared_sum = shared[x0, y0]
        dice_sum = 2.0 * shared[x0, y0] / max(1, nf_a[x0] + nf_b[y0])
        members = 1
        prev_x = x0
        prev_y = y0
        k += 1
        while k < n_pairs:
            nxt = order[k]
            x = pair_x[nxt]
            y = pair_y[nxt]
            dx = x - prev_x
            dy = y - prev_y
            if not (0 <= dx <= 1 and 0 <= dy <= 1 and dx + dy > 0):
                break
            if (
                dx == 0
                or dy == 0
                or match_a[x] != y
                or match_b[y] != x
                or not _same_tokens(base_a + x, base_b + y, sent_first_tok, tok_hash)
            ):
                verbatim = False
            x_hi = max(x_hi, x)
            y_lo = min(y_lo, y)
            y_hi = max(y_hi, y)
            shared_sum += shared[x, y]
            dice_sum += 2.0 * shared[x, y] / max(1, nf_a[x] + nf_b[y])
            members += 1
            prev_x = x
            prev_y = y
            k += 1
        row = slot + written
        out[row, 0] = p
        out[row, 1] = sent_start[base_a + x_lo]
        out[row, 2] = sent_end[base_a + x_hi]
        out[row, 3] = sent_start[base_b + y_lo]
        out[row, 4] = sent_end[base_b + y_hi]
        out[row, 5] = 1 if verbatim else 0
        out[row, 6] = shared_sum
        out[row, 7] = x_lo
        out[row, 8] = x_hi
        out[row, 9] = y_lo
        out[row, 10] = y_hi
        similarity[row] = 1.0 if verbatim else dice_sum / members
        written += 1
    return written


def align_texts(
    text_a: str, text_b: str, params: AlignParams = AlignParams(), variants=None
) -> tuple[TokenizedBatch, PassageTable]:
    """Align two texts directly (no candidate stage).

    ``variants``: rules (``variants.load_variants``) applied to the tokens first, if given.
    """
    batch = tokenize_batch([text_a, text_b], [body_start(text_a), body_start(text_b)])
    if variants is not None:
        from .variants import apply_variants

        batch = apply_variants(batch, [text_a, text_b], variants)
    features = sentence_features(batch)
    index = doc_feature_index(batch, features)
    table = align_pairs(batch, features, index, np.array([0]), np.array([1]), params)
    return batch, table
