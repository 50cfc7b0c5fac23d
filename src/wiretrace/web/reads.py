"""What the viewer reads from a store: one function per page, each a few indexed-size queries.

The viewer only reads. :class:`StoreReader` holds one read-only DuckDB connection and hands
each request its own cursor (a DuckDB connection must not be shared across threads; cursors
of one connection may be used one per thread).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..store import connect
from .schemas import (
    ArticleDetail,
    ArticleSummary,
    ArticleText,
    BoilerplateLine,
    Change,
    FamilyDetail,
    FamilyLink,
    FamilyMember,
    LinkedArticle,
    LinkFacts,
    OutletCount,
    OutletDetail,
    OutletSummary,
    PairDetail,
    ReusePeriod,
    SearchFilters,
    SearchPage,
    StoredPassage,
    StoreSummary,
)

Cursor = duckdb.DuckDBPyConnection

MAX_FAMILY_MEMBERS = 1000

# The columns of ArticleSummary, in its field order; times are read as naive UTC.
_SUMMARY_COLUMNS = (
    "a.id, a.title, a.outlet, a.published_at, a.published_utc AT TIME ZONE 'UTC', "
    "a.family, f.size, a.parent, a.wire"
)
_SUMMARY_FIELDS = tuple(ArticleSummary.model_fields)


class StoreReader:
    """One read-only connection to a store, and a cursor per request."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._connection = connect(self.path, read_only=True)
        self._lock = threading.Lock()
        with self.cursor() as cur:
            self.has_changes = _has_table(cur, "changes")
            self.summary = _store_summary(cur, self.path, self.has_changes)
        self.texts = TextScanner.open(self.path)

    @contextmanager
    def cursor(self) -> Iterator[Cursor]:
        with self._lock:
            cur = self._connection.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        self._connection.close()


class TextScanner:
    """Phrase search over the uncompressed texts a run keeps beside its store (its n-gram index).

    Scanning those memory-mapped Arrow columns with RE2 costs a fraction of scanning DuckDB's
    compressed ``text`` column, which must be decompressed first. Without them (an older
    store, or one copied without its ``.ngrams`` folder) search scans the column instead.
    """

    def __init__(self, segments: list[tuple[int, pa.ChunkedArray]]) -> None:
        self.segments = segments

    @classmethod
    def open(cls, path: Path) -> TextScanner | None:
        try:
            from ..index import IndexMissing, StoreIndex
        except ImportError:
            return None
        try:
            with StoreIndex(path) as index:
                return cls([(segment.first, segment.texts) for segment in index.text_segments])
        except (IndexMissing, OSError, duckdb.Error):
            return None

    def positions(self, phrase: str) -> np.ndarray:
        """Store positions of the articles whose text contains ``phrase`` in any case."""
        found = [
            np.flatnonzero(
                pc.match_substring(texts, phrase, ignore_case=True).to_numpy(zero_copy_only=False)
            )
            + first
            for first, texts in self.segments
        ]
        return np.concatenate(found) if found else np.zeros(0, np.int64)


def _has_table(cur: Cursor, name: str) -> bool:
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return cur.execute(sql, [name]).fetchone()[0] > 0


def _store_summary(cur: Cursor, path: Path, has_changes: bool) -> StoreSummary:
    def count(sql: str) -> int:
        return cur.execute(sql).fetchone()[0]

    return StoreSummary(
        path=str(path),
        articles=count("SELECT count(*) FROM articles"),
        links=count("SELECT count(*) FROM links"),
        passages=count("SELECT count(*) FROM passages"),
        families=count("SELECT count(*) FROM families"),
        multi_article_families=count("SELECT count(*) FROM families WHERE size > 1"),
        rejections=count("SELECT count(*) FROM rejections"),
        has_changes=has_changes,
    )


def _summary(row: tuple) -> ArticleSummary:
    return ArticleSummary(**dict(zip(_SUMMARY_FIELDS, row)))


def case_insensitive_pattern(phrase: str) -> str:
    """An RE2 pattern matching ``phrase`` literally in any case (RE2 scans faster than ILIKE)."""
    special = set("\\.+*?()|[]{}^$")
    return "(?i)" + "".join("\\" + ch if ch in special else ch for ch in phrase)


# --- search -------------------------------------------------------------------------------


