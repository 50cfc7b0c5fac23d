"""Metadata from the text itself, for fields the input left empty.

A record without an outlet may still have a URL; a text may open with a date
line ("March 9, 2026"), a byline ("By Jane Doe") or a dateline naming an agency
("GENEVA (AP) — "). These fill the missing fields; nothing the input gave is
overwritten, the text is never changed, and ``metadata["derived_fields"]`` says
which fields came from where. No network is used: the outlet is the URL's host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from urllib.parse import urlsplit

from dateutil import parser as date_parser

from ..model import Article
from ..text import find_dateline
from ..timestamps import parse_timestamp

WARNINGS_KEY = "ingest_warnings"
DERIVED_KEY = "derived_fields"

BYLINE_LINE = re.compile(r"^(?:By|BY)\s+[^.!?\n]{2,60}$")
_DATE_PREFIX = re.compile(
    r"^(?:published|updated|posted|first published|last updated)\s*(?:on|at)?\s*:?\s*",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.")
_LEADING_LINES = 3


def with_warning(article: Article, warning: str) -> Article:
    """``article`` with ``warning`` added to ``metadata["ingest_warnings"]``."""
    metadata = dict(article.metadata)
    metadata[WARNINGS_KEY] = [*metadata.get(WARNINGS_KEY, []), warning]
    return dataclasses.replace(article, metadata=metadata)


def warnings_of(article: Article) -> list[str]:
    return list(article.metadata.get(WARNINGS_KEY, []))


def outlet_from_url(url: str | None) -> str | None:
    """The host of a URL without ``www.`` and the like: ``https://www.quay.example/x`` -> ``quay.example``."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host or "." not in host or host.replace(".", "").isdigit():
        return None
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
            break
    if "xn--" in host:
        with contextlib.suppress(UnicodeError):
            host = host.encode("ascii").decode("idna")
    return host


def is_date_line(line: str) -> bool:
    """A short line that is only a date ("March 9, 2026", "Published: 2026-03-09 08:00")."""
    if len(line) > 100 or not _DIGIT.search(line):  # cheap tests first: most lines are text
        return False
    line = _DATE_PREFIX.sub("", line.strip())  # the prefixes have no digits
    if not line or len(line) > 40:
        return False
    try:
        date_parser.parse(line, fuzzy=False)
    except (ValueError, OverflowError):
        return False
    return True


def date_from_line(line: str) -> str:
    return _DATE_PREFIX.sub("", line.strip())


def leading_lines(text: str, count: int = _LEADING_LINES) -> list[str]:
    """The first ``count`` non-blank lines, stripped (cheap even for a huge text)."""
    lines = []
    for line in text[:2000].splitlines():
        if line.strip():
            lines.append(line.strip())
            if len(lines) == count:
                break
    return lines


def metadata_from_text(text: str) -> dict[str, str]:
    """Fields a text states about itself: ``published_at``, ``byline``, dateline place and agency."""
    found: dict[str, str] = {}
    for number, line in enumerate(leading_lines(text)):
        date_line = is_date_line(line)
        byline = BYLINE_LINE.match(line) is not None
        if number < 2:
            if "published_at" not in found and date_line:
                found["published_at"] = date_from_line(line)
            elif "byline" not in found and byline:
                found["byline"] = line[3:].strip()
        if date_line or byline:
            continue
        dateline = find_dateline(line)
        if dateline is not None:
            found["dateline_place"] = dateline.place
            if dateline.agency:
                found["dateline_agency"] = dateline.agency
        break
    return found


def enrich(article: Article) -> Article:
    """Fill an article's missing fields from its URL and text, and warn about a bad date."""
    updates: dict[str, str] = {}
    derived: dict[str, str] = {}
    metadata = dict(article.metadata)
    if article.outlet is None:
        outlet = outlet_from_url(article.url)
        if outlet:
            updates["outlet"], derived["outlet"] = outlet, "url host"
    found = metadata_from_text(article.text)
    for name in ("published_at", "byline"):
        if getattr(article, name) is None and name in found:
            updates[name], derived[name] = found[name], "text"
    for name in ("dateline_place", "dateline_agency"):
        if name in found and name not in metadata:
            metadata[name] = found[name]
    if derived:
        metadata[DERIVED_KEY] = {**metadata.get(DERIVED_KEY, {}), **derived}
    published_at = updates.get("published_at", article.published_at)
    if published_at is not None:
        timestamp = parse_timestamp(published_at)
        if timestamp.utc is None:
            message = f"{timestamp.problem}; kept without a publication time"
            metadata[WARNINGS_KEY] = [*metadata.get(WARNINGS_KEY, []), message]
    if not updates and metadata == article.metadata:
        return article
    return dataclasses.replace(article, metadata=metadata, **updates)
