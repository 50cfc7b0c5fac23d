"""Incremental runs (``wiretrace add``): the store equals a full run over the same articles."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest
from conftest import table_rows
from typer.testing import CliRunner

import wiretrace
from wiretrace.api import add
from wiretrace.cli import app
from wiretrace.index import INDEX_TABLES, has_index, segment_dir
from wiretrace.text import body_start, tokenize_batch

# the index's own bookkeeping differs by design between the two ways (segment names,
# tombstones of band entries not merged away yet); everything else must be equal
BOOKKEEPING = {"index_meta", "index_band_removed"}


def store_contents(db) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
    return {t: table_rows(db, t) for t in tables if t not in BOOKKEEPING}


def assert_same_store(full, incremental) -> None:
    want, got = store_contents(full), store_contents(incremental)
    assert sorted(want) == sorted(got)
    for table in want:
        assert got[table] == want[table], f"table {table} differs"


def split_lines(source, cuts: list[int], folder) -> list:
    lines = source.read_bytes().splitlines(keepends=True)
    bounds = [0, *cuts, len(lines)]
    parts = []
    for i in range(len(bounds) - 1):
        part = folder / f"part{i}.jsonl"
        part.write_bytes(b"".join(lines[bounds[i] : bounds[i + 1]]))
        parts.append(part)
    return parts


@pytest.mark.parametrize("cut", [1, 12, 25, 36])
def test_add_equals_a_full_run_on_the_sample_split_in_two(tmp_path, sample_articles_path, cut):
    first, second = split_lines(sample_articles_path, [cut], tmp_path)
    wiretrace.run([first, second], db=tmp_path / "full.duckdb")
    wiretrace.run([first], db=tmp_path / "inc.duckdb")
    summary = add([second], db=tmp_path / "inc.duckdb")
    assert summary.stored == 37 - cut
    assert_same_store(tmp_path / "full.duckdb", tmp_path / "inc.duckdb")


def test_three_adds_with_bad_records_and_duplicates_equal_a_full_run(
    tmp_path, sample_articles_path
):
    lines = sample_articles_path.read_bytes().splitlines(keepends=True)
    parts = [
        b"".join(lines[:10]) + b'{"id": "no-text"}\n',
        b"".join(lines[10:22]) + lines[3] + b"not json\n",
        b"".join(lines[22:]) + lines[25] + lines[12],
    ]
    paths = []
    for i, content in enumerate(parts):
        paths.append(tmp_path / f"p{i}.jsonl")
        paths[-1].write_bytes(content)
    for path in paths:
        wiretrace.run([path], db=tmp_path / "full.duckdb")
    wiretrace.run([paths[0]], db=tmp_path / "inc.duckdb")
    second = add([paths[1]], db=tmp_path / "inc.duckdb")
    third = add([paths[2]], db=tmp_path / "inc.duckdb")
    assert (second.already_stored, second.rejected) == (1, 1)
    assert (third.already_stored, third.rejected) == (1, 1)
    assert_same_store(tmp_path / "full.duckdb", tmp_path / "inc.duckdb")


def test_add_aligns_only_pairs_with_a_new_article(tmp_path, sample_articles_path):
    first, second = split_lines(sample_articles_path, [30], tmp_path)
    full = wiretrace.run([first, second], db=tmp_path / "full.duckdb")
    wiretrace.run([first], db=tmp_path / "inc.duckdb")
    summary = add([second], db=tmp_path / "inc.duckdb")
    ev = full.result.evidence
    with_new = int(((ev.a >= 30) | (ev.b >= 30)).sum())
    # nothing in the sample changes a stored article's boilerplate: only new pairs
    assert 0 < summary.pairs == with_new < full.pairs
    assert summary.links == full.links


def test_adding_the_same_input_again_changes_nothing(tmp_path, sample_articles_path):
    db = tmp_path / "s.duckdb"
    wiretrace.run([sample_articles_path], db=db)
    before = store_contents(db)
    summary = add([sample_articles_path], db=db)
    assert (summary.stored, summary.already_stored, summary.pairs) == (0, 37, 0)
    assert store_contents(db) == before


def test_add_to_a_missing_store_is_a_run(tmp_path, sample_articles_path):
    add([sample_articles_path], db=tmp_path / "new.duckdb")
    wiretrace.run([sample_articles_path], db=tmp_path / "run.duckdb")
    assert has_index(tmp_path / "new.duckdb")
    assert_same_store(tmp_path / "run.duckdb", tmp_path / "new.duckdb")


def test_a_store_without_index_gets_a_full_run(tmp_path, sample_articles_path):
    first, second = split_lines(sample_articles_path, [20], tmp_path)
    wiretrace.run([first, second], db=tmp_path / "full.duckdb")
    db = tmp_path / "old.duckdb"
    wiretrace.run([first], db=db)
    with duckdb.connect(str(db)) as con:
        for table in INDEX_TABLES:
            con.execute(f"DROP TABLE {table}")
    assert not has_index(db)
    add([second], db=db)
    assert has_index(db)
    assert_same_store(tmp_path / "full.duckdb", db)


def test_add_keeps_the_stores_parameters(tmp_path, sample_articles_path):
    first, second = split_lines(sample_articles_path, [20], tmp_path)
    db = tmp_path / "s.duckdb"
    wiretrace.run([first], db=db, params=wiretrace.RunParams(max_df=50))
    with pytest.raises(ValueError, match="other parameters"):
        add([second], db=db, params=wiretrace.RunParams(max_df=80))
    add([second], db=db)  # the store's own max_df
    wiretrace.run(
        [first, second], db=tmp_path / "full.duckdb", params=wiretrace.RunParams(max_df=50)
    )
    assert_same_store(tmp_path / "full.duckdb", db)


def test_unused_segment_files_are_removed(tmp_path, sample_articles_path):
    parts = split_lines(sample_articles_path, [10, 20, 30], tmp_path)
    db = tmp_path / "s.duckdb"
    wiretrace.run([parts[0]], db=db)
    for part in parts[1:]:
        add([part], db=db)
    with duckdb.connect(str(db), read_only=True) as con:
        meta = dict(con.execute("SELECT key, value FROM index_meta").fetchall())
    named = {name for key in ("segments", "texts", "bands") for name in _names(meta[key])}
    on_disk = {p.name.split(".")[0] for p in segment_dir(db).iterdir()}
    assert on_disk == named


def _names(value: str) -> list[str]:
    import json

    return [entry[0] for entry in json.loads(value)]


def test_cli_add_reports_the_new_articles(tmp_path, sample_articles_path):
    first, second = split_lines(sample_articles_path, [30], tmp_path)
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(first), "--db", str(db)]).exit_code == 0
    result = runner.invoke(app, ["add", str(second), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "wiretrace add" in result.output and "pairs aligned" in result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 37


def test_tokenising_does_not_depend_on_the_other_texts_of_a_batch(sample_articles_path):
    """What incremental runs rest on: an article's tokens and sentences are its own."""
    import json

    texts = [json.loads(line)["text"] for line in sample_articles_path.open()]
    starts = [body_start(t) for t in texts]
    whole = tokenize_batch(texts, starts)
    for d in (0, 7, 36):
        alone = tokenize_batch([texts[d]], [starts[d]])
        t0, t1 = whole.doc_tok_start[d], whole.doc_tok_start[d + 1]
        s0, s1 = whole.doc_sent_start[d], whole.doc_sent_start[d + 1]
        assert np.array_equal(alone.tok_hash, whole.tok_hash[t0:t1])
        assert np.array_equal(alone.sent_start, whole.sent_start[s0:s1])
        assert np.array_equal(alone.sent_end, whole.sent_end[s0:s1])


