"""The web viewer in-process: every page and API route against a real store (sample + hostile)."""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from webstore import (
    COPIED,
    HOSTILE_ID,
    HOSTILE_OUTLET,
    HOSTILE_TITLE,
    IMG_IN_TEXT,
    LONG_ID,
    LONG_LINE,
    SCRIPT_IN_TEXT,
    build_store,
    rows,
)

from wiretrace import api
from wiretrace.model import Passage
from wiretrace.web import create_app, layout
from wiretrace.web.app import MAX_QUERY_BYTES, article_url, family_url, outlet_url, pair_url


@pytest.fixture(scope="module")
def web_db(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("web") / "store.duckdb")


@pytest.fixture(scope="module")
def client(web_db) -> TestClient:
    with TestClient(create_app(web_db)) as test_client:
        yield test_client


def text_div(page: str, index: int = 0) -> str:
    """The visible text of the ``index``-th article text block of a page."""
    blocks = re.findall(r'<div class="text">(.*?)</div>', page, flags=re.S)
    block = re.sub(r'<sup class="badge"[^>]*>.*?</sup>', "", blocks[index])
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def pair_with_both_kinds(db: Path) -> tuple[str, str]:
    found = rows(
        db,
        "SELECT src, dst FROM passages GROUP BY src, dst "
        "HAVING count(DISTINCT kind) = 2 ORDER BY count(*) DESC, src, dst LIMIT 1",
    )
    return found[0]


# --- search -------------------------------------------------------------------------------


def test_search_lists_every_article_across_pages(client, web_db):
    seen, page = [], 1
    while True:
        body = client.get("/api/articles", params={"page": page, "per_page": 7}).json()
        seen += [a["id"] for a in body["articles"]]
        if page >= body["pages"]:
            break
        page += 1
    all_ids = [r[0] for r in rows(web_db, "SELECT id FROM articles")]
    assert body["total"] == len(all_ids)
    assert sorted(seen) == sorted(all_ids)  # each exactly once


def test_search_text_matches_title_or_body_in_any_case(client, web_db):
    body = client.get("/api/articles", params={"q": "GLACIER", "per_page": 200}).json()
    expected = {
        r[0]
        for r in rows(
            web_db,
            "SELECT id FROM articles WHERE lower(title) LIKE '%glacier%' "
            "OR lower(text) LIKE '%glacier%'",
        )
    }
    assert expected and {a["id"] for a in body["articles"]} == expected
    assert body["total"] == len(expected)


def test_search_text_is_literal_not_a_pattern(client):
    body = client.get("/api/articles", params={"q": ".*"}).json()
    assert body["total"] == 0
    hostile = client.get("/api/articles", params={"q": "<script>window.__pwned"}).json()
    assert {a["id"] for a in hostile["articles"]} == {HOSTILE_ID}


def test_search_gives_the_same_answers_without_the_stored_texts_index(client, web_db, tmp_path):
    if client.app.state.store.texts is None:
        pytest.skip("this store has no uncompressed text segments to compare with")
    bare = tmp_path / "bare.duckdb"
    shutil.copy(web_db, bare)  # without its .ngrams folder: search scans the text column
    queries = ["glacier", "GENEVA (AP)", "<script>", "ПОМОР", "新华社", "no such phrase"]
    with TestClient(create_app(bare)) as bare_client:
        assert bare_client.app.state.store.texts is None
        for q in queries:
            params = {"q": q, "per_page": 200}
            indexed = client.get("/api/articles", params=params).json()
            scanned = bare_client.get("/api/articles", params=params).json()
            assert indexed == scanned, q


