"""JSON Lines: one article object a line (``id``, ``text`` and optional metadata)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ..model import Article, Rejection

KNOWN_FIELDS = ("id", "text", "outlet", "title", "published_at", "url", "byline")


def read_jsonl(path: Path) -> Iterator[Article | Rejection]:
    with open(path, "rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if line_number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line.strip():
                continue
            yield parse_record(line, f"{path}:{line_number}")


def parse_record(line: bytes | str, origin: str) -> Article | Rejection:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Rejection(origin, f"not valid JSON ({error.args[0].split(':')[0]})")
    return article_from_mapping(record, origin)


def article_from_mapping(record: Any, origin: str) -> Article | Rejection:
    """An Article from a decoded record, or a Rejection naming what is wrong with it."""
    if not isinstance(record, dict):
        return Rejection(origin, f"expected a JSON object, got {type(record).__name__}")
    record_id = record.get("id")
    if record_id is not None and not isinstance(record_id, (str, int)):
        return Rejection(origin, "field 'id' must be a string or an integer")
    text = record.get("text")
    shown_id = str(record_id) if record_id is not None else None
    if text is None:
        return Rejection(origin, "record has no 'text' field", shown_id)
    if not isinstance(text, str):
        return Rejection(
            origin, f"field 'text' must be a string, got {type(text).__name__}", shown_id
        )
    if not text.strip():
        return Rejection(origin, "field 'text' is empty", shown_id)
    if "\x00" in text:
        return Rejection(origin, "field 'text' contains NUL characters (binary data?)", shown_id)
    if record_id is None:
        record_id = "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    fields = {}
    for name in ("outlet", "title", "published_at", "url", "byline"):
        value = record.get(name)
        fields[name] = None if value is None else str(value)
    metadata = {k: v for k, v in record.items() if k not in KNOWN_FIELDS}
    return Article(id=str(record_id), text=text, metadata=metadata, origin=origin, **fields)
