"""Reading throughput: articles per second for each input format wiretrace reads.

Takes a JSONL corpus (by default the bench corpus ``/work/bench_out/d1000s1``),
writes the same articles as a folder of HTML pages (a plain template of our own:
header, navigation, article with headline, byline, time and paragraphs, footer), a
WARC.gz crawl of those pages (request + response record per page), and for
reference CSV and Parquet tables and the JSONL itself; then times
``ingest.read_inputs`` over each, consuming every record, and prints the median of
``--repeat`` runs. Reading includes extraction (trafilatura for HTML and WARC) and
metadata enrichment, but none of the later stages.

    python benchmarks/read_speed.py [--corpus PATH] [--limit N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wiretrace.ingest import read_inputs
from wiretrace.model import Article

DEFAULT_CORPUS = Path("/work/bench_out/d1000s1/articles.jsonl")

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {outlet}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<link rel="canonical" href="{url}">
</head><body>
<header><a href="/">{outlet}</a><nav><a href="/news">News</a> <a href="/markets">Markets</a>
<a href="/sport">Sport</a> <a href="/opinion">Opinion</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By {byline}</p><time datetime="{published}">{published}</time>
{paragraphs}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Rates held</a></li><li><a href="/b">Port strike ends</a></li></ul></aside>
</main>
<footer><p>Sign up for our newsletter.</p><p>&copy; {outlet}. All rights reserved.</p></footer>
</body></html>
"""


def load(corpus: Path, limit: int | None) -> list[dict]:
    records = []
    with open(corpus, "rb") as handle:
        for line in handle:
            if line.strip():
                records.append(orjson.loads(line))
                if limit and len(records) >= limit:
                    break
    return records


def page_of(record: dict) -> bytes:
    paragraphs = "\n".join(
        f"<p>{html.escape(p.strip())}</p>" for p in record["text"].split("\n\n") if p.strip()
    )
    return PAGE.format(
        title=html.escape(record.get("title") or "Untitled"),
        outlet=html.escape(record.get("outlet") or "Example News"),
        published=html.escape(record.get("published_at") or ""),
        url=html.escape(record.get("url") or f"https://news.example/{record['id']}"),
        byline="Staff Reporter",
        paragraphs=paragraphs,
    ).encode("utf-8")


def write_inputs(records: list[dict], folder: Path) -> dict[str, Path]:
    pages = folder / "pages"
    pages.mkdir()
    for record in records:
        (pages / f"{record['id']}.html").write_bytes(page_of(record))
    warc = folder / "crawl.warc.gz"
    with open(warc, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for record in records:
            uri = record.get("url") or f"https://news.example/{record['id']}"
            writer.write_record(
                writer.create_warc_record(
                    uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
                )
            )
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    uri, "response", payload=io.BytesIO(page_of(record)), http_headers=headers
                )
            )
    columns = ["id", "outlet", "title", "published_at", "url", "text"]
    table = folder / "articles.csv"
    with open(table, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([record.get(c) for c in columns] for record in records)
    parquet = folder / "articles.parquet"
    pq.write_table(
        pa.Table.from_pylist([{c: record.get(c) for c in columns} for record in records]),
        parquet,
    )
    jsonl = folder / "articles.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return {
        "HTML folder": pages,
        "WARC.gz": warc,
        "CSV": table,
        "Parquet": parquet,
        "JSONL": jsonl,
    }


def time_reading(path: Path) -> tuple[float, float, int, int]:
    """Wall and CPU seconds to read everything, articles read, records read.

    CPU time is reported too because a shared machine stretches wall time.
    """
    started, cpu_started = time.perf_counter(), time.process_time()
    articles = records = 0
    for record in read_inputs([path]):
        records += 1
        articles += isinstance(record, Article)
    return time.perf_counter() - started, time.process_time() - cpu_started, articles, records


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="read only the first N articles")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"corpus not found: {args.corpus} (generate one, see /work/shared/bench)")
    records = load(args.corpus, args.limit)
    print(f"corpus: {args.corpus} ({len(records)} articles)")
    with tempfile.TemporaryDirectory() as folder:
        inputs = write_inputs(records, Path(folder))
        sizes = {
            name: sum(p.stat().st_size for p in (path.iterdir() if path.is_dir() else [path]))
            for name, path in inputs.items()
        }
        rows = []
        for name, path in inputs.items():
            runs = [time_reading(path) for _ in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            _, _, articles, read = runs[0]
            rows.append((name, sizes[name], read, articles, seconds, cpu))
    print(f"median of {args.repeat} runs\n")
    header = (
        f"{'input':<12} {'MB':>7} {'records':>8} {'articles':>8} {'wall s':>8} "
        f"{'articles/s':>11} {'CPU s':>8} {'art./CPU s':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, size, read, articles, seconds, cpu in rows:
        print(
            f"{name:<12} {size / 1e6:>7.1f} {read:>8} {articles:>8} {seconds:>8.2f} "
            f"{articles / seconds:>11,.0f} {cpu:>8.2f} {articles / cpu:>11,.0f}"
        )


if __name__ == "__main__":
    main()
