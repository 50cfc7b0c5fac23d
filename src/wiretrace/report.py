"""Readings of a store for people: one article, one family tree, the outlets.

Each reading is a plain dictionary (what ``--json`` prints) built from the store's
tables; ``render_*`` turns it into text for the terminal. The viewer and the
command line call the same functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from .changes import KIND_ORDER
from .lineage import uncovered_length
from .store import connect

Store = str | Path | duckdb.DuckDBPyConnection

KIND_TITLES = {
    "headline_changed": "headline changed",
    "sentence_added": "sentences added",
    "sentence_dropped": "sentences dropped",
    "quote_added": "quotes added",
    "quote_removed": "quotes removed",
    "source_added": "sources added",
    "source_removed": "sources removed",
    "number_changed": "numbers changed",
    "number_added": "numbers added",
    "number_removed": "numbers removed",
    "name_added": "names added",
    "name_removed": "names removed",
}
TOP_SOURCES = 5


class NotInStore(LookupError):
    """The article or family asked for is not in the store."""


@contextmanager
def _cursor(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(store, duckdb.DuckDBPyConnection):
        yield store.cursor()
        return
    with connect(store) as con:
        yield con


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(found and found[0])


def _plain(value: Any) -> Any:
    """JSON-friendly: timestamps as ISO text."""
    return value.isoformat() if isinstance(value, datetime) else value


# --- one article ----------------------------------------------------------------------------


def article_report(store: Store, article_id: str) -> dict[str, Any]:
    """An article's metadata, family, parent (with the direction evidence), root, the
    passages it reuses per source, who reuses it, and what it changed against its parent."""
    with _cursor(store) as con:
        found = _rows(
            con, "SELECT * EXCLUDE (text, metadata) FROM articles WHERE id = ?", [article_id]
        )
        if not found:
            raise NotInStore(f"no article {article_id!r} in the store")
        article = {k: _plain(v) for k, v in found[0].items()}
        text = con.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        article["characters"] = len(text) - int(article.get("body_start") or 0)
        family_size = con.execute(
            "SELECT count(*) FROM articles WHERE family = ?", [article["family"]]
        ).fetchone()[0]
        parent = _parent(con, article) if article.get("parent") else None
        root = _rows(con, "SELECT id, outlet FROM articles WHERE id = ?", [article["root"]])
        changes = (
            _rows(
                con,
                'SELECT kind, text, detail, side, start, "end" FROM changes WHERE article = ? '
                "ORDER BY rowid",
                [article_id],
            )
            if _has_table(con, "changes")
            else None
        )
        sources = _reused_from(con, article_id, article["characters"], article.get("parent"))
        return {
            "article": article,
            "family": {"id": article["family"], "size": family_size},
            "parent": parent,
            "root": root[0] if root else None,
            "sources": sources,
            "secondary_sources": _secondary(con, article_id, sources),
            "reused_by": _reused_by(con, article_id),
            "changes": _group_by_kind(changes) if changes is not None else None,
        }


def _parent(con: duckdb.DuckDBPyConnection, article: dict) -> dict[str, Any]:
    child, parent = article["id"], article["parent"]
    row = _rows(
        con,
        "SELECT id, outlet, title, published_at, published_utc FROM articles WHERE id = ?",
        [parent],
    )
    link = _rows(
        con,
        "SELECT * FROM links WHERE (source = ? AND derivative = ?) "
        "OR (source = ? AND derivative = ?)",
        [parent, child, child, parent],
    )
    found = {k: _plain(v) for k, v in row[0].items()} if row else {"id": parent}
    found.update(score=article.get("parent_score"), reason=article.get("parent_reason"))
    if link:
        found["link"] = {k: _plain(v) for k, v in link[0].items()}
        found["share_reused"] = _child_share(link[0], child)
    return found


def _child_share(link: dict, child: str) -> float | None:
    """The share of the child's text in the passages of a link, whichever way it points."""
    key = "containment_source" if link.get("source") == child else "containment_derivative"
    return link.get(key)


