"""WARC and ARC crawls (plain or gzipped), read record by record with warcio.

An HTML page captured with status 2xx becomes an article, extracted as saved
pages are (``html.article_from_html``); its id and URL are the WARC-Target-URI
(the WARC-Record-ID when there is none). Every other record is rejected with what
it is ("WARC request record, not a page", "not an HTML response (image/png)",
"HTTP status 404"), so that every record of the crawl is accounted for. A
record's origin is ``file#n``, ``n`` counting records from 1; the byte offset is
in ``metadata["warc_offset"]``.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from ..model import Article, Rejection
from .html import MAX_PAGE_BYTES, article_from_html

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PAGE_RECORDS = ("response", "resource")
_DAMAGE = (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError)


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def read_warc(path: Path) -> Iterator[Article | Rejection]:
    name = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below; the loop yields)
    except OSError as error:
        yield Rejection(name, f"cannot read the file ({error.strerror})")
        return
    with handle:
        if not _starts_like_an_archive(handle):
            yield Rejection(f"{name}#1", "not a WARC file (it does not start with a WARC record)")
            return
        records = ArchiveIterator(handle, arc2warc=True)
        stream = iter(records)
        number = 0
        while True:
            try:
                record = next(stream)
            except StopIteration:
                return
            except Exception as error:  # warcio meets damaged bytes with errors of every kind
                yield Rejection(f"{name}#{number + 1}", _damage(error, number))
                return
            number += 1
            origin = f"{name}#{number}"
            try:
                # get_record_offset() skips to the record's end: called after reading the payload
                yield _record(record, origin, records.get_record_offset)
            except _DAMAGE as error:
                yield Rejection(origin, _damage(error, number))
                return


def _starts_like_an_archive(handle) -> bool:
    """Whether the (possibly gzipped) file opens with a WARC or ARC header; rewinds it."""
    head = handle.read(2)
    handle.seek(0)
    try:
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=handle) as unzipped:
                head = unzipped.read(16)
        else:
            head = handle.read(16)
    except (OSError, EOFError, zlib.error):
        return False
    finally:
        handle.seek(0)
    return head.lstrip().startswith((b"WARC/", b"filedesc://"))


def _damage(error: Exception, records_read: int) -> str:
    problem = str(error).strip().splitlines()[0] if str(error).strip() else ""
    what = f"{type(error).__name__}: {problem}" if problem else type(error).__name__
    if records_read == 0:
        return f"not a WARC file ({what})"
    return f"damaged WARC: this record and any after it cannot be read ({what})"


def _record(record, origin: str, offset_of) -> Article | Rejection:
    headers = record.rec_headers
    uri = (headers.get_header("WARC-Target-URI") or "").strip() or None
    record_id = (headers.get_header("WARC-Record-ID") or "").strip("<> ") or None
    shown_id = uri or record_id
    kind = record.rec_type
    if kind not in _PAGE_RECORDS:
        if kind == "revisit":
            return Rejection(
                origin, "WARC revisit record (a repeat capture without content)", shown_id
            )
        return Rejection(origin, f"WARC {kind} record, not a page", shown_id)
    payload = record.content_stream().read(MAX_PAGE_BYTES + 1)
    if getattr(record.raw_stream, "limit", 0) > 0 and len(payload) <= MAX_PAGE_BYTES:
        return Rejection(origin, "WARC record is cut off: the file ends inside it", shown_id)
    if record.http_headers is not None and kind == "response":
        status = record.http_headers.get_statuscode() or ""
        if not status.startswith("2"):
            return Rejection(origin, f"HTTP status {status or 'missing'}, not a page", shown_id)
        content_type = record.http_headers.get_header("Content-Type") or ""
    else:
        content_type = headers.get_header("Content-Type") or ""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in _HTML_TYPES:
        return Rejection(
            origin, f"not an HTML response ({media_type or 'no content type'})", shown_id
        )
    if not shown_id:
        return Rejection(origin, "WARC record has neither a target URI nor a record id")
    result = article_from_html(payload, shown_id, origin, url=uri)
    if isinstance(result, Article):
        warc_facts = {
            "warc_offset": offset_of(),
            "warc_record_id": record_id,
            "crawled_at": headers.get_header("WARC-Date"),
        }
        metadata = {**result.metadata, **{k: v for k, v in warc_facts.items() if v is not None}}
        result = dataclasses.replace(result, metadata=metadata)
    return result
