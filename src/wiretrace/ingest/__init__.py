"""Readers: turn input files into ``Article`` records, or ``Rejection`` records saying why not.

Every reader streams and yields one item per input record, so that every record
is accounted for: stored, or rejected with a reason that names the file and the
line (``file:line``), row (``file:row``) or WARC record (``file#n``). Fields an
input leaves empty are filled from the text and URL where they can be
(``metadata.enrich``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..model import Article, Rejection
from .columns import MappingError, parse_column_map
from .csvfile import read_csv
from .html import read_html_file
from .jsonl import read_jsonl
from .metadata import enrich
from .parquet import read_parquet
from .stdin import read_stdin
from .textdir import read_text_file, read_text_folder
from .warc import is_warc, read_warc

STDIN = "-"
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
CSV_SUFFIXES = {".csv", ".tsv", ".tab"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
FOLDER_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES


def read_inputs(
    paths: Iterable[str | Path], column_map: Mapping[str, str] | None = None
) -> Iterator[Article | Rejection]:
    """Articles and rejections from files, folders and ``-`` (stdin), in input order.

    ``column_map`` names the column of each article field in CSV, Parquet and JSON
    Lines inputs (``{"text": "body"}``); fields it leaves out are found by common names.
    """
    for raw in paths:
        for record in _read_one_input(raw, column_map):
            yield enrich(record) if isinstance(record, Article) else record


def _read_one_input(
    raw: str | Path, column_map: Mapping[str, str] | None
) -> Iterator[Article | Rejection]:
    if str(raw) == STDIN:
        yield from read_stdin(column_map=column_map)
        return
    path = Path(raw)
    suffix = path.suffix.lower()
    if path.is_dir():
        yield from read_folder(path)
    elif not path.exists():
        yield Rejection(str(path), "no such file or folder")
    elif not path.is_file():
        yield Rejection(str(path), "not a regular file")
    elif is_warc(path):
        yield from read_warc(path)
    elif suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path, column_map)
    elif suffix in CSV_SUFFIXES:
        yield from read_csv(path, column_map)
    elif suffix in PARQUET_SUFFIXES:
        yield from read_parquet(path, column_map)
    elif suffix in HTML_SUFFIXES:
        yield read_html_file(path)
    elif suffix in TEXT_SUFFIXES:
        yield read_text_file(path)
    else:
        yield Rejection(
            str(path),
            f"unsupported input type {path.suffix or '(no suffix)'}: expected .jsonl, .csv, "
            ".tsv, .parquet, .txt, .html, .warc(.gz), a folder of .txt/.html files, or -",
        )


def read_folder(folder: Path) -> Iterator[Article | Rejection]:
    """The .txt and .html files under ``folder``, in name order; ids are their relative paths.

    Symbolic links to folders are not followed, so a link cannot loop or lead the
    reader out of the folder tree.
    """
    files = []
    for parent, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in names:
            path = Path(parent) / name
            if path.suffix.lower() in FOLDER_SUFFIXES and path.is_file():
                files.append(path)
    files.sort()
    if not files:
        yield Rejection(str(folder), "folder holds no .txt or .html files")
    for path in files:
        article_id = str(path.relative_to(folder).with_suffix(""))
        if path.suffix.lower() in HTML_SUFFIXES:
            yield read_html_file(path, article_id=article_id)
        else:
            yield read_text_file(path, article_id=article_id)


__all__ = [
    "MappingError",
    "parse_column_map",
    "read_csv",
    "read_folder",
    "read_html_file",
    "read_inputs",
    "read_jsonl",
    "read_parquet",
    "read_stdin",
    "read_text_file",
    "read_text_folder",
    "read_warc",
]
