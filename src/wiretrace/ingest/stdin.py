"""Standard input (``-`` as an input path): JSON lines, or one plain-text article.

The first non-blank line decides: an opening ``{`` means JSON Lines, read as a
stream like a ``.jsonl`` file; anything else is one article, read as a ``.txt``
file is (date line, byline and title recognised). Origins are ``<stdin>:line``.
"""

from __future__ import annotations

import codecs
import hashlib
import itertools
import sys
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from ..model import Article, Rejection
from .decode import NotText, decode_document
from .jsonl import read_jsonl_lines
from .metadata import with_warning
from .textdir import article_from_text

STDIN_NAME = "<stdin>"


def read_stdin(
    stream: BinaryIO | None = None, column_map: Mapping[str, str] | None = None
) -> Iterator[Article | Rejection]:
    stream = stream if stream is not None else sys.stdin.buffer
    opening: list[bytes] = []
    for line in stream:
        opening.append(line)
        if line.strip():
            break
    head = b"".join(opening)
    if head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"{"):
        lines = itertools.chain(opening, stream)
        yield from read_jsonl_lines(lines, STDIN_NAME, column_map, head=head)
        return
    raw = head + stream.read()
    if not raw.strip():
        yield Rejection(STDIN_NAME, "nothing on standard input")
        return
    try:
        text, warning = decode_document(raw)
    except NotText as problem:
        yield Rejection(STDIN_NAME, str(problem))
        return
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    article = article_from_text(text, f"sha1:{digest}", STDIN_NAME)
    if warning and isinstance(article, Article):
        article = with_warning(article, warning)
    yield article
