"""The one owner of the database: an embedded DuckDB file, nothing to start.

A run writes a complete new database next to the old one and renames it into
place, so a crash at any moment leaves either the old store or the new one,
never half of each. Row order and every id are deterministic, so the same
input gives the same store.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from .engines.local import RunResult
from .export import article_columns, change_columns, link_columns, passage_columns
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


def write_store(
    path: str | Path,
    result: RunResult,
    rejections: list[Rejection],
    extra: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Write all results to ``path``, replacing what was there only once complete.

    ``extra`` writes more tables into the new store before it replaces the old one
    (the n-gram index, ``index.py``). Changes still pending in ``result``
    (``run_articles(defer_changes=True)``) are described on a thread meanwhile.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        # what changed is Python, the writes are DuckDB's own threads: run them side by side
        changes = pool.submit(result.pending_changes) if result.pending_changes else None
        with _new_store(path) as con:
            _write_tables(con, result, rejections)
            if extra is not None:
                extra(con)
            if changes is not None:
                result.changes, result.pending_changes = changes.result(), None
                _insert_columns(con, "changes", change_columns(result), _CHANGE_COLUMNS)


@contextmanager
def _new_store(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new store that replaces ``path`` only once the block completes
    (written to a temporary file, checkpointed, then renamed); on failure nothing changes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    _remove_stale_temporaries(target)
    con = duckdb.connect(str(tmp))
    try:
        yield con
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        for partial in (tmp, Path(f"{tmp}.wal")):
            partial.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, target)
    Path(str(target) + ".wal").unlink(missing_ok=True)


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporary stores of runs that died before renaming (kill -9) and of this one."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"):
        pid = leftover.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _process_alive(int(pid))):
            leftover.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _write_tables(
    con: duckdb.DuckDBPyConnection, result: RunResult, rejections: list[Rejection]
) -> None:
    articles = article_columns(result)
    articles.update(
        position=np.arange(len(result.articles), dtype=np.int64),
        wire=np.asarray(result.facts.wire, dtype=bool),
        text=[a.text for a in result.articles],
        byline=[a.byline for a in result.articles],
        metadata=[
            orjson.dumps(a.metadata).decode() if a.metadata else None for a in result.articles
        ],
        origin=[a.origin for a in result.articles],
        body_start=np.asarray(result.body_starts, dtype=np.int64),
        published_utc=[ts.utc for ts in result.facts.timestamps],
        time_precision=[ts.precision for ts in result.facts.timestamps],
        time_problem=[ts.problem for ts in result.facts.timestamps],
    )
    _create_from_columns(con, "articles", articles, _ARTICLE_COLUMNS, zstd=("text",))
    _create_from_columns(con, "links", link_columns(result), _LINK_COLUMNS)
    _create_from_columns(con, "passages", passage_columns(result), _PASSAGE_COLUMNS)
    _create_from_columns(con, "changes", change_columns(result), _CHANGE_COLUMNS, zstd=("text",))
    _create(con, "rejections", [dataclasses.asdict(r) for r in rejections], _REJECTION_COLUMNS)
    _create_from_columns(con, "boilerplate", boilerplate_columns(result), BOILERPLATE_COLUMNS)
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
    "relation": pa.string(),
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
# one row per boilerplate line (``boilerplate.py``): ``outlet`` only for the ``outlet`` rule
BOILERPLATE_COLUMNS = {
    "key": pa.string(),
    "sample": pa.string(),
    "outlet": pa.string(),
    "rule": pa.string(),
    "articles": pa.int64(),
    "example": pa.string(),
}


def boilerplate_columns(result: RunResult) -> dict[str, Any]:
    """The boilerplate table of a run (empty when the engine did not report it)."""
    if result.boilerplate is None:
        return {name: [] for name in BOILERPLATE_COLUMNS}
    return result.boilerplate.columns()


_CHANGE_COLUMNS = {
    "article": pa.string(),
    "parent": pa.string(),
    "kind": pa.string(),
    "text": pa.string(),
    "detail": pa.string(),
    "side": pa.string(),
    "start": pa.int64(),
    "end": pa.int64(),
}


def _create(
    con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], columns: dict
) -> None:
    schema = pa.schema(list(columns.items()))
    table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows], schema=schema)
    con.register("incoming", table)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
    con.unregister("incoming")


def _create_from_columns(
    con: duckdb.DuckDBPyConnection,
    name: str,
    data: dict[str, Any],
    columns: dict,
    zstd: tuple[str, ...] = (),
) -> None:
    """Create table ``name`` from column data; ``zstd`` columns (long texts) are stored with
    zstd, which checkpoints twice as fast as DuckDB's default string compression and smaller."""
    definitions = ", ".join(
        f'"{k}" {_SQL_TYPES[t]}' + (" USING COMPRESSION zstd" if k in zstd else "")
        for k, t in columns.items()
    )
    con.execute(f"CREATE TABLE {name} ({definitions})")
    _insert_columns(con, name, data, columns)