def test_search_filters_by_outlet_dates_and_family_size(client, web_db):
    by_outlet = client.get("/api/articles", params={"outlet": "The Harbour Courier"}).json()
    assert (
        by_outlet["total"]
        == rows(web_db, "SELECT count(*) FROM articles WHERE outlet = 'The Harbour Courier'")[0][0]
    )
    assert {a["outlet"] for a in by_outlet["articles"]} == {"The Harbour Courier"}

    day = client.get(
        "/api/articles", params={"date_from": "2026-03-16", "date_to": "2026-03-16"}
    ).json()
    assert day["total"] > 0
    assert all(a["published_utc"].startswith("2026-03-16") for a in day["articles"])
    assert (
        day["total"]
        == rows(
            web_db,
            "SELECT count(*) FROM articles WHERE (published_utc AT TIME ZONE 'UTC')::DATE "
            "= DATE '2026-03-16'",
        )[0][0]
    )

    big = client.get("/api/articles", params={"min_family": 4, "per_page": 200}).json()
    sizes = dict(rows(web_db, "SELECT family, size FROM families"))
    assert big["total"] == sum(
        1 for (f,) in rows(web_db, "SELECT family FROM articles") if sizes[f] >= 4
    )
    assert all(a["family_size"] >= 4 for a in big["articles"])
    small = client.get("/api/articles", params={"max_family": 1}).json()
    assert all(a["family_size"] == 1 for a in small["articles"])


def test_search_page_newest_first_with_paging_links(client):
    page = client.get("/", params={"per_page": 10})
    assert page.status_code == 200
    assert 'rel="next"' in page.text and 'rel="prev"' not in page.text
    body = client.get("/api/articles", params={"per_page": 50}).json()
    times = [a["published_utc"] for a in body["articles"] if a["published_utc"]]
    assert times == sorted(times, reverse=True)


def test_search_form_with_blank_fields_is_no_filter(client, web_db):
    page = client.get(
        "/",
        params={"q": "", "outlet": "", "date_from": "", "date_to": "", "min_family": "",
                "max_family": "", "per_page": 200},
    )  # fmt: skip
    assert page.status_code == 200
    total = rows(web_db, "SELECT count(*) FROM articles")[0][0]
    assert f"{total} articles" in page.text


def test_search_rejects_bad_filters_with_a_clear_message(client):
    page = client.get("/", params={"date_from": "yesterday"})
    assert page.status_code == 422 and "date_from" in page.text
    api_answer = client.get("/api/articles", params={"min_family": 0})
    assert api_answer.status_code == 422
    assert any("min_family" in problem for problem in api_answer.json()["detail"])


# --- article ------------------------------------------------------------------------------


def test_article_page_links_every_reused_span_to_its_source(client, web_db):
    article = "glacier-trailnotes"
    page = client.get(article_url(article))
    assert page.status_code == 200
    text = rows(web_db, "SELECT text FROM articles WHERE id = ?", [article])[0][0]
    assert text_div(page.text) == text  # the text is all there, in order, once
    passages = rows(web_db, "SELECT src, dst_start, dst_end FROM passages WHERE dst = ?", [article])
    assert passages
    linked = re.findall(r'<a class="reused [^"]*" href="([^"]+)"[^>]*>(.*?)</a>', page.text, re.S)
    hrefs = {html.unescape(h) for h, _ in linked}
    parent = rows(web_db, "SELECT parent FROM articles WHERE id = ?", [article])[0][0]
    assert pair_url(parent, article) in hrefs
    assert hrefs <= {pair_url(src, article) for src, _, _ in passages}
    covered = "".join(html.unescape(t) for _, t in linked)
    reused_chars = set()
    for _, start, end in passages:
        reused_chars.update(range(start, end))
    assert len(covered) == len(reused_chars)  # every reused character is inside a link


def test_article_api_returns_text_sources_and_changes(client, web_db):
    body = client.get("/api/articles/glacier-trailnotes").json()
    assert (
        body["text"]
        == rows(web_db, "SELECT text FROM articles WHERE id = 'glacier-trailnotes'")[0][0]
    )
    assert {s["id"] for s in body["sources"]} == {
        r[0]
        for r in rows(web_db, "SELECT source FROM links WHERE derivative = 'glacier-trailnotes'")
    }
    assert sum(s["is_parent"] for s in body["sources"]) == 1
    assert (
        len(body["passages"])
        == rows(web_db, "SELECT count(*) FROM passages WHERE dst = 'glacier-trailnotes'")[0][0]
    )
    original = client.get(f"/api/articles/{COPIED}").json()
    assert original["parent"] is None
    assert {d["id"] for d in original["reused_by"]} >= {HOSTILE_ID, LONG_ID}


