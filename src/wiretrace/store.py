"""The one owner of the database: an embedded DuckDB file, nothing to start.

A run writes a complete new database next to the old one and renames it into
place, so a crash at any moment leaves either the old store or the new one,
never half of each. Row order and every id are deterministic, so the same
input gives the same store.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from .engines.local import RunResult
from .export import article_rows, link_rows, passage_rows
from .model import Article, Rejection

SCHEMA_VERSION = 1


def connect(path: str | Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    if read_only and not Path(path).exists():
        raise FileNotFoundError(f"no wiretrace store at {path}")
    return duckdb.connect(str(path), read_only=read_only)


def load_articles(path: str | Path) -> list[Article]:
    """The articles a store holds, as they were read (empty if there is no store yet)."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            "SELECT id, text, outlet, title, published_at, url, byline, metadata, origin "
            "FROM articles ORDER BY position"
        ).fetchall()
    return [
        Article(
            id=r[0],
            text=r[1],
            outlet=r[2],
            title=r[3],
            published_at=r[4],
            url=r[5],
            byline=r[6],
            metadata=orjson.loads(r[7]) if r[7] else {},
            origin=r[8],
        )  # fmt: skip
        for r in rows
    ]


def load_rejections(path: str | Path) -> list[Rejection]:
    """Rejections recorded by earlier runs on this store (kept, so none is forgotten)."""
    if not Path(path).exists():
        return []
    with connect(path) as con:
        rows = con.execute("SELECT origin, reason, record_id FROM rejections").fetchall()
    return [Rejection(origin, reason, record_id) for origin, reason, record_id in rows]


def write_store(path: str | Path, result: RunResult, rejections: list[Rejection]) -> None:
    """Write all results to ``path``, replacing what was there only once complete."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        _write_tables(con, result, rejections)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    Path(str(target) + ".wal").unlink(missing_ok=True)


def _write_tables(
    con: duckdb.DuckDBPyConnection, result: RunResult, rejections: list[Rejection]
) -> None:
    articles = list(article_rows(result))
    for row, article, start, ts in zip(
        articles, result.articles, result.body_starts, result.facts.timestamps
    ):
        row.update(
            text=article.text,
            byline=article.byline,
            metadata=orjson.dumps(article.metadata).decode() if article.metadata else None,
            origin=article.origin,
            body_start=start,
            published_utc=ts.utc,
            time_precision=ts.precision,
            time_problem=ts.problem,
        )
    for i, row in enumerate(articles):
        row["position"] = i
        row["wire"] = result.facts.wire[i]
    _create(con, "articles", articles, _ARTICLE_COLUMNS)
    _create(con, "links", list(link_rows(result)), _LINK_COLUMNS)
    _create(con, "passages", list(passage_rows(result)), _PASSAGE_COLUMNS)
    _create(con, "rejections", [dataclasses.asdict(r) for r in rejections], _REJECTION_COLUMNS)
    con.execute(
        "CREATE TABLE families AS SELECT family, count(*) AS size, "
        "min(published_utc) AS first_published, max(published_utc) AS last_published, "
        "count(DISTINCT outlet) AS outlets FROM articles GROUP BY family ORDER BY family"
    )
    params = dataclasses.asdict(result.params)
    con.execute("CREATE TABLE run (key VARCHAR, value VARCHAR)")
    con.executemany(
        "INSERT INTO run VALUES (?, ?)",
        [
            ("schema_version", str(SCHEMA_VERSION)),
            ("params", orjson.dumps(params).decode()),
            ("articles", str(len(result.articles))),
            ("rejected", str(len(rejections))),
            ("candidate_pairs", str(result.candidate_pairs)),
        ],
    )


_ARTICLE_COLUMNS = {
    "position": pa.int64(),
    "id": pa.string(),
    "outlet": pa.string(),
    "title": pa.string(),
    "published_at": pa.string(),
    "published_utc": pa.timestamp("us", tz="UTC"),
    "time_precision": pa.string(),
    "time_problem": pa.string(),
    "url": pa.string(),
    "byline": pa.string(),
    "wire": pa.bool_(),
    "family": pa.string(),
    "parent": pa.string(),
    "root": pa.string(),
    "parent_score": pa.float64(),
    "parent_reason": pa.string(),
    "body_start": pa.int64(),
    "text": pa.string(),
    "metadata": pa.string(),
    "origin": pa.string(),
}
_LINK_COLUMNS = {
    "source": pa.string(),
    "derivative": pa.string(),
    "containment_source": pa.float64(),
    "containment_derivative": pa.float64(),
    "passages": pa.int64(),
    "shared_features": pa.int64(),
    "direction_reason": pa.string(),
}
_PASSAGE_COLUMNS = {
    "src": pa.string(),
    "dst": pa.string(),
    "src_start": pa.int64(),
    "src_end": pa.int64(),
    "dst_start": pa.int64(),
    "dst_end": pa.int64(),
    "kind": pa.string(),
    "similarity": pa.float64(),
}
_REJECTION_COLUMNS = {"origin": pa.string(), "reason": pa.string(), "record_id": pa.string()}


def _create(
    con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], columns: dict
) -> None:
    schema = pa.schema(list(columns.items()))
    table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows], schema=schema)
    con.register("incoming", table)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
    con.unregister("incoming")


def table_counts(path: str | Path) -> dict[str, int]:
    with connect(path) as con:
        return {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in ("articles", "links", "passages", "families", "rejections")
        }