def _insert_columns(
    con: duckdb.DuckDBPyConnection, name: str, data: dict[str, Any], columns: dict
) -> None:
    table = pa.table({k: pa.array(data[k], type=t) for k, t in columns.items()})
    con.register("incoming", table)
    con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
    con.unregister("incoming")


_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
    pa.list_(pa.string()): "VARCHAR[]",
}


STORE_TABLES = (
    "articles", "links", "passages", "families", "rejections", "changes", "boilerplate",
)  # fmt: skip


def table_counts(path: str | Path) -> dict[str, int]:
    with connect(path) as con:
        return {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in STORE_TABLES
        }


# The tables a run's Parquet output holds (``engines/spark.py``: ``DIR/TABLE/part-*.parquet``)
# and their columns; ``families`` and ``run`` are typed here, the others above.
_FAMILY_COLUMNS = {
    "family": pa.string(),
    "size": pa.int64(),
    "first_published": pa.timestamp("us", tz="UTC"),
    "last_published": pa.timestamp("us", tz="UTC"),
    "outlets": pa.int64(),
}
_RUN_COLUMNS = {"key": pa.string(), "value": pa.string()}


def parquet_tables() -> dict[str, tuple[dict, tuple[str, ...]]]:
    """Each table of a run's Parquet output: its columns and its zstd-compressed ones."""
    return {
        "articles": (_ARTICLE_COLUMNS, ("text",)),
        "links": (_LINK_COLUMNS, ()),
        "passages": (_PASSAGE_COLUMNS, ()),
        "changes": (_CHANGE_COLUMNS, ("text",)),
        "rejections": (_REJECTION_COLUMNS, ()),
        "boilerplate": (BOILERPLATE_COLUMNS, ()),
        "families": (_FAMILY_COLUMNS, ()),
        "run": (_RUN_COLUMNS, ()),
    }


def import_parquet(folder: str | Path, path: str | Path) -> dict[str, int]:
    """A store at ``path`` from a run's Parquet output in ``folder`` (one dataset a table,
    as ``wiretrace run --engine spark --out`` writes it), replacing what was there only
    once complete. Each dataset must be complete (Spark's ``_SUCCESS`` marker); rows keep
    the datasets' order (the part files' order). Returns the rows per table."""
    source = Path(folder)
    datasets = {}
    for name in parquet_tables():
        dataset = source / name
        if not (dataset / "_SUCCESS").exists():
            raise FileNotFoundError(
                f"{dataset}: no complete Parquet dataset (no _SUCCESS marker): "
                "is it the --out folder of a finished run?"
            )
        datasets[name] = sorted(dataset.glob("part-*.parquet"))
    with _new_store(path) as con:
        for name, (columns, zstd) in parquet_tables().items():
            _create_from_columns(con, name, {k: [] for k in columns}, columns, zstd)
            if datasets[name]:
                names = ", ".join(f'"{k}"' for k in columns)
                order = " ORDER BY position" if name == "articles" else ""
                con.execute(
                    f"INSERT INTO {name} SELECT {names} FROM read_parquet(?){order}",
                    [[str(f) for f in datasets[name]]],
                )
        counts = {
            name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            for name in parquet_tables()
        }
    return counts
