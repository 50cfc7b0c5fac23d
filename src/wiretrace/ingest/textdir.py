"""Folders of plain-text articles, one file each.

The id is the file name without its suffix. Leading lines that are metadata
rather than story are recognised, as newsroom exports write them: a date line
("May 29, 2017"), a byline ("By Jane Doe") and a title line (one short line
without a full stop, followed by a blank line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dateutil import parser as date_parser

from ..model import Article, Rejection
from .decode import NotText, decode_document
from .metadata import with_warning

_BYLINE = re.compile(r"^(?:By|BY)\s+[^.!?]{2,60}$")
_MAX_TITLE = 200


def read_text_folder(folder: Path) -> Iterator[Article | Rejection]:
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".txt", ".text")
    )
    if not files:
        yield Rejection(str(folder), "folder holds no .txt files")
    for path in files:
        yield read_text_file(path, article_id=str(path.relative_to(folder).with_suffix("")))


def read_text_file(path: Path, article_id: str | None = None) -> Article | Rejection:
    origin = str(path)
    try:
        content, warning = decode_document(path.read_bytes())
    except NotText as problem:
        return Rejection(origin, str(problem), article_id or path.stem)
    except OSError as error:
        return Rejection(
            origin, f"cannot read the file ({error.strerror})", article_id or path.stem
        )
    article = article_from_text(content, article_id or path.stem, origin)
    if warning and isinstance(article, Article):
        article = with_warning(article, warning)
    return article


def article_from_text(content: str, article_id: str, origin: str) -> Article | Rejection:
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    published_at = byline = title = None
    position = _skip_blank(lines, 0)
    if position < len(lines) and _is_date_line(lines[position]):
        published_at = lines[position].strip()
        position = _skip_blank(lines, position + 1)
    if position < len(lines) and _BYLINE.match(lines[position].strip()):
        byline = lines[position].strip()[3:].strip()
        position = _skip_blank(lines, position + 1)
    if title is None and _is_title_line(lines, position):
        title = lines[position].strip()
        position = _skip_blank(lines, position + 1)
    body = "\n".join(lines[position:]).strip()
    if not body:
        return Rejection(origin, "file has no text after its metadata lines", article_id)
    return Article(
        id=article_id,
        text=body,
        title=title,
        published_at=published_at,
        byline=byline,
        origin=origin,
    )


def _skip_blank(lines: list[str], position: int) -> int:
    while position < len(lines) and not lines[position].strip():
        position += 1
    return position


def _is_date_line(line: str) -> bool:
    line = line.strip()
    if not line or len(line) > 40 or not any(ch.isdigit() for ch in line):
        return False
    try:
        date_parser.parse(line, fuzzy=False)
    except (ValueError, OverflowError):
        return False
    return True


def _is_title_line(lines: list[str], position: int) -> bool:
    if position + 1 >= len(lines):
        return False
    line = lines[position].strip()
    bare = line.rstrip("\"'”’»)] ")
    followed_by_blank = not lines[position + 1].strip()
    return (
        followed_by_blank
        and 0 < len(line) <= _MAX_TITLE
        and not bare.endswith((".", "?", "!", ":", ";", ",", "。", "…"))
        and len(line.split()) <= 25
    )