def search_articles(
    cur: Cursor,
    filters: SearchFilters,
    page: int,
    per_page: int,
    texts: TextScanner | None = None,
) -> SearchPage:
    """Articles matching every filter given, newest first, one page of them."""
    where, params = _search_conditions(cur, filters, texts)
    sizes = "LEFT JOIN families f ON f.family = a.family"
    by_size = filters.min_family is not None or filters.max_family is not None
    # Filter once into a narrow table, then count it and join the columns shown for just the
    # page's rows.
    sql = (
        "WITH hits AS MATERIALIZED (SELECT a.id, a.published_utc FROM articles a "
        f"{sizes if by_size else ''} WHERE {where}), "
        "shown AS (SELECT * FROM hits ORDER BY published_utc DESC NULLS LAST, id LIMIT ? OFFSET ?) "
        f"SELECT {_SUMMARY_COLUMNS}, (SELECT count(*) FROM hits) FROM shown s "
        f"JOIN articles a ON a.id = s.id {sizes} "
        "ORDER BY s.published_utc DESC NULLS LAST, s.id"
    )
    try:
        rows = cur.execute(sql, [*params, per_page, (page - 1) * per_page]).fetchall()
        if rows:
            total = rows[0][-1]
        else:
            count_sql = f"SELECT count(*) FROM articles a {sizes if by_size else ''} WHERE {where}"
            total = cur.execute(count_sql, params).fetchall()[0][0]
    finally:
        if _TEXT_HITS in where:
            cur.unregister(_TEXT_HITS)
    return SearchPage(
        filters=filters,
        total=total,
        page=page,
        per_page=per_page,
        pages=max(1, math.ceil(total / per_page)),
        articles=[_summary(row[:-1]) for row in rows],
    )


_TEXT_HITS = "text_hits"  # registered on the request's own cursor, so requests never share it


def _search_conditions(
    cur: Cursor, filters: SearchFilters, texts: TextScanner | None
) -> tuple[str, list[Any]]:
    conditions, params = ["TRUE"], []
    if filters.q:
        pattern = case_insensitive_pattern(filters.q)
        if texts is not None:
            cur.register(_TEXT_HITS, pa.table({"position": texts.positions(filters.q)}))
            conditions.append(
                f"(regexp_matches(a.title, ?) OR a.position IN (SELECT position FROM {_TEXT_HITS}))"
            )
            params.append(pattern)
        else:
            conditions.append("(regexp_matches(a.title, ?) OR regexp_matches(a.text, ?))")
            params += [pattern, pattern]
    if filters.outlet:
        conditions.append("a.outlet = ?")
        params.append(filters.outlet)
    if filters.date_from:
        conditions.append("a.published_utc >= ?::TIMESTAMP AT TIME ZONE 'UTC'")
        params.append(filters.date_from.isoformat())
    if filters.date_to:
        conditions.append("a.published_utc < ?::TIMESTAMP AT TIME ZONE 'UTC'")
        params.append((filters.date_to + timedelta(days=1)).isoformat())
    if filters.min_family is not None:
        conditions.append("f.size >= ?")
        params.append(filters.min_family)
    if filters.max_family is not None:
        conditions.append("f.size <= ?")
        params.append(filters.max_family)
    return " AND ".join(conditions), params


def outlet_names(cur: Cursor) -> list[str]:
    sql = "SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL ORDER BY outlet"
    return [row[0] for row in cur.execute(sql).fetchall()]


# --- one article --------------------------------------------------------------------------


def read_article(cur: Cursor, article_id: str, with_changes: bool) -> ArticleDetail | None:
    sql = (
        f"SELECT {_SUMMARY_COLUMNS}, a.url, a.byline, a.root, a.parent_score, a.parent_reason, "
        "a.time_precision, a.body_start, a.text FROM articles a "
        "LEFT JOIN families f ON f.family = a.family WHERE a.id = ?"
    )
    row = cur.execute(sql, [article_id]).fetchone()
    if row is None:
        return None
    n = len(_SUMMARY_FIELDS)
    summary = dict(zip(_SUMMARY_FIELDS, row[:n]))
    extra = dict(
        zip(
            ("url", "byline", "root", "parent_score", "parent_reason", "time_precision",
             "body_start", "text"),
            row[n:],
        )
    )  # fmt: skip
    return ArticleDetail(
        **summary,
        **extra,
        sources=_linked(cur, article_id, summary["parent"], incoming=True),
        reused_by=_linked(cur, article_id, None, incoming=False),
        passages=_passages(cur, "dst = ?", [article_id], "dst_start, src"),
        changes=read_changes(cur, article_id) if with_changes else None,
    )


def _linked(
    cur: Cursor, article_id: str, parent: str | None, incoming: bool
) -> list[LinkedArticle]:
    here, there = ("derivative", "source") if incoming else ("source", "derivative")
    sql = (
        "SELECT o.id, o.title, o.outlet, o.published_utc AT TIME ZONE 'UTC', "
        "l.containment_source, l.containment_derivative, l.passages, l.direction_reason, "
        "d.parent = l.source "
        f"FROM links l JOIN articles o ON o.id = l.{there} "
        "JOIN articles d ON d.id = l.derivative "
        f"WHERE l.{here} = ? ORDER BY l.containment_derivative DESC, o.id"
    )
    fields = tuple(LinkedArticle.model_fields)
    rows = cur.execute(sql, [article_id]).fetchall()
    return [LinkedArticle(**dict(zip(fields, row))) for row in rows]


