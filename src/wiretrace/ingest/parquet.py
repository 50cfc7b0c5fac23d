"""Parquet tables, one article a row, read a record batch at a time.

Columns are matched to article fields as for CSV (``columns.plan_columns``). A
record's origin is ``file:row`` with rows counted from 1. Rows that cannot be
read (a damaged row group) are each rejected, so the count still adds up.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..model import Article, Rejection
from .columns import MappingError, plan_columns
from .jsonl import article_from_mapping

BATCH_ROWS = 1024


def read_parquet(
    path: Path, column_map: Mapping[str, str] | None = None
) -> Iterator[Article | Rejection]:
    origin = str(path)
    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        yield Rejection(origin, f"not a readable Parquet file ({_first_line(error)})")
        return
    try:
        plan = plan_columns(table.schema_arrow.names, column_map)
    except MappingError as problem:
        yield Rejection(origin, str(problem))
        return
    total = table.metadata.num_rows
    row = 0
    try:
        for batch in table.iter_batches(batch_size=BATCH_ROWS):
            for values in batch.to_pylist():
                row += 1
                yield article_from_mapping(plan.record(values), f"{origin}:{row}")
    except (pa.ArrowException, OSError) as error:
        reason = f"row could not be read ({_first_line(error)})"
        for unread in range(row + 1, total + 1):
            yield Rejection(f"{origin}:{unread}", reason)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