def _reused_from(
    con: duckdb.DuckDBPyConnection, article_id: str, characters: int, parent: str | None
) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        "SELECT p.src AS source, a.outlet, count(*) AS passages, "
        "sum(p.dst_end - p.dst_start) AS characters, "
        "count(*) FILTER (WHERE p.kind = 'verbatim') AS verbatim, "
        'list(struct_pack(start := p.dst_start, "end" := p.dst_end, '
        "source_start := p.src_start, source_end := p.src_end, kind := p.kind) "
        "ORDER BY p.dst_start) AS spans "
        "FROM passages p JOIN articles a ON a.id = p.src WHERE p.dst = ? "
        "GROUP BY p.src, a.outlet ORDER BY characters DESC, p.src",
        [article_id],
    )
    for row in rows:
        row["share"] = round(row["characters"] / characters, 4) if characters else None
        row["is_parent"] = row["source"] == parent
    return rows


SECONDARY_MIN_CHARACTERS = 80


def _secondary(
    con: duckdb.DuckDBPyConnection, article_id: str, sources: list[dict[str, Any]]
) -> list[str]:
    """Sources besides the parent that the article draws on: their passages cover at least
    ``SECONDARY_MIN_CHARACTERS`` of the article that the parent's do not (a wire report
    plus another agency's quotes), and they are not the article's own ancestors."""
    parent = next((s for s in sources if s["is_parent"]), None)
    if parent is None:
        return []
    ancestors = {
        row[0]
        for row in con.execute(
            "WITH RECURSIVE up(id) AS (SELECT parent FROM articles WHERE id = ? "
            "UNION SELECT a.parent FROM articles a JOIN up ON a.id = up.id "
            "WHERE a.parent IS NOT NULL) SELECT id FROM up WHERE id IS NOT NULL",
            [article_id],
        ).fetchall()
    }
    covered = [(span["start"], span["end"]) for span in parent["spans"]]
    found = []
    for source in sources:
        if source["is_parent"] or source["source"] in ancestors:
            continue
        spans = [(span["start"], span["end"]) for span in source["spans"]]
        if uncovered_length(spans, covered) >= SECONDARY_MIN_CHARACTERS:
            found.append(source["source"])
    return found


def _reused_by(con: duckdb.DuckDBPyConnection, article_id: str) -> list[dict[str, Any]]:
    return _rows(
        con,
        "SELECT l.derivative, a.outlet, l.containment_derivative AS share, "
        "a.parent = ? AS is_parent FROM links l JOIN articles a ON a.id = l.derivative "
        "WHERE l.source = ? ORDER BY a.published_utc NULLS LAST, l.derivative",
        [article_id, article_id],
    )


