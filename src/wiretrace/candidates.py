"""Which pairs of articles are worth aligning.

An inverted index from shingle hash to the articles that contain it. Shingles in
one article only say nothing; shingles in more than ``max_df`` articles are
boilerplate (credit lines, newsletter prompts, market-report templates) and
would propose pairs by the thousand, so both are dropped before any pair is
formed. A pair is a candidate when it shares at least ``min_shared`` distinct
shingles. This is the "n-gram postings with a frequency cap" scheme of passim
(Smith et al., *Infectious texts*, 2013), done with sorts instead of a hash map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .fingerprint import Shingles


@dataclass(frozen=True)
class CandidatePairs:
    """Pairs ``(a[i], b[i])`` with ``a < b`` (article numbers) sharing ``shared[i]`` shingles."""

    a: np.ndarray
    b: np.ndarray
    shared: np.ndarray

    def __len__(self) -> int:
        return int(self.a.shape[0])


@dataclass(frozen=True)
class Postings:
    """Distinct (shingle, article) entries sorted by shingle, with group boundaries."""

    hashes: np.ndarray
    docs: np.ndarray
    group_start: np.ndarray  # postings of group g: group_start[g]:group_start[g+1]


def build_postings(shingles: Shingles, docs_ascend_per_shingle: bool = False) -> Postings:
    """Sort (shingle, article) entries by shingle and drop repeats within an article.

    A radix pass on the top bits spreads the entries over buckets that are then
    sorted and compacted in parallel: much faster than one global two-key sort.
    ``docs_ascend_per_shingle``: the caller knows that each shingle's entries come in
    ascending article order (true when articles ascend), so they need no sort first.
    """
    hashes = np.ascontiguousarray(shingles.hashes, dtype=np.uint64)
    docs = np.ascontiguousarray(shingles.docs, dtype=np.int64)
    if not docs_ascend_per_shingle and docs.size and np.any(docs[1:] < docs[:-1]):
        # the stable bucket sort below keeps docs ascending within a shingle only if
        # they come in ascending order (they do from ``shingles``)
        order = np.argsort(docs, kind="stable")
        hashes, docs = hashes[order], docs[order]
    bits = int(min(16, max(1, np.log2(max(hashes.shape[0], 2)) - 10)))
    hashes, docs, bucket_start = _scatter_by_top_bits(hashes, docs, bits)
    hashes, docs, group_start = _sort_and_compact_buckets(hashes, docs, bucket_start)
    return Postings(hashes, docs, group_start)


_SCATTER_CHUNKS = 16


@njit(parallel=True, cache=True)
def _scatter_by_top_bits(hashes, docs, bits):
    """Counting sort on the top ``bits`` of each hash, over chunks in parallel; stable (each
    chunk's entries of a bucket follow the previous chunk's), so docs stay ascending."""
    shift = np.uint64(64 - bits)
    n_buckets = 1 << bits
    n = hashes.shape[0]
    step = (n + _SCATTER_CHUNKS - 1) // _SCATTER_CHUNKS
    counts = np.zeros((_SCATTER_CHUNKS, n_buckets), dtype=np.int64)
    for c in prange(_SCATTER_CHUNKS):
        for i in range(c * step, min(n, (c + 1) * step)):
            counts[c, np.int64(hashes[i] >> shift)] += 1
    fill = np.empty((_SCATTER_CHUNKS, n_buckets), dtype=np.int64)
    bucket_start = np.zeros(n_buckets + 1, dtype=np.int64)
    total = 0
    for b in range(n_buckets):
        bucket_start[b] = total
        for c in range(_SCATTER_CHUNKS):
            fill[c, b] = total
            total += counts[c, b]
    bucket_start[n_buckets] = total
    out_hashes = np.empty_like(hashes)
    out_docs = np.empty_like(docs)
    for c in prange(_SCATTER_CHUNKS):
        for i in range(c * step, min(n, (c + 1) * step)):
            b = np.int64(hashes[i] >> shift)
            out_hashes[fill[c, b]] = hashes[i]
            out_docs[fill[c, b]] = docs[i]
            fill[c, b] += 1
    return out_hashes, out_docs, bucket_start


@njit(parallel=True, cache=True)
def _sort_and_compact_buckets(hashes, docs, bucket_start):
    """Sort each bucket by hash (stable: docs ascending within a hash), drop repeated
    (hash, doc) entries, and return the distinct entries with their groups' starts.

    Buckets hold disjoint hash ranges, so each is sorted, counted and copied on its own."""
    n_buckets = bucket_start.shape[0] - 1
    kept = np.zeros(n_buckets + 1, dtype=np.int64)
    groups = np.zeros(n_buckets + 1, dtype=np.int64)
    distinct = np.ones(hashes.shape[0], dtype=np.bool_)
    for b in prange(n_buckets):
        start, end = bucket_start[b], bucket_start[b + 1]
        if end - start > 1:
            order = np.argsort(hashes[start:end], kind="mergesort")
            sorted_hashes = hashes[start:end][order]
            sorted_docs = docs[start:end][order]
            hashes[start:end] = sorted_hashes
            docs[start:end] = sorted_docs
        n_kept = 0
        n_groups = 0
        for i in range(start, end):
            if i > start and hashes[i] == hashes[i - 1]:
                if docs[i] == docs[i - 1]:
                    distinct[i] = False
                    continue
            else:
                n_groups += 1
            n_kept += 1
        kept[b + 1] = n_kept
        groups[b + 1] = n_groups
    kept = np.cumsum(kept)
    groups = np.cumsum(groups)
    out_hashes = np.empty(kept[-1], dtype=hashes.dtype)
    out_docs = np.empty(kept[-1], dtype=docs.dtype)
    group_start = np.empty(groups[-1] + 1, dtype=np.int64)
    group_start[groups[-1]] = kept[-1]
    for b in prange(n_buckets):
        k = kept[b]
        g = groups[b]
        for i in range(bucket_start[b], bucket_start[b + 1]):
            if not distinct[i]:
                continue
            if i == bucket_start[b] or hashes[i] != hashes[i - 1]:
                group_start[g] = k
                g += 1
            out_hashes[k] = hashes[i]
            out_docs[k] = docs[i]
            k += 1
    return out_hashes, out_docs, group_start


def frequent_shingles(postings: Postings, max_df: int) -> np.ndarray:
    """Shingle hashes found in more than ``max_df`` articles (reported as boilerplate)."""
    sizes = np.diff(postings.group_start)
    return postings.hashes[postings.group_start[:-1][sizes > max_df]]


def candidate_pairs(
    shingles: Shingles, max_df: int = 100, min_shared: int = 3, min_share: float = 0.0
) -> CandidatePairs:
    """Article pairs sharing at least ``min_shared`` shingles of document frequency 2..max_df,
    and at least ``min_share`` of the shorter article's shingles.

    The share matters at scale: long articles meet by chance on a few stock
    phrases ("said in a statement on its website"), copies share whole sentences.
    """
    postings = build_postings(shingles)
    keys, counts = shared_counts(postings, max_df)
    return select_candidates(keys, counts, np.bincount(shingles.docs), min_shared, min_share)


def shared_counts(postings: Postings, max_df: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pair keys ``a << 32 | b`` (ascending) and how many shingles of document
    frequency 2..max_df each pair shares.

    Counts over disjoint sets of shingles add up, so partial counts (one per hash
    partition, as the Spark engine makes them) can be summed before ``select_candidates``.
    """
    sizes = np.diff(postings.group_start)
    useful = (sizes >= 2) & (sizes <= max_df)
    starts = postings.group_start[:-1][useful]
    ends = postings.group_start[1:][useful]
    keys = _pair_keys(postings.docs, starts, ends)
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys = _sort_pair_keys(keys, int(postings.docs.max()) + 1)
    boundaries = np.nonzero(np.diff(keys))[0] + 1
    first = np.concatenate(([0], boundaries))
    counts = np.diff(np.concatenate((first, [keys.shape[0]])))
    return keys[first], counts.astype(np.int64)


