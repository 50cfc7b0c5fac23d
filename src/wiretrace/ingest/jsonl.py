"""JSON Lines: one article object a line (``id``, ``text`` and optional metadata)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from ..model import Article, Rejection
from .columns import check_column_map
from .decode import LineDecoder, NotText
from .metadata import WARNINGS_KEY

KNOWN_FIELDS = ("id", "text", "outlet", "title", "published_at", "url", "byline")
OPTIONAL_FIELDS = ("outlet", "title", "published_at", "url", "byline")
MAX_ID_LENGTH = 1000


def read_jsonl(
    path: Path, column_map: Mapping[str, str] | None = None
) -> Iterator[Article | Rejection]:
    with open(path, "rb", buffering=1 << 16) as handle:
        yield from read_jsonl_lines(handle, str(path), column_map)


def read_jsonl_lines(
    handle, name: str, column_map: Mapping[str, str] | None = None, head: bytes | None = None
) -> Iterator[Article | Rejection]:
    """Records from an open binary stream (or iterable of lines) of JSON; origins are ``name:line``."""
    rename = _renamer(column_map)
    decoder = LineDecoder(handle, name, head)
    try:
        for number, text, warning in decoder.lines():
            if not text.strip():
                continue
            origin = f"{name}:{number}"
            yield parse_record(text, origin, rename, [warning] if warning else None)
    except NotText as problem:
        yield Rejection(name, str(problem))


def parse_record(
    line: bytes | str, origin: str, rename=None, warnings: list[str] | None = None
) -> Article | Rejection:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        return Rejection(origin, f"not valid JSON ({error.args[0].split(':')[0]})")
    if rename is not None and isinstance(record, dict):
        record = rename(record)
    return article_from_mapping(record, origin, warnings)


def _renamer(column_map: Mapping[str, str] | None):
    mapping = check_column_map(column_map)
    if not mapping:
        return None
    source_to_field = {column: field for field, column in mapping.items()}

    def rename(record: dict) -> dict:
        renamed = {}
        for key, value in record.items():
            if key in source_to_field:
                renamed[source_to_field[key]] = value
            elif key in mapping:  # a field name whose field comes from another column
                renamed[f"column_{key}"] = value
            else:
                renamed[key] = value
        return renamed

    return rename


def article_from_mapping(
    record: Any, origin: str, warnings: Iterable[str] | None = None
) -> Article | Rejection:
    """An Article from a decoded record, or a Rejection naming what is wrong with it.

    Optional fields that are not text (a list for a date, an object for an outlet)
    are left empty, kept in ``metadata["invalid_fields"]``, and warned about.
    """
    if not isinstance(record, dict):
        return Rejection(origin, f"expected a JSON object, got {type(record).__name__}")
    record_id = record.get("id")
    if isinstance(record_id, str) and not record_id.strip():
        record_id = None
    if record_id is not None and (
        isinstance(record_id, bool) or not isinstance(record_id, (str, int))
    ):
        return Rejection(origin, "field 'id' must be a string or an integer")
    shown_id = str(record_id) if record_id is not None else None
    if shown_id is not None and len(shown_id) > MAX_ID_LENGTH:
        return Rejection(origin, f"field 'id' is longer than {MAX_ID_LENGTH} characters")
    text = record.get("text")
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
    all_warnings = list(warnings or ())
    fields: dict[str, str | None] = {}
    invalid: dict[str, Any] = {}
    for name in OPTIONAL_FIELDS:
        value = record.get(name)
        if type(value) is str:  # the common case first
            fields[name] = value.strip() or None
            continue
        if isinstance(value, (dt.datetime, dt.date)):
            value = value.isoformat()
        if value is None or (isinstance(value, float) and value != value):  # None or NaN
            fields[name] = None
        elif isinstance(value, str):
            fields[name] = value.strip() or None
        elif isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            fields[name] = None
            invalid[name] = json_safe(value)
            all_warnings.append(f"field {name!r} is {type(value).__name__}, not text; left empty")
    metadata = {k: json_safe(v) for k, v in record.items() if k not in KNOWN_FIELDS}
    if invalid:
        metadata["invalid_fields"] = invalid
    if all_warnings:
        metadata[WARNINGS_KEY] = [*metadata.get(WARNINGS_KEY, []), *all_warnings]
    return Article(id=str(record_id), text=text, metadata=metadata, origin=origin, **fields)


def json_safe(value: Any) -> Any:
    """``value`` as something JSON can hold (tables hold dates, decimals and bytes too)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    return str(value)
