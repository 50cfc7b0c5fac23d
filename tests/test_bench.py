"""The news-reuse benchmark in ../shared/bench, on a tiny generated corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wiretrace.cli import app

SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCH = SHARED / "bench"
REUTERS = SHARED / "data" / "reuters21578"

pytestmark = pytest.mark.skipif(
    not (BENCH / "make_corpus.py").exists() or not REUTERS.is_dir(),
    reason="needs ../shared/bench and ../shared/data/reuters21578",
)


@pytest.fixture(scope="module")
def bench_scores(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    corpus = work / "corpus"
    subprocess.run(
        [
            sys.executable, str(BENCH / "make_corpus.py"), "--reuters", str(REUTERS),
            "--out", str(corpus), "--stories", "40", "--seed", "5", "--quiet",
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    db = work / "bench.duckdb"
    system = work / "system"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(corpus / "articles.jsonl"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["export", "--db", str(db), "--out", str(system), "--format", "bench"]
    )
    assert result.exit_code == 0, result.output
    scored = subprocess.run(
        [
            sys.executable, str(BENCH / "score.py"), "--gold", str(corpus / "gold"),
            "--system", str(system), "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    return json.loads(scored.stdout)


@pytest.mark.slow
def test_bench_scores_are_far_above_all_singletons(bench_scores):
    assert not bench_scores["warnings"], bench_scores["warnings"]
    assert bench_scores["articles"] > 40
    ari = bench_scores["families"]["ari"]
    plagdet = bench_scores["passages"]["all"]["plagdet"]
    assert ari >= 0.9, bench_scores["families"]
    assert plagdet >= 0.7, bench_scores["passages"]["all"]
    assert bench_scores["passages"]["provided"]
    assert bench_scores["lineage"]["provided"]


@pytest.mark.slow
def test_bench_lineage_beats_naming_no_parent(bench_scores):
    # an answer with no parents scores 0 on both
    lineage = bench_scores["lineage"]
    assert lineage["parent_accuracy"] >= 0.6, lineage
    assert lineage["root_accuracy"] >= 0.8, lineage