def test_article_with_unknown_id_is_404(client):
    page = client.get("/article/no-such-article")
    assert page.status_code == 404 and "no-such-article" in page.text
    assert client.get("/api/articles/no-such-article").status_code == 404


def _store_with_changes(web_db: Path, tmp_path: Path, changes: list[tuple] | None) -> Path:
    """A copy of the store whose ``changes`` table holds ``changes`` (None: no table at all)."""
    copy = tmp_path / "changes.duckdb"
    shutil.copy(web_db, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DROP TABLE IF EXISTS changes")
        if changes is not None:
            con.execute(
                "CREATE TABLE changes (article VARCHAR, parent VARCHAR, kind VARCHAR, "
                'text VARCHAR, detail VARCHAR, side VARCHAR, "start" BIGINT, "end" BIGINT)'
            )
            con.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", changes)
    return copy


def test_article_page_shows_what_it_added_and_dropped(web_db, tmp_path):
    article = "glacier-trailnotes"
    text, parent = rows(web_db, "SELECT text, parent FROM articles WHERE id = ?", [article])[0]
    tail = len(text) - 40
    db = _store_with_changes(
        web_db,
        tmp_path,
        [
            (article, parent, "sentence_added", text[tail:], "whole sentence", "article", tail, len(text)),
            (article, parent, "sentence_dropped", "A <dropped> line.", None, "parent", 10, 27),
            (article, parent, "number_changed", "41 -> 42", "in paragraph 2", "article", None, None),
        ],
    )  # fmt: skip
    with TestClient(create_app(db)) as client:
        page = client.get(article_url(article)).text
        body = client.get(f"/api/articles/{article}").json()
    assert "What it added and dropped" in page
    assert html.escape(text[tail:]) in re.findall(
        r'<mark class="added"[^>]*>(.*?)</mark>', page, re.S
    )
    assert "A &lt;dropped&gt; line." in page
    assert "number changed" in page and "41 -&gt; 42" in page
    assert {c["kind"] for c in body["changes"]} == {
        "sentence_added",
        "sentence_dropped",
        "number_changed",
    }


def test_article_page_without_a_changes_table_still_works(web_db, tmp_path):
    db = _store_with_changes(web_db, tmp_path, None)
    with TestClient(create_app(db)) as client:
        page = client.get(article_url("glacier-trailnotes"))
        body = client.get("/api/articles/glacier-trailnotes").json()
        store = client.get("/api/store").json()
    assert page.status_code == 200 and "What it added" not in page.text
    assert body["changes"] is None and store["has_changes"] is False
    assert 'class="reused' in page.text


# --- pair ---------------------------------------------------------------------------------


def test_pair_page_marks_verbatim_and_edited_passages_on_both_sides(client, web_db):
    src, dst = pair_with_both_kinds(web_db)
    page = client.get(pair_url(src, dst))
    assert page.status_code == 200
    passages = rows(
        web_db,
        "SELECT kind, src_start, src_end, dst_start, dst_end FROM passages "
        "WHERE src = ? AND dst = ? ORDER BY dst_start, src_start",
        [src, dst],
    )
    for n, (kind, *_bounds) in enumerate(passages, start=1):
        for side in ("s", "d"):
            match = re.search(
                rf'<mark class="passage (\w+)" id="{side}-p{n}" data-p="([^"]*)"', page.text
            )
            assert match, f"passage {n} not anchored on side {side}"
            if match.group(2) == str(n):  # not overlapped by another passage: its own kind
                assert match.group(1) == kind
    kinds = set(re.findall(r'<mark class="passage (\w+)"', page.text))
    assert kinds == {"verbatim", "edited"}
    source_text, derivative_text = (
        rows(web_db, "SELECT text FROM articles WHERE id = ?", [i])[0][0] for i in (src, dst)
    )
    assert text_div(page.text, 0) == source_text
    assert text_div(page.text, 1) == derivative_text


def test_pair_in_the_wrong_order_redirects_and_unrelated_pair_is_404(client, web_db):
    src, dst = pair_with_both_kinds(web_db)
    answer = client.get(pair_url(dst, src), follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["location"] == pair_url(src, dst)
    assert client.get(pair_url("council-bikelanes", "rovers-draw")).status_code == 404
    assert client.get("/api/pairs", params={"src": "x", "dst": "y"}).status_code == 404


def test_pair_api_matches_the_store(client, web_db):
    src, dst = pair_with_both_kinds(web_db)
    body = client.get("/api/pairs", params={"src": src, "dst": dst}).json()
    assert body["source"]["id"] == src and body["derivative"]["id"] == dst
    stored = rows(web_db, "SELECT count(*) FROM passages WHERE src = ? AND dst = ?", [src, dst])
    assert len(body["passages"]) == stored[0][0]
    assert body["link"]["passages"] >= 1


# --- family, outlets ----------------------------------------------------------------------


def test_family_page_draws_every_member_and_parent_link(client, web_db):
    family, size = rows(web_db, "SELECT family, size FROM families ORDER BY size DESC LIMIT 1")[0]
    page = client.get(family_url(family))
    assert page.status_code == 200
    tree = re.search(r'<svg class="tree".*?</svg>', page.text, re.S).group(0)
    members = rows(web_db, "SELECT id, parent FROM articles WHERE family = ?", [family])
    assert tree.count("<circle") == size == len(members)
    with_parent = [(i, p) for i, p in members if p]
    assert tree.count('class="edge"') == len(with_parent)
    for member, parent in with_parent:
        assert html.escape(pair_url(parent, member)) in tree
    timeline = re.search(r'<svg class="timeline".*?</svg>', page.text, re.S).group(0)
    dated = rows(web_db, "SELECT count(published_utc) FROM articles WHERE family = ?", [family])[0][
        0
    ]
    assert timeline.count("<circle") == dated
    body = client.get(f"/api/families/{quote(family, safe='')}").json()
    assert body["size"] == size and len(body["members"]) == size and not body["truncated"]
    assert client.get("/family/nothing-here").status_code == 404


def test_outlet_page_counts_originals_and_copies(client, web_db):
    outlet = "The Harbour Courier"
    total, copies = rows(
        web_db, "SELECT count(*), count(parent) FROM articles WHERE outlet = ?", [outlet]
    )[0]
    body = client.get(f"/api/outlets/{quote(outlet, safe='')}").json()
    assert (body["articles"], body["copies"], body["originals"]) == (total, copies, total - copies)
    assert (
        sum(p["originals"] + p["copies"] for p in body["periods"])
        == rows(web_db, "SELECT count(published_utc) FROM articles WHERE outlet = ?", [outlet])[0][
            0
        ]
    )
    page = client.get(outlet_url(outlet))
    assert page.status_code == 200
    chart = re.search(r'<svg class="chart".*?</svg>', page.text, re.S).group(0)
    assert chart.count('class="bar"') == len(body["periods"])
    assert client.get("/outlet/Nobody Daily").status_code == 404


def test_outlet_page_lists_the_lines_it_repeats_as_boilerplate(client, web_db):
    # the sample's Harbour Courier ends every article with a newsletter prompt and a copyright
    outlet = "The Harbour Courier"
    stored = rows(
        web_db,
        "SELECT sample, articles, example FROM boilerplate WHERE outlet = ? "
        "ORDER BY articles DESC, key",
        [outlet],
    )
    body = client.get(f"/api/outlets/{quote(outlet, safe='')}").json()
    assert [(b["sample"], b["articles"], b["example"]) for b in body["boilerplate"]] == stored
    assert {b["rule"] for b in body["boilerplate"]} == {"outlet"}
    assert any(sample.startswith("Sign up for our morning newsletter") for sample, _, _ in stored)
    page = client.get(outlet_url(outlet)).text
    listed = re.search(r'<ul class="boilerplate">(.*?)</ul>', page, re.S).group(1)
    assert listed.count("<li>") == len(stored)
    assert stored[0][0] in html.unescape(listed)
    assert html.escape(article_url(stored[0][2])) in listed
    # an outlet that repeats nothing says so
    other = client.get(outlet_url("Associated Press")).text
    assert "No boilerplate lines found." in other


def test_outlet_top_sources_name_where_copies_came_from(client, web_db):
    body = client.get(f"/api/outlets/{quote(HOSTILE_OUTLET, safe='')}").json()
    assert body["top_sources"] == [{"outlet": "Associated Press", "articles": 1}]
    ap = client.get("/api/outlets/Associated Press").json()
    copiers = {c["outlet"]: c["articles"] for c in ap["top_copiers"]}
    assert copiers[HOSTILE_OUTLET] == 1 and ap["copied"] == 1


def test_outlets_index_lists_every_outlet(client, web_db):
    body = client.get("/api/outlets").json()
    outlets = {r[0] for r in rows(web_db, "SELECT DISTINCT outlet FROM articles")}
    assert {o["outlet"] for o in body} == outlets
    assert sum(o["articles"] for o in body) == rows(web_db, "SELECT count(*) FROM articles")[0][0]
    page = client.get("/outlets").text
    assert html.escape(outlet_url(HOSTILE_OUTLET)) in page


# --- hostile text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        article_url(HOSTILE_ID),
        pair_url(COPIED, HOSTILE_ID),
        "/?q=claim",
        family_url(COPIED),
        outlet_url(HOSTILE_OUTLET),
        "/outlets",
    ],
)
def test_hostile_text_is_escaped_everywhere(client, url):
    page = client.get(url)
    assert page.status_code == 200, url
    assert "<script>window.__pwned" not in page.text
    assert "<img src=x" not in page.text and "<b>Bold</b>" not in page.text
    assert "<i>Evil" not in page.text
    assert "window.__pwned" in page.text or "Evil &amp; Co" in page.text  # shown, as text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


