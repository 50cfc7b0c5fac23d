"""Metadata from the text and URL, for fields the input left empty (ingest.metadata)."""

from __future__ import annotations

import pytest

from wiretrace.ingest.metadata import enrich, metadata_from_text, outlet_from_url
from wiretrace.model import Article


@pytest.mark.parametrize(
    "url, outlet",
    [
        ("https://www.quaypost.example/news/1", "quaypost.example"),
        ("http://m.dalenews.example:8080/a?b=c", "dalenews.example"),
        ("https://amp.wire.example/x", "wire.example"),
        ("https://www.example/x", "www.example"),  # "www." is the whole name here
        ("https://news.xn--bcher-kva.example/", "news.bücher.example"),
        ("https://192.168.1.10/story", None),
        ("not a url", None),
        ("", None),
        (None, None),
        ("http://[::1", None),  # malformed: no crash
    ],
)
def test_outlet_from_url(url, outlet):
    assert outlet_from_url(url) == outlet


def test_date_line_byline_and_dateline_agency():
    text = (
        "March 9, 2026\nBy Mara Lindqvist\n\n"
        "GENEVA (AP) — Delegates agreed on Monday to extend the talks by a week.\n"
    )
    assert metadata_from_text(text) == {
        "published_at": "March 9, 2026",
        "byline": "Mara Lindqvist",
        "dateline_place": "GENEVA",
        "dateline_agency": "AP",
    }


def test_published_prefix_and_byline_first():
    text = "By Ola Berg\nPublished: 2026-03-12 08:15\n\nThe pier reopened on Thursday.\n"
    found = metadata_from_text(text)
    assert found["published_at"] == "2026-03-12 08:15"
    assert found["byline"] == "Ola Berg"
    assert "dateline_agency" not in found


def test_lead_sentences_are_not_metadata():
    text = (
        "By noon on Friday the river had burst its banks in three places.\n\n"
        "In 2026 the council spent more on flood defences than ever before.\n"
    )
    assert metadata_from_text(text) == {}


def test_enrich_fills_only_missing_fields_and_never_touches_the_text():
    text = "By Ola Berg\n\nMOSCOW, March 14. /TASS/. The bridge opened on Saturday.\n"
    given = Article(id="a", text=text, byline="Desk", url="https://www.tass.example/1")
    enriched = enrich(given)
    assert enriched.text == text
    assert enriched.byline == "Desk"  # given by the input: kept
    assert enriched.outlet == "tass.example"
    assert enriched.metadata["dateline_agency"] == "TASS"
    assert enriched.metadata["derived_fields"] == {"outlet": "url host"}


def test_enrich_warns_about_a_date_that_does_not_parse():
    article = enrich(Article(id="a", text="A story.", published_at="the day after tomorrow"))
    assert article.published_at == "the day after tomorrow"  # kept as given
    (warning,) = article.metadata["ingest_warnings"]
    assert "unparseable" in warning and "kept without a publication time" in warning
    assert (
        "ingest_warnings"
        not in enrich(Article("b", "A story.", published_at="2026-03-01")).metadata
    )


def test_enrich_leaves_a_plain_article_alone():
    article = Article(id="a", text="Nothing to find here.", outlet="Daily")
    assert enrich(article) is article
