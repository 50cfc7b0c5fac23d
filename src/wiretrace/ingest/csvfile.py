"""CSV and TSV tables, one article a row, read as a stream with the standard ``csv`` module.

The first row names the columns; ``columns.plan_columns`` decides which holds the
text, the title and so on. A record's origin is ``file:row``, counting rows as a
spreadsheet does (the header is row 1), so it is also the line number unless a
quoted cell spans several lines.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..model import Article, Rejection
from .columns import MappingError, plan_columns
from .decode import LineDecoder, NotText
from .jsonl import article_from_mapping

# One cell may hold a whole article (the csv module stops at 128 KiB by default).
MAX_CELL_CHARS = min(sys.maxsize, 2**31 - 1)


def read_csv(
    path: Path, column_map: Mapping[str, str] | None = None, delimiter: str | None = None
) -> Iterator[Article | Rejection]:
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    csv.field_size_limit(MAX_CELL_CHARS)
    origin = str(path)
    with open(path, "rb", buffering=1 << 16) as handle:
        decoder = LineDecoder(handle, origin)
        pending_warnings: list[str] = []
        try:
            rows = csv.reader(_lines(decoder, pending_warnings), delimiter=delimiter)
            yield from _records(rows, origin, column_map, pending_warnings)
        except NotText as problem:
            yield Rejection(origin, str(problem))


def _lines(decoder: LineDecoder, warnings: list[str]) -> Iterator[str]:
    for number, line, warning in decoder.lines():
        if warning:
            warnings.append(f"line {number}: {warning}")
        yield line


def _records(
    rows, origin: str, column_map: Mapping[str, str] | None, warnings: list[str]
) -> Iterator[Article | Rejection]:
    header = _next_row(rows)
    if isinstance(header, csv.Error):
        yield Rejection(f"{origin}:1", f"cannot read the header row ({header})")
        return
    if header is None:
        yield Rejection(origin, "empty file: no header row")
        return
    columns = _unique_names(header)
    try:
        plan = plan_columns(columns, column_map)
    except MappingError as problem:
        yield Rejection(f"{origin}:1", str(problem))
        return
    row_number = 1
    while True:
        warnings.clear()
        row = _next_row(rows)
        if row is None:
            return
        row_number += 1
        where = f"{origin}:{row_number}"
        if isinstance(row, csv.Error):
            yield Rejection(where, f"not a valid CSV row ({row})")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue  # a blank row is no record (but keeps its number)
        if len(row) != len(columns):
            yield Rejection(
                where,
                f"row has {len(row)} cells but the header has {len(columns)} columns "
                "(an unquoted delimiter or a cut-off row?)",
            )
            continue
        record = plan.record(dict(zip(columns, row)))
        yield article_from_mapping(record, where, list(warnings))


def _next_row(rows) -> list[str] | csv.Error | None:
    try:
        return next(rows)
    except StopIteration:
        return None
    except csv.Error as error:
        return error


def _unique_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(header, start=1):
        name = cell.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names