def test_hostile_article_text_round_trips_as_text(client, web_db):
    page = client.get(article_url(HOSTILE_ID)).text
    stored = rows(web_db, "SELECT text FROM articles WHERE id = ?", [HOSTILE_ID])[0][0]
    assert text_div(page) == stored  # markup in the text comes back as the same characters
    assert SCRIPT_IN_TEXT in text_div(page) and IMG_IN_TEXT in text_div(page)
    headline = re.search(r'<h1 class="headline">(.*?)</h1>', page, re.S).group(1)
    assert html.unescape(headline) == HOSTILE_TITLE and "<" not in headline


def test_one_megabyte_line_renders_whole(client):
    page = client.get(article_url(LONG_ID))
    assert page.status_code == 200
    assert LONG_LINE in text_div(page.text)
    body = client.get(f"/api/articles/{LONG_ID}").json()
    assert LONG_LINE in body["text"]


# --- query --------------------------------------------------------------------------------


@dataclass
class FakeMatch:
    article_id: str
    title: str | None
    outlet: str | None
    containment_query: float
    containment_source: float
    similarity: float
    passages: list[Passage]


@pytest.fixture
def fake_query(monkeypatch, web_db):
    """api.query answering with the copied sample article, recording its calls."""
    calls = []
    source = rows(web_db, "SELECT text, title, outlet FROM articles WHERE id = ?", [COPIED])[0]

    def query(text, db):
        # the viewer passes the store it opened once (api.open_store), which knows its path
        calls.append((text, Path(getattr(db, "path", db))))
        n = min(len(text), 30)
        return [
            FakeMatch(COPIED, source[1], source[2], 0.9, 0.8, 0.85,
                      [Passage(0, n, 0, n, "verbatim", 1.0)])
        ]  # fmt: skip

    monkeypatch.setattr(api, "query", query, raising=False)
    return calls


