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
from numba import njit

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


def build_postings(shingles: Shingles) -> Postings:
    order = np.lexsort((shingles.docs, shingles.hashes))
    hashes = shingles.hashes[order]
    docs = shingles.docs[order]
    distinct = np.ones(hashes.shape[0], dtype=bool)
    distinct[1:] = (hashes[1:] != hashes[:-1]) | (docs[1:] != docs[:-1])
    hashes, docs = hashes[distinct], docs[distinct]
    new_group = np.ones(hashes.shape[0], dtype=bool)
    new_group[1:] = hashes[1:] != hashes[:-1]
    group_start = np.append(np.nonzero(new_group)[0], hashes.shape[0]).astype(np.int64)
    return Postings(hashes, docs, group_start)


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
    sizes = np.diff(postings.group_start)
    useful = (sizes >= 2) & (sizes <= max_df)
    starts = postings.group_start[:-1][useful]
    ends = postings.group_start[1:][useful]
    keys = _pair_keys(postings.docs, starts, ends)
    if keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return CandidatePairs(empty, empty, empty)
    keys.sort()
    boundaries = np.nonzero(np.diff(keys))[0] + 1
    first = np.concatenate(([0], boundaries))
    counts = np.diff(np.concatenate((first, [keys.shape[0]])))
    unique_keys = keys[first]
    keep = counts >= min_shared
    unique_keys, counts = unique_keys[keep], counts[keep]
    a = (unique_keys >> 32).astype(np.int64)
    b = (unique_keys & 0xFFFFFFFF).astype(np.int64)
    if min_share > 0:
        per_doc = np.bincount(shingles.docs)
        shorter = np.maximum(np.minimum(per_doc[a], per_doc[b]), 1)
        keep = counts >= min_share * shorter
        a, b, counts = a[keep], b[keep], counts[keep]
    return CandidatePairs(a, b, counts.astype(np.int64))


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
