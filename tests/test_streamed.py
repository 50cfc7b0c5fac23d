"""A streamed run (bounded memory) writes exactly the store an in-memory run writes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from wiretrace import api
from wiretrace.candidates import SentenceBands
from wiretrace.cli import app
from wiretrace.engines import streamed
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
    """Every table of a store, rows in stored order."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        return {name: con.execute(f"SELECT * FROM {name}").fetchall() for name in names}


def assert_same_store(streamed_db: Path, memory_db: Path) -> None:
    got, want = store_tables(streamed_db), store_tables(memory_db)
    assert sorted(got) == sorted(want)
    for name, rows in want.items():
        assert len(got[name]) == len(rows), name
        assert got[name] == rows, name


def run_both(inputs, tmp_path: Path, params: RunParams, **options) -> tuple[Path, Path]:
    memory, streaming = tmp_path / "memory.duckdb", tmp_path / "stream.duckdb"
    api.run(inputs, db=memory, params=params, index=False, stream=False, **options)
    summary = api.run(inputs, db=streaming, params=params, stream=True, **options)
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
    assert not db.exists()
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
        api.run([first], db=db, stream=mode, index=False)
        summary = api.run([second], db=db, stream=mode, index=False)
        assert (summary.already_stored, summary.stored, summary.rejected) == (5, 17, 1)
        dbs[mode] = db
    assert_same_store(dbs[True], dbs[False])
    before = store_tables(dbs[True])
    api.run([second], db=dbs[True], stream=True)  # everything is stored already
    assert store_tables(dbs[True]) == before
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
    assert "n-gram index" in done.output and db.exists()
    refused = runner.invoke(
        app, ["run", str(sample_articles_path), "--db", str(db), "--stream", "--engine", "spark"]
    )
    assert refused.exit_code == 2 and "local engine only" in refused.output