def select_candidates(
    keys: np.ndarray,
    counts: np.ndarray,
    per_doc: np.ndarray,
    min_shared: int = 3,
    min_share: float = 0.0,
) -> CandidatePairs:
    """The pairs of ``shared_counts`` that share enough: ``min_shared`` shingles and
    ``min_share`` of the shorter article's (``per_doc``: shingles of each article)."""
    keep = counts >= min_shared
    unique_keys, counts = keys[keep], counts[keep]
    a = (unique_keys >> 32).astype(np.int64)
    b = (unique_keys & 0xFFFFFFFF).astype(np.int64)
    if min_share > 0:
        shorter = np.maximum(np.minimum(per_doc[a], per_doc[b]), 1)
        keep = counts >= min_share * shorter
        a, b, counts = a[keep], b[keep], counts[keep]
    return CandidatePairs(a, b, counts.astype(np.int64))


def _sort_pair_keys(keys: np.ndarray, n_docs: int) -> np.ndarray:
    """Sort pair keys (``a << 32 | b``) by bucketing on ``a``, then sorting buckets in parallel."""
    doc_bits = max(int(n_docs - 1).bit_length(), 1)
    bits = min(doc_bits, 12)
    shift = 32 + doc_bits - bits
    ordered, bucket_start = _scatter_keys(keys, shift, bits)
    _sort_key_buckets(ordered, bucket_start)
    return ordered


