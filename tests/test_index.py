"""The persisted n-gram index's files (``index.py``): texts kept compressed in small record
batches, tokens not kept but made again, segment files written beside the store safely."""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pytest

import wiretrace
from wiretrace import store
from wiretrace.engines.local import run_articles
from wiretrace.index import (
    TEXT_BATCH_ROWS,
    StoreIndex,
    open_text_segment,
    segment_dir,
    take_docs,
    take_texts,
    tokenize_texts,
    write_store_with_index,
    write_text_segment,
)
from wiretrace.model import Article, RunParams
from wiretrace.store import load_articles


def made_up_texts(count: int) -> list[str]:
    """Texts of different lengths and scripts, one empty."""
    words = ["harbour", "tariff", "ministre", "Zürich", "北京", "مصرف", "crane", "vote"]
    texts = [
        " ".join(words[(i + k) % len(words)] for k in range(i % 17)) + f" number {i}."
        for i in range(count)
    ]
    texts[5] = ""
    return texts


@pytest.mark.parametrize("compression", [None, "zstd"])
def test_a_text_segment_gives_back_any_texts_in_any_order(tmp_path, compression):
    db = tmp_path / "s.duckdb"
    texts = made_up_texts(3 * TEXT_BATCH_ROWS + 7)  # compressed: several batches, one short
    name = write_text_segment(db, texts, compression=compression)
    segment = open_text_segment(db, name, first=0)
    assert len(segment) == len(texts)
    rng = np.random.default_rng(3)
    positions = rng.integers(0, len(texts), 50)
    positions = np.concatenate([positions, positions[:5], [0, len(texts) - 1, 5]])
    assert segment.take(positions) == [texts[p] for p in positions.tolist()]
    assert segment.texts.to_pylist() == texts
    with pytest.raises(IndexError):
        segment.take(np.array([len(texts)]))


def test_texts_are_found_across_segments(tmp_path):
    db = tmp_path / "s.duckdb"
    first, second = made_up_texts(100), [f"later text {i}" for i in range(30)]
    segments = [
        open_text_segment(db, write_text_segment(db, first), 0),
        open_text_segment(db, write_text_segment(db, second), 100),
    ]
    positions = np.array([129, 0, 99, 100, 42, 101])
    everything = first + second
    assert take_texts(segments, positions) == [everything[p] for p in positions.tolist()]


def test_texts_can_be_stored_compressed(tmp_path):
    db = tmp_path / "s.duckdb"
    texts = ["the port reopened after the strike ended on Tuesday " * 20] * 500
    name = write_text_segment(db, texts, compression="zstd")
    size = (segment_dir(db) / f"{name}.texts.arrow").stat().st_size
    assert size < sum(len(t) for t in texts) / 4


@pytest.mark.parametrize("variants", [None, "default"])
def test_stored_texts_tokenised_again_give_the_runs_tokens(sample_articles, variants):
    """What the index rests on instead of stored tokens: tokenising some stored texts
    alone gives exactly the tokens and sentences the run had for them."""
    params = RunParams(variants=variants)
    result = run_articles(sample_articles, params=params, keep_index=True)
    docs = np.array([3, 4, 11, 20, 36])
    again, _ = tokenize_texts([sample_articles[d].text for d in docs.tolist()], params)
    want = take_docs(result.index.batch, docs)
    for field in dataclasses.fields(want):
        assert np.array_equal(getattr(again, field.name), getattr(want, field.name)), field.name


def test_a_run_keeps_postings_and_texts_but_no_tokens(tmp_path, sample_articles_path):
    db = tmp_path / "s.duckdb"
    wiretrace.run([sample_articles_path], db=db)
    kinds = sorted({p.name.split(".", 1)[1] for p in segment_dir(db).iterdir()})
    assert kinds == ["docs.npy", "hashes.npy", "texts.arrow"]
    stored = load_articles(db)
    with StoreIndex(db) as index:
        positions = np.arange(len(stored))[::-1]
        assert index.texts(positions) == [stored[p].text for p in positions.tolist()]


def test_a_failed_store_write_leaves_the_old_store_and_no_segment_files(
    tmp_path, sample_articles, monkeypatch
):
    db = tmp_path / "s.duckdb"
    old = run_articles(sample_articles[:20], keep_index=True)
    write_store_with_index(db, old, [])
    files_before = sorted(p.name for p in segment_dir(db).iterdir())
    new = run_articles(sample_articles, keep_index=True)

    def failing_write(*args, **kwargs):
        raise OSError("disk full")

    for module, name in ((store, "_write_tables"), (wiretrace.index, "write_text_segment")):
        with monkeypatch.context() as patch:
            patch.setattr(module, name, failing_write)
            with pytest.raises(OSError, match="disk full"):
                write_store_with_index(db, new, [])
        assert sorted(p.name for p in segment_dir(db).iterdir()) == files_before, name
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 20
        with StoreIndex(db) as index:
            assert index.texts(np.array([19])) == [sample_articles[19].text]


@pytest.fixture
def sample_articles(sample_articles_path) -> list[Article]:
    from wiretrace.engines.local import accept_records
    from wiretrace.ingest import read_inputs

    articles, _ = accept_records(read_inputs([sample_articles_path]))
    return articles
