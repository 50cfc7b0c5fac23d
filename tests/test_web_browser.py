"""The viewer in a real headless Chromium (Debian's package, driven by Playwright).

The app runs under uvicorn in a thread on a free port. Skips, saying why, when Chromium or
Playwright is missing (``make test`` installs Debian's chromium where it can).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from webstore import (
    COPIED,
    HOSTILE_ID,
    HOSTILE_TITLE,
    LONG_ID,
    LONG_LINE,
    SCRIPT_IN_TEXT,
    build_store,
)

from wiretrace.web import create_app
from wiretrace.web.app import article_url, pair_url

CHROMIUM = Path(os.environ.get("WIRETRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium when run as root "
        "with apt (or set WIRETRACE_CHROMIUM)",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The viewer on a sample store with hostile articles, served by uvicorn: its base URL."""
    import uvicorn

    db = build_store(tmp_path_factory.mktemp("browser") / "store.duckdb")
    port = free_port()
    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvicorn_server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
        except playwright_sync.Error as error:
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {error}")
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records dialogs (alert, confirm) and script errors."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.dialogs = []
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    context.close()


def no_horizontal_overflow(tab) -> bool:
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_pair_page_highlights_passages_and_screenshots(server, page, tmp_path):
    page.goto(server + pair_url("glacier-courier", "glacier-trailnotes"))
    sides = page.locator("section.side")
    assert sides.count() == 2
    source_marks = sides.nth(0).locator("mark.passage")
    derivative_marks = sides.nth(1).locator("mark.passage")
    assert source_marks.count() > 0 and derivative_marks.count() > 0
    kinds = set(page.eval_on_selector_all("mark.passage", "els => els.map(e => e.classList[1])"))
    assert kinds == {"verbatim", "edited"}
    # verbatim and edited look different
    colours = page.evaluate(
        "['verbatim', 'edited'].map(k => getComputedStyle("
        "document.querySelector('mark.passage.' + k)).backgroundColor)"
    )
    assert colours[0] != colours[1]
    # pointing at a passage lights up its counterpart on the other side
    first = derivative_marks.first
    number = first.get_attribute("data-p").split()[0]
    first.hover()
    lit = sides.nth(0).locator("mark.passage.active")
    assert lit.count() > 0
    assert all(number in m.split() for m in lit.evaluate_all("els => els.map(e => e.dataset.p)"))
    shot = tmp_path / "pair.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert no_horizontal_overflow(page)


def test_script_in_article_text_does_not_run(server, page):
    page.goto(server + article_url(HOSTILE_ID))
    page.wait_for_load_state("load")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
    assert page.locator("h1.headline").inner_text() == HOSTILE_TITLE
    assert SCRIPT_IN_TEXT in page.locator("div.text").inner_text()
    assert page.locator("div.text script, div.text img, main b, main i").count() == 0
    assert page.locator("div.text a.reused").count() > 0  # its copied spans are still linked
    assert no_horizontal_overflow(page)


def test_hostile_title_in_search_and_pair_pages_does_not_run(server, page):
    for url in ("/?q=claim", pair_url(COPIED, HOSTILE_ID), "/family/" + COPIED):
        page.goto(server + url)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__pwned") == "undefined", url
        assert "<script>window.__pwned" in page.locator("main").inner_text(), url
    assert page.dialogs == []


def test_one_megabyte_line_renders_and_wraps(server, page, tmp_path):
    page.goto(server + article_url(LONG_ID), timeout=60_000)
    text = page.locator("div.text")
    assert LONG_LINE in text.evaluate("el => el.textContent")
    box = text.bounding_box()
    assert box["width"] <= 1200 and box["height"] > 2000  # wrapped onto many lines
    assert no_horizontal_overflow(page)
    page.screenshot(path=str(tmp_path / "long.png"))


def test_query_form_posts_and_lists_sources(server, page, monkeypatch):
    from dataclasses import dataclass

    from wiretrace import api
    from wiretrace.model import Passage

    @dataclass
    class Match:
        article_id: str
        title: str
        outlet: str
        containment_query: float
        containment_source: float
        similarity: float
        passages: list

    def query(text, db):
        return [
            Match(COPIED, "<b>t</b>", "AP", 0.5, 0.4, 0.6, [Passage(0, 5, 0, 5, "edited", 0.7)])
        ]

    monkeypatch.setattr(api, "query", query, raising=False)
    page.goto(server + "/query")
    page.fill("textarea#text", "Some pasted text <script>window.__pwned = 1</script>")
    page.click("button[type=submit]")
    page.wait_for_selector("section.match")
    assert page.locator("section.match a").first.get_attribute("href") == article_url(COPIED)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert "<script>" in page.locator("textarea#text").input_value()
