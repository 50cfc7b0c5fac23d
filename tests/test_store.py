"""The DuckDB store: schema, accounting of records, extending a store, round trips."""

from __future__ import annotations

import pytest
from conftest import table_columns, table_rows, write_jsonl

import wiretrace
from wiretrace.store import connect, load_articles, table_counts

EXPECTED_COLUMNS = {
    "articles": {
        "position", "id", "outlet", "title", "published_at", "published_utc", "time_precision",
        "time_problem", "url", "byline", "wire", "family", "parent", "root", "parent_score",
        "parent_reason", "body_start", "text", "metadata", "origin",
    },
    "links": {
        "source", "derivative", "containment_source", "containment_derivative", "passages",
        "direction_reason",
    },
    "passages": {"src", "dst", "src_start", "src_end", "dst_start", "dst_end", "kind", "similarity"},
    "rejections": {"origin", "reason", "record_id"},
    "families": {"family", "size"},
    "run": {"key", "value"},
}  # fmt: skip


@pytest.fixture(scope="module")
def textdir_store(tmp_path_factory, fixtures_dir):
    db = tmp_path_factory.mktemp("textdir") / "ferry.duckdb"
    summary = wiretrace.run([fixtures_dir / "textdir"], db=db)
    return summary, db


def rows_as_dicts(db, sql: str) -> list[dict]:
    with connect(db) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.mark.parametrize("table", sorted(EXPECTED_COLUMNS))
def test_tables_have_the_expected_columns(textdir_store, table):
    _, db = textdir_store
    assert EXPECTED_COLUMNS[table] <= set(table_columns(db, table))


def test_textdir_store_contents(textdir_store):
    summary, db = textdir_store
    sql = "SELECT id, family, parent, root, text, time_precision FROM articles"
    articles = {r["id"]: r for r in rows_as_dicts(db, sql)}
    assert sorted(articles) == [
        "001_ferry_original", "002_ferry_rewrite", "003_orchard_unrelated", "004_ferry_duplicate",
    ]  # fmt: skip
    ferry = {"001_ferry_original", "002_ferry_rewrite", "004_ferry_duplicate"}
    assert len({articles[a]["family"] for a in ferry}) == 1
    assert articles["003_orchard_unrelated"]["family"] != articles["001_ferry_original"]["family"]
    # the duplicate is dated two days after the original
    assert articles["004_ferry_duplicate"]["parent"] == "001_ferry_original"
    assert articles["001_ferry_original"]["parent"] is None
    assert articles["002_ferry_rewrite"]["root"] == "001_ferry_original"
    assert articles["001_ferry_original"]["time_precision"] == "day"
    assert articles["002_ferry_rewrite"]["time_precision"] == "none"
    assert summary.families == 2


def test_store_is_internally_consistent(textdir_store):
    _, db = textdir_store
    articles = {
        r["id"]: r for r in rows_as_dicts(db, "SELECT id, family, parent, root, text FROM articles")
    }
    for row in articles.values():
        if row["parent"] is not None:
            assert articles[row["parent"]]["family"] == row["family"]
        assert articles[row["root"]]["family"] == row["family"]
    sizes = rows_as_dicts(db, "SELECT family, size FROM families")
    assert sum(r["size"] for r in sizes) == len(articles)
    for p in rows_as_dicts(db, "SELECT * FROM passages"):
        assert 0 <= p["src_start"] < p["src_end"] <= len(articles[p["src"]]["text"])
        assert 0 <= p["dst_start"] < p["dst_end"] <= len(articles[p["dst"]]["text"])
        assert p["kind"] in ("verbatim", "edited")
    for link in rows_as_dicts(db, "SELECT * FROM links"):
        assert articles[link["source"]]["family"] == articles[link["derivative"]]["family"]
        assert 0 <= link["containment_source"] <= 1 and 0 <= link["containment_derivative"] <= 1


