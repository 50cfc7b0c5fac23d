"""Candidate pairs from the shingle index: document-frequency cap and minimum overlap."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from wiretrace.candidates import build_postings, candidate_pairs, frequent_shingles
from wiretrace.fingerprint import Shingles, shingles
from wiretrace.text import tokenize_batch


def make_shingles(entries: list[tuple[int, int]]) -> Shingles:
    """Shingles from (hash, doc) entries (any further column: running numbers)."""
    columns = {
        "hashes": np.array([h for h, _ in entries], dtype=np.uint64),
        "docs": np.array([d for _, d in entries], dtype=np.int64),
    }
    running = np.arange(len(entries), dtype=np.int64)
    return Shingles(**{f.name: columns.get(f.name, running) for f in dataclasses.fields(Shingles)})


def pairs_of(result) -> dict[tuple[int, int], int]:
    return {(int(a), int(b)): int(s) for a, b, s in zip(result.a, result.b, result.shared)}


def test_pairs_share_distinct_shingles():
    grams = make_shingles([(11, 0), (12, 0), (13, 0), (11, 1), (12, 1), (13, 2), (99, 3)])
    assert pairs_of(candidate_pairs(grams, max_df=10, min_shared=1)) == {
        (0, 1): 2,
        (0, 2): 1,
    }
    assert pairs_of(candidate_pairs(grams, max_df=10, min_shared=2)) == {(0, 1): 2}
    assert pairs_of(candidate_pairs(grams, max_df=10, min_shared=3)) == {}


def test_repeated_shingle_counts_once():
    # doc 0 and doc 1 both contain shingle 7 three times: one shared shingle, not nine
    grams = make_shingles([(7, 0), (7, 0), (7, 0), (7, 1), (7, 1), (7, 1)])
    assert pairs_of(candidate_pairs(grams, max_df=10, min_shared=1)) == {(0, 1): 1}
    assert len(candidate_pairs(grams, max_df=10, min_shared=2)) == 0


def test_shingle_in_more_than_max_df_documents_proposes_no_pair():
    common = [(5, d) for d in range(4)]  # in 4 documents
    rare = [(8, 0), (8, 1), (9, 0), (9, 1)]  # docs 0 and 1 share two rare shingles
    grams = make_shingles(common + rare)
    assert pairs_of(candidate_pairs(grams, max_df=3, min_shared=1)) == {(0, 1): 2}
    # at max_df=4 the common shingle counts: every pair of the 4 documents shares it
    assert pairs_of(candidate_pairs(grams, max_df=4, min_shared=1)) == {
        (0, 1): 3,
        (0, 2): 1,
        (0, 3): 1,
        (1, 2): 1,
        (1, 3): 1,
        (2, 3): 1,
    }
    frequent = frequent_shingles(build_postings(grams), max_df=3)
    assert frequent.tolist() == [5]


def test_pairs_are_ordered_and_unique():
    rng = np.random.default_rng(3)
    entries = [(int(h), int(d)) for h, d in zip(rng.integers(0, 30, 400), rng.integers(0, 12, 400))]
    result = candidate_pairs(make_shingles(entries), max_df=100, min_shared=1)
    keys = list(zip(result.a.tolist(), result.b.tolist()))
    assert all(a < b for a, b in keys)
    assert len(set(keys)) == len(keys)
    # every count equals the number of distinct hashes the two documents share
    by_doc: dict[int, set[int]] = {}
    for h, d in entries:
        by_doc.setdefault(d, set()).add(h)
    for (a, b), shared in zip(keys, result.shared.tolist()):
        assert shared == len(by_doc[a] & by_doc[b])


def test_no_shingles_no_pairs():
    result = candidate_pairs(make_shingles([]), max_df=10, min_shared=1)
    assert len(result) == 0


def test_candidates_from_real_texts():
    wire = (
        "Flood barriers were raised along the Harwick waterfront on Tuesday as the river reached "
        "its highest level in twelve years, the Environment Office said."
    )
    copy = "HARWICK \u2014 " + wire + " Shops on Quay Street moved their stock upstairs."
    unrelated = "A new bakery opened on Mill Lane on Saturday and queues formed before dawn."
    batch = tokenize_batch([wire, unrelated, copy])
    result = candidate_pairs(shingles(batch, 5), max_df=100, min_shared=2)
    assert list(zip(result.a.tolist(), result.b.tolist())) == [(0, 2)]
    assert result.shared[0] >= 15


@pytest.mark.parametrize("max_df", [1, 2])
def test_max_df_also_applies_to_real_texts(max_df):
    line = "Sign up for our weekly newsletter to get the best local stories in your inbox."
    texts = [f"Story {word} begins differently. " + line for word in ("one", "two", "three")]
    batch = tokenize_batch(texts)
    assert len(candidate_pairs(shingles(batch, 5), max_df=max_df, min_shared=1)) == 0
    assert len(candidate_pairs(shingles(batch, 5), max_df=3, min_shared=1)) == 3


# --- the bucketed sort and the sentence channel ----------------------------------------


def test_bucketed_postings_equal_a_plain_two_key_sort():
    rng = np.random.default_rng(11)
    hashes = rng.integers(0, 2**62, 5000, dtype=np.int64).astype(np.uint64)
    hashes[::7] = hashes[3]  # repeats within and across documents
    docs = np.sort(rng.integers(0, 300, 5000))
    postings = build_postings(Shingles(hashes, docs))
    order = np.lexsort((docs, hashes))
    expected = sorted(set(zip(hashes[order].tolist(), docs[order].tolist())))
    assert list(zip(postings.hashes.tolist(), postings.docs.tolist())) == expected


def _sentence_channel_pairs(texts: list[str], bands=None):
    from wiretrace.candidates import SentenceBands, sentence_band_hashes, sentence_pairs
    from wiretrace.fingerprint import sentence_features

    bands = bands or SentenceBands()
    batch = tokenize_batch(texts)
    features = sentence_features(batch)
    grams = sentence_band_hashes(
        features.sent_feat_start, features.hashes, batch.doc_sent_start, bands
    )
    return pairs_of(sentence_pairs(grams, bands.max_df))


ORIGINAL = (
    "The regional water authority approved a plan on Tuesday to build two desalination "
    "plants near the northern harbour at a cost of 410 million euros. Work starts in spring."
)
REWRITE = (
    "Two desalination plants costing 410 million euros will be built near the northern "
    "harbour under a plan the regional water authority approved on Tuesday. Locals cheered."
)
OTHER = (
    "A ferry company added three crossings a day to the island route for the summer. "
    "Tickets go on sale next week, the company said in a statement on its website."
)


def test_sentence_channel_finds_a_reordered_rewrite_that_shares_no_long_ngram():
    grams = shingles(tokenize_batch([ORIGINAL, REWRITE]), 8)
    assert len(candidate_pairs(grams, min_shared=1)) == 0
    assert (0, 1) in _sentence_channel_pairs([ORIGINAL, REWRITE, OTHER])
    assert (0, 2) not in _sentence_channel_pairs([ORIGINAL, REWRITE, OTHER])


def test_union_pairs_keeps_ngram_counts_and_adds_sentence_pairs():
    from wiretrace.candidates import CandidatePairs, union_pairs

    first = CandidatePairs(np.array([0, 1]), np.array([2, 3]), np.array([5, 7]))
    second = CandidatePairs(np.array([0, 0]), np.array([1, 2]), np.array([1, 1]))
    merged = union_pairs(first, second)
    assert pairs_of(merged) == {(0, 1): 0, (0, 2): 5, (1, 3): 7}
