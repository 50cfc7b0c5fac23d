"""Readers for CSV, Parquet, HTML, WARC and stdin: fields, origins, and every record accounted for."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_jsonl
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import wiretrace
from wiretrace.engines.local import accept_records
from wiretrace.ingest import parse_column_map, read_inputs, read_stdin
from wiretrace.ingest.columns import MappingError
from wiretrace.model import Article, Rejection

INGEST = Path(__file__).parent / "fixtures" / "ingest"
PAGES = INGEST / "pages"


def articles_of(records) -> dict[str, Article]:
    return {r.id: r for r in records if isinstance(r, Article)}


# --- CSV ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def news_csv() -> list[Article | Rejection]:
    return list(read_inputs([INGEST / "news.csv"]))


def test_csv_every_row_accounted_for_with_row_numbers(news_csv):
    path = INGEST / "news.csv"
    # four data rows (rows 2-5, as a spreadsheet numbers them), though cells span lines
    assert [r.origin for r in news_csv] == [f"{path}:{n}" for n in (2, 3, 4, 5)]
    assert [type(r).__name__ for r in news_csv] == ["Article"] * 3 + ["Rejection"]
    assert "'text' is empty" in news_csv[3].reason


def test_csv_common_column_names_are_recognised(news_csv):
    wire = news_csv[0]
    assert wire.title == "Fire destroys Harwick library archive"
    assert wire.text.startswith("HARWICK (Harbour Wire) - A fire that broke out overnight")
    assert "\n\nFirefighters were called" in wire.text  # the multi-line cell is whole
    assert wire.outlet == "Harbour Wire"
    assert wire.published_at == "2026-03-10T09:30:00+00:00"
    assert wire.url == "https://www.harbourwire.example/2026/03/10/harwick-library-fire"
    assert wire.byline == "Dana Whitfield"
    assert wire.metadata["section"] == "Regional"  # unmapped columns are metadata


def test_csv_byte_order_mark_is_not_part_of_the_first_column(news_csv):
    assert (INGEST / "news.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert news_csv[0].title is not None  # "headline" was found despite the BOM before it


def test_csv_empty_cells_are_missing_fields_and_outlet_comes_from_the_url(news_csv):
    copy = news_csv[1]
    assert copy.byline is None
    assert copy.outlet == "valleycourier.example"
    assert copy.metadata["derived_fields"] == {"outlet": "url host"}


def test_csv_without_id_column_gets_stable_text_ids(news_csv):
    again = list(read_inputs([INGEST / "news.csv"]))
    assert [a.id for a in news_csv[:3]] == [a.id for a in again[:3]]
    assert len({a.id for a in news_csv[:3]}) == 3


def test_csv_with_a_column_mapping(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(
        "story_no,story,when,paper,kicker\n"
        "s-1,The weir on the Aske was repaired in a week.,2026-02-01,Dale Times,Rivers\n"
        "s-2,A second story about the moor road.,2026-02-02,Dale Times,Roads\n",
        encoding="utf-8",
    )
    mapping = parse_column_map("id=story_no, text=story,published_at=when,outlet=paper")
    first, second = read_inputs([path], column_map=mapping)
    assert (first.id, first.text, first.published_at, first.outlet) == (
        "s-1",
        "The weir on the Aske was repaired in a week.",
        "2026-02-01",
        "Dale Times",
    )
    assert first.metadata == {"kicker": "Rivers"}
    assert second.id == "s-2"


def test_csv_mapping_that_names_a_missing_column_rejects_the_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("story,when\nA story.,2026-02-01\n", encoding="utf-8")
    (record,) = read_inputs([path], column_map={"text": "body_text"})
    assert isinstance(record, Rejection)
    assert record.origin == f"{path}:1"
    assert "'body_text'" in record.reason and "'story'" in record.reason


def test_csv_without_a_recognisable_text_column_says_to_map_it(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("blurb,when\nA story.,2026-02-01\n", encoding="utf-8")
    (record,) = read_inputs([path])
    assert isinstance(record, Rejection)
    assert "--map text=" in record.reason


def test_csv_field_named_in_mapping_keeps_a_same_named_column_as_metadata(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("title,headline,body\nSection front,Real headline,Body text.\n", "utf-8")
    (article,) = read_inputs([path], column_map={"title": "headline"})
    assert article.title == "Real headline"
    assert article.metadata == {"column_title": "Section front"}


@pytest.mark.parametrize(
    "option, problem",
    [("text", "FIELD=COLUMN"), ("text=", "FIELD=COLUMN"), ("body=text", "unknown field")],
)
def test_bad_mapping_options(option, problem):
    with pytest.raises(MappingError, match=problem):
        parse_column_map(option)


def test_tsv_is_read_with_tabs(tmp_path):
    path = tmp_path / "wire.tsv"
    path.write_text("id\tcontent\ttitle\n7\tA story, with a comma.\tTabbed\n", encoding="utf-8")
    (article,) = read_inputs([path])
    assert (article.id, article.text, article.title) == ("7", "A story, with a comma.", "Tabbed")


def test_csv_ragged_rows_are_rejected_naming_the_counts(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "id,text,outlet\n1,Fine row.,Daily\n2,Cut off\n3,Too, many, cells\n4,Fine again.,Daily\n",
        encoding="utf-8",
    )
    records = list(read_inputs([path]))
    assert [type(r).__name__ for r in records] == ["Article", "Rejection", "Rejection", "Article"]
    assert "2 cells" in records[1].reason and "3 columns" in records[1].reason
    assert "4 cells" in records[2].reason
    assert [r.origin for r in records] == [f"{path}:{n}" for n in (2, 3, 4, 5)]


def test_csv_in_windows_1252_is_kept_with_a_warning(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(
        "id,text\n1,Le café a fermé ses portes à Genève.\n2,Plain ASCII story.\n".encode("cp1252")
    )
    first, second = read_inputs([path])
    assert first.text == "Le café a fermé ses portes à Genève."
    (warning,) = first.metadata["ingest_warnings"]
    assert "line 2" in warning and "cp1252" in warning
    assert "ingest_warnings" not in second.metadata


def test_csv_utf16_with_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("id,text\n1,Grüße aus Köln.\n".encode("utf-16"))
    (article,) = read_inputs([path])
    assert article.text == "Grüße aus Köln."
    assert "ingest_warnings" not in article.metadata


def test_csv_cell_larger_than_the_csv_module_default(tmp_path):
    path = tmp_path / "long.csv"
    body = "word " * 100_000  # 500 kB, over the csv module's 128 KiB field limit
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["id", "text"], ["long", body]])
    (article,) = read_inputs([path])
    assert isinstance(article, Article) and article.text == body


def test_binary_csv_is_one_rejection(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (record,) = read_inputs([path])
    assert isinstance(record, Rejection)
    assert "NUL" in record.reason


# --- Parquet ------------------------------------------------------------------------------


def write_parquet(path: Path, rows: list[dict], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    return path


def test_parquet_fields_metadata_and_origins(tmp_path):
    published = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.timezone.utc)
    path = write_parquet(
        tmp_path / "news.parquet",
        [
            {"doc_id": "p-1", "content": "The first story.", "headline": "One",
             "pub": published, "tags": ["fire", "library"], "words": 3},
            {"doc_id": "p-2", "content": "The second story.", "headline": None,
             "pub": None, "tags": [], "words": 3},
        ],
    )  # fmt: skip
    first, second = read_inputs([path], column_map={"published_at": "pub"})
    assert (first.id, first.text, first.title) == ("p-1", "The first story.", "One")
    assert first.published_at == published.isoformat()
    assert first.metadata == {"tags": ["fire", "library"], "words": 3}
    assert second.title is None and second.published_at is None
    assert [first.origin, second.origin] == [f"{path}:1", f"{path}:2"]


def test_parquet_streams_record_batches_and_accounts_for_every_row(tmp_path):
    rows = [{"id": f"r{i}", "text": f"Story number {i}." if i % 7 else ""} for i in range(2500)]
    path = write_parquet(tmp_path / "many.parquet", rows, row_group_size=600)
    records = list(read_inputs([path]))
    assert len(records) == 2500
    assert [r.origin for r in records] == [f"{path}:{n}" for n in range(1, 2501)]
    rejected = [r for r in records if isinstance(r, Rejection)]
    assert len(rejected) == len([i for i in range(2500) if i % 7 == 0])
    assert all(r.reason == "field 'text' is empty" for r in rejected)


def test_parquet_without_text_column_and_not_parquet_at_all(tmp_path):
    path = write_parquet(tmp_path / "no_text.parquet", [{"id": "1", "count": 4}])
    (record,) = read_inputs([path])
    assert isinstance(record, Rejection) and "no text column" in record.reason
    fake = tmp_path / "fake.parquet"
    fake.write_text("id,text\n1,hello\n", encoding="utf-8")
    (record,) = read_inputs([fake])
    assert isinstance(record, Rejection) and "Parquet" in record.reason


def test_parquet_text_of_the_wrong_type_is_rejected(tmp_path):
    path = write_parquet(tmp_path / "typed.parquet", [{"id": "1", "text": 42}])
    (record,) = read_inputs([path])
    assert isinstance(record, Rejection)
    assert "'text' must be a string" in record.reason


# --- HTML ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages() -> list[Article | Rejection]:
    return list(read_inputs([PAGES]))


def test_html_folder_every_page_accounted_for(pages):
    assert sorted(r.origin for r in pages) == sorted(str(p) for p in PAGES.glob("*.html"))
    assert sorted(articles_of(pages)) == ["harwick_courier", "harwick_wire", "hostile", "market"]
    (rejection,) = [r for r in pages if isinstance(r, Rejection)]
    assert rejection.record_id == "no_story"
    assert "no article text" in rejection.reason


def test_html_metadata_from_the_page(pages):
    wire = articles_of(pages)["harwick_wire"]
    assert wire.title == "Fire destroys Harwick library archive"
    assert wire.outlet == "Harbour Wire"
    assert wire.byline == "Dana Whitfield"
    assert wire.published_at.startswith("2026-03-10T09:30:00")  # the time, not the URL's day
    assert wire.url == "https://www.harbourwire.example/2026/03/10/harwick-library-fire"
    assert wire.metadata["dateline_agency"] == "Harbour Wire"


def test_html_main_text_without_menus_footer_or_repeated_headline(pages):
    wire = articles_of(pages)["harwick_wire"]
    assert wire.text.startswith("HARWICK (Harbour Wire) - A fire that broke out overnight")
    assert wire.text.rstrip().endswith("some of the earliest registers.")
    for chrome in ("Home", "Sport", "newsletter", "All rights reserved", wire.title):
        assert chrome not in wire.text


def test_html_outlet_from_the_canonical_url_when_the_page_names_none(pages):
    courier = articles_of(pages)["harwick_courier"]
    assert courier.outlet == "valleycourier.example"
    assert courier.byline == "Elin Marsh"
    assert courier.published_at == "2026-03-10"  # a day, not a fake midnight


def test_html_script_and_markup_do_not_reach_the_text(pages):
    hostile = articles_of(pages)["hostile"]
    assert "Work on the first lane" in hostile.text
    for bad in ("<script", "document.cookie", "onerror", "alert(", "<img"):
        assert bad not in hostile.text


def test_html_page_in_a_legacy_encoding_declared_in_the_page(tmp_path):
    path = tmp_path / "legacy.html"
    page = (
        '<html><head><meta charset="windows-1252"><title>Café</title></head><body><article>'
        "<p>Le café de la gare a fermé ses portes après quarante ans à Genève.</p>"
        "</article></body></html>"
    )
    path.write_bytes(page.encode("cp1252"))
    (article,) = read_inputs([path])
    assert "Le café de la gare a fermé ses portes après quarante ans à Genève." in article.text


def test_folder_mixes_text_and_html_and_a_shared_id_is_a_duplicate(tmp_path):
    (tmp_path / "a.txt").write_text("A plain text story about the harbour.\n", "utf-8")
    (tmp_path / "a.html").write_text(
        "<html><body><p>An HTML story about the harbour wall.</p></body></html>", "utf-8"
    )
    (tmp_path / "b.htm").write_text("<html><body><p>Another page.</p></body></html>", "utf-8")
    (tmp_path / "notes.md").write_text("not an article", "utf-8")
    records = list(read_inputs([tmp_path]))
    assert [Path(r.origin).name for r in records] == ["a.html", "a.txt", "b.htm"]
    articles, rejections = accept_records(records)
    assert [a.id for a in articles] == ["a", "b"]
    assert "duplicate id 'a'" in rejections[0].reason


def test_folder_does_not_follow_symlinked_folders(tmp_path):
    inside = tmp_path / "corpus"
    inside.mkdir()
    (inside / "one.txt").write_text("The only story in the corpus.\n", "utf-8")
    (inside / "loop").symlink_to(inside, target_is_directory=True)
    records = list(read_inputs([inside]))
    assert [r.id for r in records] == ["one"]


# --- WARC ---------------------------------------------------------------------------------


def write_warc(path: Path, gzip_records: bool = True) -> list[str]:
    """A small crawl: the fixture pages, an image, a 404, a revisit. Returns the page URIs."""
    uris = []
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=gzip_records)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))

        def response(uri, body, content_type="text/html; charset=utf-8", status="200 OK"):
            request = writer.create_warc_record(
                uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            )
            writer.write_record(request)
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], "HTTP/1.1")
            record = writer.create_warc_record(
                uri, "response", payload=io.BytesIO(body), http_headers=headers
            )
            writer.write_record(record)

        for name in ("harwick_wire", "harwick_courier", "market"):
            uri = f"https://news.example/{name}"
            uris.append(uri)
            response(uri, (PAGES / f"{name}.html").read_bytes())
        response("https://news.example/logo.png", b"\x89PNG\r\n", content_type="image/png")
        response("https://news.example/gone", b"<html>gone</html>", status="404 Not Found")
        revisit = writer.create_revisit_record(
            uris[0],
            digest="sha1:AAAA",
            refers_to_uri=uris[0],
            refers_to_date="2026-03-10T10:00:00Z",
        )
        writer.write_record(revisit)
    return uris


@pytest.mark.parametrize("name, gzipped", [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_warc_pages_become_articles_and_every_record_is_accounted_for(tmp_path, name, gzipped):
    path = tmp_path / name
    uris = write_warc(path, gzipped)
    records = list(read_inputs([path]))
    # warcinfo + 5 request/response pairs + revisit
    assert [r.origin for r in records] == [f"{path}#{n}" for n in range(1, 13)]
    articles = articles_of(records)
    assert sorted(articles) == sorted(uris)
    wire = articles["https://news.example/harwick_wire"]
    assert wire.url == "https://news.example/harwick_wire"
    assert wire.outlet == "Harbour Wire" and wire.title == "Fire destroys Harwick library archive"
    assert wire.text.startswith("HARWICK (Harbour Wire) - A fire")
    assert wire.metadata["warc_record_id"].startswith("urn:uuid:")
    assert isinstance(wire.metadata["warc_offset"], int)
    reasons = [r.reason for r in records if isinstance(r, Rejection)]
    assert sum("request record" in r for r in reasons) == 5
    assert any("warcinfo" in r for r in reasons)
    assert any("not an HTML response (image/png)" in r for r in reasons)
    assert any("HTTP status 404" in r for r in reasons)
    assert any("revisit" in r for r in reasons)
    assert len(reasons) + len(articles) == len(records)


def test_warc_offsets_point_at_the_records(tmp_path):
    from warcio.archiveiterator import ArchiveIterator

    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    for article in articles_of(read_inputs([path])).values():
        with open(path, "rb") as handle:
            handle.seek(article.metadata["warc_offset"])
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_headers.get_header("WARC-Target-URI") == article.url


def test_truncated_warc_rejects_the_cut_record(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    whole = list(read_inputs([path]))
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    records = list(read_inputs([cut]))
    assert 0 < len(records) < len(whole)
    last = records[-1]
    assert isinstance(last, Rejection)
    assert "cut off" in last.reason or "damaged" in last.reason


def test_not_a_warc(tmp_path):
    path = tmp_path / "notes.warc"
    path.write_text("these are notes, not a crawl\n" * 5, "utf-8")
    (record,) = read_inputs([path])
    assert isinstance(record, Rejection)
    assert record.origin == f"{path}#1" and "not a WARC file" in record.reason
    gz = tmp_path / "garbage.warc.gz"
    gz.write_bytes(gzip.compress(b"\x00\x01\x02 binary junk" * 100))
    (record,) = read_inputs([gz])
    assert isinstance(record, Rejection)


# --- stdin --------------------------------------------------------------------------------


def test_stdin_json_lines():
    stream = io.BytesIO(
        b'\n{"id": "s1", "text": "First story from a pipe."}\n'
        b'{"id": "s2", "text": ""}\n'
        b"not json\n"
        b'{"id": "s3", "text": "Third."}\n'
    )
    records = list(read_stdin(stream))
    assert [r.origin for r in records] == ["<stdin>:2", "<stdin>:3", "<stdin>:4", "<stdin>:5"]
    assert [type(r).__name__ for r in records] == ["Article", "Rejection", "Rejection", "Article"]


def test_stdin_plain_text_is_one_article():
    stream = io.BytesIO(
        b"March 12, 2026\nBy Ola Berg\n\nThe pier reopened on Thursday.\n\nAnglers came back.\n"
    )
    (article,) = list(read_stdin(stream))
    assert article.text == "The pier reopened on Thursday.\n\nAnglers came back."
    assert (article.published_at, article.byline) == ("March 12, 2026", "Ola Berg")
    assert article.id.startswith("sha1:") and article.origin == "<stdin>"


def test_stdin_empty_and_binary():
    (record,) = list(read_stdin(io.BytesIO(b"  \n\n")))
    assert isinstance(record, Rejection) and "nothing" in record.reason
    (record,) = list(read_stdin(io.BytesIO(b"\x00\x01\x02\x03binary")))
    assert isinstance(record, Rejection) and "NUL" in record.reason


def test_stdin_through_the_command_line(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "piped.duckdb"
    lines = [
        {"id": "p1", "text": "A story piped in from another tool, with a few words."},
        {"id": "p2", "text": "A second piped story."},
    ]
    feed = write_jsonl(tmp_path / "feed.jsonl", lines).read_bytes()
    result = subprocess.run(
        [sys.executable, "-m", "wiretrace.cli", "run", "-", "--db", str(db)],
        input=feed,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    from wiretrace.store import load_articles

    assert [a.origin for a in load_articles(db)] == ["<stdin>:1", "<stdin>:2"]


# --- JSON lines with a mapping, end to end -------------------------------------------------


def test_jsonl_with_a_column_mapping(tmp_path):
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [{"guid": "g1", "body": "Body text here.", "text": "teaser", "site": "Dale Times"}],
    )
    (article,) = read_inputs([path], column_map={"id": "guid", "text": "body"})
    assert (article.id, article.text) == ("g1", "Body text here.")
    assert article.metadata == {"column_text": "teaser", "site": "Dale Times"}


def test_reuse_found_across_html_pages_and_csv(tmp_path):
    db = tmp_path / "pages.duckdb"
    summary = wiretrace.run([PAGES], db=db)
    assert summary.read == summary.stored + summary.rejected == 5
    assert links_of(db) == {("harwick_wire", "harwick_courier")}
    db = tmp_path / "table.duckdb"
    table = wiretrace.run([INGEST / "news.csv"], db=db)
    ids = {a.title: a.id for a in table.result.articles}
    assert links_of(db) == {
        (ids["Fire destroys Harwick library archive"], ids["Library blaze: town's history lost"])
    }


def links_of(db: Path) -> set[tuple[str, str]]:
    from wiretrace.store import connect

    with connect(db) as con:
        return set(con.execute("SELECT source, derivative FROM links").fetchall())
