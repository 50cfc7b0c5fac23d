"""A streamed run (bounded memory) writes exactly the store an in-memory run writes, its
n-gram index included."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

from wiretrace import api
from wiretrace.candidates import SentenceBands
from wiretrace.cli import app
from wiretrace.engines import streamed
from wiretrace.index import INDEX_TABLES, has_index, open_text_segment, segment_dir
from wiretrace.model import RunParams

BENCH_1000 = Path("/work/bench_out/d1000s1/articles.jsonl")


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few articles and pairs, so that a small corpus crosses many of them."""
    monkeypatch.setattr(streamed, "BLOCK_DOCS", 8)
    monkeypatch.setattr(streamed, "BLOCK_PAIRS", 12)
    monkeypatch.setattr(streamed, "_STEP", 4)
    monkeypatch.setattr(streamed, "TEXT_BATCH", 5)


def store_tables(db: Path) -> dict[str, list[tuple]]:
    """Every table of a store, rows in stored order (the index tables' rows sorted: their
    order is not part of the index; ``index_meta`` holds the segments' random names)."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        return {
            name: con.execute(
                f"SELECT * FROM {name}" + (" ORDER BY ALL" if name in INDEX_TABLES else "")
            ).fetchall()
            for name in names
            if name != "index_meta"
        }


def assert_same_store(streamed_db: Path, memory_db: Path) -> None:
    got, want = store_tables(streamed_db), store_tables(memory_db)
    assert sorted(got) == sorted(want)
    for name, rows in want.items():
        assert len(got[name]) == len(rows), name
        assert got[name] == rows, name
    assert index_files(streamed_db) == index_files(memory_db)


def index_files(db: Path) -> dict[str, object] | None:
    """The store's index as its files hold it: the postings segments' bytes (the same
    ``.npy`` files for the same postings), the texts of the text segment, the segments'
    sizes and the format; None without an index."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        if "index_meta" not in tables:
            return None
        meta = dict(con.execute("SELECT key, value FROM index_meta").fetchall())
    folder = segment_dir(db)
    found: dict[str, object] = {"format": meta["format"], "docs": meta["docs"]}
    for key in ("segments", "bands"):
        for k, (name, size) in enumerate(json.loads(meta[key])):
            for part in ("hashes", "docs"):
                found[f"{key}{k}.{part}"] = (folder / f"{name}.{part}.npy").read_bytes()
            found[f"{key}{k}.size"] = size
    for k, (name, first, size) in enumerate(json.loads(meta["texts"])):
        texts = open_text_segment(db, name, first).texts.to_pylist()
        found[f"texts{k}"] = (first, size, texts)
    return found


def run_both(
    inputs, tmp_path: Path, params: RunParams, index: bool = True, **options
) -> tuple[Path, Path]:
    memory, streaming = tmp_path / "memory.duckdb", tmp_path / "stream.duckdb"
    api.run(inputs, db=memory, params=params, index=index, stream=False, **options)
    summary = api.run(inputs, db=streaming, params=params, index=index, stream=True, **options)
    assert summary.streamed
    return streaming, memory


@pytest.mark.parametrize("rewrites", [False, True])
def test_streamed_store_equals_in_memory_store(tmp_path, sample_articles_path, small_blocks,
                                               rewrites):  # fmt: skip
    params = RunParams(sentence_bands=SentenceBands() if rewrites else None)
    streaming, memory = run_both([sample_articles_path], tmp_path, params)
    assert_same_store(streaming, memory)
    tables = store_tables(streaming)
    assert len(tables["links"]) > 40 and len(tables["changes"]) > 100
    assert len(tables["boilerplate"]) > 0
    # the index is there and not trivially equal: postings, pairs, boilerplate flags
    files = index_files(streaming)
    assert files["segments0.size"] > 5000 and (files["bands0.size"] > 1000) == rewrites
    assert len(tables["index_pairs"]) >= len(tables["links"])  # every candidate pair
    assert any(row[-1] for row in tables["index_sentences"])  # some sentence is boilerplate
    assert files["texts0"][2][0] and len(files["texts0"][2]) == 37
    assert has_index(streaming)


