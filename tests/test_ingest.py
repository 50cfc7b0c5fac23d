"""Readers: JSONL and folders of .txt files; every record stored or rejected with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_jsonl

from wiretrace.engines.local import accept_records
from wiretrace.ingest import read_inputs
from wiretrace.ingest.textdir import article_from_text
from wiretrace.model import Article, Rejection

# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_known_fields_become_attributes_and_the_rest_metadata(tmp_path):
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "id": "tide-1",
                "text": "The harbour wall held overnight.",
                "outlet": "Quay Post",
                "title": "Wall holds",
                "published_at": "2026-03-14T08:00:00+00:00",
                "url": "https://quay.example/1",
                "byline": "Ilse Moran",
                "language": "en",
                "section": "Local",
                "tags": ["weather", "harbour"],
                "wordcount": 5,
            }
        ],
    )
    (article,) = list(read_inputs([path]))
    assert isinstance(article, Article)
    assert article.id == "tide-1"
    assert article.text == "The harbour wall held overnight."
    assert (article.outlet, article.title, article.byline) == (
        "Quay Post",
        "Wall holds",
        "Ilse Moran",
    )
    assert article.published_at == "2026-03-14T08:00:00+00:00"
    assert article.url == "https://quay.example/1"
    assert article.metadata == {
        "language": "en",
        "section": "Local",
        "tags": ["weather", "harbour"],
        "wordcount": 5,
    }
    assert article.origin == f"{path}:1"


def test_jsonl_integer_id_and_missing_id(tmp_path):
    text = "A story without an id of its own."
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": 17, "text": "Numbered story."}, {"text": text}, {"text": text + " More."}],
    )
    first, second, third = list(read_inputs([path]))
    assert first.id == "17"
    # an id made from the text: stable across reads, different for a different text
    again = list(read_inputs([path]))[1]
    assert second.id == again.id
    assert second.id != third.id
    assert second.id not in ("", "None")


def test_jsonl_line_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "gaps.jsonl"
    path.write_text(
        '{"id": "a", "text": "First story here."}\n\n   \n{"id": "b", "text": "Second one."}\n',
        encoding="utf-8",
    )
    records = list(read_inputs([path]))
    assert [r.origin for r in records] == [f"{path}:1", f"{path}:4"]


def test_bad_jsonl_every_line_accounted_for(fixtures_dir):
    path = fixtures_dir / "bad" / "bad.jsonl"
    records = list(read_inputs([path]))
    assert [r.origin for r in records] == [f"{path}:{n}" for n in range(1, 10)]
    by_line = {int(r.origin.rsplit(":", 1)[1]): r for r in records}
    for line in (1, 3, 8, 9):
        assert isinstance(by_line[line], Article), line
    for line in (2, 4, 5, 6, 7):
        assert isinstance(by_line[line], Rejection), line
    assert [by_line[n].id for n in (1, 3, 8)] == ["ok-1", "ok-3", "ok-8"]


@pytest.mark.parametrize(
    "line, words, record_id",
    [
        (2, ["json"], None),
        (4, ["'text'"], "no-text-4"),
        (5, ["'text'", "empty"], "blank-text-5"),
        (6, ["'text'", "string", "int"], "num-text-6"),
        (7, ["object"], None),
    ],
)
def test_bad_jsonl_rejections_say_what_is_wrong(fixtures_dir, line, words, record_id):
    path = fixtures_dir / "bad" / "bad.jsonl"
    rejection = {r.origin: r for r in read_inputs([path])}[f"{path}:{line}"]
    assert isinstance(rejection, Rejection)
    for word in words:
        assert word in rejection.reason.lower(), rejection.reason
    assert rejection.record_id == record_id


def test_bad_jsonl_after_accepting_records(fixtures_dir):
    path = fixtures_dir / "bad" / "bad.jsonl"
    articles, rejections = accept_records(read_inputs([path]))
    assert [a.id for a in articles] == ["ok-1", "ok-3", "ok-8"]
    # the first ok-1 (line 1) is kept, line 9 is the duplicate
    assert articles[0].origin == f"{path}:1"
    assert articles[0].outlet == "Test Outlet"
    assert len(articles) + len(rejections) == 9
    duplicate = rejections[-1]
    assert duplicate.origin == f"{path}:9"
    assert "duplicate" in duplicate.reason and "ok-1" in duplicate.reason
    assert f"{path}:1" in duplicate.reason
    assert "different text" in duplicate.reason


def test_jsonl_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"id": "a1", "text": "A story saved by a Windows tool."}\n'
        b'{"id": "a2", "text": "The second story."}\n'
    )
    records = list(read_inputs([path]))
    assert [type(r).__name__ for r in records] == ["Article", "Article"]


# --- other inputs -----------------------------------------------------------------------


def test_binary_txt_is_rejected(fixtures_dir):
    path = fixtures_dir / "bad" / "binary.txt"
    (record,) = list(read_inputs([path]))
    assert isinstance(record, Rejection)
    assert record.origin == str(path)
    assert "text" in record.reason.lower()


def test_non_utf8_text_file_is_kept_with_a_warning_naming_the_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Le caf\u00e9 a ferm\u00e9 ses portes hier soir.".encode("latin-1"))
    (record,) = list(read_inputs([path]))
    assert isinstance(record, Article)
    assert record.text == "Le caf\u00e9 a ferm\u00e9 ses portes hier soir."
    (warning,) = record.metadata["ingest_warnings"]
    assert "utf-8" in warning.lower()
    assert "offset 6" in warning  # the first bad byte


def test_missing_path_and_unsupported_suffix_are_rejected(tmp_path):
    other = tmp_path / "table.xlsx"
    other.write_text("id,text\n1,hello\n", encoding="utf-8")
    missing = tmp_path / "nowhere.jsonl"
    records = list(read_inputs([missing, other]))
    assert all(isinstance(r, Rejection) for r in records)
    assert [r.origin for r in records] == [str(missing), str(other)]
    assert ".xlsx" in records[1].reason


def test_empty_folder_is_rejected(tmp_path):
    (record,) = list(read_inputs([tmp_path]))
    assert isinstance(record, Rejection)
    assert record.origin == str(tmp_path)


# --- text folders -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def textdir_articles(fixtures_dir) -> dict[str, Article]:
    records = list(read_inputs([fixtures_dir / "textdir"]))
    assert all(isinstance(r, Article) for r in records), records
    return {r.id: r for r in records}


def test_textdir_ids_come_from_file_names(textdir_articles):
    # README.md is not an article
    assert sorted(textdir_articles) == [
        "001_ferry_original",
        "002_ferry_rewrite",
        "003_orchard_unrelated",
        "004_ferry_duplicate",
    ]


def test_textdir_date_line_and_byline_are_metadata(textdir_articles):
    original = textdir_articles["001_ferry_original"]
    assert original.published_at == "March 9, 2026"
    assert original.byline == "Mara Lindqvist"
    assert original.title is None
    assert original.text.startswith("The only car ferry linking Kellan Island")
    assert original.text.endswith("decide on funding for one in June.")
    assert "Mara Lindqvist" not in original.text and "March 9, 2026" not in original.text
    # the ALL-CAPS subhead is part of the story
    assert "REPLACEMENT SOUGHT" in original.text


def test_textdir_title_line_is_metadata(textdir_articles):
    rewrite = textdir_articles["002_ferry_rewrite"]
    assert rewrite.title == "Kellan Island Cut Off As Ageing Ferry Pulled From Service"
    assert rewrite.published_at is None and rewrite.byline is None
    assert rewrite.text.startswith("Kellan Island's only car ferry was withdrawn")
    assert rewrite.title not in rewrite.text
    assert rewrite.text == rewrite.text.strip()


def test_textdir_date_without_byline(textdir_articles):
    orchard = textdir_articles["003_orchard_unrelated"]
    assert orchard.published_at == "March 10, 2026"
    assert orchard.byline is None and orchard.title is None
    assert orchard.text.startswith("Volunteers in Ashcombe planted 140 fruit trees")


def test_textdir_duplicate_body_differs_only_in_date(textdir_articles):
    original = textdir_articles["001_ferry_original"]
    duplicate = textdir_articles["004_ferry_duplicate"]
    assert duplicate.text == original.text
    assert duplicate.published_at == "March 11, 2026"


def test_textdir_ids_of_nested_files(tmp_path):
    (tmp_path / "desk" / "sport").mkdir(parents=True)
    (tmp_path / "desk" / "sport" / "match.txt").write_text(
        "The home side won by two goals.\n", encoding="utf-8"
    )
    (tmp_path / "top.txt").write_text("A second story, at the top.\n", encoding="utf-8")
    ids = [r.id for r in read_inputs([tmp_path])]
    assert sorted(ids) == sorted([str(Path("desk") / "sport" / "match"), "top"])


def test_textdir_crlf_and_bom(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes(
        "\ufeffMarch 12, 2026\r\nBy Ola Berg\r\n\r\nThe pier reopened on Thursday.\r\n\r\n"
        "Anglers returned within the hour.\r\n".encode()
    )
    (article,) = list(read_inputs([path]))
    assert article.id == "windows"
    assert article.published_at == "March 12, 2026"
    assert article.byline == "Ola Berg"
    assert article.text == "The pier reopened on Thursday.\n\nAnglers returned within the hour."


def test_textdir_file_with_only_metadata_is_rejected(tmp_path):
    path = tmp_path / "empty_story.txt"
    path.write_text("March 12, 2026\nBy Ola Berg\n\n", encoding="utf-8")
    (record,) = list(read_inputs([path]))
    assert isinstance(record, Rejection)
    assert record.record_id == "empty_story"


def test_textdir_lead_ending_in_a_quote_is_not_a_title():
    content = (
        "The mayor told residents on Friday: \u201cWe will not be beaten by this.\u201d\n\n"
        "Volunteers filled sandbags through the night.\n"
    )
    article = article_from_text(content, "quote", "quote.txt")
    assert article.title is None
    assert article.text.startswith("The mayor told residents")


def test_textdir_lead_starting_with_by_is_not_a_byline():
    content = (
        "By noon on Friday the river had burst its banks in three places.\n\n"
        "Residents of the lower town were told to move their cars to higher ground.\n"
    )
    article = article_from_text(content, "flood", "flood.txt")
    assert article.byline is None
    assert article.text.startswith("By noon on Friday")


# --- accepting records ------------------------------------------------------------------


def test_accept_records_duplicate_id_becomes_a_rejection():
    records = [
        Article(id="x", text="First version of the story.", origin="feed.jsonl:1"),
        Article(id="y", text="Another story.", origin="feed.jsonl:2"),
        Article(id="x", text="First version of the story.", origin="feed.jsonl:3"),
        Rejection("feed.jsonl:4", "not valid JSON"),
    ]
    articles, rejections = accept_records(records)
    assert [a.origin for a in articles] == ["feed.jsonl:1", "feed.jsonl:2"]
    assert [r.origin for r in rejections] == ["feed.jsonl:3", "feed.jsonl:4"]
    assert "duplicate" in rejections[0].reason and "feed.jsonl:1" in rejections[0].reason
    assert "same text" in rejections[0].reason
    assert rejections[0].record_id == "x"


def test_accept_records_strict_raises_naming_the_origin():
    records = [
        Article(id="x", text="A story.", origin="feed.jsonl:1"),
        Article(id="x", text="Another story.", origin="feed.jsonl:2"),
    ]
    with pytest.raises(ValueError, match="feed.jsonl:2"):
        accept_records(records, strict=True)
    with pytest.raises(ValueError, match="feed.jsonl:7"):
        accept_records([Rejection("feed.jsonl:7", "field 'text' is empty")], strict=True)
    # without a bad record, strict changes nothing
    articles, rejections = accept_records(records[:1], strict=True)
    assert len(articles) == 1 and rejections == []
