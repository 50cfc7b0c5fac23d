"""Readers: turn input files into ``Article`` records, or ``Rejection`` records saying why not.

Every reader streams and yields one item per input record, so that every record
is accounted for: stored, or rejected with a reason that names the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from ..model import Article, Rejection
from .jsonl import read_jsonl
from .textdir import read_text_file, read_text_folder

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
TEXT_SUFFIXES = {".txt", ".text"}


def read_inputs(paths: Iterable[str | Path]) -> Iterator[Article | Rejection]:
    """Articles and rejections from files and folders, in input order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from read_text_folder(path)
        elif not path.exists():
            yield Rejection(str(path), "no such file or folder")
        elif path.suffix.lower() in JSONL_SUFFIXES:
            yield from read_jsonl(path)
        elif path.suffix.lower() in TEXT_SUFFIXES:
            yield read_text_file(path)
        else:
            yield Rejection(
                str(path),
                f"unsupported input type {path.suffix or '(no suffix)'}: "
                "expected .jsonl, .txt or a folder of .txt files",
            )


__all__ = ["read_inputs", "read_jsonl", "read_text_file", "read_text_folder"]
