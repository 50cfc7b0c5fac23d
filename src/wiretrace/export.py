"""Writing results out: JSONL, Parquet, CSV, and the news-reuse benchmark's answer files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from .engines.local import RunResult
from .lineage import relations


def article_columns(result: RunResult) -> dict[str, Any]:
    """The lineage columns of the articles table, one list or array per column."""
    lineage = result.lineage
    ids = np.array(result.facts.ids, dtype=object)
    parent = lineage.parent
    parent_ids = np.where(parent >= 0, ids[np.maximum(parent, 0)], None)
    return {
        "id": ids.tolist(),
        "outlet": [a.outlet for a in result.articles],
        "title": [a.title for a in result.articles],
        "published_at": [a.published_at for a in result.articles],
        "url": [a.url for a in result.articles],
        "family": family_labels(result),
        "parent": parent_ids.tolist(),
        "root": ids[lineage.root].tolist(),
        "parent_score": np.round(lineage.parent_score.astype(np.float64), 4),
        "parent_reason": [reason or None for reason in lineage.parent_reason],
        "relation": relations(parent, [a.outlet for a in result.articles]),
    }


def family_labels(result: RunResult) -> list[str]:
    """A stable name per family: the id of its root (the root most members lead to)."""
    family = result.lineage.family.tolist()
    root = result.lineage.root.tolist()
    ids = result.facts.ids
    votes: dict[int, dict[int, int]] = {}
    for label, r in zip(family, root):
        votes.setdefault(label, {}).setdefault(r, 0)
        votes[label][r] += 1
    name = {
        label: ids[min(counts, key=lambda r: (-counts[r], ids[r]))]
        for label, counts in votes.items()
    }
    return [name[label] for label in family]


def link_columns(result: RunResult) -> dict[str, Any]:
    """Reuse links oriented source -> derivative, one array per column."""
    ev = result.evidence
    ids = np.array(result.facts.ids, dtype=object)
    k = result.link_indices
    a_is_source = result.orientation.source_is_a[k].astype(bool)
    a, b = ev.a[k], ev.b[k]
    src, dst = np.where(a_is_source, a, b), np.where(a_is_source, b, a)
    contain_a, contain_b = ev.containment_a[k], ev.containment_b[k]
    return {
        "source": ids[src].tolist(),
        "derivative": ids[dst].tolist(),
        "containment_source": np.round(np.where(a_is_source, contain_a, contain_b), 4),
        "containment_derivative": np.round(np.where(a_is_source, contain_b, contain_a), 4),
        "passages": ev.passages[k].astype(np.int64),
        "shared_features": ev.shared[k].astype(np.int64),
        "direction_reason": [result.orientation.reason[i] for i in k.tolist()],
    }


def passage_columns(result: RunResult) -> dict[str, Any]:
    """Passages of every link, oriented source -> derivative, grouped by link."""
    ev = result.evidence
    ids = np.array(result.facts.ids, dtype=object)
    table = result.passages
    rows = np.argsort(table.pair, kind="stable")
    rows = rows[ev.reused[table.pair[rows]].astype(bool)]
    pair = table.pair[rows]
    a_is_source = result.orientation.source_is_a[pair].astype(bool)
    a, b = ev.a[pair], ev.b[pair]
    a_start, a_end = table.a_start[rows], table.a_end[rows]
    b_start, b_end = table.b_start[rows], table.b_end[rows]
    return {
        "src": ids[np.where(a_is_source, a, b)].tolist(),
        "dst": ids[np.where(a_is_source, b, a)].tolist(),
        "src_start": np.where(a_is_source, a_start, b_start).astype(np.int64),
        "src_end": np.where(a_is_source, a_end, b_end).astype(np.int64),
        "dst_start": np.where(a_is_source, b_start, a_start).astype(np.int64),
        "dst_end": np.where(a_is_source, b_end, a_end).astype(np.int64),
        "kind": np.where(table.verbatim[rows], "verbatim", "edited").tolist(),
        "similarity": np.round(table.similarity[rows].astype(np.float64), 4),
    }


def change_columns(result: RunResult) -> dict[str, Any]:
    """What each article changed against its parent (``changes.py``), one list per column."""
    changes = result.changes
    return {
        "article": [c.article for c in changes],
        "parent": [c.parent for c in changes],
        "kind": [c.kind for c in changes],
        "text": [c.text for c in changes],
        "detail": [c.detail for c in changes],
        "side": [c.side for c in changes],
        "start": [c.start for c in changes],
        "end": [c.end for c in changes],
    }


def export_store(db: str | Path, outdir: str | Path, fmt: str = "jsonl") -> dict[str, int]:
    """Export a store's tables (``jsonl``, ``parquet``, ``csv``) or the benchmark files (``bench``).

    Files are named after the tables, never after anything in the data, and are only
    written inside ``outdir``.
    """
    from .store import connect

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    queries = _BENCH_QUERIES if fmt == "bench" else _TABLE_QUERIES
    suffix = {"parquet": "parquet", "csv": "csv"}.get(fmt, "jsonl")
    counts = {}
    with connect(db) as con:
        for name, sql in queries.items():
            if name in _OPTIONAL_TABLES and fmt != "bench" and not _has_table(con, name):
                continue  # a store written before the table existed
            target = output_file(out, f"{name}.{suffix}")
            if fmt == "csv":
                counts[name] = _write_csv(con, sql, target)
                continue
            option = "FORMAT PARQUET" if fmt == "parquet" else "FORMAT JSON"
            con.execute(f"COPY ({sql}) TO '{_sql_path(target)}' ({option})")
            counts[name] = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    return counts


def output_file(folder: Path, name: str) -> Path:
    """``folder / name``, refused if it would lie anywhere but directly inside ``folder``.

    Guards against names with separators or ``..`` and against a symbolic link planted
    in the folder that points elsewhere.
    """
    target = folder / name
    if Path(name).name != name or name in ("", ".", ".."):
        raise ValueError(f"refusing to write {name!r}: not a plain file name")
    if target.resolve().parent != folder.resolve():
        raise ValueError(f"refusing to write {target}: it leads outside {folder}")
    return target


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, defused with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _write_csv(con, sql: str, target: Path, batch_rows: int = 10_000) -> int:
    cursor = con.execute(sql)
    count = 0
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([column[0] for column in cursor.description])
        while rows := cursor.fetchmany(batch_rows):
            writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
            count += len(rows)
    return count


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


_OPTIONAL_TABLES = ("changes", "boilerplate")


def _has_table(con, name: str) -> bool:
    query = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return bool(con.execute(query, [name]).fetchone()[0])


_TABLE_QUERIES = {
    "articles": "SELECT id, outlet, title, published_at, published_utc, time_precision, url, byline, "
    "wire, family, parent, root, parent_score, parent_reason, text FROM articles ORDER BY position",
    "links": "SELECT * FROM links ORDER BY source, derivative",
    "passages": "SELECT * FROM passages ORDER BY src, dst, dst_start",
    "families": "SELECT * FROM families ORDER BY family",
    "rejections": "SELECT * FROM rejections",
    "changes": "SELECT c.* FROM changes c JOIN articles a ON a.id = c.article "
    "ORDER BY a.position, c.rowid",
    "boilerplate": "SELECT * FROM boilerplate ORDER BY outlet NULLS LAST, articles DESC, key",
}

_BENCH_QUERIES = {
    "families": "SELECT id, family FROM articles ORDER BY position",
    "lineage": "SELECT id, parent FROM articles ORDER BY position",
    "passages": """
        SELECT p.src, p.dst, p.src_start, p.src_end, p.dst_start, p.dst_end,
               CASE WHEN p.kind = 'verbatim' THEN 'verbatim' ELSE 'paraphrase' END AS kind
        FROM passages p JOIN articles d ON d.id = p.dst
        WHERE d.parent = p.src
        UNION ALL
        SELECT p.dst, p.src, p.dst_start, p.dst_end, p.src_start, p.src_end,
               CASE WHEN p.kind = 'verbatim' THEN 'verbatim' ELSE 'paraphrase' END
        FROM passages p JOIN articles s ON s.id = p.src
        WHERE s.parent = p.dst
        ORDER BY 2, 5""",
}