def _passages(cur: Cursor, where: str, params: list[Any], order: str) -> list[StoredPassage]:
    sql = (
        "SELECT src, dst, src_start, src_end, dst_start, dst_end, kind, similarity "
        f"FROM passages WHERE {where} ORDER BY {order}"
    )
    fields = tuple(StoredPassage.model_fields)
    return [StoredPassage(**dict(zip(fields, row))) for row in cur.execute(sql, params).fetchall()]


def read_changes(cur: Cursor, article_id: str) -> list[Change]:
    sql = (
        "SELECT parent, kind, text::VARCHAR, detail::VARCHAR, side::VARCHAR, "
        'TRY_CAST("start" AS BIGINT), TRY_CAST("end" AS BIGINT) '
        'FROM changes WHERE article = ? ORDER BY kind, "start" NULLS LAST, text'
    )
    fields = tuple(Change.model_fields)
    return [Change(**dict(zip(fields, row))) for row in cur.execute(sql, [article_id]).fetchall()]


# --- a pair -------------------------------------------------------------------------------


def read_pair(cur: Cursor, source: str, derivative: str) -> PairDetail | None:
    """The two articles and their passages, or None when they share no aligned passage."""
    passages = _passages(cur, "src = ? AND dst = ?", [source, derivative], "dst_start, src_start")
    if not passages:
        return None
    texts = {}
    sql = (
        f"SELECT {_SUMMARY_COLUMNS}, a.text FROM articles a "
        "LEFT JOIN families f ON f.family = a.family WHERE a.id = ?"
    )
    fields = (*_SUMMARY_FIELDS, "text")
    for article_id in (source, derivative):  # one lookup each: an IN list scans every text
        row = cur.execute(sql, [article_id]).fetchone()
        texts[article_id] = ArticleText(**dict(zip(fields, row)))
    link_sql = (
        "SELECT containment_source, containment_derivative, passages, shared_features, "
        "direction_reason FROM links WHERE source = ? AND derivative = ?"
    )
    link = cur.execute(link_sql, [source, derivative]).fetchone()
    return PairDetail(
        source=texts[source],
        derivative=texts[derivative],
        link=LinkFacts(**dict(zip(LinkFacts.model_fields, link))) if link else None,
        passages=passages,
    )


def pair_exists(cur: Cursor, source: str, derivative: str) -> bool:
    sql = "SELECT count(*) FROM passages WHERE src = ? AND dst = ?"
    return cur.execute(sql, [source, derivative]).fetchone()[0] > 0


# --- a family -----------------------------------------------------------------------------


def read_family(
    cur: Cursor, family: str, with_links: bool = True, limit: int = MAX_FAMILY_MEMBERS
) -> FamilyDetail | None:
    """A family's first ``limit`` members by time, and the links among them."""
    head = cur.execute(
        "SELECT size, outlets, first_published AT TIME ZONE 'UTC', "
        "last_published AT TIME ZONE 'UTC' FROM families WHERE family = ?",
        [family],
    ).fetchone()
    if head is None:
        return None
    sql = (
        f"SELECT {_SUMMARY_COLUMNS}, a.root, a.parent_score, a.parent_reason FROM articles a "
        "LEFT JOIN families f ON f.family = a.family WHERE a.family = ? "
        "ORDER BY a.published_utc NULLS LAST, a.id LIMIT ?"
    )
    fields = tuple(FamilyMember.model_fields)
    rows = cur.execute(sql, [family, limit]).fetchall()
    members = [FamilyMember(**dict(zip(fields, row))) for row in rows]
    links = []
    if with_links:
        link_sql = (
            "WITH m AS (SELECT id FROM articles WHERE family = ? "
            "ORDER BY published_utc NULLS LAST, id LIMIT ?) "
            "SELECT l.source, l.derivative, l.passages, l.containment_source, "
            "l.containment_derivative FROM links l JOIN m s ON s.id = l.source "
            "JOIN m d ON d.id = l.derivative ORDER BY l.source, l.derivative"
        )
        link_fields = tuple(FamilyLink.model_fields)
        links = [
            FamilyLink(**dict(zip(link_fields, row)))
            for row in cur.execute(link_sql, [family, limit]).fetchall()
        ]
    size, outlets, first, last = head
    return FamilyDetail(
        family=family,
        size=size,
        outlets=outlets,
        first_published=first,
        last_published=last,
        members=members,
        links=links,
        truncated=size > len(members),
    )


# --- outlets ------------------------------------------------------------------------------


_OUTLET_COUNTS = "count(*), count(*) FILTER (WHERE a.parent IS NULL), count(*) FILTER (WHERE a.parent IS NOT NULL)"