def test_streamed_run_without_index_writes_none(tmp_path, sample_articles_path, small_blocks):
    streaming, memory = run_both([sample_articles_path], tmp_path, RunParams(), index=False)
    assert_same_store(streaming, memory)
    assert index_files(streaming) is None and not segment_dir(streaming).exists()
    # a run without the index over a store with one drops its files with it
    api.run([sample_articles_path], db=streaming, stream=True)
    assert has_index(streaming) and any(segment_dir(streaming).iterdir())
    api.run([sample_articles_path], db=streaming, stream=True, index=False)
    assert not has_index(streaming) and list(segment_dir(streaming).iterdir()) == []


def held_out(sample: Path, folder: Path, names: tuple[str, ...]) -> tuple[Path, list[dict]]:
    """The sample without the articles ``names``, and those articles' records."""
    records = [orjson.loads(line) for line in sample.read_bytes().splitlines()]
    source = folder / "kept.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records if r["id"] not in names))
    return source, [r for r in records if r["id"] in names]


HELD_OUT = ("glacier-courier", "surge-ledger", "atlas-heritage")


def test_query_on_a_streamed_store_answers_as_on_an_in_memory_one(tmp_path, sample_articles_path,
                                                                 small_blocks):  # fmt: skip
    source, queries = held_out(sample_articles_path, tmp_path, HELD_OUT)
    streaming, memory = run_both([source], tmp_path, RunParams())
    found = 0
    for record in queries:
        got, want = api.query(record["text"], streaming), api.query(record["text"], memory)
        assert got == want
        found += len(got)
    assert found >= 3
    runner = CliRunner()
    done = runner.invoke(app, ["query", "-", "--db", str(streaming), "--json"],
                         input=queries[0]["text"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert {m["article_id"] for m in json.loads(done.output)} == {
        m.article_id for m in api.query(queries[0]["text"], memory)
    }


@pytest.mark.parametrize("rewrites", [False, True])
def test_add_to_a_streamed_store_is_incremental_and_equals_add_to_an_in_memory_one(
    tmp_path, sample_articles_path, small_blocks, monkeypatch, rewrites
):
    params = RunParams(sentence_bands=SentenceBands() if rewrites else None)
    source, added = held_out(sample_articles_path, tmp_path, HELD_OUT)
    new = tmp_path / "new.jsonl"
    new.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in added))
    streaming, memory = run_both([source], tmp_path, params)

    def no_full_run(*args, **kwargs):
        raise AssertionError("add fell back to a full run")

    with monkeypatch.context() as patch:
        patch.setattr(api, "run", no_full_run)
        summaries = [api.add([new], db=db) for db in (streaming, memory)]
    assert summaries[0].stored == summaries[1].stored == len(HELD_OUT)
    assert 0 < summaries[0].pairs == summaries[1].pairs
    assert_same_store(streaming, memory)
    # and both equal a full run over every article
    full = tmp_path / "full.duckdb"
    api.run([source, new], db=full, params=params, stream=True)
    for db in (streaming, memory):
        got, want = store_tables(db)["links"], store_tables(full)["links"]
        assert sorted(got, key=repr) == sorted(want, key=repr)  # an add appends its rows


@pytest.mark.slow
def test_streamed_store_equals_in_memory_store_on_a_bench_corpus(tmp_path, request, monkeypatch):
    source = BENCH_1000 if BENCH_1000.exists() else request.getfixturevalue("bench_corpus_1000")
    monkeypatch.setattr(streamed, "BLOCK_DOCS", 600)
    monkeypatch.setattr(streamed, "BLOCK_PAIRS", 1500)
    monkeypatch.setattr(streamed, "TEXT_BATCH", 700)
    streaming, memory = run_both([source], tmp_path, RunParams())
    assert_same_store(streaming, memory)
    assert len(store_tables(streaming)["links"]) > 500