def test_bad_fixture_read_equals_stored_plus_rejected(tmp_path, fixtures_dir):
    db = tmp_path / "bad.duckdb"
    path = fixtures_dir / "bad" / "bad.jsonl"
    summary = wiretrace.run([path], db=db)
    assert summary.read == 9
    assert summary.read == summary.stored + summary.rejected
    assert (summary.stored, summary.rejected) == (3, 6)
    counts = table_counts(db)
    assert counts["articles"] == 3 and counts["rejections"] == 6
    origins = sorted(r["origin"] for r in rows_as_dicts(db, "SELECT origin FROM rejections"))
    assert origins == sorted(f"{path}:{n}" for n in (2, 4, 5, 6, 7, 9))
    precision = dict(table_rows(db, "(SELECT id, time_precision FROM articles)"))
    assert precision == {"ok-1": "second", "ok-3": "day", "ok-8": "none"}


def test_store_extended_with_another_input_keeps_earlier_articles(tmp_path, fixtures_dir):
    db = tmp_path / "grow.duckdb"
    bad = fixtures_dir / "bad" / "bad.jsonl"
    wiretrace.run([bad], db=db)
    before = {a.id: a for a in load_articles(db)}
    second = wiretrace.run([fixtures_dir / "textdir"], db=db)
    assert (second.stored, second.already_stored, second.rejected) == (4, 0, 0)
    after = {a.id: a for a in load_articles(db)}
    assert set(after) == set(before) | {
        "001_ferry_original", "002_ferry_rewrite", "003_orchard_unrelated", "004_ferry_duplicate",
    }  # fmt: skip
    for article_id, article in before.items():
        assert after[article_id] == article
    # the same file once more: nothing new, and the clashing id of line 9 is still refused
    third = wiretrace.run([bad], db=db)
    assert third.stored == 0 and third.already_stored == 3
    assert table_counts(db)["articles"] == 7
    reasons = [r.reason for r in third.rejections if r.origin == f"{bad}:9"]
    assert len(reasons) == 1 and "ok-1" in reasons[0]


def test_articles_round_trip_through_the_store(tmp_path):
    record = {
        "id": "round-1",
        "text": "The harbour wall held overnight.\n\nNo homes were flooded.",
        "outlet": "Quay Post",
        "title": "Wall holds",
        "published_at": "2026-03-14T08:00:00+01:00",
        "url": "https://quay.example/1",
        "byline": "Ilse Moran",
        "language": "en",
        "tags": ["weather"],
    }
    path = write_jsonl(tmp_path / "one.jsonl", [record])
    db = tmp_path / "one.duckdb"
    wiretrace.run([path], db=db)
    (article,) = load_articles(db)
    assert article.id == "round-1" and article.text == record["text"]
    assert (article.outlet, article.title, article.url, article.byline) == (
        "Quay Post", "Wall holds", "https://quay.example/1", "Ilse Moran",
    )  # fmt: skip
    assert article.published_at == "2026-03-14T08:00:00+01:00"
    assert article.metadata == {"language": "en", "tags": ["weather"]}
    assert article.origin == f"{path}:1"
    utc = table_rows(db, "(SELECT published_utc FROM articles)")[0][0]
    assert utc.startswith("2026-03-14 07:00:00")


def test_write_leaves_no_temporary_files(tmp_path, fixtures_dir):
    db = tmp_path / "clean.duckdb"
    wiretrace.run([fixtures_dir / "textdir"], db=db)
    wiretrace.run([fixtures_dir / "textdir"], db=db)
    # beside the store: its n-gram index (index.py), with no leftovers in it either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean.duckdb", "clean.duckdb.ngrams"]
    assert not [p for p in (tmp_path / "clean.duckdb.ngrams").iterdir() if p.name.startswith(".")]


def test_missing_store(tmp_path):
    assert load_articles(tmp_path / "none.duckdb") == []
    with pytest.raises(FileNotFoundError):
        connect(tmp_path / "none.duckdb")
