"""Saved HTML pages: the main text, title, date, author and outlet, extracted by trafilatura.

trafilatura (Barbaresi 2021, "Trafilatura: A Web Scraping Library and Command-Line
Tool for Text Discovery and Extraction") separates an article from the menus,
teasers and footers around it, and reads the page's metadata (``<meta>``, JSON-LD,
``<time>``). The same extraction serves HTML files and WARC responses.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from ..model import Article, Rejection
from .decode import NotText, bom_encoding, decode_document
from .metadata import outlet_from_url, with_warning

MAX_PAGE_BYTES = 64 * 1024 * 1024
# Searching the whole text of a page for dates costs seconds on a 10 MB page; big pages
# rely on their metadata alone.
EXTENSIVE_DATE_SEARCH_BYTES = 2 * 1024 * 1024
_MIDNIGHT = re.compile(r"T00:00:00$")  # htmldate's answer for a page that gives only a day
_DATE_PARAMS = {
    "extensive_search": True,
    "original_date": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "deferred_url_extractor": True,  # a date in the URL has no time of day: last resort
}


@lru_cache(maxsize=1)
def _trafilatura():
    """trafilatura and its settings, imported on the first page: it takes a third of a
    second to import, which runs on other inputs need not pay."""
    import trafilatura
    from trafilatura.settings import use_config

    for name in ("trafilatura", "htmldate", "courlan"):
        # it logs a warning for every page it finds no text in; we report those ourselves
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.CRITICAL)
    return trafilatura, _config(use_config)


def _config(use_config):
    config = use_config()
    config.set("DEFAULT", "MAX_FILE_SIZE", str(MAX_PAGE_BYTES))
    config.set("DEFAULT", "MIN_FILE_SIZE", "1")
    # short news briefs are articles too; the default drops pages under 250 characters
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def read_html_file(path: Path, article_id: str | None = None) -> Article | Rejection:
    article_id = article_id or path.stem
    try:
        raw = path.read_bytes()
    except OSError as error:
        return Rejection(str(path), f"cannot read the file ({error.strerror})", article_id)
    return article_from_html(raw, article_id, str(path))


def article_from_html(
    raw: bytes, article_id: str, origin: str, url: str | None = None
) -> Article | Rejection:
    """An Article from the bytes of one HTML page, or a Rejection saying why there is none."""
    if len(raw) > MAX_PAGE_BYTES:
        return Rejection(
            origin, f"page is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MiB", article_id
        )
    warning = None
    page: bytes | str = raw
    if bom_encoding(raw[:4]) is not None:
        try:
            page, warning = decode_document(raw)
        except NotText as problem:
            return Rejection(origin, str(problem), article_id)
    elif b"\x00" in raw[:65536]:
        return Rejection(origin, "not an HTML page (binary data)", article_id)
    head = page[:65536]
    if (b"<" if isinstance(head, bytes) else "<") not in head:
        return Rejection(origin, "not an HTML page (no markup)", article_id)
    trafilatura, config = _trafilatura()
    try:
        document = trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            date_extraction_params={
                **_DATE_PARAMS,
                "extensive_search": len(raw) <= EXTENSIVE_DATE_SEARCH_BYTES,
            },
            config=config,
        )
    except Exception as error:  # a third-party parser meeting arbitrary bytes
        return Rejection(
            origin, f"HTML could not be parsed ({type(error).__name__}: {error})", article_id
        )
    text = (document.text or "") if document is not None else ""
    title = _clean(document.title) if document is not None else None
    text = _without_title_line(text, title)
    if not text.strip():
        return Rejection(origin, "no article text found in the HTML page", article_id)
    page_url = url or _clean(document.url)
    outlet = _clean(document.sitename) or outlet_from_url(page_url)
    metadata = {
        key: value
        for key, value in (
            ("description", _clean(document.description)),
            ("language", _clean(document.language)),
            ("categories", document.categories or None),
            ("tags", document.tags or None),
        )
        if value
    }
    article = Article(
        id=article_id,
        text=text,
        outlet=outlet,
        title=title,
        published_at=_date(document.date),
        url=page_url,
        byline=_clean(document.author),
        metadata=metadata,
        origin=origin,
    )
    return with_warning(article, warning) if warning else article


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _date(value: str | None) -> str | None:
    value = _clean(value)
    return _MIDNIGHT.sub("", value) if value else None


def _without_title_line(text: str, title: str | None) -> str:
    """trafilatura often repeats the headline as the body's first line; the body starts after it."""
    text = text.strip()
    if title:
        first, _, rest = text.partition("\n")
        if first.strip() == title:
            return rest.strip()
    return text