@njit(cache=True)
def _scatter_keys(keys, shift, bits):
    bucket_start = np.zeros((1 << bits) + 1, dtype=np.int64)
    for i in range(keys.shape[0]):
        bucket_start[(keys[i] >> shift) + 1] += 1
    for b in range(1 << bits):
        bucket_start[b + 1] += bucket_start[b]
    fill = bucket_start[:-1].copy()
    ordered = np.empty_like(keys)
    for i in range(keys.shape[0]):
        b = keys[i] >> shift
        ordered[fill[b]] = keys[i]
        fill[b] += 1
    return ordered, bucket_start


@njit(parallel=True, cache=True)
def _sort_key_buckets(keys, bucket_start):
    for b in prange(bucket_start.shape[0] - 1):
        if bucket_start[b + 1] - bucket_start[b] > 1:
            keys[bucket_start[b] : bucket_start[b + 1]] = np.sort(
                keys[bucket_start[b] : bucket_start[b + 1]]
            )


@njit(cache=True)
def _pair_keys(docs, starts, ends):
    total = 0
    for g in range(starts.shape[0]):
        size = ends[g] - starts[g]
        total += size * (size - 1) // 2
    keys = np.empty(total, dtype=np.int64)
    k = 0
    for g in range(starts.shape[0]):
        for i in range(starts[g], ends[g]):
            high = docs[i] << 32
            for j in range(i + 1, ends[g]):
                keys[k] = high | docs[j]
                k += 1
    return keys


# --- rewritten sentences: MinHash bands over each sentence's content words --------------


@dataclass(frozen=True)
class SentenceBands:
    """LSH settings for the sentence channel (Broder 1997; Indyk & Motwani 1998).

    Each sentence with at least ``min_features`` content words gets ``bands`` band
    hashes of ``rows`` MinHash values each; two sentences with word Jaccard J share
    a band with probability 1 - (1 - J^rows)^bands (J=0.7: 0.94; J=0.5: 0.48; J=0.3: 0.08).
    Band hashes in more than ``max_df`` articles are stock phrasing and ignored.
    """

    bands: int = 10
    rows: int = 4
    min_features: int = 6
    max_df: int = 30


def sentence_band_hashes(
    sent_feat_start: np.ndarray,
    feature_hashes: np.ndarray,
    doc_sent_start: np.ndarray,
    bands: SentenceBands = SentenceBands(),
) -> Shingles:
    """Band hashes of every long enough sentence, with the article each comes from."""
    n_feat = np.diff(sent_feat_start)
    sentences = np.nonzero(n_feat >= bands.min_features)[0]
    sent_doc = np.searchsorted(doc_sent_start, sentences, side="right") - 1
    hashes = _band_hashes(
        feature_hashes, sent_feat_start, sentences.astype(np.int64), bands.bands, bands.rows
    )
    docs = np.repeat(sent_doc.astype(np.int64), bands.bands)
    order = np.argsort(docs, kind="stable")
    return Shingles(hashes[order], docs[order])


@njit(parallel=True, cache=True)
def _band_hashes(features, sent_feat_start, sentences, n_bands, rows):
    out = np.empty(sentences.shape[0] * n_bands, dtype=np.uint64)
    for i in prange(sentences.shape[0]):
        s = sentences[i]
        lo, hi = sent_feat_start[s], sent_feat_start[s + 1]
        for band in range(n_bands):
            combined = np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15)
            for row in range(rows):
                seed = np.uint64(band * rows + row + 1) * np.uint64(0xD6E8FEB86659FD93)
                smallest = np.uint64(0xFFFFFFFFFFFFFFFF)
                for k in range(lo, hi):
                    x = features[k] ^ seed
                    x = (x ^ (x >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
                    x = x ^ (x >> np.uint64(29))
                    if x < smallest:
                        smallest = x
                combined = (combined ^ smallest) * np.uint64(0x100000001B3)
            out[i * n_bands + band] = combined
    return out


def sentence_pairs(band_hashes: Shingles, max_df: int) -> CandidatePairs:
    """Article pairs with at least one sentence pair in a common band."""
    postings = build_postings(band_hashes)
    keys, counts = shared_counts(postings, max_df)
    return select_candidates(keys, counts, np.zeros(0), min_shared=1)


def union_pairs(first: CandidatePairs, second: CandidatePairs) -> CandidatePairs:
    """Pairs in either set, ascending by ``(a, b)``; ``shared`` is taken from ``first``
    (0 for pairs only ``second`` proposes)."""
    keys = np.concatenate((first.a << 32 | first.b, second.a << 32 | second.b))
    shared = np.concatenate((first.shared, np.zeros(len(second), dtype=np.int64)))
    order = np.argsort(keys, kind="stable")
    keys, shared = keys[order], shared[order]
    distinct = np.ones(keys.shape[0], dtype=bool)
    distinct[1:] = keys[1:] != keys[:-1]
    keys, shared = keys[distinct], shared[distinct]
    return CandidatePairs(keys >> 32, keys & 0xFFFFFFFF, shared)
