"""Bounded-memory fingerprinting finds exactly the local engine's candidate pairs."""

from __future__ import annotations

import numpy as np
import pytest

from wiretrace.candidates import SentenceBands
from wiretrace.engines.local import accept_records, run_articles
from wiretrace.ingest import read_inputs
from wiretrace.model import RunParams
from wiretrace.stream import fingerprint_corpus


@pytest.mark.parametrize("bands", [False, True])
def test_streamed_candidates_equal_the_local_engines(tmp_path, sample_articles_path, bands):
    params = RunParams(sentence_bands=SentenceBands() if bands else None)
    articles, rejections = accept_records(read_inputs([sample_articles_path]))
    local = run_articles(articles, rejections, params, keep_index=True)
    corpus, pairs = fingerprint_corpus(
        read_inputs([sample_articles_path]), params, tmp_path / "spill", batch_size=7
    )
    assert corpus.n_docs == len(articles) and corpus.ids == [a.id for a in articles]
    assert np.array_equal(pairs.a, local.evidence.a) and np.array_equal(pairs.b, local.evidence.b)
    assert np.array_equal(pairs.shared, local.index.pair_shared)
    assert np.array_equal(corpus.doc_shingles, local.index.doc_shingles)
    assert len(pairs) > 40


def test_streaming_accounts_for_every_record_as_a_run_does(tmp_path, sample_articles_path):
    lines = sample_articles_path.read_bytes().splitlines(keepends=True)
    source = tmp_path / "messy.jsonl"
    changed = lines[4].replace(b'"text": "', b'"text": "Changed. ', 1)
    source.write_bytes(b"".join(lines[:10]) + lines[3] + b"not json\n" + changed)
    _, want = accept_records(read_inputs([source]))
    corpus, _ = fingerprint_corpus(read_inputs([source]), RunParams(), tmp_path / "spill")
    assert corpus.rejections == want and len(want) == 3
    with pytest.raises(ValueError, match="duplicate id"):
        fingerprint_corpus(read_inputs([source]), RunParams(), tmp_path / "strict", strict=True)
