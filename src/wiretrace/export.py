"""Writing results out: JSONL, Parquet, and the news-reuse benchmark's answer files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .engines.local import RunResult


def article_rows(result: RunResult) -> Iterator[dict[str, Any]]:
    lineage = result.lineage
    ids = result.facts.ids
    family_names = family_labels(result)
    for i, article in enumerate(result.articles):
        parent = int(lineage.parent[i])
        yield {
            "id": article.id,
            "outlet": article.outlet,
            "title": article.title,
            "published_at": article.published_at,
            "url": article.url,
            "family": family_names[i],
            "parent": ids[parent] if parent >= 0 else None,
            "root": ids[int(lineage.root[i])],
            "parent_score": round(float(lineage.parent_score[i]), 4),
            "parent_reason": lineage.parent_reason[i] or None,
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


def link_rows(result: RunResult) -> Iterator[dict[str, Any]]:
    ev = result.evidence
    ids = result.facts.ids
    for k in result.link_indices.tolist():
        a, b = int(ev.a[k]), int(ev.b[k])
        a_is_source = bool(result.orientation.source_is_a[k])
        src, dst = (a, b) if a_is_source else (b, a)
        yield {
            "source": ids[src],
            "derivative": ids[dst],
            "containment_source": round(
                float(ev.containment_a[k] if a_is_source else ev.containment_b[k]), 4
            ),
            "containment_derivative": round(
                float(ev.containment_b[k] if a_is_source else ev.containment_a[k]), 4
            ),
            "passages": int(ev.passages[k]),
            "shared_features": int(ev.shared[k]),
            "direction_reason": result.orientation.reason[k],
        }


def passage_rows(result: RunResult, only_parent_links: bool = False) -> Iterator[dict[str, Any]]:
    """Passages oriented source -> derivative, for every link (or only child-parent links)."""
    ev = result.evidence
    ids = result.facts.ids
    table = result.passages
    order = np.argsort(table.pair, kind="stable")
    bounds = np.searchsorted(table.pair[order], np.arange(len(ev.a) + 1))
    parent = result.lineage.parent
    for k in result.link_indices.tolist():
        a, b = int(ev.a[k]), int(ev.b[k])
        a_is_source = bool(result.orientation.source_is_a[k])
        src, dst = (a, b) if a_is_source else (b, a)
        if only_parent_links:
            if parent[dst] == src:
                pass
            elif parent[src] == dst:
                src, dst, a_is_source = dst, src, not a_is_source
            else:
                continue
        for row in order[bounds[k] : bounds[k + 1]].tolist():
            s = (
                (table.a_start[row], table.a_end[row])
                if a_is_source
                else (table.b_start[row], table.b_end[row])
            )
            d = (
                (table.b_start[row], table.b_end[row])
                if a_is_source
                else (table.a_start[row], table.a_end[row])
            )
            yield {
                "src": ids[src],
                "dst": ids[dst],
                "src_start": int(s[0]),
                "src_end": int(s[1]),
                "dst_start": int(d[0]),
                "dst_end": int(d[1]),
                "kind": "verbatim" if table.verbatim[row] else "edited",
                "similarity": round(float(table.similarity[row]), 4),
            }


def export_store(db: str | Path, outdir: str | Path, fmt: str = "jsonl") -> dict[str, int]:
    """Export a store's tables (``jsonl``, ``parquet``) or the benchmark answer files (``bench``)."""
    from .store import connect

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    queries = _BENCH_QUERIES if fmt == "bench" else _TABLE_QUERIES
    counts = {}
    with connect(db) as con:
        for name, sql in queries.items():
            target = out / f"{name}.{'parquet' if fmt == 'parquet' else 'jsonl'}"
            option = "FORMAT PARQUET" if fmt == "parquet" else "FORMAT JSON"
            con.execute(f"COPY ({sql}) TO '{_sql_path(target)}' ({option})")
            counts[name] = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
    return counts


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


_TABLE_QUERIES = {
    "articles": "SELECT id, outlet, title, published_at, published_utc, time_precision, url, byline, "
    "wire, family, parent, root, parent_score, parent_reason, text FROM articles ORDER BY position",
    "links": "SELECT * FROM links ORDER BY source, derivative",
    "passages": "SELECT * FROM passages ORDER BY src, dst, dst_start",
    "families": "SELECT * FROM families ORDER BY family",
    "rejections": "SELECT * FROM rejections",
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
