"""End to end through the command line (typer's CliRunner on wiretrace.cli.app)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from wiretrace.cli import app
from wiretrace.store import load_articles, table_counts

# Rich wraps at the terminal width; a wide one keeps every message on one line.
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args):
    return runner.invoke(app, [str(a) for a in args], env=WIDE)


def has(output: str, expected: str) -> bool:
    """``expected`` in ``output``, wherever Rich wrapped the lines."""
    return "".join(expected.split()) in "".join(output.split())


@pytest.fixture(scope="module")
def ferry_db(tmp_path_factory, fixtures_dir) -> Path:
    db = tmp_path_factory.mktemp("cli") / "ferry.duckdb"
    result = CliRunner().invoke(
        app, ["run", str(fixtures_dir / "textdir"), "--db", str(db)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    return db


def read_jsonl(path: Path) -> list[dict]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


# --- run -----------------------------------------------------------------------------------


def test_run_prints_a_summary_with_counts(runner, tmp_path, fixtures_dir):
    db = tmp_path / "bad.duckdb"
    result = invoke(runner, "run", fixtures_dir / "bad" / "bad.jsonl", "--db", db)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"records read\W+9\b", out)
    assert re.search(r"stored \(new\)\W+3\b", out)
    assert re.search(r"rejected\W+6\b", out)
    # each rejection is shown with its file and line
    for line in (2, 4, 5, 6, 7, 9):
        assert f"bad.jsonl:{line}" in result.output
    assert table_counts(db)["articles"] == 3


def test_run_writes_rejects_file(runner, tmp_path, fixtures_dir):
    rejects = tmp_path / "rejects.jsonl"
    bad = fixtures_dir / "bad"
    result = invoke(
        runner, "run", bad / "bad.jsonl", bad / "binary.txt", "--db", tmp_path / "x.duckdb",
        "--rejects", rejects,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = read_jsonl(rejects)
    assert len(rows) == 7  # six in bad.jsonl and binary.txt
    assert all({"origin", "reason"} <= set(r) for r in rows)
    assert any(r["origin"].endswith("binary.txt") for r in rows)


def test_run_strict_stops_at_the_first_bad_record(runner, tmp_path, fixtures_dir):
    db = tmp_path / "strict.duckdb"
    result = invoke(runner, "run", fixtures_dir / "bad" / "bad.jsonl", "--db", db, "--strict")
    assert result.exit_code != 0
    assert has(result.output, "bad.jsonl:2")
    assert "json" in result.output.lower()
    assert not db.exists()


def test_run_strict_names_a_binary_file(runner, tmp_path, fixtures_dir):
    result = invoke(
        runner,
        "run",
        fixtures_dir / "bad" / "binary.txt",
        "--db",
        tmp_path / "s.duckdb",
        "--strict",
    )
    assert result.exit_code != 0
    assert "binary.txt" in result.output


def test_run_twice_reports_already_stored(runner, tmp_path, fixtures_dir):
    db = tmp_path / "twice.duckdb"
    assert invoke(runner, "run", fixtures_dir / "textdir", "--db", db).exit_code == 0
    result = invoke(runner, "run", fixtures_dir / "textdir", "--db", db)
    assert result.exit_code == 0
    assert re.search(r"already stored\W+4\b", result.stdout)
    assert re.search(r"stored \(new\)\W+0\b", result.stdout)


# --- compare -------------------------------------------------------------------------------


def test_compare_prints_passages_and_likely_source(runner, fixtures_dir):
    a = fixtures_dir / "textdir" / "001_ferry_original.txt"
    b = fixtures_dir / "textdir" / "002_ferry_rewrite.txt"
    result = invoke(runner, "compare", a, b)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert has(out, "likely source: A (001_ferry_original.txt)")
    assert has(out, "reused: yes")
    # passages are shown side by side, with their offsets and kind
    assert re.search(r"\d+-\d+", out)
    assert "edited" in out
    assert "Safety" in out and "Reyes" in out


def test_compare_unrelated_says_no_reuse(runner, fixtures_dir):
    a = fixtures_dir / "textdir" / "001_ferry_original.txt"
    b = fixtures_dir / "textdir" / "003_orchard_unrelated.txt"
    result = invoke(runner, "compare", a, b)
    assert result.exit_code == 0, result.output
    assert has(result.stdout, "reused: no")
    assert has(result.stdout, "likely source: undetermined")


def test_compare_json(runner, fixtures_dir):
    a = fixtures_dir / "textdir" / "001_ferry_original.txt"
    b = fixtures_dir / "textdir" / "002_ferry_rewrite.txt"
    result = invoke(runner, "compare", a, b, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"passages", "containment_a", "containment_b", "source", "reused"} <= set(data)
    assert data["reused"] is True
    assert data["source"] == "a"
    assert 0 < data["containment_a"] < data["containment_b"] <= 1
    text_a = load_text(a)
    text_b = load_text(b)
    assert data["passages"]
    for p in data["passages"]:
        assert 0 <= p["a_start"] < p["a_end"] <= len(text_a)
        assert 0 <= p["b_start"] < p["b_end"] <= len(text_b)
        assert p["kind"] in ("verbatim", "edited")


def load_text(path: Path) -> str:
    from wiretrace.ingest import read_inputs

    (article,) = list(read_inputs([path]))
    return article.text


def test_compare_json_of_duplicates(runner, fixtures_dir):
    a = fixtures_dir / "textdir" / "004_ferry_duplicate.txt"
    b = fixtures_dir / "textdir" / "001_ferry_original.txt"
    data = json.loads(invoke(runner, "compare", a, b, "--json").stdout)
    assert data["containment_a"] == pytest.approx(1.0, abs=0.01)
    assert data["containment_b"] == pytest.approx(1.0, abs=0.01)
    assert all(p["kind"] == "verbatim" for p in data["passages"])
    assert data["source"] == "b"  # 001 is dated March 9, 004 March 11


def test_compare_rejects_a_bad_file(runner, fixtures_dir):
    a = fixtures_dir / "bad" / "binary.txt"
    b = fixtures_dir / "textdir" / "001_ferry_original.txt"
    result = invoke(runner, "compare", a, b)
    assert result.exit_code != 0
    assert "binary.txt" in result.output


# --- export --------------------------------------------------------------------------------


def test_export_bench_writes_the_answer_files(runner, ferry_db, tmp_path):
    out = tmp_path / "bench"
    result = invoke(runner, "export", "--db", ferry_db, "--out", out, "--format", "bench")
    assert result.exit_code == 0, result.output
    texts = {a.id: a.text for a in load_articles(ferry_db)}

    # families.jsonl: {"id", "family"} for every article
    families = read_jsonl(out / "families.jsonl")
    assert all({"id", "family"} <= set(r) for r in families)
    assert sorted(r["id"] for r in families) == sorted(texts)
    label = {r["id"]: r["family"] for r in families}
    assert label["001_ferry_original"] == label["002_ferry_rewrite"] == label["004_ferry_duplicate"]
    assert label["003_orchard_unrelated"] != label["001_ferry_original"]

    # lineage.jsonl: {"id", "parent"} for every article, parent an article id or null
    lineage = read_jsonl(out / "lineage.jsonl")
    assert all({"id", "parent"} <= set(r) for r in lineage)
    parent = {r["id"]: r["parent"] for r in lineage}
    assert set(parent) == set(texts)
    assert all(p is None or p in texts for p in parent.values())
    assert parent["004_ferry_duplicate"] == "001_ferry_original"

    # passages.jsonl: src/dst offsets into the two texts, between an article and its parent
    passages = read_jsonl(out / "passages.jsonl")
    fields = {"src", "dst", "src_start", "src_end", "dst_start", "dst_end", "kind"}
    assert passages
    for p in passages:
        assert fields <= set(p)
        assert parent[p["dst"]] == p["src"] or parent[p["src"]] == p["dst"]
        assert 0 <= p["src_start"] < p["src_end"] <= len(texts[p["src"]])
        assert 0 <= p["dst_start"] < p["dst_end"] <= len(texts[p["dst"]])
        assert p["kind"] in ("verbatim", "paraphrase")
        if p["kind"] == "verbatim":
            src = texts[p["src"]][p["src_start"] : p["src_end"]]
            dst = texts[p["dst"]][p["dst_start"] : p["dst_end"]]
            assert src.split() == dst.split()
    duplicate = [p for p in passages if p["dst"] == "004_ferry_duplicate"]
    assert [p["kind"] for p in duplicate] == ["verbatim"]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_export_tables(runner, ferry_db, tmp_path, fmt):
    out = tmp_path / fmt
    result = invoke(runner, "export", "--db", ferry_db, "--out", out, "--format", fmt)
    assert result.exit_code == 0, result.output
    counts = table_counts(ferry_db)
    for name in ("articles", "links", "passages", "families", "rejections"):
        path = out / f"{name}.{fmt}"
        assert path.exists(), name
        if fmt == "parquet":
            table = pq.read_table(path)
            assert table.num_rows == counts[name], name
        else:
            assert len(read_jsonl(path)) == counts[name], name
    if fmt == "parquet":
        articles = pq.read_table(out / "articles.parquet").to_pylist()
        assert {"id", "family", "parent", "text"} <= set(articles[0])
        assert sorted(r["id"] for r in articles)[0] == "001_ferry_original"


def test_export_refuses_unknown_format_and_missing_store(runner, ferry_db, tmp_path):
    result = invoke(runner, "export", "--db", ferry_db, "--out", tmp_path / "x", "--format", "xlsx")
    assert result.exit_code != 0
    assert "xlsx" in result.output and "csv" in result.output  # names the known formats
    result = invoke(runner, "export", "--db", tmp_path / "nope.duckdb", "--out", tmp_path / "y")
    assert result.exit_code != 0
    assert has(result.output, "nope.duckdb")


# --- demo ----------------------------------------------------------------------------------


def test_demo_runs_on_the_sample_corpus(runner, tmp_path):
    db = tmp_path / "demo.duckdb"
    result = invoke(runner, "demo", "--db", db)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert has(out, "story families")
    assert "surge-reuters" in out and "walrus-tass" in out and "park-xinhua" in out
    assert table_counts(db)["articles"] == 37
