"""Which column of a table holds which article field: a user's mapping, or common names.

A mapping names the column for a field, ``{"text": "body", "published_at": "date"}``.
Fields it leaves out are looked for under common names (``body``, ``content``,
``headline``, ``date``, ``source`` …), compared without case, spaces, ``_`` or ``-``.
Every other column goes to the article's metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FIELDS = ("id", "text", "outlet", "title", "published_at", "url", "byline")

COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "articleid", "docid", "documentid", "storyid", "recordid", "guid", "uuid"),
    "text": (
        "text", "body", "content", "articletext", "article", "fulltext", "bodytext",
        "maintext", "story", "articlebody", "contenttext",
    ),
    "title": ("title", "headline", "heading", "head", "hed"),
    "published_at": (
        "publishedat", "published", "date", "publicationdate", "publishdate", "pubdate",
        "datepublished", "datetime", "timestamp", "time", "publishedtime", "createdat",
    ),
    "outlet": (
        "outlet", "source", "sourcename", "publisher", "publication", "mediaoutlet", "media",
        "medium", "sitename", "site", "newspaper", "domain",
    ),
    "url": ("url", "link", "uri", "permalink", "sourceurl", "articleurl", "href"),
    "byline": ("byline", "author", "authors", "writer", "by", "creator"),
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s_\-.]+")


class MappingError(ValueError):
    """A column mapping that cannot be used: an unknown field or a malformed option."""


def parse_column_map(option: str | None) -> dict[str, str]:
    """``"text=body,published_at=date"`` -> ``{"text": "body", "published_at": "date"}``."""
    if not option or not option.strip():
        return {}
    mapping: dict[str, str] = {}
    for part in option.split(","):
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise MappingError(f"bad mapping {part.strip()!r}: write FIELD=COLUMN, e.g. text=body")
        mapping[field.strip()] = column.strip()
    return check_column_map(mapping)


def check_column_map(mapping: Mapping[str, str] | None) -> dict[str, str]:
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise MappingError(
            f"unknown field(s) {', '.join(unknown)} in the column mapping: "
            f"fields are {', '.join(FIELDS)}"
        )
    return mapping


def _key(name: str) -> str:
    return _SEPARATORS.sub("", name.casefold())


@dataclass(frozen=True)
class ColumnPlan:
    """Where each article field comes from in one table; the rest is metadata."""

    field_columns: dict[str, str]  # field -> column name
    columns: tuple[str, ...]

    def record(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A record keyed by article field, other columns kept under their own names."""
        record: dict[str, Any] = {}
        taken = set()
        for field, column in self.field_columns.items():
            record[field] = row.get(column)
            taken.add(column)
        for column in self.columns:
            if column not in taken:
                name = column if column not in FIELDS else f"column_{column}"
                record[name] = row.get(column)
        return record


def plan_columns(columns: Sequence[str], mapping: Mapping[str, str] | None) -> ColumnPlan:
    """Match fields to ``columns``; raises ``MappingError`` naming what is missing."""
    mapping = check_column_map(mapping)
    missing = [column for column in mapping.values() if column not in columns]
    if missing:
        raise MappingError(
            f"column(s) {', '.join(map(repr, missing))} named in the mapping are not in the "
            f"table; its columns are {', '.join(map(repr, columns))}"
        )
    field_columns = dict(mapping)
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_key(column), column)
    used = set(field_columns.values())
    for field in FIELDS:
        if field in field_columns:
            continue
        for name in COMMON_NAMES[field]:
            column = by_key.get(name)
            if column is not None and column not in used:
                field_columns[field] = column
                used.add(column)
                break
    if "text" not in field_columns:
        raise MappingError(
            f"no text column among {', '.join(map(repr, columns))}: name it with --map text=COLUMN"
        )
    return ColumnPlan(field_columns, tuple(columns))
