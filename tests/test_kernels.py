"""Compiled kernels give what their plain definitions give."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from wiretrace.fingerprint import sentence_features, stopword_hashes
from wiretrace.text import body_start, concat_batches, tokenize_batch

WORDS = [
    "the",
    "bank",
    "said",
    "rates",
    "of",
    "a",
    "rose",
    "Kyiv",
    "中",
    "文",
    "新",
    "闻",
    "。",
    ".",
]
texts_strategy = st.lists(
    st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join), min_size=1, max_size=12
)


def _fields_equal(x, y) -> None:
    for field in dataclasses.fields(x):
        a, b = getattr(x, field.name), getattr(y, field.name)
        assert a.dtype == b.dtype and np.array_equal(a, b), field.name


@settings(max_examples=60, deadline=None)
@given(texts_strategy, st.integers(1, 5))
def test_concatenated_chunks_equal_one_batch(texts, chunk):
    starts = [body_start(t) for t in texts]
    whole = tokenize_batch(texts, starts)
    parts = [
        tokenize_batch(texts[i : i + chunk], starts[i : i + chunk])
        for i in range(0, len(texts), chunk)
    ]
    _fields_equal(whole, concat_batches(parts))


def _reference_features(batch, excluded):
    """Sentence features spelled out per token in Python: the definition the kernel follows."""
    stops = set(stopword_hashes().tolist())
    out = []
    for s in range(batch.sent_start.shape[0]):
        first, end = int(batch.sent_first_tok[s]), int(batch.sent_first_tok[s + 1])
        found = set()
        previous_follows = False
        for t in range(first, end):
            unspaced = bool(batch.tok_unspaced[t])
            follows = (
                unspaced
                and t + 1 < end
                and bool(batch.tok_unspaced[t + 1])
                and batch.tok_end[t] == batch.tok_start[t + 1]
            )
            h = int(batch.tok_hash[t])
            if follows:
                found.add((h * 0x100000001B3 ^ int(batch.tok_hash[t + 1])) % (1 << 64))
            elif unspaced and not previous_follows or not unspaced and h not in stops:
                found.add(h)
            previous_follows = follows
        out.append(sorted(found) if not excluded[s] else [])
    return out


@settings(max_examples=60, deadline=None)
@given(texts_strategy, st.randoms(use_true_random=False))
def test_sentence_features_follow_their_definition(texts, rnd):
    batch = tokenize_batch(texts, [0] * len(texts))
    excluded = np.array([rnd.random() < 0.3 for _ in range(batch.sent_start.shape[0])], bool)
    features = sentence_features(batch, excluded)
    got = [
        features.hashes[features.sent_feat_start[s] : features.sent_feat_start[s + 1]].tolist()
        for s in range(batch.sent_start.shape[0])
    ]
    assert got == _reference_features(batch, excluded)
