"""Query mode: the likely sources of a text not in the store, from the persisted index."""

from __future__ import annotations

import json

import duckdb
import orjson
import pytest
from typer.testing import CliRunner

import wiretrace
from wiretrace.api import add, open_store, query
from wiretrace.cli import app
from wiretrace.index import INDEX_TABLES, IndexMissing
from wiretrace.model import QueryMatch

HELD_OUT = ("glacier-courier", "surge-ledger", "atlas-heritage")


@pytest.fixture(scope="module")
def held_out_store(tmp_path_factory, sample_articles_path):
    """The sample corpus without three articles (which are then queried)."""
    folder = tmp_path_factory.mktemp("query")
    records = [json.loads(line) for line in sample_articles_path.open(encoding="utf-8")]
    kept = [r for r in records if r["id"] not in HELD_OUT]
    source = folder / "kept.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in kept))
    db = folder / "kept.duckdb"
    wiretrace.run([source], db=db)
    return db, {r["id"]: r for r in records}


def test_a_held_out_copy_finds_its_family(held_out_store, sample_truth):
    db, records = held_out_store
    family = _family_of("glacier-courier", sample_truth)
    matches = query(records["glacier-courier"]["text"], db)
    assert matches and all(isinstance(m, QueryMatch) for m in matches)
    found = {m.article_id for m in matches}
    assert found <= family and len(found) >= 2


def _family_of(article_id: str, truth: dict) -> set[str]:
    for members in _families(truth):
        if article_id in members:
            return set(members) - {article_id}
    raise AssertionError(f"{article_id} not in the truth file")


def _families(truth: dict) -> list[list[str]]:
    families = truth["families"]
    if isinstance(families, dict):
        groups: dict[str, list[str]] = {}
        for article, family in families.items():
            groups.setdefault(family, []).append(article)
        return list(groups.values())
    return [f["members"] if isinstance(f, dict) else f for f in families]


def test_matches_come_best_first_with_passages_that_point_into_both_texts(held_out_store):
    db, records = held_out_store
    text = records["glacier-courier"]["text"]
    matches = query(text, db)
    shares = [m.containment_query for m in matches]
    assert shares[0] == max(shares)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = dict(con.execute("SELECT id, text FROM articles").fetchall())
    for match in matches:
        assert 0 < match.containment_query <= 1 and 0 < match.containment_source <= 1
        assert 0 < match.similarity <= 1 and match.passages
        for p in match.passages:
            assert 0 <= p.a_start < p.a_end <= len(text)
            assert 0 <= p.b_start < p.b_end <= len(stored[match.article_id])
            query_words = set(p.a_text(text).lower().split())
            stored_words = set(p.b_text(stored[match.article_id]).lower().split())
            assert len(query_words & stored_words) >= 0.3 * len(query_words)


def test_query_agrees_with_adding_the_text(tmp_path, held_out_store):
    """The matches are the links an add of the text (without metadata) would make."""
    db, records = held_out_store
    text = records["glacier-courier"]["text"]
    matches = query(text, db)
    copy = tmp_path / "copy.duckdb"
    for suffix in ("", ".ngrams"):
        source = db.with_name(db.name + suffix)
        target = copy.with_name(copy.name + suffix)
        if source.is_dir():
            target.mkdir()
            for f in source.iterdir():
                (target / f.name).write_bytes(f.read_bytes())
        else:
            target.write_bytes(source.read_bytes())
    new = tmp_path / "new.jsonl"
    new.write_bytes(orjson.dumps({"id": "the-query", "text": text}) + b"\n")
    add([new], db=copy)
    with duckdb.connect(str(copy), read_only=True) as con:
        links = con.execute(
            "SELECT CASE WHEN source = 'the-query' THEN derivative ELSE source END, "
            "CASE WHEN source = 'the-query' THEN containment_source "
            "ELSE containment_derivative END FROM links "
            "WHERE source = 'the-query' OR derivative = 'the-query'"
        ).fetchall()
    assert links
    assert {m.article_id: round(m.containment_query, 4) for m in matches} == dict(links)


def test_an_unrelated_text_has_no_source(held_out_store):
    db, _ = held_out_store
    text = (
        "The village choir rehearsed a new hymn on Tuesday evening. Members said the "
        "arrangement, written by a retired organist, took three months to learn."
    )
    assert query(text, db) == []
    assert query("", db) == []


def test_an_open_store_answers_many_queries(held_out_store):
    db, records = held_out_store
    with open_store(db) as opened:
        first = [query(records[i]["text"], opened) for i in HELD_OUT]
    assert first == [query(records[i]["text"], db) for i in HELD_OUT]
    assert all(first)


def test_query_needs_the_index_and_the_stores_index_parameters(tmp_path, held_out_store):
    db, records = held_out_store
    with pytest.raises(ValueError, match="max_df"):
        query(records["glacier-courier"]["text"], db, wiretrace.RunParams(max_df=7))
    bare = tmp_path / "bare.duckdb"
    bare.write_bytes(db.read_bytes())
    with duckdb.connect(str(bare)) as con:
        for table in INDEX_TABLES:
            con.execute(f"DROP TABLE {table}")
    with pytest.raises(IndexMissing):
        query(records["glacier-courier"]["text"], bare)
    result = CliRunner().invoke(app, ["query", "-", "--db", str(bare)], input="some text")
    assert result.exit_code == 2 and "index" in result.output


def test_cli_query_from_a_file_and_from_stdin(tmp_path, held_out_store):
    db, records = held_out_store
    text = records["atlas-heritage"]["text"]
    path = tmp_path / "q.txt"
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["query", str(path), "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    as_json = runner.invoke(app, ["query", "-", "--db", str(db), "--json"], input=text)
    assert as_json.exit_code == 0, as_json.output
    found = json.loads(as_json.output)
    assert [m["article_id"] for m in found] == [m.article_id for m in query(text, db)]
    assert found[0]["article_id"] in shown.output
    assert set(found[0]) == {
        "article_id", "title", "outlet", "containment_query", "containment_source",
        "similarity", "passages",
    }  # fmt: skip
    missing = runner.invoke(app, ["query", str(tmp_path / "nope.txt"), "--db", str(db)])
    assert missing.exit_code == 2