def _group_by_kind(changes: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {kind: [] for kind in KIND_ORDER}
    for change in changes:
        grouped.setdefault(change.pop("kind"), []).append(change)
    return {kind: items for kind, items in grouped.items() if items}


# --- one family ------------------------------------------------------------------------------


def family_report(store: Store, ident: str) -> dict[str, Any]:
    """A family's lineage tree; ``ident`` is the family id or the id of any article in it.

    ``members`` are in tree order (each article after its parent, siblings by time),
    with their ``depth`` in the tree.
    """
    with _cursor(store) as con:
        family = con.execute(
            "SELECT family FROM articles WHERE family = ? OR id = ? "
            "ORDER BY family = ? DESC LIMIT 1",
            [ident, ident, ident],
        ).fetchone()
        if family is None:
            raise NotInStore(f"no family or article {ident!r} in the store")
        family_id = family[0]
        members = _rows(
            con,
            "SELECT a.id, a.outlet, a.title, a.published_at, a.published_utc, a.time_precision, "
            "a.wire, a.parent, a.parent_score, a.parent_reason, a.relation, "
            "CASE WHEN l.source = a.id THEN l.containment_source "
            "ELSE l.containment_derivative END AS share_from_parent "
            "FROM articles a LEFT JOIN links l ON (l.derivative = a.id AND l.source = a.parent) "
            "OR (l.source = a.id AND l.derivative = a.parent) "
            "WHERE a.family = ? ORDER BY a.published_utc NULLS LAST, a.id",
            [family_id],
        )
    ordered = _tree_order(members)
    for member in ordered:
        member["published_utc"] = _plain(member["published_utc"])
        member["relation"] = _relation(member, len(members))
    return {"family": family_id, "size": len(members), "members": ordered}


def _tree_order(members: list[dict]) -> list[dict]:
    """Depth-first from each root; members arrive sorted by time, so siblings stay in time order."""
    ids = {m["id"] for m in members}
    children: dict[str | None, list[dict]] = {}
    for member in members:
        parent = member["parent"] if member["parent"] in ids else None
        children.setdefault(parent, []).append(member)
    ordered: list[dict] = []
    stack = [(m, 0) for m in reversed(children.get(None, []))]
    seen: set[str] = set()
    while stack:
        member, depth = stack.pop()
        if member["id"] in seen:
            continue
        seen.add(member["id"])
        member["depth"] = depth
        ordered.append(member)
        stack.extend((c, depth + 1) for c in reversed(children.get(member["id"], [])))
    # members on a parent cycle (never expected: lineage breaks cycles) still get a line
    ordered.extend({**m, "depth": 0} for m in members if m["id"] not in seen)
    return ordered


def _relation(member: dict, family_size: int) -> str:
    if not member["parent"]:
        return "original" if family_size > 1 else "unrelated"
    if member.get("relation"):
        return member["relation"]
    reason = (member.get("parent_reason") or "").casefold()
    if "update" in reason or "version" in reason:
        return "update"
    return "copy"


# --- outlets ---------------------------------------------------------------------------------


@dataclass
class OutletStats:
    """How an outlet's articles relate to the rest of the store.

    ``reused_share``: share of the outlet's text (characters of article bodies) inside
    the passages its articles share with their parent in the lineage, when the parent
    belongs to another outlet (a wire story's own updates are not reuse), each
    character counted once. ``wire_share``: the part of that whose family root is a
    wire agency's article (text that came down a chain from the wire).
    ``sources``: the parents' outlets, by characters, with their share.
    ``copied_by``: articles of other outlets whose parent is one of this outlet's.
    """

    outlet: str | None
    wire: bool
    articles: int
    originals: int
    copies: int
    characters: int
    reused_characters: int
    reused_share: float
    wire_share: float
    copied_by: int
    sources: list[dict[str, Any]] = field(default_factory=list)
    # lines this outlet repeats across its articles, left out of reuse (``boilerplate``)
    boilerplate: list[dict[str, Any]] = field(default_factory=list)


def outlet_stats(store: Store) -> list[OutletStats]:
    """Per outlet: articles, originals and copies, the share of its text reused, and from whom
    (the wire-dependence figure). Outlets with most articles first."""
    with _cursor(store) as con:
        # outlets numbered in name order (no outlet last), articles in store order
        con.execute(
            "CREATE OR REPLACE TEMP TABLE outlet_numbers AS SELECT outlet, "
            "(row_number() OVER (ORDER BY outlet NULLS LAST) - 1)::BIGINT AS k "
            "FROM (SELECT DISTINCT outlet FROM articles)"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE article_numbers AS SELECT a.id, "
            "(row_number() OVER (ORDER BY a.position) - 1)::BIGINT AS i, o.k, "
            "coalesce(a.wire, false) AS wire, a.parent IS NOT NULL AS has_parent, "
            "greatest(length(a.text) - coalesce(a.body_start, 0), 0)::BIGINT AS chars "
            "FROM articles a JOIN outlet_numbers o ON o.outlet IS NOT DISTINCT FROM a.outlet"
        )
        outlets = [
            row[0] for row in con.execute("SELECT outlet FROM outlet_numbers ORDER BY k").fetchall()
        ]
        art = con.execute(
            "SELECT k, wire, has_parent, chars FROM article_numbers ORDER BY i"
        ).fetchnumpy()
        # the passages each article shares with its parent, on the article's side
        found = con.execute(
            "WITH child AS (SELECT c.i, c.k, c.id, a.parent, par.k AS parent_k, "
            "r.wire AS root_wire FROM articles a JOIN article_numbers c ON c.id = a.id "
            "JOIN article_numbers par ON par.id = a.parent "
            "JOIN article_numbers r ON r.id = a.root WHERE par.k <> c.k) "
            "SELECT child.i AS dst, child.parent_k AS src_outlet, child.root_wire AS from_wire, "
            "p.dst_start::BIGINT AS lo, p.dst_end::BIGINT AS hi FROM child "
            "JOIN passages p ON p.dst = child.id AND p.src = child.parent "
            "UNION ALL SELECT child.i, child.parent_k, child.root_wire, "
            "p.src_start::BIGINT, p.src_end::BIGINT FROM child "
            "JOIN passages p ON p.src = child.id AND p.dst = child.parent"
        ).fetchnumpy()
        copied = dict(
            con.execute(
                "SELECT p.outlet, count(*) FROM articles c JOIN articles p ON p.id = c.parent "
                "WHERE c.outlet IS DISTINCT FROM p.outlet GROUP BY p.outlet"
            ).fetchall()
        )
        con.execute("DROP TABLE article_numbers")
        con.execute("DROP TABLE outlet_numbers")
        lines = boilerplate_lines(con, outlets_only=True)
    n_out = len(outlets)
    art_outlet = np.asarray(art["k"], dtype=np.int64)
    wire = np.asarray(art["wire"], dtype=bool)
    has_parent = np.asarray(art["has_parent"], dtype=bool)
    chars = np.asarray(art["chars"], dtype=np.int64)
    dst = np.asarray(found["dst"], dtype=np.int64)
    src_outlet = np.asarray(found["src_outlet"], dtype=np.int64)
    from_wire = np.asarray(found["from_wire"], dtype=bool)
    lo = np.asarray(found["lo"], dtype=np.int64)
    hi = np.asarray(found["hi"], dtype=np.int64)
    n = art_outlet.shape[0]
    reused = _per_outlet(union_lengths(dst, lo, hi, n), art_outlet, n_out)
    wire_reused = _per_outlet(
        union_lengths(dst[from_wire], lo[from_wire], hi[from_wire], n), art_outlet, n_out
    )
    # characters each article takes from each source outlet, summed per (outlet, source outlet)
    pair_key, pair = np.unique(dst * n_out + src_outlet, return_inverse=True)
    per_pair = union_lengths(pair.reshape(-1), lo, hi, pair_key.shape[0])
    flow_key, flow = np.unique(
        art_outlet[pair_key // n_out] * n_out + pair_key % n_out,
        return_inverse=True,
    )
    flow_chars = np.bincount(flow.reshape(-1), per_pair, minlength=flow_key.shape[0])
    sources: dict[int, list[tuple[int, int]]] = {}
    for key, amount in zip(flow_key.tolist(), flow_chars.tolist()):
        sources.setdefault(key // n_out, []).append((key % n_out, int(amount)))
    totals = np.bincount(art_outlet, chars, minlength=n_out).astype(np.int64)
    counts = np.bincount(art_outlet, minlength=n_out)
    copies = np.bincount(art_outlet, has_parent, minlength=n_out).astype(np.int64)
    wire_outlet = np.bincount(art_outlet, wire, minlength=n_out) > 0
    stats = []
    for i, outlet in enumerate(outlets):
        total = int(totals[i])
        top = sorted(sources.get(i, []), key=lambda sa: (-sa[1], sa[0]))[:TOP_SOURCES]
        stats.append(
            OutletStats(
                outlet=outlet,
                wire=bool(wire_outlet[i]),
                articles=int(counts[i]),
                originals=int(counts[i] - copies[i]),
                copies=int(copies[i]),
                characters=total,
                reused_characters=int(reused[i]),
                reused_share=_share(reused[i], total),
                wire_share=_share(wire_reused[i], total),
                copied_by=int(copied.get(outlet, 0)),
                sources=[
                    {
                        "outlet": outlets[j],
                        "characters": amount,
                        "share": _share(amount, total),
                    }
                    for j, amount in top
                ],
            )
        )
    for s in stats:
        s.boilerplate = [
            {k: v for k, v in line.items() if k != "outlet"}
            for line in lines
            if line["outlet"] == s.outlet
        ]
    stats.sort(key=lambda s: (-s.articles, s.outlet is None, s.outlet or ""))
    return stats


BOILERPLATE_RULE_TITLES = {
    "outlet": "repeated at the end of this outlet's articles",
    "corpus": "in very many articles",
    "short": "a short line in many articles",
    "credit": "a credit or service line",
}


def boilerplate_lines(store: Store, outlets_only: bool = False) -> list[dict[str, Any]]:
    """The store's boilerplate lines (most articles first): those an outlet repeats
    (``outlets_only``), or all. Empty for a store made before the table existed."""
    with _cursor(store) as con:
        if not _has_table(con, "boilerplate"):
            return []
        where = "WHERE outlet IS NOT NULL " if outlets_only else ""
        return _rows(
            con,
            "SELECT outlet, sample, rule, articles, example, key FROM boilerplate "
            f"{where}ORDER BY outlet NULLS LAST, articles DESC, key",
        )


def _per_outlet(per_article: np.ndarray, art_outlet: np.ndarray, n_out: int) -> np.ndarray:
    return np.bincount(art_outlet, per_article, minlength=n_out).astype(np.int64)


def _share(part: float, total: int) -> float:
    return round(float(part) / total, 4) if total else 0.0


def union_lengths(group: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the length of the union of intervals ``[lo, hi)``, overlaps counted once.

    One sweep over all groups: sorting by (group, start) and offsetting each group far
    past the previous one lets a single running maximum serve every group.
    """
    out = np.zeros(n_groups, dtype=np.int64)
    if group.shape[0] == 0:
        return out
    order = np.lexsort((lo, group))
    g, start, end = group[order], lo[order], hi[order]
    span = int(max(end.max(), 0)) + 1
    offset = g * span
    start, end = start + offset, end + offset
    covered_before = np.concatenate([[np.iinfo(np.int64).min], np.maximum.accumulate(end)[:-1]])
    contribution = np.clip(end - np.maximum(start, covered_before), 0, None)
    return np.bincount(g, contribution, minlength=n_groups).astype(np.int64)


def outlet_rows(store: Store) -> list[dict[str, Any]]:
    """``outlet_stats`` as plain dictionaries (for JSON)."""
    return [asdict(s) for s in outlet_stats(store)]


# --- text for the terminal -------------------------------------------------------------------


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(row: dict) -> str:
    return str(row.get("published_at") or _plain(row.get("published_utc")) or "no date")


def render_article(report: dict[str, Any]) -> list[str]:
    """Lines of text for ``wiretrace show``."""
    a = report["article"]
    lines = [f"{a['id']}  ({a.get('outlet') or 'unknown outlet'})"]
    if a.get("title"):
        lines.append(f"  title:     {a['title']}")
    time_note = f" [{a['time_precision']}]" if a.get("time_precision") else ""
    if a.get("time_problem"):
        time_note += f" ({a['time_problem']})"
    lines.append(f"  published: {_when(a)}{time_note}")
    for key in ("url", "byline"):
        if a.get(key):
            lines.append(f"  {key + ':':<10} {a[key]}")
    lines.append(f"  wire agency: {'yes' if a.get('wire') else 'no'}; {a['characters']} characters")
    family = report["family"]
    lines.append(f"family: {family['id']} ({family['size']} articles)")
    parent = report["parent"]
    if parent:
        lines.append(
            f"parent: {parent['id']} ({parent.get('outlet') or 'unknown outlet'}, "
            f"{_when(parent)}), score {parent.get('score')}"
        )
        if parent.get("share_reused") is not None:
            lines.append(f"  share of this article reused from it: {parent['share_reused']:.0%}")
        if parent.get("reason"):
            lines.append(f"  why this parent: {parent['reason']}")
        link = parent.get("link") or {}
        if link.get("direction_reason"):
            lines.append(f"  direction evidence: {link['direction_reason']}")
    else:
        lines.append("parent: none (an original in its family)")
    root = report["root"]
    if root and root["id"] != a["id"]:
        lines.append(f"root: {root['id']} ({root.get('outlet') or 'unknown outlet'})")
    if report["sources"]:
        lines.append("reused passages, per source:")
        for s in report["sources"]:
            mark = " [parent]" if s["is_parent"] else ""
            share = f"{s['share']:.0%}" if s["share"] is not None else "?"
            lines.append(
                f"  {s['source']} ({s['outlet'] or 'unknown outlet'}){mark}: {s['passages']} "
                f"passages, {s['verbatim']} verbatim, {s['characters']} characters ({share})"
            )
    if report.get("secondary_sources"):
        lines.append("secondary sources: " + ", ".join(report["secondary_sources"]))
    if report["reused_by"]:
        names = ", ".join(r["derivative"] for r in report["reused_by"])
        lines.append(f"reused by {len(report['reused_by'])}: {names}")
    changes = report["changes"]
    if changes is None:
        lines.append("what changed: this store has no changes table (made by an older version)")
    elif parent:
        lines.append(f"what changed against {parent['id']}:")
        if not changes:
            lines.append("  nothing: the same text")
        for kind, items in changes.items():
            lines.append(f"  {KIND_TITLES.get(kind, kind)} ({len(items)}):")
            for item in items:
                detail = f"  [{item['detail']}]" if item.get("detail") else ""
                lines.append(f"    - {_short(item['text'])}{detail}")
    return lines


def render_family(report: dict[str, Any]) -> list[str]:
    """Lines of text for ``wiretrace family``: one line per article, indented by depth."""
    lines = [f"family {report['family']} ({report['size']} articles)"]
    for m in report["members"]:
        share = m.get("share_from_parent")
        reused = f", {share:.0%} from parent" if share is not None and m["parent"] else ""
        parent = f" of {m['parent']}" if m["parent"] else ""
        lines.append(
            f"{'  ' * m['depth']}{m['id']}  {m['outlet'] or 'unknown outlet'}  {_when(m)}  "
            f"{m['relation']}{parent}{reused}"
        )
    return lines


def render_boilerplate(
    rows: list[dict[str, Any]], corpus_lines: list[dict[str, Any]], limit: int = 10
) -> list[str]:
    """Lines of text for ``wiretrace outlets``: each outlet's boilerplate lines (from
    ``outlet_rows``), then the lines that are boilerplate in any outlet (``corpus_lines``)."""

    def described(line: dict[str, Any]) -> str:
        n = line["articles"]
        return (
            f'    - "{_short(line["sample"], 100)}": {line["rule"]} '
            f"({BOILERPLATE_RULE_TITLES.get(line['rule'], line['rule'])}), "
            f"{n} article{'' if n == 1 else 's'}, e.g. {line['example']}"
        )

    def listed(lines: list[dict[str, Any]]) -> list[str]:
        shown = [described(line) for line in lines[:limit]]
        if len(lines) > limit:
            shown.append(f"    … and {len(lines) - limit} more (wiretrace export lists them all)")
        return shown

    out = ["boilerplate lines (recognised, left out of reuse and families):"]
    with_lines = [s for s in rows if s.get("boilerplate")]
    if not with_lines and not corpus_lines:
        out.append("  none")
    for s in with_lines:
        out.append(f"  {s['outlet']}: {len(s['boilerplate'])} lines")
        out.extend(listed(s["boilerplate"]))
    if corpus_lines:
        out.append(f"  any outlet: {len(corpus_lines)} lines")
        out.extend(listed(corpus_lines))
    return out


def render_outlets(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Table rows (header first) for ``wiretrace outlets``, from ``outlet_rows``."""
    table = [
        ["outlet", "wire", "articles", "originals", "copies", "reused", "from wire", "copied by",
         "top sources"],
    ]  # fmt: skip
    for s in rows:
        table.append(
            [
                s["outlet"] or "(no outlet)",
                "yes" if s["wire"] else "",
                str(s["articles"]),
                str(s["originals"]),
                str(s["copies"]),
                f"{s['reused_share']:.0%}",
                f"{s['wire_share']:.0%}",
                str(s["copied_by"]),
                "; ".join(f"{src['outlet']} {src['share']:.0%}" for src in s["sources"]),
            ]
        )
    return table