def test_streamed_result_without_a_store_holds_the_changes(sample_articles_path, small_blocks):
    memory = api.run([sample_articles_path], stream=False)
    streaming = api.run([sample_articles_path], stream=True)
    assert streaming.result.changes == memory.result.changes and memory.result.changes
    assert (streaming.links, streaming.passages, streaming.families) == (
        memory.links, memory.passages, memory.families,
    )  # fmt: skip
    assert all(a.text == "" for a in streaming.result.articles)  # the texts stayed on disk


def messy_input(tmp_path: Path, sample: Path) -> Path:
    lines = sample.read_bytes().splitlines(keepends=True)
    changed = lines[4].replace(b'"text": "', b'"text": "Changed. ', 1)
    source = tmp_path / "messy.jsonl"
    source.write_bytes(b"".join(lines[:12]) + lines[3] + b"not json\n" + changed + b"{}\n")
    return source


def test_bad_records_are_rejected_with_reasons_as_in_memory(tmp_path, sample_articles_path,
                                                            small_blocks):  # fmt: skip
    source = messy_input(tmp_path, sample_articles_path)
    streaming, memory = run_both([source], tmp_path, RunParams())
    assert_same_store(streaming, memory)
    reasons = [row[1] for row in store_tables(streaming)["rejections"]]
    assert len(reasons) == 4 and sum("duplicate id" in r for r in reasons) == 2


def test_strict_stops_at_the_first_bad_record_and_writes_nothing(tmp_path, sample_articles_path):
    source = messy_input(tmp_path, sample_articles_path)
    db = tmp_path / "strict.duckdb"
    with pytest.raises(ValueError, match="duplicate id"):
        api.run([source], db=db, strict=True, stream=True)
    assert not db.exists() and not segment_dir(db).exists()
    assert list(tmp_path.glob(".strict.duckdb.spill-*")) == []  # the spill is removed


def test_rerun_and_stored_articles_as_in_memory(tmp_path, sample_articles_path, small_blocks):
    lines = sample_articles_path.read_bytes().splitlines(keepends=True)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_bytes(b"".join(lines[:20]))
    changed = lines[2].replace(b'"text": "', b'"text": "Changed. ', 1)
    second.write_bytes(b"".join(lines[15:]) + changed)  # 5 already stored, 1 changed text
    dbs = {}
    for mode in (False, True):
        db = tmp_path / f"{'stream' if mode else 'memory'}.duckdb"
        api.run([first], db=db, stream=mode)
        summary = api.run([second], db=db, stream=mode)
        assert (summary.already_stored, summary.stored, summary.rejected) == (5, 17, 1)
        dbs[mode] = db
    assert_same_store(dbs[True], dbs[False])
    before = store_tables(dbs[True])
    api.run([second], db=dbs[True], stream=True)  # everything is stored already
    assert store_tables(dbs[True]) == before
    assert index_files(dbs[True]) == index_files(dbs[False])
    assert list(tmp_path.glob(".*.spill-*")) == []


def test_automatic_choice_streams_large_inputs(tmp_path, sample_articles_path, monkeypatch):
    size = sample_articles_path.stat().st_size
    assert streamed.input_bytes([sample_articles_path, "-"]) == size
    assert not api.run([sample_articles_path], db=tmp_path / "small.duckdb").streamed
    monkeypatch.setattr(streamed, "STREAM_ABOVE_BYTES", size - 1)
    assert api.run([sample_articles_path], db=tmp_path / "large.duckdb").streamed
    assert not api.run([sample_articles_path], engine="local", stream=False).streamed


def test_cli_stream_option(tmp_path, sample_articles_path):
    runner = CliRunner()
    db = tmp_path / "cli.duckdb"
    done = runner.invoke(app, ["run", str(sample_articles_path), "--db", str(db), "--stream"])
    assert done.exit_code == 0, done.output
    assert db.exists() and has_index(db)
    refused = runner.invoke(
        app, ["run", str(sample_articles_path), "--db", str(db), "--stream", "--engine", "spark"]
    )
    assert refused.exit_code == 2 and "local engine only" in refused.output