def test_query_page_shows_likely_sources(client, fake_query, web_db):
    text = "Pasted <b>article</b> text that is long enough to match."
    page = client.post("/query", data={"text": text})
    assert page.status_code == 200
    assert fake_query == [(text, web_db)]
    assert html.escape(article_url(COPIED)) in page.text
    assert "90% of your text is in it" in page.text
    assert html.escape(text[:30]) in page.text
    body = client.post("/api/query", json={"text": text}).json()
    assert body["matches"][0]["article_id"] == COPIED
    passage = body["matches"][0]["passages"][0]
    assert passage["query_text"] == text[:30]
    stored = rows(web_db, "SELECT text FROM articles WHERE id = ?", [COPIED])[0][0]
    assert passage["article_text"] == stored[:30]


def test_query_page_form_and_empty_text(client, fake_query):
    form = client.get("/query")
    assert form.status_code == 200 and '<textarea id="text" name="text"' in form.text
    empty = client.post("/query", data={"text": "   "})
    assert empty.status_code == 422 and "Paste the text" in empty.text
    assert fake_query == []


def test_query_over_the_size_limit_is_413_with_a_clear_message(client, fake_query):
    big = "é" * (MAX_QUERY_BYTES // 2 + 1)  # 2 bytes each: just over the limit
    page = client.post("/query", data={"text": big})
    assert page.status_code == 413 and "at most 200,000 bytes" in page.text
    answer = client.post("/api/query", json={"text": big})
    assert answer.status_code == 413 and "200,000 bytes" in answer.json()["detail"]
    huge = client.post("/api/query", content=b'{"text": "' + b"a" * 2_000_000 + b'"}')
    assert huge.status_code == 413

    def chunks():  # no Content-Length: the cap applies while reading
        for _ in range(100):
            yield b"a" * 10_000

    streamed = client.post("/query", content=chunks())
    assert streamed.status_code == 413
    assert fake_query == []


def test_query_page_without_api_query_says_so(client, monkeypatch):
    monkeypatch.delattr(api, "query", raising=False)
    answer = client.post("/api/query", json={"text": "some text"})
    assert answer.status_code == 501


def test_query_on_a_store_without_an_index_says_how_to_build_one(client, monkeypatch):
    index = pytest.importorskip("wiretrace.index")

    def query(text, db):
        raise index.IndexMissing("the store has no n-gram index")

    monkeypatch.setattr(api, "query", query, raising=False)
    page = client.post("/query", data={"text": "some text"})
    assert page.status_code == 409 and "wiretrace add" in page.text
    answer = client.post("/api/query", json={"text": "some text"})
    assert answer.status_code == 409 and "n-gram index" in answer.json()["detail"]


def test_query_with_the_real_api_finds_the_copied_article(client, web_db):
    if not hasattr(api, "query"):
        pytest.skip("wiretrace.api.query does not exist yet")
    text = rows(web_db, "SELECT text FROM articles WHERE id = ?", [COPIED])[0][0]
    body = client.post("/api/query", json={"text": text}).json()
    assert COPIED in [m["article_id"] for m in body["matches"]]
    page = client.post("/query", data={"text": text})
    assert page.status_code == 200 and html.escape(article_url(COPIED)) in page.text


# --- API docs, read-only, CLI -------------------------------------------------------------


def test_openapi_documents_every_api_route(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/store", "/api/articles", "/api/articles/{article_id}", "/api/pairs",
        "/api/families/{family}", "/api/outlets", "/api/outlets/{outlet}", "/api/query",
    } <= paths  # fmt: skip
    assert not any(not p.startswith("/api/") for p in paths)
    assert client.get("/docs").status_code == 200
    page = client.get("/api").text
    assert all(html.escape(p) in page for p in paths)


def test_store_summary_counts(client, web_db):
    body = client.get("/api/store").json()
    assert body["articles"] == rows(web_db, "SELECT count(*) FROM articles")[0][0]
    assert body["passages"] == rows(web_db, "SELECT count(*) FROM passages")[0][0]


def test_viewer_opens_the_store_read_only(web_db, tmp_path):
    copy = tmp_path / "ro.duckdb"
    shutil.copy(web_db, copy)
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    app = create_app(copy)
    with TestClient(app) as client:
        for url in ("/", article_url(COPIED), family_url(COPIED), "/outlets", "/api/store"):
            assert client.get(url).status_code == 200
        with app.state.store.cursor() as cur, pytest.raises(duckdb.Error, match="read-only"):
            cur.execute("CREATE TABLE intruder (x INT)")
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


def test_concurrent_requests_each_get_their_own_cursor(client):
    from concurrent.futures import ThreadPoolExecutor

    urls = [article_url(COPIED), family_url(COPIED), "/api/outlets", "/?q=ice", "/outlets"] * 8
    serial = {url: client.get(url).text for url in set(urls)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(client.get, urls))
    assert all(a.status_code == 200 for a in answers)
    assert all(a.text == serial[url] for a, url in zip(answers, urls))


def test_static_assets_are_served(client):
    assert "white-space: pre-wrap" in client.get("/static/style.css").text
    assert client.get("/static/viewer.js").status_code == 200


def test_serve_command_binds_to_localhost_by_default(web_db, monkeypatch):
    import uvicorn

    from wiretrace.cli import app as cli_app

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    result = CliRunner().invoke(cli_app, ["serve", "--db", str(web_db)])
    assert result.exit_code == 0, result.output
    ((served, options),) = calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8000
    assert served.state.store.path == web_db
    missing = CliRunner().invoke(cli_app, ["serve", "--db", str(web_db.with_name("none.duckdb"))])
    assert missing.exit_code == 2 and "no store" in missing.output


# --- layout -------------------------------------------------------------------------------


def test_segments_cut_at_every_boundary_with_covering_marks():
    pieces = layout.segments("abcdefghij", [(2, 6, "x"), (4, 8, "y"), (9, 99, "z"), (5, 5, "e")])
    assert [(p.text, p.marks) for p in pieces] == [
        ("ab", ()), ("cd", ("x",)), ("ef", ("x", "y")), ("gh", ("y",)), ("i", ()), ("j", ("z",)),
    ]  # fmt: skip
    assert "".join(p.text for p in pieces) == "abcdefghij"
    assert [(p.text, p.marks) for p in layout.segments("", [(0, 3, "x")])] == []


def test_tree_layout_puts_children_right_of_parents_and_survives_cycles():
    tree = layout.tree_layout([("r", None), ("a", "r"), ("b", "r"), ("c", "a"), ("x", "elsewhere")])
    nodes = {n.id: n for n in tree.nodes}
    assert nodes["a"].x > nodes["r"].x and nodes["c"].x > nodes["a"].x
    assert nodes["r"].depth == 0 and nodes["c"].depth == 2 and nodes["x"].depth == 0
    assert nodes["a"].y < nodes["r"].y < nodes["b"].y  # parent centred on its children
    assert {(e.parent, e.child) for e in tree.edges} == {("r", "a"), ("r", "b"), ("a", "c")}
    cycle = layout.tree_layout([("p", "q"), ("q", "p")])
    assert {n.id for n in cycle.nodes} == {"p", "q"} and len(cycle.edges) == 1


def test_timeline_orders_by_time_and_skips_undated():
    t0, t1 = datetime(2026, 3, 1, 8), datetime(2026, 3, 1, 20)
    line = layout.timeline_layout([("late", "early", t1), ("early", None, t0), ("n", None, None)])
    assert [p.id for p in line.points] == ["early", "late"]
    assert line.points[0].x < line.points[1].x and line.undated == ["n"]
    assert [(a.id, b.id) for a, b in line.edges] == [("early", "late")]


def test_stacked_bars_scale_to_the_largest_total():
    chart = layout.stacked_bars([(date(2026, 1, 1), 3, 1), (date(2026, 2, 1), 0, 2)])
    first, second = chart.bars
    assert first.lower_height + first.upper_height == pytest.approx(chart.baseline - 10)
    assert second.lower_height == 0 and second.upper_height == pytest.approx(
        (first.lower_height + first.upper_height) / 2
    )
    assert chart.bars[0].x < chart.bars[1].x