def list_outlets(cur: Cursor) -> list[OutletSummary]:
    sql = (
        f"WITH counts AS (SELECT a.outlet, {_OUTLET_COUNTS} FROM articles a "
        "WHERE a.outlet IS NOT NULL GROUP BY a.outlet), "
        "copied AS (SELECT p.outlet, count(DISTINCT p.id) AS n FROM articles c "
        "JOIN articles p ON p.id = c.parent GROUP BY p.outlet) "
        "SELECT counts.*, coalesce(copied.n, 0) FROM counts "
        "LEFT JOIN copied ON copied.outlet = counts.outlet ORDER BY 2 DESC, 1"
    )
    fields = tuple(OutletSummary.model_fields)
    return [OutletSummary(**dict(zip(fields, row))) for row in cur.execute(sql).fetchall()]


def read_outlet(cur: Cursor, outlet: str, recent: int = 30) -> OutletDetail | None:
    counts = cur.execute(
        f"SELECT {_OUTLET_COUNTS}, min(a.published_utc AT TIME ZONE 'UTC'), "
        "max(a.published_utc AT TIME ZONE 'UTC') FROM articles a WHERE a.outlet = ?",
        [outlet],
    ).fetchone()
    if not counts[0]:
        return None
    articles, originals, copies, first, last = counts
    copied = cur.execute(
        "SELECT count(DISTINCT p.id) FROM articles c JOIN articles p ON p.id = c.parent "
        "WHERE p.outlet = ?",
        [outlet],
    ).fetchone()[0]
    unit = period_unit(first.date() if first else None, last.date() if last else None)
    periods = cur.execute(
        f"SELECT date_trunc('{unit}', a.published_utc AT TIME ZONE 'UTC')::DATE AS period, "
        "count(*) FILTER (WHERE a.parent IS NULL), count(*) FILTER (WHERE a.parent IS NOT NULL) "
        "FROM articles a WHERE a.outlet = ? AND a.published_utc IS NOT NULL "
        "GROUP BY period ORDER BY period",
        [outlet],
    ).fetchall()
    recent_rows = cur.execute(
        f"SELECT {_SUMMARY_COLUMNS} FROM articles a LEFT JOIN families f ON f.family = a.family "
        "WHERE a.outlet = ? ORDER BY a.published_utc DESC NULLS LAST, a.id LIMIT ?",
        [outlet, recent],
    ).fetchall()
    return OutletDetail(
        outlet=outlet,
        articles=articles,
        originals=originals,
        copies=copies,
        copied=copied,
        top_sources=_top_outlets(cur, outlet, "c.outlet = ?", "p.outlet"),
        top_copiers=_top_outlets(cur, outlet, "p.outlet = ?", "c.outlet"),
        period_unit=unit,
        periods=[ReusePeriod(period=p, originals=o, copies=c) for p, o, c in periods],
        recent=[_summary(row) for row in recent_rows],
        boilerplate=_outlet_boilerplate(cur, outlet),
    )


def _outlet_boilerplate(cur: Cursor, outlet: str, limit: int = 50) -> list[BoilerplateLine]:
    """The lines an outlet repeats across its articles (none in a store made before the
    boilerplate table existed)."""
    exists = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'boilerplate'"
    if not cur.execute(exists).fetchone()[0]:
        return []
    rows = cur.execute(
        "SELECT sample, rule, articles, example FROM boilerplate WHERE outlet = ? "
        "ORDER BY articles DESC, key LIMIT ?",
        [outlet, limit],
    ).fetchall()
    fields = tuple(BoilerplateLine.model_fields)
    return [BoilerplateLine(**dict(zip(fields, row))) for row in rows]


def _top_outlets(cur: Cursor, outlet: str, where: str, group: str) -> list[OutletCount]:
    sql = (
        f"SELECT {group}, count(*) FROM articles c JOIN articles p ON p.id = c.parent "
        f"WHERE {where} GROUP BY {group} ORDER BY 2 DESC, 1 NULLS LAST LIMIT 10"
    )
    rows = cur.execute(sql, [outlet]).fetchall()
    return [OutletCount(outlet=name, articles=n) for name, n in rows]


def period_unit(first: date | None, last: date | None) -> str:
    """Bars by day for a few weeks of news, by week for a few months, by month beyond."""
    if first is None or last is None:
        return "day"
    span = (last - first).days
    if span <= 45:
        return "day"
    return "week" if span <= 200 else "month"


# --- texts for the query page ---------------------------------------------------------------


def article_texts(cur: Cursor, ids: list[str]) -> dict[str, str]:
    texts = {}
    for article_id in dict.fromkeys(ids):  # one lookup each: an IN list scans every text
        row = cur.execute("SELECT text FROM articles WHERE id = ?", [article_id]).fetchone()
        if row is not None:
            texts[article_id] = row[0]
    return texts