@pytest.mark.slow
@pytest.mark.parametrize("cut", [700, 950])
def test_add_equals_a_full_run_on_a_bench_corpus(tmp_path, bench_corpus_1000, cut):
    first, second = split_lines(bench_corpus_1000, [cut], tmp_path)
    full = wiretrace.run([first, second], db=tmp_path / "full.duckdb")
    wiretrace.run([first], db=tmp_path / "inc.duckdb")
    summary = add([second], db=tmp_path / "inc.duckdb")
    assert full.links > 50 and summary.links == full.links
    assert_same_store(tmp_path / "full.duckdb", tmp_path / "inc.duckdb")


@pytest.mark.parametrize("cut", [9, 30])
def test_add_with_the_sentence_band_channel_equals_a_full_run(tmp_path, sample_articles_path, cut):
    from wiretrace.candidates import SentenceBands

    params = wiretrace.RunParams(sentence_bands=SentenceBands())
    first, second = split_lines(sample_articles_path, [cut], tmp_path)
    full = wiretrace.run([first, second], db=tmp_path / "full.duckdb", params=params)
    wiretrace.run([first], db=tmp_path / "inc.duckdb", params=params)
    add([second], db=tmp_path / "inc.duckdb")
    assert full.pairs > 0
    assert_same_store(tmp_path / "full.duckdb", tmp_path / "inc.duckdb")


def test_cli_add_without_inputs_builds_a_missing_index(tmp_path, sample_articles_path):
    db = tmp_path / "s.duckdb"
    wiretrace.run([sample_articles_path], db=db)
    with duckdb.connect(str(db)) as con:
        for table in INDEX_TABLES:
            con.execute(f"DROP TABLE {table}")
    before = {t: rows for t, rows in store_contents(db).items()}
    result = CliRunner().invoke(app, ["add", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert has_index(db)
    after = store_contents(db)
    assert {t: after[t] for t in before} == before
