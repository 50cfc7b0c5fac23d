"""Shared fixtures: paths, the sample corpus run once per session, small helpers."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, settings

import wiretrace

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_DIR = REPO / "src" / "wiretrace" / "data" / "sample"

# numba compiles its kernels on first use: no per-example deadline
settings.register_profile(
    "wiretrace", deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("wiretrace")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: end-to-end runs that take tens of seconds (run by default)"
    )
    config.addinivalue_line(
        "markers", "spark: runs Apache Spark in local mode (run by default; -m 'not spark' skips)"
    )


SHARED = REPO.parent / "shared"
BENCH_GENERATOR = SHARED / "bench" / "make_corpus.py"
REUTERS = SHARED / "data" / "reuters21578"


@pytest.fixture(scope="session")
def bench_corpus_1000(tmp_path_factory) -> Path:
    """A 1,000-article corpus from the news-reuse benchmark's generator (skips without it)."""
    import subprocess
    import sys

    if not BENCH_GENERATOR.exists() or not REUTERS.is_dir():
        pytest.skip("needs ../shared/bench and ../shared/data/reuters21578")
    out = tmp_path_factory.mktemp("bench1000")
    subprocess.run(
        [
            sys.executable, str(BENCH_GENERATOR), "--reuters", str(REUTERS), "--out", str(out),
            "--stories", "60", "--total", "1000", "--seed", "11", "--quiet",
        ],
        check=True,
        timeout=600,
    )  # fmt: skip
    return out / "articles.jsonl"


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write ``records`` one JSON object a line and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        for record in records:
            handle.write(orjson.dumps(record) + b"\n")
    return path


def table_rows(db: Path, table: str) -> list[tuple]:
    """All rows of a store table, every value as text (no pytz needed), sorted."""
    from wiretrace.store import connect

    with connect(db) as con:
        rows = con.execute(f"SELECT COLUMNS(*)::VARCHAR FROM {table}").fetchall()
    return sorted(rows, key=repr)


def table_columns(db: Path, table: str) -> list[str]:
    from wiretrace.store import connect

    with connect(db) as con:
        return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def sample_articles_path() -> Path:
    return SAMPLE_DIR / "articles.jsonl"


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    return json.loads((SAMPLE_DIR / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, sample_articles_path):
    """wiretrace.run on the bundled sample corpus, once: (summary, path of the store)."""
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    summary = wiretrace.run([sample_articles_path], db=db)
    return summary, db


@pytest.fixture(scope="session")
def sample_store_rows(sample_run) -> dict[str, dict]:
    """The sample store's articles table as {id: row dict} (timestamps as text)."""
    from wiretrace.store import connect

    _, db = sample_run
    with connect(db) as con:
        cursor = con.execute("SELECT COLUMNS(*)::VARCHAR FROM articles")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return {row[names.index("id")]: dict(zip(names, row)) for row in rows}
